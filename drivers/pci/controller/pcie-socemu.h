/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sideband of the emulated PCIe link (test rig).
 *
 * The emulated endpoint controller (pcie-socemu-ep.c) and the virtual host
 * bridge (pcie-socemu-host.c) stand for the two ends of one PCIe link. What
 * real hardware carries in config TLPs, in its inbound ATU and in MSI
 * writes, they exchange through the shared region of the socemu doorbell
 * devices (ivshmem BAR2, seen by both ends) and through doorbells:
 *
 * - the endpoint publishes the function it emulates: header, BARs (size,
 *   flags and where the BAR memory lives in endpoint RAM), MSI and MSI-X
 *   capabilities, and whether its link is started;
 * - the host bridge publishes what the root complex programs: command
 *   register, MSI address, data and enable, MSI-X enable and mask, and
 *   whether a root complex is present;
 * - interrupts towards the root complex are flags in the region plus a
 *   doorbell on vector SOCEMU_PCI_VEC_IRQ;
 * - a function's doorbells (pci_epf_alloc_doorbell()) are a BAR that the
 *   host bridge maps onto its own doorbell device, so that the root
 *   complex's write to it rings the endpoint on SOCEMU_PCI_VEC_DB or a
 *   vector after it, one per doorbell;
 * - each end rings the other on SOCEMU_PCI_VEC_STATE when its state words
 *   change.
 *
 * Memory is never exchanged here: the root complex reaches BAR memory
 * through its socemu window onto endpoint RAM (an identity inbound
 * translation at bus address SOCEMU_PCI_BAR_BUS_BASE), and the endpoint
 * reaches root complex memory through its windows onto root complex RAM
 * (outbound translation: bus address A is at window base + A).
 *
 * All fields are little-endian 32-bit words at fixed offsets, accessed with
 * ioread32()/iowrite32(); 64-bit values are two words, low word first.
 * Every field is written by exactly one end. Values read from the other end
 * are untrusted and are checked before use.
 */
#ifndef _PCIE_SOCEMU_H
#define _PCIE_SOCEMU_H

#include <linux/bits.h>

#define SOCEMU_PCI_MAGIC		0x50434945	/* "PCIE" */
#define SOCEMU_PCI_VERSION		2

/* Doorbell vectors. */
#define SOCEMU_PCI_VEC_STATE		0	/* state words changed */
#define SOCEMU_PCI_VEC_IRQ		1	/* EP -> RC interrupt pending */
#define SOCEMU_PCI_VEC_DB		2	/* RC -> EP doorbells, from here on */

/* Bus address at which endpoint RAM address 0 appears to the RC. */
#define SOCEMU_PCI_BAR_BUS_BASE		0x80000000ULL
/* Bus address the RC programs as MSI / MSI-X target; data is the hwirq. */
#define SOCEMU_PCI_MSI_ADDR		0xfd000000ULL
/*
 * A doorbell BAR (SOCEMU_PCI_BAR_DOORBELL) is the RC's own doorbell
 * device's register page, at this bus address: the RC rings the EP by
 * writing EP peer id << 16 | (SOCEMU_PCI_VEC_DB + i) at SOCEMU_PCI_DB_REG
 * in it, for doorbell i.
 */
#define SOCEMU_PCI_DB_BUS		0xfe000000ULL
#define SOCEMU_PCI_DB_SIZE		256
#define SOCEMU_PCI_DB_REG		0x0c
/* Number of MSI/MSI-X messages the host bridge can receive. */
#define SOCEMU_PCI_NR_HWIRQ		64

/* Region header (offset 0). */
#define SOCEMU_PCI_MAGIC_OFF		0x000	/* EP writes at init */
#define SOCEMU_PCI_VERSION_OFF		0x004	/* EP writes at init */
#define SOCEMU_PCI_EP_PEER		0x008	/* EP: ivshmem id + 1, 0 = none */
#define SOCEMU_PCI_RC_PEER		0x00c	/* RC: ivshmem id + 1, 0 = none */
#define SOCEMU_PCI_EP_STATE		0x010	/* EP writes */
#define  SOCEMU_PCI_EP_STARTED		BIT(0)	/* link training enabled */
#define SOCEMU_PCI_RC_STATE		0x014	/* RC writes */
#define  SOCEMU_PCI_RC_PRESENT		BIT(0)	/* host bridge bound */
#define SOCEMU_PCI_RC_GEN		0x018	/* RC: ++ on each bind */
/*
 * RC: ++ each time the host bridge has removed the function's device, its
 * drivers gone: from then on the RC no longer touches the BAR memory it
 * had. A real controller drops the RC's accesses to a BAR once it is
 * cleared; the rig's BARs are windows onto endpoint RAM, so the endpoint
 * waits for this before it lets a cleared BAR's memory be freed.
 */
#define SOCEMU_PCI_RC_RELEASES		0x01c
#define SOCEMU_PCI_RC_HOLDS		0x020	/* RC: 1 while the device is there */

/* Function 0 as published by the EP (written before EP_STARTED is set). */
#define SOCEMU_PCI_ID			0x040	/* device << 16 | vendor */
#define SOCEMU_PCI_CLASS_REV		0x044	/* class << 8 | revision */
#define SOCEMU_PCI_SUBSYS		0x048	/* subsys id << 16 | subsys vendor */
#define SOCEMU_PCI_MISC			0x04c	/* pin << 8 | cache line size */

/* BAR n: four words at SOCEMU_PCI_BAR(n). */
#define SOCEMU_PCI_BAR(n)		(0x080 + (n) * 0x10)
#define  SOCEMU_PCI_BAR_FLAGS		0x0	/* PCI_BASE_ADDRESS_* bits | VALID */
#define   SOCEMU_PCI_BAR_VALID		BIT(31)
#define   SOCEMU_PCI_BAR_DOORBELL	BIT(30)	/* the doorbell, not memory */
#define  SOCEMU_PCI_BAR_SIZE		0x4	/* power of two, >= 128 */
#define  SOCEMU_PCI_BAR_EP_PHYS_LO	0x8	/* BAR memory in EP RAM */
#define  SOCEMU_PCI_BAR_EP_PHYS_HI	0xc

/* MSI capability. */
#define SOCEMU_PCI_MSI_CAP		0x100	/* EP: log2 messages capable + 1, 0 = no MSI */
/* RC: bit 0 enable, bits 6:4 log2 of the messages enabled */
#define SOCEMU_PCI_MSI_CTRL		0x104
#define SOCEMU_PCI_MSI_ADDR_LO		0x108	/* RC */
#define SOCEMU_PCI_MSI_ADDR_HI		0x10c	/* RC */
#define SOCEMU_PCI_MSI_DATA		0x110	/* RC */

/* MSI-X capability. */
#define SOCEMU_PCI_MSIX_CAP		0x140	/* EP: table size (entries), 0 = no MSI-X */
#define SOCEMU_PCI_MSIX_TABLE		0x144	/* EP: offset | BIR, as the capability */
#define SOCEMU_PCI_MSIX_PBA		0x148	/* EP: offset | BIR, as the capability */
#define SOCEMU_PCI_MSIX_CTRL		0x14c	/* RC: bit 15 enable, bit 14 function mask */

/* RC side command register (RC writes). */
#define SOCEMU_PCI_COMMAND		0x180

/* Interrupts towards the RC (EP sets to 1, RC clears to 0). */
#define SOCEMU_PCI_INTX_PENDING		0x200
#define SOCEMU_PCI_MSI_PENDING(hwirq)	(0x400 + (hwirq) * 4)

#define SOCEMU_PCI_REGION_SIZE		0x1000

#endif /* _PCIE_SOCEMU_H */
