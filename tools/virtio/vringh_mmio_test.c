// SPDX-License-Identifier: GPL-2.0
/*
 * The tests of vringh's MMIO variant, in userspace, like vringh_test.
 *
 * This builds the KUnit suite of drivers/vhost/vringh_mmio_kunit.c with the
 * shims of tools/virtio and a small KUnit (kunit/test.h), and links it with
 * the real drivers/vhost/vringh.c and drivers/virtio/virtio_ring.c: the same
 * scenarios as in the kernel, with AddressSanitizer and UBSan watching.
 * On top of the suite's own checks, every access made through the I/O
 * accessors (linux/io.h) must be inside one of the test's windows: those
 * of vringh on the ring's mappings, and those of the suite's read and write
 * callbacks, which copy buffers and indirect tables by bus address.
 *
 * Usage: vringh_mmio_test [FILTER]   runs the cases whose name has FILTER.
 */
#define _GNU_SOURCE
#include <linux/kernel.h>
#include <linux/virtio.h>
#include <linux/virtio_ring.h>

/* What the kernel has and the shims of tools/virtio lack. */
unsigned int virtqueue_get_vring_size(const struct virtqueue *vq);
#define cond_resched()		do { } while (0)
#define might_sleep()		do { } while (0)
#define kvzalloc(size, gfp)	kzalloc(size, gfp)
#define kvfree(p)		kfree(p)
#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif

/* For the kmalloc() of linux/kernel.h. */
void *__kmalloc_fake, *__kfree_ignore_start, *__kfree_ignore_end;

#include "../../drivers/vhost/vringh_mmio_kunit.c"

static unsigned long io_accesses, io_bad_accesses;

/* Called by the accessors of linux/io.h for every access vringh makes. */
void io_access_check(const void *addr, size_t len)
{
	const struct vmt *t;
	const u8 *p = (const u8 *)addr;
	unsigned int i;

	io_accesses++;
	t = kunit_shim_current ? kunit_shim_current->priv : NULL;
	for (i = 0; t && i < t->nwin; i++) {
		const struct vmt_window *w = &t->win[i];

		if (p >= w->mem && len <= w->size &&
		    (size_t)(p - w->mem) <= w->size - len)
			return;
	}
	io_bad_accesses++;
	fprintf(stderr, "    # %zu bytes at %p are in no window\n", len, p);
}

static void check_accesses(struct kunit *test)
{
	if (io_bad_accesses)
		KUNIT_FAIL(test, "%lu of %lu I/O accesses outside the windows",
			   io_bad_accesses, io_accesses);
	io_accesses = 0;
	io_bad_accesses = 0;
}

int main(int argc, char *argv[])
{
	int failed;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [FILTER]\n", argv[0]);
		return 2;
	}
	failed = kunit_shim_run(kunit_shim_suite, argc > 1 ? argv[1] : NULL,
				check_accesses);
	return failed ? 1 : 0;
}
