/*
 * TCP input: segment arrival as RFC 9293 3.10.7 describes it, with the
 * RFC 5961 and RFC 7323 checks. Call chain:
 *
 *   pg_tcp_input -> pg_tcp_parse
 *                -> pg_tcp_listen_input  (no connection: SYN, cookie ACK)
 *                -> pg_tcp_syn_sent_input
 *                -> pg_tcp_conn_input -> pg_tcp_acceptable / PAWS
 *                                     -> pg_tcp_rst_input
 *                                     -> pg_tcp_ack_input -> pg_tcp_cc_*
 *                                     -> pg_tcp_text_input -> on_data
 *                                                          -> pg_tcp_ooo_*
 *                                     -> pg_tcp_fin_input
 *                                     -> pg_tcp_output
 *
 * Every function here consumes the payload chain it is given.
 */
#include <string.h>

#include <rte_ip.h>

#include "net/pg_tcp_priv.h"

enum { OPT_EOL, OPT_NOP, OPT_MSS, OPT_WS, OPT_SACK_OK, OPT_SACK, OPT_TS = 8 };

/* --- parsing -------------------------------------------------------------- */

static void
pg_tcp_parse_opts(struct pg_tcp_seg *seg, const uint8_t *p, unsigned n)
{
	while (n > 0) {
		uint8_t kind = p[0];
		if (kind == OPT_EOL)
			return;
		if (kind == OPT_NOP) {
			p++;
			n--;
			continue;
		}
		if (n < 2 || p[1] < 2 || p[1] > n)
			return;
		uint8_t len = p[1];
		switch (kind) {
		case OPT_MSS:
			if (len == 4 && (seg->flags & PG_TCP_SYN)) {
				seg->has_mss = 1;
				seg->mss = (uint16_t)(p[2] << 8 | p[3]);
			}
			break;
		case OPT_WS:
			if (len == 3 && (seg->flags & PG_TCP_SYN)) {
				seg->has_ws = 1;
				seg->ws = RTE_MIN(p[2], PG_TCP_MAX_WS);
			}
			break;
		case OPT_SACK_OK:
			if (len == 2 && (seg->flags & PG_TCP_SYN))
				seg->sack_ok = 1;
			break;
		case OPT_TS:
			if (len == 10) {
				seg->has_ts = 1;
				memcpy(&seg->tsval, p + 2, 4);
				memcpy(&seg->tsecr, p + 6, 4);
				seg->tsval = rte_be_to_cpu_32(seg->tsval);
				seg->tsecr = rte_be_to_cpu_32(seg->tsecr);
			}
			break;
		case OPT_SACK:
			for (unsigned i = 2; i + 8 <= len
			     && seg->nsack < PG_TCP_SACK_MAX; i += 8) {
				uint32_t v[2];
				memcpy(v, p + i, 8);
				seg->sack[seg->nsack].start = rte_be_to_cpu_32(v[0]);
				seg->sack[seg->nsack++].end = rte_be_to_cpu_32(v[1]);
			}
			break;
		}
		p += len;
		n -= len;
	}
}

/*
 * Validate the headers and fill seg. Returns the header bytes to strip, or
 * 0 with *why set when the segment must be dropped.
 */
static unsigned
pg_tcp_parse(struct rte_mbuf *m, struct pg_tcp_seg *seg, enum pg_drop *why)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	unsigned hlen = rte_ipv4_hdr_len(ip);
	struct rte_tcp_hdr *th;
	unsigned thl;

	if (m->data_len < hlen + sizeof(*th)) {
		*why = PG_DROP_tcp_short;
		return 0;
	}
	th = (struct rte_tcp_hdr *)((char *)ip + hlen);
	thl = (unsigned)(th->data_off >> 4) * 4;
	if (thl < sizeof(*th) || hlen + thl > m->data_len) {
		*why = PG_DROP_tcp_short;
		return 0;
	}
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD
	    || (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD
		&& pg_ip_l4_sum(m, ip, hlen) != 0xffff)) {
		*why = PG_DROP_tcp_csum;
		return 0;
	}
	memset(seg, 0, sizeof(*seg));
	seg->laddr = ip->dst_addr;
	seg->raddr = ip->src_addr;
	seg->lport = th->dst_port;
	seg->rport = th->src_port;
	seg->seq = rte_be_to_cpu_32(th->sent_seq);
	seg->ack = rte_be_to_cpu_32(th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(th->rx_win);
	seg->flags = th->tcp_flags & (PG_TCP_FIN | PG_TCP_SYN | PG_TCP_RST
				      | PG_TCP_PSH | PG_TCP_ACK | PG_TCP_URG);
	seg->plen = m->pkt_len - hlen - thl;
	seg->len = seg->plen + !!(seg->flags & PG_TCP_SYN)
		   + !!(seg->flags & PG_TCP_FIN);
	pg_tcp_parse_opts(seg, (const uint8_t *)(th + 1), thl - sizeof(*th));
	return hlen + thl;
}

/* --- options at connection setup ------------------------------------------ */

/* What a SYN (or SYN-ACK) tells us: MSS, window scale, SACK, timestamps. */
static void
pg_tcp_negotiate(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	const struct pg_tcp_conf *cf = &c->stack->conf;
	uint16_t mss = seg->has_mss ? seg->mss : PG_TCP_MSS_DEFAULT;

	mss = RTE_MIN(mss, pg_tcp_local_mss(c->stack));
	c->mss = RTE_MAX(mss, (uint16_t)PG_TCP_MSS_MIN);
	if (seg->has_ws && cf->window_scaling) {
		c->flags |= PG_TCPF_WS;
		c->snd_ws = seg->ws;
		c->rcv_ws = pg_tcp_rcv_wscale(c->stack);
	} else {
		c->snd_ws = c->rcv_ws = 0;
	}
	if (seg->sack_ok && cf->sack)
		c->flags |= PG_TCPF_SACK;
	if (seg->has_ts && cf->timestamps) {
		c->flags |= PG_TCPF_TS;
		c->ts_recent = seg->tsval;
		c->ts_recent_ms = pg_tcp_now_ms(c->stack);
	}
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = seg->wnd;           /* never scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	pg_tcp_cc_init(c);
}

void
pg_tcp_half_open_done(struct pg_tcp_conn *c)
{
	if (!(c->flags & PG_TCPF_HALF_OPEN))
		return;
	c->flags &= ~PG_TCPF_HALF_OPEN;
	((struct pg_tcp_listener *)c->ctx)->half_open--;
}

/* --- LISTEN ---------------------------------------------------------------- */

/* Whether the connection may be created (limit counted, error dropped). */
static int
pg_tcp_room(struct pg_tcp_stack *s, struct rte_mbuf *m)
{
	if (s->nconns < s->conf.max_conns)
		return 1;
	s->stats->conn_limit++;
	pg_netif_drop(s->nif, m, PG_DROP_tcp_conn_limit);
	return 0;
}

/* The ACK completing a SYN-cookie handshake: rebuild the connection. */
static struct pg_tcp_conn *
pg_tcp_cookie_accept(struct pg_tcp_stack *s, struct pg_tcp_listener *l,
		     const struct pg_tcp_seg *seg)
{
	const char *err;
	uint16_t mss = pg_tcp_cookie_check(s, seg->laddr, seg->lport,
					   seg->raddr, seg->rport,
					   seg->seq - 1, seg->ack - 1);
	if (mss == 0) {
		s->stats->syncookies_bad++;
		return NULL;
	}
	struct pg_tcp_conn *c = pg_tcp_conn_new(s, seg->laddr, seg->lport,
						seg->raddr, seg->rport, &err);
	if (c == NULL)
		return NULL;
	struct pg_tcp_seg syn = {
		.seq = seg->seq - 1, .ack = seg->ack, .wnd = seg->wnd,
		.has_mss = 1, .mss = mss,
	};
	/* Options rode in the low bits of our TSval, which the ACK echoes. */
	if (seg->has_ts && seg->tsecr != 0) {
		syn.has_ts = 1;
		syn.tsval = seg->tsval;
		syn.sack_ok = !!(seg->tsecr & 0x10);
		syn.has_ws = (seg->tsecr & 0xf) != 0xf;
		syn.ws = seg->tsecr & 0xf;
	}
	c->iss = seg->ack - 1;
	c->flags |= PG_TCPF_PASSIVE;
	c->cb = l->cb;
	pg_tcp_apply_opts(c, &l->opts);
	pg_tcp_negotiate(c, &syn);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = seg->ack;
	s->stats->syncookies_ok++;
	return c;
}

/* The low bits of a cookie SYN-ACK's TSval carry window scale and SACK. */
static uint32_t
pg_tcp_cookie_tsval(struct pg_tcp_stack *s, const struct pg_tcp_seg *seg,
		    uint32_t cookie)
{
	uint32_t now = pg_tcp_now_ms(s) + cookie;
	uint32_t opts = (seg->has_ws ? seg->ws : 0xf)
			| (seg->sack_ok ? 0x10 : 0);
	uint32_t ts = (now & ~0x1fu) | opts;
	/* Never ahead of the clock the connection will use afterwards. */
	return SEQ_GT(ts, now) ? ts - 32 : ts;
}

static void
pg_tcp_syn_input(struct pg_tcp_stack *s, struct pg_tcp_listener *l,
		 const struct pg_tcp_seg *seg, struct rte_mbuf *m)
{
	const char *err;

	if (!pg_tcp_room(s, m))
		return;
	if (l->half_open >= s->conf.syn_backlog) {
		if (!s->conf.syncookies) {
			pg_netif_drop(s->nif, m, PG_DROP_tcp_syn_flood);
			s->stats->syn_dropped++;
			return;
		}
		unsigned idx = pg_tcp_cookie_mss_idx(seg->has_mss ? seg->mss
							: PG_TCP_MSS_DEFAULT);
		uint32_t cookie = pg_tcp_cookie_make(s, seg->laddr, seg->lport,
						     seg->raddr, seg->rport,
						     seg->seq, idx);
		pg_tcp_send_cookie_synack(s, seg, cookie,
					  pg_tcp_cookie_tsval(s, seg, cookie));
		pg_mbuf_free(m);
		return;
	}
	struct pg_tcp_conn *c = pg_tcp_conn_new(s, seg->laddr, seg->lport,
						seg->raddr, seg->rport, &err);
	pg_mbuf_free(m);        /* data in a SYN is not kept: it comes again */
	if (c == NULL)
		return;
	c->flags |= PG_TCPF_PASSIVE | PG_TCPF_HALF_OPEN;
	c->cb = l->cb;
	c->ctx = l;
	l->half_open++;
	pg_tcp_apply_opts(c, &l->opts);
	pg_tcp_negotiate(c, seg);
	c->state = PG_TCP_SYN_RCVD;
	s->stats->passive_opens++;
	pg_tcp_send_syn(c);
}

static void pg_tcp_conn_input(struct pg_tcp_conn *c,
			      const struct pg_tcp_seg *seg, struct rte_mbuf *m);

static void
pg_tcp_listen_input(struct pg_tcp_stack *s, struct pg_tcp_listener *l,
		    const struct pg_tcp_seg *seg, struct rte_mbuf *m)
{
	if (seg->flags & PG_TCP_RST)
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	if (seg->flags & PG_TCP_ACK) {
		struct pg_tcp_conn *c = NULL;
		if (s->conf.syncookies && !(seg->flags & PG_TCP_SYN)
		    && s->nconns < s->conf.max_conns)
			c = pg_tcp_cookie_accept(s, l, seg);
		if (c == NULL) {
			pg_tcp_reset_reply(s, seg);
			return pg_netif_drop(s->nif, m, PG_DROP_tcp_no_conn);
		}
		/* Established at once; the listener accepts it below. */
		c->state = PG_TCP_SYN_RCVD;
		c->ctx = l;
		c->flags |= PG_TCPF_HALF_OPEN;
		l->half_open++;
		s->stats->passive_opens++;
		c->flags |= PG_TCPF_BUSY;
		pg_tcp_conn_input(c, seg, m);
		pg_tcp_unbusy(c);
		return;
	}
	if (seg->flags & PG_TCP_SYN)
		return pg_tcp_syn_input(s, l, seg, m);
	pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
}

/* --- SYN_SENT --------------------------------------------------------------- */

/*
 * The handshake's RTT: from the echoed timestamp, or the SYN's send time
 * when it went once (Karn). If it went more than once and nothing could
 * be measured, the RTO starts at 3 s (RFC 6298 5.7).
 */
static void
pg_tcp_handshake_rtt(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	if ((c->flags & PG_TCPF_TS) && seg->has_ts && seg->tsecr != 0)
		pg_tcp_rtt_sample(c, (pg_tcp_tsval(c) - seg->tsecr) * 1000);
	else if (c->backoff == 0)
		pg_tcp_rtt_sample(c, (pg_tcp_now_ms(c->stack) - c->rtt_ms) * 1000);
	else if (c->srtt_us == 0)
		c->rto_ms = RTE_MAX(3000u, c->stack->conf.rto_min_ms);
}

static void
pg_tcp_syn_sent_input(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg,
		      struct rte_mbuf *m)
{
	struct pg_tcp_stack *s = c->stack;
	int ack_ok = 0;

	if (seg->flags & PG_TCP_ACK) {
		if (SEQ_LEQ(seg->ack, c->iss) || SEQ_GT(seg->ack, c->snd_max)) {
			pg_tcp_reset_reply(s, seg);
			return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
		}
		ack_ok = 1;
	}
	if (seg->flags & PG_TCP_RST) {
		pg_mbuf_free(m);
		if (ack_ok) {
			s->stats->resets_in++;
			pg_tcp_conn_done(c, PG_TCP_REFUSED);
		}
		return;
	}
	if (!(seg->flags & PG_TCP_SYN))
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	pg_mbuf_free(m);        /* data on a SYN-ACK comes again */
	pg_tcp_negotiate(c, seg);
	if (!ack_ok) {
		/* Simultaneous open (RFC 9293 3.5, figure 8). */
		c->state = PG_TCP_SYN_RCVD;
		pg_tcp_xmit(c, c->iss, 0, PG_TCP_SYN | PG_TCP_ACK);
		return;
	}
	pg_tcp_handshake_rtt(c, seg);
	c->snd_una = seg->ack;
	c->backoff = 0;
	c->rtx_at = 0;
	pg_tcp_set_state(c, PG_TCP_ESTABLISHED);
	c->flags |= PG_TCPF_ACK_NOW;
	pg_tcp_idle_arm(c);
	if (c->cb->on_connected != NULL)
		c->cb->on_connected(c);
	if (!(c->flags & PG_TCPF_DEAD))
		pg_tcp_output(c);
}

/* --- acceptability ------------------------------------------------------- */

/* RFC 9293 3.10.7.4, first: is the segment in the receive window? */
static int
pg_tcp_acceptable(const struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t seq = seg->seq, end = seg->seq + seg->len - 1;

	if (seg->len == 0)
		return wnd == 0 ? seq == c->rcv_nxt
				: SEQ_GEQ(seq, c->rcv_nxt)
				  && SEQ_LT(seq, c->rcv_nxt + wnd);
	if (wnd == 0)
		return 0;
	return (SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd))
	       || (SEQ_GEQ(end, c->rcv_nxt) && SEQ_LT(end, c->rcv_nxt + wnd));
}

/* RFC 5961 7: challenge ACKs, at most PG_TCP_CHALLENGE_PER_S a second. */
static void
pg_tcp_challenge_ack(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;
	uint32_t sec = pg_tcp_now_ms(s) / 1000;

	if (sec != s->challenge_sec) {
		s->challenge_sec = sec;
		s->challenge_n = 0;
	}
	if (s->challenge_n++ >= PG_TCP_CHALLENGE_PER_S)
		return;
	s->stats->challenge_acks++;
	pg_tcp_send_ack(c);
}

/* RFC 7323 5.3: PAWS. Returns 1 when the segment is to be dropped. */
static int
pg_tcp_paws_reject(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	if (!(c->flags & PG_TCPF_TS) || !seg->has_ts || (seg->flags & PG_TCP_RST))
		return 0;
	if (SEQ_GEQ(seg->tsval, c->ts_recent))
		return 0;
	/* A timestamp idle for 24 days is no longer a reference. */
	if (pg_tcp_now_ms(c->stack) - c->ts_recent_ms > PG_TCP_TW_MAX_MS)
		return 0;
	return 1;
}

/* --- receiving data ---------------------------------------------------------- */

static void pg_tcp_fin_input(struct pg_tcp_conn *c);

static int
pg_tcp_app_reads(const struct pg_tcp_conn *c)
{
	return !(c->flags & (PG_TCPF_ORPHAN | PG_TCPF_DEAD))
	       && c->cb != NULL && c->cb->on_data != NULL;
}

/* Append the chain m to the queue *q. */
static void
pg_tcp_queue_append(struct rte_mbuf **q, struct rte_mbuf *m)
{
	pg_mbuf_priv(m)->qnext = NULL;
	while (*q != NULL)
		q = &pg_mbuf_priv(*q)->qnext;
	*q = m;
}

/* In-order payload: to the application, or held behind what it refused. */
static void
pg_tcp_rcv_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;

	if (!pg_tcp_app_reads(c)) {
		pg_mbuf_free(m);
		return;
	}
	if (c->held == NULL && c->cb->on_data(c, m) != PG_AGAIN)
		return;
	pg_tcp_queue_append(&c->held, m);
	c->held_bytes += len;
	c->stack->stats->refused_bytes += len;
}

/* End of the peer's stream reached the application (or is held back). */
static void
pg_tcp_eof(struct pg_tcp_conn *c)
{
	if (c->held != NULL) {
		c->flags |= PG_TCPF_EOF_DUE;
		return;
	}
	c->flags &= ~PG_TCPF_EOF_DUE;
	if (pg_tcp_app_reads(c) && c->cb->on_eof != NULL)
		c->cb->on_eof(c);
}

int
pg_tcp_deliver_held(struct pg_tcp_conn *c)
{
	c->flags |= PG_TCPF_BUSY;
	c->flags &= ~PG_TCPF_RESUME;
	while (c->held != NULL && pg_tcp_app_reads(c)) {
		struct rte_mbuf *m = c->held;
		c->held = pg_mbuf_priv(m)->qnext;
		uint32_t len = m->pkt_len;
		if (c->cb->on_data(c, m) == PG_AGAIN) {
			pg_mbuf_priv(m)->qnext = c->held;
			c->held = m;
			break;
		}
		c->held_bytes -= len;
	}
	if (c->held == NULL && (c->flags & PG_TCPF_EOF_DUE))
		pg_tcp_eof(c);
	if (c->held == NULL && (c->flags & PG_TCPF_CLOSE_DUE))
		pg_tcp_close_due(c);
	/* A resume asked from inside these callbacks is this very pass. */
	c->flags &= ~(PG_TCPF_BUSY | PG_TCPF_RESUME);
	if (c->flags & PG_TCPF_DEAD) {
		pg_tcp_conn_release(c);
		return 1;
	}
	/* Window update if the freed space is worth announcing. */
	uint32_t edge = c->rcv_nxt + pg_tcp_rcv_space(c);
	uint32_t step = RTE_MIN(c->stack->conf.rcv_wnd / 2,
				(uint32_t)pg_tcp_local_mss(c->stack));
	if (SEQ_GEQ(edge, c->rcv_adv + step) && c->state != PG_TCP_TIME_WAIT)
		c->flags |= PG_TCPF_ACK_NOW;
	pg_tcp_output(c);
	pg_tcp_timer_update(c);
	return 0;
}

static void
pg_tcp_ooo_unlink(struct pg_tcp_conn *c, struct rte_mbuf **pp)
{
	struct rte_mbuf *m = *pp;
	uint32_t ts = PG_TCP_TRUESIZE(m);
	*pp = pg_mbuf_priv(m)->qnext;
	c->ooo_bytes -= ts;
	c->stack->ooo_total -= ts;
}

/*
 * Keep an out-of-order segment [seq, seq + m->pkt_len) (plus FIN when fin),
 * trimmed against its neighbours, within the per-connection and per-stack
 * budgets.
 */
static void
pg_tcp_ooo_insert(struct pg_tcp_conn *c, struct rte_mbuf *m, uint32_t seq,
		  int fin)
{
	struct pg_tcp_stack *s = c->stack;
	struct rte_mbuf **pp = &c->ooo;
	uint32_t end = seq + m->pkt_len;

	/* Skip what ends before us; trim what overlaps our front. */
	while (*pp != NULL) {
		uint32_t ps = pg_mbuf_priv(*pp)->seq, pe = ps + (*pp)->pkt_len;
		if (SEQ_GEQ(ps, seq))
			break;
		if (SEQ_GT(pe, seq)) {
			if (SEQ_GEQ(pe, end) && !fin) {
				pg_mbuf_free(m);      /* already have it all */
				return;
			}
			if (SEQ_GEQ(pe, end)) {
				pg_mbuf_free(m);
				return;
			}
			m = pg_tcp_chain_adj(m, pe - seq);
			seq = pe;
		}
		pp = &pg_mbuf_priv(*pp)->qnext;
	}
	/* Drop what we cover entirely; trim our tail against the next. */
	while (*pp != NULL) {
		uint32_t ps = pg_mbuf_priv(*pp)->seq, pe = ps + (*pp)->pkt_len;
		if (SEQ_GEQ(ps, end))
			break;
		if (SEQ_LEQ(pe, end)) {
			struct rte_mbuf *old = *pp;
			fin |= pg_mbuf_priv(old)->flags & PG_TCP_FIN;
			pg_tcp_ooo_unlink(c, pp);
			pg_mbuf_free(old);
			continue;
		}
		pg_tcp_chain_trim(m, ps - seq);
		end = ps;
		fin = 0;
		break;
	}
	uint32_t ts = PG_TCP_TRUESIZE(m);
	if (c->ooo_bytes + ts > s->conf.ooo_max
	    || s->ooo_total + ts > s->conf.ooo_max_total) {
		s->stats->ooo_dropped++;
		pg_netif_drop(s->nif, m, PG_DROP_tcp_ooo_full);
		return;
	}
	pg_mbuf_priv(m)->seq = seq;
	pg_mbuf_priv(m)->flags = fin ? PG_TCP_FIN : 0;
	pg_mbuf_priv(m)->qnext = *pp;
	*pp = m;
	c->ooo_bytes += ts;
	s->ooo_total += ts;
	s->last_ooo_conn = c;
	s->last_ooo_seq = seq;
	s->stats->ooo_segs++;
}

/* Move what the out-of-order queue now continues. Returns 1 on FIN. */
static int
pg_tcp_ooo_pull(struct pg_tcp_conn *c)
{
	while (c->ooo != NULL) {
		struct rte_mbuf *m = c->ooo;
		uint32_t seq = pg_mbuf_priv(m)->seq, end = seq + m->pkt_len;
		int fin = pg_mbuf_priv(m)->flags & PG_TCP_FIN;
		if (SEQ_GT(seq, c->rcv_nxt))
			return 0;
		pg_tcp_ooo_unlink(c, &c->ooo);
		if (SEQ_LT(seq, c->rcv_nxt))
			m = SEQ_GT(end, c->rcv_nxt)
			    ? pg_tcp_chain_adj(m, c->rcv_nxt - seq)
			    : (pg_mbuf_free(m), NULL);
		if (m != NULL && m->pkt_len > 0) {
			c->rcv_nxt += m->pkt_len;
			pg_tcp_rcv_data(c, m);
		} else if (m != NULL) {
			pg_mbuf_free(m);
		}
		if (fin && c->rcv_nxt == end)
			return 1;
		if (c->flags & PG_TCPF_DEAD)
			return 0;
	}
	return 0;
}

/*
 * Segment text (RFC 9293 3.10.7.4, seventh) and FIN (eighth). m holds the
 * payload only (may be NULL).
 */
static void
pg_tcp_text_input(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg,
		  struct rte_mbuf *m)
{
	struct pg_tcp_stack *s = c->stack;
	uint32_t seq = seg->seq + !!(seg->flags & PG_TCP_SYN);
	uint32_t plen = seg->plen;
	int fin = !!(seg->flags & PG_TCP_FIN);
	int fin_now = 0;

	if (c->state != PG_TCP_ESTABLISHED && c->state != PG_TCP_FIN_WAIT_1
	    && c->state != PG_TCP_FIN_WAIT_2) {
		pg_mbuf_free(m);
		return;
	}
	/* Trim what we already have, and what is beyond the window. */
	if (plen > 0 && SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t dup = c->rcv_nxt - seq;
		if (dup >= plen) {
			pg_mbuf_free(m);
			m = NULL;
			plen = 0;
		} else {
			m = pg_tcp_chain_adj(m, dup);
			plen -= dup;
		}
		seq = c->rcv_nxt;
	}
	uint32_t room = SEQ_GT(c->rcv_adv, seq) ? c->rcv_adv - seq : 0;
	if (plen > room) {
		if (room == 0) {
			pg_mbuf_free(m);
			m = NULL;
		} else {
			pg_tcp_chain_trim(m, room);
		}
		plen = room;
		fin = 0;
	}
	if (plen > 0 && (c->flags & PG_TCPF_ORPHAN)) {
		/* Nobody will read it (RFC 9293 3.10.4, CLOSE with data). */
		pg_mbuf_free(m);
		pg_tcp_send_rst(c);
		pg_tcp_conn_done(c, PG_TCP_RESET);
		return;
	}
	if (seq == c->rcv_nxt) {
		int had_ooo = c->ooo != NULL;
		if (plen > 0) {
			c->rcv_nxt += plen;
			pg_tcp_rcv_data(c, m);
			m = NULL;
			if (c->flags & PG_TCPF_DEAD)
				return;
		} else if (m != NULL) {
			pg_mbuf_free(m);
		}
		if (fin) {
			fin_now = 1;
		} else if (had_ooo) {
			fin_now = pg_tcp_ooo_pull(c);
			if (c->flags & PG_TCPF_DEAD)
				return;
			c->flags |= PG_TCPF_ACK_NOW;
		}
		if (plen > 0) {
			if (++c->segs_unacked >= 2 || fin_now)
				c->flags |= PG_TCPF_ACK_NOW;
			else if (c->ack_at == 0)
				c->ack_at = pg_tcp_now_ms(s) + s->conf.delack_ms;
		}
	} else if (plen > 0) {
		pg_tcp_ooo_insert(c, m, seq, fin);
		c->flags |= PG_TCPF_ACK_NOW;
	} else {
		pg_mbuf_free(m);
	}
	if (fin_now)
		pg_tcp_fin_input(c);
}

/* The peer's FIN, in order (RFC 9293 3.10.7.4, eighth). */
static void
pg_tcp_fin_input(struct pg_tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= PG_TCPF_ACK_NOW;
	switch (c->state) {
	case PG_TCP_ESTABLISHED:
		c->state = PG_TCP_CLOSE_WAIT;
		break;
	case PG_TCP_FIN_WAIT_1:
		if (c->flags & PG_TCPF_FIN_ACKED) {
			pg_tcp_send_ack(c);
			pg_tcp_enter_time_wait(c);
			return;
		}
		c->state = PG_TCP_CLOSING;
		break;
	case PG_TCP_FIN_WAIT_2:
		pg_tcp_send_ack(c);
		pg_tcp_eof(c);
		pg_tcp_enter_time_wait(c);
		return;
	default:
		return;
	}
	pg_tcp_eof(c);
}

/* --- acknowledgements -------------------------------------------------------- */

/* Free n acknowledged bytes from the front of the send queue. */
static void
pg_tcp_sndq_drop(struct pg_tcp_conn *c, uint32_t n)
{
	c->queued -= n;
	while (n > 0 && c->sndq != NULL) {
		struct rte_mbuf *m = c->sndq;
		struct rte_mbuf *next = pg_mbuf_priv(m)->qnext;
		if (n >= m->pkt_len) {
			n -= m->pkt_len;
			c->sndq = next;
			pg_mbuf_free(m);
			continue;
		}
		int tail = c->sndq_tail == c->sndq;
		m = pg_tcp_chain_adj(m, n);
		pg_mbuf_priv(m)->qnext = next;
		c->sndq = m;
		if (tail)
			c->sndq_tail = m;       /* the old head may be freed */
		n = 0;
	}
	if (c->sndq == NULL)
		c->sndq_tail = NULL;
}

/* Our FIN was acknowledged: the closing states move on. 1: c is gone. */
static int
pg_tcp_fin_acked(struct pg_tcp_conn *c)
{
	c->flags |= PG_TCPF_FIN_ACKED;
	switch (c->state) {
	case PG_TCP_FIN_WAIT_1:
		c->state = PG_TCP_FIN_WAIT_2;
		if (c->flags & PG_TCPF_ORPHAN)
			c->idle_at = pg_tcp_now_ms(c->stack)
				     + c->stack->conf.fin_wait2_ms;
		return 0;
	case PG_TCP_CLOSING:
		pg_tcp_enter_time_wait(c);
		return 0;
	case PG_TCP_LAST_ACK:
		if (c->held != NULL) {
			/* Refused data still to hand over: wait for it. */
			pg_tcp_enter_time_wait(c);
			return 0;
		}
		pg_tcp_conn_done(c, PG_TCP_DONE);
		return 1;
	default:
		return 0;
	}
}

static void
pg_tcp_new_ack(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	struct pg_tcp_stack *s = c->stack;
	uint32_t acked = seg->ack - c->snd_una;
	uint32_t data_end = c->snd_una + c->queued;
	int fin = (c->flags & PG_TCPF_SHUT_WR) && SEQ_GT(seg->ack, data_end);
	uint32_t data = acked - fin;

	/* After a timeout the peer may echo the timestamp of a segment sent
	 * long before (an ACK answering an out-of-window segment carries an
	 * old TS.Recent): no sample until the RTO has recovered. */
	if ((c->flags & PG_TCPF_TS) && seg->has_ts && seg->tsecr != 0) {
		if (c->backoff == 0)
			pg_tcp_rtt_sample(c, (pg_tcp_tsval(c) - seg->tsecr)
					     * 1000);
	} else if ((c->flags & PG_TCPF_RTT) && SEQ_GEQ(seg->ack, c->rtt_seq)) {
		c->flags &= ~PG_TCPF_RTT;
		pg_tcp_rtt_sample(c, (pg_tcp_now_ms(s) - c->rtt_ms) * 1000);
	}
	pg_tcp_sndq_drop(c, data);
	c->snd_una = seg->ack;
	if (SEQ_LT(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->backoff = 0;
	c->probes = 0;
	c->dupacks = 0;
	pg_tcp_sack_prune(c);
	if (c->flags & PG_TCPF_RECOVERY) {
		if (SEQ_GEQ(seg->ack, c->recover)) {
			/* RFC 6582 3.2 step 3, second option: a flight that
			 * happens to be small does not collapse cwnd. */
			c->flags &= ~PG_TCPF_RECOVERY;
			c->cwnd = RTE_MAX(c->ssthresh, 2u * c->mss);
		} else if (!(c->flags & PG_TCPF_SACK)) {
			/* NewReno partial ACK (RFC 6582 3.2, step 5). */
			pg_tcp_retransmit_head(c);
			c->cwnd -= RTE_MIN(c->cwnd - c->mss, data);
			if (data >= c->mss)
				c->cwnd += c->mss;
		} else if (c->board == NULL
			   || SEQ_LEQ(c->board->rexmit_nxt, c->snd_una)) {
			/* The next hole starts at snd_una and has not gone
			 * again yet; no SACK block may be left to show it. */
			uint32_t len = pg_tcp_retransmit_head(c);
			if (c->board != NULL)
				c->board->rexmit_nxt = c->snd_una + len;
		}
	} else {
		pg_tcp_cc_on_ack(c, data);
	}
	c->rtx_at = 0;
	if (pg_tcp_in_flight(c) > 0)
		pg_tcp_rtx_arm_probe(c);
	if (data > 0 && pg_tcp_app_reads(c) && c->cb->on_acked != NULL)
		c->cb->on_acked(c, data);
	if ((c->flags & PG_TCPF_WRITABLE) && c->queued <= s->conf.snd_lowat
	    && !(c->flags & (PG_TCPF_DEAD | PG_TCPF_ORPHAN))) {
		c->flags &= ~PG_TCPF_WRITABLE;
		if (c->cb->on_writable != NULL)
			c->cb->on_writable(c);
	}
}

/* Duplicate ACK handling (RFC 5681 3.2, RFC 6582, RFC 6675). */
static void
pg_tcp_dup_ack(struct pg_tcp_conn *c)
{
	c->stack->stats->dup_acks++;
	if (c->flags & PG_TCPF_RECOVERY) {
		if (!(c->flags & PG_TCPF_SACK))
			c->cwnd += c->mss;
		return;
	}
	/* Three duplicates, or (RFC 6675 5) more than three segments' worth
	 * SACKed above snd_una: a loss. With fewer than four segments out and
	 * nothing new to send, one duplicate less than there are segments
	 * (early retransmit, RFC 5827). */
	uint32_t segs = (pg_tcp_in_flight(c) + c->mss - 1) / c->mss;
	uint32_t thresh = 3;
	if (segs < 4 && c->snd_nxt == c->snd_una + c->queued)
		thresh = RTE_MAX(segs, 2u) - 1;
	if (++c->dupacks < thresh
	    && !((c->flags & PG_TCPF_SACK)
		 && pg_tcp_sacked_bytes(c) >= 3u * c->mss)) {
		/* Limited transmit (RFC 3042): new data keeps ACKs coming. */
		c->cwnd += c->mss;
		return;
	}
	if (thresh < 3)
		c->stack->stats->early_retrans++;
	c->cwnd -= RTE_MIN(c->cwnd - c->mss, (uint32_t)(c->dupacks - 1) * c->mss);
	c->stack->stats->fast_retrans++;
	pg_tcp_cc_on_loss(c);
	c->recover = c->snd_max;
	c->flags |= PG_TCPF_RECOVERY;
	c->flags &= ~PG_TCPF_RTT;
	if (c->flags & PG_TCPF_SACK) {
		c->cwnd = c->ssthresh;
		if (c->board != NULL)
			c->board->rexmit_nxt = c->snd_una;
	} else {
		c->cwnd = c->ssthresh + 3 * c->mss;
	}
	pg_tcp_retransmit_head(c);
	if (c->flags & PG_TCPF_SACK && c->board != NULL)
		c->board->rexmit_nxt = c->snd_una
				       + RTE_MIN(c->queued, pg_tcp_eff_mss(c));
}

/* RFC 9293 3.10.7.4, fifth. Returns 0 to go on with the text, 1 to stop. */
static int
pg_tcp_ack_input(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	if (SEQ_GT(seg->ack, c->snd_max)) {
		pg_tcp_send_ack(c);
		return 1;
	}
	if (SEQ_LT(seg->ack, c->snd_una - c->max_snd_wnd)) {
		pg_tcp_challenge_ack(c);   /* RFC 5961 5.2 */
		return 1;
	}
	if (c->state == PG_TCP_SYN_RCVD) {
		if (SEQ_LEQ(seg->ack, c->snd_una)) {
			pg_tcp_reset_reply(c->stack, seg);
			return 1;
		}
		pg_tcp_handshake_rtt(c, seg);
		c->snd_una = c->iss + 1;
		c->backoff = 0;
		c->rtx_at = 0;
		pg_tcp_set_state(c, PG_TCP_ESTABLISHED);
		c->snd_wnd = seg->wnd << c->snd_ws;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (c->flags & PG_TCPF_PASSIVE) {
			struct pg_tcp_listener *l = c->ctx;
			pg_tcp_half_open_done(c);
			c->ctx = NULL;
			if (l->cb->on_accept(c, l->ctx) != PG_OK) {
				pg_tcp_send_rst(c);
				c->flags |= PG_TCPF_ORPHAN;
				pg_tcp_conn_release(c);
				return 1;
			}
		} else if (c->cb->on_connected != NULL
			   && !(c->flags & PG_TCPF_ORPHAN)) {
			/* (An application that closed during a simultaneous
			 * open has let go: no callback.) */
			c->cb->on_connected(c);
		}
		if (c->flags & PG_TCPF_DEAD)
			return 1;
		pg_tcp_idle_arm(c);
		if (c->flags & PG_TCPF_SHUT_WR)
			c->state = PG_TCP_FIN_WAIT_1;
	}
	/* Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2). */
	int wnd_changed = 0;
	if (SEQ_LT(c->snd_wl1, seg->seq)
	    || (c->snd_wl1 == seg->seq && SEQ_LEQ(c->snd_wl2, seg->ack))) {
		uint32_t wnd = seg->wnd << c->snd_ws;
		wnd_changed = wnd != c->snd_wnd;
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd > 0 && (c->flags & PG_TCPF_PERSIST)) {
			c->flags &= ~PG_TCPF_PERSIST;
			c->rtx_at = 0;
			c->backoff = 0;
		}
	}
	unsigned sacked = 0;
	int sack = seg->nsack > 0 && (c->flags & PG_TCPF_SACK);
	if (sack)
		sacked = pg_tcp_sack_update(c, seg);
	if (SEQ_GT(seg->ack, c->snd_una)) {
		int fin = (c->flags & PG_TCPF_SHUT_WR)
			  && SEQ_GT(seg->ack, c->snd_una + c->queued);
		pg_tcp_new_ack(c, seg);
		if (c->flags & PG_TCPF_DEAD)
			return 1;
		if (fin && !(c->flags & PG_TCPF_FIN_ACKED)
		    && pg_tcp_fin_acked(c))
			return 1;
	} else if (seg->ack == c->snd_una && seg->plen == 0
		   && !(seg->flags & (PG_TCP_SYN | PG_TCP_FIN))
		   && pg_tcp_in_flight(c) > 0
		   /* Only D-SACKs: the peer got something twice (a probe
		    * that was not needed), nothing is lost (RFC 6675 2). */
		   && !(sack && sacked == 0)
		   /* A receiver whose window moves as its application reads
		    * (Linux) still tells of a loss through its SACK blocks. */
		   && (!wnd_changed || sacked > 0)) {
		pg_tcp_dup_ack(c);
	}
	return 0;
}

/* --- synchronized states ------------------------------------------------------ */

static void
pg_tcp_rst_input(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	/* RFC 1337: a RST must not cut TIME_WAIT short (and with it, data
	 * acknowledged but still held for the application). */
	if (c->state == PG_TCP_TIME_WAIT)
		return;
	if (seg->seq != c->rcv_nxt) {
		pg_tcp_challenge_ack(c);    /* RFC 5961 3.2 */
		return;
	}
	c->stack->stats->resets_in++;
	if (c->state == PG_TCP_SYN_RCVD && (c->flags & PG_TCPF_PASSIVE)) {
		c->flags |= PG_TCPF_ORPHAN;
		pg_tcp_conn_release(c);
		return;
	}
	pg_tcp_conn_done(c, c->state == PG_TCP_SYN_RCVD ? PG_TCP_REFUSED
							: PG_TCP_RESET);
}

static void
pg_tcp_conn_input(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg,
		  struct rte_mbuf *m)
{
	struct pg_tcp_stack *s = c->stack;

	if (c->state == PG_TCP_SYN_SENT)
		return pg_tcp_syn_sent_input(c, seg, m);
	if (pg_tcp_paws_reject(c, seg)) {
		s->stats->paws_rejected++;
		pg_tcp_send_ack(c);
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_paws);
	}
	if (c->state == PG_TCP_TIME_WAIT && (seg->flags & PG_TCP_FIN)
	    && !(seg->flags & (PG_TCP_RST | PG_TCP_SYN))) {
		/* The peer lost our last ACK (RFC 9293 3.10.7.4: ACK it and
		 * restart the 2MSL timeout). */
		pg_tcp_send_ack(c);
		c->idle_at = pg_tcp_now_ms(s) + s->conf.time_wait_ms;
		pg_tcp_timer_update(c);
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	}
	if (!pg_tcp_acceptable(c, seg)) {
		/* Data gets its ACK at once (ours was lost); bare segments
		 * share the challenge budget, or two stacks could bounce
		 * ACKs at each other forever. */
		if (seg->plen > 0 || (seg->flags & (PG_TCP_SYN | PG_TCP_FIN)))
			pg_tcp_send_ack(c);
		else if (!(seg->flags & PG_TCP_RST))
			pg_tcp_challenge_ack(c);
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	}
	if (seg->flags & PG_TCP_RST) {
		pg_mbuf_free(m);
		return pg_tcp_rst_input(c, seg);
	}
	if (seg->flags & PG_TCP_SYN) {
		if (c->state == PG_TCP_SYN_RCVD && seg->seq == c->rcv_nxt - 1
		    && !(seg->flags & PG_TCP_ACK)) {
			pg_tcp_xmit(c, c->iss, 0, PG_TCP_SYN | PG_TCP_ACK);
		} else {
			pg_tcp_challenge_ack(c);    /* RFC 5961 4.2 */
		}
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	}
	if (!(seg->flags & PG_TCP_ACK))
		return pg_netif_drop(s->nif, m, PG_DROP_tcp_invalid);
	/* ts_recent follows the segment that advances the left edge. */
	if ((c->flags & PG_TCPF_TS) && seg->has_ts
	    && SEQ_LEQ(seg->seq, c->rcv_nxt)) {
		c->ts_recent = seg->tsval;
		c->ts_recent_ms = pg_tcp_now_ms(s);
	}
	if (pg_tcp_ack_input(c, seg)) {
		pg_mbuf_free(m);
		return;
	}
	if (c->state == PG_TCP_TIME_WAIT || c->state == PG_TCP_CLOSED) {
		pg_mbuf_free(m);
		return;
	}
	if (c->flags & PG_TCPF_KEEPALIVE)
		pg_tcp_idle_arm(c);
	pg_tcp_text_input(c, seg, m);
	if (c->flags & PG_TCPF_DEAD)
		return;
	pg_tcp_output(c);
	pg_tcp_timer_update(c);
}

/* --- entry ------------------------------------------------------------------ */

void
pg_tcp_input(struct pg_netif *nif, struct rte_mbuf *m)
{
	struct pg_tcp_stack *s = nif->tcp;
	struct pg_tcp_seg seg;
	enum pg_drop why = PG_DROP_tcp_short;
	unsigned hl = pg_tcp_parse(m, &seg, &why);

	if (hl == 0) {
		if (why == PG_DROP_tcp_csum)
			s->stats->bad_csum++;
		return pg_netif_drop(nif, m, why);
	}
	s->stats->in_segs++;
	m = pg_tcp_chain_adj(m, hl);
	if (m != NULL && m->pkt_len == 0) {
		pg_mbuf_free(m);
		m = NULL;
	}
	struct pg_tcp_conn *c = pg_tcp_lookup(s, seg.laddr, seg.lport,
					      seg.raddr, seg.rport);
	/* RFC 6191: a new SYN may take over a tuple in TIME_WAIT. */
	if (c != NULL && c->state == PG_TCP_TIME_WAIT
	    && (seg.flags & (PG_TCP_SYN | PG_TCP_ACK | PG_TCP_RST)) == PG_TCP_SYN
	    && (SEQ_GT(seg.seq, c->rcv_nxt)
		|| ((c->flags & PG_TCPF_TS) && seg.has_ts
		    && SEQ_GT(seg.tsval, c->ts_recent)))) {
		s->stats->timewait_reuse++;
		pg_tcp_conn_release(c);
		c = NULL;
	}
	if (c == NULL) {
		struct pg_tcp_listener *l = pg_tcp_find_listener(s, seg.lport);
		if (l != NULL)
			return pg_tcp_listen_input(s, l, &seg, m);
		s->stats->no_listener++;
		pg_tcp_reset_reply(s, &seg);
		if (m == NULL) {
			s->nif->stats->drops[PG_DROP_tcp_no_conn]++;
			return;
		}
		return pg_netif_drop(nif, m, PG_DROP_tcp_no_conn);
	}
	c->flags |= PG_TCPF_BUSY;
	pg_tcp_conn_input(c, &seg, m);
	pg_tcp_unbusy(c);
}
