/*
 * Retransmission timer (RFC 6298): 1 s initial RTO for SYN and SYN-ACK,
 * doubling; RTO from RTT samples, floored at rto_min; giving up after
 * syn_retries / retries with PG_TCP_TIMEOUT.
 */
#include "tests/unit/net/pg_tcp_script.h"

#define SYN_OUT "> S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,wscale 5>"

/* SYN at 0, 1, 3, 7, 15, 31, 63 s; the connect fails at 127 s. */
static void
test_syn_backoff(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_connect(t, 80);
	pg_ts(t, "0 " SYN_OUT);
	for (unsigned k = 0; k < 6; k++)
		pg_ts(t, "+%u " SYN_OUT, 1000u << k);
	pg_ts_quiet(t, 63999);
	pg_ts_events(t, "");
	pg_ts_wait(t, 64000 + PG_TS_SLACK_MS);
	pg_ts_events(t, "close TIMEOUT;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_quiet(t, 10000);
	pg_ts_end(t);
}

/*
 * SYN-ACK likewise; the half-open connection goes, with an RST or without
 * (RFC 9293 3.10.4 ABORT in SYN-RECEIVED sends one).
 */
static void
test_synack_backoff(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 1001 <mss 1460>");
	for (unsigned k = 0; k < 6; k++)
		pg_ts(t, "+%u > S. 0:0(0) ack 1001 <mss 1460>", 1000u << k);
	pg_ts_quiet(t, 63999);
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	pg_ts_wait(t, 64000 + PG_TS_SLACK_MS);
	if (!pg_ts_maybe(t, "R. 1:1(0) ack 1001"))
		pg_ts_maybe(t, "R 1:1(0)");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_events(t, "");
	pg_ts_end(t);
}

/*
 * A passive connection whose handshake and first 100 bytes took rtt ms
 * each way and back, with 100 more bytes just sent: the RTO tests' start.
 */
static struct pg_ts *
rto_start(const struct pg_tcp_conf *conf, unsigned rtt)
{
	struct pg_ts *t = pg_ts_start(conf);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", rtt);
	pg_ts_write(t, 100);
	pg_ts(t, "> P. 1:101(100) ack 1001");
	pg_ts(t, "+%u < . 1001:1001(0) ack 101", rtt);
	pg_ts_write(t, 100);
	pg_ts(t, "> P. 101:201(100) ack 1001");
	return t;
}

/*
 * Data: the handshake is the first RTT sample (100 ms; the SYN-ACK went
 * once, so Karn allows it), one 100 ms data sample follows: SRTT 100,
 * RTTVAR 37.5, RTO = 100 + 4 * 37.5 = 250 ms, then 500, 1000.
 */
static void
test_data_rto_backoff(void **state)
{
	struct pg_ts *t = rto_start(NULL, 100);
	pg_ts(t, "+250 > P. 101:201(100) ack 1001");
	pg_ts(t, "+500 > P. 101:201(100) ack 1001");
	pg_ts(t, "+1000 > P. 101:201(100) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 201");
	pg_ts_events(t, "acked 200;");
	pg_ts_quiet(t, 5000);
	pg_ts_end(t);
}

/*
 * RFC 8985 7: with an RTT estimate, a lost tail is probed after two round
 * trips (plus the peer's delayed-ACK allowance when one segment is out:
 * 2 * 10 + 40 = 60 ms), the last segment again; the RTO follows.
 */
static void
test_tail_loss_probe(void **state)
{
	struct pg_tcp_conf conf = pg_ts_conf();
	conf.tail_loss_probe = 1;
	struct pg_ts *t = rto_start(&conf, 10);
	pg_ts(t, "+60 > P. 101:201(100) ack 1001");
	pg_ts(t, "+200 > P. 101:201(100) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 201");
	assert_int_equal(pg_tcp_stack_stats(t->s)->tail_probes, 1);
	pg_ts_end(t);
}

/* A 10 ms RTT gives 10 + 4 * 5 = 30 ms: the RTO is rto_min, 200 ms. */
static void
test_data_rto_floor(void **state)
{
	struct pg_ts *t = rto_start(NULL, 10);
	pg_ts(t, "+200 > P. 101:201(100) ack 1001");
	pg_ts(t, "+400 > P. 101:201(100) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 201");
	pg_ts_end(t);
}

/* retries = 3: three retransmissions, then TIMEOUT one more RTO later. */
static void
test_data_give_up(void **state)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.retries = 3;
	struct pg_ts *t = rto_start(&c, 10);
	pg_ts(t, "+200 > P. 101:201(100) ack 1001");
	pg_ts(t, "+400 > P. 101:201(100) ack 1001");
	pg_ts(t, "+800 > P. 101:201(100) ack 1001");
	pg_ts_quiet(t, 1599);
	pg_ts_events(t, "acked 100;");
	pg_ts_wait(t, 1600 + PG_TS_SLACK_MS);
	if (!pg_ts_maybe(t, "R. 201:201(0) ack 1001"))
		pg_ts_maybe(t, "R 201:201(0)");
	pg_ts_events(t, "close TIMEOUT;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_end(t);
}

/*
 * RFC 6298 5.7: the SYN-ACK was retransmitted (and no timestamps time it),
 * so data starts with RTO 3 s.
 */
static void
test_rto_3s_after_syn_loss(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 1001 <mss 1460>");
	pg_ts(t, "+1000 > S. 0:0(0) ack 1001 <mss 1460>");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1 win 65535");
	pg_ts_events(t, "accept;");
	pg_ts_write(t, 100);
	pg_ts(t, "> P. 1:101(100) ack 1001");
	pg_ts_quiet(t, 2999);
	pg_ts(t, "+3000 > P. 1:101(100) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 101");
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_syn_backoff),
		PG_TS_TEST(test_synack_backoff),
		PG_TS_TEST(test_data_rto_backoff),
		PG_TS_TEST(test_data_rto_floor),
		PG_TS_TEST(test_tail_loss_probe),
		PG_TS_TEST(test_data_give_up),
		PG_TS_TEST(test_rto_3s_after_syn_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
