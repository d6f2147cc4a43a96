// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost rpmsg: an rpmsg bus on the device side of a virtio rpmsg device.
 *
 * The other system runs the stock virtio_rpmsg_bus on a virtio device
 * that a vhost transport carries; this vhost client serves that device and
 * is an rpmsg bus of its own, so that the same rpmsg drivers (name
 * service, rpmsg_ctrl, rpmsg_char, the client sample) run on both sides.
 *
 * The wire format is virtio_rpmsg_bus's, little-endian since
 * VIRTIO_F_VERSION_1 is required:
 *
 * - queue 0 ("input" on the driver side) holds the driver side's receive
 *   buffers; this side writes one message into each;
 * - queue 1 ("output") holds the driver side's messages; this side reads
 *   one message from each and gives the buffer back;
 * - a message is a 16-byte header (source and destination address, a
 *   reserved word, payload length, flags) and the payload;
 * - the driver side owns and sizes every buffer (512 bytes in
 *   virtio_rpmsg_bus; there is no config space), so what fits in its
 *   receive buffers bounds what this side sends;
 * - with VIRTIO_RPMSG_F_NS, channels are announced to address 53.
 *
 * Every value read from the other side is checked: a buffer shorter than a
 * header or longer than VRPMSG_BUF_SIZE, or a payload length beyond the
 * buffer, is given back unread and logged; announcements are checked by
 * the name service driver and again here, and a peer can neither remove a
 * channel it did not announce nor create more than max_channels.
 *
 * Nothing is allocated or mapped per message: a message is copied once,
 * from the sender's buffer into the driver side's buffer (vhost_buf_push()
 * through the transport's window), or from the driver side's buffer into
 * a receive buffer allocated with the device, which the endpoint's
 * callback reads.
 *
 * Locking:
 *
 * - tx_lock serialises senders and pollers on queue 0; it guards
 *   @running, @txbuf, @tx_waiters and @tx_polled. A sender waits for a
 *   buffer without it;
 * - queue 1 and @rxbuf are used by rx_work only, which runs on
 *   vrpmsg_wq: endpoint callbacks run there and may block;
 * - endpoints_lock guards the endpoint idr; an endpoint's callback runs
 *   under its cb_lock, with a reference held;
 * - chan_lock serialises channel creation with the duplicate checks; no
 *   channel is created once the device stops;
 * - start() and stop() are serialised by the vhost core (status_lock);
 *   @online is written by rx_work and, after rx_work is cancelled, by
 *   stop().
 *
 * Lock order, outermost first, as lockdep sees it:
 *
 * 1. the vhost core's status_lock: stop() cancels rx_work under it, so
 *    it comes before all that rx_work takes;
 * 2. the name service endpoint's cb_lock (a class of its own): an
 *    announcement creates or removes a channel; rpmsg_ctrl's ctrl_lock
 *    and rpmsg_char's ept_lock, held by callers of create_channel,
 *    release_channel, send and poll;
 * 3. vrpmsg_cfs_lock: configfs, and rx_work bringing the bus online;
 * 4. chan_lock, held while a channel is added or removed: its driver
 *    announces it and creates or destroys its endpoint under it;
 * 5. a channel endpoint's cb_lock: a callback may send;
 * 6. tx_lock;
 * 7. endpoints_lock, innermost.
 *
 * A sender waits for a buffer without tx_lock, for at most
 * send_timeout_ms: a channel announced from configfs holds chan_lock and
 * vrpmsg_cfs_lock that long at most.
 */

#include <linux/ctype.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>
#include <linux/rpmsg/byteorder.h>
#include <linux/rpmsg/ns.h>
#include <linux/rpmsg/virtio.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "rpmsg_internal.h"
#include "vhost_rpmsg.h"

/* Largest buffer accepted from the driver side, header included. */
#define VRPMSG_BUF_SIZE		512

/* Addresses below this one are for services with a fixed address. */
#define VRPMSG_FIRST_DYN_ADDR	1024

/* Messages handled by one run of rx_work before it yields. */
#define VRPMSG_RX_BUDGET	64

#define VRPMSG_MAX_PAYLOAD	(VRPMSG_BUF_SIZE - sizeof(struct rpmsg_hdr))

/*
 * Receive work of every device: endpoint callbacks run there and may
 * block (a reply waits for a buffer of the other side), so not on
 * system_wq. Unbound, and in sysfs so that a board can choose its CPUs.
 */
static struct workqueue_struct *vrpmsg_wq;

static unsigned int send_timeout_ms = 15000;
static unsigned int max_channels = 64;

/* param_set_uint_minmax(), and a log line saying what was wrong. */
static int vrpmsg_param_set(const char *val, const struct kernel_param *kp,
			    unsigned int min, unsigned int max)
{
	int ret = param_set_uint_minmax(val, kp, min, max);

	if (ret)
		pr_err("vhost_rpmsg: %s must be between %u and %u\n",
		       kp->name, min, max);
	return ret;
}

static int vrpmsg_timeout_set(const char *val, const struct kernel_param *kp)
{
	return vrpmsg_param_set(val, kp, 1, 600000);
}

static int vrpmsg_channels_set(const char *val, const struct kernel_param *kp)
{
	return vrpmsg_param_set(val, kp, 1, 4096);
}

static const struct kernel_param_ops vrpmsg_timeout_ops = {
	.set = vrpmsg_timeout_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops vrpmsg_channels_ops = {
	.set = vrpmsg_channels_set,
	.get = param_get_uint,
};

module_param_cb(send_timeout_ms, &vrpmsg_timeout_ops, &send_timeout_ms, 0644);
MODULE_PARM_DESC(send_timeout_ms,
		 "how long a blocking send waits for a buffer of the other side (ms, 1-600000, default 15000)");
module_param_cb(max_channels, &vrpmsg_channels_ops, &max_channels, 0644);
MODULE_PARM_DESC(max_channels,
		 "most channels on one device, announced ones included (1-4096, default 64)");

/**
 * struct vrpmsg - one vhost rpmsg device
 * @vdev: the vhost device
 * @txq: queue 0, the driver side's receive buffers
 * @rxq: queue 1, the driver side's messages
 * @tx_lock: see the locking rules above
 * @running: the queues may be used (between start() and stop())
 * @txbuf: the buffer being filled by the sender holding @tx_lock
 * @tx_waiters: senders waiting for a buffer of the driver side
 * @tx_polled: a poll found no buffer and asked for a kick
 * @tx_kicks: count of kicks of queue 0, to wait for the next one
 * @sendq: where senders wait
 * @rx_work: reads queue 1, and brings the bus online first
 * @rxbuf: the buffer rx_work reads
 * @rxdata: the payload of the message being delivered
 * @online: the name service, rpmsg_ctrl and configfs channels are there
 * @ns_rpdev: the name service's device while online
 * @endpoints_lock: guards @endpoints
 * @endpoints: local endpoints by address
 * @chan_lock: serialises channel creation
 * @cfs: the device's place in the configfs bookkeeping
 */
struct vrpmsg {
	struct vhost_device *vdev;
	struct vhost_vq *txq;
	struct vhost_vq *rxq;

	struct mutex tx_lock;		/* senders; see above */
	bool running;
	struct vhost_buf txbuf;
	unsigned int tx_waiters;
	bool tx_polled;
	atomic_t tx_kicks;
	wait_queue_head_t sendq;

	struct work_struct rx_work;
	struct vhost_buf rxbuf;
	u8 rxdata[VRPMSG_MAX_PAYLOAD];

	bool online;
	struct rpmsg_device *ns_rpdev;

	struct mutex endpoints_lock;	/* the idr */
	struct idr endpoints;
	struct mutex chan_lock;		/* channel creation */
	struct vrpmsg_cfs_link cfs;
};

/**
 * struct vrpmsg_channel - an rpmsg device of the bus
 * @rpdev: the rpmsg device
 * @vrp: the bus
 * @origin: who created it
 */
struct vrpmsg_channel {
	struct rpmsg_device rpdev;
	struct vrpmsg *vrp;
	enum vrpmsg_origin origin;
};

static inline struct vrpmsg_channel *to_vch(struct rpmsg_device *rpdev)
{
	return container_of(rpdev, struct vrpmsg_channel, rpdev);
}

/* The wire is little-endian: VIRTIO_F_VERSION_1 is required. */
static inline u16 vrpmsg16(__rpmsg16 val)
{
	return __rpmsg16_to_cpu(true, val);
}

static inline u32 vrpmsg32(__rpmsg32 val)
{
	return __rpmsg32_to_cpu(true, val);
}

static inline struct device *vrpmsg_dev(const struct vrpmsg *vrp)
{
	return &vrp->vdev->dev;
}

/**
 * vrpmsg_name() - the name of a device in /sys/kernel/config/rpmsg
 * @vrp: the device
 *
 * That of the device carrying the link (the endpoint function, say
 * pci_epf_vhost.0), which stays the same when the client is unbound and
 * bound again, or the vhost device's own name if there is none.
 *
 * Return: the name.
 */
const char *vrpmsg_name(const struct vrpmsg *vrp)
{
	const struct device *dev = vrpmsg_dev(vrp);

	return dev_name(dev->parent ?: dev);
}

/* ---- sending ---- */

/*
 * Take a receive buffer of the driver side into @vrp->txbuf; tx_lock held.
 * Return 1 with one, 0 if there is none, or a negative errno.
 */
static int vrpmsg_get_tx_buf(struct vrpmsg *vrp)
{
	int ret;

	lockdep_assert_held(&vrp->tx_lock);
	if (!vrp->running)
		return -EPIPE;
	ret = vhost_vq_get_buf(vrp->txq, &vrp->txbuf);
	if (ret < 0)
		return -EIO;	/* the core failed the device */
	return ret;
}

/* The driver side kicked queue 0 since @kicks, or the device stops. */
static bool vrpmsg_tx_news(struct vrpmsg *vrp, int kicks)
{
	return atomic_read(&vrp->tx_kicks) != kicks || !READ_ONCE(vrp->running);
}

/*
 * Wait for a buffer: return with tx_lock held and 0, or with it released
 * and a negative errno.
 */
static int vrpmsg_wait_tx_buf(struct vrpmsg *vrp, bool wait)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(send_timeout_ms);
	long left;
	int kicks, ret;

	mutex_lock(&vrp->tx_lock);
	for (;;) {
		ret = vrpmsg_get_tx_buf(vrp);
		if (ret)
			break;
		if (!wait) {
			ret = -ENOMEM;	/* what virtio_rpmsg_bus returns */
			break;
		}
		/*
		 * Ask for a kick when the driver side adds buffers. Every
		 * waiter asks again, not only the first: with EVENT_IDX a
		 * request holds for the next buffer only, and the buffer
		 * that woke an earlier waiter used it up.
		 */
		kicks = atomic_read(&vrp->tx_kicks);
		vrp->tx_waiters++;
		if (!vhost_vq_enable_cb(vrp->txq)) {
			if (!--vrp->tx_waiters)
				vhost_vq_disable_cb(vrp->txq);
			continue;	/* some came meanwhile */
		}
		mutex_unlock(&vrp->tx_lock);

		left = time_before(jiffies, deadline) ? deadline - jiffies : 0;
		if (left)
			left = wait_event_interruptible_timeout(vrp->sendq,
								vrpmsg_tx_news(vrp, kicks),
								left);

		mutex_lock(&vrp->tx_lock);
		if (!--vrp->tx_waiters && vrp->running && !vrp->tx_polled)
			vhost_vq_disable_cb(vrp->txq);
		if (left < 0) {
			ret = left;
			break;
		}
		if (!left) {
			ret = vrpmsg_get_tx_buf(vrp);
			if (!ret) {
				dev_err_ratelimited(vrpmsg_dev(vrp),
						    "no buffer from the other side in %u ms\n",
						    send_timeout_ms);
				ret = -ETIMEDOUT;
			}
			break;
		}
	}
	if (ret > 0)
		return 0;
	mutex_unlock(&vrp->tx_lock);
	return ret;
}

static int vrpmsg_send(struct rpmsg_endpoint *ept, u32 src, u32 dst,
		       const void *data, int len, bool wait)
{
	struct vrpmsg *vrp = to_vch(ept->rpdev)->vrp;
	struct rpmsg_hdr hdr = {
		.src = cpu_to_rpmsg32(ept->rpdev, src),
		.dst = cpu_to_rpmsg32(ept->rpdev, dst),
		.len = cpu_to_rpmsg16(ept->rpdev, len),
	};
	int ret;

	if (src == RPMSG_ADDR_ANY || dst == RPMSG_ADDR_ANY) {
		dev_err_ratelimited(&ept->rpdev->dev,
				    "no address to send from 0x%x to 0x%x\n",
				    src, dst);
		return -EINVAL;
	}
	if (len < 0 || len > VRPMSG_MAX_PAYLOAD) {
		dev_err_ratelimited(&ept->rpdev->dev,
				    "message of %d bytes is too big (%zu)\n",
				    len, VRPMSG_MAX_PAYLOAD);
		return -EMSGSIZE;
	}

	ret = vrpmsg_wait_tx_buf(vrp, wait);
	if (ret)
		return ret;

	if (vhost_buf_writable(&vrp->txbuf) < sizeof(hdr) + len) {
		dev_err_ratelimited(&ept->rpdev->dev,
				    "message of %d bytes does not fit the other side's %zu-byte buffer\n",
				    len, vhost_buf_writable(&vrp->txbuf));
		vhost_vq_unget_buf(vrp->txq, &vrp->txbuf);
		ret = -EMSGSIZE;
	} else if (vhost_buf_push(&vrp->txbuf, &hdr, sizeof(hdr)) != sizeof(hdr) ||
		   vhost_buf_push(&vrp->txbuf, data, len) != len) {
		/* The window failed: the core fails the device. */
		vhost_device_fail(vrp->vdev, "cannot write a message");
		ret = -EIO;
	} else if (vhost_vq_put_buf(vrp->txq, &vrp->txbuf)) {
		ret = -EIO;
	} else {
		vhost_vq_kick_cansleep(vrp->txq);
	}
	vhost_buf_release(&vrp->txbuf);
	mutex_unlock(&vrp->tx_lock);
	return ret;
}

static int vrpmsg_ept_send(struct rpmsg_endpoint *ept, void *data, int len)
{
	return vrpmsg_send(ept, ept->addr, ept->rpdev->dst, data, len, true);
}

static int vrpmsg_ept_sendto(struct rpmsg_endpoint *ept, void *data, int len,
			     u32 dst)
{
	return vrpmsg_send(ept, ept->addr, dst, data, len, true);
}

static int vrpmsg_ept_send_offchannel(struct rpmsg_endpoint *ept, u32 src,
				      u32 dst, void *data, int len)
{
	return vrpmsg_send(ept, src, dst, data, len, true);
}

static int vrpmsg_ept_trysend(struct rpmsg_endpoint *ept, void *data, int len)
{
	return vrpmsg_send(ept, ept->addr, ept->rpdev->dst, data, len, false);
}

static int vrpmsg_ept_trysendto(struct rpmsg_endpoint *ept, void *data,
				int len, u32 dst)
{
	return vrpmsg_send(ept, ept->addr, dst, data, len, false);
}

static int vrpmsg_ept_trysend_offchannel(struct rpmsg_endpoint *ept, u32 src,
					 u32 dst, void *data, int len)
{
	return vrpmsg_send(ept, src, dst, data, len, false);
}

/*
 * rpmsg_poll(), for rpmsg_char: EPOLLOUT while the driver side has a
 * buffer for us, EPOLLERR once the device stopped. Without a buffer, ask
 * for a kick when it adds one, which wakes sendq and so the poller, and
 * keep asking until a poll sees a buffer.
 */
static __poll_t vrpmsg_ept_poll(struct rpmsg_endpoint *ept, struct file *filp,
				poll_table *wait)
{
	struct vrpmsg *vrp = to_vch(ept->rpdev)->vrp;
	__poll_t mask = 0;

	poll_wait(filp, &vrp->sendq, wait);
	mutex_lock(&vrp->tx_lock);
	if (!vrp->running) {
		mask = EPOLLERR;
	} else if (!vhost_vq_enable_cb(vrp->txq)) {
		mask = EPOLLOUT | EPOLLWRNORM;
		vrp->tx_polled = false;
		if (!vrp->tx_waiters)
			vhost_vq_disable_cb(vrp->txq);
	} else {
		vrp->tx_polled = true;
	}
	mutex_unlock(&vrp->tx_lock);
	return mask;
}

static ssize_t vrpmsg_ept_get_mtu(struct rpmsg_endpoint *ept)
{
	return VRPMSG_MAX_PAYLOAD;
}

/* ---- endpoints ---- */

static void vrpmsg_ept_release(struct kref *kref)
{
	kfree(container_of(kref, struct rpmsg_endpoint, refcount));
}

static void vrpmsg_ept_destroy(struct rpmsg_endpoint *ept)
{
	struct vrpmsg *vrp = to_vch(ept->rpdev)->vrp;

	mutex_lock(&vrp->endpoints_lock);
	idr_remove(&vrp->endpoints, ept->addr);
	mutex_unlock(&vrp->endpoints_lock);

	/* A message being delivered holds cb_lock: wait for it. */
	mutex_lock(&ept->cb_lock);
	ept->cb = NULL;
	mutex_unlock(&ept->cb_lock);

	kref_put(&ept->refcount, vrpmsg_ept_release);
}

static const struct rpmsg_endpoint_ops vrpmsg_ept_ops = {
	.destroy_ept		= vrpmsg_ept_destroy,
	.send			= vrpmsg_ept_send,
	.sendto			= vrpmsg_ept_sendto,
	.send_offchannel	= vrpmsg_ept_send_offchannel,
	.trysend		= vrpmsg_ept_trysend,
	.trysendto		= vrpmsg_ept_trysendto,
	.trysend_offchannel	= vrpmsg_ept_trysend_offchannel,
	.poll			= vrpmsg_ept_poll,
	.get_mtu		= vrpmsg_ept_get_mtu,
};

static struct rpmsg_endpoint *vrpmsg_create_ept(struct rpmsg_device *rpdev,
						rpmsg_rx_cb_t cb, void *priv,
						struct rpmsg_channel_info chinfo)
{
	struct vrpmsg *vrp = to_vch(rpdev)->vrp;
	struct rpmsg_endpoint *ept;
	int start, end, id;

	if (chinfo.src == RPMSG_ADDR_ANY) {
		start = VRPMSG_FIRST_DYN_ADDR;
		end = 0;
	} else if (chinfo.src < INT_MAX) {
		start = chinfo.src;
		end = start + 1;
	} else {
		dev_err(&rpdev->dev, "address 0x%x is out of range\n",
			chinfo.src);
		return NULL;
	}

	ept = kzalloc(sizeof(*ept), GFP_KERNEL);
	if (!ept)
		return NULL;
	kref_init(&ept->refcount);
	mutex_init(&ept->cb_lock);
	ept->rpdev = rpdev;
	ept->cb = cb;
	ept->priv = priv;
	ept->ops = &vrpmsg_ept_ops;

	mutex_lock(&vrp->endpoints_lock);
	id = idr_alloc(&vrp->endpoints, ept, start, end, GFP_KERNEL);
	mutex_unlock(&vrp->endpoints_lock);
	if (id < 0) {
		dev_err(&rpdev->dev, "no endpoint at 0x%x: %d\n", chinfo.src,
			id);
		kfree(ept);
		return NULL;
	}
	ept->addr = id;
	return ept;
}

/* ---- channels ---- */

static int vrpmsg_announce(struct rpmsg_device *rpdev, u32 flags)
{
	struct vrpmsg *vrp = to_vch(rpdev)->vrp;
	struct rpmsg_ns_msg nsm = {};
	int ret;

	if (!rpdev->announce || !rpdev->ept ||
	    !vhost_device_has_feature(vrp->vdev, VIRTIO_RPMSG_F_NS))
		return 0;
	strscpy_pad(nsm.name, rpdev->id.name, sizeof(nsm.name));
	nsm.addr = cpu_to_rpmsg32(rpdev, rpdev->ept->addr);
	nsm.flags = cpu_to_rpmsg32(rpdev, flags);
	/*
	 * Both wait for a buffer up to send_timeout_ms: a removal that is
	 * not announced leaves a channel on the other side that no one
	 * serves. A channel going away with the link does not wait: the
	 * device stopped, and the other side forgets every channel anyway.
	 */
	ret = vrpmsg_send(rpdev->ept, rpdev->ept->addr, RPMSG_NS_ADDR, &nsm,
			  sizeof(nsm), true);
	if (ret == -EPIPE && flags == RPMSG_NS_DESTROY)
		return 0;	/* the other side is gone already */
	if (ret)
		dev_err(&rpdev->dev, "cannot announce the channel %s: %d\n",
			flags == RPMSG_NS_CREATE ? "creation" : "removal", ret);
	return ret;
}

static int vrpmsg_announce_create(struct rpmsg_device *rpdev)
{
	return vrpmsg_announce(rpdev, RPMSG_NS_CREATE);
}

static int vrpmsg_announce_destroy(struct rpmsg_device *rpdev)
{
	return vrpmsg_announce(rpdev, RPMSG_NS_DESTROY);
}

static struct rpmsg_device *vrpmsg_create_channel(struct rpmsg_device *rpdev,
						  struct rpmsg_channel_info *chinfo);
static int vrpmsg_release_channel(struct rpmsg_device *rpdev,
				  struct rpmsg_channel_info *chinfo);

static const struct rpmsg_device_ops vrpmsg_dev_ops = {
	.create_channel		= vrpmsg_create_channel,
	.release_channel	= vrpmsg_release_channel,
	.create_ept		= vrpmsg_create_ept,
	.announce_create	= vrpmsg_announce_create,
	.announce_destroy	= vrpmsg_announce_destroy,
};

static void vrpmsg_channel_release(struct device *dev)
{
	kfree(to_vch(to_rpmsg_device(dev)));
}

static struct vrpmsg_channel *vrpmsg_alloc_channel(struct vrpmsg *vrp,
						   enum vrpmsg_origin origin)
{
	struct vrpmsg_channel *vch = kzalloc(sizeof(*vch), GFP_KERNEL);

	if (!vch)
		return NULL;
	vch->vrp = vrp;
	vch->origin = origin;
	vch->rpdev.ops = &vrpmsg_dev_ops;
	vch->rpdev.little_endian = true;
	vch->rpdev.dev.parent = vrpmsg_dev(vrp);
	vch->rpdev.dev.release = vrpmsg_channel_release;
	return vch;
}

static int vrpmsg_count_one(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

static bool vrpmsg_addr_taken(struct vrpmsg *vrp, u32 addr)
{
	bool taken;

	if (addr == RPMSG_ADDR_ANY)
		return false;
	mutex_lock(&vrp->endpoints_lock);
	taken = addr <= INT_MAX && idr_find(&vrp->endpoints, addr);
	mutex_unlock(&vrp->endpoints_lock);
	return taken;
}

/**
 * vrpmsg_add_channel() - create and register a channel
 * @vrp: the bus
 * @chinfo: its name, local address (src, RPMSG_ADDR_ANY for any) and the
 *	other side's address (dst, RPMSG_ADDR_ANY if not known yet)
 * @origin: who asks
 *
 * A channel with a local address is announced to the other side once a
 * driver binds it.
 *
 * Return: the channel, or an ERR_PTR: -EEXIST for a channel of the same
 * name and addresses, -EADDRINUSE if @chinfo->src is taken, -ENOSPC beyond
 * max_channels, -EPIPE once the device stops.
 */
struct rpmsg_device *vrpmsg_add_channel(struct vrpmsg *vrp,
					struct rpmsg_channel_info *chinfo,
					enum vrpmsg_origin origin)
{
	struct device *parent = vrpmsg_dev(vrp);
	struct vrpmsg_channel *vch;
	struct device *dup;
	unsigned int n = 0;
	int ret;

	mutex_lock(&vrp->chan_lock);
	/* stop() clears running, then removes channels under chan_lock. */
	if (!READ_ONCE(vrp->running)) {
		ret = -EPIPE;
		goto out;
	}
	dup = rpmsg_find_device(parent, chinfo);
	if (dup) {
		put_device(dup);
		dev_err(parent, "channel %s 0x%x -> 0x%x exists\n",
			chinfo->name, chinfo->src, chinfo->dst);
		ret = -EEXIST;
		goto out;
	}
	if (vrpmsg_addr_taken(vrp, chinfo->src)) {
		dev_err(parent, "channel %s: address 0x%x is taken\n",
			chinfo->name, chinfo->src);
		ret = -EADDRINUSE;
		goto out;
	}
	device_for_each_child(parent, &n, vrpmsg_count_one);
	if (n >= max_channels + 2) {	/* the name service and rpmsg_ctrl */
		dev_err(parent, "channel %s: already %u channels (max_channels)\n",
			chinfo->name, max_channels);
		ret = -ENOSPC;
		goto out;
	}
	vch = vrpmsg_alloc_channel(vrp, origin);
	if (!vch) {
		ret = -ENOMEM;
		goto out;
	}
	vch->rpdev.src = chinfo->src;
	vch->rpdev.dst = chinfo->dst;
	vch->rpdev.announce = chinfo->src != RPMSG_ADDR_ANY;
	strscpy(vch->rpdev.id.name, chinfo->name, sizeof(vch->rpdev.id.name));
	ret = rpmsg_register_device(&vch->rpdev);	/* frees on error */
out:
	mutex_unlock(&vrp->chan_lock);
	return ret ? ERR_PTR(ret) : &vch->rpdev;
}

/* An announcement of the other side, as the name service passes it on. */
static bool vrpmsg_valid_announcement(struct vrpmsg *vrp,
				      const struct rpmsg_channel_info *chinfo)
{
	const char *p;

	if (!chinfo->name[0]) {
		dev_err(vrpmsg_dev(vrp), "announcement without a name refused\n");
		return false;
	}
	for (p = chinfo->name; *p; p++) {
		if (!isgraph(*p)) {
			dev_err(vrpmsg_dev(vrp),
				"announcement with a non-printable name refused\n");
			return false;
		}
	}
	if (chinfo->dst == RPMSG_ADDR_ANY || chinfo->dst == RPMSG_NS_ADDR) {
		dev_err(vrpmsg_dev(vrp),
			"announcement of %s at address 0x%x refused\n",
			chinfo->name, chinfo->dst);
		return false;
	}
	return true;
}

/* rpmsg_create_channel(): from the name service or rpmsg_ctrl. */
static struct rpmsg_device *vrpmsg_create_channel(struct rpmsg_device *rpdev,
						  struct rpmsg_channel_info *chinfo)
{
	struct vrpmsg *vrp = to_vch(rpdev)->vrp;
	bool peer = rpdev == vrp->ns_rpdev;
	struct rpmsg_device *ch;

	if (peer && !vrpmsg_valid_announcement(vrp, chinfo))
		return NULL;
	ch = vrpmsg_add_channel(vrp, chinfo, peer ? VRPMSG_PEER : VRPMSG_LOCAL);
	return IS_ERR(ch) ? NULL : ch;
}

/* rpmsg_release_channel(): from the name service or rpmsg_ctrl. */
static int vrpmsg_release_channel(struct rpmsg_device *rpdev,
				  struct rpmsg_channel_info *chinfo)
{
	struct vrpmsg *vrp = to_vch(rpdev)->vrp;
	enum vrpmsg_origin who;
	struct device *dev;
	int ret = 0;

	who = rpdev == vrp->ns_rpdev ? VRPMSG_PEER : VRPMSG_LOCAL;
	mutex_lock(&vrp->chan_lock);
	dev = rpmsg_find_device(vrpmsg_dev(vrp), chinfo);
	if (!dev)
		ret = -ENODEV;
	else if (to_vch(to_rpmsg_device(dev))->origin != who)
		ret = -EPERM;
	else
		device_unregister(dev);
	put_device(dev);
	mutex_unlock(&vrp->chan_lock);
	if (ret)
		dev_err(vrpmsg_dev(vrp), "%s cannot remove channel %s 0x%x -> 0x%x: %s\n",
			who == VRPMSG_PEER ? "the other side" : "a local driver",
			chinfo->name, chinfo->src, chinfo->dst,
			ret == -ENODEV ? "no such channel" : "not its own");
	return ret;
}

/* ---- receiving ---- */

static void vrpmsg_deliver(struct vrpmsg *vrp, u32 src, u32 dst,
			   void *data, unsigned int len)
{
	struct rpmsg_endpoint *ept = NULL;

	mutex_lock(&vrp->endpoints_lock);
	if (dst <= INT_MAX)
		ept = idr_find(&vrp->endpoints, dst);
	if (ept)
		kref_get(&ept->refcount);
	mutex_unlock(&vrp->endpoints_lock);
	if (!ept) {
		dev_warn_ratelimited(vrpmsg_dev(vrp),
				     "message from 0x%x to 0x%x: no such endpoint\n",
				     src, dst);
		return;
	}
	mutex_lock(&ept->cb_lock);
	if (ept->cb)
		ept->cb(ept->rpdev, data, len, ept->priv, src);
	mutex_unlock(&ept->cb_lock);
	kref_put(&ept->refcount, vrpmsg_ept_release);
}

/*
 * Read the message in @vrp->rxbuf, give the buffer back and deliver it.
 * Return false if the device failed.
 */
static bool vrpmsg_rx_one(struct vrpmsg *vrp)
{
	struct vhost_buf *buf = &vrp->rxbuf;
	size_t n = vhost_buf_readable(buf);
	struct rpmsg_hdr hdr;
	unsigned int len = 0;
	bool good = false;

	if (n < sizeof(hdr) || n > VRPMSG_BUF_SIZE) {
		dev_warn_ratelimited(vrpmsg_dev(vrp),
				     "buffer of %zu bytes dropped: a message has %zu to %u\n",
				     n, sizeof(hdr), VRPMSG_BUF_SIZE);
	} else if (vhost_buf_pull(buf, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		dev_warn_ratelimited(vrpmsg_dev(vrp), "unreadable message dropped\n");
	} else if (vrpmsg16(hdr.len) > n - sizeof(hdr)) {
		dev_warn_ratelimited(vrpmsg_dev(vrp),
				     "message dropped: payload length %u in a %zu-byte buffer\n",
				     vrpmsg16(hdr.len), n);
	} else {
		len = vrpmsg16(hdr.len);
		good = vhost_buf_pull(buf, vrp->rxdata, len) == len;
		if (!good)
			dev_warn_ratelimited(vrpmsg_dev(vrp),
					     "unreadable message dropped\n");
	}
	/* Give the buffer back first: the other side may be waiting. */
	if (vhost_vq_put_buf(vrp->rxq, buf))
		return false;
	vhost_vq_kick_cansleep(vrp->rxq);
	if (good)
		vrpmsg_deliver(vrp, vrpmsg32(hdr.src), vrpmsg32(hdr.dst),
			       vrp->rxdata, len);
	return true;
}

static struct rpmsg_device *vrpmsg_add_internal(struct vrpmsg *vrp,
						int (*reg)(struct rpmsg_device *))
{
	struct vrpmsg_channel *vch = vrpmsg_alloc_channel(vrp, VRPMSG_INTERNAL);
	int ret;

	if (!vch)
		return NULL;
	ret = reg(&vch->rpdev);		/* frees on error */
	if (ret) {
		dev_err(vrpmsg_dev(vrp), "cannot add %pS: %d\n", reg, ret);
		return NULL;
	}
	return &vch->rpdev;
}

/* Add the bus's own devices and the configfs channels; from rx_work. */
static void vrpmsg_online(struct vrpmsg *vrp)
{
	vrpmsg_add_internal(vrp, rpmsg_ctrldev_register_device);
	if (vhost_device_has_feature(vrp->vdev, VIRTIO_RPMSG_F_NS))
		vrp->ns_rpdev = vrpmsg_add_internal(vrp,
						    rpmsg_ns_register_device);
	vrpmsg_cfs_attach(vrp, &vrp->cfs);
	vrp->online = true;
	dev_info(vrpmsg_dev(vrp), "rpmsg bus online as %s\n", vrpmsg_name(vrp));
}

static int vrpmsg_remove_one(struct device *dev, void *data)
{
	device_unregister(dev);
	return 0;
}

/* Remove every channel; from stop(), once rx_work is cancelled. */
static void vrpmsg_offline(struct vrpmsg *vrp)
{
	vrpmsg_cfs_detach(&vrp->cfs);
	/*
	 * A channel being added (it found the device running) is registered
	 * once chan_lock is free, and none is added after: remove them all.
	 * Not under chan_lock: rpmsg_ctrl calls in with its own lock held,
	 * which removing its device takes.
	 */
	mutex_lock(&vrp->chan_lock);
	mutex_unlock(&vrp->chan_lock);
	device_for_each_child(vrpmsg_dev(vrp), NULL, vrpmsg_remove_one);
	vrp->ns_rpdev = NULL;
	vrp->online = false;
}

static void vrpmsg_rx_work(struct work_struct *work)
{
	struct vrpmsg *vrp = container_of(work, struct vrpmsg, rx_work);
	unsigned int budget = VRPMSG_RX_BUDGET;
	int ret;

	/*
	 * Only once the name service listens are messages read, so that the
	 * other side's first announcements find it.
	 */
	if (!vrp->online)
		vrpmsg_online(vrp);

	do {
		vhost_vq_disable_cb(vrp->rxq);
		while ((ret = vhost_vq_get_buf(vrp->rxq, &vrp->rxbuf)) > 0) {
			if (!vrpmsg_rx_one(vrp))
				break;
			if (!--budget) {
				/* Let others run; come back for the rest. */
				vhost_buf_release(&vrp->rxbuf);
				queue_work(vrpmsg_wq, &vrp->rx_work);
				return;
			}
		}
		vhost_buf_release(&vrp->rxbuf);
		if (ret < 0)
			return;	/* the core has failed the device */
	} while (!vhost_vq_enable_cb(vrp->rxq));
}

/* ---- the vhost client ---- */

/* Called in atomic context when the driver side kicks a queue. */
static void vrpmsg_tx_kicked(struct vhost_vq *vq)
{
	struct vrpmsg *vrp = vq->priv;

	atomic_inc(&vrp->tx_kicks);
	wake_up_interruptible_all(&vrp->sendq);
}

static void vrpmsg_rx_kicked(struct vhost_vq *vq)
{
	struct vrpmsg *vrp = vq->priv;

	queue_work(vrpmsg_wq, &vrp->rx_work);
}

static int vrpmsg_start(struct vhost_device *vdev)
{
	struct vrpmsg *vrp = vhost_get_drvdata(vdev);
	vhost_vq_callback_t *callbacks[] = { vrpmsg_tx_kicked,
					     vrpmsg_rx_kicked };
	static const char *const names[] = { "input", "output" };
	struct vhost_vq *vqs[2];
	int ret;

	ret = vhost_create_vqs(vdev, 2, callbacks, names, vqs);
	if (ret)
		return ret;
	vrp->txq = vqs[0];
	vrp->rxq = vqs[1];
	vrp->txq->priv = vrp;
	vrp->rxq->priv = vrp;
	/* Senders ask for kicks of queue 0 only while they wait. */
	vhost_vq_disable_cb(vrp->txq);

	mutex_lock(&vrp->tx_lock);
	vrp->running = true;
	vrp->tx_waiters = 0;
	vrp->tx_polled = false;
	mutex_unlock(&vrp->tx_lock);
	queue_work(vrpmsg_wq, &vrp->rx_work);
	return 0;
}

static void vrpmsg_stop(struct vhost_device *vdev)
{
	struct vrpmsg *vrp = vhost_get_drvdata(vdev);

	/* Senders fail from now on; those waiting wake up and fail. */
	mutex_lock(&vrp->tx_lock);
	WRITE_ONCE(vrp->running, false);
	mutex_unlock(&vrp->tx_lock);
	wake_up_interruptible_all(&vrp->sendq);

	/* Kick callbacks have ended (the core): nothing requeues it. */
	cancel_work_sync(&vrp->rx_work);
	if (vrp->online)
		vrpmsg_offline(vrp);
	vrp->txq = NULL;
	vrp->rxq = NULL;
}

static int vrpmsg_validate_features(struct vhost_device *vdev, u64 features)
{
	if (!(features & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_err(&vdev->dev, "the other side must accept VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	return 0;
}

static int vrpmsg_probe(struct vhost_device *vdev)
{
	struct vrpmsg *vrp;

	vrp = kzalloc(sizeof(*vrp), GFP_KERNEL);
	if (!vrp)
		return -ENOMEM;
	vrp->vdev = vdev;
	mutex_init(&vrp->tx_lock);
	mutex_init(&vrp->endpoints_lock);
	mutex_init(&vrp->chan_lock);
	idr_init(&vrp->endpoints);
	init_waitqueue_head(&vrp->sendq);
	INIT_WORK(&vrp->rx_work, vrpmsg_rx_work);
	vhost_buf_init(&vrp->txbuf);
	vhost_buf_init(&vrp->rxbuf);
	vhost_set_drvdata(vdev, vrp);
	vhost_set_features(vdev, BIT_ULL(VIRTIO_F_VERSION_1) |
			   BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			   BIT_ULL(VIRTIO_RPMSG_F_NS));
	return 0;
}

static void vrpmsg_remove(struct vhost_device *vdev)
{
	struct vrpmsg *vrp = vhost_get_drvdata(vdev);

	/* stop() has run if it was owed: no channel and no endpoint left. */
	WARN_ON(!idr_is_empty(&vrp->endpoints));
	idr_destroy(&vrp->endpoints);
	mutex_destroy(&vrp->tx_lock);
	mutex_destroy(&vrp->endpoints_lock);
	mutex_destroy(&vrp->chan_lock);
	kfree(vrp);
}

static const struct vhost_device_id vrpmsg_ids[] = {
	{ VIRTIO_ID_RPMSG, VHOST_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(vhost, vrpmsg_ids);

static struct vhost_driver vrpmsg_driver = {
	.driver.name		= "vhost_rpmsg",
	.id_table		= vrpmsg_ids,
	.probe			= vrpmsg_probe,
	.remove			= vrpmsg_remove,
	.validate_features	= vrpmsg_validate_features,
	.start			= vrpmsg_start,
	.stop			= vrpmsg_stop,
};

static int __init vrpmsg_init(void)
{
	int ret;

	vrpmsg_wq = alloc_workqueue("vhost_rpmsg", WQ_UNBOUND | WQ_SYSFS, 0);
	if (!vrpmsg_wq)
		return -ENOMEM;
	ret = vrpmsg_cfs_init();
	if (ret)
		goto err_wq;
	ret = vhost_driver_register(&vrpmsg_driver);
	if (ret)
		goto err_cfs;
	return 0;

err_cfs:
	vrpmsg_cfs_exit();
err_wq:
	destroy_workqueue(vrpmsg_wq);
	return ret;
}
module_init(vrpmsg_init);

static void __exit vrpmsg_exit(void)
{
	vhost_driver_unregister(&vrpmsg_driver);
	vrpmsg_cfs_exit();
	destroy_workqueue(vrpmsg_wq);
}
module_exit(vrpmsg_exit);

MODULE_DESCRIPTION("vhost rpmsg: an rpmsg bus facing a stock virtio_rpmsg_bus across a link");
MODULE_LICENSE("GPL");
