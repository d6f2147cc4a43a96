// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio_vhost_test: the driver side peer of vhost_test_client, for the
 * tests of the series' transports.
 *
 * It binds to virtio device 0xfff0, accepts the feature bits its
 * "features" parameter allows (so that a test can offer the device a
 * subset it refuses), and shows in debugfs what a virtio driver sees:
 *
 *   /sys/kernel/debug/virtio_vhost_test/<device>/
 *     config          the config space string, read through the transport
 *     config_changes  how many config change notifications arrived
 *     features        the negotiated feature bits
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#define VVT_DEVICE_ID	0xfff0
#define VVT_CONFIG_LEN	16

static unsigned long features = 0x3;
module_param(features, ulong, 0644);
MODULE_PARM_DESC(features, "feature bits (0 and 1) to accept at probe (default 0x3)");

struct vvt {
	struct virtio_device *vdev;
	struct dentry *dir;
	atomic_t config_changes;
};

static struct dentry *vvt_debugfs;

static int vvt_config_show(struct seq_file *m, void *unused)
{
	struct vvt *vvt = m->private;
	char config[VVT_CONFIG_LEN + 1] = { };

	virtio_cread_bytes(vvt->vdev, 0, config, VVT_CONFIG_LEN);
	seq_printf(m, "%s\n", config);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vvt_config);

static int vvt_changes_get(void *data, u64 *val)
{
	*val = atomic_read(&((struct vvt *)data)->config_changes);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vvt_changes_fops, vvt_changes_get, NULL, "%llu\n");

static int vvt_features_get(void *data, u64 *val)
{
	*val = ((struct vvt *)data)->vdev->features;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vvt_features_fops, vvt_features_get, NULL,
			 "0x%llx\n");

static int vvt_validate(struct virtio_device *vdev)
{
	unsigned int bit;

	for (bit = 0; bit < 2; bit++)
		if (!(features & BIT(bit)))
			__virtio_clear_bit(vdev, bit);
	return 0;
}

static int vvt_probe(struct virtio_device *vdev)
{
	struct vvt *vvt;
	int ret;

	vvt = kzalloc(sizeof(*vvt), GFP_KERNEL);
	if (!vvt)
		return -ENOMEM;
	vvt->vdev = vdev;
	vdev->priv = vvt;
	/* No queues, but the transport sets up its config interrupt here. */
	ret = virtio_find_vqs(vdev, 0, NULL, NULL, NULL);
	if (ret) {
		kfree(vvt);
		return ret;
	}
	virtio_device_ready(vdev);
	vvt->dir = debugfs_create_dir(dev_name(&vdev->dev), vvt_debugfs);
	debugfs_create_file("config", 0400, vvt->dir, vvt, &vvt_config_fops);
	debugfs_create_file_unsafe("config_changes", 0400, vvt->dir, vvt,
				   &vvt_changes_fops);
	debugfs_create_file_unsafe("features", 0400, vvt->dir, vvt,
				   &vvt_features_fops);
	return 0;
}

static void vvt_remove(struct virtio_device *vdev)
{
	struct vvt *vvt = vdev->priv;

	debugfs_remove(vvt->dir);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	kfree(vvt);
}

static void vvt_config_changed(struct virtio_device *vdev)
{
	struct vvt *vvt = vdev->priv;

	atomic_inc(&vvt->config_changes);
}

static const unsigned int vvt_features[] = { 0, 1 };

static const struct virtio_device_id vvt_ids[] = {
	{ VVT_DEVICE_ID, VIRTIO_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(virtio, vvt_ids);

static struct virtio_driver vvt_driver = {
	.driver.name = "virtio_vhost_test",
	.id_table = vvt_ids,
	.feature_table = vvt_features,
	.feature_table_size = ARRAY_SIZE(vvt_features),
	.validate = vvt_validate,
	.probe = vvt_probe,
	.remove = vvt_remove,
	.config_changed = vvt_config_changed,
};

static int __init vvt_init(void)
{
	int ret;

	vvt_debugfs = debugfs_create_dir("virtio_vhost_test", NULL);
	ret = register_virtio_driver(&vvt_driver);
	if (ret)
		debugfs_remove(vvt_debugfs);
	return ret;
}
module_init(vvt_init);

static void __exit vvt_exit(void)
{
	unregister_virtio_driver(&vvt_driver);
	debugfs_remove(vvt_debugfs);
}
module_exit(vvt_exit);

MODULE_DESCRIPTION("virtio driver peer of vhost_test_client, for transport tests");
MODULE_LICENSE("GPL");
