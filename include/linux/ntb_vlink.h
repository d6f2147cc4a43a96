/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntb_vlink: the link layer of virtio over NTB.
 *
 * Both ends of virtio over an NTB, the driver side (virtio_ntb) and the
 * device side (ntb_vhost), bring their link up the same way: each gives
 * the other an inbound buffer behind its memory windows, they meet through
 * four link registers (scratchpads, or message registers where the part
 * has none), and each then reads the other's window header through its
 * outbound windows. ntb_vlink does that once for both, using only the
 * common NTB API, and tells its client when the link is up (both windows
 * reachable, the peer's header checked) and down (the link went, the peer
 * restarted or left). See Documentation/driver-api/virtio-ntb.rst.
 */
#ifndef _LINUX_NTB_VLINK_H
#define _LINUX_NTB_VLINK_H

#include <linux/bits.h>
#include <linux/limits.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct ntb_dev;
struct ntb_vlink;

/* Memory windows a link uses at most, each way. */
#define NTB_VLINK_MAX_MW	8
/* The window header, at the start of each side's inbound window 0. */
#define NTB_VLINK_HDR_SIZE	4096
/* The peer's control doorbell bit, for ntb_vlink_ring(). */
#define NTB_VLINK_CTRL		U32_MAX
/* Where the client's own header words start, in the window header. */
#define NTB_VLINK_HDR_CLIENT	0x100
/* The device side's header words: its register blocks, after the header. */
#define NTB_VLINK_HDR_NR_BLOCKS		(NTB_VLINK_HDR_CLIENT + 0x0)
#define NTB_VLINK_HDR_BLOCK_SIZE	(NTB_VLINK_HDR_CLIENT + 0x4)
#define NTB_VLINK_MAX_BLOCKS		15
/* Link addresses: a window number << NTB_VLINK_ADDR_SHIFT | an offset. */
#define NTB_VLINK_ADDR_SHIFT	48
#define NTB_VLINK_ADDR_WIN(a)	((unsigned int)((a) >> NTB_VLINK_ADDR_SHIFT))
#define NTB_VLINK_ADDR_OFF(a)	((a) & GENMASK_ULL(NTB_VLINK_ADDR_SHIFT - 1, 0))

/**
 * enum ntb_vlink_role - what a side of the link is
 * @NTB_VLINK_DRIVER: the virtio driver side (virtio_ntb)
 * @NTB_VLINK_DEVICE: the virtio device side (ntb_vhost)
 */
enum ntb_vlink_role {
	NTB_VLINK_DRIVER = 1,
	NTB_VLINK_DEVICE = 2,
};

/**
 * struct ntb_vlink_mw - one memory window, each way
 * @in_va: this side's inbound buffer, which the peer reaches.
 * @in_dma: its address, as the NTB's DMA device sees it.
 * @in_size: its size.
 * @out_va: the peer's inbound buffer, mapped through the outbound window,
 *	while the link is up.
 * @out_size: how much of it this side reaches: the smaller of the peer's
 *	buffer and this side's outbound window.
 */
struct ntb_vlink_mw {
	void *in_va;
	dma_addr_t in_dma;
	resource_size_t in_size;
	void __iomem *out_va;
	resource_size_t out_size;
};

/**
 * struct ntb_vlink_ops - what the client of a link is told
 * @ready: the inbound buffers exist (the first time the NTB link is up):
 *	lay out the client's part of them, its header words. Process
 *	context, under the link's lock. A non-zero return frees them again,
 *	to be retried.
 * @up: the link is up: the windows are mapped and the peer's header
 *	checked. Process context, under the link's lock. A non-zero return
 *	takes the link down again, to be retried.
 * @down: the link is down: the peer's windows are about to be unmapped.
 *	Process context, under the link's lock.
 * @db: doorbell bits the peer rang, the control bit included, while the
 *	link is up. Any context (the NTB's interrupt handler).
 */
struct ntb_vlink_ops {
	int (*ready)(struct ntb_vlink *vl);
	int (*up)(struct ntb_vlink *vl);
	void (*down)(struct ntb_vlink *vl);
	void (*db)(struct ntb_vlink *vl, u64 bits);
};

/**
 * struct ntb_vlink - one side of a link
 * @ntb: the NTB (the client's).
 * @role: what this side is (the client's).
 * @ops: the client's operations.
 * @in_want: size of each inbound buffer the client wants, 0 for a window
 *	it does not use; window 0 is needed and holds the window header
 *	(the client's, before ntb_vlink_init()).
 * @nr_mw: windows in use, this side's inbound ones.
 * @peer_nr_mw: windows in use, the peer's inbound ones (while up).
 * @mw: the windows.
 * @db_ctrl: the control doorbell bit, rung for anything but a queue.
 * @db_valid: doorbell bits this side takes.
 * @db_data: those of them for queues: all but the control bit.
 * @db_peer: doorbell bits the peer takes (while up), control included.
 * @priv: the client's.
 * @lock: serialises the link's state; held around @ops up and down.
 * @work: brings the link up and down, polls the peer's registers.
 * @ready: the inbound buffers exist and the client laid them out.
 * @ntb_up: the NTB link was up at the last look.
 * @is_up: the link is up (read locklessly by the doorbell path).
 * @exiting: ntb_vlink_exit() was called: the work does nothing more.
 * @use_msg: the link registers are message registers, not scratchpads.
 * @epoch: this side's epoch.
 * @peer_epoch: the peer's epoch, as last read.
 * @reg: the peer's link registers, as last received (message registers).
 * @sent: the link registers last sent to the peer.
 * @sent_ok: which of @sent were delivered, as far as this side knows.
 * @poll_ms: the work's current poll interval.
 * @complained: what the peer did wrong, logged once until it changes.
 */
struct ntb_vlink {
	struct ntb_dev *ntb;
	enum ntb_vlink_role role;
	const struct ntb_vlink_ops *ops;
	resource_size_t in_want[NTB_VLINK_MAX_MW];
	unsigned int nr_mw;
	unsigned int peer_nr_mw;
	struct ntb_vlink_mw mw[NTB_VLINK_MAX_MW];
	unsigned int db_ctrl;
	u64 db_valid;
	u64 db_data;
	u64 db_peer;
	void *priv;

	struct mutex lock;		/* see @lock above */
	struct delayed_work work;
	bool ready;
	bool ntb_up;
	bool is_up;
	bool exiting;
	bool use_msg;
	u16 epoch;
	u16 peer_epoch;
	u32 reg[4];
	u32 sent[4];
	unsigned long sent_ok;
	unsigned int poll_ms;
	const char *complained;
};

int ntb_vlink_init(struct ntb_vlink *vl);
void ntb_vlink_exit(struct ntb_vlink *vl);
void ntb_vlink_free(struct ntb_vlink *vl);
void ntb_vlink_ring(struct ntb_vlink *vl, unsigned int bit);
void ntb_vlink_kick(struct ntb_vlink *vl);
unsigned int ntb_vlink_data_bit(struct ntb_vlink *vl, unsigned int n);
void __iomem *ntb_vlink_peer_header(struct ntb_vlink *vl);
void *ntb_vlink_header(struct ntb_vlink *vl);

#endif /* _LINUX_NTB_VLINK_H */
