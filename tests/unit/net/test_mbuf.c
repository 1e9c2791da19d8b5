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

/* TCP keeps data by reference: a dead worker may hold clones attached to
 * its own send queue. Reclaim gives each its own buffer back. */
static void
test_reclaim_detaches_clones(void **state)
{
	struct rte_mbuf *m[PG_TEST_MBUFS];
	/* The walk meets the direct mbuf before or after its clones. */
	for (unsigned order = 0; order < 3; order++) {
		struct rte_mbuf *b[3];
		for (unsigned i = 0; i < 3; i++)
			assert_non_null(b[i] = pg_mbuf_alloc(pg_test_pool, 6));
		struct rte_mbuf *d = b[order];
		rte_pktmbuf_append(d, 100);
		for (unsigned i = 0; i < 3; i++)
			if (i != order)
				rte_pktmbuf_attach(b[i], d);
		assert_int_equal(rte_mbuf_refcnt_read(d), 3);
		assert_int_equal(pg_mbuf_reclaim(pg_test_pool, 6), 3);
		pg_test_assert_no_leak();
	}
	/* Every mbuf of the pool is whole again: its buffer is its own. */
	unsigned n = 0;
	while (n < PG_TEST_MBUFS
	       && (m[n] = rte_pktmbuf_alloc(pg_test_pool)) != NULL) {
		assert_false(RTE_MBUF_CLONED(m[n]));
		assert_ptr_equal(m[n]->buf_addr, (char *)m[n] + sizeof(*m[n])
				 + rte_pktmbuf_priv_size(pg_test_pool));
		n++;
	}
	assert_int_equal(n, PG_TEST_MBUFS);
	rte_pktmbuf_free_bulk(m, n);
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
		cmocka_unit_test(test_reclaim_detaches_clones),
		cmocka_unit_test(test_freed_mbufs_are_untagged),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("mbuf ownership", tests, NULL, NULL);
}
