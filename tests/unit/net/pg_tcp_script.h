/*
 * packetdrill-style scripts for the TCP stack, as cmocka tests.
 *
 * One stack on a netif whose driver is the capture driver; we are
 * 198.18.0.2, the peer (the script) is 198.18.0.1 with a neighbour entry.
 * Time is virtual (nif.sim_clock), in script milliseconds from 0, and moves
 * only when a line asks for it; each step runs pg_netif_poll (receive,
 * flush), pg_tcp_stack_poll and the flush of what the timers sent.
 *
 * A line is   [time] dir flags start:end(len) [ack N] [win N] [<options>]
 *   time   "+N": N ms after the previous line's event; "N": at script time
 *          N; omitted: now.
 *   dir    '<' the peer sends (inject), '>' the stack must send (expect).
 *   flags  S F R P . (ACK); PSH is not compared (the RFCs leave it free).
 *   seq    peer's numbers are literal; ours are relative to the ISN the
 *          stack chose (learned from each SYN it sends on the flow), as in
 *          packetdrill: "ack" of an injected segment and SACK blocks it
 *          carries are relative, "ack" and SACK blocks we expect literal.
 *   win    raw 16-bit field; injected default 65535; expect: unchecked if
 *          omitted.
 *   opts   mss N, sackOK, TS val V ecr E, wscale N, sack A:B ..., nop.
 *          Expect: "<...>" lists exactly the options (NOPs ignored), "*"
 *          matches any value, no "<...>" leaves options unchecked.
 *          Inject: no "<...>" means no options, except that on a flow with
 *          timestamps negotiated (pg_ts_passive with TS) TS is added; "*"
 *          in TS val is the peer's clock, in ecr the last TSval we sent.
 *
 * An expected segment with a time must leave in [time, time + 3 ms] (the
 * timing wheel fires up to 2 ms late, never early). An injected segment
 * fails the test if the stack sent something the script did not expect.
 * Payload follows one pattern keyed by stream offset in both directions, so
 * retransmitted and reassembled bytes are checked too.
 */
#ifndef PG_TCP_SCRIPT_H
#define PG_TCP_SCRIPT_H

#include "tests/unit/pg_test.h"

#include <ctype.h>
#include <inttypes.h>

#include <rte_tcp.h>

#include "core/pg_core.h"
#include "core/pg_stats.h"
#include "net/pg_neigh.h"
#include "net/pg_tcp.h"

#define PG_TS_OUR_IP    RTE_BE32(RTE_IPV4(198, 18, 0, 2))
#define PG_TS_PEER_IP   RTE_BE32(RTE_IPV4(198, 18, 0, 1))
#define PG_TS_PORT      8080         /* our listener */
#define PG_TS_PEER_PORT 40000        /* the peer's port of the first flow */
#define PG_TS_PEER_ISN  1000u        /* peer ISN of pg_ts_passive */
#define PG_TS_T0_NS     (1000ull * 1000 * 1000 * 1000)
#define PG_TS_SLACK_MS  3
#define PG_TS_FLOWS     8
#define PG_TS_QUEUE     1024
#define PG_TS_FRAME_MAX 2048

/* SYN options of a modern peer, and the SYN-ACK they call for. */
#define PG_TS_SYN_FULL    "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>"
#define PG_TS_SYNACK_FULL "<mss 1460,sackOK,TS val * ecr 100,wscale 5>"
#define PG_TS_SYN_MSS     "<mss 1460>"
#define PG_TS_SYNACK_MSS  "<mss 1460>"

/*
 * A test that fails because of a stack bug: its TAP line reads "ok N -
 * fn # SKIP stack bug: why" and it does not run, unless PG_TS_KNOWN_BUGS
 * is set in the environment (to check a fix).
 */
#define PG_TS_KNOWN_BUG(fn, why)                                          \
	{ #fn " # SKIP stack bug: " why, pg_ts_known_bug, NULL,             \
	  pg_ts_teardown, (void *)(fn) }

/* --- segments ------------------------------------------------------------ */

enum { PG_TS_ABSENT = -1, PG_TS_ANY = -2 };

/* A segment as a line describes it, or as parsed from the wire. */
struct pg_ts_seg {
	uint8_t flags;
	uint32_t seq, end;
	int has_ack, has_win, has_opts;
	uint32_t ack, win;
	int mss, ws;                 /* PG_TS_ABSENT / PG_TS_ANY / value */
	int sackok, ts;
	int tsval_any, tsecr_any;
	uint32_t tsval, tsecr;
	int nsack;
	uint32_t sack[4][2];
	uint16_t sport, dport;       /* wire only, host order */
	const uint8_t *payload;      /* wire only */
};

struct pg_ts_flow {
	uint16_t pport, lport;       /* host order; lport 0 until known */
	int iss_known, ts, active;
	uint32_t iss, irs;           /* ours, the peer's */
	uint32_t last_tsval;         /* ours, echoed by "ecr *" */
	uint32_t peer_tsval;         /* the peer's clock never goes back */
	struct pg_tcp_conn *conn;
	/* the test application */
	char log[512];
	uint64_t rcvd, sent;         /* stream bytes delivered / written */
	int refuse;                  /* on_data answers PG_AGAIN */
	int closed;
	enum pg_tcp_reason why;
};

struct pg_ts_tx {
	struct rte_mbuf *m;
	uint64_t ms;
};

struct pg_ts {
	struct pg_netif nif;
	struct pg_cap_driver cap;
	struct pg_stats stats;
	void *neigh;
	struct pg_tcp_conf conf;
	struct pg_tcp_stack *s;
	struct pg_tcp_listener *l;
	struct pg_tcp_opts opts;
	int reject_accept;
	uint64_t now_ms, last_ms;
	struct pg_ts_flow flows[PG_TS_FLOWS];
	unsigned nflows;
	struct pg_ts_flow *cur;
	struct pg_ts_tx q[PG_TS_QUEUE];
	unsigned qh, qt;
	int live;
};

static struct pg_ts pg_ts_g;

static const struct rte_ether_addr pg_ts_our_mac = {{ 2, 0, 0, 0, 0, 2 }};
static const struct rte_ether_addr pg_ts_peer_mac = {{ 2, 0, 0, 0, 0, 1 }};

static const char *const pg_ts_reason[] = {
	"DONE", "RESET", "REFUSED", "TIMEOUT", "NOMEM", "SHUTDOWN",
};

static inline uint8_t
pg_ts_pattern(uint64_t off)
{
	return (uint8_t)(off % 251);
}

/* --- the test application ------------------------------------------------ */

static void
pg_ts_log(struct pg_ts_flow *f, const char *ev, uint64_t n)
{
	size_t len = strlen(f->log);
	size_t evlen = strlen(ev);
	/* Consecutive data or acked events add up: segmentation is free. */
	if (n != 0 && len > 0) {
		char *last = strrchr(f->log, ';');
		char *start = f->log;
		for (char *p = f->log; p < last; p++)
			if (*p == ';')
				start = p + 1;
		if (strncmp(start, ev, evlen) == 0 && start[evlen] == ' ') {
			uint64_t prev = strtoull(start + evlen + 1, NULL, 10);
			len = (size_t)(start - f->log);
			n += prev;
		}
	}
	if (n != 0)
		snprintf(f->log + len, sizeof(f->log) - len, "%s %" PRIu64 ";",
			 ev, n);
	else
		snprintf(f->log + len, sizeof(f->log) - len, "%s;", ev);
}

static struct pg_ts_flow *pg_ts_flow(struct pg_ts *t, uint16_t pport);

static int
pg_ts_on_accept(struct pg_tcp_conn *c, void *listen_ctx)
{
	struct pg_ts *t = listen_ctx;
	uint32_t la, ra;
	uint16_t lp, rp;
	pg_tcp_endpoints(c, &la, &lp, &ra, &rp);
	struct pg_ts_flow *f = pg_ts_flow(t, rp);
	if (t->reject_accept) {
		pg_ts_log(f, "reject", 0);
		return PG_ERROR;
	}
	f->conn = c;
	pg_tcp_set_ctx(c, f);
	pg_ts_log(f, "accept", 0);
	return PG_OK;
}

static void
pg_ts_on_connected(struct pg_tcp_conn *c)
{
	pg_ts_log(pg_tcp_ctx(c), "connected", 0);
}

static int
pg_ts_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_ts_flow *f = pg_tcp_ctx(c);
	if (f->refuse)
		return PG_AGAIN;
	uint64_t n = 0;
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
		for (uint16_t i = 0; i < s->data_len; i++, n++)
			if (p[i] != pg_ts_pattern(f->rcvd + n))
				fail_msg("on_data: byte %" PRIu64 " of the stream"
					 " is %u, the peer sent %u", f->rcvd + n,
					 p[i], pg_ts_pattern(f->rcvd + n));
	}
	assert_int_equal(n, m->pkt_len);
	f->rcvd += n;
	pg_ts_log(f, "data", n);
	pg_mbuf_free(m);
	return PG_OK;
}

static void
pg_ts_on_eof(struct pg_tcp_conn *c)
{
	pg_ts_log(pg_tcp_ctx(c), "eof", 0);
}

static void
pg_ts_on_acked(struct pg_tcp_conn *c, uint32_t bytes)
{
	pg_ts_log(pg_tcp_ctx(c), "acked", bytes);
}

static void
pg_ts_on_writable(struct pg_tcp_conn *c)
{
	pg_ts_log(pg_tcp_ctx(c), "writable", 0);
}

static void
pg_ts_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_ts_flow *f = pg_tcp_ctx(c);
	char ev[32];
	snprintf(ev, sizeof(ev), "close %s",
		 why < PG_TCP_NREASONS ? pg_ts_reason[why] : "?");
	pg_ts_log(f, ev, 0);
	f->closed = 1;
	f->why = why;
	f->conn = NULL;
}

static const struct pg_tcp_callbacks pg_ts_cb = {
	.on_accept = pg_ts_on_accept,
	.on_connected = pg_ts_on_connected,
	.on_data = pg_ts_on_data,
	.on_eof = pg_ts_on_eof,
	.on_acked = pg_ts_on_acked,
	.on_writable = pg_ts_on_writable,
	.on_close = pg_ts_on_close,
};

/* --- flows --------------------------------------------------------------- */

/* The flow of peer port pport, created on first use, made current. */
static struct pg_ts_flow *
pg_ts_flow(struct pg_ts *t, uint16_t pport)
{
	for (unsigned i = 0; i < t->nflows; i++)
		if (t->flows[i].pport == pport)
			return t->cur = &t->flows[i];
	assert_true(t->nflows < PG_TS_FLOWS);
	struct pg_ts_flow *f = &t->flows[t->nflows++];
	memset(f, 0, sizeof(*f));
	f->pport = pport;
	f->lport = PG_TS_PORT;
	return t->cur = f;
}

/* A flow whose numbers are all literal (segments no connection owns). */
static inline struct pg_ts_flow *
pg_ts_flow_raw(struct pg_ts *t, uint16_t pport, uint16_t lport)
{
	struct pg_ts_flow *f = pg_ts_flow(t, pport);
	f->lport = lport;
	f->iss_known = 1;
	f->iss = 0;
	return f;
}

/* --- wire: parse what the stack sent, build what the peer sends --------- */

static const char *
pg_ts_parse_wire(struct rte_mbuf *m, uint8_t *buf, struct pg_ts_seg *g)
{
	if (m->pkt_len > PG_TS_FRAME_MAX)
		return "frame longer than the test buffer";
	const uint8_t *p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	if (p != buf)
		memcpy(buf, p, m->pkt_len);
	const struct rte_ether_hdr *eh = (const void *)buf;
	if (!rte_is_same_ether_addr(&eh->dst_addr, &pg_ts_peer_mac) ||
	    eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return "not an IPv4 frame to the peer's MAC";
	const struct rte_ipv4_hdr *ip = (const void *)(eh + 1);
	uint16_t iplen = rte_be_to_cpu_16(ip->total_length);
	if (ip->next_proto_id != IPPROTO_TCP || ip->src_addr != PG_TS_OUR_IP ||
	    ip->dst_addr != PG_TS_PEER_IP)
		return "not TCP from us to the peer";
	if (rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) != 0xffff)
		return "bad IPv4 header checksum";
	if (iplen + sizeof(*eh) > m->pkt_len || iplen > 1500)
		return "IPv4 length beyond the frame or the MTU";
	const struct rte_tcp_hdr *th = (const void *)((const uint8_t *)ip +
						      rte_ipv4_hdr_len(ip));
	uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) +
		       rte_raw_cksum(th, iplen - rte_ipv4_hdr_len(ip));
	sum = (sum & 0xffff) + (sum >> 16);
	if (((sum & 0xffff) + (sum >> 16)) != 0xffff)
		return "bad TCP checksum";
	unsigned hlen = (th->data_off >> 4) * 4u;
	memset(g, 0, sizeof(*g));
	g->flags = th->tcp_flags;
	g->sport = rte_be_to_cpu_16(th->src_port);
	g->dport = rte_be_to_cpu_16(th->dst_port);
	g->seq = rte_be_to_cpu_32(th->sent_seq);
	g->end = g->seq + (iplen - rte_ipv4_hdr_len(ip) - hlen);
	g->payload = (const uint8_t *)th + hlen;
	g->has_ack = !!(g->flags & RTE_TCP_ACK_FLAG);
	g->ack = rte_be_to_cpu_32(th->recv_ack);
	g->has_win = 1;
	g->win = rte_be_to_cpu_16(th->rx_win);
	g->has_opts = 1;
	g->mss = g->ws = PG_TS_ABSENT;
	const uint8_t *o = (const uint8_t *)(th + 1), *oe = (const uint8_t *)th + hlen;
	while (o < oe) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 1 >= oe || o[1] < 2 || o + o[1] > oe)
			return "malformed TCP option";
		switch (o[0]) {
		case 2: g->mss = o[2] << 8 | o[3]; break;
		case 3: g->ws = o[2]; break;
		case 4: g->sackok = 1; break;
		case 5:
			for (int i = 0; 2 + 8 * i + 8 <= o[1] && i < 4; i++) {
				g->sack[i][0] = rte_be_to_cpu_32(*(const uint32_t *)(o + 2 + 8 * i));
				g->sack[i][1] = rte_be_to_cpu_32(*(const uint32_t *)(o + 6 + 8 * i));
				g->nsack = i + 1;
			}
			break;
		case 8:
			g->ts = 1;
			g->tsval = rte_be_to_cpu_32(*(const uint32_t *)(o + 2));
			g->tsecr = rte_be_to_cpu_32(*(const uint32_t *)(o + 6));
			break;
		default: return "unknown TCP option";
		}
		o += o[1];
	}
	return NULL;
}

static uint8_t *
pg_ts_put32(uint8_t *o, uint32_t v)
{
	*(uint32_t *)o = rte_cpu_to_be_32(v);
	return o + 4;
}

/* Options of g (absolute numbers) in Linux's order, NOP-aligned. */
static unsigned
pg_ts_put_opts(uint8_t *o0, const struct pg_ts_seg *g)
{
	uint8_t *o = o0;
	if (g->mss >= 0) {
		*o++ = 2; *o++ = 4; *o++ = (uint8_t)(g->mss >> 8);
		*o++ = (uint8_t)g->mss;
	}
	if (g->sackok && g->ts) {
		*o++ = 4; *o++ = 2;
	} else if (g->sackok || g->ts) {
		*o++ = 1; *o++ = 1;
		if (g->sackok) {
			*o++ = 4; *o++ = 2;
		}
	}
	if (g->ts) {
		*o++ = 8; *o++ = 10;
		o = pg_ts_put32(o, g->tsval);
		o = pg_ts_put32(o, g->tsecr);
	}
	if (g->ws >= 0) {
		*o++ = 1; *o++ = 3; *o++ = 3; *o++ = (uint8_t)g->ws;
	}
	if (g->nsack > 0) {
		*o++ = 1; *o++ = 1; *o++ = 5; *o++ = (uint8_t)(2 + 8 * g->nsack);
		for (int i = 0; i < g->nsack; i++) {
			o = pg_ts_put32(o, g->sack[i][0]);
			o = pg_ts_put32(o, g->sack[i][1]);
		}
	}
	assert_true(o - o0 <= 40);
	return (unsigned)(o - o0);
}

static struct rte_mbuf *
pg_ts_build(const struct pg_ts_flow *f, const struct pg_ts_seg *g)
{
	uint8_t b[PG_TS_FRAME_MAX];
	memset(b, 0, sizeof(b));
	struct rte_ether_hdr *eh = (void *)b;
	eh->dst_addr = pg_ts_our_mac;
	eh->src_addr = pg_ts_peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (void *)(eh + 1);
	struct rte_tcp_hdr *th = (void *)(ip + 1);
	unsigned olen = pg_ts_put_opts((uint8_t *)(th + 1), g);
	unsigned hlen = sizeof(*th) + olen;
	uint32_t plen = g->end - g->seq;
	assert_true(plen <= 1500 - 20 - hlen);
	uint8_t *pl = (uint8_t *)th + hlen;
	for (uint32_t i = 0; i < plen; i++)
		pl[i] = pg_ts_pattern(g->seq - f->irs - 1 + i);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + hlen + plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = PG_TS_PEER_IP;
	ip->dst_addr = PG_TS_OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = rte_cpu_to_be_16(f->pport);
	th->dst_port = rte_cpu_to_be_16(f->lport);
	th->sent_seq = rte_cpu_to_be_32(g->seq);
	th->recv_ack = rte_cpu_to_be_32(g->has_ack ? g->ack : 0);
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = g->flags;
	th->rx_win = rte_cpu_to_be_16((uint16_t)g->win);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return pg_test_frame(b, sizeof(*eh) + sizeof(*ip) + hlen + plen);
}

/* --- the script language ------------------------------------------------- */

static int
pg_ts_num(const char **p, uint32_t *v)
{
	while (**p == ' ')
		(*p)++;
	if (**p == '*') {
		(*p)++;
		return PG_TS_ANY;
	}
	char *e;
	long long x = strtoll(*p, &e, 10);
	if (e == *p)
		fail_msg("script: number expected at \"%s\"", *p);
	*p = e;
	*v = (uint32_t)x;
	return 0;
}

static int
pg_ts_word(const char **p, const char *w)
{
	while (**p == ' ' || **p == ',')
		(*p)++;
	size_t n = strlen(w);
	if (strncmp(*p, w, n) != 0)
		return 0;
	*p += n;
	return 1;
}

static void
pg_ts_parse_opts(const char **p, struct pg_ts_seg *g)
{
	uint32_t v;
	g->has_opts = 1;
	while (1) {
		if (pg_ts_word(p, ">"))
			return;
		if (pg_ts_word(p, "mss")) {
			g->mss = pg_ts_num(p, &v) == PG_TS_ANY ? PG_TS_ANY : (int)v;
		} else if (pg_ts_word(p, "sackOK")) {
			g->sackok = 1;
		} else if (pg_ts_word(p, "wscale")) {
			g->ws = pg_ts_num(p, &v) == PG_TS_ANY ? PG_TS_ANY : (int)v;
		} else if (pg_ts_word(p, "nop") || pg_ts_word(p, "eol")) {
		} else if (pg_ts_word(p, "TS val")) {
			g->ts = 1;
			g->tsval_any = pg_ts_num(p, &g->tsval) == PG_TS_ANY;
			if (!pg_ts_word(p, "ecr"))
				fail_msg("script: TS without ecr at \"%s\"", *p);
			g->tsecr_any = pg_ts_num(p, &g->tsecr) == PG_TS_ANY;
		} else if (pg_ts_word(p, "sack")) {
			while (isdigit((unsigned char)(*p)[0]) ||
			       (*p)[0] == '-' || ((*p)[0] == ' ' &&
			       (isdigit((unsigned char)(*p)[1]) || (*p)[1] == '-'))) {
				assert_true(g->nsack < 4);
				pg_ts_num(p, &g->sack[g->nsack][0]);
				if (**p != ':')
					fail_msg("script: sack block A:B at \"%s\"", *p);
				(*p)++;
				pg_ts_num(p, &g->sack[g->nsack][1]);
				g->nsack++;
			}
		} else {
			fail_msg("script: unknown option at \"%s\"", *p);
		}
	}
}

/* Parse "flags start:end(len) [ack N] [win N] [<opts>]". */
static void
pg_ts_parse_spec(const char *p, struct pg_ts_seg *g)
{
	memset(g, 0, sizeof(*g));
	g->mss = g->ws = PG_TS_ABSENT;
	while (*p == ' ')
		p++;
	for (; *p != ' ' && *p != '\0'; p++) {
		switch (*p) {
		case 'S': g->flags |= RTE_TCP_SYN_FLAG; break;
		case 'F': g->flags |= RTE_TCP_FIN_FLAG; break;
		case 'R': g->flags |= RTE_TCP_RST_FLAG; break;
		case 'P': g->flags |= RTE_TCP_PSH_FLAG; break;
		case '.': g->flags |= RTE_TCP_ACK_FLAG; break;
		default: fail_msg("script: unknown flag '%c'", *p);
		}
	}
	pg_ts_num(&p, &g->seq);
	if (*p++ != ':')
		fail_msg("script: start:end expected");
	pg_ts_num(&p, &g->end);
	if (*p == '(') {
		uint32_t len;
		p++;
		pg_ts_num(&p, &len);
		if (len != g->end - g->seq)
			fail_msg("script: %u:%u is not %u bytes", g->seq, g->end, len);
		p++;
	}
	while (*p != '\0') {
		if (pg_ts_word(&p, "ack")) {
			g->has_ack = pg_ts_num(&p, &g->ack) != PG_TS_ANY;
		} else if (pg_ts_word(&p, "win")) {
			g->has_win = pg_ts_num(&p, &g->win) != PG_TS_ANY;
		} else if (pg_ts_word(&p, "<")) {
			pg_ts_parse_opts(&p, g);
		} else if (*p == ' ') {
			p++;
		} else {
			fail_msg("script: cannot read \"%s\"", p);
		}
	}
}

static void
pg_ts_format(char *b, size_t n, const struct pg_ts_seg *g)
{
	static const struct { uint8_t f; char c; } fl[] = {
		{ RTE_TCP_SYN_FLAG, 'S' }, { RTE_TCP_FIN_FLAG, 'F' },
		{ RTE_TCP_RST_FLAG, 'R' }, { RTE_TCP_PSH_FLAG, 'P' },
		{ RTE_TCP_ACK_FLAG, '.' },
	};
	size_t k = 0;
#define PG_TS_PUT(...) k += (size_t)snprintf(b + k, k < n ? n - k : 0, __VA_ARGS__)
	for (unsigned i = 0; i < RTE_DIM(fl); i++)
		if (g->flags & fl[i].f)
			PG_TS_PUT("%c", fl[i].c);
	PG_TS_PUT(" %d:%d(%u)", (int32_t)g->seq, (int32_t)g->end, g->end - g->seq);
	if (g->has_ack)
		PG_TS_PUT(" ack %u", g->ack);
	if (g->has_win)
		PG_TS_PUT(" win %u", g->win);
	if (!g->has_opts)
		return;
	const char *sep = "";
	PG_TS_PUT(" <");
	if (g->mss != PG_TS_ABSENT) {
		PG_TS_PUT("mss %d", g->mss);
		sep = ",";
	}
	if (g->sackok) {
		PG_TS_PUT("%ssackOK", sep);
		sep = ",";
	}
	if (g->ts) {
		PG_TS_PUT("%sTS val %u ecr %u", sep, g->tsval, g->tsecr);
		sep = ",";
	}
	if (g->ws != PG_TS_ABSENT) {
		PG_TS_PUT("%swscale %d", sep, g->ws);
		sep = ",";
	}
	if (g->nsack > 0) {
		PG_TS_PUT("%ssack", sep);
		for (int i = 0; i < g->nsack; i++)
			PG_TS_PUT(" %u:%u", g->sack[i][0], g->sack[i][1]);
	}
	PG_TS_PUT(">");
#undef PG_TS_PUT
}

/* NULL when the wire segment w (ours relative) matches the spec e. */
static const char *
pg_ts_match(const struct pg_ts_seg *e, const struct pg_ts_seg *w)
{
	uint8_t mask = (uint8_t)~RTE_TCP_PSH_FLAG;
	if ((e->flags & mask) != (w->flags & mask))
		return "flags";
	if (e->seq != w->seq || e->end != w->end)
		return "sequence numbers or length";
	if (e->has_ack && e->ack != w->ack)
		return "ack";
	if (e->has_win && e->win != w->win)
		return "window";
	if (!e->has_opts)
		return NULL;
	if (e->mss != PG_TS_ANY && e->mss != w->mss)
		return "MSS option";
	if (e->ws != PG_TS_ANY && e->ws != w->ws)
		return "window scale option";
	if (e->sackok != w->sackok)
		return "SACK-permitted option";
	if (e->ts != w->ts || (e->ts && ((!e->tsval_any && e->tsval != w->tsval) ||
					 (!e->tsecr_any && e->tsecr != w->tsecr))))
		return "timestamp option";
	if (e->nsack != w->nsack ||
	    memcmp(e->sack, w->sack, sizeof(e->sack[0]) * (size_t)e->nsack) != 0)
		return "SACK blocks";
	return NULL;
}

/* --- virtual time -------------------------------------------------------- */

static void pg_ts_describe(struct pg_ts *t, struct pg_ts_tx *x,
			   struct pg_ts_seg *w, uint8_t *buf, char *b, size_t n);

/* PG_TS_TRACE=1 in the environment prints every segment both ways. */
static int
pg_ts_tracing(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("PG_TS_TRACE") != NULL;
	return on;
}

static void
pg_ts_collect(struct pg_ts *t)
{
	for (unsigned i = 0; i < t->cap.ntx; i++) {
		if (pg_ts_tracing()) {
			struct pg_ts_tx x = { t->cap.tx[i], t->now_ms };
			struct pg_ts_seg w;
			uint8_t buf[PG_TS_FRAME_MAX];
			char d[256];
			pg_ts_describe(t, &x, &w, buf, d, sizeof(d));
			printf("# > %s\n", d);
		}
		assert_true(t->qt - t->qh < PG_TS_QUEUE);
		t->q[t->qt % PG_TS_QUEUE].m = t->cap.tx[i];
		t->q[t->qt++ % PG_TS_QUEUE].ms = t->now_ms;
	}
	t->cap.ntx = 0;
}

/* One pass of the worker loop at the current virtual time. */
static void
pg_ts_step(struct pg_ts *t)
{
	t->nif.now_ns = PG_TS_T0_NS + t->now_ms * 1000000ull;
	while (pg_netif_poll(&t->nif) > 0)
		;
	pg_tcp_stack_poll(t->s);
	pg_netif_flush(&t->nif);
	pg_ts_collect(t);
}

/* Move the clock to ms, running what falls due; stop early on a send. */
static void
pg_ts_advance(struct pg_ts *t, uint64_t ms, int stop_on_tx)
{
	while (t->now_ms < ms) {
		if (stop_on_tx && t->qt != t->qh)
			return;
		uint64_t next = t->now_ms + 1;
		uint64_t due = pg_tcp_stack_next_timer(t->s);
		if (due == UINT64_MAX)
			next = ms;
		else if (due > t->nif.now_ns && (due - PG_TS_T0_NS) / 1000000 > next)
			next = (due - PG_TS_T0_NS) / 1000000;
		t->now_ms = next < ms ? next : ms;
		pg_ts_step(t);
	}
}

/*
 * Time of a line: "+N" after the last event, "N" absolute, "~N" anywhere
 * within N ms after the last event (timed is then N + 1), or now.
 */
static const char *
pg_ts_time(struct pg_ts *t, const char *p, uint64_t *ms, int *timed)
{
	while (*p == ' ')
		p++;
	*timed = 1;
	if (*p == '~') {
		*timed = 1 + (int)strtoul(p + 1, (char **)&p, 10);
		*ms = t->last_ms;
	} else if (*p == '+')
		*ms = t->last_ms + strtoull(p + 1, (char **)&p, 10);
	else if (isdigit((unsigned char)*p))
		*ms = strtoull(p, (char **)&p, 10);
	else {
		*timed = 0;
		*ms = t->now_ms;
	}
	return p;
}

static void
pg_ts_describe(struct pg_ts *t, struct pg_ts_tx *x, struct pg_ts_seg *w,
	       uint8_t *buf, char *b, size_t n)
{
	const char *err = pg_ts_parse_wire(x->m, buf, w);
	if (err != NULL) {
		snprintf(b, n, "(at %" PRIu64 " ms) invalid frame: %s", x->ms, err);
		return;
	}
	struct pg_ts_flow *f = NULL;
	for (unsigned i = 0; i < t->nflows; i++)
		if (t->flows[i].pport == w->dport)
			f = &t->flows[i];
	if (f != NULL && f->iss_known) {
		w->seq -= f->iss;
		w->end -= f->iss;
	}
	int k = snprintf(b, n, "(at %" PRIu64 " ms, %u > %u) ", x->ms, w->sport,
			 w->dport);
	pg_ts_format(b + k, n - (size_t)k, w);
}

/* Fail with every segment still queued. */
static void
pg_ts_fail_queued(struct pg_ts *t, const char *why)
{
	char msg[4096];
	size_t k = (size_t)snprintf(msg, sizeof(msg), "%s:", why);
	for (unsigned i = t->qh; i != t->qt && k < sizeof(msg); i++) {
		struct pg_ts_seg w;
		uint8_t buf[PG_TS_FRAME_MAX];
		char d[256];
		pg_ts_describe(t, &t->q[i % PG_TS_QUEUE], &w, buf, d, sizeof(d));
		k += (size_t)snprintf(msg + k, sizeof(msg) - k, "\n#   %s", d);
	}
	fail_msg("%s", msg);
}

/* --- lines --------------------------------------------------------------- */

static void
pg_ts_inject(struct pg_ts *t, const char *spec, const char *line)
{
	struct pg_ts_flow *f = t->cur;
	struct pg_ts_seg g;
	pg_ts_parse_spec(spec, &g);
	if (!g.has_win)
		g.win = 65535;
	if (g.has_ack && (g.flags & RTE_TCP_ACK_FLAG))
		g.ack += f->iss;
	for (int i = 0; i < g.nsack; i++) {
		g.sack[i][0] += f->iss;
		g.sack[i][1] += f->iss;
	}
	if (!g.has_opts && f->ts) {
		g.ts = 1;
		g.tsval_any = g.tsecr_any = 1;
	}
	if (g.ts && g.tsval_any)
		g.tsval = RTE_MAX(f->peer_tsval, (uint32_t)(100 + t->now_ms));
	if (g.ts)
		f->peer_tsval = g.tsval;
	if (g.ts && g.tsecr_any)
		g.tsecr = f->last_tsval;
	if (g.flags & RTE_TCP_SYN_FLAG)
		f->irs = g.seq;
	if (pg_ts_tracing())
		printf("# < (at %" PRIu64 " ms) %s\n", t->now_ms, line);
	pg_cap_push(&t->cap, pg_ts_build(f, &g));
	pg_ts_step(t);
}

static void
pg_ts_expect_seg(struct pg_ts *t, const char *spec, const char *line,
		 uint64_t ms, int timed)
{
	struct pg_ts_seg e, w;
	char d[256];
	pg_ts_parse_spec(spec, &e);
	uint64_t late = ms + PG_TS_SLACK_MS + (timed > 1 ? (uint64_t)timed - 1 : 0);
	if (timed)
		pg_ts_advance(t, late, 1);
	if (t->qh == t->qt)
		fail_msg("expected at %" PRIu64 " ms: %s\n# nothing was sent "
			 "(now %" PRIu64 " ms)", ms, line, t->now_ms);
	struct pg_ts_tx *x = &t->q[t->qh % PG_TS_QUEUE];
	struct pg_ts_flow *f = t->cur;
	uint8_t buf[PG_TS_FRAME_MAX];
	const char *err = pg_ts_parse_wire(x->m, buf, &w);
	if (err != NULL)
		fail_msg("expected %s\n# sent an invalid frame: %s", line, err);
	if (w.dport != f->pport || (f->lport != 0 && w.sport != f->lport))
		fail_msg("expected %s\n# sent %u > %u, not on the current flow",
			 line, w.sport, w.dport);
	if (w.flags & RTE_TCP_SYN_FLAG) {
		f->iss = w.seq - e.seq;
		f->iss_known = 1;
		f->lport = w.sport;
	}
	if (w.ts) {
		if (f->ts && (int32_t)(w.tsval - f->last_tsval) < 0)
			fail_msg("%s\n# TSval went back from %u to %u", line,
				 f->last_tsval, w.tsval);
		f->last_tsval = w.tsval;
	}
	pg_ts_describe(t, x, &w, buf, d, sizeof(d));
	const char *why = pg_ts_match(&e, &w);
	if (why != NULL)
		fail_msg("expected %s\n# sent     %s\n# wrong %s", line, d, why);
	if (timed && (x->ms < ms || x->ms > late))
		fail_msg("expected %s\n# sent %s: %s", line, d,
			 x->ms < ms ? "too early" : "too late");
	for (uint32_t i = 0; i < w.end - w.seq; i++)
		if (w.payload[i] != pg_ts_pattern(w.seq - 1 + i))
			fail_msg("%s\n# payload byte %u is %u, the application "
				 "wrote %u", line, i, w.payload[i],
				 pg_ts_pattern(w.seq - 1 + i));
	pg_mbuf_free(x->m);
	t->qh++;
	t->last_ms = x->ms;
}

/*
 * One script line (printf format). '<' lines inject, '>' lines expect; see
 * the top of the file.
 */
static void __attribute__((format(printf, 2, 3)))
pg_ts(struct pg_ts *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uint64_t ms;
	int timed;
	const char *p = pg_ts_time(t, line, &ms, &timed);
	while (*p == ' ')
		p++;
	if (*p == '<') {
		pg_ts_advance(t, ms, 0);
		if (t->qh != t->qt) {
			char why[600];
			snprintf(why, sizeof(why), "before \"%s\" the stack "
				 "sent what the script did not expect", line);
			pg_ts_fail_queued(t, why);
		}
		t->last_ms = t->now_ms;
		pg_ts_inject(t, p + 1, line);
	} else if (*p == '>') {
		pg_ts_expect_seg(t, p + 1, line, ms, timed);
	} else {
		fail_msg("script: line must be '<' or '>': %s", line);
	}
}

/* If the next segment sent now matches spec, take it: 1, else 0. */
static int __attribute__((unused))
pg_ts_maybe(struct pg_ts *t, const char *spec)
{
	struct pg_ts_seg e, w;
	uint8_t buf[PG_TS_FRAME_MAX];
	char d[256];
	if (t->qh == t->qt)
		return 0;
	pg_ts_parse_spec(spec, &e);
	pg_ts_describe(t, &t->q[t->qh % PG_TS_QUEUE], &w, buf, d, sizeof(d));
	if (pg_ts_match(&e, &w) != NULL)
		return 0;
	pg_ts_expect_seg(t, spec, spec, t->now_ms, 0);
	return 1;
}

/*
 * Take up to max segments sent so far (none may be invalid), numbers made
 * relative as in expectations. Returns how many.
 */
static unsigned __attribute__((unused))
pg_ts_take(struct pg_ts *t, struct pg_ts_seg *out, unsigned max)
{
	unsigned n = 0;
	uint8_t buf[PG_TS_FRAME_MAX];
	char d[256];
	for (; t->qh != t->qt && n < max; t->qh++, n++) {
		struct pg_ts_tx *x = &t->q[t->qh % PG_TS_QUEUE];
		pg_ts_describe(t, x, &out[n], buf, d, sizeof(d));
		if (strstr(d, "invalid") != NULL)
			fail_msg("%s", d);
		out[n].payload = NULL;
		t->last_ms = x->ms;
		pg_mbuf_free(x->m);
	}
	return n;
}

/* Nothing is sent until ms after the last event (last_ms is kept). */
static void __attribute__((unused))
pg_ts_quiet(struct pg_ts *t, uint64_t ms)
{
	pg_ts_advance(t, t->last_ms + ms, 0);
	if (t->qh != t->qt) {
		char why[128];
		snprintf(why, sizeof(why), "nothing should be sent until %"
			 PRIu64 " ms", t->last_ms + ms);
		pg_ts_fail_queued(t, why);
	}
}

/*
 * Move the clock ms after the last event, then run one step (0: just flush
 * what an API call sent). Whatever is sent stays queued.
 */
static void __attribute__((unused))
pg_ts_wait(struct pg_ts *t, uint64_t ms)
{
	pg_ts_advance(t, t->last_ms + ms, 0);
	pg_ts_step(t);
	t->last_ms = t->now_ms;
}

/* The current flow's application saw exactly events (then forgotten). */
static void __attribute__((unused))
pg_ts_events(struct pg_ts *t, const char *events)
{
	if (strcmp(t->cur->log, events) != 0)
		fail_msg("application events: \"%s\", expected \"%s\"",
			 t->cur->log, events);
	t->cur->log[0] = '\0';
}

/* The application of the current flow writes n bytes. */
static void __attribute__((unused))
pg_ts_write(struct pg_ts *t, uint32_t n)
{
	struct pg_ts_flow *f = t->cur;
	uint8_t *b = malloc(n);
	assert_non_null(b);
	for (uint32_t i = 0; i < n; i++)
		b[i] = pg_ts_pattern(f->sent + i);
	assert_non_null(f->conn);
	assert_int_equal(pg_tcp_write(f->conn, b, n), PG_OK);
	f->sent += n;
	free(b);
	pg_ts_step(t);
}

/* --- setup and teardown -------------------------------------------------- */

static inline struct pg_tcp_conf pg_ts_conf(void);

/* A stack with conf (NULL: pg_ts_conf()) and a fixed secret. */
static struct pg_ts *
pg_ts_start(const struct pg_tcp_conf *conf)
{
	struct pg_ts *t = &pg_ts_g;
	const char *err = NULL;
	pg_test_eal();
	memset(t, 0, sizeof(*t));
	t->neigh = calloc(1, pg_neigh_table_size());
	assert_non_null(t->neigh);
	pg_neigh_init(t->neigh);
	pg_netif_init(&t->nif, 0, 1, &pg_ts_our_mac, PG_TS_OUR_IP, 24, 0, 1500);
	pg_cap_init(&t->cap, t->nif.holder);
	t->nif.drv = &t->cap.base;
	t->nif.pool = pg_test_pool;
	t->nif.stats = &t->stats;
	t->nif.neigh = t->neigh;
	t->nif.now_ns = PG_TS_T0_NS;
	t->nif.sim_clock = 1;
	pg_neigh_update(t->neigh, PG_TS_PEER_IP, &pg_ts_peer_mac, PG_TS_T0_NS,
			1, t->nif.holder);
	if (conf != NULL)
		t->conf = *conf;
	else
		t->conf = pg_ts_conf();
	t->conf.secret[0] = 0x0123456789abcdefull;
	t->conf.secret[1] = 0xfedcba9876543210ull;
	t->opts.cc = t->conf.cc;
	t->opts.nodelay = 1;
	t->s = pg_tcp_stack_create(&t->nif, &t->conf, NULL, &err);
	if (t->s == NULL)
		fail_msg("pg_tcp_stack_create: %s", err ? err : "?");
	t->live = 1;
	return t;
}

/*
 * A configuration to change before pg_ts_start: the defaults, but the
 * scripts state RFC 6298 retransmission timing, so the tail loss probe
 * is off unless a script turns it on (test_tcp_rto.c does).
 */
static inline struct pg_tcp_conf
pg_ts_conf(void)
{
	struct pg_tcp_conf c;
	pg_tcp_conf_default(&c);
	c.tail_loss_probe = 0;
	return c;
}

static void __attribute__((unused))
pg_ts_listen(struct pg_ts *t)
{
	const char *err = NULL;
	t->l = pg_tcp_listen(t->s, PG_TS_PORT, &pg_ts_cb, t, &t->opts, &err);
	if (t->l == NULL)
		fail_msg("pg_tcp_listen: %s", err ? err : "?");
	pg_ts_flow(t, PG_TS_PEER_PORT);
}

/* Active open to the peer's port; the SYN is expected by the script. */
static void __attribute__((unused))
pg_ts_connect(struct pg_ts *t, uint16_t port)
{
	const char *err = NULL;
	struct pg_ts_flow *f = pg_ts_flow(t, port);
	f->lport = 0;
	f->active = 1;
	f->conn = pg_tcp_connect(t->s, PG_TS_PEER_IP, port, &pg_ts_cb, f,
				 &t->opts, &err);
	if (f->conn == NULL)
		fail_msg("pg_tcp_connect: %s", err ? err : "?");
	pg_ts_step(t);
}

/*
 * Passive open of the current flow: SYN with syn_opts at seq
 * PG_TS_PEER_ISN, our SYN-ACK with synack_opts, the peer's ACK rtt_ms
 * later. Timestamps are then added to injected segments when negotiated.
 */
static void __attribute__((unused))
pg_ts_passive(struct pg_ts *t, const char *syn_opts, const char *synack_opts,
	      uint64_t rtt_ms)
{
	pg_ts(t, "< S %u:%u(0) win 65535 %s", PG_TS_PEER_ISN, PG_TS_PEER_ISN,
	      syn_opts);
	pg_ts(t, "> S. 0:0(0) ack %u win %u %s", PG_TS_PEER_ISN + 1,
	      RTE_MIN(t->conf.rcv_wnd, 65535u), synack_opts);
	t->cur->ts = strstr(synack_opts, "TS") != NULL;
	pg_ts(t, "+%" PRIu64 " < . %u:%u(0) ack 1 win 65535", rtt_ms,
	      PG_TS_PEER_ISN + 1, PG_TS_PEER_ISN + 1);
	pg_ts_events(t, "accept;");
}

/* Free everything; the test passes only if no mbuf is left. */
static void
pg_ts_destroy(struct pg_ts *t)
{
	if (!t->live)
		return;
	t->live = 0;
	if (t->l != NULL)
		pg_tcp_unlisten(t->l);
	pg_tcp_stack_destroy(t->s);
	pg_netif_flush(&t->nif);
	pg_cap_clear(&t->cap);
	for (; t->qh != t->qt; t->qh++)
		pg_mbuf_free(t->q[t->qh % PG_TS_QUEUE].m);
	struct rte_mbuf *pkts[PG_BURST];
	uint16_t n;
	while ((n = pg_driver_rx(t->nif.drv, pkts, PG_BURST)) > 0)
		for (uint16_t i = 0; i < n; i++)
			pg_mbuf_free(pkts[i]);
	pg_netif_close(&t->nif);
	free(t->neigh);
}

/* End of a script: nothing unexpected was sent, nothing leaked. */
static void __attribute__((unused))
pg_ts_end(struct pg_ts *t)
{
	if (t->qh != t->qt)
		pg_ts_fail_queued(t, "the stack sent what the script did not "
				  "expect");
	pg_ts_destroy(t);
	pg_test_assert_no_leak();
}

/* cmocka teardown: clean up after a failed script. */
static int __attribute__((unused))
pg_ts_teardown(void **state)
{
	pg_ts_destroy(&pg_ts_g);
	return 0;
}

#define PG_TS_TEST(fn) cmocka_unit_test_teardown(fn, pg_ts_teardown)

static void __attribute__((unused))
pg_ts_known_bug(void **state)
{
	if (getenv("PG_TS_KNOWN_BUGS") != NULL)
		((void (*)(void **))*state)(state);
}

#endif
