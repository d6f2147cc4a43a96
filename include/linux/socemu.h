/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socemu: the emulated SoC link of the test rig.
 *
 * Two stock QEMU devices stand in for the hardware of a SoC-to-SoC link:
 *
 * - a *window* (ivshmem-plain whose memory is the other system's RAM file):
 *   physical address P of the other system is at offset P of the window,
 *   like a PCIe outbound window or an NTB memory window;
 * - a *doorbell* (ivshmem-doorbell on the rig's ivshmem server): rings
 *   interrupt vectors of other peers of the server, receives its own as
 *   MSI-X interrupts, and shares a small memory region with all peers.
 *
 * This library owns those PCI devices and hands them to the rig's drivers
 * (emulated endpoint controller, emulated NTB, self-tests), one consumer
 * per device at a time.
 */
#ifndef _LINUX_SOCEMU_H
#define _LINUX_SOCEMU_H

#include <linux/types.h>

struct device;
struct socemu_window;
struct socemu_doorbell;

/**
 * typedef socemu_doorbell_fn - handler of a received doorbell
 * @db: the doorbell device that received the interrupt
 * @vector: the vector that was rung
 * @data: the pointer given to socemu_doorbell_set_handler()
 *
 * Called in hard interrupt context: it must not sleep and must not call
 * socemu_doorbell_set_handler() or socemu_doorbell_clear_handler().
 */
typedef void (*socemu_doorbell_fn)(struct socemu_doorbell *db,
				   unsigned int vector, void *data);

struct socemu_window *socemu_window_get(unsigned int index);
void socemu_window_put(struct socemu_window *win);
struct device *socemu_window_dev(const struct socemu_window *win);
u64 socemu_window_size(const struct socemu_window *win);
phys_addr_t socemu_window_phys(const struct socemu_window *win);
void __iomem *socemu_window_map(struct socemu_window *win, u64 remote,
				size_t size);
void socemu_window_unmap(struct socemu_window *win, void __iomem *addr);
void socemu_probe_mapping(const void __iomem *virt, size_t size, char *buf,
			  size_t len);

struct socemu_doorbell *socemu_doorbell_get(unsigned int index);
void socemu_doorbell_put(struct socemu_doorbell *db);
struct device *socemu_doorbell_dev(const struct socemu_doorbell *db);
u16 socemu_doorbell_id(const struct socemu_doorbell *db);
unsigned int socemu_doorbell_vectors(const struct socemu_doorbell *db);
void __iomem *socemu_doorbell_shm(const struct socemu_doorbell *db,
				  size_t *size);
phys_addr_t socemu_doorbell_shm_phys(const struct socemu_doorbell *db);
int socemu_doorbell_reserve_dma(struct socemu_doorbell *db, phys_addr_t phys,
				size_t size);
int socemu_doorbell_ring(struct socemu_doorbell *db, u16 peer,
			 unsigned int vector);
void socemu_doorbell_set_handler(struct socemu_doorbell *db,
				 socemu_doorbell_fn fn, void *data);
void socemu_doorbell_clear_handler(struct socemu_doorbell *db);

/*
 * The eDMA-like engine of the emulated endpoint controller
 * (drivers/pci/controller/pcie-socemu-edma.c): dmaengine channels on @dev
 * that read and write the other system's memory by bus address, through
 * the alias of it at @rc_phys.
 */
struct socemu_edma;

struct socemu_edma *socemu_edma_create(struct device *dev, phys_addr_t rc_phys,
				       u64 rc_size, unsigned int rd_chans,
				       unsigned int wr_chans);
void socemu_edma_destroy(struct socemu_edma *edma);

#endif /* _LINUX_SOCEMU_H */
