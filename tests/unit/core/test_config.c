/*
 * The configuration loader: values and defaults land in struct pg_config;
 * every bad value is refused naming the file, the key and the reason.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/pg_config.h"
#include "core/pg_log.h"

static char path[] = "/tmp/pg_test_config_XXXXXX";

static int
load(const char *text, struct pg_config *cfg, char *err, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return pg_config_load(path, cfg, err, len);
}

static void
test_full_config(void **state)
{
	static struct pg_config cfg;
	char err[512];
	int rc = load("return { name = 'x1', workers = { 1, 0 },\n"
		      " dpdk = { devices = { 'net_tap0,iface=t0', 'net_ring0' },\n"
		      "          eal_args = { '--huge-dir=/mnt/h' }, mbufs = 4095 },\n"
		      " interface = { address = '198.18.0.2', prefix = 15,\n"
		      "               gateway = '198.19.0.1', mtu = 9000 },\n"
		      " listen = { 80, 443 }, log = { level = 'debug' },\n"
		      " hugepages = 512, runtime_dir = '/tmp/x1',\n"
		      " fault = { drop = 0.5, seed = 9, direction = 'both' } }\n",
		      &cfg, err, sizeof(err));
	if (rc != PG_OK)
		fail_msg("%s", err);
	assert_string_equal(cfg.name, "x1");
	assert_int_equal(cfg.nworkers, 2);
	assert_int_equal(cfg.worker_cpu[0], 1);
	assert_int_equal(cfg.ndevices, 2);
	assert_string_equal(cfg.devices[1], "net_ring0");
	assert_string_equal(cfg.eal_args[0], "--huge-dir=/mnt/h");
	assert_int_equal(cfg.mbufs, 4095);
	assert_int_equal(cfg.address, inet_addr("198.18.0.2"));
	assert_int_equal(cfg.gateway, inet_addr("198.19.0.1"));
	assert_int_equal(cfg.prefix, 15);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.nlisten, 2);
	assert_int_equal(cfg.listen[1], 443);
	assert_int_equal(cfg.log_level, PG_LOG_DEBUG);
	assert_int_equal(cfg.hugepages_mb, 512);
	assert_string_equal(cfg.runtime_dir, "/tmp/x1");
	assert_true(cfg.fault.drop == 0.5);
	assert_true(cfg.fault.rx && cfg.fault.tx);
	assert_int_equal(cfg.fault.seed, 9);
}

static void
test_defaults(void **state)
{
	static struct pg_config cfg;
	char err[512];
	assert_int_equal(load("return { interface = { address = '198.18.0.2' } }",
			      &cfg, err, sizeof(err)), PG_OK);
	assert_string_equal(cfg.name, "perigee");
	assert_int_equal(cfg.nworkers, 1);
	assert_string_equal(cfg.devices[0], "net_tap0,iface=pg0");
	assert_int_equal(cfg.mbufs, 8191);
	assert_int_equal(cfg.prefix, 24);
	assert_int_equal(cfg.mtu, 1500);
	assert_string_equal(cfg.runtime_dir, "/run/perigee/perigee");
	assert_string_equal(cfg.log_file, "stderr");
	assert_int_equal(cfg.restart_delay_ms, 100);
	assert_true(cfg.fault.drop == 0 && cfg.fault.rx && !cfg.fault.tx);
	/* TCP defaults are the stack's own; no test service. */
	struct pg_tcp_conf def;
	pg_tcp_conf_default(&def);
	assert_memory_equal(&cfg.tcp, &def, sizeof(def));
	assert_int_equal(cfg.testsvc.echo, 0);
	assert_int_equal(cfg.testsvc.discard, 0);
	assert_int_equal(cfg.testsvc.source, 0);
	assert_int_equal(cfg.testsvc.connect_addr, 0);
	assert_int_equal(cfg.testsvc.source_bytes, 1u << 20);
	/* HTTP limits are the server's own; no access log. */
	struct pg_h1_conf hdef;
	pg_h1_conf_default(&hdef);
	assert_memory_equal(&cfg.http, &hdef, sizeof(hdef));
	assert_string_equal(cfg.access_log, "");
	assert_int_equal(cfg.access_buffer, 65536);
	/* The file cache of res:sendfile. */
	assert_int_equal(cfg.files.cache_mb, 64);
	assert_int_equal(cfg.files.chunk_kb, 256);
	assert_int_equal(cfg.files.readahead, 2);
	assert_int_equal(cfg.files.open_cache, 1024);
	assert_int_equal(cfg.files.open_valid_ms, 1000);
}

static void
test_files(void **state)
{
	static struct pg_config cfg;
	char err[512];
	(void)state;
	assert_int_equal(load("return { interface = { address = '198.18.0.2' },"
			      " files = { cache_mb = 8, chunk_kb = 64,"
			      " readahead = 0, open_cache = 0 } }",
			      &cfg, err, sizeof(err)), PG_OK);
	assert_int_equal(cfg.files.cache_mb, 8);
	assert_int_equal(cfg.files.chunk_kb, 64);
	assert_int_equal(cfg.files.readahead, 0);
	assert_int_equal(cfg.files.open_cache, 0);
	assert_int_equal(cfg.files.open_valid_ms, 1000);
}

static void
test_http_and_access_log(void **state)
{
	static struct pg_config cfg;
	char err[512];
	int rc = load("return { interface = { address = '198.18.0.2' },\n"
		      " log = { access = '/tmp/access.log', access_buffer = 8192 },\n"
		      " http = { max_conns = 10, max_request_line = 64,\n"
		      "   max_header_bytes = 128, max_headers = 4, arena_size = 2048,\n"
		      "   max_body = 2^33, body_buffer = 4096, header_timeout_ms = 1,\n"
		      "   body_timeout_ms = 2, keepalive_timeout_ms = 3, linger_ms = 4,\n"
		      "   max_requests = 0, auto_continue = false, date = false } }\n",
		      &cfg, err, sizeof(err));
	if (rc != PG_OK)
		fail_msg("%s", err);
	const struct pg_h1_conf *h = &cfg.http;
	assert_int_equal(h->max_conns, 10);
	assert_int_equal(h->max_request_line, 64);
	assert_int_equal(h->max_header_bytes, 128);
	assert_int_equal(h->max_headers, 4);
	assert_int_equal(h->arena_size, 2048);
	assert_true(h->max_body == 1ull << 33);
	assert_int_equal(h->body_buffer, 4096);
	assert_int_equal(h->header_timeout_ms, 1);
	assert_int_equal(h->body_timeout_ms, 2);
	assert_int_equal(h->keepalive_timeout_ms, 3);
	assert_int_equal(h->linger_ms, 4);
	assert_int_equal(h->max_requests, 0);
	assert_false(h->auto_continue || h->date);
	assert_string_equal(cfg.access_log, "/tmp/access.log");
	assert_int_equal(cfg.access_buffer, 8192);
	/* Only what is set changes; "off" is no access log. */
	rc = load("return { interface = { address = '198.18.0.2' },\n"
		  " log = { access = 'off' }, http = { max_body = 0 } }\n",
		  &cfg, err, sizeof(err));
	if (rc != PG_OK)
		fail_msg("%s", err);
	struct pg_h1_conf def;
	pg_h1_conf_default(&def);
	def.max_body = 0;
	assert_memory_equal(&cfg.http, &def, sizeof(def));
	assert_string_equal(cfg.access_log, "");
}

static void
test_shared_dictionaries(void **state)
{
	static struct pg_config cfg;
	char err[512];
	int rc = load("return { interface = { address = '198.18.0.2' },\n"
		      " shared = { limits = 2^20, cache = 16 * 2^20,\n"
		      "            ['rate-2'] = 16384 } }\n", &cfg, err,
		      sizeof(err));
	if (rc != PG_OK)
		fail_msg("%s", err);
	assert_int_equal(cfg.nshdicts, 3);
	assert_string_equal(cfg.shdicts[0].name, "cache");
	assert_int_equal(cfg.shdicts[0].size, 16u << 20);
	assert_string_equal(cfg.shdicts[1].name, "limits");
	assert_int_equal(cfg.shdicts[1].size, 1u << 20);
	assert_string_equal(cfg.shdicts[2].name, "rate-2");
	assert_int_equal(cfg.shdicts[2].size, 16384);
	assert_int_equal(load("return { interface = { address = '198.18.0.2' } }",
			      &cfg, err, sizeof(err)), PG_OK);
	assert_int_equal(cfg.nshdicts, 0);
}

static void
test_tcp_and_test_service(void **state)
{
	static struct pg_config cfg;
	char err[512];
	int rc = load("return { interface = { address = '198.18.0.2' },\n"
		      " tcp = { max_conns = 1000, rcv_wnd = 65535, time_wait_ms = 0,\n"
		      "   syn_backlog = 8, syncookies = false, cc = 'newreno',\n"
		      "   sack = false, timestamps = false, window_scaling = false,\n"
		      "   keepalive_idle_ms = 5000, keepalive_intvl_ms = 1000,\n"
		      "   keepalive_probes = 3, rto_min_ms = 10, rto_max_ms = 5000,\n"
		      "   rto_initial_ms = 100, delack_ms = 0, ooo_max = 4096,\n"
		      "   ooo_max_total = 8192 },\n"
		      " test_service = { echo = 7, discard = 9, source = 19,\n"
		      "   source_bytes = 2^40, connect = { addr = '198.18.0.1',\n"
		      "   port = 5001, bytes = 268435456 } } }\n",
		      &cfg, err, sizeof(err));
	if (rc != PG_OK)
		fail_msg("%s", err);
	const struct pg_tcp_conf *t = &cfg.tcp;
	assert_int_equal(t->max_conns, 1000);
	assert_int_equal(t->rcv_wnd, 65535);
	assert_int_equal(t->time_wait_ms, 0);
	assert_int_equal(t->syn_backlog, 8);
	assert_int_equal(t->cc, PG_TCP_CC_NEWRENO);
	assert_false(t->syncookies || t->sack || t->timestamps
		     || t->window_scaling);
	assert_int_equal(t->keepalive_idle_ms, 5000);
	assert_int_equal(t->keepalive_intvl_ms, 1000);
	assert_int_equal(t->keepalive_probes, 3);
	assert_int_equal(t->rto_min_ms, 10);
	assert_int_equal(t->rto_max_ms, 5000);
	assert_int_equal(t->rto_initial_ms, 100);
	assert_int_equal(t->delack_ms, 0);
	assert_int_equal(t->ooo_max, 4096);
	assert_int_equal(t->ooo_max_total, 8192);
	const struct pg_testsvc_conf *ts = &cfg.testsvc;
	assert_int_equal(ts->echo, 7);
	assert_int_equal(ts->discard, 9);
	assert_int_equal(ts->source, 19);
	assert_true(ts->source_bytes == 1ull << 40);
	assert_int_equal(ts->connect_addr, inet_addr("198.18.0.1"));
	assert_int_equal(ts->connect_port, 5001);
	assert_int_equal(ts->connect_bytes, 268435456);
}

struct bad {
	const char *text;
	const char *expect;     /* substring of the error after the file name */
};

static const struct bad bads[] = {
	{ "return 42", "must return a table (got number)" },
	{ "return {", "unexpected symbol" },
	{ "return { interface = { address = '198.18.0.2' }, colour = 1 }",
	  "key 'colour': unknown key" },
	{ "return { interface = { address = '198.18.0.256' } }",
	  "key 'interface.address': '198.18.0.256' is not an IPv4 address" },
	{ "return { interface = { } }", "key 'interface.address': is required" },
	{ "return { interface = { address = '198.18.0.2', gateway = '10.0.0.1' } }",
	  "key 'interface.gateway': is not inside address/prefix" },
	{ "return { interface = { address = '198.18.0.2', mtu = 100 } }",
	  "key 'interface.mtu': must be a whole number from 576 to 9000" },
	{ "return { interface = { address = '198.18.0.2' }, workers = 0 }",
	  "key 'workers': must be a list" },
	{ "return { interface = { address = '198.18.0.2' }, workers = { 0, 0 } }",
	  "key 'workers': entry 2 repeats 0" },
	{ "return { interface = { address = '198.18.0.2' }, workers = { 4096 } }",
	  "key 'workers': entry 1 must be a whole number from 0 to" },
	{ "return { interface = { address = '198.18.0.2' }, workers = { } }",
	  "key 'workers': needs at least one CPU" },
	{ "return { interface = { address = '198.18.0.2' }, dpdk = { mbufs = 1500 } }",
	  "key 'dpdk.mbufs': must exceed rx_desc + tx_desc + 1024" },
	{ "return { interface = { address = '198.18.0.2' }, dpdk = { devices = { 7 } } }",
	  "key 'dpdk.devices': entry 1 must be a string" },
	{ "return { interface = { address = '198.18.0.2' }, log = { level = 'loud' } }",
	  "key 'log.level': 'loud' is not one of" },
	{ "return { interface = { address = '198.18.0.2' }, name = 'a b' }",
	  "key 'name': may hold only letters" },
	{ "return { interface = { address = '198.18.0.2' }, fault = { drop = 2 } }",
	  "key 'fault.drop': must be a number from 0 to 1" },
	{ "return { interface = { address = '198.18.0.2' }, listen = { 80, 80 } }",
	  "key 'listen': entry 2 repeats 80" },
	{ "return { interface = { address = '198.18.0.2' }, process = { x = 1 } }",
	  "key 'process.x': unknown key" },
	{ "return { [1] = 2, interface = { address = '198.18.0.2' } }",
	  "keys must be names" },
#define A "interface = { address = '198.18.0.2' }, "
	{ "return { " A "tcp = { mss = 1 } }", "key 'tcp.mss': unknown key" },
	{ "return { " A "tcp = { cc = 'vegas' } }",
	  "key 'tcp.cc': 'vegas' is not one of cubic, newreno" },
	{ "return { " A "tcp = { sack = 1 } }",
	  "key 'tcp.sack': must be true or false" },
	{ "return { " A "tcp = { max_conns = 0 } }",
	  "key 'tcp.max_conns': must be a whole number from 1 to" },
	{ "return { " A "tcp = { delack_ms = 501 } }",
	  "key 'tcp.delack_ms': must be a whole number from 0 to 500" },
	{ "return { " A "tcp = { rto_min_ms = 500, rto_initial_ms = 100 } }",
	  "key 'tcp.rto_initial_ms': must lie between rto_min_ms (500) and "
	  "rto_max_ms" },
	{ "return { " A "tcp = { rto_min_ms = 5000, rto_max_ms = 1000 } }",
	  "key 'tcp.rto_min_ms': must not exceed rto_max_ms (1000)" },
	{ "return { " A "tcp = { snd_hiwat = 65536, snd_lowat = 65536 } }",
	  "key 'tcp.snd_lowat': must be below snd_hiwat (65536)" },
	{ "return { " A "tcp = { ooo_max = 2, ooo_max_total = 1 } }",
	  "key 'tcp.ooo_max': must not exceed ooo_max_total (1)" },
	{ "return { " A "tcp = { window_scaling = false, rcv_wnd = 65536 } }",
	  "key 'tcp.rcv_wnd': must be at most 65535 when window_scaling is off" },
	{ "return { " A "http = { max_body_size = 1 } }",
	  "key 'http.max_body_size': unknown key" },
	{ "return { " A "http = 1 }", "key 'http': must be a table" },
	{ "return { " A "http = { max_request_line = 8 } }",
	  "key 'http.max_request_line': must be a whole number from 16 to" },
	{ "return { " A "http = { max_headers = 65536 } }",
	  "key 'http.max_headers': must be a whole number from 1 to 4096" },
	{ "return { " A "http = { max_body = -1 } }",
	  "key 'http.max_body': must be a whole number from 0 to" },
	{ "return { " A "http = { header_timeout_ms = 0 } }",
	  "key 'http.header_timeout_ms': must be a whole number from 1 to" },
	{ "return { " A "http = { linger_ms = 1.5 } }",
	  "key 'http.linger_ms': must be a whole number" },
	{ "return { " A "http = { date = 'yes' } }",
	  "key 'http.date': must be true or false" },
	{ "return { " A "http = { max_headers = 1000 } }",
	  "key 'http.arena_size': must be at least 32256 for max_headers = 1000" },
	{ "return { " A "log = { access = '' } }",
	  "key 'log.access': must be a string of 1 to" },
	{ "return { " A "log = { access = false } }",
	  "key 'log.access': must be a string of 1 to" },
	{ "return { " A "log = { access_buffer = 100 } }",
	  "key 'log.access_buffer': must be a whole number from 4096 to" },
	{ "return { " A "files = { cache_mb = 0 } }",
	  "key 'files.cache_mb': must be a whole number from 1 to 65536" },
	{ "return { " A "files = { chunk_kb = 8 } }",
	  "key 'files.chunk_kb': must be a whole number from 16 to 4096" },
	{ "return { " A "files = { cache_mb = 1, chunk_kb = 1024 } }",
	  "key 'files.cache_mb': must hold two chunks of chunk_kb = 1024" },
	{ "return { " A "files = { mmap = true } }",
	  "key 'files.mmap': unknown key" },
	{ "return { " A "test_service = 7 }", "key 'test_service': must be a table" },
	{ "return { " A "test_service = { echo = 0 } }",
	  "key 'test_service.echo': must be a whole number from 1 to 65535" },
	{ "return { " A "test_service = { echo = 7, source = 7 } }",
	  "key 'test_service.source': port 7 is already echo's" },
	{ "return { " A "test_service = { source_bytes = -1 } }",
	  "key 'test_service.source_bytes': must be a whole number from 0 to" },
	{ "return { " A "test_service = { connect = { port = 80 } } }",
	  "key 'test_service.connect.addr': is required" },
	{ "return { " A "test_service = { connect = { addr = '198.18.0.1' } } }",
	  "key 'test_service.connect.port': is required" },
	{ "return { " A "test_service = { connect = { addr = 'x', port = 1 } } }",
	  "key 'test_service.connect.addr': 'x' is not an IPv4 address" },
	{ "return { " A "test_service = { connect = { addr = '198.18.0.1', "
	  "port = 1, size = 2 } } }",
	  "key 'test_service.connect.size': unknown key" },
	{ "return { " A "shared = 1 }",
	  "key 'shared': must be a table of name = size in bytes" },
	{ "return { " A "shared = { 2^20 } }", "key 'shared.?': keys must be names" },
	{ "return { " A "shared = { ['a b'] = 2^20 } }",
	  "key 'shared.a b': a dictionary name is 1 to 21 letters" },
	{ "return { " A "shared = { abcdefghijklmnopqrstuv = 2^20 } }",
	  "key 'shared.abcdefghijklmnopqrstuv': a dictionary name is 1 to 21" },
	{ "return { " A "shared = { cache = 1000 } }",
	  "key 'shared.cache': must be a whole number from 16384 to" },
	{ "return { " A "shared = { cache = '1m' } }",
	  "key 'shared.cache': must be a whole number" },
	{ "return { " A "shared = { cache = 2^20 + 0.5 } }",
	  "key 'shared.cache': must be a whole number" },
	{ "return { " A "hugepages = 64, shared = { a = 40 * 2^20, b = 30 * 2^20 } }",
	  "key 'shared': the dictionaries take 70 MB, 'hugepages' is 64 MB: "
	  "raise 'hugepages'" },
	{ "return { " A "shared = { a0 = 2^20, a1 = 2^20, a2 = 2^20, a3 = 2^20,"
	  " a4 = 2^20, a5 = 2^20, a6 = 2^20, a7 = 2^20, a8 = 2^20, a9 = 2^20,"
	  " b0 = 2^20, b1 = 2^20, b2 = 2^20, b3 = 2^20, b4 = 2^20, b5 = 2^20,"
	  " b6 = 2^20 } }", "at most 16 dictionaries" },
#undef A
};

static void
test_bad_configs_name_file_key_reason(void **state)
{
	static struct pg_config cfg;
	char err[512];
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		int rc = load(bads[i].text, &cfg, err, sizeof(err));
		if (rc != PG_ERROR)
			fail_msg("accepted: %s", bads[i].text);
		if (strstr(err, path) == NULL || strstr(err, bads[i].expect) == NULL)
			fail_msg("for %s\n got: %s\n want: %s", bads[i].text, err,
				 bads[i].expect);
	}
}

static void
test_missing_file(void **state)
{
	static struct pg_config cfg;
	char err[512];
	assert_int_equal(pg_config_load("/nonexistent/p.lua", &cfg, err,
					sizeof(err)), PG_ERROR);
	assert_non_null(strstr(err, "/nonexistent/p.lua"));
}

int
main(void)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_tcp_and_test_service),
		cmocka_unit_test(test_http_and_access_log),
		cmocka_unit_test(test_shared_dictionaries),
		cmocka_unit_test(test_bad_configs_name_file_key_reason),
		cmocka_unit_test(test_missing_file),
	};
	int rc = cmocka_run_group_tests_name("configuration", tests, NULL, NULL);
	unlink(path);
	return rc;
}
