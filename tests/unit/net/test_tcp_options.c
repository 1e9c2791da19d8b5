/*
 * Option negotiation (RFC 9293 3.7.1, RFC 7323, RFC 2018): each option is
 * used only when both sides sent it in their SYNs.
 */
#include "tests/unit/net/pg_tcp_script.h"

/* Every option both ways: scaled windows, TS on every segment, SACK. */
static void
test_all_options(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	struct pg_tcp_info i;
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, PG_TS_SYNACK_FULL, 10);
	pg_tcp_conn_info(t->cur->conn, &i);
	assert_int_equal(i.snd_wscale, 7);
	assert_int_equal(i.rcv_wscale, 5);
	assert_true(i.sack && i.timestamps);
	pg_ts_write(t, 1448);
	pg_ts(t, "> P. 1:1449(1448) ack 1001 win 32768 <TS val * ecr *>");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1449 win 100");
	pg_tcp_conn_info(t->cur->conn, &i);
	assert_int_equal(i.snd_wnd, 100 << 7);
	pg_ts_end(t);
}

/*
 * A peer that sends no option: we send only MSS (RFC 7323 2.2, 3.2, RFC
 * 2018 2), assume its MSS is 536 and offer at most 65535 unscaled.
 */
static void
test_no_options(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<>", "<mss 1460>", 10);
	pg_ts_write(t, 1000);
	pg_ts(t, "> . 1:537(536) ack 1001 win 65535 <>");
	pg_ts(t, "> P. 537:1001(464) ack 1001 win 65535 <>");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1001 win 65535 <>");
	pg_ts_events(t, "acked 1000;");
	pg_ts_end(t);
}

/* The peer does not scale: neither do we, and its window is taken raw. */
static void
test_ws_one_side_peer(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460,sackOK,TS val 100 ecr 0>",
		      "<mss 1460,sackOK,TS val * ecr 100>", 10);
	pg_ts(t, "+1 < . 1001:1001(0) ack 1 win 1000");
	pg_ts_write(t, 3000);
	pg_ts(t, "> P. 1:1001(1000) ack 1001 win 65535 <TS val * ecr *>");
	pg_ts_quiet(t, 100);
	pg_ts_end(t);
}

/* We do not scale (conf): the peer's wscale is ignored both ways. */
static void
test_ws_one_side_us(void **state)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.window_scaling = 0;
	struct pg_ts *t = pg_ts_start(&c);
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, "<mss 1460,sackOK,TS val * ecr 100>",
		      10);
	pg_ts(t, "+1 < . 1001:1001(0) ack 1 win 1000");
	pg_ts_write(t, 3000);
	pg_ts(t, "> P. 1:1001(1000) ack 1001 win 65535 <TS val * ecr *>");
	pg_ts_quiet(t, 100);
	pg_ts_end(t);
}

/* No timestamps, no SACK (conf): full 1460-byte segments, no TS. */
static void
test_ts_sack_off(void **state)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.timestamps = 0;
	c.sack = 0;
	struct pg_ts *t = pg_ts_start(&c);
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, "<mss 1460,wscale 5>", 10);
	pg_ts_write(t, 2000);
	pg_ts(t, "> . 1:1461(1460) ack 1001 win 32768 <>");
	pg_ts(t, "> P. 1461:2001(540) ack 1001 win 32768 <>");
	pg_ts_end(t);
}

/* A peer MSS smaller than ours bounds our segments (minus TS: 12). */
static void
test_peer_mss(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 536,sackOK,TS val 100 ecr 0,nop,wscale 7>",
		      PG_TS_SYNACK_FULL, 10);
	pg_ts_write(t, 1000);
	pg_ts(t, "> . 1:525(524) ack 1001");
	pg_ts(t, "> P. 525:1001(476) ack 1001");
	pg_ts_end(t);
}

/* Timestamps: TSval follows the stack's millisecond clock. */
static void
test_tsval_clock(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, PG_TS_SYNACK_FULL, 10);
	uint32_t ts0 = t->cur->last_tsval;
	pg_ts(t, "+1000 < P. 1001:1101(100) ack 1");
	pg_ts(t, "+40 > . 1:1(0) ack 1101");
	/* The SYN-ACK left at 0 ms. */
	assert_int_equal(t->cur->last_tsval - ts0, t->last_ms);
	pg_ts_events(t, "data 100;");
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_all_options),
		PG_TS_TEST(test_no_options),
		PG_TS_TEST(test_ws_one_side_peer),
		PG_TS_TEST(test_ws_one_side_us),
		PG_TS_TEST(test_ts_sack_off),
		PG_TS_TEST(test_peer_mss),
		PG_TS_TEST(test_tsval_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
