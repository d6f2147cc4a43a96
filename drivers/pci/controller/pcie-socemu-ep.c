// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated PCIe endpoint controller of the socemu test rig.
 *
 * The controller stands for the endpoint end of a PCIe link whose other
 * end is the virtual host bridge of pcie-socemu-host.c, in the same VM or
 * in another one. It registers an ordinary PCI endpoint controller, so the
 * upstream /sys/kernel/config/pci_ep/ flow and unmodified endpoint function
 * drivers run on it.
 *
 * Profiles. The controller models a named real controller, chosen with the
 * profile= parameter (socemu_ep_profiles[] below, every number with its
 * source in the 6.12 tree): its outbound windows (how many, their shape and
 * granule, their largest size, the outbound region they come from), its
 * BARs (programmable, fixed or reserved), whether it has INTx, MSI and
 * MSI-X, whether it notifies link-up, whether functions get a doorbell.
 * A test that passes here must not pass only because the rig is kinder
 * than a board. Where the profile has DMA channels, an eDMA-like engine
 * (pcie-socemu-edma.c) reads and writes root complex memory by bus address
 * for the functions, as dmaengine channels of the controller's device.
 *
 * Config space. write_header(), set_bar(), set_msi() and set_msix() publish
 * the function in the shared region of a socemu doorbell (the layout is in
 * pcie-socemu.h); the host bridge builds the config space the root complex
 * sees from it, and mirrors back what the root complex programs (command
 * register, MSI address and data, MSI and MSI-X enables). set_bar() refuses
 * what the profile's BARs cannot be: a reserved BAR, a fixed BAR of another
 * size, a 32-bit BAR where only 64-bit is possible, BAR memory that is not
 * aligned as the inbound translation needs.
 *
 * Inbound. A BAR's memory is the endpoint RAM the function allocated for
 * it; the root complex reaches it through its window onto endpoint RAM, so
 * there is no copy and no shadow.
 *
 * Outbound. The socemu window first_window aliases the whole of root
 * complex RAM: bus address A is at alias base + A. QEMU has no programmable
 * translation, so the CPU address of a window cannot be moved to the bus
 * address it maps; the CPU's page tables do the translation instead. The
 * controller maps outbound memory with the mem_map() operation (which the
 * series lets a controller provide) the way the profile's silicon
 * would: it takes one of the profile's windows (none free: -ENOMEM), makes
 * the window the controller would program for the range (aligned to its
 * granule, or the naturally aligned power of two that holds it, no larger
 * than its largest window: it may cover less than asked, which
 * map->pci_size says), takes the window's CPU address space from the
 * outbound region with the endpoint core's own allocation rule (a naturally
 * aligned power of two of pages, in the first aperture that has one; the
 * region exhausted: -ENOMEM), and ioremap()s exactly the window's extent of
 * the alias. An access past the end of a window hits unmapped kernel
 * address space and faults, and nothing outside the window is reachable.
 * mem_unmap() unmaps the window and frees both. The generous profile, kept
 * for comparison, maps all of root complex RAM for each window instead.
 *
 * The two-step pci_epc_mem_alloc_addr() and pci_epc_map_addr() cannot be
 * honoured on a fixed alias: an address the core's allocator hands out can
 * never be translated to another bus address. A region is registered with
 * pci_epc_mem_init() so that the allocation succeeds, and map_addr()
 * refuses with -EINVAL and says to use pci_epc_mem_map().
 *
 * Interrupts. raise_irq() emulates the memory write of an MSI or MSI-X
 * message: it checks that the root complex enabled the capability and bus
 * mastering, reads the address and data the root complex programmed (from
 * the shared region for MSI, from the MSI-X table in BAR memory for MSI-X),
 * checks that the address is the host bridge's MSI target and the data one
 * of its messages, sets that message's pending word and rings the root
 * complex. On a profile whose message writes go through an outbound window,
 * a message needs a free window. INTx is a pending word and the same
 * doorbell, where the profile has INTx.
 *
 * Doorbells. Where the profile has them, the controller describes them as
 * embedded doorbells (get_aux_resources(), for pci_epf_alloc_doorbell()):
 * BAR 5, which the host bridge maps onto the root complex's own doorbell
 * device, so the root complex rings this end with one memory write; the
 * value written picks the doorbell device's vector, SOCEMU_PCI_VEC_DB and
 * those after it, each of which raises its own Linux interrupt of the
 * controller's (ep->db_irq[]) that functions request, as an ITS turns the
 * event ID of a write into an interrupt of its own. BAR 5 becomes the
 * doorbell when a function first asks for it, unless the function uses
 * it, and stays so until the controller is unloaded. Elsewhere
 * get_aux_resources() returns -EOPNOTSUPP.
 *
 * Link. start() sets EP_STARTED; the link is up while the controller is
 * started and a host bridge says it is present. Every change of either is
 * rung on SOCEMU_PCI_VEC_STATE and logged by a work item ("link up (root
 * complex generation N)", "link down"); a root complex that binds again (a
 * new RC_GEN, as after a reboot) is a link down followed by a link up. Only
 * a profile with a link-up notifier turns them into pci_epc_linkup() and
 * pci_epc_linkdown(); elsewhere functions start from epc_init, as on those
 * boards.
 *
 * Everything read from the shared region was written by the other system
 * and is checked before use. Nothing here waits for the other end.
 *
 * Locking: the PCI endpoint core serialises the controller operations,
 * raise_irq(), mem_map() and mem_unmap() included, with epc->lock. ep->lock
 * (a mutex) protects the BAR table and the MSI-X description that
 * raise_irq() reads, and the link state kept by the link work, which runs
 * outside epc->lock, and whether BAR 5 is the doorbell. ep->win_lock (a
 * mutex) protects the window table and the outbound region's allocation
 * maps, which mem_map(), mem_unmap(), raise_irq() and remove read; it does
 * not rely on epc->lock. ep->probe_lock (a mutex, a leaf) protects the
 * result of the debugfs window probe. The doorbell handler runs in hard interrupt
 * context: it schedules the link work, or raises one of ep->db_irq[], whose
 * handlers are the functions' (request_irq() and free_irq() order them).
 */

#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/irq.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/platform_device.h>
#include <linux/socemu.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/string_choices.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "pcie-socemu.h"

#define SOCEMU_EP_NAME		"pcie-socemu-ep"
#define SOCEMU_EP_MAX_WINDOWS	32
#define SOCEMU_EP_MAX_APERTURES	4
#define SOCEMU_EP_MSIX_ENTRY	16
/* The BAR a function's doorbell takes, if the function leaves it free. */
#define SOCEMU_EP_DB_BAR	BAR_5
/* Doorbells at most, however many vectors the doorbell device has. */
#define SOCEMU_EP_MAX_DB	8

static unsigned int doorbell;
module_param(doorbell, uint, 0444);
MODULE_PARM_DESC(doorbell, "socemu doorbell shared with the host bridge (default 0)");

static unsigned int first_window = 1;
module_param(first_window, uint, 0444);
MODULE_PARM_DESC(first_window, "socemu window onto root complex RAM that outbound windows are carved from (default 1)");

static char *profile = "j721e";
module_param(profile, charp, 0444);
MODULE_PARM_DESC(profile, "controller modelled: j721e (default), imx8, rcar, or generous (windows reach all RC RAM)");

/**
 * struct socemu_ep_aperture - a CPU aperture of the outbound region
 * @size: its size in bytes
 * @page_size: the granule in which the endpoint core's allocator hands it
 *	       out (pci_epc_mem_alloc_addr(): a naturally aligned power of two
 *	       of such pages per mapping)
 */
struct socemu_ep_aperture {
	u64 size;
	u64 page_size;
};

/**
 * struct socemu_ep_profile - the limits of a real endpoint controller
 * @name: its name for profile=
 * @part: the controller and SoC it models
 * @nr_windows: outbound windows (ATU entries) functions can use
 * @irq_window: an MSI or MSI-X message is written through an outbound
 *		window, so it needs a free one
 * @pow2: a window is a naturally aligned power of two (the controller
 *	  passes the low address bits through); otherwise base and limit
 * @granule: granule of a window's bus address and size, its smallest size
 * @max_size: largest window the translation can describe
 * @ap: the outbound region: the CPU apertures windows are allocated from
 * @nr_ap: number of apertures in @ap
 * @reserved: bytes the controller's driver takes from the first aperture at
 *	      probe, before any function maps
 * @whole_ram: every window maps all of root complex RAM (generous)
 * @intx: the controller can raise INTx
 * @doorbell: functions can get a doorbell (an inbound write that interrupts
 *	      the endpoint)
 * @map_needs_link: mapping fails while the data link is down
 * @dma_rd: DMA channels that read root complex memory, emulated by
 *	    pcie-socemu-edma.c (0: no DMA engine)
 * @dma_wr: DMA channels that write root complex memory
 * @features: what get_features() returns
 */
struct socemu_ep_profile {
	const char *name;
	const char *part;
	unsigned int nr_windows;
	bool irq_window;
	bool pow2;
	u64 granule;
	u64 max_size;
	struct socemu_ep_aperture ap[SOCEMU_EP_MAX_APERTURES];
	unsigned int nr_ap;
	u64 reserved;
	bool whole_ram;
	bool intx;
	bool doorbell;
	bool map_needs_link;
	unsigned int dma_rd;
	unsigned int dma_wr;
	struct pci_epc_features features;
};

/*
 * Sources are files and symbols of the Linux 6.12 tree; DT nodes are in
 * arch/arm64/boot/dts/.
 */
static const struct socemu_ep_profile socemu_ep_profiles[] = {
	{
		.name = "j721e",
		.part = "TI J721E, Cadence PCIe EP",
		/*
		 * CDNS_PCIE_MAX_OB (32) outbound regions (pcie-cadence.h;
		 * pcie0_ep of ti/k3-j721e-evm-pcie0-ep.dtso sets no
		 * cdns,max-outbound-regions). cdns_pcie_ep_setup() keeps
		 * region 0 for IRQ writes and cdns_pcie_ep_map_addr()
		 * refuses r >= max_regions - 1: regions 1 to 30 are left.
		 */
		.nr_windows = 30,
		/*
		 * cdns_pcie_set_outbound_region(): a region passes the low
		 * nbits of the AXI address through, nbits = log2 of the size
		 * rounded up to a power of two and at least 8; PCI_ADDR0
		 * keeps address bits 31:8 only.
		 */
		.pow2 = true,
		.granule = SZ_256,
		/* NBITS is 6 bits wide: the outbound region is the limit. */
		.max_size = SZ_128M,
		/*
		 * "mem" of pcie0_ep (ti/k3-j721e-evm-pcie0-ep.dtso):
		 * 0x10000000, 128 MiB, handed out in PAGE_SIZE pages (4 KiB
		 * on arm64) by pci_epc_mem_init() in cdns_pcie_ep_setup().
		 */
		.ap = { { SZ_128M, SZ_4K } },
		.nr_ap = 1,
		/* SZ_128K for IRQ writes, cdns_pcie_ep_setup(). */
		.reserved = SZ_128K,
		/* cdns_pcie_ep_raise_intx_irq() */
		.intx = true,
		/*
		 * gic_its (msi-controller@1820000, ti/k3-j721e-main.dtsi)
		 * can take inbound writes through a BAR.
		 */
		.doorbell = true,
		/*
		 * pcie-cadence-ep.c registers no DMA engine (the SoC's UDMA
		 * memcpy channels are not the controller's).
		 */
		/* cdns_pcie_epc_features (pcie-cadence-ep.c); pci-j721e.c. */
		.features = {
			.linkup_notifier = false,
			.msi_capable = true,
			.msix_capable = true,
			.align = 256,
		},
	},
	{
		.name = "imx8",
		.part = "NXP i.MX8MM/i.MX8MP, DesignWare PCIe EP",
		/*
		 * num-ob-windows = <4> of pcie0_ep (freescale/imx8mm.dtsi)
		 * and pcie_ep (freescale/imx8mp.dtsi); dw_pcie_iatu_detect()
		 * reads the count from the iATU.
		 */
		.nr_windows = 4,
		/*
		 * dw_pcie_ep_raise_msi_irq() maps the message address
		 * through a free outbound window (dw_pcie_ep_map_addr()) for
		 * each message.
		 */
		.irq_window = true,
		/*
		 * Base and limit: dw_pcie_prog_outbound_atu() wants CPU and
		 * bus addresses aligned to region_align; dw_pcie_ep_align_addr()
		 * aligns the bus address down to it and the size up to
		 * page_size, which imx_add_pcie_ep() sets to
		 * imx8m_pcie_epc_features.align, SZ_64K (pci-imx6.c).
		 */
		.granule = SZ_64K,
		/*
		 * A window may not cross a region_limit boundary, 4 GiB
		 * (dw_pcie_prog_outbound_atu(), dw_pcie_iatu_detect()).
		 */
		.max_size = SZ_4G,
		/*
		 * "addr_space" of pcie0_ep (freescale/imx8mm.dtsi) and
		 * pcie_ep (freescale/imx8mp.dtsi): 0x18000000, 128 MiB, in
		 * pages of ep->page_size (pci_epc_mem_init() in
		 * dw_pcie_ep_init()).
		 */
		.ap = { { SZ_128M, SZ_64K } },
		.nr_ap = 1,
		/* msi_mem: one page, dw_pcie_ep_init(). */
		.reserved = SZ_64K,
		/* dw_pcie_ep_raise_intx_irq(): "EP cannot raise INTX IRQs" */
		.intx = false,
		/*
		 * The GICv3 of freescale/imx8mm.dtsi and imx8mp.dtsi has no
		 * ITS: no MSI controller can take an inbound write.
		 */
		.doorbell = false,
		/*
		 * DesignWare eDMA (the "dma" interrupt of the EP nodes);
		 * dw_pcie_edma_find_channels() reads the channel counts
		 * from the hardware, up to EDMA_MAX_RD_CH and EDMA_MAX_WR_CH
		 * (8 each, include/linux/dma/edma.h): the tree gives no
		 * number for i.MX8, and the rig emulates 2 each way.
		 */
		.dma_rd = 2,
		.dma_wr = 2,
		/* imx8m_pcie_epc_features (dwc/pci-imx6.c). */
		.features = {
			.linkup_notifier = false,
			.msi_capable = true,
			.msix_capable = false,
			.bar[BAR_1] = { .type = BAR_RESERVED, },
			.bar[BAR_3] = { .type = BAR_RESERVED, },
			.bar[BAR_4] = { .type = BAR_FIXED, .fixed_size = SZ_256, },
			.bar[BAR_5] = { .type = BAR_RESERVED, },
			.align = SZ_64K,
		},
	},
	{
		.name = "rcar",
		.part = "Renesas RZ/G2 (R-Car Gen3), R-Car PCIe EP",
		/*
		 * RCAR_PCI_MAX_RESOURCES (4) apertures "memory0" to
		 * "memory3" (pcie-rcar.h, rcar_pcie_parse_outbound_ranges());
		 * rcar_pcie_ep_map_addr() programs window i for aperture i.
		 */
		.nr_windows = 4,
		/*
		 * rcar_pcie_set_outbound(): PCIEPAMR is a mask of the size
		 * rounded up to a power of two, in 128-byte units; PCIEPALR
		 * keeps address bits 31:7.
		 */
		.pow2 = true,
		.granule = 128,
		/* The largest aperture. */
		.max_size = SZ_128M,
		/*
		 * memory0 to memory3 of pciec0_ep (renesas/r8a774a1.dtsi,
		 * r8a774c0.dtsi): 1 MiB, 2 MiB, 128 MiB and 128 MiB, each
		 * with page_size = its size: one mapping per aperture
		 * (rcar_pcie_parse_outbound_ranges()).
		 */
		.ap = {
			{ SZ_1M, SZ_1M }, { SZ_2M, SZ_2M },
			{ SZ_128M, SZ_128M }, { SZ_128M, SZ_128M },
		},
		.nr_ap = 4,
		/* rcar_pcie_ep_map_addr(): rcar_pcie_wait_for_dl() first. */
		.map_needs_link = true,
		/* rcar_pcie_ep_assert_intx() */
		.intx = true,
		/* GIC-400 (renesas/r8a774a1.dtsi, r8a774c0.dtsi): no ITS. */
		.doorbell = false,
		/* pcie-rcar-ep.c registers no DMA engine. */
		/* rcar_pcie_epc_features (pcie-rcar-ep.c). */
		.features = {
			.linkup_notifier = false,
			.msi_capable = true,
			.msix_capable = false,
			.bar[BAR_0] = { .type = BAR_FIXED, .fixed_size = 128,
					.only_64bit = true, },
			.bar[BAR_1] = { .type = BAR_RESERVED, },
			.bar[BAR_2] = { .type = BAR_FIXED, .fixed_size = 256,
					.only_64bit = true, },
			.bar[BAR_3] = { .type = BAR_RESERVED, },
			.bar[BAR_4] = { .type = BAR_FIXED, .fixed_size = 256,
					.only_64bit = true, },
			.bar[BAR_5] = { .type = BAR_RESERVED, },
		},
	},
	{
		/*
		 * The rig before profiles, kinder than any board: the old
		 * nr_windows default of 3 windows, each onto all RC RAM, and
		 * the old features (every BAR programmable, 4 KiB aligned).
		 */
		.name = "generous",
		.part = "no real controller: every window reaches all RC RAM",
		.nr_windows = 3,
		.whole_ram = true,
		.intx = true,
		.doorbell = true,
		.features = {
			.linkup_notifier = true,
			.msi_capable = true,
			.msix_capable = true,
			.align = SZ_4K,
		},
	},
};

struct socemu_ep_bar {
	void *addr;		/* BAR memory in endpoint RAM */
	size_t size;
	bool valid;
};

/* An outbound window; free while @virt is NULL. */
struct socemu_ep_win {
	void __iomem *virt;	/* the window's extent of the alias */
	u64 pci_addr;		/* bus address of its start */
	u64 size;
	unsigned int ap;	/* aperture its CPU address space is from */
	int pageno;		/* first page there, -1 if none */
	int order;		/* log2 of its pages */
};

struct socemu_ep {
	struct device *dev;
	const struct socemu_ep_profile *prof;
	struct pci_epc *epc;
	struct socemu_doorbell *db;
	void __iomem *shm;
	struct socemu_window *alias;	/* onto all of root complex RAM */
	phys_addr_t alias_phys;
	u64 ram_size;			/* root complex RAM it reaches */

	struct mutex win_lock;	/* protects win[] and ap_map[] */
	struct socemu_ep_win win[SOCEMU_EP_MAX_WINDOWS];
	unsigned long *ap_map[SOCEMU_EP_MAX_APERTURES];
	unsigned int ap_pages[SOCEMU_EP_MAX_APERTURES];

	struct work_struct link_work;
	struct mutex lock;	/* protects the fields below */
	struct socemu_ep_bar bar[PCI_STD_NUM_BARS];
	unsigned int msix_entries;
	enum pci_barno msix_bar;
	u32 msix_offset;
	bool started;
	bool link_up;
	u32 rc_gen;
	bool db_bar;		/* BAR 5 is the doorbell */

	int db_irq[SOCEMU_EP_MAX_DB];	/* raised by the doorbells */
	unsigned int nr_db;		/* 0 if none */
	struct socemu_edma *edma;	/* the DMA engine, or NULL */

	struct dentry *debugfs;
	struct mutex probe_lock;	/* protects probe_result */
	char probe_result[160];
};

static u32 socemu_ep_rd(struct socemu_ep *ep, unsigned int off)
{
	return ioread32(ep->shm + off);
}

static void socemu_ep_wr(struct socemu_ep *ep, unsigned int off, u32 val)
{
	iowrite32(val, ep->shm + off);
}

/* The root complex's doorbell id, or -ENOTCONN if there is none. */
static int socemu_ep_rc_peer(struct socemu_ep *ep)
{
	u32 peer = socemu_ep_rd(ep, SOCEMU_PCI_RC_PEER);

	if (!peer || peer - 1 > U16_MAX)
		return -ENOTCONN;
	return peer - 1;
}

static void socemu_ep_ring(struct socemu_ep *ep, unsigned int vector)
{
	int peer = socemu_ep_rc_peer(ep);

	if (peer >= 0)
		socemu_doorbell_ring(ep->db, peer, vector);
}

static int socemu_ep_write_header(struct pci_epc *epc, u8 func_no,
				  u8 vfunc_no, struct pci_epf_header *hdr)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	socemu_ep_wr(ep, SOCEMU_PCI_ID, hdr->deviceid << 16 | hdr->vendorid);
	socemu_ep_wr(ep, SOCEMU_PCI_CLASS_REV,
		     hdr->baseclass_code << 24 | hdr->subclass_code << 16 |
		     hdr->progif_code << 8 | hdr->revid);
	socemu_ep_wr(ep, SOCEMU_PCI_SUBSYS,
		     hdr->subsys_id << 16 | hdr->subsys_vendor_id);
	socemu_ep_wr(ep, SOCEMU_PCI_MISC,
		     (hdr->interrupt_pin & 0xff) << 8 | hdr->cache_line_size);
	return 0;
}

static void socemu_ep_publish_bar(struct socemu_ep *ep, unsigned int n,
				  u32 flags, u32 size, u64 phys)
{
	socemu_ep_wr(ep, SOCEMU_PCI_BAR(n) + SOCEMU_PCI_BAR_SIZE, size);
	socemu_ep_wr(ep, SOCEMU_PCI_BAR(n) + SOCEMU_PCI_BAR_EP_PHYS_LO,
		     lower_32_bits(phys));
	socemu_ep_wr(ep, SOCEMU_PCI_BAR(n) + SOCEMU_PCI_BAR_EP_PHYS_HI,
		     upper_32_bits(phys));
	socemu_ep_wr(ep, SOCEMU_PCI_BAR(n) + SOCEMU_PCI_BAR_FLAGS, flags);
}

static int socemu_ep_set_bar(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			     struct pci_epf_bar *epf_bar)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	const struct pci_epc_features *features = &ep->prof->features;
	enum pci_barno n = epf_bar->barno;
	const struct pci_epc_bar_desc *desc = &features->bar[n];
	bool is64 = epf_bar->flags & PCI_BASE_ADDRESS_MEM_TYPE_64;
	size_t size = epf_bar->size;

	if (epf_bar->flags & PCI_BASE_ADDRESS_SPACE_IO) {
		dev_err(ep->dev, "BAR%d: I/O BARs are not emulated\n", n);
		return -EINVAL;
	}
	if (desc->type == BAR_RESERVED) {
		dev_err(ep->dev, "BAR%d: reserved on %s\n", n, ep->prof->part);
		return -EINVAL;
	}
	if (desc->type == BAR_FIXED && size != desc->fixed_size) {
		dev_err(ep->dev, "BAR%d: fixed at %llu bytes, not %zu\n",
			n, desc->fixed_size, size);
		return -EINVAL;
	}
	if (desc->only_64bit && !is64) {
		dev_err(ep->dev, "BAR%d: can only be 64-bit\n", n);
		return -EINVAL;
	}
	if (size < 128 || size > SZ_1G || !is_power_of_2(size)) {
		dev_err(ep->dev, "BAR%d: size %zu is not a power of two in [128, 1G]\n",
			n, size);
		return -EINVAL;
	}
	if (is64 && n == BAR_5) {
		dev_err(ep->dev, "BAR5 cannot be 64-bit\n");
		return -EINVAL;
	}
	/* The inbound translation of the BAR needs its memory aligned. */
	if (features->align && !IS_ALIGNED(epf_bar->phys_addr, features->align)) {
		dev_err(ep->dev, "BAR%d: memory at %pad is not aligned to %zu bytes\n",
			n, &epf_bar->phys_addr, features->align);
		return -EINVAL;
	}

	mutex_lock(&ep->lock);
	if (ep->db_bar && (n == SOCEMU_EP_DB_BAR ||
			   (is64 && n + 1 == SOCEMU_EP_DB_BAR))) {
		mutex_unlock(&ep->lock);
		dev_err(ep->dev, "BAR%d: taken by the function's doorbell\n", n);
		return -EBUSY;
	}
	ep->bar[n].addr = epf_bar->addr;
	ep->bar[n].size = size;
	ep->bar[n].valid = true;
	socemu_ep_publish_bar(ep, n, (epf_bar->flags & 0xf) |
			      SOCEMU_PCI_BAR_VALID, size, epf_bar->phys_addr);
	if (is64)
		socemu_ep_publish_bar(ep, n + 1, 0, 0, 0);
	mutex_unlock(&ep->lock);
	return 0;
}

/*
 * A real controller stops inbound translation of a BAR it clears, and the
 * RC's later accesses to it are dropped; the function may then free the
 * BAR memory. Here the RC maps BAR memory directly (a window onto
 * endpoint RAM), so a driver still being removed on the RC would write
 * into memory the endpoint's kernel has reused (the MSI-X mask bits, for
 * one, as the RC's PCI core disables MSI-X). So clearing a BAR the RC may
 * still use waits, bounded, for the host bridge to have removed the
 * device (SOCEMU_PCI_RC_RELEASES) or gone.
 */
#define SOCEMU_EP_RELEASE_MS	10000

static void socemu_ep_clear_bar(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
				struct pci_epf_bar *epf_bar)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	enum pci_barno n = epf_bar->barno;
	unsigned long deadline;
	bool held;
	u32 rel;

	mutex_lock(&ep->lock);
	held = ep->bar[n].valid &&
	       (socemu_ep_rd(ep, SOCEMU_PCI_RC_STATE) & SOCEMU_PCI_RC_PRESENT) &&
	       socemu_ep_rd(ep, SOCEMU_PCI_RC_HOLDS);
	rel = socemu_ep_rd(ep, SOCEMU_PCI_RC_RELEASES);
	ep->bar[n].valid = false;
	ep->bar[n].addr = NULL;
	socemu_ep_publish_bar(ep, n, 0, 0, 0);
	mutex_unlock(&ep->lock);
	if (!held)
		return;
	/* The function changed: the host bridge removes the device. */
	socemu_ep_ring(ep, SOCEMU_PCI_VEC_STATE);
	deadline = jiffies + msecs_to_jiffies(SOCEMU_EP_RELEASE_MS);
	while (socemu_ep_rd(ep, SOCEMU_PCI_RC_RELEASES) == rel &&
	       socemu_ep_rd(ep, SOCEMU_PCI_RC_HOLDS) &&
	       (socemu_ep_rd(ep, SOCEMU_PCI_RC_STATE) & SOCEMU_PCI_RC_PRESENT)) {
		if (time_after(jiffies, deadline)) {
			dev_warn(ep->dev, "BAR%d cleared, but the root complex still had its device after %u ms: its late writes land in freed memory\n",
				 n, SOCEMU_EP_RELEASE_MS);
			return;
		}
		msleep(20);
	}
}

/* The data link is up: this end started and a root complex present. */
static bool socemu_ep_link_trained(struct socemu_ep *ep)
{
	bool started;

	mutex_lock(&ep->lock);
	started = ep->started;
	mutex_unlock(&ep->lock);
	return started &&
	       (socemu_ep_rd(ep, SOCEMU_PCI_RC_STATE) & SOCEMU_PCI_RC_PRESENT);
}

/*
 * The window the profile's controller would program for the bus range
 * [@addr, @addr + @len): at @start, of @size bytes. It holds @addr, and as
 * much of the range as the largest window can.
 */
static void socemu_ep_window_of(const struct socemu_ep *ep, u64 addr, u64 len,
				u64 *start, u64 *size)
{
	const struct socemu_ep_profile *prof = ep->prof;
	u64 end = addr + len;
	u64 sz;

	if (prof->whole_ram) {
		*start = 0;
		*size = ep->ram_size;
		return;
	}
	if (!prof->pow2) {
		*start = ALIGN_DOWN(addr, prof->granule);
		*size = min(ALIGN(end, prof->granule) - *start, prof->max_size);
		return;
	}
	/* The smallest naturally aligned power of two that holds it. */
	sz = max_t(u64, prof->granule, 1ULL << fls64(len - 1));
	while (sz < prof->max_size && ALIGN_DOWN(addr, sz) + sz < end)
		sz <<= 1;
	sz = min(sz, prof->max_size);
	*start = ALIGN_DOWN(addr, sz);
	*size = sz;
}

/*
 * Take CPU address space for a window of @size bytes from the outbound
 * region, as pci_epc_mem_alloc_addr() does on the real controller: a
 * naturally aligned power of two of pages, from the first aperture that
 * has one free.
 */
static int socemu_ep_region_alloc(struct socemu_ep *ep, u64 size,
				  struct socemu_ep_win *w)
{
	const struct socemu_ep_profile *prof = ep->prof;
	unsigned int i;

	lockdep_assert_held(&ep->win_lock);
	for (i = 0; i < prof->nr_ap; i++) {
		u64 pages = ALIGN(size, prof->ap[i].page_size) >>
			    ilog2(prof->ap[i].page_size);
		int order = fls64(pages - 1);
		int pageno;

		if (pages > ep->ap_pages[i])
			continue;
		pageno = bitmap_find_free_region(ep->ap_map[i], ep->ap_pages[i],
						 order);
		if (pageno < 0)
			continue;
		w->ap = i;
		w->pageno = pageno;
		w->order = order;
		return 0;
	}
	return -ENOMEM;
}

static void socemu_ep_region_free(struct socemu_ep *ep, struct socemu_ep_win *w)
{
	lockdep_assert_held(&ep->win_lock);
	if (w->pageno >= 0)
		bitmap_release_region(ep->ap_map[w->ap], w->pageno, w->order);
	w->pageno = -1;
}

static unsigned int socemu_ep_free_windows(struct socemu_ep *ep)
{
	unsigned int i, n = 0;

	lockdep_assert_held(&ep->win_lock);
	for (i = 0; i < ep->prof->nr_windows; i++)
		n += !ep->win[i].virt;
	return n;
}

/*
 * Map [@pci_addr, @pci_addr + @pci_size) as the profile's controller
 * would: one window, aligned and sized by its rules, whose CPU address
 * space comes from its outbound region; only the window's extent of the
 * alias is mapped.
 */
static int socemu_ep_mem_map(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			     u64 pci_addr, size_t pci_size,
			     struct pci_epc_map *map)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	const struct socemu_ep_profile *prof = ep->prof;
	struct socemu_ep_win *w = NULL;
	u64 start, size;
	unsigned int i;
	int ret;

	if (pci_addr >= ep->ram_size || pci_size > ep->ram_size - pci_addr) {
		dev_err_ratelimited(ep->dev, "map: PCI %#llx+%#zx is outside root complex RAM (%#llx bytes)\n",
				    pci_addr, pci_size, ep->ram_size);
		return -EINVAL;
	}
	if (prof->map_needs_link && !socemu_ep_link_trained(ep)) {
		dev_err_ratelimited(ep->dev, "map: PCI %#llx+%#zx: link not up\n",
				    pci_addr, pci_size);
		return -ETIMEDOUT;
	}
	socemu_ep_window_of(ep, pci_addr, pci_size, &start, &size);
	if (start + size > ep->ram_size) {
		dev_err_ratelimited(ep->dev, "map: PCI %#llx+%#zx: its window %#llx+%#llx ends past root complex RAM\n",
				    pci_addr, pci_size, start, size);
		return -EINVAL;
	}

	mutex_lock(&ep->win_lock);
	for (i = 0; i < prof->nr_windows; i++) {
		if (!ep->win[i].virt) {
			w = &ep->win[i];
			break;
		}
	}
	if (!w) {
		dev_err_ratelimited(ep->dev, "map: PCI %#llx+%#zx: all %u outbound windows are in use\n",
				    pci_addr, pci_size, prof->nr_windows);
		ret = -ENOMEM;
		goto out;
	}
	w->pageno = -1;
	if (!prof->whole_ram && socemu_ep_region_alloc(ep, size, w)) {
		dev_err_ratelimited(ep->dev, "map: PCI %#llx+%#zx: no room for a %#llx-byte window in the outbound region\n",
				    pci_addr, pci_size, size);
		ret = -ENOMEM;
		goto out;
	}
	w->virt = socemu_window_map(ep->alias, start, size);
	if (!w->virt) {
		socemu_ep_region_free(ep, w);
		ret = -ENOMEM;
		goto out;
	}
	w->pci_addr = start;
	w->size = size;

	map->pci_addr = pci_addr;
	map->pci_size = min_t(u64, pci_size, start + size - pci_addr);
	map->map_pci_addr = start;
	map->map_size = size;
	map->phys_base = ep->alias_phys + start;
	map->phys_addr = map->phys_base + (pci_addr - start);
	map->virt_base = w->virt;
	map->virt_addr = w->virt + (pci_addr - start);
	dev_dbg(ep->dev, "window %u: PCI %#llx+%#llx for %#llx+%#zx\n",
		i, start, size, pci_addr, pci_size);
	ret = 0;
out:
	mutex_unlock(&ep->win_lock);
	return ret;
}

static void socemu_ep_mem_unmap(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
				struct pci_epc_map *map)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	struct socemu_ep_win *w;
	unsigned int i;

	mutex_lock(&ep->win_lock);
	for (i = 0; i < ep->prof->nr_windows; i++) {
		w = &ep->win[i];
		if (w->virt && w->virt == map->virt_base) {
			socemu_window_unmap(ep->alias, w->virt);
			w->virt = NULL;
			socemu_ep_region_free(ep, w);
			mutex_unlock(&ep->win_lock);
			return;
		}
	}
	mutex_unlock(&ep->win_lock);
	dev_err(ep->dev, "unmap: %p is no outbound window\n", map->virt_base);
}

/*
 * The CPU address of a window is fixed by the bus address it maps, so an
 * address the endpoint core allocated can never be translated.
 */
static int socemu_ep_map_addr(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			      phys_addr_t addr, u64 pci_addr, size_t size)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	dev_err_ratelimited(ep->dev, "map_addr: cannot map %pa to PCI %#llx+%#zx: outbound windows are a fixed alias of RC memory, use pci_epc_mem_map()\n",
			    &addr, pci_addr, size);
	return -EINVAL;
}

static int socemu_ep_set_msi(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			     u8 log2_count)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	if (!ep->prof->features.msi_capable) {
		dev_err(ep->dev, "MSI: not on %s\n", ep->prof->part);
		return -EINVAL;
	}
	if (log2_count > 5)
		return -EINVAL;
	socemu_ep_wr(ep, SOCEMU_PCI_MSI_CAP, log2_count + 1);
	return 0;
}

static int socemu_ep_get_msi(struct pci_epc *epc, u8 func_no, u8 vfunc_no)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	u32 cap = socemu_ep_rd(ep, SOCEMU_PCI_MSI_CAP);
	u32 ctrl = socemu_ep_rd(ep, SOCEMU_PCI_MSI_CTRL);
	u32 enabled = FIELD_GET(PCI_MSI_FLAGS_QSIZE, ctrl);

	if (!cap || !(ctrl & PCI_MSI_FLAGS_ENABLE))
		return -EINVAL;
	/* The RC may not enable more messages than the function asked for. */
	return min(enabled, cap - 1);
}

static int socemu_ep_set_msix(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			      u16 nr_irqs, enum pci_barno bir, u32 offset)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	u32 pba = ALIGN(offset + nr_irqs * SOCEMU_EP_MSIX_ENTRY, 8);
	int ret = 0;

	if (!ep->prof->features.msix_capable) {
		dev_err(ep->dev, "MSI-X: not on %s\n", ep->prof->part);
		return -EINVAL;
	}
	mutex_lock(&ep->lock);
	if (!ep->bar[bir].valid || offset % 8 ||
	    pba + DIV_ROUND_UP(nr_irqs, 64) * 8 > ep->bar[bir].size) {
		dev_err(ep->dev, "MSI-X: %u entries at BAR%d+%#x do not fit the BAR\n",
			nr_irqs, bir, offset);
		ret = -EINVAL;
		goto out;
	}
	ep->msix_entries = nr_irqs;
	ep->msix_bar = bir;
	ep->msix_offset = offset;
	socemu_ep_wr(ep, SOCEMU_PCI_MSIX_TABLE, offset | bir);
	socemu_ep_wr(ep, SOCEMU_PCI_MSIX_PBA, pba | bir);
	socemu_ep_wr(ep, SOCEMU_PCI_MSIX_CAP, nr_irqs);
out:
	mutex_unlock(&ep->lock);
	return ret;
}

static int socemu_ep_get_msix(struct pci_epc *epc, u8 func_no, u8 vfunc_no)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	u32 ctrl = socemu_ep_rd(ep, SOCEMU_PCI_MSIX_CTRL);

	if (!ep->msix_entries || !(ctrl & PCI_MSIX_FLAGS_ENABLE))
		return -EINVAL;
	return ep->msix_entries - 1;
}

/* The memory write of an MSI or MSI-X message, checked like a TLP would be. */
static int socemu_ep_send_msg(struct socemu_ep *ep, u64 addr, u32 data)
{
	unsigned int free;

	if (!(socemu_ep_rd(ep, SOCEMU_PCI_COMMAND) & PCI_COMMAND_MASTER)) {
		dev_err_ratelimited(ep->dev, "interrupt: the RC has not enabled bus mastering\n");
		return -EIO;
	}
	if (addr != SOCEMU_PCI_MSI_ADDR || data >= SOCEMU_PCI_NR_HWIRQ) {
		dev_err_ratelimited(ep->dev, "interrupt: the RC programmed address %#llx data %#x, which reach no interrupt controller\n",
				    addr, data);
		return -EINVAL;
	}
	if (ep->prof->irq_window) {
		/* The message goes out through a window, taken and freed. */
		mutex_lock(&ep->win_lock);
		free = socemu_ep_free_windows(ep);
		mutex_unlock(&ep->win_lock);
		if (!free) {
			dev_err_ratelimited(ep->dev, "interrupt: no free outbound window for the message (all %u in use)\n",
					    ep->prof->nr_windows);
			return -EINVAL;
		}
	}
	socemu_ep_wr(ep, SOCEMU_PCI_MSI_PENDING(data), 1);
	socemu_ep_ring(ep, SOCEMU_PCI_VEC_IRQ);
	return 0;
}

static int socemu_ep_raise_msi(struct socemu_ep *ep, u16 num)
{
	u32 ctrl = socemu_ep_rd(ep, SOCEMU_PCI_MSI_CTRL);
	int log2_count = socemu_ep_get_msi(ep->epc, 0, 0);
	u64 addr;
	u32 data;

	if (log2_count < 0) {
		dev_err_ratelimited(ep->dev, "MSI %u: MSI is not enabled (control %#x)\n",
				    num, ctrl);
		return -EINVAL;
	}
	if (!num || num > 1U << log2_count) {
		dev_err_ratelimited(ep->dev, "MSI %u: the RC enabled %u messages\n",
				    num, 1U << log2_count);
		return -EINVAL;
	}
	addr = (u64)socemu_ep_rd(ep, SOCEMU_PCI_MSI_ADDR_HI) << 32 |
	       socemu_ep_rd(ep, SOCEMU_PCI_MSI_ADDR_LO);
	/* Multiple messages: the low bits of the data carry the vector. */
	data = socemu_ep_rd(ep, SOCEMU_PCI_MSI_DATA) & 0xffff;
	data = (data & ~((1U << log2_count) - 1)) | (num - 1);
	return socemu_ep_send_msg(ep, addr, data);
}

static int socemu_ep_raise_msix(struct socemu_ep *ep, u16 num)
{
	u32 ctrl = socemu_ep_rd(ep, SOCEMU_PCI_MSIX_CTRL);
	void *entry;
	u32 vctrl, data;
	u64 addr;

	mutex_lock(&ep->lock);
	if (!ep->msix_entries || !ep->bar[ep->msix_bar].valid ||
	    !(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		mutex_unlock(&ep->lock);
		dev_err_ratelimited(ep->dev, "MSI-X %u: MSI-X is not enabled (control %#x)\n",
				    num, ctrl);
		return -EINVAL;
	}
	if (!num || num > ep->msix_entries) {
		mutex_unlock(&ep->lock);
		dev_err_ratelimited(ep->dev, "MSI-X %u: the table has %u entries\n",
				    num, ep->msix_entries);
		return -EINVAL;
	}
	/* The table is in BAR memory, written by the RC through its window. */
	entry = ep->bar[ep->msix_bar].addr + ep->msix_offset +
		(num - 1) * SOCEMU_EP_MSIX_ENTRY;
	addr = le64_to_cpu(READ_ONCE(*(__le64 *)(entry + PCI_MSIX_ENTRY_LOWER_ADDR)));
	data = le32_to_cpu(READ_ONCE(*(__le32 *)(entry + PCI_MSIX_ENTRY_DATA)));
	vctrl = le32_to_cpu(READ_ONCE(*(__le32 *)(entry + PCI_MSIX_ENTRY_VECTOR_CTRL)));
	mutex_unlock(&ep->lock);

	/*
	 * A masked vector would set its pending bit and fire on unmask; the
	 * emulation drops it instead, which the RC drivers here never rely on.
	 */
	if ((ctrl & PCI_MSIX_FLAGS_MASKALL) ||
	    (vctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
		return 0;
	return socemu_ep_send_msg(ep, addr, data);
}

static int socemu_ep_raise_irq(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			       unsigned int type, u16 num)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	switch (type) {
	case PCI_IRQ_INTX:
		if (!ep->prof->intx) {
			dev_err_ratelimited(ep->dev, "INTx: not on %s\n",
					    ep->prof->part);
			return -EINVAL;
		}
		if (!(socemu_ep_rd(ep, SOCEMU_PCI_MISC) >> 8 & 0xff))
			return -EINVAL;
		if (socemu_ep_rd(ep, SOCEMU_PCI_COMMAND) &
		    PCI_COMMAND_INTX_DISABLE)
			return 0;
		socemu_ep_wr(ep, SOCEMU_PCI_INTX_PENDING, 1);
		socemu_ep_ring(ep, SOCEMU_PCI_VEC_IRQ);
		return 0;
	case PCI_IRQ_MSI:
		return socemu_ep_raise_msi(ep, num);
	case PCI_IRQ_MSIX:
		return socemu_ep_raise_msix(ep, num);
	default:
		dev_err(ep->dev, "unknown interrupt type %u\n", type);
		return -EINVAL;
	}
}

/*
 * Work out whether the link is up, log it if that changed, and tell the
 * functions if the profile's controller notifies link changes.
 */
static void socemu_ep_link_work(struct work_struct *work)
{
	struct socemu_ep *ep = container_of(work, struct socemu_ep, link_work);
	bool rc = socemu_ep_rd(ep, SOCEMU_PCI_RC_STATE) & SOCEMU_PCI_RC_PRESENT;
	bool notify = ep->prof->features.linkup_notifier;
	u32 gen = socemu_ep_rd(ep, SOCEMU_PCI_RC_GEN);
	bool down = false, up = false;

	mutex_lock(&ep->lock);
	if (ep->link_up && (!ep->started || !rc || gen != ep->rc_gen)) {
		ep->link_up = false;
		down = true;
	}
	if (!ep->link_up && ep->started && rc) {
		ep->link_up = true;
		ep->rc_gen = gen;
		up = true;
	}
	mutex_unlock(&ep->lock);

	if (down) {
		dev_info(ep->dev, "link down\n");
		if (notify)
			pci_epc_linkdown(ep->epc);
	}
	if (up) {
		dev_info(ep->dev, "link up (root complex generation %u)\n", gen);
		if (notify)
			pci_epc_linkup(ep->epc);
	}
}

static int socemu_ep_start(struct pci_epc *epc)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	mutex_lock(&ep->lock);
	ep->started = true;
	mutex_unlock(&ep->lock);
	socemu_ep_wr(ep, SOCEMU_PCI_EP_STATE, SOCEMU_PCI_EP_STARTED);
	socemu_ep_ring(ep, SOCEMU_PCI_VEC_STATE);
	schedule_work(&ep->link_work);
	return 0;
}

static void socemu_ep_stop(struct pci_epc *epc)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	mutex_lock(&ep->lock);
	ep->started = false;
	mutex_unlock(&ep->lock);
	socemu_ep_wr(ep, SOCEMU_PCI_EP_STATE, 0);
	socemu_ep_ring(ep, SOCEMU_PCI_VEC_STATE);
	schedule_work(&ep->link_work);
}

/*
 * The doorbells are BAR 5, which the host bridge maps onto the RC's own
 * doorbell device: the RC's write there of doorbell i's value rings this
 * end on SOCEMU_PCI_VEC_DB + i, which raises ep->db_irq[i]. BAR 5 is set
 * up when a function first asks, unless that function uses BAR 5 (or BAR
 * 4 as a 64-bit BAR): then it is in no BAR, and the function cannot use
 * them.
 */
static int socemu_ep_get_aux_resources(struct pci_epc *epc, u8 func_no,
				       u8 vfunc_no,
				       struct pci_epc_aux_resource *res,
				       int num_res)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	enum pci_barno bar = SOCEMU_EP_DB_BAR;
	u32 bar4;

	unsigned int i;

	if (!ep->nr_db)
		return -EOPNOTSUPP;
	if (num_res < 1)
		return ep->nr_db;

	mutex_lock(&ep->lock);
	bar4 = socemu_ep_rd(ep, SOCEMU_PCI_BAR(BAR_4) + SOCEMU_PCI_BAR_FLAGS);
	if (ep->bar[SOCEMU_EP_DB_BAR].valid ||
	    (ep->bar[BAR_4].valid && (bar4 & PCI_BASE_ADDRESS_MEM_TYPE_64))) {
		bar = NO_BAR;
	} else if (!ep->db_bar) {
		socemu_ep_publish_bar(ep, SOCEMU_EP_DB_BAR,
				      SOCEMU_PCI_BAR_VALID |
				      SOCEMU_PCI_BAR_DOORBELL,
				      SOCEMU_PCI_DB_SIZE, 0);
		ep->db_bar = true;
	}
	mutex_unlock(&ep->lock);

	for (i = 0; i < min_t(unsigned int, num_res, ep->nr_db); i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].type = PCI_EPC_AUX_DOORBELL_MMIO;
		/* There is no register on this side: where the RC reaches it. */
		res[i].phys_addr = SOCEMU_PCI_DB_BUS;
		res[i].size = SOCEMU_PCI_DB_SIZE;
		res[i].bar = bar;
		res[i].bar_offset = SOCEMU_PCI_DB_REG;
		res[i].u.db_mmio.irq = ep->db_irq[i];
		res[i].u.db_mmio.data = socemu_doorbell_id(ep->db) << 16 |
					(SOCEMU_PCI_VEC_DB + i);
	}
	return ep->nr_db;
}

static const struct pci_epc_features *
socemu_ep_get_features(struct pci_epc *epc, u8 func_no, u8 vfunc_no)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	return &ep->prof->features;
}

static const struct pci_epc_ops socemu_ep_ops = {
	.write_header	= socemu_ep_write_header,
	.set_bar	= socemu_ep_set_bar,
	.clear_bar	= socemu_ep_clear_bar,
	.map_addr	= socemu_ep_map_addr,
	/* No unmap_addr: map_addr() never maps anything. */
	.mem_map	= socemu_ep_mem_map,
	.mem_unmap	= socemu_ep_mem_unmap,
	.set_msi	= socemu_ep_set_msi,
	.get_msi	= socemu_ep_get_msi,
	.set_msix	= socemu_ep_set_msix,
	.get_msix	= socemu_ep_get_msix,
	.raise_irq	= socemu_ep_raise_irq,
	.start		= socemu_ep_start,
	.stop		= socemu_ep_stop,
	.get_features	= socemu_ep_get_features,
	.get_aux_resources = socemu_ep_get_aux_resources,
	/*
	 * No .owner: the endpoint core would take a reference on it for the
	 * controller's configfs directory, which lives as long as the
	 * controller, and the module could never be unloaded. Functions must
	 * be unlinked before it is.
	 */
};

static void socemu_ep_doorbell(struct socemu_doorbell *db,
			       unsigned int vector, void *data)
{
	struct socemu_ep *ep = data;

	if (vector == SOCEMU_PCI_VEC_STATE)
		schedule_work(&ep->link_work);
	else if (vector >= SOCEMU_PCI_VEC_DB &&
		 vector - SOCEMU_PCI_VEC_DB < ep->nr_db)
		generic_handle_irq(ep->db_irq[vector - SOCEMU_PCI_VEC_DB]);
}

static const struct socemu_ep_profile *socemu_ep_find_profile(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(socemu_ep_profiles); i++)
		if (sysfs_streq(name, socemu_ep_profiles[i].name))
			return &socemu_ep_profiles[i];
	return NULL;
}

/*
 * The Linux interrupts the doorbells raise, for the functions to request:
 * one per vector of the doorbell device from SOCEMU_PCI_VEC_DB on, up to
 * SOCEMU_EP_MAX_DB. The doorbell's handler raises them from hard
 * interrupt context.
 */
static int socemu_ep_get_db_irqs(struct socemu_ep *ep)
{
	unsigned int vectors = socemu_doorbell_vectors(ep->db);
	unsigned int i, n;
	int irq;

	if (vectors <= SOCEMU_PCI_VEC_DB)
		return 0;
	n = min(vectors - SOCEMU_PCI_VEC_DB, SOCEMU_EP_MAX_DB);
	irq = irq_alloc_descs(-1, 0, n, NUMA_NO_NODE);
	if (irq < 0)
		return irq;
	for (i = 0; i < n; i++) {
		irq_set_chip_and_handler_name(irq + i, &dummy_irq_chip,
					      handle_simple_irq,
					      "socemu-ep-doorbell");
		irq_modify_status(irq + i, IRQ_NOREQUEST | IRQ_NOPROBE, 0);
		ep->db_irq[i] = irq + i;
	}
	ep->nr_db = n;
	return 0;
}

static void socemu_ep_put_db_irqs(struct socemu_ep *ep)
{
	unsigned int i;

	if (!ep->nr_db)
		return;
	for (i = 0; i < ep->nr_db; i++)
		irq_set_chip_and_handler(ep->db_irq[i], NULL, NULL);
	irq_free_descs(ep->db_irq[0], ep->nr_db);
	ep->nr_db = 0;
}

/* Unmap what functions left mapped, and free the outbound region. */
static void socemu_ep_put_region(struct socemu_ep *ep)
{
	unsigned int i;

	mutex_lock(&ep->win_lock);
	for (i = 0; i < ep->prof->nr_windows; i++) {
		struct socemu_ep_win *w = &ep->win[i];

		if (!w->virt)
			continue;
		dev_err(ep->dev, "window %u (PCI %#llx+%#llx) still mapped at removal\n",
			i, w->pci_addr, w->size);
		socemu_window_unmap(ep->alias, w->virt);
		w->virt = NULL;
	}
	for (i = 0; i < ep->prof->nr_ap; i++) {
		bitmap_free(ep->ap_map[i]);
		ep->ap_map[i] = NULL;
	}
	mutex_unlock(&ep->win_lock);
}

/*
 * The outbound region's allocation maps, with what the controller's
 * driver takes at probe already taken.
 */
static int socemu_ep_get_region(struct socemu_ep *ep)
{
	const struct socemu_ep_profile *prof = ep->prof;
	struct socemu_ep_win reserved;
	unsigned int i;
	int ret = 0;

	mutex_lock(&ep->win_lock);
	for (i = 0; i < prof->nr_ap; i++) {
		ep->ap_pages[i] = prof->ap[i].size / prof->ap[i].page_size;
		ep->ap_map[i] = bitmap_zalloc(ep->ap_pages[i], GFP_KERNEL);
		if (!ep->ap_map[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (prof->reserved)
		ret = socemu_ep_region_alloc(ep, prof->reserved, &reserved);
out:
	mutex_unlock(&ep->win_lock);
	if (ret)
		socemu_ep_put_region(ep);
	return ret;
}

/* @n bytes as "128 MiB", "64 KiB" or "256 B", into @buf. */
static const char *socemu_ep_size(char *buf, size_t len, u64 n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB" };
	unsigned int u = 0;

	while (u + 1 < ARRAY_SIZE(unit) && n >= SZ_1K && !(n % SZ_1K)) {
		n /= SZ_1K;
		u++;
	}
	snprintf(buf, len, "%llu %s", n, unit[u]);
	return buf;
}

/* What the profile's controller is, in two lines of the log. */
static void socemu_ep_log_profile(struct socemu_ep *ep)
{
	const struct socemu_ep_profile *prof = ep->prof;
	const struct pci_epc_features *f = &prof->features;
	char region[160], bars[PCI_STD_NUM_BARS][32], dma[48];
	char s1[16], s2[16], s3[16];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < prof->nr_ap; i++)
		len += scnprintf(region + len, sizeof(region) - len, "%s%s in %s pages",
				 i ? ", " : "",
				 socemu_ep_size(s1, sizeof(s1), prof->ap[i].size),
				 socemu_ep_size(s2, sizeof(s2), prof->ap[i].page_size));
	if (prof->reserved)
		scnprintf(region + len, sizeof(region) - len, ", %s reserved",
			  socemu_ep_size(s1, sizeof(s1), prof->reserved));

	if (prof->whole_ram)
		dev_info(ep->dev, "profile %s (%s): %u outbound windows, each all of root complex RAM (%s)\n",
			 prof->name, prof->part, prof->nr_windows,
			 socemu_ep_size(s1, sizeof(s1), ep->ram_size));
	else
		dev_info(ep->dev, "profile %s (%s): %u outbound windows%s, %s %s, up to %s, from an outbound region of %s\n",
			 prof->name, prof->part, prof->nr_windows,
			 prof->irq_window ? " (MSI writes borrow one)" : "",
			 prof->pow2 ? "naturally aligned powers of two from" :
				      "base and limit in granules of",
			 socemu_ep_size(s2, sizeof(s2), prof->granule),
			 socemu_ep_size(s3, sizeof(s3), prof->max_size),
			 region);

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct pci_epc_bar_desc *b = &f->bar[i];
		const char *w = b->only_64bit ? " 64-bit" : "";

		if (b->type == BAR_RESERVED)
			snprintf(bars[i], sizeof(bars[i]), "reserved");
		else if (b->type == BAR_FIXED)
			snprintf(bars[i], sizeof(bars[i]), "fixed %llu B%s",
				 b->fixed_size, w);
		else
			snprintf(bars[i], sizeof(bars[i]), "programmable%s", w);
	}
	snprintf(dma, sizeof(dma), "%u read, %u write", prof->dma_rd,
		 prof->dma_wr);
	dev_info(ep->dev, "profile %s: BAR0 %s, BAR1 %s, BAR2 %s, BAR3 %s, BAR4 %s, BAR5 %s; align %zu; INTx %s, MSI %s, MSI-X %s; link-up notification %s; doorbells %u; DMA channels %s\n",
		 prof->name, bars[0], bars[1], bars[2], bars[3], bars[4],
		 bars[5], f->align, str_yes_no(prof->intx),
		 str_yes_no(f->msi_capable), str_yes_no(f->msix_capable),
		 str_yes_no(f->linkup_notifier), ep->nr_db, dma);
}

/*
 * Reset what this end publishes to "endpoint present, no function". The
 * words the host bridge writes are left to it.
 */
static void socemu_ep_init_region(struct socemu_ep *ep)
{
	static const unsigned int words[] = {
		SOCEMU_PCI_EP_STATE, SOCEMU_PCI_ID, SOCEMU_PCI_CLASS_REV,
		SOCEMU_PCI_SUBSYS, SOCEMU_PCI_MISC, SOCEMU_PCI_MSI_CAP,
		SOCEMU_PCI_MSIX_CAP, SOCEMU_PCI_MSIX_TABLE, SOCEMU_PCI_MSIX_PBA,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		socemu_ep_wr(ep, words[i], 0);
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		socemu_ep_publish_bar(ep, i, 0, 0, 0);
	socemu_ep_wr(ep, SOCEMU_PCI_MAGIC_OFF, SOCEMU_PCI_MAGIC);
	socemu_ep_wr(ep, SOCEMU_PCI_VERSION_OFF, SOCEMU_PCI_VERSION);
	socemu_ep_wr(ep, SOCEMU_PCI_EP_PEER, socemu_doorbell_id(ep->db) + 1);
}

/*
 * /sys/kernel/debug/pcie-socemu-ep/window_probe, for the rig's tests: write
 * "ADDR LEN" (hex) and a window is mapped for that range of root complex
 * RAM as for a function, its first and last bytes and the byte after its
 * end are read without faulting the kernel (copy_from_kernel_nofault()),
 * and the window is unmapped; read what happened.
 */
static ssize_t socemu_ep_probe_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct socemu_ep *ep = file->private_data;
	struct pci_epc_map map = {};
	char buf[64], what[80];
	u64 addr, len;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	if (sscanf(buf, "%llx %llx", &addr, &len) != 2 || !len ||
	    len > SIZE_MAX) {
		dev_err(ep->dev, "window_probe: write \"ADDR LEN\" in hex\n");
		return -EINVAL;
	}
	ret = socemu_ep_mem_map(ep->epc, 0, 0, addr, len, &map);
	mutex_lock(&ep->probe_lock);
	if (ret) {
		snprintf(ep->probe_result, sizeof(ep->probe_result),
			 "PCI %#llx+%#llx: no window (%d)\n", addr, len, ret);
		mutex_unlock(&ep->probe_lock);
		return ret;
	}
	socemu_probe_mapping(map.virt_base, map.map_size, what, sizeof(what));
	snprintf(ep->probe_result, sizeof(ep->probe_result),
		 "PCI %#llx+%#llx: window %#llx+%#zx: %s\n",
		 addr, len, map.map_pci_addr, map.map_size, what);
	mutex_unlock(&ep->probe_lock);
	socemu_ep_mem_unmap(ep->epc, 0, 0, &map);
	return count;
}

static ssize_t socemu_ep_probe_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct socemu_ep *ep = file->private_data;
	ssize_t ret;

	mutex_lock(&ep->probe_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, ep->probe_result,
				      strlen(ep->probe_result));
	mutex_unlock(&ep->probe_lock);
	return ret;
}

static const struct file_operations socemu_ep_probe_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= socemu_ep_probe_read,
	.write	= socemu_ep_probe_write,
	.llseek	= default_llseek,
};

static int socemu_ep_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	const struct socemu_ep_profile *prof;
	struct socemu_ep *ep;
	size_t shm_size;
	u64 region;
	unsigned int i;
	int ret;

	prof = socemu_ep_find_profile(profile);
	if (!prof) {
		dev_err(dev, "profile=%s: unknown; one of j721e, imx8, rcar, generous\n",
			profile);
		return -EINVAL;
	}

	ep = devm_kzalloc(dev, sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return -ENOMEM;
	ep->dev = dev;
	ep->prof = prof;
	mutex_init(&ep->lock);
	mutex_init(&ep->win_lock);
	mutex_init(&ep->probe_lock);
	INIT_WORK(&ep->link_work, socemu_ep_link_work);

	/* The functions allocate BAR memory with dma_alloc_coherent(). */
	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	ep->db = socemu_doorbell_get(doorbell);
	if (IS_ERR(ep->db)) {
		dev_err(dev, "doorbell %u: %pe\n", doorbell, ep->db);
		return PTR_ERR(ep->db);
	}
	ep->shm = socemu_doorbell_shm(ep->db, &shm_size);
	if (shm_size < SOCEMU_PCI_REGION_SIZE) {
		dev_err(dev, "doorbell %u: shared region of %zu bytes, need %d\n",
			doorbell, shm_size, SOCEMU_PCI_REGION_SIZE);
		ret = -ENOSPC;
		goto put_db;
	}

	ep->alias = socemu_window_get(first_window);
	if (IS_ERR(ep->alias)) {
		ret = PTR_ERR(ep->alias);
		dev_err(dev, "window %u: %pe\n", first_window, ep->alias);
		goto put_db;
	}
	ep->alias_phys = socemu_window_phys(ep->alias);
	ep->ram_size = socemu_window_size(ep->alias);

	ret = socemu_ep_get_region(ep);
	if (ret)
		goto put_alias;

	if (prof->doorbell) {
		ret = socemu_ep_get_db_irqs(ep);
		if (ret)
			goto put_region;
	}

	/* The engine reaches RC memory by bus address, through the alias. */
	if (prof->dma_rd + prof->dma_wr) {
		ep->edma = socemu_edma_create(dev, ep->alias_phys, ep->ram_size,
					      prof->dma_rd, prof->dma_wr);
		if (IS_ERR(ep->edma)) {
			ret = PTR_ERR(ep->edma);
			ep->edma = NULL;
			goto put_db_irq;
		}
	}

	ep->epc = pci_epc_create(dev, &socemu_ep_ops);
	if (IS_ERR(ep->epc)) {
		ret = PTR_ERR(ep->epc);
		goto put_edma;
	}
	ep->epc->max_functions = 1;
	epc_set_drvdata(ep->epc, ep);

	/*
	 * For pci_epc_mem_alloc_addr() alone: map_addr() refuses whatever it
	 * hands out. As large as the outbound region, within the alias.
	 */
	region = 0;
	for (i = 0; i < prof->nr_ap; i++)
		region += prof->ap[i].size;
	if (!region || region > ep->ram_size)
		region = ep->ram_size;
	ret = pci_epc_mem_init(ep->epc, ep->alias_phys, region, PAGE_SIZE);
	if (ret)
		goto destroy;

	platform_set_drvdata(pdev, ep);
	socemu_ep_init_region(ep);
	socemu_doorbell_set_handler(ep->db, socemu_ep_doorbell, ep);
	pci_epc_init_notify(ep->epc);
	socemu_ep_log_profile(ep);
	ep->debugfs = debugfs_create_dir(dev_name(dev), NULL);
	debugfs_create_file("window_probe", 0600, ep->debugfs, ep,
			    &socemu_ep_probe_fops);
	dev_info(dev, "outbound alias: window %u onto %llu MiB of root complex RAM; doorbell %u (peer id %u)\n",
		 first_window, ep->ram_size >> 20, doorbell,
		 socemu_doorbell_id(ep->db));
	return 0;

destroy:
	pci_epc_destroy(ep->epc);
put_edma:
	if (ep->edma)
		socemu_edma_destroy(ep->edma);
put_db_irq:
	socemu_ep_put_db_irqs(ep);
put_region:
	socemu_ep_put_region(ep);
put_alias:
	socemu_window_put(ep->alias);
put_db:
	socemu_doorbell_put(ep->db);
	return ret;
}

static void socemu_ep_remove(struct platform_device *pdev)
{
	struct socemu_ep *ep = platform_get_drvdata(pdev);

	debugfs_remove(ep->debugfs);
	if (!list_empty(&ep->epc->pci_epf))
		dev_err(ep->dev, "unloaded with functions still linked: unlink them first\n");
	socemu_doorbell_clear_handler(ep->db);
	cancel_work_sync(&ep->link_work);
	pci_epc_deinit_notify(ep->epc);
	socemu_ep_wr(ep, SOCEMU_PCI_EP_STATE, 0);
	socemu_ep_wr(ep, SOCEMU_PCI_EP_PEER, 0);
	socemu_ep_ring(ep, SOCEMU_PCI_VEC_STATE);
	pci_epc_mem_exit(ep->epc);
	pci_epc_destroy(ep->epc);
	if (ep->edma)
		socemu_edma_destroy(ep->edma);
	socemu_ep_put_db_irqs(ep);
	socemu_ep_put_region(ep);
	socemu_window_put(ep->alias);
	socemu_doorbell_put(ep->db);
}

static struct platform_driver socemu_ep_driver = {
	.probe = socemu_ep_probe,
	.remove = socemu_ep_remove,
	.driver = {
		.name = SOCEMU_EP_NAME,
		.suppress_bind_attrs = true,
	},
};

static struct platform_device *socemu_ep_pdev;

static int __init socemu_ep_init(void)
{
	int ret;

	ret = platform_driver_register(&socemu_ep_driver);
	if (ret)
		return ret;
	socemu_ep_pdev = platform_device_register_simple(SOCEMU_EP_NAME, -1,
							 NULL, 0);
	if (IS_ERR(socemu_ep_pdev)) {
		platform_driver_unregister(&socemu_ep_driver);
		return PTR_ERR(socemu_ep_pdev);
	}
	if (!platform_get_drvdata(socemu_ep_pdev)) {
		/* Probe failed and said why; do not load without a controller. */
		platform_device_unregister(socemu_ep_pdev);
		platform_driver_unregister(&socemu_ep_driver);
		return -ENODEV;
	}
	return 0;
}
module_init(socemu_ep_init);

static void __exit socemu_ep_exit(void)
{
	platform_device_unregister(socemu_ep_pdev);
	platform_driver_unregister(&socemu_ep_driver);
}
module_exit(socemu_ep_exit);

MODULE_DESCRIPTION("Emulated PCIe endpoint controller of the socemu test rig");
MODULE_LICENSE("GPL");
