/*
 * Driver over one DPDK ethdev rx/tx queue pair.
 */
#include <stdlib.h>

#include <rte_ethdev.h>

#include "net/pg_driver.h"
#include "net/pg_mbuf.h"

struct pg_driver_ethdev {
	struct pg_driver base;
	uint16_t port;
	uint16_t queue;
};

static uint16_t
pg_ethdev_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_ethdev *e = (struct pg_driver_ethdev *)d;
	uint16_t got = rte_eth_rx_burst(e->port, e->queue, pkts, n);
	for (uint16_t i = 0; i < got; i++)
		pg_mbuf_tag(pkts[i], d->holder);
	return got;
}

static uint16_t
pg_ethdev_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_ethdev *e = (struct pg_driver_ethdev *)d;
	/* Untag before the PMD may free them (see pg_mbuf.h). */
	for (uint16_t i = 0; i < n; i++)
		pg_mbuf_tag(pkts[i], 0);
	uint16_t sent = rte_eth_tx_burst(e->port, e->queue, pkts, n);
	for (uint16_t i = sent; i < n; i++)
		pg_mbuf_tag(pkts[i], d->holder);
	return sent;
}

static void
pg_ethdev_close(struct pg_driver *d)
{
	free(d);
}

static const struct pg_driver_ops pg_ethdev_ops = {
	.rx_burst = pg_ethdev_rx,
	.tx_burst = pg_ethdev_tx,
	.close = pg_ethdev_close,
};

struct pg_driver *
pg_driver_ethdev_open(uint16_t port, uint16_t queue, uint16_t holder,
		      const char **err)
{
	if (!rte_eth_dev_is_valid_port(port)) {
		*err = "no such ethdev port";
		return NULL;
	}
	struct pg_driver_ethdev *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*err = "out of memory";
		return NULL;
	}
	e->base.ops = &pg_ethdev_ops;
	e->base.holder = holder;
	e->port = port;
	e->queue = queue;
	return &e->base;
}
