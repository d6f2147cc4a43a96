// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtqueue helpers of the vhost bus: the device side walks the driver
 * side's split rings through the transport's MMIO windows with vringh's
 * MMIO variant.  Clients never call vringh themselves.
 *
 * Queues exist between DRIVER_OK and the next reset or failure: a client
 * creates them in its start() callback; the core stops kick callbacks
 * before the client's stop() and deletes the queues after it.  A client
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

static int vhost_vq_translate(const struct vringh *vrh, u64 addr, u64 len,
			      void __iomem **va, u64 *mapped_len)
{
	const struct vhost_vq *vq = container_of_const(vrh, struct vhost_vq,
						       vrh);

	return vq->vdev->ops->translate(vq->vdev, addr, len, va, mapped_len);
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
 * lies in a window) and maps the rings once.
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

	if (!ops->get_vq || !ops->translate || !ops->notify_vq || !nvqs)
		return -EINVAL;
	if (!(vhost_get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    rcu_access_pointer(vdev->vq_set)) {
		dev_err(&vdev->dev, "queues created outside start()\n");
		return -EIO;
	}
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
				       vhost_vq_translate);
		if (ret) {
			dev_err(&vdev->dev,
				"queue %u (%s): unusable setup from the driver side: size %u, rings at %#llx/%#llx/%#llx\n",
				i, names[i], cfg.num, cfg.desc, cfg.avail,
				cfg.used);
			goto err;
		}
		vqs[i] = vq;
	}
	mutex_lock(&vdev->lock);
	rcu_assign_pointer(vdev->vq_set, set);
	mutex_unlock(&vdev->lock);
	return 0;
err:
	kfree(set);
	return ret;
}
EXPORT_SYMBOL_GPL(vhost_create_vqs);

/*
 * Called by the core before the client's stop(), with status_lock held:
 * once this returns, no kick callback runs or will run, so stop() can
 * cancel the client's work for good.  The queues stay usable by the
 * client until the core frees the returned set after stop().
 */
struct vhost_vq_set *vhost_unpublish_vqs(struct vhost_device *vdev)
{
	struct vhost_vq_set *set;

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
 * A malformed chain fails the device (DEVICE_NEEDS_RESET).
 *
 * Return: 1 with a buffer, 0 if none is available, or a negative errno.
 */
int vhost_vq_get_buf(struct vhost_vq *vq, struct vhost_buf *buf)
{
	int ret;

	buf->written = 0;
	ret = vringh_getdesc_mmio(&vq->vrh, &buf->in, &buf->out, &buf->head,
				  GFP_ATOMIC);
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

/**
 * vhost_buf_pull() - copy bytes out of a buffer's readable part
 * @buf: the buffer
 * @dst: where to
 * @len: at most this many bytes
 *
 * Return: the number of bytes copied, less than @len at the end of the
 * readable part, or a negative errno.
 */
ssize_t vhost_buf_pull(struct vhost_buf *buf, void *dst, size_t len)
{
	return vringh_iov_pull_mmio(&buf->in, dst, len);
}
EXPORT_SYMBOL_GPL(vhost_buf_pull);

/**
 * vhost_buf_push() - copy bytes into a buffer's writable part
 * @buf: the buffer
 * @src: from where
 * @len: at most this many bytes
 *
 * The bytes pushed are reported to the driver side as the used length by
 * vhost_vq_put_buf().
 *
 * Return: the number of bytes copied, less than @len at the end of the
 * writable part, or a negative errno.
 */
ssize_t vhost_buf_push(struct vhost_buf *buf, const void *src, size_t len)
{
	ssize_t ret = vringh_iov_push_mmio(&buf->out, src, len);

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
 * Return: 0 or a negative errno.
 */
int vhost_vq_put_buf(struct vhost_vq *vq, struct vhost_buf *buf)
{
	return vringh_complete_mmio(&vq->vrh, buf->head, buf->written);
}
EXPORT_SYMBOL_GPL(vhost_vq_put_buf);

/**
 * vhost_vq_kick() - notify the driver side of used buffers, if it wants
 * @vq: the queue
 *
 * Honours the driver side's notification suppression (flags or
 * EVENT_IDX): the transport's interrupt is raised only when asked for.
 */
void vhost_vq_kick(struct vhost_vq *vq)
{
	int ret = vringh_need_notify_mmio(&vq->vrh);

	if (ret < 0) {
		vhost_device_fail(vq->vdev, "unreadable ring");
		return;
	}
	if (ret)
		vq->vdev->ops->notify_vq(vq->vdev, vq->index);
}
EXPORT_SYMBOL_GPL(vhost_vq_kick);

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
