// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntb_vhost: the device side of virtio over NTB, a transport of the vhost
 * bus.
 *
 * An NTB client: on each NTB it binds, it registers a vhost transport
 * named ntb_vhost.<NTB>, and a vhost client linked to it through
 * /sys/kernel/config/vhost serves a virtio device whose driver side is the
 * peer, running virtio_ntb and stock virtio drivers. Several devices share
 * one link, each in a register block of its own
 * (include/uapi/linux/virtio_pci_epf.h), which vhost_regs serves:
 * Documentation/driver-api/virtio-ntb.rst.
 *
 * The blocks are in this side's inbound window 0, after the window header
 * that ntb_vlink writes; the peer writes them through its outbound window.
 * The peer's rings and buffers are in its inbound windows, which this side
 * maps whole while the link is up: an address of the driver side is a
 * link address, a window number << 48 | an offset in it, checked against
 * the window before it is used. Copies are memcpy_fromio()/memcpy_toio();
 * nothing here sleeps on the peer.
 *
 * Doorbells: the peer rings a queue's bit after each kick of it (bits are
 * shared round-robin by the queues of all blocks where the NTB has fewer
 * than queues), and the control bit after each command; this side rings
 * the bit the driver side wrote in the queue's vector, the control bit
 * otherwise.
 *
 * Locking: nv->lock (a mutex) protects which slot holds which device; it
 * is taken by the vhost transport's add() and del(), and nests outside
 * vhost_regs' locks. The link's lock (ntb_vlink) is held around up() and
 * down(), which start and stop every block's vhost_regs. The doorbell path
 * reads only what is fixed while the link is up.
 */

#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/ntb.h>
#include <linux/ntb_vlink.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/vhost_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci_epf.h>

/* Register blocks, 4 KiB each after the window header: window 0 is 64 KiB. */
#define NTB_VHOST_MAX_DEVICES	NTB_VLINK_MAX_BLOCKS
#define NTB_VHOST_BLOCK_SIZE	VIRTIO_PCI_EPF_REGS_MAX
#define NTB_VHOST_QUEUE_SIZE_MAX	1024

/* As pci-epf-vhost: the driver side must map, and order for a device. */
#define NTB_VHOST_TRANSPORT_FEATURES	(BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
					 BIT_ULL(VIRTIO_F_ORDER_PLATFORM))

static unsigned int devices = 4;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "register blocks per NTB: virtio devices it can carry (1-15, default 4)");

struct ntb_vhost;

struct ntb_vhost_slot {
	struct ntb_vhost *nv;
	unsigned int index;
	struct vhost_regs regs;
	struct vhost_device *vdev;	/* the device it carries, or NULL */
};

struct ntb_vhost {
	struct ntb_vlink vl;
	struct vhost_transport transport;
	char name[64];
	bool registered;		/* the transport, once ready */
	struct mutex lock;		/* which slot holds which device */
	unsigned int nr_slots;
	struct ntb_vhost_slot slot[NTB_VHOST_MAX_DEVICES];
	/* The queues of each block on each doorbell bit. */
	u32 queues_on[NTB_VHOST_MAX_DEVICES][64];
};

static struct ntb_vhost_slot *to_slot(struct vhost_regs *regs)
{
	return container_of(regs, struct ntb_vhost_slot, regs);
}

/*
 * The doorbell bit of queue @q of @slot: the queues of all blocks share the
 * data bits round-robin, and the control bit where there is no other.
 */
static unsigned int ntb_vhost_queue_bit(struct ntb_vhost *nv,
					unsigned int slot, unsigned int q)
{
	return ntb_vlink_data_bit(&nv->vl, slot * VIRTIO_PCI_EPF_MAX_QUEUES + q);
}

static void ntb_vhost_raise(struct vhost_regs *regs, unsigned int bit)
{
	struct ntb_vhost *nv = to_slot(regs)->nv;

	/* The driver side's vector: checked by ntb_vlink_ring(). */
	ntb_vlink_ring(&nv->vl, vhost_regs_vector(regs, bit));
}

/* A link address of the driver side, to this side's mapping of it. */
static void __iomem *ntb_vhost_reach(struct ntb_vhost *nv, u64 addr, u64 len)
{
	unsigned int w = NTB_VLINK_ADDR_WIN(addr);
	u64 off = NTB_VLINK_ADDR_OFF(addr), end;

	if (w >= nv->vl.peer_nr_mw || !nv->vl.mw[w].out_va ||
	    check_add_overflow(off, len, &end) || end > nv->vl.mw[w].out_size)
		return NULL;
	return nv->vl.mw[w].out_va + off;
}

static int ntb_vhost_map_ring(struct vhost_regs *regs, u64 addr, u64 len,
			      void __iomem **va, u64 *mapped_len)
{
	void __iomem *p = ntb_vhost_reach(to_slot(regs)->nv, addr, len);

	if (!len || !p)
		return -EFAULT;
	if (va)
		*va = p;
	if (mapped_len)
		*mapped_len = len;
	return 0;
}

static int ntb_vhost_read(struct vhost_regs *regs, u64 addr, void *dst,
			  size_t len)
{
	void __iomem *p = ntb_vhost_reach(to_slot(regs)->nv, addr, len);

	if (!p)
		return -EFAULT;
	memcpy_fromio(dst, p, len);
	return 0;
}

static int ntb_vhost_write(struct vhost_regs *regs, u64 addr,
			   const void *src, size_t len)
{
	void __iomem *p = ntb_vhost_reach(to_slot(regs)->nv, addr, len);

	if (!p)
		return -EFAULT;
	memcpy_toio(p, src, len);
	return 0;
}

static void ntb_vhost_queue_doorbell(struct vhost_regs *regs, unsigned int q,
				     u32 *offset, u32 *data)
{
	struct ntb_vhost_slot *slot = to_slot(regs);

	*offset = 0;
	*data = ntb_vhost_queue_bit(slot->nv, slot->index, q);
}

static const struct vhost_regs_ops ntb_vhost_regs_ops = {
	.raise		= ntb_vhost_raise,
	.map_ring	= ntb_vhost_map_ring,
	.read		= ntb_vhost_read,
	.write		= ntb_vhost_write,
	.queue_doorbell	= ntb_vhost_queue_doorbell,
};

/* The link: up, down, doorbells */

static int ntb_vhost_up(struct ntb_vlink *vl)
{
	struct ntb_vhost *nv = container_of(vl, struct ntb_vhost, vl);
	char name[32];
	unsigned int i;
	int ret;

	for (i = 0; i < nv->nr_slots; i++) {
		snprintf(name, sizeof(name), "ntbv-%u-%s", i, dev_name(&vl->ntb->dev));
		ret = vhost_regs_start(&nv->slot[i].regs, name);
		if (ret) {
			while (i--)
				vhost_regs_stop(&nv->slot[i].regs);
			return ret;
		}
	}
	return 0;
}

static void ntb_vhost_down(struct ntb_vlink *vl)
{
	struct ntb_vhost *nv = container_of(vl, struct ntb_vhost, vl);
	unsigned int i;

	for (i = 0; i < nv->nr_slots; i++)
		vhost_regs_stop(&nv->slot[i].regs);
}

/*
 * Doorbells the driver side rang: pass each on to the queues on it, and
 * the control bit to every block's commands.
 */
static void ntb_vhost_db(struct ntb_vlink *vl, u64 bits)
{
	struct ntb_vhost *nv = container_of(vl, struct ntb_vhost, vl);
	unsigned long queues;
	unsigned int i, b, q;

	for_each_set_bit(b, (unsigned long *)&bits, 64) {
		for (i = 0; i < nv->nr_slots; i++) {
			if (b == vl->db_ctrl)
				vhost_regs_doorbell(&nv->slot[i].regs,
						    VHOST_REGS_CMD);
			queues = nv->queues_on[i][b];
			for_each_set_bit(q, &queues, VIRTIO_PCI_EPF_MAX_QUEUES)
				vhost_regs_doorbell(&nv->slot[i].regs, q);
		}
	}
}

/* vhost transport: a device per free register block */

static struct vhost_device *ntb_vhost_add(struct vhost_transport *t,
					  const struct vhost_device_id *id,
					  const struct vhost_bind *bind)
{
	struct ntb_vhost *nv = container_of(t, struct ntb_vhost, transport);
	struct vhost_device *vdev = ERR_PTR(-ENOSPC);
	unsigned int i;

	mutex_lock(&nv->lock);
	for (i = 0; i < nv->nr_slots; i++) {
		if (nv->slot[i].vdev)
			continue;
		vdev = vhost_regs_add_device(&nv->slot[i].regs, id, bind);
		if (!IS_ERR(vdev))
			nv->slot[i].vdev = vdev;
		break;
	}
	mutex_unlock(&nv->lock);
	if (PTR_ERR(vdev) == -ENOSPC)
		dev_err(&nv->vl.ntb->dev, "all %u register blocks carry a device (module parameter devices)\n",
			nv->nr_slots);
	/* The driver side looks at the blocks again. */
	if (!IS_ERR(vdev))
		ntb_vlink_ring(&nv->vl, NTB_VLINK_CTRL);
	return vdev;
}

static void ntb_vhost_del(struct vhost_transport *t, struct vhost_device *vdev)
{
	struct ntb_vhost *nv = container_of(t, struct ntb_vhost, transport);
	unsigned int i;

	mutex_lock(&nv->lock);
	for (i = 0; i < nv->nr_slots; i++) {
		if (nv->slot[i].vdev != vdev)
			continue;
		nv->slot[i].vdev = NULL;
		vhost_regs_del_device(&nv->slot[i].regs, vdev);
		break;
	}
	mutex_unlock(&nv->lock);
	ntb_vlink_ring(&nv->vl, NTB_VLINK_CTRL);
}

/* NTB client */

static int ntb_vhost_init_slot(struct ntb_vhost *nv, unsigned int i)
{
	struct ntb_vhost_slot *slot = &nv->slot[i];
	struct vhost_regs *regs = &slot->regs;

	slot->nv = nv;
	slot->index = i;
	regs->base = ntb_vlink_header(&nv->vl) + NTB_VHOST_BLOCK_SIZE * (1 + i);
	regs->num_queues = VIRTIO_PCI_EPF_MAX_QUEUES;
	regs->notify_off = VIRTIO_PCI_EPF_LAYOUT_END;
	regs->config_off = ALIGN(regs->notify_off + 4 * regs->num_queues, 16);
	regs->config_size = min_t(unsigned int,
				  NTB_VHOST_BLOCK_SIZE - regs->config_off,
				  VIRTIO_PCI_EPF_CONFIG_MAX);
	regs->queue_size_max = NTB_VHOST_QUEUE_SIZE_MAX;
	regs->transport_features = NTB_VHOST_TRANSPORT_FEATURES;
	regs->ops = &ntb_vhost_regs_ops;
	regs->dev = &nv->vl.ntb->dev;
	regs->has_db = true;
	regs->db_bar = VIRTIO_PCI_EPF_DB_NTB;
	regs->db_offset = 0;
	regs->db_data = nv->vl.db_ctrl;
	return vhost_regs_init(regs);
}

/*
 * The inbound window exists (the NTB link came up): lay the register
 * blocks out in it, and offer the transport.
 */
static int ntb_vhost_ready(struct ntb_vlink *vl)
{
	struct ntb_vhost *nv = container_of(vl, struct ntb_vhost, vl);
	__le32 *hdr = ntb_vlink_header(vl);
	unsigned int i, q;
	int ret;

	nv->nr_slots = min_t(unsigned int, devices,
			     vl->mw[0].in_size / NTB_VHOST_BLOCK_SIZE - 1);
	memset(nv->queues_on, 0, sizeof(nv->queues_on));
	hdr[NTB_VLINK_HDR_BLOCK_SIZE / 4] = cpu_to_le32(NTB_VHOST_BLOCK_SIZE);
	hdr[NTB_VLINK_HDR_NR_BLOCKS / 4] = cpu_to_le32(nv->nr_slots);
	for (i = 0; i < nv->nr_slots; i++) {
		ret = ntb_vhost_init_slot(nv, i);
		if (ret)
			return ret;
		for (q = 0; q < VIRTIO_PCI_EPF_MAX_QUEUES; q++)
			nv->queues_on[i][ntb_vhost_queue_bit(nv, i, q)] |= BIT(q);
	}
	ret = vhost_transport_register(&nv->transport);
	if (ret)
		return ret;
	nv->registered = true;
	dev_info(&vl->ntb->dev, "vhost transport %s: %u register blocks, doorbells %#llx for queues\n",
		 nv->name, nv->nr_slots, vl->db_data);
	return 0;
}

static const struct ntb_vlink_ops ntb_vhost_vlink_ops = {
	.ready	= ntb_vhost_ready,
	.up	= ntb_vhost_up,
	.down	= ntb_vhost_down,
	.db	= ntb_vhost_db,
};

static int ntb_vhost_probe(struct ntb_client *client, struct ntb_dev *ntb)
{
	struct ntb_vhost *nv;
	int ret;

	if (!devices || devices > NTB_VHOST_MAX_DEVICES) {
		dev_err(&ntb->dev, "devices=%u: between 1 and %u register blocks\n",
			devices, NTB_VHOST_MAX_DEVICES);
		return -EINVAL;
	}
	nv = kzalloc(sizeof(*nv), GFP_KERNEL);
	if (!nv)
		return -ENOMEM;
	mutex_init(&nv->lock);
	snprintf(nv->name, sizeof(nv->name), "ntb_vhost.%s", dev_name(&ntb->dev));
	nv->transport.name = nv->name;
	nv->transport.add = ntb_vhost_add;
	nv->transport.del = ntb_vhost_del;
	nv->vl.ntb = ntb;
	nv->vl.role = NTB_VLINK_DEVICE;
	nv->vl.ops = &ntb_vhost_vlink_ops;
	nv->vl.in_want[0] = NTB_VHOST_BLOCK_SIZE * (1 + NTB_VHOST_MAX_DEVICES);
	ret = ntb_vlink_init(&nv->vl);
	if (ret)
		kfree(nv);
	return ret;
}

static void ntb_vhost_remove(struct ntb_client *client, struct ntb_dev *ntb)
{
	struct ntb_vhost *nv = container_of(ntb->ctx, struct ntb_vhost, vl);

	/* No ready() from here on; down() stopped the blocks. */
	ntb_vlink_exit(&nv->vl);
	/* Deletes the devices, through del(), while the blocks exist. */
	if (nv->registered)
		vhost_transport_unregister(&nv->transport);
	ntb_vlink_free(&nv->vl);
	kfree(nv);
}

static struct ntb_client ntb_vhost_client = {
	.ops = {
		.probe	= ntb_vhost_probe,
		.remove	= ntb_vhost_remove,
	},
};
module_ntb_client(ntb_vhost_client);

MODULE_DESCRIPTION("The device side of virtio over NTB: a vhost transport");
MODULE_LICENSE("GPL");
