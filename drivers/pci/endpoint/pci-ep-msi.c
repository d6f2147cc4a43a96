// SPDX-License-Identifier: GPL-2.0
/*
 * Doorbells of PCI endpoint functions.
 *
 * A function that the RC notifies (the device side of a virtio device, an
 * NTB doorbell) asks for doorbells with pci_epf_alloc_doorbell(): each is a
 * 32-bit value the RC writes at an address, which raises an interrupt on
 * the endpoint. The function tells the RC where to write, requests the
 * interrupts of epf->db_msg[] and leaves the BAR they are in alone.
 *
 * This file provides the doorbells a controller has of its own (embedded
 * doorbells), which it describes as PCI_EPC_AUX_DOORBELL_MMIO resources:
 * a register, the BAR the RC reaches it through, the value to write and
 * the interrupt it raises. Entries of epf->db_msg[] get one doorbell each
 * while the controller has them; the rest share its last one (IRQF_SHARED),
 * so a function asks for as many as it could use and learns from the
 * interrupts which are its own.
 */

#include <linux/interrupt.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/pci-ep-msi.h>
#include <linux/slab.h>

/* At most this many resources are looked at. */
#define PCI_EPF_AUX_MAX		8

static int pci_epf_alloc_doorbell_embedded(struct pci_epf *epf, u16 num_db)
{
	struct pci_epc_aux_resource res[PCI_EPF_AUX_MAX], *db[PCI_EPF_AUX_MAX];
	struct pci_epf_doorbell_msg *msg;
	int count, i, ndb = 0;

	count = pci_epc_get_aux_resources(epf->epc, epf->func_no,
					  epf->vfunc_no, res, ARRAY_SIZE(res));
	if (count == -EOPNOTSUPP)
		return -ENODEV;
	if (count < 0)
		return count;
	for (i = 0; i < min_t(int, count, ARRAY_SIZE(res)); i++)
		if (res[i].type == PCI_EPC_AUX_DOORBELL_MMIO)
			db[ndb++] = &res[i];
	if (!ndb)
		return -ENODEV;

	msg = kcalloc(num_db, sizeof(*msg), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	for (i = 0; i < num_db; i++) {
		struct pci_epc_aux_resource *r = db[min(i, ndb - 1)];

		msg[i].msg.address_lo = lower_32_bits(r->phys_addr);
		msg[i].msg.address_hi = upper_32_bits(r->phys_addr);
		msg[i].msg.data = r->u.db_mmio.data;
		msg[i].virq = r->u.db_mmio.irq;
		msg[i].irq_flags = IRQF_SHARED;
		msg[i].type = PCI_EPF_DOORBELL_EMBEDDED;
		msg[i].bar = r->bar;
		msg[i].offset = r->bar == NO_BAR ? 0 : r->bar_offset;
	}
	epf->db_msg = msg;
	epf->num_db = num_db;
	return 0;
}

/**
 * pci_epf_alloc_doorbell() - give a function doorbells the RC can ring
 * @epf: the function, bound to its controller
 * @num_db: how many doorbells it wants
 *
 * On success, epf->db_msg[0 .. @num_db - 1] say, for each doorbell, what
 * the RC writes where (the message, or @bar and @offset when the RC already
 * reaches it through a BAR) and which interrupt it raises; the function
 * requests that interrupt with the flags given.
 *
 * Return: 0, -ENODEV if the controller has no doorbell for functions,
 * -EBUSY if the function has doorbells already, or another negative errno.
 */
int pci_epf_alloc_doorbell(struct pci_epf *epf, u16 num_db)
{
	if (!epf->epc || !num_db)
		return -EINVAL;
	if (epf->db_msg)
		return -EBUSY;
	return pci_epf_alloc_doorbell_embedded(epf, num_db);
}
EXPORT_SYMBOL_GPL(pci_epf_alloc_doorbell);

/**
 * pci_epf_free_doorbell() - give back the doorbells of a function
 * @epf: the function; it freed the interrupts it requested
 */
void pci_epf_free_doorbell(struct pci_epf *epf)
{
	kfree(epf->db_msg);
	epf->db_msg = NULL;
	epf->num_db = 0;
}
EXPORT_SYMBOL_GPL(pci_epf_free_doorbell);
