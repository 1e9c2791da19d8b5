/*
 * SYN cookies (RFC 4987 3.6): past syn_backlog half-open connections a SYN
 * is answered without a control block; a valid ACK creates the connection
 * with the MSS the cookie encoded; an invalid one creates nothing.
 */
#include "tests/unit/net/pg_tcp_script.h"

static struct pg_ts *
one_half_open(void)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.syn_backlog = 1;
	struct pg_ts *t = pg_ts_start(&c);
	pg_ts_listen(t);
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 1001 <mss 1460>");
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	return t;
}

static void
test_cookie_valid(void **state)
{
	struct pg_ts *t = one_half_open();
	pg_ts_flow(t, 40001);
	pg_ts(t, "+10 < S 3000:3000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 3001 win 65535 <mss 1460>");
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	assert_int_equal(pg_tcp_stack_stats(t->s)->syncookies_sent, 1);
	pg_ts(t, "+10 < . 3001:3001(0) ack 1 win 65535");
	pg_ts_events(t, "accept;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 2);
	assert_int_equal(pg_tcp_stack_stats(t->s)->syncookies_ok, 1);
	pg_ts_write(t, 3000);
	pg_ts(t, "> . 1:1461(1460) ack 3001");
	pg_ts(t, "> . 1461:2921(1460) ack 3001");
	pg_ts(t, "> P. 2921:3001(80) ack 3001");
	pg_ts(t, "+10 < . 3001:3001(0) ack 3001 win 65535");
	pg_ts_events(t, "acked 3000;");
	/* The first connection is still half-open and completes. */
	pg_ts_flow(t, PG_TS_PEER_PORT);
	pg_ts(t, "+10 < . 1001:1001(0) ack 1 win 65535");
	pg_ts_events(t, "accept;");
	pg_ts_end(t);
}

/* A peer MSS off the cookie table is rounded down to an entry >= 536. */
static void
test_cookie_mss(void **state)
{
	struct pg_ts *t = one_half_open();
	struct pg_ts_seg out[8];
	pg_ts_flow(t, 40001);
	pg_ts(t, "+10 < S 3000:3000(0) win 65535 <mss 1000>");
	pg_ts(t, "> S. 0:0(0) ack 3001 win 65535 <mss 1460>");
	pg_ts(t, "+10 < . 3001:3001(0) ack 1 win 65535");
	pg_ts_events(t, "accept;");
	pg_ts_write(t, 3000);
	unsigned n = pg_ts_take(t, out, 8);
	assert_true(n >= 3);
	uint32_t mss = out[0].end - out[0].seq;
	assert_true(mss >= 536 && mss <= 1000);
	pg_ts_end(t);
}

/* A wrong ACK: RST <SEQ=SEG.ACK> or nothing; no control block. */
static void
test_cookie_invalid(void **state)
{
	struct pg_ts *t = one_half_open();
	pg_ts_flow(t, 40001);
	pg_ts(t, "+10 < S 3000:3000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 3001 win 65535 <mss 1460>");
	pg_ts(t, "+10 < . 3001:3001(0) ack 2 win 65535");
	pg_ts_maybe(t, "R 2:2(0)");
	pg_ts(t, "+10 < . 3001:3001(0) ack 1 win 65535 <>");
	pg_ts_events(t, "accept;");
	pg_ts_flow(t, 40002);
	pg_ts(t, "+10 < . 7001:7001(0) ack 1 win 65535");
	pg_ts_maybe(t, "R 1:1(0)");
	pg_ts_events(t, "");
	assert_int_equal(pg_tcp_stack_conns(t->s), 2);
	assert_true(pg_tcp_stack_stats(t->s)->syncookies_bad >= 1);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_cookie_valid),
		PG_TS_TEST(test_cookie_mss),
		PG_TS_TEST(test_cookie_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
