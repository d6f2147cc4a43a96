// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost bus: devices (the device side of virtio devices, created by
 * transports) and drivers (clients such as vhost rpmsg and vhost net).
 *
 * Locking: each device has two mutexes.  ->status_lock serialises status
 * transitions (feature negotiation, start, stop, reset, failure) and the
 * client callbacks they make, so a client never sees start and stop race.
 * ->lock protects the fields of struct vhost_device and is held around
 * every transport op; clients may take it (through vhost_set_config() and
 * friends) from their callbacks.  Order: ->status_lock, then ->lock.
 */

#include <linux/device.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "vhost_bus_internal.h"

static DEFINE_IDA(vhost_index_ida);

#define VHOST_STATUS_KNOWN	(VIRTIO_CONFIG_S_ACKNOWLEDGE |		\
				 VIRTIO_CONFIG_S_DRIVER |		\
				 VIRTIO_CONFIG_S_DRIVER_OK |		\
				 VIRTIO_CONFIG_S_FEATURES_OK |		\
				 VIRTIO_CONFIG_S_NEEDS_RESET |		\
				 VIRTIO_CONFIG_S_FAILED)

#define VHOST_MODALIAS_FMT	"vhost:d%08Xv%08X"

static bool vhost_id_match(const struct vhost_device *vdev,
			   const struct vhost_device_id *id)
{
	if (id->device != vdev->id.device && id->device != VHOST_DEV_ANY_ID)
		return false;
	return id->vendor == VHOST_DEV_ANY_ID || id->vendor == vdev->id.vendor;
}

/*
 * A device created for a client (a configfs link) binds that client only,
 * even where others match its id too; and only if its id table matches.
 */
static int vhost_bus_match(struct device *dev, const struct device_driver *drv)
{
	const struct vhost_device *vdev = to_vhost_device(dev);
	const struct vhost_device_id *ids = to_vhost_driver(drv)->id_table;
	unsigned int i;

	if (vdev->driver_override && strcmp(vdev->driver_override, drv->name))
		return 0;
	for (i = 0; ids && ids[i].device; i++)
		if (vhost_id_match(vdev, &ids[i]))
			return 1;
	return 0;
}

static int vhost_bus_uevent(const struct device *dev,
			    struct kobj_uevent_env *env)
{
	const struct vhost_device *vdev = to_vhost_device(dev);

	return add_uevent_var(env, "MODALIAS=" VHOST_MODALIAS_FMT,
			      vdev->id.device, vdev->id.vendor);
}

/*
 * Stop the client if it runs and delete the queues; ->status_lock held.
 * Kick callbacks end before stop() is called, so a client's stop() that
 * cancels the work its callbacks queue has nothing left running after it.
 */
static void vhost_stop_client(struct vhost_device *vdev)
{
	struct vhost_vq_set *set;
	struct vhost_driver *drv;

	lockdep_assert_held(&vdev->status_lock);
	/* Also the queues of a client whose start() failed. */
	set = vhost_unpublish_vqs(vdev);
	if (vdev->started) {
		drv = vdev->client;
		drv->stop(vdev);
		mutex_lock(&vdev->lock);
		vdev->started = false;
		mutex_unlock(&vdev->lock);
	}
	kfree(set);
}

static void vhost_fail_locked(struct vhost_device *vdev, const char *reason)
{
	lockdep_assert_held(&vdev->status_lock);
	if (vdev->failed)
		return;
	dev_err(&vdev->dev, "device needs reset: %s\n", reason);
	vhost_stop_client(vdev);
	mutex_lock(&vdev->lock);
	vdev->failed = true;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vdev->ops->set_status(vdev, vdev->status);
	/* virtio: a device sets NEEDS_RESET and notifies a config change */
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev->ops->notify_config(vdev);
	mutex_unlock(&vdev->lock);
}

static void vhost_reset_locked(struct vhost_device *vdev)
{
	lockdep_assert_held(&vdev->status_lock);
	vhost_stop_client(vdev);
	mutex_lock(&vdev->lock);
	vdev->negotiated = 0;
	vdev->failed = false;
	vdev->fail_reason = NULL;
	vdev->status = 0;
	/* Only now may the driver side read 0: the reset is complete. */
	vdev->ops->set_status(vdev, 0);
	mutex_unlock(&vdev->lock);
}

/* FEATURES_OK was set: grant or refuse what the driver side accepted. */
static u8 vhost_negotiate_locked(struct vhost_device *vdev, u8 status)
{
	struct vhost_driver *drv = vdev->client;
	u64 accepted, offered;
	int ret = 0;

	mutex_lock(&vdev->lock);
	accepted = vdev->ops->get_driver_features(vdev);
	offered = vdev->features;
	mutex_unlock(&vdev->lock);

	if (!drv) {
		dev_warn(&vdev->dev, "FEATURES_OK refused: no client bound\n");
		return status & ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (accepted & ~offered) {
		dev_warn(&vdev->dev,
			 "FEATURES_OK refused: features %#llx were not offered (offered %#llx)\n",
			 accepted & ~offered, offered);
		return status & ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (!(accepted & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_warn(&vdev->dev,
			 "FEATURES_OK refused: VIRTIO_F_VERSION_1 not accepted (features %#llx): the two sides would not agree on byte order\n",
			 accepted);
		return status & ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (drv->validate_features)
		ret = drv->validate_features(vdev, accepted);
	if (ret) {
		dev_warn(&vdev->dev,
			 "FEATURES_OK refused: client rejects features %#llx (%d)\n",
			 accepted, ret);
		return status & ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	mutex_lock(&vdev->lock);
	vdev->negotiated = accepted;
	mutex_unlock(&vdev->lock);
	return status;
}

/**
 * vhost_device_status_changed() - the driver side wrote the device status
 * @vdev: the device
 *
 * Called by the transport, in process context, when the driver side has
 * written a new status.  The core reads it with the get_status op, applies
 * the virtio rules and publishes the resulting status with set_status:
 *
 * - 0 resets the device: the client is stopped, its queues deleted, and
 *   only then 0 is published;
 * - FEATURES_OK is granted only if the accepted features are a subset of
 *   the offered ones and the client's validate_features() agrees;
 *   otherwise it is cleared in the published status;
 * - DRIVER_OK starts the client (ring access is allowed from then on); it
 *   needs FEATURES_OK first;
 * - clearing a bit other than by reset, setting DRIVER_OK without
 *   FEATURES_OK, or an unknown bit fails the device (DEVICE_NEEDS_RESET);
 * - FAILED from the driver side stops the client and forgets the
 *   negotiation: FEATURES_OK and DRIVER_OK are cleared in the published
 *   status, so that the next driver, which Linux's virtio core probes
 *   without a reset, negotiates features again and starts the client
 *   again.
 *
 * After DEVICE_NEEDS_RESET only a reset is acted upon.
 */
void vhost_device_status_changed(struct vhost_device *vdev)
{
	u8 old, new;

	mutex_lock(&vdev->status_lock);
	mutex_lock(&vdev->lock);
	new = vdev->ops->get_status(vdev);
	old = vdev->status;
	mutex_unlock(&vdev->lock);

	if (!new) {
		vhost_reset_locked(vdev);
		goto out;
	}
	if (vdev->failed || new == old)
		goto out;
	/* NEEDS_RESET is the device's bit; the driver side only echoes it. */
	new &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if (new & ~VHOST_STATUS_KNOWN) {
		vhost_fail_locked(vdev, "unknown status bits from the driver side");
		goto out;
	}
	if (old & ~new) {
		vhost_fail_locked(vdev, "status bits cleared without a reset");
		goto out;
	}
	if ((new & VIRTIO_CONFIG_S_FAILED) &&
	    !(old & VIRTIO_CONFIG_S_FAILED)) {
		/*
		 * The driver gave up. Linux does not reset before the next
		 * driver probes, so negotiation goes on with FAILED set.
		 */
		dev_info(&vdev->dev, "the driver side gave up (FAILED)\n");
		vhost_stop_client(vdev);
		new &= ~(VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
		mutex_lock(&vdev->lock);
		vdev->negotiated = 0;
		mutex_unlock(&vdev->lock);
	}
	if ((new & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK))
		new = vhost_negotiate_locked(vdev, new);
	if ((new & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		struct vhost_driver *drv;
		int ret;

		if (!(new & VIRTIO_CONFIG_S_FEATURES_OK)) {
			vhost_fail_locked(vdev, "DRIVER_OK without FEATURES_OK");
			goto out;
		}
		drv = vdev->client;
		mutex_lock(&vdev->lock);
		vdev->status = new;
		mutex_unlock(&vdev->lock);
		ret = drv->start(vdev);
		if (ret) {
			vhost_fail_locked(vdev, "the client could not start");
			goto out;
		}
		mutex_lock(&vdev->lock);
		vdev->started = true;
		mutex_unlock(&vdev->lock);
		vhost_publish_vqs(vdev);
	}
	mutex_lock(&vdev->lock);
	vdev->status = new;
	vdev->ops->set_status(vdev, new);
	mutex_unlock(&vdev->lock);
out:
	mutex_unlock(&vdev->status_lock);
}
EXPORT_SYMBOL_GPL(vhost_device_status_changed);

static void vhost_fail_work(struct work_struct *work)
{
	struct vhost_device *vdev = container_of(work, struct vhost_device,
						 fail_work);
	const char *reason;

	mutex_lock(&vdev->status_lock);
	mutex_lock(&vdev->lock);
	reason = vdev->fail_reason;
	mutex_unlock(&vdev->lock);
	if (reason)
		vhost_fail_locked(vdev, reason);
	mutex_unlock(&vdev->status_lock);
}

/**
 * vhost_device_fail() - report an unrecoverable error of the device
 * @vdev: the device
 * @reason: what went wrong, a string that outlives the device (a literal)
 *
 * For a malformed ring, a peer that stopped answering, and the like: the
 * client is stopped, DEVICE_NEEDS_RESET is published and the driver side
 * notified.  Only a reset from the driver side brings the device back.
 *
 * Context: any; the work is done in a workqueue.
 */
void vhost_device_fail(struct vhost_device *vdev, const char *reason)
{
	/* ->lock is a mutex; the first reason wins without it. */
	cmpxchg(&vdev->fail_reason, NULL, reason);
	schedule_work(&vdev->fail_work);
}
EXPORT_SYMBOL_GPL(vhost_device_fail);

/*
 * The feature bits of the transport range (VIRTIO_TRANSPORT_F_START to
 * VIRTIO_TRANSPORT_F_END) that the bus implements for every transport:
 * split rings with indirect descriptors and event indices (what vringh
 * does), virtio 1.x. Packed rings, in-order use, notification data, ring
 * reset and the rest are not: a client cannot offer them. Bits that only
 * a transport can honour (VIRTIO_F_ACCESS_PLATFORM, for one) are its to
 * add and to hide from the client.
 */
#define VHOST_BUS_TRANSPORT_FEATURES	(BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | \
					 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
					 BIT_ULL(VIRTIO_F_VERSION_1))
#define VHOST_BUS_TRANSPORT_RANGE	GENMASK_ULL(VIRTIO_TRANSPORT_F_END - 1, \
						    VIRTIO_TRANSPORT_F_START)

/**
 * vhost_set_features() - set the feature bits the device offers
 * @vdev: the device
 * @features: the client's device-specific bits, and the ring bits it
 *	implements (VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX)
 *
 * Called by the client, usually in probe(), before the driver side reads
 * them. The core owns the policy for the transport range: it always
 * offers VIRTIO_F_VERSION_1 (the two sides are different systems, which
 * may not share a byte order; FEATURES_OK without it is refused), and
 * never the ring features the bus does not implement, which it drops
 * with a warning. The transport publishes the result to the driver side.
 */
void vhost_set_features(struct vhost_device *vdev, u64 features)
{
	u64 dropped = features & VHOST_BUS_TRANSPORT_RANGE &
		      ~VHOST_BUS_TRANSPORT_FEATURES;

	if (dropped)
		dev_warn(&vdev->dev, "features %#llx not offered: the vhost bus does not implement them\n",
			 dropped);
	features = (features & ~dropped) | BIT_ULL(VIRTIO_F_VERSION_1);
	mutex_lock(&vdev->lock);
	vdev->features = features;
	vdev->ops->set_device_features(vdev, features);
	mutex_unlock(&vdev->lock);
}
EXPORT_SYMBOL_GPL(vhost_set_features);

/**
 * vhost_device_has_feature() - was a feature negotiated?
 * @vdev: the device
 * @bit: the feature bit
 *
 * Return: true if the driver side accepted @bit and FEATURES_OK was
 * granted.
 */
bool vhost_device_has_feature(const struct vhost_device *vdev, unsigned int bit)
{
	return bit < 64 && (READ_ONCE(vdev->negotiated) & BIT_ULL(bit));
}
EXPORT_SYMBOL_GPL(vhost_device_has_feature);

/**
 * vhost_get_status() - the device status as the core last accepted it
 * @vdev: the device
 *
 * Return: the status bits (VIRTIO_CONFIG_S_*).
 */
u8 vhost_get_status(struct vhost_device *vdev)
{
	u8 status;

	mutex_lock(&vdev->lock);
	status = vdev->status;
	mutex_unlock(&vdev->lock);
	return status;
}
EXPORT_SYMBOL_GPL(vhost_get_status);

static bool vhost_config_range_ok(struct vhost_device *vdev,
				  unsigned int offset, unsigned int len)
{
	unsigned int end;

	return !check_add_overflow(offset, len, &end) &&
	       end <= vdev->config_len;
}

/**
 * vhost_set_config() - change the device config space
 * @vdev: the device
 * @offset: where in config space
 * @buf: the new bytes
 * @len: how many
 *
 * Updates the cached copy, bumps the generation, has the transport
 * publish the bytes and, once the driver side is running, notifies it of
 * the change.
 *
 * Return: 0, or -EINVAL if the range is outside config space.
 */
int vhost_set_config(struct vhost_device *vdev, unsigned int offset,
		     const void *buf, unsigned int len)
{
	if (!vhost_config_range_ok(vdev, offset, len)) {
		dev_err(&vdev->dev, "config write [%u, +%u) beyond %u bytes\n",
			offset, len, vdev->config_len);
		return -EINVAL;
	}
	mutex_lock(&vdev->lock);
	memcpy(vdev->config + offset, buf, len);
	vdev->generation++;
	vdev->ops->set_config(vdev, offset, buf, len, vdev->generation);
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev->ops->notify_config(vdev);
	mutex_unlock(&vdev->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_set_config);

/**
 * vhost_get_config() - read the device config space
 * @vdev: the device
 * @offset: where in config space
 * @buf: where to copy the bytes
 * @len: how many
 *
 * Reads the cached copy: it never waits on the link.
 *
 * Return: 0, or -EINVAL if the range is outside config space.
 */
int vhost_get_config(struct vhost_device *vdev, unsigned int offset,
		     void *buf, unsigned int len)
{
	if (!vhost_config_range_ok(vdev, offset, len))
		return -EINVAL;
	mutex_lock(&vdev->lock);
	memcpy(buf, vdev->config + offset, len);
	mutex_unlock(&vdev->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_get_config);

/* Does [@offset, @offset + @len) lie in one field the client made writable? */
static bool vhost_config_writable(const struct vhost_driver *drv,
				  unsigned int offset, unsigned int len)
{
	const struct vhost_config_field *f;

	for (f = drv ? drv->config_writable : NULL; f && f->len; f++)
		if (offset >= f->offset && len <= f->len &&
		    offset - f->offset <= f->len - len)
			return true;
	return false;
}

/**
 * vhost_device_config_write() - the driver side writes config space
 * @vdev: the device
 * @offset: where
 * @buf: the bytes written
 * @len: how many
 *
 * Called by the transport, in process context, with what the driver side
 * wrote, before it shows it anywhere.  A range outside config space is
 * refused; so is one that is not inside a field the client declared
 * writable (&vhost_driver.config_writable), and config space does not
 * change.  Otherwise the core takes the bytes into its copy, has the
 * transport publish them (set_config, same generation: the driver side
 * made the change) and tells the client with its config_written().
 *
 * Return: 0, -EINVAL for a range outside config space, -EPERM for a
 * field the driver side may not write.
 */
int vhost_device_config_write(struct vhost_device *vdev, unsigned int offset,
			      const void *buf, unsigned int len)
{
	struct vhost_driver *drv;
	int ret = 0;

	if (!vhost_config_range_ok(vdev, offset, len)) {
		dev_warn(&vdev->dev,
			 "driver side wrote config [%u, +%u) beyond %u bytes\n",
			 offset, len, vdev->config_len);
		return -EINVAL;
	}
	mutex_lock(&vdev->status_lock);
	drv = vdev->client;
	if (!vhost_config_writable(drv, offset, len)) {
		dev_warn(&vdev->dev,
			 "driver side wrote config [%u, +%u): not a writable field, ignored\n",
			 offset, len);
		ret = -EPERM;
		goto out;
	}
	mutex_lock(&vdev->lock);
	memcpy(vdev->config + offset, buf, len);
	vdev->ops->set_config(vdev, offset, vdev->config + offset, len,
			      vdev->generation);
	mutex_unlock(&vdev->lock);
	if (drv->config_written)
		drv->config_written(vdev, offset, len);
out:
	mutex_unlock(&vdev->status_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vhost_device_config_write);

static int vhost_bus_probe(struct device *dev)
{
	struct vhost_device *vdev = to_vhost_device(dev);
	struct vhost_driver *drv = to_vhost_driver(dev->driver);
	int ret;

	ret = drv->probe(vdev);
	if (ret)
		return ret;
	/* Status changes reach the client only once its probe is done. */
	mutex_lock(&vdev->status_lock);
	vdev->client = drv;
	mutex_unlock(&vdev->status_lock);
	return 0;
}

static void vhost_bus_remove(struct device *dev)
{
	struct vhost_device *vdev = to_vhost_device(dev);
	struct vhost_driver *drv = to_vhost_driver(dev->driver);

	/* The client goes: the driver side must start over. */
	cancel_work_sync(&vdev->fail_work);
	mutex_lock(&vdev->status_lock);
	if (vdev->status)
		vhost_fail_locked(vdev, "client removed");
	vdev->client = NULL;
	mutex_unlock(&vdev->status_lock);
	if (drv->remove)
		drv->remove(vdev);
}

static ssize_t device_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%04x\n", to_vhost_device(dev)->id.device);
}
static DEVICE_ATTR_RO(device);

static ssize_t vendor_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%04x\n", to_vhost_device(dev)->id.vendor);
}
static DEVICE_ATTR_RO(vendor);

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct vhost_device *vdev = to_vhost_device(dev);

	return sysfs_emit(buf, VHOST_MODALIAS_FMT "\n", vdev->id.device,
			  vdev->id.vendor);
}
static DEVICE_ATTR_RO(modalias);

/* Feature bits as they are now, offered or negotiated. */
static ssize_t vhost_show_features(struct device *dev, char *buf,
				   bool negotiated)
{
	struct vhost_device *vdev = to_vhost_device(dev);
	u64 features;

	mutex_lock(&vdev->lock);
	features = negotiated ? vdev->negotiated : vdev->features;
	mutex_unlock(&vdev->lock);
	return sysfs_emit(buf, "0x%016llx\n", features);
}

static ssize_t features_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return vhost_show_features(dev, buf, false);
}
static DEVICE_ATTR_RO(features);

static ssize_t negotiated_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return vhost_show_features(dev, buf, true);
}
static DEVICE_ATTR_RO(negotiated);

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%02x\n",
			  vhost_get_status(to_vhost_device(dev)));
}
static DEVICE_ATTR_RO(status);

static struct attribute *vhost_dev_attrs[] = {
	&dev_attr_device.attr,
	&dev_attr_vendor.attr,
	&dev_attr_modalias.attr,
	&dev_attr_features.attr,
	&dev_attr_negotiated.attr,
	&dev_attr_status.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vhost_dev);

static const struct bus_type vhost_bus_type = {
	.name = "vhost",
	.match = vhost_bus_match,
	.uevent = vhost_bus_uevent,
	.probe = vhost_bus_probe,
	.remove = vhost_bus_remove,
	.dev_groups = vhost_dev_groups,
};

/**
 * __vhost_driver_register() - register a vhost client
 * @drv: the client; probe, start and stop are mandatory
 * @owner: the module of the client
 *
 * Use vhost_driver_register() or module_vhost_driver().  The client's ids
 * appear under /sys/kernel/config/vhost/clients, ready to be bound.
 *
 * Return: 0 or a negative errno.
 */
int __vhost_driver_register(struct vhost_driver *drv, struct module *owner)
{
	int ret;

	if (!drv->probe || !drv->start || !drv->stop || !drv->id_table) {
		pr_err("vhost: client %s refused: probe, start, stop and id_table are mandatory\n",
		       drv->driver.name ?: "(unnamed)");
		return -EINVAL;
	}
	drv->driver.bus = &vhost_bus_type;
	drv->driver.owner = owner;
	ret = driver_register(&drv->driver);
	if (ret)
		return ret;
	ret = vhost_configfs_add_client(drv);
	if (ret)
		driver_unregister(&drv->driver);
	return ret;
}
EXPORT_SYMBOL_GPL(__vhost_driver_register);

/**
 * vhost_driver_unregister() - unregister a vhost client
 * @drv: the client
 */
void vhost_driver_unregister(struct vhost_driver *drv)
{
	vhost_configfs_del_client(drv);
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL_GPL(vhost_driver_unregister);

static void vhost_device_release(struct device *dev)
{
	struct vhost_device *vdev = to_vhost_device(dev);

	ida_free(&vhost_index_ida, vdev->index);
	kfree(vdev->config);
	kfree(vdev->driver_override);
	kfree(vdev->settings);
	vdev->release(vdev);
}

/**
 * vhost_device_init() - prepare a device before vhost_device_add()
 * @vdev: the device, zeroed, embedded in the transport's structure
 * @parent: the transport's device, or NULL
 * @id: virtio device and vendor id
 * @bind: the binding the transport's add() was asked for: the only
 *	client that may bind to the device and its settings; or NULL for any
 *	client that matches, with no settings
 * @ops: the transport's ops; those up to @notify_config are mandatory,
 *	the queue ops are checked when a client creates queues
 * @config_len: size of the device config space in bytes, may be 0
 * @release: frees the transport's structure once the last reference to
 *	@vdev is gone
 *
 * After success, drop the device with vhost_device_put() (before it was
 * added) or vhost_device_unregister() (after).
 *
 * Return: 0 or a negative errno; on failure nothing needs undoing.
 */
int vhost_device_init(struct vhost_device *vdev, struct device *parent,
		      const struct vhost_device_id *id,
		      const struct vhost_bind *bind,
		      const struct vhost_transport_ops *ops,
		      unsigned int config_len,
		      void (*release)(struct vhost_device *vdev))
{
	int index;

	if (!ops || !ops->get_driver_features || !ops->set_device_features ||
	    !ops->get_status || !ops->set_status || !ops->set_config ||
	    !ops->notify_config || !release ||
	    !id->device || id->device == VHOST_DEV_ANY_ID) {
		pr_err("vhost: device of %s refused: a mandatory op, release or a device id is missing\n",
		       parent ? dev_name(parent) : "(no parent)");
		return -EINVAL;
	}
	index = ida_alloc(&vhost_index_ida, GFP_KERNEL);
	if (index < 0)
		return index;
	vdev->config = kzalloc(config_len ?: 1, GFP_KERNEL);
	if (!vdev->config)
		goto nomem;
	if (bind && bind->client) {
		vdev->driver_override = kstrdup(bind->client, GFP_KERNEL);
		if (!vdev->driver_override)
			goto nomem;
	}
	if (bind && bind->settings_size) {
		vdev->settings = kmemdup(bind->settings, bind->settings_size,
					 GFP_KERNEL);
		if (!vdev->settings)
			goto nomem;
	}
	vdev->index = index;
	vdev->id = *id;
	vdev->ops = ops;
	vdev->config_len = config_len;
	vdev->release = release;
	mutex_init(&vdev->lock);
	mutex_init(&vdev->status_lock);
	INIT_WORK(&vdev->fail_work, vhost_fail_work);
	device_initialize(&vdev->dev);
	vdev->dev.bus = &vhost_bus_type;
	vdev->dev.parent = parent;
	if (dev_set_name(&vdev->dev, "vhost%d", index))
		goto nomem;
	/* From here on, put_device() frees all of it. */
	vdev->dev.release = vhost_device_release;
	return 0;

nomem:
	kfree(vdev->settings);
	vdev->settings = NULL;
	kfree(vdev->driver_override);
	vdev->driver_override = NULL;
	kfree(vdev->config);
	vdev->config = NULL;
	ida_free(&vhost_index_ida, index);
	return -ENOMEM;
}
EXPORT_SYMBOL_GPL(vhost_device_init);

/**
 * vhost_device_add() - add a device to the vhost bus
 * @vdev: the device, after vhost_device_init()
 *
 * A client whose id table matches is probed (its module is loaded by
 * udev/mdev through the MODALIAS uevent).  The transport publishes status
 * 0 before the driver side may use the device.
 *
 * Return: 0 or a negative errno.
 */
int vhost_device_add(struct vhost_device *vdev)
{
	return device_add(&vdev->dev);
}
EXPORT_SYMBOL_GPL(vhost_device_add);

/**
 * vhost_device_unregister() - remove a device from the vhost bus
 * @vdev: the device
 *
 * Stops and removes its client, then drops the transport's reference.
 * The transport must not call vhost_device_status_changed() for @vdev
 * once this has started.
 */
void vhost_device_unregister(struct vhost_device *vdev)
{
	device_del(&vdev->dev);
	cancel_work_sync(&vdev->fail_work);
	put_device(&vdev->dev);
}
EXPORT_SYMBOL_GPL(vhost_device_unregister);

/**
 * vhost_device_put() - drop a reference to a device
 * @vdev: the device
 */
void vhost_device_put(struct vhost_device *vdev)
{
	put_device(&vdev->dev);
}
EXPORT_SYMBOL_GPL(vhost_device_put);

static int __init vhost_bus_init(void)
{
	int ret;

	ret = bus_register(&vhost_bus_type);
	if (ret)
		return ret;
	ret = vhost_configfs_init();
	if (ret)
		bus_unregister(&vhost_bus_type);
	return ret;
}

static void __exit vhost_bus_exit(void)
{
	vhost_configfs_exit();
	bus_unregister(&vhost_bus_type);
	ida_destroy(&vhost_index_ida);
}

module_init(vhost_bus_init);
module_exit(vhost_bus_exit);

MODULE_DESCRIPTION("vhost bus: the device side of virtio across a SoC link");
MODULE_LICENSE("GPL");
