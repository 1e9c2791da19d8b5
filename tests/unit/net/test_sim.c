/*
 * The simulated wire: delay and bandwidth follow the virtual clock, a
 * clean wire keeps order, faults follow their rates and the seed, every
 * frame is accounted for, and nothing leaks.
 */
#include "tests/unit/pg_test.h"

#include "net/pg_driver_sim.h"

#define US 1000ull
#define MS 1000000ull

static void
send_numbered(struct pg_driver *d, uint32_t first, unsigned n, unsigned size)
{
	uint8_t buf[1500] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = first + i;
		memcpy(buf, &v, sizeof(v));
		struct rte_mbuf *m = pg_test_frame(buf, size);
		assert_int_equal(pg_driver_tx(d, &m, 1), 1);
	}
}

/* Receive everything due now into out (numbers); returns how many. */
static unsigned
drain(struct pg_driver *d, uint32_t *out, unsigned max)
{
	struct rte_mbuf *pkts[PG_BURST];
	unsigned k = 0;
	uint16_t n;
	while ((n = pg_driver_rx(d, pkts, PG_BURST)) > 0)
		for (uint16_t i = 0; i < n; i++) {
			assert_true(k < max);
			out[k++] = *rte_pktmbuf_mtod(pkts[i], uint32_t *);
			pg_mbuf_free(pkts[i]);
		}
	return k;
}

static void
test_clean_wire_delay_bandwidth_order(void **state)
{
	struct pg_sim_conf c = { .delay_ns = 10 * US,
				 .bandwidth_bps = 1000000000ull, .seed = 1 };
	struct pg_sim_wire *w = pg_sim_wire_create(&c, pg_test_pool);
	struct pg_driver *a = pg_sim_wire_end(w, 0, 1);
	struct pg_driver *b = pg_sim_wire_end(w, 1, 2);
	uint32_t got[100];

	/* 10 frames of 1250 bytes at 1 Gb/s: 10 us each on the wire. */
	send_numbered(a, 0, 10, 1250);
	pg_sim_wire_set_time(w, 19 * US);
	assert_int_equal(drain(b, got, 100), 0);
	pg_sim_wire_set_time(w, 20 * US);
	assert_int_equal(drain(b, got, 100), 1);
	pg_sim_wire_set_time(w, 110 * US);
	assert_int_equal(drain(b, got + 1, 99), 9);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(got[i], i);
	/* Nothing went the other way. */
	assert_int_equal(drain(a, got, 100), 0);
	assert_int_equal(pg_sim_wire_next_event(w), UINT64_MAX);
	pg_sim_wire_destroy(w);
	pg_test_assert_no_leak();
}

static unsigned
faulty_run(uint64_t seed, uint32_t *got, const struct pg_sim_stats **st,
	   struct pg_sim_wire **wp)
{
	struct pg_sim_conf c = { .loss = 0.05, .duplicate = 0.03,
				 .corrupt = 0.02, .reorder = 0.1,
				 .delay_ns = 50 * US, .jitter_ns = 200 * US,
				 .queue_max = 4096, .seed = seed };
	struct pg_sim_wire *w = pg_sim_wire_create(&c, pg_test_pool);
	struct pg_driver *a = pg_sim_wire_end(w, 0, 1);
	struct pg_driver *b = pg_sim_wire_end(w, 1, 2);
	unsigned n = 0;
	for (uint32_t i = 0; i < 2000; i++) {
		send_numbered(a, i, 1, 64);
		pg_sim_wire_set_time(w, (i + 1) * 10 * US);
		n += drain(b, got + n, 4000 - n);
	}
	pg_sim_wire_set_time(w, pg_sim_wire_next_event(w) + MS);
	n += drain(b, got + n, 4000 - n);
	assert_int_equal(pg_sim_wire_in_flight(w), 0);
	*st = pg_sim_wire_stats(w, 0);
	*wp = w;
	return n;
}

static void
test_faults_accounted_and_seeded(void **state)
{
	static uint32_t g1[4000], g2[4000];
	const struct pg_sim_stats *st;
	struct pg_sim_wire *w1, *w2;

	unsigned n1 = faulty_run(9, g1, &st, &w1);
	assert_int_equal(st->sent, 2000);
	assert_int_equal(n1, st->sent - st->lost - st->overflow
			     + st->duplicated);
	assert_int_equal(st->delivered, n1);
	assert_in_range(st->lost, 60, 140);
	assert_in_range(st->duplicated, 30, 90);
	assert_in_range(st->corrupted, 15, 65);
	unsigned inversions = 0;
	for (unsigned i = 1; i < n1; i++)
		inversions += g1[i] < g1[i - 1];
	assert_true(inversions > 0);

	unsigned n2 = faulty_run(9, g2, &st, &w2);
	assert_int_equal(n1, n2);
	assert_memory_equal(g1, g2, n1 * sizeof(g1[0]));
	pg_sim_wire_destroy(w1);
	pg_sim_wire_destroy(w2);
	pg_test_assert_no_leak();
}

static void
test_overflow_and_destroy_in_flight(void **state)
{
	struct pg_sim_conf c = { .delay_ns = MS, .queue_max = 16, .seed = 3 };
	struct pg_sim_wire *w = pg_sim_wire_create(&c, pg_test_pool);
	struct pg_driver *a = pg_sim_wire_end(w, 0, 1);
	send_numbered(a, 0, 20, 64);
	assert_int_equal(pg_sim_wire_stats(w, 0)->overflow, 4);
	assert_int_equal(pg_sim_wire_in_flight(w), 16);
	pg_sim_wire_destroy(w);
	pg_test_assert_no_leak();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_wire_delay_bandwidth_order),
		cmocka_unit_test(test_faults_accounted_and_seeded),
		cmocka_unit_test(test_overflow_and_destroy_in_flight),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("simulated wire", tests, NULL, NULL);
}
