/*
 * Ownership tags and reclaim: what a dead worker held goes back to the
 * pool, and nothing else is touched.
 */
#include "tests/unit/pg_test.h"

static void
test_reclaim_returns_only_the_dead_workers_mbufs(void **state)
{
	struct rte_mbuf *mine[100], *other[50];
	unsigned before = rte_mempool_avail_count(pg_test_pool);

	for (unsigned i = 0; i < 100; i++)
		mine[i] = pg_mbuf_alloc(pg_test_pool, 3);
	for (unsigned i = 0; i < 50; i++)
		other[i] = pg_mbuf_alloc(pg_test_pool, 4);
	/* A chain: every segment carries the tag. */
	struct rte_mbuf *head = pg_mbuf_alloc(pg_test_pool, 3);
	struct rte_mbuf *tail = pg_mbuf_alloc(pg_test_pool, 0);
	assert_int_equal(rte_pktmbuf_chain(head, tail), 0);
	pg_mbuf_tag(head, 3);
	assert_int_equal(pg_mbuf_priv(tail)->holder, 3);

	/* Worker 3 "dies" holding mine[] and the chain. */
	assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 3), 102);
	assert_int_equal(rte_mempool_avail_count(pg_test_pool), before - 50);
	assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 3), 0);

	for (unsigned i = 0; i < 50; i++) {
		assert_int_equal(pg_mbuf_priv(other[i])->holder, 4);
		pg_mbuf_free(other[i]);
	}
	assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 4), 0);
	pg_test_assert_no_leak();
	(void)mine;
}

/* A worker killed inside a synchronous transmit holds an extra reference
 * (pg_driver_ethdev.c); reclaim frees the mbuf whatever its count. */
static void
test_reclaim_ignores_the_transmit_reference(void **state)
{
	struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 5);
	if (m == NULL)
		fail_msg("pool empty");
	rte_mbuf_refcnt_set(m, 2);
	assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 5), 1);
	pg_test_assert_no_leak();
	/* And it comes back usable: one free returns it to the pool. */
	m = pg_mbuf_alloc(pg_test_pool, 0);
	if (m == NULL)
		fail_msg("pool empty");
	pg_mbuf_free(m);
	pg_test_assert_no_leak();
}

static void
test_freed_mbufs_are_untagged(void **state)
{
	struct rte_mbuf *m = pg_mbuf_alloc(pg_test_pool, 7);
	pg_mbuf_free(m);
	assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 7), 0);
	pg_test_assert_no_leak();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_returns_only_the_dead_workers_mbufs),
		cmocka_unit_test(test_reclaim_ignores_the_transmit_reference),
		cmocka_unit_test(test_freed_mbufs_are_untagged),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("mbuf ownership", tests, NULL, NULL);
}
