/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost_regs: the device side of the virtio register block, for the
 * transports of the vhost bus that carry it.
 *
 * The register block of include/uapi/linux/virtio_pci_epf.h is the wire
 * protocol of every transport whose driver side reaches the device through
 * memory it can write: a BAR of a PCI endpoint function, the inbound
 * window of an NTB, memory two processors share. Only how the block is
 * reached, how the device reaches the driver's memory and how each side
 * signals the other differ; vhost_regs holds the rest once, for all of
 * them: the block's fields, the commands and their checks, the epochs, the
 * notifications, and the service thread that answers the driver side.
 *
 * A transport fills in the fields of struct vhost_regs marked as its own,
 * calls vhost_regs_init(), and then:
 *  - vhost_regs_start() once the driver side can reach the block (a link
 *    up), vhost_regs_stop() when it no longer can;
 *  - vhost_regs_add_device() and vhost_regs_del_device() from its
 *    vhost_transport add() and del();
 *  - vhost_regs_doorbell() when the driver side rang one of its doorbells.
 * It supplies struct vhost_regs_ops: how to raise an interrupt of the
 * driver side, and how to reach the driver's memory.
 *
 * The protocol is specified in Documentation/PCI/endpoint/pci-vhost-function.rst.
 */
#ifndef _LINUX_VHOST_REGS_H
#define _LINUX_VHOST_REGS_H

#include <linux/bitmap.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/vhost_bus.h>
#include <linux/virtio_pci_epf.h>
#include <linux/wait.h>

struct device;
struct task_struct;
struct vhost_regs;
struct vhost_regs_device;

/* Interrupt bit of config changes, after the queues'. */
#define VHOST_REGS_CONFIG	VIRTIO_PCI_EPF_MAX_QUEUES
/* Doorbell bit of commands, after the queues'. */
#define VHOST_REGS_CMD		VIRTIO_PCI_EPF_MAX_QUEUES
#define VHOST_REGS_NR_BITS	(VIRTIO_PCI_EPF_MAX_QUEUES + 1)

/**
 * struct vhost_regs_ops - what a transport does for vhost_regs
 * @raise: raise the driver side's interrupt of @bit, a queue or
 *	VHOST_REGS_CONFIG, whose ISR word vhost_regs just set; the vector
 *	is vhost_regs_vector(). Any context, so a transport whose signal
 *	may sleep defers it.
 * @raise_cansleep: the same, from process context (optional; @raise
 *	otherwise).
 * @map_ring: map [@addr, @addr + @len) of the driver's memory for as
 *	long as the queues run, as vhost_transport_ops.map_ring; called with
 *	@va NULL when a queue is enabled, to check that the device reaches
 *	its ring parts. Process context.
 * @read: copy from the driver's memory, as vhost_transport_ops.read.
 * @write: copy to the driver's memory, as vhost_transport_ops.write.
 * @forget: the driver's setup is gone (a reset, the driver side gone, the
 *	device deleted): drop what @map_ring mapped (optional).
 * @queue_doorbell: the queue's own doorbell, shown to the driver side
 *	when it selects the queue (optional; only where it has one).
 */
struct vhost_regs_ops {
	void (*raise)(struct vhost_regs *regs, unsigned int bit);
	void (*raise_cansleep)(struct vhost_regs *regs, unsigned int bit);
	int (*map_ring)(struct vhost_regs *regs, u64 addr, u64 len,
			void __iomem **va, u64 *mapped_len);
	int (*read)(struct vhost_regs *regs, u64 addr, void *dst, size_t len);
	int (*write)(struct vhost_regs *regs, u64 addr, const void *src,
		     size_t len);
	void (*forget)(struct vhost_regs *regs);
	void (*queue_doorbell)(struct vhost_regs *regs, unsigned int q,
			       u32 *offset, u32 *data);
};

/**
 * struct vhost_regs - one register block and the device it carries
 * @base: the block, in this side's memory (the transport's).
 * @num_queues: queues the block has room for (the transport's).
 * @notify_off: offset of the NOTIFY words (the transport's).
 * @config_off: offset of config space (the transport's).
 * @config_size: bytes of config space (the transport's).
 * @queue_size_max: largest queue the device takes (the transport's).
 * @transport_features: feature bits the transport offers itself, which
 *	clients never see (the transport's).
 * @ops: the transport's operations.
 * @dev: the transport's device: the vhost device's parent, and the
 *	device log lines are about.
 * @has_db: the driver side rings a doorbell after each command and kick,
 *	and the transport calls vhost_regs_doorbell(); the service thread
 *	polls otherwise (the transport's; changed only while stopped).
 * @db_bar: BAR of the commands' doorbell, or VIRTIO_PCI_EPF_DB_NONE (the
 *	transport's; changed only while stopped).
 * @db_offset: offset of that doorbell in its BAR (likewise).
 * @db_data: the value to write there (likewise).
 * @priv: the transport's.
 * @lock: protects the fields below and the commands' handling.
 * @rdev: the device carried, or NULL.
 * @kick_dev: @rdev under RCU, for vhost_regs_doorbell().
 * @thread: the service thread, while started.
 * @sel: queue selected, or U32_MAX.
 * @cmd_done: sequence number of the last command answered.
 * @driver_epoch: the driver's epoch acknowledged, 0 before any.
 * @stale_epoch: DRIVER_EPOCH as the block was last written afresh: an
 *	earlier driver's, not an announcement; 0 once a driver announced.
 * @device_epoch: this device's epoch.
 * @driver_status: the status the driver side set.
 * @q: the queues, as enabled by the driver side.
 * @q_enabled: which queues are enabled.
 * @queue_vector: each queue's vector, as the driver side set it.
 * @rung: doorbells rung and not looked at yet (atomic bits).
 * @wq: where the service thread waits for a doorbell.
 */
struct vhost_regs {
	void *base;
	unsigned int num_queues;
	unsigned int notify_off;
	unsigned int config_off;
	unsigned int config_size;
	u32 queue_size_max;
	u64 transport_features;
	const struct vhost_regs_ops *ops;
	struct device *dev;
	bool has_db;
	u32 db_bar;
	u32 db_offset;
	u32 db_data;
	void *priv;

	struct mutex lock;		/* see @lock above */
	struct vhost_regs_device *rdev;
	struct vhost_regs_device __rcu *kick_dev;
	struct task_struct *thread;
	u32 sel;
	u32 cmd_done;
	u32 driver_epoch;
	u32 stale_epoch;
	u32 device_epoch;
	u8 driver_status;
	struct vhost_vq_config q[VIRTIO_PCI_EPF_MAX_QUEUES];
	DECLARE_BITMAP(q_enabled, VIRTIO_PCI_EPF_MAX_QUEUES);
	u32 queue_vector[VIRTIO_PCI_EPF_MAX_QUEUES];
	DECLARE_BITMAP(rung, VHOST_REGS_NR_BITS);
	wait_queue_head_t wq;
};

int vhost_regs_init(struct vhost_regs *regs);
int vhost_regs_start(struct vhost_regs *regs, const char *name);
void vhost_regs_stop(struct vhost_regs *regs);
struct vhost_device *vhost_regs_add_device(struct vhost_regs *regs,
					   const struct vhost_device_id *id,
					   const struct vhost_bind *bind);
void vhost_regs_del_device(struct vhost_regs *regs,
			   struct vhost_device *vdev);
void vhost_regs_doorbell(struct vhost_regs *regs, unsigned int bit);
u32 vhost_regs_vector(struct vhost_regs *regs, unsigned int bit);

#endif /* _LINUX_VHOST_REGS_H */
