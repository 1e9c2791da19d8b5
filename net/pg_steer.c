#include <rte_byteorder.h>
#include <rte_thash.h>

#include "net/pg_steer.h"

/* The well-known Microsoft RSS key, which many PMDs use by default. */
const uint8_t pg_rss_key[PG_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

unsigned
pg_steer_owner(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
	       unsigned nworkers)
{
	if (nworkers <= 1)
		return 0;
	struct rte_ipv4_tuple t = {
		.src_addr = rte_be_to_cpu_32(saddr),
		.dst_addr = rte_be_to_cpu_32(daddr),
		.sport = rte_be_to_cpu_16(sport),
		.dport = rte_be_to_cpu_16(dport),
	};
	uint32_t h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN,
				 pg_rss_key);
	return (h % PG_RETA_SIZE) % nworkers;
}

void
pg_steer_handoff(struct pg_netif *nif, struct rte_mbuf *m, unsigned owner)
{
	/* In the ring the mbuf belongs to no worker (see pg_mbuf.h). */
	pg_mbuf_tag(m, 0);
	if (rte_ring_mp_enqueue(nif->steer[owner], m) != 0) {
		pg_netif_drop(nif, m, PG_DROP_steer_full);
		return;
	}
	PG_STAT_INC(nif->stats, steer_out);
}

unsigned
pg_steer_drain(struct pg_netif *nif)
{
	struct rte_mbuf *pkts[PG_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(nif->steer[nif->worker],
					       (void **)pkts, PG_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		pg_mbuf_tag(pkts[i], nif->holder);
		PG_STAT_INC(nif->stats, steer_in);
		/* The sender computed the owner: we are it. */
		pg_ip_dispatch(nif, pkts[i]);
	}
	return n;
}
