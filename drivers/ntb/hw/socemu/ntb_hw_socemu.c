// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntb_hw_socemu: the emulated NTB of the test rig.
 *
 * One NTB port per socemu doorbell device, two ports joined back to back:
 * both in one VM (the loopback) or one in each of two VMs. It models an
 * endpoint-function NTB (ntb_hw_epf facing pci-epf-vntb) configured with
 * one memory window, and keeps that part's limits; see
 * Documentation/dev-tools/socemu.rst, "The emulated NTB".
 *
 * Memory window. A port's outbound window is the socemu window (an alias
 * of the peer's RAM) at the peer's inbound slot: SOCEMU_NTB_MW_SIZE bytes
 * of the peer's RAM, aligned to their size, that the kernel command line
 * reserves (memmap=) at the same address in every VM of the rig. The
 * alias cannot be moved at run time, so the inbound translation can only
 * ever be that slot; the slot is declared as the DMA pool of the port's
 * device, so the buffer a client allocates for its inbound window is the
 * slot, and mw_set_trans() to any other address fails with -EINVAL.
 *
 * Registers. Each port owns a block of the doorbell devices' shared region
 * (the region every peer of the rig's ivshmem server maps): its identity,
 * its link enable, its scratchpads, and its doorbell and message
 * counters. Two QEMU
 * processes cannot do atomic read-modify-writes on that region, so every
 * word has one writer:
 *
 *   own block, written by this port:   MAGIC, ID, LINK, GEN, PEER_GEN,
 *                                      DB_ACK(n), MSG_ACK(n)
 *   own block, written by the peer:    DB_RING(n), MSG_VAL(n), MSG_SEQ(n)
 *   own block, written by either:      SPAD(n), plain stores as on a part
 *
 * Doorbell bit n is pending while DB_RING(n) != DB_ACK(n): the peer
 * increments DB_RING(n) and rings vector n + 1 of this port's doorbell
 * device; db_clear() copies DB_RING(n) into DB_ACK(n). A doorbell is thus
 * readable as soon as it is written, as on a part, and its interrupt (one
 * vector per bit) follows. Vector 0 says that the peer's block changed:
 * its link enable, or a message.
 *
 * Two register profiles, chosen with the "registers" parameter and the
 * same on both sides: 16 scratchpads (the default, as on Intel, AMD and
 * the endpoint-function NTB), or 4 message registers and no scratchpads,
 * as on IDT. A message is pending while MSG_SEQ(n) != MSG_ACK(n); writing
 * to a message register that is still pending fails, and sets the
 * outbound status bit, as on IDT.
 *
 * Everything read from the peer's block is untrusted: a block without
 * the magic, or with an ivshmem id out of range, is a peer that is not
 * there.
 *
 * Locking: db_lock (a spinlock, taken in hard interrupt context) protects
 * the doorbell and message masks, db_local, msg_failed and the events
 * still to report (db_fire, msg_fire), and orders this port's writes to
 * the counters of the peer's block (DB_RING, MSG_VAL and MSG_SEQ) and of
 * its own (DB_ACK, MSG_ACK). The link state is words of the shared
 * region, written by link_enable() and link_disable() only; link_work
 * alone reads and writes training and reported_up (a work item does not
 * run twice at once).
 */

#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/ntb.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/socemu.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define SOCEMU_NTB_MAX_PORTS	2

/* The inbound slots: side a's, then side b's (memmap=8M$0x1f000000). */
#define SOCEMU_NTB_SLOT_BASE	0x1f000000ULL
#define SOCEMU_NTB_MW_SIZE	SZ_4M
#define SOCEMU_NTB_MW_ALIGN	SZ_4K

/* The ports' blocks in the doorbell devices' shared region. */
#define SOCEMU_NTB_SHM_OFF	SZ_1M
#define SOCEMU_NTB_BLOCK_SIZE	0x200

#define NTB_MAGIC		0x000	/* "NTBs" once the block is valid */
#define  NTB_MAGIC_VALUE	0x4e544273
#define NTB_ID			0x004	/* ivshmem peer id + 1 */
#define NTB_LINK		0x008	/* bit 0: link enabled by this port */
#define NTB_GEN			0x00c	/* + 1 each time the port is created */
#define NTB_PEER_GEN		0x010	/* the peer's NTB_GEN this port saw */
#define NTB_SPAD(n)		(0x040 + (n) * 4)
#define NTB_DB_RING(n)		(0x100 + (n) * 4)
#define NTB_DB_ACK(n)		(0x180 + (n) * 4)
#define NTB_MSG_VAL(n)		(0x080 + (n) * 4)	/* messages profile */
#define NTB_MSG_SEQ(n)		(0x090 + (n) * 4)
#define NTB_MSG_ACK(n)		(0x0a0 + (n) * 4)

#define SOCEMU_NTB_SPADS	16
#define SOCEMU_NTB_MSGS		4
/* Message status bits, as IDT's: outbound failed, inbound received. */
#define SOCEMU_NTB_MSG_OUTBITS	GENMASK_ULL(SOCEMU_NTB_MSGS - 1, 0)
#define SOCEMU_NTB_MSG_INBITS	GENMASK_ULL(16 + SOCEMU_NTB_MSGS - 1, 16)
/* Vector 0 is the block-changed event, a doorbell bit per vector after. */
#define SOCEMU_NTB_VEC_EVENT	0
/*
 * A PCIe link takes tens of milliseconds to train once both ends let it:
 * its link-up interrupt comes that much after the second port enabled it.
 * (ntb_transport loses a link-up event that follows its own link-down
 * event at once, as in a loopback where both ports enable within
 * microseconds.)
 */
#define SOCEMU_NTB_TRAIN_MS	20
#define SOCEMU_NTB_MAX_DB	31

static char *ports;
module_param(ports, charp, 0444);
MODULE_PARM_DESC(ports,
		 "Ports to create: DOORBELL:WINDOW:SIDE[,...], side a or b (e.g. 0:2:a,1:3:b)");

static char *registers = "scratchpads";
module_param(registers, charp, 0444);
MODULE_PARM_DESC(registers,
		 "The ports' registers: scratchpads (16, the default) or messages (4)");

struct socemu_ntb {
	struct ntb_dev ntb;
	struct socemu_doorbell *db;
	struct socemu_window *win;
	unsigned int side;		/* 0 (a) or 1 (b) */
	void __iomem *own;		/* this port's block */
	void __iomem *peer;		/* the peer's block */
	phys_addr_t slot;		/* this port's inbound slot */
	phys_addr_t peer_mw;		/* CPU address of the outbound window */
	unsigned int db_count;
	u64 db_valid;

	spinlock_t db_lock;		/* see "Locking" above */
	u64 db_mask;
	u64 db_local;			/* set by db_set() */
	u64 db_fire;			/* unmasked while pending: to report */
	u64 msg_mask;
	u64 msg_failed;			/* outbound status bits */
	bool msg_fire;			/* a message event to report */
	struct irq_work db_work;
	struct delayed_work link_work;
	bool training;			/* link_work only */
	bool reported_up;		/* link_work only */
	struct dentry *dbgfs;
};

static struct socemu_ntb *socemu_ntbs[SOCEMU_NTB_MAX_PORTS];
static struct dentry *socemu_ntb_dbgfs;

static struct socemu_ntb *to_sntb(struct ntb_dev *ntb)
{
	return container_of(ntb, struct socemu_ntb, ntb);
}

static phys_addr_t socemu_ntb_slot(unsigned int side)
{
	return SOCEMU_NTB_SLOT_BASE + side * SOCEMU_NTB_MW_SIZE;
}

/* The peer's ivshmem id, or -ENOTCONN if its block is not valid. */
static int socemu_ntb_peer_id(struct socemu_ntb *sn)
{
	u32 id;

	if (ioread32(sn->peer + NTB_MAGIC) != NTB_MAGIC_VALUE)
		return -ENOTCONN;
	id = ioread32(sn->peer + NTB_ID);
	if (!id || id > U16_MAX + 1)
		return -ENOTCONN;
	return id - 1;
}

static void socemu_ntb_ring_peer(struct socemu_ntb *sn, unsigned int vector)
{
	int id = socemu_ntb_peer_id(sn);

	/* A doorbell to a port that is not there goes nowhere. */
	if (id >= 0)
		socemu_doorbell_ring(sn->db, id, vector);
}

/*
 * Link. It is up while both ports have enabled it and each has seen the
 * other's present generation, and both ports read that at once, as both
 * ends of a link read its status. A port created again (a module reload,
 * a VM's reboot) has a new generation: the link is down, and reported
 * down on the other side, until that side has seen it. The link-up event
 * comes SOCEMU_NTB_TRAIN_MS after the link came up, the link-down event
 * at once.
 */

static bool socemu_ntb_link_up_now(struct socemu_ntb *sn)
{
	return (ioread32(sn->own + NTB_LINK) & 1) &&
	       socemu_ntb_peer_id(sn) >= 0 &&
	       (ioread32(sn->peer + NTB_LINK) & 1) &&
	       ioread32(sn->own + NTB_PEER_GEN) == ioread32(sn->peer + NTB_GEN) &&
	       ioread32(sn->peer + NTB_PEER_GEN) == ioread32(sn->own + NTB_GEN);
}

static u64 socemu_ntb_link_is_up(struct ntb_dev *ntb, enum ntb_speed *speed,
				 enum ntb_width *width)
{
	bool up = socemu_ntb_link_up_now(to_sntb(ntb));

	if (speed)
		*speed = up ? NTB_SPEED_GEN3 : NTB_SPEED_NONE;
	if (width)
		*width = up ? NTB_WIDTH_4 : NTB_WIDTH_NONE;
	return up ? BIT_ULL(0) : 0;
}

/* Either block changed: report the link's state, in any context. */
static void socemu_ntb_link_changed(struct socemu_ntb *sn)
{
	if (socemu_ntb_link_up_now(sn))
		schedule_delayed_work(&sn->link_work, 0);
	else
		mod_delayed_work(system_wq, &sn->link_work, 0);
}

static void socemu_ntb_set_link(struct socemu_ntb *sn, bool enable)
{
	iowrite32(enable, sn->own + NTB_LINK);
	socemu_ntb_ring_peer(sn, SOCEMU_NTB_VEC_EVENT);
	socemu_ntb_link_changed(sn);
}

static int socemu_ntb_link_enable(struct ntb_dev *ntb,
				  enum ntb_speed max_speed,
				  enum ntb_width max_width)
{
	socemu_ntb_set_link(to_sntb(ntb), true);
	return 0;
}

static int socemu_ntb_link_disable(struct ntb_dev *ntb)
{
	socemu_ntb_set_link(to_sntb(ntb), false);
	return 0;
}

static void socemu_ntb_link_work(struct work_struct *work)
{
	struct socemu_ntb *sn = container_of(to_delayed_work(work),
					     struct socemu_ntb, link_work);
	u32 gen = ioread32(sn->peer + NTB_GEN);
	bool up;

	if (socemu_ntb_peer_id(sn) >= 0 &&
	    gen != ioread32(sn->own + NTB_PEER_GEN)) {
		/* A new peer: the link with the one before it is gone. */
		if (sn->reported_up) {
			sn->reported_up = false;
			ntb_link_event(&sn->ntb);
		}
		iowrite32(gen, sn->own + NTB_PEER_GEN);
		socemu_ntb_ring_peer(sn, SOCEMU_NTB_VEC_EVENT);
	}
	up = socemu_ntb_link_up_now(sn);
	if (up && !sn->reported_up && !sn->training) {
		sn->training = true;
		schedule_delayed_work(&sn->link_work,
				      msecs_to_jiffies(SOCEMU_NTB_TRAIN_MS));
		return;
	}
	sn->training = false;
	sn->reported_up = up;
	ntb_link_event(&sn->ntb);
}

/* Memory windows */

static int socemu_ntb_mw_count(struct ntb_dev *ntb, int pidx)
{
	return pidx ? -EINVAL : 1;
}

static int socemu_ntb_mw_get_align(struct ntb_dev *ntb, int pidx, int widx,
				   resource_size_t *addr_align,
				   resource_size_t *size_align,
				   resource_size_t *size_max)
{
	if (pidx || widx)
		return -EINVAL;
	if (addr_align)
		*addr_align = SOCEMU_NTB_MW_ALIGN;
	if (size_align)
		*size_align = SOCEMU_NTB_MW_ALIGN;
	if (size_max)
		*size_max = SOCEMU_NTB_MW_SIZE;
	return 0;
}

static int socemu_ntb_mw_set_trans(struct ntb_dev *ntb, int pidx, int widx,
				   dma_addr_t addr, resource_size_t size)
{
	struct socemu_ntb *sn = to_sntb(ntb);

	if (pidx || widx)
		return -EINVAL;
	if (!size || size > SOCEMU_NTB_MW_SIZE ||
	    !IS_ALIGNED(size, SOCEMU_NTB_MW_ALIGN)) {
		dev_err(&ntb->dev, "MW0: size %pa out of the window's limits\n",
			&size);
		return -EINVAL;
	}
	if (addr != sn->slot) {
		dev_err(&ntb->dev,
			"MW0: translation to %pad refused: this window only translates to %pa\n",
			&addr, &sn->slot);
		return -EINVAL;
	}
	return 0;
}

static int socemu_ntb_mw_clear_trans(struct ntb_dev *ntb, int pidx, int widx)
{
	return pidx || widx ? -EINVAL : 0;
}

static int socemu_ntb_peer_mw_count(struct ntb_dev *ntb)
{
	return 1;
}

static int socemu_ntb_peer_mw_get_addr(struct ntb_dev *ntb, int widx,
				       phys_addr_t *base,
				       resource_size_t *size)
{
	if (widx)
		return -EINVAL;
	if (base)
		*base = to_sntb(ntb)->peer_mw;
	if (size)
		*size = SOCEMU_NTB_MW_SIZE;
	return 0;
}

/* Doorbells */

static u64 socemu_ntb_db_valid_mask(struct ntb_dev *ntb)
{
	return to_sntb(ntb)->db_valid;
}

static int socemu_ntb_db_vector_count(struct ntb_dev *ntb)
{
	return to_sntb(ntb)->db_count;
}

static u64 socemu_ntb_db_vector_mask(struct ntb_dev *ntb, int db_vector)
{
	struct socemu_ntb *sn = to_sntb(ntb);

	if (db_vector < 0 || db_vector >= sn->db_count)
		return 0;
	return BIT_ULL(db_vector);
}

/*
 * Doorbells and messages are banks of counter pairs in a port's block:
 * the peer increments the first of pair n, the port copies it into the
 * second when it clears n. Pair n is pending while they differ.
 */
static u64 socemu_ntb_pending(void __iomem *sent, void __iomem *seen,
			      unsigned int count)
{
	unsigned int n;
	u64 bits = 0;

	for (n = 0; n < count; n++)
		if (ioread32(sent + n * 4) != ioread32(seen + n * 4))
			bits |= BIT_ULL(n);
	return bits;
}

static void socemu_ntb_seen(void __iomem *sent, void __iomem *seen,
			    unsigned int count, u64 bits)
{
	unsigned int n;

	for (n = 0; n < count; n++)
		if (bits & BIT_ULL(n))
			iowrite32(ioread32(sent + n * 4), seen + n * 4);
}

/* The bits the peer rang and this port has not cleared. */
static u64 socemu_ntb_db_rung(struct socemu_ntb *sn)
{
	return socemu_ntb_pending(sn->own + NTB_DB_RING(0),
				  sn->own + NTB_DB_ACK(0), sn->db_count);
}

static u64 socemu_ntb_db_read(struct ntb_dev *ntb)
{
	struct socemu_ntb *sn = to_sntb(ntb);

	return socemu_ntb_db_rung(sn) | READ_ONCE(sn->db_local);
}

/* Report @bits, pending and now unmasked, from hard interrupt context. */
static void socemu_ntb_db_fire(struct socemu_ntb *sn, u64 bits)
{
	if (!bits)
		return;
	sn->db_fire |= bits;
	irq_work_queue(&sn->db_work);
}

static int socemu_ntb_db_set(struct ntb_dev *ntb, u64 db_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (db_bits & ~sn->db_valid)
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->db_local, sn->db_local | db_bits);
	socemu_ntb_db_fire(sn, db_bits & ~sn->db_mask);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static int socemu_ntb_db_clear(struct ntb_dev *ntb, u64 db_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (db_bits & ~sn->db_valid)
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->db_local, sn->db_local & ~db_bits);
	socemu_ntb_seen(sn->own + NTB_DB_RING(0), sn->own + NTB_DB_ACK(0),
			sn->db_count, db_bits);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static u64 socemu_ntb_db_read_mask(struct ntb_dev *ntb)
{
	return READ_ONCE(to_sntb(ntb)->db_mask);
}

static int socemu_ntb_db_set_mask(struct ntb_dev *ntb, u64 db_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (db_bits & ~sn->db_valid)
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->db_mask, sn->db_mask | db_bits);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static int socemu_ntb_db_clear_mask(struct ntb_dev *ntb, u64 db_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;
	u64 unmasked;

	if (db_bits & ~sn->db_valid)
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	unmasked = sn->db_mask & db_bits;
	WRITE_ONCE(sn->db_mask, sn->db_mask & ~db_bits);
	/* As on a part, unmasking a pending bit raises its interrupt. */
	socemu_ntb_db_fire(sn, unmasked & socemu_ntb_db_read(ntb));
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static int socemu_ntb_peer_db_set(struct ntb_dev *ntb, u64 db_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;
	unsigned int n;

	if (db_bits & ~sn->db_valid)
		return -EINVAL;
	for (n = 0; n < sn->db_count; n++) {
		if (!(db_bits & BIT_ULL(n)))
			continue;
		/* This port is the only writer of the peer's DB_RING words. */
		spin_lock_irqsave(&sn->db_lock, flags);
		iowrite32(ioread32(sn->peer + NTB_DB_RING(n)) + 1,
			  sn->peer + NTB_DB_RING(n));
		spin_unlock_irqrestore(&sn->db_lock, flags);
		socemu_ntb_ring_peer(sn, n + 1);
	}
	return 0;
}

static void socemu_ntb_db_work(struct irq_work *work)
{
	struct socemu_ntb *sn = container_of(work, struct socemu_ntb, db_work);
	unsigned long flags;
	unsigned int n;
	u64 fire;

	bool msg;

	spin_lock_irqsave(&sn->db_lock, flags);
	fire = sn->db_fire;
	sn->db_fire = 0;
	msg = sn->msg_fire;
	sn->msg_fire = false;
	spin_unlock_irqrestore(&sn->db_lock, flags);
	for (n = 0; n < sn->db_count; n++)
		if (fire & BIT_ULL(n))
			ntb_db_event(&sn->ntb, n);
	if (msg)
		ntb_msg_event(&sn->ntb);
}

/* Scratchpads */

static int socemu_ntb_spad_count(struct ntb_dev *ntb)
{
	return SOCEMU_NTB_SPADS;
}

static bool socemu_ntb_spad_ok(struct ntb_dev *ntb, int pidx, int sidx)
{
	return !pidx && sidx >= 0 && sidx < SOCEMU_NTB_SPADS;
}

static u32 socemu_ntb_spad_read(struct ntb_dev *ntb, int sidx)
{
	if (!socemu_ntb_spad_ok(ntb, 0, sidx))
		return 0;
	return ioread32(to_sntb(ntb)->own + NTB_SPAD(sidx));
}

static int socemu_ntb_spad_write(struct ntb_dev *ntb, int sidx, u32 val)
{
	if (!socemu_ntb_spad_ok(ntb, 0, sidx))
		return -EINVAL;
	iowrite32(val, to_sntb(ntb)->own + NTB_SPAD(sidx));
	return 0;
}

static u32 socemu_ntb_peer_spad_read(struct ntb_dev *ntb, int pidx, int sidx)
{
	if (!socemu_ntb_spad_ok(ntb, pidx, sidx))
		return 0;
	return ioread32(to_sntb(ntb)->peer + NTB_SPAD(sidx));
}

static int socemu_ntb_peer_spad_write(struct ntb_dev *ntb, int pidx,
				      int sidx, u32 val)
{
	if (!socemu_ntb_spad_ok(ntb, pidx, sidx))
		return -EINVAL;
	iowrite32(val, to_sntb(ntb)->peer + NTB_SPAD(sidx));
	return 0;
}

/* Message registers */

static int socemu_ntb_msg_count(struct ntb_dev *ntb)
{
	return SOCEMU_NTB_MSGS;
}

static u64 socemu_ntb_msg_inbits(struct ntb_dev *ntb)
{
	return SOCEMU_NTB_MSG_INBITS;
}

static u64 socemu_ntb_msg_outbits(struct ntb_dev *ntb)
{
	return SOCEMU_NTB_MSG_OUTBITS;
}

/* The inbound status bits: messages the peer sent, not yet cleared. */
static u64 socemu_ntb_msg_received(struct socemu_ntb *sn)
{
	return socemu_ntb_pending(sn->own + NTB_MSG_SEQ(0),
				  sn->own + NTB_MSG_ACK(0),
				  SOCEMU_NTB_MSGS) << 16;
}

static u64 socemu_ntb_msg_read_sts(struct ntb_dev *ntb)
{
	struct socemu_ntb *sn = to_sntb(ntb);

	return socemu_ntb_msg_received(sn) | READ_ONCE(sn->msg_failed);
}

static int socemu_ntb_msg_clear_sts(struct ntb_dev *ntb, u64 sts_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (sts_bits & ~(SOCEMU_NTB_MSG_INBITS | SOCEMU_NTB_MSG_OUTBITS))
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->msg_failed, sn->msg_failed & ~sts_bits);
	socemu_ntb_seen(sn->own + NTB_MSG_SEQ(0), sn->own + NTB_MSG_ACK(0),
			SOCEMU_NTB_MSGS, sts_bits >> 16);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static int socemu_ntb_msg_set_mask(struct ntb_dev *ntb, u64 mask_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (mask_bits & ~(SOCEMU_NTB_MSG_INBITS | SOCEMU_NTB_MSG_OUTBITS))
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->msg_mask, sn->msg_mask | mask_bits);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static void socemu_ntb_msg_check(struct socemu_ntb *sn)
{
	if (socemu_ntb_msg_received(sn) & ~sn->msg_mask) {
		sn->msg_fire = true;
		irq_work_queue(&sn->db_work);
	}
}

static int socemu_ntb_msg_clear_mask(struct ntb_dev *ntb, u64 mask_bits)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;

	if (mask_bits & ~(SOCEMU_NTB_MSG_INBITS | SOCEMU_NTB_MSG_OUTBITS))
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	WRITE_ONCE(sn->msg_mask, sn->msg_mask & ~mask_bits);
	socemu_ntb_msg_check(sn);
	spin_unlock_irqrestore(&sn->db_lock, flags);
	return 0;
}

static u32 socemu_ntb_msg_read(struct ntb_dev *ntb, int *pidx, int midx)
{
	if (midx < 0 || midx >= SOCEMU_NTB_MSGS)
		return ~0;
	if (pidx)
		*pidx = 0;
	return ioread32(to_sntb(ntb)->own + NTB_MSG_VAL(midx));
}

static int socemu_ntb_peer_msg_write(struct ntb_dev *ntb, int pidx, int midx,
				     u32 msg)
{
	struct socemu_ntb *sn = to_sntb(ntb);
	unsigned long flags;
	u32 seq;

	if (pidx || midx < 0 || midx >= SOCEMU_NTB_MSGS)
		return -EINVAL;
	spin_lock_irqsave(&sn->db_lock, flags);
	/* This port is the only writer of the peer's MSG_VAL and MSG_SEQ. */
	seq = ioread32(sn->peer + NTB_MSG_SEQ(midx));
	if (seq != ioread32(sn->peer + NTB_MSG_ACK(midx))) {
		/* Not delivered: the client reads the status, as on IDT. */
		WRITE_ONCE(sn->msg_failed, sn->msg_failed | BIT_ULL(midx));
		spin_unlock_irqrestore(&sn->db_lock, flags);
		return 0;
	}
	iowrite32(msg, sn->peer + NTB_MSG_VAL(midx));
	/* The value is there before the peer sees the message pending. */
	wmb();
	iowrite32(seq + 1, sn->peer + NTB_MSG_SEQ(midx));
	spin_unlock_irqrestore(&sn->db_lock, flags);
	socemu_ntb_ring_peer(sn, SOCEMU_NTB_VEC_EVENT);
	return 0;
}

#define SOCEMU_NTB_COMMON_OPS						\
	.link_is_up		= socemu_ntb_link_is_up,		\
	.link_enable		= socemu_ntb_link_enable,		\
	.link_disable		= socemu_ntb_link_disable,		\
	.mw_count		= socemu_ntb_mw_count,			\
	.mw_get_align		= socemu_ntb_mw_get_align,		\
	.mw_set_trans		= socemu_ntb_mw_set_trans,		\
	.mw_clear_trans		= socemu_ntb_mw_clear_trans,		\
	.peer_mw_count		= socemu_ntb_peer_mw_count,		\
	.peer_mw_get_addr	= socemu_ntb_peer_mw_get_addr,		\
	.db_valid_mask		= socemu_ntb_db_valid_mask,		\
	.db_vector_count	= socemu_ntb_db_vector_count,		\
	.db_vector_mask		= socemu_ntb_db_vector_mask,		\
	.db_read		= socemu_ntb_db_read,			\
	.db_set			= socemu_ntb_db_set,			\
	.db_clear		= socemu_ntb_db_clear,			\
	.db_read_mask		= socemu_ntb_db_read_mask,		\
	.db_set_mask		= socemu_ntb_db_set_mask,		\
	.db_clear_mask		= socemu_ntb_db_clear_mask,		\
	.peer_db_set		= socemu_ntb_peer_db_set

static const struct ntb_dev_ops socemu_ntb_msg_ops = {
	SOCEMU_NTB_COMMON_OPS,
	.msg_count		= socemu_ntb_msg_count,
	.msg_inbits		= socemu_ntb_msg_inbits,
	.msg_outbits		= socemu_ntb_msg_outbits,
	.msg_read_sts		= socemu_ntb_msg_read_sts,
	.msg_clear_sts		= socemu_ntb_msg_clear_sts,
	.msg_set_mask		= socemu_ntb_msg_set_mask,
	.msg_clear_mask		= socemu_ntb_msg_clear_mask,
	.msg_read		= socemu_ntb_msg_read,
	.peer_msg_write		= socemu_ntb_peer_msg_write,
};

static const struct ntb_dev_ops socemu_ntb_spad_ops = {
	SOCEMU_NTB_COMMON_OPS,
	.spad_count		= socemu_ntb_spad_count,
	.spad_read		= socemu_ntb_spad_read,
	.spad_write		= socemu_ntb_spad_write,
	.peer_spad_read		= socemu_ntb_peer_spad_read,
	.peer_spad_write	= socemu_ntb_peer_spad_write,
};

/* Hard interrupt context, under the doorbell's lock. */
static void socemu_ntb_rung(struct socemu_doorbell *db, unsigned int vector,
			    void *data)
{
	struct socemu_ntb *sn = data;
	u64 bit;

	if (vector == SOCEMU_NTB_VEC_EVENT) {
		socemu_ntb_link_changed(sn);
		if (sn->ntb.ops == &socemu_ntb_msg_ops) {
			spin_lock(&sn->db_lock);
			socemu_ntb_msg_check(sn);
			spin_unlock(&sn->db_lock);
		}
		return;
	}
	if (vector > sn->db_count)
		return;
	bit = BIT_ULL(vector - 1);
	spin_lock(&sn->db_lock);
	if (!(sn->db_mask & bit))
		socemu_ntb_db_fire(sn, bit);
	spin_unlock(&sn->db_lock);
}

/* debugfs "info": both blocks as they are, and this port's own state. */
static void socemu_ntb_show_block(struct seq_file *s, const char *name,
				  void __iomem *blk, unsigned int db_count)
{
	unsigned int n;

	seq_printf(s, "%s: magic %#x id %u link %u\n", name,
		   ioread32(blk + NTB_MAGIC), ioread32(blk + NTB_ID),
		   ioread32(blk + NTB_LINK));
	seq_printf(s, "%s: spads", name);
	for (n = 0; n < SOCEMU_NTB_SPADS; n++)
		seq_printf(s, " %#x", ioread32(blk + NTB_SPAD(n)));
	seq_printf(s, "\n%s: doorbells rung/cleared", name);
	for (n = 0; n < db_count; n++)
		seq_printf(s, " %u/%u", ioread32(blk + NTB_DB_RING(n)),
			   ioread32(blk + NTB_DB_ACK(n)));
	seq_printf(s, "\n%s: messages sent/cleared", name);
	for (n = 0; n < SOCEMU_NTB_MSGS; n++)
		seq_printf(s, " %u/%u", ioread32(blk + NTB_MSG_SEQ(n)),
			   ioread32(blk + NTB_MSG_ACK(n)));
	seq_puts(s, "\n");
}

static int socemu_ntb_info_show(struct seq_file *s, void *unused)
{
	struct socemu_ntb *sn = s->private;

	seq_printf(s, "side %c, link %s, db mask %#llx, msg mask %#llx\n",
		   'a' + sn->side,
		   socemu_ntb_link_is_up(&sn->ntb, NULL, NULL) ? "up" : "down",
		   READ_ONCE(sn->db_mask), READ_ONCE(sn->msg_mask));
	socemu_ntb_show_block(s, "own", sn->own, sn->db_count);
	socemu_ntb_show_block(s, "peer", sn->peer, sn->db_count);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(socemu_ntb_info);

/*
 * debugfs "window_probe", for the rig's tests: the outbound window mapped
 * as a client maps it (ntb_peer_mw_get_addr(), then ioremap_wc() of that
 * range), and whether its first and last bytes and the byte past its
 * end can be read.
 */
static int socemu_ntb_window_probe_show(struct seq_file *s, void *unused)
{
	struct socemu_ntb *sn = s->private;
	resource_size_t size;
	void __iomem *virt;
	phys_addr_t base;
	char what[80];
	int ret;

	ret = ntb_peer_mw_get_addr(&sn->ntb, 0, &base, &size);
	if (ret)
		return ret;
	virt = ioremap_wc(base, size);
	if (!virt)
		return -ENOMEM;
	socemu_probe_mapping(virt, size, what, sizeof(what));
	iounmap(virt);
	seq_printf(s, "MW0 %pa+%pa: %s\n", &base, &size, what);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(socemu_ntb_window_probe);

/* Make this port's block valid, from reset: no link, nothing pending. */
static void socemu_ntb_publish(struct socemu_ntb *sn)
{
	unsigned int n;

	iowrite32(0, sn->own + NTB_MAGIC);
	iowrite32(0, sn->own + NTB_LINK);
	for (n = 0; n < SOCEMU_NTB_SPADS; n++)
		iowrite32(0, sn->own + NTB_SPAD(n));
	socemu_ntb_seen(sn->own + NTB_DB_RING(0), sn->own + NTB_DB_ACK(0),
			sn->db_count, U64_MAX);
	socemu_ntb_seen(sn->own + NTB_MSG_SEQ(0), sn->own + NTB_MSG_ACK(0),
			SOCEMU_NTB_MSGS, U64_MAX);
	iowrite32(socemu_doorbell_id(sn->db) + 1, sn->own + NTB_ID);
	iowrite32(ioread32(sn->own + NTB_GEN) + 1, sn->own + NTB_GEN);
	iowrite32(0, sn->own + NTB_PEER_GEN);
	/* The block is whole before the peer can take it as valid. */
	wmb();
	iowrite32(NTB_MAGIC_VALUE, sn->own + NTB_MAGIC);
	socemu_ntb_ring_peer(sn, SOCEMU_NTB_VEC_EVENT);
}

static void socemu_ntb_withdraw(struct socemu_ntb *sn)
{
	iowrite32(0, sn->own + NTB_LINK);
	iowrite32(0, sn->own + NTB_MAGIC);
	socemu_ntb_ring_peer(sn, SOCEMU_NTB_VEC_EVENT);
}

static void socemu_ntb_destroy(struct socemu_ntb *sn)
{
	debugfs_remove_recursive(sn->dbgfs);
	ntb_unregister_device(&sn->ntb);
	socemu_doorbell_clear_handler(sn->db);
	cancel_delayed_work_sync(&sn->link_work);
	irq_work_sync(&sn->db_work);
	socemu_ntb_withdraw(sn);
	socemu_doorbell_put(sn->db);
	socemu_window_put(sn->win);
	kfree(sn);
}

static struct socemu_ntb *socemu_ntb_create(unsigned int doorbell,
					    unsigned int window,
					    unsigned int side,
					    const struct ntb_dev_ops *ops)
{
	struct socemu_ntb *sn;
	void __iomem *shm;
	size_t shm_size;
	u64 peer_slot;
	int ret;

	sn = kzalloc(sizeof(*sn), GFP_KERNEL);
	if (!sn)
		return ERR_PTR(-ENOMEM);
	sn->side = side;
	sn->slot = socemu_ntb_slot(side);
	spin_lock_init(&sn->db_lock);
	init_irq_work(&sn->db_work, socemu_ntb_db_work);
	INIT_DELAYED_WORK(&sn->link_work, socemu_ntb_link_work);

	sn->db = socemu_doorbell_get(doorbell);
	if (IS_ERR(sn->db)) {
		ret = PTR_ERR(sn->db);
		pr_err("ntb_hw_socemu: doorbell %u: %d\n", doorbell, ret);
		goto err_free;
	}
	sn->win = socemu_window_get(window);
	if (IS_ERR(sn->win)) {
		ret = PTR_ERR(sn->win);
		pr_err("ntb_hw_socemu: window %u: %d\n", window, ret);
		goto err_db;
	}

	shm = socemu_doorbell_shm(sn->db, &shm_size);
	if (shm_size < SOCEMU_NTB_SHM_OFF +
		       SOCEMU_NTB_MAX_PORTS * SOCEMU_NTB_BLOCK_SIZE) {
		pr_err("ntb_hw_socemu: doorbell %u: shared region of %zu bytes is too small\n",
		       doorbell, shm_size);
		ret = -ENOSPC;
		goto err_win;
	}
	shm += SOCEMU_NTB_SHM_OFF;
	sn->own = shm + side * SOCEMU_NTB_BLOCK_SIZE;
	sn->peer = shm + !side * SOCEMU_NTB_BLOCK_SIZE;

	peer_slot = socemu_ntb_slot(!side);
	if (peer_slot + SOCEMU_NTB_MW_SIZE > socemu_window_size(sn->win)) {
		pr_err("ntb_hw_socemu: window %u does not reach the peer's slot %#llx\n",
		       window, peer_slot);
		ret = -ENOSPC;
		goto err_win;
	}
	sn->peer_mw = socemu_window_phys(sn->win) + peer_slot;

	sn->db_count = min(socemu_doorbell_vectors(sn->db) - 1,
			   SOCEMU_NTB_MAX_DB);
	sn->db_valid = GENMASK_ULL(sn->db_count - 1, 0);
	sn->db_mask = sn->db_valid;
	sn->msg_mask = SOCEMU_NTB_MSG_INBITS | SOCEMU_NTB_MSG_OUTBITS;

	ret = socemu_doorbell_reserve_dma(sn->db, sn->slot, SOCEMU_NTB_MW_SIZE);
	if (ret)
		goto err_win;

	sn->ntb.pdev = to_pci_dev(socemu_doorbell_dev(sn->db));
	sn->ntb.topo = NTB_TOPO_NONE;
	sn->ntb.ops = ops;

	/*
	 * The block is valid before clients can probe and enable the link;
	 * events are handled once the NTB core can take them (it sets up
	 * the device's context lock in ntb_register_device()), and the
	 * link's state is then looked at for what came before.
	 */
	socemu_ntb_publish(sn);
	ret = ntb_register_device(&sn->ntb);
	if (ret) {
		/* ntb_register_device() has put the device. */
		pr_err("ntb_hw_socemu: doorbell %u: cannot register: %d\n",
		       doorbell, ret);
		cancel_delayed_work_sync(&sn->link_work);
		socemu_ntb_withdraw(sn);
		goto err_win;
	}
	socemu_doorbell_set_handler(sn->db, socemu_ntb_rung, sn);
	socemu_ntb_link_changed(sn);
	sn->dbgfs = debugfs_create_dir(dev_name(&sn->ntb.dev), socemu_ntb_dbgfs);
	debugfs_create_file("info", 0400, sn->dbgfs, sn, &socemu_ntb_info_fops);
	debugfs_create_file("window_probe", 0400, sn->dbgfs, sn,
			    &socemu_ntb_window_probe_fops);
	dev_info(&sn->ntb.dev,
		 "side %c: inbound slot %pa, outbound window %pa, %u doorbells, %s\n",
		 'a' + side, &sn->slot, &sn->peer_mw, sn->db_count,
		 ops == &socemu_ntb_msg_ops ? "4 message registers" :
					      "16 scratchpads");
	return sn;

err_win:
	socemu_window_put(sn->win);
err_db:
	socemu_doorbell_put(sn->db);
err_free:
	kfree(sn);
	return ERR_PTR(ret);
}

/* "D:W:S": doorbell D, window W, side S (a or b). */
static int socemu_ntb_parse(char *spec, unsigned int *db, unsigned int *win,
			    unsigned int *side)
{
	char *d = strsep(&spec, ":"), *w = strsep(&spec, ":");

	if (!d || !w || !spec || kstrtouint(d, 0, db) ||
	    kstrtouint(w, 0, win) || strlen(spec) != 1 ||
	    (spec[0] != 'a' && spec[0] != 'b'))
		return -EINVAL;
	*side = spec[0] - 'a';
	return 0;
}

static void socemu_ntb_destroy_all(void)
{
	int i;

	for (i = SOCEMU_NTB_MAX_PORTS - 1; i >= 0; i--) {
		if (socemu_ntbs[i])
			socemu_ntb_destroy(socemu_ntbs[i]);
		socemu_ntbs[i] = NULL;
	}
}

static int __init socemu_ntb_init(void)
{
	unsigned int n = 0, db, win, side, sides = 0;
	const struct ntb_dev_ops *ops;
	char *list, *spec, *cur;
	int ret = 0;

	if (!strcmp(registers, "scratchpads")) {
		ops = &socemu_ntb_spad_ops;
	} else if (!strcmp(registers, "messages")) {
		ops = &socemu_ntb_msg_ops;
	} else {
		pr_err("ntb_hw_socemu: registers=%s: want scratchpads or messages\n",
		       registers);
		return -EINVAL;
	}

	if (!ports || !*ports) {
		pr_err("ntb_hw_socemu: no ports given (ports=DOORBELL:WINDOW:SIDE,...)\n");
		return -EINVAL;
	}
	list = kstrdup(ports, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	socemu_ntb_dbgfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	cur = list;
	while ((spec = strsep(&cur, ",")) != NULL) {
		if (n == SOCEMU_NTB_MAX_PORTS ||
		    socemu_ntb_parse(spec, &db, &win, &side) ||
		    (sides & BIT(side))) {
			pr_err("ntb_hw_socemu: ports=%s: want at most one port a side, as DOORBELL:WINDOW:SIDE with SIDE a or b\n",
			       ports);
			ret = -EINVAL;
			break;
		}
		sides |= BIT(side);
		socemu_ntbs[n] = socemu_ntb_create(db, win, side, ops);
		if (IS_ERR(socemu_ntbs[n])) {
			ret = PTR_ERR(socemu_ntbs[n]);
			socemu_ntbs[n] = NULL;
			break;
		}
		n++;
	}
	kfree(list);
	if (ret) {
		socemu_ntb_destroy_all();
		debugfs_remove(socemu_ntb_dbgfs);
	}
	return ret;
}
module_init(socemu_ntb_init);

static void __exit socemu_ntb_exit(void)
{
	socemu_ntb_destroy_all();
	debugfs_remove(socemu_ntb_dbgfs);
}
module_exit(socemu_ntb_exit);

MODULE_DESCRIPTION("Emulated NTB of the vhost-soc test rig");
MODULE_LICENSE("GPL");
