/*
 * fuzz_tls: libFuzzer target for TLS streams (net/pg_tls*.c) between two
 * TCP stacks on the simulated wire (tests/unit/net/pg_tcp_sim.h).
 *
 * Input: a mode byte, then records. Mode bit 0 set: a TLS client (bit 1:
 * TLS 1.2 at most) handshakes with the server, then the records drive both
 * ends and may forge records under the client's TLS; bit 0 clear: a raw
 * TCP client feeds the server whatever the records say (the ClientHello
 * path). Records, an op byte then its arguments:
 *   0 n        the client sends n bytes: TLS, pattern; raw, n input bytes
 *   1 n bytes  n input bytes into the client's TCP under its TLS (forgery)
 *   2 n, 3 n   the server sends 64 n pattern bytes: write, or a chain
 *   4 w, 5 w   end w (bit 0: server) refuses its next data / resumes
 *   6 w, 7 w, 8 w  shutdown, close, abort end w
 *   9 v        the clock jumps v * 50 ms (handshake timeouts)
 * After each record the wire runs until idle or 2 s (virtual) pass.
 *
 * Checked: every plaintext byte delivered is the pattern sent, in order;
 * no callback comes for a stream let go; at the end (stacks destroyed)
 * no handshake is left and every mbuf is back in the pool. ASan and
 * LeakSanitizer see the rest. Any violation aborts.
 *
 *   make fuzz && build/fuzz/fuzz_tls tests/fuzz/corpus/tls
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/pg_mbuf.h"
#include "net/pg_stream.h"
#include "net/pg_tls.h"
#include "tests/tools/pg_tool_net.h"

static struct rte_mempool *pg_test_pool;     /* pg_tcp_sim.h's pool */

#include "tests/unit/net/pg_tcp_sim.h"
#include "tests/unit/net/pg_tls_cert.h"

#define FZ_MBUFS 2047
#define FZ_PORT  443
#define FZ_MS    PG_TCP_SIM_MS

#define fz_bug(...)                                                         \
	do {                                                                \
		fprintf(stderr, "fuzz_tls: BUG: " __VA_ARGS__);             \
		fputc('\n', stderr);                                        \
		abort();                                                    \
	} while (0)

/* One end as the protocol above sees it. */
struct fz_end {
	struct pg_stream *st;        /* NULL: none, or let go */
	uint64_t sent, got;          /* pattern bytes */
	uint8_t dir, refuse;
};

static struct {
	const uint8_t *in, *end;     /* what is left of the input */
	struct pg_tcp_sim sim;
	struct fz_end cli, srv;
	struct pg_tcp_conn *raw;     /* raw mode: the client's TCP */
	int tls;
} F;

static struct pg_tls_ctx *fz_srv, *fz_cli13, *fz_cli12;
static uint8_t fz_buf[16384];

static const uint8_t *
fz_take(unsigned n)
{
	const uint8_t *p = F.in;

	if ((size_t)(F.end - F.in) < n)
		return NULL;
	F.in += n;
	return p;
}

static uint8_t
fz_pattern(uint64_t i, unsigned dir)
{
	return (uint8_t)((i * 167 + (i >> 11) + dir * 13) & 0xff);
}

/* --- the protocol above -------------------------------------------------- */

static struct fz_end *
fz_end_of(struct pg_stream *s)
{
	struct fz_end *e = s->ctx;

	if (e->st != s)
		fz_bug("a callback for a stream the application let go");
	return e;
}

static int
fz_data(struct pg_stream *s, struct rte_mbuf *m)
{
	struct fz_end *e = fz_end_of(s);

	if (e->refuse)
		return PG_AGAIN;
	for (struct rte_mbuf *g = m; g != NULL; g = g->next) {
		const uint8_t *p = rte_pktmbuf_mtod(g, const uint8_t *);
		for (uint16_t i = 0; i < g->data_len; i++)
			if (p[i] != fz_pattern(e->got + i, !e->dir))
				fz_bug("plaintext byte %lu is not what was sent",
				       (unsigned long)(e->got + i));
		e->got += g->data_len;
	}
	pg_mbuf_free(m);
	return PG_OK;
}

static void
fz_eof(struct pg_stream *s)
{
	fz_end_of(s);
}

static void
fz_close(struct pg_stream *s, enum pg_tcp_reason why)
{
	fz_end_of(s)->st = NULL;
}

static const struct pg_stream_cbs fz_cbs = {
	.on_data = fz_data, .on_eof = fz_eof, .on_close = fz_close,
};

static int
fz_ready(struct pg_stream *s)
{
	struct fz_end *e = s->ctx;

	e->st = s;
	s->cbs = &fz_cbs;
	return PG_OK;
}

static int
fz_accept(struct pg_tcp_conn *c, void *ctx)
{
	if (F.srv.st != NULL)
		return PG_ERROR;
	return pg_tls_accept(fz_srv, c, fz_ready, &F.srv) != NULL ? PG_OK
								  : PG_ERROR;
}

/* The raw client reads and drops. */
static int
fz_raw_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	pg_mbuf_free(m);
	return PG_OK;
}

static void
fz_raw_eof(struct pg_tcp_conn *c)
{
	pg_tcp_close(c);
	F.raw = NULL;
}

static void
fz_raw_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	F.raw = NULL;
}

static const struct pg_tcp_callbacks fz_raw_cbs = {
	.on_data = fz_raw_data, .on_eof = fz_raw_eof, .on_close = fz_raw_close,
};

/* --- records ------------------------------------------------------------- */

static void
fz_send(struct fz_end *e, uint32_t n, int chain)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t done = 0;

	if (e->st == NULL)
		return;
	if (!chain) {
		n = RTE_MIN(n, (uint32_t)sizeof(fz_buf));
		for (uint32_t i = 0; i < n; i++)
			fz_buf[i] = fz_pattern(e->sent + i, e->dir);
		if (pg_stream_write(e->st, fz_buf, n) == PG_OK)
			e->sent += n;
		return;
	}
	while (done < n) {
		struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 1);
		if (m == NULL)
			break;
		uint16_t k = (uint16_t)RTE_MIN(n - done,
					       (uint32_t)rte_pktmbuf_tailroom(m));
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, k);
		for (uint16_t i = 0; i < k; i++)
			p[i] = fz_pattern(e->sent + done + i, e->dir);
		done += k;
		pg_mbuf_chain_add(&head, &tail, m);
	}
	if (head != NULL && pg_stream_send(e->st, head) == PG_OK)
		e->sent += done;
}

/* shutdown, close or abort end w (raw mode: the client's TCP). */
static void
fz_end_op(uint8_t op, uint8_t w)
{
	struct fz_end *e = (w & 1) ? &F.srv : &F.cli;
	struct pg_stream *s = e->st;

	if (!F.tls && !(w & 1)) {
		if (F.raw == NULL)
			return;
		if (op == 6)
			pg_tcp_shutdown(F.raw);
		else
			(op == 7 ? pg_tcp_close : pg_tcp_abort)(F.raw);
		if (op != 6)
			F.raw = NULL;
		return;
	}
	if (s == NULL)
		return;
	if (op == 6) {
		pg_stream_shutdown(s);
		return;
	}
	e->st = NULL;
	(op == 7 ? pg_stream_close : pg_stream_abort)(s);
}

static void
fz_client_bytes(uint8_t n, int forge)
{
	const uint8_t *p = fz_take(n);
	struct pg_tcp_conn *c = F.tls ? (F.cli.st != NULL ? F.cli.st->tcp
							  : NULL)
				      : F.raw;

	if (p != NULL && c != NULL && n > 0 && (forge || !F.tls))
		pg_tcp_write(c, p, n);
}

static int
fz_step(struct pg_tcp_sim *s, void *arg, uint64_t *wake)
{
	pg_tls_ctx_poll(fz_srv, s->now_ns);
	pg_tls_ctx_poll(fz_cli13, s->now_ns);
	pg_tls_ctx_poll(fz_cli12, s->now_ns);
	*wake = RTE_MIN(*wake, pg_tls_ctx_next_timer(fz_srv));
	*wake = RTE_MIN(*wake, pg_tls_ctx_next_timer(fz_cli13));
	*wake = RTE_MIN(*wake, pg_tls_ctx_next_timer(fz_cli12));
	return 0;
}

static void
fz_run(void)
{
	if (pg_tcp_sim_run(&F.sim, fz_step, NULL, F.sim.now_ns + 2000 * FZ_MS)
	    == PG_TCP_SIM_SPIN)
		fz_bug("livelock: the clock stopped moving");
}

static int
fz_record(void)
{
	const uint8_t *op = fz_take(2);
	struct fz_end *e;

	if (op == NULL)
		return 0;
	e = (op[1] & 1) ? &F.srv : &F.cli;
	switch (op[0] % 10) {
	case 0:
		if (F.tls)
			fz_send(&F.cli, op[1] * 16u, 0);
		else
			fz_client_bytes(op[1], 0);
		break;
	case 1:
		fz_client_bytes(op[1], 1);
		break;
	case 2:
	case 3:
		fz_send(&F.srv, op[1] * 64u, op[0] % 10 == 3);
		break;
	case 4:
		e->refuse = 1;
		break;
	case 5:
		e->refuse = 0;
		if (e->st != NULL)
			pg_stream_recv_resume(e->st);
		break;
	case 9:
		pg_tcp_sim_set_time(&F.sim, F.sim.now_ns + op[1] * 50 * FZ_MS);
		break;
	default:
		fz_end_op(op[0] % 10, op[1]);
		break;
	}
	fz_run();
	return 1;
}

/* --- one input ----------------------------------------------------------- */

static void
fz_start(uint8_t mode)
{
	static const struct pg_tcp_callbacks srv_cb = {
		.on_accept = fz_accept, PG_TLS_FORWARDERS,
	};
	static const struct pg_tcp_callbacks cli_cb = { PG_TLS_FORWARDERS };
	struct pg_sim_conf wc = { .delay_ns = 1 * FZ_MS, .seed = 1,
				  .queue_max = 1024 };
	struct pg_tcp_conf tc;
	const struct pg_tcp_conf *tcs[2] = { &tc, &tc };
	struct pg_tls_peer peer = { .sni = "a.test", .alpn = "h2,http/1.1" };
	const char *err = NULL;
	struct pg_tcp_conn *c;

	memset(&F.cli, 0, sizeof(F.cli));
	memset(&F.srv, 0, sizeof(F.srv));
	F.srv.dir = 1;
	F.raw = NULL;
	F.tls = mode & 1;
	pg_tcp_conf_default(&tc);
	tc.secret[0] = 1;
	tc.secret[1] = 2;
	tc.time_wait_ms = 1000;
	if (pg_tcp_sim_init(&F.sim, &wc, 1500, tcs, &err) != PG_OK
	    || pg_tcp_listen(F.sim.side[PG_TCP_SIM_SERVER].stack, FZ_PORT,
			     &srv_cb, NULL, NULL, &err) == NULL)
		fz_bug("setup: %s", err);
	if (!F.tls) {
		F.raw = pg_tcp_connect(F.sim.side[PG_TCP_SIM_CLIENT].stack,
				       PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), FZ_PORT,
				       &fz_raw_cbs, NULL, NULL, &err);
		if (F.raw == NULL)
			fz_bug("connect: %s", err);
		return;
	}
	c = pg_tcp_connect(F.sim.side[PG_TCP_SIM_CLIENT].stack,
			   PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), FZ_PORT, &cli_cb,
			   NULL, NULL, &err);
	if (c == NULL)
		fz_bug("connect: %s", err);
	F.cli.st = pg_tls_connect((mode & 2) ? fz_cli12 : fz_cli13, c, &peer,
				  fz_ready, &F.cli, &err);
	if (F.cli.st == NULL)
		fz_bug("pg_tls_connect: %s", err);
	F.cli.st->cbs = &fz_cbs;
	fz_run();
}

static void
fz_finish(void)
{
	fz_run();
	pg_tcp_sim_fini(&F.sim);
	if (F.cli.st != NULL || F.srv.st != NULL)
		fz_bug("a stream outlived its stack without on_close");
	if (pg_tls_ctx_next_timer(fz_srv) != UINT64_MAX
	    || pg_tls_ctx_next_timer(fz_cli13) != UINT64_MAX
	    || pg_tls_ctx_next_timer(fz_cli12) != UINT64_MAX)
		fz_bug("a handshake outlived its stack");
	if (rte_mempool_avail_count(pg_test_pool) != FZ_MBUFS)
		fz_bug("%u mbufs leaked",
		       FZ_MBUFS - rte_mempool_avail_count(pg_test_pool));
}

/* --- libFuzzer ----------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pg_tls_ctx *
fz_ctx(struct pg_tls_ctx *ctx, const char *err)
{
	if (ctx == NULL) {
		fprintf(stderr, "fuzz_tls: TLS context: %s\n", err);
		exit(1);
	}
	return ctx;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/pg-fuzz-tls-XXXXXX", cert[64], key[64];
	struct pg_tls_client_conf c13 = { 0 };
	struct pg_tls_client_conf c12 = { .max_version = TLS1_2_VERSION };
	struct pg_tls_conf conf;
	const char *err = "";

	pg_tool_eal("pg-fuzz-tls", 256);
	pg_test_pool = pg_mbuf_pool_create("pg_fuzz_pool", FZ_MBUFS, 0);
	if (pg_test_pool == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz_tls: no mbuf pool or temporary dir\n");
		exit(1);
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	pg_tls_conf_default(&conf);
	conf.cert_file = cert;
	conf.key_file = key;
	if (pg_test_cert("a.test", "DNS:a.test", cert, key) == PG_OK)
		fz_srv = pg_tls_ctx_new(&conf, 1, &err);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	fz_ctx(fz_srv, err);
	fz_cli13 = fz_ctx(pg_tls_ctx_client(&c13, &err), err);
	fz_cli12 = fz_ctx(pg_tls_ctx_client(&c12, &err), err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return -1;
	F.in = data + 1;
	F.end = data + size;
	fz_start(data[0]);
	while (fz_record())
		;
	fz_finish();
	return 0;
}
