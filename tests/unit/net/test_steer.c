/*
 * Software flow steering: the owner is a pure function of the 4-tuple,
 * flows spread over the workers, and packets that arrive at the wrong
 * worker reach their owner through its ring, all of them, in order.
 */
#include "tests/unit/pg_test.h"

#include <rte_thash.h>
#include <rte_udp.h>

#include "net/pg_steer.h"

#define NW 3

static const struct rte_ether_addr our_mac = {{ 0x02, 0, 0, 0, 0, 2 }};
#define OUR_IP  RTE_BE32(RTE_IPV4(198, 18, 0, 2))
#define PEER_IP RTE_BE32(RTE_IPV4(198, 18, 0, 1))

struct world {
	struct pg_netif nif[NW];
	struct pg_cap_driver cap[NW];
	struct pg_stats stats[NW];
	struct rte_ring *rings[NW];
	void *neigh;
	/* what each worker's UDP input saw, in order */
	uint32_t seen[NW][4096];
	unsigned nseen[NW];
};

static struct world W;

static void
record_udp(struct pg_netif *nif, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t seq;
	memcpy(&seq, (uint8_t *)(ip + 1) + sizeof(struct rte_udp_hdr),
	       sizeof(seq));
	assert_true(W.nseen[nif->worker] < 4096);
	W.seen[nif->worker][W.nseen[nif->worker]++] = seq;
	pg_mbuf_free(m);
}

static int
setup(void **state)
{
	char name[32];
	pg_test_eal();
	memset(&W, 0, sizeof(W));
	W.neigh = calloc(1, pg_neigh_table_size());
	pg_neigh_init(W.neigh);
	for (unsigned i = 0; i < NW; i++) {
		snprintf(name, sizeof(name), "steer_test_%u", i);
		W.rings[i] = rte_ring_create(name, PG_STEER_RING, 0,
					     RING_F_SC_DEQ);
		assert_non_null(W.rings[i]);
	}
	for (unsigned i = 0; i < NW; i++) {
		struct pg_netif *nif = &W.nif[i];
		pg_netif_init(nif, i, NW, &our_mac, OUR_IP, 24, 0, 1500);
		pg_cap_init(&W.cap[i], nif->holder);
		nif->drv = &W.cap[i].base;
		nif->pool = pg_test_pool;
		nif->stats = &W.stats[i];
		nif->neigh = W.neigh;
		nif->steer = W.rings;
		nif->l4_input[IPPROTO_UDP] = record_udp;
	}
	*state = &W;
	return 0;
}

static int
teardown(void **state)
{
	for (unsigned i = 0; i < NW; i++) {
		pg_cap_clear(&W.cap[i]);
		rte_ring_free(W.rings[i]);
	}
	free(W.neigh);
	pg_test_assert_no_leak();
	return 0;
}

static struct rte_mbuf *
udp_frame(uint16_t sport, uint32_t seq)
{
	uint8_t b[14 + 20 + 8 + 4];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

	memset(b, 0, sizeof(b));
	eh->dst_addr = our_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 4);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = PEER_IP;
	ip->dst_addr = OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = RTE_BE16(80);
	uh->dgram_len = RTE_BE16(12);
	memcpy(uh + 1, &seq, sizeof(seq));
	return pg_test_frame(b, sizeof(b));
}

static unsigned
owner_of(uint16_t sport)
{
	return pg_steer_owner(PEER_IP, OUR_IP, rte_cpu_to_be_16(sport),
			      RTE_BE16(80), NW);
}

static void
test_owner_is_pure_and_spread(void **state)
{
	unsigned count[NW] = { 0 };
	for (unsigned p = 1024; p < 1024 + 3000; p++) {
		unsigned o = owner_of((uint16_t)p);
		assert_true(o < NW);
		assert_int_equal(o, owner_of((uint16_t)p));
		count[o]++;
	}
	/* Toeplitz over sequential ports: each worker gets a fair share. */
	for (unsigned i = 0; i < NW; i++)
		assert_in_range(count[i], 3000 / NW / 2, 3000 / NW * 2);
	/* One worker owns everything. */
	assert_int_equal(pg_steer_owner(PEER_IP, OUR_IP, 1, 2, 1), 0);
}

/* Known Toeplitz vector (Microsoft RSS verification suite, IPv4 TCP). */
static void
test_toeplitz_matches_nic(void **state)
{
	struct rte_ipv4_tuple t = {
		.src_addr = RTE_IPV4(66, 9, 149, 187),
		.dst_addr = RTE_IPV4(161, 142, 100, 80),
		.sport = 2794, .dport = 1766,
	};
	assert_int_equal(rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN,
				     pg_rss_key), 0x51ccc178);
}

/*
 * Every frame arrives at worker 0. Frames owned by others are handed over
 * and must all reach their owner, in their original order.
 */
static void
test_wrong_queue_reaches_owner_in_order(void **state)
{
	const unsigned n = 3000;
	unsigned expect[NW] = { 0 };
	for (uint32_t seq = 0; seq < n; seq++) {
		uint16_t sport = (uint16_t)(1024 + seq % 50);
		expect[owner_of(sport)]++;
		pg_cap_push(&W.cap[0], udp_frame(sport, seq));
		if (W.cap[0].rx_tail - W.cap[0].rx_head >= 200)
			for (unsigned i = 0; i < NW; i++)
				while (pg_netif_poll(&W.nif[i]) != 0)
					;
	}
	for (int round = 0; round < 3; round++)
		for (unsigned i = 0; i < NW; i++)
			while (pg_netif_poll(&W.nif[i]) != 0)
				;

	unsigned handed = 0, got = 0;
	for (unsigned i = 0; i < NW; i++) {
		assert_int_equal(W.nseen[i], expect[i]);
		got += W.nseen[i];
		if (i != 0)
			handed += W.stats[i].steer_in;
		/* Order per flow (and here overall) is preserved. */
		for (unsigned k = 1; k < W.nseen[i]; k++)
			assert_true(W.seen[i][k - 1] < W.seen[i][k]);
		for (unsigned d = 0; d < PG_DROP_MAX; d++)
			assert_int_equal(W.stats[i].drops[d], 0);
	}
	assert_int_equal(got, n);
	assert_int_equal(W.stats[0].steer_out, handed);
	assert_int_equal(handed, n - expect[0]);
}

static void
test_full_ring_drops_and_counts(void **state)
{
	/* Find a flow owned by worker 1, then overfill its ring. */
	uint16_t sport = 1024;
	while (owner_of(sport) != 1)
		sport++;
	unsigned sent = (PG_STEER_RING / PG_BURST + 4) * PG_BURST;
	for (unsigned k = 0; k < sent; k += PG_BURST) {
		for (unsigned j = 0; j < PG_BURST; j++)
			pg_cap_push(&W.cap[0], udp_frame(sport, k + j));
		pg_netif_poll(&W.nif[0]);
	}
	uint64_t full = W.stats[0].drops[PG_DROP_steer_full];
	assert_true(full > 0);
	while (pg_netif_poll(&W.nif[1]) != 0)
		;
	assert_int_equal(W.nseen[1] + full, sent);
	assert_int_equal(W.stats[0].steer_out, W.nseen[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_is_pure_and_spread),
		cmocka_unit_test(test_toeplitz_matches_nic),
		cmocka_unit_test_setup_teardown(test_wrong_queue_reaches_owner_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_drops_and_counts, setup, teardown),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("steering", tests, NULL, NULL);
}
