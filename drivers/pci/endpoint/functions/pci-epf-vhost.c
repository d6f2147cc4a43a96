// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci-epf-vhost: the device side of virtio over a PCI endpoint function.
 *
 * The function is a transport of the vhost bus. Binding a vhost client to
 * it through /sys/kernel/config/vhost creates the vhost device; the root
 * complex's virtio_pci_epf driver is the driver side. It finds the function
 * by its class code (VIRTIO_PCI_EPF_CLASS), whatever IDs the board gives
 * it, and the register block in the first BAR the controller leaves free
 * that can hold one (include/uapi/linux/virtio_pci_epf.h,
 * Documentation/PCI/endpoint/pci-vhost-function.rst): 4 KiB and an MSI-X
 * table where the BAR is programmable, a block of 256 bytes with room for
 * fewer queues and less config space where it is small and fixed.
 *
 * The register block is endpoint memory, and its protocol (commands,
 * epochs, notifications, the service thread that answers the root complex)
 * is vhost_regs', shared with the other transports that carry the block
 * (include/linux/vhost_regs.h). This file gives it what is PCI's: the BAR
 * the block is in, the doorbells, the interrupts, and the windows onto the
 * root complex's memory. Where the controller gives the function doorbells
 * (pci_epf_alloc_doorbell()), the root complex rings one after each
 * command and a queue's own after each kick of it (where there are enough;
 * queues share the last one otherwise); vhost_regs polls otherwise.
 *
 * The root complex's memory is reached through outbound windows mapped
 * with pci_epc_mem_map(), from process context. Real controllers have a
 * few windows of bounded size, so rings and buffers are kept apart: each
 * ring part is mapped when its queue is enabled and stays mapped until the
 * device is reset; buffers may lie anywhere and are copied through buffer
 * windows mapped on demand and kept while they are used, the least
 * recently used one being unmapped when the controller has no window left.
 * A stream whose buffers stay in a few windows maps nothing after its
 * first messages.
 *
 * Interrupts towards the root complex are MSI-X (one vector per queue and
 * one for config, as the driver programs them), else MSI or INTx with the
 * ISR words; they are raised from a work item because the endpoint core
 * may sleep, which also batches them.
 *
 * Locking: epfv->lock (a mutex) protects the doorbells' interrupts, which
 * are requested and freed under it while vhost_regs' service thread is
 * stopped; it is not held across calls into vhost_regs. epfv->map_lock (a mutex, a
 * leaf) protects the windows: it is held while one is mapped, looked up,
 * copied through or unmapped, so a window is never unmapped under a copy.
 * Ring windows are only unmapped while no queue runs. The pending
 * interrupt bits are atomic.
 */

#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci-ep-msi.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/sched/task_stack.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/vhost_bus.h>
#include <linux/vhost_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#define EPF_VHOST_MAX_WINDOWS	16
#define EPF_VHOST_DMA_TIMEOUT_MS	1000
#define EPF_VHOST_MAP_GRANULE	SZ_1M
#define EPF_VHOST_QUEUE_SIZE_MAX	1024
/* The header's IDs until configfs sets them: the function has none. */
#define EPF_VHOST_NO_ID		0xffff
/*
 * The registers, then the MSI-X table and PBA, in a programmable BAR or a
 * fixed one that holds both; a small fixed BAR holds a small register
 * block and no MSI-X table.
 */
#define EPF_VHOST_MSIX_OFFSET	VIRTIO_PCI_EPF_REGS_MAX
#define EPF_VHOST_NR_VECTORS		(VIRTIO_PCI_EPF_MAX_QUEUES + 1)
#define EPF_VHOST_BAR_SIZE		(2 * VIRTIO_PCI_EPF_REGS_MAX)
/* Queues of a small register block. */
#define EPF_VHOST_SMALL_QUEUES	8
/* Doorbells: the commands' and one per queue. */
#define EPF_VHOST_NR_DB		VHOST_REGS_NR_BITS

/*
 * One interrupt of the doorbells: @rings are the vhost_regs doorbell bits
 * it stands for (a queue's, VHOST_REGS_CMD), several where the controller
 * has fewer doorbells than asked for and they share one.
 */
struct epf_vhost_doorbell {
	struct pci_epf_vhost *epfv;
	int virq;
	char *name;
	unsigned long count;
	DECLARE_BITMAP(rings, VHOST_REGS_NR_BITS);
};

static bool use_dma = true;
module_param(use_dma, bool, 0444);
MODULE_PARM_DESC(use_dma, "copy buffers with the controller's DMA engine, if it has one (default true)");

static unsigned int dma_min_bytes = 256;
module_param(dma_min_bytes, uint, 0644);
MODULE_PARM_DESC(dma_min_bytes, "copies shorter than this go through a window, not the DMA engine (default 256)");

/* A window onto root complex memory, mapped with pci_epc_mem_map(). */
struct epf_vhost_window {
	struct pci_epc_map map;
	unsigned long last_use;		/* for least-recently-used eviction */
	bool mapped;
	bool ring;			/* holds a ring part: kept until reset */
};

/* A channel of the controller's DMA engine, for one direction. */
struct epf_vhost_dma {
	struct dma_chan *chan;
	struct mutex lock;		/* one transfer at a time */
	u64 bytes;
};

struct pci_epf_vhost {
	struct pci_epf *epf;
	const struct pci_epc_features *epc_features;
	enum pci_barno bar;		/* the register block's */
	struct vhost_regs regs;		/* the block and its device */
	/* The register block's layout, fixed at bind. */
	size_t bar_size;
	unsigned int regs_size;
	bool msix;			/* the BAR holds an MSI-X table */
	struct vhost_transport transport;

	struct mutex lock;		/* see the locking note */
	bool initialized;

	struct mutex map_lock;		/* the windows and their counters */
	struct epf_vhost_window win[EPF_VHOST_MAX_WINDOWS];
	unsigned long use_clock;
	unsigned int win_limit;		/* windows to keep at most, 0: unknown */
	unsigned long maps;
	unsigned long evictions;

	struct epf_vhost_dma dma[2];	/* from the RC, to the RC */
	struct dentry *dir;

	struct work_struct irq_work;
	unsigned long irq_pending[BITS_TO_LONGS(EPF_VHOST_NR_VECTORS)];

	/* Doorbells: epf->db_msg[0] for commands, [1 + q] for queue q. */
	struct epf_vhost_doorbell db[EPF_VHOST_NR_DB];
	unsigned int ndb;		/* interrupts requested */
};

static struct pci_epf_header epf_vhost_header = {
	.vendorid	= EPF_VHOST_NO_ID,
	.deviceid	= EPF_VHOST_NO_ID,
	.baseclass_code	= PCI_BASE_CLASS_COMMUNICATION,
	.subclass_code	= (VIRTIO_PCI_EPF_CLASS >> 8) & 0xff,
	.progif_code	= VIRTIO_PCI_EPF_CLASS & 0xff,
	.interrupt_pin	= PCI_INTERRUPT_INTA,
};

static struct pci_epf_vhost *to_epfv(struct vhost_regs *regs)
{
	return container_of(regs, struct pci_epf_vhost, regs);
}

/* Outbound windows */

/*
 * A window reaches all the controller mapped, [map_pci_addr, +map_size),
 * which may be more than was asked for.
 */
static bool epf_vhost_win_has(const struct epf_vhost_window *w, u64 addr)
{
	return w->mapped && addr >= w->map.map_pci_addr &&
	       addr - w->map.map_pci_addr < w->map.map_size;
}

/* The window holding @addr, or NULL. Called with map_lock held. */
static struct epf_vhost_window *epf_vhost_find(struct pci_epf_vhost *epfv,
					       u64 addr)
{
	unsigned int i;

	for (i = 0; i < EPF_VHOST_MAX_WINDOWS; i++)
		if (epf_vhost_win_has(&epfv->win[i], addr))
			return &epfv->win[i];
	return NULL;
}

static void epf_vhost_unmap_one(struct pci_epf_vhost *epfv,
				struct epf_vhost_window *w)
{
	struct pci_epf *epf = epfv->epf;

	pci_epc_mem_unmap(epf->epc, epf->func_no, epf->vfunc_no, &w->map);
	w->mapped = false;
	w->ring = false;
}

/*
 * Unmap the buffer window used least recently, to make room for another.
 * Ring windows stay. Called with map_lock held, so no copy is using it.
 */
static bool epf_vhost_evict(struct pci_epf_vhost *epfv)
{
	struct epf_vhost_window *victim = NULL;
	unsigned int i;

	for (i = 0; i < EPF_VHOST_MAX_WINDOWS; i++) {
		struct epf_vhost_window *w = &epfv->win[i];

		if (w->mapped && !w->ring &&
		    (!victim || w->last_use < victim->last_use))
			victim = w;
	}
	if (!victim)
		return false;
	epf_vhost_unmap_one(epfv, victim);
	epfv->evictions++;
	return true;
}

static unsigned int epf_vhost_mapped(struct pci_epf_vhost *epfv)
{
	unsigned int i, n = 0;

	for (i = 0; i < EPF_VHOST_MAX_WINDOWS; i++)
		n += epfv->win[i].mapped;
	return n;
}

/*
 * The controller ran out of windows with this many mapped, or needed one
 * for an interrupt: from now on, keep one fewer, so that interrupts and
 * other users of the controller find one free. Called with map_lock held.
 */
static void epf_vhost_learn_limit(struct pci_epf_vhost *epfv)
{
	unsigned int n = epf_vhost_mapped(epfv);

	if (n && (!epfv->win_limit || n < epfv->win_limit)) {
		epfv->win_limit = n;
		dev_info(&epfv->epf->dev, "the controller has room for %u windows of this function\n",
			 n);
	}
}

/*
 * Map a window that holds @addr, and all of [@addr, @addr + @len) if
 * @whole (a ring part). The controller decides how much it can map in one
 * window. When it or this function runs out of windows, buffer windows
 * are unmapped, least recently used first. Called with map_lock held.
 */
static struct epf_vhost_window *epf_vhost_map(struct pci_epf_vhost *epfv,
					      u64 addr, u64 len, bool whole)
{
	struct pci_epf *epf = epfv->epf;
	struct epf_vhost_window *w = NULL;
	u64 start = addr, size = len;
	unsigned int i;
	int ret;

	lockdep_assert_held(&epfv->map_lock);
	/*
	 * A window around the address, for its neighbours too: the other
	 * parts of a ring (virtio_ring allocates them together), the other
	 * rings, nearby buffers. Controllers with four windows (R-Car)
	 * could not hold a window per ring part. A ring part that straddles
	 * a boundary of that granule gets a window of its own extent.
	 */
	if (!whole || addr - round_down(addr, EPF_VHOST_MAP_GRANULE) + len <=
		      EPF_VHOST_MAP_GRANULE) {
		start = round_down(addr, EPF_VHOST_MAP_GRANULE);
		size = EPF_VHOST_MAP_GRANULE;
	}
	for (;;) {
		if (epfv->win_limit && epf_vhost_mapped(epfv) >= epfv->win_limit &&
		    epf_vhost_evict(epfv))
			continue;
		for (i = 0; !w && i < EPF_VHOST_MAX_WINDOWS; i++)
			if (!epfv->win[i].mapped)
				w = &epfv->win[i];
		if (!w) {
			if (!epf_vhost_evict(epfv))
				return ERR_PTR(-ENOSPC);
			continue;
		}
		ret = pci_epc_mem_map(epf->epc, epf->func_no, epf->vfunc_no,
				      start, size, &w->map);
		if (!ret)
			break;
		/* The controller is out of windows: give one back, keep fewer. */
		if (ret == -ENOMEM)
			epf_vhost_learn_limit(epfv);
		if (ret != -ENOMEM || !epf_vhost_evict(epfv)) {
			dev_err_ratelimited(&epf->dev, "cannot map PCI address %#llx: %d\n",
					    addr, ret);
			return ERR_PTR(ret);
		}
	}
	w->mapped = true;
	w->ring = whole;
	w->last_use = ++epfv->use_clock;
	epfv->maps++;
	if (!epf_vhost_win_has(w, addr) ||
	    (whole && !epf_vhost_win_has(w, addr + len - 1))) {
		dev_err(&epf->dev, "the controller maps [%#llx, +%#zx) for %#llx+%#llx\n",
			w->map.map_pci_addr, w->map.map_size, addr, len);
		epf_vhost_unmap_one(epfv, w);
		return ERR_PTR(-EFAULT);
	}
	return w;
}

/* Unmap every window: the queues are gone, nobody holds an address. */
static void epf_vhost_unmap_all(struct pci_epf_vhost *epfv)
{
	unsigned int i;

	mutex_lock(&epfv->map_lock);
	for (i = 0; i < EPF_VHOST_MAX_WINDOWS; i++)
		if (epfv->win[i].mapped)
			epf_vhost_unmap_one(epfv, &epfv->win[i]);
	if (epfv->maps)
		dev_dbg(&epfv->epf->dev, "windows: %lu mapped, %lu unmapped to make room\n",
			epfv->maps, epfv->evictions);
	mutex_unlock(&epfv->map_lock);
}

/*
 * Map a ring part, [@addr, @addr + @len), for as long as the queues
 * exist: one window holds it all.
 */
static int epf_vhost_map_ring_part(struct pci_epf_vhost *epfv, u64 addr,
				   u64 len, void __iomem **va, u64 *mapped_len)
{
	struct epf_vhost_window *w;
	u64 last, off;

	might_sleep();
	if (!len || check_add_overflow(addr, len - 1, &last))
		return -EINVAL;
	mutex_lock(&epfv->map_lock);
	w = epf_vhost_find(epfv, addr);
	if (!w || !epf_vhost_win_has(w, last))
		w = epf_vhost_map(epfv, addr, len, true);
	if (!IS_ERR(w)) {
		w->ring = true;
		off = addr - w->map.map_pci_addr;
		if (va)
			*va = w->map.virt_base + off;
		if (mapped_len)
			*mapped_len = min(len, w->map.map_size - off);
	}
	mutex_unlock(&epfv->map_lock);
	return PTR_ERR_OR_ZERO(w);
}

static int epf_vhost_map_ring(struct vhost_regs *regs, u64 addr, u64 len,
			      void __iomem **va, u64 *mapped_len)
{
	return epf_vhost_map_ring_part(to_epfv(regs), addr, len, va,
				       mapped_len);
}

/*
 * Copy between the root complex's memory at @addr and @buf, through
 * windows mapped on demand: one copy per byte, no mapping while the
 * windows in use hold the buffers.
 */
static int epf_vhost_copy(struct pci_epf_vhost *epfv, u64 addr, void *buf,
			  size_t len, bool to_rc)
{
	int ret = 0;
	u64 last;

	might_sleep();
	if (!len)
		return 0;
	if (check_add_overflow(addr, (u64)len - 1, &last))
		return -EFAULT;
	mutex_lock(&epfv->map_lock);
	while (len) {
		struct epf_vhost_window *w = epf_vhost_find(epfv, addr);
		size_t n;
		u64 off;

		if (!w) {
			w = epf_vhost_map(epfv, addr, len, false);
			if (IS_ERR(w)) {
				ret = -EFAULT;
				break;
			}
		}
		w->last_use = ++epfv->use_clock;
		off = addr - w->map.map_pci_addr;
		n = min_t(u64, len, w->map.map_size - off);
		if (to_rc)
			memcpy_toio(w->map.virt_base + off, buf, n);
		else
			memcpy_fromio(buf, w->map.virt_base + off, n);
		addr += n;
		buf += n;
		len -= n;
	}
	mutex_unlock(&epfv->map_lock);
	return ret;
}

/*
 * /sys/kernel/debug/pci_epf_vhost/<function>/windows: how the function
 * reached root complex memory, for tests and for tuning.
 */
static struct dentry *epf_vhost_debugfs;

static int epf_vhost_windows_show(struct seq_file *m, void *unused)
{
	struct pci_epf_vhost *epfv = m->private;
	unsigned int i, ring = 0, buf = 0;

	mutex_lock(&epfv->map_lock);
	for (i = 0; i < EPF_VHOST_MAX_WINDOWS; i++) {
		ring += epfv->win[i].mapped && epfv->win[i].ring;
		buf += epfv->win[i].mapped && !epfv->win[i].ring;
	}
	seq_printf(m, "ring windows: %u\nbuffer windows: %u\nmapped: %lu\nunmapped for room: %lu\n",
		   ring, buf, epfv->maps, epfv->evictions);
	mutex_unlock(&epfv->map_lock);
	for (i = 0; i < 2; i++) {
		mutex_lock(&epfv->dma[i].lock);
		seq_printf(m, "dma %s: %s %llu bytes\n", i ? "to rc" : "from rc",
			   epfv->dma[i].chan ? dma_chan_name(epfv->dma[i].chan) :
					       "none",
			   epfv->dma[i].bytes);
		mutex_unlock(&epfv->dma[i].lock);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(epf_vhost_windows);

/*
 * /sys/kernel/debug/pci_epf_vhost/<function>/doorbells: one line per
 * doorbell interrupt: its name, what it rings for and how often it rang.
 */
static int epf_vhost_doorbells_show(struct seq_file *m, void *unused)
{
	struct pci_epf_vhost *epfv = m->private;
	unsigned int i;

	mutex_lock(&epfv->lock);
	if (!epfv->regs.has_db)
		seq_puts(m, "none: polling\n");
	for (i = 0; i < epfv->ndb; i++)
		seq_printf(m, "%s: irq %d rings %*pbl rang %lu\n",
			   epfv->db[i].name, epfv->db[i].virq,
			   EPF_VHOST_NR_DB, epfv->db[i].rings,
			   READ_ONCE(epfv->db[i].count));
	mutex_unlock(&epfv->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(epf_vhost_doorbells);

/* DMA engine of the controller */

static void epf_vhost_dma_done(void *data)
{
	complete(data);
}

/*
 * Copy with the controller's DMA engine, which reaches root complex
 * addresses itself: no window. -EAGAIN if @buf cannot be mapped for DMA
 * (the caller copies through a window instead).
 */
static int epf_vhost_dma_copy(struct pci_epf_vhost *epfv,
			      struct epf_vhost_dma *dma, u64 addr, void *buf,
			      size_t len, bool to_rc)
{
	enum dma_data_direction map_dir = to_rc ? DMA_TO_DEVICE :
						  DMA_FROM_DEVICE;
	struct device *dev = dma->chan->device->dev;
	struct dma_slave_config cfg = {};
	struct dma_async_tx_descriptor *tx;
	DECLARE_COMPLETION_ONSTACK(done);
	dma_addr_t local;
	dma_cookie_t cookie;
	int ret = 0;

	if (!virt_addr_valid(buf) || !virt_addr_valid(buf + len - 1) ||
	    object_is_on_stack(buf))
		return -EAGAIN;
	local = dma_map_single(dev, buf, len, map_dir);
	if (dma_mapping_error(dev, local))
		return -EAGAIN;
	if (to_rc) {
		cfg.direction = DMA_MEM_TO_DEV;
		cfg.dst_addr = addr;
	} else {
		cfg.direction = DMA_DEV_TO_MEM;
		cfg.src_addr = addr;
	}
	mutex_lock(&dma->lock);
	if (dmaengine_slave_config(dma->chan, &cfg)) {
		ret = -EIO;
		goto unlock;
	}
	tx = dmaengine_prep_slave_single(dma->chan, local, len, cfg.direction,
					 DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx) {
		ret = -EIO;
		goto unlock;
	}
	tx->callback = epf_vhost_dma_done;
	tx->callback_param = &done;
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie)) {
		ret = -EIO;
		goto unlock;
	}
	dma_async_issue_pending(dma->chan);
	/* The engine is the link's: bounded, like every wait on the peer. */
	if (!wait_for_completion_timeout(&done,
					 msecs_to_jiffies(EPF_VHOST_DMA_TIMEOUT_MS))) {
		dmaengine_terminate_sync(dma->chan);
		dev_err_ratelimited(&epfv->epf->dev, "DMA of %zu bytes at %#llx: no completion in %d ms\n",
				    len, addr, EPF_VHOST_DMA_TIMEOUT_MS);
		ret = -EIO;
	} else if (dmaengine_tx_status(dma->chan, cookie, NULL) != DMA_COMPLETE) {
		dev_err_ratelimited(&epfv->epf->dev, "DMA of %zu bytes at %#llx failed\n",
				    len, addr);
		ret = -EIO;
	}
unlock:
	mutex_unlock(&dma->lock);
	dma_unmap_single(dev, local, len, map_dir);
	if (!ret)
		dma->bytes += len;
	return ret;
}

static int epf_vhost_xfer(struct pci_epf_vhost *epfv, u64 addr, void *buf,
			  size_t len, bool to_rc)
{
	struct epf_vhost_dma *dma = &epfv->dma[to_rc];
	int ret;

	if (dma->chan && len >= dma_min_bytes) {
		ret = epf_vhost_dma_copy(epfv, dma, addr, buf, len, to_rc);
		if (ret != -EAGAIN)
			return ret;
	}
	return epf_vhost_copy(epfv, addr, buf, len, to_rc);
}

static int epf_vhost_read(struct vhost_regs *regs, u64 addr, void *dst,
			  size_t len)
{
	return epf_vhost_xfer(to_epfv(regs), addr, dst, len, false);
}

static int epf_vhost_write(struct vhost_regs *regs, u64 addr,
			   const void *src, size_t len)
{
	return epf_vhost_xfer(to_epfv(regs), addr, (void *)src, len, true);
}

struct epf_vhost_dma_filter {
	struct device *dev;
	enum dma_transfer_direction dir;
};

/* A channel of the controller's own engine that moves data @dir. */
static bool epf_vhost_dma_filter(struct dma_chan *chan, void *data)
{
	struct epf_vhost_dma_filter *f = data;
	struct dma_slave_caps caps = {};

	return chan->device->dev == f->dev && !dma_get_slave_caps(chan, &caps) &&
	       (caps.directions & BIT(f->dir));
}

/* Channels to and from the root complex, if the controller has an engine. */
static void epf_vhost_get_dma(struct pci_epf_vhost *epfv)
{
	struct pci_epf *epf = epfv->epf;
	struct epf_vhost_dma_filter f = { .dev = epf->epc->dev.parent };
	dma_cap_mask_t mask;
	int i;

	if (!use_dma)
		return;
	dma_cap_zero(mask);
	dma_cap_set(DMA_SLAVE, mask);
	for (i = 0; i < 2; i++) {
		f.dir = i ? DMA_MEM_TO_DEV : DMA_DEV_TO_MEM;
		epfv->dma[i].chan = dma_request_channel(mask,
							epf_vhost_dma_filter,
							&f);
		epfv->dma[i].bytes = 0;
	}
	dev_info(&epf->dev, "DMA: %s from the root complex, %s to it\n",
		 epfv->dma[0].chan ? dma_chan_name(epfv->dma[0].chan) : "none",
		 epfv->dma[1].chan ? dma_chan_name(epfv->dma[1].chan) : "none");
}

static void epf_vhost_put_dma(struct pci_epf_vhost *epfv)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (!epfv->dma[i].chan)
			continue;
		dev_dbg(&epfv->epf->dev, "DMA channel %s moved %llu bytes\n",
			dma_chan_name(epfv->dma[i].chan), epfv->dma[i].bytes);
		dma_release_channel(epfv->dma[i].chan);
		epfv->dma[i].chan = NULL;
	}
}

/* Interrupts towards the root complex */

/*
 * Raise one interrupt. Controllers that send a message through an
 * outbound window (DesignWare's MSI) refuse it when the function holds
 * them all: give back a buffer window and try once more; if that was it,
 * keep one window fewer from now on.
 */
static void epf_vhost_raise_irq(struct pci_epf_vhost *epfv, unsigned int type,
				u16 num)
{
	struct pci_epf *epf = epfv->epf;
	bool evicted = false;
	int ret;

	ret = pci_epc_raise_irq(epf->epc, epf->func_no, epf->vfunc_no, type,
				num);
	if (ret && type != PCI_IRQ_INTX) {
		mutex_lock(&epfv->map_lock);
		evicted = epf_vhost_evict(epfv);
		mutex_unlock(&epfv->map_lock);
	}
	if (evicted) {
		ret = pci_epc_raise_irq(epf->epc, epf->func_no, epf->vfunc_no,
					type, num);
		if (!ret) {
			mutex_lock(&epfv->map_lock);
			epf_vhost_learn_limit(epfv);
			mutex_unlock(&epfv->map_lock);
		}
	}
	if (ret)
		dev_err_ratelimited(&epf->dev, "interrupt %u of type %u not raised: %d\n",
				    num, type, ret);
}

/*
 * Raise the interrupt of @bit (a queue, or VIRTIO_PCI_EPF_MAX_QUEUES for
 * the configuration): its MSI-X vector, or the one MSI or INTx, which
 * stands for every bit and is raised once for all (*@legacy_sent).
 */
static void epf_vhost_raise_bit(struct pci_epf_vhost *epfv, unsigned int bit,
				bool *legacy_sent)
{
	struct pci_epf *epf = epfv->epf;
	struct pci_epc *epc = epf->epc;
	bool msix = pci_epc_get_msix(epc, epf->func_no, epf->vfunc_no) > 0;
	bool msi = !msix &&
		   pci_epc_get_msi(epc, epf->func_no, epf->vfunc_no) > 0;
	u32 vector;

	vector = vhost_regs_vector(&epfv->regs, bit);
	if (msix && vector != VIRTIO_PCI_EPF_NO_VECTOR) {
		/* The endpoint core numbers vectors from 1. */
		if (vector < EPF_VHOST_NR_VECTORS)
			epf_vhost_raise_irq(epfv, PCI_IRQ_MSIX, vector + 1);
		else
			dev_err_ratelimited(&epf->dev,
					    "MSI-X vector %u out of range\n",
					    vector);
		return;
	}
	if (*legacy_sent)
		return;
	*legacy_sent = true;
	epf_vhost_raise_irq(epfv, msi ? PCI_IRQ_MSI : PCI_IRQ_INTX, 1);
}

static void epf_vhost_irq_work(struct work_struct *work)
{
	struct pci_epf_vhost *epfv = container_of(work, struct pci_epf_vhost,
						  irq_work);
	bool legacy_sent = false;
	unsigned int bit;

	for_each_set_bit(bit, epfv->irq_pending, EPF_VHOST_NR_VECTORS)
		if (test_and_clear_bit(bit, epfv->irq_pending))
			epf_vhost_raise_bit(epfv, bit, &legacy_sent);
}

/* vhost_regs set the ISR word: the endpoint core may sleep, so defer. */
static void epf_vhost_raise(struct vhost_regs *regs, unsigned int bit)
{
	struct pci_epf_vhost *epfv = to_epfv(regs);

	set_bit(bit, epfv->irq_pending);
	schedule_work(&epfv->irq_work);
}

/*
 * From a client's work: raised here, one hop less than through irq_work.
 * A raise of the same bit already pending there is taken over.
 */
static void epf_vhost_raise_cansleep(struct vhost_regs *regs,
				     unsigned int bit)
{
	struct pci_epf_vhost *epfv = to_epfv(regs);
	bool legacy_sent = false;

	clear_bit(bit, epfv->irq_pending);
	epf_vhost_raise_bit(epfv, bit, &legacy_sent);
}

/*
 * The device reaches the driver's memory through PCI bus addresses, which
 * an IOMMU or a DMA offset on the root complex may make different from its
 * physical addresses: the transport offers VIRTIO_F_ACCESS_PLATFORM itself,
 * so that the driver hands out DMA addresses. The device is another system
 * across a link, not a CPU of the driver's: VIRTIO_F_ORDER_PLATFORM makes
 * the driver order its ring accesses with barriers that hold for devices.
 * Clients never see the two bits.
 */
#define EPF_VHOST_TRANSPORT_FEATURES	(BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
					 BIT_ULL(VIRTIO_F_ORDER_PLATFORM))

static void epf_vhost_forget(struct vhost_regs *regs)
{
	epf_vhost_unmap_all(to_epfv(regs));
}

/* The doorbell of queue @q: its own if the controller gave enough. */
static const struct pci_epf_doorbell_msg *
epf_vhost_queue_db(struct pci_epf_vhost *epfv, unsigned int q)
{
	struct pci_epf *epf = epfv->epf;

	return &epf->db_msg[min(1 + q, epf->num_db - 1U)];
}

static void epf_vhost_queue_doorbell(struct vhost_regs *regs, unsigned int q,
				     u32 *offset, u32 *data)
{
	const struct pci_epf_doorbell_msg *db = epf_vhost_queue_db(to_epfv(regs), q);

	*offset = db->offset;
	*data = db->msg.data;
}

static const struct vhost_regs_ops epf_vhost_regs_ops = {
	.raise			= epf_vhost_raise,
	.raise_cansleep		= epf_vhost_raise_cansleep,
	.map_ring		= epf_vhost_map_ring,
	.read			= epf_vhost_read,
	.write			= epf_vhost_write,
	.forget			= epf_vhost_forget,
	.queue_doorbell		= epf_vhost_queue_doorbell,
};

/*
 * A doorbell's interrupt: the RC kicked a queue or posted a command, for
 * vhost_regs to pass on.
 */
static irqreturn_t epf_vhost_doorbell(int irq, void *data)
{
	struct epf_vhost_doorbell *db = data;
	unsigned int bit;

	db->count++;
	for_each_set_bit(bit, db->rings, VHOST_REGS_NR_BITS)
		vhost_regs_doorbell(&db->epfv->regs, bit);
	return IRQ_HANDLED;
}

static int epf_vhost_link_up(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);
	char name[TASK_COMM_LEN];

	snprintf(name, sizeof(name), "epfv-%s", dev_name(&epf->dev));
	return vhost_regs_start(&epfv->regs, name);
}

static int epf_vhost_link_down(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);

	vhost_regs_stop(&epfv->regs);
	cancel_work_sync(&epfv->irq_work);
	return 0;
}

static void epf_vhost_put_doorbell(struct pci_epf_vhost *epfv)
{
	struct pci_epf *epf = epfv->epf;
	unsigned int i;

	lockdep_assert_held(&epfv->lock);
	for (i = 0; i < epfv->ndb; i++) {
		free_irq(epfv->db[i].virq, &epfv->db[i]);
		kfree(epfv->db[i].name);
	}
	memset(epfv->db, 0, sizeof(epfv->db));
	epfv->ndb = 0;
	if (epf->db_msg)
		pci_epf_free_doorbell(epf);
	epfv->regs.has_db = false;
	epfv->regs.db_bar = VIRTIO_PCI_EPF_DB_NONE;
}

/*
 * Request the interrupt of doorbell @i, or add @i to the entry of another
 * doorbell that raises the same one.
 */
static int epf_vhost_request_doorbell(struct pci_epf_vhost *epfv,
				      unsigned int i)
{
	const struct pci_epf_doorbell_msg *msg = &epfv->epf->db_msg[i];
	struct epf_vhost_doorbell *db;
	unsigned int bit = i ? i - 1 : VHOST_REGS_CMD;
	unsigned int j;
	int ret;

	for (j = 0; j < epfv->ndb; j++) {
		if (epfv->db[j].virq == msg->virq) {
			set_bit(bit, epfv->db[j].rings);
			return 0;
		}
	}
	db = &epfv->db[epfv->ndb];
	db->epfv = epfv;
	db->virq = msg->virq;
	set_bit(bit, db->rings);
	db->name = i ? kasprintf(GFP_KERNEL, "%s q%u", dev_name(&epfv->epf->dev), i - 1) :
		       kasprintf(GFP_KERNEL, "%s cmd", dev_name(&epfv->epf->dev));
	if (!db->name)
		return -ENOMEM;
	ret = request_irq(db->virq, epf_vhost_doorbell, msg->irq_flags,
			  db->name, db);
	if (ret) {
		kfree(db->name);
		memset(db, 0, sizeof(*db));
		return ret;
	}
	epfv->ndb++;
	return 0;
}

/*
 * Doorbells if the controller has them, reached by the RC through a BAR
 * it set up: one for the commands and one per queue, as many as the
 * controller gives (those it has too few for share one); polling
 * otherwise. The NOTIFY words say which queues were kicked either way.
 */
static void epf_vhost_get_doorbell(struct pci_epf_vhost *epfv)
{
	struct pci_epf *epf = epfv->epf;
	struct pci_epf_doorbell_msg *db;
	unsigned int i;
	int ret;

	lockdep_assert_held(&epfv->lock);
	ret = pci_epf_alloc_doorbell(epf, 1 + epfv->regs.num_queues);
	if (ret) {
		dev_info(&epf->dev, "no doorbell (%d): polling\n", ret);
		return;
	}
	db = &epf->db_msg[0];
	for (i = 0; i < epf->num_db; i++) {
		if (epf->db_msg[i].bar == NO_BAR ||
		    epf->db_msg[i].bar == epfv->bar ||
		    epf->db_msg[i].bar != db->bar) {
			/* An MSI doorbell would need a BAR mapped onto it. */
			dev_info(&epf->dev, "doorbell %u is in no BAR of its own: polling\n",
				 i);
			pci_epf_free_doorbell(epf);
			return;
		}
	}
	for (i = 0; i < epf->num_db; i++) {
		ret = epf_vhost_request_doorbell(epfv, i);
		if (ret) {
			dev_err(&epf->dev, "doorbell interrupt %d: %d: polling\n",
				epf->db_msg[i].virq, ret);
			epf_vhost_put_doorbell(epfv);
			return;
		}
	}
	epfv->regs.db_bar = db->bar;
	epfv->regs.db_offset = db->offset;
	epfv->regs.db_data = db->msg.data;
	epfv->regs.has_db = true;
	dev_info(&epf->dev, "notified by %u doorbell%s for %u queues (BAR%d + %#llx)\n",
		 epfv->ndb, epfv->ndb == 1 ? "" : "s", epfv->regs.num_queues,
		 db->bar, (u64)db->offset);
}

static int epf_vhost_epc_init(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);
	struct pci_epc *epc = epf->epc;
	int ret;

	ret = pci_epc_write_header(epc, epf->func_no, epf->vfunc_no,
				   epf->header);
	if (ret)
		return ret;
	ret = pci_epc_set_bar(epc, epf->func_no, epf->vfunc_no,
			      &epf->bar[epfv->bar]);
	if (ret)
		return ret;
	if (epfv->epc_features->msi_capable) {
		ret = pci_epc_set_msi(epc, epf->func_no, epf->vfunc_no, 1);
		if (ret)
			return ret;
	}
	if (epfv->msix) {
		ret = pci_epc_set_msix(epc, epf->func_no, epf->vfunc_no,
				       EPF_VHOST_NR_VECTORS, epfv->bar,
				       EPF_VHOST_MSIX_OFFSET);
		if (ret)
			return ret;
	}
	mutex_lock(&epfv->lock);
	epf_vhost_get_doorbell(epfv);
	mutex_unlock(&epfv->lock);
	epfv->initialized = true;
	if (!epfv->epc_features->linkup_notifier)
		return epf_vhost_link_up(epf);
	return 0;
}

static void epf_vhost_epc_deinit(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);

	epf_vhost_link_down(epf);
	mutex_lock(&epfv->lock);
	epf_vhost_put_doorbell(epfv);
	mutex_unlock(&epfv->lock);
	if (epfv->initialized)
		pci_epc_clear_bar(epf->epc, epf->func_no, epf->vfunc_no,
				  &epf->bar[epfv->bar]);
	epfv->initialized = false;
}

static const struct pci_epc_event_ops epf_vhost_event_ops = {
	.epc_init	= epf_vhost_epc_init,
	.epc_deinit	= epf_vhost_epc_deinit,
	.link_up	= epf_vhost_link_up,
	.link_down	= epf_vhost_link_down,
};

/* vhost transport: one device per function */

static struct vhost_device *epf_vhost_add(struct vhost_transport *t,
					  const struct vhost_device_id *id,
					  const struct vhost_bind *bind)
{
	struct pci_epf_vhost *epfv = container_of(t, struct pci_epf_vhost,
						  transport);

	return vhost_regs_add_device(&epfv->regs, id, bind);
}

static void epf_vhost_del(struct vhost_transport *t, struct vhost_device *vdev)
{
	struct pci_epf_vhost *epfv = container_of(t, struct pci_epf_vhost,
						  transport);

	vhost_regs_del_device(&epfv->regs, vdev);
}

/*
 * The first BAR the controller leaves free that can hold the registers:
 * programmable, or fixed at VIRTIO_PCI_EPF_REGS_MIN bytes or more.
 */
static enum pci_barno epf_vhost_pick_bar(const struct pci_epc_features *f)
{
	enum pci_barno bar = pci_epc_get_first_free_bar(f);

	while (bar != NO_BAR) {
		if (f->bar[bar].type == BAR_PROGRAMMABLE ||
		    (f->bar[bar].type == BAR_FIXED &&
		     f->bar[bar].fixed_size >= VIRTIO_PCI_EPF_REGS_MIN))
			return bar;
		bar = pci_epc_get_next_free_bar(f, bar + 1);
	}
	return NO_BAR;
}

/*
 * Lay the register block out in the BAR picked: the header, the selected
 * queue, the NOTIFY words, then config space. A BAR that holds a full
 * block and an MSI-X table gets both; a small fixed one (R-Car's 256
 * bytes) a block of its size with EPF_VHOST_SMALL_QUEUES queues, the
 * config space that is left, and no MSI-X.
 */
static void epf_vhost_layout(struct pci_epf_vhost *epfv)
{
	const struct pci_epc_features *f = epfv->epc_features;
	const struct pci_epc_bar_desc *desc = &f->bar[epfv->bar];
	struct vhost_regs *regs = &epfv->regs;

	if (desc->type == BAR_FIXED && desc->fixed_size < EPF_VHOST_BAR_SIZE) {
		epfv->bar_size = desc->fixed_size;
		epfv->regs_size = min_t(u64, desc->fixed_size,
					VIRTIO_PCI_EPF_REGS_MAX);
	} else {
		epfv->bar_size = EPF_VHOST_BAR_SIZE;
		epfv->regs_size = VIRTIO_PCI_EPF_REGS_MAX;
	}
	epfv->msix = f->msix_capable && epfv->bar_size >= EPF_VHOST_BAR_SIZE;
	regs->num_queues = epfv->regs_size < VIRTIO_PCI_EPF_REGS_MAX ?
			   EPF_VHOST_SMALL_QUEUES : VIRTIO_PCI_EPF_MAX_QUEUES;
	regs->notify_off = VIRTIO_PCI_EPF_LAYOUT_END;
	regs->config_off = ALIGN(regs->notify_off + 4 * regs->num_queues, 16);
	regs->config_size = min_t(unsigned int,
				  epfv->regs_size - regs->config_off,
				  VIRTIO_PCI_EPF_CONFIG_MAX);
	regs->queue_size_max = EPF_VHOST_QUEUE_SIZE_MAX;
	regs->transport_features = EPF_VHOST_TRANSPORT_FEATURES;
	regs->ops = &epf_vhost_regs_ops;
	regs->dev = &epfv->epf->dev;
	regs->db_bar = VIRTIO_PCI_EPF_DB_NONE;
}

static int epf_vhost_bind(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);
	const struct pci_epc_features *features;
	int ret;

	if (epf->header->vendorid == EPF_VHOST_NO_ID ||
	    epf->header->deviceid == EPF_VHOST_NO_ID) {
		dev_err(&epf->dev, "set vendorid and deviceid in configfs first: this function has no PCI ID of its own\n");
		return -EINVAL;
	}
	features = pci_epc_get_features(epf->epc, epf->func_no, epf->vfunc_no);
	if (!features)
		return -EOPNOTSUPP;
	epfv->bar = epf_vhost_pick_bar(features);
	if (epfv->bar == NO_BAR) {
		dev_err(&epf->dev, "no free BAR of the controller can hold the %d bytes of the smallest register block\n",
			VIRTIO_PCI_EPF_REGS_MIN);
		return -EOPNOTSUPP;
	}
	epfv->epc_features = features;
	epf_vhost_layout(epfv);
	epfv->regs.base = pci_epf_alloc_space(epf, epfv->bar_size, epfv->bar,
					      features, PRIMARY_INTERFACE);
	if (!epfv->regs.base)
		return -ENOMEM;
	memset(epfv->regs.base, 0, epfv->bar_size);
	dev_info(&epf->dev, "registers in BAR%d: %u bytes, %u queues, %u bytes of config space%s\n",
		 epfv->bar, epfv->regs_size, epfv->regs.num_queues,
		 epfv->regs.config_size, epfv->msix ? ", MSI-X table" : "");
	ret = vhost_regs_init(&epfv->regs);
	if (ret)
		goto free;
	epf_vhost_get_dma(epfv);

	epfv->transport.name = dev_name(&epf->dev);
	ret = vhost_transport_register(&epfv->transport);
	if (ret) {
		epf_vhost_put_dma(epfv);
		goto free;
	}
	epfv->dir = debugfs_create_dir(dev_name(&epf->dev), epf_vhost_debugfs);
	debugfs_create_file("windows", 0400, epfv->dir, epfv,
			    &epf_vhost_windows_fops);
	debugfs_create_file("doorbells", 0400, epfv->dir, epfv,
			    &epf_vhost_doorbells_fops);
	/* Unloading would free the function under the controller. */
	__module_get(THIS_MODULE);
	return 0;

free:
	pci_epf_free_space(epf, epfv->regs.base, epfv->bar, PRIMARY_INTERFACE);
	epfv->regs.base = NULL;
	return ret;
}

static void epf_vhost_unbind(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);

	debugfs_remove(epfv->dir);
	epfv->dir = NULL;
	epf_vhost_link_down(epf);
	vhost_transport_unregister(&epfv->transport);
	cancel_work_sync(&epfv->irq_work);
	epf_vhost_put_dma(epfv);
	mutex_lock(&epfv->lock);
	epf_vhost_put_doorbell(epfv);
	mutex_unlock(&epfv->lock);
	if (epfv->initialized)
		pci_epc_clear_bar(epf->epc, epf->func_no, epf->vfunc_no,
				  &epf->bar[epfv->bar]);
	epfv->initialized = false;
	pci_epf_free_space(epf, epfv->regs.base, epfv->bar, PRIMARY_INTERFACE);
	epfv->regs.base = NULL;
	module_put(THIS_MODULE);
}

static int epf_vhost_probe(struct pci_epf *epf, const struct pci_epf_device_id *id)
{
	struct pci_epf_vhost *epfv;

	epfv = devm_kzalloc(&epf->dev, sizeof(*epfv), GFP_KERNEL);
	if (!epfv)
		return -ENOMEM;
	epfv->epf = epf;
	mutex_init(&epfv->lock);
	mutex_init(&epfv->map_lock);
	mutex_init(&epfv->dma[0].lock);
	mutex_init(&epfv->dma[1].lock);
	INIT_WORK(&epfv->irq_work, epf_vhost_irq_work);
	epfv->transport.add = epf_vhost_add;
	epfv->transport.del = epf_vhost_del;
	epf->header = devm_kmemdup(&epf->dev, &epf_vhost_header,
				   sizeof(epf_vhost_header), GFP_KERNEL);
	if (!epf->header)
		return -ENOMEM;
	epf->event_ops = &epf_vhost_event_ops;
	epf_set_drvdata(epf, epfv);
	return 0;
}

static const struct pci_epf_device_id epf_vhost_ids[] = {
	{ .name = "pci_epf_vhost" },
	{ }
};

static const struct pci_epf_ops epf_vhost_epf_ops = {
	.bind	= epf_vhost_bind,
	.unbind	= epf_vhost_unbind,
};

/*
 * The endpoint core has no way to take a function away from a controller
 * it is linked to when its driver goes: the function's state would be
 * freed under its service thread and the controller's callbacks. So the
 * driver cannot be unbound through sysfs, and its module stays loaded
 * while a function is bound (see epf_vhost_bind()): unlink the function
 * in configfs first.
 */
static struct pci_epf_driver epf_vhost_driver = {
	.driver.name	= "pci_epf_vhost",
	.driver.suppress_bind_attrs = true,
	.probe		= epf_vhost_probe,
	.id_table	= epf_vhost_ids,
	.ops		= &epf_vhost_epf_ops,
	.owner		= THIS_MODULE,
};

static int __init epf_vhost_init(void)
{
	int ret;

	epf_vhost_debugfs = debugfs_create_dir("pci_epf_vhost", NULL);
	ret = pci_epf_register_driver(&epf_vhost_driver);
	if (ret)
		debugfs_remove(epf_vhost_debugfs);
	return ret;
}
module_init(epf_vhost_init);

static void __exit epf_vhost_exit(void)
{
	pci_epf_unregister_driver(&epf_vhost_driver);
	debugfs_remove(epf_vhost_debugfs);
}
module_exit(epf_vhost_exit);

MODULE_DESCRIPTION("PCI endpoint function carrying a vhost device");
MODULE_LICENSE("GPL");
