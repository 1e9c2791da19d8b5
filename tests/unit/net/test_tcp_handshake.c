/*
 * Opening a connection (RFC 9293 3.5): passive, active, simultaneous, and
 * segments to a port nobody listens on (3.10.7.1).
 */
#include "tests/unit/net/pg_tcp_script.h"

/* SYN, SYN-ACK, ACK; data both ways; nothing else is sent. */
static void
test_passive(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, PG_TS_SYN_FULL, PG_TS_SYNACK_FULL, 100);
	assert_int_equal(pg_tcp_stack_conns(t->s), 1);
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	/* 1 MiB >> 5 from now on; a short segment is ACKed after delack. */
	pg_ts(t, "+10 < P. 1001:1101(100) ack 1 win 512");
	pg_ts_events(t, "data 100;");
	pg_ts(t, "+40 > . 1:1(0) ack 1101 win 32768 <TS val * ecr *>");
	pg_ts_write(t, 200);
	pg_ts(t, "> P. 1:201(200) ack 1101 win 32768");
	pg_ts(t, "+50 < . 1101:1101(0) ack 201 win 512");
	pg_ts_events(t, "acked 200;");
	pg_ts_quiet(t, 5000);
	pg_ts_end(t);
}

/* connect: SYN with every option, SYN-ACK, our ACK, on_connected. */
static void
test_active(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_connect(t, 80);
	pg_ts(t, "> S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,"
	      "wscale 5>");
	pg_ts(t, "+30 < S. 5000:5000(0) ack 1 win 65535 <mss 1400,sackOK,"
	      "TS val 700 ecr *,nop,wscale 7>");
	t->cur->irs = 5000;
	t->cur->ts = 1;
	pg_ts(t, "> . 1:1(0) ack 5001 win 32768 <TS val * ecr 700>");
	pg_ts_events(t, "connected;");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	/* Segments carry MSS - 12 bytes with timestamps (RFC 6691). */
	pg_ts_write(t, 3000);
	pg_ts(t, "> . 1:1389(1388) ack 5001");
	pg_ts(t, "> . 1389:2777(1388) ack 5001");
	pg_ts(t, "> P. 2777:3001(224) ack 5001");
	pg_ts(t, "+30 < . 5001:5001(0) ack 3001 win 1000");
	pg_ts_events(t, "acked 3000;");
	pg_ts_end(t);
}

/*
 * Both send SYN (RFC 9293 figure 8): the stack answers the peer's SYN with
 * SYN-ACK seq ISS. The peer's SYN-ACK repeats a SYN already received: the
 * stack ACKs it (whether it takes its ACK, as BSD and Linux do, or drops it
 * as old, as the text of 3.10.7.4 reads), and the peer's ACK of our SYN
 * leaves no doubt: ESTABLISHED, on_connected once.
 */
static void
test_simultaneous(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_connect(t, 80);
	pg_ts(t, "> S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,"
	      "wscale 5>");
	pg_ts(t, "+10 < S 5000:5000(0) win 65535 <mss 1460,sackOK,"
	      "TS val 700 ecr 0,nop,wscale 7>");
	pg_ts(t, "> S. 0:0(0) ack 5001 win 65535 <mss 1460,sackOK,"
	      "TS val * ecr 700,wscale 5>");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_SYN_RCVD);
	pg_ts(t, "+10 < S. 5000:5000(0) ack 1 win 65535 <mss 1460,sackOK,"
	      "TS val 710 ecr *,nop,wscale 7>");
	pg_ts(t, "> . 1:1(0) ack 5001");
	pg_ts(t, "+10 < . 5001:5001(0) ack 1 win 65535 <TS val 720 ecr *>");
	pg_ts_events(t, "connected;");
	assert_int_equal(pg_tcp_conn_state(t->cur->conn), PG_TCP_ESTABLISHED);
	t->cur->ts = 1;
	t->cur->irs = 5000;
	pg_ts(t, "+10 < P. 5001:5101(100) ack 1");
	pg_ts_events(t, "data 100;");
	/*
	 * Our ACK offered 1 MiB from 5001: 100 bytes later the right edge
	 * stays (it moves by at least an MSS, RFC 1122 4.2.3.3), rounded up.
	 */
	pg_ts(t, "+40 > . 1:1(0) ack 5101 win 32765");
	pg_ts_end(t);
}

/* The listener refuses in on_accept: RST, no control block left. */
static void
test_accept_refused(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	t->reject_accept = 1;
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> S. 0:0(0) ack 1001 win 65535 <mss 1460>");
	pg_ts(t, "+10 < . 1001:1001(0) ack 1 win 65535");
	pg_ts(t, "> R. 1:1(0) ack 1001");
	pg_ts_events(t, "reject;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_end(t);
}

/*
 * Closed port: SYN -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; ACK ->
 * <SEQ=SEG.ACK><CTL=RST>; RST -> nothing.
 */
static void
test_closed_port(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_flow_raw(t, 40001, 9999);
	pg_ts(t, "< S 1000:1000(0) win 65535 <mss 1460>");
	pg_ts(t, "> R. 0:0(0) ack 1001 win 0 <>");
	pg_ts(t, "< . 1000:1000(0) ack 12345 win 65535");
	pg_ts(t, "> R 12345:12345(0) win 0 <>");
	pg_ts(t, "< P. 1000:1100(100) ack 777 win 65535");
	pg_ts(t, "> R 777:777(0) <>");
	pg_ts(t, "< F 1000:1100(100) win 65535");
	pg_ts(t, "> R. 0:0(0) ack 1101 <>");
	pg_ts(t, "< R. 1000:1000(0) ack 5 win 65535");
	pg_ts(t, "< R 1000:1000(0) win 65535");
	pg_ts_quiet(t, 1000);
	/* The listener's port, but an ACK for no connection. */
	pg_ts_flow_raw(t, 40002, PG_TS_PORT);
	pg_ts(t, "< . 1000:1000(0) ack 4242 win 65535");
	pg_ts(t, "> R 4242:4242(0) <>");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_passive),
		PG_TS_TEST(test_active),
		PG_TS_TEST(test_simultaneous),
		PG_TS_TEST(test_accept_refused),
		PG_TS_TEST(test_closed_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
