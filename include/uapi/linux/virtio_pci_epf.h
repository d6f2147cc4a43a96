/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * Virtio over a PCI endpoint function: the register layout.
 *
 * The endpoint (pci-epf-vhost) is the virtio device, the root complex
 * (virtio_pci_epf) the virtio driver. The function has the class code
 * VIRTIO_PCI_EPF_CLASS, whatever vendor and device ID the board gives it,
 * and one of its BARs (the first that starts with the magic) is a register
 * block in endpoint memory; the driver reads and writes it with 32-bit
 * MMIO accesses, the device reads and writes its own memory. Each field
 * has exactly one writer, named below. Commands carry every action that
 * needs the device to act; the device answers them in order.
 *
 * The protocol is specified in Documentation/PCI/endpoint/pci-vhost-function.rst;
 * this header and that document must agree.
 *
 * Other transports of the vhost bus carry the same block in memory their
 * driver side writes; the device side of the block, for all of them, is
 * include/linux/vhost_regs.h, and the driver side, for the virtio
 * transports that reach it, include/linux/virtio_regs.h.
 *
 * All fields are little-endian. 64-bit fields are two 32-bit words, low
 * word first, and are written and read as two 32-bit accesses.
 */
#ifndef _UAPI_LINUX_VIRTIO_PCI_EPF_H
#define _UAPI_LINUX_VIRTIO_PCI_EPF_H

#define VIRTIO_PCI_EPF_MAGIC		0x46504556	/* "VEPF" */
#define VIRTIO_PCI_EPF_VERSION		2

/*
 * Class code of the function: communication controller, other, with a
 * programming interface of its own ('V'), so that the driver binds to any
 * vendor and device ID.
 */
#define VIRTIO_PCI_EPF_CLASS		0x078056

/*
 * Size of the register block: the whole BAR, up to REGS_MAX bytes. A
 * controller whose BARs are small and fixed (R-Car: 128 and 256 bytes)
 * gets a block of REGS_MIN bytes, with room for fewer queues and less
 * config space; NOTIFY_OFF and CONFIG_OFF say where they are.
 */
#define VIRTIO_PCI_EPF_REGS_MIN		256
#define VIRTIO_PCI_EPF_REGS_MAX		4096

/* Header: written by the device unless marked (D) for driver. */
#define VIRTIO_PCI_EPF_MAGIC_OFF	0x000
#define VIRTIO_PCI_EPF_VERSION_OFF	0x004
#define VIRTIO_PCI_EPF_DEVICE_ID	0x008	/* virtio device id */
#define VIRTIO_PCI_EPF_VENDOR_ID	0x00c	/* virtio vendor id */
#define VIRTIO_PCI_EPF_DEVICE_FEATURES	0x010	/* 64 bits */
#define VIRTIO_PCI_EPF_DRIVER_FEATURES	0x018	/* (D) 64 bits */
#define VIRTIO_PCI_EPF_NUM_QUEUES	0x020
#define VIRTIO_PCI_EPF_CONFIG_SIZE	0x024	/* bytes at CONFIG */
/*
 * Config generation: odd while the device updates config space, even
 * (and different) once it is done. A read of config space is only good
 * if the same even generation was read before and after it.
 */
#define VIRTIO_PCI_EPF_CONFIG_GEN	0x028
#define VIRTIO_PCI_EPF_STATUS		0x02c	/* device status, as set */

/* Command mailbox. */
#define VIRTIO_PCI_EPF_CMD		0x030	/* (D) opcode */
#define VIRTIO_PCI_EPF_CMD_ARG0		0x034	/* (D) */
#define VIRTIO_PCI_EPF_CMD_ARG1		0x038	/* (D) */
#define VIRTIO_PCI_EPF_CMD_SEQ		0x03c	/* (D) +1 posts the command */
#define VIRTIO_PCI_EPF_CMD_DONE		0x040	/* CMD_SEQ of the last answer */
#define VIRTIO_PCI_EPF_CMD_RESULT	0x044	/* 0 or a positive errno */

/* Interrupts towards the driver. */
#define VIRTIO_PCI_EPF_CONFIG_VECTOR	0x048	/* (D) MSI-X entry, or NO_VECTOR */
#define VIRTIO_PCI_EPF_NO_VECTOR	0xffff
/*
 * Without a vector of their own, interrupts share one (MSI or INTx) and
 * say what they are for in these words: the device sets one to 1 before
 * interrupting, the driver writes 0 before it handles the event.
 */
#define VIRTIO_PCI_EPF_ISR_QUEUE	0x04c
#define VIRTIO_PCI_EPF_ISR_CONFIG	0x05c

/* Notifications towards the device: a doorbell, if DB_BAR is not NONE. */
#define VIRTIO_PCI_EPF_DB_BAR		0x050	/* BAR of the doorbell, or NONE */
#define  VIRTIO_PCI_EPF_DB_NONE		0xff
/*
 * Over an NTB (Documentation/driver-api/virtio-ntb.rst), a doorbell is a
 * bit of the NTB's: DB_DATA and Q_DB_DATA hold its number, and the
 * vectors the driver writes (CONFIG_VECTOR, Q_VECTOR) name bits of its
 * own side's doorbells.
 */
#define  VIRTIO_PCI_EPF_DB_NTB		0xfe
#define VIRTIO_PCI_EPF_DB_OFFSET	0x054	/* offset in that BAR */
#define VIRTIO_PCI_EPF_DB_DATA		0x058	/* 32-bit value to write there */

/*
 * Epochs. The driver writes a new non-zero DRIVER_EPOCH when it starts
 * (after a probe, a reboot of the root complex) and posts no command
 * until the device has copied it to EPOCH_ACK: the device then forgot
 * everything an earlier driver set up and answers commands from CMD_SEQ
 * on. A device that restarts itself bumps DEVICE_EPOCH.
 */
#define VIRTIO_PCI_EPF_DEVICE_EPOCH	0x060
#define VIRTIO_PCI_EPF_DRIVER_EPOCH	0x064	/* (D) */
#define VIRTIO_PCI_EPF_EPOCH_ACK	0x068

/*
 * Where the rest of the block is, for its size (written by the device,
 * checked by the driver against the size of the BAR): NOTIFY_OFF, the
 * notification words, one per queue (NUM_QUEUES of them); CONFIG_OFF,
 * the CONFIG_SIZE bytes of device-specific configuration space. Both are
 * at or after LAYOUT_END, 4-byte aligned, and do not overlap.
 */
#define VIRTIO_PCI_EPF_NOTIFY_OFF	0x06c
#define VIRTIO_PCI_EPF_CONFIG_OFF	0x070

/*
 * The selected queue: the command QUEUE_SELECT makes the device fill in
 * the fields it owns for one queue; the driver then writes its own and
 * posts QUEUE_ENABLE for that queue.
 */
#define VIRTIO_PCI_EPF_QUEUE_SEL	0x080
#define  VIRTIO_PCI_EPF_Q_SIZE_MAX	0x00	/* largest size the device takes */
#define  VIRTIO_PCI_EPF_Q_SIZE		0x04	/* (D) power of two */
#define  VIRTIO_PCI_EPF_Q_DESC		0x08	/* (D) 64 bits, bus address */
#define  VIRTIO_PCI_EPF_Q_DRIVER	0x10	/* (D) 64 bits, avail ring */
#define  VIRTIO_PCI_EPF_Q_DEVICE	0x18	/* (D) 64 bits, used ring */
#define  VIRTIO_PCI_EPF_Q_VECTOR	0x20	/* (D) MSI-X entry, or NO_VECTOR */
#define  VIRTIO_PCI_EPF_Q_ENABLED	0x24	/* 1 once QUEUE_ENABLE succeeded */
/*
 * The queue's own doorbell, in DB_BAR: where the controller has enough
 * doorbells, each queue has one, and the device knows which queue was
 * kicked without looking at the others. Where it has fewer, queues share
 * one (the commands', where there is only that).
 */
#define  VIRTIO_PCI_EPF_Q_DB_OFFSET	0x28
#define  VIRTIO_PCI_EPF_Q_DB_DATA	0x2c

#define VIRTIO_PCI_EPF_LAYOUT_END	0x0b0

/*
 * The NOTIFY word of queue q is at NOTIFY_OFF + 4 * q: the driver sets it
 * to 1 to notify the queue, the device clears it before it looks at the
 * queue. NUM_QUEUES and CONFIG_SIZE are at most these:
 */
#define VIRTIO_PCI_EPF_MAX_QUEUES	32
#define VIRTIO_PCI_EPF_CONFIG_MAX	0x400

/* Commands (CMD), with their arguments. */
#define VIRTIO_PCI_EPF_CMD_SET_STATUS	1	/* ARG0: status */
#define VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE	2	/* ARG0: queue, the selected one */
#define VIRTIO_PCI_EPF_CMD_CONFIG_WRITE	3	/* ARG0: len << 16 | offset, ARG1: value */
#define VIRTIO_PCI_EPF_CMD_QUEUE_SELECT	4	/* ARG0: queue */

#endif /* _UAPI_LINUX_VIRTIO_PCI_EPF_H */
