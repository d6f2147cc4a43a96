// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtqueue helpers of the vhost bus: the device side walks the driver
 * side's split rings through the transport's MMIO windows with vringh's
 * MMIO variant.  Clients never call vringh themselves.
 *
 * Rings are mapped once, when the queues are created (the transport's
 * map_ring op).  Buffers and indirect tables are reached by bus address
 * when their bytes are copied (the read and write ops): a transport with
 * a few small windows maps one on demand, one with a DMA engine lets it
 * copy, so buffers may lie anywhere in the driver side's memory and
 * taking, pulling and pushing a buffer may sleep.
 *
 * Once the device failed (vhost_device_fail(), even before the failure
 * is published), the helpers leave the rings alone: a device that sets
 * DEVICE_NEEDS_RESET uses no more buffers and sends no more interrupts for
 * them, whatever its client does next.
 *
 * Queues exist between DRIVER_OK and the next reset or failure: a client
 * creates them in its start() callback, and kicks reach them only once
 * start() succeeded (each queue then gets one kick callback, for what the
 * driver side posted before); the core stops kick callbacks before the
 * client's stop() and deletes the queues after it.  A client
 * serialises its own use of a queue and stops using it in stop().  The
 * set of queues is published with RCU, so that the transport's kick
 * reports (vhost_vq_kicked(), from any context) never see a queue being
 * freed; they are dropped once it is gone.
 */

#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/vringh.h>
#include <linux/virtio_config.h>

#include "vhost_bus_internal.h"

static struct vhost_device *vrh_to_vdev(const struct vringh *vrh)
{
	return container_of_const(vrh, struct vhost_vq, vrh)->vdev;
}

static int vhost_vq_map_ring(const struct vringh *vrh, u64 addr, u64 len,
			     void __iomem **va, u64 *mapped_len)
{
	struct vhost_device *vdev = vrh_to_vdev(vrh);

	return vdev->ops->map_ring(vdev, addr, len, va, mapped_len);
}

static int vhost_vq_read(const struct vringh *vrh, u64 addr, void *dst,
			 size_t len)
{
	struct vhost_device *vdev = vrh_to_vdev(vrh);

	return vdev->ops->read(vdev, addr, dst, len);
}

static int vhost_vq_write(const struct vringh *vrh, u64 addr,
			  const void *src, size_t len)
{
	struct vhost_device *vdev = vrh_to_vdev(vrh);

	return vdev->ops->write(vdev, addr, src, len);
}

static const struct vringh_mmio_ops vhost_vq_mmio_ops = {
	.map_ring	= vhost_vq_map_ring,
	.read		= vhost_vq_read,
	.write		= vhost_vq_write,
};

/* The device failed: nothing more goes into or out of its rings. */
static bool vhost_vq_dead(const struct vhost_vq *vq)
{
	return READ_ONCE(vq->vdev->fail_reason);
}

/**
 * vhost_create_vqs() - set up the device's virtqueues
 * @vdev: the device
 * @nvqs: how many, from index 0
 * @callbacks: for each queue, called when the driver side kicks it, or
 *	NULL; called in atomic context (under rcu_read_lock(), maybe in an
 *	interrupt handler): queue work there
 * @names: for each queue, a name for the log
 * @vqs: where to store the queues
 *
 * Called by a client from its start() callback, once DRIVER_OK is set.
 * Reads each queue's size and ring addresses from the transport (values
 * the driver side wrote: vringh checks the size and that every ring part
 * lies in one window) and maps the rings once. Kick callbacks begin after
 * start() returned 0, never during it; if it fails, the queues are
 * deleted without a callback having run.
 *
 * Return: 0, -EIO outside start(), -EINVAL for an unusable queue setup,
 * or another negative errno.
 */
int vhost_create_vqs(struct vhost_device *vdev, unsigned int nvqs,
		     vhost_vq_callback_t *callbacks[],
		     const char *const names[], struct vhost_vq *vqs[])
{
	const struct vhost_transport_ops *ops = vdev->ops;
	struct vhost_vq_set *set;
	unsigned int i;
	int ret;

	if (!ops->get_vq || !ops->map_ring || !ops->read || !ops->write ||
	    !ops->notify_vq || !nvqs)
		return -EINVAL;
	if (!(vhost_get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    rcu_access_pointer(vdev->vq_set) || READ_ONCE(vdev->vq_pending)) {
		dev_err(&vdev->dev, "queues created outside start()\n");
		return -EIO;
	}
	/* start() runs under it, and vq_pending is protected by it. */
	lockdep_assert_held(&vdev->status_lock);
	set = kzalloc(struct_size(set, vqs, nvqs), GFP_KERNEL);
	if (!set)
		return -ENOMEM;
	set->nvqs = nvqs;

	for (i = 0; i < nvqs; i++) {
		struct vhost_vq *vq = &set->vqs[i];
		struct vhost_vq_config cfg = {};

		vq->vdev = vdev;
		vq->index = i;
		vq->name = names[i];
		vq->callback = callbacks[i];
		mutex_lock(&vdev->lock);
		ret = ops->get_vq(vdev, i, &cfg);
		mutex_unlock(&vdev->lock);
		if (ret)
			goto err;
		ret = vringh_init_mmio(&vq->vrh, vdev->negotiated, cfg.num,
				       false, cfg.desc, cfg.avail, cfg.used,
				       &vhost_vq_mmio_ops);
		if (ret) {
			dev_err(&vdev->dev,
				"queue %u (%s): unusable setup from the driver side: size %u, rings at %#llx/%#llx/%#llx\n",
				i, names[i], cfg.num, cfg.desc, cfg.avail,
				cfg.used);
			goto err;
		}
		vqs[i] = vq;
	}
	vdev->vq_pending = set;
	return 0;
err:
	kfree(set);
	return ret;
}
EXPORT_SYMBOL_GPL(vhost_create_vqs);

/*
 * Called by the core once the client's start() succeeded, with status_lock
 * held: kicks reach the queues from now on, and each queue gets one
 * callback for what the driver side posted before.
 */
void vhost_publish_vqs(struct vhost_device *vdev)
{
	struct vhost_vq_set *set = vdev->vq_pending;
	unsigned int i;

	lockdep_assert_held(&vdev->status_lock);
	if (!set)
		return;
	vdev->vq_pending = NULL;
	mutex_lock(&vdev->lock);
	rcu_assign_pointer(vdev->vq_set, set);
	mutex_unlock(&vdev->lock);
	rcu_read_lock();
	for (i = 0; i < set->nvqs; i++)
		if (set->vqs[i].callback)
			set->vqs[i].callback(&set->vqs[i]);
	rcu_read_unlock();
}

/*
 * Called by the core before the client's stop(), with status_lock held:
 * once this returns, no kick callback runs or will run, so stop() can
 * cancel the client's work for good.  The queues stay usable by the
 * client until the core frees the returned set after stop().
 */
struct vhost_vq_set *vhost_unpublish_vqs(struct vhost_device *vdev)
{
	struct vhost_vq_set *set;

	lockdep_assert_held(&vdev->status_lock);
	/* Queues of a start() that failed were never published. */
	set = vdev->vq_pending;
	vdev->vq_pending = NULL;
	if (set)
		return set;
	mutex_lock(&vdev->lock);
	set = rcu_dereference_protected(vdev->vq_set,
					lockdep_is_held(&vdev->lock));
	RCU_INIT_POINTER(vdev->vq_set, NULL);
	mutex_unlock(&vdev->lock);
	if (set)
		synchronize_rcu();	/* no kick report is still looking */
	return set;
}

/**
 * vhost_vq_kicked() - the driver side notified a queue
 * @vdev: the device
 * @index: the queue index the driver side wrote (untrusted)
 *
 * Called by the transport, in any context.  Kicks for queues that do not
 * exist (before DRIVER_OK, after a reset, or an index out of range) are
 * dropped.
 */
void vhost_vq_kicked(struct vhost_device *vdev, unsigned int index)
{
	struct vhost_vq_set *set;

	rcu_read_lock();
	set = rcu_dereference(vdev->vq_set);
	if (!set || index >= set->nvqs)
		dev_dbg(&vdev->dev, "kick of queue %u dropped\n", index);
	else if (set->vqs[index].callback)
		set->vqs[index].callback(&set->vqs[index]);
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(vhost_vq_kicked);

/**
 * vhost_buf_init() - prepare a buffer descriptor for vhost_vq_get_buf()
 * @buf: the buffer
 */
void vhost_buf_init(struct vhost_buf *buf)
{
	vringh_mmiov_init(&buf->in, buf->in_vec, ARRAY_SIZE(buf->in_vec));
	vringh_mmiov_init(&buf->out, buf->out_vec, ARRAY_SIZE(buf->out_vec));
	buf->vq = NULL;
	buf->written = 0;
}
EXPORT_SYMBOL_GPL(vhost_buf_init);

/**
 * vhost_buf_release() - free what a long chain made vhost_vq_get_buf() allocate
 * @buf: the buffer; it can be used again for the next vhost_vq_get_buf()
 *
 * Chains of up to VHOST_BUF_SEGS segments each way use the inline
 * segments and allocate nothing; call this once done with a buffer anyway.
 */
void vhost_buf_release(struct vhost_buf *buf)
{
	vringh_mmiov_cleanup(&buf->in);
	vringh_mmiov_cleanup(&buf->out);
	vhost_buf_init(buf);
}
EXPORT_SYMBOL_GPL(vhost_buf_release);

/**
 * vhost_vq_get_buf() - take the next buffer the driver side made available
 * @vq: the queue
 * @buf: filled with the whole chain: bytes to read (@buf->in, the driver
 *	side's out-buffers) and room to write (@buf->out)
 *
 * A malformed chain fails the device (DEVICE_NEEDS_RESET).  May sleep (an
 * indirect table is read through the transport): call it from process
 * context, outside spinlocks.
 *
 * Return: 1 with a buffer, 0 if none is available, -EIO once the device
 * failed, or another negative errno.
 */
int vhost_vq_get_buf(struct vhost_vq *vq, struct vhost_buf *buf)
{
	int ret;

	might_sleep();
	buf->written = 0;
	buf->vq = vq;
	if (vhost_vq_dead(vq))
		return -EIO;
	ret = vringh_getdesc_mmio(&vq->vrh, &buf->in, &buf->out, &buf->head,
				  GFP_KERNEL);
	if (ret < 0) {
		dev_err(&vq->vdev->dev, "queue %u (%s): malformed buffer: %d\n",
			vq->index, vq->name, ret);
		vhost_device_fail(vq->vdev, "malformed ring");
	}
	return ret;
}
EXPORT_SYMBOL_GPL(vhost_vq_get_buf);

/**
 * vhost_vq_unget_buf() - put back a buffer unused
 * @vq: the queue
 * @buf: the buffer, the last one vhost_vq_get_buf() returned for @vq
 *
 * The next vhost_vq_get_buf() returns the same buffer again; the driver
 * side sees nothing.  For a client that took a buffer it cannot use now
 * (too small for the message at hand, say).
 */
void vhost_vq_unget_buf(struct vhost_vq *vq, struct vhost_buf *buf)
{
	vringh_abandon_mmio(&vq->vrh, 1);
	buf->written = 0;
}
EXPORT_SYMBOL_GPL(vhost_vq_unget_buf);

/* A byte the transport cannot reach is a malformed buffer. */
static ssize_t vhost_buf_checked(struct vhost_buf *buf, ssize_t ret,
				 const char *what)
{
	struct vhost_vq *vq = buf->vq;

	if (ret >= 0)
		return ret;
	dev_err(&vq->vdev->dev, "queue %u (%s): cannot %s the buffer: %zd\n",
		vq->index, vq->name, what, ret);
	vhost_device_fail(vq->vdev, "unreachable buffer");
	return ret;
}

/**
 * vhost_buf_pull() - copy bytes out of a buffer's readable part
 * @buf: the buffer
 * @dst: where to
 * @len: at most this many bytes
 *
 * The transport copies the bytes from the driver side's memory: this may
 * sleep.  A part of the buffer the transport cannot reach fails the
 * device.
 *
 * Return: the number of bytes copied, less than @len at the end of the
 * readable part, or a negative errno.
 */
ssize_t vhost_buf_pull(struct vhost_buf *buf, void *dst, size_t len)
{
	might_sleep();
	if (!buf->vq)
		return -EINVAL;
	return vhost_buf_checked(buf, vringh_iov_pull_mmio(&buf->vq->vrh,
							   &buf->in, dst, len),
				 "read");
}
EXPORT_SYMBOL_GPL(vhost_buf_pull);

/**
 * vhost_buf_push() - copy bytes into a buffer's writable part
 * @buf: the buffer
 * @src: from where
 * @len: at most this many bytes
 *
 * The bytes pushed are reported to the driver side as the used length by
 * vhost_vq_put_buf().  As vhost_buf_pull(), this may sleep.
 *
 * Return: the number of bytes copied, less than @len at the end of the
 * writable part, or a negative errno.
 */
ssize_t vhost_buf_push(struct vhost_buf *buf, const void *src, size_t len)
{
	ssize_t ret;

	might_sleep();
	if (!buf->vq)
		return -EINVAL;
	ret = vhost_buf_checked(buf, vringh_iov_push_mmio(&buf->vq->vrh,
							  &buf->out, src, len),
				"write");
	if (ret > 0)
		buf->written += ret;
	return ret;
}
EXPORT_SYMBOL_GPL(vhost_buf_push);

/**
 * vhost_buf_readable() - bytes left to pull from a buffer
 * @buf: the buffer
 *
 * Return: the number of bytes.
 */
size_t vhost_buf_readable(const struct vhost_buf *buf)
{
	return vringh_mmiov_length(&buf->in);
}
EXPORT_SYMBOL_GPL(vhost_buf_readable);

/**
 * vhost_buf_writable() - room left to push into a buffer
 * @buf: the buffer
 *
 * Return: the number of bytes.
 */
size_t vhost_buf_writable(const struct vhost_buf *buf)
{
	return vringh_mmiov_length(&buf->out);
}
EXPORT_SYMBOL_GPL(vhost_buf_writable);

/**
 * vhost_vq_put_buf() - give a buffer back to the driver side
 * @vq: the queue
 * @buf: the buffer from vhost_vq_get_buf(); the used length is what was
 *	pushed into it
 *
 * The driver side is not notified: batch completions, then call
 * vhost_vq_kick().
 *
 * Return: 0, -EIO once the device failed (the buffer is not used), or
 * another negative errno.
 */
int vhost_vq_put_buf(struct vhost_vq *vq, struct vhost_buf *buf)
{
	if (vhost_vq_dead(vq))
		return -EIO;
	return vringh_complete_mmio(&vq->vrh, buf->head, buf->written);
}
EXPORT_SYMBOL_GPL(vhost_vq_put_buf);

/**
 * vhost_vq_put_bufs() - give several buffers back to the driver side at once
 * @vq: the queue
 * @bufs: the buffers from vhost_vq_get_buf(), in the order they were taken
 * @n: how many, at most VHOST_PUT_BUFS_MAX
 *
 * The driver side sees all of them in one update of the used index, never
 * some without the others: virtio-net's mergeable receive buffers need
 * that, and it spares a write across the link per buffer.  As
 * vhost_vq_put_buf(), the driver side is not notified.
 *
 * Return: 0, -EINVAL for more than VHOST_PUT_BUFS_MAX buffers, -EIO once
 * the device failed (no buffer is used), or another negative errno.
 */
int vhost_vq_put_bufs(struct vhost_vq *vq, struct vhost_buf *bufs,
		      unsigned int n)
{
	struct vring_used_elem used[VHOST_PUT_BUFS_MAX];
	unsigned int i;

	if (n > VHOST_PUT_BUFS_MAX)
		return -EINVAL;
	if (vhost_vq_dead(vq))
		return -EIO;
	for (i = 0; i < n; i++) {
		used[i].id = cpu_to_vringh32(&vq->vrh, bufs[i].head);
		used[i].len = cpu_to_vringh32(&vq->vrh, bufs[i].written);
	}
	return vringh_complete_multi_mmio(&vq->vrh, used, n);
}
EXPORT_SYMBOL_GPL(vhost_vq_put_bufs);

/* Whether the driver side asks to be interrupted now (flags, EVENT_IDX). */
static bool vhost_vq_need_kick(struct vhost_vq *vq)
{
	int ret;

	if (vhost_vq_dead(vq))
		return false;
	ret = vringh_need_notify_mmio(&vq->vrh);
	if (ret < 0) {
		vhost_device_fail(vq->vdev, "unreadable ring");
		return false;
	}
	return ret;
}

/**
 * vhost_vq_kick() - notify the driver side of used buffers, if it wants
 * @vq: the queue
 *
 * Honours the driver side's notification suppression (flags or
 * EVENT_IDX): the transport's interrupt is raised only when asked for.
 *
 * Return: true if the driver side was interrupted, for statistics.
 */
bool vhost_vq_kick(struct vhost_vq *vq)
{
	if (!vhost_vq_need_kick(vq))
		return false;
	vq->vdev->ops->notify_vq(vq->vdev, vq->index);
	return true;
}
EXPORT_SYMBOL_GPL(vhost_vq_kick);

/**
 * vhost_vq_kick_cansleep() - vhost_vq_kick(), from process context
 * @vq: the queue
 *
 * As vhost_vq_kick(), for a client that may sleep where it kicks (its
 * work): a transport whose interrupt sleeps to be raised
 * (pci_epc_raise_irq()) raises it before returning instead of deferring
 * it to a work item of its own, one scheduling hop less on the way to the
 * driver side.
 *
 * Context: process context; may sleep.
 * Return: true if the driver side was interrupted, for statistics.
 */
bool vhost_vq_kick_cansleep(struct vhost_vq *vq)
{
	const struct vhost_transport_ops *ops = vq->vdev->ops;

	might_sleep();
	if (!vhost_vq_need_kick(vq))
		return false;
	if (ops->notify_vq_cansleep)
		ops->notify_vq_cansleep(vq->vdev, vq->index);
	else
		ops->notify_vq(vq->vdev, vq->index);
	return true;
}
EXPORT_SYMBOL_GPL(vhost_vq_kick_cansleep);

/**
 * vhost_vq_enable_cb() - ask the driver side to kick on new buffers
 * @vq: the queue
 *
 * Return: false if buffers became available meanwhile: process them
 * before waiting for a kick.
 */
bool vhost_vq_enable_cb(struct vhost_vq *vq)
{
	return vringh_notify_enable_mmio(&vq->vrh);
}
EXPORT_SYMBOL_GPL(vhost_vq_enable_cb);

/**
 * vhost_vq_disable_cb() - ask the driver side not to kick
 * @vq: the queue
 *
 * A hint to the driver side: kicks may still arrive.
 */
void vhost_vq_disable_cb(struct vhost_vq *vq)
{
	vringh_notify_disable_mmio(&vq->vrh);
}
EXPORT_SYMBOL_GPL(vhost_vq_disable_cb);
