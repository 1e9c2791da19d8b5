/*
 * Flow control: the window we offer shrinks with data the application
 * refuses and reopens when it takes it; the peer's window is scaled
 * (RFC 7323); a zero window is probed with backoff (RFC 9293 3.8.6.1).
 */
#include "tests/unit/net/pg_tcp_script.h"

/*
 * 8760 bytes of window, unscaled; the application refuses everything. Each
 * second full segment is ACKed at once with a smaller window, down to 0.
 * When it takes the data the window update goes out at once.
 */
static void
test_window_reopens(void **state)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.window_scaling = 0;
	c.rcv_wnd = 8760;
	struct pg_ts *t = pg_ts_start(&c);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	t->cur->refuse = 1;
	for (unsigned k = 0; k < 6; k++) {
		uint32_t seq = 1001 + k * 1460;
		pg_ts(t, "+1 < . %u:%u(1460) ack 1", seq, seq + 1460);
		if (k % 2 == 1)
			pg_ts(t, "> . 1:1(0) ack %u win %u", seq + 1460,
			      8760 - (k + 1) * 1460);
	}
	pg_ts_events(t, "");
	t->cur->refuse = 0;
	pg_tcp_recv_resume(t->cur->conn);
	pg_ts_wait(t, 0);
	pg_ts_events(t, "data 8760;");
	pg_ts(t, "> . 1:1(0) ack 9761 win 8760");
	pg_ts_end(t);
}

/*
 * The peer's win 100 with wscale 7 lets exactly 12800 bytes go (written in
 * one go, so that sender SWS avoidance, RFC 9293 3.8.6.2.1, does not hold
 * back a small tail); more waits for the window to open.
 */
static void
test_window_scaled(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	struct pg_ts_seg out[32];
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, PG_TS_SYNACK_FULL, 10);
	pg_ts(t, "+1 < . 1001:1001(0) ack 1 win 100");
	pg_ts_write(t, 12800);
	unsigned n = pg_ts_take(t, out, 32);
	assert_true(n > 0);
	assert_int_equal(out[0].seq, 1);
	assert_int_equal(out[n - 1].end, 12801);
	for (unsigned k = 0; k < n; k++) {
		assert_true(out[k].end - out[k].seq <= 1448);
		assert_int_equal(out[k].win, 32768);
	}
	pg_ts_write(t, 7200);
	pg_ts_quiet(t, 100);
	pg_ts(t, "+10 < . 1001:1001(0) ack 12801 win 100");
	n = pg_ts_take(t, out, 32);
	assert_true(n > 0);
	assert_int_equal(out[0].seq, 12801);
	assert_int_equal(out[n - 1].end, 20001);
	pg_ts_end(t);
}

/*
 * Zero window: bare probes seq SND.UNA-1 (as Linux) at RTO, 2 RTO, 4 RTO
 * (RFC 6298 RTO after one 100 ms sample: 100 + 4 * 50 = 300 ms; without
 * timestamps the handshake gives no sample), the peer answering win 0 each
 * time; data resumes as soon as it opens.
 */
static void
test_zero_window_probe(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 100);
	pg_ts_write(t, 1000);
	pg_ts(t, "> P. 1:1001(1000) ack 1001");
	pg_ts(t, "+100 < . 1001:1001(0) ack 1001 win 0");
	pg_ts_write(t, 1000);
	pg_ts(t, "+250 > . 1000:1000(0) ack 1001");
	pg_ts(t, "< . 1001:1001(0) ack 1001 win 0");
	pg_ts(t, "+500 > . 1000:1000(0) ack 1001");
	pg_ts(t, "< . 1001:1001(0) ack 1001 win 0");
	pg_ts(t, "+1000 > . 1000:1000(0) ack 1001");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1001 win 65535");
	pg_ts(t, "> P. 1001:2001(1000) ack 1001");
	pg_ts(t, "+100 < . 1001:1001(0) ack 2001 win 65535");
	pg_ts_events(t, "acked 2000;");
	assert_true(pg_tcp_stack_stats(t->s)->persist_probes >= 3);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_window_reopens),
		PG_TS_TEST(test_window_scaled),
		PG_TS_TEST(test_zero_window_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
