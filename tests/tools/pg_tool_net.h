/*
 * What the fuzzers and benchmark tools share to run the stack without a
 * device: an EAL that touches no hugepage and no PCI device, and a "node"
 * (a netif with its counters and a neighbour table that already knows the
 * peer) over whatever driver the tool brings. Header-only: each tool is
 * one program.
 */
#ifndef PG_TOOL_NET_H
#define PG_TOOL_NET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "core/pg_stats.h"
#include "net/pg_neigh.h"
#include "net/pg_netif.h"

static char pg_tool_prefix[64];

/* EAL keeps a runtime directory even with --no-shconf: remove it. */
static void
pg_tool_eal_cleanup(void)
{
	char dir[128];
	rte_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", pg_tool_prefix);
	rmdir(dir);
}

/*
 * Start the EAL once for this process with mem_mb of ordinary memory and
 * the virtual device vdev (NULL: none); the file prefix is name-pid so
 * that parallel runs never meet. Exits on failure (tools only).
 */
static inline void
pg_tool_eal_args(const char *name, unsigned mem_mb, const char *vdev)
{
	char prefix[96], mem[16], dev[512];
	snprintf(pg_tool_prefix, sizeof(pg_tool_prefix), "%s-%d", name,
		 (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", pg_tool_prefix);
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(dev, sizeof(dev), "--vdev=%s", vdev != NULL ? vdev : "");
	char *argv[] = { (char *)name, "--no-huge", "--no-shconf", "--no-pci",
			 "--no-telemetry", prefix, "-m", mem, "-l", "0",
			 "--log-level=4", vdev != NULL ? dev : NULL, NULL };
	int argc = (int)PG_ARRAY_SIZE(argv) - (vdev != NULL ? 1 : 2);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed (run as root?)\n",
			name);
		exit(1);
	}
	atexit(pg_tool_eal_cleanup);
}

/* pg_tool_eal_args without a device. */
static inline void
pg_tool_eal(const char *name, unsigned mem_mb)
{
	pg_tool_eal_args(name, mem_mb, NULL);
}

/* The MAC pg_tool_node_init gives to addr: 02:00:00:00:00:<last byte>. */
static inline struct rte_ether_addr
pg_tool_mac(uint32_t addr)
{
	struct rte_ether_addr mac = {{ 0x02, 0, 0, 0, 0,
				       (uint8_t)rte_be_to_cpu_32(addr) }};
	return mac;
}

/* One end of a link: a worker's netif over drv. */
struct pg_tool_node {
	struct pg_netif nif;
	struct pg_stats stats;
	struct pg_neigh_table *neigh;
};

/*
 * A /24 node at addr (network order) with MAC pg_tool_mac(addr), whose
 * neighbour table knows peer (network order) already.
 */
static inline void
pg_tool_node_init(struct pg_tool_node *n, uint32_t addr, uint32_t peer,
		  struct pg_driver *drv, struct rte_mempool *pool)
{
	struct rte_ether_addr mac = pg_tool_mac(addr);
	struct rte_ether_addr pmac = pg_tool_mac(peer);

	memset(&n->stats, 0, sizeof(n->stats));
	if (n->neigh == NULL)
		n->neigh = calloc(1, pg_neigh_table_size());
	if (n->neigh == NULL) {
		fprintf(stderr, "pg_tool_node_init: out of memory\n");
		exit(1);
	}
	pg_neigh_init(n->neigh);
	pg_netif_init(&n->nif, 0, 1, &mac, addr, 24, 0, 1500);
	memset(n->nif.l4_input, 0, sizeof(n->nif.l4_input));
	n->nif.drv = drv;
	n->nif.pool = pool;
	n->nif.stats = &n->stats;
	n->nif.neigh = n->neigh;
	pg_neigh_update(n->neigh, peer, &pmac, n->nif.now_ns, 1, 0);
}

#endif
