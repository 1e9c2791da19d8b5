/*
 * TIME-WAIT (RFC 9293 3.6, 3.10.7.4): a retransmitted FIN is ACKed again
 * and restarts 2MSL; the state ends after time_wait_ms; a new SYN beyond
 * RCV.NXT reuses the tuple with a larger ISN (RFC 9293 3.10.7.4, RFC 6191).
 */
#include "tests/unit/net/pg_tcp_script.h"

/* Active close to TIME-WAIT; the application has let go. */
static struct pg_ts *
time_wait(uint32_t tw_ms)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.time_wait_ms = tw_ms;
	struct pg_ts *t = pg_ts_start(&c);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	pg_tcp_close(t->cur->conn);
	t->cur->conn = NULL;
	pg_ts_wait(t, 0);
	pg_ts(t, "> F. 1:1(0) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 2");
	pg_ts(t, "+10 < F. 1001:1001(0) ack 2");
	pg_ts(t, "~40 > . 2:2(0) ack 1002");
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	return t;
}

/* TIME-WAIT lasts time_wait_ms from the ACK of the peer's FIN; then RST. */
static void
test_time_wait_expiry(void **state)
{
	struct pg_ts *t = time_wait(2000);
	uint64_t fin = t->last_ms;
	pg_ts_quiet(t, 1990);
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	pg_ts_advance(t, fin + 2000 + PG_TS_SLACK_MS, 0);
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts(t, "+10 < F. 1001:1001(0) ack 2");
	pg_ts(t, "> R 2:2(0) <>");
	pg_ts_end(t);
}

/* A retransmitted FIN is ACKed again and restarts the 2MSL timer. */
static void
test_time_wait_fin_reacked_and_expiry(void **state)
{
	struct pg_ts *t = time_wait(2000);
	pg_ts(t, "+500 < F. 1001:1001(0) ack 2");
	pg_ts(t, "~40 > . 2:2(0) ack 1002");
	uint64_t fin = t->last_ms;
	pg_ts_quiet(t, 1990);
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	pg_ts_advance(t, fin + 2000 + PG_TS_SLACK_MS, 0);
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts(t, "+10 < F. 1001:1001(0) ack 2");
	pg_ts(t, "> R 2:2(0) <>");
	pg_ts_events(t, "");
	pg_ts_end(t);
}

static void
test_time_wait_reuse(void **state)
{
	struct pg_ts *t = time_wait(60000);
	uint32_t old_iss = t->cur->iss;
	pg_ts(t, "+100 < S 200000:200000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 200001 win 65535 <mss 1460>");
	assert_true((int32_t)(t->cur->iss - (old_iss + 2)) > 0);
	pg_ts(t, "+10 < . 200001:200001(0) ack 1");
	pg_ts_events(t, "accept;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	assert_int_equal(pg_tcp_stack_stats(t->s)->timewait_reuse, 1);
	pg_ts_end(t);
}

/* An old SYN (seq below RCV.NXT, no timestamp) opens nothing. */
static void
test_time_wait_old_syn(void **state)
{
	struct pg_ts *t = time_wait(60000);
	pg_ts(t, "+100 < S 500:500(0) win 65535 <mss 1460>");
	pg_ts_maybe(t, ". 2:2(0) ack 1002");
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	pg_ts_quiet(t, 1000);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_time_wait_expiry),
		PG_TS_TEST(test_time_wait_fin_reacked_and_expiry),
		PG_TS_TEST(test_time_wait_reuse),
		PG_TS_TEST(test_time_wait_old_syn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
