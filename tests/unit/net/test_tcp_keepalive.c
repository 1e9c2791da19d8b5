/*
 * Keepalive (RFC 1122 4.2.3.6): a bare probe seq SND.UNA-1 after idle, an
 * answer resets the idle time, unanswered probes end the connection with
 * PG_TCP_TIMEOUT after keepalive_probes intervals.
 */
#include "tests/unit/net/pg_tcp_script.h"

static void
test_keepalive(void **state)
{
	struct pg_tcp_conf c = pg_ts_conf();
	c.keepalive_idle_ms = 10000;
	c.keepalive_intvl_ms = 1000;
	c.keepalive_probes = 3;
	struct pg_ts *t = pg_ts_start(&c);
	t->opts.keepalive = 1;
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	pg_ts(t, "+10000 > . 0:0(0) ack 1001 <>");
	pg_ts(t, "+5 < . 1001:1001(0) ack 1");
	pg_ts(t, "+10000 > . 0:0(0) ack 1001 <>");
	pg_ts(t, "+1000 > . 0:0(0) ack 1001 <>");
	pg_ts(t, "+1000 > . 0:0(0) ack 1001 <>");
	pg_ts_wait(t, 1000 + PG_TS_SLACK_MS);
	if (!pg_ts_maybe(t, "R. 1:1(0) ack 1001"))
		pg_ts_maybe(t, "R 1:1(0)");
	pg_ts_events(t, "close TIMEOUT;");
	assert_int_equal(pg_tcp_stack_conns(t->s), 0);
	assert_int_equal(pg_tcp_stack_stats(t->s)->keepalive_probes, 4);
	pg_ts_end(t);
}

/* Without keepalive an idle connection sends nothing, ever. */
static void
test_no_keepalive(void **state)
{
	struct pg_ts *t = pg_ts_start(NULL);
	pg_ts_listen(t);
	pg_ts_passive(t, "<mss 1460>", "<mss 1460>", 10);
	pg_ts_quiet(t, 3 * 7200000);
	pg_ts_end(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PG_TS_TEST(test_keepalive),
		PG_TS_TEST(test_no_keepalive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
