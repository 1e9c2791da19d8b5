/*
 * TCP soak: thousands of seeded scenarios over the simulated wire (loss,
 * duplication, corruption, reordering, delay, bandwidth, tiny MSS, tiny
 * and zero receive windows, parallel connections, data both ways, half
 * close, close). Every byte must arrive once and in order, on_eof after
 * the last one, both ends must end the way the scenario says, TIME_WAIT
 * must last its time, and nothing may stay allocated.
 *
 *   PG_SOAK_SCENARIOS=N   run seeds 1..N (default 10000)
 *   PG_SOAK_SEED=S        run seed S alone, describing it
 *   PG_SOAK_VERBOSE=1     describe every scenario
 *   PG_SOAK_SHOW=N        print the first N failures (default 20)
 *   PG_SOAK_TRACE=1       print every TCP segment sent and received
 *
 * A failure prints its seed, its parameters and what went wrong; the
 * seed replays it exactly.
 */
#include "tests/unit/pg_test.h"

#include "net/pg_tcp_priv.h"
#include "tests/unit/net/pg_tcp_sim.h"
#include "tests/unit/net/pg_tcp_soak_plan.h"

#define SOAK_DEFAULT    10000
#define SOAK_PORT       8080
#define SOAK_DEADLINE   (2 * 3600 * 1000 * PG_TCP_SIM_MS)  /* virtual */
#define SOAK_RESERVE    1500       /* free mbufs the application leaves */
/*
 * Stack bugs the soak finds today (branch tcp-soak, report of its
 * author). While this is set a failing batch is reported as skipped, not
 * failed, so that "make check" stays green; empty it once they are fixed.
 */
#define SOAK_FAILS_SHOWN 20
#define SOAK_LEAK_MAX   300        /* leaked mbufs before the batch stops */
#define MS              PG_TCP_SIM_MS

/* --- the application ----------------------------------------------------- */

struct soak;

/* One end of one connection, as its application sees it. */
struct soak_end {
	struct soak *sk;
	unsigned conn, side;
	struct pg_tcp_conn *c;         /* NULL once let go or closed */
	uint64_t sent, rcvd;           /* handed to the stack / verified */
	uint8_t connecting, opened, may_send, shut, eof, let_go, closes;
	uint8_t reason;
	uint8_t waiting;               /* for the plan's resume callback */
	uint8_t refusals_left;
	uint64_t refuse_at;            /* byte count starting an episode */
	uint64_t refuse_until;         /* 0: accepting */
	uint64_t tw_seen_ns;           /* first seen in TIME_WAIT */
	uint64_t done_ns;              /* both directions finished */
	uint16_t lport;                /* client: its ephemeral port */
};

struct soak {
	struct soak_plan plan;
	struct pg_tcp_sim sim;
	struct pg_tcp_listener *listener;
	struct soak_end end[SOAK_MAX_CONNS][2];
	uint64_t rng;                  /* the application's choices */
	uint64_t start_ns;
	unsigned finished;             /* ends done with everything */
	uint64_t conns_zero_ns[2];     /* when each stack last reached 0 */
	char fail[512];
};

static void soak_failf(struct soak *sk, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remember the first failure only: it is the cause, the rest follow. */
static void
soak_failf(struct soak *sk, const char *fmt, ...)
{
	va_list ap;
	if (sk->fail[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(sk->fail, sizeof(sk->fail), fmt, ap);
	va_end(ap);
}

static const char *const side_names[] = { "client", "server" };
static const char *const dir_names[] = { "client->server", "server->client" };

/* Byte off of the stream side sends on connection conn. */
static inline uint8_t
soak_byte(uint64_t seed, unsigned conn, unsigned side, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull
		     ^ (seed << 8 | conn << 1 | side) * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	x *= 0x94D049BB133111EBull;
	return (uint8_t)(x >> 32);
}

static void
soak_fill(const struct soak_end *e, uint8_t *p, uint64_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = soak_byte(e->sk->plan.seed, e->conn, e->side, off + i);
}

static uint32_t
soak_len_out(const struct soak_end *e)
{
	return e->sk->plan.conn[e->conn].len[e->side];
}

static uint32_t
soak_len_in(const struct soak_end *e)
{
	return e->sk->plan.conn[e->conn].len[!e->side];
}

/* A chain of 1..4 mbufs holding n pattern bytes from off; NULL if no mbuf. */
static struct rte_mbuf *
soak_chain(struct soak_end *e, uint64_t off, uint32_t n)
{
	unsigned segs = 1 + rnd_below(&e->sk->rng, 4);
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (n > 0) {
		struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 1);
		if (m == NULL) {
			pg_mbuf_free(head);
			return NULL;
		}
		uint32_t take = segs-- <= 1 ? n : 1 + rnd_below(&e->sk->rng, n);
		take = RTE_MIN(take, (uint32_t)rte_pktmbuf_tailroom(m));
		soak_fill(e, (uint8_t *)rte_pktmbuf_append(m, (uint16_t)take),
			  off, take);
		off += take;
		n -= take;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += take;
		}
		tail = m;
	}
	return head;
}

/* Hand the stack one piece of the stream; PG_AGAIN when out of mbufs. */
static int
soak_send_piece(struct soak_end *e, uint32_t n)
{
	struct soak *sk = e->sk;
	int how = sk->plan.send_mix == 2 ? (int)rnd_below(&sk->rng, 2)
					 : sk->plan.send_mix;
	int rc;

	if (how == 0) {
		uint8_t buf[8192];
		soak_fill(e, buf, e->sent, n);
		rc = pg_tcp_write(e->c, buf, n);
	} else {
		struct rte_mbuf *m = soak_chain(e, e->sent, n);
		if (m == NULL)
			return PG_AGAIN;
		rc = pg_tcp_send(e->c, m);
	}
	if (rc != PG_OK) {
		soak_failf(sk, "conn %u %s: pg_tcp_%s refused %u bytes at "
			   "byte %" PRIu64 " (state %s)", e->conn,
			   dir_names[e->side], how ? "send" : "write", n,
			   e->sent, pg_tcp_state_names[pg_tcp_conn_state(e->c)]);
		return PG_ERROR;
	}
	e->sent += n;
	return PG_OK;
}

static void soak_maybe_finish(struct soak_end *e);

/*
 * Send while the queue is under the high-water mark, then shut down once
 * everything is queued. Every chunk is at least 256 bytes (or the rest)
 * so a tiny chunk cannot pin a whole mbuf each. Past the high-water mark
 * only the plan's resume callback (on_writable or on_acked) goes on; when
 * the pool runs low the next pass of the loop does.
 */
static void
soak_push(struct soak_end *e)
{
	struct soak *sk = e->sk;
	uint32_t len = soak_len_out(e);

	if (e->c == NULL || !e->may_send || e->shut || e->waiting)
		return;
	while (e->sent < len
	       && rte_mempool_avail_count(pg_test_pool) > SOAK_RESERVE) {
		if (pg_tcp_queued(e->c) >= sk->plan.hiwat) {
			e->waiting = 1;
			return;
		}
		uint32_t n = RTE_MIN(len - (uint32_t)e->sent,
				     256 + rnd_below(&sk->rng, 8192 - 256));
		if (soak_send_piece(e, n) != PG_OK)
			return;
	}
	if (e->sent == len) {
		e->shut = 1;
		pg_tcp_shutdown(e->c);
		soak_maybe_finish(e);
	}
}

/* Both directions are done: close or keep holding for on_close. */
static void
soak_maybe_finish(struct soak_end *e)
{
	struct soak *sk = e->sk;
	if (e->done_ns != 0 || !e->shut || !e->eof)
		return;
	e->done_ns = sk->sim.now_ns;
	if (sk->plan.conn[e->conn].end_mode[e->side] == END_CLOSE) {
		struct pg_tcp_conn *c = e->c;
		e->c = NULL;
		e->let_go = 1;
		sk->finished++;
		pg_tcp_close(c);
	}
}

static void
soak_open(struct soak_end *e, struct pg_tcp_conn *c)
{
	struct soak *sk = e->sk;
	unsigned order = sk->plan.conn[e->conn].order;

	if (e->opened++)
		soak_failf(sk, "conn %u %s: opened twice", e->conn,
			   side_names[e->side]);
	e->c = c;
	e->may_send = order == ORDER_BOTH
		      || (order == ORDER_CLIENT_FIRST) == (e->side == 0);
	soak_push(e);
}

static void
soak_on_connected(struct pg_tcp_conn *c)
{
	soak_open(pg_tcp_ctx(c), c);
}

static int
soak_on_accept(struct pg_tcp_conn *c, void *listen_ctx)
{
	struct soak *sk = listen_ctx;
	uint32_t la, ra;
	uint16_t lp, rport;

	pg_tcp_endpoints(c, &la, &lp, &ra, &rport);
	for (unsigned k = 0; k < sk->plan.nconns; k++) {
		struct soak_end *cl = &sk->end[k][0];
		if (cl->lport == rport && !sk->end[k][1].opened) {
			pg_tcp_set_ctx(c, &sk->end[k][1]);
			soak_open(&sk->end[k][1], c);
			return PG_OK;
		}
	}
	soak_failf(sk, "server accepted a connection from port %u that no "
		   "client opened", rport);
	return PG_ERROR;
}

/* Verify the chain against the pattern; 0 and a failure if it differs. */
static int
soak_verify(struct soak_end *e, struct rte_mbuf *m)
{
	uint32_t len = soak_len_in(e);
	unsigned from = !e->side;

	if (e->eof)
		soak_failf(e->sk, "conn %u %s: %u bytes after on_eof", e->conn,
			   dir_names[from], m->pkt_len);
	if (e->rcvd + m->pkt_len > len)
		soak_failf(e->sk, "conn %u %s: %" PRIu64 " bytes arrived, only "
			   "%u were sent", e->conn, dir_names[from],
			   e->rcvd + m->pkt_len, len);
	if (rte_pktmbuf_pkt_len(m) != m->pkt_len || m->pkt_len == 0)
		soak_failf(e->sk, "conn %u %s: on_data with an empty chain",
			   e->conn, dir_names[from]);
	for (struct rte_mbuf *s = m; s != NULL && e->sk->fail[0] == '\0';
	     s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
		for (uint16_t i = 0; i < s->data_len; i++, e->rcvd++)
			if (p[i] != soak_byte(e->sk->plan.seed, e->conn, from,
					      e->rcvd)) {
				soak_failf(e->sk, "conn %u %s: byte %" PRIu64
					   " differs (got 0x%02x, want 0x%02x)",
					   e->conn, dir_names[from], e->rcvd,
					   p[i], soak_byte(e->sk->plan.seed,
							   e->conn, from,
							   e->rcvd));
				break;
			}
	}
	return e->sk->fail[0] == '\0';
}

static int
soak_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct soak_end *e = pg_tcp_ctx(c);
	struct soak *sk = e->sk;

	if (e->refuse_until != 0)
		return PG_AGAIN;
	if (e->refusals_left > 0 && e->rcvd >= e->refuse_at) {
		e->refusals_left--;
		e->refuse_until = sk->sim.now_ns
				  + rnd_log(&sk->rng, 1, 3000) * MS;
		e->refuse_at = e->rcvd + rnd_log(&sk->rng, 1, soak_len_in(e) + 1);
		return PG_AGAIN;
	}
	soak_verify(e, m);
	pg_mbuf_free(m);
	return PG_OK;
}

static void
soak_on_eof(struct pg_tcp_conn *c)
{
	struct soak_end *e = pg_tcp_ctx(c);

	if (e->eof++)
		soak_failf(e->sk, "conn %u %s: on_eof twice", e->conn,
			   dir_names[!e->side]);
	if (e->rcvd != soak_len_in(e))
		soak_failf(e->sk, "conn %u %s: on_eof after %" PRIu64 " of %u "
			   "bytes", e->conn, dir_names[!e->side], e->rcvd,
			   soak_len_in(e));
	if (!e->may_send) {
		e->may_send = 1;
		soak_push(e);
	}
	soak_maybe_finish(e);
}

static void
soak_resume(struct soak_end *e, enum soak_resume how)
{
	if (e->sk->plan.resume != how)
		return;
	e->waiting = 0;
	soak_push(e);
}

static void
soak_on_acked(struct pg_tcp_conn *c, uint32_t bytes)
{
	soak_resume(pg_tcp_ctx(c), RESUME_ACKED);
}

static void
soak_on_writable(struct pg_tcp_conn *c)
{
	soak_resume(pg_tcp_ctx(c), RESUME_WRITABLE);
}

static void
soak_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct soak_end *e = pg_tcp_ctx(c);
	struct soak *sk = e->sk;

	e->closes++;
	e->reason = (uint8_t)why;
	e->c = NULL;
	if (e->let_go)
		soak_failf(sk, "conn %u %s: on_close (%s) after pg_tcp_close",
			   e->conn, side_names[e->side],
			   pg_tcp_reason_names[why]);
	else if (why != PG_TCP_DONE || e->done_ns == 0
		 || sk->plan.conn[e->conn].end_mode[e->side] != END_HOLD)
		soak_failf(sk, "conn %u %s: on_close %s with %" PRIu64 "/%u "
			   "bytes in, %" PRIu64 "/%u out, eof %u, shut %u",
			   e->conn, side_names[e->side],
			   pg_tcp_reason_names[why], e->rcvd, soak_len_in(e),
			   e->sent, soak_len_out(e), e->eof, e->shut);
	else
		sk->finished++;
}

static const struct pg_tcp_callbacks soak_cb = {
	.on_accept = soak_on_accept,
	.on_connected = soak_on_connected,
	.on_data = soak_on_data,
	.on_eof = soak_on_eof,
	.on_acked = soak_on_acked,
	.on_writable = soak_on_writable,
	.on_close = soak_on_close,
};

/* --- the run ------------------------------------------------------------- */

static void
soak_connect(struct soak *sk, unsigned k)
{
	struct soak_end *e = &sk->end[k][0];
	struct pg_tcp_opts o = { .cc = sk->plan.cc, .nodelay = 1 };
	const char *err = "?";

	e->connecting = 1;
	e->c = pg_tcp_connect(sk->sim.side[0].stack,
			      PG_TCP_SIM_IP(PG_TCP_SIM_SERVER), SOAK_PORT,
			      &soak_cb, e, &o, &err);
	if (e->c == NULL)
		soak_failf(sk, "conn %u: pg_tcp_connect: %s", k, err);
	else {
		uint32_t la, ra;
		uint16_t rp;
		pg_tcp_endpoints(e->c, &la, &e->lport, &ra, &rp);
	}
}

/* Resume refused data whose time has come; ask to be woken for the rest. */
static void
soak_resume_due(struct soak *sk, struct soak_end *e, uint64_t *wake)
{
	if (e->refuse_until == 0 || e->c == NULL)
		return;
	if (e->refuse_until <= sk->sim.now_ns) {
		e->refuse_until = 0;
		pg_tcp_recv_resume(e->c);     /* may start the next episode */
	}
	if (e->refuse_until != 0 && e->refuse_until < *wake)
		*wake = e->refuse_until;
}

/* TIME_WAIT must last time_wait_ms: note when a held end enters it. */
static void
soak_watch_state(struct soak *sk, struct soak_end *e)
{
	if (e->c != NULL && e->tw_seen_ns == 0
	    && pg_tcp_conn_state(e->c) == PG_TCP_TIME_WAIT)
		e->tw_seen_ns = sk->sim.now_ns;
}

static int
soak_step(struct pg_tcp_sim *sim, void *arg, uint64_t *wake)
{
	struct soak *sk = arg;
	uint64_t t = sim->now_ns - sk->start_ns;

	for (unsigned k = 0; k < sk->plan.nconns; k++) {
		uint64_t at = sk->plan.conn[k].connect_ms * MS;
		if (!sk->end[k][0].connecting) {
			if (t >= at)
				soak_connect(sk, k);
			else if (sk->start_ns + at < *wake)
				*wake = sk->start_ns + at;
		}
		for (unsigned i = 0; i < 2; i++) {
			struct soak_end *e = &sk->end[k][i];
			soak_resume_due(sk, e, wake);
			soak_push(e);
			soak_watch_state(sk, e);
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		if (pg_tcp_stack_conns(sim->side[i].stack) != 0)
			sk->conns_zero_ns[i] = 0;
		else if (sk->conns_zero_ns[i] == 0)
			sk->conns_zero_ns[i] = sim->now_ns;
	}
	return sk->fail[0] != '\0'
	       || (sk->finished == 2 * sk->plan.nconns
		   && sk->conns_zero_ns[0] != 0 && sk->conns_zero_ns[1] != 0);
}

static void
soak_conf(const struct soak_plan *p, unsigned side, struct pg_tcp_conf *c)
{
	pg_tcp_conf_default(c);
	c->max_conns = 4 * SOAK_MAX_CONNS;
	c->rcv_wnd = p->rcv_wnd[side];
	c->snd_hiwat = p->hiwat;
	c->snd_lowat = p->lowat;
	c->time_wait_ms = p->time_wait_ms;
	/*
	 * Seven losses in a row of a SYN or its answer (p ~ 0.19 each at 10%
	 * loss) would time a connection out about once in 10^5: allow more,
	 * so any timeout is a failure.
	 */
	c->syn_retries = 12;
	/*
	 * TIME_WAIT (30-60 s here) must outlast the peer's gaps between
	 * retransmissions of its last segments, or a run of losses ends in a
	 * legitimate RST (seed 21561 with the default 120 s: four lost
	 * exchanges, then a 24 s backoff past TIME_WAIT): cap the RTO.
	 */
	c->rto_max_ms = 8000;
	c->cc = p->cc;
	c->secret[0] = p->seed * 2 + 1;
	c->secret[1] = p->seed * 3 + side + 1;
}

/* The control block's sequence space, for whoever debugs a failure. */
static int
soak_describe_tcb(const struct pg_tcp_conn *c, char *buf, size_t n)
{
	return snprintf(buf, n, "\n#     tcb: flags 0x%x snd_una +%u snd_nxt "
			"+%u snd_max +%u rcv_nxt %u rcv_adv +%u cwnd %u "
			"ssthresh %u mss %u dupacks %u backoff %u rtx_at %u "
			"ack_at %u idle_at %u timer %s",
			c->flags, c->snd_una - c->iss, c->snd_nxt - c->iss,
			c->snd_max - c->iss, c->rcv_nxt,
			c->rcv_adv - c->rcv_nxt, c->cwnd, c->ssthresh, c->mss,
			c->dupacks, c->backoff, c->rtx_at, c->ack_at,
			c->idle_at, pg_timer_armed(&c->timer) ? "armed"
			: "not armed");
}

/* One line per end: where it stands when a run went wrong. */
static int
soak_describe_ends(struct soak *sk, char *buf, size_t n)
{
	int k = 0;
	for (unsigned c = 0; c < sk->plan.nconns; c++)
		for (unsigned i = 0; i < 2 && k >= 0 && (size_t)k < n; i++) {
			struct soak_end *e = &sk->end[c][i];
			struct pg_tcp_info inf = { 0 };
			if (e->c != NULL)
				pg_tcp_conn_info(e->c, &inf);
			k += snprintf(buf + k, n - (size_t)k,
				"\n#   conn %u %s: %s out %" PRIu64 "/%u shut %u "
				"in %" PRIu64 "/%u eof %u refusing %u waiting %u "
				"closes %u "
				"(%s) queued %u in_flight %u held %u snd_wnd %u "
				"rto %ums retrans %u", c, side_names[i],
				e->c != NULL ? pg_tcp_state_names[inf.state]
				: e->let_go ? "let go" : e->closes ? "closed"
				: "never opened", e->sent, soak_len_out(e),
				e->shut, e->rcvd, soak_len_in(e), e->eof,
				e->refuse_until != 0, e->waiting, e->closes,
				e->closes ? pg_tcp_reason_names[e->reason] : "-",
				inf.queued, inf.in_flight, inf.held_bytes,
				inf.snd_wnd, inf.rto_ms, inf.retransmits);
			if (e->c != NULL && (size_t)k < n)
				k += soak_describe_tcb(e->c, buf + k,
						       n - (size_t)k);
		}
	return k;
}

/* After a clean run: TIME_WAIT lasted its time on every side that had it. */
static void
soak_check_time_wait(struct soak *sk)
{
	for (unsigned c = 0; c < sk->plan.nconns; c++)
		for (unsigned i = 0; i < 2; i++) {
			struct soak_end *e = &sk->end[c][i];
			uint64_t due = e->tw_seen_ns + sk->plan.time_wait_ms * MS;
			if (e->tw_seen_ns != 0 && sk->conns_zero_ns[i] + MS < due)
				soak_failf(sk, "conn %u %s: TIME_WAIT from "
					   "t=%" PRIu64 "ms but the stack was "
					   "empty at t=%" PRIu64 "ms (time_wait "
					   "%ums)", c, side_names[i],
					   (e->tw_seen_ns - sk->start_ns) / MS,
					   (sk->conns_zero_ns[i] - sk->start_ns)
					   / MS, sk->plan.time_wait_ms);
		}
}

static uint64_t env_u64(const char *name, uint64_t dflt);

/* Totals over a batch, for the summary line. */
struct soak_totals {
	uint64_t virtual_ns, passes, bytes, segs, retrans;
};

/*
 * Run scenario seed. 0 on success; otherwise 1, with the failure, the
 * parameters and the ends' states in report.
 */
static int
soak_run(uint64_t seed, struct soak_totals *tot, char *report, size_t n)
{
	struct soak *sk = calloc(1, sizeof(*sk));
	struct pg_tcp_conf conf[2];
	const struct pg_tcp_conf *confp[2] = { &conf[0], &conf[1] };
	struct pg_tcp_opts lo = { .nodelay = 1 };
	const char *err = "?";
	int k;

	/* Earlier seeds may have leaked: count this one's own. */
	unsigned avail0 = rte_mempool_avail_count(pg_test_pool);

	assert_non_null(sk);
	plan_draw(&sk->plan, seed);
	sk->rng = pg_rand_seed(seed ^ 0xa99ull);
	for (unsigned i = 0; i < 2; i++)
		soak_conf(&sk->plan, i, &conf[i]);
	lo.cc = sk->plan.cc;
	if (pg_tcp_sim_init(&sk->sim, &sk->plan.wire, sk->plan.mtu, confp,
			    &err) != PG_OK) {
		soak_failf(sk, "harness: %s", err);
		goto report;
	}
	sk->start_ns = sk->sim.now_ns;
	sk->sim.trace = env_u64("PG_SOAK_TRACE", 0) != 0;
	sk->listener = pg_tcp_listen(sk->sim.side[1].stack, SOAK_PORT, &soak_cb,
				     sk, &lo, &err);
	if (sk->listener == NULL)
		soak_failf(sk, "pg_tcp_listen: %s", err);
	for (unsigned c = 0; c < sk->plan.nconns; c++)
		for (unsigned i = 0; i < 2; i++) {
			struct soak_end *e = &sk->end[c][i];
			e->sk = sk;
			e->conn = c;
			e->side = i;
			e->refusals_left = sk->plan.conn[c].refusals[!i];
			e->refuse_at = rnd_below(&sk->rng, soak_len_in(e) + 1);
		}

	enum pg_tcp_sim_end end = PG_TCP_SIM_DONE;
	if (sk->fail[0] == '\0')
		end = pg_tcp_sim_run(&sk->sim, soak_step, sk,
				     sk->start_ns + SOAK_DEADLINE);
	if (end != PG_TCP_SIM_DONE)
		soak_failf(sk, "run ended by %s at t=%" PRIu64 "ms with %u+%u "
			   "connections in the stacks",
			   pg_tcp_sim_end_names[end],
			   (sk->sim.now_ns - sk->start_ns) / MS,
			   pg_tcp_stack_conns(sk->sim.side[0].stack),
			   pg_tcp_stack_conns(sk->sim.side[1].stack));
	if (sk->fail[0] == '\0')
		soak_check_time_wait(sk);
	tot->virtual_ns += sk->sim.now_ns - sk->start_ns;
	tot->passes += sk->sim.passes;
	for (unsigned i = 0; i < 2; i++) {
		const struct pg_tcp_stats *st = &sk->sim.side[i].tcp_stats;
		tot->segs += st->out_segs;
		tot->retrans += st->retrans_segs;
	}
	for (unsigned c = 0; c < sk->plan.nconns; c++)
		tot->bytes += sk->plan.conn[c].len[0] + sk->plan.conn[c].len[1];

report:
	k = 0;
	if (sk->fail[0] != '\0') {
		k = snprintf(report, n, "# seed %" PRIu64 " FAILED: %s", seed,
			     sk->fail);
		if (sk->sim.wire != NULL && k > 0 && (size_t)k < n)
			k += soak_describe_ends(sk, report + k, n - (size_t)k);
	}
	if (sk->listener != NULL)
		pg_tcp_unlisten(sk->listener);
	pg_tcp_sim_fini(&sk->sim);
	unsigned avail = rte_mempool_avail_count(pg_test_pool);
	if (avail != avail0) {
		if (k == 0)
			k = snprintf(report, n, "# seed %" PRIu64 " FAILED: ",
				     seed);
		else if ((size_t)k < n)
			k += snprintf(report + k, n - (size_t)k, "\n#   ");
		if ((size_t)k < n)
			k += snprintf(report + k, n - (size_t)k, "%u mbufs "
				      "leaked (out of the pool after both "
				      "stacks and the wire were destroyed)",
				      avail0 - avail);
	}
	if (k > 0 && (size_t)k < n) {
		k += snprintf(report + k, n - (size_t)k, "\n#   ");
		plan_describe(&sk->plan, report + k, n - (size_t)k);
	}
	free(sk);
	return k > 0;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : dflt;
}

static double
mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --- tests --------------------------------------------------------------- */

/* Every seed of the batch (or PG_SOAK_SEED alone) runs clean. */
static void
test_soak(void **state)
{
	static char report[8192];
	uint64_t one = env_u64("PG_SOAK_SEED", 0);
	uint64_t first = one != 0 ? one : 1;
	uint64_t count = one != 0 ? 1 : env_u64("PG_SOAK_SCENARIOS",
						SOAK_DEFAULT);
	int verbose = one != 0 || env_u64("PG_SOAK_VERBOSE", 0) != 0;
	struct soak_totals tot = { 0 };
	unsigned failed = 0;
	double t0 = mono_s();

	for (uint64_t seed = first; seed < first + count; seed++) {
		if (verbose) {
			struct soak_plan p;
			plan_draw(&p, seed);
			plan_describe(&p, report, sizeof(report));
			printf("# %s\n", report);
		}
		if (soak_run(seed, &tot, report, sizeof(report)) == 0)
			continue;
		if (failed++ < env_u64("PG_SOAK_SHOW", SOAK_FAILS_SHOWN))
			printf("%s\n", report);
		/* Leaks shrink the pool under the next seeds: stop in time. */
		if (rte_mempool_avail_count(pg_test_pool) + SOAK_LEAK_MAX
		    < PG_TEST_MBUFS) {
			printf("# stopping: over %u mbufs leaked so far\n",
			       SOAK_LEAK_MAX);
			count = seed - first + 1;
			break;
		}
	}
	printf("# %" PRIu64 " scenarios, %u failed, in %.1f s: %.0f s virtual, "
	       "%" PRIu64 " passes, %" PRIu64 " MB of payload, %" PRIu64
	       " segments, %" PRIu64 " retransmitted\n", count, failed,
	       mono_s() - t0, tot.virtual_ns / 1e9, tot.passes,
	       tot.bytes >> 20, tot.segs, tot.retrans);
	fflush(stdout);
	assert_int_equal(failed, 0);
}

/* The same seed gives the same run, event for event. */
static void
test_soak_deterministic(void **state)
{
	static char report[8192];
	struct soak_totals a = { 0 }, b = { 0 };
	/* Seeds past the default batch, so this is no repeat of it. */
	for (uint64_t seed = 1000001; seed < 1000011; seed++) {
		soak_run(seed, &a, report, sizeof(report));
		soak_run(seed, &b, report, sizeof(report));
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak_deterministic),
		cmocka_unit_test(test_soak),
	};
	pg_test_eal();
	/* A replay of one seed is that seed alone. */
	const struct CMUnitTest replay[] = { cmocka_unit_test(test_soak) };
	if (getenv("PG_SOAK_SEED") != NULL)
		return cmocka_run_group_tests_name("tcp soak", replay, NULL,
						   NULL);
	return cmocka_run_group_tests_name("tcp soak", tests, NULL, NULL);
}
