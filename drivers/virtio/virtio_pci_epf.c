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
 * The function has no PCI ID of its own: the board gives it one in
 * configfs. The driver matches its class code (VIRTIO_PCI_EPF_CLASS), so it
 * loads and binds by itself whatever the IDs; probe finds the register
 * block in the first memory BAR that starts with the magic, checks the
 * version and the layout the device gives (where the NOTIFY words and
 * config space are, in a block of 256 bytes to 4 KiB) and refuses
 * anything else.
 *
 * Before its first command the driver announces itself with a new epoch
 * and waits, bounded, for the device to acknowledge it: the device then
 * forgot any earlier driver (one that ran before a reboot of this side).
 *
 * Actions that need the device (status, queue enable, config writes) are
 * commands: written to the mailbox, answered by the device. The device is
 * another system: every wait for it is bounded by cmd_timeout_ms; a device
 * that does not answer is marked broken, and the virtio device with it.
 *
 * virtio_rpmsg_bus takes mutexes in its virtqueue callbacks, as remoteproc
 * calls them in process context: for it, and for the config and shared
 * interrupts, the handlers are threaded. Other stock drivers expect what
 * virtio_pci gives them, virtqueue callbacks in the hard interrupt handler
 * of their MSI-X vector (NAPI scheduled there, one scheduling hop less).
 *
 * The device is untrusted: a doorbell outside its BARs is refused, sizes
 * beyond the protocol's refuse the probe, and a config generation that stays odd or never settles
 * breaks the device after a bounded time instead of looping.
 *
 * Locking: vpe->cmd_lock (a mutex) serialises commands; the virtio core
 * serialises status changes and queue setup; the interrupt handlers only
 * read the ISR words and hand over to virtio. vpe->gen_lock (a spinlock)
 * protects the generation bookkeeping, which may be read in any context.
 */

#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci_epf.h>
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

struct vpe_vq {
	struct virtqueue *vq;
	bool irq;			/* its own MSI-X vector is requested */
	void __iomem *db;		/* its doorbell, or NULL */
	u32 db_data;
};

/* Bounds on a config generation that does not settle. */
#define VPE_GEN_ODD_US		10000
#define VPE_GEN_CHANGES_MAX	64

struct virtio_pci_epf {
	struct virtio_device vdev;
	struct pci_dev *pdev;
	void __iomem *reg;
	int bar;			/* of the register block */
	unsigned int regs_size;		/* bytes of it mapped */
	unsigned int notify_off;
	unsigned int config_off;
	void __iomem *db_base;		/* BAR of the doorbells, or NULL */
	void __iomem *db;		/* doorbell of the commands, or NULL */
	u32 db_data;
	unsigned int config_size;
	unsigned int num_queues;

	struct mutex cmd_lock;		/* serialises commands */
	u32 seq;
	/*
	 * Set under cmd_lock once the endpoint missed an answer, read
	 * locklessly.  From then on the status is the driver's own copy:
	 * what it last set, and 0 once it asked for a reset, so that a
	 * reset completes whatever the endpoint does.
	 */
	bool broken;
	u8 status;

	spinlock_t gen_lock;		/* protects the two fields below */
	u32 gen;			/* last even generation read */
	unsigned int gen_changes;	/* reads in a row that found a new one */

	bool msix;
	unsigned int nvectors;		/* allocated; vector 0 is requested */
	unsigned int nvqs;
	struct vpe_vq *vqs;
};

static struct virtio_pci_epf *to_vpe(struct virtio_device *vdev)
{
	return container_of(vdev, struct virtio_pci_epf, vdev);
}

static u32 vpe_rd(struct virtio_pci_epf *vpe, unsigned int off)
{
	return ioread32(vpe->reg + off);
}

static void vpe_wr(struct virtio_pci_epf *vpe, unsigned int off, u32 val)
{
	iowrite32(val, vpe->reg + off);
}

static void vpe_wr64(struct virtio_pci_epf *vpe, unsigned int off, u64 val)
{
	vpe_wr(vpe, off, lower_32_bits(val));
	vpe_wr(vpe, off + 4, upper_32_bits(val));
}

/* Poll @off until it reads @want, for at most cmd_timeout_ms. */
static int vpe_wait(struct virtio_pci_epf *vpe, unsigned int off, u32 want)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(cmd_timeout_ms);
	unsigned int us = 10;

	for (;;) {
		if (vpe_rd(vpe, off) == want)
			return 0;
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(us, 2 * us);
		us = min(2 * us, 5000U);
	}
}

static int vpe_cmd(struct virtio_pci_epf *vpe, u32 cmd, u32 arg0, u32 arg1)
{
	struct device *dev = &vpe->pdev->dev;
	u32 result;
	int ret;

	mutex_lock(&vpe->cmd_lock);
	if (vpe->broken) {
		ret = -EIO;
		goto out;
	}
	vpe_wr(vpe, VIRTIO_PCI_EPF_CMD, cmd);
	vpe_wr(vpe, VIRTIO_PCI_EPF_CMD_ARG0, arg0);
	vpe_wr(vpe, VIRTIO_PCI_EPF_CMD_ARG1, arg1);
	vpe->seq++;
	/* MMIO writes are not reordered: the arguments land first. */
	vpe_wr(vpe, VIRTIO_PCI_EPF_CMD_SEQ, vpe->seq);
	if (vpe->db)
		iowrite32(vpe->db_data, vpe->db);
	ret = vpe_wait(vpe, VIRTIO_PCI_EPF_CMD_DONE, vpe->seq);
	if (ret) {
		dev_err(dev, "command %u (%#x, %#x): no answer in %u ms, device broken\n",
			cmd, arg0, arg1, cmd_timeout_ms);
		WRITE_ONCE(vpe->broken, true);
		goto out;
	}
	result = vpe_rd(vpe, VIRTIO_PCI_EPF_CMD_RESULT);
	if (result) {
		ret = result < MAX_ERRNO ? -(int)result : -EIO;
		dev_err(dev, "command %u (%#x, %#x) refused: %d\n", cmd, arg0,
			arg1, ret);
	}
out:
	mutex_unlock(&vpe->cmd_lock);
	if (ret == -ETIMEDOUT)
		virtio_break_device(&vpe->vdev);
	return ret;
}

static void vpe_get(struct virtio_device *vdev, unsigned int offset,
		    void *buf, unsigned int len)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	u8 *p = buf;

	if (offset > vpe->config_size || len > vpe->config_size - offset) {
		dev_err(&vdev->dev, "config read [%u, +%u) beyond %u bytes\n",
			offset, len, vpe->config_size);
		memset(buf, 0, len);
		return;
	}
	while (len--)
		*p++ = ioread8(vpe->reg + vpe->config_off + offset++);
}

static void vpe_set(struct virtio_device *vdev, unsigned int offset,
		    const void *buf, unsigned int len)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	const u8 *p = buf;

	if (offset > vpe->config_size || len > vpe->config_size - offset) {
		dev_err(&vdev->dev, "config write [%u, +%u) beyond %u bytes\n",
			offset, len, vpe->config_size);
		return;
	}
	while (len) {
		unsigned int n = len >= 4 ? 4 : len >= 2 ? 2 : 1;
		u32 v = 0;

		memcpy(&v, p, n);
		if (vpe_cmd(vpe, VIRTIO_PCI_EPF_CMD_CONFIG_WRITE,
			    n << 16 | offset, le32_to_cpu((__force __le32)v)))
			return;
		p += n;
		offset += n;
		len -= n;
	}
}

static void vpe_set_broken(struct virtio_pci_epf *vpe, const char *why)
{
	if (!READ_ONCE(vpe->broken))
		dev_err(&vpe->pdev->dev, "%s: device broken\n", why);
	WRITE_ONCE(vpe->broken, true);
	virtio_break_device(&vpe->vdev);
}

/*
 * The device makes the generation odd while it changes config space. The
 * virtio core reads config until the generation before and after agree,
 * with no bound of its own: an odd generation is waited out for at most
 * VPE_GEN_ODD_US, and a generation that is new on more than
 * VPE_GEN_CHANGES_MAX reads in a row breaks the device. A broken device's
 * generation stands still, so every reader ends.
 */
static u32 vpe_generation(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	u64 deadline = ktime_get_ns() + VPE_GEN_ODD_US * NSEC_PER_USEC;
	unsigned long flags;
	bool settled;
	u32 gen;

	for (;;) {
		if (READ_ONCE(vpe->broken))
			return READ_ONCE(vpe->gen);
		gen = vpe_rd(vpe, VIRTIO_PCI_EPF_CONFIG_GEN);
		if (!(gen & 1))
			break;
		if (ktime_get_ns() > deadline) {
			vpe_set_broken(vpe, "config generation stays odd");
			return READ_ONCE(vpe->gen);
		}
		/* Config may be read in atomic context: no sleep. */
		cpu_relax();
	}
	spin_lock_irqsave(&vpe->gen_lock, flags);
	if (gen == vpe->gen)
		vpe->gen_changes = 0;
	else if (++vpe->gen_changes <= VPE_GEN_CHANGES_MAX)
		WRITE_ONCE(vpe->gen, gen);
	settled = vpe->gen_changes <= VPE_GEN_CHANGES_MAX;
	spin_unlock_irqrestore(&vpe->gen_lock, flags);
	if (settled)
		return gen;
	vpe_set_broken(vpe, "config generation never settles");
	return READ_ONCE(vpe->gen);
}

static u8 vpe_get_status(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);

	if (READ_ONCE(vpe->broken))
		return READ_ONCE(vpe->status);
	return vpe_rd(vpe, VIRTIO_PCI_EPF_STATUS) & 0xff;
}

static void vpe_set_status(struct virtio_device *vdev, u8 status)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);

	WRITE_ONCE(vpe->status, status);
	/* virtio reads the status back: a refusal shows there. */
	vpe_cmd(vpe, VIRTIO_PCI_EPF_CMD_SET_STATUS, status, 0);
}

/*
 * A reset always completes: with the endpoint's answer and its status
 * reading 0, or, when the endpoint does not answer in time, by marking
 * the device broken, after which the status reads 0 (the driver's copy).
 * The virtio core then finds the device reset, as it requires before it
 * lets a driver go.
 */
static void vpe_reset(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	int ret;

	WRITE_ONCE(vpe->status, 0);
	ret = vpe_cmd(vpe, VIRTIO_PCI_EPF_CMD_SET_STATUS, 0, 0);
	if (ret) {
		dev_err(&vdev->dev, "reset failed (%d), device broken\n", ret);
		goto broken;
	}
	/* The reset is complete once the status reads 0. */
	if (!vpe_wait(vpe, VIRTIO_PCI_EPF_STATUS, 0))
		return;
	dev_err(&vdev->dev, "reset: status still %#x after %u ms, device broken\n",
		vpe_rd(vpe, VIRTIO_PCI_EPF_STATUS) & 0xff, cmd_timeout_ms);
broken:
	WRITE_ONCE(vpe->broken, true);
	virtio_break_device(vdev);
}

static u64 vpe_get_features(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);

	return (u64)vpe_rd(vpe, VIRTIO_PCI_EPF_DEVICE_FEATURES + 4) << 32 |
	       vpe_rd(vpe, VIRTIO_PCI_EPF_DEVICE_FEATURES);
}

static int vpe_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	/* The protocol is that of virtio 1.x: no legacy devices. */
	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "the device does not offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	vpe_wr64(to_vpe(vdev), VIRTIO_PCI_EPF_DRIVER_FEATURES, vdev->features);
	return 0;
}

static bool vpe_notify(struct virtqueue *vq)
{
	struct virtio_pci_epf *vpe = to_vpe(vq->vdev);
	struct vpe_vq *v = &vpe->vqs[vq->index];

	vpe_wr(vpe, vpe->notify_off + 4 * vq->index, 1);
	if (v->db)
		iowrite32(v->db_data, v->db);
	return true;
}

static irqreturn_t vpe_config_irq(int irq, void *data)
{
	struct virtio_pci_epf *vpe = data;

	virtio_config_changed(&vpe->vdev);
	return IRQ_HANDLED;
}

/* One vector for everything: the ISR words say what happened. */
static irqreturn_t vpe_shared_irq(int irq, void *data)
{
	struct virtio_pci_epf *vpe = data;
	irqreturn_t ret = IRQ_NONE;
	unsigned int i;

	if (vpe_rd(vpe, VIRTIO_PCI_EPF_ISR_CONFIG)) {
		vpe_wr(vpe, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
		virtio_config_changed(&vpe->vdev);
		ret = IRQ_HANDLED;
	}
	if (vpe_rd(vpe, VIRTIO_PCI_EPF_ISR_QUEUE)) {
		vpe_wr(vpe, VIRTIO_PCI_EPF_ISR_QUEUE, 0);
		for (i = 0; i < vpe->nvqs; i++)
			if (vpe->vqs[i].vq)
				vring_interrupt(irq, vpe->vqs[i].vq);
		ret = IRQ_HANDLED;
	}
	return ret;
}

static void vpe_free_irqs(struct virtio_pci_epf *vpe)
{
	struct pci_dev *pdev = vpe->pdev;
	unsigned int i;

	if (!vpe->nvectors)
		return;
	for (i = 0; i < vpe->nvqs; i++) {
		if (vpe->vqs[i].irq)
			free_irq(pci_irq_vector(pdev, i + 1), vpe->vqs[i].vq);
		vpe->vqs[i].irq = false;
	}
	free_irq(pci_irq_vector(pdev, 0), vpe);
	pci_free_irq_vectors(pdev);
	vpe->nvectors = 0;
}

static void vpe_del_vqs(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	unsigned int i;

	vpe_free_irqs(vpe);
	for (i = 0; i < vpe->nvqs; i++)
		if (vpe->vqs[i].vq)
			vring_del_virtqueue(vpe->vqs[i].vq);
	kfree(vpe->vqs);
	vpe->vqs = NULL;
	vpe->nvqs = 0;
}

static int vpe_setup_irqs(struct virtio_pci_epf *vpe, unsigned int nvqs)
{
	struct pci_dev *pdev = vpe->pdev;
	const char *name = dev_name(&vpe->vdev.dev);
	int n, ret;

	n = pci_alloc_irq_vectors(pdev, nvqs + 1, nvqs + 1, PCI_IRQ_MSIX);
	if (n > 0) {
		vpe->msix = true;
		vpe_wr(vpe, VIRTIO_PCI_EPF_CONFIG_VECTOR, 0);
		ret = request_threaded_irq(pci_irq_vector(pdev, 0), NULL,
					   vpe_config_irq, IRQF_ONESHOT, name,
					   vpe);
	} else {
		n = pci_alloc_irq_vectors(pdev, 1, 1,
					  PCI_IRQ_MSI | PCI_IRQ_INTX);
		if (n < 0)
			return n;
		vpe->msix = false;
		vpe_wr(vpe, VIRTIO_PCI_EPF_CONFIG_VECTOR,
		       VIRTIO_PCI_EPF_NO_VECTOR);
		ret = request_threaded_irq(pci_irq_vector(pdev, 0), NULL,
					   vpe_shared_irq,
					   IRQF_SHARED | IRQF_ONESHOT, name,
					   vpe);
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
	u32 bar = vpe_rd(vpe, VIRTIO_PCI_EPF_DB_BAR);

	if (off % 4 || off > pci_resource_len(pdev, bar) - 4) {
		dev_err(&pdev->dev, "doorbell at BAR%u+%#x is outside the BAR\n",
			bar, off);
		return NULL;
	}
	return vpe->db_base + off;
}

static int vpe_setup_vq(struct virtio_pci_epf *vpe, unsigned int index,
			struct virtqueue_info *info)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	struct vpe_vq *v = &vpe->vqs[index];
	u32 vector = VIRTIO_PCI_EPF_NO_VECTOR;
	struct virtqueue *vq;
	u32 size_max;
	int ret;

	ret = vpe_cmd(vpe, VIRTIO_PCI_EPF_CMD_QUEUE_SELECT, index, 0);
	if (ret)
		return ret;
	size_max = vpe_rd(vpe, base + VIRTIO_PCI_EPF_Q_SIZE_MAX);
	if (vpe->db_base) {
		v->db = vpe_doorbell(vpe, vpe_rd(vpe, base + VIRTIO_PCI_EPF_Q_DB_OFFSET));
		if (!v->db)
			return -EINVAL;
		v->db_data = vpe_rd(vpe, base + VIRTIO_PCI_EPF_Q_DB_DATA);
	}
	if (!size_max || size_max > 32768) {
		dev_err(&vpe->vdev.dev, "queue %u: the device offers size %u\n",
			index, size_max);
		return -EINVAL;
	}
	vq = vring_create_virtqueue(index, min(size_max, 256U), SMP_CACHE_BYTES,
				    &vpe->vdev, true, true, info->ctx,
				    vpe_notify, info->callback, info->name);
	if (!vq)
		return -ENOMEM;
	v->vq = vq;

	if (vpe->msix && info->callback) {
		vector = index + 1;
		if (vpe->vdev.id.device == VIRTIO_ID_RPMSG)
			ret = request_threaded_irq(pci_irq_vector(vpe->pdev, vector),
						   NULL, vring_interrupt,
						   IRQF_ONESHOT,
						   dev_name(&vpe->vdev.dev), vq);
		else
			ret = request_irq(pci_irq_vector(vpe->pdev, vector),
					  vring_interrupt, 0,
					  dev_name(&vpe->vdev.dev), vq);
		if (ret)
			return ret;
		v->irq = true;
	}
	vpe_wr(vpe, base + VIRTIO_PCI_EPF_Q_SIZE, virtqueue_get_vring_size(vq));
	vpe_wr64(vpe, base + VIRTIO_PCI_EPF_Q_DESC,
		 virtqueue_get_desc_addr(vq));
	vpe_wr64(vpe, base + VIRTIO_PCI_EPF_Q_DRIVER,
		 virtqueue_get_avail_addr(vq));
	vpe_wr64(vpe, base + VIRTIO_PCI_EPF_Q_DEVICE,
		 virtqueue_get_used_addr(vq));
	vpe_wr(vpe, base + VIRTIO_PCI_EPF_Q_VECTOR, vector);
	return vpe_cmd(vpe, VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, index, 0);
}

static int vpe_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[],
			struct irq_affinity *desc)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	unsigned int i;
	int ret;

	if (nvqs > vpe->num_queues) {
		dev_err(&vdev->dev, "%u queues asked, the device has %u\n",
			nvqs, vpe->num_queues);
		return -EINVAL;
	}
	vpe->vqs = kcalloc(nvqs, sizeof(*vpe->vqs), GFP_KERNEL);
	if (!vpe->vqs)
		return -ENOMEM;
	vpe->nvqs = nvqs;
	ret = vpe_setup_irqs(vpe, nvqs);
	if (ret)
		goto err;
	for (i = 0; i < nvqs; i++) {
		vqs[i] = NULL;
		if (!vqs_info[i].name)
			continue;
		ret = vpe_setup_vq(vpe, i, &vqs_info[i]);
		if (ret)
			goto err;
		vqs[i] = vpe->vqs[i].vq;
	}
	return 0;
err:
	vpe_del_vqs(vdev);
	return ret;
}

static const char *vpe_bus_name(struct virtio_device *vdev)
{
	return pci_name(to_vpe(vdev)->pdev);
}

static void vpe_synchronize_cbs(struct virtio_device *vdev)
{
	struct virtio_pci_epf *vpe = to_vpe(vdev);
	unsigned int i;

	for (i = 0; i < vpe->nvectors; i++)
		synchronize_irq(pci_irq_vector(vpe->pdev, i));
}

static const struct virtio_config_ops vpe_config_ops = {
	.get			= vpe_get,
	.set			= vpe_set,
	.generation		= vpe_generation,
	.get_status		= vpe_get_status,
	.set_status		= vpe_set_status,
	.reset			= vpe_reset,
	.find_vqs		= vpe_find_vqs,
	.del_vqs		= vpe_del_vqs,
	.synchronize_cbs	= vpe_synchronize_cbs,
	.get_features		= vpe_get_features,
	.finalize_features	= vpe_finalize_features,
	.bus_name		= vpe_bus_name,
};

static void vpe_release(struct device *dev)
{
	struct virtio_device *vdev = dev_to_virtio(dev);

	kfree(to_vpe(vdev));
}

/* The doorbells the device offers, if they are in one of its memory BARs. */
static int vpe_map_doorbell(struct virtio_pci_epf *vpe)
{
	struct pci_dev *pdev = vpe->pdev;
	u32 bar = vpe_rd(vpe, VIRTIO_PCI_EPF_DB_BAR);

	if (bar == VIRTIO_PCI_EPF_DB_NONE)
		return 0;
	if (bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, bar) < 4) {
		dev_err(&pdev->dev, "doorbell BAR%u is not a memory BAR\n", bar);
		return -EINVAL;
	}
	if (bar == vpe->bar && pci_resource_len(pdev, bar) <= vpe->regs_size) {
		vpe->db_base = vpe->reg;
	} else {
		if (bar == vpe->bar)
			pcim_iounmap(pdev, vpe->reg);
		vpe->db_base = pcim_iomap(pdev, bar, 0);
		if (!vpe->db_base)
			return -ENOMEM;
		if (bar == vpe->bar)
			vpe->reg = vpe->db_base;
	}
	vpe->db = vpe_doorbell(vpe, vpe_rd(vpe, VIRTIO_PCI_EPF_DB_OFFSET));
	if (!vpe->db)
		return -EINVAL;
	vpe->db_data = vpe_rd(vpe, VIRTIO_PCI_EPF_DB_DATA);
	return 0;
}

/*
 * The layout the device gives: the NOTIFY words and config space after
 * the fixed fields, in the block, 4-byte aligned and apart.
 */
static int vpe_check_layout(struct virtio_pci_epf *vpe)
{
	struct device *dev = &vpe->pdev->dev;
	u32 notify = vpe_rd(vpe, VIRTIO_PCI_EPF_NOTIFY_OFF);
	u32 config = vpe_rd(vpe, VIRTIO_PCI_EPF_CONFIG_OFF);
	u32 notify_end, config_end;

	vpe->num_queues = vpe_rd(vpe, VIRTIO_PCI_EPF_NUM_QUEUES);
	vpe->config_size = vpe_rd(vpe, VIRTIO_PCI_EPF_CONFIG_SIZE);
	if (vpe->num_queues > VIRTIO_PCI_EPF_MAX_QUEUES ||
	    vpe->config_size > VIRTIO_PCI_EPF_CONFIG_MAX) {
		dev_err(dev, "%u queues and %u bytes of config space: more than the protocol allows\n",
			vpe->num_queues, vpe->config_size);
		return -EINVAL;
	}
	notify_end = notify + 4 * vpe->num_queues;
	config_end = config + vpe->config_size;
	if (notify < VIRTIO_PCI_EPF_LAYOUT_END || notify % 4 ||
	    notify_end > vpe->regs_size ||
	    config < VIRTIO_PCI_EPF_LAYOUT_END || config % 4 ||
	    config_end > vpe->regs_size ||
	    (notify < config_end && config < notify_end)) {
		dev_err(dev, "NOTIFY words at %#x+%#x and config at %#x+%#x do not fit apart in %u bytes of registers\n",
			notify, 4 * vpe->num_queues, config, vpe->config_size,
			vpe->regs_size);
		return -EINVAL;
	}
	vpe->notify_off = notify;
	vpe->config_off = config;
	return 0;
}

/* The first memory BAR that starts with the magic holds the registers. */
static int vpe_find_registers(struct pci_dev *pdev, void __iomem **regp,
			      unsigned int *sizep)
{
	void __iomem *reg;
	u32 magic, version;
	u64 size;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		size = min_t(u64, pci_resource_len(pdev, bar),
			     VIRTIO_PCI_EPF_REGS_MAX);
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
		    size < VIRTIO_PCI_EPF_REGS_MIN)
			continue;
		reg = pcim_iomap(pdev, bar, size);
		if (!reg)
			continue;
		magic = ioread32(reg + VIRTIO_PCI_EPF_MAGIC_OFF);
		version = ioread32(reg + VIRTIO_PCI_EPF_VERSION_OFF);
		if (magic == VIRTIO_PCI_EPF_MAGIC &&
		    version == VIRTIO_PCI_EPF_VERSION) {
			*regp = reg;
			*sizep = size;
			return bar;
		}
		if (magic == VIRTIO_PCI_EPF_MAGIC)
			dev_err(&pdev->dev, "BAR%d: version %u, this driver speaks version %d\n",
				bar, version, VIRTIO_PCI_EPF_VERSION);
		pcim_iounmap(pdev, reg);
	}
	dev_err(&pdev->dev, "no BAR holds a version %d virtio endpoint function register block\n",
		VIRTIO_PCI_EPF_VERSION);
	return -ENODEV;
}

/*
 * Announce this driver with a new epoch and wait, bounded, for the device
 * to acknowledge it: it then dropped what an earlier driver set up and
 * answers commands from the current sequence number on.
 */
static int vpe_announce(struct virtio_pci_epf *vpe)
{
	u32 old = vpe_rd(vpe, VIRTIO_PCI_EPF_DRIVER_EPOCH);
	u32 epoch;

	do {
		epoch = get_random_u32() | 1;
	} while (epoch == old);
	vpe_wr(vpe, VIRTIO_PCI_EPF_DRIVER_EPOCH, epoch);
	if (vpe->db)
		iowrite32(vpe->db_data, vpe->db);
	if (vpe_wait(vpe, VIRTIO_PCI_EPF_EPOCH_ACK, epoch)) {
		dev_err(&vpe->pdev->dev, "the endpoint did not acknowledge this driver in %u ms\n",
			cmd_timeout_ms);
		return -ENODEV;
	}
	vpe->seq = vpe_rd(vpe, VIRTIO_PCI_EPF_CMD_SEQ);
	return 0;
}

static int vpe_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
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
	vpe->reg = reg;
	vpe->bar = bar;
	vpe->regs_size = regs_size;
	mutex_init(&vpe->cmd_lock);
	spin_lock_init(&vpe->gen_lock);
	vpe->vdev.id.device = device;
	vpe->vdev.id.vendor = ioread32(reg + VIRTIO_PCI_EPF_VENDOR_ID);
	vpe->vdev.config = &vpe_config_ops;
	vpe->vdev.dev.parent = &pdev->dev;
	vpe->vdev.dev.release = vpe_release;
	ret = vpe_check_layout(vpe) ?: vpe_map_doorbell(vpe) ?:
	      vpe_announce(vpe);
	if (ret) {
		kfree(vpe);
		return ret;
	}
	pci_set_drvdata(pdev, vpe);
	ret = register_virtio_device(&vpe->vdev);
	if (ret) {
		put_device(&vpe->vdev.dev);
		return ret;
	}
	return 0;
}

static void vpe_remove(struct pci_dev *pdev)
{
	struct virtio_pci_epf *vpe = pci_get_drvdata(pdev);

	unregister_virtio_device(&vpe->vdev);
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
