// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for vringh's MMIO variant.
 *
 * The input is the other side's memory as a broken or hostile driver could
 * leave it: a header, then the bytes of a window holding a split ring and
 * whatever its descriptors point to.  The window may be cut in two, adjacent
 * in bus space but apart in our memory.  The device side walks the ring
 * with vringh_getdesc_mmio(), pulls and pushes every buffer, completes it
 * and plays with notifications, as a vhost driver would.
 *
 * vringh reaches the window through fuzz_ops: the ring through the mappings
 * of fuzz_map_ring(), indirect tables and buffers by bus address through
 * fuzz_read() and fuzz_write(), which copy a piece per window (or per page,
 * as windows mapped on demand would) and refuse with -EFAULT what is out of
 * the window.  Each window is a malloc()ed buffer of its exact size:
 * AddressSanitizer reports any access beyond it.  On top, every access made
 * through the I/O accessors must be inside a window (io_access_check());
 * every copy vringh asks for must be a piece of the current segment of the
 * mmiov being pulled or pushed, or a descriptor read, never empty, never
 * wrapping; and a failed pull or push must return the errno of the failed
 * copy and stay at its piece.  Anything else aborts.  Header flags make
 * the other side flip a byte of its memory on every call, as a driver
 * writing concurrently would, and make copies fail now and then, as a DMA
 * engine might.
 *
 * Built with -DVRINGH_MMIO_FUZZ_SEEDS, this is a program that writes a few
 * valid inputs into a directory instead, as seeds for the corpus.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <stdint.h>
#include <linux/kernel.h>
#include <linux/io.h>
#include <linux/vringh.h>
#include <uapi/linux/virtio_config.h>

/* For the kmalloc() of linux/kernel.h. */
void *__kmalloc_fake, *__kfree_ignore_start, *__kfree_ignore_end;

#define FUZZ_BUS	0x100000ULL	/* bus address of the window */
#define FUZZ_ROUNDS	64		/* getdesc calls per input */
#define FUZZ_ERRORS	4		/* bad chains skipped per input */
#define FUZZ_IOV	2		/* segments before vringh allocates */

enum {
	F_EVENT_IDX	= 1 << 0,	/* VIRTIO_RING_F_EVENT_IDX */
	F_VERSION_1	= 1 << 1,	/* VIRTIO_F_VERSION_1 */
	F_SPLIT		= 1 << 2,	/* two windows, cut at hdr.split */
	F_PAGES		= 1 << 3,	/* buffers copied in hdr.page pieces */
	F_READ_ONLY	= 1 << 4,	/* the device takes no writable part */
	F_HOSTILE	= 1 << 5,	/* memory changes under our feet */
	F_MULTI		= 1 << 6,	/* complete in batches */
	F_FAIL		= 1 << 7,	/* a copy in four fails with -EIO */
};

struct fuzz_hdr {
	uint8_t log2num;	/* the ring has 1 << (log2num & 15) entries */
	uint8_t flags;
	uint16_t desc;		/* offsets of the ring's parts in the window */
	uint16_t avail;
	uint16_t used;
	uint16_t split;		/* F_SPLIT: size of the first window */
	uint8_t chunk;		/* pull and push chunk - 1 */
	uint8_t page;		/* F_PAGES: pieces of 16 << (page & 7) bytes */
	uint8_t actions;	/* notification calls, 2 bits per round */
	uint8_t seed;		/* F_HOSTILE, F_FAIL: what changes, fails */
	uint16_t reserved;
};

static_assert(sizeof(struct fuzz_hdr) == 16, "no padding in the header");

struct fuzz_window {
	u64 bus;
	size_t size;
	u8 *mem;
};

static struct {
	struct vringh vrh;
	struct fuzz_window win[2];
	size_t total;
	u8 flags;
	size_t page;		/* F_PAGES: the size of a piece */
	u32 prng;
	/* The mmiov being pulled or pushed, if any, and which. */
	const struct vringh_mmiov *xfer;
	bool xfer_write;
	/* Where the last copy that failed started, and why. */
	u64 failed_addr;
	int failed_err;
} f;

static void fuzz_bug(const char *what, const void *p, size_t len)
{
	fprintf(stderr, "vringh_mmio_fuzz: %s: %zu bytes at %p\n",
		what, len, p);
	abort();
}

static bool in_window(const void *addr, size_t len)
{
	const u8 *p = (const u8 *)addr;
	int i;

	for (i = 0; i < 2; i++) {
		const struct fuzz_window *w = &f.win[i];

		if (w->mem && p >= w->mem && len <= w->size &&
		    (size_t)(p - w->mem) <= w->size - len)
			return true;
	}
	return false;
}

/* Called by the accessors of linux/io.h for every access vringh makes. */
void io_access_check(const void *addr, size_t len)
{
	if (!in_window(addr, len))
		fuzz_bug("I/O access outside the windows", addr, len);
}

static u32 fuzz_rand(void)
{
	f.prng = f.prng * 1103515245 + 12345;
	return f.prng >> 8;
}

/* The other side is busy writing its memory. */
static void fuzz_hostile(void)
{
	size_t pos;
	struct fuzz_window *w;

	if (!(f.flags & F_HOSTILE) || !f.total)
		return;
	pos = fuzz_rand() % f.total;
	w = &f.win[pos >= f.win[0].size];
	w->mem[pos - (w == &f.win[1] ? f.win[0].size : 0)] ^= fuzz_rand();
}

static const struct fuzz_window *fuzz_window(u64 addr)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct fuzz_window *w = &f.win[i];

		if (w->size && addr >= w->bus && addr - w->bus < w->size)
			return w;
	}
	return NULL;
}

static int fuzz_map_ring(const struct vringh *vrh, u64 addr, u64 len,
			 void __iomem **va, u64 *mapped_len)
{
	const struct fuzz_window *w = fuzz_window(addr);
	u64 off;

	if (!len)
		fuzz_bug("map of nothing", NULL, 0);
	fuzz_hostile();
	if (!w)
		return -EFAULT;
	off = addr - w->bus;
	*va = (void __iomem *)(w->mem + off);
	*mapped_len = len < w->size - off ? len : w->size - off;
	return 0;
}

/*
 * Copy @len bytes at bus address @addr to @dst, or from @src if @dst is
 * NULL, after checking that vringh asked for what it promises.
 */
static int fuzz_copy(u64 addr, void *dst, const void *src, size_t len)
{
	const struct vringh_mmiov *iov = f.xfer;
	u64 start = addr;
	int err = 0;

	if (!len)
		fuzz_bug("copy of nothing", NULL, 0);
	if (addr + len - 1 < addr)
		fuzz_bug("copy wrapping around the bus", NULL, len);
	if (iov) {
		const struct vringh_mmio_vec *seg;

		if (iov->i >= iov->used)
			fuzz_bug("copy beyond the last segment", NULL, len);
		seg = &iov->iov[iov->i];
		if (addr != seg->addr + iov->consumed ||
		    len > seg->len - iov->consumed)
			fuzz_bug("copy outside the current segment", NULL, len);
		if (!dst != f.xfer_write)
			fuzz_bug("copy the wrong way", NULL, len);
	} else if (!dst || len > sizeof(struct vring_desc)) {
		/* Outside a pull or a push: a descriptor of a table is read. */
		fuzz_bug("copy that is not a descriptor read", NULL, len);
	}

	fuzz_hostile();
	if ((f.flags & F_FAIL) && !(fuzz_rand() % 4))
		err = -EIO;

	/* A piece per window, or per page with F_PAGES. */
	while (!err && len) {
		const struct fuzz_window *w = fuzz_window(addr);
		void __iomem *va;
		size_t n = len;

		if (!w) {
			err = -EFAULT;
			break;
		}
		if (n > w->size - (addr - w->bus))
			n = w->size - (addr - w->bus);
		if (f.page && n > f.page - (addr - FUZZ_BUS) % f.page)
			n = f.page - (addr - FUZZ_BUS) % f.page;
		va = (void __iomem *)(w->mem + (addr - w->bus));
		if (dst) {
			memcpy_fromio(dst, va, n);
			dst += n;
		} else {
			memcpy_toio(va, src, n);
			src += n;
		}
		addr += n;
		len -= n;
	}
	if (err) {
		f.failed_addr = start;
		f.failed_err = err;
	}
	return err;
}

static int fuzz_read(const struct vringh *vrh, u64 addr, void *dst,
		     size_t len)
{
	return fuzz_copy(addr, dst, NULL, len);
}

static int fuzz_write(const struct vringh *vrh, u64 addr, const void *src,
		      size_t len)
{
	return fuzz_copy(addr, NULL, src, len);
}

static const struct vringh_mmio_ops fuzz_ops = {
	.map_ring = fuzz_map_ring,
	.read = fuzz_read,
	.write = fuzz_write,
};

/* What vringh_getdesc_mmio() hands out: rewound, no segment wrapping. */
static void check_iov(const struct vringh_mmiov *iov)
{
	unsigned int i;

	if (iov->i || iov->consumed)
		fuzz_bug("mmiov not rewound", NULL, iov->consumed);
	for (i = 0; i < iov->used; i++)
		if (iov->iov[i].len &&
		    iov->iov[i].addr + iov->iov[i].len - 1 < iov->iov[i].addr)
			fuzz_bug("segment wrapping around the bus",
				 (const void *)iov->iov[i].addr,
				 iov->iov[i].len);
}

/*
 * Pull (@dst) or push (@src) all of @iov in chunks of @chunk.  Return the
 * bytes copied; on a failure, check that it is the failed copy's errno and
 * that @iov is left at that copy.
 */
static size_t fuzz_xfer(struct vringh_mmiov *iov, u8 *dst, const u8 *src,
			size_t chunk)
{
	size_t want = vringh_mmiov_length(iov), done = 0;
	ssize_t n;

	f.xfer = iov;
	f.xfer_write = !dst;
	f.failed_err = 0;
	for (;;) {
		if (dst)
			n = vringh_iov_pull_mmio(&f.vrh, iov, dst, chunk);
		else
			n = vringh_iov_push_mmio(&f.vrh, iov, src, chunk);
		if (n <= 0)
			break;
		if ((size_t)n > chunk)
			fuzz_bug("copied too much", NULL, n);
		done += n;
	}
	f.xfer = NULL;

	if (!n) {
		if (f.failed_err)
			fuzz_bug("a failed copy not reported", NULL, done);
		if (done != want || vringh_mmiov_length(iov))
			fuzz_bug("bytes left over", NULL, want - done);
	} else if (n != f.failed_err || !f.failed_err) {
		fuzz_bug("not the errno of the failed copy", NULL, -n);
	} else if (iov->i >= iov->used ||
		   iov->iov[iov->i].addr + iov->consumed != f.failed_addr ||
		   !vringh_mmiov_length(iov)) {
		fuzz_bug("not left at the failed copy", NULL, iov->consumed);
	}
	return done;
}

static void fuzz_ring(const struct fuzz_hdr *h)
{
	struct vringh_mmio_vec rvec[FUZZ_IOV], wvec[FUZZ_IOV];
	struct vring_used_elem used[3];
	struct vringh_mmiov riov, wiov;
	unsigned int num = 1u << (h->log2num & 15);
	size_t chunk = h->chunk + 1;
	unsigned int round, batch = 0, errors = 0;
	u64 features = 0;
	u8 buf[256];
	u16 head;
	int err;

	if (f.flags & F_EVENT_IDX)
		features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (f.flags & F_VERSION_1)
		features |= 1ULL << VIRTIO_F_VERSION_1;
	/* Our windows are RAM (and the shims have no other barriers). */
	if (vringh_init_mmio(&f.vrh, features, num, true,
			     FUZZ_BUS + le16toh(h->desc),
			     FUZZ_BUS + le16toh(h->avail),
			     FUZZ_BUS + le16toh(h->used), &fuzz_ops))
		return;
	if (f.flags & F_PAGES)
		f.page = 16 << (h->page & 7);

	vringh_mmiov_init(&riov, rvec, FUZZ_IOV);
	vringh_mmiov_init(&wiov, wvec, FUZZ_IOV);
	memset(buf, 0x5a, sizeof(buf));
	for (round = 0; round < FUZZ_ROUNDS; round++) {
		unsigned int act = (h->actions >> (2 * (round % 4))) & 3;
		size_t pushed = 0;

		if (act == 1)
			vringh_notify_disable_mmio(&f.vrh);
		else if (act == 2)
			vringh_notify_enable_mmio(&f.vrh);

		err = vringh_getdesc_mmio(&f.vrh, &riov,
					  f.flags & F_READ_ONLY ? NULL : &wiov,
					  &head, GFP_KERNEL);
		if (!err)
			break;
		if (err < 0) {
			/* Nothing is handed out of a chain that was refused. */
			if (head != num && (riov.used || wiov.used))
				fuzz_bug("segments of a refused chain", NULL,
					 head);
			/*
			 * A broken ring stays broken; a few bad chains are
			 * skipped (a loop takes up to 65536 steps to find).
			 */
			if (head == num || ++errors > FUZZ_ERRORS)
				break;
			continue;
		}
		if (head >= num)
			fuzz_bug("head out of the ring", NULL, head);
		check_iov(&riov);
		check_iov(&wiov);

		/* Buffers out of the window fail here, with -EFAULT. */
		fuzz_xfer(&riov, buf, NULL, chunk);
		if (!(f.flags & F_READ_ONLY))
			pushed = fuzz_xfer(&wiov, NULL, buf, chunk);

		if (act == 3 && round % 8 == 3) {
			vringh_abandon_mmio(&f.vrh, 1);
			continue;
		}
		if (f.flags & F_MULTI) {
			used[batch].id = cpu_to_vringh32(&f.vrh, head);
			used[batch].len = cpu_to_vringh32(&f.vrh, pushed);
			if (++batch == 3) {
				vringh_complete_multi_mmio(&f.vrh, used, batch);
				batch = 0;
			}
		} else {
			vringh_complete_mmio(&f.vrh, head, pushed);
		}
		vringh_need_notify_mmio(&f.vrh);
	}
	if (batch)
		vringh_complete_multi_mmio(&f.vrh, used, batch);
	vringh_need_notify_mmio(&f.vrh);
	vringh_mmiov_cleanup(&riov);
	vringh_mmiov_cleanup(&wiov);
}

/* libFuzzer's entry point (the name is not in the kernel's style). */
int fuzz_one_input(const uint8_t *data, size_t size)
	__asm__("LLVMFuzzerTestOneInput");

int fuzz_one_input(const uint8_t *data, size_t size)
{
	struct fuzz_hdr h;
	size_t split;
	int i;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);

	memset(&f, 0, sizeof(f));
	f.flags = h.flags;
	f.prng = h.seed;
	f.total = size;
	split = f.flags & F_SPLIT ? le16toh(h.split) % (size + 1) : size;
	f.win[0].size = split;
	f.win[1].size = size - split;
	f.win[0].bus = FUZZ_BUS;
	f.win[1].bus = FUZZ_BUS + split;
	for (i = 0; i < 2; i++) {
		/* Exactly the window's size, for ASan: nothing for nothing. */
		if (!f.win[i].size)
			continue;
		f.win[i].mem = malloc(f.win[i].size);
		if (!f.win[i].mem)
			abort();
		memcpy(f.win[i].mem, data + (i ? split : 0), f.win[i].size);
	}

	fuzz_ring(&h);

	free(f.win[0].mem);
	free(f.win[1].mem);
	return 0;
}

#ifdef VRINGH_MMIO_FUZZ_SEEDS
/* Valid inputs: a few chains, direct and indirect, in a ring of 8. */
#define S_DESC	0
#define S_AVAIL	128
#define S_USED	192
#define S_BUFS	512
#define S_TABLE	1024
#define S_SIZE	2048

static void seed_desc(u8 *win, unsigned int at, u64 addr, u32 len, u16 flags,
		      u16 next)
{
	struct vring_desc d;

	d.addr = (__virtio64)htole64(addr);
	d.len = (__virtio32)htole32(len);
	d.flags = (__virtio16)htole16(flags);
	d.next = (__virtio16)htole16(next);
	memcpy(win + at, &d, sizeof(d));
}

static void seed_write(const char *dir, int n, struct fuzz_hdr *h, u8 *win)
{
	char path[4096];
	FILE *file;

	snprintf(path, sizeof(path), "%s/seed-%d", dir, n);
	file = fopen(path, "w");
	if (!file || fwrite(h, sizeof(*h), 1, file) != 1 ||
	    fwrite(win, S_SIZE, 1, file) != 1 || fclose(file)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char *argv[])
{
	static const u8 flags[] = {
		F_VERSION_1 | F_EVENT_IDX,
		F_VERSION_1 | F_SPLIT,
		F_VERSION_1 | F_PAGES | F_MULTI,
		F_EVENT_IDX,
		F_VERSION_1 | F_HOSTILE,
		F_VERSION_1 | F_READ_ONLY,
		F_VERSION_1 | F_SPLIT | F_FAIL,
	};
	u8 win[S_SIZE] = { 0 };
	u16 avail[2 + 8 + 1] = { 0 };
	struct fuzz_hdr h = { 0 };
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* 0: 2 readable + 1 writable; 3: indirect 1 readable + 2 writable */
	seed_desc(win, S_DESC, FUZZ_BUS + S_BUFS, 16, VRING_DESC_F_NEXT, 1);
	seed_desc(win, S_DESC + 16, FUZZ_BUS + S_BUFS + 100, 40,
		  VRING_DESC_F_NEXT, 2);
	seed_desc(win, S_DESC + 32, FUZZ_BUS + S_BUFS + 200, 300,
		  VRING_DESC_F_WRITE, 0);
	seed_desc(win, S_DESC + 48, FUZZ_BUS + S_TABLE, 48,
		  VRING_DESC_F_INDIRECT, 0);
	seed_desc(win, S_TABLE, FUZZ_BUS + S_BUFS + 8, 8, VRING_DESC_F_NEXT, 1);
	seed_desc(win, S_TABLE + 16, FUZZ_BUS + S_TABLE + 64, 64,
		  VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	seed_desc(win, S_TABLE + 32, FUZZ_BUS + S_TABLE + 500, 200,
		  VRING_DESC_F_WRITE, 0);
	/* 4: a zero-length descriptor */
	seed_desc(win, S_DESC + 64, FUZZ_BUS + S_BUFS, 0, 0, 0);
	/* 5: 1 readable + 1 writable, running out of the window */
	seed_desc(win, S_DESC + 80, FUZZ_BUS + S_SIZE - 8, 16,
		  VRING_DESC_F_NEXT, 6);
	seed_desc(win, S_DESC + 96, FUZZ_BUS + S_SIZE + 64, 16,
		  VRING_DESC_F_WRITE, 0);
	avail[1] = htole16(4);
	avail[2] = htole16(0);
	avail[3] = htole16(3);
	avail[4] = htole16(4);
	avail[5] = htole16(5);
	memcpy(win + S_AVAIL, avail, sizeof(avail));

	h.log2num = 3;
	h.desc = htole16(S_DESC);
	h.avail = htole16(S_AVAIL);
	h.used = htole16(S_USED);
	h.split = htole16(S_BUFS + 110);
	h.chunk = 7;
	h.page = 1;
	h.actions = 0x9c;
	h.seed = 42;
	for (i = 0; i < sizeof(flags); i++) {
		h.flags = flags[i];
		seed_write(argv[1], i, &h, win);
	}
	return 0;
}
#endif
