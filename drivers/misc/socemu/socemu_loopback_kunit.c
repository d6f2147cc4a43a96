// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit self-test of the emulated SoC link in the one-VM topology: the
 * window aliases this VM's own RAM and two doorbell devices sit on one
 * ivshmem server, so both ends of every transfer are observable here.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/io.h>
#include <linux/slab.h>
#include <linux/socemu.h>

#define BUF_SIZE	(2 * PAGE_SIZE)
#define RING_TIMEOUT	(10 * HZ)

struct loopback_ctx {
	struct socemu_window *win;
	struct socemu_doorbell *db[2];
	struct completion rung[2];
	unsigned int vector[2];
};

static void loopback_ring_fn(struct socemu_doorbell *db, unsigned int vector,
			     void *data)
{
	struct loopback_ctx *ctx = data;
	int i = db == ctx->db[1];

	ctx->vector[i] = vector;
	complete(&ctx->rung[i]);
}

static int loopback_init(struct kunit *test)
{
	struct loopback_ctx *ctx;
	int i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	test->priv = ctx;
	ctx->win = socemu_window_get(0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->win);
	for (i = 0; i < 2; i++) {
		ctx->db[i] = socemu_doorbell_get(i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->db[i]);
		init_completion(&ctx->rung[i]);
		socemu_doorbell_set_handler(ctx->db[i], loopback_ring_fn, ctx);
	}
	return 0;
}

static void loopback_exit(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	int i;

	if (!ctx)
		return;
	for (i = 0; i < 2; i++)
		if (!IS_ERR_OR_NULL(ctx->db[i]))
			socemu_doorbell_put(ctx->db[i]);
	if (!IS_ERR_OR_NULL(ctx->win))
		socemu_window_put(ctx->win);
}

static u8 pattern(unsigned int i, u8 seed)
{
	return (i * 131 + seed) ^ (i >> 8);
}

/* Bytes written through the window land in RAM at the same address. */
static void window_write_lands_in_ram(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	void __iomem *map;
	unsigned int i;
	u8 *buf;

	buf = kunit_kzalloc(test, BUF_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	map = socemu_window_map(ctx->win, virt_to_phys(buf), BUF_SIZE);
	KUNIT_ASSERT_TRUE(test, map);
	for (i = 0; i < BUF_SIZE; i++)
		iowrite8(pattern(i, 7), map + i);
	socemu_window_unmap(ctx->win, map);
	for (i = 0; i < BUF_SIZE; i++)
		KUNIT_ASSERT_EQ_MSG(test, buf[i], pattern(i, 7), "byte %u", i);
}

/* Bytes written to RAM are read back through the window. */
static void ram_write_reads_through_window(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	void __iomem *map;
	unsigned int i;
	u8 *buf, *copy;

	buf = kunit_kmalloc(test, BUF_SIZE, GFP_KERNEL);
	copy = kunit_kzalloc(test, BUF_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	for (i = 0; i < BUF_SIZE; i++)
		buf[i] = pattern(i, 91);
	map = socemu_window_map(ctx->win, virt_to_phys(buf), BUF_SIZE);
	KUNIT_ASSERT_TRUE(test, map);
	memcpy_fromio(copy, map, BUF_SIZE);
	socemu_window_unmap(ctx->win, map);
	KUNIT_EXPECT_MEMEQ(test, copy, buf, BUF_SIZE);
}

static bool window_maps(struct socemu_window *win, u64 remote, size_t size)
{
	void __iomem *map = socemu_window_map(win, remote, size);

	if (map)
		socemu_window_unmap(win, map);
	return map;
}

/* Ranges that leave the window are refused, including wrap-around. */
static void window_refuses_outside_ranges(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	u64 size = socemu_window_size(ctx->win);

	KUNIT_ASSERT_GT(test, size, 0);
	KUNIT_EXPECT_TRUE(test, window_maps(ctx->win, size - 8, 8));
	KUNIT_EXPECT_FALSE(test, window_maps(ctx->win, size, 1));
	KUNIT_EXPECT_FALSE(test, window_maps(ctx->win, size - 8, 16));
	KUNIT_EXPECT_FALSE(test, window_maps(ctx->win, U64_MAX - 3, 8));
	KUNIT_EXPECT_FALSE(test, window_maps(ctx->win, 0, 0));
}

/* Each doorbell rings each vector of the other; the interrupt arrives. */
static void doorbell_rings_other_device(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	unsigned int nvec = socemu_doorbell_vectors(ctx->db[0]);
	unsigned int v;
	int from;

	KUNIT_ASSERT_GE(test, nvec, 1);
	KUNIT_ASSERT_NE(test, socemu_doorbell_id(ctx->db[0]),
			socemu_doorbell_id(ctx->db[1]));
	for (from = 0; from < 2; from++) {
		int to = !from;

		for (v = 0; v < nvec; v++) {
			reinit_completion(&ctx->rung[to]);
			KUNIT_ASSERT_EQ(test, 0,
					socemu_doorbell_ring(ctx->db[from],
							     socemu_doorbell_id(ctx->db[to]),
							     v));
			KUNIT_ASSERT_GT_MSG(test,
					    wait_for_completion_timeout(&ctx->rung[to],
									RING_TIMEOUT),
					    0, "doorbell %d vector %u never arrived",
					    to, v);
			KUNIT_EXPECT_EQ(test, ctx->vector[to], v);
			KUNIT_EXPECT_FALSE(test, completion_done(&ctx->rung[from]));
		}
	}
}

/* A vector the device does not have is refused and nothing is rung. */
static void doorbell_refuses_bad_vector(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	unsigned int nvec = socemu_doorbell_vectors(ctx->db[0]);

	reinit_completion(&ctx->rung[1]);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			socemu_doorbell_ring(ctx->db[0],
					     socemu_doorbell_id(ctx->db[1]),
					     nvec));
	KUNIT_EXPECT_EQ(test, 0,
			wait_for_completion_timeout(&ctx->rung[1], HZ / 2));
}

/* A device has one consumer at a time; an unknown index does not exist. */
static void devices_are_claimed_once(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, socemu_window_get(0), ERR_PTR(-EBUSY));
	KUNIT_EXPECT_PTR_EQ(test, socemu_doorbell_get(0), ERR_PTR(-EBUSY));
	KUNIT_EXPECT_PTR_EQ(test, socemu_window_get(7), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, socemu_doorbell_get(7), ERR_PTR(-ENODEV));
}

/* Both doorbells see the same shared region. */
static void shared_region_is_shared(struct kunit *test)
{
	struct loopback_ctx *ctx = test->priv;
	void __iomem *a, *b;
	size_t sa, sb;

	a = socemu_doorbell_shm(ctx->db[0], &sa);
	b = socemu_doorbell_shm(ctx->db[1], &sb);
	KUNIT_ASSERT_EQ(test, sa, sb);
	KUNIT_ASSERT_GE(test, sa, (size_t)PAGE_SIZE);
	iowrite32(0x5ca1ab1e, a + sa - 4);
	KUNIT_EXPECT_EQ(test, ioread32(b + sb - 4), 0x5ca1ab1e);
	iowrite32(0, b + sb - 4);
	KUNIT_EXPECT_EQ(test, ioread32(a + sa - 4), 0);
}

static struct kunit_case socemu_loopback_cases[] = {
	KUNIT_CASE(window_write_lands_in_ram),
	KUNIT_CASE(ram_write_reads_through_window),
	KUNIT_CASE(window_refuses_outside_ranges),
	KUNIT_CASE(doorbell_rings_other_device),
	KUNIT_CASE(doorbell_refuses_bad_vector),
	KUNIT_CASE(devices_are_claimed_once),
	KUNIT_CASE(shared_region_is_shared),
	{}
};

static struct kunit_suite socemu_loopback_suite = {
	.name = "socemu_loopback",
	.init = loopback_init,
	.exit = loopback_exit,
	.test_cases = socemu_loopback_cases,
};

kunit_test_suite(socemu_loopback_suite);

MODULE_DESCRIPTION("KUnit self-test of the emulated SoC link, one VM");
MODULE_LICENSE("GPL");
