// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_rng: a sample vhost client, the device side of virtio-rng.
 *
 * The driver side is the stock virtio_rng driver: it makes buffers
 * available on its one queue and this client fills them with random bytes
 * from the local system. It shows the whole life of a client: the id table
 * that gets it loaded and matched, features, queues created in start() and
 * gone after stop(), the kick callback handing over to process context, and
 * notification suppression while buffers are being served.
 */

#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/workqueue.h>

/* Bytes of randomness per chunk pushed into a buffer. */
#define VHOST_RNG_CHUNK	64

/*
 * Buffers served per run of the work before it yields: a driver side that
 * keeps making buffers available must not hold the worker, nor a stop()
 * waiting for the work, for as long as it likes.
 */
#define VHOST_RNG_BUDGET	64

/*
 * Bytes filled in one buffer at most: virtio-rng lets the device fill
 * less than the buffer, and a huge buffer must not make a long pass.
 */
#define VHOST_RNG_MAX_FILL	PAGE_SIZE

struct vhost_rng {
	struct vhost_device *vdev;
	struct vhost_vq *vq;
	struct work_struct work;
	struct vhost_buf buf;
};

static void vhost_rng_work(struct work_struct *work)
{
	struct vhost_rng *rng = container_of(work, struct vhost_rng, work);
	unsigned int budget = VHOST_RNG_BUDGET;
	u8 chunk[VHOST_RNG_CHUNK];
	bool served = false;
	int ret;

	do {
		vhost_vq_disable_cb(rng->vq);
		while ((ret = vhost_vq_get_buf(rng->vq, &rng->buf)) > 0) {
			size_t room = min_t(size_t, vhost_buf_writable(&rng->buf),
					    VHOST_RNG_MAX_FILL);

			while (room) {
				size_t n = min(room, sizeof(chunk));

				get_random_bytes(chunk, n);
				if (vhost_buf_push(&rng->buf, chunk, n) != n)
					break;
				room -= n;
			}
			if (vhost_vq_put_buf(rng->vq, &rng->buf))
				break;
			served = true;
			if (!--budget) {
				/* Let others run; come back for the rest. */
				vhost_buf_release(&rng->buf);
				vhost_vq_kick(rng->vq);
				schedule_work(&rng->work);
				return;
			}
		}
		vhost_buf_release(&rng->buf);
		if (ret < 0)
			return;	/* the core has failed the device */
	} while (!vhost_vq_enable_cb(rng->vq));
	if (served)
		vhost_vq_kick(rng->vq);
}

/* Called in atomic context when the driver side kicks the queue. */
static void vhost_rng_kicked(struct vhost_vq *vq)
{
	struct vhost_rng *rng = vq->priv;

	schedule_work(&rng->work);
}

static int vhost_rng_start(struct vhost_device *vdev)
{
	struct vhost_rng *rng = vhost_get_drvdata(vdev);
	vhost_vq_callback_t *callbacks[] = { vhost_rng_kicked };
	static const char *const names[] = { "requestq" };
	int ret;

	ret = vhost_create_vqs(vdev, 1, callbacks, names, &rng->vq);
	if (ret)
		return ret;
	rng->vq->priv = rng;
	/* Serve what the driver made available before its first kick. */
	schedule_work(&rng->work);
	return 0;
}

static void vhost_rng_stop(struct vhost_device *vdev)
{
	struct vhost_rng *rng = vhost_get_drvdata(vdev);

	cancel_work_sync(&rng->work);
	rng->vq = NULL;
}

static int vhost_rng_probe(struct vhost_device *vdev)
{
	struct vhost_rng *rng;

	rng = devm_kzalloc(&vdev->dev, sizeof(*rng), GFP_KERNEL);
	if (!rng)
		return -ENOMEM;
	rng->vdev = vdev;
	INIT_WORK(&rng->work, vhost_rng_work);
	vhost_buf_init(&rng->buf);
	vhost_set_drvdata(vdev, rng);
	vhost_set_features(vdev, BIT_ULL(VIRTIO_F_VERSION_1) |
			   BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			   BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));
	return 0;
}

static const struct vhost_device_id vhost_rng_ids[] = {
	{ VIRTIO_ID_RNG, VHOST_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(vhost, vhost_rng_ids);

static struct vhost_driver vhost_rng_driver = {
	.driver.name	= "vhost_rng",
	.id_table	= vhost_rng_ids,
	.probe		= vhost_rng_probe,
	.start		= vhost_rng_start,
	.stop		= vhost_rng_stop,
};
module_vhost_driver(vhost_rng_driver);

MODULE_DESCRIPTION("Sample vhost client: the device side of virtio-rng");
MODULE_LICENSE("GPL");
