/*
 * Requests the HTTP/1.1 server must refuse: every request smuggling case
 * gets 400 and a close, every limit its status, every timeout 408 or a
 * close, each counted under its reason, with nothing left allocated.
 */
#include "tests/unit/pg_test.h"

#include "tests/unit/http/pg_h1_sim.h"

struct reject {
	const char *name;
	const char *req;
	unsigned status;
	size_t counter;                /* offsetof in struct pg_http_stats */
};

#define C(x) offsetof(struct pg_http_stats, x)

static const struct reject smuggling[] = {
	{ "CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, C(err_cl_te) },
	{ "TE+CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n0\r\n\r\n", 400, C(err_cl_te) },
	{ "duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	  "Content-Length: 3\r\n\r\nabc", 400, C(err_content_length) },
	{ "CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n"
	  "abc", 400, C(err_content_length) },
	{ "CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n"
	  "abc", 400, C(err_content_length) },
	{ "CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\n"
	  "abc", 400, C(err_content_length) },
	{ "TE not chunked", "POST / HTTP/1.1\r\nHost: a\r\n"
	  "Transfer-Encoding: gzip\r\n\r\nabc", 400, C(err_transfer_encoding) },
	{ "TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:"
	  " chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
	  C(err_transfer_encoding) },
	{ "chunk size not hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:"
	  " chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, C(err_chunk) },
	{ "chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-"
	  "Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n", 400,
	  C(err_chunk) },
	{ "chunk size space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:"
	  " chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", 400, C(err_chunk) },
	{ "chunk data too long", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-"
	  "Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400, C(err_chunk) },
	{ "bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400,
	  C(err_line_ending) },
	{ "bare LF header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400,
	  C(err_line_ending) },
	{ "bare LF end of head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400,
	  C(err_line_ending) },
	{ "bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400,
	  C(err_line_ending) },
	{ "bare LF trailer end", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-"
	  "Encoding: chunked\r\n\r\n0\r\n\n", 400, C(err_line_ending) },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400,
	  C(err_line_ending) },
	{ "missing Host", "GET / HTTP/1.1\r\nX: b\r\n\r\n", 400, C(err_host) },
	{ "duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400,
	  C(err_host) },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400,
	  C(err_header_name) },
	{ "empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400,
	  C(err_header_name) },
	{ "HTTP/2.0 in h1", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505,
	  C(err_version) },
	{ "HTTP/0.9", "GET /\r\n\r\n", 505, C(err_version) },
	{ "bad method", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, C(err_syntax) },
	{ "control in URI", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	  C(err_syntax) },
	{ "relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	  C(err_syntax) },
};

static void
check_reject(const struct pg_h1_conf *conf, const struct reject *r,
	     uint64_t ms)
{
	char want[64];

	h1t_exchange(conf, r->req, ms);
	snprintf(want, sizeof(want), "HTTP/1.1 %u ", r->status);
	if (strncmp(T.cli.rx, want, strlen(want)) != 0
	    || strstr(T.cli.rx, "Connection: close\r\n") == NULL)
		fail_msg("%s: got \"%s\"", r->name, T.cli.rx);
	if (!T.cli.eof)
		fail_msg("%s: the connection stayed open", r->name);
	if (*(const uint64_t *)((const char *)&T.stats + r->counter) != 1)
	{
		for (unsigned i = 0; i < PG_HTTP_C_MAX; i++)
			if (((uint64_t *)&T.stats)[i] != 0)
				print_message("# %s = %lu\n",
					      pg_http_counter_names[i],
					      ((uint64_t *)&T.stats)[i]);
		fail_msg("%s: not counted under its reason", r->name);
	}
	/* refused in the head: never seen; in the body: told it is gone */
	if (T.requests != T.closes)
		fail_msg("%s: the application holds a dead request", r->name);
	if (T.pending != NULL)
		fail_msg("%s: answered a refused request", r->name);
	/* every refusal is one access log line with its status */
	if (T.logs != 1 || T.log.status != r->status)
		fail_msg("%s: on_log %u times, status %u", r->name, T.logs,
			 T.log.status);
	h1t_finish();
}

static void
test_smuggling(void **state)
{
	(void)state;
	for (unsigned i = 0; i < PG_ARRAY_SIZE(smuggling); i++)
		check_reject(NULL, &smuggling[i], 10000);
}

/* A pipelined request behind a refused one is never served. */
static void
test_nothing_after_reject(void **state)
{
	(void)state;
	h1t_exchange(NULL, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
		     "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 10000);
	assert_null(strstr(T.cli.rx, "smuggled"));
	assert_int_equal(T.requests, 0);
	assert_true(T.cli.eof);
	h1t_finish();
}

static void
answer_at_once(struct pg_http_xchg *h, struct pg_http_msg *q)
{
	struct pg_http_msg r = { .status = 200 };
	const char *err;

	(void)q;
	T.requests++;
	assert_int_equal(pg_http_xchg_respond(h, &r, 5, 0, &err), PG_OK);
	assert_int_equal(pg_http_xchg_write(h, "early", 5, 1), PG_OK);
}

/*
 * The application answered before the body came, and the body's framing
 * then turns out bad: the answer is whole, so it reaches the client and
 * the connection closes (FIN, not a reset that would destroy it); the
 * request behind it is never served.
 */
static void
test_bad_body_after_answer(void **state)
{
	(void)state;
	h1t_handler.on_request = answer_at_once;
	h1t_exchange(NULL, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
		     "chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
		     "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 10000);
	h1t_handler.on_request = h1t_on_request;
	assert_int_equal(T.requests, 1);
	assert_string_equal(T.cli.rx, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
			    "\r\nearly");
	assert_true(T.cli.eof);
	assert_int_equal(T.stats.err_chunk, 1);
	h1t_finish();
}

static void
test_limits(void **state)
{
	struct pg_h1_conf c = h1t_conf();
	static char req[8192];
	int n;
	(void)state;

	c.max_request_line = 100;
	c.max_header_bytes = 200;
	c.max_headers = 5;
	c.max_body = 10;

	/* request line */
	n = snprintf(req, sizeof(req), "GET /%0150d HTTP/1.1\r\nHost: a\r\n\r\n",
		     0);
	check_reject(&c, &(struct reject){ "URI", req, 414,
					   C(err_uri_too_long) }, 10000);
	/* header bytes */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX: %0250d"
		     "\r\n\r\n", 0);
	check_reject(&c, &(struct reject){ "header bytes", req, 431,
					   C(err_header_size) }, 10000);
	/* header count */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 6; i++)
		n += snprintf(req + n, sizeof(req) - n, "X%d: v\r\n", i);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	check_reject(&c, &(struct reject){ "header count", req, 431,
					   C(err_header_count) }, 10000);
	/* trailers count against the same limits */
	check_reject(&c, &(struct reject){ "trailer count",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431,
		C(err_header_count) }, 10000);
	/* body: declared, then chunked */
	check_reject(&c, &(struct reject){ "Content-Length", "POST / HTTP/1.1"
		"\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 413,
		C(err_body_size) }, 10000);
	check_reject(&c, &(struct reject){ "chunked body", "POST / HTTP/1.1\r\n"
		"Host: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n"
		"6\r\n012345\r\n0\r\n\r\n", 413, C(err_body_size) }, 10000);
	(void)n;
}

/* A header that spans segments is copied into the arena; a full arena is 431. */
static void
test_arena_full(void **state)
{
	struct pg_h1_conf c = h1t_conf();
	static char val[3000];
	(void)state;

	c.arena_size = c.max_headers * sizeof(struct pg_http_field) + 1024;
	memset(val, 'v', sizeof(val) - 1);
	h1t_start(&c);
	h1t_connect();
	h1t_sends("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	h1t_sends(val);
	h1t_sends("\r\n\r\n");
	h1t_run(h1t_all_closed, 10000);
	assert_int_equal(strncmp(T.cli.rx, "HTTP/1.1 431 ", 13), 0);
	assert_int_equal(T.stats.err_header_size, 1);
	h1t_finish();
}

static void
test_timeouts(void **state)
{
	struct pg_h1_conf c = h1t_conf();
	(void)state;

	c.header_timeout_ms = 3000;
	c.body_timeout_ms = 2000;
	c.keepalive_timeout_ms = 4000;

	/* slowloris: a head that never ends */
	check_reject(&c, &(struct reject){ "header timeout",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n", 408,
		C(timeout_header) }, 60000);
	assert_true(T.cli.eof_ns - PG_TCP_SIM_START_NS >= 3000 * H1T_MS);
	assert_true(T.cli.eof_ns - PG_TCP_SIM_START_NS < 3100 * H1T_MS);

	/* a body that stops: 408, and the application hears of it */
	check_reject(&c, &(struct reject){ "body timeout",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n012",
		408, C(timeout_body) }, 60000);
	assert_int_equal(T.requests, 1);
	assert_int_equal(T.closes, 1);

	/* connected, nothing sent: closed without a response */
	h1t_exchange(&c, "", 60000);
	assert_int_equal(T.cli.rxlen, 0);
	assert_true(T.cli.eof);
	h1t_finish();

	/* idle after a response: closed without a response */
	h1t_exchange(&c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 60000);
	assert_true(T.cli.eof);
	assert_int_equal(T.stats.timeout_keepalive, 1);
	assert_null(strstr(T.cli.rx, "408"));
	h1t_finish();
}

/* The peer resets in the middle of a request the application holds. */
static void
test_abort(void **state)
{
	(void)state;
	h1t_start(NULL);
	T.async_ms = 50;
	h1t_sends("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	h1t_connect();
	h1t_run(NULL, 10);
	assert_int_equal(T.requests, 1);
	pg_tcp_abort(T.cli.c);
	T.cli.c = NULL;
	T.cli.closed = 1;
	h1t_run(h1t_all_closed, 10000);
	assert_int_equal(pg_h1_server_conns(T.srv), 0);
	assert_int_equal(T.closes, 1);
	assert_null(T.pending);
	assert_int_equal(T.stats.aborted, 1);
	h1t_finish();
}

int
main(void)
{
	pg_test_eal();
	if (getenv("H1T_FILTER"))
		cmocka_set_test_filter(getenv("H1T_FILTER"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_nothing_after_reject),
		cmocka_unit_test(test_bad_body_after_answer),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_arena_full),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
