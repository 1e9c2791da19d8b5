/*
 * TCP output: what to send (pg_tcp_output), how a segment is built
 * (pg_tcp_xmit -> pg_tcp_build -> pg_ip_output) and the segments sent
 * without payload (ACK, probe, SYN, RST, cookie SYN-ACK).
 *
 * Payload is never copied into a send buffer: a segment's header mbuf is
 * followed by indirect mbufs attached to the application's mbufs in the
 * send queue (their reference count keeps them alive while the frame is
 * in flight), except for small payloads, cheaper to copy than to attach.
 */
#include <string.h>

#include <rte_ip.h>

#include "net/pg_tcp_priv.h"

/* A segment's header fields, connection or not. */
struct pg_tcp_tx {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t flags;
	uint8_t optlen;
	uint8_t opt[40];
};

enum { OPT_EOL, OPT_NOP, OPT_MSS, OPT_WS, OPT_SACK_OK, OPT_SACK, OPT_TS = 8 };

uint16_t
pg_tcp_local_mss(const struct pg_tcp_stack *s)
{
	return (uint16_t)(s->nif->mtu - sizeof(struct rte_ipv4_hdr)
			  - sizeof(struct rte_tcp_hdr));
}

uint8_t
pg_tcp_rcv_wscale(const struct pg_tcp_stack *s)
{
	uint8_t ws = 0;
	while (ws < PG_TCP_MAX_WS && (s->conf.rcv_wnd >> ws) > 65535)
		ws++;
	return ws;
}

uint32_t
pg_tcp_tsval(const struct pg_tcp_conn *c)
{
	return pg_tcp_now_ms(c->stack) + c->iss;
}

uint32_t
pg_tcp_rcv_space(const struct pg_tcp_conn *c)
{
	uint32_t wnd = c->stack->conf.rcv_wnd;
	return wnd > c->held_bytes ? wnd - c->held_bytes : 0;
}

/*
 * The window field of the next segment. The right edge never moves back
 * (RFC 9293 3.8.6.2.2) and opens only by at least min(rcv_wnd/2, MSS):
 * receiver-side silly window avoidance.
 */
uint32_t
pg_tcp_wnd_to_advertise(struct pg_tcp_conn *c)
{
	const struct pg_tcp_stack *s = c->stack;
	uint32_t edge = c->rcv_nxt + pg_tcp_rcv_space(c);
	uint32_t step = RTE_MIN(s->conf.rcv_wnd / 2,
				(uint32_t)pg_tcp_local_mss(s));

	if (SEQ_LT(edge, c->rcv_adv)
	    || (SEQ_LT(edge, c->rcv_adv + step) && c->rcv_adv != c->rcv_nxt
		&& SEQ_GT(c->rcv_adv, c->rcv_nxt)))
		edge = SEQ_MAX(c->rcv_adv, c->rcv_nxt);
	uint32_t win = edge - c->rcv_nxt;
	uint32_t field = (win + (1u << c->rcv_ws) - 1) >> c->rcv_ws;
	if (field > 65535)
		field = 65535;
	uint32_t adv = c->rcv_nxt + (field << c->rcv_ws);
	if (SEQ_GT(adv, c->rcv_adv))
		c->rcv_adv = adv;
	return field;
}

/* --- options -------------------------------------------------------------- */

static void
pg_tcp_opt_put(struct pg_tcp_tx *tx, const uint8_t *b, unsigned n)
{
	memcpy(tx->opt + tx->optlen, b, n);
	tx->optlen += n;
}

static void
pg_tcp_opt_ts(struct pg_tcp_tx *tx, uint32_t val, uint32_t ecr)
{
	uint8_t b[12] = { OPT_NOP, OPT_NOP, OPT_TS, 10 };
	val = rte_cpu_to_be_32(val);
	ecr = rte_cpu_to_be_32(ecr);
	memcpy(b + 4, &val, 4);
	memcpy(b + 8, &ecr, 4);
	pg_tcp_opt_put(tx, b, sizeof(b));
}

/* MSS, SACK permitted, timestamps, window scale: what a SYN offers. */
static void
pg_tcp_opt_syn(struct pg_tcp_tx *tx, uint16_t mss, int sack, int ts,
	       uint32_t tsval, uint32_t tsecr, int ws, uint8_t wscale)
{
	uint8_t b[4] = { OPT_MSS, 4, mss >> 8, mss & 0xff };
	pg_tcp_opt_put(tx, b, 4);
	if (ts)
		pg_tcp_opt_ts(tx, tsval, tsecr);
	if (sack) {
		uint8_t k[4] = { OPT_NOP, OPT_NOP, OPT_SACK_OK, 2 };
		pg_tcp_opt_put(tx, k, 4);
	}
	if (ws) {
		uint8_t w[4] = { OPT_NOP, OPT_WS, 3, wscale };
		pg_tcp_opt_put(tx, w, 4);
	}
}

/* SACK blocks for the out-of-order queue, the latest arrival first. */
static void
pg_tcp_opt_sack(struct pg_tcp_tx *tx, struct pg_tcp_conn *c)
{
	struct { uint32_t start, end; } blk[PG_TCP_SACK_MAX];
	unsigned n = 0, max = (40u - tx->optlen - 4) / 8;
	const struct pg_tcp_stack *s = c->stack;

	if (max > PG_TCP_SACK_MAX)
		max = PG_TCP_SACK_MAX;
	/* Merge the queue into contiguous blocks. */
	unsigned total = 0, first = 0;
	struct { uint32_t start, end; } all[PG_TCP_SACK_BOARD];
	for (struct rte_mbuf *m = c->ooo; m != NULL; m = pg_mbuf_priv(m)->qnext) {
		uint32_t st = pg_mbuf_priv(m)->seq, en = st + m->pkt_len;
		if (total > 0 && all[total - 1].end == st) {
			all[total - 1].end = en;
		} else if (total < PG_TCP_SACK_BOARD) {
			all[total].start = st;
			all[total++].end = en;
		} else {
			break;
		}
		if (s->last_ooo_conn == c && SEQ_GEQ(s->last_ooo_seq, all[total - 1].start)
		    && SEQ_LT(s->last_ooo_seq, all[total - 1].end))
			first = total - 1;
	}
	if (total == 0 || max == 0)
		return;
	blk[n].start = all[first].start;
	blk[n++].end = all[first].end;
	for (unsigned i = 0; i < total && n < max; i++)
		if (i != first) {
			blk[n].start = all[i].start;
			blk[n++].end = all[i].end;
		}
	uint8_t b[4] = { OPT_NOP, OPT_NOP, OPT_SACK, (uint8_t)(2 + 8 * n) };
	pg_tcp_opt_put(tx, b, 4);
	for (unsigned i = 0; i < n; i++) {
		uint32_t v[2] = { rte_cpu_to_be_32(blk[i].start),
				  rte_cpu_to_be_32(blk[i].end) };
		pg_tcp_opt_put(tx, (uint8_t *)v, 8);
	}
}

/* --- building ------------------------------------------------------------- */

/*
 * Find the send-queue segment holding sequence number seq. The stack keeps
 * a cursor so that sending a window's worth of segments walks the queue
 * once, not once per segment.
 */
static struct rte_mbuf *
pg_tcp_sndq_find(struct pg_tcp_conn *c, uint32_t seq, uint32_t *off)
{
	struct pg_tcp_stack *s = c->stack;
	struct pg_tcp_cursor *cur = &s->cursor;
	struct rte_mbuf *entry, *seg;
	uint32_t at;

	if (cur->conn == c && cur->una == c->snd_una && SEQ_GEQ(seq, cur->seq)) {
		entry = cur->entry;
		seg = cur->seg;
		at = cur->seq;
	} else {
		entry = seg = c->sndq;
		at = c->snd_una;
	}
	while (entry != NULL) {
		if (SEQ_LT(seq, at + seg->data_len)) {
			*cur = (struct pg_tcp_cursor){ c, c->snd_una, at, entry, seg };
			*off = seq - at;
			return seg;
		}
		at += seg->data_len;
		seg = seg->next;
		if (seg == NULL) {
			entry = pg_mbuf_priv(entry)->qnext;
			seg = entry;
		}
	}
	return NULL;
}

/* Append len bytes of the send queue from seq to h (copy or attach). */
static int
pg_tcp_add_payload(struct pg_tcp_conn *c, struct rte_mbuf *h, uint32_t seq,
		   uint32_t len)
{
	struct pg_netif *nif = c->stack->nif;
	int copy = len <= PG_TCP_COPY_MAX;
	struct rte_mbuf *tail = h;
	uint32_t off;

	while (len > 0) {
		struct rte_mbuf *seg = pg_tcp_sndq_find(c, seq, &off);
		if (seg == NULL)
			return PG_ERROR;
		uint32_t n = RTE_MIN(len, (uint32_t)seg->data_len - off);
		if (copy) {
			char *p = rte_pktmbuf_append(h, (uint16_t)n);
			if (p == NULL)
				return PG_ERROR;
			memcpy(p, rte_pktmbuf_mtod_offset(seg, char *, off), n);
		} else {
			struct rte_mbuf *mi = pg_mbuf_alloc(nif->pool, nif->holder);
			if (mi == NULL)
				return PG_ERROR;
			rte_pktmbuf_attach(mi, seg);
			mi->data_off += off;
			mi->data_len = (uint16_t)n;
			mi->pkt_len = n;
			pg_mbuf_chain_add(&h, &tail, mi);
		}
		seq += n;
		len -= n;
	}
	return PG_OK;
}

/* Fill IPv4 and TCP headers in front of h's payload and send it. */
static void
pg_tcp_emit(struct pg_tcp_stack *s, struct rte_mbuf *h,
	    const struct pg_tcp_tx *tx)
{
	struct pg_netif *nif = s->nif;
	unsigned thl = sizeof(struct rte_tcp_hdr) + tx->optlen;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)
		rte_pktmbuf_prepend(h, (uint16_t)(sizeof(*ip) + thl));
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)h->pkt_len);
	ip->packet_id = 0;
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = tx->laddr;
	ip->dst_addr = tx->raddr;
	th->src_port = tx->lport;
	th->dst_port = tx->rport;
	th->sent_seq = rte_cpu_to_be_32(tx->seq);
	th->recv_ack = rte_cpu_to_be_32(tx->ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = tx->flags;
	th->rx_win = rte_cpu_to_be_16(tx->wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	memcpy(th + 1, tx->opt, tx->optlen);
	if (nif->tx_csum) {
		h->l2_len = sizeof(struct rte_ether_hdr);
		h->l3_len = sizeof(*ip);
		h->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, h->ol_flags);
	} else {
		th->cksum = (uint16_t)~pg_ip_l4_sum(h, ip, sizeof(*ip));
	}
	s->stats->out_segs++;
	pg_ip_output(nif, h);
}

static struct rte_mbuf *
pg_tcp_hdr_alloc(struct pg_tcp_stack *s)
{
	struct rte_mbuf *h = pg_mbuf_alloc(s->nif->pool, s->nif->holder);
	if (h == NULL)
		s->nif->stats->drops[PG_DROP_no_mbuf]++;
	return h;
}

static void
pg_tcp_tx_of(struct pg_tcp_conn *c, struct pg_tcp_tx *tx, uint32_t seq,
	     uint8_t flags)
{
	tx->laddr = c->laddr;
	tx->raddr = c->raddr;
	tx->lport = c->lport;
	tx->rport = c->rport;
	tx->seq = seq;
	tx->ack = (flags & PG_TCP_ACK) ? c->rcv_nxt : 0;
	tx->flags = flags;
	tx->optlen = 0;
}

int
pg_tcp_xmit(struct pg_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct pg_tcp_stack *s = c->stack;
	struct pg_tcp_tx tx;
	struct rte_mbuf *h = pg_tcp_hdr_alloc(s);

	if (h == NULL)
		return PG_ERROR;
	pg_tcp_tx_of(c, &tx, seq, flags);
	if (flags & PG_TCP_SYN) {
		tx.wnd = (uint16_t)RTE_MIN(pg_tcp_rcv_space(c), 65535u);
		c->rcv_adv = c->rcv_nxt + tx.wnd;
		int passive = c->state == PG_TCP_SYN_RCVD;
		struct pg_tcp_conf *cf = &s->conf;
		pg_tcp_opt_syn(&tx, pg_tcp_local_mss(s),
			       passive ? !!(c->flags & PG_TCPF_SACK) : cf->sack,
			       passive ? !!(c->flags & PG_TCPF_TS) : cf->timestamps,
			       pg_tcp_tsval(c), c->ts_recent,
			       passive ? !!(c->flags & PG_TCPF_WS)
				       : cf->window_scaling,
			       c->rcv_ws);
	} else {
		tx.wnd = (uint16_t)pg_tcp_wnd_to_advertise(c);
		if (c->flags & PG_TCPF_TS)
			pg_tcp_opt_ts(&tx, pg_tcp_tsval(c), c->ts_recent);
		if ((c->flags & PG_TCPF_SACK) && c->ooo != NULL)
			pg_tcp_opt_sack(&tx, c);
	}
	if (len > 0 && pg_tcp_add_payload(c, h, seq, len) != PG_OK) {
		pg_mbuf_free(h);
		s->nif->stats->drops[PG_DROP_no_mbuf]++;
		return PG_ERROR;
	}
	if (flags & PG_TCP_ACK) {
		c->ack_at = 0;
		c->segs_unacked = 0;
		c->flags &= ~PG_TCPF_ACK_NOW;
	}
	pg_tcp_emit(s, h, &tx);
	return PG_OK;
}

/* --- what to send ---------------------------------------------------------- */

/* Payload per segment: the MSS less the options the segment will carry. */
uint32_t
pg_tcp_eff_mss(const struct pg_tcp_conn *c)
{
	uint32_t opts = (c->flags & PG_TCPF_TS) ? 12 : 0;
	/* SACK blocks ride on data while our out-of-order queue is not empty. */
	if ((c->flags & PG_TCPF_SACK) && c->ooo != NULL)
		opts += (c->flags & PG_TCPF_TS) ? 4 + 3 * 8 : 4 + 4 * 8;
	return c->mss - opts;           /* PG_TCP_MSS_MIN > 40: positive */
}

uint32_t
pg_tcp_in_flight(const struct pg_tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

static int
pg_tcp_synchronized(const struct pg_tcp_conn *c)
{
	return c->state >= PG_TCP_ESTABLISHED && c->state != PG_TCP_TIME_WAIT;
}

/* Send one segment of new data at snd_nxt if the rules allow (1 if sent). */
static int
pg_tcp_output_one(struct pg_tcp_conn *c, uint32_t wnd)
{
	uint32_t data_end = c->snd_una + c->queued;
	uint32_t mss = pg_tcp_eff_mss(c);
	uint32_t in_flight = pg_tcp_in_flight(c);

	if (SEQ_LT(c->snd_nxt, data_end)) {
		uint32_t unsent = data_end - c->snd_nxt;
		int32_t usable = (int32_t)(c->snd_una + wnd - c->snd_nxt);
		if (usable <= 0)
			return 0;
		uint32_t len = RTE_MIN(RTE_MIN(unsent, (uint32_t)usable), mss);
		/* Sender SWS avoidance (RFC 9293 3.8.6.2.1) and Nagle. */
		if (len < mss && len < unsent && in_flight > 0
		    && len < c->max_snd_wnd / 2)
			return 0;
		if (len < mss && len == unsent && in_flight > 0
		    && !(c->flags & PG_TCPF_NODELAY))
			return 0;
		uint8_t fl = PG_TCP_ACK | (len == unsent ? PG_TCP_PSH : 0);
		if (pg_tcp_xmit(c, c->snd_nxt, len, fl) != PG_OK)
			return 0;
		if (!(c->flags & (PG_TCPF_TS | PG_TCPF_RTT))
		    && SEQ_GEQ(c->snd_nxt, c->snd_max)) {
			c->flags |= PG_TCPF_RTT;
			c->rtt_seq = c->snd_nxt + len;
			c->rtt_ms = pg_tcp_now_ms(c->stack);
		}
		c->snd_nxt += len;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		return 1;
	}
	/* All data out: the FIN, which needs no window. */
	if ((c->flags & PG_TCPF_SHUT_WR) && c->snd_nxt == data_end
	    && !(c->flags & PG_TCPF_FIN_ACKED)) {
		if (pg_tcp_xmit(c, c->snd_nxt, 0, PG_TCP_FIN | PG_TCP_ACK) != PG_OK)
			return 0;
		c->snd_nxt++;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		return 1;
	}
	return 0;
}

void
pg_tcp_output(struct pg_tcp_conn *c)
{
	if (!pg_tcp_synchronized(c) || (c->flags & PG_TCPF_DEAD))
		return;
	if ((c->flags & PG_TCPF_RECOVERY) && (c->flags & PG_TCPF_SACK))
		pg_tcp_sack_output(c);
	uint32_t wnd = RTE_MIN(c->snd_wnd, c->cwnd);
	unsigned sent = 0;
	while (pg_tcp_output_one(c, wnd))
		sent++;
	if (pg_tcp_in_flight(c) > 0) {
		if (c->rtx_at == 0 || (c->flags & PG_TCPF_PERSIST)) {
			c->flags &= ~PG_TCPF_PERSIST;
			pg_tcp_rtx_arm_probe(c);
		}
	} else if (SEQ_LT(c->snd_nxt, c->snd_una + c->queued)
		   && c->snd_wnd == 0 && !(c->flags & PG_TCPF_PERSIST)) {
		c->flags |= PG_TCPF_PERSIST;
		c->backoff = 0;
		pg_tcp_rtx_arm(c);
	}
	if (sent == 0 && (c->flags & PG_TCPF_ACK_NOW))
		pg_tcp_send_ack(c);
}

/*
 * Retransmit the first unacknowledged segment: never beyond snd_max (the
 * MSS may have grown since, and bytes past snd_max were never sent), or
 * the FIN alone. Returns the sequence space it covered.
 */
uint32_t
pg_tcp_retransmit_head(struct pg_tcp_conn *c)
{
	uint32_t sent = c->snd_max - c->snd_una;
	uint32_t len = RTE_MIN(RTE_MIN(c->queued, pg_tcp_eff_mss(c)), sent);
	struct pg_tcp_stats *st = c->stack->stats;

	if (len > 0) {
		uint8_t fl = PG_TCP_ACK | (len == c->queued ? PG_TCP_PSH : 0);
		if (pg_tcp_xmit(c, c->snd_una, len, fl) != PG_OK)
			return 0;
		st->retrans_segs++;
		return len;
	}
	if ((c->flags & PG_TCPF_SHUT_WR) && c->queued == 0 && sent > 0) {
		if (pg_tcp_xmit(c, c->snd_una, 0, PG_TCP_FIN | PG_TCP_ACK) != PG_OK)
			return 0;
		st->retrans_segs++;
		return 1;
	}
	return 0;
}

/* --- segments without payload ---------------------------------------------- */

/*
 * A pure ACK carries snd_max, not snd_nxt: after an RTO pulled snd_nxt
 * back, the peer's RCV.NXT may already be past it, and it would find the
 * ACK outside its window and ignore it (as BSD does, tcp_output.c).
 */
void
pg_tcp_send_ack(struct pg_tcp_conn *c)
{
	pg_tcp_xmit(c, c->snd_max, 0, PG_TCP_ACK);
}

void
pg_tcp_send_probe(struct pg_tcp_conn *c)
{
	pg_tcp_xmit(c, c->snd_una - 1, 0, PG_TCP_ACK);
}

void
pg_tcp_send_syn(struct pg_tcp_conn *c)
{
	uint8_t fl = c->state == PG_TCP_SYN_SENT ? PG_TCP_SYN
						 : PG_TCP_SYN | PG_TCP_ACK;
	pg_tcp_xmit(c, c->iss, 0, fl);
	if (c->backoff == 0)
		c->rtt_ms = pg_tcp_now_ms(c->stack);
	c->snd_nxt = c->snd_max = c->iss + 1;
	if (c->rtx_at == 0)
		pg_tcp_rtx_arm(c);
}

void
pg_tcp_send_rst(struct pg_tcp_conn *c)
{
	c->stack->stats->resets_out++;
	pg_tcp_xmit(c, c->snd_nxt, 0, PG_TCP_RST | PG_TCP_ACK);
}

static void
pg_tcp_tx_reply(struct pg_tcp_tx *tx, const struct pg_tcp_seg *seg)
{
	tx->laddr = seg->laddr;
	tx->raddr = seg->raddr;
	tx->lport = seg->lport;
	tx->rport = seg->rport;
	tx->optlen = 0;
}

void
pg_tcp_reset_reply(struct pg_tcp_stack *s, const struct pg_tcp_seg *seg)
{
	struct pg_tcp_tx tx;
	if (seg->flags & PG_TCP_RST)
		return;
	struct rte_mbuf *h = pg_tcp_hdr_alloc(s);
	if (h == NULL)
		return;
	pg_tcp_tx_reply(&tx, seg);
	tx.wnd = 0;
	if (seg->flags & PG_TCP_ACK) {
		tx.seq = seg->ack;
		tx.ack = 0;
		tx.flags = PG_TCP_RST;
	} else {
		tx.seq = 0;
		tx.ack = seg->seq + seg->len;
		tx.flags = PG_TCP_RST | PG_TCP_ACK;
	}
	s->stats->resets_out++;
	pg_tcp_emit(s, h, &tx);
}

void
pg_tcp_send_cookie_synack(struct pg_tcp_stack *s, const struct pg_tcp_seg *seg,
			  uint32_t cookie, uint32_t tsval)
{
	struct pg_tcp_tx tx;
	struct rte_mbuf *h = pg_tcp_hdr_alloc(s);
	if (h == NULL)
		return;
	pg_tcp_tx_reply(&tx, seg);
	tx.seq = cookie;
	tx.ack = seg->seq + 1;
	tx.flags = PG_TCP_SYN | PG_TCP_ACK;
	tx.wnd = (uint16_t)RTE_MIN(s->conf.rcv_wnd, 65535u);
	int ts = seg->has_ts && s->conf.timestamps;
	int ws = seg->has_ws && s->conf.window_scaling && ts;
	pg_tcp_opt_syn(&tx, pg_tcp_local_mss(s),
		       seg->sack_ok && s->conf.sack && ts, ts, tsval,
		       seg->tsval, ws, pg_tcp_rcv_wscale(s));
	s->stats->syncookies_sent++;
	pg_tcp_emit(s, h, &tx);
}
