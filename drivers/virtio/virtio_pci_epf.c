// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio_pci_epf: virtio devices carried by a PCI endpoint function.
 *
 * The root complex end of the protocol of
 * Documentation/PCI/endpoint/pci-vhost-function.rst: the function (served
 * by pci-epf-vhost on the endpoint) shows a register block in one of its
 * BARs, and this driver registers a virtio device for it, so stock virtio
 * drivers run on top with their rings in root complex memory.
 *
 * The protocol's driver side (announce, commands, status, features,
 * config space, queue setup, NOTIFY and ISR words) is the virtio_regs
 * library's (drivers/virtio/virtio_regs.c), which the other transports of
 * the block share. What is left here is PCI: finding the block in a BAR,
 * mapping the doorbells, MSI-X, MSI or INTx, and the vrings on the
 * function's DMA.
 *
 * The function has no PCI ID of its own: the board gives it one in
 * configfs. The driver matches its class code (VIRTIO_PCI_EPF_CLASS), so it
 * loads and binds by itself whatever the IDs; probe finds the register
 * block in the first memory BAR that starts with the magic, checks the
 * version and the layout the device gives (where the NOTIFY words and
 * config space are, in a block of 256 bytes to 4 KiB) and refuses
 * anything else.
 *
 * Every wait for the device is bounded by cmd_timeout_ms, this module's
 * parameter, which virtio_regs reads at each wait.
 *
 * virtio_rpmsg_bus takes mutexes in its virtqueue callbacks, as remoteproc
 * calls them in process context: for it, and for the config and shared
 * interrupts, the handlers are threaded. Other stock drivers expect what
 * virtio_pci gives them, virtqueue callbacks in the hard interrupt handler
 * of their MSI-X vector (NAPI scheduled there, one scheduling hop less).
 *
 * The device is untrusted: a doorbell outside its BARs is refused, and
 * virtio_regs checks what the block says.
 *
 * Locking: the virtio core serialises find_vqs and del_vqs, which set up
 * and tear down the vectors and the queues' doorbells (vpe->msix,
 * vpe->nvectors, vpe->vqs); the doorbells are set before the queue they
 * belong to is enabled and only read afterwards. The register block's
 * locks are virtio_regs' (include/linux/virtio_regs.h).
 */

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_regs.h>
#include <linux/virtio_ring.h>

static unsigned int cmd_timeout_ms = 2000;

static int vpe_timeout_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint_minmax(val, kp, 1, 600000);

	if (ret)
		pr_err("virtio_pci_epf: cmd_timeout_ms must be between 1 and 600000\n");
	return ret;
}

static const struct kernel_param_ops vpe_timeout_ops = {
	.set = vpe_timeout_set,
	.get = param_get_uint,
};

module_param_cb(cmd_timeout_ms, &vpe_timeout_ops, &cmd_timeout_ms, 0644);
MODULE_PARM_DESC(cmd_timeout_ms, "how long to wait for the device to answer a command, in ms (1-600000, default 2000)");

/* What a queue has of its own on PCI. */
struct vpe_vq {
	bool irq;			/* its own MSI-X vector is requested */
	void __iomem *db;		/* its doorbell, or NULL */
	u32 db_data;
};

struct virtio_pci_epf {
	struct virtio_regs regs;	/* the register block, its vdev */
	struct pci_dev *pdev;
	int bar;			/* of the register block */
	void __iomem *db_base;		/* BAR of the doorbells, or NULL */
	void __iomem *db;		/* doorbell of the commands, or NULL */
	u32 db_data;

	bool msix;
	unsigned int nvectors;		/* allocated; vector 0 is requested */
	struct vpe_vq vqs[VIRTIO_PCI_EPF_MAX_QUEUES];
};

static struct virtio_pci_epf *to_vpe(struct virtio_regs *regs)
{
	return container_of(regs, struct virtio_pci_epf, regs);
}

static struct virtio_pci_epf *vdev_to_vpe(struct virtio_device *vdev)
{
	return to_vpe(to_virtio_regs(vdev));
}

static void vpe_kick_cmd(struct virtio_regs *regs)
{
	struct virtio_pci_epf *vpe = to_vpe(regs);

	if (vpe->db)
		iowrite32(vpe->db_data, vpe->db);
}

static bool vpe_kick_vq(struct virtio_regs *regs, unsigned int index)
{
	struct vpe_vq *v = &to_vpe(regs)->vqs[index];

	if (v->db)
		iowrite32(v->db_data, v->db);
	return true;
}

static void vpe_free_vectors(struct virtio_regs *regs)
{
	struct virtio_pci_epf *vpe = to_vpe(regs);
	struct pci_dev *pdev = vpe->pdev;
	unsigned int i;

	if (!vpe->nvectors)
		return;
	for (i = 0; i < regs->nvqs; i++) {
		if (vpe->vqs[i].irq)
			free_irq(pci_irq_vector(pdev, i + 1), regs->vqs[i]);
		vpe->vqs[i].irq = false;
	}
	free_irq(pci_irq_vector(pdev, 0), regs);
	pci_free_irq_vectors(pdev);
	vpe->nvectors = 0;
}

static int vpe_setup_vectors(struct virtio_regs *regs, unsigned int nvqs)
{
	struct virtio_pci_epf *vpe = to_vpe(regs);
	struct pci_dev *pdev = vpe->pdev;
	const char *name = dev_name(&regs->vdev.dev);
	int n, ret;

	n = pci_alloc_irq_vectors(pdev, nvqs + 1, nvqs + 1, PCI_IRQ_MSIX);
	if (n > 0) {
		vpe->msix = true;
		virtio_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_VECTOR, 0);
		ret = request_threaded_irq(pci_irq_vector(pdev, 0), NULL,
					   virtio_regs_config_irq, IRQF_ONESHOT,
					   name, regs);
	} else {
		n = pci_alloc_irq_vectors(pdev, 1, 1,
					  PCI_IRQ_MSI | PCI_IRQ_INTX);
		if (n < 0)
			return n;
		vpe->msix = false;
		virtio_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_VECTOR,
			       VIRTIO_PCI_EPF_NO_VECTOR);
		ret = request_threaded_irq(pci_irq_vector(pdev, 0), NULL,
					   virtio_regs_shared_irq,
					   IRQF_SHARED | IRQF_ONESHOT, name,
					   regs);
	}
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	vpe->nvectors = n;
	return 0;
}

/*
 * A doorbell at @off of the doorbell BAR, if that is a sane place for a
 * 32-bit write; NULL otherwise.
 */
static void __iomem *vpe_doorbell(struct virtio_pci_epf *vpe, u32 off)
{
	struct pci_dev *pdev = vpe->pdev;
	u32 bar = virtio_regs_rd(&vpe->regs, VIRTIO_PCI_EPF_DB_BAR);

	if (off % 4 || off > pci_resource_len(pdev, bar) - 4) {
		dev_err(&pdev->dev, "doorbell at BAR%u+%#x is outside the BAR\n",
			bar, off);
		return NULL;
	}
	return vpe->db_base + off;
}

/* The queue's doorbell, from the selected queue, and its vring. */
static struct virtqueue *vpe_create_vq(struct virtio_regs *regs,
				       unsigned int index, u32 size_max,
				       struct virtqueue_info *info)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	struct virtio_pci_epf *vpe = to_vpe(regs);
	struct vpe_vq *v = &vpe->vqs[index];
	struct virtqueue *vq;
	u32 off;

	if (vpe->db_base) {
		off = virtio_regs_rd(regs, base + VIRTIO_PCI_EPF_Q_DB_OFFSET);
		v->db = vpe_doorbell(vpe, off);
		if (!v->db)
			return ERR_PTR(-EINVAL);
		v->db_data = virtio_regs_rd(regs,
					    base + VIRTIO_PCI_EPF_Q_DB_DATA);
	}
	vq = vring_create_virtqueue(index, min(size_max, 256U), SMP_CACHE_BYTES,
				    &regs->vdev, true, true, info->ctx,
				    virtio_regs_notify, info->callback,
				    info->name);
	return vq ?: ERR_PTR(-ENOMEM);
}

/* With MSI-X, a queue with a callback has the vector after its index. */
static int vpe_vq_vector(struct virtio_regs *regs, unsigned int index,
			 u32 *vector)
{
	struct virtio_pci_epf *vpe = to_vpe(regs);
	struct virtqueue *vq = regs->vqs[index];
	const char *name = dev_name(&regs->vdev.dev);
	int irq, ret;

	if (!vpe->msix || !vq->callback)
		return 0;
	irq = pci_irq_vector(vpe->pdev, index + 1);
	if (regs->vdev.id.device == VIRTIO_ID_RPMSG)
		ret = request_threaded_irq(irq, NULL, vring_interrupt,
					   IRQF_ONESHOT, name, vq);
	else
		ret = request_irq(irq, vring_interrupt, 0, name, vq);
	if (ret)
		return ret;
	vpe->vqs[index].irq = true;
	*vector = index + 1;
	return 0;
}

static void vpe_synchronize_cbs(struct virtio_regs *regs)
{
	struct virtio_pci_epf *vpe = vdev_to_vpe(&regs->vdev);
	unsigned int i;

	for (i = 0; i < vpe->nvectors; i++)
		synchronize_irq(pci_irq_vector(vpe->pdev, i));
}

static const struct virtio_regs_ops vpe_regs_ops = {
	.kick_cmd	= vpe_kick_cmd,
	.kick_vq	= vpe_kick_vq,
	.setup_vectors	= vpe_setup_vectors,
	.free_vectors	= vpe_free_vectors,
	.create_vq	= vpe_create_vq,
	.vq_vector	= vpe_vq_vector,
	.synchronize_cbs = vpe_synchronize_cbs,
};

static void vpe_release(struct device *dev)
{
	kfree(vdev_to_vpe(dev_to_virtio(dev)));
}

/* The doorbells the device offers, if they are in one of its memory BARs. */
static int vpe_map_doorbell(struct virtio_pci_epf *vpe)
{
	struct pci_dev *pdev = vpe->pdev;
	struct virtio_regs *regs = &vpe->regs;
	u32 bar = virtio_regs_rd(regs, VIRTIO_PCI_EPF_DB_BAR);

	if (bar == VIRTIO_PCI_EPF_DB_NONE)
		return 0;
	if (bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, bar) < 4) {
		dev_err(&pdev->dev, "doorbell BAR%u is not a memory BAR\n", bar);
		return -EINVAL;
	}
	if (bar == vpe->bar && pci_resource_len(pdev, bar) <= regs->regs_size) {
		vpe->db_base = regs->base;
	} else {
		if (bar == vpe->bar)
			pcim_iounmap(pdev, regs->base);
		vpe->db_base = pcim_iomap(pdev, bar, 0);
		if (!vpe->db_base)
			return -ENOMEM;
		if (bar == vpe->bar)
			regs->base = vpe->db_base;
	}
	vpe->db = vpe_doorbell(vpe, virtio_regs_rd(regs, VIRTIO_PCI_EPF_DB_OFFSET));
	if (!vpe->db)
		return -EINVAL;
	vpe->db_data = virtio_regs_rd(regs, VIRTIO_PCI_EPF_DB_DATA);
	return 0;
}

/* The first memory BAR that starts with the magic holds the registers. */
static int vpe_find_registers(struct pci_dev *pdev, void __iomem **regp,
			      unsigned int *sizep)
{
	void __iomem *reg;
	u32 version;
	u64 size;
	int bar, ret;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		size = min_t(u64, pci_resource_len(pdev, bar),
			     VIRTIO_PCI_EPF_REGS_MAX);
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
		    size < VIRTIO_PCI_EPF_REGS_MIN)
			continue;
		reg = pcim_iomap(pdev, bar, size);
		if (!reg)
			continue;
		ret = virtio_regs_identify(reg, size, &version);
		if (!ret) {
			*regp = reg;
			*sizep = size;
			return bar;
		}
		if (ret == -EPROTONOSUPPORT)
			dev_err(&pdev->dev, "BAR%d: version %u, this driver speaks version %d\n",
				bar, version, VIRTIO_PCI_EPF_VERSION);
		pcim_iounmap(pdev, reg);
	}
	dev_err(&pdev->dev, "no BAR holds a version %d virtio endpoint function register block\n",
		VIRTIO_PCI_EPF_VERSION);
	return -ENODEV;
}

static int vpe_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct virtio_device *vdev;
	struct virtio_pci_epf *vpe;
	unsigned int regs_size;
	void __iomem *reg;
	u32 device;
	int bar, ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	bar = vpe_find_registers(pdev, &reg, &regs_size);
	if (bar < 0)
		return bar;
	device = ioread32(reg + VIRTIO_PCI_EPF_DEVICE_ID);
	if (!device || device > U16_MAX) {
		dev_err(&pdev->dev, "device id %#x: no vhost client is bound on the endpoint\n",
			device);
		return -ENODEV;
	}
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	vpe = kzalloc(sizeof(*vpe), GFP_KERNEL);
	if (!vpe)
		return -ENOMEM;
	vpe->pdev = pdev;
	vpe->bar = bar;
	virtio_regs_init(&vpe->regs, &pdev->dev, reg, regs_size, &vpe_regs_ops,
			 &cmd_timeout_ms);
	vdev = &vpe->regs.vdev;
	vdev->id.device = device;
	vdev->id.vendor = virtio_regs_rd(&vpe->regs, VIRTIO_PCI_EPF_VENDOR_ID);
	vdev->dev.parent = &pdev->dev;
	vdev->dev.release = vpe_release;
	ret = virtio_regs_check_layout(&vpe->regs) ?: vpe_map_doorbell(vpe) ?:
	      virtio_regs_announce(&vpe->regs);
	if (ret) {
		kfree(vpe);
		return ret;
	}
	pci_set_drvdata(pdev, vpe);
	ret = register_virtio_device(vdev);
	if (ret) {
		put_device(&vdev->dev);
		return ret;
	}
	return 0;
}

static void vpe_remove(struct pci_dev *pdev)
{
	struct virtio_pci_epf *vpe = pci_get_drvdata(pdev);

	unregister_virtio_device(&vpe->regs.vdev);
}

/* Any vendor and device ID: the class code says what the function is. */
static const struct pci_device_id vpe_ids[] = {
	{ PCI_DEVICE_CLASS(VIRTIO_PCI_EPF_CLASS, ~0) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vpe_ids);

static struct pci_driver vpe_driver = {
	.name		= "virtio_pci_epf",
	.id_table	= vpe_ids,
	.probe		= vpe_probe,
	.remove		= vpe_remove,
};
module_pci_driver(vpe_driver);

MODULE_DESCRIPTION("virtio devices carried by a PCI endpoint function");
MODULE_LICENSE("GPL");
