/*
 * fuzz_tcp: libFuzzer target for the TCP stack (net/pg_tcp*.c).
 *
 * One input is one story: a stack with a listener on port 80, brought to a
 * starting state by a correct exchange (LISTEN, SYN_SENT, ESTABLISHED
 * passive or active, FIN_WAIT_1, CLOSE_WAIT, LAST_ACK, CLOSING), then fed
 * the rest of the input as records (see pg_fuzz_record) - TCP segments
 * built with valid checksums whose flags, sequence and ACK offsets, window,
 * options and payload come from the input, raw segments and raw IP packets,
 * application calls, and jumps of the virtual clock that make timers fire.
 * Every frame the stack sends is checked (pg_fuzz_observe), every byte it
 * delivers is compared with what the peer sent, every callback must be for
 * a connection the application holds. At the end the stack is destroyed:
 * each held connection must have had on_close, and every mbuf must be back
 * in the pool. Any violation aborts, so libFuzzer keeps the input.
 *
 *   make fuzz && build/fuzz/fuzz_tcp tests/fuzz/corpus/tcp
 *   build/fuzz/fuzz_tcp CRASH_FILE          replay one input
 */
#include <rte_random.h>

#include "tests/fuzz/pg_fuzz_peer.h"

#define PG_FUZZ_MBUFS   1023
#define PG_FUZZ_APPS    16       /* connections the application holds */
#define PG_FUZZ_T0      (1000ull * 1000 * 1000 * 1000)
#define PG_FUZZ_TIMERS  256      /* timer rounds per clock jump */

/* --- state of one run ---------------------------------------------------- */

struct pg_fuzz_app {
	struct pg_tcp_conn *c;       /* NULL: slot free */
	struct pg_fuzz_flow *flow;
	uint32_t delivered;          /* sequence of the next byte expected */
	uint8_t refuse, eof;
};

struct pg_fuzz {
	const uint8_t *in, *end;     /* what is left of the input */
	struct pg_tool_node node;
	struct pg_driver drv;
	struct pg_tcp_stack *s;
	struct pg_tcp_listener *l;
	struct pg_fuzz_flow flows[PG_FUZZ_FLOWS];
	struct pg_fuzz_app apps[PG_FUZZ_APPS];
	uint8_t reject, syn_opts;
	unsigned main;               /* flow of the starting state */
};

static struct pg_fuzz F;
static struct rte_mempool *pg_fuzz_pool;
static uint8_t pg_fuzz_buf[65536];

/* Take n bytes of input; NULL when fewer are left (the story ends). */
static const uint8_t *
pg_fuzz_take(unsigned n)
{
	if ((size_t)(F.end - F.in) < n)
		return NULL;
	const uint8_t *p = F.in;
	F.in += n;
	return p;
}

static int
pg_fuzz_u8(uint8_t *v)
{
	const uint8_t *p = pg_fuzz_take(1);
	if (p != NULL)
		*v = p[0];
	return p != NULL;
}

static int
pg_fuzz_u16(uint16_t *v)
{
	const uint8_t *p = pg_fuzz_take(2);
	if (p != NULL)
		*v = (uint16_t)(p[0] << 8 | p[1]);
	return p != NULL;
}

/* --- driver: every frame sent is observed, then freed -------------------- */

static uint16_t
pg_fuzz_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	return 0;
}

static uint16_t
pg_fuzz_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		pg_fuzz_observe(F.flows, pkts[i]);
		pg_mbuf_free(pkts[i]);
	}
	return n;
}

static const struct pg_driver_ops pg_fuzz_ops = { pg_fuzz_rx, pg_fuzz_tx,
						  NULL };

/* --- the application ----------------------------------------------------- */

static struct pg_fuzz_app *
pg_fuzz_app_of(struct pg_tcp_conn *c, const char *cb)
{
	struct pg_fuzz_app *a = pg_tcp_ctx(c);
	if (a < F.apps || a >= F.apps + PG_FUZZ_APPS || a->c != c)
		pg_fuzz_bug("%s for a connection the application does not "
			    "hold (%p)", cb, (void *)c);
	return a;
}

/* Hold c (just accepted or connected); NULL when the table is full. */
static struct pg_fuzz_app *
pg_fuzz_app_hold(struct pg_tcp_conn *c, struct pg_fuzz_flow *f)
{
	for (unsigned i = 0; i < PG_FUZZ_APPS; i++) {
		struct pg_fuzz_app *a = &F.apps[i];
		if (a->c != NULL)
			continue;
		memset(a, 0, sizeof(*a));
		a->c = c;
		a->flow = f;
		a->delivered = c->rcv_nxt;   /* nothing delivered yet */
		pg_tcp_set_ctx(c, a);
		return a;
	}
	return NULL;
}

static int
pg_fuzz_on_accept(struct pg_tcp_conn *c, void *listen_ctx)
{
	uint32_t la, ra;
	uint16_t lp, rp;
	pg_tcp_endpoints(c, &la, &lp, &ra, &rp);
	if (la != PG_FUZZ_US || ra != PG_FUZZ_PEER || lp != PG_FUZZ_PORT)
		pg_fuzz_bug("accepted %08x:%u from %08x:%u", la, lp, ra, rp);
	if (pg_tcp_conn_state(c) != PG_TCP_ESTABLISHED
	    && pg_tcp_conn_state(c) != PG_TCP_CLOSE_WAIT)
		pg_fuzz_bug("on_accept in state %s",
			    pg_tcp_state_names[pg_tcp_conn_state(c)]);
	if (F.reject)
		return PG_ERROR;
	return pg_fuzz_app_hold(c, pg_fuzz_flow_of(F.flows, lp, rp)) != NULL
	       ? PG_OK : PG_ERROR;
}

static void
pg_fuzz_on_connected(struct pg_tcp_conn *c)
{
	struct pg_fuzz_app *a = pg_fuzz_app_of(c, "on_connected");
	a->delivered = c->rcv_nxt;   /* nothing delivered yet */
}

static int
pg_fuzz_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_fuzz_app *a = pg_fuzz_app_of(c, "on_data");
	uint32_t len = 0, i = 0;

	if (a->eof)
		pg_fuzz_bug("on_data after on_eof");
	for (struct rte_mbuf *s = m; s != NULL; s = s->next, i++)
		len += s->data_len;
	if (len != m->pkt_len || len == 0 || i != m->nb_segs)
		pg_fuzz_bug("on_data chain: pkt_len %u, segments hold %u",
			    m->pkt_len, len);
	if (a->refuse)
		return PG_AGAIN;
	if (!a->flow->dirty) {
		uint32_t seq = a->delivered;
		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
			for (uint16_t k = 0; k < s->data_len; k++, seq++)
				if (p[k] != pg_fuzz_pattern(seq))
					pg_fuzz_bug("delivered byte at seq %u "
						    "is not what the peer sent",
						    seq);
		}
	}
	a->delivered += len;
	pg_mbuf_free(m);
	return PG_OK;
}

static void
pg_fuzz_on_eof(struct pg_tcp_conn *c)
{
	struct pg_fuzz_app *a = pg_fuzz_app_of(c, "on_eof");
	if (a->eof)
		pg_fuzz_bug("on_eof twice");
	a->eof = 1;
}

static void
pg_fuzz_on_acked(struct pg_tcp_conn *c, uint32_t bytes)
{
	pg_fuzz_app_of(c, "on_acked");
}

static void
pg_fuzz_on_writable(struct pg_tcp_conn *c)
{
	pg_fuzz_app_of(c, "on_writable");
}

static void
pg_fuzz_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_fuzz_app *a = pg_fuzz_app_of(c, "on_close");
	if ((unsigned)why >= PG_TCP_NREASONS)
		pg_fuzz_bug("on_close reason %d", (int)why);
	a->c = NULL;
}

static const struct pg_tcp_callbacks pg_fuzz_cb = {
	.on_accept = pg_fuzz_on_accept,
	.on_connected = pg_fuzz_on_connected,
	.on_data = pg_fuzz_on_data,
	.on_eof = pg_fuzz_on_eof,
	.on_acked = pg_fuzz_on_acked,
	.on_writable = pg_fuzz_on_writable,
	.on_close = pg_fuzz_on_close,
};

/* The most recent connection the application holds on flow f. */
static struct pg_fuzz_app *
pg_fuzz_app_on(const struct pg_fuzz_flow *f)
{
	for (unsigned i = PG_FUZZ_APPS; i-- > 0;)
		if (F.apps[i].c != NULL && F.apps[i].flow == f)
			return &F.apps[i];
	return NULL;
}

/* --- driving the stack --------------------------------------------------- */

/* Let the stack run at the current time: timers, then what it sends. */
static void
pg_fuzz_settle(void)
{
	pg_tcp_stack_poll(F.s);
	pg_netif_flush(&F.node.nif);
}

static void
pg_fuzz_tick(uint64_t ms)
{
	F.node.nif.now_ns += ms * 1000000;
	for (unsigned i = 0; i < PG_FUZZ_FLOWS; i++)
		F.flows[i].peer_ts += (uint32_t)ms;
	pg_fuzz_settle();
}

/* Jump ms ahead, stopping at each timer on the way (bounded). */
static void
pg_fuzz_jump(uint64_t ms)
{
	uint64_t to = F.node.nif.now_ns + ms * 1000000;
	for (unsigned i = 0; i < PG_FUZZ_TIMERS; i++) {
		uint64_t t = pg_tcp_stack_next_timer(F.s);
		if (t > to || t <= F.node.nif.now_ns)
			break;
		pg_fuzz_tick((t - F.node.nif.now_ns + 999999) / 1000000);
	}
	if (to > F.node.nif.now_ns)
		pg_fuzz_tick((to - F.node.nif.now_ns) / 1000000);
}

static void
pg_fuzz_inject(struct rte_mbuf *m)
{
	if (m == NULL)
		return;
	PG_STAT_INC(F.node.nif.stats, rx_pkts);
	pg_eth_input(&F.node.nif, m);
	pg_fuzz_settle();
}

static void
pg_fuzz_send(struct pg_fuzz_flow *f, struct pg_fuzz_seg *g)
{
	pg_fuzz_opt_end(g);
	pg_fuzz_sent(f, g);
	pg_fuzz_inject(pg_fuzz_segment(&F.node.nif, f, g));
}

/* A segment of the peer at its current sequence, acknowledging all. */
static void
pg_fuzz_send_flags(struct pg_fuzz_flow *f, uint8_t flags, uint16_t plen)
{
	struct pg_fuzz_seg g = { .flags = flags, .seq = f->peer_nxt,
				 .ack = f->stack_nxt, .win = 65535,
				 .plen = plen };
	if (f->seen && (F.syn_opts & 1))
		pg_fuzz_opt_ts(&g, f->peer_ts, f->stack_ts);
	pg_fuzz_send(f, &g);
}

/* The peer's SYN (passive flows) or SYN-ACK (active), options per input. */
static void
pg_fuzz_send_syn(struct pg_fuzz_flow *f, uint32_t iss)
{
	struct pg_fuzz_seg g = { .flags = PG_TCP_SYN, .seq = iss,
				 .win = 65535 };
	if (f->seen) {
		g.flags |= PG_TCP_ACK;
		g.ack = f->stack_nxt;
	}
	pg_fuzz_opt_mss(&g, 1460);
	if (F.syn_opts & 2)
		pg_fuzz_opt_ws(&g, 7);
	if (F.syn_opts & 4)
		pg_fuzz_opt_sack_perm(&g);
	if (F.syn_opts & 1)
		pg_fuzz_opt_ts(&g, f->peer_ts, f->stack_ts);
	pg_fuzz_send(f, &g);
}

static struct pg_fuzz_flow *
pg_fuzz_connect(void)
{
	for (unsigned i = PG_FUZZ_FLOWS / 2; i < PG_FUZZ_FLOWS; i++) {
		struct pg_fuzz_flow *f = &F.flows[i];
		if (f->lport != 0)
			continue;
		const char *err;
		struct pg_tcp_conn *c = pg_tcp_connect(F.s, PG_FUZZ_PEER,
			PG_FUZZ_PORT, &pg_fuzz_cb, NULL, NULL, &err);
		if (c == NULL)
			return NULL;
		uint32_t la, ra;
		uint16_t lp, rp;
		pg_tcp_endpoints(c, &la, &lp, &ra, &rp);
		f->lport = lp;
		f->rport = rp;
		f->peer_ts = 1000u * i;
		if (pg_fuzz_app_hold(c, f) == NULL)
			pg_tcp_abort(c);
		pg_fuzz_settle();
		return f;
	}
	return NULL;
}

/* --- starting states ----------------------------------------------------- */

enum {
	PG_FUZZ_START_LISTEN, PG_FUZZ_START_SYN_SENT, PG_FUZZ_START_PASSIVE,
	PG_FUZZ_START_ACTIVE, PG_FUZZ_START_FIN_WAIT_1,
	PG_FUZZ_START_CLOSE_WAIT, PG_FUZZ_START_LAST_ACK,
	PG_FUZZ_START_CLOSING,
};

static void
pg_fuzz_start(unsigned how)
{
	struct pg_fuzz_flow *f = &F.flows[0];

	if (how == PG_FUZZ_START_LISTEN)
		return;
	if (how == PG_FUZZ_START_SYN_SENT || how == PG_FUZZ_START_ACTIVE) {
		f = pg_fuzz_connect();
		F.main = f != NULL ? (unsigned)(f - F.flows) : 0;
		if (f != NULL && how == PG_FUZZ_START_ACTIVE && f->seen) {
			pg_fuzz_send_syn(f, 0xfffff000u);
			pg_fuzz_send_flags(f, PG_TCP_ACK, 0);
		}
		return;
	}
	pg_fuzz_send_syn(f, 0x7ffffff0u);          /* wraps soon: SEQ_* */
	pg_fuzz_send_flags(f, PG_TCP_ACK, 0);
	struct pg_fuzz_app *a = pg_fuzz_app_on(f);
	if (a == NULL)
		return;
	if (how == PG_FUZZ_START_FIN_WAIT_1 || how == PG_FUZZ_START_CLOSING)
		pg_tcp_shutdown(a->c);
	if (how == PG_FUZZ_START_CLOSE_WAIT || how == PG_FUZZ_START_LAST_ACK)
		pg_fuzz_send_flags(f, PG_TCP_FIN | PG_TCP_ACK, 0);
	if (how == PG_FUZZ_START_CLOSING) {
		/* FIN that does not acknowledge ours: simultaneous close. */
		struct pg_fuzz_seg g = { .flags = PG_TCP_FIN | PG_TCP_ACK,
					 .seq = f->peer_nxt,
					 .ack = f->stack_nxt - 1, .win = 65535 };
		if (F.syn_opts & 1)
			pg_fuzz_opt_ts(&g, f->peer_ts, f->stack_ts);
		pg_fuzz_send(f, &g);
	}
	a = pg_fuzz_app_on(f);
	if (how == PG_FUZZ_START_LAST_ACK && a != NULL)
		pg_tcp_shutdown(a->c);
	pg_fuzz_settle();
}

/* --- records ------------------------------------------------------------- */

/*
 * Offsets: even values are bytes (-16384..16383), odd ones kilobytes, so
 * that both edges of the window and far-off sequence numbers are reached.
 */
static int32_t
pg_fuzz_offset(uint16_t v)
{
	int16_t o = (int16_t)v;
	return (o & 1) ? (o >> 1) * 1024 : (o >> 1);
}

/*
 * A segment record: flags, seq offset (2), ack offset (2), window (2),
 * option selector, payload length (2), then what the options need.
 * x: 1 bad checksum, 2 short payload, 3 offsets ignored.
 */
static void
pg_fuzz_rec_segment(struct pg_fuzz_flow *f, unsigned x)
{
	uint8_t flags, sel, b;
	uint16_t so, ao, win, plen, v1, v2;
	if (!pg_fuzz_u8(&flags) || !pg_fuzz_u16(&so) || !pg_fuzz_u16(&ao)
	    || !pg_fuzz_u16(&win) || !pg_fuzz_u8(&sel) || !pg_fuzz_u16(&plen))
		return;
	if (x == 3)
		so = ao = 0;
	struct pg_fuzz_seg g = {
		.flags = flags, .win = win, .bad_csum = x == 1,
		.seq = f->peer_nxt + (uint32_t)pg_fuzz_offset(so),
		.ack = f->stack_nxt + (uint32_t)pg_fuzz_offset(ao),
		.plen = (uint16_t)(plen % (x == 2 ? 64 : 1461)),
	};
	if (sel & 0x01)
		pg_fuzz_opt_ts(&g, f->peer_ts - ((sel & 0x80) ? 1u << 31 : 0),
			       f->stack_ts);
	if ((sel & 0x02) && pg_fuzz_u16(&v1) && pg_fuzz_u16(&v2))
		pg_fuzz_opt_sack(&g, f->stack_nxt - v1, f->stack_nxt - v1 + v2);
	if ((sel & 0x04) && pg_fuzz_u16(&v1))
		pg_fuzz_opt_mss(&g, v1);
	if ((sel & 0x08) && pg_fuzz_u8(&b))
		pg_fuzz_opt_ws(&g, b);
	if (sel & 0x10)
		pg_fuzz_opt_sack_perm(&g);
	if ((sel & 0x20) && pg_fuzz_u8(&b)) {
		const uint8_t *raw = pg_fuzz_take(b % 16);
		if (raw != NULL)
			pg_fuzz_opt(&g, raw, b % 16);
	}
	if (sel & 0x40) {
		g.data = pg_fuzz_take(g.plen);
		if (g.data == NULL)
			g.plen = 0;
		else
			f->dirty = 1;
	}
	pg_fuzz_send(f, &g);
}

/* Raw TCP header and payload in a valid IPv4 packet. x: 1 keep the
 * fuzzed ports, 2 leave the checksum as it is. */
static void
pg_fuzz_rec_raw_tcp(struct pg_fuzz_flow *f, unsigned x)
{
	uint8_t n;
	const uint8_t *raw;
	if (!pg_fuzz_u8(&n) || (raw = pg_fuzz_take(n)) == NULL)
		return;
	struct pg_fuzz_seg g = { 0 };
	struct rte_mbuf *m = pg_fuzz_segment(&F.node.nif, f, &g);
	if (m == NULL)
		return;
	/* Replace the empty TCP header by the raw bytes. */
	rte_pktmbuf_trim(m, sizeof(struct rte_tcp_hdr));
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, n);
	if (p == NULL) {
		pg_mbuf_free(m);
		return;
	}
	memcpy(p, raw, n);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + n));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	if (n >= 4 && !(x & 1)) {
		th->src_port = rte_cpu_to_be_16(f->rport);
		th->dst_port = rte_cpu_to_be_16(f->lport);
	}
	if (n >= sizeof(*th) && !(x & 2)) {
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	for (unsigned i = 0; i < PG_FUZZ_FLOWS; i++)
		F.flows[i].dirty |= (x & 1) || &F.flows[i] == f;
	pg_fuzz_inject(m);
}

/* A raw IPv4 packet after a valid Ethernet header. */
static void
pg_fuzz_rec_raw_ip(void)
{
	uint8_t n;
	const uint8_t *raw;
	struct rte_mbuf *m;
	if (!pg_fuzz_u8(&n) || (raw = pg_fuzz_take(n)) == NULL)
		return;
	void *ip = pg_fuzz_frame(&F.node.nif, &m, n);
	if (ip == NULL)
		return;
	memcpy(ip, raw, n);
	for (unsigned i = 0; i < PG_FUZZ_FLOWS; i++)
		F.flows[i].dirty = 1;
	pg_fuzz_inject(m);
}

/* Two segments of pattern bytes, chained. */
static void
pg_fuzz_send_chain(struct pg_tcp_conn *c, uint16_t len)
{
	struct rte_mbuf *a = pg_mbuf_alloc(pg_fuzz_pool, F.node.nif.holder);
	struct rte_mbuf *b = pg_mbuf_alloc(pg_fuzz_pool, F.node.nif.holder);
	if (a == NULL || b == NULL) {
		pg_mbuf_free(a);
		pg_mbuf_free(b);
		return;
	}
	rte_pktmbuf_append(a, (uint16_t)(len % 1500 + 1));
	rte_pktmbuf_append(b, (uint16_t)(len / 64 % 1500 + 1));
	if (rte_pktmbuf_chain(a, b) != 0) {
		pg_mbuf_free(a);
		pg_mbuf_free(b);
		return;
	}
	pg_tcp_send(c, a);
}

/* The application lets go of a. */
static void
pg_fuzz_let_go(struct pg_fuzz_app *a, void (*fn)(struct pg_tcp_conn *))
{
	struct pg_tcp_conn *c = a->c;
	a->c = NULL;
	fn(c);
}

/* An application call on the connection of flow f. */
static void
pg_fuzz_rec_app(struct pg_fuzz_flow *f)
{
	uint8_t op;
	uint16_t n;
	const char *err;
	if (!pg_fuzz_u8(&op) || !pg_fuzz_u16(&n))
		return;
	switch (op % 16) {
	case 10:
		pg_fuzz_connect();
		return;
	case 11:
		if (F.l != NULL)
			pg_tcp_unlisten(F.l);
		F.l = NULL;
		return;
	case 12:
		if (F.l == NULL)
			F.l = pg_tcp_listen(F.s, PG_FUZZ_PORT, &pg_fuzz_cb,
					    NULL, NULL, &err);
		return;
	}
	struct pg_fuzz_app *a = pg_fuzz_app_on(f);
	if (a == NULL)
		return;
	struct pg_tcp_conn *c = a->c;
	struct pg_tcp_info info;
	switch (op % 16) {
	case 0: pg_tcp_write(c, pg_fuzz_buf, n % 4096); break;
	case 1: pg_fuzz_send_chain(c, n); break;
	case 2: pg_tcp_shutdown(c); break;
	case 3: pg_fuzz_let_go(a, pg_tcp_close); break;
	case 4: pg_fuzz_let_go(a, pg_tcp_abort); break;
	case 5: a->refuse = 0; pg_tcp_recv_resume(c); break;
	case 6: a->refuse = 1; break;
	case 7: pg_tcp_set_nodelay(c, n & 1); break;
	case 8: pg_tcp_set_keepalive(c, n & 1); break;
	case 9: pg_tcp_set_cc(c, (enum pg_tcp_cc)(n & 1)); break;
	case 13:
		pg_tcp_conn_info(c, &info);
		if (info.queued != pg_tcp_queued(c))
			pg_fuzz_bug("info.queued %u, pg_tcp_queued %u",
				    info.queued, pg_tcp_queued(c));
		break;
	case 14: pg_tcp_write(c, pg_fuzz_buf, sizeof(pg_fuzz_buf)); break;
	case 15: a->refuse = 0; break;
	}
	pg_fuzz_settle();
}

/*
 * One record: a kind byte (bits 0-2 kind, 3-5 flow, xored with the flow
 * of the starting state, 6-7 a variant x), then
 * the kind's fields. Kinds: 0-3 segment, 4 raw TCP, 5 raw IP, 6 application
 * call, 7 clock jump (2 bytes, squared: up to 4.6 hours, past the
 * keepalive idle time; longer jumps only cost time). Every record but a
 * jump is followed by one millisecond. 0 when the input is exhausted.
 */
static int
pg_fuzz_record(void)
{
	uint8_t k;
	uint16_t v;
	if (!pg_fuzz_u8(&k))
		return 0;
	struct pg_fuzz_flow *f = &F.flows[((k >> 3) & 7) ^ F.main];
	unsigned x = k >> 6;
	if (f->lport == 0 && (k & 7) < 5)
		f = &F.flows[F.main];
	switch (k & 7) {
	case 4: pg_fuzz_rec_raw_tcp(f, x); break;
	case 5: pg_fuzz_rec_raw_ip(); break;
	case 6: pg_fuzz_rec_app(f); break;
	case 7:
		if (pg_fuzz_u16(&v))
			pg_fuzz_jump((uint64_t)v * v / 256);
		return 1;
	default: pg_fuzz_rec_segment(f, x); break;
	}
	pg_fuzz_tick(1);
	return 1;
}

/* --- one input ----------------------------------------------------------- */

/* Settings byte: bits of the stack's configuration. */
static void
pg_fuzz_conf(struct pg_tcp_conf *conf, uint8_t how, uint8_t set)
{
	pg_tcp_conf_default(conf);
	conf->secret[0] = 0x0123456789abcdefull;
	conf->secret[1] = 0xfedcba9876543210ull;
	conf->syncookies = (how >> 3) & 1;
	conf->cc = (how >> 7) & 1 ? PG_TCP_CC_CUBIC : PG_TCP_CC_NEWRENO;
	if (set & 0x01)
		conf->max_conns = 4;
	if (set & 0x02)
		conf->rcv_wnd = 2048;
	if (set & 0x04)
		conf->ooo_max = 3000;
	if (set & 0x08)
		conf->syn_backlog = 1;
	if (set & 0x10)
		conf->sack = 0;
	if (set & 0x20)
		conf->timestamps = 0;
	if (set & 0x40)
		conf->window_scaling = 0;
	if (set & 0x80)
		conf->snd_hiwat = 4096, conf->snd_lowat = 1024;
}

/*
 * Every input starts from the same pool: each mbuf's data and private
 * area filled with garbage (what a recycled mbuf may carry), and the same
 * random seed (ephemeral ports). A stack that trusts a field it did not
 * set then fails the same way on every replay.
 */
static void
pg_fuzz_poison_pool(void)
{
	static struct rte_mbuf *all[PG_FUZZ_MBUFS];
	unsigned n = 0;
	while (n < PG_FUZZ_MBUFS
	       && (all[n] = rte_pktmbuf_alloc(pg_fuzz_pool)) != NULL) {
		memset(pg_mbuf_priv(all[n]), 0xa5, sizeof(struct pg_mbuf_priv));
		memset(rte_pktmbuf_mtod(all[n], void *), 0x5a,
		       rte_pktmbuf_tailroom(all[n]));
		n++;
	}
	while (n > 0)
		pg_mbuf_free(all[--n]);
	rte_srand(1);
}

static void
pg_fuzz_setup(uint8_t how, uint8_t set)
{
	struct pg_tcp_conf conf;
	const char *err = "?";

	pg_fuzz_poison_pool();
	memset(F.flows, 0, sizeof(F.flows));
	memset(F.apps, 0, sizeof(F.apps));
	F.drv.ops = &pg_fuzz_ops;
	pg_tool_node_init(&F.node, PG_FUZZ_US, PG_FUZZ_PEER, &F.drv,
			  pg_fuzz_pool);
	F.drv.holder = F.node.nif.holder;
	F.node.nif.now_ns = PG_FUZZ_T0;
	F.syn_opts = (uint8_t)(~how >> 4 & 7);
	F.reject = 0;
	F.main = 0;
	for (unsigned i = 0; i < PG_FUZZ_FLOWS / 2; i++) {
		F.flows[i].lport = PG_FUZZ_PORT;
		F.flows[i].rport = (uint16_t)(40000 + i);
		F.flows[i].peer_ts = 1000u * i + 1;
	}
	pg_fuzz_conf(&conf, how, set);
	F.s = pg_tcp_stack_create(&F.node.nif, &conf, NULL, &err);
	if (F.s == NULL)
		pg_fuzz_bug("pg_tcp_stack_create: %s", err);
	F.l = pg_tcp_listen(F.s, PG_FUZZ_PORT, &pg_fuzz_cb, NULL, NULL, &err);
	if (F.l == NULL)
		pg_fuzz_bug("pg_tcp_listen: %s", err);
}

/* PG_FUZZ_TRACE=1: what one input did (to read a crash or a seed). */
static void
pg_fuzz_trace(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("PG_FUZZ_TRACE") != NULL;
	if (!on)
		return;
	const struct pg_tcp_stats *st = pg_tcp_stack_stats(F.s);
	fprintf(stderr, "fuzz_tcp: %u conns, %lu bytes;",
		pg_tcp_stack_conns(F.s),
		(unsigned long)pg_tcp_stack_memory(F.s));
#define PG_FUZZ_TRACE_COUNTER(name) \
	if (st->name) fprintf(stderr, " %s %lu", #name, (unsigned long)st->name);
	PG_TCP_COUNTERS(PG_FUZZ_TRACE_COUNTER)
#undef PG_FUZZ_TRACE_COUNTER
	for (unsigned i = 0; i < PG_FUZZ_APPS; i++)
		if (F.apps[i].c != NULL)
			fprintf(stderr, "; app %u %s", i, pg_tcp_state_names[
				pg_tcp_conn_state(F.apps[i].c)]);
	fputc('\n', stderr);
}

static void
pg_fuzz_teardown(void)
{
	pg_fuzz_trace();
	pg_tcp_stack_destroy(F.s);
	F.s = NULL;
	pg_netif_flush(&F.node.nif);
	pg_netif_close(&F.node.nif);
	for (unsigned i = 0; i < PG_FUZZ_APPS; i++)
		if (F.apps[i].c != NULL)
			pg_fuzz_bug("connection %u held by the application "
				    "had no on_close at pg_tcp_stack_destroy", i);
	unsigned avail = rte_mempool_avail_count(pg_fuzz_pool);
	if (avail != PG_FUZZ_MBUFS)
		pg_fuzz_bug("%u mbufs leaked", PG_FUZZ_MBUFS - avail);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pg_tool_eal("pg-fuzz", 256);
	pg_fuzz_pool = pg_mbuf_pool_create("pg_fuzz_pool", PG_FUZZ_MBUFS, 0);
	if (pg_fuzz_pool == NULL) {
		fprintf(stderr, "fuzz_tcp: cannot create the mbuf pool\n");
		exit(1);
	}
	for (size_t i = 0; i < sizeof(pg_fuzz_buf); i++)
		pg_fuzz_buf[i] = (uint8_t)i;
	return 0;
}

/*
 * Input: a start byte (bits 0-2 the starting state, 3 SYN cookies, 4-6
 * options the peer does NOT offer in its SYN: timestamps, window scaling,
 * SACK; 7 CUBIC), a settings byte (pg_fuzz_conf), a flags byte (bit 0:
 * refuse passive opens), then records.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return -1;
	F.in = data + 3;
	F.end = data + size;
	pg_fuzz_setup(data[0], data[1]);
	F.reject = data[2] & 1;
	pg_fuzz_start(data[0] & 7);
	while (pg_fuzz_record())
		;
	pg_fuzz_teardown();
	return 0;
}
