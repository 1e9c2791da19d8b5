/*
 * A worker's view of the network interface: its addresses, its driver,
 * its transmit batch, the shared neighbour table and the steering rings.
 * Everything here is per worker; nothing is shared but what the pointers
 * lead to.
 *
 * Receive path (all functions consume the mbuf they are given):
 *   pg_netif_poll -> pg_eth_input -> pg_arp_input
 *                                 -> pg_ip_input -> pg_steer_handoff
 *                                                -> pg_ip_dispatch
 *                 -> pg_steer_drain -> pg_ip_dispatch -> pg_icmp_input
 *                                                     -> l4_input[proto]
 * Transmit path:
 *   pg_ip_output -> pg_eth_output -> pg_netif_tx -> pg_netif_flush
 */
#ifndef PG_NETIF_H
#define PG_NETIF_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/pg_core.h"
#include "core/pg_stats.h"
#include "net/pg_driver.h"
#include "net/pg_mbuf.h"
#include "net/pg_neigh.h"

#define PG_BURST          32
#define PG_ARP_RETRY_NS   (100ull * 1000 * 1000)

struct pg_netif;
struct pg_tcp_stack;

/* A transport's input: m's data starts at the IPv4 header (consumed). */
typedef void (*pg_l4_input_fn)(struct pg_netif *nif, struct rte_mbuf *m);

struct pg_netif {
	unsigned worker;              /* this worker's index */
	unsigned nworkers;
	uint16_t holder;              /* mbuf tag: worker + 1 */

	struct rte_ether_addr mac;
	uint32_t addr;                /* network order */
	uint32_t mask;                /* network order */
	uint32_t gateway;             /* network order, 0: none */
	unsigned mtu;

	struct pg_driver *drv;
	struct rte_mempool *pool;
	struct pg_stats *stats;
	struct pg_neigh_table *neigh;
	struct rte_ring **steer;      /* steer[w]: inbound ring of worker w */

	pg_l4_input_fn l4_input[256];
	struct pg_tcp_stack *tcp;     /* this worker's TCP, if any */
	int tx_csum;                  /* the port computes TCP/IPv4 checksums */

	uint64_t now_ns;              /* loop time, refreshed by pg_netif_poll */
	int sim_clock;                /* simulations: the caller sets now_ns */
	uint64_t arp_sent_ns;
	uint32_t arp_sent_ip;

	uint16_t tx_len;
	struct rte_mbuf *tx[PG_BURST];
};

/* Fill the address fields from the configuration values. */
void pg_netif_init(struct pg_netif *nif, unsigned worker, unsigned nworkers,
		   const struct rte_ether_addr *mac, uint32_t addr,
		   unsigned prefix, uint32_t gateway, unsigned mtu);

/*
 * One pass of the worker loop's network part: a receive burst, the
 * steering ring, then the transmit flush. Returns how many frames it
 * handled (0 lets the caller back off).
 */
unsigned pg_netif_poll(struct pg_netif *nif);

/* Queue a finished frame for transmission (consumes m). */
void pg_netif_tx(struct pg_netif *nif, struct rte_mbuf *m);

/* Push the transmit batch to the driver; what it refuses is dropped. */
void pg_netif_flush(struct pg_netif *nif);

/* Free everything the netif still holds (the transmit batch). */
void pg_netif_close(struct pg_netif *nif);

/* --- layers (each consumes m) -------------------------------------------- */

void pg_eth_input(struct pg_netif *nif, struct rte_mbuf *m);
/* Prepend an Ethernet header and transmit. */
void pg_eth_output(struct pg_netif *nif, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);

/* m's data starts at the ARP header. */
void pg_arp_input(struct pg_netif *nif, struct rte_mbuf *m);
/* Broadcast a request for ip (announce: a gratuitous ARP when ip is ours). */
void pg_arp_request(struct pg_netif *nif, uint32_t ip);

/* m's data starts at the IPv4 header. */
void pg_ip_input(struct pg_netif *nif, struct rte_mbuf *m);
/*
 * Send m, whose data starts at a complete IPv4 header (checksum filled in
 * here), to its destination through the neighbour table.
 */
void pg_ip_output(struct pg_netif *nif, struct rte_mbuf *m);

/*
 * The one's-complement sum of the pseudo header and the TCP/UDP bytes of
 * the IPv4 packet m, whose data starts at ip, the L4 header at l4_off,
 * over the whole chain: ~sum is the checksum to send (field 0), 0xffff
 * says a received packet is intact. (DPDK 22.11's rte_raw_cksum_mbuf,
 * under rte_ipv4_udptcp_cksum_mbuf, drops the carries of a segment that
 * starts at an odd offset: a response head of odd length with more data
 * behind it in one TCP segment.) 0 when the packet is shorter than ip says.
 */
uint16_t pg_ip_l4_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		      uint32_t l4_off);

/* Hand a validated IPv4 packet this worker owns to its protocol's input. */
void pg_ip_dispatch(struct pg_netif *nif, struct rte_mbuf *m);

/* m's data starts at the IPv4 header; the header is valid. */
void pg_icmp_input(struct pg_netif *nif, struct rte_mbuf *m);

/* Drop m, counting reason (an enum pg_drop). */
static inline void
pg_netif_drop(struct pg_netif *nif, struct rte_mbuf *m, enum pg_drop reason)
{
	nif->stats->drops[reason]++;
	pg_mbuf_free(m);
}

#endif
