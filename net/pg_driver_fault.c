/*
 * Fault-injection filter: wraps any driver and, with a seeded generator,
 * drops, duplicates or reorders frames in either direction. This machine's
 * kernel has no netem; this is how tests make a real wire misbehave.
 *
 * Reordering holds one frame back and releases it behind the frames of the
 * next burst (or alone at the next poll), so nothing is delayed for long and
 * nothing is lost. Only one frame is held at a time per direction, so a
 * busy link sees somewhat fewer reorderings than the configured rate.
 */
#include <stdlib.h>

#include "net/pg_driver.h"
#include "net/pg_mbuf.h"
#include "net/pg_rand.h"

struct pg_fault_dir {
	int on;
	struct rte_mbuf *held;
};

struct pg_driver_fault {
	struct pg_driver base;
	struct pg_driver *inner;
	struct pg_fault_conf conf;
	struct rte_mempool *pool;
	struct pg_stats *stats;
	uint64_t rng;
	struct pg_fault_dir rx, tx;
};


enum pg_fault_verdict { PG_FAULT_PASS, PG_FAULT_DROP, PG_FAULT_DUP,
			PG_FAULT_HOLD };

static enum pg_fault_verdict
pg_fault_decide(struct pg_driver_fault *f)
{
	double r = pg_rand_uniform(&f->rng);
	if (r < f->conf.drop)
		return PG_FAULT_DROP;
	r -= f->conf.drop;
	if (r < f->conf.duplicate)
		return PG_FAULT_DUP;
	r -= f->conf.duplicate;
	if (r < f->conf.reorder)
		return PG_FAULT_HOLD;
	return PG_FAULT_PASS;
}

/*
 * Filter in[0..n) into out (room for cap), applying the verdicts. Frames
 * dropped are freed; a held frame is emitted after the others. Returns the
 * number of frames in out.
 */
static uint16_t
pg_fault_filter(struct pg_driver_fault *f, struct pg_fault_dir *dir,
		struct rte_mbuf **in, uint16_t n, struct rte_mbuf **out,
		uint16_t cap)
{
	struct rte_mbuf *held = dir->held;
	uint16_t k = 0;

	dir->held = NULL;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = in[i], *copy;
		switch (pg_fault_decide(f)) {
		case PG_FAULT_DROP:
			pg_mbuf_free(m);
			PG_DROP(f->stats, fault);
			continue;
		case PG_FAULT_DUP:
			copy = rte_pktmbuf_copy(m, f->pool, 0, UINT32_MAX);
			if (copy != NULL && k + 2 < cap) {
				pg_mbuf_tag(copy, pg_mbuf_priv(m)->holder);
				out[k++] = copy;
				PG_STAT_INC(f->stats, fault_dup);
			} else if (copy != NULL) {
				rte_pktmbuf_free(copy);
			}
			break;
		case PG_FAULT_HOLD:
			if (dir->held == NULL) {
				dir->held = m;
				PG_STAT_INC(f->stats, fault_reorder);
				continue;
			}
			break;
		case PG_FAULT_PASS:
			break;
		}
		out[k++] = m;
	}
	if (held != NULL)
		out[k++] = held;
	return k;
}

/*
 * A frame held back on transmit goes out at the next poll even when
 * nothing else is sent: a sender waiting for the ACK of that very frame
 * would otherwise wait for its retransmission timer.
 */
static void
pg_fault_release_tx(struct pg_driver_fault *f)
{
	struct rte_mbuf *m = f->tx.held;
	f->tx.held = NULL;
	if (pg_driver_tx(f->inner, &m, 1) != 1) {
		pg_mbuf_free(m);
		PG_DROP(f->stats, tx_full);
	}
}

static uint16_t
pg_fault_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_fault *f = (struct pg_driver_fault *)d;
	if (f->tx.held != NULL)
		pg_fault_release_tx(f);
	if (!f->rx.on)
		return pg_driver_rx(f->inner, pkts, n);

	/* Leave room for duplicates and the held frame. */
	struct rte_mbuf *in[n];
	uint16_t got = pg_driver_rx(f->inner, in, n / 2);
	return pg_fault_filter(f, &f->rx, in, got, pkts, n);
}

static uint16_t
pg_fault_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_fault *f = (struct pg_driver_fault *)d;
	if (!f->tx.on)
		return pg_driver_tx(f->inner, pkts, n);

	uint16_t cap = 2 * n + 1;
	struct rte_mbuf *out[cap];
	uint16_t k = pg_fault_filter(f, &f->tx, pkts, n, out, cap);
	uint16_t sent = pg_driver_tx(f->inner, out, k);
	/* The caller's frames are all accounted for: what the wire refused is
	 * a loss on the wire. */
	for (uint16_t i = sent; i < k; i++) {
		pg_mbuf_free(out[i]);
		PG_DROP(f->stats, tx_full);
	}
	return n;
}

static void
pg_fault_close(struct pg_driver *d)
{
	struct pg_driver_fault *f = (struct pg_driver_fault *)d;
	if (f->rx.held != NULL)
		pg_mbuf_free(f->rx.held);
	if (f->tx.held != NULL)
		pg_mbuf_free(f->tx.held);
	pg_driver_close(f->inner);
	free(f);
}

static const struct pg_driver_ops pg_fault_ops = {
	.rx_burst = pg_fault_rx,
	.tx_burst = pg_fault_tx,
	.close = pg_fault_close,
};

struct pg_driver *
pg_driver_fault_open(struct pg_driver *inner, const struct pg_fault_conf *conf,
		     struct rte_mempool *pool, struct pg_stats *stats,
		     const char **err)
{
	struct pg_driver_fault *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		*err = "out of memory";
		return NULL;
	}
	f->base.ops = &pg_fault_ops;
	f->base.holder = inner->holder;
	f->inner = inner;
	f->conf = *conf;
	f->pool = pool;
	f->stats = stats;
	f->rng = pg_rand_seed(conf->seed);
	f->rx.on = conf->rx;
	f->tx.on = conf->tx;
	return &f->base;
}
