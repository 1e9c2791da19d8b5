/*
 * TCP timers. Each connection embeds one wheel timer armed for the earliest
 * of three deadlines (stack milliseconds, 0 when unset):
 *   rtx_at   retransmission (RFC 6298), SYN retries, persist (zero window)
 *   ack_at   delayed ACK
 *   idle_at  keepalive, FIN_WAIT_2 of an orphan, TIME_WAIT
 * so a connection costs one timer whatever it waits for.
 */
#include <stddef.h>

#include "net/pg_tcp_priv.h"

#define PG_TCP_MAX_BACKOFF 12

static inline uint32_t
pg_tcp_min_deadline(uint32_t a, uint32_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return SEQ_LT(a, b) ? a : b;
}

void
pg_tcp_timer_update(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;
	uint32_t next = pg_tcp_min_deadline(pg_tcp_min_deadline(c->rtx_at,
								c->ack_at),
					    c->idle_at);
	if (next == 0 || (c->flags & PG_TCPF_DEAD)) {
		pg_timer_cancel(&s->wheel, &c->timer);
		return;
	}
	uint32_t now = pg_tcp_now_ms(s);
	uint64_t delay = SEQ_GT(next, now) ? (uint64_t)(next - now) : 0;
	pg_timer_arm(&s->wheel, &c->timer, delay * 1000000);
}

void
pg_tcp_rtx_arm(struct pg_tcp_conn *c)
{
	const struct pg_tcp_conf *cf = &c->stack->conf;
	uint64_t rto = (uint64_t)c->rto_ms << RTE_MIN(c->backoff,
						      PG_TCP_MAX_BACKOFF);
	if (rto > cf->rto_max_ms)
		rto = cf->rto_max_ms;
	c->rtx_at = pg_tcp_now_ms(c->stack) + (uint32_t)rto;
	pg_tcp_timer_update(c);
}

/*
 * After new data or a new ACK: a tail loss probe (RFC 8985 7) at about
 * two round trips instead of the RTO, when the connection is in plain
 * open state and has an RTT estimate; the RTO otherwise.
 */
void
pg_tcp_rtx_arm_probe(struct pg_tcp_conn *c)
{
	uint32_t pto = 2 * c->srtt_us / 1000;

	if (!c->stack->conf.tail_loss_probe || c->srtt_us == 0 || c->backoff != 0
	    || (c->flags & (PG_TCPF_RECOVERY | PG_TCPF_PERSIST))
	    || c->state < PG_TCP_ESTABLISHED) {
		c->flags &= ~PG_TCPF_TLP;
		pg_tcp_rtx_arm(c);
		return;
	}
	/* One segment out: the peer may be holding its ACK back. */
	if (pg_tcp_in_flight(c) <= c->mss)
		pto += c->stack->conf.delack_ms;
	pto = RTE_MAX(pto, 10u);
	if (pto >= c->rto_ms) {
		c->flags &= ~PG_TCPF_TLP;
		pg_tcp_rtx_arm(c);
		return;
	}
	c->flags |= PG_TCPF_TLP;
	c->rtx_at = pg_tcp_now_ms(c->stack) + pto;
	pg_tcp_timer_update(c);
}

/* The probe: new data if the windows allow, else the last segment again. */
static void
pg_tcp_tail_probe(struct pg_tcp_conn *c)
{
	uint32_t data_end = c->snd_una + c->queued;
	uint32_t sent = SEQ_LT(c->snd_nxt, data_end) ? 0 : 1;

	c->flags &= ~PG_TCPF_TLP;
	c->stack->stats->tail_probes++;
	if (!sent) {
		uint32_t before = c->snd_nxt;
		pg_tcp_output(c);
		if (c->snd_nxt != before)
			goto armed;
	}
	uint32_t len = RTE_MIN(data_end - c->snd_una, pg_tcp_eff_mss(c));
	len = RTE_MIN(len, c->snd_max - c->snd_una);
	if (len > 0)
		pg_tcp_xmit(c, data_end - len < c->snd_una ? c->snd_una
			    : SEQ_MIN(data_end, c->snd_max) - len, len,
			    PG_TCP_ACK | PG_TCP_PSH);
	else
		pg_tcp_retransmit_head(c);          /* the FIN */
armed:
	pg_tcp_rtx_arm(c);
}

/* RFC 6298 2.2-2.3, in microseconds; the RTO itself in milliseconds. */
void
pg_tcp_rtt_sample(struct pg_tcp_conn *c, uint32_t rtt_us)
{
	const struct pg_tcp_conf *cf = &c->stack->conf;

	if (rtt_us > cf->rto_max_ms * 1000u)
		return;                 /* a stale echo, not a measurement */
	if (c->srtt_us == 0) {
		c->srtt_us = rtt_us ? rtt_us : 1;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t d = c->srtt_us > rtt_us ? c->srtt_us - rtt_us
						 : rtt_us - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + rtt_us) / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}
	uint32_t rto = (c->srtt_us + RTE_MAX(1000u, 4 * c->rttvar_us)) / 1000;
	c->rto_ms = RTE_MIN(RTE_MAX(rto, cf->rto_min_ms), cf->rto_max_ms);
}

void
pg_tcp_idle_arm(struct pg_tcp_conn *c)
{
	if (c->state == PG_TCP_TIME_WAIT || c->state == PG_TCP_FIN_WAIT_2)
		return;
	c->idle_at = (c->flags & PG_TCPF_KEEPALIVE)
		     ? pg_tcp_now_ms(c->stack) + c->stack->conf.keepalive_idle_ms
		     : 0;
	c->probes = 0;
	if (!(c->flags & PG_TCPF_BUSY))
		pg_tcp_timer_update(c);
}

/* --- expiries -------------------------------------------------------------- */

static void
pg_tcp_give_up(struct pg_tcp_conn *c)
{
	if (c->state != PG_TCP_SYN_SENT)
		pg_tcp_send_rst(c);
	if (c->state == PG_TCP_SYN_RCVD && (c->flags & PG_TCPF_HALF_OPEN)) {
		c->flags |= PG_TCPF_ORPHAN;
		pg_tcp_conn_release(c);
		return;
	}
	pg_tcp_conn_done(c, PG_TCP_TIMEOUT);
}

static void
pg_tcp_rto(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;

	if (c->flags & PG_TCPF_PERSIST) {
		if (c->probes++ >= s->conf.retries)
			return pg_tcp_give_up(c);
		s->stats->persist_probes++;
		pg_tcp_send_probe(c);
		if (c->backoff < PG_TCP_MAX_BACKOFF)
			c->backoff++;
		pg_tcp_rtx_arm(c);
		return;
	}
	if (c->state == PG_TCP_SYN_SENT || c->state == PG_TCP_SYN_RCVD) {
		if (c->backoff >= s->conf.syn_retries)
			return pg_tcp_give_up(c);
		c->backoff++;
		s->stats->retrans_segs++;
		c->rtx_at = 0;
		if (c->state == PG_TCP_SYN_SENT)
			pg_tcp_send_syn(c);
		else
			pg_tcp_xmit(c, c->iss, 0, PG_TCP_SYN | PG_TCP_ACK);
		pg_tcp_rtx_arm(c);
		return;
	}
	if (pg_tcp_in_flight(c) == 0)
		return;
	if (c->flags & PG_TCPF_TLP)
		return pg_tcp_tail_probe(c);
	if (c->backoff >= s->conf.retries)
		return pg_tcp_give_up(c);
	s->stats->rto_expired++;
	if (getenv("DBGRTO")) { fprintf(stderr, "RTO una %u nxt %u max %u fl %u cwnd %u rec %d dupacks %u backoff %u board %p", c->snd_una, c->snd_nxt, c->snd_max, pg_tcp_in_flight(c), c->cwnd, !!(c->flags & PG_TCPF_RECOVERY), c->dupacks, c->backoff, (void*)c->board);
	  if (c->board) { fprintf(stderr, " rexmit %u n %u:", c->board->rexmit_nxt - c->snd_una, c->board->n); for (unsigned i = 0; i < c->board->n; i++) fprintf(stderr, " [%u,%u)", c->board->blk[i].start - c->snd_una, c->board->blk[i].end - c->snd_una); }
	  fprintf(stderr, "\n"); }
	pg_tcp_cc_on_rto(c);
	c->flags &= ~(PG_TCPF_RECOVERY | PG_TCPF_RTT);
	c->dupacks = 0;
	/* Go back N: everything after snd_una goes again as the window
	 * allows; the SACK scoreboard may have been reneged on. */
	c->snd_nxt = c->snd_una;
	if (c->board != NULL) {
		c->board->n = 0;
		pg_tcp_sack_prune(c);
	}
	c->backoff++;
	c->snd_nxt = c->snd_una + pg_tcp_retransmit_head(c);
	pg_tcp_rtx_arm(c);
}

static void
pg_tcp_idle(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;

	switch (c->state) {
	case PG_TCP_TIME_WAIT:
		/* An application that never took its refused data loses it. */
		pg_tcp_conn_done(c, PG_TCP_DONE);
		return;
	case PG_TCP_FIN_WAIT_2:
		if (c->flags & PG_TCPF_ORPHAN) {
			pg_tcp_conn_release(c);
			return;
		}
		break;
	default:
		break;
	}
	if (!(c->flags & PG_TCPF_KEEPALIVE))
		return;
	if (c->probes >= s->conf.keepalive_probes)
		return pg_tcp_give_up(c);
	c->probes++;
	s->stats->keepalive_probes++;
	pg_tcp_send_probe(c);
	c->idle_at = pg_tcp_now_ms(s) + s->conf.keepalive_intvl_ms;
}

void
pg_tcp_timer_fire(struct pg_timer *t)
{
	struct pg_tcp_conn *c = (struct pg_tcp_conn *)
		((char *)t - offsetof(struct pg_tcp_conn, timer));
	uint32_t now = pg_tcp_now_ms(c->stack);

	c->flags |= PG_TCPF_BUSY;
	if (c->ack_at != 0 && SEQ_GEQ(now, c->ack_at)) {
		c->stack->stats->delayed_acks++;
		pg_tcp_send_ack(c);
	}
	if (c->rtx_at != 0 && SEQ_GEQ(now, c->rtx_at)) {
		c->rtx_at = 0;
		pg_tcp_rto(c);
	}
	if (!(c->flags & PG_TCPF_DEAD) && c->idle_at != 0
	    && SEQ_GEQ(now, c->idle_at)) {
		c->idle_at = 0;
		pg_tcp_idle(c);
	}
	if (pg_tcp_unbusy(c) == 0)
		pg_tcp_timer_update(c);
}
