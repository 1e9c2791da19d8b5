/*
 * Fast retransmit and NewReno recovery without SACK (RFC 5681 3.2,
 * RFC 6582): the third duplicate ACK retransmits the first unacknowledged
 * segment at once; a partial ACK retransmits the next hole.
 */
#include "tests/unit/net/pg_tcp_script.h"

static struct pg_ts *
ten_in_flight(void)
{
	struct pg_ts_seg out[16];
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	pg_ts_write(t, 14600);
	assert_int_equal(pg_ts_take(t, out, 16), 10);
	return t;
}

static void
test_third_dupack(void **state)
{
	struct pg_ts *t = ten_in_flight();
	pg_ts(t, "+5 < . 1001:1001(0) ack 1");
	pg_ts(t, "+1 < . 1001:1001(0) ack 1");
	pg_ts(t, "+1 < . 1001:1001(0) ack 1");
	pg_ts(t, "> . 1:1461(1460) ack 1001");
	for (unsigned k = 0; k < 6; k++)
		pg_ts(t, "+1 < . 1001:1001(0) ack 1");
	pg_ts(t, "+5 < . 1001:1001(0) ack 14601");
	pg_ts_events(t, "acked 14600;");
	assert_int_equal(pg_tcp_stack_stats(t->s)->fast_retrans, 1);
	pg_ts_quiet(t, 3000);
	pg_ts_end(t);
}

static void
test_newreno_partial_ack(void **state)
{
	struct pg_ts *t = ten_in_flight();
	for (unsigned k = 0; k < 3; k++)
		pg_ts(t, "+1 < . 1001:1001(0) ack 1");
	pg_ts(t, "> . 1:1461(1460) ack 1001");
	for (unsigned k = 0; k < 5; k++)
		pg_ts(t, "+1 < . 1001:1001(0) ack 1");
	pg_ts(t, "+5 < . 1001:1001(0) ack 5841");
	pg_ts(t, "> . 5841:7301(1460) ack 1001");
	pg_ts(t, "+5 < . 1001:1001(0) ack 14601");
	pg_ts_events(t, "acked 14600;");
	pg_ts_quiet(t, 3000);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_third_dupack),
		PG_TS_TEST(test_newreno_partial_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
