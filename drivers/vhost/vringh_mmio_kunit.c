// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the MMIO variant of vringh.
 *
 * The driver side is the real split ring of drivers/virtio/virtio_ring.c,
 * on a fake virtio device.  The device side walks the same ring with
 * vringh_*_mmio(), which reaches the other side's memory only through
 * vmt_ops: vmt_map_ring() hands out __iomem views of the ring in the
 * test's own memory, and vmt_read() and vmt_write() copy buffers and
 * indirect tables by bus address, a window at a time, and refuse what no
 * window holds with -EFAULT, as a transport mapping PCIe outbound windows
 * on demand would.  They also check what vringh promises them (a piece of
 * the current segment, never empty, never wrapping) and that they may
 * sleep.  The I/O accessors work on RAM on the architectures this test
 * runs on, and the windows are coherent RAM: weak barriers will do.
 * Malformed rings are written by hand, at made-up bus addresses, and must
 * give an error: not a crash, not a hang.
 *
 * tools/virtio/vringh_mmio_test.c runs the same tests in userspace.
 */

#include <kunit/test.h>
#include <linux/io.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vringh.h>

#define VMT_WINDOWS	8
#define VMT_ALIGN	64		/* vring_align of the driver's ring */
#define VMT_RING_BYTES	8192		/* enough for VMT_ALIGN and num <= 256 */
#define VMT_ARENA_BYTES	4096		/* the driver's buffers */
#define VMT_IOV		2		/* segments before vringh allocates */

/* Hand-written rings: made-up bus addresses, all in the low 4 GiB. */
#define HR_NUM		8
#define HR_RING		0x10000		/* desc, avail, used in one window */
#define HR_AVAIL	(HR_RING + 0x400)
#define HR_USED		(HR_RING + 0x800)
#define HR_RING_BYTES	0x1000
#define HR_A		0x40000		/* buffer window A ... */
#define HR_B		0x41000		/* ... and B right after it */
#define HR_C		0x80000		/* a small window on its own */
#define HR_WIN_BYTES	0x1000
#define HR_C_BYTES	0x100
#define HR_NOWHERE	0x90000		/* in no window */

struct vmt_window {
	u64 bus;
	size_t size;
	u8 *mem;
	bool owned;
};

struct vmt {
	struct kunit *test;
	struct vringh vrh;
	struct vmt_window win[VMT_WINDOWS];
	unsigned int nwin;

	/* What vmt_ops were asked, and a copy to fail (if fail_err). */
	unsigned int maps, reads, writes;
	u64 fail_addr;
	int fail_err;

	/* The driver side. */
	struct virtio_device vdev;
	struct virtqueue *vq;
	u8 *ring;
	u8 *arena;
	unsigned int kicks;
	unsigned int callbacks;

	/* The device side. */
	struct vringh_mmio_vec rvec[VMT_IOV], wvec[VMT_IOV];
	struct vringh_mmiov riov, wiov;
	u16 head;
	/* The mmiov being pulled or pushed, if any. */
	const struct vringh_mmiov *xfer;
};

/* The test's state, which the callbacks of a const vringh count in. */
static struct vmt *vmt_of(const struct vringh *vrh)
{
	return container_of_const(vrh, struct vmt, vrh)->test->priv;
}

static const struct vmt_window *vmt_window(const struct vmt *t, u64 addr)
{
	unsigned int i;

	for (i = 0; i < t->nwin; i++)
		if (addr >= t->win[i].bus &&
		    addr - t->win[i].bus < t->win[i].size)
			return &t->win[i];
	return NULL;
}

/* The test's own memory, seen as the other side's window. */
static void __iomem *vmt_io(const struct vmt_window *w, u64 addr)
{
	return (void __force __iomem *)(w->mem + (addr - w->bus));
}

static int vmt_map_ring(const struct vringh *vrh, u64 addr, u64 len,
			void __iomem **va, u64 *mapped_len)
{
	struct vmt *t = vmt_of(vrh);
	const struct vmt_window *w = vmt_window(t, addr);
	u64 room;

	t->maps++;
	if (!w)
		return -EFAULT;
	room = w->size - (addr - w->bus);
	*va = vmt_io(w, addr);
	*mapped_len = len < room ? len : room;
	return 0;
}

/*
 * Copy @len bytes at bus address @addr to @dst, or from @src if @dst is
 * NULL: a piece per window, as windows mapped on demand would; -EFAULT
 * from the first byte no window holds.
 */
static int vmt_copy(const struct vringh *vrh, u64 addr, void *dst,
		    const void *src, size_t len)
{
	struct vmt *t = vmt_of(vrh);
	struct kunit *test = t->test;
	const struct vringh_mmiov *iov = t->xfer;

	might_sleep();
	KUNIT_EXPECT_GT(test, len, 0);
	KUNIT_EXPECT_TRUE(test, addr + len - 1 >= addr);
	if (iov) {
		/* A piece of the current segment, from where it stands. */
		KUNIT_ASSERT_LT(test, iov->i, iov->used);
		KUNIT_EXPECT_EQ(test, addr,
				iov->iov[iov->i].addr + iov->consumed);
		KUNIT_EXPECT_LE(test, len,
				iov->iov[iov->i].len - iov->consumed);
		KUNIT_EXPECT_EQ(test, !dst, iov == &t->wiov);
	} else {
		/* Outside a pull or a push: an indirect table is read. */
		KUNIT_EXPECT_NOT_NULL(test, dst);
	}
	if (dst)
		t->reads++;
	else
		t->writes++;
	if (t->fail_err && addr <= t->fail_addr && t->fail_addr - addr < len)
		return t->fail_err;

	while (len) {
		const struct vmt_window *w = vmt_window(t, addr);
		size_t n = len;
		u64 room;

		if (!w)
			return -EFAULT;
		room = w->size - (addr - w->bus);
		if (n > room)
			n = room;
		if (dst) {
			memcpy_fromio(dst, vmt_io(w, addr), n);
			dst += n;
		} else {
			memcpy_toio(vmt_io(w, addr), src, n);
			src += n;
		}
		addr += n;
		len -= n;
	}
	return 0;
}

static int vmt_read(const struct vringh *vrh, u64 addr, void *dst,
		    size_t len)
{
	return vmt_copy(vrh, addr, dst, NULL, len);
}

static int vmt_write(const struct vringh *vrh, u64 addr, const void *src,
		     size_t len)
{
	return vmt_copy(vrh, addr, NULL, src, len);
}

static const struct vringh_mmio_ops vmt_ops = {
	.map_ring = vmt_map_ring,
	.read = vmt_read,
	.write = vmt_write,
};

static u8 *vmt_add_window(struct kunit *test, u64 bus, size_t size, u8 *mem)
{
	struct vmt *t = test->priv;
	struct vmt_window *w;

	KUNIT_ASSERT_LT(test, t->nwin, VMT_WINDOWS);
	w = &t->win[t->nwin];
	w->owned = !mem;
	if (!mem)
		mem = kvzalloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	w->bus = bus;
	w->size = size;
	w->mem = mem;
	t->nwin++;
	return mem;
}

/*
 * Memory of the driver side.  virtio_ring does not use the DMA API for
 * this device, so its bus addresses are physical addresses.
 */
static u8 *vmt_add_ram(struct kunit *test, size_t size)
{
	struct vmt *t = test->priv;
	u8 *mem = kzalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, mem);
	vmt_add_window(test, virt_to_phys(mem), size, mem);
	t->win[t->nwin - 1].owned = true;
	return mem;
}

static bool vmt_notify(struct virtqueue *vq)
{
	struct vmt *t = container_of(vq->vdev, struct vmt, vdev);

	t->kicks++;
	return true;
}

static void vmt_callback(struct virtqueue *vq)
{
	struct vmt *t = container_of(vq->vdev, struct vmt, vdev);

	t->callbacks++;
}

static int vmt_init(struct kunit *test)
{
	struct vmt *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	t->test = test;
	vringh_mmiov_init(&t->riov, t->rvec, VMT_IOV);
	vringh_mmiov_init(&t->wiov, t->wvec, VMT_IOV);
	test->priv = t;
	return 0;
}

static void vmt_exit(struct kunit *test)
{
	struct vmt *t = test->priv;
	unsigned int i;

	if (t->vq) {
		while (virtqueue_detach_unused_buf(t->vq))
			;
		vring_del_virtqueue(t->vq);
	}
	vringh_mmiov_cleanup(&t->riov);
	vringh_mmiov_cleanup(&t->wiov);
	for (i = 0; i < t->nwin; i++)
		if (t->win[i].owned)
			kvfree(t->win[i].mem);
	kfree(t);
}

/*
 * A virtqueue of @num entries on the driver side, with @features; the ring
 * and an arena for buffers are in windows, and the device side is set up
 * on the same ring.
 */
static void vmt_setup(struct kunit *test, unsigned int num, u64 features)
{
	struct vmt *t = test->priv;
	struct vring vr;

	features |= BIT_ULL(VIRTIO_F_VERSION_1);
	t->vdev.features = features;
	INIT_LIST_HEAD(&t->vdev.vqs);
	spin_lock_init(&t->vdev.vqs_list_lock);

	KUNIT_ASSERT_LE(test, vring_size(num, VMT_ALIGN), VMT_RING_BYTES);
	t->ring = vmt_add_ram(test, VMT_RING_BYTES);
	t->arena = vmt_add_ram(test, VMT_ARENA_BYTES);

	t->vq = vring_new_virtqueue(0, num, VMT_ALIGN, &t->vdev, true, false,
				    t->ring, vmt_notify, vmt_callback, "vmt");
	KUNIT_ASSERT_NOT_NULL(test, t->vq);

	/* The addresses a transport would tell the device. */
	vring_init(&vr, num, t->ring, VMT_ALIGN);
	KUNIT_ASSERT_EQ(test, vringh_init_mmio(&t->vrh, features, num, true,
					       virt_to_phys(vr.desc),
					       virt_to_phys(vr.avail),
					       virt_to_phys(vr.used),
					       &vmt_ops), 0);
}

static int vmt_getdesc(struct vmt *t)
{
	return vringh_getdesc_mmio(&t->vrh, &t->riov, &t->wiov, &t->head,
				   GFP_KERNEL);
}

/* Pull and push, with vmt_copy() checking each piece against the mmiov. */
static ssize_t vmt_pull(struct vmt *t, void *dst, size_t len)
{
	ssize_t ret;

	t->xfer = &t->riov;
	ret = vringh_iov_pull_mmio(&t->vrh, &t->riov, dst, len);
	t->xfer = NULL;
	return ret;
}

static ssize_t vmt_push(struct vmt *t, const void *src, size_t len)
{
	ssize_t ret;

	t->xfer = &t->wiov;
	ret = vringh_iov_push_mmio(&t->vrh, &t->wiov, src, len);
	t->xfer = NULL;
	return ret;
}

static void vmt_fill(u8 *p, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = seed + i * 7;
}

/* Two readable and two writable buffers in one chain; data both ways. */
static void vmt_test_chain(struct kunit *test)
{
	struct vmt *t = test->priv;
	struct scatterlist sg[4], *sgs[4] = { &sg[0], &sg[1], &sg[2], &sg[3] };
	u8 req[40], resp[60], back[64];
	unsigned int len;
	u8 *a;

	vmt_setup(test, 16, 0);
	a = t->arena;
	vmt_fill(req, sizeof(req), 1);
	vmt_fill(resp, sizeof(resp), 99);
	memcpy(a, req, 3);
	memcpy(a + 256, req + 3, 37);
	sg_init_one(&sg[0], a, 3);
	sg_init_one(&sg[1], a + 256, 37);
	sg_init_one(&sg[2], a + 512, 20);
	sg_init_one(&sg[3], a + 1024, 50);
	KUNIT_ASSERT_EQ(test, virtqueue_add_sgs(t->vq, sgs, 2, 2, t,
						GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, virtqueue_kick(t->vq));
	KUNIT_EXPECT_EQ(test, t->kicks, 1);

	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 2);
	KUNIT_EXPECT_EQ(test, t->wiov.used, 2);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->riov), 40);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->wiov), 70);

	/* The segments are the buffers' bus addresses, nothing is read yet. */
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].addr, virt_to_phys(a));
	KUNIT_EXPECT_EQ(test, t->riov.iov[1].addr, virt_to_phys(a + 256));
	KUNIT_EXPECT_EQ(test, t->wiov.iov[0].addr, virt_to_phys(a + 512));
	KUNIT_EXPECT_EQ(test, t->wiov.iov[1].addr, virt_to_phys(a + 1024));
	KUNIT_EXPECT_EQ(test, t->wiov.iov[1].len, 50);
	KUNIT_EXPECT_EQ(test, t->reads, 0);

	/* Pull in odd pieces, across the segment boundary. */
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 2), 2);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back + 2, 64), 38);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 64), 0);
	KUNIT_EXPECT_MEMEQ(test, back, req, sizeof(req));
	KUNIT_EXPECT_EQ(test, t->reads, 3);
	vringh_mmiov_reset(&t->riov);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 64), 40);
	KUNIT_EXPECT_MEMEQ(test, back, req, sizeof(req));

	/* Push more than fits: only the 70 bytes of room are used. */
	KUNIT_EXPECT_EQ(test, vmt_push(t, resp, 25), 25);
	KUNIT_EXPECT_EQ(test, vmt_push(t, resp + 25, 35), 35);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->wiov), 10);
	KUNIT_EXPECT_EQ(test, t->writes, 3);
	/* The ring was mapped once, by vringh_init_mmio(). */
	KUNIT_EXPECT_EQ(test, t->maps, 3);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 60), 0);
	KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh), 1);
	vring_interrupt(0, t->vq);
	KUNIT_EXPECT_EQ(test, t->callbacks, 1);

	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len), (void *)t);
	KUNIT_EXPECT_EQ(test, len, 60);
	KUNIT_EXPECT_MEMEQ(test, a + 512, resp, 20);
	KUNIT_EXPECT_MEMEQ(test, a + 1024, resp + 20, 40);

	/* Nothing more. */
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 0);
	KUNIT_EXPECT_NULL(test, virtqueue_get_buf(t->vq, &len));
}

/* Several buffers in flight, completed out of order. */
static void vmt_test_out_of_order(struct kunit *test)
{
	struct vmt *t = test->priv;
	struct scatterlist sg;
	unsigned int i, len;
	u16 heads[3];
	u8 byte;

	vmt_setup(test, 4, 0);
	for (i = 0; i < 3; i++) {
		sg_init_one(&sg, t->arena + 64 * i, 8);
		KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1,
							  t->arena + i,
							  GFP_KERNEL), 0);
	}
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
		KUNIT_EXPECT_EQ(test, t->riov.used, 0);
		byte = i;
		KUNIT_EXPECT_EQ(test, vmt_push(t, &byte, 1), 1);
		heads[i] = t->head;
	}
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 0);

	/* Abandon gives the last one back. */
	vringh_abandon_mmio(&t->vrh, 1);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->head, heads[2]);

	for (i = 3; i-- > 0;) {
		KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, heads[i],
							   i + 1), 0);
		KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len),
				    (void *)(t->arena + i));
		KUNIT_EXPECT_EQ(test, len, i + 1);
		KUNIT_EXPECT_EQ(test, t->arena[64 * i], i);
	}
}

/* Indirect descriptors; the table is reachable only once in a window. */
static void vmt_test_indirect(struct kunit *test)
{
	struct vmt *t = test->priv;
	struct scatterlist sg[5], *sgs[5];
	struct vring_desc *desc;
	u8 back[5 * 16];
	unsigned int i, len;
	u64 table;

	vmt_setup(test, 8, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));
	for (i = 0; i < 5; i++) {
		vmt_fill(t->arena + 128 * i, 16, i);
		sg_init_one(&sg[i], t->arena + 128 * i, 16);
		sgs[i] = &sg[i];
	}
	KUNIT_ASSERT_EQ(test, virtqueue_add_sgs(t->vq, sgs, 3, 2, t,
						GFP_KERNEL), 0);

	/* virtio_ring put the chain in a table of its own. */
	desc = (struct vring_desc *)t->ring;
	KUNIT_ASSERT_EQ(test, virtqueue_get_vring_size(t->vq), 8);
	KUNIT_ASSERT_TRUE(test, le16_to_cpu((__force __le16)desc[0].flags) &
			  VRING_DESC_F_INDIRECT);
	table = le64_to_cpu((__force __le64)desc[0].addr);
	KUNIT_EXPECT_EQ(test, le32_to_cpu((__force __le32)desc[0].len),
			5 * sizeof(struct vring_desc));

	/* Not in a window yet: it cannot be read. */
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EFAULT);
	KUNIT_EXPECT_EQ(test, t->head, 0);
	KUNIT_EXPECT_EQ(test, t->riov.used, 0);
	KUNIT_EXPECT_EQ(test, t->wiov.used, 0);
	vringh_abandon_mmio(&t->vrh, 1);

	vmt_add_window(test, table, 5 * sizeof(struct vring_desc),
		       phys_to_virt(table));
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 3);
	KUNIT_EXPECT_EQ(test, t->wiov.used, 2);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 48), 48);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_MEMEQ(test, back + 16 * i, t->arena + 128 * i, 16);
	vmt_fill(back, 32, 200);
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 32), 32);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 32), 0);

	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len), (void *)t);
	KUNIT_EXPECT_EQ(test, len, 32);
	KUNIT_EXPECT_MEMEQ(test, t->arena + 128 * 3, back, 16);
	KUNIT_EXPECT_MEMEQ(test, t->arena + 128 * 4, back + 16, 16);
}

/* VIRTIO_RING_F_EVENT_IDX: both directions of notification suppression. */
static void vmt_test_event_idx(struct kunit *test)
{
	static const int want[8] = { 0, 0, 0, 0, 0, 0, 1, 0 };
	struct vmt *t = test->priv;
	struct scatterlist sg;
	unsigned int i, len;

	vmt_setup(test, 16, BIT_ULL(VIRTIO_RING_F_EVENT_IDX));

	/* Kicks: only when the device asked, at the index it asked. */
	KUNIT_EXPECT_TRUE(test, vringh_notify_enable_mmio(&t->vrh));
	sg_init_one(&sg, t->arena, 8);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	virtqueue_kick(t->vq);
	KUNIT_EXPECT_EQ(test, t->kicks, 1);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	virtqueue_kick(t->vq);
	KUNIT_EXPECT_EQ(test, t->kicks, 1);

	/* The device catches up, then sleeps again: next add kicks. */
	vringh_notify_disable_mmio(&t->vrh);
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
		KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0),
				0);
	}
	KUNIT_EXPECT_TRUE(test, vringh_notify_enable_mmio(&t->vrh));
	/* Not in time for vringh_notify_enable_mmio(): it says so. */
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	KUNIT_EXPECT_FALSE(test, vringh_notify_enable_mmio(&t->vrh));
	virtqueue_kick(t->vq);
	KUNIT_EXPECT_EQ(test, t->kicks, 2);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);
	KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh), 1);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len),
				    (void *)t);

	/*
	 * Callbacks: with 8 buffers outstanding, virtqueue_enable_cb_delayed()
	 * asks for an interrupt after 3/4 of them, i.e. at the 7th.
	 */
	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
							  GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, virtqueue_enable_cb_delayed(t->vq));
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
		KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0),
				0);
		KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh),
				want[i]);
	}
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len),
				    (void *)t);

	/* virtqueue_enable_cb(): the next buffer is worth a callback. */
	KUNIT_EXPECT_TRUE(test, virtqueue_enable_cb(t->vq));
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);
	KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh), 1);
	vring_interrupt(0, t->vq);
	KUNIT_EXPECT_EQ(test, t->callbacks, 1);
}

/* Without VIRTIO_RING_F_EVENT_IDX: the flags of both rings. */
static void vmt_test_flags(struct kunit *test)
{
	struct vmt *t = test->priv;
	struct scatterlist sg;
	unsigned int len;

	vmt_setup(test, 8, 0);
	sg_init_one(&sg, t->arena, 8);

	vringh_notify_disable_mmio(&t->vrh);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	virtqueue_kick(t->vq);
	KUNIT_EXPECT_EQ(test, t->kicks, 0);
	KUNIT_EXPECT_FALSE(test, vringh_notify_enable_mmio(&t->vrh));
	virtqueue_kick(t->vq);
	KUNIT_EXPECT_EQ(test, t->kicks, 1);

	virtqueue_disable_cb(t->vq);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);
	KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh), 0);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(t->vq, &len), (void *)t);

	KUNIT_EXPECT_TRUE(test, virtqueue_enable_cb(t->vq));
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(t->vq, &sg, 1, t,
						  GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);
	KUNIT_EXPECT_EQ(test, vringh_need_notify_mmio(&t->vrh), 1);
}

/*
 * More than 65536 buffers through a ring of 8, three at a time (six
 * descriptors), completed together: the 16-bit indices and event indices wrap, and so does the
 * used ring within a vringh_complete_multi_mmio().
 */
#define VMT_WRAP_BATCH	3
#define VMT_WRAP_ROUNDS	(70000 / VMT_WRAP_BATCH)

static bool vmt_wrap_round(struct kunit *test, u32 round)
{
	struct vmt *t = test->priv;
	struct vring_used_elem used[VMT_WRAP_BATCH];
	struct scatterlist sg[2], *sgs[2] = { &sg[0], &sg[1] };
	unsigned int i, len, kicks = t->kicks;
	__le32 *buf = (__le32 *)t->arena;
	__le32 val;
	void *token;

	for (i = 0; i < VMT_WRAP_BATCH; i++) {
		buf[2 * i] = cpu_to_le32(round * VMT_WRAP_BATCH + i);
		buf[2 * i + 1] = 0;
		sg_init_one(&sg[0], &buf[2 * i], 4);
		sg_init_one(&sg[1], &buf[2 * i + 1], 4);
		if (virtqueue_add_sgs(t->vq, sgs, 1, 1, &buf[2 * i],
				      GFP_KERNEL))
			return false;
	}
	virtqueue_kick(t->vq);
	if (t->kicks != kicks + 1 || !virtqueue_enable_cb(t->vq))
		return false;

	for (i = 0; i < VMT_WRAP_BATCH; i++) {
		if (vmt_getdesc(t) != 1 || vmt_pull(t, &val, 4) != 4 ||
		    le32_to_cpu(val) != round * VMT_WRAP_BATCH + i)
			return false;
		val = cpu_to_le32(~le32_to_cpu(val));
		if (vmt_push(t, &val, 4) != 4)
			return false;
		used[i].id = cpu_to_vringh32(&t->vrh, t->head);
		used[i].len = cpu_to_vringh32(&t->vrh, 4);
	}
	if (vmt_getdesc(t) != 0 || !vringh_notify_enable_mmio(&t->vrh) ||
	    vringh_complete_multi_mmio(&t->vrh, used, VMT_WRAP_BATCH) ||
	    vringh_need_notify_mmio(&t->vrh) != 1)
		return false;

	vring_interrupt(0, t->vq);
	for (i = 0; i < VMT_WRAP_BATCH; i++) {
		token = virtqueue_get_buf(t->vq, &len);
		if (token != &buf[2 * i] || len != 4 ||
		    le32_to_cpu(buf[2 * i + 1]) != ~(round * VMT_WRAP_BATCH + i))
			return false;
	}
	return true;
}

static void vmt_test_wrap(struct kunit *test)
{
	struct vmt *t = test->priv;
	u32 round;

	vmt_setup(test, 8, BIT_ULL(VIRTIO_RING_F_EVENT_IDX));
	KUNIT_ASSERT_TRUE(test, vringh_notify_enable_mmio(&t->vrh));
	for (round = 0; round < VMT_WRAP_ROUNDS; round++) {
		if (!vmt_wrap_round(test, round)) {
			KUNIT_FAIL(test, "round %u went wrong", round);
			return;
		}
		if (!(round % 1024))
			cond_resched();
	}
	KUNIT_EXPECT_EQ(test, t->kicks, VMT_WRAP_ROUNDS);
	KUNIT_EXPECT_EQ(test, t->callbacks, VMT_WRAP_ROUNDS);
	KUNIT_EXPECT_EQ(test, t->vrh.last_avail_idx,
			(VMT_WRAP_ROUNDS * VMT_WRAP_BATCH) & 0xffff);
	KUNIT_EXPECT_EQ(test, t->vrh.last_used_idx,
			(VMT_WRAP_ROUNDS * VMT_WRAP_BATCH) & 0xffff);
}

/* Ring sizes and ring addresses vringh_init_mmio() must refuse. */
static void vmt_test_init(struct kunit *test)
{
	static const unsigned int bad[] = { 0, 3, 6, 100, 65536, 65535,
					    1u << 31 };
	struct vmt *t = test->priv;
	const u64 desc = 1ULL << 32, avail = desc + 16 * 32768;
	const u64 used = avail + 0x10008;
	const size_t big = used + 8 * 32768 + 8 - desc;
	unsigned int i;

	vmt_add_window(test, HR_RING, HR_RING_BYTES, NULL);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, bad[i], true,
						       HR_RING, HR_AVAIL,
						       HR_USED, &vmt_ops),
				-EINVAL);
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING, HR_AVAIL, HR_USED,
					       &vmt_ops), 0);

	/* Misaligned parts. */
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING + 8, HR_AVAIL, HR_USED,
					       &vmt_ops), -EINVAL);
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING, HR_AVAIL + 1, HR_USED,
					       &vmt_ops), -EINVAL);
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING, HR_AVAIL, HR_USED + 2,
					       &vmt_ops), -EINVAL);

	/* Outside a window, across its end, wrapping around 2^64. */
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_NOWHERE, HR_AVAIL, HR_USED,
					       &vmt_ops), -EFAULT);
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING, HR_AVAIL,
					       HR_RING + HR_RING_BYTES - 16,
					       &vmt_ops), -EFAULT);
	KUNIT_EXPECT_LT(test, vringh_init_mmio(&t->vrh, 0, HR_NUM, true,
					       HR_RING, -16ULL, HR_USED,
					       &vmt_ops), 0);

	/* The largest ring virtio allows. */
	vmt_add_window(test, desc, big, NULL);
	KUNIT_EXPECT_EQ(test, vringh_init_mmio(&t->vrh, 0, 32768, true,
					       desc, avail, used,
					       &vmt_ops), 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 0);
}

/*
 * Hand-written rings: a ring of HR_NUM in one window, buffer windows A and
 * B adjacent in bus space (but not in the test's memory) and C alone.
 */
static void hr_setup(struct kunit *test, u64 features)
{
	struct vmt *t = test->priv;

	vmt_add_window(test, HR_RING, HR_RING_BYTES, NULL);
	vmt_add_window(test, HR_A, HR_WIN_BYTES, NULL);
	vmt_add_window(test, HR_B, HR_WIN_BYTES, NULL);
	vmt_add_window(test, HR_C, HR_C_BYTES, NULL);
	features |= BIT_ULL(VIRTIO_F_VERSION_1);
	KUNIT_ASSERT_EQ(test, vringh_init_mmio(&t->vrh, features, HR_NUM, true,
					       HR_RING, HR_AVAIL, HR_USED,
					       &vmt_ops), 0);
}

/* The test's memory behind a made-up bus address. */
static void *hr_mem(struct kunit *test, u64 bus)
{
	struct vmt *t = test->priv;
	unsigned int i;

	for (i = 0; i < t->nwin; i++)
		if (bus >= t->win[i].bus && bus < t->win[i].bus + t->win[i].size)
			return t->win[i].mem + (bus - t->win[i].bus);
	KUNIT_FAIL_AND_ABORT(test, "no window at 0x%llx",
			     (unsigned long long)bus);
	return NULL;
}

/* Write a descriptor as the driver would, into the table at @table. */
static void hr_desc(struct kunit *test, u64 table, unsigned int i, u64 addr,
		    u32 len, u16 flags, u16 next)
{
	struct vring_desc *d = hr_mem(test, table + 16 * i);

	d->addr = (__force __virtio64)cpu_to_le64(addr);
	d->len = (__force __virtio32)cpu_to_le32(len);
	d->flags = (__force __virtio16)cpu_to_le16(flags);
	d->next = (__force __virtio16)cpu_to_le16(next);
}

/* Make @head available as entry @idx, and set the avail index to @avail. */
static void hr_avail(struct kunit *test, u16 idx, u16 head, u16 avail)
{
	__le16 *a = hr_mem(test, HR_AVAIL);

	a[2 + idx % HR_NUM] = cpu_to_le16(head);
	a[1] = cpu_to_le16(avail);
}

static void hr_post(struct kunit *test, u16 head)
{
	struct vmt *t = test->priv;

	hr_avail(test, t->vrh.last_avail_idx, head, t->vrh.last_avail_idx + 1);
}

/*
 * Buffers that no window holds: vringh_getdesc_mmio() hands them out, as
 * it cannot know, and the pull or the push fails with -EFAULT, leaving the
 * mmiov at the piece that failed.
 */
static void vmt_test_bad_addr(struct kunit *test)
{
	struct vmt *t = test->priv;
	u8 *a, *b, *c, back[32];

	hr_setup(test, 0);

	/* Outside every window, readable then writable. */
	hr_desc(test, HR_RING, 0, HR_NOWHERE, 16, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 1, HR_NOWHERE + 64, 8, VRING_DESC_F_WRITE, 0);
	hr_post(test, 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_ASSERT_EQ(test, t->riov.used, 1);
	KUNIT_ASSERT_EQ(test, t->wiov.used, 1);
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].addr, HR_NOWHERE);
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].len, 16);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), -EFAULT);
	KUNIT_EXPECT_EQ(test, t->riov.i, 0);
	KUNIT_EXPECT_EQ(test, t->riov.consumed, 0);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->riov), 16);
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 32), -EFAULT);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->wiov), 8);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);

	/* Starting in C, ending beyond it: its first bytes can be copied. */
	c = hr_mem(test, HR_C + HR_C_BYTES - 16);
	vmt_fill(c, 16, 33);
	hr_desc(test, HR_RING, 2, HR_C + HR_C_BYTES - 16, 32, 0, 0);
	hr_post(test, 2);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 1);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), -EFAULT);
	KUNIT_EXPECT_EQ(test, t->riov.consumed, 0);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 16), 16);
	KUNIT_EXPECT_MEMEQ(test, back, c, 16);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 16), -EFAULT);
	KUNIT_EXPECT_EQ(test, t->riov.i, 0);
	KUNIT_EXPECT_EQ(test, t->riov.consumed, 16);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->riov), 16);

	/* Wrapping around 2^64: refused by the walk itself. */
	hr_desc(test, HR_RING, 3, -16ULL, 32, 0, 0);
	hr_post(test, 3);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->riov.used, 0);

	/*
	 * Ending at 2^64 is no wrap; nothing is there, though.  (A 32-bit
	 * system keeps bus addresses in pointers: it cannot go there.)
	 */
	hr_desc(test, HR_RING, 4, -16ULL, 16, 0, 0);
	hr_post(test, 4);
	if (sizeof(unsigned long) < sizeof(u64)) {
		KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	} else {
		KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
		KUNIT_EXPECT_EQ(test, t->riov.iov[0].addr, -16UL);
		KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), -EFAULT);
	}

	/* Across A and B, which are adjacent: one segment, both windows. */
	a = hr_mem(test, HR_B - 16);
	b = hr_mem(test, HR_B);
	vmt_fill(a, 16, 1);
	vmt_fill(b, 16, 17);
	hr_desc(test, HR_RING, 5, HR_B - 16, 32, 0, 0);
	hr_post(test, 5);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->head, 5);
	KUNIT_EXPECT_EQ(test, t->riov.used, 1);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), 32);
	KUNIT_EXPECT_MEMEQ(test, back, a, 16);
	KUNIT_EXPECT_MEMEQ(test, back + 16, b, 16);
}

/*
 * A copy that fails for another reason (a DMA error, say): its errno, not
 * a count, and the mmiov left at the piece that failed, so that the copy
 * can go on from there.
 */
static void vmt_test_copy_errors(struct kunit *test)
{
	struct vmt *t = test->priv;
	u8 back[32];

	hr_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));
	vmt_fill(hr_mem(test, HR_A), 16, 1);
	vmt_fill(hr_mem(test, HR_B), 16, 17);
	hr_desc(test, HR_RING, 0, HR_A, 16, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 1, HR_B, 16, VRING_DESC_F_NEXT, 2);
	hr_desc(test, HR_RING, 2, HR_C, 16, VRING_DESC_F_WRITE, 0);
	hr_post(test, 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_ASSERT_EQ(test, t->riov.used, 2);

	t->fail_addr = HR_B + 4;
	t->fail_err = -EIO;
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), -EIO);
	KUNIT_EXPECT_MEMEQ(test, back, hr_mem(test, HR_A), 16);
	KUNIT_EXPECT_EQ(test, t->riov.i, 1);
	KUNIT_EXPECT_EQ(test, t->riov.consumed, 0);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 4), 4);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back + 4, 12), -EIO);
	KUNIT_EXPECT_EQ(test, t->riov.i, 1);
	KUNIT_EXPECT_EQ(test, t->riov.consumed, 4);
	t->fail_err = 0;
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back + 4, 32), 12);
	KUNIT_EXPECT_MEMEQ(test, back, hr_mem(test, HR_B), 16);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->riov), 0);

	t->fail_addr = HR_C + 15;
	t->fail_err = -ETIMEDOUT;
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 32), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, t->wiov.i, 0);
	KUNIT_EXPECT_EQ(test, t->wiov.consumed, 0);
	KUNIT_EXPECT_EQ(test, vringh_mmiov_length(&t->wiov), 16);
	t->fail_err = 0;
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 32), 16);
	KUNIT_EXPECT_MEMEQ(test, hr_mem(test, HR_C), back, 16);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 16), 0);

	/* An indirect table that cannot be read: getdesc gives the errno. */
	hr_desc(test, HR_C + 64, 0, HR_A, 8, 0, 0);
	hr_desc(test, HR_RING, 3, HR_C + 64, 16, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 3);
	t->fail_addr = HR_C + 64;
	t->fail_err = -EIO;
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EIO);
	KUNIT_EXPECT_EQ(test, t->head, 3);
	KUNIT_EXPECT_EQ(test, t->riov.used, 0);
	vringh_abandon_mmio(&t->vrh, 1);
	t->fail_err = 0;
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->head, 3);
	KUNIT_EXPECT_EQ(test, t->riov.used, 1);
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].addr, HR_A);

	/* Nothing but the ring was mapped, once. */
	KUNIT_EXPECT_EQ(test, t->maps, 3);
}

static void vmt_test_loops(struct kunit *test)
{
	struct vmt *t = test->priv;
	unsigned int i;

	hr_setup(test, 0);

	/* 0 -> 1 -> 0 */
	hr_desc(test, HR_RING, 0, HR_A, 8, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 1, HR_A, 8, VRING_DESC_F_NEXT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/* Every descriptor, then back to the first: longer than the ring. */
	for (i = 0; i < HR_NUM; i++)
		hr_desc(test, HR_RING, i, HR_A, 8, VRING_DESC_F_NEXT,
			(i + 1) % HR_NUM);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/* A loop on itself. */
	hr_desc(test, HR_RING, 5, HR_A, 8, VRING_DESC_F_NEXT, 5);
	hr_post(test, 5);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/* The whole ring as one chain is fine. */
	for (i = 0; i < HR_NUM; i++)
		hr_desc(test, HR_RING, i, HR_A, 8,
			i < HR_NUM - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, HR_NUM);
}

static void vmt_test_bad_index(struct kunit *test)
{
	struct vmt *t = test->priv;
	u16 last;

	hr_setup(test, 0);

	/* Next beyond the ring. */
	hr_desc(test, HR_RING, 0, HR_A, 8, VRING_DESC_F_NEXT, HR_NUM);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/* Head beyond the ring: the ring is broken, *head says so. */
	hr_post(test, HR_NUM);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->head, HR_NUM);

	/* Avail index more than a ring ahead, also across the wrap. */
	last = t->vrh.last_avail_idx;
	hr_desc(test, HR_RING, 0, HR_A, 8, 0, 0);
	hr_avail(test, last, 0, last + HR_NUM + 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->head, HR_NUM);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->vrh.last_avail_idx, last);
	hr_avail(test, last, 0, last - 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/* A whole ring ahead is fine. */
	t->vrh.last_avail_idx = 0xfffc;
	hr_avail(test, 0xfffc, 0, (0xfffc + HR_NUM) & 0xffff);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 1);
}

static void vmt_test_zero_len(struct kunit *test)
{
	struct vmt *t = test->priv;
	u8 back[8];

	hr_setup(test, 0);

	/* vringh gives a zero-length descriptor as an empty segment. */
	hr_desc(test, HR_RING, 0, HR_A + 16, 0, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 1, HR_A + 32, 0, VRING_DESC_F_WRITE, 0);
	hr_post(test, 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 1);
	KUNIT_EXPECT_EQ(test, t->wiov.used, 1);
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].len, 0);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 8), 0);
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 8), 0);
	KUNIT_EXPECT_EQ(test, vringh_complete_mmio(&t->vrh, t->head, 0), 0);

	/*
	 * Out of every window: there is nothing to reach.  The segment is
	 * handed out and gone through without a read or a write.
	 */
	hr_desc(test, HR_RING, 2, HR_NOWHERE, 0, VRING_DESC_F_NEXT, 3);
	hr_desc(test, HR_RING, 3, HR_NOWHERE, 0, VRING_DESC_F_WRITE, 0);
	hr_post(test, 2);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_ASSERT_EQ(test, t->riov.used, 1);
	KUNIT_EXPECT_EQ(test, t->riov.iov[0].addr, HR_NOWHERE);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 8), 0);
	KUNIT_EXPECT_EQ(test, t->riov.i, 1);
	KUNIT_EXPECT_EQ(test, vmt_push(t, back, 8), 0);
	KUNIT_EXPECT_EQ(test, t->wiov.i, 1);
	KUNIT_EXPECT_EQ(test, t->reads, 0);
	KUNIT_EXPECT_EQ(test, t->writes, 0);
}

static void vmt_test_bad_indirect(struct kunit *test)
{
	struct vmt *t = test->priv;
	unsigned int i;
	u8 back[32];

	hr_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	/* A table length that is not a number of descriptors. */
	hr_desc(test, HR_C, 0, HR_A, 8, 0, 0);
	hr_desc(test, HR_RING, 0, HR_C, 24, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/* An empty table: its first entry already exceeds it. */
	hr_desc(test, HR_RING, 0, HR_C, 0, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/* ... and if there is no room for a descriptor in the window. */
	hr_desc(test, HR_RING, 0, HR_C + HR_C_BYTES - 8, 0,
		VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EFAULT);

	/* A table in no window, or running out of its window. */
	hr_desc(test, HR_RING, 0, HR_NOWHERE, 16, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EFAULT);
	hr_desc(test, HR_C + HR_C_BYTES - 16, 0, HR_A, 8, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 0, HR_C + HR_C_BYTES - 16, 32,
		VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EFAULT);
	KUNIT_EXPECT_EQ(test, t->riov.used, 0);

	/*
	 * A table at the end of the bus: wrapping, refused by the walk;
	 * ending at 2^64, not in a window; empty, with its first entry
	 * wrapping, refused before it is read.  (Beyond the reach of a
	 * 32-bit system's pointers, where the walk refuses them all.)
	 */
	hr_desc(test, HR_RING, 0, -16ULL, 32, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);
	hr_desc(test, HR_RING, 0, -16ULL, 16, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t),
			sizeof(unsigned long) < sizeof(u64) ? -EINVAL : -EFAULT);
	hr_desc(test, HR_RING, 0, -8ULL, 0, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t),
			sizeof(unsigned long) < sizeof(u64) ? -EINVAL : -EFAULT);

	/* An indirect descriptor in an indirect table. */
	hr_desc(test, HR_C, 0, HR_C + 32, 16, VRING_DESC_F_INDIRECT, 0);
	hr_desc(test, HR_RING, 0, HR_C, 16, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/* A loop in the table. */
	hr_desc(test, HR_C, 0, HR_A, 8, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_C, 1, HR_A, 8, VRING_DESC_F_NEXT, 0);
	hr_desc(test, HR_RING, 0, HR_C, 32, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/* Next beyond the table. */
	hr_desc(test, HR_C, 1, HR_A, 8, VRING_DESC_F_NEXT, 2);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/*
	 * A table that a 16-bit next cannot walk, and a loop in the largest
	 * table that it can: found once every entry could have been seen.
	 */
	hr_desc(test, HR_RING, 0, HR_C, 16 * 65537, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -E2BIG);
	hr_desc(test, HR_C, 1, HR_A, 8, VRING_DESC_F_NEXT, 0);
	hr_desc(test, HR_RING, 0, HR_C, 16 * 65536, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/*
	 * A table across windows A and B works (one descriptor in each).
	 * So does a table longer than the ring: vringh bounds a chain in a
	 * table by the table's length, not by the size of the ring.
	 */
	hr_desc(test, HR_B - 16, 0, HR_A, 16, VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_B - 16, 1, HR_B + 64, 16, 0, 0);
	vmt_fill(hr_mem(test, HR_A), 16, 5);
	vmt_fill(hr_mem(test, HR_B + 64), 16, 21);
	hr_desc(test, HR_RING, 0, HR_B - 16, 32, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 0);
	KUNIT_ASSERT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 2);
	KUNIT_EXPECT_EQ(test, vmt_pull(t, back, 32), 32);
	KUNIT_EXPECT_MEMEQ(test, back, hr_mem(test, HR_A), 16);
	KUNIT_EXPECT_MEMEQ(test, back + 16, hr_mem(test, HR_B + 64), 16);

	for (i = 0; i < 2 * HR_NUM; i++)
		hr_desc(test, HR_A + 256, i, HR_B, 4,
			i < 2 * HR_NUM - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	hr_desc(test, HR_RING, 1, HR_A + 256, 32 * HR_NUM,
		VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 2 * HR_NUM);
}

/* Loops and lengths across several indirect tables of one chain. */
static void vmt_test_tables(struct kunit *test)
{
	const u64 big = 0x1000000, entries = USHRT_MAX + 1;
	struct vmt *t = test->priv;
	unsigned int i;

	hr_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	/*
	 * Two tables, each going on with the other: a loop in the ring.
	 * (vringh ends a chain when a table goes on with descriptor 0.)
	 */
	hr_desc(test, HR_C, 0, HR_A, 8, 0, 0);
	hr_desc(test, HR_RING, 1, HR_C, 16, VRING_DESC_F_INDIRECT |
		VRING_DESC_F_NEXT, 2);
	hr_desc(test, HR_RING, 2, HR_C, 16, VRING_DESC_F_INDIRECT |
		VRING_DESC_F_NEXT, 1);
	hr_post(test, 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -ELOOP);

	/*
	 * Without a loop, but more segments than a ring and a table of
	 * 2^16 can make: twice the largest table, and one more.
	 */
	vmt_add_window(test, big, entries * 16, NULL);
	for (i = 0; i < entries; i++)
		hr_desc(test, big, i, HR_A, 0,
			i < entries - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	hr_desc(test, HR_RING, 1, big, entries * 16, VRING_DESC_F_INDIRECT |
		VRING_DESC_F_NEXT, 2);
	hr_desc(test, HR_RING, 2, big, entries * 16, VRING_DESC_F_INDIRECT |
		VRING_DESC_F_NEXT, 3);
	hr_desc(test, HR_RING, 3, HR_A, 8, 0, 0);
	hr_post(test, 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -E2BIG);

	/* Twice the largest table is still fine. */
	hr_desc(test, HR_RING, 2, big, entries * 16, VRING_DESC_F_INDIRECT, 0);
	hr_post(test, 1);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), 1);
	KUNIT_EXPECT_EQ(test, t->riov.used, 2 * entries);
}

static void vmt_test_bad_order(struct kunit *test)
{
	struct vmt *t = test->priv;
	struct vring_used_elem used[HR_NUM + 1] = {};

	hr_setup(test, 0);

	/* Readable after writable. */
	hr_desc(test, HR_RING, 0, HR_A, 8, VRING_DESC_F_WRITE |
		VRING_DESC_F_NEXT, 1);
	hr_desc(test, HR_RING, 1, HR_A, 8, 0, 0);
	hr_post(test, 0);
	KUNIT_EXPECT_EQ(test, vmt_getdesc(t), -EINVAL);

	/* Writable when the caller takes none. */
	hr_desc(test, HR_RING, 2, HR_A, 8, VRING_DESC_F_WRITE, 0);
	hr_post(test, 2);
	KUNIT_EXPECT_EQ(test, vringh_getdesc_mmio(&t->vrh, &t->riov, NULL,
						  &t->head, GFP_KERNEL),
			-EPROTO);

	/* Completing more than the ring holds. */
	KUNIT_EXPECT_EQ(test, vringh_complete_multi_mmio(&t->vrh, used,
							 HR_NUM + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, vringh_complete_multi_mmio(&t->vrh, used,
							 HR_NUM), 0);
}

static struct kunit_case vringh_mmio_cases[] = {
	KUNIT_CASE(vmt_test_chain),
	KUNIT_CASE(vmt_test_out_of_order),
	KUNIT_CASE(vmt_test_indirect),
	KUNIT_CASE(vmt_test_event_idx),
	KUNIT_CASE(vmt_test_flags),
	KUNIT_CASE(vmt_test_wrap),
	KUNIT_CASE(vmt_test_init),
	KUNIT_CASE(vmt_test_bad_addr),
	KUNIT_CASE(vmt_test_copy_errors),
	KUNIT_CASE(vmt_test_loops),
	KUNIT_CASE(vmt_test_bad_index),
	KUNIT_CASE(vmt_test_zero_len),
	KUNIT_CASE(vmt_test_bad_indirect),
	KUNIT_CASE(vmt_test_tables),
	KUNIT_CASE(vmt_test_bad_order),
	{}
};

static struct kunit_suite vringh_mmio_suite = {
	.name = "vringh_mmio",
	.init = vmt_init,
	.exit = vmt_exit,
	.test_cases = vringh_mmio_cases,
};

kunit_test_suite(vringh_mmio_suite);

MODULE_DESCRIPTION("KUnit tests of vringh on rings behind MMIO windows");
MODULE_LICENSE("GPL");
