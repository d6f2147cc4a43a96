// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_netdev transmit: the stack's packets into the driver side's
 * receive buffers.
 *
 * ndo_start_xmit only queues the skb (BQL counts it) and, at the end of a
 * batch (no xmit_more) or when the queue fills, wakes the work.  The work
 * copies each packet, behind its virtio-net header, into as many of the
 * driver side's buffers as it takes (one, without mergeable buffers), and
 * makes the buffers of a run used in one update of the used index, then
 * interrupts the driver side once, if it asks to be (EVENT_IDX).  When the
 * driver side has no buffer left, the work waits for its kick; packets
 * wait in the queue, and the stack is stopped once VNET_TX_QUEUE_LEN of
 * them do.
 *
 * Locking: tx->lock (taken with BHs off) guards the skb queue and the
 * running flag between ndo_start_xmit and the work; the ring and the
 * buffers are the work's alone, and stop() cancels the work before the
 * queue goes.
 */

#include <linux/highmem.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vhost_netdev.h"

/* Where the bytes of one packet go: the buffers taken for it. */
struct vnet_dst {
	struct vhost_buf *bufs;
	unsigned int n;
	unsigned int cur;
};

static int vnet_push(struct vnet_dst *d, const void *src, size_t len)
{
	while (len) {
		ssize_t ret;

		if (d->cur >= d->n)
			return -ENOSPC;
		ret = vhost_buf_push(&d->bufs[d->cur], src, len);
		if (ret < 0)
			return ret;
		src += ret;
		len -= ret;
		if (len)
			d->cur++;
	}
	return 0;
}

static int vnet_push_skb(struct vnet_dst *d, const struct sk_buff *skb)
{
	unsigned int i;
	int ret;

	ret = vnet_push(d, skb->data, skb_headlen(skb));
	for (i = 0; !ret && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
		u32 p_off, p_len, copied;
		struct page *p;

		skb_frag_foreach_page(frag, skb_frag_off(frag),
				      skb_frag_size(frag), p, p_off, p_len,
				      copied) {
			void *va = kmap_local_page(p);

			ret = vnet_push(d, va + p_off, p_len);
			kunmap_local(va);
			if (ret)
				break;
		}
	}
	return ret;
}

/*
 * Make the buffers taken so far used, in one update, and interrupt the
 * driver side if it asks to be: at once, not at the end of the run, so
 * that it takes the packets and posts new buffers while the run goes on.
 */
static void vnet_tx_flush(struct vnet_tx *tx)
{
	unsigned int i;

	if (!tx->nbufs)
		return;
	vhost_vq_put_bufs(tx->vq, tx->bufs, tx->nbufs);
	for (i = 0; i < tx->nbufs; i++)
		vhost_buf_release(&tx->bufs[i]);
	tx->nbufs = 0;
	if (vhost_vq_kick_cansleep(tx->vq))
		vnet_count(&tx->stats, &tx->stats.interrupts, 1);
}

static void vnet_tx_unget(struct vnet_tx *tx, unsigned int first,
			  unsigned int n)
{
	while (n--) {
		vhost_vq_unget_buf(tx->vq, &tx->bufs[first + n]);
		vhost_buf_release(&tx->bufs[first + n]);
	}
}

/*
 * Copy one packet into the driver side's buffers.  Return 0 when the
 * packet is done with (sent or dropped and counted), -ENOSPC when the
 * driver side has too few buffers now, -EAGAIN to flush the buffers taken
 * and try again, -EIO when the device failed.
 *
 * A packet that finds too few buffers keeps those it took (tx->npart,
 * from the start of tx->bufs once the packets before it are flushed)
 * while it waits for more: given back, they would still be available,
 * and with EVENT_IDX the driver side would not kick for the next ones.
 */
static int vnet_tx_one(struct vnet_tx *tx, struct sk_buff *skb)
{
	struct vnet *vn = tx->vn;
	bool mrg = vhost_device_has_feature(vn->vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net_hdr_mrg_rxbuf hdr;
	size_t need = VNET_HDR_LEN + skb->len, room = tx->part_room;
	unsigned int first = tx->nbufs, n = tx->npart;
	struct vnet_dst d;
	int ret;

	tx->npart = 0;
	tx->part_room = 0;
	if (skb->len > VNET_MAX_FRAME ||
	    virtio_net_hdr_from_skb(skb, &hdr.hdr, true, false, 0) ||
	    (skb_has_frag_list(skb) && skb_linearize(skb))) {
		vnet_tx_unget(tx, first, n);
		goto drop;
	}

	while (room < need) {
		struct vhost_buf *buf;
		size_t w;

		if (first + n == VHOST_PUT_BUFS_MAX) {
			vnet_tx_unget(tx, first, n);
			if (first)
				return -EAGAIN;
			net_warn_ratelimited("%s: a %u-byte packet needs over %u of the driver side's buffers: dropped\n",
					     vn->ndev->name, skb->len,
					     VHOST_PUT_BUFS_MAX);
			goto drop;
		}
		buf = &tx->bufs[first + n];
		ret = vhost_vq_get_buf(tx->vq, buf);
		if (ret < 0) {
			vnet_tx_unget(tx, first, n);
			return -EIO;
		}
		if (!ret) {
			if (first) {
				/* Flush the packets before, then wait. */
				vnet_tx_unget(tx, first, n);
				return -EAGAIN;
			}
			tx->npart = n;
			tx->part_room = room;
			return -ENOSPC;
		}
		w = vhost_buf_writable(buf);
		if (!w) {
			/*
			 * A receive buffer without room: malformed.  It and
			 * those taken with it go back empty, in order, and
			 * the packet tries the next ones.
			 */
			vnet_count(&tx->stats, &tx->stats.malformed, 1);
			tx->nbufs = first + n + 1;
			return -EAGAIN;
		}
		room += w;
		n++;
		if (!mrg)
			break;
	}
	if (room < need) {
		/* Without mergeable buffers, the one buffer is too small. */
		vnet_tx_unget(tx, first, n);
		net_warn_ratelimited("%s: a %u-byte packet does not fit the driver side's %zu-byte buffer: dropped\n",
				     vn->ndev->name, skb->len, room);
		goto drop;
	}

	hdr.num_buffers = __cpu_to_virtio16(true, n);
	d.bufs = &tx->bufs[first];
	d.n = n;
	d.cur = 0;
	ret = vnet_push(&d, &hdr, VNET_HDR_LEN);
	if (!ret)
		ret = vnet_push_skb(&d, skb);
	tx->nbufs = first + n;
	if (ret) {
		/* The transport failed the device; nothing more is used. */
		vnet_count(&tx->stats, &tx->stats.drops, 1);
		return -EIO;
	}
	vnet_count_packet(&tx->stats, skb->len);
	return 0;
drop:
	vnet_count(&tx->stats, &tx->stats.drops, 1);
	return 0;
}

static void vnet_tx_work(struct work_struct *work)
{
	struct vnet_tx *tx = container_of(work, struct vnet_tx, work);
	struct net_device *ndev = tx->vn->ndev;
	struct netdev_queue *txq = netdev_get_tx_queue(ndev, 0);
	unsigned int budget = VNET_BUDGET;
	bool waiting = false, more;
	struct sk_buff *skb;
	int ret;

	vhost_vq_disable_cb(tx->vq);
	/* Every pass counts, retries too: the budget bounds the run. */
	while (budget--) {
		spin_lock_bh(&tx->lock);
		skb = __skb_dequeue(&tx->skbs);
		spin_unlock_bh(&tx->lock);
		if (!skb)
			break;
		ret = vnet_tx_one(tx, skb);
		if (ret == -EAGAIN || ret == -ENOSPC) {
			spin_lock_bh(&tx->lock);
			__skb_queue_head(&tx->skbs, skb);
			spin_unlock_bh(&tx->lock);
			vnet_tx_flush(tx);
			if (ret == -EAGAIN)
				continue;
			/* Wait for the driver side to post buffers. */
			if (!vhost_vq_enable_cb(tx->vq)) {
				vhost_vq_disable_cb(tx->vq);
				continue;
			}
			waiting = true;
			break;
		}
		/*
		 * The packet left: BQL hears of it now, not at the end of
		 * the run, so that the stack sends the next ones meanwhile.
		 */
		local_bh_disable();
		netdev_tx_completed_queue(txq, 1, skb->len);
		local_bh_enable();
		dev_consume_skb_any(skb);
		if (ret == -EIO)
			break;
	}
	vnet_tx_flush(tx);

	spin_lock_bh(&tx->lock);
	more = !skb_queue_empty(&tx->skbs);
	if (netif_tx_queue_stopped(txq) &&
	    skb_queue_len(&tx->skbs) < VNET_TX_QUEUE_LEN / 2)
		netif_tx_wake_queue(txq);
	spin_unlock_bh(&tx->lock);
	if (more && !waiting)
		queue_work(vnet_wq, &tx->work);
}

netdev_tx_t vnet_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct vnet *vn = netdev_priv(ndev);
	struct vnet_tx *tx = &vn->tx;
	struct netdev_queue *txq = netdev_get_tx_queue(ndev, 0);
	bool kick;

	spin_lock(&tx->lock);
	if (!tx->running) {
		spin_unlock(&tx->lock);
		dev_core_stats_tx_dropped_inc(ndev);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* Counted before the work can see it, and so complete it. */
	kick = __netdev_tx_sent_queue(txq, skb->len, netdev_xmit_more());
	__skb_queue_tail(&tx->skbs, skb);
	if (skb_queue_len(&tx->skbs) >= VNET_TX_QUEUE_LEN) {
		netif_tx_stop_queue(txq);
		kick = true;
	}
	spin_unlock(&tx->lock);
	if (kick)
		queue_work(vnet_wq, &tx->work);
	return NETDEV_TX_OK;
}

/* Called in atomic context: the driver side posted receive buffers. */
void vnet_tx_kicked(struct vhost_vq *vq)
{
	struct vnet *vn = vq->priv;

	atomic64_inc(&vn->tx.stats.kicks);
	queue_work(vnet_wq, &vn->tx.work);
}

int vnet_tx_start(struct vnet *vn, struct vhost_vq *vq)
{
	struct vnet_tx *tx = &vn->tx;

	tx->bufs = vnet_bufs_alloc(VHOST_PUT_BUFS_MAX);
	if (!tx->bufs)
		return -ENOMEM;
	tx->nbufs = 0;
	tx->npart = 0;
	tx->part_room = 0;
	vq->priv = vn;
	tx->vq = vq;
	spin_lock_bh(&tx->lock);
	tx->running = true;
	spin_unlock_bh(&tx->lock);
	netif_tx_wake_queue(netdev_get_tx_queue(vn->ndev, 0));
	return 0;
}

void vnet_tx_stop(struct vnet *vn)
{
	struct vnet_tx *tx = &vn->tx;

	spin_lock_bh(&tx->lock);
	tx->running = false;
	spin_unlock_bh(&tx->lock);
	cancel_work_sync(&tx->work);
	/* Packets of a peer gone: dropped, as a cable pulled would. */
	spin_lock_bh(&tx->lock);
	u64_stats_update_begin(&tx->stats.syncp);
	u64_stats_add(&tx->stats.drops, skb_queue_len(&tx->skbs));
	u64_stats_update_end(&tx->stats.syncp);
	__skb_queue_purge(&tx->skbs);
	spin_unlock_bh(&tx->lock);
	netdev_tx_reset_queue(netdev_get_tx_queue(vn->ndev, 0));
	/* Buffers a packet held: the driver side reset, they are void. */
	while (tx->npart)
		vhost_buf_release(&tx->bufs[--tx->npart]);
	kfree(tx->bufs);
	tx->bufs = NULL;
	tx->vq = NULL;
}

void vnet_tx_init(struct vnet *vn)
{
	struct vnet_tx *tx = &vn->tx;

	tx->vn = vn;
	spin_lock_init(&tx->lock);
	__skb_queue_head_init(&tx->skbs);
	INIT_WORK(&tx->work, vnet_tx_work);
	u64_stats_init(&tx->stats.syncp);
}
