/*
 * An HTTP/1.1 server on the simulated wire, and a raw TCP client that
 * writes bytes and records every byte it receives: the harness of the h1
 * tests. Virtual clock; Date off so responses compare exactly.
 *
 *   h1t_start(&conf)        sim + server (conf may be NULL: defaults)
 *   h1t_connect()           the client connects; h1t_send() writes
 *   h1t_run(stop, ms)       run until stop() says so or ms pass (virtual)
 *   h1t_finish()            close everything, check nothing leaked
 *
 * The test application (h1t_app) answers each request with
 * "<METHOD> <path> [<body>]" unless the test sets its own handler.
 *
 * Include after tests/unit/pg_test.h.
 */
#ifndef PG_H1_SIM_H
#define PG_H1_SIM_H

#include "http/pg_h1.h"
#include "tests/unit/net/pg_tcp_sim.h"

#define H1T_PORT 80
#define H1T_MS   PG_TCP_SIM_MS

struct h1t_client {
	struct pg_tcp_conn *c;
	char rx[65536];
	uint32_t rxlen;
	uint64_t rxtotal;              /* rx keeps the first 64 KiB only */
	int connected, eof, closed, reason;
	uint64_t eof_ns;
};

struct h1t {
	struct pg_tcp_sim sim;
	struct pg_h1_server *srv;
	struct pg_h1_conf conf;
	struct pg_http_stats stats;
	struct h1t_client cli;
	/* the application */
	int async_ms;                  /* answer that many ms later (0: now) */
	int stream;                    /* answer with a body of unknown length */
	struct pg_http_xchg *pending;
	uint64_t pending_at;
	unsigned requests, closes;
	unsigned logs;                 /* on_log calls; the last one: */
	struct pg_http_xchg_log log;
	char log_method[16], log_target[256];
	char last_trailer[64];
	char queued[4096];             /* written at h1t_connect */
	uint32_t queued_len;
};

static struct h1t T;

/* --- client -------------------------------------------------------------- */

static int
h1t_cli_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	T.cli.rxtotal += m->pkt_len;
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		uint32_t k = RTE_MIN((uint32_t)s->data_len,
				     (uint32_t)sizeof(T.cli.rx) - 1 - T.cli.rxlen);
		memcpy(T.cli.rx + T.cli.rxlen, rte_pktmbuf_mtod(s, char *), k);
		T.cli.rxlen += k;
	}
	T.cli.rx[T.cli.rxlen] = 0;
	pg_mbuf_free(m);
	return PG_OK;
}

static void
h1t_cli_eof(struct pg_tcp_conn *c)
{
	T.cli.eof = 1;
	T.cli.eof_ns = T.sim.now_ns;
	pg_tcp_close(c);
	T.cli.c = NULL;
	T.cli.closed = 1;
}

static void
h1t_cli_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	T.cli.closed = 1;
	T.cli.reason = why;
	T.cli.c = NULL;
}

static void
h1t_send(const char *s, uint32_t len)
{
	if (T.cli.c == NULL || !T.cli.connected) {
		assert_true(T.queued_len + len <= sizeof(T.queued));
		memcpy(T.queued + T.queued_len, s, len);
		T.queued_len += len;
		return;
	}
	assert_int_equal(pg_tcp_write(T.cli.c, s, len), PG_OK);
}

#define h1t_sends(s) h1t_send((s), (uint32_t)strlen(s))

static void
h1t_cli_connected(struct pg_tcp_conn *c)
{
	T.cli.connected = 1;
	if (T.queued_len > 0)
		assert_int_equal(pg_tcp_write(c, T.queued, T.queued_len), PG_OK);
	T.queued_len = 0;
}

static const struct pg_tcp_callbacks h1t_cli_cbs = {
	.on_connected = h1t_cli_connected, .on_data = h1t_cli_data,
	.on_eof = h1t_cli_eof, .on_close = h1t_cli_close,
};

static void
h1t_connect(void)
{
	const char *err;
	T.cli.c = pg_tcp_connect(T.sim.side[PG_TCP_SIM_CLIENT].stack,
				 PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), H1T_PORT,
				 &h1t_cli_cbs, NULL, NULL, &err);
	assert_non_null(T.cli.c);
}

/* --- the application ----------------------------------------------------- */

/* The test application keeps each exchange's request as its context. */
static inline struct pg_http_msg *
h1t_req(struct pg_http_xchg *x)
{
	return x->ctx;
}

static void
h1t_answer(struct pg_http_xchg *h)
{
	struct pg_http_msg *q = h1t_req(h);
	struct pg_http_field f = { { "Content-Type", 12 }, { "text/plain", 10 } };
	struct pg_http_msg r = { .status = 200, .fields = &f, .nheaders = 1 };
	char body[2048];
	const char *err;
	int n = snprintf(body, sizeof(body), "%.*s %.*s",
			 (int)q->method_name.len, q->method_name.ptr,
			 (int)q->path.len, q->path.ptr);
	const struct pg_http_str *st = pg_http_msg_header(q, "x-status");

	if (st != NULL)
		r.status = (uint16_t)atoi(st->ptr);
	if (q->body_len > 0) {
		body[n++] = ' ';
		n += (int)pg_http_xchg_body_read(h, body + n, sizeof(body) - n - 1);
	}
	if (T.stream) {
		assert_int_equal(pg_http_xchg_respond(h, &r, -1, 0, &err), PG_OK);
		assert_int_equal(pg_http_xchg_write(h, body, 3, 0), PG_OK);
		assert_int_equal(pg_http_xchg_write(h, body + 3, (uint32_t)n - 3, 1),
				 PG_OK);
		return;
	}
	assert_int_equal(pg_http_xchg_respond(h, &r, n, 0, &err), PG_OK);
	assert_int_equal(pg_http_xchg_write(h, body, (uint32_t)n, 1), PG_OK);
}

static void
h1t_on_request_end(struct pg_http_xchg *h)
{
	struct pg_http_msg *q = h1t_req(h);
	if (q->ntrailers > 0)
		snprintf(T.last_trailer, sizeof(T.last_trailer), "%.*s: %.*s",
			 (int)q->fields[q->nheaders].name.len,
			 q->fields[q->nheaders].name.ptr,
			 (int)q->fields[q->nheaders].value.len,
			 q->fields[q->nheaders].value.ptr);
	if (T.async_ms > 0) {
		T.pending = h;
		T.pending_at = T.sim.now_ns + (uint64_t)T.async_ms * H1T_MS;
		return;
	}
	h1t_answer(h);
}

static void
h1t_on_request(struct pg_http_xchg *h, struct pg_http_msg *q)
{
	h->ctx = q;
	T.requests++;
}

static void
h1t_on_close(struct pg_http_xchg *h)
{
	T.closes++;
	if (T.pending == h)
		T.pending = NULL;
}

static void
h1t_on_log(struct pg_http_xchg *h, const struct pg_http_xchg_log *l)
{
	T.logs++;
	T.log = *l;
	snprintf(T.log_method, sizeof(T.log_method), "%.*s",
		 (int)l->method.len, l->method.ptr);
	snprintf(T.log_target, sizeof(T.log_target), "%.*s",
		 (int)l->target.len, l->target.ptr);
}

static struct pg_http_xchg_handler h1t_handler = {
	.on_request = h1t_on_request, .on_request_end = h1t_on_request_end,
	.on_close = h1t_on_close, .on_log = h1t_on_log,
};

/* --- run ----------------------------------------------------------------- */

typedef int (*h1t_stop_fn)(void);

static int
h1t_step(struct pg_tcp_sim *s, void *arg, uint64_t *wake)
{
	h1t_stop_fn stop = (h1t_stop_fn)arg;

	pg_h1_server_poll(T.srv);
	if (T.pending != NULL && s->now_ns >= T.pending_at) {
		struct pg_http_xchg *h = T.pending;
		T.pending = NULL;
		h1t_answer(h);
	}
	pg_tcp_sim_flush(s);
	if (stop != NULL && stop())
		return 1;
	if (T.pending != NULL && T.pending_at < *wake)
		*wake = T.pending_at;
	uint64_t t = pg_h1_server_next_timer(T.srv);
	if (t < *wake)
		*wake = t;
	return 0;
}

static enum pg_tcp_sim_end
h1t_run(h1t_stop_fn stop, uint64_t ms)
{
	return pg_tcp_sim_run(&T.sim, h1t_step, (void *)stop,
			      T.sim.now_ns + ms * H1T_MS);
}

/* Stop once the client's connection is gone and the server has none. */
static int
h1t_all_closed(void)
{
	return T.cli.closed && pg_h1_server_conns(T.srv) == 0;
}

static void
h1t_start(const struct pg_h1_conf *conf)
{
	struct pg_sim_conf wc = { .delay_ns = 1 * H1T_MS, .seed = 1,
				  .queue_max = 4096 };
	struct pg_tcp_conf tc;
	const struct pg_tcp_conf *tcs[2] = { &tc, &tc };
	const char *err = NULL;

	memset(&T, 0, sizeof(T));
	pg_tcp_conf_default(&tc);
	tc.secret[0] = 1;
	tc.secret[1] = 2;
	tc.time_wait_ms = 1000;
	if (pg_tcp_sim_init(&T.sim, &wc, 1500, tcs, &err) != PG_OK)
		fail_msg("sim: %s", err);
	if (conf != NULL) {
		T.conf = *conf;
	} else {
		pg_h1_conf_default(&T.conf);
		T.conf.date = 0;
	}
	T.srv = pg_h1_server_create(&T.sim.side[PG_TCP_SIM_SERVER].nif,
				    &T.conf, &h1t_handler, NULL, &T.stats,
				    &err);
	if (T.srv == NULL)
		fail_msg("h1 server: %s", err);
	assert_int_equal(pg_h1_listen(T.srv,
				      T.sim.side[PG_TCP_SIM_SERVER].stack,
				      H1T_PORT, &err), PG_OK);
}

/* A test's default conf: defaults with Date off. */
static struct pg_h1_conf
h1t_conf(void)
{
	struct pg_h1_conf c;
	pg_h1_conf_default(&c);
	c.date = 0;
	return c;
}

static void
h1t_finish(void)
{
	if (getenv("H1T_TRACE"))
		printf("# before fini: %u free, conns %u, cli closed %d\n",
		       rte_mempool_avail_count(pg_test_pool),
		       pg_h1_server_conns(T.srv), T.cli.closed);
	pg_tcp_sim_fini(&T.sim);
	pg_h1_server_destroy(T.srv);
	T.srv = NULL;
	pg_test_assert_no_leak();
}

/* One connection: send req, run until everything closed (or ms pass). */
static void
h1t_exchange(const struct pg_h1_conf *conf, const char *req, uint64_t ms)
{
	h1t_start(conf);
	h1t_sends(req);
	h1t_connect();
	T.sim.trace = getenv("H1T_TRACE") != NULL;
	enum pg_tcp_sim_end e = h1t_run(h1t_all_closed, ms);
	if (getenv("H1T_TRACE"))
		printf("# end %s conns %u req %lu\n", pg_tcp_sim_end_names[e],
		       pg_h1_server_conns(T.srv), T.stats.requests);
}

#endif
