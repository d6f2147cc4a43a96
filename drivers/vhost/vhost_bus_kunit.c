// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the vhost bus core, with a transport emulated in memory:
 * "driver side" registers are plain fields the test writes, and what the
 * core publishes is recorded for the test to check.
 */

#include <kunit/test.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

/*
 * The in-kernel vhost API, included only so that this file fails to
 * build if the bus's API ever takes one of its names again
 * (vhost_has_feature() once did).
 */
#include "vhost.h"

#define TEST_DEVICE_ID	0x7e57
#define TEST_VENDOR	0x1af4
#define TEST_CONFIG_LEN	16

struct fake_transport {
	struct vhost_device vdev;
	/* written by the "driver side" (the test) */
	u64 driver_features;
	u8 driver_status;
	/* published by the core */
	u64 device_features;
	u8 device_status;
	u8 device_config[TEST_CONFIG_LEN];
	u32 generation;
	int config_notifications;
	bool *released;
	/* queues and the window onto "driver side" memory */
	struct vhost_vq_config vq_cfg[2];
	u8 *win;
	size_t win_size;
	int vq_notifications;
	int vq_notifications_cansleep;
};

static struct fake_transport *to_fake(struct vhost_device *vdev)
{
	return container_of(vdev, struct fake_transport, vdev);
}

static u64 fake_get_driver_features(struct vhost_device *vdev)
{
	return to_fake(vdev)->driver_features;
}

static void fake_set_device_features(struct vhost_device *vdev, u64 features)
{
	to_fake(vdev)->device_features = features;
}

static u8 fake_get_status(struct vhost_device *vdev)
{
	return to_fake(vdev)->driver_status;
}

static void fake_set_status(struct vhost_device *vdev, u8 status)
{
	to_fake(vdev)->device_status = status;
}

static void fake_set_config(struct vhost_device *vdev, unsigned int offset,
			    const void *buf, unsigned int len, u32 generation)
{
	memcpy(to_fake(vdev)->device_config + offset, buf, len);
	to_fake(vdev)->generation = generation;
}

static void fake_notify_config(struct vhost_device *vdev)
{
	to_fake(vdev)->config_notifications++;
}

static int fake_get_vq(struct vhost_device *vdev, unsigned int index,
		       struct vhost_vq_config *cfg)
{
	struct fake_transport *ft = to_fake(vdev);

	if (index >= ARRAY_SIZE(ft->vq_cfg) || !ft->vq_cfg[index].num)
		return -EINVAL;
	*cfg = ft->vq_cfg[index];
	return 0;
}

/* The window is kernel memory whose bus address is its physical one. */
static void *fake_window(struct vhost_device *vdev, u64 addr, u64 len,
			 u64 *room)
{
	struct fake_transport *ft = to_fake(vdev);
	u64 base = ft->win ? virt_to_phys(ft->win) : 0;

	if (!ft->win || addr < base || addr - base >= ft->win_size)
		return NULL;
	*room = ft->win_size - (addr - base);
	return ft->win + (addr - base);
}

static int fake_map_ring(struct vhost_device *vdev, u64 addr, u64 len,
			 void __iomem **va, u64 *mapped_len)
{
	void *p = fake_window(vdev, addr, len, mapped_len);

	if (!p)
		return -EFAULT;
	*va = (void __force __iomem *)p;
	*mapped_len = min(len, *mapped_len);
	return 0;
}

static int fake_read(struct vhost_device *vdev, u64 addr, void *dst,
		     size_t len)
{
	u64 room;
	void *p = fake_window(vdev, addr, len, &room);

	might_sleep();
	if (!p || len > room)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

static int fake_write(struct vhost_device *vdev, u64 addr, const void *src,
		      size_t len)
{
	u64 room;
	void *p = fake_window(vdev, addr, len, &room);

	might_sleep();
	if (!p || len > room)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

static void fake_notify_vq(struct vhost_device *vdev, unsigned int index)
{
	to_fake(vdev)->vq_notifications++;
}

static void fake_notify_vq_cansleep(struct vhost_device *vdev,
				    unsigned int index)
{
	might_sleep();
	to_fake(vdev)->vq_notifications_cansleep++;
}

static const struct vhost_transport_ops fake_ops = {
	.get_driver_features = fake_get_driver_features,
	.set_device_features = fake_set_device_features,
	.get_status = fake_get_status,
	.set_status = fake_set_status,
	.set_config = fake_set_config,
	.notify_config = fake_notify_config,
	.get_vq = fake_get_vq,
	.map_ring = fake_map_ring,
	.read = fake_read,
	.write = fake_write,
	.notify_vq = fake_notify_vq,
	.notify_vq_cansleep = fake_notify_vq_cansleep,
};

static void fake_release(struct vhost_device *vdev)
{
	struct fake_transport *ft = to_fake(vdev);

	if (ft->released)
		*ft->released = true;
	kfree(ft);
}

/* The client: records what the core asked of it. */
struct fake_client_state {
	int probed, removed, started, stopped, config_changes;
	unsigned int written_offset, written_len;
	int start_ret;
	u64 reject_features;	/* validate_features refuses these bits */
	u64 offer;		/* probe() offers these, if not 0 */
	unsigned int create_vqs;	/* start() creates this many queues */
	int create_ret;
	struct vhost_vq *vqs[2];
	int kicks;
	bool kick_in_start;	/* start() reports a kick after its queues */
	int kicks_in_start;	/* callbacks seen by the end of start() */
};

static struct fake_client_state client;

#define OFFERED_FEATURES	(BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(VIRTIO_F_VERSION_1))

static int fake_probe(struct vhost_device *vdev)
{
	u8 cfg[TEST_CONFIG_LEN] = { 0xc0, 0xff, 0xee };

	client.probed++;
	vhost_set_features(vdev, client.offer ?: OFFERED_FEATURES);
	return vhost_set_config(vdev, 0, cfg, sizeof(cfg));
}

static void fake_remove(struct vhost_device *vdev)
{
	client.removed++;
}

static int fake_validate(struct vhost_device *vdev, u64 features)
{
	return features & client.reject_features ? -EINVAL : 0;
}

static void fake_vq_kicked(struct vhost_vq *vq)
{
	client.kicks++;
}

static int fake_start(struct vhost_device *vdev)
{
	static vhost_vq_callback_t *cbs[] = { fake_vq_kicked, fake_vq_kicked };
	static const char *const names[] = { "rx", "tx" };

	client.started++;
	if (client.create_vqs) {
		client.create_ret = vhost_create_vqs(vdev, client.create_vqs,
						     cbs, names, client.vqs);
		if (client.create_ret)
			return client.create_ret;
	}
	if (client.kick_in_start) {
		/* As a transport would, from another CPU. */
		vhost_vq_kicked(vdev, 0);
		client.kicks_in_start = client.kicks;
	}
	return client.start_ret;
}

static void fake_stop(struct vhost_device *vdev)
{
	client.stopped++;
}

/* Bytes 2 and 3, and 8 to 11, are writable. */
static const struct vhost_config_field fake_writable[] = {
	{ 2, 2 },
	{ 8, 4 },
	{ }
};

static void fake_config_written(struct vhost_device *vdev,
				unsigned int offset, unsigned int len)
{
	client.config_changes++;
	client.written_offset = offset;
	client.written_len = len;
}

static const struct vhost_device_id fake_ids[] = {
	{ TEST_DEVICE_ID, TEST_VENDOR },
	{ TEST_DEVICE_ID + 1, VHOST_DEV_ANY_ID },
	{ }
};

static struct vhost_driver fake_driver = {
	.driver.name = "vhost_bus_kunit",
	.id_table = fake_ids,
	.probe = fake_probe,
	.remove = fake_remove,
	.validate_features = fake_validate,
	.start = fake_start,
	.stop = fake_stop,
	.config_writable = fake_writable,
	.config_written = fake_config_written,
};

static struct fake_transport *fake_add(struct kunit *test, u32 device,
				       u32 vendor)
{
	struct vhost_device_id id = { device, vendor };
	struct fake_transport *ft;

	ft = kzalloc(sizeof(*ft), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ft);
	KUNIT_ASSERT_EQ(test, 0, vhost_device_init(&ft->vdev, NULL, &id, NULL,
						   &fake_ops, TEST_CONFIG_LEN,
						   fake_release));
	KUNIT_ASSERT_EQ(test, 0, vhost_device_add(&ft->vdev));
	return ft;
}

/* The "driver side" writes status and the transport reports it. */
static u8 drv_write_status(struct fake_transport *ft, u8 status)
{
	ft->driver_status = status;
	vhost_device_status_changed(&ft->vdev);
	return ft->device_status;
}

static int vhost_bus_test_init(struct kunit *test)
{
	memset(&client, 0, sizeof(client));
	return vhost_driver_register(&fake_driver);
}

static void vhost_bus_test_exit(struct kunit *test)
{
	vhost_driver_unregister(&fake_driver);
}

static void match_exact_and_wildcard(struct kunit *test)
{
	struct fake_transport *exact, *any_vendor, *wrong_vendor, *wrong_id;

	exact = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	any_vendor = fake_add(test, TEST_DEVICE_ID + 1, 0x1234);
	wrong_vendor = fake_add(test, TEST_DEVICE_ID, 0x1234);
	wrong_id = fake_add(test, TEST_DEVICE_ID + 2, TEST_VENDOR);

	KUNIT_EXPECT_PTR_EQ(test, exact->vdev.dev.driver, &fake_driver.driver);
	KUNIT_EXPECT_PTR_EQ(test, any_vendor->vdev.dev.driver,
			    &fake_driver.driver);
	KUNIT_EXPECT_NULL(test, wrong_vendor->vdev.dev.driver);
	KUNIT_EXPECT_NULL(test, wrong_id->vdev.dev.driver);
	KUNIT_EXPECT_EQ(test, client.probed, 2);

	vhost_device_unregister(&exact->vdev);
	vhost_device_unregister(&any_vendor->vdev);
	vhost_device_unregister(&wrong_vendor->vdev);
	vhost_device_unregister(&wrong_id->vdev);
	KUNIT_EXPECT_EQ(test, client.removed, 2);
}

static void probe_publishes_features_and_config(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);

	KUNIT_EXPECT_EQ(test, ft->device_features, OFFERED_FEATURES);
	KUNIT_EXPECT_EQ(test, ft->device_config[0], 0xc0);
	KUNIT_EXPECT_EQ(test, ft->device_config[2], 0xee);
	KUNIT_EXPECT_EQ(test, ft->generation, 1);
	/* Before DRIVER_OK, a config change is not notified. */
	KUNIT_EXPECT_EQ(test, ft->config_notifications, 0);
	vhost_device_unregister(&ft->vdev);
}

static void features_subset_is_granted(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s), s);
	ft->driver_features = BIT_ULL(1) | BIT_ULL(VIRTIO_F_VERSION_1);
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s), s);
	KUNIT_EXPECT_TRUE(test, vhost_device_has_feature(&ft->vdev, 1));
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev, 0));
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev, 200));
	vhost_device_unregister(&ft->vdev);
}

static void features_superset_is_refused(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	drv_write_status(ft, s);
	ft->driver_features = BIT_ULL(1) | BIT_ULL(5);	/* 5 not offered */
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_FEATURES_OK),
			s);
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev, 1));
	/* DRIVER_OK without FEATURES_OK fails the device. */
	KUNIT_EXPECT_TRUE(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_DRIVER_OK) &
			  VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.started, 0);
	vhost_device_unregister(&ft->vdev);
}

/*
 * The core's policy: VERSION_1 offered whatever the client says, ring
 * features the bus does not implement never offered.
 */
static void features_policy_of_the_core(struct kunit *test)
{
	struct fake_transport *ft;

	client.offer = BIT_ULL(0) | BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
		       BIT_ULL(VIRTIO_F_RING_PACKED) |
		       BIT_ULL(VIRTIO_F_NOTIFICATION_DATA);
	ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	KUNIT_EXPECT_EQ(test, ft->device_features,
			BIT_ULL(0) | BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			BIT_ULL(VIRTIO_F_VERSION_1));
	vhost_device_unregister(&ft->vdev);
}

static void features_without_version_1_refused(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	drv_write_status(ft, s);
	ft->driver_features = BIT_ULL(1);
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_FEATURES_OK),
			s);
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev, 1));
	vhost_device_unregister(&ft->vdev);
}

static void features_client_veto(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	client.reject_features = BIT_ULL(0);
	drv_write_status(ft, s);
	ft->driver_features = BIT_ULL(0) | BIT_ULL(VIRTIO_F_VERSION_1);
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_FEATURES_OK),
			s);
	vhost_device_unregister(&ft->vdev);
}

static u8 bring_up(struct fake_transport *ft)
{
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	drv_write_status(ft, s);
	ft->driver_features = BIT_ULL(VIRTIO_F_VERSION_1);
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	drv_write_status(ft, s);
	return drv_write_status(ft, s | VIRTIO_CONFIG_S_DRIVER_OK);
}

/*
 * Linux's virtio core sets FAILED when a driver's probe fails and probes
 * the next driver without a reset: features are negotiated again and the
 * client starts again.
 */
static void failed_then_probed_again(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	u8 failed = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		    VIRTIO_CONFIG_S_FAILED;

	KUNIT_EXPECT_EQ(test, bring_up(ft), s);
	KUNIT_EXPECT_EQ(test, client.started, 1);
	/* The driver gave up: the client stops, the negotiation is gone. */
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_FAILED),
			failed);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev,
							  VIRTIO_F_VERSION_1));
	/* The next driver, with other features, and no reset. */
	ft->driver_features = BIT_ULL(1) | BIT_ULL(VIRTIO_F_VERSION_1);
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, failed | VIRTIO_CONFIG_S_FEATURES_OK),
			failed | VIRTIO_CONFIG_S_FEATURES_OK);
	KUNIT_EXPECT_TRUE(test, vhost_device_has_feature(&ft->vdev, 1));
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, failed | VIRTIO_CONFIG_S_FEATURES_OK |
					       VIRTIO_CONFIG_S_DRIVER_OK),
			failed | VIRTIO_CONFIG_S_FEATURES_OK |
			VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, client.started, 2);
	vhost_device_unregister(&ft->vdev);
}

static void driver_ok_starts_and_reset_stops(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s;

	s = bring_up(ft);
	KUNIT_EXPECT_TRUE(test, s & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, client.started, 1);
	KUNIT_EXPECT_EQ(test, vhost_get_status(&ft->vdev), s);

	/* Reset: the client stops before 0 is published. */
	ft->device_status = 0xff;
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_FALSE(test, vhost_device_has_feature(&ft->vdev, VIRTIO_F_VERSION_1));

	/* And the device can be brought up again. */
	s = bring_up(ft);
	KUNIT_EXPECT_TRUE(test, s & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, client.started, 2);
	vhost_device_unregister(&ft->vdev);
	/* Removing a running device stops the client once. */
	KUNIT_EXPECT_EQ(test, client.stopped, 2);
}

static void bad_transitions_need_reset(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 s;

	s = bring_up(ft);
	/* Clearing FEATURES_OK without a reset is a protocol error. */
	s = drv_write_status(ft, s & ~VIRTIO_CONFIG_S_FEATURES_OK);
	KUNIT_EXPECT_TRUE(test, s & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_EQ(test, ft->config_notifications, 1);
	/* Nothing but a reset is acted upon now. */
	KUNIT_EXPECT_TRUE(test, drv_write_status(ft, s | VIRTIO_CONFIG_S_DRIVER_OK) &
			  VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.started, 1);
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);

	/* Unknown status bits. */
	KUNIT_EXPECT_TRUE(test, drv_write_status(ft, 0x10) &
			  VIRTIO_CONFIG_S_NEEDS_RESET);
	drv_write_status(ft, 0);

	/* A client that cannot start fails the device. */
	client.start_ret = -ENOMEM;
	KUNIT_EXPECT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	vhost_device_unregister(&ft->vdev);
}

static void fail_from_any_context(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);

	bring_up(ft);
	vhost_device_fail(&ft->vdev, "test: malformed ring");
	flush_work(&ft->vdev.fail_work);
	KUNIT_EXPECT_TRUE(test, ft->device_status & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);
	KUNIT_EXPECT_FALSE(test, ft->device_status & VIRTIO_CONFIG_S_NEEDS_RESET);
	vhost_device_unregister(&ft->vdev);
}

static void config_generation_and_bounds(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	u8 val = 0x42, out[TEST_CONFIG_LEN];

	KUNIT_EXPECT_EQ(test, 0, vhost_set_config(&ft->vdev, 5, &val, 1));
	KUNIT_EXPECT_EQ(test, ft->generation, 2);
	KUNIT_EXPECT_EQ(test, ft->device_config[5], 0x42);
	KUNIT_EXPECT_EQ(test, 0, vhost_get_config(&ft->vdev, 0, out, sizeof(out)));
	KUNIT_EXPECT_EQ(test, out[5], 0x42);
	KUNIT_EXPECT_EQ(test, out[0], 0xc0);

	/* Out of range, including overflow: refused, nothing changes. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_set_config(&ft->vdev, TEST_CONFIG_LEN, &val, 1));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_set_config(&ft->vdev, UINT_MAX, &val, 2));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_get_config(&ft->vdev, 15, out, 2));
	KUNIT_EXPECT_EQ(test, ft->generation, 2);

	/* After DRIVER_OK a change is notified to the driver side. */
	bring_up(ft);
	KUNIT_EXPECT_EQ(test, 0, vhost_set_config(&ft->vdev, 1, &val, 1));
	KUNIT_EXPECT_EQ(test, ft->generation, 3);
	KUNIT_EXPECT_EQ(test, ft->config_notifications, 1);

	/* Writes from the driver side reach the cache and the client. */
	val = 0x99;
	KUNIT_EXPECT_EQ(test, 0, vhost_device_config_write(&ft->vdev, 3, &val, 1));
	KUNIT_EXPECT_EQ(test, client.config_changes, 1);
	KUNIT_EXPECT_EQ(test, client.written_offset, 3);
	KUNIT_EXPECT_EQ(test, client.written_len, 1);
	val = 0;
	KUNIT_EXPECT_EQ(test, 0, vhost_get_config(&ft->vdev, 3, &val, 1));
	KUNIT_EXPECT_EQ(test, val, 0x99);
	/* Published back, in the same generation. */
	KUNIT_EXPECT_EQ(test, ft->device_config[3], 0x99);
	KUNIT_EXPECT_EQ(test, ft->generation, 3);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_device_config_write(&ft->vdev, 10, &val, 100));
	/* A read-only byte, and a write across two fields, change nothing. */
	val = 0x42;
	KUNIT_EXPECT_EQ(test, -EPERM,
			vhost_device_config_write(&ft->vdev, 4, &val, 1));
	KUNIT_EXPECT_EQ(test, -EPERM,
			vhost_device_config_write(&ft->vdev, 3, &val, 2));
	KUNIT_EXPECT_EQ(test, 0, vhost_get_config(&ft->vdev, 4, &val, 1));
	KUNIT_EXPECT_NE(test, val, 0x42);
	KUNIT_EXPECT_NE(test, ft->device_config[4], 0x42);
	KUNIT_EXPECT_EQ(test, client.config_changes, 1);
	vhost_device_unregister(&ft->vdev);
}

static void sysfs_and_release(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	bool released = false;
	char name[16];

	ft->released = &released;
	snprintf(name, sizeof(name), "vhost%d", ft->vdev.index);
	KUNIT_EXPECT_STREQ(test, dev_name(&ft->vdev.dev), name);
	get_device(&ft->vdev.dev);
	vhost_device_unregister(&ft->vdev);
	KUNIT_EXPECT_FALSE(test, released);
	vhost_device_put(&ft->vdev);
	KUNIT_EXPECT_TRUE(test, released);
}

static void init_refuses_bad_arguments(struct kunit *test)
{
	struct vhost_device_id any = { VHOST_DEV_ANY_ID, 0 };
	struct vhost_device_id ok = { TEST_DEVICE_ID, 0 };
	struct vhost_transport_ops no_status = fake_ops;
	struct fake_transport *ft;

	ft = kunit_kzalloc(test, sizeof(*ft), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ft);
	no_status.get_status = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_device_init(&ft->vdev, NULL, &any, NULL, &fake_ops, 0,
					  fake_release));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_device_init(&ft->vdev, NULL, &ok, NULL, &no_status, 0,
					  fake_release));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vhost_device_init(&ft->vdev, NULL, &ok, NULL, &fake_ops, 0,
					  NULL));
}

/* The binding's settings are copied into the device, the client bound. */
static void init_copies_settings(struct kunit *test)
{
	struct vhost_device_id ok = { TEST_DEVICE_ID, 0 };
	u32 settings = 0x12345678;
	struct vhost_bind bind = {
		.client = "vhost_kunit_client",
		.settings = &settings,
		.settings_size = sizeof(settings),
	};
	struct fake_transport *ft;
	const u32 *copy;

	ft = kzalloc(sizeof(*ft), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ft);
	KUNIT_ASSERT_EQ(test, 0, vhost_device_init(&ft->vdev, NULL, &ok, &bind,
						   &fake_ops, 0, fake_release));
	settings = 0;
	copy = vhost_device_settings(&ft->vdev);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_EXPECT_PTR_NE(test, copy, (const u32 *)&settings);
	KUNIT_EXPECT_EQ(test, *copy, 0x12345678);
	KUNIT_EXPECT_STREQ(test, ft->vdev.driver_override, "vhost_kunit_client");
	vhost_device_put(&ft->vdev);
}

static struct vhost_device *never_add(struct vhost_transport *t,
				      const struct vhost_device_id *id,
				      const struct vhost_bind *bind)
{
	return ERR_PTR(-ENODEV);
}

/* A client or a transport without its mandatory ops is refused. */
static void register_refuses_incomplete(struct kunit *test)
{
	struct vhost_driver no_stop = fake_driver;
	struct vhost_transport no_del = {
		.name = "kunit-incomplete",
		.add = never_add,
	};

	no_stop.driver.name = "vhost_kunit_no_stop";
	no_stop.stop = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, vhost_driver_register(&no_stop));
	KUNIT_EXPECT_EQ(test, -EINVAL, vhost_transport_register(&no_del));
}

/* The driver side of a queue: the virtio core's split ring. */
#define VQ_NUM		8
#define VQ_ALIGN	64
#define WIN_SIZE	(4 * PAGE_SIZE)

struct drv_side {
	struct virtio_device vdev;
	struct virtqueue *vq;
	struct vring vr;
	u8 *out, *in;
	int kicks;
};

static bool drv_notify(struct virtqueue *vq)
{
	container_of(vq->vdev, struct drv_side, vdev)->kicks++;
	return true;
}

static void drv_callback(struct virtqueue *vq)
{
}

static struct drv_side *drv_setup(struct kunit *test, struct fake_transport *ft,
				  unsigned int num)
{
	struct drv_side *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, d);
	ft->win = kunit_kzalloc(test, WIN_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ft->win);
	ft->win_size = WIN_SIZE;
	d->vdev.features = BIT_ULL(VIRTIO_F_VERSION_1);
	INIT_LIST_HEAD(&d->vdev.vqs);
	spin_lock_init(&d->vdev.vqs_list_lock);
	d->vq = vring_new_virtqueue(0, VQ_NUM, VQ_ALIGN, &d->vdev, true, false,
				    ft->win, drv_notify, drv_callback, "kunit");
	KUNIT_ASSERT_NOT_NULL(test, d->vq);
	vring_init(&d->vr, VQ_NUM, ft->win, VQ_ALIGN);
	/* Buffers in the second half of the window. */
	d->out = ft->win + WIN_SIZE / 2;
	d->in = d->out + 256;
	ft->vq_cfg[0].num = num;
	ft->vq_cfg[0].desc = virt_to_phys(d->vr.desc);
	ft->vq_cfg[0].avail = virt_to_phys(d->vr.avail);
	ft->vq_cfg[0].used = virt_to_phys(d->vr.used);
	return d;
}

static void drv_teardown(struct drv_side *d)
{
	while (virtqueue_detach_unused_buf(d->vq))
		;
	vring_del_virtqueue(d->vq);
}

/* The driver side offers "hello" to read and 64 bytes to write. */
static void drv_post(struct kunit *test, struct drv_side *d)
{
	struct scatterlist out, in, *sgs[] = { &out, &in };

	memcpy(d->out, "hello", 5);
	sg_init_one(&out, d->out, 5);
	sg_init_one(&in, d->in, 64);
	KUNIT_ASSERT_EQ(test, 0,
			virtqueue_add_sgs(d->vq, sgs, 1, 1, d, GFP_KERNEL));
	virtqueue_kick(d->vq);
}

/*
 * Buffers made used together: the driver side sees none of them before,
 * all of them after; more than VHOST_PUT_BUFS_MAX are refused, unused.
 */
static void queue_put_bufs_at_once(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, VQ_NUM);
	struct vhost_buf bufs[3];
	unsigned int i, len;

	client.create_vqs = 1;
	KUNIT_ASSERT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_ASSERT_EQ(test, client.create_ret, 0);
	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		drv_post(test, d);
		vhost_buf_init(&bufs[i]);
		KUNIT_ASSERT_EQ(test, vhost_vq_get_buf(client.vqs[0], &bufs[i]),
				1);
		KUNIT_EXPECT_EQ(test, vhost_buf_push(&bufs[i], "abc", i + 1),
				i + 1);
	}
	KUNIT_EXPECT_NULL(test, virtqueue_get_buf(d->vq, &len));
	KUNIT_EXPECT_EQ(test, vhost_vq_put_bufs(client.vqs[0], bufs,
						VHOST_PUT_BUFS_MAX + 1),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, virtqueue_get_buf(d->vq, &len));
	KUNIT_EXPECT_EQ(test, vhost_vq_put_bufs(client.vqs[0], bufs,
						ARRAY_SIZE(bufs)), 0);
	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(d->vq, &len),
				    (void *)d);
		KUNIT_EXPECT_EQ(test, len, i + 1);
		vhost_buf_release(&bufs[i]);
	}
	KUNIT_EXPECT_TRUE(test, vhost_vq_kick(client.vqs[0]));
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

/*
 * A kick that comes while start() runs does not reach the client before
 * start() returned; after a successful start() the queue is looked at;
 * after a failed one, never.
 */
static void queue_kick_during_start(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, VQ_NUM);

	client.create_vqs = 1;
	client.kick_in_start = true;
	KUNIT_ASSERT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, client.kicks_in_start, 0);
	KUNIT_EXPECT_EQ(test, client.kicks, 1);

	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);
	client.kicks = 0;
	client.start_ret = -ENOMEM;
	KUNIT_EXPECT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.kicks_in_start, 0);
	KUNIT_EXPECT_EQ(test, client.kicks, 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(ft->vdev.vq_set));
	KUNIT_EXPECT_NULL(test, ft->vdev.vq_pending);
	vhost_vq_kicked(&ft->vdev, 0);
	KUNIT_EXPECT_EQ(test, client.kicks, 0);
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

static void queue_round_trip(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, VQ_NUM);
	struct vhost_buf buf;
	unsigned int len;
	char got[8] = {};

	client.create_vqs = 1;
	KUNIT_ASSERT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_ASSERT_EQ(test, client.create_ret, 0);

	/* Each queue got one callback once start() succeeded. */
	KUNIT_EXPECT_EQ(test, client.kicks, 1);
	drv_post(test, d);
	vhost_vq_kicked(&ft->vdev, 0);
	KUNIT_EXPECT_EQ(test, client.kicks, 2);
	/* A kick for a queue that does not exist is dropped. */
	vhost_vq_kicked(&ft->vdev, 7);
	KUNIT_EXPECT_EQ(test, client.kicks, 2);

	vhost_buf_init(&buf);
	KUNIT_ASSERT_EQ(test, vhost_vq_get_buf(client.vqs[0], &buf), 1);
	KUNIT_EXPECT_EQ(test, vhost_buf_readable(&buf), 5);
	KUNIT_EXPECT_EQ(test, vhost_buf_writable(&buf), 64);
	KUNIT_EXPECT_EQ(test, vhost_buf_pull(&buf, got, sizeof(got)), 5);
	KUNIT_EXPECT_STREQ(test, got, "hello");
	KUNIT_EXPECT_EQ(test, vhost_buf_push(&buf, "world!", 6), 6);
	KUNIT_EXPECT_EQ(test, vhost_vq_put_buf(client.vqs[0], &buf), 0);
	vhost_buf_release(&buf);
	vhost_vq_kick(client.vqs[0]);
	KUNIT_EXPECT_EQ(test, ft->vq_notifications, 1);

	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(d->vq, &len), (void *)d);
	KUNIT_EXPECT_EQ(test, len, 6);
	KUNIT_EXPECT_MEMEQ(test, d->in, "world!", 6);
	KUNIT_EXPECT_EQ(test, vhost_vq_get_buf(client.vqs[0], &buf), 0);

	/* From process context, the transport's sleeping op interrupts. */
	drv_post(test, d);
	KUNIT_ASSERT_EQ(test, vhost_vq_get_buf(client.vqs[0], &buf), 1);
	KUNIT_EXPECT_EQ(test, vhost_vq_put_buf(client.vqs[0], &buf), 0);
	vhost_buf_release(&buf);
	KUNIT_EXPECT_TRUE(test, vhost_vq_kick_cansleep(client.vqs[0]));
	KUNIT_EXPECT_EQ(test, ft->vq_notifications_cansleep, 1);
	KUNIT_EXPECT_EQ(test, ft->vq_notifications, 1);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(d->vq, &len), (void *)d);

	/* Notification suppression: the driver side asks for no interrupt. */
	virtqueue_disable_cb(d->vq);
	drv_post(test, d);
	KUNIT_ASSERT_EQ(test, vhost_vq_get_buf(client.vqs[0], &buf), 1);
	KUNIT_EXPECT_EQ(test, vhost_vq_put_buf(client.vqs[0], &buf), 0);
	vhost_buf_release(&buf);
	vhost_vq_kick(client.vqs[0]);
	KUNIT_EXPECT_FALSE(test, vhost_vq_kick_cansleep(client.vqs[0]));
	KUNIT_EXPECT_EQ(test, ft->vq_notifications, 1);
	KUNIT_EXPECT_EQ(test, ft->vq_notifications_cansleep, 1);

	/* A reset deletes the queues. */
	KUNIT_EXPECT_EQ(test, drv_write_status(ft, 0), 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(ft->vdev.vq_set));
	vhost_vq_kicked(&ft->vdev, 0);
	KUNIT_EXPECT_EQ(test, client.kicks, 2);
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

static void queue_malformed_fails_device(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, VQ_NUM);
	struct vhost_buf buf;

	client.create_vqs = 1;
	KUNIT_ASSERT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_DRIVER_OK);
	drv_post(test, d);
	/* The "driver side" makes a head available that does not exist. */
	d->vr.avail->ring[0] = cpu_to_virtio16(&d->vdev, VQ_NUM);

	vhost_buf_init(&buf);
	KUNIT_EXPECT_LT(test, vhost_vq_get_buf(client.vqs[0], &buf), 0);
	vhost_buf_release(&buf);
	flush_work(&ft->vdev.fail_work);
	KUNIT_EXPECT_TRUE(test, ft->device_status & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(ft->vdev.vq_set));
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

/*
 * A buffer is reached when its bytes are copied: one the transport cannot
 * reach is taken, and fails the device when it is pulled or pushed.
 */
static void queue_unreachable_buffer_fails_device(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, VQ_NUM);
	struct vhost_buf buf;
	char got[8];
	u16 head;

	client.create_vqs = 1;
	KUNIT_ASSERT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_DRIVER_OK);
	drv_post(test, d);
	/* The "driver side" points its readable buffer outside the window. */
	head = virtio16_to_cpu(&d->vdev, d->vr.avail->ring[0]);
	KUNIT_ASSERT_LT(test, head, VQ_NUM);
	d->vr.desc[head].addr = cpu_to_virtio64(&d->vdev, 0xdead0000ULL);

	vhost_buf_init(&buf);
	KUNIT_ASSERT_EQ(test, vhost_vq_get_buf(client.vqs[0], &buf), 1);
	KUNIT_EXPECT_EQ(test, vhost_buf_pull(&buf, got, sizeof(got)), -EFAULT);
	/* A failed device uses no buffer, whatever its client does. */
	KUNIT_EXPECT_EQ(test, vhost_vq_put_buf(client.vqs[0], &buf), -EIO);
	KUNIT_EXPECT_EQ(test, virtio16_to_cpu(&d->vdev, d->vr.used->idx), 0);
	vhost_buf_release(&buf);
	flush_work(&ft->vdev.fail_work);
	KUNIT_EXPECT_TRUE(test, ft->device_status & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.stopped, 1);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(ft->vdev.vq_set));
	/* A buffer that was never taken cannot be pulled from. */
	KUNIT_EXPECT_EQ(test, vhost_buf_pull(&buf, got, sizeof(got)), -EINVAL);
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

static void queue_setup_is_checked(struct kunit *test)
{
	struct fake_transport *ft = fake_add(test, TEST_DEVICE_ID, TEST_VENDOR);
	struct drv_side *d = drv_setup(test, ft, 3);	/* not a power of 2 */
	vhost_vq_callback_t *cbs[] = { NULL };
	const char *const names[] = { "q" };
	struct vhost_vq *vq;

	/* Before DRIVER_OK there are no queues to create. */
	KUNIT_EXPECT_EQ(test, -EIO,
			vhost_create_vqs(&ft->vdev, 1, cbs, names, &vq));
	client.create_vqs = 1;
	KUNIT_EXPECT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.create_ret, -EINVAL);

	/* A ring outside the window is refused too. */
	drv_write_status(ft, 0);
	ft->vq_cfg[0].num = VQ_NUM;
	ft->vq_cfg[0].used = 0x1000;
	KUNIT_EXPECT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_LT(test, client.create_ret, 0);

	/* A queue the driver side did not enable. */
	drv_write_status(ft, 0);
	client.create_vqs = 2;
	ft->vq_cfg[0].used = virt_to_phys(d->vr.used);
	KUNIT_EXPECT_TRUE(test, bring_up(ft) & VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, client.create_ret, -EINVAL);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(ft->vdev.vq_set));
	drv_teardown(d);
	vhost_device_unregister(&ft->vdev);
}

static struct kunit_case vhost_bus_cases[] = {
	KUNIT_CASE(match_exact_and_wildcard),
	KUNIT_CASE(probe_publishes_features_and_config),
	KUNIT_CASE(features_subset_is_granted),
	KUNIT_CASE(features_superset_is_refused),
	KUNIT_CASE(features_policy_of_the_core),
	KUNIT_CASE(features_without_version_1_refused),
	KUNIT_CASE(features_client_veto),
	KUNIT_CASE(driver_ok_starts_and_reset_stops),
	KUNIT_CASE(failed_then_probed_again),
	KUNIT_CASE(bad_transitions_need_reset),
	KUNIT_CASE(fail_from_any_context),
	KUNIT_CASE(config_generation_and_bounds),
	KUNIT_CASE(sysfs_and_release),
	KUNIT_CASE(init_refuses_bad_arguments),
	KUNIT_CASE(init_copies_settings),
	KUNIT_CASE(register_refuses_incomplete),
	KUNIT_CASE(queue_round_trip),
	KUNIT_CASE(queue_kick_during_start),
	KUNIT_CASE(queue_put_bufs_at_once),
	KUNIT_CASE(queue_malformed_fails_device),
	KUNIT_CASE(queue_unreachable_buffer_fails_device),
	KUNIT_CASE(queue_setup_is_checked),
	{}
};

static struct kunit_suite vhost_bus_suite = {
	.name = "vhost_bus",
	.init = vhost_bus_test_init,
	.exit = vhost_bus_test_exit,
	.test_cases = vhost_bus_cases,
};

kunit_test_suite(vhost_bus_suite);

MODULE_DESCRIPTION("KUnit tests of the vhost bus core");
MODULE_LICENSE("GPL");
