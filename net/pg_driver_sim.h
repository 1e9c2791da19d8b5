/*
 * The simulated wire: two drivers joined back to back in one process, with
 * a virtual clock and seeded loss, duplication, reordering (delay jitter),
 * corruption, fixed delay and a bandwidth limit. It lets two instances of
 * the stack talk deterministically without DPDK devices, so TCP can be
 * tested over thousands of seeded scenarios.
 *
 * Frames in flight belong to the wire (mbuf tag 0); rx_burst tags them
 * with the receiving driver's holder.
 */
#ifndef PG_DRIVER_SIM_H
#define PG_DRIVER_SIM_H

#include <stdint.h>

#include <rte_mempool.h>

#include "net/pg_driver.h"

struct pg_sim_conf {
	double loss;             /* probability a frame is lost */
	double duplicate;        /* probability a frame arrives twice */
	double corrupt;          /* probability one bit of it flips */
	double reorder;          /* probability it gets up to jitter_ns extra */
	uint64_t delay_ns;       /* one-way propagation delay */
	uint64_t jitter_ns;      /* extra delay of reordered frames */
	uint64_t bandwidth_bps;  /* 0: unlimited */
	unsigned queue_max;      /* frames in flight per direction (0: 1024) */
	uint64_t seed;
};

struct pg_sim_stats {
	uint64_t sent, delivered, lost, duplicated, corrupted, reordered,
		 overflow;
};

struct pg_sim_wire;

/* A wire; copies for duplicates come from pool. NULL if out of memory. */
struct pg_sim_wire *pg_sim_wire_create(const struct pg_sim_conf *conf,
				       struct rte_mempool *pool);

/* The driver of end 0 or 1; holder tags what it receives. */
struct pg_driver *pg_sim_wire_end(struct pg_sim_wire *w, unsigned end,
				  uint16_t holder);

/* Set the virtual clock (it never goes back). */
void pg_sim_wire_set_time(struct pg_sim_wire *w, uint64_t now_ns);

/* Time of the next delivery in either direction, UINT64_MAX if none. */
uint64_t pg_sim_wire_next_event(const struct pg_sim_wire *w);

/* Frames in flight in both directions. */
unsigned pg_sim_wire_in_flight(const struct pg_sim_wire *w);

const struct pg_sim_stats *pg_sim_wire_stats(const struct pg_sim_wire *w,
					     unsigned from_end);

/* Free the wire and every frame still in flight. */
void pg_sim_wire_destroy(struct pg_sim_wire *w);

#endif
