// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA engine of the socemu test rig's emulated PCIe endpoint controller.
 *
 * Endpoint controllers such as the DesignWare one of i.MX8 carry an
 * "embedded DMA" (eDMA): channels that read root complex memory into
 * endpoint memory (read channels) or write endpoint memory to the root
 * complex (write channels), asynchronously, addressed by PCI bus address:
 * they need no outbound window. Endpoint functions find them as dmaengine
 * channels of the controller's device (as pci-epf-test and pci-epf-mhi do)
 * and drive them with dmaengine_slave_config() and
 * dmaengine_prep_slave_single().
 *
 * The emulation registers such a dmaengine device with the profile's
 * number of read and write channels. A channel runs its transfers one
 * after the other from a work item, after the submitter has returned,
 * and completes them with a callback, as hardware does from its
 * interrupt: a function that assumed a synchronous copy would break here
 * as it would on a board. A transfer reaches root complex memory through
 * the alias of all of it (a socemu window), checked against its size: a
 * transfer past the end of root complex memory fails with an error
 * result instead of touching anything, as a completion with an error
 * status would on hardware. Only single-segment transfers are taken, as
 * the functions of the tree use. Endpoint memory is addressed by DMA
 * address; the rig's guests have no IOMMU, so that is its physical one.
 *
 * What it cannot show: the bandwidth, latency and ordering of a real
 * engine (it copies with the CPU, through QEMU), linked-list mode, and a
 * link that goes down under a transfer.
 *
 * Locking: each channel's ->lock (a spinlock, taken from any context)
 * protects its descriptor lists, its config and its cookies. The work
 * item copies without it, one descriptor at a time.
 */

#include <linux/dmaengine.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/socemu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct socemu_edma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	dma_addr_t local;
	u64 remote;
	size_t len;
};

struct socemu_edma_chan {
	struct dma_chan chan;
	struct socemu_edma *edma;
	enum dma_transfer_direction dir;
	spinlock_t lock;		/* see the locking note */
	struct list_head submitted;
	struct list_head issued;
	struct dma_slave_config cfg;
	dma_cookie_t failed;		/* last transfer that failed */
	struct work_struct work;
};

struct socemu_edma {
	struct dma_device dma;
	void __iomem *rc;		/* all of root complex memory */
	u64 rc_size;
	struct workqueue_struct *wq;
	unsigned int nchans;
	struct socemu_edma_chan chans[] __counted_by(nchans);
};

static struct socemu_edma_chan *to_echan(struct dma_chan *chan)
{
	return container_of(chan, struct socemu_edma_chan, chan);
}

static struct socemu_edma_desc *to_edesc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct socemu_edma_desc, tx);
}

static dma_cookie_t socemu_edma_submit(struct dma_async_tx_descriptor *tx)
{
	struct socemu_edma_chan *ec = to_echan(tx->chan);
	struct socemu_edma_desc *d = to_edesc(tx);
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&ec->lock, flags);
	cookie = ec->chan.cookie + 1;
	if (cookie < DMA_MIN_COOKIE)
		cookie = DMA_MIN_COOKIE;
	ec->chan.cookie = cookie;
	tx->cookie = cookie;
	list_add_tail(&d->node, &ec->submitted);
	spin_unlock_irqrestore(&ec->lock, flags);
	return cookie;
}

static struct dma_async_tx_descriptor *
socemu_edma_prep_slave_sg(struct dma_chan *chan, struct scatterlist *sgl,
			  unsigned int sg_len,
			  enum dma_transfer_direction dir,
			  unsigned long flags, void *context)
{
	struct socemu_edma_chan *ec = to_echan(chan);
	struct socemu_edma_desc *d;
	unsigned long lflags;

	if (dir != ec->dir || sg_len != 1 || !sg_dma_len(sgl)) {
		dev_err_ratelimited(chan->device->dev,
				    "%s: only single transfers %s the root complex\n",
				    dma_chan_name(chan),
				    ec->dir == DMA_DEV_TO_MEM ? "from" : "to");
		return NULL;
	}
	d = kzalloc(sizeof(*d), GFP_NOWAIT);
	if (!d)
		return NULL;
	dma_async_tx_descriptor_init(&d->tx, chan);
	d->tx.tx_submit = socemu_edma_submit;
	d->tx.flags = flags;
	d->local = sg_dma_address(sgl);
	d->len = sg_dma_len(sgl);
	spin_lock_irqsave(&ec->lock, lflags);
	d->remote = dir == DMA_DEV_TO_MEM ? ec->cfg.src_addr : ec->cfg.dst_addr;
	spin_unlock_irqrestore(&ec->lock, lflags);
	INIT_LIST_HEAD(&d->node);
	return &d->tx;
}

static int socemu_edma_config(struct dma_chan *chan,
			      struct dma_slave_config *cfg)
{
	struct socemu_edma_chan *ec = to_echan(chan);
	unsigned long flags;

	spin_lock_irqsave(&ec->lock, flags);
	ec->cfg = *cfg;
	spin_unlock_irqrestore(&ec->lock, flags);
	return 0;
}

static void socemu_edma_issue_pending(struct dma_chan *chan)
{
	struct socemu_edma_chan *ec = to_echan(chan);
	unsigned long flags;

	spin_lock_irqsave(&ec->lock, flags);
	list_splice_tail_init(&ec->submitted, &ec->issued);
	if (!list_empty(&ec->issued))
		queue_work(ec->edma->wq, &ec->work);
	spin_unlock_irqrestore(&ec->lock, flags);
}

static enum dma_status socemu_edma_tx_status(struct dma_chan *chan,
					     dma_cookie_t cookie,
					     struct dma_tx_state *state)
{
	struct socemu_edma_chan *ec = to_echan(chan);
	dma_cookie_t used, done;
	enum dma_status status;
	unsigned long flags;

	spin_lock_irqsave(&ec->lock, flags);
	used = chan->cookie;
	done = chan->completed_cookie;
	status = dma_async_is_complete(cookie, done, used);
	if (status == DMA_COMPLETE && cookie == ec->failed)
		status = DMA_ERROR;
	spin_unlock_irqrestore(&ec->lock, flags);
	dma_set_tx_state(state, done, used, 0);
	return status;
}

/* Copy one transfer; false if it reaches past root complex memory. */
static bool socemu_edma_copy(struct socemu_edma_chan *ec,
			     struct socemu_edma_desc *d)
{
	struct socemu_edma *edma = ec->edma;
	void *local = phys_to_virt(d->local);

	if (d->remote >= edma->rc_size || d->len > edma->rc_size - d->remote) {
		dev_err_ratelimited(edma->dma.dev,
				    "%s: %zu bytes at PCI %#llx are beyond root complex memory (%#llx bytes)\n",
				    dma_chan_name(&ec->chan), d->len, d->remote,
				    edma->rc_size);
		return false;
	}
	if (ec->dir == DMA_DEV_TO_MEM)
		memcpy_fromio(local, edma->rc + d->remote, d->len);
	else
		memcpy_toio(edma->rc + d->remote, local, d->len);
	return true;
}

static void socemu_edma_work(struct work_struct *work)
{
	struct socemu_edma_chan *ec = container_of(work, struct socemu_edma_chan,
						   work);
	struct dmaengine_result res;
	struct socemu_edma_desc *d;
	unsigned long flags;
	bool ok;

	for (;;) {
		spin_lock_irqsave(&ec->lock, flags);
		d = list_first_entry_or_null(&ec->issued,
					     struct socemu_edma_desc, node);
		if (d)
			list_del_init(&d->node);
		spin_unlock_irqrestore(&ec->lock, flags);
		if (!d)
			return;

		ok = socemu_edma_copy(ec, d);
		spin_lock_irqsave(&ec->lock, flags);
		ec->chan.completed_cookie = d->tx.cookie;
		if (!ok)
			ec->failed = d->tx.cookie;
		spin_unlock_irqrestore(&ec->lock, flags);

		res.residue = ok ? 0 : d->len;
		res.result = ok ? DMA_TRANS_NOERROR :
			     ec->dir == DMA_DEV_TO_MEM ? DMA_TRANS_READ_FAILED :
							 DMA_TRANS_WRITE_FAILED;
		if (d->tx.callback_result)
			d->tx.callback_result(d->tx.callback_param, &res);
		else if (d->tx.callback)
			d->tx.callback(d->tx.callback_param);
		kfree(d);
	}
}

/* Drop what was not started; a transfer being copied completes. */
static int socemu_edma_terminate_all(struct dma_chan *chan)
{
	struct socemu_edma_chan *ec = to_echan(chan);
	struct socemu_edma_desc *d, *tmp;
	unsigned long flags;
	LIST_HEAD(drop);

	spin_lock_irqsave(&ec->lock, flags);
	list_splice_init(&ec->submitted, &drop);
	list_splice_init(&ec->issued, &drop);
	spin_unlock_irqrestore(&ec->lock, flags);
	list_for_each_entry_safe(d, tmp, &drop, node)
		kfree(d);
	return 0;
}

static void socemu_edma_synchronize(struct dma_chan *chan)
{
	flush_work(&to_echan(chan)->work);
}

static void socemu_edma_free_chan_resources(struct dma_chan *chan)
{
	socemu_edma_terminate_all(chan);
	socemu_edma_synchronize(chan);
}

static void socemu_edma_caps(struct dma_chan *chan,
			     struct dma_slave_caps *caps)
{
	caps->directions = BIT(to_echan(chan)->dir);
}

static void socemu_edma_release(struct dma_device *dma)
{
	struct socemu_edma *edma = container_of(dma, struct socemu_edma, dma);

	destroy_workqueue(edma->wq);
	iounmap(edma->rc);
	kfree(edma);
}

/**
 * socemu_edma_create() - register the DMA engine of an emulated controller
 * @dev: the controller's device; functions find the channels by it
 * @rc_phys: CPU physical address of the alias of root complex memory
 * @rc_size: size of root complex memory
 * @rd_chans: channels that read from the root complex
 * @wr_chans: channels that write to the root complex
 *
 * Return: the engine, or an ERR_PTR.
 */
struct socemu_edma *socemu_edma_create(struct device *dev, phys_addr_t rc_phys,
				       u64 rc_size, unsigned int rd_chans,
				       unsigned int wr_chans)
{
	unsigned int i, n = rd_chans + wr_chans;
	struct socemu_edma *edma;
	int ret;

	if (!n)
		return ERR_PTR(-EINVAL);
	edma = kzalloc(struct_size(edma, chans, n), GFP_KERNEL);
	if (!edma)
		return ERR_PTR(-ENOMEM);
	edma->nchans = n;
	edma->rc_size = rc_size;
	edma->rc = ioremap(rc_phys, rc_size);
	edma->wq = alloc_workqueue("socemu-edma", WQ_UNBOUND, 0);
	if (!edma->rc || !edma->wq) {
		ret = -ENOMEM;
		goto err;
	}

	dma_cap_set(DMA_SLAVE, edma->dma.cap_mask);
	dma_cap_set(DMA_PRIVATE, edma->dma.cap_mask);
	edma->dma.dev = dev;
	edma->dma.directions = BIT(DMA_DEV_TO_MEM) | BIT(DMA_MEM_TO_DEV);
	edma->dma.src_addr_widths = BIT(DMA_SLAVE_BUSWIDTH_8_BYTES);
	edma->dma.dst_addr_widths = BIT(DMA_SLAVE_BUSWIDTH_8_BYTES);
	edma->dma.residue_granularity = DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	edma->dma.device_prep_slave_sg = socemu_edma_prep_slave_sg;
	edma->dma.device_config = socemu_edma_config;
	edma->dma.device_issue_pending = socemu_edma_issue_pending;
	edma->dma.device_tx_status = socemu_edma_tx_status;
	edma->dma.device_terminate_all = socemu_edma_terminate_all;
	edma->dma.device_synchronize = socemu_edma_synchronize;
	edma->dma.device_free_chan_resources = socemu_edma_free_chan_resources;
	edma->dma.device_caps = socemu_edma_caps;
	edma->dma.device_release = socemu_edma_release;
	INIT_LIST_HEAD(&edma->dma.channels);
	for (i = 0; i < n; i++) {
		struct socemu_edma_chan *ec = &edma->chans[i];

		ec->edma = edma;
		ec->dir = i < rd_chans ? DMA_DEV_TO_MEM : DMA_MEM_TO_DEV;
		spin_lock_init(&ec->lock);
		INIT_LIST_HEAD(&ec->submitted);
		INIT_LIST_HEAD(&ec->issued);
		INIT_WORK(&ec->work, socemu_edma_work);
		ec->chan.device = &edma->dma;
		list_add_tail(&ec->chan.device_node, &edma->dma.channels);
	}
	ret = dma_async_device_register(&edma->dma);
	if (ret)
		goto err;
	dev_info(dev, "DMA engine: %u read and %u write channels\n", rd_chans,
		 wr_chans);
	return edma;
err:
	if (edma->wq)
		destroy_workqueue(edma->wq);
	if (edma->rc)
		iounmap(edma->rc);
	kfree(edma);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(socemu_edma_create);

/**
 * socemu_edma_destroy() - unregister a DMA engine
 * @edma: the engine; its channels must have been released
 *
 * The memory goes once the last reference to the dmaengine device does.
 */
void socemu_edma_destroy(struct socemu_edma *edma)
{
	dma_async_device_unregister(&edma->dma);
}
EXPORT_SYMBOL_GPL(socemu_edma_destroy);

MODULE_DESCRIPTION("DMA engine of the socemu rig's emulated PCIe endpoint controller");
MODULE_LICENSE("GPL");
