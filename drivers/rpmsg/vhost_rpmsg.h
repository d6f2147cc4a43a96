/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost rpmsg internals shared by the bus (vhost_rpmsg_bus.c) and its
 * configfs interface (vhost_rpmsg_configfs.c).
 */
#ifndef _VHOST_RPMSG_H
#define _VHOST_RPMSG_H

#include <linux/list.h>
#include <linux/rpmsg.h>

struct vrpmsg;

/**
 * enum vrpmsg_origin - who created a channel, and so who may remove it
 * @VRPMSG_INTERNAL: the bus itself (name service, rpmsg_ctrl)
 * @VRPMSG_LOCAL: a local rpmsg driver (rpmsg_ctrl's RPMSG_CREATE_DEV_IOCTL)
 * @VRPMSG_PEER: a name service announcement of the other side
 * @VRPMSG_CONFIGFS: a channel directory in /sys/kernel/config/rpmsg
 */
enum vrpmsg_origin {
	VRPMSG_INTERNAL,
	VRPMSG_LOCAL,
	VRPMSG_PEER,
	VRPMSG_CONFIGFS,
};

struct rpmsg_device *vrpmsg_add_channel(struct vrpmsg *vrp,
					struct rpmsg_channel_info *chinfo,
					enum vrpmsg_origin origin);
const char *vrpmsg_name(const struct vrpmsg *vrp);

/**
 * struct vrpmsg_cfs_link - a device's place in the configfs bookkeeping
 * @node: in the list of online devices
 * @vrp: the device
 *
 * Protected by the configfs interface's lock.
 */
struct vrpmsg_cfs_link {
	struct list_head node;
	struct vrpmsg *vrp;
};

void vrpmsg_cfs_attach(struct vrpmsg *vrp, struct vrpmsg_cfs_link *link);
void vrpmsg_cfs_detach(struct vrpmsg_cfs_link *link);
int vrpmsg_cfs_init(void);
void vrpmsg_cfs_exit(void);

#endif /* _VHOST_RPMSG_H */
