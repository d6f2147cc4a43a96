// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_netdev receive: the driver side's transmit buffers into the stack.
 *
 * The transport's copy may sleep, so a work item, not NAPI, reads the
 * buffers: it checks each virtio-net header against the negotiated
 * features and the real length, copies the frame once into a new skb
 * (its head, then page fragments) and queues it for NAPI, which hands it
 * to GRO.  The buffers are made used VNET_RX_BATCH at a time and the
 * driver side is interrupted once a batch, if it asks to be.  A malformed packet is
 * dropped and counted and the device keeps running; a ring the vhost core
 * cannot walk fails the device.
 *
 * Flow control: once VNET_RX_BACKLOG skbs wait for NAPI, the work leaves
 * the ring alone and NAPI wakes it when it has delivered them.  While
 * this netdev is down, packets are dropped without a copy, so that the
 * driver side's transmit never stalls.
 *
 * Locking: the ring and the buffers are the work's alone; rx->skbs has its
 * own lock, shared by the work and NAPI.
 */

#include <linux/highmem.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vhost_netdev.h"

/* Frames up to this are copied into the skb's head whole ... */
#define VNET_RX_LINEAR	1600
/* ... longer ones this much, the rest into page fragments. */
#define VNET_RX_HEAD	256

/* The gso_type values the driver side may send, by feature. */
static bool vnet_rx_hdr_ok(struct vnet *vn,
			   const struct virtio_net_hdr *hdr, size_t len)
{
	struct vhost_device *vdev = vn->vdev;
	u8 gso = hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (hdr->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if ((hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !vhost_device_has_feature(vdev, VIRTIO_NET_F_CSUM))
		return false;
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if ((hdr->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !vhost_device_has_feature(vdev, VIRTIO_NET_F_HOST_ECN))
		return false;
	if (__virtio16_to_cpu(true, hdr->hdr_len) > len || !hdr->gso_size)
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return vhost_device_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return vhost_device_has_feature(vdev, VIRTIO_NET_F_HOST_TSO6);
	default:
		return false;	/* UFO and USO are not offered */
	}
}

static int vnet_pull(struct vhost_buf *buf, void *dst, size_t len)
{
	ssize_t ret = vhost_buf_pull(buf, dst, len);

	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

/* Copy @len bytes of frame into a new skb: head, then page fragments. */
static struct sk_buff *vnet_rx_copy(struct vnet *vn, struct vhost_buf *buf,
				    size_t len)
{
	size_t head = len <= VNET_RX_LINEAR ? len : VNET_RX_HEAD;
	struct sk_buff *skb;
	unsigned int i;
	int err;

	skb = alloc_skb_with_frags(NET_SKB_PAD + NET_IP_ALIGN + head,
				   len - head, PAGE_ALLOC_COSTLY_ORDER, &err,
				   GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
	skb->dev = vn->ndev;
	if (vnet_pull(buf, skb_put(skb, head), head))
		goto err;
	skb->len += len - head;
	skb->data_len += len - head;
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
		u32 p_off, p_len, copied;
		struct page *p;

		skb_frag_foreach_page(frag, skb_frag_off(frag),
				      skb_frag_size(frag), p, p_off, p_len,
				      copied) {
			void *va = kmap_local_page(p);

			err = vnet_pull(buf, va + p_off, p_len);
			kunmap_local(va);
			if (err)
				goto err;
		}
	}
	return skb;
err:
	kfree_skb(skb);
	return ERR_PTR(-EIO);
}

/* One packet from the driver side: into rx->skbs, or dropped and counted. */
static void vnet_rx_one(struct vnet_rx *rx, struct vhost_buf *buf)
{
	struct vnet *vn = rx->vn;
	size_t len = vhost_buf_readable(buf);
	struct virtio_net_hdr_mrg_rxbuf hdr = {};
	struct sk_buff *skb;

	if (len < VNET_HDR_LEN + ETH_HLEN ||
	    len - VNET_HDR_LEN > VNET_MAX_FRAME || vhost_buf_writable(buf))
		goto malformed;
	len -= VNET_HDR_LEN;
	if (vnet_pull(buf, &hdr, VNET_HDR_LEN))
		return;		/* the core failed the device */
	if (!vnet_rx_hdr_ok(vn, &hdr.hdr, len))
		goto malformed;
	if (!netif_running(vn->ndev))
		goto drop;
	skb = vnet_rx_copy(vn, buf, len);
	if (IS_ERR(skb))
		return;		/* the core failed the device */
	if (!skb)
		goto drop;
	if (virtio_net_hdr_to_skb(skb, &hdr.hdr, true)) {
		kfree_skb(skb);
		goto malformed;
	}
	skb->protocol = eth_type_trans(skb, vn->ndev);
	skb_queue_tail(&rx->skbs, skb);
	vnet_count_packet(&rx->stats, len);
	return;
malformed:
	net_dbg_ratelimited("%s: malformed packet from the driver side: %zu bytes, flags %#x, gso %#x/%u, hdr_len %u, csum %u+%u\n",
			    vn->ndev->name, len, hdr.hdr.flags,
			    hdr.hdr.gso_type, __virtio16_to_cpu(true, hdr.hdr.gso_size),
			    __virtio16_to_cpu(true, hdr.hdr.hdr_len),
			    __virtio16_to_cpu(true, hdr.hdr.csum_start),
			    __virtio16_to_cpu(true, hdr.hdr.csum_offset));
	vnet_count(&rx->stats, &rx->stats.malformed, 1);
	return;
drop:
	vnet_count(&rx->stats, &rx->stats.drops, 1);
}

/*
 * Make the buffers taken so far used and interrupt the driver side if it
 * asks to be, then let NAPI have the packets: done every VNET_RX_BATCH
 * packets, not once a run, so that the driver side frees what it sent
 * (TCP small queues wait for it) while the run goes on.
 */
static void vnet_rx_flush(struct vnet_rx *rx, struct vhost_vq *vq,
			  unsigned int n)
{
	if (!n)
		return;
	vhost_vq_put_bufs(vq, rx->bufs, n);
	while (n--)
		vhost_buf_release(&rx->bufs[n]);
	if (vhost_vq_kick_cansleep(vq))
		vnet_count(&rx->stats, &rx->stats.interrupts, 1);
	local_bh_disable();
	napi_schedule(&rx->napi);
	local_bh_enable();
}

static void vnet_rx_work(struct work_struct *work)
{
	struct vnet_rx *rx = container_of(work, struct vnet_rx, work);
	struct vhost_vq *vq = READ_ONCE(rx->vq);
	unsigned int n = 0, total = 0;
	bool again = false;
	int ret = 0;

	if (!vq)
		return;		/* stopped: queued by NAPI after the cancel */
	vhost_vq_disable_cb(vq);
	while (total < VNET_BUDGET) {
		if (skb_queue_len(&rx->skbs) >= VNET_RX_BACKLOG) {
			/* NAPI queues the work again once it delivered. */
			set_bit(VNET_RX_THROTTLED, &rx->flags);
			break;
		}
		ret = vhost_vq_get_buf(vq, &rx->bufs[n]);
		if (ret <= 0)
			break;
		vnet_rx_one(rx, &rx->bufs[n]);
		total++;
		if (++n == VNET_RX_BATCH) {
			vnet_rx_flush(rx, vq, n);
			n = 0;
		}
	}
	if (total == VNET_BUDGET)
		again = true;
	else if (!ret && !vhost_vq_enable_cb(vq))
		again = true;	/* buffers came meanwhile */
	vnet_rx_flush(rx, vq, n);
	if (again)
		queue_work(vnet_wq, &rx->work);
}

static int vnet_poll(struct napi_struct *napi, int budget)
{
	struct vnet_rx *rx = container_of(napi, struct vnet_rx, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget && (skb = skb_dequeue(&rx->skbs))) {
		napi_gro_receive(napi, skb);
		done++;
	}
	if (done < budget)
		napi_complete_done(napi, done);
	if (skb_queue_len(&rx->skbs) < VNET_RX_BACKLOG / 2 &&
	    test_and_clear_bit(VNET_RX_THROTTLED, &rx->flags))
		queue_work(vnet_wq, &rx->work);
	return done;
}

/* Called in atomic context: the driver side posted packets. */
void vnet_rx_kicked(struct vhost_vq *vq)
{
	struct vnet *vn = vq->priv;

	atomic64_inc(&vn->rx.stats.kicks);
	queue_work(vnet_wq, &vn->rx.work);
}

int vnet_rx_start(struct vnet *vn, struct vhost_vq *vq)
{
	struct vnet_rx *rx = &vn->rx;

	rx->bufs = vnet_bufs_alloc(VNET_BUDGET);
	if (!rx->bufs)
		return -ENOMEM;
	clear_bit(VNET_RX_THROTTLED, &rx->flags);
	vq->priv = vn;
	WRITE_ONCE(rx->vq, vq);
	return 0;
}

void vnet_rx_stop(struct vnet *vn)
{
	struct vnet_rx *rx = &vn->rx;

	/*
	 * NAPI may queue the work even after the cancel: without a ring it
	 * returns at once.  A run that saw the ring is waited for.
	 */
	WRITE_ONCE(rx->vq, NULL);
	cancel_work_sync(&rx->work);
	kfree(rx->bufs);
	rx->bufs = NULL;
}

void vnet_rx_init(struct vnet *vn)
{
	struct vnet_rx *rx = &vn->rx;

	rx->vn = vn;
	skb_queue_head_init(&rx->skbs);
	INIT_WORK(&rx->work, vnet_rx_work);
	u64_stats_init(&rx->stats.syncp);
	netif_napi_add(vn->ndev, &rx->napi, vnet_poll);
}

void vnet_rx_exit(struct vnet *vn)
{
	netif_napi_del(&vn->rx.napi);
	skb_queue_purge(&vn->rx.skbs);
}
