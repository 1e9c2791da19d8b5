/*
 * The scenarios of the TCP soak (test_tcp_soak.c): everything a seed
 * decides about the wire, the stacks' settings and each connection, and
 * the one-line description a failure prints.
 */
#ifndef PG_TCP_SOAK_PLAN_H
#define PG_TCP_SOAK_PLAN_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "net/pg_driver_sim.h"
#include "net/pg_rand.h"
#include "net/pg_tcp.h"

#define SOAK_MAX_CONNS  6
#define SOAK_MAX_LEN    (300u * 1024)
#define SOAK_REFUSALS   3          /* PG_AGAIN episodes per direction */

enum soak_order { ORDER_BOTH, ORDER_CLIENT_FIRST, ORDER_SERVER_FIRST };
static const char *const soak_order_names[] = { "both", "client-first",
						 "server-first" };

/* How one end lets go once both directions are done. */
enum soak_end_mode { END_HOLD, END_CLOSE };
static const char *const soak_end_names[] = { "hold", "close" };

/* What lets a sender that reached the high-water mark go on. */
enum soak_resume { RESUME_WRITABLE, RESUME_ACKED };
static const char *const soak_resume_names[] = { "on_writable", "on_acked" };

struct soak_conn_plan {
	uint32_t len[2];               /* len[side]: bytes side sends */
	uint8_t order;                 /* enum soak_order */
	uint8_t end_mode[2];           /* enum soak_end_mode per side */
	uint8_t refusals[2];           /* PG_AGAIN episodes, receiving side */
	uint32_t connect_ms;           /* when the client connects */
};

struct soak_plan {
	uint64_t seed;
	struct pg_sim_conf wire;
	unsigned mtu;
	uint32_t rcv_wnd[2];
	uint32_t hiwat, lowat;
	uint32_t time_wait_ms;
	uint8_t resume;                /* enum soak_resume */
	uint8_t send_mix;              /* 0 write, 1 send, 2 both */
	uint8_t cc;
	unsigned nconns;
	struct soak_conn_plan conn[SOAK_MAX_CONNS];
};

static uint32_t
rnd_below(uint64_t *r, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(pg_rand_uniform(r) * n);
}

static int
rnd_chance(uint64_t *r, double p)
{
	return pg_rand_uniform(r) < p;
}

/* Log-uniform in [lo, hi]: as many short values as long ones. */
static uint64_t
rnd_log(uint64_t *r, uint64_t lo, uint64_t hi)
{
	double l = log((double)lo), h = log((double)hi + 1);
	uint64_t v = (uint64_t)exp(l + pg_rand_uniform(r) * (h - l));
	return v > hi ? hi : v;
}

static uint32_t
plan_len(uint64_t *r, uint32_t max)
{
	if (rnd_chance(r, 0.15))
		return 0;
	return (uint32_t)rnd_log(r, 1, max);
}

static void
plan_wire(uint64_t *r, struct pg_sim_conf *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->seed = seed;
	w->delay_ns = rnd_log(r, 10, 50000) * 1000;      /* 10 us .. 50 ms */
	if (rnd_chance(r, 0.6))
		w->loss = pg_rand_uniform(r) * 0.10;
	if (rnd_chance(r, 0.3))
		w->duplicate = pg_rand_uniform(r) * 0.05;
	if (rnd_chance(r, 0.3))
		w->corrupt = pg_rand_uniform(r) * 0.03;
	if (rnd_chance(r, 0.4)) {
		w->reorder = pg_rand_uniform(r) * 0.3;
		w->jitter_ns = rnd_log(r, 1, 2 * w->delay_ns / 1000 + 100)
			       * 1000;
	}
	if (rnd_chance(r, 0.5))
		w->bandwidth_bps = rnd_log(r, 1000, 10000000) * 1000;
	w->queue_max = 64 + rnd_below(r, 448);
}

static void
plan_draw(struct soak_plan *p, uint64_t seed)
{
	uint64_t r = pg_rand_seed(seed ^ 0x50a4ull);

	memset(p, 0, sizeof(*p));
	p->seed = seed;
	plan_wire(&r, &p->wire, seed);
	p->mtu = rnd_chance(&r, 0.3) ? 100 + rnd_below(&r, 477)
				     : rnd_chance(&r, 0.5) ? 1500
				     : 576 + rnd_below(&r, 925);
	uint32_t mss = p->mtu - 40;
	for (unsigned i = 0; i < 2; i++)
		p->rcv_wnd[i] = rnd_chance(&r, 0.3)
				? (uint32_t)rnd_log(&r, 256, 16384)
				: rnd_chance(&r, 0.5) ? 1u << 20
				: (uint32_t)rnd_log(&r, 16384, 1u << 20);
	p->hiwat = (uint32_t)RTE_MIN(64u * 1024, RTE_MAX(4096u, 48 * mss));
	p->lowat = p->hiwat / (2 + rnd_below(&r, 7));
	/*
	 * Short next to the default 60 s, yet long enough that a peer's FIN
	 * retransmitted through a run of losses (RTO 200 ms doubling) still
	 * meets the TIME_WAIT end, not a RST: 7 losses in a row take 25 s.
	 */
	p->time_wait_ms = 30000 + rnd_below(&r, 30000);
	p->resume = (uint8_t)rnd_below(&r, 2);
	p->send_mix = (uint8_t)rnd_below(&r, 3);
	p->cc = rnd_chance(&r, 0.5) ? PG_TCP_CC_CUBIC : PG_TCP_CC_NEWRENO;
	p->nconns = 1 + rnd_below(&r, SOAK_MAX_CONNS);
	/* Tiny segments cost time: keep their transfers shorter. */
	uint32_t max = RTE_MIN(SOAK_MAX_LEN, 400 * mss);
	for (unsigned k = 0; k < p->nconns; k++) {
		struct soak_conn_plan *c = &p->conn[k];
		for (unsigned i = 0; i < 2; i++) {
			c->len[i] = plan_len(&r, max);
			c->end_mode[i] = (uint8_t)rnd_below(&r, 2);
			c->refusals[i] = rnd_chance(&r, 0.3)
					 ? (uint8_t)(1 + rnd_below(&r, SOAK_REFUSALS))
					 : 0;
		}
		c->order = (uint8_t)rnd_below(&r, 3);
		c->connect_ms = rnd_chance(&r, 0.5) ? 0 : rnd_below(&r, 500);
	}
}

static int
plan_describe(const struct soak_plan *p, char *buf, size_t n)
{
	const struct pg_sim_conf *w = &p->wire;
	int k = snprintf(buf, n,
		"seed %" PRIu64 ": loss %.3f dup %.3f corrupt %.3f reorder %.3f "
		"jitter %" PRIu64 "us delay %" PRIu64 "us bw %" PRIu64 "bps "
		"queue %u mtu %u rcv_wnd %u/%u hiwat %u lowat %u tw %ums "
		"resume %s send %s cc %s conns %u:",
		p->seed, w->loss, w->duplicate, w->corrupt, w->reorder,
		w->jitter_ns / 1000, w->delay_ns / 1000, w->bandwidth_bps,
		w->queue_max, p->mtu, p->rcv_wnd[0], p->rcv_wnd[1], p->hiwat,
		p->lowat, p->time_wait_ms, soak_resume_names[p->resume],
		(const char *[]){ "write", "send", "both" }[p->send_mix],
		p->cc == PG_TCP_CC_CUBIC ? "cubic" : "newreno", p->nconns);
	for (unsigned i = 0; i < p->nconns && k > 0 && (size_t)k < n; i++) {
		const struct soak_conn_plan *c = &p->conn[i];
		k += snprintf(buf + k, n - (size_t)k,
			" [%u: c->s %u s->c %u %s client %s/%u server %s/%u "
			"at %ums]", i, c->len[0], c->len[1],
			soak_order_names[c->order],
			soak_end_names[c->end_mode[0]], c->refusals[0],
			soak_end_names[c->end_mode[1]], c->refusals[1],
			c->connect_ms);
	}
	return k;
}

#endif
