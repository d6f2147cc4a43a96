// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-server: the doorbell server of the series' test rig.
 *
 * QEMU's ivshmem-doorbell devices connect to a UNIX socket; the server
 * gives each one a peer id, the shared memory and one eventfd per vector
 * for itself and for every other peer.  A device rings a peer by writing
 * to that peer's eventfd; QEMU turns the peer's own eventfds into MSI-X
 * interrupts.  Debian does not ship QEMU's server, so the rig has this one.
 *
 * Every message is an 8-byte little-endian signed value, optionally with
 * one file descriptor (SCM_RIGHTS):
 *
 *   on connect: 0 (protocol version), the new id, -1 with the shm fd,
 *               then each existing peer's id once per vector with its
 *               eventfd, then the new id once per vector with its own
 *               eventfds;
 *   to others:  the new id once per vector with its eventfds;
 *   on leave:   the departed id, without fd, to every remaining peer.
 *
 * The shared memory is a memfd, so nothing is left in /dev/shm; the socket
 * is unlinked on SIGINT, SIGTERM and SIGHUP, and with -q the server exits
 * by itself once the last peer has gone.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PEERS	64
#define MAX_VECTORS	64
#define MAX_ID		0xffff	/* the doorbell register has 16 bits */

struct peer {
	int sock;		/* -1: slot unused */
	long id;
	int efd[MAX_VECTORS];
};

static struct peer peers[MAX_PEERS];
static unsigned int nvec = 4;
static int verbose;

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ivshmem-server: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void die(const char *what)
{
	fprintf(stderr, "ivshmem-server: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Send one value, with @fd attached unless it is negative. */
static int send_msg(int sock, int64_t value, int fd)
{
	int64_t le = htole64(value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t ret;

	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		ret = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	return ret == sizeof(le) ? 0 : -1;
}

static bool id_in_use(long id)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i].sock >= 0 && peers[i].id == id)
			return true;
	return false;
}

static void drop_peer(struct peer *p)
{
	long id = p->id;

	close(p->sock);
	p->sock = -1;
	for (unsigned int v = 0; v < nvec; v++)
		close(p->efd[v]);
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i].sock >= 0)
			send_msg(peers[i].sock, id, -1);
	logmsg("peer %ld left\n", id);
}

static void add_peer(int sock, int shm_fd, long *next_id)
{
	struct peer *p = NULL;
	unsigned int v;
	long id;
	int i;

	for (i = 0; i < MAX_PEERS; i++) {
		if (peers[i].sock < 0) {
			p = &peers[i];
			break;
		}
	}
	if (!p) {
		fprintf(stderr, "ivshmem-server: %d peers already, refusing one\n",
			MAX_PEERS);
		close(sock);
		return;
	}
	/* Ids count up so that a rebooted peer is told apart from its past. */
	id = *next_id;
	while (id_in_use(id))
		id = (id + 1) % (MAX_ID + 1);
	*next_id = (id + 1) % (MAX_ID + 1);

	for (v = 0; v < nvec; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC);
		if (p->efd[v] < 0) {
			perror("ivshmem-server: eventfd");
			while (v--)
				close(p->efd[v]);
			close(sock);
			return;
		}
	}
	p->id = id;
	p->sock = sock;

	if (send_msg(sock, 0, -1) || send_msg(sock, id, -1) ||
	    send_msg(sock, -1, shm_fd))
		goto fail;
	for (i = 0; i < MAX_PEERS; i++) {
		struct peer *o = &peers[i];

		if (o == p || o->sock < 0)
			continue;
		for (v = 0; v < nvec; v++)
			if (send_msg(sock, o->id, o->efd[v]))
				goto fail;
		for (v = 0; v < nvec; v++)
			send_msg(o->sock, id, p->efd[v]);
	}
	for (v = 0; v < nvec; v++)
		if (send_msg(sock, id, p->efd[v]))
			goto fail;
	logmsg("peer %ld joined\n", id);
	return;
fail:
	fprintf(stderr, "ivshmem-server: peer %ld: send failed\n", id);
	drop_peer(p);
}

static unsigned long parse_size(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 0);

	switch (*end) {
	case 'k': case 'K':
		n <<= 10;
		end++;
		break;
	case 'm': case 'M':
		n <<= 20;
		end++;
		break;
	}
	if (*end || !n || (n & (n - 1))) {
		fprintf(stderr, "ivshmem-server: size %s: must be a power of two\n",
			s);
		exit(2);
	}
	return n;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: ivshmem-server -S socket [-l size] [-n vectors] [-p pidfile] [-q] [-v]\n"
		"  -S path  UNIX socket the QEMU ivshmem-doorbell devices connect to\n"
		"  -l size  shared memory size, a power of two (default 1M)\n"
		"  -n num   interrupt vectors per peer, 1..%d (default 4)\n"
		"  -p path  write the server's pid there once it listens\n"
		"  -q       exit once the last peer has left\n"
		"  -v       log peers joining and leaving\n", MAX_VECTORS);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long shm_size = 1 << 20;
	const char *path = NULL, *pidfile = NULL;
	struct pollfd pfd[MAX_PEERS + 2];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool quit_when_idle = false, had_peer = false;
	int listen_fd, shm_fd, sig_fd, opt, i;
	long next_id = 0;
	sigset_t mask;

	while ((opt = getopt(argc, argv, "S:l:n:p:qv")) != -1) {
		switch (opt) {
		case 'S':
			path = optarg;
			break;
		case 'l':
			shm_size = parse_size(optarg);
			break;
		case 'n':
			nvec = strtoul(optarg, NULL, 0);
			if (nvec < 1 || nvec > MAX_VECTORS)
				print_usage();
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'q':
			quit_when_idle = true;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			print_usage();
		}
	}
	if (!path || optind != argc || strlen(path) >= sizeof(addr.sun_path))
		print_usage();

	for (i = 0; i < MAX_PEERS; i++)
		peers[i].sock = -1;

	shm_fd = memfd_create("ivshmem", MFD_CLOEXEC);
	if (shm_fd < 0)
		die("memfd_create");
	if (ftruncate(shm_fd, shm_size))
		die("ftruncate");

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		die("sigprocmask");
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sig_fd < 0)
		die("signalfd");

	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		die("socket");
	memcpy(addr.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)))
		die(path);
	if (listen(listen_fd, MAX_PEERS))
		die("listen");
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f)
			die(pidfile);
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
	logmsg("listening on %s, %lu bytes shared, %u vectors\n", path,
	       shm_size, nvec);

	for (;;) {
		int n = 0, map[MAX_PEERS];

		pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		for (i = 0; i < MAX_PEERS; i++) {
			if (peers[i].sock < 0)
				continue;
			map[n - 2] = i;
			pfd[n++] = (struct pollfd){ .fd = peers[i].sock,
						    .events = POLLIN };
		}
		if (quit_when_idle && had_peer && n == 2)
			break;
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			int sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (sock >= 0) {
				add_peer(sock, shm_fd, &next_id);
				had_peer = true;
			}
		}
		for (i = 2; i < n; i++) {
			struct peer *p = &peers[map[i - 2]];
			char buf[64];

			if (!pfd[i].revents || p->sock != pfd[i].fd)
				continue;
			/* Peers send nothing; any read ends on hang-up. */
			if (read(p->sock, buf, sizeof(buf)) <= 0)
				drop_peer(p);
		}
	}

	for (i = 0; i < MAX_PEERS; i++)
		if (peers[i].sock >= 0)
			drop_peer(&peers[i]);
	unlink(path);
	if (pidfile)
		unlink(pidfile);
	logmsg("exiting\n");
	return 0;
}
