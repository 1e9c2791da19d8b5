/*
 * pg-tcpxfer: the kernel's side of the TCP interoperability tests. It moves
 * the test pattern of net/pg_testsvc.h through ordinary kernel sockets and
 * prints what it moved and the SHA-256 of what it received, one line.
 *
 *   pg-tcpxfer pattern BYTES
 *       print the SHA-256 of the first BYTES bytes of the pattern
 *   pg-tcpxfer send ADDR PORT BYTES [SECONDS]
 *       connect, send BYTES of the pattern while reading, half-close, read
 *       until EOF: "sent N received M sha256 HEX seconds S"
 *   pg-tcpxfer many ADDR PORT COUNT BYTES [SECONDS]
 *       COUNT connections one after the other, each sending BYTES of the
 *       pattern to an echo service and checking that exactly those bytes
 *       come back before EOF: "connections N ok K failed F seconds S"
 *   pg-tcpxfer serve PORT [SECONDS]
 *       print "listening", accept one connection on PORT, echo what it
 *       receives until EOF, close: "received N sha256 HEX seconds S"
 *   pg-tcpxfer sink PORT [SECONDS]
 *       the same, but what it receives is only counted and hashed (the
 *       kernel-to-kernel baseline of scripts/bench-tcp-throughput)
 *   pg-tcpxfer idle ADDR PORT[-LAST] COUNT REQUEST [SECONDS]
 *       open COUNT connections spread over ports PORT..LAST (one client
 *       address has about 64,000 ports per destination), IDLE_WINDOW at a
 *       time; on each send REQUEST (nothing when empty) and wait for an
 *       answer that begins "HTTP/1.x 200 "; print "open N seconds S",
 *       hold them idle until SIGINT or SIGTERM, then close them:
 *       "closed N dropped D", D those the server closed meanwhile (the
 *       idle connections of scripts/bench)
 *
 * SECONDS (default 60) bounds the whole command. Exit status: 0 done,
 * 1 failure or time out (the reason on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "net/pg_testsvc.h"

#define XFER_BUF (256 * 1024)
#define IDLE_WINDOW 512         /* connections being opened at once */

static double xfer_deadline;

static int usage(void);

static double
xfer_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
xfer_fail(const char *what)
{
	fprintf(stderr, "pg-tcpxfer: %s: %s\n", what,
		errno ? strerror(errno) : "failed");
	return 1;
}

static void
xfer_hex(EVP_MD_CTX *md, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	for (unsigned i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

static EVP_MD_CTX *
xfer_md(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "pg-tcpxfer: cannot set up SHA-256\n");
		exit(1);
	}
	return md;
}

static int
xfer_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

/* A non-blocking socket connecting to sa (or connected), -1 on failure. */
static int
xfer_connect_start(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0
	    || errno == EINPROGRESS)
		return fd;
	close(fd);
	return -1;
}

/* After POLLOUT on a connecting socket: 0 connected, -1 (errno) failed. */
static int
xfer_connect_done(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	errno = soerr;
	return soerr == 0 ? 0 : -1;
}

/* A connected non-blocking socket, -1 on failure or time out. */
static int
xfer_connect(const struct sockaddr_in *sa)
{
	int fd = xfer_connect_start(sa);
	if (fd < 0)
		return -1;
	struct pollfd p = { fd, POLLOUT, 0 };
	int ms = (int)((xfer_deadline - xfer_now()) * 1000);
	if (ms <= 0 || poll(&p, 1, ms) != 1)
		errno = ETIMEDOUT;
	else if (xfer_connect_done(fd) == 0)
		return fd;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * The data phase of one connection, both directions at once. Sends
 * to_send bytes of the pattern (when echo is 0) or echoes what it reads
 * (echo 1), half-closes once everything is out, reads until EOF. Received
 * bytes go into md (may be NULL) and, when check is set, must equal the
 * pattern. Returns 0 at EOF, -1 on error or time out.
 */
struct xfer {
	uint64_t to_send, sent, rcvd;
	int echo, check;
	int sink;               /* half-closes only after the peer's EOF */
	EVP_MD_CTX *md;
};

static int
xfer_run(int fd, struct xfer *x)
{
	static char out[XFER_BUF], in[XFER_BUF];
	size_t olen = 0, ooff = 0;
	int eof = 0, shut = 0;

	while (!eof) {
		if (!x->echo && olen == ooff && x->sent < x->to_send) {
			uint64_t n = x->to_send - x->sent;
			olen = n < sizeof(out) ? (size_t)n : sizeof(out);
			ooff = 0;
			pg_testsvc_pattern(x->sent, out, olen);
		}
		int more = olen > ooff;
		if (!more && !shut && !x->sink
		    && (x->echo ? eof : x->sent == x->to_send)) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		/* An echo reads only into an empty buffer: backpressure. */
		short ev = more ? POLLOUT : 0;
		if (!(x->echo && more))
			ev |= POLLIN;
		struct pollfd p = { fd, ev, 0 };
		int ms = (int)((xfer_deadline - xfer_now()) * 1000);
		if (ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, ms) < 0)
			return -1;
		if (p.revents & POLLOUT) {
			ssize_t n = write(fd, out + ooff, olen - ooff);
			if (n < 0 && errno != EAGAIN)
				return -1;
			if (n > 0) {
				ooff += (size_t)n;
				if (!x->echo)
					x->sent += (uint64_t)n;
			}
		}
		if (!(ev & POLLIN)
		    || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char *dst = x->echo ? out : in;
		ssize_t n = read(fd, dst, sizeof(in));
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n == 0)
			eof = 1;
		if (n <= 0)
			continue;
		if (x->md != NULL)
			EVP_DigestUpdate(x->md, dst, (size_t)n);
		if (x->check) {
			static char want[XFER_BUF];
			pg_testsvc_pattern(x->rcvd, want, (size_t)n);
			if (memcmp(want, dst, (size_t)n) != 0) {
				errno = EPROTO;
				return -1;
			}
		}
		x->rcvd += (uint64_t)n;
		if (x->echo) {
			olen = (size_t)n;
			ooff = 0;
			x->sent += (uint64_t)n;
		}
	}
	/* An echo flushes what it read last, then closes. */
	while (x->echo && olen > ooff) {
		ssize_t n = write(fd, out + ooff, olen - ooff);
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0)
			ooff += (size_t)n;
		else
			poll(&(struct pollfd){ fd, POLLOUT, 0 }, 1, 100);
	}
	if (x->echo || x->sink)
		shutdown(fd, SHUT_WR);
	return 0;
}

static int
cmd_pattern(uint64_t bytes)
{
	static char buf[XFER_BUF];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *md = xfer_md();
	for (uint64_t off = 0; off < bytes;) {
		size_t n = bytes - off < sizeof(buf) ? (size_t)(bytes - off)
						     : sizeof(buf);
		pg_testsvc_pattern(off, buf, n);
		EVP_DigestUpdate(md, buf, n);
		off += n;
	}
	xfer_hex(md, hex);
	printf("%s\n", hex);
	return 0;
}

static int
cmd_send(const struct sockaddr_in *sa, uint64_t bytes)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	struct xfer x = { .to_send = bytes, .md = xfer_md() };
	double t0 = xfer_now();
	int fd = xfer_connect(sa);
	if (fd < 0)
		return xfer_fail("connect");
	int rc = xfer_run(fd, &x);
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "pg-tcpxfer: after sending %lu and receiving "
			"%lu bytes: %s\n", (unsigned long)x.sent,
			(unsigned long)x.rcvd, strerror(errno));
		return 1;
	}
	xfer_hex(x.md, hex);
	printf("sent %lu received %lu sha256 %s seconds %.3f\n",
	       (unsigned long)x.sent, (unsigned long)x.rcvd, hex,
	       xfer_now() - t0);
	return 0;
}

static int
cmd_many(const struct sockaddr_in *sa, unsigned count, uint64_t bytes)
{
	unsigned ok = 0, failed = 0;
	double t0 = xfer_now();
	for (unsigned i = 0; i < count && xfer_now() < xfer_deadline; i++) {
		struct xfer x = { .to_send = bytes, .check = 1 };
		int fd = xfer_connect(sa);
		int rc = fd < 0 ? -1 : xfer_run(fd, &x);
		if (rc == 0 && x.rcvd != bytes) {
			errno = EPROTO;
			rc = -1;
		}
		if (fd >= 0)
			close(fd);
		if (rc == 0) {
			ok++;
			continue;
		}
		if (failed++ < 5)
			fprintf(stderr, "pg-tcpxfer: connection %u: %s after "
				"%lu bytes back\n", i, strerror(errno),
				(unsigned long)x.rcvd);
	}
	printf("connections %u ok %u failed %u seconds %.3f\n", count, ok,
	       failed, xfer_now() - t0);
	return ok == count ? 0 : 1;
}

static int
cmd_serve(const char *port, int echo)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	struct sockaddr_in sa;
	int one = 1;
	xfer_addr("0.0.0.0", port, &sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) != 0
	    || bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0
	    || listen(l, 1) != 0)
		return xfer_fail("listen");
	printf("listening\n");
	fflush(stdout);
	struct pollfd p = { l, POLLIN, 0 };
	int ms = (int)((xfer_deadline - xfer_now()) * 1000);
	if (ms <= 0 || poll(&p, 1, ms) != 1) {
		errno = ETIMEDOUT;
		return xfer_fail("accept");
	}
	int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		return xfer_fail("accept");
	close(l);
	double t0 = xfer_now();
	struct xfer x = { .echo = echo, .sink = !echo, .md = xfer_md() };
	int rc = xfer_run(fd, &x);
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "pg-tcpxfer: after receiving %lu bytes: %s\n",
			(unsigned long)x.rcvd, strerror(errno));
		return 1;
	}
	xfer_hex(x.md, hex);
	printf("received %lu sha256 %s seconds %.3f\n", (unsigned long)x.rcvd,
	       hex, xfer_now() - t0);
	return 0;
}

/* --- idle: many connections held open ------------------------------------ */

static volatile sig_atomic_t idle_stop;

static void
idle_on_signal(int sig)
{
	idle_stop = 1;
}

/*
 * The next step of a connection being opened, once poll reported on it:
 * connected (then REQUEST goes out), answered. 1 when it is open and
 * answered, 0 to wait more, -1 (errno) on failure.
 */
static int
idle_step(struct pollfd *p, const char *req, size_t reqlen)
{
	char buf[4096];

	if (p->events == POLLOUT) {
		if (xfer_connect_done(p->fd) != 0)
			return -1;
		if (reqlen == 0)
			return 1;
		ssize_t n = write(p->fd, req, reqlen);
		if (n != (ssize_t)reqlen) {
			errno = n < 0 ? errno : EMSGSIZE;
			return -1;
		}
		p->events = POLLIN;
		return 0;
	}
	ssize_t n = read(p->fd, buf, sizeof(buf));
	if (n <= 0) {
		errno = n == 0 ? ECONNRESET : errno;
		return -1;
	}
	if (n < 13 || memcmp(buf, "HTTP/1.", 7) != 0
	    || memcmp(buf + 8, " 200 ", 5) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

/* Open the connections fds[0..n) (ports spread), IDLE_WINDOW at a time. */
static int
idle_open(struct sockaddr_in *sa, unsigned port0, unsigned nports, int *fds,
	  unsigned n, const char *req)
{
	struct pollfd win[IDLE_WINDOW];
	size_t reqlen = strlen(req);

	for (unsigned base = 0; base < n; base += IDLE_WINDOW) {
		unsigned k = n - base < IDLE_WINDOW ? n - base : IDLE_WINDOW;
		unsigned pending = k;
		for (unsigned i = 0; i < k; i++) {
			sa->sin_port = htons((uint16_t)(port0 + (base + i) % nports));
			fds[base + i] = win[i].fd = xfer_connect_start(sa);
			win[i].events = POLLOUT;
			if (win[i].fd < 0)
				return xfer_fail("connect");
		}
		while (pending > 0) {
			int ms = (int)((xfer_deadline - xfer_now()) * 1000);
			if (ms <= 0 || idle_stop) {
				errno = idle_stop ? EINTR : ETIMEDOUT;
				return xfer_fail("opening the connections");
			}
			if (poll(win, k, ms) < 0 && errno != EINTR)
				return xfer_fail("poll");
			for (unsigned i = 0; i < k; i++) {
				if (win[i].fd < 0 || win[i].revents == 0)
					continue;
				int r = idle_step(&win[i], req, reqlen);
				if (r < 0) {
					fprintf(stderr, "pg-tcpxfer: connection %u "
						"of %u: %s\n", base + i, n,
						strerror(errno));
					return 1;
				}
				if (r > 0) {
					win[i].fd = -1;     /* poll skips it */
					pending--;
				}
			}
		}
	}
	return 0;
}

/* A held connection the server has closed (or reset): read until EAGAIN. */
static int
idle_dropped(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0 || errno != EAGAIN;
}

static int
cmd_idle(struct sockaddr_in *sa, const char *ports, unsigned n,
	 const char *req)
{
	unsigned first = 0, last = 0, dropped = 0;
	struct rlimit rl;
	struct sigaction act = { .sa_handler = idle_on_signal };
	int got = sscanf(ports, "%u-%u", &first, &last);

	if (got < 1 || first == 0 || (got == 2 && (last < first || last > 65535)))
		return usage();
	if (got == 1)
		last = first;
	int *fds = calloc(n ? n : 1, sizeof(*fds));
	if (fds == NULL)
		return xfer_fail("memory for the sockets");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;     /* root may raise it */
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return xfer_fail("setrlimit RLIMIT_NOFILE");
	}
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	double t0 = xfer_now();
	if (idle_open(sa, first, last - first + 1, fds, n, req) != 0)
		return 1;
	printf("open %u seconds %.3f\n", n, xfer_now() - t0);
	fflush(stdout);
	while (!idle_stop && xfer_now() < xfer_deadline)
		poll(NULL, 0, 100);
	for (unsigned i = 0; i < n; i++) {
		dropped += (unsigned)idle_dropped(fds[i]);
		close(fds[i]);
	}
	printf("closed %u dropped %u\n", n, dropped);
	free(fds);
	return dropped == 0 ? 0 : 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: pg-tcpxfer pattern BYTES\n"
		"       pg-tcpxfer send ADDR PORT BYTES [SECONDS]\n"
		"       pg-tcpxfer many ADDR PORT COUNT BYTES [SECONDS]\n"
		"       pg-tcpxfer serve PORT [SECONDS]\n"
		"       pg-tcpxfer sink PORT [SECONDS]\n"
		"       pg-tcpxfer idle ADDR PORT[-LAST] COUNT REQUEST [SECONDS]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	int nargs = strcmp(cmd, "pattern") == 0 ? 1 : strcmp(cmd, "send") == 0
		? 3 : strcmp(cmd, "many") == 0 || strcmp(cmd, "idle") == 0 ? 4
		: strcmp(cmd, "serve") == 0 || strcmp(cmd, "sink") == 0 ? 1 : -1;
	if (nargs < 0 || argc < 2 + nargs || argc > 3 + nargs)
		return usage();
	double secs = argc == 3 + nargs ? atof(argv[2 + nargs]) : 60;
	xfer_deadline = xfer_now() + secs;
	if (strcmp(cmd, "pattern") == 0)
		return cmd_pattern(strtoull(argv[2], NULL, 10));
	if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "sink") == 0)
		return cmd_serve(argv[2], strcmp(cmd, "serve") == 0);
	if (xfer_addr(argv[2], "0", &sa) != 0)
		return usage();
	if (strcmp(cmd, "idle") == 0)
		return cmd_idle(&sa, argv[3], (unsigned)atoi(argv[4]), argv[5]);
	sa.sin_port = htons((uint16_t)atoi(argv[3]));
	if (strcmp(cmd, "send") == 0)
		return cmd_send(&sa, strtoull(argv[4], NULL, 10));
	return cmd_many(&sa, (unsigned)atoi(argv[4]),
			strtoull(argv[5], NULL, 10));
}
