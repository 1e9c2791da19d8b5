/*
 * Simulated wire. Each direction keeps its frames in flight in a binary
 * min-heap ordered by delivery time (ties by send order, so a wire without
 * jitter never reorders).
 */
#include <stdlib.h>

#include "net/pg_driver_sim.h"
#include "net/pg_mbuf.h"
#include "net/pg_rand.h"

struct pg_sim_frame {
	uint64_t at;             /* delivery time */
	uint64_t seq;            /* send order, breaks ties */
	struct rte_mbuf *m;
};

struct pg_sim_dir {
	struct pg_sim_frame *heap;
	unsigned len;
	uint64_t seq;
	uint64_t busy_until;     /* the sender's link is serialising until */
	struct pg_sim_stats st;
};

struct pg_sim_end {
	struct pg_driver base;
	struct pg_sim_wire *wire;
	unsigned id;
};

struct pg_sim_wire {
	struct pg_sim_conf conf;
	struct rte_mempool *pool;
	uint64_t now;
	uint64_t rng;
	struct pg_sim_dir dir[2];         /* dir[i]: frames sent by end i */
	struct pg_sim_end end[2];
};

/* --- heap ---------------------------------------------------------------- */

static int
pg_sim_before(const struct pg_sim_frame *a, const struct pg_sim_frame *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
pg_sim_swap(struct pg_sim_frame *a, struct pg_sim_frame *b)
{
	struct pg_sim_frame t = *a;
	*a = *b;
	*b = t;
}

static void
pg_sim_push(struct pg_sim_dir *d, struct pg_sim_frame f)
{
	unsigned i = d->len++;
	d->heap[i] = f;
	while (i > 0 && pg_sim_before(&d->heap[i], &d->heap[(i - 1) / 2])) {
		pg_sim_swap(&d->heap[i], &d->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static struct pg_sim_frame
pg_sim_pop(struct pg_sim_dir *d)
{
	struct pg_sim_frame top = d->heap[0];
	d->heap[0] = d->heap[--d->len];
	for (unsigned i = 0;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->len && pg_sim_before(&d->heap[l], &d->heap[m]))
			m = l;
		if (r < d->len && pg_sim_before(&d->heap[r], &d->heap[m]))
			m = r;
		if (m == i)
			break;
		pg_sim_swap(&d->heap[i], &d->heap[m]);
		i = m;
	}
	return top;
}

/* --- wire ---------------------------------------------------------------- */


static void
pg_sim_corrupt(struct pg_sim_wire *w, struct rte_mbuf *m)
{
	uint32_t off = (uint32_t)(pg_rand_uniform(&w->rng) * m->data_len);
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	*p ^= (uint8_t)(1u << (unsigned)(pg_rand_uniform(&w->rng) * 8));
}

/* Put one frame on the wire in direction d (consumes m). */
static void
pg_sim_send(struct pg_sim_wire *w, struct pg_sim_dir *d, struct rte_mbuf *m)
{
	const struct pg_sim_conf *c = &w->conf;
	uint64_t start = d->busy_until > w->now ? d->busy_until : w->now;
	uint64_t at;

	if (d->len == c->queue_max) {
		d->st.overflow++;
		pg_mbuf_free(m);
		return;
	}
	if (c->bandwidth_bps != 0)
		start += (uint64_t)m->pkt_len * 8 * 1000000000ull
			 / c->bandwidth_bps;
	d->busy_until = start;
	at = start + c->delay_ns;
	if (pg_rand_uniform(&w->rng) < c->loss) {
		d->st.lost++;
		pg_mbuf_free(m);
		return;
	}
	if (pg_rand_uniform(&w->rng) < c->corrupt) {
		pg_sim_corrupt(w, m);
		d->st.corrupted++;
	}
	if (pg_rand_uniform(&w->rng) < c->reorder) {
		at += (uint64_t)(pg_rand_uniform(&w->rng) * (double)c->jitter_ns) + 1;
		d->st.reordered++;
	}
	pg_mbuf_tag(m, 0);
	pg_sim_push(d, (struct pg_sim_frame){ at, d->seq++, m });
	if (pg_rand_uniform(&w->rng) < c->duplicate && d->len < c->queue_max) {
		struct rte_mbuf *copy = rte_pktmbuf_copy(m, w->pool, 0,
							 UINT32_MAX);
		if (copy != NULL) {
			pg_mbuf_tag(copy, 0);
			pg_sim_push(d, (struct pg_sim_frame){ at + 1, d->seq++,
							      copy });
			d->st.duplicated++;
		}
	}
}

static uint16_t
pg_sim_tx(struct pg_driver *drv, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_sim_end *e = (struct pg_sim_end *)drv;
	struct pg_sim_dir *d = &e->wire->dir[e->id];
	for (uint16_t i = 0; i < n; i++) {
		d->st.sent++;
		pg_sim_send(e->wire, d, pkts[i]);
	}
	return n;
}

static uint16_t
pg_sim_rx(struct pg_driver *drv, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_sim_end *e = (struct pg_sim_end *)drv;
	struct pg_sim_dir *d = &e->wire->dir[!e->id];
	uint16_t k = 0;
	while (k < n && d->len > 0 && d->heap[0].at <= e->wire->now) {
		pkts[k] = pg_sim_pop(d).m;
		pg_mbuf_tag(pkts[k], drv->holder);
		d->st.delivered++;
		k++;
	}
	return k;
}

static const struct pg_driver_ops pg_sim_ops = {
	.rx_burst = pg_sim_rx,
	.tx_burst = pg_sim_tx,
	.close = NULL,           /* the wire owns its ends */
};

struct pg_sim_wire *
pg_sim_wire_create(const struct pg_sim_conf *conf, struct rte_mempool *pool)
{
	struct pg_sim_wire *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->conf = *conf;
	if (w->conf.queue_max == 0)
		w->conf.queue_max = 1024;
	w->pool = pool;
	w->rng = pg_rand_seed(conf->seed);
	for (unsigned i = 0; i < 2; i++) {
		/* Room for a duplicate beyond queue_max is never needed. */
		w->dir[i].heap = calloc(w->conf.queue_max, sizeof(*w->dir[i].heap));
		if (w->dir[i].heap == NULL) {
			pg_sim_wire_destroy(w);
			return NULL;
		}
		w->end[i].base.ops = &pg_sim_ops;
		w->end[i].wire = w;
		w->end[i].id = i;
	}
	return w;
}

struct pg_driver *
pg_sim_wire_end(struct pg_sim_wire *w, unsigned end, uint16_t holder)
{
	w->end[end].base.holder = holder;
	return &w->end[end].base;
}

void
pg_sim_wire_set_time(struct pg_sim_wire *w, uint64_t now_ns)
{
	if (now_ns > w->now)
		w->now = now_ns;
}

uint64_t
pg_sim_wire_next_event(const struct pg_sim_wire *w)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < 2; i++)
		if (w->dir[i].len > 0 && w->dir[i].heap[0].at < t)
			t = w->dir[i].heap[0].at;
	return t;
}

unsigned
pg_sim_wire_in_flight(const struct pg_sim_wire *w)
{
	return w->dir[0].len + w->dir[1].len;
}

const struct pg_sim_stats *
pg_sim_wire_stats(const struct pg_sim_wire *w, unsigned from_end)
{
	return &w->dir[from_end].st;
}

void
pg_sim_wire_destroy(struct pg_sim_wire *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < 2; i++) {
		while (w->dir[i].heap != NULL && w->dir[i].len > 0)
			pg_mbuf_free(pg_sim_pop(&w->dir[i]).m);
		free(w->dir[i].heap);
	}
	free(w);
}
