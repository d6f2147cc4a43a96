// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vhost client for the vhost bus selftests: it offers two feature bits,
 * publishes a small config space and logs start and stop.  Its module
 * alias lets the selftests check that a transport adding a matching
 * device gets it loaded by udev or mdev.
 */

#include <linux/module.h>
#include <linux/vhost_bus.h>

/* Outside the range of virtio device ids in use. */
#define VHOST_TEST_DEVICE_ID	0xfff0

static int vtc_probe(struct vhost_device *vdev)
{
	static const char config[] = "vhost-test";

	vhost_set_features(vdev, BIT_ULL(0) | BIT_ULL(1));
	return vhost_set_config(vdev, 0, config, sizeof(config));
}

static int vtc_start(struct vhost_device *vdev)
{
	dev_info(&vdev->dev, "started, features %#llx\n", vdev->negotiated);
	return 0;
}

static void vtc_stop(struct vhost_device *vdev)
{
	dev_info(&vdev->dev, "stopped\n");
}

static const struct vhost_device_id vtc_ids[] = {
	{ VHOST_TEST_DEVICE_ID, VHOST_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(vhost, vtc_ids);

static struct vhost_driver vtc_driver = {
	.driver.name = "vhost_test_client",
	.id_table = vtc_ids,
	.probe = vtc_probe,
	.start = vtc_start,
	.stop = vtc_stop,
};
module_vhost_driver(vtc_driver);

MODULE_DESCRIPTION("vhost client for the vhost bus selftests");
MODULE_LICENSE("GPL");
