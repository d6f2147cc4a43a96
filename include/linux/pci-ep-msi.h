/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Doorbells of PCI endpoint functions: interrupts the RC raises on the
 * endpoint with a memory write.
 */
#ifndef __PCI_EP_MSI__
#define __PCI_EP_MSI__

struct pci_epf;

int pci_epf_alloc_doorbell(struct pci_epf *epf, u16 num_db);
void pci_epf_free_doorbell(struct pci_epf *epf);

#endif /* __PCI_EP_MSI__ */
