// SPDX-License-Identifier: GPL-2.0-only
/*
 * socemu: the emulated SoC link of the test rig.
 *
 * QEMU's ivshmem-plain and ivshmem-doorbell share one PCI ID; the doorbell
 * is the one with an MSI-X table (BAR1).  Windows and doorbells are kept
 * in two lists in probe order, which the rig's launcher fixes with
 * explicit PCI slots, and are handed out by index to one consumer at a
 * time.
 *
 * Locking: socemu_lock (a mutex) protects both lists and the ->claimed
 * flag of every device.  A doorbell's ->lock (a spinlock, taken in hard
 * interrupt context) protects its handler and handler data, so that once
 * socemu_doorbell_clear_handler() returns the handler is neither running
 * nor called again.
 *
 * The devices cannot be unbound from sysfs (suppress_bind_attrs): the rig
 * has no hot-unplug, and a consumer holds raw pointers into the device.
 */

#include <linux/bits.h>
#include <linux/dma-map-ops.h>
#include <linux/interrupt.h>
#include <linux/ioport.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/socemu.h>
#include <linux/uaccess.h>
#include <linux/spinlock.h>

#define SOCEMU_PCI_DEVICE_ID	0x1110

/* ivshmem BAR0 registers */
#define IVSHMEM_IVPOSITION	0x08
#define IVSHMEM_DOORBELL	0x0c

#define IVSHMEM_BAR_REGS	0
#define IVSHMEM_BAR_MSIX	1
#define IVSHMEM_BAR_SHM		2

/* The doorbell register carries the peer id in 16 bits. */
#define SOCEMU_MAX_PEER		U16_MAX

/* What windows and doorbells have in common: a list entry and a claim. */
struct socemu_node {
	struct pci_dev *pdev;
	struct list_head node;
	bool claimed;
};

struct socemu_window {
	struct socemu_node n;
};

struct socemu_vector {
	struct socemu_doorbell *db;
	unsigned int index;
};

struct socemu_doorbell {
	struct socemu_node n;
	void __iomem *regs;
	void __iomem *shm;
	size_t shm_size;
	u16 id;
	unsigned int nvec;
	struct socemu_vector *vec;
	spinlock_t lock;		/* protects handler and data */
	socemu_doorbell_fn handler;
	void *data;
	bool dma_reserved;		/* a coherent pool is declared */
};

static DEFINE_MUTEX(socemu_lock);
static LIST_HEAD(socemu_windows);
static LIST_HEAD(socemu_doorbells);

static struct socemu_node *socemu_claim(struct list_head *list,
					unsigned int index)
{
	struct socemu_node *n, *found = ERR_PTR(-ENODEV);

	mutex_lock(&socemu_lock);
	list_for_each_entry(n, list, node) {
		if (index--)
			continue;
		if (n->claimed) {
			found = ERR_PTR(-EBUSY);
		} else {
			n->claimed = true;
			found = n;
		}
		break;
	}
	mutex_unlock(&socemu_lock);
	return found;
}

static void socemu_unclaim(struct socemu_node *n)
{
	mutex_lock(&socemu_lock);
	n->claimed = false;
	mutex_unlock(&socemu_lock);
}

static void socemu_add(struct socemu_node *n, struct list_head *list)
{
	mutex_lock(&socemu_lock);
	list_add_tail(&n->node, list);
	mutex_unlock(&socemu_lock);
}

/**
 * socemu_window_get() - claim a window onto the other system's RAM
 * @index: which window, in PCI slot order, starting at 0
 *
 * Return: the window, ERR_PTR(-ENODEV) if there is no such window or
 * ERR_PTR(-EBUSY) if another consumer holds it.
 */
struct socemu_window *socemu_window_get(unsigned int index)
{
	struct socemu_node *n = socemu_claim(&socemu_windows, index);

	return IS_ERR(n) ? ERR_CAST(n) : container_of(n, struct socemu_window, n);
}
EXPORT_SYMBOL_GPL(socemu_window_get);

/**
 * socemu_window_put() - release a window claimed with socemu_window_get()
 * @win: the window; the caller has unmapped everything it mapped
 */
void socemu_window_put(struct socemu_window *win)
{
	socemu_unclaim(&win->n);
}
EXPORT_SYMBOL_GPL(socemu_window_put);

/**
 * socemu_window_dev() - the device of a window, for logging
 * @win: the window
 *
 * Return: the PCI device's struct device.
 */
struct device *socemu_window_dev(const struct socemu_window *win)
{
	return &win->n.pdev->dev;
}
EXPORT_SYMBOL_GPL(socemu_window_dev);

/**
 * socemu_window_size() - how much of the other system's RAM is reachable
 * @win: the window
 *
 * Return: the size in bytes; remote addresses below it are valid.
 */
u64 socemu_window_size(const struct socemu_window *win)
{
	return pci_resource_len(win->n.pdev, IVSHMEM_BAR_SHM);
}
EXPORT_SYMBOL_GPL(socemu_window_size);

/**
 * socemu_window_phys() - CPU physical address of the window
 * @win: the window
 *
 * Remote address A is at CPU physical address socemu_window_phys() + A.
 * An emulated controller hands this range to its own address allocator.
 *
 * Return: the physical base address of the window.
 */
phys_addr_t socemu_window_phys(const struct socemu_window *win)
{
	return pci_resource_start(win->n.pdev, IVSHMEM_BAR_SHM);
}
EXPORT_SYMBOL_GPL(socemu_window_phys);

/**
 * socemu_window_map() - map a range of the other system's RAM
 * @win: the window
 * @remote: physical address on the other system
 * @size: bytes to map, not zero
 *
 * The range must lie inside the window; nothing outside it is mapped.
 *
 * Return: the mapping, or NULL if the range is empty, outside the window
 * or cannot be mapped.
 */
void __iomem *socemu_window_map(struct socemu_window *win, u64 remote,
				size_t size)
{
	u64 end;

	if (!size || check_add_overflow(remote, (u64)size, &end) ||
	    end > socemu_window_size(win)) {
		dev_err(&win->n.pdev->dev,
			"map of [%#llx, +%#zx) outside the %#llx-byte window\n",
			remote, size, socemu_window_size(win));
		return NULL;
	}
	return ioremap(socemu_window_phys(win) + remote, size);
}
EXPORT_SYMBOL_GPL(socemu_window_map);

/**
 * socemu_window_unmap() - undo socemu_window_map()
 * @win: the window
 * @addr: the mapping returned by socemu_window_map()
 */
void socemu_window_unmap(struct socemu_window *win, void __iomem *addr)
{
	iounmap(addr);
}
EXPORT_SYMBOL_GPL(socemu_window_unmap);

/**
 * socemu_probe_mapping() - whether the ends of a mapping can be read
 * @virt: a mapping of @size bytes, of a window or part of one
 * @size: its size, not zero
 * @buf: where to describe what happened
 * @len: size of @buf
 *
 * Reads the first and the last byte of the mapping and the byte after its
 * end without faulting the kernel (copy_from_kernel_nofault()), for the
 * rig's tests that an access past a window faults, as on a board.
 */
void socemu_probe_mapping(const void __iomem *virt, size_t size, char *buf,
			  size_t len)
{
	const void *v = (__force const void *)virt;
	int first, last, past;
	u8 byte;

	first = copy_from_kernel_nofault(&byte, v, 1);
	last = copy_from_kernel_nofault(&byte, v + size - 1, 1);
	past = copy_from_kernel_nofault(&byte, v + size, 1);
	snprintf(buf, len, "first byte %s, last byte %s, byte past the end %s",
		 first ? "faults" : "read", last ? "faults" : "read",
		 past ? "faults" : "read");
}
EXPORT_SYMBOL_GPL(socemu_probe_mapping);

/**
 * socemu_doorbell_get() - claim a doorbell device
 * @index: which doorbell, in PCI slot order, starting at 0
 *
 * Return: the doorbell, ERR_PTR(-ENODEV) if there is no such device or
 * ERR_PTR(-EBUSY) if another consumer holds it.
 */
struct socemu_doorbell *socemu_doorbell_get(unsigned int index)
{
	struct socemu_node *n = socemu_claim(&socemu_doorbells, index);

	return IS_ERR(n) ? ERR_CAST(n) :
			   container_of(n, struct socemu_doorbell, n);
}
EXPORT_SYMBOL_GPL(socemu_doorbell_get);

/**
 * socemu_doorbell_put() - release a doorbell claimed with socemu_doorbell_get()
 * @db: the doorbell; its handler, if any, is cleared
 */
void socemu_doorbell_put(struct socemu_doorbell *db)
{
	socemu_doorbell_clear_handler(db);
	if (db->dma_reserved) {
		dma_release_coherent_memory(&db->n.pdev->dev);
		db->dma_reserved = false;
	}
	socemu_unclaim(&db->n);
}
EXPORT_SYMBOL_GPL(socemu_doorbell_put);

/**
 * socemu_doorbell_dev() - the device of a doorbell, for logging
 * @db: the doorbell
 *
 * Return: the PCI device's struct device.
 */
struct device *socemu_doorbell_dev(const struct socemu_doorbell *db)
{
	return &db->n.pdev->dev;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_dev);

/**
 * socemu_doorbell_id() - this device's peer id on the ivshmem server
 * @db: the doorbell
 *
 * Return: the id other peers ring to reach this device.
 */
u16 socemu_doorbell_id(const struct socemu_doorbell *db)
{
	return db->id;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_id);

/**
 * socemu_doorbell_vectors() - number of interrupt vectors
 * @db: the doorbell
 *
 * Every device of the rig has the same number of vectors.
 *
 * Return: the number of vectors of @db.
 */
unsigned int socemu_doorbell_vectors(const struct socemu_doorbell *db)
{
	return db->nvec;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_vectors);

/**
 * socemu_doorbell_shm() - the region shared by all peers of the server
 * @db: the doorbell
 * @size: where to store the size of the region in bytes
 *
 * Return: the mapping of the shared region, valid while @db is claimed.
 */
void __iomem *socemu_doorbell_shm(const struct socemu_doorbell *db,
				  size_t *size)
{
	*size = db->shm_size;
	return db->shm;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_shm);

/**
 * socemu_doorbell_shm_phys() - CPU physical address of the shared region
 * @db: the doorbell
 *
 * Return: the physical base address of the region socemu_doorbell_shm()
 * maps, for consumers that hand it to an allocator of their own.
 */
phys_addr_t socemu_doorbell_shm_phys(const struct socemu_doorbell *db)
{
	return pci_resource_start(db->n.pdev, IVSHMEM_BAR_SHM);
}
EXPORT_SYMBOL_GPL(socemu_doorbell_shm_phys);

/**
 * socemu_doorbell_reserve_dma() - give a doorbell's device a DMA pool
 * @db: the doorbell, claimed by the caller
 * @phys: start of a range of RAM that the kernel command line reserved
 *	  (memmap=SIZE$PHYS), aligned to @size
 * @size: size of the range, a power of two
 *
 * From then on, until socemu_doorbell_put(), every coherent DMA
 * allocation made for the doorbell's PCI device comes from this range
 * (first fit, so an allocation from an empty pool starts at @phys), with
 * a bus address equal to its physical address. This is what a
 * devicetree reserved-memory region gives a device on a platform; the
 * emulated NTB uses it to make the buffers its clients allocate land
 * where its memory window translates to.
 *
 * Return: 0, -EINVAL if the range is not a reserved, aligned power of
 * two, -EBUSY if a pool is already declared, or another error.
 */
int socemu_doorbell_reserve_dma(struct socemu_doorbell *db, phys_addr_t phys,
				size_t size)
{
	struct device *dev = &db->n.pdev->dev;
	int ret;

	if (!is_power_of_2(size) || !IS_ALIGNED(phys, size)) {
		dev_err(dev, "DMA pool [%pa, +%#zx): not an aligned power of two\n",
			&phys, size);
		return -EINVAL;
	}
	if (db->dma_reserved)
		return -EBUSY;
	/* A range of System RAM cannot be remapped write-combined. */
	if (region_intersects(phys, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		dev_err(dev, "DMA pool [%pa, +%#zx): not reserved (memmap=)\n",
			&phys, size);
		return -EINVAL;
	}
	ret = dma_declare_coherent_memory(dev, phys, phys, size);
	if (ret) {
		dev_err(dev, "DMA pool [%pa, +%#zx): %d\n", &phys, size, ret);
		return ret;
	}
	db->dma_reserved = true;
	return 0;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_reserve_dma);

/**
 * socemu_doorbell_ring() - raise an interrupt vector of another peer
 * @db: the doorbell to ring from
 * @peer: the peer id of the receiver
 * @vector: the vector to raise, below socemu_doorbell_vectors()
 *
 * Ringing a peer that is not connected is silently dropped by QEMU.
 *
 * Return: 0 or -EINVAL if @vector is out of range.
 */
int socemu_doorbell_ring(struct socemu_doorbell *db, u16 peer,
			 unsigned int vector)
{
	if (vector >= db->nvec) {
		dev_err(&db->n.pdev->dev, "ring of vector %u, only %u exist\n",
			vector, db->nvec);
		return -EINVAL;
	}
	iowrite32((u32)peer << 16 | vector, db->regs + IVSHMEM_DOORBELL);
	return 0;
}
EXPORT_SYMBOL_GPL(socemu_doorbell_ring);

/**
 * socemu_doorbell_set_handler() - route received vectors to a handler
 * @db: the doorbell, claimed by the caller
 * @fn: the handler, called in hard interrupt context
 * @data: passed to @fn
 *
 * Interrupts that arrive without a handler are dropped.
 */
void socemu_doorbell_set_handler(struct socemu_doorbell *db,
				 socemu_doorbell_fn fn, void *data)
{
	unsigned long flags;

	spin_lock_irqsave(&db->lock, flags);
	db->handler = fn;
	db->data = data;
	spin_unlock_irqrestore(&db->lock, flags);
}
EXPORT_SYMBOL_GPL(socemu_doorbell_set_handler);

/**
 * socemu_doorbell_clear_handler() - stop calling the handler
 * @db: the doorbell
 *
 * On return the handler is not running and will not be called again.
 */
void socemu_doorbell_clear_handler(struct socemu_doorbell *db)
{
	socemu_doorbell_set_handler(db, NULL, NULL);
}
EXPORT_SYMBOL_GPL(socemu_doorbell_clear_handler);

static irqreturn_t socemu_doorbell_irq(int irq, void *arg)
{
	struct socemu_vector *vec = arg;
	struct socemu_doorbell *db = vec->db;

	spin_lock(&db->lock);
	if (db->handler)
		db->handler(db, vec->index, db->data);
	spin_unlock(&db->lock);
	return IRQ_HANDLED;
}

static int socemu_probe_doorbell(struct pci_dev *pdev)
{
	struct device *dev = &pdev->dev;
	struct socemu_doorbell *db;
	unsigned int i;
	int nvec, ret;
	u32 id;

	db = devm_kzalloc(dev, sizeof(*db), GFP_KERNEL);
	if (!db)
		return -ENOMEM;
	db->n.pdev = pdev;
	spin_lock_init(&db->lock);

	db->regs = pcim_iomap(pdev, IVSHMEM_BAR_REGS, 0);
	db->shm = pcim_iomap(pdev, IVSHMEM_BAR_SHM, 0);
	if (!db->regs || !db->shm)
		return dev_err_probe(dev, -ENOMEM, "cannot map BARs\n");
	db->shm_size = pci_resource_len(pdev, IVSHMEM_BAR_SHM);

	id = ioread32(db->regs + IVSHMEM_IVPOSITION);
	if (id > SOCEMU_MAX_PEER)
		return dev_err_probe(dev, -ENODEV,
				     "peer id %#x: not connected to a server\n",
				     id);
	db->id = id;

	nvec = pci_alloc_irq_vectors(pdev, 1, pci_msix_vec_count(pdev),
				     PCI_IRQ_MSIX);
	if (nvec < 0)
		return dev_err_probe(dev, nvec, "no MSI-X vectors\n");
	db->nvec = nvec;
	db->vec = devm_kcalloc(dev, nvec, sizeof(*db->vec), GFP_KERNEL);
	if (!db->vec)
		return -ENOMEM;
	/* Under TCG, MSI-X messages are dropped until bus mastering is on. */
	pci_set_master(pdev);

	for (i = 0; i < db->nvec; i++) {
		db->vec[i].db = db;
		db->vec[i].index = i;
		ret = devm_request_irq(dev, pci_irq_vector(pdev, i),
				       socemu_doorbell_irq, 0, "socemu-doorbell",
				       &db->vec[i]);
		if (ret)
			return dev_err_probe(dev, ret, "vector %u\n", i);
	}

	pci_set_drvdata(pdev, &db->n);
	socemu_add(&db->n, &socemu_doorbells);
	dev_info(dev, "doorbell: peer id %u, %u vectors, %zu KiB shared\n",
		 db->id, db->nvec, db->shm_size / SZ_1K);
	return 0;
}

static int socemu_probe_window(struct pci_dev *pdev)
{
	struct socemu_window *win;

	win = devm_kzalloc(&pdev->dev, sizeof(*win), GFP_KERNEL);
	if (!win)
		return -ENOMEM;
	win->n.pdev = pdev;
	pci_set_drvdata(pdev, &win->n);
	socemu_add(&win->n, &socemu_windows);
	dev_info(&pdev->dev, "window: %llu MiB at %pa\n",
		 socemu_window_size(win) / SZ_1M,
		 &pdev->resource[IVSHMEM_BAR_SHM].start);
	return 0;
}

static bool socemu_is_doorbell(struct pci_dev *pdev)
{
	return pci_resource_len(pdev, IVSHMEM_BAR_MSIX) != 0;
}

static int socemu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (!pci_resource_len(pdev, IVSHMEM_BAR_SHM))
		return dev_err_probe(&pdev->dev, -ENODEV, "no memory BAR\n");

	if (socemu_is_doorbell(pdev))
		return socemu_probe_doorbell(pdev);
	return socemu_probe_window(pdev);
}

static void socemu_remove(struct pci_dev *pdev)
{
	struct socemu_node *n = pci_get_drvdata(pdev);

	mutex_lock(&socemu_lock);
	list_del(&n->node);
	mutex_unlock(&socemu_lock);
}

static const struct pci_device_id socemu_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, SOCEMU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, socemu_ids);

static struct pci_driver socemu_driver = {
	.name = "socemu",
	.id_table = socemu_ids,
	.probe = socemu_probe,
	.remove = socemu_remove,
	.driver.suppress_bind_attrs = true,
};
module_pci_driver(socemu_driver);

MODULE_DESCRIPTION("Emulated SoC link (QEMU ivshmem) for the vhost-soc test rig");
MODULE_LICENSE("GPL");
