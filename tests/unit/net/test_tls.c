/*
 * TLS streams between two TCP stacks on the simulated wire: TLS 1.3 and
 * 1.2 handshakes, ALPN, SNI among two certificates, verification, session
 * resumption and ticket key rotation, a large transfer both ways with
 * refusals (backpressure), close_notify and truncation, and what a server
 * does with garbage, a stalled handshake and a version mismatch. Every
 * test ends with every mbuf back in the pool.
 *
 * The certificates are made when the binary starts (EC P-256, self-signed)
 * in a temporary directory removed at the end.
 */
#include "tests/unit/pg_test.h"

#include <openssl/err.h>

#include "net/pg_stream.h"
#include "net/pg_tls.h"
#include "tests/unit/net/pg_tcp_sim.h"
#include "tests/unit/net/pg_tls_cert.h"

#define PORT      443
#define MS        PG_TCP_SIM_MS
#define QUEUE_MAX (256u << 10)   /* a writer stops above this queued */

/* One end of a TLS connection as the test application sees it. */
struct end {
	struct pg_stream *st;
	int ready, eof, gone, closed, reason;
	uint8_t proto;
	int dir;                     /* pattern of what this end sends */
	uint64_t rx, tx, tx_goal;
	uint64_t bad;                /* bytes received off the pattern */
	unsigned refuse_every, calls, refusals;
	int refused;                 /* refused data waits for the next step */
	int use_send;                /* send mbuf chains instead of write */
	char first[64];              /* the first bytes received */
	int keep_open;               /* on_eof: do not close */
};

/* A plain TCP client that talks nonsense to the TLS server. */
struct raw {
	struct pg_tcp_conn *c;
	uint64_t rx;
	int eof, closed, reason;
	uint64_t eof_ns;
};

static struct {
	struct pg_tcp_sim sim;
	struct pg_tls_ctx *srv_ctx, *cli_ctx;
	struct end cli, srv;
	struct raw raw;
	unsigned accepts;
	int refuse;                  /* on_accept takes the stream, then refuses */
} T;

static char tmpdir[64];
static char cert_a[128], key_a[128], cert_b[128], key_b[128];

/* --- certificates -------------------------------------------------------- */

static int
certs_setup(void **state)
{
	(void)state;
	pg_test_eal();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-tls-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cert_a, sizeof(cert_a), "%s/a.pem", tmpdir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", tmpdir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.pem", tmpdir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", tmpdir);
	if (pg_test_cert("a.test", "DNS:a.test", cert_a, key_a) != PG_OK
	    || pg_test_cert("b.test", "DNS:b.test,DNS:*.b.test", cert_b,
			    key_b) != PG_OK)
		return -1;
	return 0;
}

static int
certs_teardown(void **state)
{
	(void)state;
	unlink(cert_a);
	unlink(key_a);
	unlink(cert_b);
	unlink(key_b);
	rmdir(tmpdir);
	return 0;
}

/* The certificate a.pem or b.pem, to compare with what a client got. */
static X509 *
load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

/* --- the application: pattern bytes both ways ---------------------------- */

static uint8_t
pattern(uint64_t i, int dir)
{
	return (uint8_t)((i * 131 + (i >> 9) + (uint64_t)dir * 7) & 0xff);
}

static int
end_data(struct pg_stream *s, struct rte_mbuf *m)
{
	struct end *e = s->ctx;

	if (e->refuse_every != 0 && ++e->calls % e->refuse_every == 0) {
		e->refused = 1;
		e->refusals++;
		return PG_AGAIN;
	}
	for (struct rte_mbuf *g = m; g != NULL; g = g->next) {
		const uint8_t *p = rte_pktmbuf_mtod(g, const uint8_t *);
		for (uint16_t i = 0; i < g->data_len; i++) {
			uint64_t at = e->rx + i;
			if (at < sizeof(e->first) - 1)
				e->first[at] = (char)p[i];
			else if (p[i] != pattern(at, !e->dir))
				e->bad++;
		}
		e->rx += g->data_len;
	}
	pg_mbuf_free(m);
	return PG_OK;
}

static void
end_eof(struct pg_stream *s)
{
	struct end *e = s->ctx;

	e->eof = 1;
	if (!e->keep_open) {
		pg_stream_close(s);
		e->st = NULL;
		e->gone = 1;
	}
}

static void
end_close(struct pg_stream *s, enum pg_tcp_reason why)
{
	struct end *e = s->ctx;

	e->closed = 1;
	e->reason = why;
	e->st = NULL;
	e->gone = 1;
}

static const struct pg_stream_cbs end_cbs = {
	.on_data = end_data, .on_eof = end_eof, .on_close = end_close,
};

static int
end_ready(struct pg_stream *s)
{
	struct end *e = s->ctx;

	assert_int_equal(s->tls, 1);
	e->st = s;
	e->ready = 1;
	e->proto = s->proto;
	s->cbs = &end_cbs;
	return PG_OK;
}

/* The first 63 bytes are a greeting, the rest the pattern. */
static uint8_t
end_byte(const struct end *e, uint64_t at, const char *hello)
{
	return at < sizeof(e->first) - 1 ? (uint8_t)hello[at % strlen(hello)]
					 : pattern(at, e->dir);
}

static struct rte_mbuf *
end_chain(struct end *e, uint32_t len, const char *hello)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	for (uint32_t done = 0; done < len;) {
		struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 1);
		assert_non_null(m);
		uint16_t k = (uint16_t)RTE_MIN(len - done,
					       (uint32_t)rte_pktmbuf_tailroom(m));
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, k);
		for (uint16_t i = 0; i < k; i++)
			p[i] = end_byte(e, e->tx + done + i, hello);
		done += k;
		pg_mbuf_chain_add(&head, &tail, m);
	}
	return head;
}

/* Send up to tx_goal, QUEUE_MAX queued at most. */
static void
end_pump(struct end *e, const char *hello)
{
	static uint8_t buf[16384];

	while (e->st != NULL && e->ready && e->tx < e->tx_goal
	       && pg_stream_queued(e->st) < QUEUE_MAX) {
		uint32_t k = (uint32_t)RTE_MIN(e->tx_goal - e->tx,
					       (uint64_t)sizeof(buf));
		int rc;
		if (e->use_send) {
			rc = pg_stream_send(e->st, end_chain(e, k, hello));
		} else {
			for (uint32_t i = 0; i < k; i++)
				buf[i] = end_byte(e, e->tx + i, hello);
			rc = pg_stream_write(e->st, buf, k);
		}
		assert_int_equal(rc, PG_OK);
		e->tx += k;
	}
}

/* --- TCP: the TLS listener and the raw client ---------------------------- */

static int
srv_accept(struct pg_tcp_conn *c, void *ctx)
{
	struct pg_stream *s = pg_tls_accept(T.srv_ctx, c, end_ready, &T.srv);

	T.accepts++;
	T.srv.dir = 1;
	if (s != NULL && T.refuse) {
		pg_tls_drop(s);
		return PG_ERROR;
	}
	return s != NULL ? PG_OK : PG_ERROR;
}

static int
raw_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	T.raw.rx += m->pkt_len;
	pg_mbuf_free(m);
	return PG_OK;
}

static void
raw_eof(struct pg_tcp_conn *c)
{
	T.raw.eof = 1;
	T.raw.eof_ns = T.sim.now_ns;
	pg_tcp_close(c);
	T.raw.c = NULL;
}

static void
raw_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	T.raw.closed = 1;
	T.raw.reason = why;
	T.raw.c = NULL;
}

static const struct pg_tcp_callbacks raw_cbs = {
	.on_data = raw_data, .on_eof = raw_eof, .on_close = raw_close,
};

/* --- the run ------------------------------------------------------------- */

typedef int (*stop_fn)(void);

static const char cli_hello[] = "hello from the client ";
static const char srv_hello[] = "hello from the server ";

static void
resume_refused(struct end *e, uint64_t *wake)
{
	if (!e->refused)
		return;
	e->refused = 0;
	if (e->st != NULL)
		pg_stream_recv_resume(e->st);
	if (e->refused && T.sim.now_ns + MS < *wake)
		*wake = T.sim.now_ns + MS;
}

static int
step(struct pg_tcp_sim *s, void *arg, uint64_t *wake)
{
	stop_fn stop = (stop_fn)arg;

	pg_tls_ctx_poll(T.srv_ctx, s->now_ns);
	pg_tls_ctx_poll(T.cli_ctx, s->now_ns);
	resume_refused(&T.cli, wake);
	resume_refused(&T.srv, wake);
	end_pump(&T.cli, cli_hello);
	end_pump(&T.srv, srv_hello);
	pg_tcp_sim_flush(s);
	if (stop != NULL && stop())
		return 1;
	*wake = RTE_MIN(*wake, pg_tls_ctx_next_timer(T.srv_ctx));
	*wake = RTE_MIN(*wake, pg_tls_ctx_next_timer(T.cli_ctx));
	return 0;
}

static enum pg_tcp_sim_end
run(stop_fn stop, uint64_t ms)
{
	return pg_tcp_sim_run(&T.sim, step, (void *)stop,
			      T.sim.now_ns + ms * MS);
}

static void
start(const struct pg_tls_conf *certs, unsigned n,
      const struct pg_tls_client_conf *cc)
{
	struct pg_sim_conf wc = { .delay_ns = 1 * MS, .seed = 1,
				  .queue_max = 4096 };
	struct pg_tcp_conf tc;
	const struct pg_tcp_conf *tcs[2] = { &tc, &tc };
	static const struct pg_tcp_callbacks cb = {
		.on_accept = srv_accept, PG_TLS_FORWARDERS,
	};
	struct pg_tls_client_conf dcc = { 0 };
	const char *err = NULL;

	memset(&T, 0, sizeof(T));
	pg_tcp_conf_default(&tc);
	tc.secret[0] = 1;
	tc.secret[1] = 2;
	tc.time_wait_ms = 1000;
	if (pg_tcp_sim_init(&T.sim, &wc, 1500, tcs, &err) != PG_OK)
		fail_msg("sim: %s", err);
	T.sim.trace = getenv("TLS_TRACE") != NULL;
	T.srv_ctx = pg_tls_ctx_new(certs, n, &err);
	if (T.srv_ctx == NULL)
		fail_msg("server ctx: %s", err);
	T.cli_ctx = pg_tls_ctx_client(cc != NULL ? cc : &dcc, &err);
	if (T.cli_ctx == NULL)
		fail_msg("client ctx: %s", err);
	if (pg_tcp_listen(T.sim.side[PG_TCP_SIM_SERVER].stack, PORT, &cb,
			  NULL, NULL, &err) == NULL)
		fail_msg("listen: %s", err);
}

/* One server certificate (a.pem) with the defaults, changed by f. */
static struct pg_tls_conf
conf_a(void)
{
	struct pg_tls_conf c;

	pg_tls_conf_default(&c);
	c.cert_file = cert_a;
	c.key_file = key_a;
	return c;
}

static void
start_a(const struct pg_tls_client_conf *cc)
{
	struct pg_tls_conf c = conf_a();
	start(&c, 1, cc);
}

/* A TLS client connection; the ends start afresh. */
static void
tls_connect(const char *sni, const char *alpn, SSL_SESSION *sess)
{
	static const struct pg_tcp_callbacks cb = { PG_TLS_FORWARDERS };
	struct pg_tls_peer peer = { .sni = sni, .alpn = alpn, .session = sess };
	const char *err = NULL;
	struct pg_tcp_conn *c;

	memset(&T.cli, 0, sizeof(T.cli));
	memset(&T.srv, 0, sizeof(T.srv));
	c = pg_tcp_connect(T.sim.side[PG_TCP_SIM_CLIENT].stack,
			   PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), PORT, &cb, NULL,
			   NULL, &err);
	assert_non_null(c);
	T.cli.st = pg_tls_connect(T.cli_ctx, c, &peer, end_ready, &T.cli,
				  &err);
	if (T.cli.st == NULL)
		fail_msg("pg_tls_connect: %s", err);
	T.cli.st->cbs = &end_cbs;    /* to hear of a failed handshake */
}

static void
raw_connect(const char *bytes, uint32_t len)
{
	const char *err = NULL;

	memset(&T.raw, 0, sizeof(T.raw));
	T.raw.c = pg_tcp_connect(T.sim.side[PG_TCP_SIM_CLIENT].stack,
				 PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), PORT,
				 &raw_cbs, NULL, NULL, &err);
	assert_non_null(T.raw.c);
	assert_int_equal(pg_tcp_write(T.raw.c, bytes, len), PG_OK);
}

static int
both_ready(void)
{
	return (T.cli.ready && T.srv.ready) || T.cli.gone || T.srv.gone;
}

static int
cli_gone(void)
{
	return T.cli.gone;
}

static int
both_gone(void)
{
	return T.cli.gone && T.srv.gone;
}

/* Each end received all the other meant to send. */
static int
greeted(void)
{
	return T.cli.rx >= T.srv.tx_goal && T.srv.rx >= T.cli.tx_goal;
}

static int
raw_done(void)
{
	return T.raw.c == NULL;
}

static const struct pg_tls_stats *
srv_stats(void)
{
	return pg_tls_ctx_stats(T.srv_ctx);
}

static const struct pg_tls_stats *
cli_stats(void)
{
	return pg_tls_ctx_stats(T.cli_ctx);
}

/* Greetings both ways, then the client closes: close_notify both ways. */
static void
converse_and_close(void)
{
	T.cli.tx_goal = strlen(cli_hello);
	T.srv.tx_goal = strlen(srv_hello);
	run(both_ready, 10000);
	assert_true(T.cli.ready && T.srv.ready);
	run(greeted, 10000);
	assert_true(greeted());
	assert_string_equal(T.cli.first, srv_hello);
	assert_string_equal(T.srv.first, cli_hello);
	pg_stream_close(T.cli.st);
	T.cli.st = NULL;
	T.cli.gone = 1;
	run(both_gone, 10000);
	assert_true(T.srv.eof);
}

static void
finish(void)
{
	run(NULL, 10000);          /* TIME_WAIT and the rest drain */
	pg_tcp_sim_fini(&T.sim);
	assert_int_equal(pg_tls_ctx_next_timer(T.srv_ctx), UINT64_MAX);
	assert_int_equal(pg_tls_ctx_next_timer(T.cli_ctx), UINT64_MAX);
	pg_tls_ctx_free(T.srv_ctx);
	pg_tls_ctx_free(T.cli_ctx);
	pg_test_assert_no_leak();
}

/* --- tests --------------------------------------------------------------- */

static void
test_tls13_h2(void **state)
{
	(void)state;
	start_a(NULL);
	tls_connect("a.test", "h2,http/1.1", NULL);
	run(both_ready, 10000);
	assert_int_equal(SSL_version(pg_tls_ssl(T.cli.st)), TLS1_3_VERSION);
	assert_int_equal(SSL_version(pg_tls_ssl(T.srv.st)), TLS1_3_VERSION);
	assert_int_equal(T.cli.proto, PG_PROTO_HTTP2);
	assert_int_equal(T.srv.proto, PG_PROTO_HTTP2);
	converse_and_close();
	assert_int_equal(srv_stats()->handshakes, 1);
	assert_int_equal(srv_stats()->tls13, 1);
	assert_int_equal(srv_stats()->alpn_h2, 1);
	assert_int_equal(cli_stats()->alpn_h2, 1);
	assert_int_equal(cli_stats()->close_notify_sent, 1);
	assert_int_equal(srv_stats()->close_notify_recv, 1);
	assert_int_equal(srv_stats()->close_notify_sent, 1);
	assert_int_equal(srv_stats()->truncated, 0);
	assert_int_equal(srv_stats()->bytes_in, strlen(cli_hello));
	assert_int_equal(srv_stats()->bytes_out, strlen(srv_hello));
	assert_false(T.cli.closed || T.srv.closed);
	finish();
}

static void
test_tls12(void **state)
{
	struct pg_tls_client_conf cc = { .max_version = TLS1_2_VERSION };
	(void)state;

	start_a(&cc);
	tls_connect("a.test", "http/1.1", NULL);
	run(both_ready, 10000);
	assert_int_equal(SSL_version(pg_tls_ssl(T.srv.st)), TLS1_2_VERSION);
	assert_string_equal(SSL_get_cipher_name(pg_tls_ssl(T.srv.st)),
			    "ECDHE-ECDSA-AES128-GCM-SHA256");
	assert_int_equal(T.cli.proto, PG_PROTO_HTTP1);
	assert_int_equal(T.srv.proto, PG_PROTO_HTTP1);
	converse_and_close();
	assert_int_equal(srv_stats()->handshakes, 1);
	assert_int_equal(srv_stats()->tls13, 0);
	assert_int_equal(srv_stats()->alpn_http1, 1);
	assert_int_equal(srv_stats()->close_notify_recv, 1);
	finish();
}

/* No ALPN: HTTP/1.1. The server's preference wins. None in common: fail. */
static void
test_alpn(void **state)
{
	struct pg_tls_conf c = conf_a();
	(void)state;

	start_a(NULL);
	tls_connect("a.test", NULL, NULL);
	run(both_ready, 10000);
	assert_int_equal(T.srv.proto, PG_PROTO_HTTP1);
	assert_int_equal(T.cli.proto, PG_PROTO_HTTP1);
	assert_int_equal(srv_stats()->alpn_none, 1);
	converse_and_close();

	tls_connect("a.test", "spdy/3.1", NULL);
	run(cli_gone, 10000);
	run(NULL, 100);              /* the alert reaches the other side */
	assert_true(T.cli.closed);
	assert_false(T.srv.ready);
	assert_int_equal(srv_stats()->fail_alpn, 1);
	assert_int_equal(cli_stats()->fail_alpn, 1);
	finish();

	c.alpn = "http/1.1";
	start(&c, 1, NULL);
	tls_connect("a.test", "h2,http/1.1", NULL);
	run(both_ready, 10000);
	assert_int_equal(T.srv.proto, PG_PROTO_HTTP1);
	assert_int_equal(srv_stats()->alpn_http1, 1);
	converse_and_close();
	finish();
}

/* Connect with sni: the client must get the certificate in file path. */
static void
sni_gets(const char *sni, const char *path)
{
	X509 *want = load_cert(path), *got;

	tls_connect(sni, "h2", NULL);
	run(both_ready, 10000);
	assert_true(T.cli.ready);
	got = SSL_get1_peer_certificate(pg_tls_ssl(T.cli.st));
	assert_non_null(got);
	if (X509_cmp(got, want) != 0)
		fail_msg("SNI %s: not the certificate %s", sni, path);
	X509_free(got);
	X509_free(want);
	converse_and_close();
}

/* SNI picks the certificate: names in it, wildcards, or the conf's. */
static void
test_sni(void **state)
{
	struct pg_tls_conf c[2] = { conf_a(), conf_a() };
	(void)state;

	c[1].cert_file = cert_b;
	c[1].key_file = key_b;
	start(c, 2, NULL);
	sni_gets("b.test", cert_b);
	sni_gets("x.b.test", cert_b);
	sni_gets("a.test", cert_a);
	sni_gets("other.test", cert_a);      /* unknown: the default */
	sni_gets(NULL, cert_a);
	finish();

	/* server_names replaces the names in the certificate */
	c[1].server_names = "c.test,*.c.test";
	start(c, 2, NULL);
	sni_gets("c.test", cert_b);
	sni_gets("x.c.test", cert_b);
	sni_gets("b.test", cert_a);
	finish();
}

/* A verifying client: the right name passes, a wrong one fails. */
static void
test_verify(void **state)
{
	struct pg_tls_client_conf cc = { .verify = 1, .ca_file = cert_a };
	(void)state;

	start_a(&cc);
	tls_connect("a.test", "h2", NULL);
	run(both_ready, 10000);
	assert_true(T.cli.ready);
	assert_int_equal(SSL_get_verify_result(pg_tls_ssl(T.cli.st)), X509_V_OK);
	converse_and_close();
	tls_connect("wrong.test", "h2", NULL);
	run(cli_gone, 10000);
	run(NULL, 100);              /* the alert reaches the other side */
	assert_true(T.cli.closed);
	assert_int_equal(cli_stats()->fail_cert, 1);
	assert_int_equal(srv_stats()->fail_cert, 1);
	finish();
}

/* A full handshake, then one resumed from its ticket. */
static SSL_SESSION *
first_session(void)
{
	SSL_SESSION *sess;

	tls_connect("a.test", "h2", NULL);
	T.cli.keep_open = 1;
	T.cli.tx_goal = strlen(cli_hello);
	T.srv.tx_goal = strlen(srv_hello);
	run(both_ready, 10000);
	run(greeted, 10000);
	assert_true(greeted());
	assert_int_equal(SSL_session_reused(pg_tls_ssl(T.cli.st)), 0);
	sess = SSL_get1_session(pg_tls_ssl(T.cli.st));
	assert_non_null(sess);
	assert_true(SSL_SESSION_is_resumable(sess));
	pg_stream_close(T.cli.st);
	T.cli.st = NULL;
	T.cli.gone = 1;
	run(both_gone, 10000);
	return sess;
}

static int
resumes(SSL_SESSION *sess)
{
	int reused;

	tls_connect("a.test", "h2", sess);
	run(both_ready, 10000);
	assert_true(T.cli.ready && T.srv.ready);
	reused = SSL_session_reused(pg_tls_ssl(T.cli.st));
	assert_int_equal(SSL_session_reused(pg_tls_ssl(T.srv.st)), reused);
	converse_and_close();
	return reused;
}

static void
resumption(uint16_t max_version)
{
	struct pg_tls_client_conf cc = { .max_version = max_version };
	SSL_SESSION *sess;

	start_a(&cc);
	sess = first_session();
	assert_true(resumes(sess));
	assert_int_equal(srv_stats()->handshakes, 2);
	assert_int_equal(srv_stats()->resumed, 1);
	SSL_SESSION_free(sess);
	finish();
}

static void
test_resume13(void **state)
{
	(void)state;
	resumption(0);
}

static void
test_resume12(void **state)
{
	(void)state;
	resumption(TLS1_2_VERSION);
}

/* Tickets: off means no resumption. */
static void
test_no_tickets(void **state)
{
	struct pg_tls_conf c = conf_a();
	SSL_SESSION *sess;
	(void)state;

	c.session_tickets = 0;
	start(&c, 1, NULL);
	tls_connect("a.test", "h2", NULL);
	T.srv.tx_goal = strlen(srv_hello);
	run(both_ready, 10000);
	run(greeted, 10000);
	assert_true(greeted());
	sess = SSL_get1_session(pg_tls_ssl(T.cli.st));
	pg_stream_close(T.cli.st);
	T.cli.st = NULL;
	T.cli.gone = 1;
	run(both_gone, 10000);
	assert_false(resumes(sess));
	assert_int_equal(srv_stats()->resumed, 0);
	SSL_SESSION_free(sess);
	finish();
}

/* A ticket sealed with a key two rotations old resumes; three: no more. */
static void
test_ticket_rotation(void **state)
{
	struct pg_tls_conf c = conf_a();
	SSL_SESSION *sess;
	(void)state;

	c.ticket_rotate_s = 10;
	start(&c, 1, NULL);
	sess = first_session();                       /* period 0 */
	pg_tcp_sim_set_time(&T.sim, 11000 * MS);      /* period 1 */
	assert_true(resumes(sess));
	pg_tcp_sim_set_time(&T.sim, 21000 * MS);      /* period 2 */
	assert_true(resumes(sess));
	pg_tcp_sim_set_time(&T.sim, 31000 * MS);      /* period 3 */
	assert_false(resumes(sess));
	assert_int_equal(srv_stats()->resumed, 2);
	assert_int_equal(srv_stats()->handshakes, 4);
	SSL_SESSION_free(sess);
	finish();
}

/* 4 MiB each way at once, both receivers refusing now and then. */
static void
test_large_transfer(void **state)
{
	const uint64_t n = 4u << 20;
	(void)state;

	start_a(NULL);
	tls_connect("a.test", "h2", NULL);
	T.cli.tx_goal = T.srv.tx_goal = n;
	T.cli.refuse_every = 7;
	T.srv.refuse_every = 5;
	T.srv.use_send = 1;
	T.srv.keep_open = 1;
	run(both_ready, 10000);
	run(greeted, 600000);
	assert_int_equal(T.cli.rx, n);
	assert_int_equal(T.srv.rx, n);
	assert_int_equal(T.cli.bad, 0);
	assert_int_equal(T.srv.bad, 0);
	assert_true(T.cli.refusals > 0 && T.srv.refusals > 0);
	assert_int_equal(srv_stats()->bytes_in, n);
	assert_int_equal(srv_stats()->bytes_out, n);
	/* the server shuts down: close_notify, FIN; the client closes */
	pg_stream_shutdown(T.srv.st);
	run(NULL, 100);
	assert_true(T.cli.eof && T.cli.gone);
	assert_int_equal(cli_stats()->close_notify_recv, 1);
	/* the client's close_notify, then TCP done both ways */
	assert_true(T.srv.eof && T.srv.closed);
	assert_int_equal(T.srv.reason, PG_TCP_DONE);
	assert_int_equal(srv_stats()->close_notify_recv, 1);
	finish();
}

/* FIN without close_notify: on_eof all the same, counted as truncated. */
static void
test_truncated(void **state)
{
	(void)state;
	start_a(NULL);
	tls_connect("a.test", "h2", NULL);
	run(both_ready, 10000);
	pg_tcp_shutdown(T.cli.st->tcp);
	T.cli.keep_open = 1;
	run(NULL, 100);
	assert_true(T.srv.eof && T.srv.gone);
	assert_int_equal(srv_stats()->truncated, 1);
	assert_int_equal(srv_stats()->close_notify_recv, 0);
	run(NULL, 100);
	assert_true(T.cli.eof && T.cli.closed);
	assert_int_equal(T.cli.reason, PG_TCP_DONE);
	assert_int_equal(cli_stats()->close_notify_recv, 1);
	finish();
}

/* Plain HTTP or binary junk to a TLS port: a clean close, counted. */
static void
test_garbage(void **state)
{
	static const char junk[] = "\x16\x03\x01\x00\x08\x01\x00\x00\x04zzzz";
	(void)state;

	start_a(NULL);
	raw_connect("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", 33);
	run(raw_done, 10000);
	assert_true(T.raw.eof);
	assert_false(T.raw.closed);
	assert_int_equal(srv_stats()->fail_garbage, 1);
	raw_connect(junk, sizeof(junk) - 1);
	run(raw_done, 10000);
	assert_true(T.raw.eof);
	assert_int_equal(srv_stats()->fail_garbage, 2);
	assert_int_equal(srv_stats()->handshakes, 0);
	finish();
}

/* Half a ClientHello, then silence: closed at the handshake timeout. */
static void
test_stall(void **state)
{
	struct pg_tls_conf c = conf_a();
	static const char part[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	uint64_t t0;
	(void)state;

	c.handshake_timeout_ms = 2000;
	start(&c, 1, NULL);
	t0 = T.sim.now_ns;
	raw_connect(part, sizeof(part) - 1);
	run(raw_done, 10000);
	assert_true(T.raw.eof);
	assert_true(T.raw.eof_ns - t0 >= 2000 * MS);
	assert_true(T.raw.eof_ns - t0 < 2100 * MS);
	assert_int_equal(srv_stats()->fail_timeout, 1);
	finish();
}

/* The client wants 1.2 at most, the server 1.3 at least. */
static void
test_version_mismatch(void **state)
{
	struct pg_tls_conf c = conf_a();
	struct pg_tls_client_conf cc = { .max_version = TLS1_2_VERSION };
	(void)state;

	c.min_version = TLS1_3_VERSION;
	start(&c, 1, &cc);
	tls_connect("a.test", "h2", NULL);
	run(cli_gone, 10000);
	run(NULL, 100);              /* the alert reaches the other side */
	assert_true(T.cli.closed);
	assert_int_equal(srv_stats()->fail_version, 1);
	assert_int_equal(cli_stats()->fail_version, 1);
	finish();
}

/* A stream the server took and then refused: nothing leaks, reset. */
static void
test_accept_refused(void **state)
{
	(void)state;
	start_a(NULL);
	T.refuse = 1;
	tls_connect("a.test", "h2", NULL);
	run(cli_gone, 10000);
	run(NULL, 100);              /* the alert reaches the other side */
	assert_true(T.cli.closed);
	assert_int_equal(T.cli.reason, PG_TCP_RESET);
	assert_int_equal(T.accepts, 1);
	assert_int_equal(cli_stats()->fail_closed, 1);
	assert_int_equal(srv_stats()->handshakes, 0);
	finish();
}

/* Bad configurations are refused with a reason. */
static void
test_bad_conf(void **state)
{
	struct pg_tls_conf c = conf_a();
	const char *err = NULL;
	(void)state;

	c.key_file = key_b;
	assert_null(pg_tls_ctx_new(&c, 1, &err));
	assert_non_null(strstr(err, "does not match"));
	c = conf_a();
	c.cert_file = "/nonexistent.pem";
	assert_null(pg_tls_ctx_new(&c, 1, &err));
	assert_non_null(strstr(err, "certificate file"));
	c = conf_a();
	c.alpn = "h2,,http/1.1";
	assert_null(pg_tls_ctx_new(&c, 1, &err));
	assert_non_null(strstr(err, "ALPN"));
	assert_null(pg_tls_ctx_new(&c, 0, &err));
	ERR_clear_error();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls13_h2),
		cmocka_unit_test(test_tls12),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_resume13),
		cmocka_unit_test(test_resume12),
		cmocka_unit_test(test_no_tickets),
		cmocka_unit_test(test_ticket_rotation),
		cmocka_unit_test(test_large_transfer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_version_mismatch),
		cmocka_unit_test(test_accept_refused),
		cmocka_unit_test(test_bad_conf),
	};
	return cmocka_run_group_tests(tests, certs_setup, certs_teardown);
}
