// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_rc: a hostile root complex against pci-epf-vhost.
 *
 * Plays the driver side of virtio over a PCI endpoint function
 * (Documentation/PCI/endpoint/pci-vhost-function.rst) from userspace, on
 * the root complex, through BAR 0 mmapped from sysfs, and does what the
 * "Malformed values and time-outs" table of that document lists: unknown
 * commands, bad arguments, impossible queue setups, malformed rings. The
 * endpoint must answer EINVAL where the table says so, set
 * DEVICE_NEEDS_RESET, and keep working after a reset.
 *
 * Usage: hostile_rc [--hold SECONDS | --trickle MS COUNT |
 *                    --flood SECONDS [--bytes N]] [BDF]
 *
 * BDF is the function on the root complex (1234:5600 in the rig); without
 * it, the first such function with no driver bound is used. No driver may
 * be bound to it (unbind virtio_pci_epf first). Run as root: ring
 * addresses are found in /proc/self/pagemap, as root complex bus addresses
 * are physical addresses (no IOMMU). The ring cases walk the queue the
 * endpoint reads: that of the sample vhost_rng client (virtio device 4),
 * the message queue of vhost_rpmsg (device 7) or the transmitq of
 * vhost_netdev (device 1); they are left out for any other client, and so
 * are the cases of the other ones. The net cases send one packet each on
 * the transmitq, with CSUM and HOST_TSO4 negotiated: a well-formed frame,
 * then malformed lengths, chains and headers; each must be given back
 * (used length 0) with the device running. The endpoint's ethtool -S
 * tells a packet taken from one counted as malformed.
 *
 * With --hold, no case runs: the device is left at DRIVER_OK with no
 * buffer on any queue for SECONDS, then reset: a peer that gives no
 * buffers, for the endpoint's senders to wait on.
 *
 * With --trickle (vhost_rpmsg only), no case runs either: from DRIVER_OK,
 * with VIRTIO_RING_F_EVENT_IDX negotiated, one 512-byte buffer is given
 * on queue 0 (the endpoint's messages) every MS milliseconds, COUNT in
 * all, each followed by a notification only where the device's
 * avail_event asks for one, as virtio_ring does; a buffer waits for one
 * of the 8 descriptors to be free, and after WAIT_MS with all of them
 * held the trickle ends (the endpoint has nothing more to send). A slow
 * reader, for several endpoint senders waiting at once: whether they were
 * served is theirs to say. It also counts the name service announcements
 * (of channel creations and removals) it received.
 *
 * With --flood (vhost_rng or vhost_netdev), no case runs either: from
 * DRIVER_OK, with VIRTIO_RING_F_EVENT_IDX negotiated, the queue the
 * endpoint reads is kept full: FLOOD_RING buffers, each given again as
 * soon as the device used it, with a notification every time, whatever
 * the device's avail_event says. For vhost_rng they are writable buffers
 * on queue 0; for vhost_netdev, packets on the transmitq, each the
 * well-formed broadcast frame of the net cases (--bytes does not apply). The
 * flood ends after SECONDS, or once the device stops: STATUS without
 * DRIVER_OK or with DEVICE_NEEDS_RESET (a reset, the client unbound or
 * removed on the endpoint), or no buffer used for WAIT_MS. How many
 * buffers were used and why the flood ended is printed; the exit status
 * is 0 whatever ended it. A peer that never lets the queue run dry, for
 * the endpoint to stop the client under: its work must not serve for as
 * long as buffers come. The buffers are of 64 bytes, or of N (at most a
 * page) with --bytes: larger ones take the device longer to fill, so that
 * the ring stays full through a pause of the flooder (its CPU taken away
 * for a while, as a busy host does to a VM).
 *
 * With --ntb REGS RING, the same cases run against ntb_vhost over an NTB
 * (Documentation/driver-api/virtio-ntb.rst) in the rig's loopback, where
 * both ports are in one kernel: REGS is the device side's window 0 as the
 * driver side's port reaches it, and RING the driver side's window 0 as
 * the device side's port reaches it, each FILE:OFFSET of a PCI resource
 * file (the test finds them from the ports' outbound windows). The
 * register block is the first of the window's blocks that carries a
 * device; rings and buffers go in the driver side's window after its
 * header, at link addresses (window << 48 | offset), where virtio_ntb
 * allocates nothing while no driver of its devices is bound. The NTB's
 * doorbells are out of reach: the device finds commands and notifications
 * by its look once a second. Two cases of link addresses out of the
 * driver side's windows are added; the one that needs physical memory
 * across a 1 MiB boundary is skipped.
 *
 * Output is KTAP; the exit status is 0 if every case passed, 1 otherwise,
 * 4 (skip) if there is no function to test.
 */

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_pci_epf.h>
#include <linux/virtio_ring.h>	/* vring_need_event(), VIRTIO_RING_F_EVENT_IDX */

#define BIT_ULL(n)		(1ULL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define KSFT_PASS		0
#define KSFT_FAIL		1
#define KSFT_SKIP		4

#define TEST_VENDOR		0x1234
#define TEST_DEVICE		0x5600
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_RPMSG		7
#define VIRTIO_RPMSG_F_NS	BIT_ULL(0)
#define RPMSG_NS_ADDR		53

/* Device status bits (virtio 1.x, 2.1). */
#define S_ACKNOWLEDGE		0x01
#define S_DRIVER		0x02
#define S_DRIVER_OK		0x04
#define S_FEATURES_OK		0x08
#define S_NEEDS_RESET		0x40

#define F_VERSION_1		BIT_ULL(32)

/* virtio-net (virtio 1.x, 5.1): the features a net run accepts. */
#define NET_F_CSUM		BIT_ULL(0)
#define NET_F_HOST_TSO4		BIT_ULL(11)
#define NET_HDR_F_NEEDS_CSUM	1
#define NET_HDR_GSO_TCPV4	1
#define NET_HDR_GSO_UDP		3
#define NET_HDR_GSO_TCPV6	4
#define NET_HDR_GSO_ECN		0x80

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Split ring (virtio 1.x, 2.7). */
#define DESC_F_NEXT		1
#define DESC_F_WRITE		2
#define AVAIL_F_NO_INTERRUPT	1

struct ring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct ring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];		/* then used_event */
};

struct ring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct ring_used {
	uint16_t flags;
	uint16_t idx;
	struct ring_used_elem ring[];	/* then avail_event */
};

/* How long the device gets for anything: commands, resets, failures. */
#define WAIT_MS			5000
#define RING_SIZE		8
#define BUF_LEN			64
/*
 * The buffers are in the descriptor table's page, after the table, so that
 * the outbound window the device maps for the table reaches them too: a
 * malformed chain then fails for what it is, not for a buffer out of reach.
 */
#define BUF_OFFSET		0x800
#define ERR_TIMEOUT		(-1LL)

static uint32_t *regs;
static size_t regs_size;
static uint32_t *doorbell;
static uint32_t doorbell_data;
static uint32_t seq;
static unsigned int timeouts_in_a_row;

/*
 * Ring memory: one page each for the descriptors, avail and used rings of
 * the queue under test, and one for the whole of an idle queue 0 when the
 * queue under test is another.
 */
enum { PG_DESC, PG_AVAIL, PG_USED, PG_IDLE, PG_TRICKLE, NR_PAGES };
static unsigned int ring_q;		/* the queue under test */
static unsigned int regs_bar;		/* the BAR of the register block */
static uint64_t extra_features;		/* accepted besides VERSION_1 */
static uint8_t *pages[NR_PAGES];
static uint64_t pages_pa[NR_PAGES];
/* The descriptor table: in pages[PG_DESC], unless a case moves it. */
static uint8_t *desc_va;
static uint64_t desc_pa;
/* Set by a case that could not run here: it is reported as skipped. */
static const char *skip_reason;
/*
 * --trickle: both queues' rings in the PG_IDLE page, as virtio_ring keeps
 * a ring in one allocation, so that a controller with four windows (one
 * of them for MSI) has one left for the buffers.
 */
static bool compact_rings;
/* The net cases' frame: a UDP datagram to the broadcast address. */
static const uint8_t net_frame[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* broadcast */
	0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,	/* IPv4 */
	0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0,
	10, 99, 0, 1, 10, 99, 0, 255,
	0x30, 0x39, 0x30, 0x39, 0, 26, 0, 0,	/* UDP 12345 */
};

#define NET_FRAME_LEN	((uint32_t)(sizeof(struct net_hdr) + sizeof(net_frame)))
/*
 * --flood: for how long, in seconds. Queue 0 has FLOOD_RING descriptors,
 * its three parts in the PG_IDLE page (a page of 4 KiB or more), and the
 * buffers are in the PG_TRICKLE page: two windows on the endpoint, as for
 * --trickle.
 */
static unsigned int flood_s;
static unsigned int flood_len = BUF_LEN;	/* --bytes */
#define FLOOD_RING		128
#define FLOOD_AVAIL		0x800
#define FLOOD_USED		0xa00
static size_t page_size;

/* The flood's ring: PG_IDLE, unless queue 0 idles there (the net flood). */
static unsigned int flood_page(void)
{
	return ring_q ? PG_DESC : PG_IDLE;
}

#define USAGE	"[--hold SECONDS | --trickle MS COUNT | --flood SECONDS [--bytes N]] [BDF]\n" \
		"       --ntb REGS_FILE:OFFSET RING_FILE:OFFSET"

/* Virtio over NTB: link addresses, and the device side's window 0. */
#define LINK_ADDR(win, off)	((uint64_t)(win) << 48 | (off))
#define NTB_HDR_SIZE		4096
#define NTB_HDR_NR_BLOCKS	0x100
#define NTB_HDR_BLOCK_SIZE	0x104
#define NTB_MAX_BLOCKS		15
static bool ntb_mode;

/* A KTAP diagnostic line. */
#define diag(fmt, ...)	printf("# " fmt "\n", ##__VA_ARGS__)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Shared memory, registers and ring indexes alike, is read and written
 * with relaxed atomics: each access is one aligned load or store of its
 * width, which the compiler neither drops, merges nor splits, as
 * READ_ONCE() and WRITE_ONCE() do in the kernel. Registers are
 * little-endian 32-bit words, the mapping is uncached and the CPU keeps
 * its accesses in order; __sync_synchronize() orders ring memory against
 * them.
 */
#define LOAD(p)		__atomic_load_n(p, __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n(p, v, __ATOMIC_RELAXED)

static uint32_t rd(unsigned int off)
{
	return le32toh(LOAD(&regs[off / 4]));
}

static void wr(unsigned int off, uint32_t val)
{
	STORE(&regs[off / 4], htole32(val));
}

static uint64_t rd64(unsigned int off)
{
	return (uint64_t)rd(off + 4) << 32 | rd(off);
}

static void wr64(unsigned int off, uint64_t val)
{
	wr(off, (uint32_t)val);
	wr(off + 4, (uint32_t)(val >> 32));
}

/* A field of the selected queue. */
static unsigned int qreg(unsigned int off)
{
	return VIRTIO_PCI_EPF_QUEUE_SEL + off;
}

/* Poll until (register & mask) == want, at most @ms; *@last: last read. */
static bool wait_reg(unsigned int off, uint32_t mask, uint32_t want,
		     unsigned int ms, uint32_t *last)
{
	uint64_t deadline = now_ms() + ms;
	uint32_t v;

	for (;;) {
		v = rd(off);
		if ((v & mask) == want)
			break;
		if (now_ms() > deadline) {
			*last = v;
			return false;
		}
		sleep_ms(1);
	}
	*last = v;
	return true;
}

static void ring_doorbell(void)
{
	if (doorbell)
		STORE(doorbell, htole32(doorbell_data));
}

static const char *result_str(long long r)
{
	static char buf[32];

	if (r == ERR_TIMEOUT)
		return "no answer";
	snprintf(buf, sizeof(buf), "%lld", r);
	return buf;
}

/*
 * Post a command with sequence number @s and wait for its answer. Returns
 * CMD_RESULT, or ERR_TIMEOUT. After two time-outs in a row the device is
 * taken for dead and nothing more is posted, so the run stays bounded.
 */
static long long cmd_seq(uint32_t op, uint32_t arg0, uint32_t arg1,
			 uint32_t s)
{
	uint32_t done;

	if (timeouts_in_a_row >= 2) {
		diag("command %u (%#x, %#x) not posted: the device stopped answering",
		     op, arg0, arg1);
		return ERR_TIMEOUT;
	}
	wr(VIRTIO_PCI_EPF_CMD, op);
	wr(VIRTIO_PCI_EPF_CMD_ARG0, arg0);
	wr(VIRTIO_PCI_EPF_CMD_ARG1, arg1);
	__sync_synchronize();	/* the arguments before the sequence number */
	wr(VIRTIO_PCI_EPF_CMD_SEQ, s);
	seq = s;
	ring_doorbell();
	if (!wait_reg(VIRTIO_PCI_EPF_CMD_DONE, ~0U, s, WAIT_MS, &done)) {
		diag("command %u (%#x, %#x) seq %u: no answer in %d ms (CMD_DONE %u, STATUS %#x)",
		     op, arg0, arg1, s, WAIT_MS, done,
		     rd(VIRTIO_PCI_EPF_STATUS));
		timeouts_in_a_row++;
		return ERR_TIMEOUT;
	}
	timeouts_in_a_row = 0;
	__sync_synchronize();	/* the answer before the result */
	return rd(VIRTIO_PCI_EPF_CMD_RESULT);
}

static long long cmd(uint32_t op, uint32_t arg0, uint32_t arg1)
{
	return cmd_seq(op, arg0, arg1, seq + 1);
}

/* A command that must succeed. */
static bool cmd_ok(const char *what, uint32_t op, uint32_t arg0,
		   uint32_t arg1)
{
	long long r = cmd(op, arg0, arg1);

	if (r) {
		diag("%s: CMD_RESULT %s, expected 0 (STATUS %#x)", what,
		     result_str(r), rd(VIRTIO_PCI_EPF_STATUS));
		return false;
	}
	return true;
}

static bool reset(void)
{
	uint32_t st;

	if (!cmd_ok("SET_STATUS 0", VIRTIO_PCI_EPF_CMD_SET_STATUS, 0, 0))
		return false;
	if (!wait_reg(VIRTIO_PCI_EPF_STATUS, ~0U, 0, WAIT_MS, &st)) {
		diag("SET_STATUS 0: STATUS still %#x after %d ms", st, WAIT_MS);
		return false;
	}
	return true;
}

/*
 * The normal start: reset, ACKNOWLEDGE, DRIVER and, if @features_ok,
 * VERSION_1 (if offered) accepted and FEATURES_OK granted.
 */
static bool prelude(bool features_ok)
{
	uint64_t features;
	uint32_t st;

	if (!reset())
		return false;
	wr(VIRTIO_PCI_EPF_CONFIG_VECTOR, VIRTIO_PCI_EPF_NO_VECTOR);
	if (!cmd_ok("ACKNOWLEDGE", VIRTIO_PCI_EPF_CMD_SET_STATUS,
		    S_ACKNOWLEDGE, 0) ||
	    !cmd_ok("DRIVER", VIRTIO_PCI_EPF_CMD_SET_STATUS,
		    S_ACKNOWLEDGE | S_DRIVER, 0))
		return false;
	if (!features_ok)
		return true;
	features = rd64(VIRTIO_PCI_EPF_DEVICE_FEATURES) &
		   (F_VERSION_1 | extra_features);
	wr64(VIRTIO_PCI_EPF_DRIVER_FEATURES, features);
	if (!cmd_ok("FEATURES_OK", VIRTIO_PCI_EPF_CMD_SET_STATUS,
		    S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK, 0))
		return false;
	st = rd(VIRTIO_PCI_EPF_STATUS);
	if (!(st & S_FEATURES_OK) || (st & S_NEEDS_RESET)) {
		diag("FEATURES_OK: STATUS %#x after accepting features %#llx of %#llx",
		     st, (unsigned long long)features,
		     (unsigned long long)rd64(VIRTIO_PCI_EPF_DEVICE_FEATURES));
		return false;
	}
	return true;
}

/* The answer and the status a malformed command must get. */
static bool expect_einval_needs_reset(const char *what, long long r)
{
	bool ok = true;
	uint32_t st;

	if (r != EINVAL) {
		diag("%s: CMD_RESULT %s, expected %d (EINVAL)", what,
		     result_str(r), EINVAL);
		ok = false;
	}
	if (!wait_reg(VIRTIO_PCI_EPF_STATUS, S_NEEDS_RESET, S_NEEDS_RESET,
		      WAIT_MS, &st)) {
		diag("%s: STATUS %#x after %d ms, no DEVICE_NEEDS_RESET (%#x)",
		     what, st, WAIT_MS, S_NEEDS_RESET);
		ok = false;
	}
	return ok;
}

/* The driver's fields of the selected queue. */
static void queue_setup(uint32_t size, uint64_t desc, uint64_t avail,
			uint64_t used)
{
	wr(qreg(VIRTIO_PCI_EPF_Q_SIZE), size);
	wr64(qreg(VIRTIO_PCI_EPF_Q_DESC), desc);
	wr64(qreg(VIRTIO_PCI_EPF_Q_DRIVER), avail);
	wr64(qreg(VIRTIO_PCI_EPF_Q_DEVICE), used);
	wr(qreg(VIRTIO_PCI_EPF_Q_VECTOR), VIRTIO_PCI_EPF_NO_VECTOR);
}

/* Queue 0 with the rings in our pages, all valid. */
static void queue0_valid(void)
{
	queue_setup(RING_SIZE, desc_pa, pages_pa[PG_AVAIL], pages_pa[PG_USED]);
}

static bool select_queue(uint32_t q)
{
	return cmd_ok("QUEUE_SELECT", VIRTIO_PCI_EPF_CMD_QUEUE_SELECT, q, 0);
}

/*
 * Prelude, @q selected if it exists, then QUEUE_ENABLE of @q as the
 * caller set it up: refused.
 */
static bool bad_queue_enable(const char *what, uint32_t q)
{
	if (!prelude(true))
		return false;
	if (q < rd(VIRTIO_PCI_EPF_NUM_QUEUES) && !select_queue(q))
		return false;
	return expect_einval_needs_reset(what,
			cmd(VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, q, 0));
}

/* Cases 1 to 14: the command mailbox. */

static bool case_unknown_cmd(void)
{
	if (!prelude(true))
		return false;
	return expect_einval_needs_reset("command 0x77", cmd(0x77, 0, 0));
}

static bool case_config_write_len3(void)
{
	if (!prelude(true))
		return false;
	return expect_einval_needs_reset("CONFIG_WRITE of 3 bytes",
			cmd(VIRTIO_PCI_EPF_CMD_CONFIG_WRITE, 3 << 16 | 0, 0));
}

static bool case_config_write_beyond(void)
{
	if (!prelude(true))
		return false;
	return expect_einval_needs_reset("CONFIG_WRITE of 4 bytes at 0x3ff",
			cmd(VIRTIO_PCI_EPF_CMD_CONFIG_WRITE, 4 << 16 | 0x3ff,
			    0x12345678));
}

static bool case_queue_40(void)
{
	queue0_valid();
	return bad_queue_enable("QUEUE_ENABLE 40", 40);
}

static bool case_select_40(void)
{
	if (!prelude(true))
		return false;
	return expect_einval_needs_reset("QUEUE_SELECT 40",
			cmd(VIRTIO_PCI_EPF_CMD_QUEUE_SELECT, 40, 0));
}

static bool case_queue_not_selected(void)
{
	queue0_valid();
	if (!prelude(true) || !select_queue(0))
		return false;
	return expect_einval_needs_reset("QUEUE_ENABLE 1 with queue 0 selected",
			cmd(VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, 1, 0));
}

static bool case_queue_size_3(void)
{
	queue0_valid();
	wr(qreg(VIRTIO_PCI_EPF_Q_SIZE), 3);
	return bad_queue_enable("QUEUE_ENABLE with SIZE 3", 0);
}

static bool case_queue_size_big(void)
{
	uint32_t size_max, size = 4096;

	if (!select_queue(0))
		return false;
	size_max = rd(qreg(VIRTIO_PCI_EPF_Q_SIZE_MAX));

	/* A power of two above what the device takes. */
	while (size <= size_max && size < 0x80000000U)
		size <<= 1;
	queue0_valid();
	wr(qreg(VIRTIO_PCI_EPF_Q_SIZE), size);
	if (size <= size_max) {
		diag("SIZE_MAX %u: no power of two above it", size_max);
		return false;
	}
	diag("SIZE %u, SIZE_MAX %u", size, size_max);
	return bad_queue_enable("QUEUE_ENABLE with SIZE above SIZE_MAX", 0);
}

static bool case_desc_misaligned(void)
{
	queue0_valid();
	wr64(qreg(VIRTIO_PCI_EPF_Q_DESC), pages_pa[PG_DESC] + 8);
	return bad_queue_enable("QUEUE_ENABLE with DESC 8 bytes off", 0);
}

static bool case_desc_unreachable(void)
{
	queue0_valid();
	wr64(qreg(VIRTIO_PCI_EPF_Q_DESC), 0xfffffffffff000ULL);
	return bad_queue_enable("QUEUE_ENABLE with DESC at 0xfffffffffff000", 0);
}

/* Over NTB: the descriptor table past the end of the driver's window 0. */
static bool case_ntb_desc_past_window(void)
{
	queue0_valid();
	wr64(qreg(VIRTIO_PCI_EPF_Q_DESC), LINK_ADDR(0, 0xfffffffff000ULL));
	return bad_queue_enable("QUEUE_ENABLE with DESC at window 0 + 0xfffffffff000", 0);
}

/* Over NTB: the available ring in a window the driver side does not have. */
static bool case_ntb_avail_no_window(void)
{
	queue0_valid();
	wr64(qreg(VIRTIO_PCI_EPF_Q_DRIVER), LINK_ADDR(7, 0));
	return bad_queue_enable("QUEUE_ENABLE with DRIVER in window 7", 0);
}

static bool case_used_wraps(void)
{
	queue0_valid();
	wr64(qreg(VIRTIO_PCI_EPF_Q_DEVICE), 0xfffffffffffffff0ULL);
	return bad_queue_enable("QUEUE_ENABLE with DEVICE at 0xfffffffffffffff0", 0);
}

static bool case_queue_before_features_ok(void)
{
	if (!prelude(false))
		return false;
	queue0_valid();
	return expect_einval_needs_reset("QUEUE_ENABLE before FEATURES_OK",
			cmd(VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, 0, 0));
}

static bool case_status_too_big(void)
{
	long long r;

	if (!prelude(true))
		return false;
	r = cmd(VIRTIO_PCI_EPF_CMD_SET_STATUS, 0x1ff, 0);
	/* Only EINVAL is asked for; say what the status became. */
	sleep_ms(100);
	diag("SET_STATUS 0x1ff: CMD_RESULT %s, STATUS %#x", result_str(r),
	     rd(VIRTIO_PCI_EPF_STATUS));
	return r == EINVAL;
}

static bool case_seq_skip(void)
{
	uint32_t s, done, st;
	long long r;

	if (!reset())
		return false;
	s = seq + 5;
	r = cmd_seq(VIRTIO_PCI_EPF_CMD_SET_STATUS, S_ACKNOWLEDGE, 0, s);
	done = rd(VIRTIO_PCI_EPF_CMD_DONE);
	st = rd(VIRTIO_PCI_EPF_STATUS);
	if (r || done != s || st != S_ACKNOWLEDGE) {
		diag("SET_STATUS 1, CMD_SEQ %u (4 skipped): CMD_RESULT %s, CMD_DONE %u, STATUS %#x",
		     s, result_str(r), done, st);
		return false;
	}
	/* The next command follows the skipped one. */
	if (!cmd_ok("SET_STATUS 3 after the skip",
		    VIRTIO_PCI_EPF_CMD_SET_STATUS, S_ACKNOWLEDGE | S_DRIVER, 0))
		return false;
	st = rd(VIRTIO_PCI_EPF_STATUS);
	if (st != (S_ACKNOWLEDGE | S_DRIVER)) {
		diag("SET_STATUS 3 after the skip: STATUS %#x", st);
		return false;
	}
	return true;
}

/* Cases 15 to 18 and 20: the ring the client reads. */

static struct ring_desc *ring_desc(void)
{
	return (struct ring_desc *)desc_va;
}

static struct ring_avail *ring_avail(void)
{
	return (struct ring_avail *)pages[PG_AVAIL];
}

static struct ring_used *ring_used(void)
{
	return (struct ring_used *)pages[PG_USED];
}

/* The used index the device wrote. */
static uint16_t used_idx(void)
{
	return le16toh(LOAD(&ring_used()->idx));
}

static uint64_t buf_pa(unsigned int i)
{
	return pages_pa[PG_DESC] + BUF_OFFSET + i * BUF_LEN;
}

static uint8_t *buf_va(unsigned int i)
{
	return pages[PG_DESC] + BUF_OFFSET + i * BUF_LEN;
}

static void set_desc(unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct ring_desc *d = &ring_desc()[i];

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

/* Make @head available as entry 0 and set the avail index to @idx. */
static void make_available(uint16_t head, uint16_t idx)
{
	ring_avail()->ring[0] = htole16(head);
	__sync_synchronize();	/* the descriptors and entry before the index */
	STORE(&ring_avail()->idx, htole16(idx));
}

static void notify(void)
{
	unsigned int q = ring_q;

	__sync_synchronize();	/* the ring before the notification */
	wr(rd(VIRTIO_PCI_EPF_NOTIFY_OFF) + 4 * q, 1);
	ring_doorbell();
}

#define TRICKLE_BUF		512
#define RPMSG_NS_ADDR		53
#define RPMSG_NS_MSG_LEN	40	/* name[32], addr, flags */

/* Name service announcements the endpoint wrote into our buffers. */
static unsigned int ns_created, ns_destroyed;

/* Message @i of the trickle, written by the endpoint into its buffer. */
static void trickle_note(unsigned int i, unsigned int n)
{
	const uint8_t *b = pages[PG_TRICKLE] + (i % n) * TRICKLE_BUF;
	uint32_t dst, flags;
	uint16_t len;

	memcpy(&dst, b + 4, 4);
	memcpy(&len, b + 12, 2);
	if (le32toh(dst) != RPMSG_NS_ADDR ||
	    le16toh(len) != RPMSG_NS_MSG_LEN)
		return;
	memcpy(&flags, b + 16 + 36, 4);
	if (le32toh(flags))
		ns_destroyed++;
	else
		ns_created++;
}

/*
 * --trickle: queue 0 of vhost_rpmsg (desc, avail and used in the
 * PG_IDLE page, as running_queue() set it up) gets one buffer every @ms,
 * @count in all; the device must use every one.
 */
static bool trickle(unsigned int ms, unsigned int count)
{
	struct ring_desc *desc = (struct ring_desc *)pages[PG_IDLE];
	struct ring_avail *avail = (struct ring_avail *)(pages[PG_IDLE] + 0x400);
	struct ring_used *used = (struct ring_used *)(pages[PG_IDLE] + 0x800);
	uint16_t *avail_event = (uint16_t *)&used->ring[RING_SIZE];
	unsigned int i, kicks = 0, n = page_size / TRICKLE_BUF;
	uint16_t idx = 0, done;
	uint64_t deadline;

	if (n > RING_SIZE)
		n = RING_SIZE;
	for (i = 0; i < count; i++) {
		unsigned int d = i % n;

		sleep_ms(ms);
		/* A descriptor is given again only once the device used it. */
		deadline = now_ms() + WAIT_MS;
		while ((uint16_t)(idx - le16toh(LOAD(&used->idx))) >= n) {
			if (now_ms() > deadline) {
				diag("slow reader: buffer %u: all %u held for %d ms: done",
				     i, n, WAIT_MS);
				count = i;
				goto out;
			}
			sleep_ms(1);
		}
		/* It was used in order: read what it holds before reuse. */
		if (i >= n)
			trickle_note(i - n, n);
		desc[d].addr = htole64(pages_pa[PG_TRICKLE] + d * TRICKLE_BUF);
		desc[d].len = htole32(TRICKLE_BUF);
		desc[d].flags = htole16(DESC_F_WRITE);
		desc[d].next = 0;
		avail->ring[idx % RING_SIZE] = htole16(d);
		__sync_synchronize();	/* the entry before the index */
		idx++;
		STORE(&avail->idx, htole16(idx));
		__sync_synchronize();	/* the index before reading the event */
		if (vring_need_event(le16toh(LOAD(avail_event)), idx, idx - 1)) {
			wr(rd(VIRTIO_PCI_EPF_NOTIFY_OFF), 1);
			ring_doorbell();
			kicks++;
		}
	}
out:
	done = le16toh(LOAD(&used->idx));
	__sync_synchronize();	/* the index before the buffers */
	for (i = count > n ? count - n : 0; i < done; i++)
		trickle_note(i, n);
	diag("slow reader: %u buffers given, %u notifications, %u used", count,
	     kicks, done);
	diag("slow reader: name service: %u creations, %u removals announced",
	     ns_created, ns_destroyed);
	return true;
}

/*
 * --flood: keep the queue under test (as running_queue() set it up) full
 * for up to @seconds: every buffer the device uses is given again at once,
 * and the device notified. DEVICE_ID 0 does not end the flood: the
 * endpoint clears it before it stops the client, and the flood goes on
 * until the client stopped using buffers.
 */
static bool run_flood(unsigned int seconds)
{
	uint8_t *ring = pages[flood_page()];
	struct ring_desc *desc = (struct ring_desc *)ring;
	struct ring_avail *avail = (struct ring_avail *)(ring + FLOOD_AVAIL);
	struct ring_used *used = (struct ring_used *)(ring + FLOOD_USED);
	unsigned int i, nbufs = page_size / flood_len, kicks = 0, batch = 0;
	uint64_t start = now_ms(), progress = start, gone = 0, t;
	unsigned long long total = 0;
	uint16_t idx, seen = 0, u;
	char why[96];
	uint32_t st, id = 0;
	bool ok = true;

	for (i = 0; ring_q && i < nbufs; i++) {
		uint8_t *b = pages[PG_TRICKLE] + i * flood_len;

		memset(b, 0, sizeof(struct net_hdr));
		memcpy(b + sizeof(struct net_hdr), net_frame,
		       sizeof(net_frame));
	}
	for (i = 0; i < FLOOD_RING; i++) {
		desc[i].addr = htole64(pages_pa[PG_TRICKLE] +
				       (i % nbufs) * flood_len);
		desc[i].len = htole32(flood_len);
		desc[i].flags = htole16(ring_q ? 0 : DESC_F_WRITE);
		desc[i].next = 0;
		avail->ring[i] = htole16(i);
	}
	idx = FLOOD_RING;
	__sync_synchronize();	/* the descriptors and entries before the index */
	STORE(&avail->idx, htole16(idx));
	notify();
	kicks++;
	diag("flood: %u buffers of %u bytes on queue %u, each given again once used",
	     FLOOD_RING, flood_len, ring_q);
	diag("flood: for up to %u s", seconds);
	for (;;) {
		t = now_ms();
		st = rd(VIRTIO_PCI_EPF_STATUS);
		if (!gone && !rd(VIRTIO_PCI_EPF_DEVICE_ID)) {
			gone = t;
			diag("flood: DEVICE_ID 0 after %llu ms, %llu buffers used: flooding on",
			     (unsigned long long)(t - start), total);
		}
		u = le16toh(LOAD(&used->idx));
		if (u != seen) {
			__sync_synchronize();	/* the index before the entries */
			if ((uint16_t)(u - seen) > FLOOD_RING) {
				snprintf(why, sizeof(why),
					 "used idx %u after %u: more than the ring",
					 u, seen);
				ok = false;
				break;
			}
			if ((uint16_t)(u - seen) > batch)
				batch = (uint16_t)(u - seen);
			for (; seen != u; seen++, idx++, total++) {
				id = le32toh(used->ring[seen % FLOOD_RING].id);
				if (id >= FLOOD_RING)
					break;
				avail->ring[idx % FLOOD_RING] = htole16(id);
			}
			if (seen != u) {
				snprintf(why, sizeof(why),
					 "used id %u on a ring of %d", id,
					 FLOOD_RING);
				ok = false;
				break;
			}
			__sync_synchronize();	/* the entries before the index */
			STORE(&avail->idx, htole16(idx));
			notify();
			kicks++;
			progress = t;
		}
		if (!(st & S_DRIVER_OK) || (st & S_NEEDS_RESET)) {
			snprintf(why, sizeof(why),
				 "STATUS %#x: the device was reset or failed",
				 st);
			break;
		}
		if (t - progress > WAIT_MS) {
			snprintf(why, sizeof(why),
				 "no buffer used for %d ms (STATUS %#x)",
				 WAIT_MS, st);
			break;
		}
		if (t - start >= seconds * 1000ULL) {
			snprintf(why, sizeof(why), "%u s passed", seconds);
			break;
		}
		/* Never off the CPU for long: the device may use more. */
		if (u == seen)
			sched_yield();
	}
	diag("flood: %llu buffers used in %llu ms, at most %u between two looks, %u notifications",
	     total, (unsigned long long)(t - start), batch, kicks);
	if (gone)
		diag("flood: %llu ms from DEVICE_ID 0 to the end",
		     (unsigned long long)(t - gone));
	diag("flood ended: %s", why);
	return ok;
}

/*
 * Prelude, queue 0 set up in our (cleared) pages and enabled, DRIVER_OK:
 * the client runs, with nothing available yet.
 */
static bool running_queue(void)
{
	unsigned int i;
	uint32_t st;

	if (!prelude(true))
		return false;
	for (i = 0; i < NR_PAGES; i++)
		memset(pages[i], 0, page_size);
	memset(desc_va, 0, RING_SIZE * sizeof(struct ring_desc));
	/* We poll the used ring: no interrupts, please. */
	ring_avail()->flags = htole16(AVAIL_F_NO_INTERRUPT);
	if (ring_q) {
		/* Queue 0, idle, in one page: desc, avail, used. */
		STORE((uint16_t *)(pages[PG_IDLE] + 0x400),
		      htole16(AVAIL_F_NO_INTERRUPT));
		queue_setup(RING_SIZE, pages_pa[PG_IDLE],
			    pages_pa[PG_IDLE] + 0x400,
			    pages_pa[PG_IDLE] + 0x800);
		if (!select_queue(0) ||
		    !cmd_ok("QUEUE_ENABLE 0", VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE,
			    0, 0))
			return false;
	}
	if (flood_s)
		queue_setup(FLOOD_RING, pages_pa[flood_page()],
			    pages_pa[flood_page()] + FLOOD_AVAIL,
			    pages_pa[flood_page()] + FLOOD_USED);
	else if (compact_rings)
		queue_setup(RING_SIZE, pages_pa[PG_IDLE] + 0x200,
			    pages_pa[PG_IDLE] + 0x600, pages_pa[PG_IDLE] + 0xa00);
	else
		queue_setup(RING_SIZE, desc_pa, pages_pa[PG_AVAIL],
			    pages_pa[PG_USED]);
	if (!select_queue(ring_q) ||
	    !cmd_ok("QUEUE_ENABLE", VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE, ring_q, 0))
		return false;
	if (rd(qreg(VIRTIO_PCI_EPF_Q_ENABLED)) != 1) {
		diag("QUEUE_ENABLE %u: ENABLED reads %u", ring_q,
		     rd(qreg(VIRTIO_PCI_EPF_Q_ENABLED)));
		return false;
	}
	if (!cmd_ok("DRIVER_OK", VIRTIO_PCI_EPF_CMD_SET_STATUS,
		    S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, 0))
		return false;
	/* Give the client's first pass time: a failure is not ours yet. */
	sleep_ms(100);
	st = rd(VIRTIO_PCI_EPF_STATUS);
	if (st != (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)) {
		diag("DRIVER_OK: STATUS %#x with a valid, empty ring", st);
		return false;
	}
	return true;
}

/* After the malformed ring was kicked: DEVICE_NEEDS_RESET, nothing used. */
static bool expect_ring_failure(const char *what)
{
	uint32_t st;
	uint16_t used;

	if (!wait_reg(VIRTIO_PCI_EPF_STATUS, S_NEEDS_RESET, S_NEEDS_RESET,
		      WAIT_MS, &st)) {
		diag("%s: STATUS %#x after %d ms, no DEVICE_NEEDS_RESET (%#x); used idx %u",
		     what, st, WAIT_MS, S_NEEDS_RESET,
		     used_idx());
		return false;
	}
	used = used_idx();
	if (used) {
		diag("%s: STATUS %#x but the device used %u buffers", what, st,
		     used);
		return false;
	}
	return true;
}

static bool case_ring_self_loop(void)
{
	if (!running_queue())
		return false;
	set_desc(0, buf_pa(0), BUF_LEN, DESC_F_NEXT | DESC_F_WRITE, 0);
	make_available(0, 1);
	notify();
	return expect_ring_failure("descriptor 0 chained to itself");
}

/*
 * The device reaches a buffer when it copies it: the buffer must be one
 * it has to copy, readable on the queue the device reads (rpmsg's queue
 * 1, with a length rpmsg takes), writable on the one it writes.
 */
static bool case_ring_unreachable_buffer(void)
{
	if (!running_queue())
		return false;
	if (ring_q)
		set_desc(0, 0xfffffffff0000000ULL, BUF_LEN, 0, 0);
	else
		set_desc(0, 0xfffffffff0000000ULL, 4096, DESC_F_WRITE, 0);
	make_available(0, 1);
	notify();
	return expect_ring_failure("buffer at 0xfffffffff0000000");
}

static bool case_ring_avail_idx(void)
{
	if (!running_queue())
		return false;
	/* Descriptor 0 is fine: only the index is wrong. */
	set_desc(0, buf_pa(0), BUF_LEN, DESC_F_WRITE, 0);
	make_available(0, 1000);
	notify();
	return expect_ring_failure("avail idx 1000 on a ring of 8");
}

static bool case_ring_long_chain(void)
{
	unsigned int i;

	if (!running_queue())
		return false;
	for (i = 0; i < RING_SIZE; i++)
		set_desc(i, buf_pa(i), BUF_LEN, DESC_F_NEXT | DESC_F_WRITE,
			 (i + 1) % RING_SIZE);
	make_available(0, 1);
	notify();
	return expect_ring_failure("chain of all 8 descriptors, round and round");
}

/* Case 19: the device still works. */

static bool case_recovers(void)
{
	uint32_t enabled;

	if (!reset() || !select_queue(0))
		return false;
	enabled = rd(qreg(VIRTIO_PCI_EPF_Q_ENABLED));
	if (enabled) {
		diag("reset: queue 0 ENABLED still reads %u", enabled);
		return false;
	}
	return prelude(true);
}

/* Case 20: and serves a well-formed buffer. */

/* The device fills one well-formed buffer with random bytes. */
static bool serve_one(void)
{
	uint64_t deadline;
	uint32_t st, id, len;
	uint16_t used = 0;
	unsigned int i, nonzero = 0;
	uint8_t *buf = buf_va(0);

	if (!running_queue())
		return false;
	set_desc(0, buf_pa(0), BUF_LEN, DESC_F_WRITE, 0);
	make_available(0, 1);
	notify();
	deadline = now_ms() + WAIT_MS;
	while (now_ms() <= deadline) {
		used = used_idx();
		if (used)
			break;
		sleep_ms(1);
	}
	__sync_synchronize();	/* the index before the entry and the bytes */
	st = rd(VIRTIO_PCI_EPF_STATUS);
	id = le32toh(ring_used()->ring[0].id);
	len = le32toh(ring_used()->ring[0].len);
	for (i = 0; i < BUF_LEN; i++)
		nonzero += !!buf[i];
	if (used != 1 || id != 0 || len != BUF_LEN || !nonzero ||
	    (st & S_NEEDS_RESET)) {
		diag("buffer of %d bytes: used idx %u, id %u, len %u, %u bytes not 0, STATUS %#x",
		     BUF_LEN, used, id, len, nonzero, st);
		return false;
	}
	return true;
}

static bool case_serves(void)
{
	return serve_one();
}

#define STRADDLE_PAGES		2048
#define STRADDLE_BOUNDARY	BIT_ULL(20)

/*
 * Two pages, adjacent here and in physical memory, the second starting at
 * a 1 MiB boundary (the granule of the endpoint's ring windows), an odd
 * one if there is one; 0 if none was found among STRADDLE_PAGES pages.
 */
static uint64_t find_straddle(uint8_t **va)
{
	uint64_t pa, prev = 0, found = 0, entry;
	uint8_t *mem;
	unsigned int i;
	int fd;

	mem = mmap(NULL, STRADDLE_PAGES * page_size, PROT_READ | PROT_WRITE,
		   MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED || mlock(mem, STRADDLE_PAGES * page_size))
		return 0;
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	for (i = 0; i < STRADDLE_PAGES; i++, prev = pa) {
		uintptr_t v = (uintptr_t)(mem + i * page_size);

		mem[i * page_size] = 1;
		pa = 0;
		if (pread(fd, &entry, sizeof(entry),
			  (off_t)(v / page_size) * sizeof(entry)) == sizeof(entry) &&
		    (entry & BIT_ULL(63)))
			pa = (entry & (BIT_ULL(55) - 1)) * page_size;
		if (!i || !pa || pa != prev + page_size ||
		    pa % STRADDLE_BOUNDARY)
			continue;
		if (!found || pa % (2 * STRADDLE_BOUNDARY)) {
			found = pa;
			*va = mem + i * page_size;
		}
		if (found % (2 * STRADDLE_BOUNDARY))
			break;
	}
	close(fd);
	return found;
}

/*
 * The descriptor table straddles a 1 MiB boundary: the device maps it with
 * a window of its own extent and serves the buffer.
 */
static bool case_ring_straddles(void)
{
	uint8_t *boundary_va = NULL;
	uint64_t boundary;
	size_t half = RING_SIZE * sizeof(struct ring_desc) / 2;
	bool ok;

	if (ntb_mode) {
		skip_reason = "physical memory, not a window of an NTB";
		return true;
	}
	boundary = find_straddle(&boundary_va);
	if (!boundary) {
		skip_reason = "no two pages here and in memory across a 1 MiB boundary";
		return true;
	}
	diag("descriptor table at %#llx, across %#llx",
	     (unsigned long long)(boundary - half),
	     (unsigned long long)boundary);
	desc_va = boundary_va - half;
	desc_pa = boundary - half;
	ok = serve_one();
	desc_va = pages[PG_DESC];
	desc_pa = pages_pa[PG_DESC];
	return ok;
}

/* Cases 21 to 26: messages vhost_rpmsg must give back unread, and log. */

struct rpmsg_hdr {
	uint32_t src;
	uint32_t dst;
	uint32_t reserved;
	uint16_t len;
	uint16_t flags;
};	/* 16 bytes, no padding */

/*
 * The buffer that descriptor 0 heads, made available: the device must give
 * it back unread (used length 0) and keep running.
 */
static bool given_back(const char *what)
{
	uint64_t deadline;
	uint32_t st, ulen;
	uint16_t used = 0;

	make_available(0, 1);
	notify();
	deadline = now_ms() + WAIT_MS;
	while (now_ms() <= deadline && !(used = used_idx()))
		sleep_ms(1);
	__sync_synchronize();	/* the index before the entry */
	ulen = le32toh(ring_used()->ring[0].len);
	st = rd(VIRTIO_PCI_EPF_STATUS);
	if (used != 1 || ulen || (st & S_NEEDS_RESET)) {
		diag("%s: used idx %u, used length %u, STATUS %#x", what,
		     used, ulen, st);
		return false;
	}
	return true;
}

/*
 * Make a buffer of @size bytes available on the message queue, starting
 * with a header to @dst saying @len bytes and followed by @payload: the
 * device must give it back unread (used length 0) and keep running.
 */
static bool rpmsg_given_back(const char *what, uint32_t size, uint32_t dst,
			     uint16_t len, const void *payload,
			     uint32_t payload_len)
{
	struct rpmsg_hdr h = {
		.src = htole32(0x600),
		.dst = htole32(dst),
		.len = htole16(len),
	};

	if (!running_queue())
		return false;
	memcpy(buf_va(0), &h, sizeof(h));
	if (payload_len)
		memcpy(buf_va(0) + sizeof(h), payload, payload_len);
	set_desc(0, buf_pa(0), size, 0, 0);
	return given_back(what);
}

static bool case_rpmsg_short(void)
{
	return rpmsg_given_back("8-byte buffer", 8, 0x400, 0, NULL, 0);
}

static bool case_rpmsg_len_beyond(void)
{
	return rpmsg_given_back("length 100 in 40 bytes", 40, 0x400, 100,
				NULL, 0);
}

static bool case_rpmsg_long(void)
{
	return rpmsg_given_back("1024-byte buffer", 1024, 0x400, 16, NULL, 0);
}

static bool case_rpmsg_no_endpoint(void)
{
	return rpmsg_given_back("to 0x999", 20, 0x999, 4, "abcd", 4);
}

static bool case_rpmsg_ns_short(void)
{
	return rpmsg_given_back("10-byte announcement", 26, RPMSG_NS_ADDR, 10,
				"0123456789", 10);
}

static bool case_rpmsg_ns_nameless(void)
{
	uint8_t ns[40] = { 0 };

	ns[32] = 0x00;	/* address 0x700, little-endian */
	ns[33] = 0x07;
	return rpmsg_given_back("nameless announcement", 56, RPMSG_NS_ADDR,
				sizeof(ns), ns, sizeof(ns));
}

/*
 * vhost_netdev: one transmit buffer of @size bytes (readable; with
 * @writable, a writable descriptor of 64 bytes chained after it) holding
 * @hdr and a 60-byte broadcast IPv4/UDP frame: the device must give it back
 * (used length 0) and keep running. Whether it counted the packet as
 * malformed or delivered it, ethtool -S on the endpoint says.
 */
static bool net_given_back(const char *what, uint32_t size, bool writable,
			   const struct net_hdr *hdr)
{
	if (!running_queue())
		return false;
	memcpy(buf_va(0), hdr, sizeof(*hdr));
	memcpy(buf_va(0) + sizeof(*hdr), net_frame, sizeof(net_frame));
	if (writable) {
		set_desc(0, buf_pa(0), size, DESC_F_NEXT, 1);
		set_desc(1, buf_pa(1), BUF_LEN, DESC_F_WRITE, 0);
	} else {
		set_desc(0, buf_pa(0), size, 0, 0);
	}
	return given_back(what);
}

static bool case_net_good(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("well-formed", NET_FRAME_LEN, false, &h);
}

static bool case_net_short(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("8 bytes", 8, false, &h);
}

static bool case_net_header_only(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("a header, no frame", sizeof(h), false, &h);
}

static bool case_net_zero_length(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("0 bytes", 0, false, &h);
}

static bool case_net_over_64k(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("70000 bytes", 70000, false, &h);
}

static bool case_net_writable(void)
{
	struct net_hdr h = { 0 };

	return net_given_back("a writable part", NET_FRAME_LEN, true, &h);
}

static bool case_net_unknown_flag(void)
{
	struct net_hdr h = { .flags = 0x80 };

	return net_given_back("flag 0x80", NET_FRAME_LEN, false, &h);
}

static bool case_net_csum_beyond(void)
{
	struct net_hdr h = {
		.flags = NET_HDR_F_NEEDS_CSUM,
		.csum_start = htole16(34),
		.csum_offset = htole16(2000),
	};

	return net_given_back("csum 34+2000", NET_FRAME_LEN, false, &h);
}

static bool case_net_gso_size_0(void)
{
	struct net_hdr h = {
		.gso_type = NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(54),
	};

	return net_given_back("gso_size 0", NET_FRAME_LEN, false, &h);
}

static bool case_net_hdr_len_beyond(void)
{
	struct net_hdr h = {
		.gso_type = NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(5000),
		.gso_size = htole16(1448),
	};

	return net_given_back("hdr_len 5000", NET_FRAME_LEN, false, &h);
}

static bool case_net_ufo(void)
{
	struct net_hdr h = {
		.gso_type = NET_HDR_GSO_UDP,
		.gso_size = htole16(1400),
	};

	return net_given_back("UFO", NET_FRAME_LEN, false, &h);
}

static bool case_net_tso6(void)
{
	struct net_hdr h = {
		.gso_type = NET_HDR_GSO_TCPV6,
		.gso_size = htole16(1400),
	};

	return net_given_back("TSO6", NET_FRAME_LEN, false, &h);
}

static bool case_net_ecn(void)
{
	struct net_hdr h = {
		.gso_type = NET_HDR_GSO_TCPV4 | NET_HDR_GSO_ECN,
		.gso_size = htole16(1400),
	};

	return net_given_back("TSO4 with ECN", NET_FRAME_LEN, false, &h);
}

/* TSO4 on a UDP frame: virtio_net_hdr_to_skb() finds no TCP header. */
static bool case_net_tso4_not_tcp(void)
{
	struct net_hdr h = {
		.flags = NET_HDR_F_NEEDS_CSUM,
		.gso_type = NET_HDR_GSO_TCPV4,
		.gso_size = htole16(1400),
		.csum_start = htole16(34),
		.csum_offset = htole16(6),
	};

	return net_given_back("TSO4 of a UDP frame", NET_FRAME_LEN, false, &h);
}

enum need { ANY, RING, RNG, RPMSG, NET, NTB };

static const struct test_case {
	const char *name;
	bool (*run)(void);
	enum need need;	/* a ring client, vhost_rng or vhost_rpmsg */
} cases[] = {
	{ "unknown command 0x77: EINVAL, DEVICE_NEEDS_RESET",
	  case_unknown_cmd, ANY },
	{ "CONFIG_WRITE of 3 bytes: EINVAL, DEVICE_NEEDS_RESET",
	  case_config_write_len3, ANY },
	{ "CONFIG_WRITE of 4 bytes at 0x3ff: EINVAL, DEVICE_NEEDS_RESET",
	  case_config_write_beyond, ANY },
	{ "QUEUE_ENABLE of queue 40: EINVAL, DEVICE_NEEDS_RESET",
	  case_queue_40, ANY },
	{ "QUEUE_SELECT of queue 40: EINVAL, DEVICE_NEEDS_RESET",
	  case_select_40, ANY },
	{ "QUEUE_ENABLE of a queue not selected: EINVAL, DEVICE_NEEDS_RESET",
	  case_queue_not_selected, ANY },
	{ "QUEUE_ENABLE with SIZE 3: EINVAL, DEVICE_NEEDS_RESET",
	  case_queue_size_3, ANY },
	{ "QUEUE_ENABLE with SIZE above SIZE_MAX: EINVAL, DEVICE_NEEDS_RESET",
	  case_queue_size_big, ANY },
	{ "QUEUE_ENABLE with a misaligned DESC: EINVAL, DEVICE_NEEDS_RESET",
	  case_desc_misaligned, ANY },
	{ "QUEUE_ENABLE with DESC out of reach: EINVAL, DEVICE_NEEDS_RESET",
	  case_desc_unreachable, ANY },
	{ "QUEUE_ENABLE with a DEVICE ring that wraps: EINVAL, DEVICE_NEEDS_RESET",
	  case_used_wraps, ANY },
	{ "NTB: QUEUE_ENABLE with DESC past window 0: EINVAL, DEVICE_NEEDS_RESET",
	  case_ntb_desc_past_window, NTB },
	{ "NTB: QUEUE_ENABLE with DRIVER in no window: EINVAL, DEVICE_NEEDS_RESET",
	  case_ntb_avail_no_window, NTB },
	{ "QUEUE_ENABLE before FEATURES_OK: EINVAL, DEVICE_NEEDS_RESET",
	  case_queue_before_features_ok, ANY },
	{ "SET_STATUS 0x1ff: EINVAL",
	  case_status_too_big, ANY },
	{ "CMD_SEQ skipping 4 numbers: answered, and the next one too",
	  case_seq_skip, ANY },
	{ "ring: descriptor looping to itself: DEVICE_NEEDS_RESET",
	  case_ring_self_loop, RING },
	{ "ring: buffer out of reach: DEVICE_NEEDS_RESET",
	  case_ring_unreachable_buffer, RING },
	{ "ring: avail idx beyond the ring size: DEVICE_NEEDS_RESET",
	  case_ring_avail_idx, RING },
	{ "ring: chain longer than the ring: DEVICE_NEEDS_RESET",
	  case_ring_long_chain, RING },
	{ "after all that: reset to 0, FEATURES_OK again",
	  case_recovers, ANY },
	{ "ring: a well-formed buffer is filled with random bytes",
	  case_serves, RNG },
	{ "ring: a descriptor table across a 1 MiB boundary is served",
	  case_ring_straddles, RNG },
	{ "rpmsg: a buffer shorter than a header given back unread",
	  case_rpmsg_short, RPMSG },
	{ "rpmsg: a payload length beyond the buffer given back unread",
	  case_rpmsg_len_beyond, RPMSG },
	{ "rpmsg: a buffer longer than 512 bytes given back unread",
	  case_rpmsg_long, RPMSG },
	{ "rpmsg: a message to no endpoint given back",
	  case_rpmsg_no_endpoint, RPMSG },
	{ "rpmsg: a 10-byte announcement given back",
	  case_rpmsg_ns_short, RPMSG },
	{ "rpmsg: a nameless announcement given back",
	  case_rpmsg_ns_nameless, RPMSG },
	{ "net: a well-formed frame is taken",
	  case_net_good, NET },
	{ "net: a buffer shorter than a header given back",
	  case_net_short, NET },
	{ "net: a header without a frame given back",
	  case_net_header_only, NET },
	{ "net: a zero-length buffer given back",
	  case_net_zero_length, NET },
	{ "net: a chain beyond 64 KiB given back",
	  case_net_over_64k, NET },
	{ "net: a transmit buffer with a writable part given back",
	  case_net_writable, NET },
	{ "net: an unknown header flag given back",
	  case_net_unknown_flag, NET },
	{ "net: csum_start + csum_offset beyond the frame given back",
	  case_net_csum_beyond, NET },
	{ "net: TSO with gso_size 0 given back",
	  case_net_gso_size_0, NET },
	{ "net: hdr_len beyond the frame given back",
	  case_net_hdr_len_beyond, NET },
	{ "net: UFO, not negotiated, given back",
	  case_net_ufo, NET },
	{ "net: TSO6, not negotiated, given back",
	  case_net_tso6, NET },
	{ "net: ECN, not negotiated, given back",
	  case_net_ecn, NET },
	{ "net: TSO4 of a frame without TCP given back",
	  case_net_tso4_not_tcp, NET },
};

#define NR_CASES	((int)ARRAY_SIZE(cases))

/* Give up the whole run: the exit status of main(). */
#define bail_out(fmt, ...)	\
	(printf("Bail out! " fmt "\n", ##__VA_ARGS__), KSFT_FAIL)

static bool read_hex(const char *bdf, const char *attr, unsigned int *val)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fscanf(f, "%x", val) == 1;
	fclose(f);
	return ok;
}

static bool has_driver(const char *bdf, char *name, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(name, size, "%s", slash ? slash + 1 : target);
	return true;
}

/* The first 1234:5600 function with no driver, into @bdf. */
static bool find_function(char *bdf, size_t size)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	unsigned int vendor, device;
	char drv[PATH_MAX];
	bool found = false;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		found = read_hex(de->d_name, "vendor", &vendor) &&
			read_hex(de->d_name, "device", &device) &&
			vendor == TEST_VENDOR && device == TEST_DEVICE &&
			!has_driver(de->d_name, drv, sizeof(drv));
		if (found)
			snprintf(bdf, size, "%s", de->d_name);
	}
	closedir(dir);
	return found;
}

/*
 * mmap @len bytes at @off of the resource file @path (all of it from @off
 * if @len is 0, and *@size says how much); NULL on failure.
 */
static uint32_t *map_file(const char *path, off_t off, size_t len,
			  size_t *size)
{
	struct stat sb;
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		diag("open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) || sb.st_size <= off ||
	    (len && (off_t)len > sb.st_size - off)) {
		diag("%s: no %zu bytes at %#llx", path, len,
		     (unsigned long long)off);
		close(fd);
		return NULL;
	}
	*size = len ?: (size_t)(sb.st_size - off);
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	close(fd);
	if (p == MAP_FAILED) {
		diag("mmap %s: %s", path, strerror(errno));
		return NULL;
	}
	return p;
}

/* mmap resource@bar of @bdf whole; NULL on failure. */
static uint32_t *map_bar(const char *bdf, unsigned int bar, size_t *size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u",
		 bdf, bar);
	return map_file(path, 0, 0, size);
}

/* FILE:OFFSET, mapped for @len bytes from OFFSET; NULL on failure. */
static uint8_t *map_arg(const char *arg, size_t len)
{
	char path[PATH_MAX], *colon;
	size_t size;

	snprintf(path, sizeof(path), "%s", arg);
	colon = strrchr(path, ':');
	if (!colon) {
		diag("%s: not FILE:OFFSET", arg);
		return NULL;
	}
	*colon = 0;
	return (uint8_t *)map_file(path, strtoull(colon + 1, NULL, 0), len,
				   &size);
}

/*
 * Over NTB: the first register block of the device side's window 0 (at
 * @arg) that carries a device.
 */
static bool ntb_find_block(const char *arg)
{
	uint8_t *win = map_arg(arg, NTB_HDR_SIZE * (1 + NTB_MAX_BLOCKS));
	uint32_t nr, size, slot;

	if (!win)
		return false;
	nr = le32toh(LOAD((uint32_t *)(win + NTB_HDR_NR_BLOCKS)));
	size = le32toh(LOAD((uint32_t *)(win + NTB_HDR_BLOCK_SIZE)));
	diag("device side's header: %u register blocks of %u bytes", nr, size);
	if (!nr || nr > NTB_MAX_BLOCKS || size != NTB_HDR_SIZE)
		return false;
	for (slot = 0; slot < nr; slot++) {
		regs = (uint32_t *)(win + NTB_HDR_SIZE * (1 + slot));
		regs_size = size;
		if (rd(VIRTIO_PCI_EPF_MAGIC_OFF) == VIRTIO_PCI_EPF_MAGIC &&
		    rd(VIRTIO_PCI_EPF_DEVICE_ID)) {
			diag("register block %u", slot);
			return true;
		}
	}
	regs = NULL;
	return false;
}

/* The doorbell, if the device offers one. */
static bool map_doorbell(const char *bdf)
{
	uint32_t bar = rd(VIRTIO_PCI_EPF_DB_BAR);
	uint32_t off = rd(VIRTIO_PCI_EPF_DB_OFFSET);
	uint32_t *base = regs;
	size_t size = regs_size;

	if (bar == VIRTIO_PCI_EPF_DB_NONE)
		return true;
	if (bar == VIRTIO_PCI_EPF_DB_NTB && ntb_mode) {
		diag("doorbells: the NTB's, out of reach; the device looks once a second");
		return true;
	}
	if (bar > 5) {
		diag("doorbell in BAR %u", bar);
		return false;
	}
	if (bar != regs_bar) {
		base = map_bar(bdf, bar, &size);
		if (!base)
			return false;
	}
	if (off % 4 || size < 4 || off > size - 4) {
		diag("doorbell at BAR%u+%#x is outside the BAR (%zu bytes)",
		     bar, off, size);
		return false;
	}
	doorbell = base + off / 4;
	doorbell_data = rd(VIRTIO_PCI_EPF_DB_DATA);
	return true;
}

/*
 * Announce a driver with a new epoch, as virtio_pci_epf does at probe,
 * and wait for the device to acknowledge it.
 */
static bool announce(void)
{
	uint32_t epoch = ((uint32_t)getpid() << 16 ^ (uint32_t)time(NULL)) | 1;
	uint32_t ack;

	if (epoch == rd(VIRTIO_PCI_EPF_DRIVER_EPOCH))
		epoch += 2;
	wr(VIRTIO_PCI_EPF_DRIVER_EPOCH, epoch);
	ring_doorbell();
	if (!wait_reg(VIRTIO_PCI_EPF_EPOCH_ACK, ~0U, epoch, WAIT_MS, &ack)) {
		diag("DRIVER_EPOCH %#x: EPOCH_ACK %#x after %d ms", epoch, ack,
		     WAIT_MS);
		return false;
	}
	return true;
}

/*
 * Over NTB: NR_PAGES pages of the driver side's window 0 (at @arg) after
 * its header, and their link addresses.
 */
static bool ntb_ring_pages(const char *arg)
{
	uint8_t *mem;
	unsigned int i;

	page_size = sysconf(_SC_PAGESIZE);
	mem = map_arg(arg, NTB_HDR_SIZE + NR_PAGES * page_size);
	if (!mem)
		return false;
	for (i = 0; i < NR_PAGES; i++) {
		pages[i] = mem + NTB_HDR_SIZE + i * page_size;
		pages_pa[i] = LINK_ADDR(0, NTB_HDR_SIZE + i * page_size);
		memset(pages[i], 0, page_size);
	}
	desc_va = pages[PG_DESC];
	desc_pa = pages_pa[PG_DESC];
	diag("rings at link addresses %#llx to %#llx",
	     (unsigned long long)pages_pa[0],
	     (unsigned long long)pages_pa[NR_PAGES - 1]);
	return true;
}

/* NR_PAGES locked pages and their physical addresses. */
static bool alloc_ring_pages(void)
{
	uint8_t *mem;
	uint64_t entry;
	unsigned int i;
	int fd;

	page_size = sysconf(_SC_PAGESIZE);
	mem = mmap(NULL, NR_PAGES * page_size, PROT_READ | PROT_WRITE,
		   MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		diag("mmap of ring pages: %s", strerror(errno));
		return false;
	}
	if (mlock(mem, NR_PAGES * page_size)) {
		diag("mlock: %s", strerror(errno));
		return false;
	}
	memset(mem, 0, NR_PAGES * page_size);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		diag("open /proc/self/pagemap: %s", strerror(errno));
		return false;
	}
	for (i = 0; i < NR_PAGES; i++) {
		uintptr_t va = (uintptr_t)(mem + i * page_size);
		off_t off = (off_t)(va / page_size) * sizeof(entry);

		pages[i] = mem + i * page_size;
		if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry)) {
			diag("pagemap of %p: %s", pages[i], strerror(errno));
			close(fd);
			return false;
		}
		pages_pa[i] = (entry & (BIT_ULL(55) - 1)) * page_size;
		if (!(entry & BIT_ULL(63)) || !pages_pa[i]) {
			diag("page %u at %p: pagemap entry %#llx: not present or no PFN (root?)",
			     i, pages[i], (unsigned long long)entry);
			close(fd);
			return false;
		}
	}
	close(fd);
	desc_va = pages[PG_DESC];
	desc_pa = pages_pa[PG_DESC];
	diag("rings: desc %#llx, avail %#llx, used %#llx, buffers %#llx",
	     (unsigned long long)pages_pa[PG_DESC],
	     (unsigned long long)pages_pa[PG_AVAIL],
	     (unsigned long long)pages_pa[PG_USED],
	     (unsigned long long)buf_pa(0));
	return true;
}

/* Cases for another client are left out of the plan. */
static bool applies(const struct test_case *c, uint32_t device)
{
	switch (c->need) {
	case RING:
		return device == VIRTIO_ID_RNG || device == VIRTIO_ID_RPMSG ||
		       device == VIRTIO_ID_NET;
	case RNG:
		return device == VIRTIO_ID_RNG;
	case RPMSG:
		return device == VIRTIO_ID_RPMSG;
	case NET:
		return device == VIRTIO_ID_NET;
	case NTB:
		return ntb_mode;
	default:
		return true;
	}
}

int main(int argc, char **argv)
{
	char bdf[256] = "", drv[PATH_MAX];
	uint32_t magic, version, device;
	int i, n = 0, planned = 0, failed = 0, passed = 0, skipped = 0;
	bool ok;
	unsigned int hold = 0, trickle_ms = 0, trickle_n = 0;
	bool clean;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n");
	if (argc == 4 && !strcmp(argv[1], "--ntb")) {
		ntb_mode = true;
		if (!ntb_find_block(argv[2]))
			return bail_out("%s: no register block with a device", argv[2]);
		device = rd(VIRTIO_PCI_EPF_DEVICE_ID);
		goto found;
	}
	if (argc > 2 && !strcmp(argv[1], "--hold")) {
		hold = strtoul(argv[2], NULL, 0);
		argc -= 2;
		argv += 2;
	} else if (argc > 3 && !strcmp(argv[1], "--trickle")) {
		trickle_ms = strtoul(argv[2], NULL, 0);
		trickle_n = strtoul(argv[3], NULL, 0);
		argc -= 3;
		argv += 3;
	} else if (argc > 2 && !strcmp(argv[1], "--flood")) {
		flood_s = strtoul(argv[2], NULL, 0);
		argc -= 2;
		argv += 2;
		if (argc > 2 && !strcmp(argv[1], "--bytes")) {
			flood_len = strtoul(argv[2], NULL, 0);
			argc -= 2;
			argv += 2;
		}
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return bail_out("usage: %s " USAGE, argv[0]);
	if (argc == 2) {
		snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	} else if (!find_function(bdf, sizeof(bdf))) {
		printf("1..0 # SKIP no %04x:%04x function without a driver\n",
		       TEST_VENDOR, TEST_DEVICE);
		return KSFT_SKIP;
	}
	diag("function %s", bdf);
	if (strchr(bdf, '/'))
		return bail_out("%s is not a PCI device name", bdf);
	if (has_driver(bdf, drv, sizeof(drv)))
		return bail_out("%s is bound to %s: unbind it first", bdf, drv);
	/* The register block is the first BAR that starts with the magic. */
	magic = 0;
	version = 0;
	for (regs_bar = 0; regs_bar < 6; regs_bar++) {
		regs = map_bar(bdf, regs_bar, &regs_size);
		if (!regs)
			continue;
		if (regs_size >= VIRTIO_PCI_EPF_REGS_MIN) {
			magic = rd(VIRTIO_PCI_EPF_MAGIC_OFF);
			version = rd(VIRTIO_PCI_EPF_VERSION_OFF);
			if (magic == VIRTIO_PCI_EPF_MAGIC)
				break;
		}
		munmap(regs, regs_size);
		regs = NULL;
	}
	if (!regs)
		return bail_out("no BAR of %s starts with the magic", bdf);
	if (version != VIRTIO_PCI_EPF_VERSION)
		return bail_out("BAR %u: VERSION %u, expected %d", regs_bar,
				version, VIRTIO_PCI_EPF_VERSION);
	diag("registers in BAR %u", regs_bar);
	device = rd(VIRTIO_PCI_EPF_DEVICE_ID);
found:
	diag("DEVICE_ID %u VENDOR_ID %#x DEVICE_FEATURES %#llx NUM_QUEUES %u",
	     device, rd(VIRTIO_PCI_EPF_VENDOR_ID),
	     (unsigned long long)rd64(VIRTIO_PCI_EPF_DEVICE_FEATURES),
	     rd(VIRTIO_PCI_EPF_NUM_QUEUES));
	diag("NOTIFY_OFF %#x CONFIG_OFF %#x STATUS %#x CMD_SEQ %u CMD_DONE %u DB_BAR %#x",
	     rd(VIRTIO_PCI_EPF_NOTIFY_OFF), rd(VIRTIO_PCI_EPF_CONFIG_OFF),
	     rd(VIRTIO_PCI_EPF_STATUS), seq, rd(VIRTIO_PCI_EPF_CMD_DONE),
	     rd(VIRTIO_PCI_EPF_DB_BAR));
	if (!device)
		return bail_out("DEVICE_ID 0: no vhost client bound on the endpoint");
	if (!map_doorbell(bdf))
		return bail_out("unusable doorbell");
	if (!announce())
		return bail_out("the device did not acknowledge the driver's epoch");
	seq = rd(VIRTIO_PCI_EPF_CMD_SEQ);
	if (ntb_mode ? !ntb_ring_pages(argv[3]) : !alloc_ring_pages())
		return bail_out("no ring memory with known bus addresses");
	if (device == VIRTIO_ID_RPMSG) {
		ring_q = 1;	/* the driver side's messages */
		extra_features = VIRTIO_RPMSG_F_NS;
		if (trickle_n)
			extra_features |= BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	} else if (device == VIRTIO_ID_NET && !trickle_n) {
		ring_q = 1;	/* the driver side's transmitq */
		extra_features = NET_F_CSUM | NET_F_HOST_TSO4;
	} else if (trickle_n) {
		return bail_out("--trickle is for vhost_rpmsg (device %u)",
				VIRTIO_ID_RPMSG);
	}
	if (flood_s) {
		if (device == VIRTIO_ID_NET)
			flood_len = NET_FRAME_LEN;
		else if (device != VIRTIO_ID_RNG)
			return bail_out("--flood is for vhost_rng or vhost_netdev, not device %u",
					device);
		if (page_size < 4096)
			return bail_out("--flood needs pages of 4 KiB or more");
		if (!flood_len || flood_len > page_size)
			return bail_out("--bytes: 1 to %zu", page_size);
		extra_features |= BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
		hold = 1;
	}
	if (trickle_n) {
		hold = 1;
		compact_rings = true;
	}

	for (i = 0; i < NR_CASES; i++)
		planned += !hold && applies(&cases[i], device);
	printf("1..%d\n", planned);
	for (i = 0; i < NR_CASES && !hold; i++) {
		if (!applies(&cases[i], device))
			continue;
		skip_reason = NULL;
		ok = cases[i].run();
		if (ok && skip_reason) {
			printf("ok %d %s # SKIP %s\n", ++n, cases[i].name,
			       skip_reason);
			skipped++;
		} else if (ok) {
			printf("ok %d %s\n", ++n, cases[i].name);
			passed++;
		} else {
			printf("not ok %d %s\n", ++n, cases[i].name);
			failed++;
		}
	}

	if (flood_s) {
		if (running_queue() && run_flood(flood_s))
			passed++;
		else
			failed++;
	} else if (trickle_n) {
		if (running_queue() && trickle(trickle_ms, trickle_n))
			passed++;
		else
			failed++;
	} else if (hold) {
		diag("holding DRIVER_OK with no buffer for %u s", hold);
		if (running_queue()) {
			sleep_ms(hold * 1000);
			passed++;
		} else {
			failed++;
		}
	}

	/*
	 * Leave the endpoint as a driver would find it; a flood may end with
	 * the client gone, and no device to reset.
	 */
	if (flood_s && !rd(VIRTIO_PCI_EPF_DEVICE_ID)) {
		diag("DEVICE_ID 0: no device left to reset");
		clean = true;
	} else {
		clean = reset();
	}
	if (!clean)
		diag("final reset failed: the endpoint is left as it is");
	diag("Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0",
	     passed, failed, skipped);
	return failed || !clean ? KSFT_FAIL : KSFT_PASS;
}
