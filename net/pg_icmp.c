/*
 * ICMP: answer echo requests (RFC 792, RFC 1122 3.2.2.6); count the rest.
 */
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "net/pg_netif.h"

void
pg_icmp_input(struct pg_netif *nif, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	unsigned hlen = rte_ipv4_hdr_len(ip);
	unsigned len = m->pkt_len - hlen;

	if (len < sizeof(struct rte_icmp_hdr) || m->nb_segs != 1)
		return pg_netif_drop(nif, m, PG_DROP_icmp_short);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((char *)ip + hlen);
	if (rte_raw_cksum(ic, len) != 0xffff)
		return pg_netif_drop(nif, m, PG_DROP_icmp_csum);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0)
		return pg_netif_drop(nif, m, PG_DROP_icmp_type);

	/* Reply in place; type 8 -> 0 changes the sum by 0x0800 (RFC 1624). */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	uint32_t sum = (uint32_t)ic->icmp_cksum + RTE_BE16(0x0800);
	ic->icmp_cksum = (uint16_t)((sum & 0xffff) + (sum >> 16));

	ip->dst_addr = ip->src_addr;
	ip->src_addr = nif->addr;
	ip->time_to_live = 64;
	/* Options of the request are not echoed back. */
	if (hlen > sizeof(*ip)) {
		/* Shift the header forward over the options. */
		struct rte_ipv4_hdr hdr = *ip;
		hdr.version_ihl = RTE_IPV4_VHL_DEF;
		hdr.total_length = rte_cpu_to_be_16(sizeof(hdr) + len);
		ip = (struct rte_ipv4_hdr *)rte_pktmbuf_adj(m, hlen - sizeof(hdr));
		*ip = hdr;
	}
	PG_STAT_INC(nif->stats, icmp_echo);
	pg_ip_output(nif, m);
}
