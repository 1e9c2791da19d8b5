/*
 * Congestion control: slow start and NewReno congestion avoidance
 * (RFC 5681, RFC 6582), CUBIC (RFC 9438), IW10 (RFC 6928), and the SACK
 * scoreboard with RFC 6675-style recovery (holes first, then new data,
 * while the estimated pipe stays under cwnd).
 *
 * The scoreboard is allocated only while the peer reports SACK blocks:
 * an idle or loss-free connection pays nothing for it.
 */
#include <math.h>
#include <stdlib.h>

#include "net/pg_tcp_priv.h"

#define CUBIC_C      0.4
#define CUBIC_BETA   0.7

void
pg_tcp_cc_init(struct pg_tcp_conn *c)
{
	uint32_t mss = c->mss;
	c->cwnd = RTE_MIN(10 * mss, RTE_MAX(2 * mss, 14600u));
	c->ssthresh = UINT32_MAX;
	c->cc_wmax = 0;
	c->cc_epoch_ms = 0;
}

static uint32_t
pg_tcp_half_flight(const struct pg_tcp_conn *c)
{
	return RTE_MAX(pg_tcp_in_flight(c) / 2, 2u * c->mss);
}

/* --- CUBIC --------------------------------------------------------------------- */

static void
pg_tcp_cubic_loss(struct pg_tcp_conn *c)
{
	/* Fast convergence (RFC 9438 4.7). */
	if (c->cc_wmax != 0 && c->cwnd < c->cc_wmax)
		c->cc_wmax = (uint32_t)(c->cwnd * (1.0 + CUBIC_BETA) / 2.0);
	else
		c->cc_wmax = c->cwnd;
	c->ssthresh = RTE_MAX((uint32_t)(c->cwnd * CUBIC_BETA), 2u * c->mss);
	c->cc_epoch_ms = 0;
}

static void
pg_tcp_cubic_ack(struct pg_tcp_conn *c, uint32_t acked)
{
	uint32_t now = pg_tcp_now_ms(c->stack);
	double mss = c->mss, cwnd = c->cwnd / mss;

	if (c->cc_epoch_ms == 0) {
		double wmax = c->cc_wmax / mss;
		c->cc_epoch_ms = now;
		c->cc_k_ms = wmax > cwnd
			     ? (uint32_t)(cbrt((wmax - cwnd) / CUBIC_C) * 1000)
			     : 0;
		if (c->cc_wmax < c->cwnd)
			c->cc_wmax = c->cwnd;
		c->cc_west = c->cwnd;
	}
	/* Where the curve is one RTT from now (RFC 9438 4.2). */
	double t = (now - c->cc_epoch_ms + c->srtt_us / 1000) / 1000.0;
	double k = c->cc_k_ms / 1000.0;
	double target = CUBIC_C * (t - k) * (t - k) * (t - k)
			+ c->cc_wmax / mss;
	/* The Reno-friendly estimate (RFC 9438 4.3). */
	double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
	c->cc_west += (uint32_t)(alpha * mss * acked / c->cwnd);
	if (target < c->cc_west / mss)
		target = c->cc_west / mss;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	if (target > cwnd)
		c->cwnd += (uint32_t)((target - cwnd) / cwnd * acked) + 1;
}

/* --- common ---------------------------------------------------------------------- */

void
pg_tcp_cc_on_ack(struct pg_tcp_conn *c, uint32_t acked)
{
	if (acked == 0)
		return;
	if (c->cwnd < c->ssthresh) {
		/* Slow start with appropriate byte counting, L = 2 (RFC 3465). */
		c->cwnd += RTE_MIN(acked, 2u * c->mss);
		return;
	}
	if (c->cc == PG_TCP_CC_CUBIC) {
		pg_tcp_cubic_ack(c, acked);
		return;
	}
	c->cwnd += RTE_MAX(1u, (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd));
}

void
pg_tcp_cc_on_loss(struct pg_tcp_conn *c)
{
	if (c->cc == PG_TCP_CC_CUBIC)
		pg_tcp_cubic_loss(c);
	else
		c->ssthresh = pg_tcp_half_flight(c);
}

void
pg_tcp_cc_on_rto(struct pg_tcp_conn *c)
{
	/* Only the first expiry of a series lowers ssthresh (RFC 5681 3.1). */
	if (c->backoff == 0)
		pg_tcp_cc_on_loss(c);
	c->cwnd = c->mss;
}

/* --- SACK scoreboard ----------------------------------------------------------------- */

static struct pg_tcp_sack_board *
pg_tcp_board(struct pg_tcp_conn *c)
{
	if (c->board == NULL) {
		c->board = calloc(1, sizeof(*c->board));
		if (c->board != NULL)
			c->stack->board_bytes += sizeof(*c->board);
	}
	return c->board;
}

/* Insert [st, en) into the sorted, disjoint block list. */
static void
pg_tcp_board_add(struct pg_tcp_sack_board *b, uint32_t st, uint32_t en)
{
	unsigned i = 0, j;
	while (i < b->n && SEQ_LT(b->blk[i].end, st))
		i++;
	/* Merge every block that touches [st, en). */
	for (j = i; j < b->n && SEQ_LEQ(b->blk[j].start, en); j++) {
		st = SEQ_MIN(st, b->blk[j].start);
		en = SEQ_MAX(en, b->blk[j].end);
	}
	if (j > i) {
		b->blk[i].start = st;
		b->blk[i].end = en;
		for (unsigned k = j; k < b->n; k++)
			b->blk[i + 1 + k - j] = b->blk[k];
		b->n -= j - i - 1;
		return;
	}
	if (b->n == PG_TCP_SACK_BOARD) {
		/* Full: forget the highest block, least urgent to repair. */
		if (i == b->n)
			return;
		b->n--;
	}
	for (unsigned k = b->n; k > i; k--)
		b->blk[k] = b->blk[k - 1];
	b->blk[i].start = st;
	b->blk[i].end = en;
	b->n++;
}

unsigned
pg_tcp_sack_update(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg)
{
	unsigned n = 0;
	for (unsigned i = 0; i < seg->nsack; i++) {
		uint32_t st = seg->sack[i].start, en = seg->sack[i].end;
		/* Ignore D-SACKs, blocks below snd_una and nonsense. */
		if (!SEQ_LT(st, en) || SEQ_LEQ(st, c->snd_una)
		    || SEQ_GT(en, c->snd_max))
			continue;
		n++;
		struct pg_tcp_sack_board *b = pg_tcp_board(c);
		if (b == NULL)
			continue;
		c->stack->stats->sack_blocks_in++;
		pg_tcp_board_add(b, st, en);
	}
	return n;
}

void
pg_tcp_sack_prune(struct pg_tcp_conn *c)
{
	struct pg_tcp_sack_board *b = c->board;
	unsigned k = 0;
	if (b == NULL)
		return;
	for (unsigned i = 0; i < b->n; i++) {
		if (SEQ_LEQ(b->blk[i].end, c->snd_una))
			continue;
		b->blk[k] = b->blk[i];
		if (SEQ_LT(b->blk[k].start, c->snd_una))
			b->blk[k].start = c->snd_una;
		k++;
	}
	b->n = k;
	if (k == 0 && !(c->flags & PG_TCPF_RECOVERY)) {
		free(b);
		c->board = NULL;
		c->stack->board_bytes -= sizeof(*b);
	}
}

uint32_t
pg_tcp_sacked_bytes(const struct pg_tcp_conn *c)
{
	uint32_t n = 0;
	if (c->board != NULL)
		for (unsigned i = 0; i < c->board->n; i++)
			n += c->board->blk[i].end - c->board->blk[i].start;
	return n;
}

/* The next hole below the highest SACKed byte, from rexmit_nxt on. */
static int
pg_tcp_next_hole(struct pg_tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	struct pg_tcp_sack_board *b = c->board;
	if (b == NULL || b->n == 0)
		return 0;
	uint32_t at = SEQ_MAX(b->rexmit_nxt, c->snd_una);
	for (unsigned i = 0; i < b->n; i++) {
		if (SEQ_GEQ(at, b->blk[i].end))
			continue;
		if (SEQ_LT(at, b->blk[i].start)) {
			*seq = at;
			*len = RTE_MIN(b->blk[i].start - at, pg_tcp_eff_mss(c));
			return 1;
		}
		at = b->blk[i].end;
	}
	return 0;
}

void
pg_tcp_sack_output(struct pg_tcp_conn *c)
{
	struct pg_tcp_sack_board *b = c->board;
	uint32_t seq, len, sent = 0;

	if (b == NULL)
		return;
	uint32_t pipe = pg_tcp_in_flight(c) - pg_tcp_sacked_bytes(c);
	while (pipe + sent < c->cwnd && pg_tcp_next_hole(c, &seq, &len)) {
		/* Only data the queue still holds (a FIN is never a hole). */
		uint32_t data_end = c->snd_una + c->queued;
		if (SEQ_GEQ(seq, data_end))
			break;
		len = RTE_MIN(len, data_end - seq);
		if (pg_tcp_xmit(c, seq, len, PG_TCP_ACK) != PG_OK)
			break;
		c->stack->stats->retrans_segs++;
		b->rexmit_nxt = seq + len;
		sent += len;
	}
	/* New data fills the rest of cwnd in pg_tcp_output. */
}
