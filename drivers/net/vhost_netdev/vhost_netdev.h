/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost_netdev: a network device on the device side of a virtio-net link,
 * facing the stock virtio_net driver across the vhost bus.
 *
 * Queue names follow the driver side: its receiveq (queue 0) carries what
 * this netdev transmits, its transmitq (queue 1) what this netdev receives.
 */
#ifndef _VHOST_NETDEV_H
#define _VHOST_NETDEV_H

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/vhost_bus.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <uapi/linux/virtio_net.h>

/* The driver side's queues. */
#define VNET_RXQ_INDEX	0	/* its receiveq: our transmit */
#define VNET_TXQ_INDEX	1	/* its transmitq: our receive */

/*
 * Packets served per run of a queue's work before it yields: a peer that
 * keeps the ring full must not hold a worker for as long as it likes.
 */
#define VNET_BUDGET		64

/* Packets queued for transmit before the stack is told to stop. */
#define VNET_TX_QUEUE_LEN	256

/* Received packets waiting for NAPI before the ring is left alone. */
#define VNET_RX_BACKLOG		256

/* Received packets made used, and handed to NAPI, at a time. */
#define VNET_RX_BATCH		16

/*
 * The longest frame either way: the largest IP packet (a GSO packet of
 * 64 KiB) behind an Ethernet and a VLAN header.  A longer buffer from the
 * peer is malformed.
 */
#define VNET_MAX_FRAME		(IP_MAX_MTU + VLAN_ETH_HLEN)

#define VNET_DEFAULT_MTU	ETH_DATA_LEN

/* The virtio-net header: VERSION_1 makes it this one, both ways. */
#define VNET_HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)

/**
 * struct vnet_settings - what userspace sets in configfs for one device
 * @mac: the driver side's MAC address (config space), by default random
 * @mtu: the largest MTU both sides may use (config space), by default 1500
 */
struct vnet_settings {
	u8 mac[ETH_ALEN];
	u16 mtu;
};

/**
 * struct vnet_stats - the counters of one queue
 * @packets: packets moved
 * @bytes: their bytes, without the virtio-net header
 * @kicks: notifications from the driver side for this queue, counted in
 *	the kick callback, concurrently with the queue's work
 * @interrupts: notifications sent to the driver side for this queue
 * @drops: packets dropped whole (no room, device down, too big)
 * @malformed: packets from the driver side dropped as malformed
 * @syncp: the seqcount of the u64_stats_t counters, written by the
 *	queue's work only
 */
struct vnet_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	atomic64_t kicks;
	u64_stats_t interrupts;
	u64_stats_t drops;
	u64_stats_t malformed;
	struct u64_stats_sync syncp;
};

struct vnet;

/**
 * struct vnet_tx - transmit: skbs into the driver side's receiveq
 * @vn: the device
 * @vq: the driver side's receiveq, between start and stop
 * @lock: protects @skbs and @running against ndo_start_xmit
 * @skbs: packets handed over by the stack, not yet copied
 * @running: the queue may be used (set in start, cleared in stop)
 * @work: copies packets into the driver side's buffers
 * @bufs: buffers taken for the packets being copied, made used together
 * @nbufs: how many of @bufs hold packets, to be made used
 * @npart: buffers taken for the packet at the head of @skbs, which waits
 *	for more (at the start of @bufs; @nbufs is 0 then)
 * @part_room: their room in bytes
 * @stats: the counters, written by @work and the kick callback
 *
 * Only @work touches @vq and @bufs.
 */
struct vnet_tx {
	struct vnet *vn;
	struct vhost_vq *vq;
	spinlock_t lock;	/* @skbs, @running */
	struct sk_buff_head skbs;
	bool running;
	struct work_struct work;
	struct vhost_buf *bufs;
	unsigned int nbufs;
	unsigned int npart;
	size_t part_room;
	struct vnet_stats stats;
};

/**
 * struct vnet_rx - receive: the driver side's transmitq into the stack
 * @vn: the device
 * @vq: the driver side's transmitq, between start and stop; NULL tells a
 *	late run of @work to do nothing
 * @work: copies packets out of the driver side's buffers into skbs
 * @napi: hands the skbs to GRO
 * @skbs: skbs built by @work for @napi (its own lock)
 * @flags: VNET_RX_THROTTLED: @work left the ring for @napi to drain @skbs
 * @bufs: buffers read, made used together
 * @stats: the counters
 *
 * The copy may sleep (a window to map, a DMA to wait for), so it runs in
 * @work rather than in NAPI's softirq; NAPI only delivers.
 */
struct vnet_rx {
	struct vnet *vn;
	struct vhost_vq *vq;
	struct work_struct work;
	struct napi_struct napi;
	struct sk_buff_head skbs;
	unsigned long flags;
	struct vhost_buf *bufs;
	struct vnet_stats stats;
};

#define VNET_RX_THROTTLED	0

/**
 * struct vnet - one vhost_netdev device
 * @vdev: the vhost device
 * @ndev: the network device, registered from probe to remove
 * @set: the settings the device was bound with
 * @negotiated: the features of the running driver side, 0 when stopped
 * @features_work: brings the netdev's features in line with @negotiated
 * @tx: transmit
 * @rx: receive
 */
struct vnet {
	struct vhost_device *vdev;
	struct net_device *ndev;
	struct vnet_settings set;
	u64 negotiated;
	struct work_struct features_work;
	struct vnet_tx tx;
	struct vnet_rx rx;
};

extern struct workqueue_struct *vnet_wq;

static inline void vnet_count(struct vnet_stats *s, u64_stats_t *field,
			      u64 n)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(field, n);
	u64_stats_update_end(&s->syncp);
}

static inline void vnet_count_packet(struct vnet_stats *s, unsigned int len)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, len);
	u64_stats_update_end(&s->syncp);
}

/* An array of @n buffer descriptors, ready for vhost_vq_get_buf(). */
static inline struct vhost_buf *vnet_bufs_alloc(unsigned int n)
{
	struct vhost_buf *bufs = kcalloc(n, sizeof(*bufs), GFP_KERNEL);
	unsigned int i;

	for (i = 0; bufs && i < n; i++)
		vhost_buf_init(&bufs[i]);
	return bufs;
}

/* tx.c */
int vnet_tx_start(struct vnet *vn, struct vhost_vq *vq);
void vnet_tx_stop(struct vnet *vn);
void vnet_tx_kicked(struct vhost_vq *vq);
netdev_tx_t vnet_start_xmit(struct sk_buff *skb, struct net_device *ndev);
void vnet_tx_init(struct vnet *vn);

/* rx.c */
int vnet_rx_start(struct vnet *vn, struct vhost_vq *vq);
void vnet_rx_stop(struct vnet *vn);
void vnet_rx_kicked(struct vhost_vq *vq);
void vnet_rx_init(struct vnet *vn);
void vnet_rx_exit(struct vnet *vn);

/* ethtool.c */
extern const struct ethtool_ops vnet_ethtool_ops;
void vnet_get_stats64(struct net_device *ndev,
		      struct rtnl_link_stats64 *stats);

#endif /* _VHOST_NETDEV_H */
