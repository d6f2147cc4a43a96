// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated PCIe endpoint controller of the socemu test rig.
 *
 * The controller stands for the endpoint end of a PCIe link whose other
 * end is the virtual host bridge of pcie-socemu-host.c, in the same VM or
 * in another one. It registers an ordinary PCI endpoint controller, so the
 * upstream /sys/kernel/config/pci_ep/ flow and unmodified endpoint function
 * drivers run on it:
 *
 * Config space. write_header(), set_bar(), set_msi() and set_msix() publish
 * the function in the shared region of a socemu doorbell (the layout is in
 * pcie-socemu.h); the host bridge builds the config space the root complex
 * sees from it, and mirrors back what the root complex programs (command
 * register, MSI address and data, MSI and MSI-X enables).
 *
 * Inbound. A BAR's memory is the endpoint RAM the function allocated for
 * it; the root complex reaches it through its window onto endpoint RAM, so
 * there is no copy and no shadow.
 *
 * Outbound. Each socemu window handed to this controller aliases the whole
 * of root complex RAM: bus address A is at window base + A, a real address
 * translation done by QEMU. Such a window cannot be moved, so the controller
 * maps a window only whole and at bus address 0; align_addr() says so, and
 * pci_epc_mem_map() then returns the CPU address of any bus address below
 * the window size. Every window is one allocation unit, so there are as many
 * concurrent mappings as windows. A map_addr() of anything else is refused
 * with -EINVAL: functions must map with pci_epc_mem_map().
 *
 * Interrupts. raise_irq() emulates the memory write of an MSI or MSI-X
 * message: it checks that the root complex enabled the capability and bus
 * mastering, reads the address and data the root complex programmed (from
 * the shared region for MSI, from the MSI-X table in BAR memory for MSI-X),
 * checks that the address is the host bridge's MSI target and the data one
 * of its messages, sets that message's pending word and rings the root
 * complex. INTx is a pending word and the same doorbell.
 *
 * Doorbell. A function may take BAR 5 as a doorbell
 * (pci_epc_alloc_doorbell()): the host bridge maps that BAR onto the root
 * complex's own doorbell device, so the root complex rings this end with one
 * memory write, and the function's handler runs in the doorbell interrupt.
 *
 * Link. start() sets EP_STARTED; the link is up while the controller is
 * started and a host bridge says it is present. Every change of either is
 * rung on SOCEMU_PCI_VEC_STATE and turned into pci_epc_linkup() or
 * pci_epc_linkdown() by a work item. A root complex that binds again (a new
 * RC_GEN, as after a reboot) is a link down followed by a link up.
 *
 * Everything read from the shared region was written by the other system
 * and is checked before use. Nothing here waits for the other end.
 *
 * Locking: the PCI endpoint core serialises the controller operations with
 * epc->lock, except raise_irq() which functions may call from any process
 * context. ep->lock (a mutex) protects the BAR table and the MSI-X
 * description that raise_irq() reads, and the link state kept by the link
 * work. The doorbell handler runs in hard interrupt context: it schedules
 * the link work, or calls a function's doorbell handler under ep->db_lock
 * (a spinlock), which also protects that handler.
 */

#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/platform_device.h>
#include <linux/socemu.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#include "pcie-socemu.h"

#define SOCEMU_EP_NAME		"pcie-socemu-ep"
#define SOCEMU_EP_MAX_WINDOWS	8
#define SOCEMU_EP_MSIX_ENTRY	16
/* The BAR a function's doorbell takes, if the function leaves it free. */
#define SOCEMU_EP_DB_BAR	BAR_5

static unsigned int doorbell;
module_param(doorbell, uint, 0444);
MODULE_PARM_DESC(doorbell, "socemu doorbell shared with the host bridge (default 0)");

static unsigned int first_window = 1;
module_param(first_window, uint, 0444);
MODULE_PARM_DESC(first_window, "first socemu window onto root complex RAM used for outbound (default 1)");

static bool no_doorbell;
module_param(no_doorbell, bool, 0444);
MODULE_PARM_DESC(no_doorbell, "give functions no doorbell, to test their polling fallback");

static unsigned int nr_windows = 3;
module_param(nr_windows, uint, 0444);
MODULE_PARM_DESC(nr_windows, "number of outbound windows, 1 to 8 (default 3)");

struct socemu_ep_bar {
	void *addr;		/* BAR memory in endpoint RAM */
	size_t size;
	bool valid;
};

struct socemu_ep {
	struct device *dev;
	struct pci_epc *epc;
	struct socemu_doorbell *db;
	void __iomem *shm;
	struct socemu_window *win[SOCEMU_EP_MAX_WINDOWS];
	struct pci_epc_mem_window mem[SOCEMU_EP_MAX_WINDOWS];
	unsigned int nwin;
	u64 win_size;		/* smallest window: the reach of outbound */

	struct work_struct link_work;
	struct mutex lock;	/* protects the fields below */
	struct socemu_ep_bar bar[PCI_STD_NUM_BARS];
	unsigned int msix_entries;
	enum pci_barno msix_bar;
	u32 msix_offset;
	bool started;
	bool link_up;
	u32 rc_gen;

	spinlock_t db_lock;	/* protects db_fn and db_data */
	void (*db_fn)(void *data);
	void *db_data;
};

static const struct pci_epc_features socemu_ep_features = {
	.linkup_notifier = true,
	.msi_capable = true,
	.msix_capable = true,
	.align = SZ_4K,
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
	enum pci_barno n = epf_bar->barno;
	bool is64 = epf_bar->flags & PCI_BASE_ADDRESS_MEM_TYPE_64;
	size_t size = epf_bar->size;

	if (epf_bar->flags & PCI_BASE_ADDRESS_SPACE_IO) {
		dev_err(ep->dev, "BAR%d: I/O BARs are not emulated\n", n);
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

	mutex_lock(&ep->lock);
	if (ep->db_fn && (n == SOCEMU_EP_DB_BAR ||
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

static void socemu_ep_clear_bar(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
				struct pci_epf_bar *epf_bar)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	enum pci_barno n = epf_bar->barno;

	mutex_lock(&ep->lock);
	ep->bar[n].valid = false;
	ep->bar[n].addr = NULL;
	socemu_ep_publish_bar(ep, n, 0, 0, 0);
	mutex_unlock(&ep->lock);
}

/*
 * A window reaches the whole of root complex RAM from bus address 0, so a
 * mapping of @pci_addr is the whole window at offset @pci_addr. An address
 * beyond the window is left as it is, and map_addr() refuses it.
 */
static u64 socemu_ep_align_addr(struct pci_epc *epc, u64 pci_addr,
				size_t *size, size_t *offset)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	if (pci_addr >= ep->win_size) {
		*offset = 0;
		return pci_addr;
	}
	*offset = pci_addr;
	*size = ep->win_size;
	return 0;
}

static int socemu_ep_map_addr(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			      phys_addr_t addr, u64 pci_addr, size_t size)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	unsigned int i;

	for (i = 0; i < ep->nwin; i++)
		if (addr == ep->mem[i].phys_base)
			break;
	if (i == ep->nwin) {
		dev_err(ep->dev, "map: %pa is not the base of an outbound window\n",
			&addr);
		return -EINVAL;
	}
	if (pci_addr || size != ep->win_size) {
		dev_err_ratelimited(ep->dev,
				    "map: cannot map PCI %#llx+%#zx: windows map all RC memory from 0 (%#llx bytes), use pci_epc_mem_map()\n",
				    pci_addr, size, ep->win_size);
		return -EINVAL;
	}
	return 0;
}

static int socemu_ep_set_msi(struct pci_epc *epc, u8 func_no, u8 vfunc_no,
			     u8 log2_count)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

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
	if (!(socemu_ep_rd(ep, SOCEMU_PCI_COMMAND) & PCI_COMMAND_MASTER)) {
		dev_err_ratelimited(ep->dev, "interrupt: the RC has not enabled bus mastering\n");
		return -EIO;
	}
	if (addr != SOCEMU_PCI_MSI_ADDR || data >= SOCEMU_PCI_NR_HWIRQ) {
		dev_err_ratelimited(ep->dev, "interrupt: the RC programmed address %#llx data %#x, which reach no interrupt controller\n",
				    addr, data);
		return -EINVAL;
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

/* Work out whether the link is up and tell the functions if that changed. */
static void socemu_ep_link_work(struct work_struct *work)
{
	struct socemu_ep *ep = container_of(work, struct socemu_ep, link_work);
	bool rc = socemu_ep_rd(ep, SOCEMU_PCI_RC_STATE) & SOCEMU_PCI_RC_PRESENT;
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
		pci_epc_linkdown(ep->epc);
	}
	if (up) {
		dev_info(ep->dev, "link up (root complex generation %u)\n", gen);
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
 * The doorbell is a BAR that the host bridge maps onto the RC's own
 * doorbell device: the RC's write there rings this end on
 * SOCEMU_PCI_VEC_DB.
 */
static int socemu_ep_alloc_doorbell(struct pci_epc *epc, u8 func_no,
				    u8 vfunc_no, void (*handler)(void *data),
				    void *data, struct pci_epc_doorbell *db)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);
	int ret = 0;

	if (no_doorbell)
		return -EOPNOTSUPP;
	mutex_lock(&ep->lock);
	if (ep->db_fn || ep->bar[SOCEMU_EP_DB_BAR].valid) {
		ret = -EBUSY;
		goto out;
	}
	spin_lock_irq(&ep->db_lock);
	ep->db_fn = handler;
	ep->db_data = data;
	spin_unlock_irq(&ep->db_lock);
	socemu_ep_publish_bar(ep, SOCEMU_EP_DB_BAR,
			      SOCEMU_PCI_BAR_VALID | SOCEMU_PCI_BAR_DOORBELL,
			      SOCEMU_PCI_DB_SIZE, 0);
	db->bar = SOCEMU_EP_DB_BAR;
	db->offset = SOCEMU_PCI_DB_REG;
	db->data = socemu_doorbell_id(ep->db) << 16 | SOCEMU_PCI_VEC_DB;
out:
	mutex_unlock(&ep->lock);
	return ret;
}

static void socemu_ep_free_doorbell(struct pci_epc *epc, u8 func_no,
				    u8 vfunc_no)
{
	struct socemu_ep *ep = epc_get_drvdata(epc);

	mutex_lock(&ep->lock);
	if (ep->db_fn)
		socemu_ep_publish_bar(ep, SOCEMU_EP_DB_BAR, 0, 0, 0);
	/* The handler runs under db_lock: once cleared, it is not called. */
	spin_lock_irq(&ep->db_lock);
	ep->db_fn = NULL;
	ep->db_data = NULL;
	spin_unlock_irq(&ep->db_lock);
	mutex_unlock(&ep->lock);
}

static const struct pci_epc_features *
socemu_ep_get_features(struct pci_epc *epc, u8 func_no, u8 vfunc_no)
{
	return &socemu_ep_features;
}

static const struct pci_epc_ops socemu_ep_ops = {
	.write_header	= socemu_ep_write_header,
	.set_bar	= socemu_ep_set_bar,
	.clear_bar	= socemu_ep_clear_bar,
	.align_addr	= socemu_ep_align_addr,
	.map_addr	= socemu_ep_map_addr,
	/* No unmap_addr: the translation is fixed, nothing to tear down. */
	.set_msi	= socemu_ep_set_msi,
	.get_msi	= socemu_ep_get_msi,
	.set_msix	= socemu_ep_set_msix,
	.get_msix	= socemu_ep_get_msix,
	.raise_irq	= socemu_ep_raise_irq,
	.start		= socemu_ep_start,
	.stop		= socemu_ep_stop,
	.get_features	= socemu_ep_get_features,
	.alloc_doorbell	= socemu_ep_alloc_doorbell,
	.free_doorbell	= socemu_ep_free_doorbell,
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

	if (vector == SOCEMU_PCI_VEC_STATE) {
		schedule_work(&ep->link_work);
	} else if (vector == SOCEMU_PCI_VEC_DB) {
		spin_lock(&ep->db_lock);
		if (ep->db_fn)
			ep->db_fn(ep->db_data);
		spin_unlock(&ep->db_lock);
	}
}

static void socemu_ep_put_windows(struct socemu_ep *ep)
{
	while (ep->nwin)
		socemu_window_put(ep->win[--ep->nwin]);
}

static int socemu_ep_get_windows(struct socemu_ep *ep)
{
	unsigned int i;

	ep->win_size = U64_MAX;
	for (i = 0; i < nr_windows; i++) {
		struct socemu_window *win = socemu_window_get(first_window + i);
		u64 size;

		if (IS_ERR(win)) {
			dev_err(ep->dev, "window %u: %pe\n", first_window + i,
				win);
			socemu_ep_put_windows(ep);
			return PTR_ERR(win);
		}
		ep->win[ep->nwin++] = win;
		size = socemu_window_size(win);
		ep->mem[i].phys_base = socemu_window_phys(win);
		ep->mem[i].size = size;
		ep->mem[i].page_size = size;
		ep->win_size = min(ep->win_size, size);
	}
	return 0;
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

static int socemu_ep_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct pci_epc_mem_window *mem;
	struct socemu_ep *ep;
	size_t shm_size;
	int ret;

	if (!nr_windows || nr_windows > SOCEMU_EP_MAX_WINDOWS) {
		dev_err(dev, "nr_windows=%u: must be 1 to %d\n", nr_windows,
			SOCEMU_EP_MAX_WINDOWS);
		return -EINVAL;
	}

	ep = devm_kzalloc(dev, sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return -ENOMEM;
	ep->dev = dev;
	mutex_init(&ep->lock);
	spin_lock_init(&ep->db_lock);
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

	ret = socemu_ep_get_windows(ep);
	if (ret)
		goto put_db;

	ep->epc = pci_epc_create(dev, &socemu_ep_ops);
	if (IS_ERR(ep->epc)) {
		ret = PTR_ERR(ep->epc);
		goto put_windows;
	}
	ep->epc->max_functions = 1;
	epc_set_drvdata(ep->epc, ep);

	mem = ep->mem;
	ret = pci_epc_multi_mem_init(ep->epc, mem, ep->nwin);
	if (ret)
		goto destroy;

	platform_set_drvdata(pdev, ep);
	socemu_ep_init_region(ep);
	socemu_doorbell_set_handler(ep->db, socemu_ep_doorbell, ep);
	pci_epc_init_notify(ep->epc);
	dev_info(dev, "%u outbound windows of %llu MiB, doorbell %u (peer id %u)\n",
		 ep->nwin, ep->win_size >> 20, doorbell,
		 socemu_doorbell_id(ep->db));
	return 0;

destroy:
	pci_epc_destroy(ep->epc);
put_windows:
	socemu_ep_put_windows(ep);
put_db:
	socemu_doorbell_put(ep->db);
	return ret;
}

static void socemu_ep_remove(struct platform_device *pdev)
{
	struct socemu_ep *ep = platform_get_drvdata(pdev);

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
	socemu_ep_put_windows(ep);
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
