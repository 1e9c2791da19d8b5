/*
 * Driver over one DPDK ethdev rx/tx queue pair.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "net/pg_driver.h"
#include "net/pg_mbuf.h"

struct pg_driver_ethdev {
	struct pg_driver base;
	uint16_t port;
	uint16_t queue;
	int per_frame_syscall;
};

/*
 * PMDs that move each frame with a system call: tx_burst frees what it sent
 * before returning, rx_burst holds the frames it already read while it
 * reads the next. A worker killed inside such a call must not lose frames:
 * transmitted frames stay tagged with an extra reference until the burst
 * returns (pg_ethdev_tx_sync), and frames are received one per call so that
 * each is tagged before the next system call.
 */
static const char *const pg_ethdev_syscall_pmds[] = {
	"net_tap", "net_af_packet",
};

static uint16_t
pg_ethdev_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_ethdev *e = (struct pg_driver_ethdev *)d;
	uint16_t got = 0;
	if (e->per_frame_syscall) {
		while (got < n
		       && rte_eth_rx_burst(e->port, e->queue, pkts + got, 1) == 1)
			pg_mbuf_tag(pkts[got++], d->holder);
		return got;
	}
	got = rte_eth_rx_burst(e->port, e->queue, pkts, n);
	for (uint16_t i = 0; i < got; i++)
		pg_mbuf_tag(pkts[i], d->holder);
	return got;
}

/* Add delta to the reference count of every segment of m. */
static void
pg_ethdev_ref(struct rte_mbuf *m, int16_t delta)
{
	for (; m != NULL; m = m->next)
		rte_mbuf_refcnt_update(m, delta);
}

/*
 * The PMD's free only drops the reference it was given; ours keeps the
 * mbufs out of the pool, still tagged, until the burst is over. If the
 * worker dies meanwhile, the primary finds them by their tag and frees
 * them whatever their count (pg_mbuf_reclaim).
 */
static uint16_t
pg_ethdev_tx_sync(struct pg_driver_ethdev *e, struct rte_mbuf **pkts,
		  uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		pg_ethdev_ref(pkts[i], 1);
	uint16_t sent = rte_eth_tx_burst(e->port, e->queue, pkts, n);
	for (uint16_t i = 0; i < sent; i++)
		pg_mbuf_free(pkts[i]);
	for (uint16_t i = sent; i < n; i++)
		pg_ethdev_ref(pkts[i], -1);
	return sent;
}

static uint16_t
pg_ethdev_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_driver_ethdev *e = (struct pg_driver_ethdev *)d;
	if (e->per_frame_syscall)
		return pg_ethdev_tx_sync(e, pkts, n);
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
	struct rte_eth_dev_info info;
	if (!rte_eth_dev_is_valid_port(port)
	    || rte_eth_dev_info_get(port, &info) != 0) {
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
	for (size_t i = 0; i < RTE_DIM(pg_ethdev_syscall_pmds); i++)
		if (strcmp(info.driver_name, pg_ethdev_syscall_pmds[i]) == 0)
			e->per_frame_syscall = 1;
	return &e->base;
}
