/*
 * ARP (RFC 826): answer requests for our address, learn from what is
 * addressed to us, refresh what we already know, and ask for next hops.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>

#include "net/pg_netif.h"

void
pg_arp_input(struct pg_netif *nif, struct rte_mbuf *m)
{
	PG_STAT_INC(nif->stats, arp_in);
	if (m->data_len < sizeof(struct rte_arp_hdr))
		return pg_netif_drop(nif, m, PG_DROP_arp_malformed);

	struct rte_arp_hdr *ah = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	struct rte_arp_ipv4 *a = &ah->arp_data;
	if (ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER)
	    || ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4)
	    || ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4
	    || !rte_is_unicast_ether_addr(&a->arp_sha))
		return pg_netif_drop(nif, m, PG_DROP_arp_malformed);

	int for_us = a->arp_tip == nif->addr;
	if (a->arp_sip != 0 && a->arp_sip != nif->addr)
		pg_neigh_update(nif->neigh, a->arp_sip, &a->arp_sha,
				nif->now_ns, for_us, nif->holder);
	if (!for_us || ah->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return for_us ? pg_mbuf_free(m)
			      : pg_netif_drop(nif, m, PG_DROP_arp_not_ours);

	/* Turn the request into the reply in place. */
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	a->arp_tha = a->arp_sha;
	a->arp_tip = a->arp_sip;
	a->arp_sha = nif->mac;
	a->arp_sip = nif->addr;
	rte_pktmbuf_trim(m, m->pkt_len - sizeof(*ah));
	PG_STAT_INC(nif->stats, arp_out);
	pg_eth_output(nif, m, &a->arp_tha, RTE_ETHER_TYPE_ARP);
}

void
pg_arp_request(struct pg_netif *nif, uint32_t ip)
{
	/* At most one request per destination per retry interval. */
	if (ip == nif->arp_sent_ip
	    && nif->now_ns - nif->arp_sent_ns < PG_ARP_RETRY_NS)
		return;

	struct rte_mbuf *m = pg_mbuf_alloc(nif->pool, nif->holder);
	if (m == NULL) {
		PG_DROP(nif->stats, no_mbuf);
		return;
	}
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)
		rte_pktmbuf_append(m, sizeof(*ah));
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = nif->mac;
	ah->arp_data.arp_sip = nif->addr;
	memset(&ah->arp_data.arp_tha, 0, sizeof(ah->arp_data.arp_tha));
	ah->arp_data.arp_tip = ip;

	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	nif->arp_sent_ip = ip;
	nif->arp_sent_ns = nif->now_ns;
	PG_STAT_INC(nif->stats, arp_out);
	pg_eth_output(nif, m, &bcast, RTE_ETHER_TYPE_ARP);
}
