// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_netdev: a network device on the device side of virtio-net.
 *
 * A vhost client for virtio device 1.  Its driver side is the stock
 * virtio_net on the other system; this side registers an Ethernet device
 * whose frames travel in the driver side's buffers, each payload byte
 * copied once by the transport.  What the driver side negotiated decides
 * the offloads: checksums and TSO both ways, mergeable receive buffers,
 * EVENT_IDX.
 *
 * The driver side's MAC address and the MTU both sides may use are set in
 * configfs (an instance of the client, see vnet_settings_attrs); this
 * side's own address is random unless set with "ip link".
 *
 * Link state: the carrier is on while the driver side runs (DRIVER_OK to
 * reset); the driver side sees its link up (VIRTIO_NET_S_LINK_UP) while
 * this netdev is up.
 *
 * Locking: the vhost core serialises probe, start, stop and remove.  The
 * netdev's features are changed under RTNL by a work item, never by
 * start() itself: the driver side may hold RTNL while it waits for its
 * DRIVER_OK to be accepted (virtio_net's probe does, and in a one-kernel
 * loopback that is the same RTNL).  See tx.c and rx.c for the queues.
 */

#include <linux/configfs.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "vhost_netdev.h"

struct workqueue_struct *vnet_wq;

#define VNET_FEATURES	(BIT_ULL(VIRTIO_NET_F_CSUM) |			\
			 BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |		\
			 BIT_ULL(VIRTIO_NET_F_MTU) |			\
			 BIT_ULL(VIRTIO_NET_F_MAC) |			\
			 BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) |		\
			 BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) |		\
			 BIT_ULL(VIRTIO_NET_F_GUEST_ECN) |		\
			 BIT_ULL(VIRTIO_NET_F_HOST_TSO4) |		\
			 BIT_ULL(VIRTIO_NET_F_HOST_TSO6) |		\
			 BIT_ULL(VIRTIO_NET_F_HOST_ECN) |		\
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			 BIT_ULL(VIRTIO_NET_F_STATUS) |			\
			 BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |		\
			 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC))

/* The part of struct virtio_net_config this device fills. */
#define VNET_CONFIG_LEN	offsetofend(struct virtio_net_config, mtu)

static bool vnet_has(u64 features, unsigned int bit)
{
	return features & BIT_ULL(bit);
}

/* The offloads the driver side can take from this side's transmit. */
static netdev_features_t vnet_tx_offloads(u64 neg, netdev_features_t f)
{
	if (!vnet_has(neg, VIRTIO_NET_F_GUEST_CSUM))
		f &= ~(NETIF_F_CSUM_MASK | NETIF_F_GSO_MASK);
	if (!vnet_has(neg, VIRTIO_NET_F_GUEST_TSO4))
		f &= ~NETIF_F_TSO;
	if (!vnet_has(neg, VIRTIO_NET_F_GUEST_TSO6))
		f &= ~NETIF_F_TSO6;
	if (!vnet_has(neg, VIRTIO_NET_F_GUEST_ECN))
		f &= ~NETIF_F_TSO_ECN;
	return f;
}

static netdev_features_t vnet_fix_features(struct net_device *ndev,
					   netdev_features_t features)
{
	struct vnet *vn = netdev_priv(ndev);

	return vnet_tx_offloads(READ_ONCE(vn->negotiated), features);
}

/*
 * Per packet, for the moment between a new negotiation and the features
 * work: the stack does in software what the driver side cannot take.
 */
static netdev_features_t vnet_features_check(struct sk_buff *skb,
					     struct net_device *ndev,
					     netdev_features_t features)
{
	return vnet_fix_features(ndev, features);
}

static void vnet_features_work(struct work_struct *work)
{
	struct vnet *vn = container_of(work, struct vnet, features_work);

	rtnl_lock();
	netdev_update_features(vn->ndev);
	rtnl_unlock();
}

/* The driver side's link follows this netdev's administrative state. */
static void vnet_set_link(struct vnet *vn, bool up)
{
	__virtio16 status = __cpu_to_virtio16(true, up ? VIRTIO_NET_S_LINK_UP : 0);

	vhost_set_config(vn->vdev, offsetof(struct virtio_net_config, status),
			 &status, sizeof(status));
}

static int vnet_open(struct net_device *ndev)
{
	struct vnet *vn = netdev_priv(ndev);

	napi_enable(&vn->rx.napi);
	netif_start_queue(ndev);
	vnet_set_link(vn, true);
	return 0;
}

static int vnet_close(struct net_device *ndev)
{
	struct vnet *vn = netdev_priv(ndev);

	vnet_set_link(vn, false);
	netif_stop_queue(ndev);
	napi_disable(&vn->rx.napi);
	/* Built while the device was up, never to be delivered. */
	skb_queue_purge(&vn->rx.skbs);
	return 0;
}

static const struct net_device_ops vnet_netdev_ops = {
	.ndo_open		= vnet_open,
	.ndo_stop		= vnet_close,
	.ndo_start_xmit		= vnet_start_xmit,
	.ndo_features_check	= vnet_features_check,
	.ndo_fix_features	= vnet_fix_features,
	.ndo_get_stats64	= vnet_get_stats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/*
 * The virtio-net spec's feature dependencies: a driver side that breaks
 * them is refused FEATURES_OK rather than served half-way.
 */
static int vnet_validate_features(struct vhost_device *vdev, u64 f)
{
	bool guest_tso = vnet_has(f, VIRTIO_NET_F_GUEST_TSO4) ||
			 vnet_has(f, VIRTIO_NET_F_GUEST_TSO6);
	bool host_tso = vnet_has(f, VIRTIO_NET_F_HOST_TSO4) ||
			vnet_has(f, VIRTIO_NET_F_HOST_TSO6);

	if ((guest_tso && !vnet_has(f, VIRTIO_NET_F_GUEST_CSUM)) ||
	    (vnet_has(f, VIRTIO_NET_F_GUEST_ECN) && !guest_tso) ||
	    (host_tso && !vnet_has(f, VIRTIO_NET_F_CSUM)) ||
	    (vnet_has(f, VIRTIO_NET_F_HOST_ECN) && !host_tso)) {
		dev_err(&vdev->dev,
			"features %#llx break virtio-net's dependencies (TSO needs CSUM, ECN needs TSO)\n",
			f);
		return -EINVAL;
	}
	return 0;
}

static int vnet_start(struct vhost_device *vdev)
{
	struct vnet *vn = vhost_get_drvdata(vdev);
	vhost_vq_callback_t *callbacks[] = { vnet_tx_kicked, vnet_rx_kicked };
	static const char *const names[] = { "receiveq", "transmitq" };
	struct vhost_vq *vqs[2];
	int ret;

	WRITE_ONCE(vn->negotiated, vdev->negotiated);
	ret = vhost_create_vqs(vdev, 2, callbacks, names, vqs);
	if (ret)
		return ret;
	ret = vnet_tx_start(vn, vqs[VNET_RXQ_INDEX]);
	if (ret)
		return ret;
	ret = vnet_rx_start(vn, vqs[VNET_TXQ_INDEX]);
	if (ret) {
		vnet_tx_stop(vn);
		return ret;
	}
	queue_work(vnet_wq, &vn->features_work);
	netif_carrier_on(vn->ndev);
	return 0;
}

static void vnet_stop(struct vhost_device *vdev)
{
	struct vnet *vn = vhost_get_drvdata(vdev);

	netif_carrier_off(vn->ndev);
	vnet_rx_stop(vn);
	vnet_tx_stop(vn);
	WRITE_ONCE(vn->negotiated, 0);
}

static void vnet_settings_init(void *settings)
{
	struct vnet_settings *s = settings;

	eth_random_addr(s->mac);
	s->mtu = VNET_DEFAULT_MTU;
}

static int vnet_probe(struct vhost_device *vdev)
{
	const struct vnet_settings *set = vhost_device_settings(vdev);
	struct virtio_net_config cfg = {};
	struct net_device *ndev;
	struct vnet *vn;
	int ret;

	if (vdev->config_len < VNET_CONFIG_LEN) {
		dev_err(&vdev->dev, "config space of %u bytes, %zu needed\n",
			vdev->config_len, VNET_CONFIG_LEN);
		return -ENOSPC;
	}
	ndev = alloc_etherdev(sizeof(*vn));
	if (!ndev)
		return -ENOMEM;
	SET_NETDEV_DEV(ndev, &vdev->dev);
	vn = netdev_priv(ndev);
	vn->vdev = vdev;
	vn->ndev = ndev;
	if (set)
		vn->set = *set;
	else
		vnet_settings_init(&vn->set);
	INIT_WORK(&vn->features_work, vnet_features_work);
	vnet_tx_init(vn);
	vnet_rx_init(vn);

	ndev->netdev_ops = &vnet_netdev_ops;
	ndev->ethtool_ops = &vnet_ethtool_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = vn->set.mtu;
	ndev->mtu = vn->set.mtu;
	ndev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	ndev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO |
			    NETIF_F_TSO6 | NETIF_F_TSO_ECN;
	ndev->hw_features |= NETIF_F_RXCSUM;
	/*
	 * Wanted: all of them.  ndo_fix_features keeps those the driver side
	 * negotiated, none until it runs.
	 */
	ndev->features = ndev->hw_features;
	eth_hw_addr_random(ndev);
	netif_carrier_off(ndev);

	memcpy(cfg.mac, vn->set.mac, ETH_ALEN);
	cfg.mtu = __cpu_to_virtio16(true, vn->set.mtu);
	ret = vhost_set_config(vdev, 0, &cfg, VNET_CONFIG_LEN);
	if (ret)
		goto err;
	vhost_set_features(vdev, VNET_FEATURES);
	vhost_set_drvdata(vdev, vn);

	ret = register_netdev(ndev);
	if (ret)
		goto err;
	netdev_info(ndev, "vhost_netdev on %s, peer %pM, MTU %u\n",
		    dev_name(&vdev->dev), vn->set.mac, vn->set.mtu);
	return 0;
err:
	vnet_rx_exit(vn);
	free_netdev(ndev);
	return ret;
}

static void vnet_remove(struct vhost_device *vdev)
{
	struct vnet *vn = vhost_get_drvdata(vdev);
	struct net_device *ndev = vn->ndev;

	unregister_netdev(ndev);
	cancel_work_sync(&vn->features_work);
	vnet_rx_exit(vn);
	free_netdev(ndev);
}

/* configfs: clients/vhost_netdev.1/<instance>/{mac,mtu} */

/* The length of a written value without its trailing newline. */
static size_t vnet_chomp(const char *page, size_t len)
{
	return len && page[len - 1] == '\n' ? len - 1 : len;
}

static ssize_t vnet_settings_mac_show(struct config_item *item, char *page)
{
	struct vnet_settings *s = vhost_settings_get(item, false);
	ssize_t ret = sysfs_emit(page, "%pM\n", s->mac);

	vhost_settings_put(item);
	return ret;
}

static ssize_t vnet_settings_mac_store(struct config_item *item,
				       const char *page, size_t len)
{
	size_t n = vnet_chomp(page, len);
	struct vnet_settings *s;
	u8 mac[ETH_ALEN];

	if (n != 3 * ETH_ALEN - 1 || !mac_pton(page, mac) ||
	    !is_valid_ether_addr(mac)) {
		pr_err("vhost_netdev: %s: mac: \"%.*s\" is not a unicast address xx:xx:xx:xx:xx:xx\n",
		       config_item_name(item), (int)min_t(size_t, n, 32), page);
		return -EINVAL;
	}
	s = vhost_settings_get(item, true);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ether_addr_copy(s->mac, mac);
	vhost_settings_put(item);
	return len;
}

static ssize_t vnet_settings_mtu_show(struct config_item *item, char *page)
{
	struct vnet_settings *s = vhost_settings_get(item, false);
	ssize_t ret = sysfs_emit(page, "%u\n", s->mtu);

	vhost_settings_put(item);
	return ret;
}

static ssize_t vnet_settings_mtu_store(struct config_item *item,
				       const char *page, size_t len)
{
	size_t n = vnet_chomp(page, len);
	struct vnet_settings *s;
	unsigned int mtu;

	if (kstrtouint(page, 0, &mtu) || mtu < ETH_MIN_MTU ||
	    mtu > IP_MAX_MTU) {
		pr_err("vhost_netdev: %s: mtu: \"%.*s\" is not a number in [%u, %u]\n",
		       config_item_name(item), (int)min_t(size_t, n, 32), page,
		       ETH_MIN_MTU, IP_MAX_MTU);
		return -EINVAL;
	}
	s = vhost_settings_get(item, true);
	if (IS_ERR(s))
		return PTR_ERR(s);
	s->mtu = mtu;
	vhost_settings_put(item);
	return len;
}

CONFIGFS_ATTR(vnet_settings_, mac);
CONFIGFS_ATTR(vnet_settings_, mtu);

static struct configfs_attribute *vnet_settings_attrs[] = {
	&vnet_settings_attr_mac,
	&vnet_settings_attr_mtu,
	NULL,
};

static const struct vhost_device_id vnet_ids[] = {
	{ VIRTIO_ID_NET, VHOST_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(vhost, vnet_ids);

static struct vhost_driver vnet_driver = {
	.driver.name		= "vhost_netdev",
	.id_table		= vnet_ids,
	.probe			= vnet_probe,
	.remove			= vnet_remove,
	.validate_features	= vnet_validate_features,
	.start			= vnet_start,
	.stop			= vnet_stop,
	.settings_size		= sizeof(struct vnet_settings),
	.settings_attrs		= vnet_settings_attrs,
	.settings_init		= vnet_settings_init,
};

static int __init vnet_init(void)
{
	int ret;

	/* Unbound, and tunable in /sys/bus/workqueue/devices/vhost_netdev. */
	vnet_wq = alloc_workqueue("vhost_netdev", WQ_UNBOUND | WQ_SYSFS, 0);
	if (!vnet_wq)
		return -ENOMEM;
	ret = vhost_driver_register(&vnet_driver);
	if (ret)
		destroy_workqueue(vnet_wq);
	return ret;
}
module_init(vnet_init);

static void __exit vnet_exit(void)
{
	vhost_driver_unregister(&vnet_driver);
	destroy_workqueue(vnet_wq);
}
module_exit(vnet_exit);

MODULE_DESCRIPTION("Network device on the device side of virtio-net, over the vhost bus");
MODULE_LICENSE("GPL");
