// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_netdev statistics: "ip -s link" (ndo_get_stats64) and
 * "ethtool -S", per queue.  Queue names are this side's: tx0 is the
 * driver side's receiveq, rx0 its transmitq.
 *
 *   packets, bytes  packets moved and their bytes (no virtio-net header)
 *   kicks           notifications from the driver side
 *   interrupts      notifications to the driver side
 *   drops           packets dropped whole: no room, device down, too big
 *   malformed       packets or buffers from the driver side that break the
 *                   spec, dropped (rx) or given back empty (tx)
 */

#include <linux/ethtool.h>

#include "vhost_netdev.h"

struct vnet_snapshot {
	u64 packets, bytes, kicks, interrupts, drops, malformed;
};

static const char *const vnet_stat_names[] = {
	"packets", "bytes", "kicks", "interrupts", "drops", "malformed",
};

#define VNET_NSTATS	ARRAY_SIZE(vnet_stat_names)

static_assert(sizeof(struct vnet_snapshot) == VNET_NSTATS * sizeof(u64));

static void vnet_snap(const struct vnet_stats *s, struct vnet_snapshot *v)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		v->packets = u64_stats_read(&s->packets);
		v->bytes = u64_stats_read(&s->bytes);
		v->interrupts = u64_stats_read(&s->interrupts);
		v->drops = u64_stats_read(&s->drops);
		v->malformed = u64_stats_read(&s->malformed);
	} while (u64_stats_fetch_retry(&s->syncp, start));
	v->kicks = atomic64_read(&s->kicks);
}

void vnet_get_stats64(struct net_device *ndev, struct rtnl_link_stats64 *st)
{
	struct vnet *vn = netdev_priv(ndev);
	struct vnet_snapshot rx, tx;

	vnet_snap(&vn->rx.stats, &rx);
	vnet_snap(&vn->tx.stats, &tx);
	st->rx_packets = rx.packets;
	st->rx_bytes = rx.bytes;
	st->rx_dropped = rx.drops;
	st->rx_errors = rx.malformed;
	st->rx_frame_errors = rx.malformed;
	st->tx_packets = tx.packets;
	st->tx_bytes = tx.bytes;
	st->tx_dropped = tx.drops;
	st->tx_errors = tx.malformed;
}

static void vnet_get_drvinfo(struct net_device *ndev,
			     struct ethtool_drvinfo *info)
{
	struct vnet *vn = netdev_priv(ndev);

	strscpy(info->driver, "vhost_netdev", sizeof(info->driver));
	strscpy(info->bus_info, dev_name(&vn->vdev->dev),
		sizeof(info->bus_info));
}

static int vnet_get_sset_count(struct net_device *ndev, int sset)
{
	return sset == ETH_SS_STATS ? 2 * VNET_NSTATS : -EOPNOTSUPP;
}

static void vnet_get_strings(struct net_device *ndev, u32 sset, u8 *data)
{
	unsigned int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < VNET_NSTATS; i++)
		ethtool_sprintf(&data, "rx0_%s", vnet_stat_names[i]);
	for (i = 0; i < VNET_NSTATS; i++)
		ethtool_sprintf(&data, "tx0_%s", vnet_stat_names[i]);
}

static void vnet_get_ethtool_stats(struct net_device *ndev,
				   struct ethtool_stats *stats, u64 *data)
{
	struct vnet *vn = netdev_priv(ndev);
	struct vnet_snapshot v;

	vnet_snap(&vn->rx.stats, &v);
	memcpy(data, &v, sizeof(v));
	vnet_snap(&vn->tx.stats, &v);
	memcpy(data + VNET_NSTATS, &v, sizeof(v));
}

const struct ethtool_ops vnet_ethtool_ops = {
	.get_drvinfo		= vnet_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= vnet_get_sset_count,
	.get_strings		= vnet_get_strings,
	.get_ethtool_stats	= vnet_get_ethtool_stats,
};
