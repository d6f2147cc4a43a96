// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual PCI host bridge: the root complex end of the rig's emulated PCIe
 * link (pcie-socemu-ep.c is the endpoint end, in this VM or another one).
 *
 * The driver registers one root bus in a PCI domain of its own (above
 * 0xffff, like VMD) whose device 0 is the function the endpoint publishes
 * in the shared region of a socemu doorbell (pcie-socemu.h).  Config space
 * is a shadow in RC memory, built from what the endpoint published: header,
 * BARs, a 64-bit MSI capability and an MSI-X capability.  Writes are
 * emulated as hardware would do them (BAR sizing, read-only fields) and
 * what the RC programs (command register, MSI and MSI-X control, MSI
 * address and data) is mirrored into the region for the endpoint to read.
 *
 * Inbound translation: the BARs are pre-assigned, as by firmware.  BAR
 * memory lives in endpoint RAM, which the socemu window shows at CPU
 * address window_phys + ep_phys; the root bus has one memory window, that
 * range, at bus address SOCEMU_PCI_BAR_BUS_BASE + ep_phys.  The BARs read
 * back those bus addresses and are claimed, never assigned.  A doorbell
 * BAR (SOCEMU_PCI_BAR_DOORBELL) is instead the register page of our own
 * doorbell device, in a second bus window at SOCEMU_PCI_DB_BUS: the root
 * complex rings the endpoint function with a plain write to it.
 *
 * Interrupts: MSI and MSI-X messages target SOCEMU_PCI_MSI_ADDR with the
 * hwirq of a 64-entry parent domain as data (multi-message MSI gets an
 * aligned block).  The endpoint "writes" a message by setting the
 * hwirq's pending word and ringing SOCEMU_PCI_VEC_IRQ; INTx is one more
 * pending word.  The doorbell handler clears each pending word before it
 * handles it, so a raise that races with the clear is coalesced, not lost.
 * A ring on SOCEMU_PCI_VEC_STATE means the endpoint's link state changed:
 * link_work removes device 0, or scans it, or both if the published
 * function changed.
 *
 * Not emulated: ECAM and extended config space (it reads as zero), more
 * than one function, bridges, I/O BARs, a PCIe capability, hotplug beyond
 * link up and down, moving BARs (the memory stays where the endpoint put
 * it), per-vector MSI masking and MSI affinity.
 *
 * Locking:
 * - pci_lock_rescan_remove() serializes every change of the bus (probe
 *   scan, link_work, root bus removal) and protects host->fn, the
 *   published function the shadow was last built from.
 * - cfg_lock (raw: x86 calls the config accessors without pci_lock, with
 *   interrupts on or off) protects the shadow (cfg, wmask, bar_init,
 *   msi_off, msix_off, cfg_valid) and the RC words mirrored from it.
 *   link_work rebuilds the shadow only while cfg_valid is false, which
 *   makes device 0 absent; it sets cfg_valid under the lock when done.
 * - msi_lock protects the msi_used bitmap in the parent domain's alloc
 *   and free.  The doorbell handler tests bits without it: a message
 *   racing with allocation or freeing is handled or logged and dropped.
 * - The doorbell handler runs in hard-IRQ context under the doorbell's own
 *   lock; socemu_doorbell_clear_handler() waits for it.  It queues
 *   link_work, which remove disables before the bus goes away.
 */

#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/socemu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "pcie-socemu.h"

#define DRV_NAME		"pcie-socemu-host"

#define SOCEMU_CFG_DWORDS	(PCI_CFG_SPACE_EXP_SIZE / 4)
#define SOCEMU_CAP_MSI		0x50
#define SOCEMU_CAP_MSIX		0x70
#define SOCEMU_BAR_FLAGS	(PCI_BASE_ADDRESS_SPACE |		\
				 PCI_BASE_ADDRESS_MEM_TYPE_MASK |	\
				 PCI_BASE_ADDRESS_MEM_PREFETCH)
#define SOCEMU_BAR_MIN_SIZE	128
#define SOCEMU_MSI_MAX_CAP	6	/* log2(32 messages) + 1 */
#define SOCEMU_MSIX_MAX		(PCI_MSIX_FLAGS_QSIZE + 1)
#define SOCEMU_CMD_WMASK	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |   \
				 PCI_COMMAND_INTX_DISABLE)

static unsigned int window;
module_param(window, uint, 0444);
MODULE_PARM_DESC(window, "socemu window onto the endpoint's RAM (default 0)");

static unsigned int doorbell;
module_param(doorbell, uint, 0444);
MODULE_PARM_DESC(doorbell, "socemu doorbell shared with the endpoint (default 0)");

/* Function 0 as the endpoint published it: raw, untrusted words. */
struct socemu_ep_fn {
	u32 id;
	u32 class_rev;
	u32 subsys;
	u32 misc;
	u32 bar[PCI_STD_NUM_BARS][4];	/* SOCEMU_PCI_BAR_* words */
	u32 msi_cap;
	u32 msix_cap;
	u32 msix_table;
	u32 msix_pba;
};

struct socemu_host {
	struct device *dev;
	struct socemu_window *win;
	struct socemu_doorbell *db;
	void __iomem *shm;
	struct pci_host_bridge *bridge;
	struct pci_sysdata sysdata;	/* x86 reads bus->sysdata as this */
	struct resource win_res;
	struct resource db_res;		/* doorbell BARs: our doorbell's regs */
	struct resource busn_res;

	struct fwnode_handle *msi_fwnode;
	struct fwnode_handle *intx_fwnode;
	struct irq_domain *msi_parent;
	struct irq_domain *msi_domain;
	struct irq_domain *intx_domain;
	unsigned int intx_irq;
	spinlock_t msi_lock;		/* protects msi_used */
	DECLARE_BITMAP(msi_used, SOCEMU_PCI_NR_HWIRQ);

	struct work_struct link_work;
	struct socemu_ep_fn fn;		/* under pci_lock_rescan_remove() */

	raw_spinlock_t cfg_lock;	/* protects the shadow below */
	bool cfg_valid;
	unsigned int msi_off;
	unsigned int msix_off;
	u32 bar_size[PCI_STD_NUM_BARS];	/* only used while building */
	u32 bar_init[PCI_STD_NUM_BARS];	/* pre-assigned BAR dwords */
	u32 cfg[SOCEMU_CFG_DWORDS];
	u32 wmask[SOCEMU_CFG_DWORDS];	/* writable bits of each dword */
};

static struct socemu_host *socemu_host_from_bus(const struct pci_bus *bus)
{
	return container_of(bus->sysdata, struct socemu_host, sysdata);
}

static u32 socemu_rd(struct socemu_host *host, unsigned int off)
{
	return ioread32(host->shm + off);
}

static void socemu_wr(struct socemu_host *host, unsigned int off, u32 val)
{
	iowrite32(val, host->shm + off);
}

static bool socemu_host_ep_up(struct socemu_host *host)
{
	return socemu_rd(host, SOCEMU_PCI_MAGIC_OFF) == SOCEMU_PCI_MAGIC &&
	       socemu_rd(host, SOCEMU_PCI_VERSION_OFF) == SOCEMU_PCI_VERSION &&
	       (socemu_rd(host, SOCEMU_PCI_EP_STATE) & SOCEMU_PCI_EP_STARTED);
}

static void socemu_host_ring_ep(struct socemu_host *host)
{
	u32 peer = socemu_rd(host, SOCEMU_PCI_EP_PEER);

	if (!peer)
		return;		/* no endpoint has come yet */
	if (peer - 1 > U16_MAX || peer - 1 == socemu_doorbell_id(host->db)) {
		dev_warn_ratelimited(host->dev,
				     "endpoint peer word %#x is not valid, not ringing\n",
				     peer);
		return;
	}
	socemu_doorbell_ring(host->db, peer - 1, SOCEMU_PCI_VEC_STATE);
}

/* Publish a word the RC programs; true if its value changed. */
static bool socemu_host_mirror(struct socemu_host *host, unsigned int off,
			       u32 val)
{
	if (socemu_rd(host, off) == val)
		return false;
	socemu_wr(host, off, val);
	return true;
}

/* What the RC programs into the function, after a reset: nothing. */
static void socemu_host_reset_mirrors(struct socemu_host *host)
{
	static const unsigned int offs[] = {
		SOCEMU_PCI_COMMAND, SOCEMU_PCI_MSI_CTRL, SOCEMU_PCI_MSIX_CTRL,
		SOCEMU_PCI_MSI_ADDR_LO, SOCEMU_PCI_MSI_ADDR_HI,
		SOCEMU_PCI_MSI_DATA,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++)
		socemu_wr(host, offs[i], 0);
}

static void socemu_host_publish(struct socemu_host *host, bool present)
{
	if (present) {
		socemu_wr(host, SOCEMU_PCI_RC_PEER,
			  socemu_doorbell_id(host->db) + 1);
		socemu_wr(host, SOCEMU_PCI_RC_GEN,
			  socemu_rd(host, SOCEMU_PCI_RC_GEN) + 1);
		socemu_wr(host, SOCEMU_PCI_RC_STATE, SOCEMU_PCI_RC_PRESENT);
	} else {
		socemu_wr(host, SOCEMU_PCI_RC_STATE, 0);
		socemu_wr(host, SOCEMU_PCI_RC_PEER, 0);
	}
	socemu_host_ring_ep(host);
}

/* ---- Shadow config space ---------------------------------------------- */

static void socemu_host_read_fn(struct socemu_host *host,
				struct socemu_ep_fn *fn)
{
	unsigned int n, w;

	fn->id = socemu_rd(host, SOCEMU_PCI_ID);
	fn->class_rev = socemu_rd(host, SOCEMU_PCI_CLASS_REV);
	fn->subsys = socemu_rd(host, SOCEMU_PCI_SUBSYS);
	fn->misc = socemu_rd(host, SOCEMU_PCI_MISC);
	for (n = 0; n < PCI_STD_NUM_BARS; n++)
		for (w = 0; w < 4; w++)
			fn->bar[n][w] = socemu_rd(host,
						  SOCEMU_PCI_BAR(n) + w * 4);
	fn->msi_cap = socemu_rd(host, SOCEMU_PCI_MSI_CAP);
	fn->msix_cap = socemu_rd(host, SOCEMU_PCI_MSIX_CAP);
	fn->msix_table = socemu_rd(host, SOCEMU_PCI_MSIX_TABLE);
	fn->msix_pba = socemu_rd(host, SOCEMU_PCI_MSIX_PBA);
}

static const char *socemu_host_bar_invalid(struct socemu_host *host,
					   unsigned int n, u32 flags, u32 size,
					   u64 ep)
{
	u64 win_len = resource_size(&host->win_res);

	if (flags & PCI_BASE_ADDRESS_SPACE_IO)
		return "I/O space is not emulated";
	switch (flags & PCI_BASE_ADDRESS_MEM_TYPE_MASK) {
	case PCI_BASE_ADDRESS_MEM_TYPE_32:
		break;
	case PCI_BASE_ADDRESS_MEM_TYPE_64:
		if (n == PCI_STD_NUM_BARS - 1)
			return "a 64-bit BAR5 has no upper half";
		break;
	default:
		return "reserved memory type";
	}
	if (size < SOCEMU_BAR_MIN_SIZE || !is_power_of_2(size))
		return "size is not a power of two >= 128";
	if (ep & (size - 1))
		return "memory is not aligned to the size";
	/* The window ends below 4 GiB on the bus: 32-bit BARs always fit. */
	if (ep >= win_len || size > win_len - ep)
		return "memory is beyond the window";
	return NULL;
}

static void socemu_host_build_bars(struct socemu_host *host,
				   const struct socemu_ep_fn *fn)
{
	unsigned int n, i;

	for (n = 0; n < PCI_STD_NUM_BARS; n++) {
		const u32 *b = fn->bar[n];
		u32 flags = b[SOCEMU_PCI_BAR_FLAGS / 4] & SOCEMU_BAR_FLAGS;
		u32 size = b[SOCEMU_PCI_BAR_SIZE / 4];
		u64 ep = (u64)b[SOCEMU_PCI_BAR_EP_PHYS_HI / 4] << 32 |
			 b[SOCEMU_PCI_BAR_EP_PHYS_LO / 4];
		const char *why;
		u64 bus;

		if (!(b[SOCEMU_PCI_BAR_FLAGS / 4] & SOCEMU_PCI_BAR_VALID))
			continue;
		if (b[SOCEMU_PCI_BAR_FLAGS / 4] & SOCEMU_PCI_BAR_DOORBELL) {
			/* The EP's doorbell: our doorbell device's registers. */
			if (size != SOCEMU_PCI_DB_SIZE) {
				dev_warn_ratelimited(host->dev,
						     "doorbell BAR%u of %#x bytes, want %#x, left out\n",
						     n, size, SOCEMU_PCI_DB_SIZE);
				continue;
			}
			i = PCI_BASE_ADDRESS_0 / 4 + n;
			host->bar_size[n] = size;
			host->bar_init[n] = lower_32_bits(SOCEMU_PCI_DB_BUS);
			host->cfg[i] = host->bar_init[n];
			host->wmask[i] = ~(size - 1);
			continue;
		}
		why = socemu_host_bar_invalid(host, n, flags, size, ep);
		if (why) {
			dev_warn_ratelimited(host->dev,
					     "BAR%u (flags %#x, size %#x, at %#llx): %s, left out\n",
					     n, flags, size, ep, why);
			continue;
		}
		bus = SOCEMU_PCI_BAR_BUS_BASE + ep;
		i = PCI_BASE_ADDRESS_0 / 4 + n;
		host->bar_size[n] = size;
		host->bar_init[n] = lower_32_bits(bus) | flags;
		host->cfg[i] = host->bar_init[n];
		host->wmask[i] = ~(size - 1);
		if ((flags & PCI_BASE_ADDRESS_MEM_TYPE_MASK) !=
		    PCI_BASE_ADDRESS_MEM_TYPE_64)
			continue;

		/* The next dword is the upper half of this BAR. */
		n++;
		host->bar_init[n] = upper_32_bits(bus);
		host->cfg[i + 1] = host->bar_init[n];
		host->wmask[i + 1] = U32_MAX;
		if (fn->bar[n][SOCEMU_PCI_BAR_FLAGS / 4] & SOCEMU_PCI_BAR_VALID)
			dev_warn_ratelimited(host->dev,
					     "BAR%u is the upper half of 64-bit BAR%u, ignored\n",
					     n, n - 1);
	}
}

static bool socemu_host_msix_region_ok(struct socemu_host *host, u32 word,
				       u32 len)
{
	unsigned int bir = word & PCI_MSIX_TABLE_BIR;
	u32 off = word & PCI_MSIX_TABLE_OFFSET;

	return bir < PCI_STD_NUM_BARS && host->bar_size[bir] &&
	       off <= host->bar_size[bir] && len <= host->bar_size[bir] - off;
}

static bool socemu_host_msix_ok(struct socemu_host *host,
				const struct socemu_ep_fn *fn)
{
	u32 n = fn->msix_cap;
	const char *why = NULL;

	if (!n)
		return false;
	if (n > SOCEMU_MSIX_MAX)
		why = "more than 2048 entries";
	else if (!socemu_host_msix_region_ok(host, fn->msix_table,
					     n * PCI_MSIX_ENTRY_SIZE))
		why = "table outside a BAR";
	else if (!socemu_host_msix_region_ok(host, fn->msix_pba,
					     DIV_ROUND_UP(n, 64) * 8))
		why = "PBA outside a BAR";
	if (why)
		dev_warn_ratelimited(host->dev,
				     "MSI-X (%u entries, table %#x, PBA %#x): %s, left out\n",
				     n, fn->msix_table, fn->msix_pba, why);
	return !why;
}

static void socemu_host_build_caps(struct socemu_host *host,
				   const struct socemu_ep_fn *fn)
{
	u32 *cfg = host->cfg, *wm = host->wmask;
	unsigned int i;
	u32 next = 0;

	/* The list is MSI, then MSI-X: build it from its end. */
	if (socemu_host_msix_ok(host, fn)) {
		i = SOCEMU_CAP_MSIX / 4;
		cfg[i] = PCI_CAP_ID_MSIX | next << 8 | (fn->msix_cap - 1) << 16;
		wm[i] = (u32)(PCI_MSIX_FLAGS_ENABLE |
			      PCI_MSIX_FLAGS_MASKALL) << 16;
		cfg[i + PCI_MSIX_TABLE / 4] = fn->msix_table;
		cfg[i + PCI_MSIX_PBA / 4] = fn->msix_pba;
		host->msix_off = SOCEMU_CAP_MSIX;
		next = SOCEMU_CAP_MSIX;
	}

	if (fn->msi_cap > SOCEMU_MSI_MAX_CAP) {
		dev_warn_ratelimited(host->dev,
				     "MSI capability word %#x is not log2(messages) + 1 <= 6, left out\n",
				     fn->msi_cap);
	} else if (fn->msi_cap) {
		u32 ctrl = PCI_MSI_FLAGS_64BIT |
			   FIELD_PREP(PCI_MSI_FLAGS_QMASK, fn->msi_cap - 1);

		i = SOCEMU_CAP_MSI / 4;
		cfg[i] = PCI_CAP_ID_MSI | next << 8 | ctrl << 16;
		wm[i] = (u32)(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE) << 16;
		wm[i + PCI_MSI_ADDRESS_LO / 4] = ~3U;
		wm[i + PCI_MSI_ADDRESS_HI / 4] = U32_MAX;
		wm[i + PCI_MSI_DATA_64 / 4] = 0xffff;
		host->msi_off = SOCEMU_CAP_MSI;
		next = SOCEMU_CAP_MSI;
	}

	if (next) {
		cfg[PCI_CAPABILITY_LIST / 4] = next;
		cfg[PCI_COMMAND / 4] |= (u32)PCI_STATUS_CAP_LIST << 16;
	}
}

/*
 * Build the shadow of function 0 from @fn.  Called with the rescan lock
 * held, device 0 absent and cfg_valid false, so nothing else reads the
 * shadow.  Returns false if the function cannot be presented at all.
 */
static bool socemu_host_build(struct socemu_host *host,
			      const struct socemu_ep_fn *fn)
{
	u32 *cfg = host->cfg, *wm = host->wmask;
	u16 vendor = fn->id & 0xffff;
	u8 pin = (fn->misc >> 8) & 0xff;
	unsigned long flags;

	host->fn = *fn;
	/* 0x0001 would make the scan wait for a Request Retry Status. */
	if (!vendor || vendor == PCI_VENDOR_ID_PCI_SIG || vendor == 0xffff) {
		dev_warn_ratelimited(host->dev,
				     "endpoint publishes vendor ID %#06x, function left out\n",
				     vendor);
		return false;
	}

	memset(host->cfg, 0, sizeof(host->cfg));
	memset(host->wmask, 0, sizeof(host->wmask));
	memset(host->bar_size, 0, sizeof(host->bar_size));
	memset(host->bar_init, 0, sizeof(host->bar_init));
	host->msi_off = 0;
	host->msix_off = 0;

	cfg[PCI_VENDOR_ID / 4] = fn->id;
	wm[PCI_COMMAND / 4] = SOCEMU_CMD_WMASK;
	cfg[PCI_CLASS_REVISION / 4] = fn->class_rev;
	/* Cache line size; latency timer 0, header type 0, no BIST. */
	cfg[PCI_CACHE_LINE_SIZE / 4] = fn->misc & 0xff;
	wm[PCI_CACHE_LINE_SIZE / 4] = 0xffff;
	socemu_host_build_bars(host, fn);
	cfg[PCI_SUBSYSTEM_VENDOR_ID / 4] = fn->subsys;
	if (pin > PCI_INTERRUPT_INTD) {
		dev_warn_ratelimited(host->dev,
				     "interrupt pin %u is not valid, no INTx\n",
				     pin);
		pin = 0;
	}
	cfg[PCI_INTERRUPT_LINE / 4] = pin << 8;
	wm[PCI_INTERRUPT_LINE / 4] = 0xff;
	socemu_host_build_caps(host, fn);

	/* A new function starts from reset. */
	socemu_host_reset_mirrors(host);
	raw_spin_lock_irqsave(&host->cfg_lock, flags);
	host->cfg_valid = true;
	raw_spin_unlock_irqrestore(&host->cfg_lock, flags);
	return true;
}

/* ---- Config accessors ------------------------------------------------- */

static u32 socemu_size_mask(int size)
{
	return size == 4 ? U32_MAX : BIT(size * 8) - 1;
}

static int socemu_host_cfg_check(const struct pci_bus *bus,
				 unsigned int devfn, int where, int size)
{
	if (bus->number || devfn)
		return PCIBIOS_DEVICE_NOT_FOUND;
	if ((size != 1 && size != 2 && size != 4) || where < 0 ||
	    (where & (size - 1)) || where + size > PCI_CFG_SPACE_EXP_SIZE)
		return PCIBIOS_BAD_REGISTER_NUMBER;
	return PCIBIOS_SUCCESSFUL;
}

/* Device 0 exists while the shadow is built and the endpoint is up. */
static bool socemu_host_fn_present(struct socemu_host *host)
{
	lockdep_assert_held(&host->cfg_lock);
	return host->cfg_valid && socemu_host_ep_up(host);
}

static bool socemu_host_msi_store(struct socemu_host *host)
{
	u32 *cap = &host->cfg[host->msi_off / 4];
	u32 ctrl = cap[0] >> 16;
	u32 mmc = FIELD_GET(PCI_MSI_FLAGS_QMASK, ctrl);

	/* Never enable more messages than the function is capable of. */
	if (FIELD_GET(PCI_MSI_FLAGS_QSIZE, ctrl) > mmc) {
		ctrl &= ~PCI_MSI_FLAGS_QSIZE;
		ctrl |= FIELD_PREP(PCI_MSI_FLAGS_QSIZE, mmc);
		cap[0] = (cap[0] & 0xffff) | ctrl << 16;
	}
	/* Address and data first: the endpoint reads them once enabled. */
	socemu_host_mirror(host, SOCEMU_PCI_MSI_ADDR_LO,
			   cap[PCI_MSI_ADDRESS_LO / 4]);
	socemu_host_mirror(host, SOCEMU_PCI_MSI_ADDR_HI,
			   cap[PCI_MSI_ADDRESS_HI / 4]);
	socemu_host_mirror(host, SOCEMU_PCI_MSI_DATA,
			   cap[PCI_MSI_DATA_64 / 4] & 0xffff);
	return socemu_host_mirror(host, SOCEMU_PCI_MSI_CTRL,
				  ctrl & (PCI_MSI_FLAGS_ENABLE |
					  PCI_MSI_FLAGS_QSIZE));
}

/* Apply a write to the shadow; true if the endpoint should be rung. */
static bool socemu_host_cfg_store(struct socemu_host *host, int where,
				  int size, u32 val)
{
	unsigned int i = where / 4, shift = (where & 3) * 8;
	u32 bytes = socemu_size_mask(size) << shift;
	u32 wm = host->wmask[i] & bytes;
	u32 *reg = &host->cfg[i];

	*reg = (*reg & ~wm) | ((val << shift) & wm);

	if (i >= PCI_BASE_ADDRESS_0 / 4 && i <= PCI_BASE_ADDRESS_5 / 4) {
		unsigned int n = i - PCI_BASE_ADDRESS_0 / 4;

		/* All ones is a sizing probe; anything else an address. */
		if (wm && ((val << shift) & bytes) != bytes &&
		    *reg != host->bar_init[n])
			dev_warn_once(host->dev,
				      "BAR dword %u moved from %#010x to %#010x: its memory stays at the published address\n",
				      n, host->bar_init[n], *reg);
		return false;
	}
	if (i == PCI_COMMAND / 4)
		return socemu_host_mirror(host, SOCEMU_PCI_COMMAND,
					  *reg & 0xffff);
	if (host->msi_off && i >= host->msi_off / 4 &&
	    i <= (host->msi_off + PCI_MSI_DATA_64) / 4)
		return socemu_host_msi_store(host);
	if (host->msix_off && i == host->msix_off / 4)
		return socemu_host_mirror(host, SOCEMU_PCI_MSIX_CTRL,
					  (*reg >> 16) &
					  (PCI_MSIX_FLAGS_ENABLE |
					   PCI_MSIX_FLAGS_MASKALL));
	return false;
}

static int socemu_host_cfg_read(struct pci_bus *bus, unsigned int devfn,
				int where, int size, u32 *val)
{
	struct socemu_host *host = socemu_host_from_bus(bus);
	unsigned long flags;
	int ret;

	PCI_SET_ERROR_RESPONSE(val);
	ret = socemu_host_cfg_check(bus, devfn, where, size);
	if (ret)
		return ret;

	raw_spin_lock_irqsave(&host->cfg_lock, flags);
	if (socemu_host_fn_present(host))
		*val = (host->cfg[where / 4] >> ((where & 3) * 8)) &
		       socemu_size_mask(size);
	else
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	raw_spin_unlock_irqrestore(&host->cfg_lock, flags);
	return ret;
}

static int socemu_host_cfg_write(struct pci_bus *bus, unsigned int devfn,
				 int where, int size, u32 val)
{
	struct socemu_host *host = socemu_host_from_bus(bus);
	bool ring = false;
	unsigned long flags;
	int ret;

	ret = socemu_host_cfg_check(bus, devfn, where, size);
	if (ret)
		return ret;

	raw_spin_lock_irqsave(&host->cfg_lock, flags);
	if (socemu_host_fn_present(host))
		ring = socemu_host_cfg_store(host, where, size, val);
	else
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	raw_spin_unlock_irqrestore(&host->cfg_lock, flags);

	if (ring)
		socemu_host_ring_ep(host);
	return ret;
}

static struct pci_ops socemu_host_pci_ops = {
	.read = socemu_host_cfg_read,
	.write = socemu_host_cfg_write,
};

/* ---- Interrupts ------------------------------------------------------- */

static void socemu_host_irq_noop(struct irq_data *d)
{
}

static void socemu_host_compose_msi_msg(struct irq_data *d,
					struct msi_msg *msg)
{
	msg->address_lo = lower_32_bits(SOCEMU_PCI_MSI_ADDR);
	msg->address_hi = upper_32_bits(SOCEMU_PCI_MSI_ADDR);
	msg->data = d->hwirq;
}

/* The pending words are cleared by the handler: nothing to ack or mask. */
static const struct irq_chip socemu_host_msi_bottom_chip = {
	.name = "SOCEMU-MSI",
	.irq_ack = socemu_host_irq_noop,
	.irq_mask = socemu_host_irq_noop,
	.irq_unmask = socemu_host_irq_noop,
	.irq_compose_msi_msg = socemu_host_compose_msi_msg,
};

static int socemu_host_msi_alloc(struct irq_domain *domain, unsigned int virq,
				 unsigned int nr_irqs, void *args)
{
	struct socemu_host *host = domain->host_data;
	unsigned long flags;
	unsigned int i;
	int hwirq;

	/* Multi-message MSI needs an aligned power-of-two block. */
	spin_lock_irqsave(&host->msi_lock, flags);
	hwirq = bitmap_find_free_region(host->msi_used, SOCEMU_PCI_NR_HWIRQ,
					order_base_2(nr_irqs));
	spin_unlock_irqrestore(&host->msi_lock, flags);
	if (hwirq < 0)
		return -ENOSPC;

	for (i = 0; i < nr_irqs; i++)
		irq_domain_set_info(domain, virq + i, hwirq + i,
				    &socemu_host_msi_bottom_chip, host,
				    handle_edge_irq, NULL, NULL);
	return 0;
}

static void socemu_host_msi_free(struct irq_domain *domain, unsigned int virq,
				 unsigned int nr_irqs)
{
	struct irq_data *d = irq_domain_get_irq_data(domain, virq);
	struct socemu_host *host = domain->host_data;
	unsigned long flags;

	spin_lock_irqsave(&host->msi_lock, flags);
	bitmap_release_region(host->msi_used, d->hwirq, order_base_2(nr_irqs));
	spin_unlock_irqrestore(&host->msi_lock, flags);
}

static const struct irq_domain_ops socemu_host_msi_parent_ops = {
	.alloc = socemu_host_msi_alloc,
	.free = socemu_host_msi_free,
};

static struct irq_chip socemu_host_msi_chip = {
	.name = "PCI-MSI",
	.irq_ack = irq_chip_ack_parent,
	.irq_mask = pci_msi_mask_irq,
	.irq_unmask = pci_msi_unmask_irq,
};

static struct msi_domain_info socemu_host_msi_info = {
	.flags = MSI_FLAG_USE_DEF_DOM_OPS | MSI_FLAG_USE_DEF_CHIP_OPS |
		 MSI_FLAG_NO_AFFINITY | MSI_FLAG_MULTI_PCI_MSI |
		 MSI_FLAG_PCI_MSIX,
	.chip = &socemu_host_msi_chip,
};

static const struct irq_chip socemu_host_intx_chip = {
	.name = "SOCEMU-INTx",
	.irq_mask = socemu_host_irq_noop,
	.irq_unmask = socemu_host_irq_noop,
};

static int socemu_host_intx_map(struct irq_domain *domain, unsigned int irq,
				irq_hw_number_t hwirq)
{
	irq_set_chip_and_handler(irq, &socemu_host_intx_chip,
				 handle_simple_irq);
	irq_set_chip_data(irq, domain->host_data);
	return 0;
}

static const struct irq_domain_ops socemu_host_intx_ops = {
	.map = socemu_host_intx_map,
};

static int socemu_host_map_irq(const struct pci_dev *pdev, u8 slot, u8 pin)
{
	struct socemu_host *host = socemu_host_from_bus(pdev->bus);

	if (pin < PCI_INTERRUPT_INTA || pin > PCI_INTERRUPT_INTD)
		return 0;
	return host->intx_irq;
}

static void socemu_host_free_irqs(struct socemu_host *host)
{
	if (host->intx_irq)
		irq_dispose_mapping(host->intx_irq);
	if (host->intx_domain)
		irq_domain_remove(host->intx_domain);
	if (host->msi_domain)
		irq_domain_remove(host->msi_domain);
	if (host->msi_parent)
		irq_domain_remove(host->msi_parent);
	if (host->intx_fwnode)
		irq_domain_free_fwnode(host->intx_fwnode);
	if (host->msi_fwnode)
		irq_domain_free_fwnode(host->msi_fwnode);
}

static int socemu_host_init_irqs(struct socemu_host *host)
{
	int id = host->sysdata.domain;

	host->msi_fwnode = irq_domain_alloc_named_id_fwnode("socemu-msi", id);
	if (!host->msi_fwnode)
		goto err;
	host->msi_parent = irq_domain_create_linear(host->msi_fwnode,
						    SOCEMU_PCI_NR_HWIRQ,
						    &socemu_host_msi_parent_ops,
						    host);
	if (!host->msi_parent)
		goto err;
	irq_domain_update_bus_token(host->msi_parent, DOMAIN_BUS_NEXUS);
	host->msi_domain = pci_msi_create_irq_domain(host->msi_fwnode,
						     &socemu_host_msi_info,
						     host->msi_parent);
	if (!host->msi_domain)
		goto err;

	host->intx_fwnode = irq_domain_alloc_named_id_fwnode("socemu-intx", id);
	if (!host->intx_fwnode)
		goto err;
	host->intx_domain = irq_domain_create_linear(host->intx_fwnode, 1,
						     &socemu_host_intx_ops,
						     host);
	if (!host->intx_domain)
		goto err;
	host->intx_irq = irq_create_mapping(host->intx_domain, 0);
	if (!host->intx_irq)
		goto err;
	return 0;

err:
	socemu_host_free_irqs(host);
	return dev_err_probe(host->dev, -ENOMEM,
			     "cannot create the interrupt domains\n");
}

/* Hard-IRQ context: clear each pending word, then handle it. */
static void socemu_host_handle_irqs(struct socemu_host *host)
{
	unsigned int hwirq;

	if (socemu_rd(host, SOCEMU_PCI_INTX_PENDING)) {
		socemu_wr(host, SOCEMU_PCI_INTX_PENDING, 0);
		generic_handle_domain_irq(host->intx_domain, 0);
	}
	for (hwirq = 0; hwirq < SOCEMU_PCI_NR_HWIRQ; hwirq++) {
		if (!socemu_rd(host, SOCEMU_PCI_MSI_PENDING(hwirq)))
			continue;
		socemu_wr(host, SOCEMU_PCI_MSI_PENDING(hwirq), 0);
		if (!test_bit(hwirq, host->msi_used) ||
		    generic_handle_domain_irq(host->msi_parent, hwirq))
			dev_warn_ratelimited(host->dev,
					     "message %u is not allocated, dropped\n",
					     hwirq);
	}
}

static void socemu_host_doorbell(struct socemu_doorbell *db,
				 unsigned int vector, void *data)
{
	struct socemu_host *host = data;

	if (vector == SOCEMU_PCI_VEC_STATE)
		schedule_work(&host->link_work);
	else if (vector == SOCEMU_PCI_VEC_IRQ)
		socemu_host_handle_irqs(host);
}

/* ---- Link state ------------------------------------------------------- */

static void socemu_host_remove_devices(struct pci_bus *bus)
{
	struct pci_dev *pdev, *tmp;

	list_for_each_entry_safe_reverse(pdev, tmp, &bus->devices, bus_list)
		pci_stop_and_remove_bus_device(pdev);
}

static void socemu_host_link_work(struct work_struct *work)
{
	struct socemu_host *host = container_of(work, struct socemu_host,
						link_work);
	struct pci_bus *bus = host->bridge->bus;
	struct socemu_ep_fn fn = { };
	unsigned long flags;
	bool up, present;

	pci_lock_rescan_remove();
	up = socemu_host_ep_up(host);
	if (up)
		socemu_host_read_fn(host, &fn);
	else if (socemu_rd(host, SOCEMU_PCI_MAGIC_OFF) == SOCEMU_PCI_MAGIC &&
		 socemu_rd(host, SOCEMU_PCI_VERSION_OFF) != SOCEMU_PCI_VERSION)
		dev_warn_ratelimited(host->dev,
				     "endpoint speaks version %u of the link, not %u\n",
				     socemu_rd(host, SOCEMU_PCI_VERSION_OFF),
				     SOCEMU_PCI_VERSION);
	present = !list_empty(&bus->devices);

	if (present && (!up || memcmp(&fn, &host->fn, sizeof(fn)))) {
		dev_info(host->dev, "%s: removing device 0\n",
			 up ? "endpoint function changed" : "link down");
		socemu_host_remove_devices(bus);
		present = false;
		/* Its BARs are no longer used: the endpoint may free them. */
		socemu_wr(host, SOCEMU_PCI_RC_HOLDS, 0);
		socemu_wr(host, SOCEMU_PCI_RC_RELEASES,
			  socemu_rd(host, SOCEMU_PCI_RC_RELEASES) + 1);
		socemu_host_ring_ep(host);
	}
	if (!present) {
		raw_spin_lock_irqsave(&host->cfg_lock, flags);
		host->cfg_valid = false;
		raw_spin_unlock_irqrestore(&host->cfg_lock, flags);
	}
	if (!present && up && socemu_host_build(host, &fn)) {
		dev_info(host->dev, "link up: function %04x:%04x\n",
			 fn.id & 0xffff, fn.id >> 16);
		socemu_wr(host, SOCEMU_PCI_RC_HOLDS, 1);
		pci_scan_child_bus(bus);
		/* Pre-assigned BARs, as probe-only firmware leaves them. */
		pci_bus_claim_resources(bus);
		pci_bus_add_devices(bus);
	}
	pci_unlock_rescan_remove();
}

/* ---- Probe and remove ------------------------------------------------- */

/* Domains above 0xffff cannot clash with ACPI segments (as in vmd.c). */
static int socemu_host_find_domain_nr(void)
{
	struct pci_bus *bus = NULL;
	int domain = 0xffff;

	while ((bus = pci_find_next_bus(bus)))
		domain = max(domain, pci_domain_nr(bus));
	return domain + 1;
}

static int socemu_host_init_window(struct socemu_host *host)
{
	struct device *wdev = socemu_window_dev(host->win);
	phys_addr_t phys = socemu_window_phys(host->win);
	struct resource *parent = NULL, *r;
	u64 len;
	int ret;

	/* Keep the MSI target address out of the memory window. */
	len = min_t(u64, socemu_window_size(host->win),
		    SOCEMU_PCI_MSI_ADDR - SOCEMU_PCI_BAR_BUS_BASE);
	if (!phys || !len)
		return dev_err_probe(host->dev, -ENODEV,
				     "window=%u: empty window\n", window);
	host->win_res = DEFINE_RES_MEM_NAMED(phys, len, DRV_NAME);

	/* The window's BAR is the socemu device's: nest the range in it. */
	if (dev_is_pci(wdev)) {
		pci_dev_for_each_resource(to_pci_dev(wdev), r) {
			if (resource_contains(r, &host->win_res)) {
				parent = r;
				break;
			}
		}
	}
	if (!parent)
		return dev_err_probe(host->dev, -ENODEV,
				     "window=%u: no BAR holds %pR\n", window,
				     &host->win_res);
	ret = request_resource(parent, &host->win_res);
	if (ret)
		return dev_err_probe(host->dev, ret,
				     "window=%u: cannot claim %pR\n", window,
				     &host->win_res);
	return 0;
}

/*
 * The bus range of doorbell BARs: the register page of our own doorbell
 * device, where a write of EP peer id << 16 | vector rings the EP.
 */
static int socemu_host_init_db(struct socemu_host *host)
{
	struct device *ddev = socemu_doorbell_dev(host->db);
	struct resource *regs;
	int ret;

	if (!dev_is_pci(ddev))
		return dev_err_probe(host->dev, -ENODEV,
				     "doorbell=%u: not a PCI device\n", doorbell);
	regs = &to_pci_dev(ddev)->resource[0];
	if (resource_size(regs) < SOCEMU_PCI_DB_SIZE)
		return dev_err_probe(host->dev, -ENODEV,
				     "doorbell=%u: registers %pR too small\n",
				     doorbell, regs);
	host->db_res = DEFINE_RES_MEM_NAMED(regs->start, SOCEMU_PCI_DB_SIZE,
					    DRV_NAME " doorbell");
	ret = request_resource(regs, &host->db_res);
	if (ret)
		return dev_err_probe(host->dev, ret,
				     "doorbell=%u: cannot claim %pR\n", doorbell,
				     &host->db_res);
	return 0;
}

static int socemu_host_setup(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct pci_host_bridge *bridge;
	struct socemu_host *host;
	unsigned int hwirq;
	size_t shm_size;
	int ret;

	bridge = devm_pci_alloc_host_bridge(dev, sizeof(*host));
	if (!bridge)
		return -ENOMEM;
	host = pci_host_bridge_priv(bridge);
	host->dev = dev;
	host->bridge = bridge;
	spin_lock_init(&host->msi_lock);
	raw_spin_lock_init(&host->cfg_lock);
	INIT_WORK(&host->link_work, socemu_host_link_work);
	platform_set_drvdata(pdev, host);

	host->win = socemu_window_get(window);
	if (IS_ERR(host->win))
		return dev_err_probe(dev, PTR_ERR(host->win),
				     "window=%u: cannot claim that socemu window\n",
				     window);
	host->db = socemu_doorbell_get(doorbell);
	if (IS_ERR(host->db)) {
		ret = dev_err_probe(dev, PTR_ERR(host->db),
				    "doorbell=%u: cannot claim that socemu doorbell\n",
				    doorbell);
		goto err_win;
	}
	host->shm = socemu_doorbell_shm(host->db, &shm_size);
	if (shm_size < SOCEMU_PCI_REGION_SIZE) {
		ret = dev_err_probe(dev, -EINVAL,
				    "doorbell=%u: shared region of %zu bytes, need %d\n",
				    doorbell, shm_size, SOCEMU_PCI_REGION_SIZE);
		goto err_db;
	}

	host->sysdata.domain = socemu_host_find_domain_nr();
	host->sysdata.node = NUMA_NO_NODE;
	ret = socemu_host_init_window(host);
	if (ret)
		goto err_db;
	ret = socemu_host_init_db(host);
	if (ret)
		goto err_res;
	ret = socemu_host_init_irqs(host);
	if (ret)
		goto err_db_res;

	bridge->sysdata = &host->sysdata;
	bridge->ops = &socemu_host_pci_ops;
	bridge->map_irq = socemu_host_map_irq;
	bridge->msi_domain = true;
	host->busn_res = DEFINE_RES_NAMED(0, 1, DRV_NAME, IORESOURCE_BUS);
	pci_add_resource(&bridge->windows, &host->busn_res);
	pci_add_resource_offset(&bridge->windows, &host->win_res,
				host->win_res.start - SOCEMU_PCI_BAR_BUS_BASE);
	pci_add_resource_offset(&bridge->windows, &host->db_res,
				host->db_res.start - SOCEMU_PCI_DB_BUS);
	/* The root bus, and from it device 0, inherit it when added. */
	dev_set_msi_domain(&bridge->dev, host->msi_domain);

	/* Nothing stale from an earlier host bridge. */
	socemu_host_reset_mirrors(host);
	socemu_wr(host, SOCEMU_PCI_INTX_PENDING, 0);
	for (hwirq = 0; hwirq < SOCEMU_PCI_NR_HWIRQ; hwirq++)
		socemu_wr(host, SOCEMU_PCI_MSI_PENDING(hwirq), 0);

	/* An empty bus: cfg_valid is false until link_work builds it. */
	pci_lock_rescan_remove();
	ret = pci_scan_root_bus_bridge(bridge);
	pci_unlock_rescan_remove();
	if (ret) {
		dev_err_probe(dev, ret, "cannot register the root bus\n");
		goto err_irqs;
	}

	socemu_doorbell_set_handler(host->db, socemu_host_doorbell, host);
	socemu_host_publish(host, true);
	/* The endpoint may be up already. */
	schedule_work(&host->link_work);
	flush_work(&host->link_work);

	dev_info(dev, "domain %04x: window %pR at bus address %#llx, doorbell=%u (peer id %u)\n",
		 host->sysdata.domain, &host->win_res, SOCEMU_PCI_BAR_BUS_BASE,
		 doorbell, socemu_doorbell_id(host->db));
	return 0;

err_irqs:
	socemu_host_free_irqs(host);
err_db_res:
	release_resource(&host->db_res);
err_res:
	release_resource(&host->win_res);
err_db:
	socemu_doorbell_put(host->db);
err_win:
	socemu_window_put(host->win);
	return ret;
}

/* Module init reports the probe's error: the device is its own. */
static int socemu_host_probe_ret;

static int socemu_host_probe(struct platform_device *pdev)
{
	socemu_host_probe_ret = socemu_host_setup(pdev);
	return socemu_host_probe_ret;
}

static void socemu_host_remove(struct platform_device *pdev)
{
	struct socemu_host *host = platform_get_drvdata(pdev);
	struct pci_bus *bus = host->bridge->bus;

	/* Interrupts keep flowing while the drivers of device 0 go. */
	disable_work_sync(&host->link_work);
	pci_lock_rescan_remove();
	pci_stop_root_bus(bus);
	pci_remove_root_bus(bus);
	pci_unlock_rescan_remove();
	socemu_doorbell_clear_handler(host->db);

	socemu_host_reset_mirrors(host);
	socemu_wr(host, SOCEMU_PCI_RC_HOLDS, 0);
	socemu_host_publish(host, false);
	socemu_host_free_irqs(host);
	release_resource(&host->db_res);
	release_resource(&host->win_res);
	socemu_doorbell_put(host->db);
	socemu_window_put(host->win);
}

static struct platform_driver socemu_host_driver = {
	.probe = socemu_host_probe,
	.remove = socemu_host_remove,
	.driver = {
		.name = DRV_NAME,
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
		.suppress_bind_attrs = true,
	},
};

static struct platform_device *socemu_host_pdev;

static int __init socemu_host_init(void)
{
	int ret;

	ret = platform_driver_register(&socemu_host_driver);
	if (ret)
		return ret;

	socemu_host_probe_ret = -ENODEV;
	socemu_host_pdev = platform_device_register_simple(DRV_NAME,
							   PLATFORM_DEVID_NONE,
							   NULL, 0);
	if (IS_ERR(socemu_host_pdev)) {
		ret = PTR_ERR(socemu_host_pdev);
		goto err_driver;
	}
	/* The probe ran synchronously, in platform_device_register. */
	ret = socemu_host_probe_ret;
	if (ret)
		goto err_device;
	return 0;

err_device:
	platform_device_unregister(socemu_host_pdev);
err_driver:
	platform_driver_unregister(&socemu_host_driver);
	return ret;
}
module_init(socemu_host_init);

static void __exit socemu_host_exit(void)
{
	platform_device_unregister(socemu_host_pdev);
	platform_driver_unregister(&socemu_host_driver);
}
module_exit(socemu_host_exit);

MODULE_DESCRIPTION("Virtual PCI host bridge of the socemu rig's emulated PCIe link");
MODULE_LICENSE("GPL");
