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
 * The register block is endpoint memory: the root complex writes it across
 * the link, this side reads its own RAM. Commands (status, queue enable,
 * config writes) and queue notifications are picked up by a service thread.
 * Where the controller gives the function doorbells
 * (pci_epf_alloc_doorbell()), the root complex rings one after each
 * command and a queue's own after each kick of it (where there are enough;
 * queues share the last one otherwise), and the thread sleeps until then
 * and then looks at the queues that were rung. Otherwise the thread polls,
 * adaptively: every EPF_VHOST_POLL_MIN_US while there is work, backing off
 * to EPF_VHOST_POLL_MAX_US when there is none, so an idle function costs
 * little and a busy one is served within the minimum interval.
 *
 * The driver side announces each start with a new epoch (after its probe,
 * after a reboot of the root complex): the thread sees it on its next look,
 * forgets what an earlier driver set up, and acknowledges it before the
 * driver posts a command. So a reboot of the root complex is noticed within
 * EPF_VHOST_DB_SAFETY_MS or EPF_VHOST_POLL_MAX_US even on controllers that
 * report no link events, and no command is posted to a device that is not
 * listening.
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
 * Every value the root complex wrote is untrusted: queue sizes and ring
 * addresses are checked when a queue is enabled and copied, so later
 * writes change nothing; a malformed command fails the device (it sets
 * DEVICE_NEEDS_RESET and tells the driver) and is logged.
 *
 * Locking: epfv->lock (a mutex) protects the device pointer, the link
 * state, the epochs and the service thread; it is taken by the vhost
 * transport callbacks add() and del(), by the endpoint events, and around
 * each pass of the service thread, so a device cannot go while a command
 * runs. It nests outside the vhost core's locks. epfv->map_lock (a mutex,
 * a leaf) protects the windows: it is held while one is mapped, looked up,
 * copied through or unmapped, so a window is never unmapped under a copy.
 * Ring windows are only unmapped while no queue runs. Queue snapshots are
 * written by the service thread before DRIVER_OK and only read after it.
 * The pending interrupt bits and the doorbells' rung bits are atomic; the
 * doorbells' interrupts are requested and freed under epfv->lock, while
 * the service thread is stopped. epfv->kick_dev is the device under RCU,
 * for the doorbells' handlers: set once the device is added, cleared and
 * waited for (synchronize_rcu()) before it is unregistered.
 */

#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/kthread.h>
#include <linux/log2.h>
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
#include <linux/virtio_config.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#define EPF_VHOST_MAX_WINDOWS	16
#define EPF_VHOST_DMA_TIMEOUT_MS	1000
#define EPF_VHOST_MAP_GRANULE	SZ_1M
#define EPF_VHOST_QUEUE_SIZE_MAX	1024
#define EPF_VHOST_POLL_MIN_US	50
#define EPF_VHOST_POLL_MAX_US	20000
/* With a doorbell: a look anyway, in case a doorbell was lost. */
#define EPF_VHOST_DB_SAFETY_MS	1000
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
/* Bit of the command doorbell in epfv->rung (after the queues'). */
#define EPF_VHOST_DB_CMD		VIRTIO_PCI_EPF_MAX_QUEUES
#define EPF_VHOST_NR_DB		(VIRTIO_PCI_EPF_MAX_QUEUES + 1)

struct epf_vhost_queue {
	struct vhost_vq_config cfg;
	bool enabled;
};

/*
 * One interrupt of the doorbells: @rings are the bits of epfv->rung it
 * stands for (a queue's, EPF_VHOST_DB_CMD), several where the controller
 * has fewer doorbells than asked for and they share one.
 */
struct epf_vhost_doorbell {
	struct pci_epf_vhost *epfv;
	int virq;
	char *name;
	unsigned long count;
	DECLARE_BITMAP(rings, EPF_VHOST_NR_DB);
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

struct epf_vhost_device {
	struct vhost_device vdev;
	struct pci_epf_vhost *epfv;
	u8 driver_status;
	struct epf_vhost_queue q[VIRTIO_PCI_EPF_MAX_QUEUES];
};

struct pci_epf_vhost {
	struct pci_epf *epf;
	const struct pci_epc_features *epc_features;
	enum pci_barno bar;		/* the register block's */
	void *reg;
	/* The register block's layout, fixed at bind. */
	size_t bar_size;
	unsigned int regs_size;
	unsigned int num_queues;
	unsigned int notify_off;
	unsigned int config_off;
	unsigned int config_size;
	bool msix;			/* the BAR holds an MSI-X table */
	u32 sel;			/* queue selected, or U32_MAX */
	struct vhost_transport transport;

	struct mutex lock;		/* see the locking note */
	struct epf_vhost_device *dev;
	struct epf_vhost_device __rcu *kick_dev;	/* RCU, for doorbells */
	struct task_struct *thread;
	bool link_up;
	bool initialized;
	u32 cmd_done;
	u32 driver_epoch;		/* acknowledged, 0 before any */
	u32 device_epoch;

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
	/* MSI-X entry of each queue, as the driver set it when enabling it. */
	u32 queue_vector[VIRTIO_PCI_EPF_MAX_QUEUES];

	/* Doorbells: epf->db_msg[0] for commands, [1 + q] for queue q. */
	struct epf_vhost_doorbell db[EPF_VHOST_NR_DB];
	unsigned int ndb;		/* interrupts requested */
	bool has_db;
	DECLARE_BITMAP(rung, EPF_VHOST_NR_DB);
	wait_queue_head_t wq;
};

static struct pci_epf_header epf_vhost_header = {
	.vendorid	= EPF_VHOST_NO_ID,
	.deviceid	= EPF_VHOST_NO_ID,
	.baseclass_code	= PCI_BASE_CLASS_COMMUNICATION,
	.subclass_code	= (VIRTIO_PCI_EPF_CLASS >> 8) & 0xff,
	.progif_code	= VIRTIO_PCI_EPF_CLASS & 0xff,
	.interrupt_pin	= PCI_INTERRUPT_INTA,
};

static u32 epf_vhost_rd(struct pci_epf_vhost *epfv, unsigned int off)
{
	return le32_to_cpu(READ_ONCE(*(__le32 *)(epfv->reg + off)));
}

static void epf_vhost_wr(struct pci_epf_vhost *epfv, unsigned int off, u32 val)
{
	WRITE_ONCE(*(__le32 *)(epfv->reg + off), cpu_to_le32(val));
}

static u64 epf_vhost_rd64(struct pci_epf_vhost *epfv, unsigned int off)
{
	return (u64)epf_vhost_rd(epfv, off + 4) << 32 | epf_vhost_rd(epfv, off);
}

static void epf_vhost_wr64(struct pci_epf_vhost *epfv, unsigned int off, u64 val)
{
	epf_vhost_wr(epfv, off, lower_32_bits(val));
	epf_vhost_wr(epfv, off + 4, upper_32_bits(val));
}

static struct epf_vhost_device *to_epf_vhost_device(struct vhost_device *vdev)
{
	return container_of(vdev, struct epf_vhost_device, vdev);
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

static int epf_vhost_map_ring(struct vhost_device *vdev, u64 addr, u64 len,
			      void __iomem **va, u64 *mapped_len)
{
	return epf_vhost_map_ring_part(to_epf_vhost_device(vdev)->epfv, addr,
				       len, va, mapped_len);
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
	if (!epfv->has_db)
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

static int epf_vhost_read(struct vhost_device *vdev, u64 addr, void *dst,
			  size_t len)
{
	return epf_vhost_xfer(to_epf_vhost_device(vdev)->epfv, addr, dst, len,
			      false);
}

static int epf_vhost_write(struct vhost_device *vdev, u64 addr,
			   const void *src, size_t len)
{
	return epf_vhost_xfer(to_epf_vhost_device(vdev)->epfv, addr,
			      (void *)src, len, true);
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

	if (bit == VIRTIO_PCI_EPF_MAX_QUEUES)
		vector = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CONFIG_VECTOR);
	else
		vector = READ_ONCE(epfv->queue_vector[bit]);
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

static void epf_vhost_raise(struct pci_epf_vhost *epfv, unsigned int bit,
			    unsigned int isr)
{
	epf_vhost_wr(epfv, isr, 1);
	set_bit(bit, epfv->irq_pending);
	schedule_work(&epfv->irq_work);
}

/* vhost transport operations */

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

static u64 epf_vhost_get_driver_features(struct vhost_device *vdev)
{
	return epf_vhost_rd64(to_epf_vhost_device(vdev)->epfv,
			 VIRTIO_PCI_EPF_DRIVER_FEATURES) &
	       ~EPF_VHOST_TRANSPORT_FEATURES;
}

static void epf_vhost_set_device_features(struct vhost_device *vdev, u64 features)
{
	epf_vhost_wr64(to_epf_vhost_device(vdev)->epfv, VIRTIO_PCI_EPF_DEVICE_FEATURES,
		       features | EPF_VHOST_TRANSPORT_FEATURES);
}

static u8 epf_vhost_get_status(struct vhost_device *vdev)
{
	return READ_ONCE(to_epf_vhost_device(vdev)->driver_status);
}

static void epf_vhost_set_status(struct vhost_device *vdev, u8 status)
{
	epf_vhost_wr(to_epf_vhost_device(vdev)->epfv, VIRTIO_PCI_EPF_STATUS, status);
}

static void epf_vhost_set_config(struct vhost_device *vdev, unsigned int offset,
				 const void *buf, unsigned int len, u32 generation)
{
	struct pci_epf_vhost *epfv = to_epf_vhost_device(vdev)->epfv;

	/*
	 * Odd while the bytes change, then even and new: a driver never takes
	 * a read that overlapped the update for a good one. The core checked
	 * the range against epfv->config_size.
	 */
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CONFIG_GEN, generation << 1 | 1);
	wmb();	/* odd before the bytes */
	memcpy(epfv->reg + epfv->config_off + offset, buf, len);
	wmb();	/* the bytes before the generation that covers them */
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CONFIG_GEN, generation << 1);
}

static void epf_vhost_notify_config(struct vhost_device *vdev)
{
	epf_vhost_raise(to_epf_vhost_device(vdev)->epfv, VIRTIO_PCI_EPF_MAX_QUEUES,
			VIRTIO_PCI_EPF_ISR_CONFIG);
}

static int epf_vhost_get_vq(struct vhost_device *vdev, unsigned int index,
			    struct vhost_vq_config *cfg)
{
	struct epf_vhost_device *d = to_epf_vhost_device(vdev);

	if (index >= d->epfv->num_queues || !d->q[index].enabled)
		return -EINVAL;
	*cfg = d->q[index].cfg;
	return 0;
}

static void epf_vhost_notify_vq(struct vhost_device *vdev, unsigned int index)
{
	if (index < to_epf_vhost_device(vdev)->epfv->num_queues)
		epf_vhost_raise(to_epf_vhost_device(vdev)->epfv, index,
				VIRTIO_PCI_EPF_ISR_QUEUE);
}

/*
 * From a client's work: raised here, one hop less than through irq_work.
 * A raise of the same bit already pending there is taken over.
 */
static void epf_vhost_notify_vq_cansleep(struct vhost_device *vdev,
					 unsigned int index)
{
	struct pci_epf_vhost *epfv = to_epf_vhost_device(vdev)->epfv;
	bool legacy_sent = false;

	if (index >= epfv->num_queues)
		return;
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_ISR_QUEUE, 1);
	clear_bit(index, epfv->irq_pending);
	epf_vhost_raise_bit(epfv, index, &legacy_sent);
}

static const struct vhost_transport_ops epf_vhost_ops = {
	.get_driver_features	= epf_vhost_get_driver_features,
	.set_device_features	= epf_vhost_set_device_features,
	.get_status		= epf_vhost_get_status,
	.set_status		= epf_vhost_set_status,
	.set_config		= epf_vhost_set_config,
	.notify_config		= epf_vhost_notify_config,
	.get_vq			= epf_vhost_get_vq,
	.map_ring		= epf_vhost_map_ring,
	.read			= epf_vhost_read,
	.write			= epf_vhost_write,
	.notify_vq		= epf_vhost_notify_vq,
	.notify_vq_cansleep	= epf_vhost_notify_vq_cansleep,
};

/* Commands of the driver side, run by the service thread */

/* Forget every queue and window: after a reset, a failure or link down. */
static void epf_vhost_forget_queues(struct pci_epf_vhost *epfv,
				    struct epf_vhost_device *d)
{
	unsigned int q;

	for (q = 0; q < VIRTIO_PCI_EPF_MAX_QUEUES; q++) {
		d->q[q].enabled = false;
		WRITE_ONCE(epfv->queue_vector[q], VIRTIO_PCI_EPF_NO_VECTOR);
	}
	epfv->sel = U32_MAX;
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_QUEUE_SEL + VIRTIO_PCI_EPF_Q_ENABLED, 0);
	epf_vhost_unmap_all(epfv);
}

static int epf_vhost_set_status_cmd(struct pci_epf_vhost *epfv,
				    struct epf_vhost_device *d, u32 status)
{
	if (status > U8_MAX)
		return -EINVAL;
	WRITE_ONCE(d->driver_status, status);
	vhost_device_status_changed(&d->vdev);
	if (!vhost_get_status(&d->vdev))
		epf_vhost_forget_queues(epfv, d);
	return 0;
}

static int epf_vhost_check_ring(struct pci_epf_vhost *epfv, unsigned int q,
				const char *what, u64 addr, u64 len, u64 align)
{
	int ret;

	if (!IS_ALIGNED(addr, align)) {
		dev_err(&epfv->epf->dev, "queue %u: %s at %#llx is not %llu-byte aligned\n",
			q, what, addr, align);
		return -EINVAL;
	}
	ret = epf_vhost_map_ring_part(epfv, addr, len, NULL, NULL);
	if (ret) {
		dev_err(&epfv->epf->dev, "queue %u: %s at %#llx+%#llx is out of reach\n",
			q, what, addr, len);
		return -EINVAL;
	}
	return 0;
}

static int epf_vhost_queue_enable(struct pci_epf_vhost *epfv,
				  struct epf_vhost_device *d, u32 q)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	struct vhost_vq_config cfg;
	u8 status = vhost_get_status(&d->vdev);
	int ret;

	if (q >= epfv->num_queues) {
		dev_err(&epfv->epf->dev, "QUEUE_ENABLE: no queue %u\n", q);
		return -EINVAL;
	}
	if (q != epfv->sel) {
		dev_err(&epfv->epf->dev, "QUEUE_ENABLE %u: queue %u is selected\n",
			q, epfv->sel);
		return -EINVAL;
	}
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (status & VIRTIO_CONFIG_S_DRIVER_OK) || d->q[q].enabled) {
		dev_err(&epfv->epf->dev, "QUEUE_ENABLE %u: not allowed at status %#x\n",
			q, status);
		return -EINVAL;
	}
	cfg.num = epf_vhost_rd(epfv, base + VIRTIO_PCI_EPF_Q_SIZE);
	cfg.desc = epf_vhost_rd64(epfv, base + VIRTIO_PCI_EPF_Q_DESC);
	cfg.avail = epf_vhost_rd64(epfv, base + VIRTIO_PCI_EPF_Q_DRIVER);
	cfg.used = epf_vhost_rd64(epfv, base + VIRTIO_PCI_EPF_Q_DEVICE);
	if (!cfg.num || cfg.num > EPF_VHOST_QUEUE_SIZE_MAX ||
	    !is_power_of_2(cfg.num)) {
		dev_err(&epfv->epf->dev, "queue %u: size %u is not a power of two up to %u\n",
			q, cfg.num, EPF_VHOST_QUEUE_SIZE_MAX);
		return -EINVAL;
	}
	ret = epf_vhost_check_ring(epfv, q, "descriptor table", cfg.desc,
				   16ULL * cfg.num, 16) ?:
	      epf_vhost_check_ring(epfv, q, "driver ring", cfg.avail,
				   6 + 2ULL * cfg.num, 2) ?:
	      epf_vhost_check_ring(epfv, q, "device ring", cfg.used,
				   6 + 8ULL * cfg.num, 4);
	if (ret)
		return ret;
	d->q[q].cfg = cfg;
	d->q[q].enabled = true;
	WRITE_ONCE(epfv->queue_vector[q],
		   epf_vhost_rd(epfv, base + VIRTIO_PCI_EPF_Q_VECTOR));
	epf_vhost_wr(epfv, base + VIRTIO_PCI_EPF_Q_ENABLED, 1);
	return 0;
}

/* The doorbell of queue @q: its own if the controller gave enough. */
static const struct pci_epf_doorbell_msg *
epf_vhost_queue_db(struct pci_epf_vhost *epfv, unsigned int q)
{
	struct pci_epf *epf = epfv->epf;

	return &epf->db_msg[min(1 + q, epf->num_db - 1U)];
}

/* Show the device's fields of queue @q in the selected-queue block. */
static int epf_vhost_queue_select(struct pci_epf_vhost *epfv,
				  struct epf_vhost_device *d, u32 q)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	const struct pci_epf_doorbell_msg *db;

	if (q >= epfv->num_queues) {
		dev_err(&epfv->epf->dev, "QUEUE_SELECT: no queue %u\n", q);
		return -EINVAL;
	}
	epfv->sel = q;
	epf_vhost_wr(epfv, base + VIRTIO_PCI_EPF_Q_SIZE_MAX,
		     EPF_VHOST_QUEUE_SIZE_MAX);
	epf_vhost_wr(epfv, base + VIRTIO_PCI_EPF_Q_ENABLED, d->q[q].enabled);
	if (epfv->has_db) {
		db = epf_vhost_queue_db(epfv, q);
		epf_vhost_wr(epfv, base + VIRTIO_PCI_EPF_Q_DB_OFFSET, db->offset);
		epf_vhost_wr(epfv, base + VIRTIO_PCI_EPF_Q_DB_DATA, db->msg.data);
	}
	return 0;
}

static int epf_vhost_config_write(struct pci_epf_vhost *epfv,
				  struct epf_vhost_device *d, u32 arg0, u32 value)
{
	unsigned int offset = arg0 & 0xffff, len = arg0 >> 16;
	__le32 v = cpu_to_le32(value);
	int ret;

	if ((len != 1 && len != 2 && len != 4) ||
	    offset + len > epfv->config_size) {
		dev_err(&epfv->epf->dev, "CONFIG_WRITE: %u bytes at %u are outside config space\n",
			len, offset);
		return -EINVAL;
	}
	/* The core decides, and publishes it through set_config. */
	ret = vhost_device_config_write(&d->vdev, offset, &v, len);
	if (ret == -EPERM)
		dev_info_ratelimited(&epfv->epf->dev, "CONFIG_WRITE: %u bytes at %u are read-only\n",
				     len, offset);
	return ret;
}

static void epf_vhost_run_command(struct pci_epf_vhost *epfv, u32 seq)
{
	struct epf_vhost_device *d = epfv->dev;
	const char *malformed = "malformed command";
	u32 cmd, arg0, arg1;
	int ret;

	rmb();	/* the arguments were written before the sequence number */
	cmd = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD);
	arg0 = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD_ARG0);
	arg1 = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD_ARG1);

	if (!d) {
		ret = -ENODEV;
	} else {
		switch (cmd) {
		case VIRTIO_PCI_EPF_CMD_SET_STATUS:
			ret = epf_vhost_set_status_cmd(epfv, d, arg0);
			break;
		case VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE:
			ret = epf_vhost_queue_enable(epfv, d, arg0);
			malformed = "malformed queue setup";
			break;
		case VIRTIO_PCI_EPF_CMD_CONFIG_WRITE:
			ret = epf_vhost_config_write(epfv, d, arg0, arg1);
			break;
		case VIRTIO_PCI_EPF_CMD_QUEUE_SELECT:
			ret = epf_vhost_queue_select(epfv, d, arg0);
			break;
		default:
			dev_err(&epfv->epf->dev, "unknown command %u\n", cmd);
			ret = -EINVAL;
		}
		/* Every refusal of a command's values fails the device. */
		if (ret == -EINVAL)
			vhost_device_fail(&d->vdev, malformed);
	}
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CMD_RESULT, -ret);
	wmb();	/* the result before the answer */
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CMD_DONE, seq);
	epfv->cmd_done = seq;
}

static void epf_vhost_driver_gone(struct pci_epf_vhost *epfv);

/*
 * A driver announced itself with a new epoch: whatever an earlier one set
 * up is gone (it may have been a root complex that rebooted without a link
 * event), and commands are answered from the current sequence number on.
 */
static void epf_vhost_new_driver(struct pci_epf_vhost *epfv, u32 epoch)
{
	dev_info(&epfv->epf->dev, "driver side started (epoch %#x)\n", epoch);
	epf_vhost_driver_gone(epfv);
	epfv->driver_epoch = epoch;
	epfv->cmd_done = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD_SEQ);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CMD_DONE, epfv->cmd_done);
	wmb();	/* the sequence number before the acknowledgment */
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_EPOCH_ACK, epoch);
}

/*
 * If queue @q's NOTIFY word is set, clear it and pass the kick on to the
 * client; true if it was set. Any context: the service thread and the
 * doorbells' handlers both call it.
 */
static bool epf_vhost_take_kick(struct pci_epf_vhost *epfv,
				struct epf_vhost_device *d, unsigned int q)
{
	unsigned int off = epfv->notify_off + 4 * q;

	if (!epf_vhost_rd(epfv, off))
		return false;
	/* Clear first: a notification after this is seen next time. */
	epf_vhost_wr(epfv, off, 0);
	/* The clear lands before the client looks at the ring. */
	mb();
	vhost_vq_kicked(&d->vdev, q);
	return true;
}

/*
 * One pass over the register block; true if there was anything to do.
 * The queues looked at are those whose doorbell rang, in @rung, or all of
 * them if @rung is NULL (polling, or the look now and then in case a
 * doorbell was lost).
 */
static bool epf_vhost_service(struct pci_epf_vhost *epfv,
			      const unsigned long *rung)
{
	struct epf_vhost_device *d;
	bool busy = false;
	u32 seq, epoch;
	unsigned int q;

	mutex_lock(&epfv->lock);
	epoch = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_DRIVER_EPOCH);
	if (epoch != epfv->driver_epoch) {
		if (epoch) {
			rmb();	/* the epoch before anything the driver wrote after it */
			epf_vhost_new_driver(epfv, epoch);
		}
		busy = true;
	}
	/* Nothing is answered before a driver announced itself. */
	if (!epfv->driver_epoch) {
		mutex_unlock(&epfv->lock);
		return busy;
	}
	seq = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD_SEQ);
	if (seq != epfv->cmd_done) {
		if (seq != epfv->cmd_done + 1)
			dev_warn_ratelimited(&epfv->epf->dev, "command %u follows %u: commands lost\n",
					     seq, epfv->cmd_done);
		epf_vhost_run_command(epfv, seq);
		busy = true;
	}
	d = epfv->dev;
	for (q = 0; d && q < epfv->num_queues; q++)
		if ((!rung || test_bit(q, rung)) && epf_vhost_take_kick(epfv, d, q))
			busy = true;
	mutex_unlock(&epfv->lock);
	return busy;
}

/*
 * A queue's doorbell rang: pass the kick on from here, the way the
 * service thread would, one scheduling hop sooner. False if there is no
 * device: the thread looks then.
 */
static bool epf_vhost_doorbell_kick(struct pci_epf_vhost *epfv,
				    unsigned int q)
{
	struct epf_vhost_device *d = rcu_dereference(epfv->kick_dev);

	if (!d || q >= epfv->num_queues)
		return false;
	/* Nothing there: taken by the thread's look meanwhile. */
	epf_vhost_take_kick(epfv, d, q);
	return true;
}

/*
 * A doorbell's interrupt: the RC kicked a queue, passed on from here, or
 * posted a command, for the service thread.
 */
static irqreturn_t epf_vhost_doorbell(int irq, void *data)
{
	struct epf_vhost_doorbell *db = data;
	struct pci_epf_vhost *epfv = db->epfv;
	bool wake = false;
	unsigned int bit;

	db->count++;
	rcu_read_lock();
	for_each_set_bit(bit, db->rings, EPF_VHOST_NR_DB) {
		if (bit != EPF_VHOST_DB_CMD &&
		    epf_vhost_doorbell_kick(epfv, bit))
			continue;
		set_bit(bit, epfv->rung);
		wake = true;
	}
	rcu_read_unlock();
	if (wake)
		wake_up(&epfv->wq);
	return IRQ_HANDLED;
}

/*
 * With a doorbell, sleep until it rings (looking anyway now and then);
 * without, poll adaptively: soon after work, less and less often without.
 */
static int epf_vhost_thread(void *data)
{
	struct pci_epf_vhost *epfv = data;
	unsigned long interval = EPF_VHOST_POLL_MIN_US;
	DECLARE_BITMAP(rung, EPF_VHOST_NR_DB);
	bool all = true, busy;
	unsigned int bit;

	while (!kthread_should_stop()) {
		if (!epfv->has_db) {
			busy = epf_vhost_service(epfv, NULL);
			if (busy)
				interval = EPF_VHOST_POLL_MIN_US;
			else
				interval = min(interval * 2, EPF_VHOST_POLL_MAX_US);
			usleep_range(interval, interval + interval / 4);
			continue;
		}
		bitmap_zero(rung, EPF_VHOST_NR_DB);
		for (bit = 0; bit < EPF_VHOST_NR_DB; bit++)
			if (test_and_clear_bit(bit, epfv->rung))
				__set_bit(bit, rung);
		/* The commands' doorbell stands for every queue too. */
		busy = epf_vhost_service(epfv, all ||
					 test_bit(EPF_VHOST_DB_CMD, rung) ?
					 NULL : rung);
		all = false;
		if (busy) {
			cond_resched();
			continue;
		}
		/* Every queue, now and then, in case a doorbell was lost. */
		all = !wait_event_timeout(epfv->wq,
					  !bitmap_empty(epfv->rung, EPF_VHOST_NR_DB) ||
					  kthread_should_stop(),
					  msecs_to_jiffies(EPF_VHOST_DB_SAFETY_MS));
	}
	return 0;
}

/* The register block as a driver finds it after a link up. */
static void epf_vhost_init_registers(struct pci_epf_vhost *epfv)
{
	const struct pci_epf_doorbell_msg *db;
	struct epf_vhost_device *d = epfv->dev;
	struct pci_epf *epf = epfv->epf;
	unsigned int q;

	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_MAGIC_OFF, VIRTIO_PCI_EPF_MAGIC);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_VERSION_OFF, VIRTIO_PCI_EPF_VERSION);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DEVICE_ID, d ? d->vdev.id.device : 0);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_VENDOR_ID, d ? d->vdev.id.vendor : 0);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_NUM_QUEUES, epfv->num_queues);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CONFIG_SIZE, epfv->config_size);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_NOTIFY_OFF, epfv->notify_off);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CONFIG_OFF, epfv->config_off);
	if (epfv->has_db) {
		db = &epf->db_msg[0];
		epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DB_OFFSET, db->offset);
		epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DB_DATA, db->msg.data);
		epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DB_BAR, db->bar);
	} else {
		epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DB_BAR, VIRTIO_PCI_EPF_DB_NONE);
	}
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_ISR_QUEUE, 0);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
	for (q = 0; q < epfv->num_queues; q++)
		epf_vhost_wr(epfv, epfv->notify_off + 4 * q, 0);
	/*
	 * A driver that was there before gets no answer until it announces
	 * itself again; one that announces itself from now on is answered.
	 */
	epfv->driver_epoch = 0;
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_EPOCH_ACK, 0);
	epfv->cmd_done = epf_vhost_rd(epfv, VIRTIO_PCI_EPF_CMD_SEQ);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_CMD_DONE, epfv->cmd_done);
	wmb();	/* the register block before the epoch that announces it */
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DEVICE_EPOCH, ++epfv->device_epoch);
}

/*
 * The driver side went away: what it set up is gone with it, as if it had
 * reset the device. Windows exist only while a device does.
 */
static void epf_vhost_driver_gone(struct pci_epf_vhost *epfv)
{
	if (epfv->dev)
		epf_vhost_set_status_cmd(epfv, epfv->dev, 0);
}

static void epf_vhost_stop_thread(struct pci_epf_vhost *epfv)
{
	struct task_struct *thread;

	mutex_lock(&epfv->lock);
	thread = epfv->thread;
	epfv->thread = NULL;
	epfv->link_up = false;
	mutex_unlock(&epfv->lock);
	if (thread)
		kthread_stop(thread);
}

static int epf_vhost_link_up(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);
	struct task_struct *thread;

	epf_vhost_stop_thread(epfv);
	mutex_lock(&epfv->lock);
	epf_vhost_driver_gone(epfv);
	epf_vhost_init_registers(epfv);
	thread = kthread_run(epf_vhost_thread, epfv, "epfv-%s", dev_name(&epf->dev));
	if (IS_ERR(thread)) {
		mutex_unlock(&epfv->lock);
		dev_err(&epf->dev, "no service thread: %pe\n", thread);
		return PTR_ERR(thread);
	}
	epfv->thread = thread;
	epfv->link_up = true;
	mutex_unlock(&epfv->lock);
	return 0;
}

static int epf_vhost_link_down(struct pci_epf *epf)
{
	struct pci_epf_vhost *epfv = epf_get_drvdata(epf);

	epf_vhost_stop_thread(epfv);
	cancel_work_sync(&epfv->irq_work);
	mutex_lock(&epfv->lock);
	epf_vhost_driver_gone(epfv);
	mutex_unlock(&epfv->lock);
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
	epfv->has_db = false;
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
	unsigned int bit = i ? i - 1 : EPF_VHOST_DB_CMD;
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
	ret = pci_epf_alloc_doorbell(epf, 1 + epfv->num_queues);
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
	epfv->has_db = true;
	dev_info(&epf->dev, "notified by %u doorbell%s for %u queues (BAR%d + %#llx)\n",
		 epfv->ndb, epfv->ndb == 1 ? "" : "s", epfv->num_queues,
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

static void epf_vhost_release(struct vhost_device *vdev)
{
	kfree(to_epf_vhost_device(vdev));
}

static struct vhost_device *epf_vhost_add(struct vhost_transport *t,
					  const struct vhost_device_id *id,
					  const struct vhost_bind *bind)
{
	struct pci_epf_vhost *epfv = container_of(t, struct pci_epf_vhost,
						  transport);
	struct epf_vhost_device *d;
	int ret;

	mutex_lock(&epfv->lock);
	if (epfv->dev) {
		dev_err(&epfv->epf->dev, "already carries a device; a function carries one\n");
		ret = -EBUSY;
		goto unlock;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		ret = -ENOMEM;
		goto unlock;
	}
	d->epfv = epfv;
	ret = vhost_device_init(&d->vdev, &epfv->epf->dev, id, bind,
				&epf_vhost_ops,
				epfv->config_size, epf_vhost_release);
	if (ret) {
		kfree(d);
		goto unlock;
	}
	epfv->dev = d;
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DEVICE_ID, id->device);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_VENDOR_ID, id->vendor);
	ret = vhost_device_add(&d->vdev);
	if (ret) {
		epfv->dev = NULL;
		epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DEVICE_ID, 0);
		vhost_device_put(&d->vdev);
		goto unlock;
	}
	rcu_assign_pointer(epfv->kick_dev, d);
	mutex_unlock(&epfv->lock);
	return &d->vdev;

unlock:
	mutex_unlock(&epfv->lock);
	return ERR_PTR(ret);
}

static void epf_vhost_del(struct vhost_transport *t, struct vhost_device *vdev)
{
	struct pci_epf_vhost *epfv = container_of(t, struct pci_epf_vhost,
						  transport);

	mutex_lock(&epfv->lock);
	epf_vhost_wr(epfv, VIRTIO_PCI_EPF_DEVICE_ID, 0);
	epfv->dev = NULL;
	RCU_INIT_POINTER(epfv->kick_dev, NULL);
	mutex_unlock(&epfv->lock);
	/* No doorbell's handler kicks the device from here on. */
	synchronize_rcu();
	/* The driver side loses its device: tell it, as a failure would. */
	epf_vhost_raise(epfv, VIRTIO_PCI_EPF_MAX_QUEUES, VIRTIO_PCI_EPF_ISR_CONFIG);
	vhost_device_unregister(vdev);
	epf_vhost_unmap_all(epfv);
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

	if (desc->type == BAR_FIXED && desc->fixed_size < EPF_VHOST_BAR_SIZE) {
		epfv->bar_size = desc->fixed_size;
		epfv->regs_size = min_t(u64, desc->fixed_size,
					VIRTIO_PCI_EPF_REGS_MAX);
	} else {
		epfv->bar_size = EPF_VHOST_BAR_SIZE;
		epfv->regs_size = VIRTIO_PCI_EPF_REGS_MAX;
	}
	epfv->msix = f->msix_capable && epfv->bar_size >= EPF_VHOST_BAR_SIZE;
	epfv->num_queues = epfv->regs_size < VIRTIO_PCI_EPF_REGS_MAX ?
			   EPF_VHOST_SMALL_QUEUES : VIRTIO_PCI_EPF_MAX_QUEUES;
	epfv->notify_off = VIRTIO_PCI_EPF_LAYOUT_END;
	epfv->config_off = ALIGN(epfv->notify_off + 4 * epfv->num_queues, 16);
	epfv->config_size = min_t(unsigned int,
				  epfv->regs_size - epfv->config_off,
				  VIRTIO_PCI_EPF_CONFIG_MAX);
	epfv->sel = U32_MAX;
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
	epfv->reg = pci_epf_alloc_space(epf, epfv->bar_size, epfv->bar,
					features, PRIMARY_INTERFACE);
	if (!epfv->reg)
		return -ENOMEM;
	memset(epfv->reg, 0, epfv->bar_size);
	dev_info(&epf->dev, "registers in BAR%d: %u bytes, %u queues, %u bytes of config space%s\n",
		 epfv->bar, epfv->regs_size, epfv->num_queues,
		 epfv->config_size, epfv->msix ? ", MSI-X table" : "");
	epf_vhost_init_registers(epfv);
	epf_vhost_get_dma(epfv);

	epfv->transport.name = dev_name(&epf->dev);
	ret = vhost_transport_register(&epfv->transport);
	if (ret) {
		epf_vhost_put_dma(epfv);
		pci_epf_free_space(epf, epfv->reg, epfv->bar, PRIMARY_INTERFACE);
		epfv->reg = NULL;
		return ret;
	}
	epfv->dir = debugfs_create_dir(dev_name(&epf->dev), epf_vhost_debugfs);
	debugfs_create_file("windows", 0400, epfv->dir, epfv,
			    &epf_vhost_windows_fops);
	debugfs_create_file("doorbells", 0400, epfv->dir, epfv,
			    &epf_vhost_doorbells_fops);
	/* Unloading would free the function under the controller. */
	__module_get(THIS_MODULE);
	return 0;
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
	pci_epf_free_space(epf, epfv->reg, epfv->bar, PRIMARY_INTERFACE);
	epfv->reg = NULL;
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
	init_waitqueue_head(&epfv->wq);
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
