/*
 * The fault-injection filter: decisions follow the seed, rates are
 * honoured, and every frame is accounted for (delivered, dropped or
 * duplicated), in both directions, with nothing leaked.
 */
#include "tests/unit/pg_test.h"

#define N 20000

static struct pg_fault_conf conf(double drop, double dup, double reorder,
				 uint64_t seed, int rx, int tx)
{
	struct pg_fault_conf c = { drop, dup, reorder, seed, rx, tx };
	return c;
}

/* Push N numbered frames through rx; record the numbers that come out. */
static unsigned
run_rx(const struct pg_fault_conf *c, struct pg_stats *st, uint32_t *out)
{
	struct pg_cap_driver cap;
	const char *err = NULL;
	unsigned nout = 0;

	pg_cap_init(&cap, 1);
	struct pg_driver *f = pg_driver_fault_open(&cap.base, c, pg_test_pool,
						   st, &err);
	assert_non_null(f);
	for (uint32_t i = 0; i < N; i++) {
		pg_cap_push(&cap, pg_test_frame(&i, sizeof(i)));
		if (cap.rx_tail - cap.rx_head < 64 && i + 1 < N)
			continue;
		struct rte_mbuf *pkts[PG_BURST];
		uint16_t n;
		/* The filter may hold one frame back: poll until it is out. */
		do {
			n = pg_driver_rx(f, pkts, PG_BURST);
			for (uint16_t k = 0; k < n; k++) {
				out[nout++] = *rte_pktmbuf_mtod(pkts[k],
								uint32_t *);
				pg_mbuf_free(pkts[k]);
			}
		} while (n != 0 || cap.rx_head != cap.rx_tail);
	}
	pg_driver_close(f);
	return nout;
}

static void
test_rates_and_conservation(void **state)
{
	static uint32_t out[2 * N];
	struct pg_fault_conf c = conf(0.05, 0.03, 0.04, 7, 1, 0);
	struct pg_stats st;
	memset(&st, 0, sizeof(st));

	unsigned nout = run_rx(&c, &st, out);
	uint64_t dropped = st.drops[PG_DROP_fault];
	assert_int_equal(nout, N - dropped + st.fault_dup);
	assert_in_range(dropped, N * 0.05 * 0.8, N * 0.05 * 1.2);
	assert_in_range(st.fault_dup, N * 0.03 * 0.8, N * 0.03 * 1.2);
	/* One frame is held at a time, so bursts reorder less than asked. */
	assert_in_range(st.fault_reorder, N * 0.04 * 0.5, N * 0.04 * 1.2);

	/* Reordering happened: some frame overtook an earlier one. */
	unsigned inversions = 0;
	for (unsigned i = 1; i < nout; i++)
		inversions += out[i] < out[i - 1];
	assert_true(inversions > 0);

	/* Nothing was invented: each number appears at most twice. */
	static uint8_t count[N];
	memset(count, 0, sizeof(count));
	for (unsigned i = 0; i < nout; i++) {
		assert_true(out[i] < N);
		assert_true(++count[out[i]] <= 2);
	}
	pg_test_assert_no_leak();
}

static void
test_same_seed_same_faults(void **state)
{
	static uint32_t a[2 * N], b[2 * N];
	struct pg_fault_conf c = conf(0.1, 0.1, 0.1, 42, 1, 0);
	struct pg_stats s1, s2;
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));

	unsigned na = run_rx(&c, &s1, a);
	unsigned nb = run_rx(&c, &s2, b);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));

	c.seed = 43;
	memset(&s2, 0, sizeof(s2));
	nb = run_rx(&c, &s2, b);
	assert_true(na != nb || memcmp(a, b, na * sizeof(a[0])) != 0);
	pg_test_assert_no_leak();
}

static void
test_tx_direction(void **state)
{
	struct pg_cap_driver cap;
	struct pg_stats st;
	const char *err = NULL;
	struct pg_fault_conf c = conf(0.2, 0.1, 0, 3, 0, 1);
	unsigned given = 0, captured = 0;

	memset(&st, 0, sizeof(st));
	pg_cap_init(&cap, 1);
	struct pg_driver *f = pg_driver_fault_open(&cap.base, &c, pg_test_pool,
						   &st, &err);
	assert_non_null(f);
	for (unsigned round = 0; round < 100; round++) {
		struct rte_mbuf *pkts[16];
		for (unsigned i = 0; i < 16; i++)
			pkts[i] = pg_test_frame(&given, sizeof(given));
		given += 16;
		/* The filter takes every frame it is given. */
		assert_int_equal(pg_driver_tx(f, pkts, 16), 16);
		captured += cap.ntx;
		pg_cap_clear(&cap);
	}
	assert_true(st.drops[PG_DROP_fault] > 0);
	assert_true(st.fault_dup > 0);
	assert_int_equal(captured, given - st.drops[PG_DROP_fault]
				   + st.fault_dup);
	pg_driver_close(f);
	pg_test_assert_no_leak();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_and_conservation),
		cmocka_unit_test(test_same_seed_same_faults),
		cmocka_unit_test(test_tx_direction),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("fault filter", tests, NULL, NULL);
}
