// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_regs: the device side of the virtio register block.
 *
 * The block (include/uapi/linux/virtio_pci_epf.h) is in this side's
 * memory: the driver side writes it across the link, this side reads its
 * own RAM. Commands (status, queue enable, config writes) and queue
 * notifications are picked up by a service thread. Where the transport has
 * doorbells (struct vhost_regs.has_db), the driver side rings one after
 * each command and each kick, the transport passes it on through
 * vhost_regs_doorbell(), and the thread sleeps until then and looks at the
 * queues that were rung; a queue's kick is passed on to the client from
 * the doorbell's handler itself, one scheduling hop sooner. Otherwise the
 * thread polls, adaptively: every VHOST_REGS_POLL_MIN_US while there is
 * work, backing off to VHOST_REGS_POLL_MAX_US when there is none, so an
 * idle device costs little and a busy one is served within the minimum
 * interval. With doorbells, it still looks at every queue each
 * VHOST_REGS_DB_SAFETY_MS, in case one was lost.
 *
 * The driver side announces each start with a new epoch (after its probe,
 * after a reboot): the thread sees it on its next look, forgets what an
 * earlier driver set up, and acknowledges it before the driver posts a
 * command. So a reboot of the driver side is noticed within
 * VHOST_REGS_DB_SAFETY_MS or VHOST_REGS_POLL_MAX_US even where the
 * transport sees no link event, and no command is posted to a device that
 * is not listening.
 *
 * Every value the driver side wrote is untrusted: queue sizes and ring
 * addresses are checked when a queue is enabled and copied, so later
 * writes change nothing; a malformed command fails the device (it sets
 * DEVICE_NEEDS_RESET and tells the driver) and is logged.
 *
 * Locking: regs->lock (a mutex) protects the device pointer, the epochs,
 * the queues and the thread pointer; it is taken by
 * vhost_regs_add_device() and vhost_regs_del_device(), by
 * vhost_regs_start() and vhost_regs_stop(), and around each pass of the
 * service thread, so a device cannot go while a command runs. It nests
 * outside the vhost core's locks and inside the transport's own. Queue
 * snapshots are written by the service thread before DRIVER_OK and only
 * read after it. The rung bits are atomic. regs->kick_dev is the device
 * under RCU, for vhost_regs_doorbell(): set once the device is added,
 * cleared and waited for (synchronize_rcu()) before it is unregistered.
 */

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vhost_regs.h>
#include <linux/virtio_config.h>

#define VHOST_REGS_POLL_MIN_US	50
#define VHOST_REGS_POLL_MAX_US	20000
/* With doorbells: a look anyway, in case one was lost. */
#define VHOST_REGS_DB_SAFETY_MS	1000

struct vhost_regs_device {
	struct vhost_device vdev;
	struct vhost_regs *regs;
};

static struct vhost_regs *to_regs(struct vhost_device *vdev)
{
	return container_of(vdev, struct vhost_regs_device, vdev)->regs;
}

static u32 vhost_regs_rd(struct vhost_regs *regs, unsigned int off)
{
	return le32_to_cpu(READ_ONCE(*(__le32 *)(regs->base + off)));
}

static void vhost_regs_wr(struct vhost_regs *regs, unsigned int off, u32 val)
{
	WRITE_ONCE(*(__le32 *)(regs->base + off), cpu_to_le32(val));
}

static u64 vhost_regs_rd64(struct vhost_regs *regs, unsigned int off)
{
	return vhost_regs_rd(regs, off) |
	       (u64)vhost_regs_rd(regs, off + 4) << 32;
}

static void vhost_regs_wr64(struct vhost_regs *regs, unsigned int off,
			    u64 val)
{
	vhost_regs_wr(regs, off, lower_32_bits(val));
	vhost_regs_wr(regs, off + 4, upper_32_bits(val));
}

/**
 * vhost_regs_vector() - the vector of an interrupt of the driver side
 * @regs: the register block
 * @bit: a queue, or VHOST_REGS_CONFIG
 *
 * For the transport's &vhost_regs_ops.raise. Any context.
 *
 * Return: the vector the driver side set for @bit (an MSI-X entry, a
 * doorbell: the transport says what it means), or VIRTIO_PCI_EPF_NO_VECTOR.
 * The value is the driver's: the transport checks it.
 */
u32 vhost_regs_vector(struct vhost_regs *regs, unsigned int bit)
{
	if (bit == VHOST_REGS_CONFIG)
		return vhost_regs_rd(regs, VIRTIO_PCI_EPF_CONFIG_VECTOR);
	if (bit < VIRTIO_PCI_EPF_MAX_QUEUES)
		return READ_ONCE(regs->queue_vector[bit]);
	return VIRTIO_PCI_EPF_NO_VECTOR;
}
EXPORT_SYMBOL_GPL(vhost_regs_vector);

static void vhost_regs_raise(struct vhost_regs *regs, unsigned int bit,
			     unsigned int isr)
{
	vhost_regs_wr(regs, isr, 1);
	regs->ops->raise(regs, bit);
}

/* vhost transport operations */

static u64 vhost_regs_get_driver_features(struct vhost_device *vdev)
{
	struct vhost_regs *regs = to_regs(vdev);

	return vhost_regs_rd64(regs, VIRTIO_PCI_EPF_DRIVER_FEATURES) &
	       ~regs->transport_features;
}

static void vhost_regs_set_device_features(struct vhost_device *vdev,
					   u64 features)
{
	struct vhost_regs *regs = to_regs(vdev);

	vhost_regs_wr64(regs, VIRTIO_PCI_EPF_DEVICE_FEATURES,
			features | regs->transport_features);
}

static u8 vhost_regs_get_status(struct vhost_device *vdev)
{
	return READ_ONCE(to_regs(vdev)->driver_status);
}

static void vhost_regs_set_status(struct vhost_device *vdev, u8 status)
{
	vhost_regs_wr(to_regs(vdev), VIRTIO_PCI_EPF_STATUS, status);
}

static void vhost_regs_set_config(struct vhost_device *vdev,
				  unsigned int offset, const void *buf,
				  unsigned int len, u32 generation)
{
	struct vhost_regs *regs = to_regs(vdev);

	/*
	 * Odd while the bytes change, then even and new: a driver never takes
	 * a read that overlapped the update for a good one. The core checked
	 * the range against regs->config_size.
	 */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_GEN, generation << 1 | 1);
	wmb();	/* odd before the bytes */
	memcpy(regs->base + regs->config_off + offset, buf, len);
	wmb();	/* the bytes before the generation that covers them */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_GEN, generation << 1);
}

static void vhost_regs_notify_config(struct vhost_device *vdev)
{
	vhost_regs_raise(to_regs(vdev), VHOST_REGS_CONFIG,
			 VIRTIO_PCI_EPF_ISR_CONFIG);
}

static int vhost_regs_get_vq(struct vhost_device *vdev, unsigned int index,
			     struct vhost_vq_config *cfg)
{
	struct vhost_regs *regs = to_regs(vdev);

	if (index >= regs->num_queues || !test_bit(index, regs->q_enabled))
		return -EINVAL;
	*cfg = regs->q[index];
	return 0;
}

static int vhost_regs_map_ring(struct vhost_device *vdev, u64 addr, u64 len,
			       void __iomem **va, u64 *mapped_len)
{
	struct vhost_regs *regs = to_regs(vdev);

	return regs->ops->map_ring(regs, addr, len, va, mapped_len);
}

static int vhost_regs_read(struct vhost_device *vdev, u64 addr, void *dst,
			   size_t len)
{
	struct vhost_regs *regs = to_regs(vdev);

	return regs->ops->read(regs, addr, dst, len);
}

static int vhost_regs_write(struct vhost_device *vdev, u64 addr,
			    const void *src, size_t len)
{
	struct vhost_regs *regs = to_regs(vdev);

	return regs->ops->write(regs, addr, src, len);
}

static void vhost_regs_notify_vq(struct vhost_device *vdev, unsigned int index)
{
	struct vhost_regs *regs = to_regs(vdev);

	if (index < regs->num_queues)
		vhost_regs_raise(regs, index, VIRTIO_PCI_EPF_ISR_QUEUE);
}

static void vhost_regs_notify_vq_cansleep(struct vhost_device *vdev,
					  unsigned int index)
{
	struct vhost_regs *regs = to_regs(vdev);

	if (index >= regs->num_queues)
		return;
	if (!regs->ops->raise_cansleep) {
		vhost_regs_raise(regs, index, VIRTIO_PCI_EPF_ISR_QUEUE);
		return;
	}
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_ISR_QUEUE, 1);
	regs->ops->raise_cansleep(regs, index);
}

static const struct vhost_transport_ops vhost_regs_transport_ops = {
	.get_driver_features	= vhost_regs_get_driver_features,
	.set_device_features	= vhost_regs_set_device_features,
	.get_status		= vhost_regs_get_status,
	.set_status		= vhost_regs_set_status,
	.set_config		= vhost_regs_set_config,
	.notify_config		= vhost_regs_notify_config,
	.get_vq			= vhost_regs_get_vq,
	.map_ring		= vhost_regs_map_ring,
	.read			= vhost_regs_read,
	.write			= vhost_regs_write,
	.notify_vq		= vhost_regs_notify_vq,
	.notify_vq_cansleep	= vhost_regs_notify_vq_cansleep,
};

/* Commands of the driver side, run by the service thread */

/* Forget every queue and what reaches them: after a reset, a failure. */
static void vhost_regs_forget_queues(struct vhost_regs *regs)
{
	unsigned int q;

	bitmap_zero(regs->q_enabled, VIRTIO_PCI_EPF_MAX_QUEUES);
	for (q = 0; q < VIRTIO_PCI_EPF_MAX_QUEUES; q++)
		WRITE_ONCE(regs->queue_vector[q], VIRTIO_PCI_EPF_NO_VECTOR);
	regs->sel = U32_MAX;
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_QUEUE_SEL + VIRTIO_PCI_EPF_Q_ENABLED, 0);
	if (regs->ops->forget)
		regs->ops->forget(regs);
}

static int vhost_regs_set_status_cmd(struct vhost_regs *regs, u32 status)
{
	struct vhost_device *vdev = &regs->rdev->vdev;

	if (status > U8_MAX)
		return -EINVAL;
	WRITE_ONCE(regs->driver_status, status);
	vhost_device_status_changed(vdev);
	if (!vhost_get_status(vdev))
		vhost_regs_forget_queues(regs);
	return 0;
}

static int vhost_regs_check_ring(struct vhost_regs *regs, unsigned int q,
				 const char *what, u64 addr, u64 len, u64 align)
{
	if (!IS_ALIGNED(addr, align)) {
		dev_err(regs->dev, "queue %u: %s at %#llx is not %llu-byte aligned\n",
			q, what, addr, align);
		return -EINVAL;
	}
	if (regs->ops->map_ring(regs, addr, len, NULL, NULL)) {
		dev_err(regs->dev, "queue %u: %s at %#llx+%#llx is out of reach\n",
			q, what, addr, len);
		return -EINVAL;
	}
	return 0;
}

static int vhost_regs_queue_enable(struct vhost_regs *regs, u32 q)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	u8 status = vhost_get_status(&regs->rdev->vdev);
	struct vhost_vq_config cfg;
	int ret;

	if (q >= regs->num_queues) {
		dev_err(regs->dev, "QUEUE_ENABLE: no queue %u\n", q);
		return -EINVAL;
	}
	if (q != regs->sel) {
		dev_err(regs->dev, "QUEUE_ENABLE %u: queue %u is selected\n",
			q, regs->sel);
		return -EINVAL;
	}
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (status & VIRTIO_CONFIG_S_DRIVER_OK) || test_bit(q, regs->q_enabled)) {
		dev_err(regs->dev, "QUEUE_ENABLE %u: not allowed at status %#x\n",
			q, status);
		return -EINVAL;
	}
	cfg.num = vhost_regs_rd(regs, base + VIRTIO_PCI_EPF_Q_SIZE);
	cfg.desc = vhost_regs_rd64(regs, base + VIRTIO_PCI_EPF_Q_DESC);
	cfg.avail = vhost_regs_rd64(regs, base + VIRTIO_PCI_EPF_Q_DRIVER);
	cfg.used = vhost_regs_rd64(regs, base + VIRTIO_PCI_EPF_Q_DEVICE);
	if (!cfg.num || cfg.num > regs->queue_size_max ||
	    !is_power_of_2(cfg.num)) {
		dev_err(regs->dev, "queue %u: size %u is not a power of two up to %u\n",
			q, cfg.num, regs->queue_size_max);
		return -EINVAL;
	}
	ret = vhost_regs_check_ring(regs, q, "descriptor table", cfg.desc,
				    16ULL * cfg.num, 16) ?:
	      vhost_regs_check_ring(regs, q, "driver ring", cfg.avail,
				    6 + 2ULL * cfg.num, 2) ?:
	      vhost_regs_check_ring(regs, q, "device ring", cfg.used,
				    6 + 8ULL * cfg.num, 4);
	if (ret)
		return ret;
	regs->q[q] = cfg;
	set_bit(q, regs->q_enabled);
	WRITE_ONCE(regs->queue_vector[q],
		   vhost_regs_rd(regs, base + VIRTIO_PCI_EPF_Q_VECTOR));
	vhost_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_ENABLED, 1);
	return 0;
}

/* Show the device's fields of queue @q in the selected-queue block. */
static int vhost_regs_queue_select(struct vhost_regs *regs, u32 q)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	u32 offset, data;

	if (q >= regs->num_queues) {
		dev_err(regs->dev, "QUEUE_SELECT: no queue %u\n", q);
		return -EINVAL;
	}
	regs->sel = q;
	vhost_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_SIZE_MAX,
		      regs->queue_size_max);
	vhost_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_ENABLED,
		      test_bit(q, regs->q_enabled));
	if (regs->has_db && regs->ops->queue_doorbell) {
		regs->ops->queue_doorbell(regs, q, &offset, &data);
		vhost_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_DB_OFFSET, offset);
		vhost_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_DB_DATA, data);
	}
	return 0;
}

static int vhost_regs_config_write(struct vhost_regs *regs, u32 arg0,
				   u32 value)
{
	unsigned int offset = arg0 & 0xffff, len = arg0 >> 16;
	__le32 v = cpu_to_le32(value);
	int ret;

	if ((len != 1 && len != 2 && len != 4) ||
	    offset + len > regs->config_size) {
		dev_err(regs->dev, "CONFIG_WRITE: %u bytes at %u are outside config space\n",
			len, offset);
		return -EINVAL;
	}
	/* The core decides, and publishes it through set_config. */
	ret = vhost_device_config_write(&regs->rdev->vdev, offset, &v, len);
	if (ret == -EPERM)
		dev_info_ratelimited(regs->dev, "CONFIG_WRITE: %u bytes at %u are read-only\n",
				     len, offset);
	return ret;
}

static void vhost_regs_run_command(struct vhost_regs *regs, u32 seq)
{
	const char *malformed = "malformed command";
	u32 cmd, arg0, arg1;
	int ret;

	rmb();	/* the arguments were written before the sequence number */
	cmd = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD);
	arg0 = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD_ARG0);
	arg1 = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD_ARG1);

	if (!regs->rdev) {
		ret = -ENODEV;
	} else {
		switch (cmd) {
		case VIRTIO_PCI_EPF_CMD_SET_STATUS:
			ret = vhost_regs_set_status_cmd(regs, arg0);
			break;
		case VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE:
			ret = vhost_regs_queue_enable(regs, arg0);
			malformed = "malformed queue setup";
			break;
		case VIRTIO_PCI_EPF_CMD_CONFIG_WRITE:
			ret = vhost_regs_config_write(regs, arg0, arg1);
			break;
		case VIRTIO_PCI_EPF_CMD_QUEUE_SELECT:
			ret = vhost_regs_queue_select(regs, arg0);
			break;
		default:
			dev_err(regs->dev, "unknown command %u\n", cmd);
			ret = -EINVAL;
		}
		/* Every refusal of a command's values fails the device. */
		if (ret == -EINVAL)
			vhost_device_fail(&regs->rdev->vdev, malformed);
	}
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CMD_RESULT, -ret);
	wmb();	/* the result before the answer */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CMD_DONE, seq);
	regs->cmd_done = seq;
}

/*
 * The driver side went away: what it set up is gone with it, as if it had
 * reset the device.
 */
static void vhost_regs_driver_gone(struct vhost_regs *regs)
{
	lockdep_assert_held(&regs->lock);
	if (regs->rdev)
		vhost_regs_set_status_cmd(regs, 0);
}

/*
 * A driver announced itself with a new epoch: whatever an earlier one set
 * up is gone (it may have been a driver side that rebooted without a link
 * event), and commands are answered from the current sequence number on.
 */
static void vhost_regs_new_driver(struct vhost_regs *regs, u32 epoch)
{
	dev_info(regs->dev, "driver side started (epoch %#x)\n", epoch);
	vhost_regs_driver_gone(regs);
	regs->driver_epoch = epoch;
	regs->stale_epoch = 0;
	regs->cmd_done = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD_SEQ);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CMD_DONE, regs->cmd_done);
	wmb();	/* the sequence number before the acknowledgment */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_EPOCH_ACK, epoch);
}

/*
 * If queue @q's NOTIFY word is set, clear it and pass the kick on to the
 * client; true if it was set. Any context: the service thread and
 * vhost_regs_doorbell() both call it.
 */
static bool vhost_regs_take_kick(struct vhost_regs *regs,
				 struct vhost_device *vdev, unsigned int q)
{
	unsigned int off = regs->notify_off + 4 * q;

	if (!vhost_regs_rd(regs, off))
		return false;
	/* Clear first: a notification after this is seen next time. */
	vhost_regs_wr(regs, off, 0);
	/* The clear lands before the client looks at the ring. */
	mb();
	vhost_vq_kicked(vdev, q);
	return true;
}

/*
 * One pass over the register block; true if there was anything to do.
 * The queues looked at are those whose doorbell rang, in @rung, or all of
 * them if @rung is NULL (polling, or the look now and then in case a
 * doorbell was lost).
 */
static bool vhost_regs_service(struct vhost_regs *regs,
			       const unsigned long *rung)
{
	bool busy = false;
	u32 seq, epoch;
	unsigned int q;

	mutex_lock(&regs->lock);
	epoch = vhost_regs_rd(regs, VIRTIO_PCI_EPF_DRIVER_EPOCH);
	if (epoch != regs->driver_epoch && epoch != regs->stale_epoch) {
		if (epoch) {
			rmb();	/* the epoch before anything the driver wrote after it */
			vhost_regs_new_driver(regs, epoch);
		}
		busy = true;
	}
	/* Nothing is answered before a driver announced itself. */
	if (!regs->driver_epoch) {
		mutex_unlock(&regs->lock);
		return busy;
	}
	seq = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD_SEQ);
	if (seq != regs->cmd_done) {
		if (seq != regs->cmd_done + 1)
			dev_warn_ratelimited(regs->dev, "command %u follows %u: commands lost\n",
					     seq, regs->cmd_done);
		vhost_regs_run_command(regs, seq);
		busy = true;
	}
	for (q = 0; regs->rdev && q < regs->num_queues; q++)
		if ((!rung || test_bit(q, rung)) &&
		    vhost_regs_take_kick(regs, &regs->rdev->vdev, q))
			busy = true;
	mutex_unlock(&regs->lock);
	return busy;
}

/**
 * vhost_regs_doorbell() - the driver side rang a doorbell
 * @regs: the register block
 * @bit: a queue's, or VHOST_REGS_CMD
 *
 * A queue's kick is passed on to the client from here; a command, or a
 * kick while there is no device, wakes the service thread. Any context,
 * hard interrupt handlers included.
 */
void vhost_regs_doorbell(struct vhost_regs *regs, unsigned int bit)
{
	struct vhost_regs_device *rdev;

	if (bit >= VHOST_REGS_NR_BITS)
		return;
	if (bit != VHOST_REGS_CMD) {
		rcu_read_lock();
		rdev = rcu_dereference(regs->kick_dev);
		/* Nothing there: taken by the thread's look meanwhile. */
		if (rdev && bit < regs->num_queues)
			vhost_regs_take_kick(regs, &rdev->vdev, bit);
		rcu_read_unlock();
		if (rdev)
			return;
	}
	set_bit(bit, regs->rung);
	wake_up(&regs->wq);
}
EXPORT_SYMBOL_GPL(vhost_regs_doorbell);

/*
 * With doorbells, sleep until one rings (looking anyway now and then);
 * without, poll adaptively: soon after work, less and less often without.
 */
static int vhost_regs_thread(void *data)
{
	struct vhost_regs *regs = data;
	unsigned long interval = VHOST_REGS_POLL_MIN_US;
	DECLARE_BITMAP(rung, VHOST_REGS_NR_BITS);
	bool all = true, busy;
	unsigned int bit;

	while (!kthread_should_stop()) {
		if (!regs->has_db) {
			busy = vhost_regs_service(regs, NULL);
			if (busy)
				interval = VHOST_REGS_POLL_MIN_US;
			else
				interval = min(interval * 2, VHOST_REGS_POLL_MAX_US);
			usleep_range(interval, interval + interval / 4);
			continue;
		}
		bitmap_zero(rung, VHOST_REGS_NR_BITS);
		for (bit = 0; bit < VHOST_REGS_NR_BITS; bit++)
			if (test_and_clear_bit(bit, regs->rung))
				__set_bit(bit, rung);
		/* The commands' doorbell stands for every queue too. */
		busy = vhost_regs_service(regs, all ||
					  test_bit(VHOST_REGS_CMD, rung) ?
					  NULL : rung);
		all = false;
		if (busy) {
			cond_resched();
			continue;
		}
		/* Every queue, now and then, in case a doorbell was lost. */
		all = !wait_event_timeout(regs->wq,
					  !bitmap_empty(regs->rung, VHOST_REGS_NR_BITS) ||
					  kthread_should_stop(),
					  msecs_to_jiffies(VHOST_REGS_DB_SAFETY_MS));
	}
	return 0;
}

/* The register block as a driver finds it when it can reach it. */
static void vhost_regs_init_registers(struct vhost_regs *regs)
{
	struct vhost_device *vdev = regs->rdev ? &regs->rdev->vdev : NULL;
	unsigned int q;

	vhost_regs_wr(regs, VIRTIO_PCI_EPF_MAGIC_OFF, VIRTIO_PCI_EPF_MAGIC);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_VERSION_OFF, VIRTIO_PCI_EPF_VERSION);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_ID, vdev ? vdev->id.device : 0);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_VENDOR_ID, vdev ? vdev->id.vendor : 0);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_NUM_QUEUES, regs->num_queues);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_SIZE, regs->config_size);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_NOTIFY_OFF, regs->notify_off);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CONFIG_OFF, regs->config_off);
	if (regs->db_bar != VIRTIO_PCI_EPF_DB_NONE) {
		vhost_regs_wr(regs, VIRTIO_PCI_EPF_DB_OFFSET, regs->db_offset);
		vhost_regs_wr(regs, VIRTIO_PCI_EPF_DB_DATA, regs->db_data);
	}
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DB_BAR, regs->db_bar);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_ISR_QUEUE, 0);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
	for (q = 0; q < regs->num_queues; q++)
		vhost_regs_wr(regs, regs->notify_off + 4 * q, 0);
	/*
	 * A driver that was there before gets no answer until it announces
	 * itself again; one that announces itself from now on is answered.
	 */
	regs->driver_epoch = 0;
	regs->stale_epoch = vhost_regs_rd(regs, VIRTIO_PCI_EPF_DRIVER_EPOCH);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_EPOCH_ACK, 0);
	regs->cmd_done = vhost_regs_rd(regs, VIRTIO_PCI_EPF_CMD_SEQ);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_CMD_DONE, regs->cmd_done);
	wmb();	/* the register block before the epoch that announces it */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_EPOCH, ++regs->device_epoch);
}

/**
 * vhost_regs_init() - set up a register block
 * @regs: the block, with the fields the transport owns filled in
 *
 * Writes the block as a driver finds it, with no device yet. The block's
 * layout must hold: NOTIFY words and config space past the fixed fields,
 * 4-byte aligned, not overlapping, at most the protocol's maxima.
 *
 * Return: 0, or -EINVAL (and a log line) for a layout the protocol does
 * not allow.
 */
int vhost_regs_init(struct vhost_regs *regs)
{
	unsigned int notify_end = regs->notify_off + 4 * regs->num_queues;

	if (!regs->num_queues || regs->num_queues > VIRTIO_PCI_EPF_MAX_QUEUES ||
	    regs->config_size > VIRTIO_PCI_EPF_CONFIG_MAX ||
	    regs->notify_off < VIRTIO_PCI_EPF_LAYOUT_END ||
	    regs->config_off < VIRTIO_PCI_EPF_LAYOUT_END ||
	    !IS_ALIGNED(regs->notify_off | regs->config_off, 4) ||
	    (regs->config_off < notify_end &&
	     regs->notify_off < regs->config_off + regs->config_size) ||
	    !regs->queue_size_max || !regs->ops || !regs->ops->raise ||
	    !regs->ops->map_ring || !regs->ops->read || !regs->ops->write) {
		dev_err(regs->dev, "register block layout or operations not allowed by the protocol\n");
		return -EINVAL;
	}
	mutex_init(&regs->lock);
	init_waitqueue_head(&regs->wq);
	regs->sel = U32_MAX;
	bitmap_zero(regs->rung, VHOST_REGS_NR_BITS);
	mutex_lock(&regs->lock);
	vhost_regs_init_registers(regs);
	mutex_unlock(&regs->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_regs_init);

/**
 * vhost_regs_stop() - the driver side can no longer reach the block
 * @regs: the register block
 *
 * Stops the service thread, and forgets what the driver side set up, as
 * if it had reset the device. Process context.
 */
void vhost_regs_stop(struct vhost_regs *regs)
{
	struct task_struct *thread;

	mutex_lock(&regs->lock);
	thread = regs->thread;
	regs->thread = NULL;
	mutex_unlock(&regs->lock);
	if (thread)
		kthread_stop(thread);
	mutex_lock(&regs->lock);
	vhost_regs_driver_gone(regs);
	mutex_unlock(&regs->lock);
}
EXPORT_SYMBOL_GPL(vhost_regs_stop);

/**
 * vhost_regs_start() - the driver side can reach the block (again)
 * @regs: the register block
 * @name: the service thread's name
 *
 * Forgets any earlier driver, writes the block afresh under a new device
 * epoch, and starts the service thread. Process context.
 *
 * Return: 0, or the error of starting the thread.
 */
int vhost_regs_start(struct vhost_regs *regs, const char *name)
{
	struct task_struct *thread;

	vhost_regs_stop(regs);
	mutex_lock(&regs->lock);
	vhost_regs_init_registers(regs);
	thread = kthread_run(vhost_regs_thread, regs, "%s", name);
	if (IS_ERR(thread)) {
		mutex_unlock(&regs->lock);
		dev_err(regs->dev, "no service thread: %pe\n", thread);
		return PTR_ERR(thread);
	}
	regs->thread = thread;
	mutex_unlock(&regs->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_regs_start);

static void vhost_regs_release(struct vhost_device *vdev)
{
	kfree(container_of(vdev, struct vhost_regs_device, vdev));
}

/**
 * vhost_regs_add_device() - carry a new vhost device in the block
 * @regs: the register block
 * @id: the device's virtio IDs
 * @bind: the client binding, as the transport's add() got it
 *
 * For the transport's &vhost_transport.add: a block carries one device.
 *
 * Return: the device, or an ERR_PTR(): -EBUSY if the block carries one.
 */
struct vhost_device *vhost_regs_add_device(struct vhost_regs *regs,
					   const struct vhost_device_id *id,
					   const struct vhost_bind *bind)
{
	struct vhost_regs_device *rdev;
	int ret;

	mutex_lock(&regs->lock);
	if (regs->rdev) {
		dev_err(regs->dev, "already carries a device; a register block carries one\n");
		ret = -EBUSY;
		goto unlock;
	}
	rdev = kzalloc(sizeof(*rdev), GFP_KERNEL);
	if (!rdev) {
		ret = -ENOMEM;
		goto unlock;
	}
	rdev->regs = regs;
	ret = vhost_device_init(&rdev->vdev, regs->dev, id, bind,
				&vhost_regs_transport_ops, regs->config_size,
				vhost_regs_release);
	if (ret) {
		kfree(rdev);
		goto unlock;
	}
	regs->driver_status = 0;
	regs->rdev = rdev;
	vhost_regs_forget_queues(regs);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_ID, id->device);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_VENDOR_ID, id->vendor);
	/* Another device in the block: a driver side that kept one sees it. */
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_EPOCH, ++regs->device_epoch);
	ret = vhost_device_add(&rdev->vdev);
	if (ret) {
		regs->rdev = NULL;
		vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_ID, 0);
		vhost_device_put(&rdev->vdev);
		goto unlock;
	}
	rcu_assign_pointer(regs->kick_dev, rdev);
	mutex_unlock(&regs->lock);
	return &rdev->vdev;

unlock:
	mutex_unlock(&regs->lock);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vhost_regs_add_device);

/**
 * vhost_regs_del_device() - the block no longer carries its device
 * @regs: the register block
 * @vdev: the device vhost_regs_add_device() returned
 *
 * For the transport's &vhost_transport.del. The driver side is told, as a
 * failure would be, and the device is unregistered. Process context.
 */
void vhost_regs_del_device(struct vhost_regs *regs, struct vhost_device *vdev)
{
	mutex_lock(&regs->lock);
	vhost_regs_wr(regs, VIRTIO_PCI_EPF_DEVICE_ID, 0);
	regs->rdev = NULL;
	RCU_INIT_POINTER(regs->kick_dev, NULL);
	mutex_unlock(&regs->lock);
	/* No doorbell's handler kicks the device from here on. */
	synchronize_rcu();
	/* The driver side loses its device: tell it, as a failure would. */
	vhost_regs_raise(regs, VHOST_REGS_CONFIG, VIRTIO_PCI_EPF_ISR_CONFIG);
	vhost_device_unregister(vdev);
	if (regs->ops->forget)
		regs->ops->forget(regs);
}
EXPORT_SYMBOL_GPL(vhost_regs_del_device);

MODULE_DESCRIPTION("The device side of the virtio register block, for vhost transports");
MODULE_LICENSE("GPL");
