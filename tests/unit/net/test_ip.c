/*
 * IPv4 helpers: the TCP/UDP checksum over an mbuf chain, whatever the
 * lengths of its segments (odd ones included), equals the checksum of the
 * same bytes in one piece.
 */
#include "tests/unit/pg_test.h"

#include <rte_tcp.h>

#define NBYTES 600

/* The packet: an IPv4 and a TCP header, then payload bytes. */
static unsigned
build(uint8_t *pkt, unsigned payload)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	unsigned len = sizeof(*ip) + sizeof(*th) + payload;

	memset(pkt, 0, sizeof(*ip) + sizeof(*th));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = RTE_BE32(RTE_IPV4(198, 18, 0, 2));
	ip->dst_addr = RTE_BE32(RTE_IPV4(198, 18, 0, 1));
	th->src_port = RTE_BE16(8080);
	th->dst_port = RTE_BE16(40000);
	th->data_off = (sizeof(*th) / 4) << 4;
	for (unsigned i = 0; i < payload; i++)
		pkt[sizeof(*ip) + sizeof(*th) + i] = (uint8_t)(0xff - i * 7);
	return len;
}

/* The checksum of the flat packet, the reference. */
static uint16_t
flat_sum(const uint8_t *pkt, unsigned len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)pkt;
	uint32_t s = rte_raw_cksum(ip + 1, len - sizeof(*ip))
		     + rte_ipv4_phdr_cksum(ip, 0);
	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* pkt cut into segments of the given lengths (the last takes the rest). */
static struct rte_mbuf *
chain(const uint8_t *pkt, unsigned len, const unsigned *cuts, unsigned ncuts)
{
	struct rte_mbuf *head = NULL;
	unsigned off = 0;

	for (unsigned i = 0; i <= ncuts && off < len; i++) {
		unsigned n = i < ncuts ? cuts[i] : len - off;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pg_test_pool);
		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), pkt + off, n);
		off += n;
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static void
test_l4_sum_of_chains(void **state)
{
	static const unsigned cuts[][4] = {
		{ 40 },                    /* headers, payload */
		{ 40, 117 },               /* an odd head, then its body */
		{ 40, 117, 51 },           /* two odd pieces */
		{ 40, 1, 1, 3 },
		{ 41, 200 },               /* odd inside the header */
		{ 40, 2, 300 },
	};
	static uint8_t pkt[NBYTES];
	(void)state;

	for (unsigned payload = 0; payload < NBYTES - 40; payload += 37) {
		unsigned len = build(pkt, payload);
		uint16_t want = flat_sum(pkt, len);
		for (unsigned c = 0; c < PG_ARRAY_SIZE(cuts); c++) {
			unsigned n = 0;
			while (n < 4 && cuts[c][n] != 0)
				n++;
			struct rte_mbuf *m = chain(pkt, len, cuts[c], n);
			const struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
			uint16_t got = pg_ip_l4_sum(m, ip, sizeof(*ip));
			if (got != want)
				fail_msg("payload %u, cuts #%u: sum %#x, flat %#x",
					 payload, c, got, want);
			rte_pktmbuf_free(m);
		}
	}
}

/* A received packet whose checksum is right sums to 0xffff; one bit off
 * does not. */
static void
test_l4_sum_verifies(void **state)
{
	static uint8_t pkt[NBYTES];
	static const unsigned cuts[] = { 40, 117, 51 };
	unsigned len = build(pkt, 300);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(pkt + 20);
	(void)state;

	th->cksum = (uint16_t)~flat_sum(pkt, len);
	struct rte_mbuf *m = chain(pkt, len, cuts, 3);
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	assert_int_equal(pg_ip_l4_sum(m, ip, sizeof(*ip)), 0xffff);
	rte_pktmbuf_free(m);
	pkt[200] ^= 1;
	m = chain(pkt, len, cuts, 3);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	assert_int_not_equal(pg_ip_l4_sum(m, ip, sizeof(*ip)), 0xffff);
	rte_pktmbuf_free(m);
}

int
main(void)
{
	pg_test_eal();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l4_sum_of_chains),
		cmocka_unit_test(test_l4_sum_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
