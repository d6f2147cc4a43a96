// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vhost client for the vhost bus selftests: it offers VIRTIO_F_VERSION_1
 * and two feature bits,
 * publishes a small config space and logs start and stop.  Its module
 * alias lets the selftests check that a transport adding a matching
 * device gets it loaded by udev or mdev.
 *
 * Its rules are there to be tested: it refuses feature bit 1 without bit 0
 * (a subset of what it offers that it does not accept), and writing a
 * string to /sys/kernel/debug/vhost_test_client/<device>/config changes
 * its config space, which the driver side is told about.  The driver side
 * peer is virtio_vhost_test.
 *
 * With feature bit 3 (VTC_F_ECHO) it serves one queue: each buffer's
 * readable bytes come back in its writable part, every byte XORed with
 * 0x5a, so a test can tell the device's copy from stale memory.  The
 * driver side posts buffers spread over its memory, which is how the
 * transports' windows are tested.
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_config.h>

/* Outside the range of virtio device ids in use. */
#define VHOST_TEST_DEVICE_ID	0xfff0
#define VTC_CONFIG_LEN		16
#define VTC_F_ECHO		3
#define VTC_ECHO_MAX		PAGE_SIZE
/* Buffers echoed per run of the work before it yields, as vhost_rng. */
#define VTC_ECHO_BUDGET		64

struct vtc {
	struct vhost_vq *vq;
	struct work_struct work;
	struct vhost_buf buf;
	u8 *data;
};

static struct dentry *vtc_debugfs;

static ssize_t vtc_config_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct vhost_device *vdev = file->private_data;
	char config[VTC_CONFIG_LEN] = { };
	int ret;

	if (*ppos || !count || count > VTC_CONFIG_LEN - 1)
		return -EINVAL;
	if (copy_from_user(config, ubuf, count))
		return -EFAULT;
	ret = vhost_set_config(vdev, 0, config, sizeof(config));
	return ret ?: count;
}

static const struct file_operations vtc_config_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vtc_config_write,
};

/* Echo every buffer the driver side made available. */
static void vtc_echo_work(struct work_struct *work)
{
	struct vtc *vtc = container_of(work, struct vtc, work);
	unsigned int budget = VTC_ECHO_BUDGET;
	ssize_t n;
	int ret, i;

	do {
		vhost_vq_disable_cb(vtc->vq);
		while ((ret = vhost_vq_get_buf(vtc->vq, &vtc->buf)) > 0) {
			n = vhost_buf_pull(&vtc->buf, vtc->data, VTC_ECHO_MAX);
			for (i = 0; i < n; i++)
				vtc->data[i] ^= 0x5a;
			if (n < 0 || vhost_buf_push(&vtc->buf, vtc->data, n) < 0 ||
			    vhost_vq_put_buf(vtc->vq, &vtc->buf)) {
				vhost_buf_release(&vtc->buf);
				return;
			}
			vhost_buf_release(&vtc->buf);
			if (!--budget) {
				/* Let others run; come back for the rest. */
				vhost_vq_kick(vtc->vq);
				schedule_work(&vtc->work);
				return;
			}
		}
		vhost_vq_kick(vtc->vq);
		if (ret < 0)
			return;
	} while (!vhost_vq_enable_cb(vtc->vq));
}

static void vtc_echo_kicked(struct vhost_vq *vq)
{
	struct vtc *vtc = vhost_get_drvdata(vq->vdev);

	schedule_work(&vtc->work);
}

static int vtc_probe(struct vhost_device *vdev)
{
	static const char config[VTC_CONFIG_LEN] = "vhost-test";
	struct dentry *dir;
	struct vtc *vtc;
	int ret;

	vtc = devm_kzalloc(&vdev->dev, sizeof(*vtc), GFP_KERNEL);
	if (!vtc)
		return -ENOMEM;
	vtc->data = devm_kzalloc(&vdev->dev, VTC_ECHO_MAX, GFP_KERNEL);
	if (!vtc->data)
		return -ENOMEM;
	INIT_WORK(&vtc->work, vtc_echo_work);
	vhost_buf_init(&vtc->buf);
	vhost_set_drvdata(vdev, vtc);
	vhost_set_features(vdev, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(0) |
			   BIT_ULL(1) | BIT_ULL(VTC_F_ECHO));
	ret = vhost_set_config(vdev, 0, config, sizeof(config));
	if (ret)
		return ret;
	dir = debugfs_create_dir(dev_name(&vdev->dev), vtc_debugfs);
	debugfs_create_file("config", 0200, dir, vdev, &vtc_config_fops);
	return 0;
}

static void vtc_remove(struct vhost_device *vdev)
{
	debugfs_lookup_and_remove(dev_name(&vdev->dev), vtc_debugfs);
}

static int vtc_validate_features(struct vhost_device *vdev, u64 features)
{
	if ((features & BIT_ULL(1)) && !(features & BIT_ULL(0))) {
		dev_info(&vdev->dev, "feature 1 needs feature 0: refused\n");
		return -EINVAL;
	}
	return 0;
}

static int vtc_start(struct vhost_device *vdev)
{
	static vhost_vq_callback_t *callbacks[] = { vtc_echo_kicked };
	static const char * const names[] = { "echo" };
	struct vtc *vtc = vhost_get_drvdata(vdev);
	int ret;

	dev_info(&vdev->dev, "started, features %#llx\n", vdev->negotiated);
	vtc->vq = NULL;
	if (!vhost_device_has_feature(vdev, VTC_F_ECHO))
		return 0;
	ret = vhost_create_vqs(vdev, 1, callbacks, names, &vtc->vq);
	if (ret)
		return ret;
	/* Buffers may have been posted before the queue existed. */
	schedule_work(&vtc->work);
	return 0;
}

static void vtc_stop(struct vhost_device *vdev)
{
	struct vtc *vtc = vhost_get_drvdata(vdev);

	cancel_work_sync(&vtc->work);
	vhost_buf_release(&vtc->buf);
	dev_info(&vdev->dev, "stopped\n");
}

static const struct vhost_device_id vtc_ids[] = {
	{ VHOST_TEST_DEVICE_ID, VHOST_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(vhost, vtc_ids);

#define VTC_DRIVER(_name) {			\
	.driver.name = _name,			\
	.id_table = vtc_ids,			\
	.probe = vtc_probe,			\
	.remove = vtc_remove,			\
	.validate_features = vtc_validate_features, \
	.start = vtc_start,			\
	.stop = vtc_stop,			\
}

static struct vhost_driver vtc_driver = VTC_DRIVER("vhost_test_client");

/*
 * The same client under another name, matching the same devices: a
 * configfs link to one of the two must bind that one.
 */
static struct vhost_driver vtc_twin_driver = VTC_DRIVER("vhost_test_twin");

static int __init vtc_init(void)
{
	int ret;

	vtc_debugfs = debugfs_create_dir("vhost_test_client", NULL);
	ret = vhost_driver_register(&vtc_driver);
	if (ret)
		goto err;
	ret = vhost_driver_register(&vtc_twin_driver);
	if (ret) {
		vhost_driver_unregister(&vtc_driver);
		goto err;
	}
	return 0;
err:
	debugfs_remove(vtc_debugfs);
	return ret;
}
module_init(vtc_init);

static void __exit vtc_exit(void)
{
	vhost_driver_unregister(&vtc_twin_driver);
	vhost_driver_unregister(&vtc_driver);
	debugfs_remove(vtc_debugfs);
}
module_exit(vtc_exit);

MODULE_DESCRIPTION("vhost client for the vhost bus selftests");
MODULE_LICENSE("GPL");
