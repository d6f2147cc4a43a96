// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntb_vlink: the link layer of virtio over NTB, shared by its driver side
 * (virtio_ntb) and its device side (ntb_vhost).
 *
 * Each side gives the other an inbound buffer behind each memory window it
 * uses; window 0's starts with a header (magic, epoch, doorbell bits, the
 * other windows). The two sides meet through four link registers, written
 * by the peer: scratchpads (each side writes the peer's, reads its own),
 * or message registers where the part has no scratchpads (one register
 * each, the peer keeping the last value received):
 *
 *   0  STATE  magic 0x5654 << 16 | version << 12 | role << 8 | state
 *   1  EPOCH  the writer's epoch << 16 | the reader's epoch it has seen
 *   2  XLAT0  low word of the writer's window 0 buffer address, whose low
 *             12 bits hold log2 of its size
 *   3  XLAT1  its high word
 *
 * A side says HELLO once its buffers are translated, and READY once it
 * saw the peer's HELLO with good values; the link is up when both are
 * READY and each has seen the other's present epoch. One work item acts
 * on what it reads (levels, never edges): at link events, at doorbells of
 * the control bit, at message events, and polling, every
 * NTB_VLINK_POLL_MIN_MS while the link is coming up, backing off to
 * NTB_VLINK_POLL_MAX_MS. A peer that restarts has a new epoch, and a
 * side that leaves writes STATE 0: either takes the link down, even
 * where the NTB reports no link event. See
 * Documentation/driver-api/virtio-ntb.rst.
 *
 * Every value from the peer is checked before use: the magic, version
 * and role, the sizes and alignment of its buffers, its window count and
 * doorbell bits; a bad one keeps the link down, logged once.
 *
 * Locking: vl->lock (a mutex) serialises the work item, the client's up()
 * and down(), and ntb_vlink_exit(). vl->is_up is written under it and read
 * under RCU by the doorbell path, which calls the client's db() only while
 * the link is up; down() is called after synchronize_rcu(), so no db()
 * runs during or after it.
 */

#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/ntb.h>
#include <linux/ntb_vlink.h>
#include <linux/random.h>
#include <linux/sizes.h>

#define NTB_VLINK_MAGIC		0x5654
#define NTB_VLINK_VERSION	1
#define NTB_VLINK_HELLO		1
#define NTB_VLINK_READY		2

#define NTB_VLINK_STATE		0
#define NTB_VLINK_EPOCH		1
#define NTB_VLINK_XLAT0		2
#define NTB_VLINK_XLAT1		3
#define NTB_VLINK_NR_REGS	4

#define NTB_VLINK_POLL_MIN_MS	10
#define NTB_VLINK_POLL_MAX_MS	1000

/* The window header: the owner writes it, the peer reads it. */
#define NTB_VLINK_HDR_MAGIC	0x00
#define  NTB_VLINK_HDR_MAGIC_VAL	0x424e5456	/* "VTNB" */
#define NTB_VLINK_HDR_VERSION	0x04
#define NTB_VLINK_HDR_EPOCH	0x08
#define NTB_VLINK_HDR_ROLE	0x0c
#define NTB_VLINK_HDR_DB_LO	0x10	/* doorbell bits the owner takes */
#define NTB_VLINK_HDR_DB_HI	0x14
#define NTB_VLINK_HDR_NR_MW	0x18
/* Window i >= 1: xlat low, high, size low, high. */
#define NTB_VLINK_HDR_MW(i)	(0x20 + 16 * (i))

static unsigned int ntb_vlink_state(u32 reg)
{
	return reg & 0xff;
}

static u32 ntb_vlink_state_reg(struct ntb_vlink *vl, unsigned int state)
{
	return NTB_VLINK_MAGIC << 16 | NTB_VLINK_VERSION << 12 |
	       vl->role << 8 | state;
}

/* The peer's link register @i, as this side last received it. */
static u32 ntb_vlink_read(struct ntb_vlink *vl, unsigned int i)
{
	if (vl->use_msg)
		return READ_ONCE(vl->reg[i]);
	return ntb_spad_read(vl->ntb, i);
}

/*
 * Send this side's link registers to the peer: those that changed, or all
 * of them with @all (a message the peer may have missed). STATE goes last,
 * so the peer reads the others as they were when it changed.
 */
static void ntb_vlink_send(struct ntb_vlink *vl, const u32 *regs, bool all)
{
	struct ntb_dev *ntb = vl->ntb;
	int i;

	if (vl->use_msg) {
		u64 out = ntb_msg_read_sts(ntb) & ntb_msg_outbits(ntb);

		/* A message the peer had not taken yet was not delivered. */
		if (out) {
			ntb_msg_clear_sts(ntb, out);
			vl->sent_ok = 0;
		}
	}
	for (i = NTB_VLINK_NR_REGS - 1; i >= 0; i--) {
		if (!all && regs[i] == vl->sent[i] && test_bit(i, &vl->sent_ok))
			continue;
		if (vl->use_msg)
			ntb_peer_msg_write(ntb, 0, i, regs[i]);
		else
			ntb_peer_spad_write(ntb, 0, i, regs[i]);
		vl->sent[i] = regs[i];
		set_bit(i, &vl->sent_ok);
	}
}

/**
 * ntb_vlink_ring() - ring one of the peer's doorbell bits
 * @vl: the link
 * @bit: the bit, one of @vl->db_peer; the peer's control bit otherwise
 *	(NTB_VLINK_CTRL)
 *
 * One bit per call: some parts (ntb_hw_epf) ring only the lowest bit of
 * a mask. Any context.
 */
void ntb_vlink_ring(struct ntb_vlink *vl, unsigned int bit)
{
	u64 peer = READ_ONCE(vl->db_peer);

	if (!peer) {
		/* Not up yet: the parts in tree are symmetric. */
		bit = vl->db_ctrl;
	} else if (bit >= 64 || !(peer & BIT_ULL(bit))) {
		bit = __ffs64(peer);
	}
	ntb_peer_db_set(vl->ntb, BIT_ULL(bit));
}
EXPORT_SYMBOL_GPL(ntb_vlink_ring);

/**
 * ntb_vlink_data_bit() - a doorbell bit of this side for a queue
 * @vl: the link
 * @n: the queue's number, counted over all the queues the side serves
 *
 * Queues share the data bits round-robin; all go on the control bit
 * where the NTB has no other.
 *
 * Return: the (@n mod the number of data bits)th data bit.
 */
unsigned int ntb_vlink_data_bit(struct ntb_vlink *vl, unsigned int n)
{
	unsigned long bits = vl->db_data;
	unsigned int bit;

	if (!bits)
		return vl->db_ctrl;
	n %= hweight64(vl->db_data);
	for_each_set_bit(bit, &bits, BITS_PER_LONG)
		if (!n--)
			break;
	return bit;
}
EXPORT_SYMBOL_GPL(ntb_vlink_data_bit);

/**
 * ntb_vlink_kick() - look at the link now
 * @vl: the link
 *
 * For a client that saw something change (the peer's control doorbell).
 * Any context.
 */
void ntb_vlink_kick(struct ntb_vlink *vl)
{
	mod_delayed_work(system_wq, &vl->work, 0);
}
EXPORT_SYMBOL_GPL(ntb_vlink_kick);

/**
 * ntb_vlink_header() - this side's window header
 * @vl: the link
 *
 * Return: the header, in this side's inbound buffer of window 0; the
 * client owns its words from NTB_VLINK_HDR_CLIENT to NTB_VLINK_HDR_SIZE.
 */
void *ntb_vlink_header(struct ntb_vlink *vl)
{
	return vl->mw[0].in_va;
}
EXPORT_SYMBOL_GPL(ntb_vlink_header);

/**
 * ntb_vlink_peer_header() - the peer's window header
 * @vl: the link, up
 *
 * Return: the header, through the outbound window 0. Its words are the
 * peer's: check every one.
 */
void __iomem *ntb_vlink_peer_header(struct ntb_vlink *vl)
{
	return vl->mw[0].out_va;
}
EXPORT_SYMBOL_GPL(ntb_vlink_peer_header);

static void ntb_vlink_complain(struct ntb_vlink *vl, const char *what)
{
	if (vl->complained == what)
		return;
	vl->complained = what;
	dev_err(&vl->ntb->dev, "virtio link: %s\n", what);
}

static void ntb_vlink_unmap(struct ntb_vlink *vl)
{
	unsigned int i;

	for (i = 0; i < NTB_VLINK_MAX_MW; i++) {
		if (vl->mw[i].out_va)
			iounmap(vl->mw[i].out_va);
		vl->mw[i].out_va = NULL;
		vl->mw[i].out_size = 0;
	}
	vl->peer_nr_mw = 0;
	WRITE_ONCE(vl->db_peer, 0);
}

/*
 * Map the peer's window @i, whose buffer is at @xlat (its side's address)
 * and @size bytes, as far as this side's outbound window reaches.
 */
static int ntb_vlink_map(struct ntb_vlink *vl, unsigned int i, u64 xlat,
			 u64 size)
{
	struct ntb_dev *ntb = vl->ntb;
	resource_size_t out_size;
	phys_addr_t base;
	int ret;

	if (!size || !IS_ALIGNED(xlat, SZ_4K)) {
		ntb_vlink_complain(vl, "the peer's window buffer is empty or unaligned");
		return -EINVAL;
	}
	ret = ntb_peer_mw_get_addr(ntb, i, &base, &out_size);
	if (ret)
		return ret;
	out_size = min_t(u64, out_size, size);
	/* Parts whose inbound translation the peer sets (IDT): set it. */
	ret = ntb_peer_mw_set_trans(ntb, 0, i, xlat, out_size);
	if (ret) {
		ntb_vlink_complain(vl, "the outbound translation is refused");
		return ret;
	}
	vl->mw[i].out_va = ioremap_wc(base, out_size);
	if (!vl->mw[i].out_va)
		return -ENOMEM;
	vl->mw[i].out_size = out_size;
	return 0;
}

/* Map the peer's windows and check its header; 0 if it is this peer's. */
static int ntb_vlink_map_peer(struct ntb_vlink *vl, u32 xlat0, u32 xlat1)
{
	unsigned int order = xlat0 & 0x3f, i, nr;
	void __iomem *hdr;
	u64 db, xlat, size;
	int ret;

	if (order < ilog2(2 * NTB_VLINK_HDR_SIZE) || order > 40) {
		ntb_vlink_complain(vl, "the peer's window 0 size is out of range");
		return -EINVAL;
	}
	ret = ntb_vlink_map(vl, 0, ((u64)xlat1 << 32) | (xlat0 & ~0xfffU),
			    1ULL << order);
	if (ret)
		return ret;
	if (vl->mw[0].out_size < NTB_VLINK_HDR_SIZE) {
		ntb_vlink_complain(vl, "the outbound window 0 cannot hold a header");
		return -EINVAL;
	}
	hdr = vl->mw[0].out_va;
	if (ioread32(hdr + NTB_VLINK_HDR_MAGIC) != NTB_VLINK_HDR_MAGIC_VAL ||
	    ioread32(hdr + NTB_VLINK_HDR_VERSION) != NTB_VLINK_VERSION ||
	    ioread32(hdr + NTB_VLINK_HDR_ROLE) == vl->role ||
	    ioread32(hdr + NTB_VLINK_HDR_EPOCH) != vl->peer_epoch) {
		/* A header of an earlier peer, or of none: not yet. */
		return -EAGAIN;
	}
	nr = ioread32(hdr + NTB_VLINK_HDR_NR_MW);
	if (!nr || nr > NTB_VLINK_MAX_MW || nr > ntb_peer_mw_count(vl->ntb)) {
		ntb_vlink_complain(vl, "the peer uses more windows than there are");
		return -EINVAL;
	}
	db = ioread32(hdr + NTB_VLINK_HDR_DB_LO) |
	     (u64)ioread32(hdr + NTB_VLINK_HDR_DB_HI) << 32;
	/* The parts in tree are symmetric: the peer's bits are ours too. */
	db &= ntb_db_valid_mask(vl->ntb);
	if (!db) {
		ntb_vlink_complain(vl, "the peer takes no doorbell this side can ring");
		return -EINVAL;
	}
	for (i = 1; i < nr; i++) {
		xlat = ioread32(hdr + NTB_VLINK_HDR_MW(i)) |
		       (u64)ioread32(hdr + NTB_VLINK_HDR_MW(i) + 4) << 32;
		size = ioread32(hdr + NTB_VLINK_HDR_MW(i) + 8) |
		       (u64)ioread32(hdr + NTB_VLINK_HDR_MW(i) + 12) << 32;
		ret = ntb_vlink_map(vl, i, xlat, size);
		if (ret)
			return ret;
	}
	vl->peer_nr_mw = nr;
	WRITE_ONCE(vl->db_peer, db);
	return 0;
}

/*
 * The epoch in this side's header, which the peer checks before it takes
 * the link up. The device side shows it only while up, once its register
 * blocks are written anew for this link (its up() does that): a driver
 * side that came up first would otherwise take a block of the last link,
 * and see it replaced a moment later.
 */
static void ntb_vlink_show_epoch(struct ntb_vlink *vl)
{
	u16 epoch = vl->role == NTB_VLINK_DEVICE && !vl->is_up ? 0 : vl->epoch;

	if (!vl->mw[0].in_va)
		return;
	wmb();	/* the blocks before the epoch that shows them */
	WRITE_ONCE(*(__le32 *)(vl->mw[0].in_va + NTB_VLINK_HDR_EPOCH),
		   cpu_to_le32(epoch));
}

static void ntb_vlink_down(struct ntb_vlink *vl, const char *why)
{
	lockdep_assert_held(&vl->lock);
	if (vl->is_up) {
		dev_info(&vl->ntb->dev, "virtio link down: %s\n", why);
		WRITE_ONCE(vl->is_up, false);
		ntb_vlink_show_epoch(vl);
		synchronize_rcu();
		vl->ops->down(vl);
	}
	ntb_vlink_unmap(vl);
}

/**
 * ntb_vlink_free() - free this side's inbound buffers
 * @vl: the link, after ntb_vlink_exit(), once the client is done with
 *	what it keeps in them
 *
 * Process context.
 */
void ntb_vlink_free(struct ntb_vlink *vl)
{
	struct device *dma = ntb_get_dma_dev(vl->ntb);
	unsigned int i;

	for (i = 0; i < NTB_VLINK_MAX_MW; i++) {
		if (!vl->mw[i].in_va)
			continue;
		ntb_mw_clear_trans(vl->ntb, 0, i);
		dma_free_coherent(dma, vl->mw[i].in_size, vl->mw[i].in_va,
				  vl->mw[i].in_dma);
		vl->mw[i].in_va = NULL;
		vl->mw[i].in_size = 0;
	}
	vl->ready = false;
}
EXPORT_SYMBOL_GPL(ntb_vlink_free);

/* The inbound buffer of window @i: as large as wanted and allowed. */
static int ntb_vlink_alloc(struct ntb_vlink *vl, unsigned int i)
{
	struct device *dma = ntb_get_dma_dev(vl->ntb);
	resource_size_t addr_align, size_align, size_max, size;
	struct ntb_vlink_mw *mw = &vl->mw[i];
	int ret;

	ret = ntb_mw_get_align(vl->ntb, 0, i, &addr_align, &size_align,
			       &size_max);
	if (ret)
		return ret;
	size = min(vl->in_want[i], size_max);
	/* Window 0's size goes in a link register, as a power of two. */
	if (!i)
		size = rounddown_pow_of_two(size);
	size = round_up(size, max_t(resource_size_t, size_align, SZ_4K));
	if (size > size_max || (!i && size < 2 * NTB_VLINK_HDR_SIZE)) {
		dev_err(&vl->ntb->dev, "virtio link: window %u takes %pa bytes at most, too few\n",
			i, &size_max);
		return -ENOSPC;
	}
	mw->in_va = dma_alloc_coherent(dma, size, &mw->in_dma, GFP_KERNEL);
	if (!mw->in_va)
		return -ENOMEM;
	mw->in_size = size;
	if (!IS_ALIGNED(mw->in_dma, max_t(resource_size_t, addr_align, SZ_4K))) {
		dev_err(&vl->ntb->dev, "virtio link: window %u buffer at %pad is not %pa-aligned\n",
			i, &mw->in_dma, &addr_align);
		return -EINVAL;
	}
	memset(mw->in_va, 0, size);
	ret = ntb_mw_set_trans(vl->ntb, 0, i, mw->in_dma, size);
	if (ret)
		dev_err(&vl->ntb->dev, "virtio link: window %u not translated: %d\n",
			i, ret);
	return ret;
}

/* This side's window header, but for the epoch. */
static void ntb_vlink_write_header(struct ntb_vlink *vl)
{
	__le32 *hdr = vl->mw[0].in_va;
	unsigned int i;

	hdr[NTB_VLINK_HDR_VERSION / 4] = cpu_to_le32(NTB_VLINK_VERSION);
	hdr[NTB_VLINK_HDR_ROLE / 4] = cpu_to_le32(vl->role);
	hdr[NTB_VLINK_HDR_DB_LO / 4] = cpu_to_le32(lower_32_bits(vl->db_valid));
	hdr[NTB_VLINK_HDR_DB_HI / 4] = cpu_to_le32(upper_32_bits(vl->db_valid));
	hdr[NTB_VLINK_HDR_NR_MW / 4] = cpu_to_le32(vl->nr_mw);
	for (i = 1; i < vl->nr_mw; i++) {
		hdr[NTB_VLINK_HDR_MW(i) / 4] = cpu_to_le32(lower_32_bits(vl->mw[i].in_dma));
		hdr[NTB_VLINK_HDR_MW(i) / 4 + 1] = cpu_to_le32(upper_32_bits(vl->mw[i].in_dma));
		hdr[NTB_VLINK_HDR_MW(i) / 4 + 2] = cpu_to_le32(lower_32_bits(vl->mw[i].in_size));
		hdr[NTB_VLINK_HDR_MW(i) / 4 + 3] = cpu_to_le32(upper_32_bits(vl->mw[i].in_size));
	}
	hdr[NTB_VLINK_HDR_MAGIC / 4] = cpu_to_le32(NTB_VLINK_HDR_MAGIC_VAL);
}

/* A new epoch, in the header before the peer can see it. */
static void ntb_vlink_new_epoch(struct ntb_vlink *vl)
{
	do {
		vl->epoch = get_random_u16();
	} while (!vl->epoch);
	vl->peer_epoch = 0;
	ntb_vlink_show_epoch(vl);
}

/*
 * The NTB link is up. The first time, allocate the inbound buffers (their
 * limits are known only now) and let the client lay out its part; after
 * that, translate the windows again, which a part may have forgotten
 * while its link was down.
 */
static int ntb_vlink_windows(struct ntb_vlink *vl)
{
	unsigned int i;
	int ret = 0;

	if (vl->ready) {
		for (i = 0; i < vl->nr_mw && !ret; i++)
			if (vl->mw[i].in_va)
				ret = ntb_mw_set_trans(vl->ntb, 0, i,
						       vl->mw[i].in_dma,
						       vl->mw[i].in_size);
		return ret;
	}
	for (i = 0; i < vl->nr_mw && !ret; i++)
		if (vl->in_want[i])
			ret = ntb_vlink_alloc(vl, i);
	if (!ret) {
		ntb_vlink_write_header(vl);
		ntb_vlink_new_epoch(vl);
		ret = vl->ops->ready(vl);
	}
	if (ret) {
		ntb_vlink_free(vl);
		return ret;
	}
	vl->ready = true;
	return 0;
}

/* One look at the link; the delay until the next one. */
static unsigned int ntb_vlink_step(struct ntb_vlink *vl)
{
	u32 state, epoch, mine[NTB_VLINK_NR_REGS];
	unsigned int peer_state, my_state;
	bool fresh = false;
	u16 peer_epoch;

	lockdep_assert_held(&vl->lock);
	if (!ntb_link_is_up(vl->ntb, NULL, NULL)) {
		if (vl->is_up || vl->peer_epoch) {
			ntb_vlink_down(vl, "the NTB link is down");
			ntb_vlink_new_epoch(vl);
		}
		vl->ntb_up = false;
		vl->complained = NULL;
		return NTB_VLINK_POLL_MAX_MS;
	}
	if (!vl->ntb_up) {
		if (ntb_vlink_windows(vl)) {
			ntb_vlink_complain(vl, "no inbound buffers: the link waits");
			return NTB_VLINK_POLL_MAX_MS;
		}
		vl->ntb_up = true;
	}

	state = ntb_vlink_read(vl, NTB_VLINK_STATE);
	epoch = ntb_vlink_read(vl, NTB_VLINK_EPOCH);
	peer_state = ntb_vlink_state(state);
	peer_epoch = epoch >> 16;
	if (state >> 16 != NTB_VLINK_MAGIC || !peer_epoch ||
	    (peer_state != NTB_VLINK_HELLO && peer_state != NTB_VLINK_READY)) {
		/* Nobody there, or a peer that left. */
		if (vl->is_up || vl->peer_epoch) {
			ntb_vlink_down(vl, "the peer left");
			ntb_vlink_new_epoch(vl);
		}
		peer_state = 0;
	} else if ((state >> 12 & 0xf) != NTB_VLINK_VERSION) {
		ntb_vlink_complain(vl, "the peer speaks another version");
		peer_state = 0;
	} else if ((state >> 8 & 0xf) == vl->role) {
		ntb_vlink_complain(vl, vl->role == NTB_VLINK_DRIVER ?
				   "the peer is a virtio driver side too" :
				   "the peer is a virtio device side too");
		peer_state = 0;
	} else if (peer_epoch != vl->peer_epoch) {
		/*
		 * A new peer: whatever the last one set up is gone. This
		 * side keeps its epoch, which the new peer meets as it is:
		 * were each side to take a new epoch on the other's, a
		 * stale READY of an earlier incarnation would set them
		 * restarting each other for as long as they race.
		 */
		if (vl->is_up || vl->peer_epoch)
			ntb_vlink_down(vl, "the peer restarted");
		vl->peer_epoch = peer_epoch;
		fresh = true;
	}

	my_state = vl->peer_epoch && peer_state ? NTB_VLINK_READY : NTB_VLINK_HELLO;
	mine[NTB_VLINK_STATE] = ntb_vlink_state_reg(vl, my_state);
	mine[NTB_VLINK_EPOCH] = (u32)vl->epoch << 16 |
				(my_state == NTB_VLINK_READY ? vl->peer_epoch : 0);
	mine[NTB_VLINK_XLAT0] = lower_32_bits(vl->mw[0].in_dma) |
				ilog2(vl->mw[0].in_size);
	mine[NTB_VLINK_XLAT1] = upper_32_bits(vl->mw[0].in_dma);
	/*
	 * Messages may have been missed: again until the link is up.
	 * Scratchpads may have been written by another: every time (the
	 * peer's ntb_transport, before this client, clears them as its link
	 * goes, after this side may have written them).
	 */
	ntb_vlink_send(vl, mine, !vl->use_msg || fresh || !vl->is_up);
	if (fresh)
		ntb_vlink_ring(vl, NTB_VLINK_CTRL);

	if (vl->is_up || my_state != NTB_VLINK_READY ||
	    peer_state != NTB_VLINK_READY || (epoch & 0xffff) != vl->epoch)
		return vl->is_up ? NTB_VLINK_POLL_MAX_MS : vl->poll_ms;

	rmb();	/* the peer's registers before its header */
	if (ntb_vlink_map_peer(vl, ntb_vlink_read(vl, NTB_VLINK_XLAT0),
			       ntb_vlink_read(vl, NTB_VLINK_XLAT1))) {
		ntb_vlink_unmap(vl);
		return vl->poll_ms;
	}
	if (vl->ops->up(vl)) {
		ntb_vlink_unmap(vl);
		return NTB_VLINK_POLL_MAX_MS;
	}
	WRITE_ONCE(vl->is_up, true);
	ntb_vlink_show_epoch(vl);
	vl->complained = NULL;
	dev_info(&vl->ntb->dev, "virtio link up: epochs %#x here, %#x there, %u+%u windows\n",
		 vl->epoch, vl->peer_epoch, vl->nr_mw, vl->peer_nr_mw);
	/* The peer may be waiting for this side's READY. */
	ntb_vlink_ring(vl, NTB_VLINK_CTRL);
	return NTB_VLINK_POLL_MAX_MS;
}

static void ntb_vlink_work(struct work_struct *work)
{
	struct ntb_vlink *vl = container_of(to_delayed_work(work),
					    struct ntb_vlink, work);
	unsigned int next;

	mutex_lock(&vl->lock);
	if (vl->exiting) {
		mutex_unlock(&vl->lock);
		return;
	}
	next = ntb_vlink_step(vl);
	if (!vl->is_up && next == vl->poll_ms)
		vl->poll_ms = min(vl->poll_ms * 2, NTB_VLINK_POLL_MAX_MS);
	else if (vl->is_up)
		vl->poll_ms = NTB_VLINK_POLL_MIN_MS;
	mutex_unlock(&vl->lock);
	mod_delayed_work(system_wq, &vl->work, msecs_to_jiffies(next));
}

static void ntb_vlink_link_event(void *ctx)
{
	struct ntb_vlink *vl = ctx;

	vl->poll_ms = NTB_VLINK_POLL_MIN_MS;
	ntb_vlink_kick(vl);
}

static void ntb_vlink_db_event(void *ctx, int vector)
{
	struct ntb_vlink *vl = ctx;
	struct ntb_dev *ntb = vl->ntb;
	u64 bits, mask = ntb_db_vector_mask(ntb, vector);

	bits = ntb_db_read(ntb) & (mask ?: vl->db_valid);
	if (!bits)
		return;
	/* Clear first: a ring after this is seen next time. */
	ntb_db_clear(ntb, bits);
	if (bits & BIT_ULL(vl->db_ctrl))
		ntb_vlink_kick(vl);
	rcu_read_lock();
	if (READ_ONCE(vl->is_up))
		vl->ops->db(vl, bits);
	rcu_read_unlock();
}

static void ntb_vlink_msg_event(void *ctx)
{
	struct ntb_vlink *vl = ctx;
	struct ntb_dev *ntb = vl->ntb;
	unsigned long inbits = ntb_msg_inbits(ntb);
	u64 in = ntb_msg_read_sts(ntb) & inbits;
	unsigned int i = 0, bit;
	int pidx;

	/* The status bit of message register i is the ith of the inbits. */
	for_each_set_bit(bit, &inbits, BITS_PER_LONG) {
		if (i == NTB_VLINK_NR_REGS)
			break;
		if (in & BIT_ULL(bit))
			WRITE_ONCE(vl->reg[i], ntb_msg_read(ntb, &pidx, i));
		i++;
	}
	/* Taken: the peer may send the next. */
	ntb_msg_clear_sts(ntb, in);
	ntb_vlink_kick(vl);
}

static const struct ntb_ctx_ops ntb_vlink_ctx_ops = {
	.link_event	= ntb_vlink_link_event,
	.db_event	= ntb_vlink_db_event,
	.msg_event	= ntb_vlink_msg_event,
};

/**
 * ntb_vlink_init() - bring up this side of a link
 * @vl: the link, with @ntb, @role, @ops and @in_want filled in
 *
 * Checks that the NTB can carry the link (one peer, four scratchpads or
 * message registers, a memory window each way, a doorbell bit), takes the
 * NTB's context and enables its link. Once the NTB link is up, the inbound
 * buffers are allocated and translated and the client's ready() called;
 * its up() follows once the peer is there. Process context.
 *
 * Return: 0, or an error (logged) and nothing changed.
 */
int ntb_vlink_init(struct ntb_vlink *vl)
{
	struct ntb_dev *ntb = vl->ntb;
	int ret;

	if (ntb_peer_port_count(ntb) != 1) {
		dev_err(&ntb->dev, "virtio link: %d peers; only one is supported\n",
			ntb_peer_port_count(ntb));
		return -EOPNOTSUPP;
	}
	if (ntb_spad_count(ntb) >= NTB_VLINK_NR_REGS) {
		vl->use_msg = false;
	} else if (ntb_msg_count(ntb) >= NTB_VLINK_NR_REGS) {
		vl->use_msg = true;
	} else {
		dev_err(&ntb->dev, "virtio link: needs %d scratchpads or message registers; the NTB has %d and %d\n",
			NTB_VLINK_NR_REGS, ntb_spad_count(ntb), ntb_msg_count(ntb));
		return -EOPNOTSUPP;
	}
	vl->db_valid = ntb_db_valid_mask(ntb);
	if (!vl->db_valid) {
		dev_err(&ntb->dev, "virtio link: the NTB has no doorbell\n");
		return -EOPNOTSUPP;
	}
	vl->db_ctrl = __ffs64(vl->db_valid);
	vl->db_data = vl->db_valid & ~BIT_ULL(vl->db_ctrl);
	vl->nr_mw = min3(ntb_mw_count(ntb, 0), ntb_peer_mw_count(ntb),
			 NTB_VLINK_MAX_MW);
	while (vl->nr_mw > 1 && !vl->in_want[vl->nr_mw - 1])
		vl->nr_mw--;
	if (!vl->nr_mw || !vl->in_want[0]) {
		dev_err(&ntb->dev, "virtio link: the NTB has no memory window\n");
		return -EOPNOTSUPP;
	}
	mutex_init(&vl->lock);
	INIT_DELAYED_WORK(&vl->work, ntb_vlink_work);
	vl->poll_ms = NTB_VLINK_POLL_MIN_MS;
	ntb_vlink_new_epoch(vl);
	ret = ntb_set_ctx(ntb, vl, &ntb_vlink_ctx_ops);
	if (ret)
		return ret;
	if (vl->use_msg)
		ntb_msg_clear_mask(ntb, ntb_msg_inbits(ntb));
	ntb_db_clear(ntb, vl->db_valid);
	ntb_db_clear_mask(ntb, vl->db_valid);
	ntb_link_enable(ntb, NTB_SPEED_AUTO, NTB_WIDTH_AUTO);
	dev_info(&ntb->dev, "virtio link: %s side, %u windows, doorbells %#llx, %s\n",
		 vl->role == NTB_VLINK_DRIVER ? "driver" : "device", vl->nr_mw,
		 vl->db_valid, vl->use_msg ? "message registers" : "scratchpads");
	ntb_vlink_kick(vl);
	return 0;
}
EXPORT_SYMBOL_GPL(ntb_vlink_init);

/**
 * ntb_vlink_exit() - take this side of a link down for good
 * @vl: the link ntb_vlink_init() brought up
 *
 * Calls the client's down() if the link was up, tells the peer this side
 * left (STATE 0, the control doorbell), and gives the NTB back; the
 * inbound buffers stay until ntb_vlink_free(). Process context.
 */
void ntb_vlink_exit(struct ntb_vlink *vl)
{
	struct ntb_dev *ntb = vl->ntb;
	u32 gone[NTB_VLINK_NR_REGS] = {};

	mutex_lock(&vl->lock);
	vl->exiting = true;
	ntb_vlink_down(vl, "this side leaves");
	ntb_vlink_send(vl, gone, true);
	ntb_vlink_ring(vl, NTB_VLINK_CTRL);
	mutex_unlock(&vl->lock);
	ntb_db_set_mask(ntb, vl->db_valid);
	ntb_link_disable(ntb);
	ntb_clear_ctx(ntb);
	/* The work does nothing more once exiting: wait for the last run. */
	cancel_delayed_work_sync(&vl->work);
}
EXPORT_SYMBOL_GPL(ntb_vlink_exit);

MODULE_DESCRIPTION("The link layer of virtio over NTB");
MODULE_LICENSE("GPL");
