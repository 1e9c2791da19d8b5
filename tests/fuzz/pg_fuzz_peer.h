/*
 * The emulated peer of fuzz_tcp: it writes IPv4+TCP frames to the stack
 * and reads every frame the stack sends, keeping per flow what a real
 * peer would know (the stack's ISS, highest sequence sent, last ACK and
 * timestamp) so that fuzzed offsets are relative to sane values and most
 * segments land in or near the window.
 *
 * Payload the peer makes is a pattern of its sequence number
 * (pg_fuzz_pattern): whatever the stack delivers in order can be checked
 * byte by byte, even after overlaps, duplicates and reordering. A flow
 * that received arbitrary bytes (raw segments) is "dirty" and not checked.
 */
#ifndef PG_FUZZ_PEER_H
#define PG_FUZZ_PEER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "net/pg_tcp_priv.h"
#include "tests/tools/pg_tool_net.h"

/* 198.18.0.2 and .1 (DPDK's RTE_IPV4 shifts 198 into the sign bit: UB) */
#define PG_FUZZ_US    RTE_BE32(0xc6120002u)   /* the stack */
#define PG_FUZZ_PEER  RTE_BE32(0xc6120001u)
#define PG_FUZZ_PORT  80
#define PG_FUZZ_FLOWS 8          /* 0-3 passive (peer ports), 4-7 active */
#define PG_FUZZ_OPT_MAX 40

/* A fuzz-found bug: say what and crash so that libFuzzer saves the input. */
#define pg_fuzz_bug(...)                                                    \
	do {                                                                \
		fprintf(stderr, "fuzz_tcp: BUG: " __VA_ARGS__);             \
		fputc('\n', stderr);                                        \
		abort();                                                    \
	} while (0)

struct pg_fuzz_flow {
	uint16_t lport, rport;       /* host order; lport 0: flow unused */
	uint32_t peer_nxt;           /* next sequence the peer sends */
	uint32_t peer_max;           /* highest sequence the peer ever sent */
	uint32_t peer_ts;            /* peer's timestamp clock */
	uint32_t stack_nxt;          /* highest sequence the stack sent */
	uint32_t stack_ack, stack_ts;
	uint8_t seen, acked, dirty, syns;
};

/* A segment the peer is to send. */
struct pg_fuzz_seg {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t opt[PG_FUZZ_OPT_MAX];
	uint8_t optlen;
	const uint8_t *data;         /* NULL: pg_fuzz_pattern */
	uint16_t plen;
	uint8_t bad_csum;
};

static inline uint8_t
pg_fuzz_pattern(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

/* --- options ------------------------------------------------------------- */

/* Append option bytes if they fit (pg_fuzz_opt_end pads to 4). */
static inline void
pg_fuzz_opt(struct pg_fuzz_seg *g, const uint8_t *o, unsigned n)
{
	if (g->optlen + n > PG_FUZZ_OPT_MAX)
		return;
	memcpy(g->opt + g->optlen, o, n);
	g->optlen = (uint8_t)(g->optlen + n);
}

static inline void
pg_fuzz_opt_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static inline void
pg_fuzz_opt_ts(struct pg_fuzz_seg *g, uint32_t tsval, uint32_t tsecr)
{
	uint8_t o[10] = { 8, 10 };
	pg_fuzz_opt_u32(o + 2, tsval);
	pg_fuzz_opt_u32(o + 6, tsecr);
	pg_fuzz_opt(g, o, sizeof(o));
}

static inline void
pg_fuzz_opt_sack(struct pg_fuzz_seg *g, uint32_t start, uint32_t end)
{
	uint8_t o[10] = { 5, 10 };
	pg_fuzz_opt_u32(o + 2, start);
	pg_fuzz_opt_u32(o + 6, end);
	pg_fuzz_opt(g, o, sizeof(o));
}

static inline void
pg_fuzz_opt_mss(struct pg_fuzz_seg *g, uint16_t mss)
{
	uint8_t o[4] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss };
	pg_fuzz_opt(g, o, sizeof(o));
}

static inline void
pg_fuzz_opt_ws(struct pg_fuzz_seg *g, uint8_t ws)
{
	uint8_t o[3] = { 3, 3, ws };
	pg_fuzz_opt(g, o, sizeof(o));
}

static inline void
pg_fuzz_opt_sack_perm(struct pg_fuzz_seg *g)
{
	static const uint8_t o[2] = { 4, 2 };
	pg_fuzz_opt(g, o, sizeof(o));
}

static inline void
pg_fuzz_opt_end(struct pg_fuzz_seg *g)
{
	static const uint8_t nop = 1;
	while (g->optlen % 4 != 0)
		pg_fuzz_opt(g, &nop, 1);
}

/* --- frames -------------------------------------------------------------- */

/*
 * An Ethernet frame from the peer to the stack around an IPv4 packet of
 * ip_len bytes; returns the IPv4 header (to fill in), NULL without mbufs.
 */
static inline struct rte_ipv4_hdr *
pg_fuzz_frame(struct pg_netif *nif, struct rte_mbuf **mp, uint16_t ip_len)
{
	struct rte_mbuf *m = pg_mbuf_alloc(nif->pool, nif->holder);
	if (m == NULL)
		return NULL;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)
		rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + ip_len));
	if (eh == NULL) {
		pg_mbuf_free(m);
		return NULL;
	}
	eh->dst_addr = nif->mac;
	eh->src_addr = pg_tool_mac(PG_FUZZ_PEER);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	*mp = m;
	return (struct rte_ipv4_hdr *)(eh + 1);
}

/* A TCP segment in a valid IPv4 packet; NULL without mbufs. */
static inline struct rte_mbuf *
pg_fuzz_segment(struct pg_netif *nif, const struct pg_fuzz_flow *f,
		const struct pg_fuzz_seg *g)
{
	struct rte_mbuf *m;
	uint16_t thl = (uint16_t)(sizeof(struct rte_tcp_hdr) + g->optlen);
	struct rte_ipv4_hdr *ip = pg_fuzz_frame(nif, &m, (uint16_t)
		(sizeof(*ip) + thl + g->plen));
	if (ip == NULL)
		return NULL;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + thl
						       + g->plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = PG_FUZZ_PEER;
	ip->dst_addr = PG_FUZZ_US;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(f->rport);
	th->dst_port = rte_cpu_to_be_16(f->lport);
	th->sent_seq = rte_cpu_to_be_32(g->seq);
	th->recv_ack = rte_cpu_to_be_32(g->ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = g->flags;
	th->rx_win = rte_cpu_to_be_16(g->win);
	th->cksum = 0;
	th->tcp_urp = 0;
	memcpy(th + 1, g->opt, g->optlen);
	uint8_t *p = (uint8_t *)(th + 1) + g->optlen;
	uint32_t dseq = g->seq + ((g->flags & PG_TCP_SYN) ? 1 : 0);
	for (uint16_t i = 0; i < g->plen; i++)
		p[i] = g->data != NULL ? g->data[i] : pg_fuzz_pattern(dseq + i);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	if (g->bad_csum)
		th->cksum ^= 0x5a5a;
	return m;
}

/* --- what the stack sends ------------------------------------------------ */

/* The tsval of a TCP timestamp option in opt[0..len), or 0 if none. */
static inline int
pg_fuzz_find_ts(const uint8_t *opt, unsigned len, uint32_t *tsval)
{
	for (unsigned i = 0; i < len;) {
		if (opt[i] == 0)
			break;
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			pg_fuzz_bug("malformed option list in an outgoing segment");
		if (opt[i] == 8 && opt[i + 1] == 10) {
			*tsval = rte_be_to_cpu_32(*(const unaligned_uint32_t *)
						  (opt + i + 2));
			return 1;
		}
		i += opt[i + 1];
	}
	return 0;
}

/*
 * The TCP checksum of the len bytes at off in m (a chain) is right,
 * summed over a flat copy: DPDK 22.11's rte_raw_cksum_mbuf is wrong for
 * chains with segments of odd length, and the stack's own sum is what is
 * checked.
 */
static inline int
pg_fuzz_csum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		uint32_t off, uint32_t len)
{
	static uint8_t flat[UINT16_MAX];
	const void *p = len <= sizeof(flat)
			? rte_pktmbuf_read(m, off, len, flat) : NULL;
	if (p == NULL)
		return 0;
	uint32_t sum = (uint32_t)rte_raw_cksum(p, len)
		       + rte_ipv4_phdr_cksum(ip, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline struct pg_fuzz_flow *
pg_fuzz_flow_of(struct pg_fuzz_flow *flows, uint16_t lport, uint16_t rport)
{
	for (unsigned i = 0; i < PG_FUZZ_FLOWS; i++)
		if (flows[i].lport == lport && flows[i].rport == rport)
			return &flows[i];
	return NULL;
}

/*
 * Read one frame the stack transmitted (borrowed): check that it is well
 * formed, and learn from it what the peer of its flow would.
 */
static inline void
pg_fuzz_observe(struct pg_fuzz_flow *flows, const struct rte_mbuf *m)
{
	uint8_t buf[sizeof(struct rte_ether_hdr) + 60 + 60];
	const struct rte_ether_hdr *eh = rte_pktmbuf_read(m, 0, sizeof(*eh), buf);
	if (eh == NULL)
		pg_fuzz_bug("transmitted a frame of %u bytes", m->pkt_len);
	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	uint32_t off = sizeof(*eh);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_read(m, off, sizeof(*ip), buf);
	if (ip == NULL || ip->next_proto_id != IPPROTO_TCP)
		return;
	struct rte_ipv4_hdr iph = *ip;
	unsigned ihl = rte_ipv4_hdr_len(&iph);
	unsigned tlen = rte_be_to_cpu_16(iph.total_length);
	if (tlen != m->pkt_len - off)
		pg_fuzz_bug("IPv4 total length %u in a frame of %u", tlen,
			    m->pkt_len);
	const struct rte_tcp_hdr *th = rte_pktmbuf_read(m, off + ihl, 60, buf);
	if (th == NULL)
		th = rte_pktmbuf_read(m, off + ihl, sizeof(*th), buf);
	if (th == NULL)
		pg_fuzz_bug("TCP segment shorter than its header");
	unsigned thl = (th->data_off >> 4) * 4u;
	if (thl < sizeof(*th) || ihl + thl > tlen)
		pg_fuzz_bug("TCP header length %u in a %u-byte packet", thl,
			    tlen);
	if (!pg_fuzz_csum_ok(m, &iph, off + ihl, tlen - ihl))
		pg_fuzz_bug("bad TCP checksum in a segment the stack sent");

	struct pg_fuzz_flow *f = pg_fuzz_flow_of(flows,
		rte_be_to_cpu_16(th->src_port), rte_be_to_cpu_16(th->dst_port));
	if (f == NULL)
		return;
	uint8_t flags = th->tcp_flags;
	uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	uint32_t ack = rte_be_to_cpu_32(th->recv_ack);
	uint32_t end = seq + (tlen - ihl - thl) + !!(flags & PG_TCP_SYN)
		       + !!(flags & PG_TCP_FIN);
	if (flags & PG_TCP_RST)
		return;
	if (!f->seen || SEQ_GT(end, f->stack_nxt))
		f->stack_nxt = end;
	f->seen = 1;
	pg_fuzz_find_ts((const uint8_t *)(th + 1), thl - sizeof(*th),
			&f->stack_ts);
	if (!(flags & PG_TCP_ACK))
		return;
	if (f->syns == 1 && !f->dirty && SEQ_GT(ack, f->peer_max))
		pg_fuzz_bug("ACK %u beyond anything the peer sent (%u)", ack,
			    f->peer_max);
	f->stack_ack = ack;
	f->acked = 1;
	if (SEQ_GT(ack, f->peer_nxt))
		f->peer_nxt = ack;
}

/* The peer sends g on f: remember how far its sequence went. */
static inline void
pg_fuzz_sent(struct pg_fuzz_flow *f, const struct pg_fuzz_seg *g)
{
	uint32_t end = g->seq + g->plen + !!(g->flags & PG_TCP_SYN)
		       + !!(g->flags & PG_TCP_FIN);
	if (g->bad_csum || (g->flags & PG_TCP_RST))
		return;
	/* A SYN (or SYN-ACK) starts a new incarnation of the flow. */
	if (g->flags & PG_TCP_SYN) {
		f->syns = (uint8_t)(f->syns < 255 ? f->syns + 1 : 255);
		f->peer_max = end;
		f->peer_nxt = end;
		return;
	}
	if (SEQ_GT(end, f->peer_max))
		f->peer_max = end;
	if (g->seq == f->peer_nxt)
		f->peer_nxt = end;
}

#endif
