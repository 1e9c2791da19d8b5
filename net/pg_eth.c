/*
 * Ethernet: check the frame, dispatch on EtherType; prepend headers on the
 * way out.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>

#include "net/pg_netif.h"

void
pg_eth_input(struct pg_netif *nif, struct rte_mbuf *m)
{
	if (m->data_len < sizeof(struct rte_ether_hdr))
		return pg_netif_drop(nif, m, PG_DROP_eth_short);
	if (m->pkt_len > nif->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)
		return pg_netif_drop(nif, m, PG_DROP_eth_oversize);

	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (!rte_is_broadcast_ether_addr(&eh->dst_addr)
	    && !rte_is_same_ether_addr(&eh->dst_addr, &nif->mac))
		return pg_netif_drop(nif, m, PG_DROP_eth_not_ours);

	uint16_t type = eh->ether_type;
	rte_pktmbuf_adj(m, sizeof(*eh));
	switch (type) {
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return pg_arp_input(nif, m);
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		return pg_ip_input(nif, m);
	default:
		return pg_netif_drop(nif, m, PG_DROP_eth_type);
	}
}

void
pg_eth_output(struct pg_netif *nif, struct rte_mbuf *m,
	      const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)
		rte_pktmbuf_prepend(m, sizeof(*eh));
	if (eh == NULL)
		return pg_netif_drop(nif, m, PG_DROP_no_mbuf);
	eh->dst_addr = *dst;
	eh->src_addr = nif->mac;
	eh->ether_type = rte_cpu_to_be_16(ether_type);
	pg_netif_tx(nif, m);
}
