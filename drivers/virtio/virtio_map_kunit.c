// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the virtio core's mapping operations (struct virtio_map_ops).
 *
 * A transport whose device reaches only part of the driver's memory (an
 * NTB memory window, a VDUSE bounce domain) gives its virtio device
 * mapping operations; the virtio core must then take every ring from
 * ->alloc() and put in every descriptor what ->map_page() returned, undo
 * each mapping with ->unmap_page() with the same address, size and
 * direction, and leave nothing mapped when adding a buffer fails half way.
 * Without mapping operations nothing may change: the DMA API is used as
 * before.
 *
 * The fake operations here model such a window: a buffer of the test is
 * the memory the device reaches, at a made-up bus address no physical
 * address can have; ->alloc() carves rings from it and ->map_page()
 * bounces buffers into it (copying out for the device at map time, back
 * for the CPU at unmap time), recording every call. They find the test
 * through the KUnit context, and check that the virtio core passes them
 * the mapping metadata the virtqueue was created with.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define VMK_NUM		16		/* ring entries */
#define VMK_ALIGN	64		/* vring_align of split rings */
#define VMK_WINDOW	SZ_64K		/* the memory the device reaches */
#define VMK_BUS		0x7e0000000000ULL /* ... at this bus address */
#define VMK_MAX_MAP	3000		/* what ->max_mapping_size() says */
#define VMK_MAPS	64		/* mappings one test case may make */
#define VMK_RINGS	4		/* ring allocations (packed: 3) */

struct vmk_mapping {
	dma_addr_t handle;
	size_t size;
	enum dma_data_direction dir;
	void *cpu;
	bool live;
};

struct vmk_ring {
	void *vaddr;
	dma_addr_t handle;
	size_t size;
	bool live;
};

struct vmk {
	struct device *dev;		/* map.dma_dev and the DMA device */
	bool packed, indirect;		/* the ring layout under test */
	struct virtio_device vdev;
	struct virtqueue *vq;

	u8 *window;
	size_t window_used;

	struct vmk_ring ring[VMK_RINGS];
	unsigned int allocs, frees, bad_frees;

	struct vmk_mapping map[VMK_MAPS];
	unsigned int maps;		/* ->map_page() calls, failed ones too */
	unsigned int nmap;		/* entries of map[] */
	unsigned int live_maps, unmaps, bad_unmaps;
	unsigned int fail_map;		/* fail this ->map_page() call (from 1) */
	bool fail_after;		/* ... and all calls after it */

	dma_addr_t sync_handle;
	size_t sync_size;
	unsigned int syncs;

	unsigned int foreign_map;	/* calls with another union virtio_map */
};

static struct vmk *vmk_current(void)
{
	struct kunit *test = kunit_get_current_test();

	return test ? test->priv : NULL;
}

/* The test, if @map is the mapping metadata it created its queues with. */
static struct vmk *vmk_of(union virtio_map map)
{
	struct vmk *t = vmk_current();

	if (t && map.dma_dev != t->dev)
		t->foreign_map++;
	return t;
}

static void *vmk_window_va(struct vmk *t, dma_addr_t handle)
{
	return t->window + (handle - VMK_BUS);
}

/* Carve @size bytes aligned to @align from the window; its bus address. */
static dma_addr_t vmk_carve(struct vmk *t, size_t size, size_t align)
{
	size_t off = ALIGN(t->window_used, align);

	if (off + size > VMK_WINDOW)
		return DMA_MAPPING_ERROR;
	t->window_used = off + size;
	return VMK_BUS + off;
}

static dma_addr_t vmk_map_page(union virtio_map map, struct page *page,
			       unsigned long offset, size_t size,
			       enum dma_data_direction dir, unsigned long attrs)
{
	struct vmk *t = vmk_of(map);
	struct vmk_mapping *m;
	dma_addr_t handle;

	if (!t)
		return DMA_MAPPING_ERROR;
	t->maps++;
	if (t->fail_map && (t->maps == t->fail_map ||
			    (t->fail_after && t->maps > t->fail_map)))
		return DMA_MAPPING_ERROR;
	if (t->nmap == VMK_MAPS)
		return DMA_MAPPING_ERROR;
	handle = vmk_carve(t, size, 64);
	if (handle == DMA_MAPPING_ERROR)
		return handle;

	m = &t->map[t->nmap++];
	m->handle = handle;
	m->size = size;
	m->dir = dir;
	m->cpu = page_address(page) + offset;
	m->live = true;
	t->live_maps++;
	if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)
		memcpy(vmk_window_va(t, handle), m->cpu, size);
	return handle;
}

static struct vmk_mapping *vmk_find(struct vmk *t, dma_addr_t handle)
{
	unsigned int i;

	for (i = 0; i < t->nmap; i++)
		if (t->map[i].live && t->map[i].handle == handle)
			return &t->map[i];
	return NULL;
}

static void vmk_unmap_page(union virtio_map map, dma_addr_t handle,
			   size_t size, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct vmk *t = vmk_of(map);
	struct vmk_mapping *m;

	if (!t)
		return;
	m = vmk_find(t, handle);
	if (!m || m->size != size || m->dir != dir) {
		t->bad_unmaps++;
		return;
	}
	if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)
		memcpy(m->cpu, vmk_window_va(t, handle), size);
	m->live = false;
	t->live_maps--;
	t->unmaps++;
}

static void vmk_sync(union virtio_map map, dma_addr_t handle, size_t size,
		     enum dma_data_direction dir)
{
	struct vmk *t = vmk_of(map);

	if (!t)
		return;
	t->syncs++;
	t->sync_handle = handle;
	t->sync_size = size;
}

static void *vmk_alloc(union virtio_map map, size_t size,
		       dma_addr_t *handle, gfp_t gfp)
{
	struct vmk *t = vmk_of(map);
	struct vmk_ring *r;

	if (!t || t->allocs == VMK_RINGS)
		return NULL;
	*handle = vmk_carve(t, size, PAGE_SIZE);
	if (*handle == DMA_MAPPING_ERROR)
		return NULL;

	r = &t->ring[t->allocs++];
	r->vaddr = vmk_window_va(t, *handle);
	r->handle = *handle;
	r->size = size;
	r->live = true;
	memset(r->vaddr, 0, size);
	return r->vaddr;
}

static void vmk_free(union virtio_map map, size_t size, void *vaddr,
		     dma_addr_t handle, unsigned long attrs)
{
	struct vmk *t = vmk_of(map);
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->allocs; i++) {
		struct vmk_ring *r = &t->ring[i];

		if (r->live && r->vaddr == vaddr && r->handle == handle &&
		    r->size == size) {
			r->live = false;
			t->frees++;
			return;
		}
	}
	t->bad_frees++;
}

static bool vmk_need_sync(union virtio_map map, dma_addr_t handle)
{
	vmk_of(map);
	return true;
}

static int vmk_mapping_error(union virtio_map map, dma_addr_t handle)
{
	vmk_of(map);
	return handle == DMA_MAPPING_ERROR;
}

static size_t vmk_max_mapping_size(union virtio_map map)
{
	vmk_of(map);
	return VMK_MAX_MAP;
}

static const struct virtio_map_ops vmk_ops = {
	.map_page = vmk_map_page,
	.unmap_page = vmk_unmap_page,
	.sync_single_for_cpu = vmk_sync,
	.sync_single_for_device = vmk_sync,
	.alloc = vmk_alloc,
	.free = vmk_free,
	.need_sync = vmk_need_sync,
	.mapping_error = vmk_mapping_error,
	.max_mapping_size = vmk_max_mapping_size,
};

static bool vmk_notify(struct virtqueue *vq)
{
	return true;
}

/* The virtio device, with @features, and @ops or none. */
static void vmk_setup_vdev(struct kunit *test, u64 features,
			   const struct virtio_map_ops *ops)
{
	struct vmk *t = test->priv;

	t->vdev.features = features | BIT_ULL(VIRTIO_F_VERSION_1);
	INIT_LIST_HEAD(&t->vdev.vqs);
	spin_lock_init(&t->vdev.vqs_list_lock);
	t->vdev.dev.parent = t->dev;
	t->vdev.map = ops;
	t->vdev.vmap.dma_dev = t->dev;
}

static void vmk_create(struct kunit *test, u64 features,
		       const struct virtio_map_ops *ops)
{
	struct vmk *t = test->priv;
	union virtio_map map = { .dma_dev = t->dev };

	vmk_setup_vdev(test, features, ops);
	t->vq = vring_create_virtqueue_map(0, VMK_NUM, VMK_ALIGN, &t->vdev,
					   true, false, false, vmk_notify,
					   NULL, "vmk", map);
	KUNIT_ASSERT_NOT_NULL(test, t->vq);
	__virtio_unbreak_device(&t->vdev);
}

static void vmk_destroy(struct vmk *t)
{
	vring_del_virtqueue(t->vq);
	t->vq = NULL;
}

static const struct vmk_mapping *vmk_mapping_of(struct kunit *test,
						const void *cpu)
{
	struct vmk *t = test->priv;
	unsigned int i;

	for (i = 0; i < t->nmap; i++)
		if (t->map[i].live && t->map[i].cpu == cpu)
			return &t->map[i];
	KUNIT_FAIL(test, "no live mapping of %p", cpu);
	return NULL;
}

static u64 vmk_features(struct kunit *test)
{
	struct vmk *t = test->priv;
	u64 features = BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);

	if (t->packed)
		features |= BIT_ULL(VIRTIO_F_RING_PACKED);
	if (t->indirect)
		features |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	return features;
}

/* A buffer of two parts out and one in, each filled with its own byte. */
struct vmk_buf {
	u8 out0[32];
	u8 out1[48];
	u8 in[64];
	struct scatterlist sg[3];
	struct scatterlist *sgs[3];
};

static struct vmk_buf *vmk_buf(struct kunit *test)
{
	struct vmk_buf *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	memset(b->out0, 0xa0, sizeof(b->out0));
	memset(b->out1, 0xa1, sizeof(b->out1));
	sg_init_one(&b->sg[0], b->out0, sizeof(b->out0));
	sg_init_one(&b->sg[1], b->out1, sizeof(b->out1));
	sg_init_one(&b->sg[2], b->in, sizeof(b->in));
	for (i = 0; i < 3; i++)
		b->sgs[i] = &b->sg[i];
	return b;
}

static int vmk_add(struct vmk *t, struct vmk_buf *b)
{
	return virtqueue_add_sgs(t->vq, b->sgs, 2, 1, b, GFP_KERNEL);
}

/* What the device finds in descriptor @i: its address, length, flags. */
struct vmk_desc {
	u64 addr;
	u32 len;
	u16 flags;
};

static struct vmk_desc vmk_desc(struct kunit *test, const void *table,
				unsigned int i)
{
	struct vmk *t = test->priv;
	struct vmk_desc d;

	if (t->packed) {
		const struct vring_packed_desc *desc = table;

		d.addr = le64_to_cpu(desc[i].addr);
		d.len = le32_to_cpu(desc[i].len);
		d.flags = le16_to_cpu(desc[i].flags);
	} else {
		const struct vring_desc *desc = table;

		d.addr = virtio64_to_cpu(&t->vdev, desc[i].addr);
		d.len = virtio32_to_cpu(&t->vdev, desc[i].len);
		d.flags = virtio16_to_cpu(&t->vdev, desc[i].flags);
	}
	return d;
}

static void vmk_expect_desc(struct kunit *test, const void *table,
			    unsigned int i, const void *cpu, size_t len,
			    enum dma_data_direction dir)
{
	const struct vmk_mapping *m = vmk_mapping_of(test, cpu);
	struct vmk_desc d = vmk_desc(test, table, i);

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, m->size, len);
	KUNIT_EXPECT_EQ(test, m->dir, dir);
	KUNIT_EXPECT_EQ(test, d.addr, (u64)m->handle);
	KUNIT_EXPECT_EQ(test, d.len, (u32)len);
	KUNIT_EXPECT_EQ(test, (bool)(d.flags & VRING_DESC_F_WRITE),
			dir == DMA_FROM_DEVICE);
}

/*
 * The buffer @b was added first to a fresh ring: check that its
 * descriptors, as the device reads them in the window, hold the
 * addresses ->map_page() gave for its parts (and for the indirect table).
 */
static void vmk_expect_descs(struct kunit *test, struct vmk_buf *b)
{
	struct vmk *t = test->priv;
	const void *table = t->ring[0].vaddr;

	if (t->indirect) {
		size_t size = 3 * (t->packed ? sizeof(struct vring_packed_desc) :
				   sizeof(struct vring_desc));
		struct vmk_desc head = vmk_desc(test, table, 0);
		unsigned int i;

		KUNIT_EXPECT_TRUE(test, head.flags & VRING_DESC_F_INDIRECT);
		KUNIT_EXPECT_EQ(test, head.len, (u32)size);
		for (i = 0; i < t->nmap; i++)
			if (t->map[i].live && t->map[i].handle == head.addr)
				break;
		KUNIT_ASSERT_LT_MSG(test, i, t->nmap,
				    "the indirect table was not mapped");
		KUNIT_EXPECT_EQ(test, t->map[i].size, size);
		KUNIT_EXPECT_EQ(test, t->map[i].dir, DMA_TO_DEVICE);
		/* The copy the device reads, made at map time. */
		table = vmk_window_va(t, head.addr);
	}
	vmk_expect_desc(test, table, 0, b->out0, sizeof(b->out0),
			DMA_TO_DEVICE);
	vmk_expect_desc(test, table, 1, b->out1, sizeof(b->out1),
			DMA_TO_DEVICE);
	vmk_expect_desc(test, table, 2, b->in, sizeof(b->in),
			DMA_FROM_DEVICE);
}

/* The device hands back the first buffer, @len bytes written. */
static void vmk_device_used(struct kunit *test, u32 len)
{
	struct vmk *t = test->priv;

	if (t->packed) {
		struct vring_packed_desc *desc = t->ring[0].vaddr;

		desc[0].id = cpu_to_le16(0);
		desc[0].len = cpu_to_le32(len);
		/* Used in the first lap: AVAIL and USED both set. */
		desc[0].flags = cpu_to_le16(BIT(VRING_PACKED_DESC_F_AVAIL) |
					    BIT(VRING_PACKED_DESC_F_USED));
	} else {
		const struct vring *vring = virtqueue_get_vring(t->vq);

		vring->used->ring[0].id = cpu_to_virtio32(&t->vdev, 0);
		vring->used->ring[0].len = cpu_to_virtio32(&t->vdev, len);
		vring->used->idx = cpu_to_virtio16(&t->vdev, 1);
	}
}

static void vmk_expect_all_unmapped(struct kunit *test)
{
	struct vmk *t = test->priv;

	KUNIT_EXPECT_EQ(test, t->live_maps, 0);
	KUNIT_EXPECT_EQ(test, t->bad_unmaps, 0);
}

/* Rings come from ->alloc() and go back through ->free(). */
static void vmk_test_rings(struct kunit *test)
{
	struct vmk *t = test->priv;
	unsigned int i;

	vmk_create(test, vmk_features(test), &vmk_ops);
	KUNIT_EXPECT_EQ(test, t->allocs, t->packed ? 3 : 1);
	KUNIT_EXPECT_EQ(test, virtqueue_get_vring_size(t->vq), VMK_NUM);
	KUNIT_EXPECT_EQ(test, virtqueue_get_desc_addr(t->vq), t->ring[0].handle);
	if (t->packed) {
		KUNIT_EXPECT_EQ(test, virtqueue_get_avail_addr(t->vq),
				t->ring[1].handle);
		KUNIT_EXPECT_EQ(test, virtqueue_get_used_addr(t->vq),
				t->ring[2].handle);
	} else {
		const struct vring *vring = virtqueue_get_vring(t->vq);

		KUNIT_EXPECT_PTR_EQ(test, (void *)vring->desc, t->ring[0].vaddr);
		KUNIT_EXPECT_EQ(test, virtqueue_get_avail_addr(t->vq),
				t->ring[0].handle +
				((void *)vring->avail - (void *)vring->desc));
		KUNIT_EXPECT_EQ(test, virtqueue_get_used_addr(t->vq),
				t->ring[0].handle +
				((void *)vring->used - (void *)vring->desc));
	}
	/* Without ->map_page() in play, nothing was mapped. */
	KUNIT_EXPECT_EQ(test, t->maps, 0);
	KUNIT_EXPECT_NULL(test, virtqueue_dma_dev(t->vq));

	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->frees, t->allocs);
	KUNIT_EXPECT_EQ(test, t->bad_frees, 0);
	for (i = 0; i < t->allocs; i++)
		KUNIT_EXPECT_FALSE(test, t->ring[i].live);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/*
 * Descriptors hold what ->map_page() returned; detaching the unused
 * buffer unmaps each part with the address, size and direction it was
 * mapped with.
 */
static void vmk_test_add_detach(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	const struct vmk_mapping *m;
	unsigned int num_free;

	vmk_create(test, vmk_features(test), &vmk_ops);
	num_free = t->vq->num_free;
	KUNIT_ASSERT_EQ(test, vmk_add(t, b), 0);
	KUNIT_EXPECT_EQ(test, t->maps, t->indirect ? 4 : 3);
	KUNIT_EXPECT_EQ(test, t->live_maps, t->maps);
	KUNIT_EXPECT_EQ(test, t->vq->num_free, num_free - (t->indirect ? 1 : 3));
	vmk_expect_descs(test, b);
	/* The device sees the driver's data where the descriptors point. */
	m = vmk_mapping_of(test, b->out1);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_MEMEQ(test, vmk_window_va(t, m->handle), b->out1,
			   sizeof(b->out1));

	KUNIT_EXPECT_PTR_EQ(test, virtqueue_detach_unused_buf(t->vq), (void *)b);
	KUNIT_EXPECT_EQ(test, t->unmaps, t->maps);
	vmk_expect_all_unmapped(test);
	KUNIT_EXPECT_EQ(test, t->vq->num_free, num_free);

	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/* A buffer the device used is unmapped when the driver gets it back. */
static void vmk_test_used(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	const struct vmk_mapping *m;
	u8 written[sizeof(b->in)];
	unsigned int len = 0;

	vmk_create(test, vmk_features(test), &vmk_ops);
	KUNIT_ASSERT_EQ(test, vmk_add(t, b), 0);
	KUNIT_ASSERT_TRUE(test, virtqueue_kick(t->vq));

	/* The device writes the in part through the window ... */
	m = vmk_mapping_of(test, b->in);
	KUNIT_ASSERT_NOT_NULL(test, m);
	memset(written, 0x5e, sizeof(written));
	memcpy(vmk_window_va(t, m->handle), written, sizeof(written));
	vmk_device_used(test, sizeof(written));

	/* ... and the driver reads it once the buffer is unmapped. */
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len), (void *)b);
	KUNIT_EXPECT_EQ(test, len, sizeof(written));
	KUNIT_EXPECT_EQ(test, t->unmaps, t->maps);
	vmk_expect_all_unmapped(test);
	KUNIT_EXPECT_MEMEQ(test, b->in, written, sizeof(written));
	KUNIT_EXPECT_NULL(test, virtqueue_get_buf(t->vq, &len));

	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/*
 * ->map_page() failing from some call on, at each part and at the
 * indirect table, makes virtqueue_add_sgs() fail (-ENOMEM on a split
 * ring, -EIO on a packed one, as in mainline) with nothing left mapped
 * and the ring as it was; the next add then works.
 */
static void vmk_test_map_failure(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	unsigned int calls = t->indirect ? 4 : 3;
	unsigned int num_free, fail;

	vmk_create(test, vmk_features(test), &vmk_ops);
	num_free = t->vq->num_free;
	t->fail_after = true;
	for (fail = 1; fail <= calls; fail++) {
		t->maps = 0;
		t->unmaps = 0;
		t->fail_map = fail;
		KUNIT_EXPECT_EQ_MSG(test, vmk_add(t, b), t->packed ? -EIO : -ENOMEM,
				    "map_page failing from call %u", fail);
		KUNIT_EXPECT_EQ_MSG(test, t->unmaps, fail - 1,
				    "map_page failing from call %u", fail);
		vmk_expect_all_unmapped(test);
		KUNIT_EXPECT_EQ(test, t->vq->num_free, num_free);
		KUNIT_EXPECT_NULL(test, virtqueue_detach_unused_buf(t->vq));
	}

	t->fail_map = 0;
	t->maps = 0;
	t->unmaps = 0;
	KUNIT_ASSERT_EQ(test, vmk_add(t, b), 0);
	KUNIT_EXPECT_EQ(test, t->maps, calls);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_detach_unused_buf(t->vq), (void *)b);
	KUNIT_EXPECT_EQ(test, t->unmaps, calls);
	vmk_expect_all_unmapped(test);

	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/*
 * A packed ring whose indirect table cannot be set up falls back to
 * direct descriptors: one ->map_page() failure in the indirect attempt
 * leaves only the direct attempt's mappings.
 */
static void vmk_test_packed_fallback(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	unsigned int fail;

	t->packed = true;
	t->indirect = true;
	vmk_create(test, vmk_features(test), &vmk_ops);
	for (fail = 1; fail <= 4; fail++) {
		t->maps = 0;
		t->unmaps = 0;
		t->fail_map = fail;
		KUNIT_EXPECT_EQ(test, vmk_add(t, b), 0);
		KUNIT_EXPECT_EQ(test, t->maps, fail + 3);
		KUNIT_EXPECT_EQ(test, t->unmaps, fail - 1);
		KUNIT_EXPECT_EQ(test, t->live_maps, 3);
		KUNIT_EXPECT_EQ(test, t->vq->num_free, VMK_NUM - 3);
		KUNIT_EXPECT_PTR_EQ(test, virtqueue_detach_unused_buf(t->vq),
				    (void *)b);
		vmk_expect_all_unmapped(test);
	}
	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/* virtio_max_dma_size() asks ->max_mapping_size() with vdev->vmap. */
static void vmk_test_max_size(struct kunit *test)
{
	struct vmk *t = test->priv;

	vmk_setup_vdev(test, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM), &vmk_ops);
	KUNIT_EXPECT_EQ(test, virtio_max_dma_size(&t->vdev), VMK_MAX_MAP);

	vmk_setup_vdev(test, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM), NULL);
	KUNIT_EXPECT_EQ(test, virtio_max_dma_size(&t->vdev),
			dma_max_mapping_size(t->dev));

	/* No mapping API without ACCESS_PLATFORM: no limit either. */
	vmk_setup_vdev(test, 0, &vmk_ops);
	KUNIT_EXPECT_EQ(test, virtio_max_dma_size(&t->vdev), SIZE_MAX);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/* The exported mapping helpers go through the operations too. */
static void vmk_test_helpers(struct kunit *test)
{
	struct vmk *t = test->priv;
	u8 *buf = kunit_kzalloc(test, 128, GFP_KERNEL);
	const struct vmk_mapping *m;
	dma_addr_t handle;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	vmk_create(test, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM), &vmk_ops);

	handle = virtqueue_dma_map_single_attrs(t->vq, buf + 8, 100,
						DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, virtqueue_dma_mapping_error(t->vq, handle), 0);
	m = vmk_mapping_of(test, buf + 8);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, m->handle, handle);
	KUNIT_EXPECT_EQ(test, m->size, 100);
	KUNIT_EXPECT_EQ(test, m->dir, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_TRUE(test, virtqueue_dma_need_sync(t->vq, handle));
	virtqueue_dma_sync_single_range_for_cpu(t->vq, handle, 16, 32,
						DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, t->sync_handle, handle + 16);
	KUNIT_EXPECT_EQ(test, t->sync_size, 32);
	virtqueue_dma_sync_single_range_for_device(t->vq, handle, 4, 8,
						   DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, t->sync_handle, handle + 4);
	KUNIT_EXPECT_EQ(test, t->syncs, 2);
	virtqueue_dma_unmap_single_attrs(t->vq, handle, 100,
					 DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, t->unmaps, 1);
	vmk_expect_all_unmapped(test);

	t->fail_map = t->maps + 1;
	handle = virtqueue_map_page_attrs(t->vq, virt_to_page(buf),
					  offset_in_page(buf), 128,
					  DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_NE(test, virtqueue_dma_mapping_error(t->vq, handle), 0);

	vmk_destroy(t);
	KUNIT_EXPECT_EQ(test, t->foreign_map, 0);
}

/*
 * Without mapping operations the DMA API is used as before: the ring from
 * dma_alloc_coherent(), buffers mapped by dma_map_page() (direct mapping
 * on the test's device: bus address == physical address).
 */
static void vmk_test_dma_api(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	const struct vring *vring;

	vmk_create(test, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM), NULL);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_dma_dev(t->vq), t->dev);
	vring = virtqueue_get_vring(t->vq);
	KUNIT_EXPECT_EQ(test, virtqueue_get_desc_addr(t->vq),
			(dma_addr_t)virt_to_phys(vring->desc));

	KUNIT_ASSERT_EQ(test, vmk_add(t, b), 0);
	KUNIT_EXPECT_EQ(test, virtio64_to_cpu(&t->vdev, vring->desc[0].addr),
			(u64)virt_to_phys(b->out0));
	KUNIT_EXPECT_EQ(test, virtio64_to_cpu(&t->vdev, vring->desc[2].addr),
			(u64)virt_to_phys(b->in));
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_detach_unused_buf(t->vq), (void *)b);
	vmk_destroy(t);

	/* The operations were never asked. */
	KUNIT_EXPECT_EQ(test, t->allocs, 0);
	KUNIT_EXPECT_EQ(test, t->maps, 0);
	KUNIT_EXPECT_EQ(test, t->unmaps + t->bad_unmaps + t->frees, 0);
}

/*
 * Mapping operations only replace a mapping API: without ACCESS_PLATFORM
 * the core uses physical addresses and never calls them.
 */
static void vmk_test_no_access_platform(struct kunit *test)
{
	struct vmk *t = test->priv;
	struct vmk_buf *b = vmk_buf(test);
	const struct vring *vring;

	vmk_create(test, 0, &vmk_ops);
	KUNIT_EXPECT_NULL(test, virtqueue_dma_dev(t->vq));
	vring = virtqueue_get_vring(t->vq);
	KUNIT_EXPECT_EQ(test, virtqueue_get_desc_addr(t->vq),
			(dma_addr_t)virt_to_phys(vring->desc));
	KUNIT_ASSERT_EQ(test, vmk_add(t, b), 0);
	KUNIT_EXPECT_EQ(test, virtio64_to_cpu(&t->vdev, vring->desc[0].addr),
			(u64)virt_to_phys(b->out0));
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_detach_unused_buf(t->vq), (void *)b);
	vmk_destroy(t);

	KUNIT_EXPECT_EQ(test, t->allocs, 0);
	KUNIT_EXPECT_EQ(test, t->maps, 0);
	KUNIT_EXPECT_EQ(test, t->unmaps + t->bad_unmaps + t->frees, 0);
}

static int vmk_init(struct kunit *test)
{
	struct vmk *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->window = kunit_kzalloc(test, VMK_WINDOW, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->window);
	t->dev = kunit_device_register(test, "virtio-map-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(t->dev,
							   DMA_BIT_MASK(64)), 0);
	test->priv = t;
	return 0;
}

static int vmk_init_layout(struct kunit *test, bool packed, bool indirect)
{
	struct vmk *t;
	int err = vmk_init(test);

	if (err)
		return err;
	t = test->priv;
	t->packed = packed;
	t->indirect = indirect;
	return 0;
}

static void vmk_exit(struct kunit *test)
{
	struct vmk *t = test->priv;

	/* After a failed assertion: what a driver would do on removal. */
	if (t && t->vq) {
		while (virtqueue_detach_unused_buf(t->vq))
			;
		vring_del_virtqueue(t->vq);
	}
}

static struct kunit_case vmk_layout_cases[] = {
	KUNIT_CASE(vmk_test_rings),
	KUNIT_CASE(vmk_test_add_detach),
	KUNIT_CASE(vmk_test_used),
	KUNIT_CASE(vmk_test_map_failure),
	{}
};

static struct kunit_case vmk_cases[] = {
	KUNIT_CASE(vmk_test_packed_fallback),
	KUNIT_CASE(vmk_test_max_size),
	KUNIT_CASE(vmk_test_helpers),
	KUNIT_CASE(vmk_test_dma_api),
	KUNIT_CASE(vmk_test_no_access_platform),
	{}
};

/* The tests of a ring layout run once per layout, a suite each. */
static int vmk_init_split(struct kunit *test)
{
	return vmk_init_layout(test, false, false);
}

static int vmk_init_split_indirect(struct kunit *test)
{
	return vmk_init_layout(test, false, true);
}

static int vmk_init_packed(struct kunit *test)
{
	return vmk_init_layout(test, true, false);
}

static int vmk_init_packed_indirect(struct kunit *test)
{
	return vmk_init_layout(test, true, true);
}

static struct kunit_suite vmk_split_suite = {
	.name = "virtio_map_split",
	.init = vmk_init_split,
	.exit = vmk_exit,
	.test_cases = vmk_layout_cases,
};

static struct kunit_suite vmk_split_indirect_suite = {
	.name = "virtio_map_split_indirect",
	.init = vmk_init_split_indirect,
	.exit = vmk_exit,
	.test_cases = vmk_layout_cases,
};

static struct kunit_suite vmk_packed_suite = {
	.name = "virtio_map_packed",
	.init = vmk_init_packed,
	.exit = vmk_exit,
	.test_cases = vmk_layout_cases,
};

static struct kunit_suite vmk_packed_indirect_suite = {
	.name = "virtio_map_packed_indirect",
	.init = vmk_init_packed_indirect,
	.exit = vmk_exit,
	.test_cases = vmk_layout_cases,
};

static struct kunit_suite vmk_suite = {
	.name = "virtio_map",
	.init = vmk_init,
	.exit = vmk_exit,
	.test_cases = vmk_cases,
};

kunit_test_suites(&vmk_split_suite, &vmk_split_indirect_suite,
		  &vmk_packed_suite, &vmk_packed_indirect_suite, &vmk_suite);

MODULE_DESCRIPTION("KUnit tests of the virtio core's mapping operations");
MODULE_LICENSE("GPL");
