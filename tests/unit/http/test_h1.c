/*
 * HTTP/1.1 over the TCP stack on the simulated wire: keep-alive,
 * pipelining in order, chunked both ways, 100-continue, HEAD/204/304,
 * HTTP/1.0, and nothing left allocated afterwards.
 */
#include "tests/unit/pg_test.h"

#include "tests/unit/http/pg_h1_sim.h"

#define OK_HEAD(len) "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
		     "Content-Length: " #len "\r\n\r\n"

static void
test_get(void **state)
{
	(void)state;
	h1t_exchange(NULL, "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n"
		     "Connection: close\r\n\r\n", 10000);
	assert_string_equal(T.cli.rx,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 10\r\nConnection: close\r\n\r\n"
			    "GET /hello");
	assert_true(T.cli.eof);
	assert_int_equal(T.stats.requests, 1);
	assert_int_equal(T.stats.responses, 1);
	assert_int_equal(T.stats.status_2xx, 1);
	/* on_log: one response, every byte the client got, what was asked */
	assert_int_equal(T.logs, 1);
	assert_int_equal(T.log.status, 200);
	assert_int_equal(T.log.bytes, T.cli.rxtotal);
	assert_string_equal(T.log_method, "GET");
	assert_string_equal(T.log_target, "/hello?x=1");
	assert_true(T.log.start_ns != 0 && T.log.end_ns >= T.log.start_ns);
	h1t_finish();
}

static int
have_first(void)
{
	static int sent;
	if (T.cli.c == NULL)
		return 1;
	if (strstr(T.cli.rx, "GET /one") != NULL && !sent) {
		sent = 1;
		h1t_sends("GET /two HTTP/1.1\r\nHost: a\r\n\r\n");
	}
	return 0;
}

/* Two requests one after the other on one connection; idle close. */
static void
test_keepalive(void **state)
{
	struct pg_h1_conf c = h1t_conf();
	(void)state;

	c.keepalive_timeout_ms = 5000;
	h1t_start(&c);
	h1t_sends("GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
	h1t_connect();
	h1t_run(have_first, 60000);
	assert_string_equal(T.cli.rx, OK_HEAD(8) "GET /one" OK_HEAD(8)
				      "GET /two");
	assert_true(T.cli.eof);
	/* closed by the keep-alive timeout, about 5 s after the answer */
	uint64_t idle = T.cli.eof_ns - PG_TCP_SIM_START_NS;
	assert_true(idle >= 5000 * H1T_MS && idle < 5200 * H1T_MS);
	assert_int_equal(T.stats.keepalive_reuse, 1);
	assert_int_equal(T.stats.timeout_keepalive, 1);
	assert_int_equal(T.logs, 2);
	assert_string_equal(T.log_target, "/two");
	h1t_run(h1t_all_closed, 10000);
	h1t_finish();
}

/* Three requests in one segment, answered asynchronously, in order. */
static void
test_pipelining(void **state)
{
	(void)state;
	h1t_start(NULL);
	T.async_ms = 3;
	h1t_sends("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
		  "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
		  "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	h1t_connect();
	h1t_run(h1t_all_closed, 10000);
	assert_string_equal(T.cli.rx,
			    OK_HEAD(6) "GET /a" OK_HEAD(11) "POST /b xyz"
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 6\r\nConnection: close\r\n\r\n"
			    "GET /c");
	assert_int_equal(T.stats.requests, 3);
	assert_int_equal(T.stats.pipelined, 2);
	h1t_finish();
}

/* Chunked request body with a trailer; chunked response. */
static void
test_chunked(void **state)
{
	(void)state;
	h1t_start(NULL);
	T.stream = 1;
	h1t_sends("POST /up HTTP/1.1\r\nHost: a\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabc\r\n"
		  "4;ext=1\r\ndefg\r\n"
		  "0\r\nX-Check: 7\r\n\r\n"
		  "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	h1t_connect();
	h1t_run(h1t_all_closed, 10000);
	assert_string_equal(T.cli.rx,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n"
			    "3\r\nPOS\r\n" "d\r\nT /up abcdefg\r\n" "0\r\n\r\n"
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Transfer-Encoding: chunked\r\nConnection: close"
			    "\r\n\r\n3\r\nGET\r\n6\r\n /next\r\n0\r\n\r\n");
	assert_string_equal(T.last_trailer, "X-Check: 7");
	h1t_finish();
}

static int
saw_continue(void)
{
	static int sent;
	if (T.cli.c == NULL)
		return h1t_all_closed();
	if (!sent && strstr(T.cli.rx, "100 Continue") != NULL) {
		sent = 1;
		h1t_sends("hello");
	}
	return 0;
}

static void
test_expect_continue(void **state)
{
	(void)state;
	h1t_start(NULL);
	h1t_sends("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		  "Content-Length: 5\r\nConnection: close\r\n\r\n");
	h1t_connect();
	h1t_run(saw_continue, 10000);
	assert_string_equal(T.cli.rx, "HTTP/1.1 100 Continue\r\n\r\n"
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 12\r\nConnection: close\r\n\r\n"
			    "PUT /f hello");
	assert_int_equal(T.stats.continue_sent, 1);
	h1t_finish();
}

/* HEAD, 204 and 304 carry no body: the next response follows at once. */
static void
test_no_body(void **state)
{
	(void)state;
	h1t_exchange(NULL,
		     "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"
		     "GET /n HTTP/1.1\r\nHost: a\r\nX-Status: 204\r\n\r\n"
		     "GET /m HTTP/1.1\r\nHost: a\r\nX-Status: 304\r\n\r\n"
		     "GET /z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		     10000);
	assert_string_equal(T.cli.rx,
			    OK_HEAD(7)
			    "HTTP/1.1 204 No Content\r\n"
			    "Content-Type: text/plain\r\n\r\n"
			    "HTTP/1.1 304 Not Modified\r\n"
			    "Content-Type: text/plain\r\n\r\n"
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 6\r\nConnection: close\r\n\r\n"
			    "GET /z");
	h1t_finish();
}

static void
test_http10(void **state)
{
	(void)state;
	/* no keep-alive: the server closes */
	h1t_exchange(NULL, "GET /a HTTP/1.0\r\n\r\n", 10000);
	assert_string_equal(T.cli.rx,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 6\r\nConnection: close\r\n\r\n"
			    "GET /a");
	assert_true(T.cli.eof);
	h1t_finish();

	/* keep-alive asked for; then a streamed body ends with the close */
	h1t_start(NULL);
	h1t_sends("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	h1t_connect();
	h1t_run(NULL, 100);
	h1t_sends("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	T.stream = 1;
	h1t_run(h1t_all_closed, 10000);
	assert_string_equal(T.cli.rx,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 6\r\nConnection: keep-alive\r\n\r\n"
			    "GET /a"
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Connection: close\r\n\r\nGET /b");
	h1t_finish();
}

/* A request split over many small segments (spans across mbufs). */
static void
test_split(void **state)
{
	static const char req[] =
		"GET /split/path?q=1 HTTP/1.1\r\nHost: example\r\n"
		"X-Long-Header-Name: some value\r\nConnection: close\r\n\r\n";
	(void)state;
	h1t_start(NULL);
	h1t_connect();
	h1t_run(NULL, 10);
	for (unsigned i = 0; i < sizeof(req) - 1; i += 3) {
		h1t_send(req + i, RTE_MIN(3u, (unsigned)(sizeof(req) - 1 - i)));
		h1t_run(NULL, 2);
	}
	h1t_run(h1t_all_closed, 10000);
	assert_string_equal(T.cli.rx,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 15\r\nConnection: close\r\n\r\n"
			    "GET /split/path");
	h1t_finish();
}

/*
 * A body larger than the body buffer: the application reads it slowly,
 * the server stops reading meanwhile (the TCP window closes), nothing is
 * lost. Then a large response.
 */
static struct pg_http_xchg *slow_h;
static uint64_t slow_got, slow_sum;

static void
slow_on_request(struct pg_http_xchg *h, struct pg_http_msg *q)
{
	h->ctx = q;
	T.requests++;
	slow_h = h;
}

static int
slow_drain(void)
{
	char buf[700];
	uint32_t k;

	while (slow_h != NULL
	       && (k = pg_http_xchg_body_read(slow_h, buf, sizeof(buf))) > 0) {
		slow_got += k;
		for (uint32_t i = 0; i < k; i++)
			slow_sum += (uint8_t)buf[i];
	}
	if (slow_h != NULL && pg_http_xchg_body_done(slow_h)
	    && h1t_req(slow_h)->body_len == 0) {
		static char big[100000];
		struct pg_http_msg r = { .status = 200 };
		const char *err;
		memset(big, 'b', sizeof(big));
		assert_int_equal(pg_http_xchg_respond(slow_h, &r, sizeof(big), 0,
					       &err), PG_OK);
		assert_int_equal(pg_http_xchg_write(slow_h, big, sizeof(big), 1),
				 PG_OK);
		slow_h = NULL;
	}
	return h1t_all_closed();
}

static void
test_body_backpressure(void **state)
{
	struct pg_h1_conf c = h1t_conf();
	static char body[60000];
	uint64_t sum = 0;
	(void)state;

	c.body_buffer = 2000;
	c.max_body = sizeof(body);
	h1t_handler.on_request = slow_on_request;
	h1t_handler.on_request_end = NULL;
	h1t_start(&c);
	for (unsigned i = 0; i < sizeof(body); i++) {
		body[i] = (char)('a' + i % 26);
		sum += (uint8_t)body[i];
	}
	h1t_sends("POST /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
		  "Content-Length: 60000\r\n\r\n");
	h1t_connect();
	h1t_run(NULL, 5);
	h1t_send(body, sizeof(body));
	h1t_run(slow_drain, 60000);
	h1t_handler.on_request = h1t_on_request;
	h1t_handler.on_request_end = h1t_on_request_end;
	assert_int_equal(slow_got, sizeof(body));
	assert_int_equal(slow_sum, sum);
	assert_true(T.sim.side[PG_TCP_SIM_SERVER].tcp_stats.refused_bytes > 0);
	assert_int_equal(T.cli.rxtotal, 17 + 24 + 19 + 2 + 100000);
	assert_non_null(strstr(T.cli.rx, "Content-Length: 100000\r\n"));
	h1t_finish();
}

int
main(void)
{
	pg_test_eal();
	if (getenv("H1T_FILTER"))
		cmocka_set_test_filter(getenv("H1T_FILTER"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_body_backpressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
