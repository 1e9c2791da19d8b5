/*
 * pg-tcp-memory: what an idle established TCP connection costs.
 *
 *   pg-tcp-memory N [--header]
 *
 * Opens N connections between two stacks in this process (client
 * 198.18.0.1 -> server 198.18.0.2, ports 80-83 so that N may exceed the
 * ephemeral range of one destination) over the simulated wire without
 * loss, lets them settle idle, and prints one line of the table
 * scripts/bench-tcp-memory shows: sizeof(struct pg_tcp_conn), bytes per
 * connection by pg_tcp_stack_memory() growth (server and client stacks),
 * by the growth of the process's resident memory (both ends, divided by
 * 2N: malloc'd control blocks, tables, anything the stack touches), mbufs
 * still held by idle connections, and how many idle connections (one end)
 * fit in 1 GiB at the larger of the two measures. The mbuf pool is
 * touched in full before the baseline, so its pages are not counted as
 * growth; mbufs held afterwards are counted at their pool element size.
 *
 * Exit status: 0 done, 1 a connection failed or did not establish, 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "net/pg_driver_sim.h"
#include "net/pg_tcp_priv.h"
#include "tests/tools/pg_tool_net.h"

#define TM_SERVER   RTE_BE32(0xc6120002u)     /* 198.18.0.2 */
#define TM_CLIENT   RTE_BE32(0xc6120001u)     /* 198.18.0.1 */
#define TM_PORTS    4                          /* server ports 80.. */
#define TM_BATCH    1024                       /* connects per round */
#define TM_MBUFS    16383
#define TM_GIB      (1024.0 * 1024 * 1024)

struct tm_end {
	struct pg_tool_node node;
	struct pg_tcp_stack *s;
};

static struct tm_end tm_srv, tm_cli;
static struct pg_sim_wire *tm_wire;
static uint64_t tm_now;
static unsigned tm_accepted, tm_connected, tm_closed;

static int
tm_on_accept(struct pg_tcp_conn *c, void *ctx)
{
	tm_accepted++;
	return PG_OK;
}

static void
tm_on_connected(struct pg_tcp_conn *c)
{
	tm_connected++;
}

static int
tm_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	pg_mbuf_free(m);
	return PG_OK;
}

static void
tm_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	tm_closed++;
}

static const struct pg_tcp_callbacks tm_cb = {
	.on_accept = tm_on_accept,
	.on_connected = tm_on_connected,
	.on_data = tm_on_data,
	.on_close = tm_on_close,
};

static void
tm_die(const char *what, const char *why)
{
	fprintf(stderr, "pg-tcp-memory: %s: %s\n", what, why);
	exit(1);
}

/* Resident bytes of this process. */
static uint64_t
tm_rss(void)
{
	unsigned long size, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL || fscanf(f, "%lu %lu", &size, &rss) != 2)
		tm_die("/proc/self/statm", "cannot read it");
	fclose(f);
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
tm_end_init(struct tm_end *e, uint32_t addr, uint32_t peer, unsigned side,
	    struct rte_mempool *pool)
{
	struct pg_tcp_conf conf;
	const char *err = "?";

	pg_tool_node_init(&e->node, addr, peer,
			  pg_sim_wire_end(tm_wire, side, (uint16_t)(side + 1)),
			  pool);
	e->node.nif.holder = (uint16_t)(side + 1);
	e->node.nif.now_ns = tm_now;
	pg_tcp_conf_default(&conf);
	e->s = pg_tcp_stack_create(&e->node.nif, &conf, NULL, &err);
	if (e->s == NULL)
		tm_die("pg_tcp_stack_create", err);
}

/* One pass of one end's loop at the virtual time. */
static unsigned
tm_poll(struct tm_end *e)
{
	struct rte_mbuf *pkts[PG_BURST];
	e->node.nif.now_ns = tm_now;
	uint16_t n = pg_driver_rx(e->node.nif.drv, pkts, PG_BURST);
	for (uint16_t i = 0; i < n; i++)
		pg_eth_input(&e->node.nif, pkts[i]);
	pg_tcp_stack_poll(e->s);
	pg_netif_flush(&e->node.nif);
	return n;
}

/* Run both ends until the wire is empty, then for ms more. */
static void
tm_settle(unsigned ms)
{
	uint64_t until = tm_now + (uint64_t)ms * 1000000;
	for (;;) {
		pg_sim_wire_set_time(tm_wire, tm_now);
		unsigned got = tm_poll(&tm_srv) + tm_poll(&tm_cli);
		if (got == 0 && pg_sim_wire_in_flight(tm_wire) == 0) {
			if (tm_now >= until)
				return;
			tm_now += 1000000;
		} else {
			tm_now += 1000;
		}
	}
}

/* Allocate every mbuf once so that the pool's pages are resident. */
static void
tm_touch_pool(struct rte_mempool *pool)
{
	struct rte_mbuf **all = calloc(TM_MBUFS, sizeof(*all));
	unsigned n = 0;
	if (all == NULL)
		tm_die("calloc", "out of memory");
	while (n < TM_MBUFS && (all[n] = pg_mbuf_alloc(pool, 0)) != NULL) {
		memset(rte_pktmbuf_mtod(all[n], void *), 0,
		       rte_pktmbuf_tailroom(all[n]));
		n++;
	}
	while (n > 0)
		pg_mbuf_free(all[--n]);
	free(all);
}

static void
tm_open(unsigned n)
{
	const char *err = "?";
	for (unsigned done = 0; done < n;) {
		for (unsigned k = 0; k < TM_BATCH && done < n; k++, done++)
			if (pg_tcp_connect(tm_cli.s, TM_SERVER,
					   (uint16_t)(80 + done % TM_PORTS),
					   &tm_cb, NULL, NULL, &err) == NULL)
				tm_die("pg_tcp_connect", err);
		tm_settle(1);
	}
	tm_settle(1000);      /* delayed ACKs, nothing else pending */
}

int
main(int argc, char **argv)
{
	const char *err = "?";
	if (argc < 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: pg-tcp-memory N [--header]\n");
		return 2;
	}
	unsigned n = (unsigned)atoi(argv[1]);
	if (argc > 2 && strcmp(argv[2], "--header") == 0)
		printf("%9s %10s %12s %12s %12s %10s %14s\n", "conns",
		       "sizeof", "stack B/conn", "(client)", "RSS B/conn",
		       "mbufs held", "conns per GiB");

	pg_tool_eal("pg-tcp-memory", 256);
	struct rte_mempool *pool = pg_mbuf_pool_create("tm_pool", TM_MBUFS, 0);
	struct pg_sim_conf wc = { .queue_max = 4 * TM_BATCH, .seed = 1 };
	if (pool == NULL)
		tm_die("pg_mbuf_pool_create", "cannot create the pool");
	tm_wire = pg_sim_wire_create(&wc, pool);
	if (tm_wire == NULL)
		tm_die("pg_sim_wire_create", "out of memory");
	tm_now = 1000000000ull;
	tm_end_init(&tm_srv, TM_SERVER, TM_CLIENT, 0, pool);
	tm_end_init(&tm_cli, TM_CLIENT, TM_SERVER, 1, pool);
	for (unsigned p = 0; p < TM_PORTS; p++)
		if (pg_tcp_listen(tm_srv.s, (uint16_t)(80 + p), &tm_cb, NULL,
				  NULL, &err) == NULL)
			tm_die("pg_tcp_listen", err);
	tm_touch_pool(pool);

	unsigned free0 = rte_mempool_avail_count(pool);
	uint64_t rss0 = tm_rss();
	uint64_t srv0 = pg_tcp_stack_memory(tm_srv.s);
	uint64_t cli0 = pg_tcp_stack_memory(tm_cli.s);

	tm_open(n);
	if (tm_accepted != n || tm_connected != n || tm_closed != 0
	    || pg_tcp_stack_conns(tm_srv.s) != n) {
		fprintf(stderr, "pg-tcp-memory: %u connects: %u accepted, %u "
			"connected, %u closed, %u server conns\n", n,
			tm_accepted, tm_connected, tm_closed,
			pg_tcp_stack_conns(tm_srv.s));
		return 1;
	}

	double srv = (double)(pg_tcp_stack_memory(tm_srv.s) - srv0) / n;
	double cli = (double)(pg_tcp_stack_memory(tm_cli.s) - cli0) / n;
	unsigned held = free0 - rte_mempool_avail_count(pool);
	double rss = ((double)(tm_rss() - rss0)
		      + (double)held * pool->elt_size) / (2.0 * n);
	double worst = rss > srv ? rss : srv;
	printf("%9u %10zu %12.0f %12.0f %12.0f %10u %14.0f\n", n,
	       sizeof(struct pg_tcp_conn), srv, cli, rss, held,
	       worst > 0 ? TM_GIB / worst : 0.0);

	pg_tcp_stack_destroy(tm_cli.s);
	pg_tcp_stack_destroy(tm_srv.s);
	pg_netif_close(&tm_cli.node.nif);
	pg_netif_close(&tm_srv.node.nif);
	pg_sim_wire_destroy(tm_wire);
	return 0;
}
