/*
 * SACK (RFC 2018, RFC 6675): blocks we send for out-of-order data, and
 * retransmission of holes only when the peer SACKs.
 */
#include "tests/unit/net/pg_tcp_script.h"

#define SYN_SACK    "<mss 1460,sackOK>"

/*
 * Out-of-order data and hole fills are ACKed at once; the block holding
 * the latest segment comes first (RFC 2018 4).
 */
static void
test_sack_blocks_out(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, SYN_SACK, SYN_SACK, 10);
	pg_ts(t, "+10 < . 1001:2001(1000) ack 1");
	pg_ts(t, "+40 > . 1:1(0) ack 2001 <>");
	pg_ts(t, "+10 < . 3001:4001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 2001 <sack 3001:4001>");
	pg_ts(t, "+10 < . 5001:6001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 2001 <sack 5001:6001 3001:4001>");
	pg_ts(t, "+10 < . 2001:3001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 4001 <sack 5001:6001>");
	pg_ts(t, "+10 < . 4001:5001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 6001 <>");
	pg_ts_events(t, "data 5000;");
	pg_ts_end(t);
}

/* Without SACK negotiated, out-of-order data gets a plain dup ACK. */
static void
test_no_sack_dupack(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	pg_ts(t, "+10 < . 2001:3001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 1001 <>");
	pg_ts(t, "+10 < . 1001:2001(1000) ack 1");
	pg_ts(t, "> . 1:1(0) ack 3001 <>");
	pg_ts_events(t, "data 2000;");
	pg_ts_end(t);
}

/* Is [seq, end) one of the segments lost (1 and 4 of ten)? */
static int
lost(const struct pg_ts_seg *g)
{
	return (g->seq == 1 && g->end == 1461) ||
	       (g->seq == 4381 && g->end == 5841);
}

/*
 * Ten segments, the 1st and 4th lost: the peer's dup ACKs SACK the others
 * as they arrive. Only the holes are retransmitted, each once, before any
 * RTO; SACKed data never.
 */
static void
test_sack_holes_retransmitted(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	struct pg_ts_seg out[32];
	int seen[2] = { 0, 0 };
	pg_ts_listen(t);
	pg_ts_passive(t, SYN_SACK, SYN_SACK, 10);
	pg_ts_write(t, 14600);
	assert_int_equal(pg_ts_take(t, out, 32), 10);
	static const char *const dup[] = {
		"1461:2921", "1461:4381", "5841:7301 1461:4381",
		"5841:8761 1461:4381", "5841:10221 1461:4381",
		"5841:11681 1461:4381", "5841:13141 1461:4381",
		"5841:14601 1461:4381",
	};
	for (unsigned d = 0; d < RTE_DIM(dup); d++) {
		pg_ts(t, "+1 < . 1001:1001(0) ack 1 <sack %s>", dup[d]);
		unsigned n = pg_ts_take(t, out, 32);
		for (unsigned k = 0; k < n; k++) {
			if (!lost(&out[k]))
				fail_msg("after dup ACK %u the stack sent %d:%d, "
					 "not a hole", d + 1, (int)out[k].seq,
					 (int)out[k].end);
			if (seen[out[k].seq != 1]++)
				fail_msg("hole %d sent twice", (int)out[k].seq);
		}
	}
	assert_int_equal(seen[0], 1);
	/* The partial ACK leaves the 4th hole: retransmitted now if not yet. */
	pg_ts(t, "+1 < . 1001:1001(0) ack 4381 <sack 5841:14601>");
	if (!seen[1])
		pg_ts(t, "> . 4381:5841(1460) ack 1001");
	pg_ts(t, "+1 < . 1001:1001(0) ack 14601");
	pg_ts_events(t, "acked 14600;");
	pg_ts_quiet(t, 3000);
	pg_ts_end(t);
}

/*
 * A tail loss probe that was not needed (the peer's delayed ACK came
 * later) returns as a D-SACK (RFC 2883) while the next response is out.
 * That ACK reports a duplicate, not a loss: it newly SACKs nothing (RFC
 * 6675 2), so it is no duplicate ACK, and with one segment out, where
 * early retransmit needs a single one, it must not resend that segment.
 */
static void
test_dsack_no_retransmit(void **state)
{
	struct pg_tcp_conf conf = pg_ts_conf();
	conf.tail_loss_probe = 1;
	struct pg_ts *t = pg_ts_start(&conf);
	pg_ts_listen(t);
	pg_ts_passive(t, SYN_SACK, SYN_SACK, 10);
	pg_ts_write(t, 100);
	pg_ts(t, "> P. 1:101(100) ack 1001");
	pg_ts(t, "+60 > P. 1:101(100) ack 1001");
	pg_ts(t, "+1 < . 1001:1001(0) ack 101");
	pg_ts_write(t, 100);
	pg_ts(t, "> P. 101:201(100) ack 1001");
	pg_ts(t, "+1 < . 1001:1001(0) ack 101 <sack 1:101>");
	pg_ts(t, "+1 < . 1001:1001(0) ack 101 win 60000 <sack 1:101>");
	pg_ts_quiet(t, 20);
	pg_ts(t, "< . 1001:1001(0) ack 201");
	pg_ts_events(t, "acked 200;");
	assert_int_equal(pg_tcp_stack_stats(t->s)->dup_acks, 0);
	assert_int_equal(pg_tcp_stack_stats(t->s)->early_retrans, 0);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_sack_blocks_out),
		PG_TS_TEST(test_no_sack_dupack),
		PG_TS_TEST(test_sack_holes_retransmitted),
		PG_TS_TEST(test_dsack_no_retransmit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
