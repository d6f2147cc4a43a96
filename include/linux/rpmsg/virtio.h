/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format of rpmsg over virtio (VIRTIO_ID_RPMSG), shared by the
 * driver side (virtio_rpmsg_bus) and any device side written in Linux.
 */
#ifndef _LINUX_RPMSG_VIRTIO_H
#define _LINUX_RPMSG_VIRTIO_H

#include <linux/rpmsg/byteorder.h>
#include <linux/types.h>

/* The feature bitmap for virtio rpmsg */
#define VIRTIO_RPMSG_F_NS	0 /* RP supports name service notifications */

/**
 * struct rpmsg_hdr - common header for all rpmsg messages
 * @src: source address
 * @dst: destination address
 * @reserved: reserved for future use
 * @len: length of payload (in bytes)
 * @flags: message flags
 * @data: @len bytes of message payload data
 *
 * Every message sent(/received) on the rpmsg bus begins with this header.
 * Its fields are little-endian when VIRTIO_F_VERSION_1 is negotiated, in
 * the byte order of the driver side otherwise (see rpmsg/byteorder.h).
 */
struct rpmsg_hdr {
	__rpmsg32 src;
	__rpmsg32 dst;
	__rpmsg32 reserved;
	__rpmsg16 len;
	__rpmsg16 flags;
	u8 data[];
} __packed;

#endif /* _LINUX_RPMSG_VIRTIO_H */
