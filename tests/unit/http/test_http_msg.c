/*
 * The HTTP message: arena, fields (ordered, case-insensitive lookup),
 * target splitting, framing choice, and the response serializer.
 */
#include "tests/unit/pg_test.h"

#include "http/pg_http_msg.h"

static char abuf[2048];

/* The chain's bytes as a NUL-terminated string (freed by the caller). */
static char *
flatten(struct rte_mbuf *m)
{
	char *s = malloc(m->pkt_len + 1);
	uint32_t off = 0;
	for (struct rte_mbuf *x = m; x != NULL; x = x->next) {
		memcpy(s + off, rte_pktmbuf_mtod(x, char *), x->data_len);
		off += x->data_len;
	}
	assert_int_equal(off, m->pkt_len);
	s[off] = 0;
	return s;
}

static void
test_fields(void **state)
{
	struct pg_http_msg m;
	(void)state;

	assert_int_equal(pg_http_msg_init(&m, abuf, sizeof(abuf), 8), PG_OK);
	assert_int_equal(pg_http_msg_add(&m, "Host", 4, "a", 1, 0), PG_OK);
	assert_int_equal(pg_http_msg_add(&m, "X-A", 3, "1", 1, 0), PG_OK);
	assert_int_equal(pg_http_msg_add(&m, "x-a", 3, "2", 1, 0), PG_OK);
	assert_int_equal(pg_http_msg_add(&m, "X-T", 3, "t", 1, 1), PG_OK);
	assert_int_equal(m.nheaders, 3);
	assert_int_equal(m.ntrailers, 1);
	assert_int_equal(pg_http_msg_find(&m, "X-a", 3, 0, 0), 1);
	assert_int_equal(pg_http_msg_find(&m, "X-a", 3, 2, 0), 2);
	assert_int_equal(pg_http_msg_find(&m, "X-a", 3, 3, 0), -1);
	assert_int_equal(pg_http_msg_find(&m, "x-t", 3, 0, 0), -1);
	assert_int_equal(pg_http_msg_find(&m, "x-t", 3, 0, 1), 3);
	assert_non_null(pg_http_msg_header(&m, "HOST"));
	/* '|' ^ 0x20 is '\\': case folding must touch letters only */
	assert_null(pg_http_msg_header(&m, "Host\\"));
	assert_int_equal(pg_http_msg_add(&m, "Late", 4, "x", 1, 0), PG_ERROR);
	for (int i = 0; i < 4; i++)
		pg_http_msg_add(&m, "T", 1, "v", 1, 1);
	assert_int_equal(pg_http_msg_add(&m, "T", 1, "v", 1, 1), PG_ERROR);

	/* arena: copies, extension of the last string, exhaustion */
	char *d = pg_http_arena_dup(&m.arena, "abc", 3);
	struct pg_http_str s = { d, 3 };
	assert_int_equal(pg_http_arena_extend(&m.arena, &s, "de", 2), PG_OK);
	assert_memory_equal(s.ptr, "abcde", 5);
	assert_null(pg_http_arena_alloc(&m.arena, sizeof(abuf)));
	pg_http_msg_reset(&m);
	assert_int_equal(m.nheaders, 0);
	assert_int_equal(m.arena.used, 8 * sizeof(struct pg_http_field));

	struct pg_http_str v = { " gzip, Keep-Alive ,close", 24 };
	assert_true(pg_http_list_has(&v, "close"));
	assert_true(pg_http_list_has(&v, "keep-alive"));
	assert_false(pg_http_list_has(&v, "deflate"));
}

/* HTTP2-Settings values (RFC 7540 3.2.1) are base64url, padding optional. */
static void
test_base64url(void **state)
{
	(void)state;
	uint8_t out[16];
	/* SETTINGS_MAX_CONCURRENT_STREAMS = 100, INITIAL_WINDOW_SIZE = 2^30 */
	static const uint8_t want[] = { 0, 3, 0, 0, 0, 100, 0, 4, 64, 0, 0, 0 };
	const char *s = "AAMAAABkAARAAAAA";
	assert_int_equal(pg_http_base64url_decode(s, 16, out, sizeof(out)), 12);
	assert_memory_equal(out, want, 12);
	/* both alphabets' last two characters: only -_ are base64url */
	assert_int_equal(pg_http_base64url_decode("-_8", 3, out, 16), 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(pg_http_base64url_decode("+/8", 3, out, 16), -1);
	assert_int_equal(pg_http_base64url_decode("AAE=", 4, out, 16), 2);
	assert_int_equal(pg_http_base64url_decode("", 0, out, 16), 0);
	/* a lone 6-bit group, padding bits set, a character outside */
	assert_int_equal(pg_http_base64url_decode("AAAAA", 5, out, 16), -1);
	assert_int_equal(pg_http_base64url_decode("AB", 2, out, 16), -1);
	assert_int_equal(pg_http_base64url_decode("AA A", 4, out, 16), -1);
	/* no room */
	assert_int_equal(pg_http_base64url_decode(s, 16, out, 11), -1);
}

static void
check_target(uint8_t method, const char *t, int rc, const char *scheme,
	     const char *auth, const char *path, const char *query)
{
	struct pg_http_msg m;
	pg_http_msg_init(&m, abuf, sizeof(abuf), 4);
	m.method = method;
	assert_int_equal(pg_http_msg_set_target(&m, t, (uint32_t)strlen(t)),
			 rc);
	if (rc != PG_OK)
		return;
#define EQ(field, want) do {                                                 \
		assert_int_equal(m.field.len, strlen(want));                 \
		assert_memory_equal(m.field.ptr ? m.field.ptr : "", want,     \
				    strlen(want));                           \
	} while (0)
	EQ(scheme, scheme);
	EQ(authority, auth);
	EQ(path, path);
	EQ(query, query);
#undef EQ
}

static void
test_target(void **state)
{
	(void)state;
	check_target(PG_HTTP_GET, "/a/b?x=1&y", PG_OK, "", "", "/a/b", "x=1&y");
	check_target(PG_HTTP_GET, "/", PG_OK, "", "", "/", "");
	check_target(PG_HTTP_GET, "http://h.example:8080/p?q", PG_OK, "http",
		     "h.example:8080", "/p", "q");
	check_target(PG_HTTP_GET, "https://h", PG_OK, "https", "h", "/", "");
	check_target(PG_HTTP_GET, "http://h?q", PG_OK, "http", "h", "/", "q");
	check_target(PG_HTTP_OPTIONS, "*", PG_OK, "", "", "*", "");
	check_target(PG_HTTP_CONNECT, "h:443", PG_OK, "", "h:443", "", "");
	check_target(PG_HTTP_GET, "h:443", PG_ERROR, "", "", "", "");
	assert_int_equal(pg_http_method_parse("PATCH", 5), PG_HTTP_PATCH);
	assert_int_equal(pg_http_method_parse("PROPFIND", 8), PG_HTTP_OTHER);
}

static void
test_framing(void **state)
{
	(void)state;
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 11, 200, 5),
			 PG_HTTP_FRAME_LENGTH);
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 11, 200, -1),
			 PG_HTTP_FRAME_CHUNKED);
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 10, 200, -1),
			 PG_HTTP_FRAME_CLOSE);
	assert_int_equal(pg_http_framing(PG_HTTP_HEAD, 11, 200, -1),
			 PG_HTTP_FRAME_NONE);
	assert_int_equal(pg_http_framing(PG_HTTP_HEAD, 11, 200, 7),
			 PG_HTTP_FRAME_LENGTH);
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 11, 204, 5),
			 PG_HTTP_FRAME_NONE);
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 11, 304, -1),
			 PG_HTTP_FRAME_NONE);
	assert_int_equal(pg_http_framing(PG_HTTP_GET, 11, 100, -1),
			 PG_HTTP_FRAME_NONE);
	assert_int_equal(pg_http_framing(PG_HTTP_CONNECT, 11, 200, -1),
			 PG_HTTP_FRAME_NONE);
}

static void
test_head(void **state)
{
	struct pg_http_msg r;
	struct pg_http_out o;
	const char *err = NULL;
	char date[30];
	(void)state;

	pg_http_date(date, 784111777);
	assert_string_equal(date, "Sun, 06 Nov 1994 08:49:37 GMT");

	pg_http_msg_init(&r, abuf, sizeof(abuf), 8);
	r.status = 200;
	pg_http_msg_add(&r, "Content-Type", 12, "text/plain", 10, 0);
	pg_http_msg_add(&r, "content-length", 14, "99", 2, 0);
	pg_http_msg_add(&r, "Connection", 10, "keep-alive", 10, 0);
	pg_http_msg_add(&r, "Transfer-Encoding", 17, "gzip", 4, 0);
	pg_http_out_init(&o, pg_test_pool, 0);
	struct pg_http_head_opts op = { .framing = PG_HTTP_FRAME_LENGTH,
					.keep_alive = 1, .version = 11,
					.content_length = 5, .date = date };
	assert_int_equal(pg_http_write_head(&o, &r, &op, &err), PG_OK);
	char *s = flatten(o.head);
	assert_string_equal(s, "HTTP/1.1 200 OK\r\n"
			       "Content-Type: text/plain\r\n"
			       "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			       "Content-Length: 5\r\n\r\n");
	free(s);
	pg_http_out_free(&o);

	/* chunked, close, HTTP/1.0 keep-alive */
	r.nheaders = 1;
	op = (struct pg_http_head_opts){ .framing = PG_HTTP_FRAME_CHUNKED,
					 .keep_alive = 0, .version = 11 };
	assert_int_equal(pg_http_write_head(&o, &r, &op, &err), PG_OK);
	s = flatten(o.head);
	assert_string_equal(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			       "Transfer-Encoding: chunked\r\n"
			       "Connection: close\r\n\r\n");
	free(s);
	pg_http_out_free(&o);
	r.status = 304;
	op = (struct pg_http_head_opts){ .framing = PG_HTTP_FRAME_NONE,
					 .keep_alive = 1, .version = 10 };
	assert_int_equal(pg_http_write_head(&o, &r, &op, &err), PG_OK);
	s = flatten(o.head);
	assert_string_equal(s, "HTTP/1.1 304 Not Modified\r\n"
			       "Content-Type: text/plain\r\n"
			       "Connection: keep-alive\r\n\r\n");
	free(s);
	pg_http_out_free(&o);

	/* response splitting refused */
	pg_http_msg_add(&r, "X-Evil", 6, "a\r\nSet-Cookie: x", 16, 0);
	assert_int_equal(pg_http_write_head(&o, &r, &op, &err), PG_ERROR);
	assert_non_null(strstr(err, "CR"));
	pg_http_out_free(&o);
	r.nheaders = 1;
	pg_http_msg_add(&r, "Bad Name", 8, "v", 1, 0);
	assert_int_equal(pg_http_write_head(&o, &r, &op, &err), PG_ERROR);
	pg_http_out_free(&o);
	pg_test_assert_no_leak();
}

static void
test_chunks(void **state)
{
	struct pg_http_msg t;
	struct pg_http_out o;
	const char *err;
	(void)state;

	pg_http_msg_init(&t, abuf, sizeof(abuf), 4);
	pg_http_msg_add(&t, "X-Sum", 5, "42", 2, 1);
	pg_http_out_init(&o, pg_test_pool, 0);
	assert_int_equal(pg_http_write_chunk(&o, pg_test_frame("hello", 5)),
			 PG_OK);
	assert_int_equal(pg_http_write_chunk(&o, pg_test_frame("", 0)), PG_OK);
	/* a body over several segments */
	struct rte_mbuf *big = NULL, *tail = NULL;
	static char blob[5000];
	memset(blob, 'x', sizeof(blob));
	for (int i = 0; i < 3; i++)
		pg_mbuf_chain_add(&big, &tail, pg_test_frame(blob, 1000));
	assert_int_equal(pg_http_write_chunk(&o, big), PG_OK);
	assert_int_equal(pg_http_write_last_chunk(&o, &t, &err), PG_OK);
	char *s = flatten(o.head);
	assert_int_equal(strncmp(s, "5\r\nhello\r\nbb8\r\nxxx", 18), 0);
	assert_string_equal(s + strlen(s) - 19, "x\r\n0\r\nX-Sum: 42\r\n\r\n");
	assert_int_equal(strlen(s), 10 + 5 + 3000 + 2 + 3 + 11 + 2);
	free(s);
	pg_http_out_free(&o);

	/* pg_http_out_put over several mbufs */
	assert_int_equal(pg_http_out_put(&o, blob, sizeof(blob)), PG_OK);
	assert_int_equal(o.head->pkt_len, sizeof(blob));
	assert_true(o.head->nb_segs >= 3);
	pg_http_out_free(&o);
	pg_test_assert_no_leak();
}

int
main(void)
{
	pg_test_eal();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_chunks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
