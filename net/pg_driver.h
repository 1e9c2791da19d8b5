/*
 * The driver interface the stack talks to: bursts in, bursts out. A driver
 * is a DPDK ethdev queue pair, the simulated wire of the TCP tests, or a
 * filter wrapping another driver (fault injection).
 *
 * Ownership: rx_burst hands the returned mbufs to the caller (tagged with
 * the driver's holder); tx_burst consumes the first n it returns as sent,
 * the caller keeps the rest.
 */
#ifndef PG_DRIVER_H
#define PG_DRIVER_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "core/pg_config.h"
#include "core/pg_stats.h"

struct pg_driver;

struct pg_driver_ops {
	uint16_t (*rx_burst)(struct pg_driver *d, struct rte_mbuf **pkts,
			     uint16_t n);
	uint16_t (*tx_burst)(struct pg_driver *d, struct rte_mbuf **pkts,
			     uint16_t n);
	void (*close)(struct pg_driver *d);
};

struct pg_driver {
	const struct pg_driver_ops *ops;
	uint16_t holder;              /* tag given to received mbufs */
};

static inline uint16_t
pg_driver_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	return d->ops->rx_burst(d, pkts, n);
}

static inline uint16_t
pg_driver_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	return d->ops->tx_burst(d, pkts, n);
}

static inline void
pg_driver_close(struct pg_driver *d)
{
	if (d != NULL && d->ops->close != NULL)
		d->ops->close(d);
}

/* A DPDK ethdev rx/tx queue pair. NULL on failure (err says why). */
struct pg_driver *pg_driver_ethdev_open(uint16_t port, uint16_t queue,
					uint16_t holder, const char **err);

/*
 * Wrap inner with seeded drop/duplicate/reorder. Duplicates are copied from
 * pool. Counts go to stats. Closing the filter closes inner.
 */
struct pg_driver *pg_driver_fault_open(struct pg_driver *inner,
				       const struct pg_fault_conf *conf,
				       struct rte_mempool *pool,
				       struct pg_stats *stats,
				       const char **err);

#endif
