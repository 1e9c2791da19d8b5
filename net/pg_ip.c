/*
 * IPv4 (RFC 791, RFC 1122 host requirements): validate, steer, dispatch;
 * route and resolve on the way out. Fragments are dropped and counted.
 */
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "net/pg_netif.h"
#include "net/pg_steer.h"

static int
pg_ip_martian(const struct pg_netif *nif, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);
	return src == nif->addr || h == 0 || h == 0xffffffff
	       || (h >> 24) == 127 || (h >> 28) == 0xe
	       || (src | nif->mask) == 0xffffffff;
}

/* Hand a packet to the worker owning its flow (PG_OK), or PG_DECLINED. */
static int
pg_ip_steer(struct pg_netif *nif, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t proto = ip->next_proto_id;
	unsigned hlen = rte_ipv4_hdr_len(ip);

	if (nif->nworkers <= 1 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
	    || m->data_len < hlen + 4)
		return PG_DECLINED;
	const uint16_t *ports = (const uint16_t *)((char *)ip + hlen);
	unsigned owner = pg_steer_owner(ip->src_addr, ip->dst_addr, ports[0],
					ports[1], nif->nworkers);
	if (owner == nif->worker)
		return PG_DECLINED;
	pg_steer_handoff(nif, m, owner);
	return PG_OK;
}

void
pg_ip_input(struct pg_netif *nif, struct rte_mbuf *m)
{
	if (m->data_len < sizeof(struct rte_ipv4_hdr))
		return pg_netif_drop(nif, m, PG_DROP_ip_short);

	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	unsigned hlen = rte_ipv4_hdr_len(ip);
	unsigned tlen = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4)
		return pg_netif_drop(nif, m, PG_DROP_ip_version);
	if (hlen < sizeof(*ip))
		return pg_netif_drop(nif, m, PG_DROP_ip_ihl);
	if (hlen > m->data_len || tlen < hlen || tlen > m->pkt_len)
		return pg_netif_drop(nif, m, PG_DROP_ip_len);

	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD
	    || (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD
		&& rte_raw_cksum(ip, hlen) != 0xffff))
		return pg_netif_drop(nif, m, PG_DROP_ip_csum);
	if (pg_ip_martian(nif, ip->src_addr))
		return pg_netif_drop(nif, m, PG_DROP_ip_martian);
	if (ip->dst_addr != nif->addr)
		return pg_netif_drop(nif, m, PG_DROP_ip_not_ours);
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG
					   | RTE_IPV4_HDR_OFFSET_MASK))
		return pg_netif_drop(nif, m, PG_DROP_ip_frag);

	/* Ethernet padding past the IP datagram is not payload. */
	if (tlen < m->pkt_len)
		rte_pktmbuf_trim(m, m->pkt_len - tlen);
	if (pg_ip_steer(nif, m) != PG_OK)
		pg_ip_dispatch(nif, m);
}

void
pg_ip_dispatch(struct pg_netif *nif, struct rte_mbuf *m)
{
	uint8_t proto = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)->next_proto_id;

	if (proto == IPPROTO_ICMP)
		return pg_icmp_input(nif, m);
	if (nif->l4_input[proto] != NULL)
		return nif->l4_input[proto](nif, m);
	pg_netif_drop(nif, m, PG_DROP_ip_proto);
}

void
pg_ip_output(struct pg_netif *nif, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t hop = ip->dst_addr;
	struct rte_ether_addr mac;

	if ((hop & nif->mask) != (nif->addr & nif->mask)) {
		if (nif->gateway == 0)
			return pg_netif_drop(nif, m, PG_DROP_no_route);
		hop = nif->gateway;
	}
	if (!pg_neigh_lookup(nif->neigh, hop, &mac)) {
		pg_arp_request(nif, hop);
		return pg_netif_drop(nif, m, PG_DROP_no_route);
	}
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	pg_eth_output(nif, m, &mac, RTE_ETHER_TYPE_IPV4);
}

/* --- checksums ------------------------------------------------------------ */

/*
 * The sum of len bytes of the chain m from off, folded to 16 bits. Each
 * segment's sum is folded before a segment that starts at an odd offset
 * is byte-swapped into place.
 */
static uint32_t
pg_ip_chain_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint32_t sum = 0, done = 0;

	for (; m != NULL && done < len; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		uint16_t s = (uint16_t)__rte_raw_cksum_reduce(__rte_raw_cksum(
			rte_pktmbuf_mtod_offset(m, const char *, off), n, 0));
		sum += (done & 1) ? rte_bswap16(s) : s;
		done += n;
		off = 0;
	}
	return done == len ? sum : UINT32_MAX;
}

uint16_t
pg_ip_l4_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
	     uint32_t l4_off)
{
	uint32_t len = rte_be_to_cpu_16(ip->total_length);
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t sum;

	if (len < hlen || (sum = pg_ip_chain_sum(m, l4_off, len - hlen))
	    == UINT32_MAX)
		return 0;
	return (uint16_t)__rte_raw_cksum_reduce(sum
						+ rte_ipv4_phdr_cksum(ip, 0));
}
