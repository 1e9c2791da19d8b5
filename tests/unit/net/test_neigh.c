/*
 * The shared neighbour table: lookups, RFC 826 merge (refresh only what is
 * known unless the packet was for us), eviction when a probe window is
 * full, and recovery of a write left half done by a dead worker.
 */
#include <stdlib.h>

#define ALLOW_EXPERIMENTAL_API 1
#include <rte_seqlock.h>

#include "tests/unit/pg_test.h"

static struct pg_neigh_table *
table(void)
{
	struct pg_neigh_table *t = calloc(1, pg_neigh_table_size());
	assert_non_null(t);
	pg_neigh_init(t);
	return t;
}

static struct rte_ether_addr
mac_of(uint32_t n)
{
	struct rte_ether_addr m = {{ 0x02, 0, (uint8_t)(n >> 24),
				     (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				     (uint8_t)n }};
	return m;
}

static void
test_update_and_lookup(void **state)
{
	struct pg_neigh_table *t = table();
	struct rte_ether_addr a = mac_of(1), b = mac_of(2), got;
	uint32_t ip = RTE_BE32(RTE_IPV4(198, 18, 0, 1));

	assert_false(pg_neigh_lookup(t, ip, &got));
	pg_neigh_update(t, ip, &a, 1, 0, 1);           /* not for us: ignored */
	assert_false(pg_neigh_lookup(t, ip, &got));
	pg_neigh_update(t, ip, &a, 2, 1, 1);
	assert_true(pg_neigh_lookup(t, ip, &got));
	assert_true(rte_is_same_ether_addr(&got, &a));
	pg_neigh_update(t, ip, &b, 3, 0, 1);           /* known: refreshed */
	assert_true(pg_neigh_lookup(t, ip, &got));
	assert_true(rte_is_same_ether_addr(&got, &b));
	assert_int_equal(pg_neigh_count(t), 1);
	free(t);
}

static void
test_many_entries_and_eviction(void **state)
{
	struct pg_neigh_table *t = table();
	struct rte_ether_addr got;
	unsigned found = 0;

	/* Twice the table's size: every insert succeeds, lookups of the
	 * newest entries succeed, the count never exceeds the size. */
	for (uint32_t i = 1; i <= 2 * PG_NEIGH_SIZE; i++) {
		struct rte_ether_addr m = mac_of(i);
		pg_neigh_update(t, rte_cpu_to_be_32(0x0a000000 + i), &m, i, 1, 1);
		assert_true(pg_neigh_lookup(t, rte_cpu_to_be_32(0x0a000000 + i),
					    &got));
		assert_true(rte_is_same_ether_addr(&got, &m));
	}
	assert_true(pg_neigh_count(t) <= PG_NEIGH_SIZE);
	for (uint32_t i = 1; i <= 2 * PG_NEIGH_SIZE; i++)
		found += pg_neigh_lookup(t, rte_cpu_to_be_32(0x0a000000 + i),
					 &got);
	assert_int_equal(found, pg_neigh_count(t));
	assert_true(found > PG_NEIGH_SIZE / 2);
	free(t);
}

static void
test_recover_completes_an_abandoned_write(void **state)
{
	struct pg_neigh_table *t = table();
	struct rte_ether_addr got, a = mac_of(9);
	uint32_t ip = RTE_BE32(RTE_IPV4(198, 18, 0, 9));

	pg_neigh_update(t, ip, &a, 1, 1, 1);
	/* Simulate worker 2 killed inside its write section: take the lock
	 * and mark it as the writer, as pg_neigh_update does. */
	struct { rte_seqlock_t lock; volatile uint16_t writer; } *hdr =
		(void *)t;
	rte_seqlock_write_lock(&hdr->lock);
	hdr->writer = 2;
	pg_neigh_recover(t, 1);          /* another holder: nothing happens */
	assert_int_equal(hdr->writer, 2);
	pg_neigh_recover(t, 2);
	assert_int_equal(hdr->writer, 0);
	/* Readers and writers proceed again. */
	assert_true(pg_neigh_lookup(t, ip, &got));
	pg_neigh_update(t, ip, &a, 2, 1, 3);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_and_lookup),
		cmocka_unit_test(test_many_entries_and_eviction),
		cmocka_unit_test(test_recover_completes_an_abandoned_write),
	};
	return cmocka_run_group_tests_name("neighbour table", tests, NULL, NULL);
}
