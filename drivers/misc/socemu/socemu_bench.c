// SPDX-License-Identifier: GPL-2.0-only
/*
 * socemu_bench: the physical limits of the emulated SoC link, the anchors
 * that the series' benchmarks print their figures next to.
 *
 * Loaded on both VMs at once, with role=ping on one and role=pong on the
 * other.  The two find each other through the doorbell's shared region, as
 * socemu_link_kunit does, then:
 *
 * - doorbell round trip: ping rings pong, whose interrupt handler rings
 *   back at once; ping times @rounds such round trips;
 * - window copy bandwidth: ping copies a 1 MiB buffer of pong's RAM
 *   through its window, @copy_mb times each way, with memcpy_toio() and
 *   memcpy_fromio(): what a transport's copy of a payload costs at best;
 * - DMA engine copy bandwidth: the same copies by the emulated endpoint
 *   controller's eDMA-like engine (pcie-socemu-edma.c, one channel each
 *   way, on ping's window): what a transport that copies payloads with
 *   the controller's DMA engine costs at best on the rig.
 *
 * The figures go to the log; module init fails if the peer does not come
 * or does not answer in time.  Nothing else may hold doorbell 0 and
 * window 0 meanwhile (unload the link's drivers first).
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/socemu.h>
#include <linux/sort.h>

#define BENCH_MAGIC	0x68636e62	/* "bnch" */
#define BENCH_BUF_SIZE	SZ_1M
#define BENCH_VECTOR	1
/* Slots after the first half of the shared region (socemu_link_kunit's). */
#define BENCH_SLOTS_AT	2048
#define BENCH_TIMEOUT	(300 * HZ)
/* Peer ids of the rig's ivshmem server are small: look at this many. */
#define BENCH_MAX_PEERS	64
#define BENCH_READY	1	/* pong answers doorbells */
#define BENCH_DONE	2	/* ping finished: pong may leave */
#define SLOT_STATE	4

/* A VM's slot in the shared region: little-endian, written by its owner. */
struct bench_slot {
	__le32 magic;
	__le32 state;		/* BENCH_READY, BENCH_DONE */
	__le64 buf;		/* physical address of BENCH_BUF_SIZE bytes */
};

static char *role = "ping";
module_param(role, charp, 0444);
MODULE_PARM_DESC(role, "ping (measures) or pong (answers)");
static unsigned int rounds = 2000;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "doorbell round trips timed (10-100000)");
static unsigned int copy_mb = 64;
module_param(copy_mb, uint, 0444);
MODULE_PARM_DESC(copy_mb, "MiB copied each way through the window (1-4096)");

static struct {
	struct socemu_doorbell *db;
	struct socemu_window *win;
	void __iomem *shm;
	size_t shm_size;
	void *buf;
	u16 id;
	u16 peer;
	u64 peer_buf;
	bool pong;
	struct completion rung;
} b;

static void __iomem *slot(u16 id)
{
	return b.shm + BENCH_SLOTS_AT + id * sizeof(struct bench_slot);
}

static void bench_rung(struct socemu_doorbell *db, unsigned int vector,
		       void *data)
{
	if (b.pong)
		socemu_doorbell_ring(db, b.peer, BENCH_VECTOR);
	else
		complete(&b.rung);
}

/* Wait for the other VM's slot; check what it says against our window. */
static int bench_find_peer(void)
{
	unsigned long deadline = jiffies + BENCH_TIMEOUT;
	unsigned int n = min_t(size_t, BENCH_MAX_PEERS,
			       (b.shm_size - BENCH_SLOTS_AT) /
			       sizeof(struct bench_slot));
	unsigned int i;
	u64 buf, end;

	while (time_before(jiffies, deadline)) {
		for (i = 0; i < n; i++) {
			if (i == b.id || ioread32(slot(i)) != BENCH_MAGIC)
				continue;
			buf = ioread32(slot(i) + 8) |
			      (u64)ioread32(slot(i) + 12) << 32;
			if (check_add_overflow(buf, (u64)BENCH_BUF_SIZE, &end) ||
			    end > socemu_window_size(b.win)) {
				pr_err("socemu_bench: peer %u's buffer %#llx is out of the window\n",
				       i, buf);
				return -ERANGE;
			}
			b.peer = i;
			b.peer_buf = buf;
			return 0;
		}
		msleep(20);
	}
	pr_err("socemu_bench: no peer within %u s\n", BENCH_TIMEOUT / HZ);
	return -ETIMEDOUT;
}

static int cmp_u64(const void *x, const void *y)
{
	u64 a = *(const u64 *)x, c = *(const u64 *)y;

	return a < c ? -1 : a > c;
}

static int bench_doorbell(void)
{
	u64 *rtt;
	unsigned int i;
	ktime_t t;
	int ret = 0;

	rtt = kvcalloc(rounds, sizeof(*rtt), GFP_KERNEL);
	if (!rtt)
		return -ENOMEM;
	for (i = 0; i < rounds + 100; i++) {	/* 100 to warm up */
		reinit_completion(&b.rung);
		t = ktime_get();
		socemu_doorbell_ring(b.db, b.peer, BENCH_VECTOR);
		if (!wait_for_completion_timeout(&b.rung, HZ)) {
			pr_err("socemu_bench: round trip %u: no answer in 1 s\n",
			       i);
			ret = -ETIMEDOUT;
			goto out;
		}
		if (i >= 100)
			rtt[i - 100] = ktime_to_ns(ktime_sub(ktime_get(), t));
	}
	sort(rtt, rounds, sizeof(*rtt), cmp_u64, NULL);
	pr_info("socemu_bench: doorbell round trip: min %llu.%01llu us, median %llu.%01llu us (%u rounds)\n",
		rtt[0] / 1000, rtt[0] % 1000 / 100,
		rtt[rounds / 2] / 1000, rtt[rounds / 2] % 1000 / 100, rounds);
out:
	kvfree(rtt);
	return ret;
}

static void bench_report(const char *what, u64 ns)
{
	u64 mbs = div64_u64((u64)copy_mb * NSEC_PER_SEC, ns ?: 1);

	pr_info("socemu_bench: window %s: %llu MiB/s (%u MiB)\n", what, mbs,
		copy_mb);
}

static int bench_window(void)
{
	void __iomem *map;
	unsigned int i;
	ktime_t t;

	map = socemu_window_map(b.win, b.peer_buf, BENCH_BUF_SIZE);
	if (!map)
		return -ENOMEM;
	t = ktime_get();
	for (i = 0; i < copy_mb; i++)
		memcpy_toio(map, b.buf, BENCH_BUF_SIZE);
	ioread32(map);	/* the writes have reached the other side */
	bench_report("write (memcpy_toio)", ktime_to_ns(ktime_sub(ktime_get(), t)));
	t = ktime_get();
	for (i = 0; i < copy_mb; i++)
		memcpy_fromio(b.buf, map, BENCH_BUF_SIZE);
	bench_report("read (memcpy_fromio)", ktime_to_ns(ktime_sub(ktime_get(), t)));
	socemu_window_unmap(b.win, map);
	return 0;
}

static bool bench_dma_filter(struct dma_chan *chan, void *param)
{
	struct dma_slave_caps caps = {};
	enum dma_transfer_direction *dir = param;

	return chan->device->dev == socemu_window_dev(b.win) &&
	       !dma_get_slave_caps(chan, &caps) && (caps.directions & BIT(*dir));
}

static void bench_dma_done(void *data)
{
	complete(data);
}

/* @copy_mb transfers of the buffer, one after the other, waited for. */
static int bench_dma_dir(enum dma_transfer_direction dir, dma_addr_t local)
{
	struct dma_slave_config cfg = { .direction = dir };
	struct dma_async_tx_descriptor *tx;
	DECLARE_COMPLETION_ONSTACK(done);
	struct dma_chan *chan;
	dma_cap_mask_t mask;
	unsigned int i;
	int ret = 0;
	ktime_t t;
	u64 mbs;

	dma_cap_zero(mask);
	dma_cap_set(DMA_SLAVE, mask);
	chan = dma_request_channel(mask, bench_dma_filter, &dir);
	if (!chan)
		return -ENODEV;
	if (dir == DMA_MEM_TO_DEV)
		cfg.dst_addr = b.peer_buf;
	else
		cfg.src_addr = b.peer_buf;
	ret = dmaengine_slave_config(chan, &cfg);
	t = ktime_get();
	for (i = 0; !ret && i < copy_mb; i++) {
		reinit_completion(&done);
		tx = dmaengine_prep_slave_single(chan, local, BENCH_BUF_SIZE,
						 dir, DMA_PREP_INTERRUPT);
		if (!tx) {
			ret = -EIO;
			break;
		}
		tx->callback = bench_dma_done;
		tx->callback_param = &done;
		dmaengine_submit(tx);
		dma_async_issue_pending(chan);
		if (!wait_for_completion_timeout(&done, HZ))
			ret = -ETIMEDOUT;
	}
	mbs = div64_u64((u64)copy_mb * NSEC_PER_SEC,
			ktime_to_ns(ktime_sub(ktime_get(), t)) ?: 1);
	if (ret)
		dmaengine_terminate_sync(chan);
	else
		pr_info("socemu_bench: dma %s (eDMA-like engine): %llu MiB/s (%u MiB)\n",
			dir == DMA_MEM_TO_DEV ? "write" : "read", mbs, copy_mb);
	dma_release_channel(chan);
	return ret;
}

static int bench_dma(void)
{
	struct device *dev = socemu_window_dev(b.win);
	struct socemu_edma *edma;
	dma_addr_t local;
	int ret;

	edma = socemu_edma_create(dev, socemu_window_phys(b.win),
				  socemu_window_size(b.win), 1, 1);
	if (IS_ERR(edma))
		return PTR_ERR(edma);
	local = dma_map_single(dev, b.buf, BENCH_BUF_SIZE, DMA_BIDIRECTIONAL);
	ret = dma_mapping_error(dev, local);
	if (!ret) {
		ret = bench_dma_dir(DMA_MEM_TO_DEV, local) ?:
		      bench_dma_dir(DMA_DEV_TO_MEM, local);
		dma_unmap_single(dev, local, BENCH_BUF_SIZE, DMA_BIDIRECTIONAL);
	}
	socemu_edma_destroy(edma);
	return ret;
}

/* Wait until the peer's slot says @state. */
static int bench_wait_peer(u32 state)
{
	unsigned long deadline = jiffies + BENCH_TIMEOUT;

	while (ioread32(slot(b.peer) + SLOT_STATE) != state) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		msleep(20);
	}
	return 0;
}

static void bench_release(bool published)
{
	if (published)
		iowrite32(0, slot(b.id));
	socemu_doorbell_clear_handler(b.db);
	socemu_doorbell_put(b.db);
	socemu_window_put(b.win);
	free_pages_exact(b.buf, BENCH_BUF_SIZE);
}

static int __init socemu_bench_init(void)
{
	int ret;

	b.pong = !strcmp(role, "pong");
	if ((!b.pong && strcmp(role, "ping")) || rounds < 10 ||
	    rounds > 100000 || !copy_mb || copy_mb > 4096) {
		pr_err("socemu_bench: role is ping or pong, rounds 10-100000, copy_mb 1-4096\n");
		return -EINVAL;
	}
	b.buf = alloc_pages_exact(BENCH_BUF_SIZE, GFP_KERNEL | __GFP_ZERO);
	if (!b.buf)
		return -ENOMEM;
	b.win = socemu_window_get(0);
	if (IS_ERR(b.win)) {
		free_pages_exact(b.buf, BENCH_BUF_SIZE);
		return PTR_ERR(b.win);
	}
	b.db = socemu_doorbell_get(0);
	if (IS_ERR(b.db)) {
		socemu_window_put(b.win);
		free_pages_exact(b.buf, BENCH_BUF_SIZE);
		return PTR_ERR(b.db);
	}
	b.shm = socemu_doorbell_shm(b.db, &b.shm_size);
	b.id = socemu_doorbell_id(b.db);
	init_completion(&b.rung);
	if (b.id >= BENCH_MAX_PEERS ||
	    b.shm_size < BENCH_SLOTS_AT + BENCH_MAX_PEERS * sizeof(struct bench_slot)) {
		ret = -ERANGE;
		goto out_put;
	}

	iowrite32(0, slot(b.id) + SLOT_STATE);
	iowrite32(lower_32_bits(virt_to_phys(b.buf)), slot(b.id) + 8);
	iowrite32(upper_32_bits(virt_to_phys(b.buf)), slot(b.id) + 12);
	wmb();	/* the slot's fields before its magic */
	iowrite32(BENCH_MAGIC, slot(b.id));

	ret = bench_find_peer();
	if (ret)
		goto out;
	pr_info("socemu_bench: %s, peer %u (we are %u)\n", role, b.peer, b.id);
	socemu_doorbell_set_handler(b.db, bench_rung, NULL);
	if (b.pong) {
		/* Answer until the other side is done. */
		iowrite32(BENCH_READY, slot(b.id) + SLOT_STATE);
		ret = bench_wait_peer(BENCH_DONE);
		goto out;
	}
	ret = bench_wait_peer(BENCH_READY);
	if (!ret)
		ret = bench_doorbell();
	if (!ret)
		ret = bench_window();
	if (!ret)
		ret = bench_dma();
	iowrite32(BENCH_DONE, slot(b.id) + SLOT_STATE);
	/* Give pong a moment to see it before the slot goes. */
	msleep(200);
out:
	if (ret)
		pr_err("socemu_bench: %s failed: %d\n", role, ret);
	bench_release(true);
	return ret;

out_put:
	bench_release(false);
	return ret;
}
module_init(socemu_bench_init);

static void __exit socemu_bench_exit(void)
{
}
module_exit(socemu_bench_exit);

MODULE_DESCRIPTION("socemu: doorbell round trip, window and DMA copy bandwidth of the emulated link");
MODULE_LICENSE("GPL");
