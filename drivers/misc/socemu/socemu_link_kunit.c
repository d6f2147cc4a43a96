// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit self-test of the emulated SoC link between two VMs.
 *
 * Both VMs run this suite at the same time.  Each publishes a buffer of
 * its RAM in a slot of the doorbell's shared region (indexed by its peer
 * id), finds the other's slot, writes a pattern derived from the other's
 * nonce into the other's buffer through its window, and rings the other.
 * Each then checks that the other's pattern arrived in its own RAM.  So
 * window writes and doorbells are proven in both directions, with data
 * checked by the receiver.
 *
 * Everything read from the shared region comes from the other VM and is
 * checked before use.  Every wait on the other VM has a time limit.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/socemu.h>

#define LINK_MAGIC	0x6b6e696c	/* "link" */
#define LINK_VECTOR	1
#define LINK_BUF_SIZE	PAGE_SIZE
/* Both VMs boot under TCG at their own pace. */
#define LINK_TIMEOUT	(180 * HZ)

struct link_slot {
	__le32 magic;
	__le32 nonce;
	__le64 buf;
	__le32 len;
	__le32 done;
	__le64 reserved;
};

#define SLOT_MAGIC	offsetof(struct link_slot, magic)
#define SLOT_NONCE	offsetof(struct link_slot, nonce)
#define SLOT_BUF	offsetof(struct link_slot, buf)
#define SLOT_LEN	offsetof(struct link_slot, len)
#define SLOT_DONE	offsetof(struct link_slot, done)

static struct {
	struct socemu_window *win;
	struct socemu_doorbell *db;
	void __iomem *shm;
	unsigned int nslots;
	u8 *buf;
	u32 nonce;
	struct completion rung;
	unsigned int vector;
	bool have_peer;
	u16 peer;
	u32 peer_nonce;
	u64 peer_buf;
	bool wrote;
	bool rung_by_peer;
} link;

static void __iomem *slot(unsigned int id)
{
	return link.shm + id * sizeof(struct link_slot);
}

static u8 pattern(unsigned int i, u32 nonce)
{
	return (i * 37 + nonce) ^ (nonce >> 11) ^ (i >> 8);
}

static void link_ring_fn(struct socemu_doorbell *db, unsigned int vector,
			 void *data)
{
	link.vector = vector;
	complete(&link.rung);
}

static int link_suite_init(struct kunit_suite *suite)
{
	size_t shm_size;
	u16 id;

	struct socemu_window *win;
	struct socemu_doorbell *db;

	win = socemu_window_get(0);
	if (IS_ERR(win))
		return PTR_ERR(win);
	db = socemu_doorbell_get(0);
	if (IS_ERR(db)) {
		socemu_window_put(win);
		return PTR_ERR(db);
	}
	link.shm = socemu_doorbell_shm(db, &shm_size);
	link.nslots = min_t(size_t, shm_size, PAGE_SIZE) /
		      sizeof(struct link_slot);
	id = socemu_doorbell_id(db);
	link.buf = kzalloc(LINK_BUF_SIZE, GFP_KERNEL);
	if (id >= link.nslots || !link.buf) {
		kfree(link.buf);
		link.buf = NULL;
		socemu_doorbell_put(db);
		socemu_window_put(win);
		return id >= link.nslots ? -ERANGE : -ENOMEM;
	}
	link.win = win;
	link.db = db;
	init_completion(&link.rung);
	socemu_doorbell_set_handler(link.db, link_ring_fn, NULL);

	link.nonce = get_random_u32() | 1;
	iowrite32(link.nonce, slot(id) + SLOT_NONCE);
	iowrite32(lower_32_bits(virt_to_phys(link.buf)), slot(id) + SLOT_BUF);
	iowrite32(upper_32_bits(virt_to_phys(link.buf)), slot(id) + SLOT_BUF + 4);
	iowrite32(LINK_BUF_SIZE, slot(id) + SLOT_LEN);
	iowrite32(0, slot(id) + SLOT_DONE);
	wmb();	/* the slot's fields before its magic */
	iowrite32(LINK_MAGIC, slot(id) + SLOT_MAGIC);
	return 0;
}

static void link_suite_exit(struct kunit_suite *suite)
{
	unsigned long deadline = jiffies + LINK_TIMEOUT;
	u16 id;

	if (!link.db)
		return;	/* suite_init failed and released everything */
	id = socemu_doorbell_id(link.db);
	/* Keep the buffer until the peer has checked what we wrote. */
	while (link.have_peer && link.wrote &&
	       ioread32(slot(link.peer) + SLOT_DONE) != 1 &&
	       time_before(jiffies, deadline))
		msleep(20);
	iowrite32(0, slot(id) + SLOT_MAGIC);
	socemu_doorbell_put(link.db);
	socemu_window_put(link.win);
	kfree(link.buf);
	link.db = NULL;
	link.win = NULL;
	link.buf = NULL;
}

/* The other VM's slot appears, with values that fit our window. */
static void link_finds_peer(struct kunit *test)
{
	unsigned long deadline = jiffies + LINK_TIMEOUT;
	u16 id = socemu_doorbell_id(link.db);
	unsigned int i;
	u64 end;

	while (!link.have_peer && time_before(jiffies, deadline)) {
		for (i = 0; i < link.nslots; i++) {
			if (i == id || ioread32(slot(i) + SLOT_MAGIC) != LINK_MAGIC)
				continue;
			rmb();	/* the magic before the fields it guards */
			link.peer = i;
			link.peer_nonce = ioread32(slot(i) + SLOT_NONCE);
			link.peer_buf = ioread32(slot(i) + SLOT_BUF) |
					(u64)ioread32(slot(i) + SLOT_BUF + 4) << 32;
			KUNIT_ASSERT_EQ(test, ioread32(slot(i) + SLOT_LEN),
					LINK_BUF_SIZE);
			KUNIT_ASSERT_FALSE(test,
					   check_add_overflow(link.peer_buf,
							      (u64)LINK_BUF_SIZE,
							      &end));
			KUNIT_ASSERT_LE(test, end, socemu_window_size(link.win));
			link.have_peer = true;
			break;
		}
		if (!link.have_peer)
			msleep(20);
	}
	KUNIT_ASSERT_TRUE_MSG(test, link.have_peer,
			      "no peer published a slot within %u s",
			      LINK_TIMEOUT / HZ);
	kunit_info(test, "peer %u (we are %u), its buffer at %#llx\n",
		   link.peer, id, link.peer_buf);
}

/* Write the peer's RAM through the window, read it back, ring the peer. */
static void link_window_write_to_peer(struct kunit *test)
{
	void __iomem *map;
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, link.have_peer);
	map = socemu_window_map(link.win, link.peer_buf, LINK_BUF_SIZE);
	KUNIT_ASSERT_TRUE(test, map);
	for (i = 0; i < LINK_BUF_SIZE; i += 4)
		iowrite32((u32)pattern(i, link.peer_nonce) |
			  (u32)pattern(i + 1, link.peer_nonce) << 8 |
			  (u32)pattern(i + 2, link.peer_nonce) << 16 |
			  (u32)pattern(i + 3, link.peer_nonce) << 24, map + i);
	for (i = 0; i < LINK_BUF_SIZE; i++)
		if (ioread8(map + i) != pattern(i, link.peer_nonce))
			break;
	socemu_window_unmap(link.win, map);
	KUNIT_ASSERT_EQ_MSG(test, i, LINK_BUF_SIZE,
			    "read back differs at byte %u", i);
	wmb();	/* the data before the doorbell */
	link.wrote = true;
	KUNIT_ASSERT_EQ(test, 0, socemu_doorbell_ring(link.db, link.peer,
						      LINK_VECTOR));
}

/* The peer rings us once it has written our RAM. */
static void link_doorbell_from_peer(struct kunit *test)
{
	KUNIT_ASSERT_TRUE(test, link.have_peer);
	KUNIT_ASSERT_GT_MSG(test,
			    wait_for_completion_timeout(&link.rung, LINK_TIMEOUT),
			    0, "peer %u never rang within %u s", link.peer,
			    LINK_TIMEOUT / HZ);
	link.rung_by_peer = true;
	KUNIT_EXPECT_EQ(test, link.vector, LINK_VECTOR);
}

/* What the peer wrote through its window is in our RAM, byte for byte. */
static void link_data_from_peer(struct kunit *test)
{
	u16 id = socemu_doorbell_id(link.db);
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, link.rung_by_peer);
	rmb();	/* the doorbell before the data */
	for (i = 0; i < LINK_BUF_SIZE; i++)
		if (link.buf[i] != pattern(i, link.nonce))
			break;
	/* Tell the peer we are done with its data, good or bad. */
	iowrite32(1, slot(id) + SLOT_DONE);
	KUNIT_ASSERT_EQ_MSG(test, i, LINK_BUF_SIZE,
			    "the peer's data differs from byte %u on", i);
}

static struct kunit_case socemu_link_cases[] = {
	KUNIT_CASE(link_finds_peer),
	KUNIT_CASE(link_window_write_to_peer),
	KUNIT_CASE(link_doorbell_from_peer),
	KUNIT_CASE(link_data_from_peer),
	{}
};

static struct kunit_suite socemu_link_suite = {
	.name = "socemu_link",
	.suite_init = link_suite_init,
	.suite_exit = link_suite_exit,
	.test_cases = socemu_link_cases,
};

kunit_test_suite(socemu_link_suite);

MODULE_DESCRIPTION("KUnit self-test of the emulated SoC link, two VMs");
MODULE_LICENSE("GPL");
