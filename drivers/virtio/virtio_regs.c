// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio_regs: the driver side of the register protocol of
 * Documentation/PCI/endpoint/pci-vhost-function.rst.
 *
 * Every transport that carries the protocol's register block (a BAR of a
 * PCI endpoint function, an NTB memory window, shared memory with a
 * mailbox) drives it the same way; this library is that driving, and the
 * transports keep only how they reach the block, ring the device and
 * take its interrupts (struct virtio_regs_ops, include/linux/virtio_regs.h).
 *
 * Before its first command the driver announces itself with a new epoch
 * and waits, bounded, for the device to acknowledge it: the device then
 * forgot any earlier driver (one that ran before a reboot of this side).
 *
 * Actions that need the device (status, queue select and enable, config
 * writes) are commands: written to the mailbox, answered by the device.
 * The device is another system: every wait for it is bounded by the
 * transport's cmd_timeout_ms; a device that does not answer is marked
 * broken, and the virtio device with it.
 *
 * The device is untrusted: a layout beyond the block or the protocol's
 * sizes refuses the probe, a queue size beyond the spec's refuses the
 * queue, config accesses beyond config space are refused, and a config
 * generation that stays odd or never settles breaks the device after a
 * bounded time instead of looping.
 *
 * Locking: regs->cmd_lock (a mutex) serialises commands; the virtio core
 * serialises status changes and queue setup; the interrupt handlers only
 * read the ISR words and hand over to virtio. regs->gen_lock (a spinlock)
 * protects the generation bookkeeping, which may be read in any context.
 */

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/virtio_pci_epf.h>
#include <linux/virtio_regs.h>
#include <linux/virtio_ring.h>

/* Bounds on a config generation that does not settle. */
#define VIRTIO_REGS_GEN_ODD_US		10000
#define VIRTIO_REGS_GEN_CHANGES_MAX	64

/* The largest queue the virtio spec allows. */
#define VIRTIO_REGS_QUEUE_SIZE_MAX	32768

static unsigned int virtio_regs_timeout(struct virtio_regs *regs)
{
	return READ_ONCE(*regs->cmd_timeout_ms);
}

static const struct virtio_config_ops virtio_regs_config_ops;

/**
 * virtio_regs_init() - set up the driver side of a register block
 * @regs: the register block, zeroed (in the transport's structure)
 * @dev: the transport's device, named in messages
 * @base: the mapped block
 * @regs_size: bytes mapped at @base, at most VIRTIO_PCI_EPF_REGS_MAX
 * @ops: the transport's operations; @ops->create_vq is required
 * @cmd_timeout_ms: the bound of every wait on the device, in ms, read at
 *	each wait (at least 1)
 *
 * Reads nothing from the block: call virtio_regs_identify() before, and
 * virtio_regs_check_layout() and virtio_regs_announce() after. Sets the
 * config ops of @regs->vdev, which are the library's; the transport then
 * sets the rest of @regs->vdev (id, parent, release) and registers it.
 */
void virtio_regs_init(struct virtio_regs *regs, struct device *dev,
		      void __iomem *base, unsigned int regs_size,
		      const struct virtio_regs_ops *ops,
		      const unsigned int *cmd_timeout_ms)
{
	regs->dev = dev;
	regs->base = base;
	regs->regs_size = regs_size;
	regs->ops = ops;
	regs->cmd_timeout_ms = cmd_timeout_ms;
	regs->vdev.config = &virtio_regs_config_ops;
	mutex_init(&regs->cmd_lock);
	spin_lock_init(&regs->gen_lock);
}
EXPORT_SYMBOL_GPL(virtio_regs_init);

/**
 * virtio_regs_identify() - does a register block start here?
 * @base: where the block would be mapped
 * @size: bytes mapped at @base
 * @version: the VERSION found, set when MAGIC is there
 *
 * Reads MAGIC and VERSION. The caller says what it found, in its own
 * terms (which BAR, which device of a window).
 *
 * Return: 0 for a block of the version this library speaks
 * (VIRTIO_PCI_EPF_VERSION); -EPROTONOSUPPORT for a block of another
 * version; -ENODEV if MAGIC is not there; -EINVAL if @size is not that of
 * a block (VIRTIO_PCI_EPF_REGS_MIN to VIRTIO_PCI_EPF_REGS_MAX).
 */
int virtio_regs_identify(void __iomem *base, unsigned int size, u32 *version)
{
	if (size < VIRTIO_PCI_EPF_REGS_MIN || size > VIRTIO_PCI_EPF_REGS_MAX)
		return -EINVAL;
	if (ioread32(base + VIRTIO_PCI_EPF_MAGIC_OFF) != VIRTIO_PCI_EPF_MAGIC)
		return -ENODEV;
	*version = ioread32(base + VIRTIO_PCI_EPF_VERSION_OFF);
	return *version == VIRTIO_PCI_EPF_VERSION ? 0 : -EPROTONOSUPPORT;
}
EXPORT_SYMBOL_GPL(virtio_regs_identify);

/**
 * virtio_regs_check_layout() - read and check the layout the device gives
 * @regs: the register block, with @regs->regs_size set
 *
 * The NOTIFY words and config space must be after the fixed fields, in
 * the block, 4-byte aligned and apart, with no more queues and config
 * space than the protocol allows. Sets the layout fields of @regs.
 *
 * Return: 0, or -EINVAL for a layout that does not fit (logged).
 */
int virtio_regs_check_layout(struct virtio_regs *regs)
{
	u32 notify = virtio_regs_rd(regs, VIRTIO_PCI_EPF_NOTIFY_OFF);
	u32 config = virtio_regs_rd(regs, VIRTIO_PCI_EPF_CONFIG_OFF);
	u32 notify_end, config_end;

	regs->num_queues = virtio_regs_rd(regs, VIRTIO_PCI_EPF_NUM_QUEUES);
	regs->config_size = virtio_regs_rd(regs, VIRTIO_PCI_EPF_CONFIG_SIZE);
	if (regs->num_queues > VIRTIO_PCI_EPF_MAX_QUEUES ||
	    regs->config_size > VIRTIO_PCI_EPF_CONFIG_MAX) {
		dev_err(regs->dev, "%u queues and %u bytes of config space: more than the protocol allows\n",
			regs->num_queues, regs->config_size);
		return -EINVAL;
	}
	notify_end = notify + 4 * regs->num_queues;
	config_end = config + regs->config_size;
	if (notify < VIRTIO_PCI_EPF_LAYOUT_END || notify % 4 ||
	    notify_end > regs->regs_size ||
	    config < VIRTIO_PCI_EPF_LAYOUT_END || config % 4 ||
	    config_end > regs->regs_size ||
	    (notify < config_end && config < notify_end)) {
		dev_err(regs->dev, "NOTIFY words at %#x+%#x and config at %#x+%#x do not fit apart in %u bytes of registers\n",
			notify, 4 * regs->num_queues, config, regs->config_size,
			regs->regs_size);
		return -EINVAL;
	}
	regs->notify_off = notify;
	regs->config_off = config;
	return 0;
}
EXPORT_SYMBOL_GPL(virtio_regs_check_layout);

/* Poll @off until it reads @want, for at most cmd_timeout_ms. */
static int virtio_regs_wait(struct virtio_regs *regs, unsigned int off,
			    u32 want)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(virtio_regs_timeout(regs));
	unsigned int us = 10;

	for (;;) {
		if (virtio_regs_rd(regs, off) == want)
			return 0;
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(us, 2 * us);
		us = min(2 * us, 5000U);
	}
}

static void virtio_regs_kick_cmd(struct virtio_regs *regs)
{
	if (regs->ops->kick_cmd)
		regs->ops->kick_cmd(regs);
}

/**
 * virtio_regs_announce() - announce a new driver to the device
 * @regs: the register block, identified and its layout checked
 *
 * Writes a new DRIVER_EPOCH, rings the command doorbell and waits, for at
 * most cmd_timeout_ms, for the device to acknowledge it in EPOCH_ACK: the
 * device then dropped what an earlier driver set up and answers commands
 * from the current CMD_SEQ on. Call it before the first command, and
 * again whenever the driver starts over on the same block.
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENODEV if the device did not acknowledge in time
 * (logged).
 */
int virtio_regs_announce(struct virtio_regs *regs)
{
	u32 old = virtio_regs_rd(regs, VIRTIO_PCI_EPF_DRIVER_EPOCH);
	u32 epoch;

	do {
		epoch = get_random_u32() | 1;
	} while (epoch == old);
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_DRIVER_EPOCH, epoch);
	virtio_regs_kick_cmd(regs);
	if (virtio_regs_wait(regs, VIRTIO_PCI_EPF_EPOCH_ACK, epoch)) {
		dev_err(regs->dev, "the device side did not acknowledge this driver in %u ms\n",
			virtio_regs_timeout(regs));
		return -ENODEV;
	}
	regs->seq = virtio_regs_rd(regs, VIRTIO_PCI_EPF_CMD_SEQ);
	return 0;
}
EXPORT_SYMBOL_GPL(virtio_regs_announce);

/*
 * Post a command and wait, bounded, for its answer. A device that does not
 * answer in time is broken, and the virtio device with it.
 */
static int virtio_regs_cmd(struct virtio_regs *regs, u32 cmd, u32 arg0,
			   u32 arg1)
{
	u32 result;
	int ret;

	mutex_lock(&regs->cmd_lock);
	if (regs->broken) {
		ret = -EIO;
		goto out;
	}
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_CMD, cmd);
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_CMD_ARG0, arg0);
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_CMD_ARG1, arg1);
	regs->seq++;
	/* MMIO writes are not reordered: the arguments land first. */
	virtio_regs_wr(regs, VIRTIO_PCI_EPF_CMD_SEQ, regs->seq);
	virtio_regs_kick_cmd(regs);
	ret = virtio_regs_wait(regs, VIRTIO_PCI_EPF_CMD_DONE, regs->seq);
	if (ret) {
		dev_err(regs->dev, "command %u (%#x, %#x): no answer in %u ms, device broken\n",
			cmd, arg0, arg1, virtio_regs_timeout(regs));
		WRITE_ONCE(regs->broken, true);
		goto out;
	}
	result = virtio_regs_rd(regs, VIRTIO_PCI_EPF_CMD_RESULT);
	if (result) {
		ret = result < MAX_ERRNO ? -(int)result : -EIO;
		dev_err(regs->dev, "command %u (%#x, %#x) refused: %d\n", cmd,
			arg0, arg1, ret);
	}
out:
	mutex_unlock(&regs->cmd_lock);
	if (ret == -ETIMEDOUT)
		virtio_break_device(&regs->vdev);
	return ret;
}

/**
 * virtio_regs_set_broken() - mark the device broken
 * @regs: the register block
 * @why: what the device did, for the message
 *
 * Logs the first time, marks the block and the virtio device broken: no
 * more commands are posted, the status reads as the driver's own copy and
 * the config generation stands still. For a transport that finds its
 * device gone (link down, peer restarted) as well as for the library.
 *
 * Context: any context.
 */
void virtio_regs_set_broken(struct virtio_regs *regs, const char *why)
{
	if (!READ_ONCE(regs->broken))
		dev_err(regs->dev, "%s: device broken\n", why);
	WRITE_ONCE(regs->broken, true);
	virtio_break_device(&regs->vdev);
}
EXPORT_SYMBOL_GPL(virtio_regs_set_broken);

/**
 * virtio_regs_get() - virtio_config_ops.get: read config space
 * @vdev: the virtio device
 * @offset: offset in config space
 * @buf: where to put what is read
 * @len: bytes to read
 *
 * Reads the block's config space byte by byte. A read beyond config space
 * is refused (logged) and gives zeroes.
 *
 * Context: any context.
 */
static void virtio_regs_get(struct virtio_device *vdev, unsigned int offset,
			    void *buf, unsigned int len)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	u8 *p = buf;

	if (offset > regs->config_size || len > regs->config_size - offset) {
		dev_err(&vdev->dev, "config read [%u, +%u) beyond %u bytes\n",
			offset, len, regs->config_size);
		memset(buf, 0, len);
		return;
	}
	while (len--)
		*p++ = ioread8(regs->base + regs->config_off + offset++);
}

/**
 * virtio_regs_set() - virtio_config_ops.set: write config space
 * @vdev: the virtio device
 * @offset: offset in config space
 * @buf: what to write
 * @len: bytes to write
 *
 * Config space is the device's: each write is a CONFIG_WRITE command of
 * 4, 2 or 1 bytes. A write beyond config space is refused (logged); the
 * first command that fails ends the write.
 *
 * Context: process context; sleeps.
 */
static void virtio_regs_set(struct virtio_device *vdev, unsigned int offset,
			    const void *buf, unsigned int len)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	const u8 *p = buf;

	if (offset > regs->config_size || len > regs->config_size - offset) {
		dev_err(&vdev->dev, "config write [%u, +%u) beyond %u bytes\n",
			offset, len, regs->config_size);
		return;
	}
	while (len) {
		unsigned int n = len >= 4 ? 4 : len >= 2 ? 2 : 1;
		u32 v = 0;

		memcpy(&v, p, n);
		if (virtio_regs_cmd(regs, VIRTIO_PCI_EPF_CMD_CONFIG_WRITE,
				    n << 16 | offset,
				    le32_to_cpu((__force __le32)v)))
			return;
		p += n;
		offset += n;
		len -= n;
	}
}

/**
 * virtio_regs_generation() - virtio_config_ops.generation
 * @vdev: the virtio device
 *
 * The device makes the generation odd while it changes config space. The
 * virtio core reads config until the generation before and after agree,
 * with no bound of its own: an odd generation is waited out for at most
 * 10 ms, and a generation that is new on more than 64 reads in a row
 * breaks the device. A broken device's generation stands still, so every
 * reader ends.
 *
 * Context: any context; does not sleep.
 * Return: the config generation, even.
 */
static u32 virtio_regs_generation(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	u64 deadline = ktime_get_ns() + VIRTIO_REGS_GEN_ODD_US * NSEC_PER_USEC;
	unsigned long flags;
	bool settled;
	u32 gen;

	for (;;) {
		if (READ_ONCE(regs->broken))
			return READ_ONCE(regs->gen);
		gen = virtio_regs_rd(regs, VIRTIO_PCI_EPF_CONFIG_GEN);
		if (!(gen & 1))
			break;
		if (ktime_get_ns() > deadline) {
			virtio_regs_set_broken(regs, "config generation stays odd");
			return READ_ONCE(regs->gen);
		}
		/* Config may be read in atomic context: no sleep. */
		cpu_relax();
	}
	spin_lock_irqsave(&regs->gen_lock, flags);
	if (gen == regs->gen)
		regs->gen_changes = 0;
	else if (++regs->gen_changes <= VIRTIO_REGS_GEN_CHANGES_MAX)
		WRITE_ONCE(regs->gen, gen);
	settled = regs->gen_changes <= VIRTIO_REGS_GEN_CHANGES_MAX;
	spin_unlock_irqrestore(&regs->gen_lock, flags);
	if (settled)
		return gen;
	virtio_regs_set_broken(regs, "config generation never settles");
	return READ_ONCE(regs->gen);
}

/**
 * virtio_regs_get_status() - virtio_config_ops.get_status
 * @vdev: the virtio device
 *
 * Context: any context.
 * Return: STATUS as the device set it, or, once the device is broken,
 * the driver's own copy.
 */
static u8 virtio_regs_get_status(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);

	if (READ_ONCE(regs->broken))
		return READ_ONCE(regs->status);
	return virtio_regs_rd(regs, VIRTIO_PCI_EPF_STATUS) & 0xff;
}

/**
 * virtio_regs_set_status() - virtio_config_ops.set_status
 * @vdev: the virtio device
 * @status: the new status
 *
 * A SET_STATUS command. virtio reads the status back: a refusal shows
 * there.
 *
 * Context: process context; sleeps.
 */
static void virtio_regs_set_status(struct virtio_device *vdev, u8 status)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);

	WRITE_ONCE(regs->status, status);
	virtio_regs_cmd(regs, VIRTIO_PCI_EPF_CMD_SET_STATUS, status, 0);
}

/**
 * virtio_regs_reset() - virtio_config_ops.reset
 * @vdev: the virtio device
 *
 * A reset always completes: with the device's answer and its status
 * reading 0, or, when the device does not answer in time, by marking it
 * broken, after which the status reads 0 (the driver's copy). The virtio
 * core then finds the device reset, as it requires before it lets a
 * driver go.
 *
 * Context: process context; sleeps.
 */
static void virtio_regs_reset(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	int ret;

	WRITE_ONCE(regs->status, 0);
	ret = virtio_regs_cmd(regs, VIRTIO_PCI_EPF_CMD_SET_STATUS, 0, 0);
	if (ret) {
		dev_err(&vdev->dev, "reset failed (%d), device broken\n", ret);
		goto broken;
	}
	/* The reset is complete once the status reads 0. */
	if (!virtio_regs_wait(regs, VIRTIO_PCI_EPF_STATUS, 0))
		return;
	dev_err(&vdev->dev, "reset: status still %#x after %u ms, device broken\n",
		virtio_regs_rd(regs, VIRTIO_PCI_EPF_STATUS) & 0xff,
		virtio_regs_timeout(regs));
broken:
	WRITE_ONCE(regs->broken, true);
	virtio_break_device(vdev);
}

/**
 * virtio_regs_get_features() - virtio_config_ops.get_features
 * @vdev: the virtio device
 *
 * Return: DEVICE_FEATURES, the 64 feature bits the device offers.
 */
static u64 virtio_regs_get_features(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	unsigned int off = VIRTIO_PCI_EPF_DEVICE_FEATURES;

	return (u64)virtio_regs_rd(regs, off + 4) << 32 |
	       virtio_regs_rd(regs, off);
}

/**
 * virtio_regs_finalize_features() - virtio_config_ops.finalize_features
 * @vdev: the virtio device
 *
 * Keeps the transport feature bits the ring supports and writes the
 * driver's features to DRIVER_FEATURES. The protocol is that of virtio
 * 1.x: a device that does not offer VIRTIO_F_VERSION_1 is refused.
 *
 * Return: 0, or -EINVAL without VIRTIO_F_VERSION_1 (logged).
 */
static int virtio_regs_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	/* The protocol is that of virtio 1.x: no legacy devices. */
	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "the device does not offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	virtio_regs_wr64(to_virtio_regs(vdev), VIRTIO_PCI_EPF_DRIVER_FEATURES,
			 vdev->features);
	return 0;
}

/**
 * virtio_regs_notify() - notify function of the virtqueues
 * @vq: the virtqueue
 *
 * Pass it to vring_create_virtqueue() (or its variants) in
 * &virtio_regs_ops.create_vq. Sets the queue's NOTIFY word, then has the
 * transport ring the queue's doorbell.
 *
 * Context: any context.
 * Return: false if the transport could not ring the device.
 */
bool virtio_regs_notify(struct virtqueue *vq)
{
	struct virtio_regs *regs = to_virtio_regs(vq->vdev);

	virtio_regs_wr(regs, regs->notify_off + 4 * vq->index, 1);
	if (regs->ops->kick_vq)
		return regs->ops->kick_vq(regs, vq->index);
	return true;
}
EXPORT_SYMBOL_GPL(virtio_regs_notify);

/**
 * virtio_regs_config_irq() - interrupt handler of a config vector
 * @irq: the interrupt
 * @regs: the struct virtio_regs
 *
 * For a transport that gave CONFIG_VECTOR a vector of its own: the event
 * can only be a config change.
 *
 * Return: IRQ_HANDLED.
 */
irqreturn_t virtio_regs_config_irq(int irq, void *regs)
{
	struct virtio_regs *r = regs;

	virtio_config_changed(&r->vdev);
	return IRQ_HANDLED;
}
EXPORT_SYMBOL_GPL(virtio_regs_config_irq);

/**
 * virtio_regs_shared_irq() - interrupt handler of the shared vector
 * @irq: the interrupt
 * @regs: the struct virtio_regs
 *
 * One vector for everything (NO_VECTOR): the ISR words say what
 * happened. Each word that is set is cleared before its event is handled,
 * a config change or the virtqueues' callbacks (all of them: the device
 * does not say which).
 *
 * Return: IRQ_HANDLED if an ISR word was set, IRQ_NONE otherwise.
 */
irqreturn_t virtio_regs_shared_irq(int irq, void *regs)
{
	struct virtio_regs *r = regs;
	irqreturn_t ret = IRQ_NONE;
	unsigned int i;

	if (virtio_regs_rd(r, VIRTIO_PCI_EPF_ISR_CONFIG)) {
		virtio_regs_wr(r, VIRTIO_PCI_EPF_ISR_CONFIG, 0);
		virtio_config_changed(&r->vdev);
		ret = IRQ_HANDLED;
	}
	if (virtio_regs_rd(r, VIRTIO_PCI_EPF_ISR_QUEUE)) {
		virtio_regs_wr(r, VIRTIO_PCI_EPF_ISR_QUEUE, 0);
		for (i = 0; i < r->nvqs; i++)
			if (r->vqs[i])
				vring_interrupt(irq, r->vqs[i]);
		ret = IRQ_HANDLED;
	}
	return ret;
}
EXPORT_SYMBOL_GPL(virtio_regs_shared_irq);

/**
 * virtio_regs_del_vqs() - virtio_config_ops.del_vqs
 * @vdev: the virtio device
 *
 * Frees the transport's vectors (&virtio_regs_ops.free_vectors), then
 * deletes the virtqueues.
 *
 * Context: process context.
 */
static void virtio_regs_del_vqs(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	unsigned int i;

	if (regs->ops->free_vectors)
		regs->ops->free_vectors(regs);
	for (i = 0; i < regs->nvqs; i++) {
		if (!regs->vqs[i])
			continue;
		if (regs->ops->del_vq)
			regs->ops->del_vq(regs, regs->vqs[i]);
		else
			vring_del_virtqueue(regs->vqs[i]);
	}
	kfree(regs->vqs);
	regs->vqs = NULL;
	regs->nvqs = 0;
}

/*
 * Set up queue @index: select it, check the size the device takes, have
 * the transport create the virtqueue and pick its vector, write the
 * driver's fields and enable it.
 */
static int virtio_regs_setup_vq(struct virtio_regs *regs, unsigned int index,
				struct virtqueue_info *info)
{
	unsigned int base = VIRTIO_PCI_EPF_QUEUE_SEL;
	u32 vector = VIRTIO_PCI_EPF_NO_VECTOR;
	struct virtqueue *vq;
	u32 size_max;
	int ret;

	ret = virtio_regs_cmd(regs, VIRTIO_PCI_EPF_CMD_QUEUE_SELECT, index, 0);
	if (ret)
		return ret;
	size_max = virtio_regs_rd(regs, base + VIRTIO_PCI_EPF_Q_SIZE_MAX);
	if (!size_max || size_max > VIRTIO_REGS_QUEUE_SIZE_MAX) {
		dev_err(&regs->vdev.dev, "queue %u: the device offers size %u\n",
			index, size_max);
		return -EINVAL;
	}
	vq = regs->ops->create_vq(regs, index, size_max, info);
	if (IS_ERR(vq))
		return PTR_ERR(vq);
	regs->vqs[index] = vq;
	if (regs->ops->vq_vector) {
		ret = regs->ops->vq_vector(regs, index, &vector);
		if (ret)
			return ret;
	}
	virtio_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_SIZE,
		       virtqueue_get_vring_size(vq));
	virtio_regs_wr64(regs, base + VIRTIO_PCI_EPF_Q_DESC,
			 virtqueue_get_desc_addr(vq));
	virtio_regs_wr64(regs, base + VIRTIO_PCI_EPF_Q_DRIVER,
			 virtqueue_get_avail_addr(vq));
	virtio_regs_wr64(regs, base + VIRTIO_PCI_EPF_Q_DEVICE,
			 virtqueue_get_used_addr(vq));
	virtio_regs_wr(regs, base + VIRTIO_PCI_EPF_Q_VECTOR, vector);
	return virtio_regs_cmd(regs, VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, index, 0);
}

/**
 * virtio_regs_find_vqs() - virtio_config_ops.find_vqs
 * @vdev: the virtio device
 * @nvqs: queues asked for, at most the device's NUM_QUEUES
 * @vqs: where the virtqueues go (NULL for a queue without a name)
 * @vqs_info: name, callback and context of each queue
 * @desc: interrupt affinity; not used
 *
 * Has the transport set up its vectors (&virtio_regs_ops.setup_vectors),
 * then sets up each queue with a name: QUEUE_SELECT, Q_SIZE_MAX checked,
 * the virtqueue created by the transport (&virtio_regs_ops.create_vq),
 * Q_SIZE, Q_DESC, Q_DRIVER, Q_DEVICE and Q_VECTOR (the transport's,
 * &virtio_regs_ops.vq_vector) written, QUEUE_ENABLE. On failure, what
 * was set up is deleted again.
 *
 * Context: process context; sleeps.
 * Return: 0 or an errno.
 */
static int virtio_regs_find_vqs(struct virtio_device *vdev,
				unsigned int nvqs, struct virtqueue *vqs[],
				struct virtqueue_info vqs_info[],
				struct irq_affinity *desc)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);
	unsigned int i;
	int ret;

	if (nvqs > regs->num_queues) {
		dev_err(&vdev->dev, "%u queues asked, the device has %u\n",
			nvqs, regs->num_queues);
		return -EINVAL;
	}
	regs->vqs = kcalloc(nvqs, sizeof(*regs->vqs), GFP_KERNEL);
	if (!regs->vqs)
		return -ENOMEM;
	regs->nvqs = nvqs;
	if (regs->ops->setup_vectors) {
		ret = regs->ops->setup_vectors(regs, nvqs);
		if (ret)
			goto err;
	}
	for (i = 0; i < nvqs; i++) {
		vqs[i] = NULL;
		if (!vqs_info[i].name)
			continue;
		ret = virtio_regs_setup_vq(regs, i, &vqs_info[i]);
		if (ret)
			goto err;
		vqs[i] = regs->vqs[i];
	}
	return 0;
err:
	virtio_regs_del_vqs(vdev);
	return ret;
}

/* virtio_config_ops.bus_name: the transport's device. */
static const char *virtio_regs_bus_name(struct virtio_device *vdev)
{
	return dev_name(to_virtio_regs(vdev)->dev);
}

/* virtio_config_ops.synchronize_cbs: the transport knows its handlers. */
static void virtio_regs_synchronize_cbs(struct virtio_device *vdev)
{
	struct virtio_regs *regs = to_virtio_regs(vdev);

	if (regs->ops->synchronize_cbs)
		regs->ops->synchronize_cbs(regs);
}

static const struct virtio_config_ops virtio_regs_config_ops = {
	.get			= virtio_regs_get,
	.set			= virtio_regs_set,
	.generation		= virtio_regs_generation,
	.get_status		= virtio_regs_get_status,
	.set_status		= virtio_regs_set_status,
	.reset			= virtio_regs_reset,
	.find_vqs		= virtio_regs_find_vqs,
	.del_vqs		= virtio_regs_del_vqs,
	.synchronize_cbs	= virtio_regs_synchronize_cbs,
	.get_features		= virtio_regs_get_features,
	.finalize_features	= virtio_regs_finalize_features,
	.bus_name		= virtio_regs_bus_name,
};

MODULE_DESCRIPTION("virtio: the driver side of the register protocol of virtio over a SoC link");
MODULE_LICENSE("GPL");
