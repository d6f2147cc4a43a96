/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio_regs: the driver side of the register protocol of
 * Documentation/PCI/endpoint/pci-vhost-function.rst, for the virtio
 * transports that carry its register block.
 *
 * The block (include/uapi/linux/virtio_pci_epf.h) is the same whatever
 * carries it: a BAR of a PCI endpoint function (virtio_pci_epf), a block
 * in a memory window of an NTB, found through the window's header, with
 * several blocks per link, or a block in memory shared on one chip, with
 * a mailbox for the doorbells. What differs is how the block is reached
 * and how each side rings the other; what it holds, and what the driver
 * does with it, is this library's: the identification and layout checks,
 * the announce of a new driver, the bounded command mailbox, config space
 * and its generation, status, reset and features, the NOTIFY words, the
 * ISR words, and the register sequence of a queue's setup.
 *
 * A transport embeds one struct virtio_regs per register block (it holds
 * the block's struct virtio_device), fills in struct virtio_regs_ops and
 * points its virtio_config_ops at the virtio_regs_*() functions for all
 * but what is its own (bus_name, synchronize_cbs). The ops are kept small
 * and free of any PCI notion so that the other transports fit unchanged:
 *
 * - a doorbell is whatever the transport rings: a 32-bit write into a BAR
 *   (PCI), a bit of ntb_peer_db_set() (NTB), a mailbox message (platform);
 *   none at all when the device polls;
 * - a vector (CONFIG_VECTOR, Q_VECTOR) is a value the transport picks and
 *   the device hands back when it interrupts: an MSI-X entry (PCI), a
 *   doorbell bit (NTB), a mailbox message (platform), or NO_VECTOR, for
 *   the shared interrupt and its ISR words;
 * - a virtqueue is created by the transport, on the memory the device can
 *   reach: vring_create_virtqueue() on the parent (PCI), a ring on a
 *   window pool (NTB), in shared memory (platform).
 *
 * Locking: regs->cmd_lock (a mutex) serialises commands; commands sleep,
 * and so do the config ops that post one (set, set_status, reset,
 * find_vqs). The virtio core serialises status changes and queue setup.
 * regs->gen_lock (a spinlock) protects the config generation bookkeeping,
 * which may be read in any context. regs->broken is set under cmd_lock,
 * or by virtio_regs_set_broken() in any context, and never cleared;
 * regs->status is written by set_status and reset, which the virtio core
 * serialises; both are read locklessly. The interrupt handlers only read
 * and clear the ISR words and hand over to virtio.
 */
#ifndef _LINUX_VIRTIO_REGS_H
#define _LINUX_VIRTIO_REGS_H

#include <linux/io.h>
#include <linux/irqreturn.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

struct virtio_regs;

/**
 * struct virtio_regs_ops - what a transport supplies to a register block
 * @kick_cmd: optional; ring the device's command doorbell, after the
 *	library posted a command (CMD_SEQ) or announced a new DRIVER_EPOCH.
 *	Without it the device finds them by polling.
 * @kick_vq: optional; ring the doorbell of queue @index, after the
 *	library set its NOTIFY word. Returns false if the kick cannot reach
 *	the device (the virtio core then breaks the virtqueue).
 * @setup_vectors: optional; called by virtio_regs_find_vqs() once @nvqs
 *	queues are asked for, before any is set up: allocate the
 *	transport's per-queue state and interrupts, and write
 *	CONFIG_VECTOR. Returns 0 or an errno.
 * @free_vectors: optional; undo @setup_vectors, also after a partial
 *	one. Called by virtio_regs_del_vqs() before the virtqueues are
 *	deleted, so no interrupt handler runs on them afterwards.
 * @create_vq: create virtqueue @index with at most @size_max entries (the
 *	device's Q_SIZE_MAX, already checked) for @info, on memory the device
 *	reaches, with virtio_regs_notify() as its notify function. The queue
 *	is selected: fields of the selected queue that are the transport's
 *	own (Q_DB_OFFSET, Q_DB_DATA) are valid. Returns the virtqueue or an
 *	ERR_PTR().
 * @del_vq: optional; delete a virtqueue made by @create_vq. Without it
 *	the library calls vring_del_virtqueue().
 * @synchronize_cbs: optional; wait for the transport's interrupt or
 *	doorbell handlers that are running, for
 *	virtio_config_ops.synchronize_cbs.
 * @vq_vector: optional; the Q_VECTOR value of queue @index, whose
 *	virtqueue is created (regs->vqs[@index]), in *@vector; request its
 *	interrupt if it has one. Returns 0 or an errno. Without it, or if it
 *	leaves *@vector alone, the queue has VIRTIO_PCI_EPF_NO_VECTOR.
 *
 * @kick_cmd is called with regs->cmd_lock held when it posts a command,
 * so it must not post one; the others are called with none of the
 * library's locks held. @kick_vq may be called in atomic context
 * (virtqueue notifications are) and must not sleep; the others run in
 * process context.
 */
struct virtio_regs_ops {
	void (*kick_cmd)(struct virtio_regs *regs);
	bool (*kick_vq)(struct virtio_regs *regs, unsigned int index);
	int (*setup_vectors)(struct virtio_regs *regs, unsigned int nvqs);
	void (*free_vectors)(struct virtio_regs *regs);
	struct virtqueue *(*create_vq)(struct virtio_regs *regs,
				       unsigned int index, u32 size_max,
				       struct virtqueue_info *info);
	void (*del_vq)(struct virtio_regs *regs, struct virtqueue *vq);
	int (*vq_vector)(struct virtio_regs *regs, unsigned int index,
			 u32 *vector);
	void (*synchronize_cbs)(struct virtio_regs *regs);
};

/**
 * struct virtio_regs - the driver side of one register block
 * @vdev: the virtio device the block carries; its release frees the
 *	transport's structure that embeds this one.
 * @dev: the transport's device, that messages about the block name
 *	(the PCI function, the NTB port, the platform device).
 * @ops: the transport's operations.
 * @cmd_timeout_ms: the bound of every wait on the device, in ms; read at
 *	each wait, so a module parameter of the transport can point here.
 * @base: the mapped block. The transport may move it (map it again)
 *	before the virtio device is registered, not after.
 * @regs_size: bytes of the block mapped at @base.
 * @notify_off: where the NOTIFY words are in the block.
 * @config_off: where config space is in the block.
 * @config_size: bytes of config space.
 * @num_queues: queues the device has.
 * @cmd_lock: serialises commands.
 * @seq: CMD_SEQ of the last command posted; under @cmd_lock.
 * @broken: set once the device missed an answer or broke the protocol,
 *	read locklessly. From then on the status is the driver's own copy.
 * @status: what the driver last set, 0 once it asked for a reset, so that
 *	a reset completes whatever the device does.
 * @gen_lock: protects @gen and @gen_changes.
 * @gen: last even config generation read.
 * @gen_changes: reads in a row that found a new generation.
 * @nvqs: queues set up by virtio_regs_find_vqs().
 * @vqs: their virtqueues (NULL for a queue not asked for), @nvqs of them.
 *
 * The layout fields (@notify_off to @num_queues) are set by
 * virtio_regs_check_layout() and stay as they are while the block is used.
 */
struct virtio_regs {
	struct virtio_device vdev;
	struct device *dev;
	const struct virtio_regs_ops *ops;
	const unsigned int *cmd_timeout_ms;
	void __iomem *base;
	unsigned int regs_size;
	unsigned int notify_off;
	unsigned int config_off;
	unsigned int config_size;
	unsigned int num_queues;

	struct mutex cmd_lock;		/* serialises commands */
	u32 seq;
	bool broken;
	u8 status;

	spinlock_t gen_lock;		/* protects gen, gen_changes */
	u32 gen;
	unsigned int gen_changes;

	unsigned int nvqs;
	struct virtqueue **vqs;
};

/**
 * to_virtio_regs() - the register block of a virtio device
 * @vdev: a virtio device whose transport uses virtio_regs
 *
 * Return: the struct virtio_regs that embeds @vdev.
 */
static inline struct virtio_regs *to_virtio_regs(struct virtio_device *vdev)
{
	return container_of(vdev, struct virtio_regs, vdev);
}

/**
 * virtio_regs_rd() - read a 32-bit field of the block
 * @regs: the register block
 * @off: offset of the field in the block
 *
 * Return: the field's value.
 */
static inline u32 virtio_regs_rd(struct virtio_regs *regs, unsigned int off)
{
	return ioread32(regs->base + off);
}

/**
 * virtio_regs_wr() - write a 32-bit field of the block
 * @regs: the register block
 * @off: offset of the field in the block
 * @val: the value
 */
static inline void virtio_regs_wr(struct virtio_regs *regs, unsigned int off,
				  u32 val)
{
	iowrite32(val, regs->base + off);
}

/**
 * virtio_regs_wr64() - write a 64-bit field of the block, low word first
 * @regs: the register block
 * @off: offset of the field in the block
 * @val: the value
 */
static inline void virtio_regs_wr64(struct virtio_regs *regs,
				    unsigned int off, u64 val)
{
	virtio_regs_wr(regs, off, lower_32_bits(val));
	virtio_regs_wr(regs, off + 4, upper_32_bits(val));
}

void virtio_regs_init(struct virtio_regs *regs, struct device *dev,
		      void __iomem *base, unsigned int regs_size,
		      const struct virtio_regs_ops *ops,
		      const unsigned int *cmd_timeout_ms);
int virtio_regs_identify(void __iomem *base, unsigned int size, u32 *version);
int virtio_regs_check_layout(struct virtio_regs *regs);
int virtio_regs_announce(struct virtio_regs *regs);
void virtio_regs_set_broken(struct virtio_regs *regs, const char *why);

/* Notifications and interrupts. */
bool virtio_regs_notify(struct virtqueue *vq);
irqreturn_t virtio_regs_config_irq(int irq, void *regs);
irqreturn_t virtio_regs_shared_irq(int irq, void *regs);

#endif /* _LINUX_VIRTIO_REGS_H */
