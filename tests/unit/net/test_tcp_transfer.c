/*
 * TCP transfers between two stacks over the simulated wire: a handshake,
 * data both ways checked byte by byte, and an orderly close, on a clean
 * wire and on a lossy, reordering one. The seeded soak lives in
 * test_tcp_soak.c; this is the readable smoke test.
 */
#include "tests/unit/pg_test.h"

#include "net/pg_driver_sim.h"
#include "net/pg_tcp.h"

#define MS 1000000ull
#define CLIENT_IP RTE_IPV4(198, 18, 0, 1)
#define SERVER_IP RTE_IPV4(198, 18, 0, 2)

struct side {
	struct pg_netif nif;
	struct pg_stats stats;
	void *neigh;
	struct pg_tcp_stack *tcp;
};

struct peer {
	struct pg_tcp_conn *c;
	uint64_t rx, tx_total;
	int eof, closed, reason, bad;
};

static struct peer srv, cli;
static uint64_t to_server, to_client;

static uint8_t
pattern(uint64_t i, int dir)
{
	return (uint8_t)((i * 131 + (i >> 8) + dir * 7) & 0xff);
}

static int
on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct peer *p = pg_tcp_ctx(c);
	int dir = p == &srv ? 0 : 1;
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		for (uint16_t i = 0; i < s->data_len; i++)
			if (rte_pktmbuf_mtod(s, uint8_t *)[i]
			    != pattern(p->rx + i, dir))
				p->bad++;
		p->rx += s->data_len;
	}
	pg_mbuf_free(m);
	return PG_OK;
}

static void
send_pattern(struct pg_tcp_conn *c, uint64_t n, int dir)
{
	uint8_t buf[4096];
	for (uint64_t off = 0; off < n;) {
		uint32_t k = (uint32_t)RTE_MIN(n - off, sizeof(buf));
		for (uint32_t i = 0; i < k; i++)
			buf[i] = pattern(off + i, dir);
		assert_int_equal(pg_tcp_write(c, buf, k), PG_OK);
		off += k;
	}
	pg_tcp_shutdown(c);
}

static void
on_eof(struct pg_tcp_conn *c)
{
	((struct peer *)pg_tcp_ctx(c))->eof = 1;
}

static void
on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct peer *p = pg_tcp_ctx(c);
	p->closed = 1;
	p->reason = why;
}

static void
on_connected(struct pg_tcp_conn *c)
{
	send_pattern(c, to_server, 0);
}

static int
on_accept(struct pg_tcp_conn *c, void *lctx)
{
	(void)lctx;
	srv.c = c;
	pg_tcp_set_ctx(c, &srv);
	send_pattern(c, to_client, 1);
	return PG_OK;
}

static const struct pg_tcp_callbacks cbs = {
	.on_accept = on_accept, .on_connected = on_connected,
	.on_data = on_data, .on_eof = on_eof, .on_close = on_close,
};

static void
side_init(struct side *s, unsigned id, uint32_t ip, struct pg_driver *drv,
	  uint32_t peer_ip, const struct pg_tcp_conf *conf)
{
	struct rte_ether_addr mac = { { 2, 0, 0, 0, 0, (uint8_t)id } };
	struct rte_ether_addr peer = { { 2, 0, 0, 0, 0, (uint8_t)(3 - id) } };
	const char *err = NULL;

	memset(s, 0, sizeof(*s));
	s->neigh = calloc(1, pg_neigh_table_size());
	pg_neigh_init(s->neigh);
	pg_neigh_update(s->neigh, rte_cpu_to_be_32(peer_ip), &peer, 0, 1, 0);
	pg_netif_init(&s->nif, 0, 1, &mac, rte_cpu_to_be_32(ip), 24, 0, 1500);
	s->nif.sim_clock = 1;
	s->nif.now_ns = 0;
	s->nif.drv = drv;
	s->nif.pool = pg_test_pool;
	s->nif.stats = &s->stats;
	s->nif.neigh = s->neigh;
	s->tcp = pg_tcp_stack_create(&s->nif, conf, NULL, &err);
	assert_non_null(s->tcp);
}

static void
run(const struct pg_sim_conf *wc, uint64_t up, uint64_t down)
{
	struct pg_tcp_conf conf;
	struct side a, b;
	const char *err;

	pg_tcp_conf_default(&conf);
	conf.time_wait_ms = 30000;
	struct pg_sim_wire *w = pg_sim_wire_create(wc, pg_test_pool);
	side_init(&a, 1, CLIENT_IP, pg_sim_wire_end(w, 0, 1), SERVER_IP, &conf);
	side_init(&b, 2, SERVER_IP, pg_sim_wire_end(w, 1, 2), CLIENT_IP, &conf);
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	to_server = up;
	to_client = down;
	assert_non_null(pg_tcp_listen(b.tcp, 80, &cbs, NULL, NULL, &err));
	cli.c = pg_tcp_connect(a.tcp, rte_cpu_to_be_32(SERVER_IP), 80, &cbs,
			       &cli, NULL, &err);
	assert_non_null(cli.c);

	uint64_t now = 0;
	for (unsigned step = 0; step < 2000000; step++) {
		a.nif.now_ns = b.nif.now_ns = now;
		pg_sim_wire_set_time(w, now);
		unsigned work = pg_netif_poll(&a.nif) + pg_netif_poll(&b.nif);
		work += pg_tcp_stack_poll(a.tcp) + pg_tcp_stack_poll(b.tcp);
		pg_netif_flush(&a.nif);
		pg_netif_flush(&b.nif);
		if (pg_tcp_stack_conns(a.tcp) == 0 && pg_tcp_stack_conns(b.tcp) == 0)
			break;
		if (work > 0 || pg_sim_wire_next_event(w) <= now)
			continue;
		uint64_t next = pg_sim_wire_next_event(w);
		next = RTE_MIN(next, pg_tcp_stack_next_timer(a.tcp));
		next = RTE_MIN(next, pg_tcp_stack_next_timer(b.tcp));
		if (next == UINT64_MAX)
			break;
		now = RTE_MAX(next, now + 1000);
	}
	print_message("# %.3f s virtual: server got %lu/%lu, client got %lu/%lu, "
		      "conns %u/%u\n", now / 1e9, srv.rx, up, cli.rx, down,
		      pg_tcp_stack_conns(a.tcp), pg_tcp_stack_conns(b.tcp));
	if (pg_tcp_stack_conns(a.tcp) > 0 && cli.c != NULL && !cli.closed)
		print_message("# client state %s\n",
			      pg_tcp_state_names[pg_tcp_conn_state(cli.c)]);
	if (pg_tcp_stack_conns(b.tcp) > 0 && srv.c != NULL && !srv.closed)
		print_message("# server state %s\n",
			      pg_tcp_state_names[pg_tcp_conn_state(srv.c)]);
	print_message("# eof %d/%d closed %d/%d\n", srv.eof, cli.eof,
		      srv.closed, cli.closed);
	assert_int_equal(srv.bad, 0);
	assert_int_equal(cli.bad, 0);
	assert_int_equal(srv.rx, up);
	assert_int_equal(cli.rx, down);
	assert_true(srv.eof && cli.eof);
	assert_true(srv.closed && cli.closed);
	assert_int_equal(srv.reason, PG_TCP_DONE);
	assert_int_equal(cli.reason, PG_TCP_DONE);
	assert_int_equal(pg_tcp_stack_conns(a.tcp), 0);
	assert_int_equal(pg_tcp_stack_conns(b.tcp), 0);
	pg_tcp_stack_destroy(a.tcp);
	pg_tcp_stack_destroy(b.tcp);
	pg_netif_close(&a.nif);
	pg_netif_close(&b.nif);
	pg_sim_wire_destroy(w);
	free(a.neigh);
	free(b.neigh);
	pg_test_assert_no_leak();
}

static void
test_clean_wire(void **state)
{
	(void)state;
	struct pg_sim_conf wc = { .delay_ns = 1 * MS, .seed = 1,
				  .bandwidth_bps = 1000000000ull,
				  .queue_max = 4096 };
	run(&wc, 300000, 200000);
}

static void
test_lossy_wire(void **state)
{
	(void)state;
	struct pg_sim_conf wc = { .delay_ns = 1 * MS, .seed = 7, .loss = 0.03,
				  .reorder = 0.05, .jitter_ns = 2 * MS,
				  .duplicate = 0.01, .corrupt = 0.01,
				  .bandwidth_bps = 100000000ull,
				  .queue_max = 4096 };
	run(&wc, 300000, 200000);
}

int
main(void)
{
	pg_test_eal();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_wire),
		cmocka_unit_test(test_lossy_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
