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
 *     scatter         with feature 3, the echo queue: writing "N MiB"
 *                     posts N one-page buffers, each in a different
 *                     MiB-sized and -aligned region of memory, and waits
 *                     for their echo; reading says how the last run went
 */

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#define VVT_DEVICE_ID	0xfff0
#define VVT_CONFIG_LEN	16
#define VVT_F_ECHO	3
#define VVT_SCATTER_MAX	64
#define VVT_ECHO_MS	20000

static unsigned long features = 0x3;
module_param(features, ulong, 0644);
MODULE_PARM_DESC(features, "feature bits (0, 1 and 3: the echo queue) to accept at probe (default 0x3)");

struct vvt {
	struct virtio_device *vdev;
	struct dentry *dir;
	atomic_t config_changes;
	struct virtqueue *vq;		/* the echo queue, or NULL */
	struct mutex lock;		/* one scatter run at a time */
	struct completion echoed;
	atomic_t pending;
	char result[128];
	struct page *stuck[VVT_SCATTER_MAX];	/* after a time-out */
	unsigned int nstuck;
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

static void vvt_echoed(struct virtqueue *vq)
{
	struct vvt *vvt = vq->vdev->priv;
	unsigned int len;

	while (virtqueue_get_buf(vq, &len))
		if (atomic_dec_and_test(&vvt->pending))
			complete(&vvt->echoed);
}

/*
 * Take @n pages, each in a different region of 2^@shift bytes, and leave
 * the others taken on the way in @extra to give back after the run.
 */
static int vvt_spread_pages(struct page **pages, unsigned int n,
			    unsigned int shift, struct list_head *extra)
{
	unsigned int got = 0, tries;
	unsigned long region[VVT_SCATTER_MAX];

	for (tries = 0; got < n && tries < 16 * 1024; tries++) {
		struct page *page = alloc_page(GFP_KERNEL);
		unsigned long r;
		unsigned int i;

		if (!page)
			break;
		r = page_to_phys(page) >> shift;
		for (i = 0; i < got && region[i] != r; i++)
			;
		if (i < got) {
			list_add(&page->lru, extra);
			continue;
		}
		region[got] = r;
		pages[got++] = page;
	}
	return got;
}

/* Post @n buffers spread over memory, wait for the echo, check it. */
static int vvt_scatter(struct vvt *vvt, unsigned int n, unsigned int mib)
{
	struct page *pages[VVT_SCATTER_MAX], *page, *tmp;
	unsigned int got, i, j, bad = 0;
	LIST_HEAD(extra);
	u64 lo = U64_MAX, hi = 0;
	int ret = 0;

	got = vvt_spread_pages(pages, n, ilog2(mib) + 20, &extra);
	list_for_each_entry_safe(page, tmp, &extra, lru)
		__free_page(page);
	if (got < n) {
		snprintf(vvt->result, sizeof(vvt->result),
			 "only %u pages in distinct %u MiB regions\n", got, mib);
		ret = -ENOMEM;
		goto out;
	}
	reinit_completion(&vvt->echoed);
	atomic_set(&vvt->pending, n);
	for (i = 0; i < n; i++) {
		struct scatterlist out, in, *sgs[] = { &out, &in };
		u8 *p = page_address(pages[i]);

		for (j = 0; j < PAGE_SIZE / 2; j++)
			p[j] = i + j;
		memset(p + PAGE_SIZE / 2, 0, PAGE_SIZE / 2);
		sg_init_one(&out, p, PAGE_SIZE / 2);
		sg_init_one(&in, p + PAGE_SIZE / 2, PAGE_SIZE / 2);
		ret = virtqueue_add_sgs(vvt->vq, sgs, 1, 1, p, GFP_KERNEL);
		if (ret) {
			/* Not posted: nobody echoes them. */
			atomic_sub(n - i, &vvt->pending);
			break;
		}
		lo = min_t(u64, lo, page_to_phys(pages[i]));
		hi = max_t(u64, hi, page_to_phys(pages[i]));
	}
	virtqueue_kick(vvt->vq);
	if (!wait_for_completion_timeout(&vvt->echoed,
					 msecs_to_jiffies(VVT_ECHO_MS))) {
		snprintf(vvt->result, sizeof(vvt->result),
			 "%d of %u buffers not echoed in %d ms\n",
			 atomic_read(&vvt->pending), n, VVT_ECHO_MS);
		/* The device may still write them: freed after the reset. */
		memcpy(vvt->stuck, pages, got * sizeof(*pages));
		vvt->nstuck = got;
		return -ETIMEDOUT;
	}
	if (ret) {
		snprintf(vvt->result, sizeof(vvt->result),
			 "posting buffer %u: %d\n", i, ret);
		goto out;
	}
	for (i = 0; i < n; i++) {
		u8 *p = page_address(pages[i]);

		for (j = 0; j < PAGE_SIZE / 2; j++)
			bad += p[PAGE_SIZE / 2 + j] != (u8)((i + j) ^ 0x5a);
	}
	snprintf(vvt->result, sizeof(vvt->result),
		 "%u buffers echoed over %llu MiB, %u bytes wrong\n", n,
		 (hi - lo) >> 20, bad);
	ret = bad ? -EIO : 0;
out:
	for (i = 0; i < got; i++)
		__free_page(pages[i]);
	return ret;
}

static ssize_t vvt_scatter_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct vvt *vvt = file->private_data;
	unsigned int n, mib;
	char buf[32] = {};
	int ret;

	if (!vvt->vq)
		return -EOPNOTSUPP;
	if (*ppos || !count || count >= sizeof(buf) ||
	    copy_from_user(buf, ubuf, count))
		return -EINVAL;
	if (sscanf(buf, "%u %u", &n, &mib) != 2 || !n || n > VVT_SCATTER_MAX ||
	    !is_power_of_2(mib) || mib > 64)
		return -EINVAL;
	mutex_lock(&vvt->lock);
	/* After a time-out the device may still own the last run's pages. */
	ret = vvt->nstuck ? -EBUSY : vvt_scatter(vvt, n, mib);
	mutex_unlock(&vvt->lock);
	return ret ?: count;
}

static ssize_t vvt_scatter_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct vvt *vvt = file->private_data;
	char result[sizeof(vvt->result)];

	mutex_lock(&vvt->lock);
	memcpy(result, vvt->result, sizeof(result));
	mutex_unlock(&vvt->lock);
	return simple_read_from_buffer(ubuf, count, ppos, result,
				       strnlen(result, sizeof(result)));
}

static const struct file_operations vvt_scatter_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = vvt_scatter_read,
	.write = vvt_scatter_write,
};

static int vvt_validate(struct virtio_device *vdev)
{
	unsigned int bit;

	for (bit = 0; bit <= VVT_F_ECHO; bit++)
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
	mutex_init(&vvt->lock);
	init_completion(&vvt->echoed);
	snprintf(vvt->result, sizeof(vvt->result), "no run\n");
	vdev->priv = vvt;
	if (virtio_has_feature(vdev, VVT_F_ECHO)) {
		vvt->vq = virtio_find_single_vq(vdev, vvt_echoed, "echo");
		ret = PTR_ERR_OR_ZERO(vvt->vq);
	} else {
		/* No queues, but the transport sets up its config interrupt. */
		ret = virtio_find_vqs(vdev, 0, NULL, NULL, NULL);
	}
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
	if (vvt->vq)
		debugfs_create_file("scatter", 0600, vvt->dir, vvt,
				    &vvt_scatter_fops);
	return 0;
}

static void vvt_remove(struct virtio_device *vdev)
{
	struct vvt *vvt = vdev->priv;

	void *page;

	debugfs_remove(vvt->dir);
	virtio_reset_device(vdev);
	/* A run that timed out left its pages to the device until now. */
	while (vvt->vq && (page = virtqueue_detach_unused_buf(vvt->vq)))
		;
	while (vvt->nstuck)
		__free_page(vvt->stuck[--vvt->nstuck]);
	vdev->config->del_vqs(vdev);
	kfree(vvt);
}

static void vvt_config_changed(struct virtio_device *vdev)
{
	struct vvt *vvt = vdev->priv;

	atomic_inc(&vvt->config_changes);
}

static const unsigned int vvt_features[] = { 0, 1, VVT_F_ECHO };

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
