/*
 * HTTP/2 over a fake pg_stream against an nghttp2 client (or raw frames):
 * SETTINGS exchange, requests and responses, flow control opened by the
 * application's reads, limits, every attack limit, timeouts, graceful
 * shutdown, and nothing left allocated afterwards.
 */
#include "tests/unit/pg_test.h"

#include "tests/unit/http/pg_h2_sim.h"

static void
test_preface_settings(void **state)
{
	(void)state;
	h2t_start(NULL);
	h2t_pump();
	/* our SETTINGS, and the ACK of the client's */
	assert_int_equal(T.log.settings, 1);
	assert_int_equal(T.log.settings_ack, 1);
	assert_int_equal(T.log.wu_conn, 1);      /* the connection window */
	assert_int_equal(nghttp2_session_get_remote_settings(T.cli,
			 NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 100);
	assert_int_equal(nghttp2_session_get_remote_settings(T.cli,
			 NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 16384);
	assert_int_equal(nghttp2_session_get_remote_settings(T.cli,
			 NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 65535);
	assert_int_equal(T.stats.conns, 1);
	assert_int_equal(pg_h2_server_conns(T.srv), 1);
	/* the client acknowledged: no SETTINGS timeout */
	h2t_advance(15000);
	assert_int_equal(T.stats.timeout_settings, 0);
	assert_false(T.fs.closed);
	h2t_finish();
}

static void
test_get(void **state)
{
	(void)state;
	h2t_start(NULL);
	int32_t id = h2t_request("GET", "/hello?x=1", NULL, 0, 0);
	h2t_pump();
	struct h2t_cstream *c = h2t_cs(id);
	assert_int_equal(c->status, 200);
	assert_string_equal(c->body, "GET /hello");
	assert_non_null(strstr(c->headers, "content-type: text/plain\n"));
	assert_non_null(strstr(c->headers, "content-length: 10\n"));
	assert_true(c->closed);
	assert_int_equal(c->close_code, 0);
	assert_int_equal(T.stats.requests, 1);
	assert_int_equal(T.stats.responses, 1);
	assert_int_equal(T.stats.status_2xx, 1);
	assert_int_equal(T.logs, 1);
	assert_int_equal(T.log_last.status, 200);
	assert_string_equal(T.log_target, "/hello?x=1");
	/* :status 200, content-type, content-length 10; the body */
	assert_int_equal(T.log_last.bytes, 10 + 22 + 16 + 10);
	/*
	 * The answer came inside nghttp2's callbacks, so it was framed after
	 * the application let go; the log came before, while x->ctx was
	 * still its own (the access log takes the request id from there).
	 */
	assert_non_null(T.log_ctx);
	h2t_finish();
}

/* The window opens only for what the application read. */
static void
test_post_window(void **state)
{
	static uint8_t body[200000];
	(void)state;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)('a' + i % 26);
	h2t_start(NULL);
	T.no_read = 1;
	T.post = body;
	T.post_len = sizeof(body);
	int32_t id = h2t_request("POST", "/up", NULL, 0, 1);
	h2t_pump();
	/* the stream window (65535) is full and nothing was read */
	assert_int_equal(T.nheld, 1);
	assert_int_equal(T.log.wu_stream, 0);
	assert_true(T.post_off < sizeof(body));
	struct pg_http_xchg *x = T.held[0];
	assert_false(pg_http_xchg_body_done(x));
	static uint8_t got[sizeof(body)];
	uint64_t have = 0;
	unsigned rounds = 0;
	while (!pg_http_xchg_body_done(x) || have < sizeof(body)) {
		uint32_t n = pg_http_xchg_body_read(x, got + have, 40000);
		have += n;
		h2t_pump();
		assert_true(++rounds < 100);
	}
	assert_int_equal(have, sizeof(body));
	assert_memory_equal(got, body, sizeof(body));
	assert_true(T.log.wu_stream > 0);
	assert_true(T.log.wu_stream_inc <= sizeof(body));
	const char *err;
	struct pg_http_msg r = { .status = 204 };
	assert_int_equal(pg_http_xchg_respond(x, &r, 0, PG_XCHG_END, &err),
			 PG_OK);
	h2t_pump();
	assert_int_equal(h2t_cs(id)->status, 204);
	assert_true(h2t_cs(id)->closed);
	h2t_finish();
}

static void
test_concurrent_100(void **state)
{
	int32_t ids[100];
	char path[32];
	(void)state;

	h2t_start(NULL);
	h2t_pump();
	T.hold = 1;
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/s%d", i);
		ids[i] = h2t_request("GET", path, NULL, 0, 0);
	}
	h2t_pump();
	assert_int_equal(T.nheld, 100);
	for (unsigned i = 0; i < T.nheld; i++)
		h2t_answer_held(i);
	h2t_pump();
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "GET /s%d", i);
		assert_int_equal(h2t_cs(ids[i])->status, 200);
		assert_string_equal(h2t_cs(ids[i])->body, path);
	}
	assert_int_equal(T.stats.responses, 100);
	assert_int_equal(T.stats.refused_streams, 0);
	h2t_finish();
}

/* Requests sent before our SETTINGS arrived: the extra ones refused. */
static void
test_max_concurrent(void **state)
{
	struct pg_h2_conf c;
	int32_t ids[4];
	(void)state;

	pg_h2_conf_default(&c);
	c.max_concurrent_streams = 2;
	h2t_start(&c);
	T.hold = 1;
	for (int i = 0; i < 4; i++)
		ids[i] = h2t_request("GET", "/", NULL, 0, 0);
	h2t_pump();
	assert_int_equal(T.nheld, 2);
	assert_int_equal(T.stats.refused_streams, 2);
	assert_int_equal(T.log.rst_by_code[NGHTTP2_REFUSED_STREAM], 2);
	assert_int_equal(h2t_cs(ids[2])->close_code, NGHTTP2_REFUSED_STREAM);
	h2t_answer_held(0);
	h2t_answer_held(1);
	h2t_pump();
	assert_int_equal(h2t_cs(ids[0])->status, 200);
	assert_int_equal(h2t_cs(ids[1])->status, 200);
	h2t_finish();
}

static void
test_header_list_too_large(void **state)
{
	static char big[2000];
	nghttp2_nv nv[12];
	(void)state;

	memset(big, 'v', sizeof(big) - 1);
	h2t_start(NULL);
	for (int i = 0; i < 12; i++)
		nv[i] = (nghttp2_nv)H2T_NV("x-big", big);
	int32_t id = h2t_request("GET", "/", nv, 12, 0);
	h2t_pump();
	assert_int_equal(h2t_cs(id)->status, 431);
	assert_int_equal(T.stats.err_header_list, 1);
	assert_int_equal(T.requests, 0);
	assert_int_equal(T.logs, 1);           /* the refusal is logged */
	assert_null(T.log_ctx);                /* (the protocol's own) */
	assert_int_equal(T.log_last.status, 431);
	/* the connection goes on */
	int32_t id2 = h2t_request("GET", "/after", NULL, 0, 0);
	h2t_pump();
	assert_string_equal(h2t_cs(id2)->body, "GET /after");
	h2t_finish();
}

static void
test_cookie_crumbs(void **state)
{
	nghttp2_nv nv[] = { H2T_NV("cookie", "a=1"), H2T_NV("x-other", "o"),
			    H2T_NV("cookie", "b=2"), H2T_NV("cookie", "c=3") };
	(void)state;

	h2t_start(NULL);
	int32_t id = h2t_request("GET", "/c", nv, 4, 0);
	h2t_pump();
	assert_int_equal(h2t_cs(id)->status, 200);
	assert_string_equal(T.cookie, "a=1; b=2; c=3");
	h2t_finish();
}

/* Each malformed request is reset with PROTOCOL_ERROR and counted. */
static void
test_malformed(void **state)
{
	static const char *const upper[] = {
		":method", "GET", ":scheme", "http", ":authority", "a",
		":path", "/", "X-Upper", "1", NULL };
	static const char *const conn[] = {
		":method", "GET", ":scheme", "http", ":authority", "a",
		":path", "/", "connection", "keep-alive", NULL };
	static const char *const nopath[] = {
		":method", "GET", ":scheme", "http", ":authority", "a", NULL };
	static const char *const te[] = {
		":method", "GET", ":scheme", "http", ":authority", "a",
		":path", "/", "te", "gzip", NULL };
	static const char *const badname[] = {
		":method", "GET", ":scheme", "http", ":authority", "a",
		":path", "/", "x y", "1", NULL };
	const char *const *cases[] = { upper, conn, nopath, te, badname };
	(void)state;

	h2t_start_raw(NULL);
	for (unsigned i = 0; i < PG_ARRAY_SIZE(cases); i++)
		h2t_raw_headers(2 * i + 1, NGHTTP2_FLAG_END_HEADERS
				| NGHTTP2_FLAG_END_STREAM, cases[i]);
	h2t_raw_headers(11, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM,
			h2t_get_nv);
	h2t_pump();
	for (unsigned i = 0; i < PG_ARRAY_SIZE(cases); i++)
		assert_int_equal(T.log.rst_code[2 * i + 1],
				 NGHTTP2_PROTOCOL_ERROR);
	assert_int_equal(T.stats.err_malformed, PG_ARRAY_SIZE(cases));
	assert_int_equal(T.requests, 1);       /* only the good one */
	assert_int_equal(T.stats.responses, 1);
	assert_int_equal(T.log.goaway, 0);
	h2t_finish();
}

static void
test_stream_trailers(void **state)
{
	(void)state;
	h2t_start(NULL);
	T.stream = 1;
	int32_t id = h2t_request("GET", "/t", NULL, 0, 0);
	h2t_pump();
	struct h2t_cstream *c = h2t_cs(id);
	assert_int_equal(c->status, 200);
	assert_string_equal(c->body, "GET /t");
	assert_null(strstr(c->headers, "content-length"));
	assert_string_equal(c->trailers, "x-checksum: abc\n");
	assert_true(c->closed);
	assert_int_equal(c->close_code, 0);
	h2t_finish();
}

/* 8 MiB through a 16 KiB window: every byte, memory bounded. */
static void
test_large_response(void **state)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16384 } };
	(void)state;

	h2t_start_with(NULL, iv, 1);
	T.big = 1;
	T.big_len = 8u << 20;
	int32_t id = h2t_request("GET", "/big", NULL, 0, 0);
	h2t_pump();
	struct h2t_cstream *c = h2t_cs(id);
	assert_int_equal(c->status, 200);
	assert_int_equal(c->body_len, 8u << 20);
	assert_false(c->pattern_bad);
	assert_true(c->closed);
	assert_int_equal(c->close_code, 0);
	assert_true(T.writables > 0);
	/* at most ~1 MiB of 2 KiB mbufs at any time */
	assert_true(T.max_mbufs < 512);
	assert_int_equal(T.log_last.status, 200);
	assert_true(T.log_last.bytes > (8u << 20));
	assert_int_equal(T.log.goaway, 0);     /* no limit took it for abuse */
	h2t_finish();
}

/*
 * 30 held requests, each followed by a frame that ends its stream: the
 * peer's RST_STREAM, or one that makes us reset it. Over a bucket of 10:
 * GOAWAY ENHANCE_YOUR_CALM, counted.
 */
static void
h2t_reset_flood(uint8_t type, const uint8_t pay[4])
{
	struct pg_h2_conf c;

	pg_h2_conf_default(&c);
	c.rst_burst = 10;
	c.rst_rate = 1;
	h2t_start_raw(&c);
	T.hold = 1;
	for (uint32_t i = 0; i < 30; i++) {
		h2t_raw_headers(2 * i + 1, NGHTTP2_FLAG_END_HEADERS
				| NGHTTP2_FLAG_END_STREAM, h2t_get_nv);
		h2t_raw_frame(type, 0, 2 * i + 1, pay, 4);
	}
	h2t_pump();
	assert_int_equal(T.stats.flood_rst, 1);
	assert_int_equal(T.log.goaway, 1);
	assert_int_equal(T.log.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
	assert_true(T.fs.closed);
}

static void
test_rapid_reset(void **state)
{
	static const uint8_t cancel[4] = { 0, 0, 0, NGHTTP2_CANCEL };
	(void)state;

	h2t_reset_flood(NGHTTP2_RST_STREAM, cancel);
	assert_int_equal(T.closes, T.requests);  /* every held one told */
	h2t_finish();
}

/* Resets the peer provokes (MadeYouReset) count like the ones it sends. */
static void
test_made_you_reset(void **state)
{
	static const uint8_t max[4] = { 0x7f, 0xff, 0xff, 0xff };
	(void)state;

	h2t_reset_flood(NGHTTP2_WINDOW_UPDATE, max);   /* window over 2^31-1 */
	assert_int_equal(T.stats.resets_sent, 11);     /* the burst, then one */
	h2t_finish();
}

static void
test_continuation_flood(void **state)
{
	uint8_t lit[8] = { 0x00, 1, 'x', 4, 'a', 'b', 'c', 'd' };
	(void)state;

	h2t_start_raw(NULL);
	h2t_raw_headers(1, 0, h2t_get_nv);       /* no END_HEADERS */
	for (int i = 0; i < 20; i++)
		h2t_raw_frame(NGHTTP2_CONTINUATION, 0, 1, lit, sizeof(lit));
	h2t_pump();
	assert_int_equal(T.stats.flood_continuation, 1);
	assert_int_equal(T.log.goaway, 1);
	assert_int_equal(T.log.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
	assert_true(T.fs.closed);
	assert_int_equal(T.requests, 0);
	h2t_finish();
}

/* n frames of one kind, all at the same second: GOAWAY, counted. */
static void
h2t_flood(uint8_t type, uint32_t sid, const void *pay, uint32_t len,
	  unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		h2t_raw_frame(type, 0, sid, pay, len);
	h2t_pump();
	assert_int_equal(T.log.goaway, 1);
	assert_int_equal(T.log.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
	assert_true(T.fs.closed);
}

static void
test_settings_flood(void **state)
{
	(void)state;
	h2t_start_raw(NULL);
	h2t_flood(NGHTTP2_SETTINGS, 0, NULL, 0, 150);
	assert_int_equal(T.stats.flood_settings, 1);
	h2t_finish();
}

static void
test_ping_flood(void **state)
{
	uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	(void)state;

	h2t_start_raw(NULL);
	h2t_flood(NGHTTP2_PING, 0, ping, 8, 150);
	assert_int_equal(T.stats.flood_ping, 1);
	assert_true(T.log.frames[NGHTTP2_PING] <= 101);
	h2t_finish();
}

/* PINGs under the rate, each second: answered, no GOAWAY. */
static void
test_ping_under_rate(void **state)
{
	uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	(void)state;

	h2t_start_raw(NULL);
	for (int s = 0; s < 3; s++) {
		for (int i = 0; i < 90; i++)
			h2t_raw_frame(NGHTTP2_PING, 0, 0, ping, 8);
		h2t_advance(1000);
	}
	assert_int_equal(T.log.frames[NGHTTP2_PING], 270);
	assert_int_equal(T.stats.flood_ping, 0);
	assert_false(T.fs.closed);
	h2t_finish();
}

static void
test_empty_data_flood(void **state)
{
	static const char *const post[] = {
		":method", "POST", ":scheme", "http", ":authority", "a",
		":path", "/", NULL };
	(void)state;

	h2t_start_raw(NULL);
	T.hold = 1;
	h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS, post);
	h2t_flood(NGHTTP2_DATA, 1, NULL, 0, 150);
	assert_int_equal(T.stats.flood_empty_data, 1);
	assert_int_equal(T.closes, 1);         /* the held request */
	h2t_finish();
}

static void
test_window_update_flood(void **state)
{
	uint8_t inc[4] = { 0, 0, 0, 1 };
	struct pg_h2_conf c;
	(void)state;

	pg_h2_conf_default(&c);
	c.window_update_rate = 50;
	h2t_start_raw(&c);
	h2t_flood(NGHTTP2_WINDOW_UPDATE, 0, inc, 4, 80);
	assert_int_equal(T.stats.flood_window_update, 1);
	h2t_finish();
}

/*
 * Frames on a stream nghttp2 forgot reach no callback of its own: the
 * scan before it limits them too, also when they come a byte at a time.
 */
static void
test_flood_on_closed_stream(void **state)
{
	static const uint8_t wu[13] = { 0, 0, 4, NGHTTP2_WINDOW_UPDATE, 0,
					0, 0, 0, 1, 0, 0, 0, 1 };
	static const uint8_t data[9] = { 0, 0, 0, NGHTTP2_DATA, 0, 0, 0, 0, 1 };
	struct pg_h2_conf c;
	(void)state;

	pg_h2_conf_default(&c);
	c.window_update_rate = 20;
	for (int kind = 0; kind < 2; kind++) {
		const uint8_t *f = kind == 0 ? wu : data;
		uint32_t len = kind == 0 ? sizeof(wu) : sizeof(data);
		h2t_start_raw(&c);
		h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS
				| NGHTTP2_FLAG_END_STREAM, h2t_get_nv);
		h2t_pump();                  /* answered: stream 1 closed */
		assert_int_equal(T.log.goaway, 0);
		for (int i = 0; i < 200 && !T.fs.closed; i++)
			for (uint32_t b = 0; b < len; b++)
				h2t_to_server(f + b, 1);
		h2t_pump();
		assert_int_equal(T.log.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
		assert_int_equal(kind == 0 ? T.stats.flood_window_update
				 : T.stats.flood_empty_data, 1);
		h2t_finish();
	}
}

/* A flow-control error counts once, on the stream or the connection. */
static void
test_window_overflow(void **state)
{
	uint8_t max[4] = { 0x7f, 0xff, 0xff, 0xff };
	(void)state;

	h2t_start_raw(NULL);
	T.hold = 1;                  /* stream 1 half-closed, answer pending */
	h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM,
			h2t_get_nv);
	h2t_raw_frame(NGHTTP2_WINDOW_UPDATE, 0, 1, max, 4);
	h2t_pump();
	assert_int_equal(T.log.rst_code[1], NGHTTP2_FLOW_CONTROL_ERROR);
	assert_int_equal(T.stats.err_flow_control, 1);
	assert_int_equal(T.log.goaway, 0);
	h2t_raw_frame(NGHTTP2_WINDOW_UPDATE, 0, 0, max, 4);
	h2t_pump();
	assert_int_equal(T.log.goaway_code, NGHTTP2_FLOW_CONTROL_ERROR);
	assert_int_equal(T.stats.err_flow_control, 2);
	assert_true(T.fs.closed);
	h2t_finish();
}

/* Every GOAWAY for a peer's fault counts an error, whatever its code. */
static void
test_protocol_errors(void **state)
{
	static const uint32_t codes[] = { NGHTTP2_FRAME_SIZE_ERROR,
					  NGHTTP2_PROTOCOL_ERROR,
					  NGHTTP2_STREAM_CLOSED };
	uint8_t ping[7] = { 0 }, prio[5] = { 0, 0, 0, 1, 15 };
	(void)state;

	for (unsigned i = 0; i < PG_ARRAY_SIZE(codes); i++) {
		h2t_start_raw(NULL);
		T.hold = 1;
		if (codes[i] == NGHTTP2_FRAME_SIZE_ERROR) {
			h2t_raw_frame(NGHTTP2_PING, 0, 0, ping, sizeof(ping));
		} else if (codes[i] == NGHTTP2_PROTOCOL_ERROR) {
			/* PRIORITY on stream 0, then a request not taken */
			h2t_raw_frame(NGHTTP2_PRIORITY, 0, 0, prio, 5);
			h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS
					| NGHTTP2_FLAG_END_STREAM, h2t_get_nv);
		} else {            /* HEADERS again on a half-closed stream */
			h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS
					| NGHTTP2_FLAG_END_STREAM, h2t_get_nv);
			h2t_raw_headers(1, NGHTTP2_FLAG_END_HEADERS
					| NGHTTP2_FLAG_END_STREAM, h2t_get_nv);
		}
		h2t_pump();
		assert_int_equal(T.log.goaway_code, codes[i]);
		assert_int_equal(T.stats.err_protocol, 1);
		assert_int_equal(T.requests, codes[i] == NGHTTP2_STREAM_CLOSED);
		h2t_finish();
	}
}

static void
test_idle_timeout(void **state)
{
	struct pg_h2_conf c;
	(void)state;

	pg_h2_conf_default(&c);
	c.idle_timeout_ms = 1000;
	h2t_start(&c);
	int32_t id = h2t_request("GET", "/", NULL, 0, 0);
	h2t_pump();
	assert_int_equal(h2t_cs(id)->status, 200);
	h2t_advance(900);
	assert_false(T.fs.closed);
	h2t_advance(200);
	assert_int_equal(T.stats.timeout_idle, 1);
	assert_int_equal(T.log.goaway, 1);
	assert_int_equal(T.log.goaway_code, NGHTTP2_NO_ERROR);
	assert_int_equal(T.log.goaway_last, 1);
	assert_true(T.fs.closed);
	assert_false(T.fs.aborted);
	assert_int_equal(pg_h2_server_conns(T.srv), 0);
	h2t_finish();
}

static void
test_settings_timeout(void **state)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	(void)state;

	h2t_server(NULL);
	T.raw = 1;
	assert_int_equal(pg_h2_attach(T.srv, &T.fs.st, preface,
				      sizeof(preface) - 1), PG_OK);
	h2t_raw_frame(NGHTTP2_SETTINGS, 0, 0, NULL, 0);   /* never an ACK */
	h2t_pump();
	h2t_advance(9000);
	assert_false(T.fs.closed);
	h2t_advance(1100);
	assert_int_equal(T.stats.timeout_settings, 1);
	assert_int_equal(T.log.goaway_code, NGHTTP2_SETTINGS_TIMEOUT);
	assert_true(T.fs.closed);
	h2t_finish();
}

static void
test_bad_preface(void **state)
{
	static const char h1[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	(void)state;

	h2t_server(NULL);
	T.raw = 1;
	assert_int_equal(pg_h2_attach(T.srv, &T.fs.st, h1, sizeof(h1) - 1),
			 PG_OK);
	h2t_pump();
	assert_int_equal(T.stats.err_preface, 1);
	assert_true(T.fs.closed);
	h2t_finish();
}

/* GOAWAY names the last stream; the stream in flight completes. */
static void
test_graceful_shutdown(void **state)
{
	(void)state;
	h2t_start(NULL);
	T.hold = 1;
	int32_t id = h2t_request("GET", "/slow", NULL, 0, 0);
	h2t_pump();
	assert_int_equal(T.nheld, 1);
	pg_h2_server_shutdown(T.srv);
	h2t_pump();
	assert_int_equal(T.log.goaway, 1);
	assert_int_equal(T.log.goaway_last, (uint32_t)id);
	assert_int_equal(T.log.goaway_code, NGHTTP2_NO_ERROR);
	assert_false(T.fs.closed);
	/* no new connection while shutting down */
	struct pg_stream_fake other;
	pg_stream_fake_init(&other, pg_test_pool, H2T_HIGH, H2T_LOW);
	assert_int_equal(pg_h2_attach(T.srv, &other.st, NULL, 0), PG_ERROR);
	assert_int_equal(T.stats.conn_refused, 1);
	h2t_answer_held(0);
	h2t_pump();
	assert_int_equal(h2t_cs(id)->status, 200);
	assert_string_equal(h2t_cs(id)->body, "GET /slow");
	assert_true(T.fs.closed);
	assert_false(T.fs.aborted);
	assert_int_equal(T.stats.goaway_sent, 1);
	h2t_finish();
}

/* The peer resets a stream the application holds: on_close. */
static void
test_peer_reset(void **state)
{
	(void)state;
	h2t_start(NULL);
	T.hold = 1;
	int32_t id = h2t_request("GET", "/r", NULL, 0, 0);
	h2t_pump();
	assert_int_equal(T.nheld, 1);
	nghttp2_submit_rst_stream(T.cli, NGHTTP2_FLAG_NONE, id,
				  NGHTTP2_CANCEL);
	h2t_pump();
	assert_int_equal(T.closes, 1);
	assert_null(T.held[0]);
	assert_int_equal(T.stats.resets_recv, 1);
	assert_int_equal(T.stats.aborted, 1);
	h2t_finish();
}

/* abort() resets the stream; the connection goes on. */
static void
test_app_abort(void **state)
{
	(void)state;
	h2t_start(NULL);
	T.hold = 1;
	int32_t id = h2t_request("GET", "/a", NULL, 0, 0);
	h2t_pump();
	pg_http_xchg_abort(T.held[0]);
	h2t_pump();
	assert_true(h2t_cs(id)->closed);
	assert_int_equal(h2t_cs(id)->close_code, NGHTTP2_CANCEL);
	assert_int_equal(T.closes, 0);
	assert_false(T.fs.closed);
	h2t_finish();
}

/* Upgrade: h2c: 101, then the HTTP/1.1 request answered as stream 1. */
static void
test_upgrade(void **state)
{
	uint8_t settings[64], first[512], arena[4096];
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 10 } };
	struct pg_http_msg req;
	const uint8_t *p;
	const char *err;
	uint32_t len = 0;
	ssize_t n, slen;
	(void)state;

	h2t_server(NULL);
	h2t_client(NULL, 0);
	slen = nghttp2_pack_settings_payload(settings, sizeof(settings), iv, 1);
	assert_true(slen > 0);
	assert_int_equal(nghttp2_session_upgrade2(T.cli, settings, (size_t)slen,
						  0, NULL), 0);
	while ((n = nghttp2_session_mem_send(T.cli, &p)) > 0) {
		memcpy(first + len, p, (size_t)n);
		len += (uint32_t)n;
	}
	assert_int_equal(pg_http_msg_init(&req, arena, sizeof(arena), 8), PG_OK);
	req.method_name = (struct pg_http_str){ "GET", 3 };
	req.method = PG_HTTP_GET;
	req.version = 11;
	req.flags = PG_HTTP_F_BODY_DONE;
	assert_int_equal(pg_http_msg_set_target(&req, "/up?q", 5), PG_OK);
	assert_int_equal(pg_http_msg_add(&req, "Host", 4, "a", 1, 0), PG_OK);
	assert_int_equal(pg_h2_attach_upgrade(T.srv, &T.fs.st, settings,
					      (uint32_t)slen, &req, first, len,
					      &err), PG_OK);
	/* the 101 comes first, in HTTP/1.1 */
	struct rte_mbuf *m = pg_stream_fake_pop(&T.fs);
	assert_non_null(m);
	assert_memory_equal(rte_pktmbuf_mtod(m, char *),
			    "HTTP/1.1 101 Switching Protocols\r\n", 34);
	pg_mbuf_free(m);
	h2t_pump();
	assert_int_equal(h2t_cs(1)->status, 200);
	assert_string_equal(h2t_cs(1)->body, "GET /up");
	assert_int_equal(T.stats.requests, 1);
	pg_http_msg_reset(&req);
	h2t_finish();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preface_settings),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_post_window),
		cmocka_unit_test(test_concurrent_100),
		cmocka_unit_test(test_max_concurrent),
		cmocka_unit_test(test_header_list_too_large),
		cmocka_unit_test(test_cookie_crumbs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_stream_trailers),
		cmocka_unit_test(test_large_response),
		cmocka_unit_test(test_rapid_reset),
		cmocka_unit_test(test_made_you_reset),
		cmocka_unit_test(test_continuation_flood),
		cmocka_unit_test(test_settings_flood),
		cmocka_unit_test(test_ping_flood),
		cmocka_unit_test(test_ping_under_rate),
		cmocka_unit_test(test_empty_data_flood),
		cmocka_unit_test(test_flood_on_closed_stream),
		cmocka_unit_test(test_window_update_flood),
		cmocka_unit_test(test_window_overflow),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_settings_timeout),
		cmocka_unit_test(test_bad_preface),
		cmocka_unit_test(test_graceful_shutdown),
		cmocka_unit_test(test_peer_reset),
		cmocka_unit_test(test_app_abort),
		cmocka_unit_test(test_upgrade),
	};

	pg_test_eal();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
