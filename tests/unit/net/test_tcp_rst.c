/*
 * Resets in each state (RFC 9293 3.10.7) and the RFC 5961 defences:
 * challenge ACKs for an in-window RST not at RCV.NXT, for a SYN in a
 * synchronized state, and for an ACK older than SND.UNA - MAX.SND.WND.
 */
#include "tests/unit/net/pg_tcp_script.h"

static struct pg_ts *
established(void)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	return t;
}

static void
test_rst_at_rcv_nxt(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < R 1001:1001(0) win 0");
	pg_ts_events(t, "close RESET;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_quiet(t, 5000);
	pg_ts_end(t);
}

static void
test_rst_in_window_challenged(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < R 1101:1101(0) win 0");
	pg_ts(t, "> . 1:1(0) ack 1001");
	pg_ts_events(t, "");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	assert_int_equal(pg_tcp_stack_stats(t->s)->challenge_acks, 1);
	/* The peer that really reset answers the challenge with seq RCV.NXT. */
	pg_ts(t, "+10 < R 1001:1001(0) win 0");
	pg_ts_events(t, "close RESET;");
	pg_ts_end(t);
}

static void
test_rst_out_of_window_ignored(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < R 900:900(0) win 0");
	pg_ts(t, "+10 < R 201001:201001(0) win 0");
	pg_ts(t, "+10 < R. 1000:1000(0) ack 1 win 0");
	pg_ts_quiet(t, 100);
	pg_ts_events(t, "");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	pg_ts_end(t);
}

/* RFC 5961 4.2: any SYN in a synchronized state, even at RCV.NXT. */
static void
test_syn_established_challenged(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < S 5000:5000(0) win 65535 <mss 1460>");
	pg_ts(t, "> . 1:1(0) ack 1001");
	pg_ts(t, "+10 < S 1001:1001(0) win 65535 <mss 1460>");
	pg_ts(t, "> . 1:1(0) ack 1001");
	pg_ts_events(t, "");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	pg_ts_end(t);
}

/*
 * RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND (65535 here) is
 * discarded, data and all, and answered with an ACK; so is an ACK of what
 * was never sent (RFC 9293 3.10.7.4).
 */
static void
test_ack_too_old_or_new(void **state)
{
	struct pg_ts *t = established();
	pg_ts_write(t, 1000);
	pg_ts(t, "> P. 1:1001(1000) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1001");
	pg_ts_events(t, "acked 1000;");
	pg_ts(t, "+10 < P. 1001:1101(100) ack -99999");
	pg_ts(t, "> . 1001:1001(0) ack 1001");
	pg_ts(t, "+10 < P. 1001:1101(100) ack 5000");
	pg_ts(t, "> . 1001:1001(0) ack 1001");
	pg_ts_events(t, "");
	pg_ts_quiet(t, 1000);
	pg_ts_end(t);
}

/* SYN-RECEIVED from a listener: RST returns to LISTEN, silently. */
static void
test_rst_syn_rcvd(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 1001 <mss 1460>");
	pg_ts(t, "+10 < R 1001:1001(0) win 0");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_quiet(t, 5000);
	pg_ts_events(t, "");
	pg_ts_end(t);
}

/*
 * SYN-SENT (3.10.7.3): RST without ACK, or with an ACK that is not ours,
 * is dropped; RST with SEG.ACK = SND.NXT refuses the connection.
 */
static void
test_rst_syn_sent(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_connect(t, 80);
	pg_ts(t, "> S 0:0(0) win 65535");
	pg_ts(t, "+10 < R 0:0(0) win 0");
	pg_ts(t, "+10 < R. 0:0(0) ack 5 win 0");
	pg_ts_events(t, "");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_SYN_SENT);
	pg_ts(t, "1000 > S 0:0(0) win 65535");
	pg_ts(t, "+10 < R. 0:0(0) ack 1 win 0");
	pg_ts_events(t, "close REFUSED;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_quiet(t, 5000);
	pg_ts_end(t);
}

/* CLOSE-WAIT, FIN-WAIT-1 and LAST-ACK: RST at RCV.NXT resets. */
static void
test_rst_close_wait(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < F. 1001:1001(0) ack 1");
	pg_ts(t, "~40 > . 1:1(0) ack 1002");
	pg_ts_events(t, "eof;");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_CLOSE_WAIT);
	pg_ts(t, "+10 < R 1002:1002(0) win 0");
	pg_ts_events(t, "close RESET;");
	pg_ts_end(t);
}

static void
test_rst_fin_wait_1(void **state)
{
	struct pg_ts *t = established();
	pg_tcp_shutdown(t->cur->conn);
	pg_ts_wait(t, 0);
	pg_ts(t, "> F. 1:1(0) ack 1001");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_FIN_WAIT_1);
	pg_ts(t, "+10 < R 1001:1001(0) win 0");
	pg_ts_events(t, "close RESET;");
	pg_ts_end(t);
}

static void
test_rst_last_ack(void **state)
{
	struct pg_ts *t = established();
	pg_ts(t, "+10 < F. 1001:1001(0) ack 1");
	pg_ts(t, "~40 > . 1:1(0) ack 1002");
	pg_tcp_shutdown(t->cur->conn);
	pg_ts_wait(t, 0);
	pg_ts(t, "> F. 1:1(0) ack 1002");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_LAST_ACK);
	pg_ts(t, "+10 < R 1002:1002(0) win 0");
	pg_ts_events(t, "eof;close RESET;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_rst_at_rcv_nxt),
		PG_TS_TEST(test_rst_in_window_challenged),
		PG_TS_TEST(test_rst_out_of_window_ignored),
		PG_TS_TEST(test_syn_established_challenged),
		PG_TS_TEST(test_ack_too_old_or_new),
		PG_TS_TEST(test_rst_syn_rcvd),
		PG_TS_TEST(test_rst_syn_sent),
		PG_TS_TEST(test_rst_close_wait),
		PG_TS_TEST(test_rst_fin_wait_1),
		PG_TS_TEST(test_rst_last_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
