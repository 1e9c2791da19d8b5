/*
 * Helpers shared by the C unit tests: an EAL without hugepages or devices,
 * a packet pool, and a capture driver whose receive side is fed by the test
 * and whose transmit side records what the stack sent. Included by each
 * test_*.c (one binary per file).
 */
#ifndef PG_TEST_H
#define PG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net/pg_driver.h"
#include "net/pg_mbuf.h"
#include "net/pg_netif.h"

#define PG_TEST_MBUFS 4095

static struct rte_mempool *pg_test_pool;

/* EAL keeps a runtime directory even with --no-shconf: remove it. */
static void
pg_test_eal_cleanup(void)
{
	char dir[96];
	rte_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/pg-unit-%d", (int)getpid());
	rmdir(dir);
}

/* Start an EAL that touches no hugepage and no device, once per binary. */
static inline void
pg_test_eal(void)
{
	static int up;
	static char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=pg-unit-%d",
		 (int)getpid());
	char *argv[] = { "pg_test", "--no-huge", "--no-shconf", "--no-pci",
			 "--no-telemetry", prefix, "-m", "128", "-l", "0",
			 "--log-level=5", NULL };
	if (up)
		return;
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		exit(1);
	}
	pg_test_pool = pg_mbuf_pool_create("pg_test_pool", PG_TEST_MBUFS, 0);
	if (pg_test_pool == NULL) {
		fprintf(stderr, "pool creation failed\n");
		exit(1);
	}
	up = 1;
	atexit(pg_test_eal_cleanup);
}

/* --- capture driver ------------------------------------------------------ */

#define PG_CAP_MAX 256

struct pg_cap_driver {
	struct pg_driver base;
	struct rte_mbuf *rx[PG_CAP_MAX];
	unsigned rx_head, rx_tail;
	struct rte_mbuf *tx[PG_CAP_MAX];
	unsigned ntx;
	unsigned tx_refuse;          /* refuse this many frames per burst */
};

static inline uint16_t
pg_cap_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_cap_driver *c = (struct pg_cap_driver *)d;
	uint16_t k = 0;
	while (k < n && c->rx_head != c->rx_tail) {
		pkts[k] = c->rx[c->rx_head++ % PG_CAP_MAX];
		pg_mbuf_tag(pkts[k], d->holder);
		k++;
	}
	return k;
}

static inline uint16_t
pg_cap_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_cap_driver *c = (struct pg_cap_driver *)d;
	uint16_t take = n > c->tx_refuse ? n - c->tx_refuse : 0;
	for (uint16_t i = 0; i < take; i++) {
		assert_true(c->ntx < PG_CAP_MAX);
		c->tx[c->ntx++] = pkts[i];
	}
	return take;
}

static const struct pg_driver_ops pg_cap_ops = { pg_cap_rx, pg_cap_tx, NULL };

static inline void
pg_cap_init(struct pg_cap_driver *c, uint16_t holder)
{
	memset(c, 0, sizeof(*c));
	c->base.ops = &pg_cap_ops;
	c->base.holder = holder;
}

static inline void
pg_cap_push(struct pg_cap_driver *c, struct rte_mbuf *m)
{
	c->rx[c->rx_tail++ % PG_CAP_MAX] = m;
}

/* Free what the driver captured. */
static inline void
pg_cap_clear(struct pg_cap_driver *c)
{
	for (unsigned i = 0; i < c->ntx; i++)
		pg_mbuf_free(c->tx[i]);
	c->ntx = 0;
}

/* An mbuf holding a copy of len bytes of data. */
static inline struct rte_mbuf *
pg_test_frame(const void *data, size_t len)
{
	struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 0);
	assert_non_null(m);
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, data, len);
	return m;
}

/* Every mbuf is back in the pool: nothing leaked. */
static inline void
pg_test_assert_no_leak(void)
{
	assert_int_equal(rte_mempool_avail_count(pg_test_pool), PG_TEST_MBUFS);
}

#endif
