// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci-epf-vhost: the device side of virtio over a PCI endpoint function.
 *
 * The function is a transport of the vhost bus. Binding a vhost client to
 * it through /sys/kernel/config/vhost creates the vhost device; the root
 * complex's virtio_pci_epf driver is the driver side and reaches it through
 * the register block of BAR 0 (include/uapi/linux/virtio_pci_epf.h,
 * Documentation/PCI/endpoint/pci-vhost-function.rst).
 *
 * The register block is endpoint memory: the root complex writes it across
 * the link, this side reads its own RAM. Commands (status, queue enable,
 * config writes) and queue notifications are picked up by a service thread.
 * Where the controller gives the function a doorbell
 * (pci_epc_alloc_doorbell()), the root complex rings it after each command
 * and kick and the thread sleeps until then. Otherwise the thread polls,
 * adaptively: every VEPF_POLL_MIN_US while there is work, backing off to
 * VEPF_POLL_MAX_US when there is none, so an idle function costs little and
 * a busy one is served within the minimum interval.
 *
 * The root complex's rings and buffers are reached through outbound
 * windows mapped with pci_epc_mem_map(): a small set, mapped when the
 * queues are enabled and kept until the device is reset, so no message
 * maps or unmaps anything. Buffers must lie in those windows: a controller
 * whose windows reach all of root complex memory from one mapping (as the
 * emulated one does) serves any buffer; one with small windows serves
 * buffers near the rings only, and fails the device otherwise.
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
 * Locking: vepf->lock (a mutex) protects the device pointer, the link
 * state and the service thread; it is taken by the vhost transport
 * callbacks add() and del(), by the endpoint events, and around each pass
 * of the service thread, so a device cannot go while a command runs. It
 * nests outside the vhost core's locks. vepf->map_lock (a mutex, a leaf)
 * serialises the mapping of outbound windows, and vepf->map_slock (a
 * spinlock) protects their number, so that translate() looks them up in
 * any context. Windows are only unmapped while no queue runs. Queue
 * snapshots are written by the service thread before DRIVER_OK and only
 * read after it. The pending interrupt bits are atomic.
 */

#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/sizes.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#define VEPF_MAX_MAPS		8
#define VEPF_MAP_GRANULE	SZ_1M
#define VEPF_QUEUE_SIZE_MAX	1024
#define VEPF_POLL_MIN_US	50
#define VEPF_POLL_MAX_US	20000
/* With a doorbell: a look anyway, in case a doorbell was lost. */
#define VEPF_DB_SAFETY_MS	1000
/* The header's IDs until configfs sets them: the function has none. */
#define VEPF_NO_ID		0xffff
/* Registers, then the MSI-X table and PBA, in BAR 0. */
#define VEPF_MSIX_OFFSET	VIRTIO_PCI_EPF_BAR_SIZE
#define VEPF_NR_VECTORS		(VIRTIO_PCI_EPF_MAX_QUEUES + 1)
#define VEPF_BAR_SIZE		(2 * VIRTIO_PCI_EPF_BAR_SIZE)

struct vepf_queue {
	struct vhost_vq_config cfg;
	bool enabled;
};

struct vepf_device {
	struct vhost_device vdev;
	struct pci_epf_vhost *vepf;
	u8 driver_status;
	struct vepf_queue q[VIRTIO_PCI_EPF_MAX_QUEUES];
};

struct pci_epf_vhost {
	struct pci_epf *epf;
	const struct pci_epc_features *epc_features;
	void *reg;			/* BAR 0 */
	struct vhost_transport transport;

	struct mutex lock;		/* see the locking note */
	struct vepf_device *dev;
	struct task_struct *thread;
	bool link_up;
	bool initialized;
	u32 cmd_done;

	struct mutex map_lock;		/* serialises mapping and unmapping */
	spinlock_t map_slock;		/* protects nmaps, for lookups */
	struct pci_epc_map maps[VEPF_MAX_MAPS];
	unsigned int nmaps;

	struct work_struct irq_work;
	unsigned long irq_pending[BITS_TO_LONGS(VEPF_NR_VECTORS)];

	struct pci_epc_doorbell db;
	bool has_db;
	atomic_t rung;
	wait_queue_head_t wq;
};

static struct pci_epf_header vepf_header = {
	.vendorid	= VEPF_NO_ID,
	.deviceid	= VEPF_NO_ID,
	.baseclass_code	= PCI_BASE_CLASS_COMMUNICATION,
	.subclass_code	= PCI_CLASS_COMMUNICATION_OTHER & 0xff,
	.interrupt_pin	= PCI_INTERRUPT_INTA,
};

static u32 vepf_rd(struct pci_epf_vhost *vepf, unsigned int off)
{
	return le32_to_cpu(READ_ONCE(*(__le32 *)(vepf->reg + off)));
}

static void vepf_wr(struct pci_epf_vhost *vepf, unsigned int off, u32 val)
{
	WRITE_ONCE(*(__le32 *)(vepf->reg + off), cpu_to_le32(val));
}

static u64 vepf_rd64(struct pci_epf_vhost *vepf, unsigned int off)
{
	return (u64)vepf_rd(vepf, off + 4) << 32 | vepf_rd(vepf, off);
}

static void vepf_wr64(struct pci_epf_vhost *vepf, unsigned int off, u64 val)
{
	vepf_wr(vepf, off, lower_32_bits(val));
	vepf_wr(vepf, off + 4, upper_32_bits(val));
}

static struct vepf_device *to_vepf_device(struct vhost_device *vdev)
{
	return container_of(vdev, struct vepf_device, vdev);
}

/* Outbound windows */

static void vepf_unmap_all(struct pci_epf_vhost *vepf)
{
	struct pci_epf *epf = vepf->epf;
	unsigned int n;

	mutex_lock(&vepf->map_lock);
	spin_lock_irq(&vepf->map_slock);
	n = vepf->nmaps;
	vepf->nmaps = 0;
	spin_unlock_irq(&vepf->map_slock);
	/* No queue is running: nobody holds an address in these windows. */
	while (n)
		pci_epc_mem_unmap(epf->epc, epf->func_no, epf->vfunc_no,
				  &vepf->maps[--n]);
	mutex_unlock(&vepf->map_lock);
}

/*
 * A mapping reaches all the controller mapped, [map_pci_addr, +map_size),
 * which may be more than was asked for.
 */
static bool vepf_map_has(const struct pci_epc_map *map, u64 addr)
{
	return addr >= map->map_pci_addr &&
	       addr - map->map_pci_addr < map->map_size;
}

/* The window holding @addr, or NULL. Called with map_slock held. */
static struct pci_epc_map *vepf_find_map(struct pci_epf_vhost *vepf, u64 addr)
{
	unsigned int i;

	for (i = 0; i < vepf->nmaps; i++)
		if (vepf_map_has(&vepf->maps[i], addr))
			return &vepf->maps[i];
	return NULL;
}

/*
 * Make sure one window holds [@addr, @addr + @len), mapping one if needed
 * (process context). Windows are mapped when queues are enabled and kept
 * until the device is reset: the hot path only looks them up.
 */
static int vepf_map(struct pci_epf_vhost *vepf, u64 addr, u64 len)
{
	struct pci_epf *epf = vepf->epf;
	struct pci_epc_map *map;
	u64 start, end, last;
	int ret;

	might_sleep();
	if (!len || check_add_overflow(addr, len - 1, &last))
		return -EINVAL;
	mutex_lock(&vepf->map_lock);
	spin_lock_irq(&vepf->map_slock);
	map = vepf_find_map(vepf, addr);
	spin_unlock_irq(&vepf->map_slock);
	if (map) {
		mutex_unlock(&vepf->map_lock);
		return vepf_map_has(map, last) ? 0 : -EFAULT;
	}
	if (vepf->nmaps == VEPF_MAX_MAPS) {
		mutex_unlock(&vepf->map_lock);
		dev_err(&epf->dev, "no outbound window left for %#llx\n", addr);
		return -ENOSPC;
	}
	start = round_down(addr, VEPF_MAP_GRANULE);
	if (check_add_overflow(last, (u64)VEPF_MAP_GRANULE, &end)) {
		mutex_unlock(&vepf->map_lock);
		return -EINVAL;
	}
	end = round_down(end, VEPF_MAP_GRANULE);
	map = &vepf->maps[vepf->nmaps];
	ret = pci_epc_mem_map(epf->epc, epf->func_no, epf->vfunc_no, start,
			      end - start, map);
	if (!ret && (!vepf_map_has(map, addr) || !vepf_map_has(map, last))) {
		pci_epc_mem_unmap(epf->epc, epf->func_no, epf->vfunc_no, map);
		ret = -EFAULT;
	}
	if (ret) {
		mutex_unlock(&vepf->map_lock);
		dev_err(&epf->dev, "cannot map PCI address %#llx: %d\n", addr,
			ret);
		return ret;
	}
	spin_lock_irq(&vepf->map_slock);
	vepf->nmaps++;
	spin_unlock_irq(&vepf->map_slock);
	mutex_unlock(&vepf->map_lock);
	return 0;
}

static int vepf_translate(struct vhost_device *vdev, u64 addr, u64 len,
			  void __iomem **va, u64 *mapped_len)
{
	struct pci_epf_vhost *vepf = to_vepf_device(vdev)->vepf;
	struct pci_epc_map *map;
	unsigned long flags;

	/* vringh asks with @len up to the end of the address space. */
	if (!len)
		return -EINVAL;
	spin_lock_irqsave(&vepf->map_slock, flags);
	map = vepf_find_map(vepf, addr);
	if (map) {
		*va = map->virt_base + (addr - map->map_pci_addr);
		*mapped_len = min(len,
				  map->map_size - (addr - map->map_pci_addr));
	}
	spin_unlock_irqrestore(&vepf->map_slock, flags);
	return map ? 0 : -EFAULT;
}

/* Interrupts towards the root complex */

static void vepf_irq_work(struct work_struct *work)
{
	struct pci_epf_vhost *vepf = container_of(work, struct pci_epf_vhost,
						  irq_work);
	struct pci_epf *epf = vepf->epf;
	struct pci_epc *epc = epf->epc;
	bool msix = pci_epc_get_msix(epc, epf->func_no, epf->vfunc_no) > 0;
	bool msi = !msix &&
		   pci_epc_get_msi(epc, epf->func_no, epf->vfunc_no) > 0;
	bool legacy_sent = false;
	unsigned int bit;
	u32 vector;

	for_each_set_bit(bit, vepf->irq_pending, VEPF_NR_VECTORS) {
		if (!test_and_clear_bit(bit, vepf->irq_pending))
			continue;
		if (bit == VIRTIO_PCI_EPF_MAX_QUEUES)
			vector = vepf_rd(vepf, VIRTIO_PCI_EPF_CONFIG_VECTOR);
		else
			vector = vepf_rd(vepf, VIRTIO_PCI_EPF_QUEUE(bit) +
					 VIRTIO_PCI_EPF_Q_VECTOR);
		if (msix && vector != VIRTIO_PCI_EPF_NO_VECTOR) {
			/* The endpoint core numbers vectors from 1. */
			if (vector < VEPF_NR_VECTORS)
				pci_epc_raise_irq(epc, epf->func_no,
						  epf->vfunc_no, PCI_IRQ_MSIX,
						  vector + 1);
			else
				dev_err_ratelimited(&epf->dev,
						    "MSI-X vector %u out of range\n",
						    vector);
			continue;
		}
		if (legacy_sent)
			continue;
		legacy_sent = true;
		pci_epc_raise_irq(epc, epf->func_no, epf->vfunc_no,
				  msi ? PCI_IRQ_MSI : PCI_IRQ_INTX, 1);
	}
}

static void vepf_raise(struct pci_epf_vhost *vepf, unsigned int bit,
		       unsigned int isr)
{
	vepf_wr(vepf, isr, 1);
	set_bit(bit, vepf->irq_pending);
	schedule_work(&vepf->irq_work);
}

/* vhost transport operations */

/*
 * The device reaches the driver's memory through PCI bus addresses, which
 * an IOMMU or a DMA offset on the root complex may make different from its
 * physical addresses: the transport offers VIRTIO_F_ACCESS_PLATFORM itself,
 * so that the driver hands out DMA addresses. Clients never see the bit.
 */
#define VEPF_TRANSPORT_FEATURES	BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)

static u64 vepf_get_driver_features(struct vhost_device *vdev)
{
	return vepf_rd64(to_vepf_device(vdev)->vepf,
			 VIRTIO_PCI_EPF_DRIVER_FEATURES) &
	       ~VEPF_TRANSPORT_FEATURES;
}

static void vepf_set_device_features(struct vhost_device *vdev, u64 features)
{
	vepf_wr64(to_vepf_device(vdev)->vepf, VIRTIO_PCI_EPF_DEVICE_FEATURES,
		  features | VEPF_TRANSPORT_FEATURES);
}

static u8 vepf_get_status(struct vhost_device *vdev)
{
	return READ_ONCE(to_vepf_device(vdev)->driver_status);
}

static void vepf_set_status(struct vhost_device *vdev, u8 status)
{
	vepf_wr(to_vepf_device(vdev)->vepf, VIRTIO_PCI_EPF_STATUS, status);
}

static void vepf_set_config(struct vhost_device *vdev, unsigned int offset,
			    const void *buf, unsigned int len, u32 generation)
{
	struct pci_epf_vhost *vepf = to_vepf_device(vdev)->vepf;

	/* The core checked the range against VIRTIO_PCI_EPF_CONFIG_MAX. */
	memcpy(vepf->reg + VIRTIO_PCI_EPF_CONFIG + offset, buf, len);
	wmb();	/* the bytes before the generation that covers them */
	vepf_wr(vepf, VIRTIO_PCI_EPF_CONFIG_GEN, generation);
}

static void vepf_get_config(struct vhost_device *vdev, unsigned int offset,
			    void *buf, unsigned int len)
{
	struct pci_epf_vhost *vepf = to_vepf_device(vdev)->vepf;

	memcpy(buf, vepf->reg + VIRTIO_PCI_EPF_CONFIG + offset, len);
}

static void vepf_notify_config(struct vhost_device *vdev)
{
	vepf_raise(to_vepf_device(vdev)->vepf, VIRTIO_PCI_EPF_MAX_QUEUES,
		   VIRTIO_PCI_EPF_ISR_CONFIG);
}

static int vepf_get_vq(struct vhost_device *vdev, unsigned int index,
		       struct vhost_vq_config *cfg)
{
	struct vepf_device *d = to_vepf_device(vdev);

	if (index >= VIRTIO_PCI_EPF_MAX_QUEUES || !d->q[index].enabled)
		return -EINVAL;
	*cfg = d->q[index].cfg;
	return 0;
}

static void vepf_notify_vq(struct vhost_device *vdev, unsigned int index)
{
	if (index < VIRTIO_PCI_EPF_MAX_QUEUES)
		vepf_raise(to_vepf_device(vdev)->vepf, index,
			   VIRTIO_PCI_EPF_ISR_QUEUE);
}

static const struct vhost_transport_ops vepf_ops = {
	.get_driver_features	= vepf_get_driver_features,
	.set_device_features	= vepf_set_device_features,
	.get_status		= vepf_get_status,
	.set_status		= vepf_set_status,
	.set_config		= vepf_set_config,
	.get_config		= vepf_get_config,
	.notify_config		= vepf_notify_config,
	.get_vq			= vepf_get_vq,
	.translate		= vepf_translate,
	.notify_vq		= vepf_notify_vq,
};

/* Commands of the driver side, run by the service thread */

/* Forget every queue and window: after a reset, a failure or link down. */
static void vepf_forget_queues(struct pci_epf_vhost *vepf,
			       struct vepf_device *d)
{
	unsigned int q;

	for (q = 0; q < VIRTIO_PCI_EPF_MAX_QUEUES; q++) {
		d->q[q].enabled = false;
		vepf_wr(vepf, VIRTIO_PCI_EPF_QUEUE(q) + VIRTIO_PCI_EPF_Q_ENABLED,
			0);
	}
	vepf_unmap_all(vepf);
}

static int vepf_set_status_cmd(struct pci_epf_vhost *vepf,
			       struct vepf_device *d, u32 status)
{
	if (status > U8_MAX)
		return -EINVAL;
	WRITE_ONCE(d->driver_status, status);
	vhost_device_status_changed(&d->vdev);
	if (!vhost_get_status(&d->vdev))
		vepf_forget_queues(vepf, d);
	return 0;
}

static int vepf_check_ring(struct pci_epf_vhost *vepf, unsigned int q,
			   const char *what, u64 addr, u64 len, u64 align)
{
	int ret;

	if (!IS_ALIGNED(addr, align)) {
		dev_err(&vepf->epf->dev, "queue %u: %s at %#llx is not %llu-byte aligned\n",
			q, what, addr, align);
		return -EINVAL;
	}
	ret = vepf_map(vepf, addr, len);
	if (ret) {
		dev_err(&vepf->epf->dev, "queue %u: %s at %#llx+%#llx is out of reach\n",
			q, what, addr, len);
		return -EINVAL;
	}
	return 0;
}

static int vepf_queue_enable(struct pci_epf_vhost *vepf,
			     struct vepf_device *d, u32 q)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE(q);
	struct vhost_vq_config cfg;
	u8 status = vhost_get_status(&d->vdev);
	int ret;

	if (q >= VIRTIO_PCI_EPF_MAX_QUEUES) {
		dev_err(&vepf->epf->dev, "QUEUE_ENABLE: no queue %u\n", q);
		return -EINVAL;
	}
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (status & VIRTIO_CONFIG_S_DRIVER_OK) || d->q[q].enabled) {
		dev_err(&vepf->epf->dev, "QUEUE_ENABLE %u: not allowed at status %#x\n",
			q, status);
		return -EINVAL;
	}
	cfg.num = vepf_rd(vepf, base + VIRTIO_PCI_EPF_Q_SIZE);
	cfg.desc = vepf_rd64(vepf, base + VIRTIO_PCI_EPF_Q_DESC);
	cfg.avail = vepf_rd64(vepf, base + VIRTIO_PCI_EPF_Q_DRIVER);
	cfg.used = vepf_rd64(vepf, base + VIRTIO_PCI_EPF_Q_DEVICE);
	if (!cfg.num || cfg.num > VEPF_QUEUE_SIZE_MAX ||
	    !is_power_of_2(cfg.num)) {
		dev_err(&vepf->epf->dev, "queue %u: size %u is not a power of two up to %u\n",
			q, cfg.num, VEPF_QUEUE_SIZE_MAX);
		return -EINVAL;
	}
	ret = vepf_check_ring(vepf, q, "descriptor table", cfg.desc,
			      16ULL * cfg.num, 16) ?:
	      vepf_check_ring(vepf, q, "driver ring", cfg.avail,
			      6 + 2ULL * cfg.num, 2) ?:
	      vepf_check_ring(vepf, q, "device ring", cfg.used,
			      6 + 8ULL * cfg.num, 4);
	if (ret)
		return ret;
	d->q[q].cfg = cfg;
	d->q[q].enabled = true;
	vepf_wr(vepf, base + VIRTIO_PCI_EPF_Q_ENABLED, 1);
	return 0;
}

static int vepf_config_write(struct pci_epf_vhost *vepf,
			     struct vepf_device *d, u32 arg0, u32 value)
{
	unsigned int offset = arg0 & 0xffff, len = arg0 >> 16;
	__le32 v = cpu_to_le32(value);

	if ((len != 1 && len != 2 && len != 4) ||
	    offset + len > VIRTIO_PCI_EPF_CONFIG_MAX) {
		dev_err(&vepf->epf->dev, "CONFIG_WRITE: %u bytes at %u are outside config space\n",
			len, offset);
		return -EINVAL;
	}
	memcpy(vepf->reg + VIRTIO_PCI_EPF_CONFIG + offset, &v, len);
	return vhost_device_config_written(&d->vdev, offset, len);
}

static void vepf_run_command(struct pci_epf_vhost *vepf, u32 seq)
{
	struct vepf_device *d = vepf->dev;
	const char *malformed = "malformed command";
	u32 cmd, arg0, arg1;
	int ret;

	rmb();	/* the arguments were written before the sequence number */
	cmd = vepf_rd(vepf, VIRTIO_PCI_EPF_CMD);
	arg0 = vepf_rd(vepf, VIRTIO_PCI_EPF_CMD_ARG0);
	arg1 = vepf_rd(vepf, VIRTIO_PCI_EPF_CMD_ARG1);

	if (!d) {
		ret = -ENODEV;
	} else {
		switch (cmd) {
		case VIRTIO_PCI_EPF_CMD_SET_STATUS:
			ret = vepf_set_status_cmd(vepf, d, arg0);
			break;
		case VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE:
			ret = vepf_queue_enable(vepf, d, arg0);
			malformed = "malformed queue setup";
			break;
		case VIRTIO_PCI_EPF_CMD_CONFIG_WRITE:
			ret = vepf_config_write(vepf, d, arg0, arg1);
			break;
		default:
			dev_err(&vepf->epf->dev, "unknown command %u\n", cmd);
			ret = -EINVAL;
		}
		/* Every refusal of a command's values fails the device. */
		if (ret == -EINVAL)
			vhost_device_fail(&d->vdev, malformed);
	}
	vepf_wr(vepf, VIRTIO_PCI_EPF_CMD_RESULT, -ret);
	wmb();	/* the result before the answer */
	vepf_wr(vepf, VIRTIO_PCI_EPF_CMD_DONE, seq);
	vepf->cmd_done = seq;
}

/* One pass over the register block; true if there was anything to do. */
static bool vepf_service(struct pci_epf_vhost *vepf)
{
	struct vepf_device *d;
	bool busy = false;
	u32 seq;
	unsigned int q;

	mutex_lock(&vepf->lock);
	seq = vepf_rd(vepf, VIRTIO_PCI_EPF_CMD_SEQ);
	if (seq != vepf->cmd_done) {
		if (seq != vepf->cmd_done + 1)
			dev_warn_ratelimited(&vepf->epf->dev, "command %u follows %u: commands lost\n",
					     seq, vepf->cmd_done);
		vepf_run_command(vepf, seq);
		busy = true;
	}
	d = vepf->dev;
	for (q = 0; d && q < VIRTIO_PCI_EPF_MAX_QUEUES; q++) {
		unsigned int off = VIRTIO_PCI_EPF_QUEUE(q) +
				   VIRTIO_PCI_EPF_Q_NOTIFY;

		if (!vepf_rd(vepf, off))
			continue;
		/* Clear first: a notification after this is seen next time. */
		vepf_wr(vepf, off, 0);
		/* The clear lands before the client looks at the ring. */
		mb();
		vhost_vq_kicked(&d->vdev, q);
		busy = true;
	}
	mutex_unlock(&vepf->lock);
	return busy;
}

/* The controller's doorbell interrupt: the RC posted a command or a kick. */
static void vepf_doorbell(void *data)
{
	struct pci_epf_vhost *vepf = data;

	atomic_set(&vepf->rung, 1);
	wake_up(&vepf->wq);
}

/*
 * With a doorbell, sleep until it rings (looking anyway now and then);
 * without, poll adaptively: soon after work, less and less often without.
 */
static int vepf_thread(void *data)
{
	struct pci_epf_vhost *vepf = data;
	unsigned long interval = VEPF_POLL_MIN_US;

	while (!kthread_should_stop()) {
		bool busy = vepf_service(vepf);

		if (vepf->has_db) {
			if (busy) {
				cond_resched();
				continue;
			}
			wait_event_timeout(vepf->wq,
					   atomic_xchg(&vepf->rung, 0) ||
					   kthread_should_stop(),
					   msecs_to_jiffies(VEPF_DB_SAFETY_MS));
			continue;
		}
		if (busy)
			interval = VEPF_POLL_MIN_US;
		else
			interval = min(interval * 2, VEPF_POLL_MAX_US);
		usleep_range(interval, interval + interval / 4);
	}
	return 0;
}

/* The register block as a driver finds it after a link up. */
static void vepf_init_registers(struct pci_epf_vhost *vepf)
{
	struct vepf_device *d = vepf->dev;
	unsigned int q;

	vepf_wr(vepf, VIRTIO_PCI_EPF_MAGIC_OFF, VIRTIO_PCI_EPF_MAGIC);
	vepf_wr(vepf, VIRTIO_PCI_EPF_VERSION_OFF, VIRTIO_PCI_EPF_VERSION);
	vepf_wr(vepf, VIRTIO_PCI_EPF_DEVICE_ID, d ? d->vdev.id.device : 0);
	vepf_wr(vepf, VIRTIO_PCI_EPF_VENDOR_ID, d ? d->vdev.id.vendor : 0);
	vepf_wr(vepf, VIRTIO_PCI_EPF_NUM_QUEUES, VIRTIO_PCI_EPF_MAX_QUEUES);
	vepf_wr(vepf, VIRTIO_PCI_EPF_CONFIG_SIZE, VIRTIO_PCI_EPF_CONFIG_MAX);
	if (vepf->has_db) {
		vepf_wr(vepf, VIRTIO_PCI_EPF_DB_OFFSET, vepf->db.offset);
		vepf_wr(vepf, VIRTIO_PCI_EPF_DB_DATA, vepf->db.data);
		vepf_wr(vepf, VIRTIO_PCI_EPF_DB_BAR, vepf->db.bar);
	} else {
		vepf_wr(vepf, VIRTIO_PCI_EPF_DB_BAR, VIRTIO_PCI_EPF_DB_NONE);
	}
	vepf_wr(vepf, VIRTIO_PCI_EPF_ISR_QUEUE, 0);
	vepf_wr(vepf, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
	for (q = 0; q < VIRTIO_PCI_EPF_MAX_QUEUES; q++)
		vepf_wr(vepf, VIRTIO_PCI_EPF_QUEUE(q) +
			VIRTIO_PCI_EPF_Q_SIZE_MAX, VEPF_QUEUE_SIZE_MAX);
	/* Answer nothing that was posted before this side was listening. */
	vepf->cmd_done = vepf_rd(vepf, VIRTIO_PCI_EPF_CMD_SEQ);
	vepf_wr(vepf, VIRTIO_PCI_EPF_CMD_DONE, vepf->cmd_done);
}

/*
 * The driver side went away: what it set up is gone with it, as if it had
 * reset the device. Windows exist only while a device does.
 */
static void vepf_driver_gone(struct pci_epf_vhost *vepf)
{
	if (vepf->dev)
		vepf_set_status_cmd(vepf, vepf->dev, 0);
}

static void vepf_stop_thread(struct pci_epf_vhost *vepf)
{
	struct task_struct *thread;

	mutex_lock(&vepf->lock);
	thread = vepf->thread;
	vepf->thread = NULL;
	vepf->link_up = false;
	mutex_unlock(&vepf->lock);
	if (thread)
		kthread_stop(thread);
}

static int vepf_link_up(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);
	struct task_struct *thread;

	vepf_stop_thread(vepf);
	mutex_lock(&vepf->lock);
	vepf_driver_gone(vepf);
	vepf_init_registers(vepf);
	thread = kthread_run(vepf_thread, vepf, "vepf-%s", dev_name(&epf->dev));
	if (IS_ERR(thread)) {
		mutex_unlock(&vepf->lock);
		dev_err(&epf->dev, "no service thread: %pe\n", thread);
		return PTR_ERR(thread);
	}
	vepf->thread = thread;
	vepf->link_up = true;
	mutex_unlock(&vepf->lock);
	return 0;
}

static int vepf_link_down(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);

	vepf_stop_thread(vepf);
	cancel_work_sync(&vepf->irq_work);
	mutex_lock(&vepf->lock);
	vepf_driver_gone(vepf);
	mutex_unlock(&vepf->lock);
	return 0;
}

static int vepf_epc_init(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);
	struct pci_epc *epc = epf->epc;
	int ret;

	ret = pci_epc_write_header(epc, epf->func_no, epf->vfunc_no,
				   epf->header);
	if (ret)
		return ret;
	ret = pci_epc_set_bar(epc, epf->func_no, epf->vfunc_no,
			      &epf->bar[BAR_0]);
	if (ret)
		return ret;
	if (vepf->epc_features->msi_capable) {
		ret = pci_epc_set_msi(epc, epf->func_no, epf->vfunc_no, 1);
		if (ret)
			return ret;
	}
	if (vepf->epc_features->msix_capable) {
		ret = pci_epc_set_msix(epc, epf->func_no, epf->vfunc_no,
				       VEPF_NR_VECTORS, BAR_0,
				       VEPF_MSIX_OFFSET);
		if (ret)
			return ret;
	}
	/* A doorbell if the controller has one; polling otherwise. */
	ret = pci_epc_alloc_doorbell(epc, epf->func_no, epf->vfunc_no,
				     vepf_doorbell, vepf, &vepf->db);
	vepf->has_db = !ret;
	if (!ret)
		dev_info(&epf->dev, "notified by doorbell (BAR%d + %#x)\n",
			 vepf->db.bar, vepf->db.offset);
	else
		dev_info(&epf->dev, "no doorbell (%d): polling\n", ret);
	vepf->initialized = true;
	if (!vepf->epc_features->linkup_notifier)
		return vepf_link_up(epf);
	return 0;
}

static void vepf_put_doorbell(struct pci_epf_vhost *vepf)
{
	struct pci_epf *epf = vepf->epf;

	if (vepf->has_db)
		pci_epc_free_doorbell(epf->epc, epf->func_no, epf->vfunc_no);
	vepf->has_db = false;
}

static void vepf_epc_deinit(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);

	vepf_link_down(epf);
	vepf_put_doorbell(vepf);
	if (vepf->initialized)
		pci_epc_clear_bar(epf->epc, epf->func_no, epf->vfunc_no,
				  &epf->bar[BAR_0]);
	vepf->initialized = false;
}

static const struct pci_epc_event_ops vepf_event_ops = {
	.epc_init	= vepf_epc_init,
	.epc_deinit	= vepf_epc_deinit,
	.link_up	= vepf_link_up,
	.link_down	= vepf_link_down,
};

/* vhost transport: one device per function */

static void vepf_release(struct vhost_device *vdev)
{
	kfree(to_vepf_device(vdev));
}

static struct vhost_device *vepf_add(struct vhost_transport *t,
				     const struct vhost_device_id *id)
{
	struct pci_epf_vhost *vepf = container_of(t, struct pci_epf_vhost,
						  transport);
	struct vepf_device *d;
	int ret;

	mutex_lock(&vepf->lock);
	if (vepf->dev) {
		dev_err(&vepf->epf->dev, "already carries a device; a function carries one\n");
		ret = -EBUSY;
		goto unlock;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		ret = -ENOMEM;
		goto unlock;
	}
	d->vepf = vepf;
	ret = vhost_device_init(&d->vdev, &vepf->epf->dev, id, &vepf_ops,
				VIRTIO_PCI_EPF_CONFIG_MAX, vepf_release);
	if (ret) {
		kfree(d);
		goto unlock;
	}
	vepf->dev = d;
	vepf_wr(vepf, VIRTIO_PCI_EPF_DEVICE_ID, id->device);
	vepf_wr(vepf, VIRTIO_PCI_EPF_VENDOR_ID, id->vendor);
	ret = vhost_device_add(&d->vdev);
	if (ret) {
		vepf->dev = NULL;
		vepf_wr(vepf, VIRTIO_PCI_EPF_DEVICE_ID, 0);
		vhost_device_put(&d->vdev);
		goto unlock;
	}
	mutex_unlock(&vepf->lock);
	return &d->vdev;

unlock:
	mutex_unlock(&vepf->lock);
	return ERR_PTR(ret);
}

static void vepf_del(struct vhost_transport *t, struct vhost_device *vdev)
{
	struct pci_epf_vhost *vepf = container_of(t, struct pci_epf_vhost,
						  transport);

	mutex_lock(&vepf->lock);
	vepf_wr(vepf, VIRTIO_PCI_EPF_DEVICE_ID, 0);
	vepf->dev = NULL;
	mutex_unlock(&vepf->lock);
	/* The driver side loses its device: tell it, as a failure would. */
	vepf_raise(vepf, VIRTIO_PCI_EPF_MAX_QUEUES, VIRTIO_PCI_EPF_ISR_CONFIG);
	vhost_device_unregister(vdev);
	vepf_unmap_all(vepf);
}

static int vepf_bind(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);
	const struct pci_epc_features *features;
	int ret;

	if (epf->header->vendorid == VEPF_NO_ID ||
	    epf->header->deviceid == VEPF_NO_ID) {
		dev_err(&epf->dev, "set vendorid and deviceid in configfs first: this function has no PCI ID of its own\n");
		return -EINVAL;
	}
	features = pci_epc_get_features(epf->epc, epf->func_no, epf->vfunc_no);
	if (!features)
		return -EOPNOTSUPP;
	if (features->bar[BAR_0].type != BAR_PROGRAMMABLE &&
	    !(features->bar[BAR_0].type == BAR_FIXED &&
	      features->bar[BAR_0].fixed_size >= VEPF_BAR_SIZE)) {
		dev_err(&epf->dev, "BAR 0 cannot hold %d bytes\n", VEPF_BAR_SIZE);
		return -EOPNOTSUPP;
	}
	vepf->epc_features = features;
	vepf->reg = pci_epf_alloc_space(epf, VEPF_BAR_SIZE, BAR_0, features,
					PRIMARY_INTERFACE);
	if (!vepf->reg)
		return -ENOMEM;
	memset(vepf->reg, 0, VEPF_BAR_SIZE);
	vepf_init_registers(vepf);

	vepf->transport.name = dev_name(&epf->dev);
	ret = vhost_transport_register(&vepf->transport);
	if (ret) {
		pci_epf_free_space(epf, vepf->reg, BAR_0, PRIMARY_INTERFACE);
		vepf->reg = NULL;
	}
	return ret;
}

static void vepf_unbind(struct pci_epf *epf)
{
	struct pci_epf_vhost *vepf = epf_get_drvdata(epf);

	vepf_link_down(epf);
	vhost_transport_unregister(&vepf->transport);
	cancel_work_sync(&vepf->irq_work);
	vepf_put_doorbell(vepf);
	if (vepf->initialized)
		pci_epc_clear_bar(epf->epc, epf->func_no, epf->vfunc_no,
				  &epf->bar[BAR_0]);
	vepf->initialized = false;
	pci_epf_free_space(epf, vepf->reg, BAR_0, PRIMARY_INTERFACE);
	vepf->reg = NULL;
}

static int vepf_probe(struct pci_epf *epf, const struct pci_epf_device_id *id)
{
	struct pci_epf_vhost *vepf;

	vepf = devm_kzalloc(&epf->dev, sizeof(*vepf), GFP_KERNEL);
	if (!vepf)
		return -ENOMEM;
	vepf->epf = epf;
	mutex_init(&vepf->lock);
	mutex_init(&vepf->map_lock);
	spin_lock_init(&vepf->map_slock);
	INIT_WORK(&vepf->irq_work, vepf_irq_work);
	init_waitqueue_head(&vepf->wq);
	vepf->transport.add = vepf_add;
	vepf->transport.del = vepf_del;
	epf->header = devm_kmemdup(&epf->dev, &vepf_header,
				   sizeof(vepf_header), GFP_KERNEL);
	if (!epf->header)
		return -ENOMEM;
	epf->event_ops = &vepf_event_ops;
	epf_set_drvdata(epf, vepf);
	return 0;
}

static const struct pci_epf_device_id vepf_ids[] = {
	{ .name = "pci_epf_vhost" },
	{ }
};

static const struct pci_epf_ops vepf_epf_ops = {
	.bind	= vepf_bind,
	.unbind	= vepf_unbind,
};

static struct pci_epf_driver vepf_driver = {
	.driver.name	= "pci_epf_vhost",
	.probe		= vepf_probe,
	.id_table	= vepf_ids,
	.ops		= &vepf_epf_ops,
	.owner		= THIS_MODULE,
};

static int __init vepf_init(void)
{
	return pci_epf_register_driver(&vepf_driver);
}
module_init(vepf_init);

static void __exit vepf_exit(void)
{
	pci_epf_unregister_driver(&vepf_driver);
}
module_exit(vepf_exit);

MODULE_DESCRIPTION("PCI endpoint function carrying a vhost device");
MODULE_LICENSE("GPL");
