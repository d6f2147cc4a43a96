// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_msg: send, check and time rpmsg messages through rpmsg_char.
 *
 * Usage:
 *   rpmsg_msg ept CTRL SRC DST CMD [ARG...]
 *	make an endpoint SRC -> DST with RPMSG_CREATE_EPT_IOCTL on CTRL
 *	(/dev/rpmsg_ctrlN), run CMD on it, destroy it
 *   rpmsg_msg dev DEV CMD [ARG...]
 *	run CMD on DEV, the /dev/rpmsgN of a channel
 *   rpmsg_msg create-dev|release-dev CTRL NAME SRC DST
 *	RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL: a channel
 *   rpmsg_msg stale CTRL SECONDS
 *	open CTRL, wait SECONDS (the test takes its rpmsg device away
 *	meanwhile), then ask it for an endpoint: that must fail
 *
 * CMD:
 *   send N [SEED]	N messages of mixed sizes, each with a sequence
 *			number and a checksum; stop at the first error
 *   recv N [SEED]	expect exactly those N messages, once each, in
 *			order, intact; report the rate
 *   recv-lossy SEED [SECONDS [FILE]]
 *			read until SECONDS (5) of silence after a
 *			message, 60 s without any, or an error (the
 *			endpoint went); a message may be missing (lost
 *			in a reset) but never duplicated, reordered or
 *			damaged; with FILE, keep there the number of
 *			messages received so far, updated every 100
 *			messages and at the end
 *   echo N		send back each of N messages
 *   ping N SIZE	N round trips of SIZE bytes against echo: latency
 *   await SECONDS	wait that long for one message, of any content
 *   serve		answer a "bench" on the other side, until it ends
 *   bench N SIZE...	against "serve": for each SIZE, the median round
 *			trip of N messages, and the rate of 5 N messages
 *			each way, from the start of the flood to the
 *			receiver's count of all of them
 *   raw HEX		send one message of the given bytes
 *   big SIZE		send one message of SIZE bytes: print the errno
 *   trybig SIZE	the same, non-blocking (O_NONBLOCK: rpmsg_trysend())
 *   pollout N		N times: fill the other side's buffers with
 *			non-blocking sends, then poll() for POLLOUT (10 s
 *			at most) and send once more, which must succeed
 *
 * Addresses are numbers or "any". Output is one line of results; the
 * exit status is 0 on success, 1 on a failed check, 2 on bad usage.
 *
 * With RPMSG_MSG_READY=FILE in the environment, FILE is made once the
 * endpoint is open, before CMD runs: a test starts the sender once its
 * receiver's FILE is there. (The /dev/rpmsgN shows in sysfs before it is
 * open, and a message sent to it then finds no recipient.)
 */

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/rpmsg.h>

#define MAX_MSG		496	/* virtio_rpmsg_bus: 512-byte buffers */
#define HDR_LEN		12
#define ADDR_ANY	0xffffffffu
#define RECV_TIMEOUT_MS	60000
#define PROGRESS_EVERY	100

struct msg_hdr {
	uint32_t seq;
	uint32_t len;		/* payload bytes after the header */
	uint32_t sum;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s >> 32;
}

/* The checksum of a payload (FNV-1a). */
static uint32_t payload_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 2166136261u;

	while (len--)
		sum = (sum ^ *p++) * 16777619u;
	return sum;
}

/* Message @seq of stream @seed: its length and payload. */
static size_t make_msg(uint32_t seed, uint32_t seq, uint8_t *buf)
{
	uint64_t s = ((uint64_t)seed << 32 | seq) * 0x9e3779b97f4a7c15ull | 1;
	struct msg_hdr h;
	size_t len, i;

	/* Mixed sizes: mostly small, some at the limit. */
	switch (rnd(&s) % 4) {
	case 0:
		len = 0;
		break;
	case 1:
		len = rnd(&s) % 64;
		break;
	case 2:
		len = MAX_MSG - HDR_LEN;
		break;
	default:
		len = rnd(&s) % (MAX_MSG - HDR_LEN + 1);
	}
	for (i = 0; i < len; i++)
		buf[HDR_LEN + i] = rnd(&s);
	h.seq = seq;
	h.len = len;
	h.sum = payload_sum(buf + HDR_LEN, len) ^ seq;
	memcpy(buf, &h, sizeof(h));
	return HDR_LEN + len;
}

/* A message whose length and checksum match its header. */
static bool self_consistent(const uint8_t *buf, int r)
{
	struct msg_hdr h;

	memcpy(&h, buf, sizeof(h));
	return h.len == (uint32_t)(r - HDR_LEN) &&
	       (payload_sum(buf + HDR_LEN, h.len) ^ h.seq) == h.sum;
}

static int read_msg(int fd, uint8_t *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (!r)
		return -ETIMEDOUT;
	r = read(fd, buf, size);
	return r < 0 ? -errno : r;
}

static int cmd_send(int fd, unsigned long n, uint32_t seed)
{
	uint8_t buf[MAX_MSG];
	unsigned long i;

	for (i = 0; i < n; i++) {
		size_t len = make_msg(seed, i, buf);

		if (write(fd, buf, len) != (ssize_t)len) {
			printf("sent %lu of %lu: %s\n", i, n, strerror(errno));
			return 1;
		}
	}
	printf("sent %lu\n", n);
	return 0;
}

/*
 * Replace @path by one holding @got: a reader sees the old number or the
 * new one, never a part.
 */
static void write_progress(const char *path, unsigned long got)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%lu\n", got);
	if (!fclose(f))
		rename(tmp, path);
}

/*
 * Receive @n messages of stream @seed, or with @lossy until @silence_ms
 * without one, counting into @progress (if not NULL). The silence counts
 * from the first message: a sender started late, on a loaded machine,
 * must not find the receiver gone.
 */
static int cmd_recv(int fd, unsigned long n, uint32_t seed, bool lossy,
		    int silence_ms, const char *progress)
{
	uint8_t buf[MAX_MSG + 1], want[MAX_MSG];
	unsigned long got = 0, missing = 0;
	uint64_t t0 = 0, t1 = 0;
	uint32_t next = 0;
	struct msg_hdr h;
	int r, end = 0;

	while (lossy || got < n) {
		r = read_msg(fd, buf, sizeof(buf),
			     lossy && got ? silence_ms : RECV_TIMEOUT_MS);
		if (r < 0 && lossy) {
			end = -r;	/* silence, or the endpoint went */
			break;
		}
		if (r < 0) {
			printf("received %lu of %lu, then: %s\n", got, n,
			       strerror(-r));
			return 1;
		}
		if (!got)
			t0 = now_ns();
		t1 = now_ns();
		if (r < HDR_LEN) {
			printf("message %lu: %d bytes, shorter than a header\n",
			       got, r);
			return 1;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.seq < next) {
			printf("message %u again or out of order after %u\n",
			       h.seq, next - 1);
			return 1;
		}
		if (h.seq > next && !lossy) {
			printf("message %u missing (got %u)\n", next, h.seq);
			return 1;
		}
		missing += h.seq - next;
		if ((size_t)r != make_msg(seed, h.seq, want) ||
		    memcmp(buf, want, r)) {
			printf("message %u damaged (%d bytes, %s)\n", h.seq, r,
			       self_consistent(buf, r) ?
			       "intact: of another stream" : "bytes corrupted");
			return 1;
		}
		next = h.seq + 1;
		if (!(++got % PROGRESS_EVERY))
			write_progress(progress, got);
	}
	write_progress(progress, got);
	if (lossy) {
		printf("received %lu, up to message %u, %lu missing, no duplicate; then: %s\n",
		       got, next ? next - 1 : 0, missing, strerror(end));
		return 0;
	}
	printf("received %lu in order and intact, %.0f msg/s\n", got,
	       got > 1 ? (got - 1) * 1e9 / (double)(t1 - t0) : 0.0);
	return 0;
}

static int cmd_echo(int fd, unsigned long n)
{
	uint8_t buf[MAX_MSG];
	unsigned long i;
	int r;

	for (i = 0; i < n; i++) {
		r = read_msg(fd, buf, sizeof(buf), RECV_TIMEOUT_MS);
		if (r < 0 || write(fd, buf, r) != r) {
			printf("echoed %lu of %lu: %s\n", i, n,
			       strerror(r < 0 ? -r : errno));
			return 1;
		}
	}
	printf("echoed %lu\n", n);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_ping(int fd, unsigned long n, size_t size)
{
	uint8_t buf[MAX_MSG], in[MAX_MSG + 1];
	uint64_t *rtt, t, total = 0;
	unsigned long i;
	int r;

	if (!n || size > MAX_MSG)
		return 2;
	rtt = calloc(n, sizeof(*rtt));
	if (!rtt)
		return 1;
	for (i = 0; i < size; i++)
		buf[i] = i;
	for (i = 0; i < n; i++) {
		t = now_ns();
		if (write(fd, buf, size) != (ssize_t)size) {
			printf("ping %lu: %s\n", i, strerror(errno));
			return 1;
		}
		r = read_msg(fd, in, sizeof(in), RECV_TIMEOUT_MS);
		if (r != (int)size || memcmp(in, buf, size)) {
			printf("ping %lu: bad answer (%d)\n", i, r);
			return 1;
		}
		rtt[i] = now_ns() - t;
		total += rtt[i];
	}
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("size %zu: rtt min %.1f median %.1f max %.1f us, %.0f round trips/s\n",
	       size, rtt[0] / 1e3, rtt[n / 2] / 1e3, rtt[n - 1] / 1e3,
	       n * 1e9 / (double)total);
	free(rtt);
	return 0;
}

/*
 * bench and serve: messages start with a type byte.  'P' is echoed; 'D'
 * is counted; 'E' ends a flood and is answered with an 'R' giving the
 * count and the nanoseconds from the first 'D' to the 'E'; 'F' asks for a
 * flood of n messages of size bytes, ended by 'E'; 'Q' ends serve.
 */
struct bench_msg {
	uint8_t type;
	uint8_t pad[7];
	uint64_t ns;
	uint32_t n;
	uint32_t size;
};

static int send_msg(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -errno;
}

/* Send @n messages of @size bytes of type 'D', then an 'E'. */
static int flood(int fd, unsigned long n, size_t size)
{
	uint8_t buf[MAX_MSG] = { 'D' };
	struct bench_msg e = { .type = 'E' };
	unsigned long i;
	int r;

	for (i = 0; i < n; i++) {
		r = send_msg(fd, buf, size);
		if (r)
			return r;
	}
	return send_msg(fd, &e, sizeof(e));
}

/* Count 'D' messages until an 'E': into @r, as 'R' reports it. */
static int count_flood(int fd, struct bench_msg *r)
{
	uint8_t buf[MAX_MSG + 1];
	uint64_t t0 = 0;
	int len;

	memset(r, 0, sizeof(*r));
	r->type = 'R';
	for (;;) {
		len = read_msg(fd, buf, sizeof(buf), RECV_TIMEOUT_MS);
		if (len <= 0)
			return len < 0 ? len : -EPROTO;
		if (buf[0] == 'E')
			break;
		if (buf[0] != 'D')
			return -EPROTO;
		if (!r->n++)
			t0 = now_ns();
	}
	r->ns = now_ns() - t0;
	return 0;
}

static int cmd_serve(int fd)
{
	uint8_t buf[MAX_MSG + 1];
	struct bench_msg m;
	int len, r = 0;

	for (;;) {
		len = read_msg(fd, buf, sizeof(buf), RECV_TIMEOUT_MS);
		if (len <= 0) {
			printf("serve: %s\n", len ? strerror(-len) : "empty");
			return 1;
		}
		memcpy(&m, buf, len < (int)sizeof(m) ? len : (int)sizeof(m));
		switch (buf[0]) {
		case 'P':
			r = send_msg(fd, buf, len);
			break;
		case 'D':
			m.type = 'D';
			if (!count_flood(fd, &m))	/* and this one */
				m.n++;
			m.type = 'R';
			r = send_msg(fd, &m, sizeof(m));
			break;
		case 'F':
			if (len < (int)sizeof(m) || m.size > MAX_MSG ||
			    m.size < 1)
				return 1;
			r = flood(fd, m.n, m.size);
			break;
		case 'Q':
			printf("serve: done\n");
			return 0;
		default:
			printf("serve: message type %#x\n", buf[0]);
			return 1;
		}
		if (r) {
			printf("serve: %s\n", strerror(-r));
			return 1;
		}
	}
}

/* Messages per second, if all @n arrived; else say how many did. */
static double rate(const struct bench_msg *r, unsigned long n, uint64_t ns)
{
	if (r->n != n) {
		printf("%lu messages sent, %u arrived\n", n, r->n);
		return -1;
	}
	return n * 1e9 / (double)ns;
}

static int cmd_bench(int fd, int argc, char **argv)
{
	unsigned long n = strtoul(argv[1], NULL, 0);
	uint8_t buf[MAX_MSG], in[MAX_MSG + 1];
	struct bench_msg m, r;
	uint64_t *rtt, t;
	unsigned long i;
	int a, len;

	rtt = calloc(n ? n : 1, sizeof(*rtt));
	if (!n || !rtt)
		return 2;
	printf("%lu round trips and %lu messages each way per size\n", n,
	       5 * n);
	printf("%6s %14s %14s %12s %14s %12s\n", "size", "rtt median us",
	       "out msg/s", "out MiB/s", "in msg/s", "in MiB/s");
	for (a = 2; a < argc; a++) {
		size_t size = strtoul(argv[a], NULL, 0);
		double out, in_rate;

		if (!size || size > MAX_MSG)
			return 2;
		memset(buf, 0, sizeof(buf));
		buf[0] = 'P';
		for (i = 0; i < n; i++) {
			t = now_ns();
			if (send_msg(fd, buf, size) ||
			    read_msg(fd, in, sizeof(in), RECV_TIMEOUT_MS) !=
			    (int)size)
				return 1;
			rtt[i] = now_ns() - t;
		}
		qsort(rtt, n, sizeof(*rtt), cmp_u64);
		/* Out: flood; the other side counts, and says. */
		t = now_ns();
		if (flood(fd, 5 * n, size))
			return 1;
		len = read_msg(fd, in, sizeof(in), RECV_TIMEOUT_MS);
		if (len != sizeof(r))
			return 1;
		memcpy(&r, in, sizeof(r));
		out = rate(&r, 5 * n, now_ns() - t);
		/* In: ask for a flood, count it. */
		memset(&m, 0, sizeof(m));
		m.type = 'F';
		m.n = 5 * n;
		m.size = size;
		t = now_ns();
		if (send_msg(fd, &m, sizeof(m)) || count_flood(fd, &r))
			return 1;
		in_rate = rate(&r, 5 * n, now_ns() - t);
		if (out < 0 || in_rate < 0)
			return 1;
		printf("%6zu %14.1f %14.0f %12.2f %14.0f %12.2f\n", size,
		       rtt[n / 2] / 1e3, out, out * size / 1048576,
		       in_rate, in_rate * size / 1048576);
	}
	buf[0] = 'Q';
	free(rtt);
	return send_msg(fd, buf, 1) ? 1 : 0;
}

static int cmd_raw(int fd, const char *hex)
{
	uint8_t buf[4096];
	size_t n = 0;
	unsigned int b;

	while (hex[0] && hex[1] && n < sizeof(buf)) {
		if (sscanf(hex, "%2x", &b) != 1)
			return 2;
		buf[n++] = b;
		hex += 2;
	}
	if (write(fd, buf, n) != (ssize_t)n) {
		printf("raw %zu bytes: %s\n", n, strerror(errno));
		return 1;
	}
	printf("raw %zu bytes sent\n", n);
	return 0;
}

static int cmd_big(int fd, size_t size)
{
	static uint8_t buf[65536];

	if (size > sizeof(buf))
		return 2;
	if (write(fd, buf, size) == (ssize_t)size) {
		printf("%zu bytes: sent\n", size);
		return 0;
	}
	printf("%zu bytes: %s\n", size, strerror(errno));
	return 0;
}

/*
 * A writer that polls: each round sends until EAGAIN, so that the other
 * side has no buffer left, then waits for POLLOUT and sends again.
 */
static int cmd_pollout(int fd, unsigned long n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	unsigned long round, sent = 0;
	uint8_t msg[16] = "pollout";
	int ret;

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return 1;
	for (round = 0; round < n; round++) {
		while (write(fd, msg, sizeof(msg)) == sizeof(msg))
			sent++;
		if (errno != EAGAIN) {
			printf("round %lu: send: %s\n", round, strerror(errno));
			return 1;
		}
		ret = poll(&pfd, 1, 10000);
		if (ret != 1 || !(pfd.revents & POLLOUT)) {
			printf("round %lu: poll: %d, revents %#x: no POLLOUT in 10 s (%lu sent)\n",
			       round, ret, ret == 1 ? pfd.revents : 0, sent);
			return 1;
		}
		if (write(fd, msg, sizeof(msg)) != sizeof(msg)) {
			printf("round %lu: POLLOUT, but send: %s\n", round,
			       strerror(errno));
			return 1;
		}
		sent++;
	}
	printf("%lu rounds: POLLOUT each time, %lu messages sent\n", n, sent);
	return 0;
}

static int run(int fd, int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	uint32_t seed = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;

	if (argc == 1 && !strcmp(argv[0], "serve"))
		return cmd_serve(fd);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[0], "send"))
		return cmd_send(fd, n, seed);
	if (!strcmp(argv[0], "recv"))
		return cmd_recv(fd, n, seed, false, 0, NULL);
	if (!strcmp(argv[0], "recv-lossy")) {
		unsigned long silence = argc > 2 ?
					strtoul(argv[2], NULL, 0) : 5;

		if (!silence || silence > INT_MAX / 1000)
			return 2;
		return cmd_recv(fd, 0, n, true, silence * 1000,
				argc > 3 ? argv[3] : NULL);
	}
	if (!strcmp(argv[0], "echo"))
		return cmd_echo(fd, n);
	if (!strcmp(argv[0], "ping") && argc > 2)
		return cmd_ping(fd, n, strtoul(argv[2], NULL, 0));
	if (!strcmp(argv[0], "await")) {
		uint8_t buf[MAX_MSG + 1];
		int r = read_msg(fd, buf, sizeof(buf), n * 1000);

		printf("await: %s\n", r < 0 ? strerror(-r) : "a message");
		return r < 0;
	}
	if (!strcmp(argv[0], "raw"))
		return cmd_raw(fd, argv[1]);
	if (!strcmp(argv[0], "bench") && argc > 2)
		return cmd_bench(fd, argc, argv);
	if (!strcmp(argv[0], "big"))
		return cmd_big(fd, n);
	if (!strcmp(argv[0], "pollout"))
		return cmd_pollout(fd, n);
	if (!strcmp(argv[0], "trybig")) {
		if (fcntl(fd, F_SETFL, O_NONBLOCK))
			return 1;
		return cmd_big(fd, n);
	}
	return 2;
}

static uint32_t addr(const char *s)
{
	return strcmp(s, "any") ? strtoul(s, NULL, 0) : ADDR_ANY;
}

static void fill_info(struct rpmsg_endpoint_info *info, const char *name,
		      const char *src, const char *dst)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name);
	info->src = addr(src);
	info->dst = addr(dst);
}

static bool attr_is(const char *dir, const char *attr, const char *want)
{
	char path[512], val[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(val, sizeof(val), f))
		val[0] = 0;
	fclose(f);
	val[strcspn(val, "\n")] = 0;
	return !strcmp(val, want);
}

/* The /dev/rpmsgN that RPMSG_CREATE_EPT_IOCTL made for @info. */
static int open_ept(const struct rpmsg_endpoint_info *info)
{
	char src[16], dst[16], dev[300];
	glob_t g;
	size_t i;
	int tries, fd = -1;

	snprintf(src, sizeof(src), "%d", (int)info->src);
	snprintf(dst, sizeof(dst), "%d", (int)info->dst);
	for (tries = 0; tries < 100 && fd < 0; tries++) {
		if (glob("/sys/class/rpmsg/rpmsg[0-9]*", 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc && fd < 0; i++) {
				if (!attr_is(g.gl_pathv[i], "name", info->name) ||
				    !attr_is(g.gl_pathv[i], "src", src) ||
				    !attr_is(g.gl_pathv[i], "dst", dst))
					continue;
				snprintf(dev, sizeof(dev), "/dev/%s",
					 strrchr(g.gl_pathv[i], '/') + 1);
				fd = open(dev, O_RDWR);
			}
			globfree(&g);
		}
		if (fd < 0)
			usleep(20000);
	}
	return fd;
}

/* The endpoint is open: make the file RPMSG_MSG_READY names, if any. */
static void say_ready(void)
{
	const char *path = getenv("RPMSG_MSG_READY");
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

static int bad_usage(void)
{
	fprintf(stderr,
		"usage: rpmsg_msg ept CTRL SRC DST CMD [ARG...]\n"
		"       rpmsg_msg dev DEV CMD [ARG...]\n"
		"       rpmsg_msg create-dev|release-dev CTRL NAME SRC DST\n"
		"       rpmsg_msg stale CTRL SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct rpmsg_endpoint_info info;
	char name[32];
	int ctrl, fd, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "dev")) {
		fd = open(argv[2], O_RDWR);
		if (fd < 0) {
			printf("%s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		say_ready();
		ret = run(fd, argc - 3, argv + 3);
		return ret == 2 ? bad_usage() : ret;
	}
	if (argc == 6 && (!strcmp(argv[1], "create-dev") ||
			  !strcmp(argv[1], "release-dev"))) {
		ctrl = open(argv[2], O_RDWR);
		fill_info(&info, argv[3], argv[4], argv[5]);
		if (ctrl < 0 ||
		    ioctl(ctrl, argv[1][0] == 'c' ? RPMSG_CREATE_DEV_IOCTL :
			  RPMSG_RELEASE_DEV_IOCTL, &info)) {
			printf("%s %s: %s\n", argv[1], argv[3], strerror(errno));
			return 1;
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "stale")) {
		ctrl = open(argv[2], O_RDWR);
		if (ctrl < 0) {
			printf("%s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		sleep(atoi(argv[3]));
		fill_info(&info, "stale", "any", "any");
		if (!ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info)) {
			printf("endpoint created on a stale %s\n", argv[2]);
			return 1;
		}
		printf("endpoint on a stale %s: %s\n", argv[2], strerror(errno));
		return 0;
	}
	if (argc < 7 || strcmp(argv[1], "ept"))
		return bad_usage();
	ctrl = open(argv[2], O_RDWR);
	if (ctrl < 0) {
		printf("%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	snprintf(name, sizeof(name), "msg-%d", getpid());
	fill_info(&info, name, argv[3], argv[4]);
	if (ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info)) {
		printf("endpoint 0x%x -> 0x%x: %s\n", info.src, info.dst,
		       strerror(errno));
		return 1;
	}
	fd = open_ept(&info);
	if (fd < 0) {
		printf("endpoint 0x%x -> 0x%x: no /dev/rpmsgN\n", info.src,
		       info.dst);
		return 1;
	}
	say_ready();
	ret = run(fd, argc - 5, argv + 5);
	ioctl(fd, RPMSG_DESTROY_EPT_IOCTL);
	close(fd);
	close(ctrl);
	return ret == 2 ? bad_usage() : ret;
}
