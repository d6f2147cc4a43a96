// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vhost transport emulated in memory, for the vhost bus selftests.
 *
 * It registers transports "vhost-test.0" .. "vhost-test.N-1" so that
 * configfs binding can be exercised without a link, and plays the driver
 * side of each device it creates through debugfs:
 *
 *   /sys/kernel/debug/vhost_test_transport/
 *     vhost-test.N/busy          1: refuse new devices (-EBUSY)
 *     vhostM/driver_features     what the "driver side" accepts (rw)
 *     vhostM/driver_status       writing it reports a status write (rw)
 *     vhostM/device_status       the status the core published (ro)
 *     vhostM/device_features     the features the device offers (ro)
 *     vhostM/generation          the config generation (ro)
 *
 * With autoadd=ID, a device with virtio device id ID is created on
 * vhost-test.0 at load, outside configfs, to show that the matching
 * client module is loaded from its alias.
 *
 * Locking: each transport's mutex protects its list of devices; the
 * debugfs files of a device are removed before the device is.
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>

#define VTT_MAX_TRANSPORTS	8
#define VTT_CONFIG_LEN		64

static unsigned int ntransports = 2;
module_param(ntransports, uint, 0444);
MODULE_PARM_DESC(ntransports, "number of transports, 1 to 8 (default 2)");

static unsigned int autoadd;
module_param(autoadd, uint, 0444);
MODULE_PARM_DESC(autoadd, "virtio device id of a device to create at load");

struct vtt_transport {
	struct vhost_transport t;
	char name[24];			/* "vhost-test.N" */
	bool busy;
	struct mutex lock;		/* protects devices */
	struct list_head devices;
};

struct vtt_device {
	struct vhost_device vdev;
	struct list_head node;
	struct dentry *dir;
	u64 driver_features;
	u64 device_features;
	u8 driver_status;
	u8 device_status;
	u8 config[VTT_CONFIG_LEN];
	u32 generation;
};

static struct vtt_transport *vtt_transports;
static struct dentry *vtt_debugfs;
static struct vtt_device *vtt_autoadded;

static struct vtt_device *to_vtt(struct vhost_device *vdev)
{
	return container_of(vdev, struct vtt_device, vdev);
}

static u64 vtt_get_driver_features(struct vhost_device *vdev)
{
	return READ_ONCE(to_vtt(vdev)->driver_features);
}

static void vtt_set_device_features(struct vhost_device *vdev, u64 features)
{
	WRITE_ONCE(to_vtt(vdev)->device_features, features);
}

static u8 vtt_get_status(struct vhost_device *vdev)
{
	return READ_ONCE(to_vtt(vdev)->driver_status);
}

static void vtt_set_status(struct vhost_device *vdev, u8 status)
{
	WRITE_ONCE(to_vtt(vdev)->device_status, status);
}

static void vtt_set_config(struct vhost_device *vdev, unsigned int offset,
			   const void *buf, unsigned int len, u32 generation)
{
	/* The core checked the range against the config length we gave. */
	memcpy(to_vtt(vdev)->config + offset, buf, len);
	WRITE_ONCE(to_vtt(vdev)->generation, generation);
}

static void vtt_notify_config(struct vhost_device *vdev)
{
	dev_dbg(&vdev->dev, "config change notification\n");
}

static const struct vhost_transport_ops vtt_ops = {
	.get_driver_features = vtt_get_driver_features,
	.set_device_features = vtt_set_device_features,
	.get_status = vtt_get_status,
	.set_status = vtt_set_status,
	.set_config = vtt_set_config,
	.notify_config = vtt_notify_config,
};

static int vtt_status_set(void *data, u64 val)
{
	struct vtt_device *d = data;

	if (val > U8_MAX)
		return -EINVAL;
	WRITE_ONCE(d->driver_status, val);
	vhost_device_status_changed(&d->vdev);
	return 0;
}

static int vtt_status_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct vtt_device *)data)->driver_status);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vtt_status_fops, vtt_status_get, vtt_status_set,
			 "0x%02llx\n");

static void vtt_release(struct vhost_device *vdev)
{
	kfree(to_vtt(vdev));
}

static struct vhost_device *vtt_add(struct vhost_transport *t,
				    const struct vhost_device_id *id,
				    const struct vhost_bind *bind)
{
	struct vtt_transport *vt = container_of(t, struct vtt_transport, t);
	struct vtt_device *d;
	int ret;

	if (READ_ONCE(vt->busy)) {
		pr_err("%s: busy, refusing a device\n", vt->name);
		return ERR_PTR(-EBUSY);
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	ret = vhost_device_init(&d->vdev, NULL, id, bind, &vtt_ops,
				VTT_CONFIG_LEN, vtt_release);
	if (ret) {
		kfree(d);
		return ERR_PTR(ret);
	}
	d->dir = debugfs_create_dir(dev_name(&d->vdev.dev), vtt_debugfs);
	debugfs_create_x64("driver_features", 0600, d->dir, &d->driver_features);
	debugfs_create_file_unsafe("driver_status", 0600, d->dir, d,
				   &vtt_status_fops);
	debugfs_create_x8("device_status", 0400, d->dir, &d->device_status);
	debugfs_create_x64("device_features", 0400, d->dir,
			   &d->device_features);
	debugfs_create_u32("generation", 0400, d->dir, &d->generation);

	ret = vhost_device_add(&d->vdev);
	if (ret) {
		debugfs_remove(d->dir);
		vhost_device_put(&d->vdev);
		return ERR_PTR(ret);
	}
	mutex_lock(&vt->lock);
	list_add_tail(&d->node, &vt->devices);
	mutex_unlock(&vt->lock);
	return &d->vdev;
}

static void vtt_del(struct vhost_transport *t, struct vhost_device *vdev)
{
	struct vtt_transport *vt = container_of(t, struct vtt_transport, t);
	struct vtt_device *d = to_vtt(vdev);

	mutex_lock(&vt->lock);
	list_del(&d->node);
	mutex_unlock(&vt->lock);
	/* No debugfs write can reach the device after this. */
	debugfs_remove(d->dir);
	vhost_device_unregister(vdev);
}

static int __init vtt_init(void)
{
	unsigned int i;
	int ret;

	if (!ntransports || ntransports > VTT_MAX_TRANSPORTS) {
		pr_err("vhost_test_transport: ntransports=%u, want 1 to %u\n",
		       ntransports, VTT_MAX_TRANSPORTS);
		return -EINVAL;
	}
	vtt_transports = kcalloc(ntransports, sizeof(*vtt_transports),
				 GFP_KERNEL);
	if (!vtt_transports)
		return -ENOMEM;
	vtt_debugfs = debugfs_create_dir("vhost_test_transport", NULL);

	for (i = 0; i < ntransports; i++) {
		struct vtt_transport *vt = &vtt_transports[i];
		struct dentry *dir;

		snprintf(vt->name, sizeof(vt->name), "vhost-test.%u", i);
		mutex_init(&vt->lock);
		INIT_LIST_HEAD(&vt->devices);
		vt->t.name = vt->name;
		vt->t.add = vtt_add;
		vt->t.del = vtt_del;
		dir = debugfs_create_dir(vt->name, vtt_debugfs);
		debugfs_create_bool("busy", 0600, dir, &vt->busy);
		ret = vhost_transport_register(&vt->t);
		if (ret)
			goto err;
	}
	if (autoadd) {
		struct vhost_device_id id = { autoadd, 0 };
		/* No client named: whichever matches binds, as autoloaded. */
		struct vhost_device *vdev = vtt_add(&vtt_transports[0].t, &id,
						   NULL);

		if (IS_ERR(vdev)) {
			ret = PTR_ERR(vdev);
			goto err;
		}
		vtt_autoadded = to_vtt(vdev);
	}
	return 0;
err:
	while (i--)
		vhost_transport_unregister(&vtt_transports[i].t);
	debugfs_remove(vtt_debugfs);
	kfree(vtt_transports);
	return ret;
}

static void __exit vtt_exit(void)
{
	unsigned int i;

	if (vtt_autoadded)
		vtt_del(&vtt_transports[0].t, &vtt_autoadded->vdev);
	for (i = 0; i < ntransports; i++)
		vhost_transport_unregister(&vtt_transports[i].t);
	debugfs_remove(vtt_debugfs);
	kfree(vtt_transports);
}

module_init(vtt_init);
module_exit(vtt_exit);

MODULE_DESCRIPTION("vhost transport emulated in memory, for selftests");
MODULE_LICENSE("GPL");
