// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio_ntb: the driver side of virtio over NTB, a virtio transport.
 *
 * An NTB client: once the link to a peer running ntb_vhost is up
 * (ntb_vlink), it registers a virtio device for each register block of the
 * peer that carries one, so stock virtio drivers run on top: rng, rpmsg,
 * net. Documentation/driver-api/virtio-ntb.rst is the protocol; the
 * register blocks are those of include/uapi/linux/virtio_pci_epf.h, which
 * virtio_regs drives, in the peer's inbound window 0, reached through the
 * outbound window.
 *
 * The peer reaches nothing of this side but its inbound windows. So the
 * rings, and a copy of every buffer a driver hands to a virtqueue, are in
 * them: the virtqueues map with this transport's own operations (struct
 * virtio_map_ops), which allocate from a pool over the windows and copy a
 * buffer in when it is mapped for the device to read, and out when it is
 * unmapped after the device wrote it. Addresses handed to the peer are
 * link addresses: a window number << 48 | an offset in the window. What a
 * mapped buffer came from is kept in this side's memory, never in the
 * windows, which the peer may write.
 *
 * Doorbells: this side rings the bit the device gave each queue after a
 * kick, and the control bit after each command. It gives each queue with a
 * callback a bit of its own doorbells, round-robin, as the queue's vector;
 * the device rings it when it used buffers, and the doorbell's handler
 * calls the queues on it, in hard interrupt context but for
 * virtio_rpmsg_bus, which takes mutexes in its callbacks and is called
 * from a work item. The control bit makes this side look at the blocks
 * again (devices added or removed) and at each one's config interrupt.
 *
 * Locking: nt->lock (a mutex) protects the devices and the link state; it
 * is taken by the scan work and by the link's up() and down(), which run
 * under the link's lock. Each device's queues_on masks are written while
 * its queues are set up or deleted, with no doorbell handler running on
 * them (synchronize_rcu(): the link calls db() under RCU), and read by
 * the handlers. The pool is a gen_pool, safe in any context; the record
 * of what each mapped buffer came from is written by map and read by unmap
 * of the same buffer.
 */

#include <linux/dma-mapping.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/ntb.h>
#include <linux/ntb_vlink.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_regs.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#define VNTB_MAX_DEVICES	NTB_VLINK_MAX_BLOCKS
/* The pool's granule: the smallest buffer copy, and the record's unit. */
#define VNTB_GRANULE_ORDER	8

static unsigned int cmd_timeout_ms = 2000;
module_param(cmd_timeout_ms, uint, 0644);
MODULE_PARM_DESC(cmd_timeout_ms, "how long to wait for the device to answer a command, in ms (default 2000)");

static unsigned int queue_size = 256;
module_param(queue_size, uint, 0444);
MODULE_PARM_DESC(queue_size, "largest virtqueue, in entries (default 256)");

static unsigned long window_kb = 16384;
module_param(window_kb, ulong, 0444);
MODULE_PARM_DESC(window_kb, "largest inbound buffer per memory window, in KiB (default 16384)");

/* What a mapped buffer came from: kept here, not in the window. */
struct vntb_origin {
	struct page *page;
	unsigned int offset;
};

struct virtio_ntb;

struct vntb_dev {
	struct virtio_regs regs;	/* the block, its vdev */
	struct virtio_ntb *nt;
	unsigned int slot;
	u32 device_epoch;		/* the block's, when the device was found */
	u32 kick_bit[VIRTIO_PCI_EPF_MAX_QUEUES];	/* the device's, per queue */
	u32 queues_on[64];		/* queues whose vector is each of our bits */
	unsigned long deferred;		/* queues for the work (rpmsg) */
	struct work_struct vq_work;
};

struct virtio_ntb {
	struct ntb_vlink vl;
	struct device *dma_dev;		/* the vdevs' parent, the map token */
	struct gen_pool *pool;		/* the windows, by link address */
	struct vntb_origin *origin[NTB_VLINK_MAX_MW];
	atomic_t next_bit;		/* the next queue's doorbell, of ours */

	struct mutex lock;		/* the fields below */
	bool up;
	unsigned int nr_blocks;
	struct vntb_dev *dev[VNTB_MAX_DEVICES];
	struct work_struct scan_work;
};

static struct vntb_dev *to_vntb_dev(struct virtio_regs *regs)
{
	return container_of(regs, struct vntb_dev, regs);
}

/* Buffers: a pool over this side's inbound windows */

static struct virtio_ntb *vntb_of_map(union virtio_map map)
{
	return dev_get_drvdata(map.dma_dev);
}

/* The record of the buffer at link address @addr, which this side mapped. */
static struct vntb_origin *vntb_origin(struct virtio_ntb *nt, dma_addr_t addr)
{
	unsigned int w = NTB_VLINK_ADDR_WIN(addr);
	u64 off = NTB_VLINK_ADDR_OFF(addr);

	if (w >= nt->vl.nr_mw || !nt->origin[w] || off >= nt->vl.mw[w].in_size)
		return NULL;
	return &nt->origin[w][off >> VNTB_GRANULE_ORDER];
}

static void *vntb_va(struct virtio_ntb *nt, dma_addr_t addr)
{
	return nt->vl.mw[NTB_VLINK_ADDR_WIN(addr)].in_va + NTB_VLINK_ADDR_OFF(addr);
}

/* Copy between the buffer @o records and its slot in the window, at @va. */
static void vntb_copy(const struct vntb_origin *o, void *va, size_t size,
		      bool to_window)
{
	void *buf = page_address(o->page) + o->offset;

	if (to_window)
		memcpy(va, buf, size);
	else
		memcpy(buf, va, size);
}

/* A sync of the buffer mapped at @addr: its record, then the copy. */
static void vntb_sync(struct virtio_ntb *nt, dma_addr_t addr, size_t size,
		      bool to_window)
{
	struct vntb_origin *o = vntb_origin(nt, addr);

	if (WARN_ON_ONCE(!o || !o->page))
		return;
	vntb_copy(o, vntb_va(nt, addr), size, to_window);
}

static dma_addr_t vntb_map_page(union virtio_map map, struct page *page,
				unsigned long offset, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs)
{
	struct virtio_ntb *nt = vntb_of_map(map);
	struct vntb_origin *o;
	unsigned long va;
	dma_addr_t addr;

	va = gen_pool_alloc(nt->pool, size);
	if (!va)
		return DMA_MAPPING_ERROR;
	addr = gen_pool_virt_to_phys(nt->pool, va);
	o = vntb_origin(nt, addr);
	o->page = page;
	o->offset = offset;
	if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)
		vntb_copy(o, (void *)va, size, true);
	return addr;
}

static void vntb_unmap_page(union virtio_map map, dma_addr_t addr,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	struct virtio_ntb *nt = vntb_of_map(map);
	struct vntb_origin *o = vntb_origin(nt, addr);
	void *va;

	if (WARN_ON_ONCE(!o || !o->page))
		return;
	va = vntb_va(nt, addr);
	if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)
		vntb_copy(o, va, size, false);
	o->page = NULL;
	gen_pool_free(nt->pool, (unsigned long)va, size);
}

static void vntb_sync_for_cpu(union virtio_map map, dma_addr_t addr,
			      size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)
		vntb_sync(vntb_of_map(map), addr, size, false);
}

static void vntb_sync_for_device(union virtio_map map, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)
		vntb_sync(vntb_of_map(map), addr, size, true);
}

/* The rings: in the windows, where the device reaches them. */
static void *vntb_alloc(union virtio_map map, size_t size,
			dma_addr_t *addr, gfp_t gfp)
{
	return gen_pool_dma_zalloc_align(vntb_of_map(map)->pool, size, addr,
					 PAGE_SIZE);
}

static void vntb_free(union virtio_map map, size_t size, void *vaddr,
		      dma_addr_t addr, unsigned long attrs)
{
	gen_pool_free(vntb_of_map(map)->pool, (unsigned long)vaddr, size);
}

static bool vntb_need_sync(union virtio_map map, dma_addr_t addr)
{
	return true;
}

static int vntb_mapping_error(union virtio_map map, dma_addr_t addr)
{
	return addr == DMA_MAPPING_ERROR;
}

static size_t vntb_max_mapping_size(union virtio_map map)
{
	return SZ_64K;
}

static const struct virtio_map_ops vntb_map_ops = {
	.map_page		= vntb_map_page,
	.unmap_page		= vntb_unmap_page,
	.sync_single_for_cpu	= vntb_sync_for_cpu,
	.sync_single_for_device	= vntb_sync_for_device,
	.alloc			= vntb_alloc,
	.free			= vntb_free,
	.need_sync		= vntb_need_sync,
	.mapping_error		= vntb_mapping_error,
	.max_mapping_size	= vntb_max_mapping_size,
};

/* The register blocks' operations */

static void vntb_kick_cmd(struct virtio_regs *regs)
{
	ntb_vlink_ring(&to_vntb_dev(regs)->nt->vl, NTB_VLINK_CTRL);
}

static bool vntb_kick_vq(struct virtio_regs *regs, unsigned int index)
{
	struct vntb_dev *nd = to_vntb_dev(regs);

	/* The NOTIFY word before the doorbell that says to look at it. */
	wmb();
	ntb_vlink_ring(&nd->nt->vl, nd->kick_bit[index]);
	return true;
}

static int vntb_setup_vectors(struct virtio_regs *regs, unsigned int nvqs)
{
	struct vntb_dev *nd = to_vntb_dev(regs);

	/* Config changes come with the control bit. */
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_VECTOR, nd->nt->vl.db_ctrl);
	return 0;
}

static void vntb_free_vectors(struct virtio_regs *regs)
{
	struct vntb_dev *nd = to_vntb_dev(regs);

	memset(nd->queues_on, 0, sizeof(nd->queues_on));
	/* No doorbell handler looks at the queues from here on. */
	synchronize_rcu();
	cancel_work_sync(&nd->vq_work);
}

static struct virtqueue *vntb_create_vq(struct virtio_regs *regs,
					unsigned int index, u32 size_max,
					struct virtqueue_info *info)
{
	struct vntb_dev *nd = to_vntb_dev(regs);
	union virtio_map map = { .dma_dev = nd->nt->dma_dev };
	struct virtqueue *vq;

	/* Checked against the peer's doorbells when rung. */
	nd->kick_bit[index] = virtio_regs_rd(regs, VIRTIO_PCI_EPF_QUEUE_SEL +
					     VIRTIO_PCI_EPF_Q_DB_DATA);
	vq = vring_create_virtqueue_map(index, min(size_max, queue_size),
					SMP_CACHE_BYTES, &regs->vdev, false,
					true, info->ctx, virtio_regs_notify,
					info->callback, info->name, map);
	return vq ?: ERR_PTR(-ENOMEM);
}

/*
 * Buffers still on a queue its driver deletes (virtio_rng's request,
 * virtio_rpmsg_bus's receive buffers) are unmapped here, or their slots
 * would stay taken in the pool. The device was reset, or is gone.
 */
static void vntb_del_vq(struct virtio_regs *regs, struct virtqueue *vq)
{
	while (virtqueue_detach_unused_buf(vq))
		;
	vring_del_virtqueue(vq);
}

/* A queue with a callback gets one of our doorbell bits, round-robin. */
static int vntb_vq_vector(struct virtio_regs *regs, unsigned int index,
			  u32 *vector)
{
	struct vntb_dev *nd = to_vntb_dev(regs);
	struct virtio_ntb *nt = nd->nt;
	unsigned int bit;

	if (!regs->vqs[index]->callback)
		return 0;
	bit = ntb_vlink_data_bit(&nt->vl, atomic_inc_return(&nt->next_bit));
	WRITE_ONCE(nd->queues_on[bit], nd->queues_on[bit] | BIT(index));
	*vector = bit;
	return 0;
}

/* The doorbell handlers run under RCU: wait for those running. */
static void vntb_synchronize_cbs(struct virtio_regs *regs)
{
	synchronize_rcu();
	flush_work(&to_vntb_dev(regs)->vq_work);
}

static const struct virtio_regs_ops vntb_regs_ops = {
	.kick_cmd	= vntb_kick_cmd,
	.kick_vq	= vntb_kick_vq,
	.setup_vectors	= vntb_setup_vectors,
	.free_vectors	= vntb_free_vectors,
	.create_vq	= vntb_create_vq,
	.del_vq		= vntb_del_vq,
	.vq_vector	= vntb_vq_vector,
	.synchronize_cbs = vntb_synchronize_cbs,
};

/* Doorbells */

static void vntb_vq_work(struct work_struct *work)
{
	struct vntb_dev *nd = container_of(work, struct vntb_dev, vq_work);
	unsigned int q;

	for (q = 0; q < nd->regs.nvqs; q++)
		if (test_and_clear_bit(q, &nd->deferred) && nd->regs.vqs[q])
			vring_interrupt(0, nd->regs.vqs[q]);
}

static void vntb_db(struct ntb_vlink *vl, u64 bits)
{
	struct virtio_ntb *nt = container_of(vl, struct virtio_ntb, vl);
	unsigned long queues;
	unsigned int i, b, q;

	for (i = 0; i < VNTB_MAX_DEVICES; i++) {
		struct vntb_dev *nd = READ_ONCE(nt->dev[i]);

		if (!nd)
			continue;
		/* The control bit stands for config changes too. */
		if ((bits & BIT_ULL(vl->db_ctrl)) &&
		    virtio_regs_rd(&nd->regs, VIRTIO_PCI_EPF_ISR_CONFIG)) {
			virtio_regs_wr(&nd->regs, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
			virtio_config_changed(&nd->regs.vdev);
		}
		for_each_set_bit(b, (unsigned long *)&bits, 64) {
			queues = READ_ONCE(nd->queues_on[b]);
			if (nd->regs.vdev.id.device == VIRTIO_ID_RPMSG) {
				for_each_set_bit(q, &queues, VIRTIO_PCI_EPF_MAX_QUEUES)
					set_bit(q, &nd->deferred);
				if (queues)
					schedule_work(&nd->vq_work);
				continue;
			}
			for_each_set_bit(q, &queues, VIRTIO_PCI_EPF_MAX_QUEUES)
				vring_interrupt(0, nd->regs.vqs[q]);
		}
	}
	if (bits & BIT_ULL(vl->db_ctrl))
		schedule_work(&nt->scan_work);
}

/* Devices: one per register block that carries one */

static void vntb_release(struct device *dev)
{
	kfree(to_vntb_dev(to_virtio_regs(dev_to_virtio(dev))));
}

/*
 * Unregister the device of @slot. @gone says why the device is unreachable
 * (nothing more is asked of it: its driver's reset fails at once), or is
 * NULL if the link is up and the device side serves the block: its driver
 * then resets it as it leaves. The doorbells keep reaching the device
 * until it is unregistered, for the commands of that reset.
 */
static void vntb_remove_dev(struct virtio_ntb *nt, unsigned int slot,
			    const char *gone)
{
	struct vntb_dev *nd = nt->dev[slot];

	lockdep_assert_held(&nt->lock);
	if (gone) {
		WRITE_ONCE(nt->dev[slot], NULL);
		virtio_regs_set_broken(&nd->regs, gone);
		synchronize_rcu();
	}
	/* nd goes with the last reference, which unregistering may drop. */
	get_device(&nd->regs.vdev.dev);
	unregister_virtio_device(&nd->regs.vdev);
	if (!gone) {
		WRITE_ONCE(nt->dev[slot], NULL);
		synchronize_rcu();
	}
	put_device(&nd->regs.vdev.dev);
}

/* Unregister every device, as vntb_remove_dev() does; scan no more. */
static void vntb_remove_all(struct virtio_ntb *nt, const char *gone)
{
	unsigned int slot;

	mutex_lock(&nt->lock);
	nt->up = false;
	for (slot = 0; slot < VNTB_MAX_DEVICES; slot++)
		if (nt->dev[slot])
			vntb_remove_dev(nt, slot, gone);
	mutex_unlock(&nt->lock);
}

static void vntb_add_dev(struct virtio_ntb *nt, unsigned int slot,
			 void __iomem *base)
{
	struct virtio_device *vdev;
	struct vntb_dev *nd;
	u32 device, version;
	int ret;

	lockdep_assert_held(&nt->lock);
	if (virtio_regs_identify(base, VIRTIO_PCI_EPF_REGS_MAX, &version))
		return;
	device = ioread32(base + VIRTIO_PCI_EPF_DEVICE_ID);
	if (device > U16_MAX) {
		dev_err(&nt->vl.ntb->dev, "block %u: device id %#x\n", slot, device);
		return;
	}
	nd = kzalloc(sizeof(*nd), GFP_KERNEL);
	if (!nd)
		return;
	nd->nt = nt;
	nd->slot = slot;
	INIT_WORK(&nd->vq_work, vntb_vq_work);
	nd->device_epoch = ioread32(base + VIRTIO_PCI_EPF_DEVICE_EPOCH);
	virtio_regs_init(&nd->regs, &nt->vl.ntb->dev, base,
			 VIRTIO_PCI_EPF_REGS_MAX, &vntb_regs_ops,
			 &cmd_timeout_ms);
	vdev = &nd->regs.vdev;
	vdev->id.device = device;
	vdev->id.vendor = ioread32(base + VIRTIO_PCI_EPF_VENDOR_ID);
	vdev->map = &vntb_map_ops;
	vdev->vmap.dma_dev = nt->dma_dev;
	vdev->dev.parent = nt->dma_dev;
	vdev->dev.release = vntb_release;
	ret = virtio_regs_check_layout(&nd->regs) ?:
	      virtio_regs_announce(&nd->regs);
	if (ret) {
		kfree(nd);
		return;
	}
	/* Seen by the doorbells before its driver's first kick. */
	WRITE_ONCE(nt->dev[slot], nd);
	ret = register_virtio_device(vdev);
	if (ret) {
		WRITE_ONCE(nt->dev[slot], NULL);
		synchronize_rcu();
		put_device(&vdev->dev);
		return;
	}
	dev_info(&nt->vl.ntb->dev, "block %u: virtio device %u\n", slot, device);
}

/* Look at the peer's blocks: devices that came, went, or restarted. */
static void vntb_scan(struct work_struct *work)
{
	struct virtio_ntb *nt = container_of(work, struct virtio_ntb, scan_work);
	void __iomem *hdr, *base;
	unsigned int slot;
	u32 device;

	mutex_lock(&nt->lock);
	if (!nt->up)
		goto unlock;
	hdr = ntb_vlink_peer_header(&nt->vl);
	for (slot = 0; slot < nt->nr_blocks; slot++) {
		struct vntb_dev *nd = nt->dev[slot];

		base = hdr + VIRTIO_PCI_EPF_REGS_MAX * (1 + slot);
		device = ioread32(base + VIRTIO_PCI_EPF_DEVICE_ID);
		if (nd && (device != nd->regs.vdev.id.device ||
			   ioread32(base + VIRTIO_PCI_EPF_DEVICE_EPOCH) !=
			   nd->device_epoch))
			vntb_remove_dev(nt, slot,
					"the device side removed the device");
		if (device && !nt->dev[slot])
			vntb_add_dev(nt, slot, base);
	}
unlock:
	mutex_unlock(&nt->lock);
}

/* The pool: every window but window 0's header, by link address. */
static int vntb_make_pool(struct virtio_ntb *nt)
{
	unsigned int w;
	size_t start;
	int ret;

	nt->pool = gen_pool_create(VNTB_GRANULE_ORDER, dev_to_node(&nt->vl.ntb->dev));
	if (!nt->pool)
		return -ENOMEM;
	for (w = 0; w < nt->vl.nr_mw; w++) {
		struct ntb_vlink_mw *mw = &nt->vl.mw[w];

		if (!mw->in_va)
			continue;
		nt->origin[w] = kvcalloc(mw->in_size >> VNTB_GRANULE_ORDER,
					 sizeof(*nt->origin[w]), GFP_KERNEL);
		if (!nt->origin[w])
			return -ENOMEM;
		start = w ? 0 : NTB_VLINK_HDR_SIZE;
		ret = gen_pool_add_virt(nt->pool, (unsigned long)mw->in_va + start,
					((u64)w << NTB_VLINK_ADDR_SHIFT) + start,
					mw->in_size - start, -1);
		if (ret)
			return ret;
	}
	return 0;
}

static void vntb_free_pool(struct virtio_ntb *nt)
{
	unsigned int w;

	if (nt->pool)
		gen_pool_destroy(nt->pool);
	nt->pool = NULL;
	for (w = 0; w < NTB_VLINK_MAX_MW; w++) {
		kvfree(nt->origin[w]);
		nt->origin[w] = NULL;
	}
}

/* The link */

static int vntb_up(struct ntb_vlink *vl)
{
	struct virtio_ntb *nt = container_of(vl, struct virtio_ntb, vl);
	void __iomem *hdr = ntb_vlink_peer_header(vl);
	u32 nr = ioread32(hdr + NTB_VLINK_HDR_NR_BLOCKS);

	if (ioread32(hdr + NTB_VLINK_HDR_BLOCK_SIZE) != VIRTIO_PCI_EPF_REGS_MAX ||
	    !nr || nr > VNTB_MAX_DEVICES ||
	    VIRTIO_PCI_EPF_REGS_MAX * (1 + nr) > vl->mw[0].out_size) {
		dev_err(&vl->ntb->dev, "the peer's %u register blocks do not fit its window\n",
			nr);
		return -EINVAL;
	}
	mutex_lock(&nt->lock);
	nt->nr_blocks = nr;
	nt->up = true;
	mutex_unlock(&nt->lock);
	schedule_work(&nt->scan_work);
	return 0;
}

static void vntb_down(struct ntb_vlink *vl)
{
	struct virtio_ntb *nt = container_of(vl, struct virtio_ntb, vl);

	vntb_remove_all(nt, "the virtio link is down");
}

/* The inbound windows exist (the NTB link came up): the pool over them. */
static int vntb_ready(struct ntb_vlink *vl)
{
	struct virtio_ntb *nt = container_of(vl, struct virtio_ntb, vl);
	int ret = vntb_make_pool(nt);

	if (ret)
		vntb_free_pool(nt);
	return ret;
}

static const struct ntb_vlink_ops vntb_vlink_ops = {
	.ready	= vntb_ready,
	.up	= vntb_up,
	.down	= vntb_down,
	.db	= vntb_db,
};

/* NTB client */

static void vntb_dma_release(struct device *dev)
{
	kfree(dev);
}

static int vntb_probe(struct ntb_client *client, struct ntb_dev *ntb)
{
	struct virtio_ntb *nt;
	unsigned int w;
	int ret;

	nt = kzalloc(sizeof(*nt), GFP_KERNEL);
	if (!nt)
		return -ENOMEM;
	mutex_init(&nt->lock);
	INIT_WORK(&nt->scan_work, vntb_scan);
	nt->dma_dev = kzalloc(sizeof(*nt->dma_dev), GFP_KERNEL);
	if (!nt->dma_dev) {
		kfree(nt);
		return -ENOMEM;
	}
	device_initialize(nt->dma_dev);
	nt->dma_dev->parent = &ntb->dev;
	nt->dma_dev->release = vntb_dma_release;
	dev_set_drvdata(nt->dma_dev, nt);
	/* For drivers that allocate on their parent (virtio_rpmsg_bus). */
	ret = dma_coerce_mask_and_coherent(nt->dma_dev, DMA_BIT_MASK(64)) ?:
	      dev_set_name(nt->dma_dev, "%s-virtio", dev_name(&ntb->dev)) ?:
	      device_add(nt->dma_dev);
	if (ret)
		goto put;

	nt->vl.ntb = ntb;
	nt->vl.role = NTB_VLINK_DRIVER;
	nt->vl.ops = &vntb_vlink_ops;
	for (w = 0; w < NTB_VLINK_MAX_MW; w++)
		nt->vl.in_want[w] = (resource_size_t)window_kb * SZ_1K;
	ret = ntb_vlink_init(&nt->vl);
	if (ret)
		goto del;
	return 0;

del:
	device_del(nt->dma_dev);
put:
	vntb_free_pool(nt);
	put_device(nt->dma_dev);
	kfree(nt);
	return ret;
}

static void vntb_remove(struct ntb_client *client, struct ntb_dev *ntb)
{
	struct virtio_ntb *nt = container_of(ntb->ctx, struct virtio_ntb, vl);

	/*
	 * The devices go first, while the link is up: their drivers reset
	 * them, and the device side sees them stop rather than vanish.
	 * Those the link lost already went in down().
	 */
	vntb_remove_all(nt, NULL);
	ntb_vlink_exit(&nt->vl);
	cancel_work_sync(&nt->scan_work);
	device_del(nt->dma_dev);
	vntb_free_pool(nt);
	ntb_vlink_free(&nt->vl);
	put_device(nt->dma_dev);
	kfree(nt);
}

static struct ntb_client vntb_client = {
	.ops = {
		.probe	= vntb_probe,
		.remove	= vntb_remove,
	},
};
module_ntb_client(vntb_client);

MODULE_DESCRIPTION("The driver side of virtio over NTB: a virtio transport");
MODULE_LICENSE("GPL");
