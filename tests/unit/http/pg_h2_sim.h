/*
 * An HTTP/2 server on a fake pg_stream, and an nghttp2 client session in
 * the test: the harness of the h2 tests. No network, virtual clock.
 *
 *   h2t_start(&conf)        server + fake stream + client (conf NULL:
 *                           defaults); the client's preface is handed to
 *                           pg_h2_attach as already-read bytes
 *   h2t_start_raw(&conf)    the same without a client session: the test
 *                           writes frames itself (h2t_raw_*); the server's
 *                           frames are only logged
 *   h2t_pump()              move bytes both ways until nothing moves
 *   h2t_advance(ms)         move the clock, run the server's timers
 *   h2t_finish()            destroy everything, check nothing leaked
 *
 * The connection is a fake pg_stream (tests/unit/net/pg_stream_fake.h);
 * the pump delivers what the server sent h2t.chunk bytes per step. Every
 * frame the server sends is
 * logged (h2t.log), whatever the client session makes of it.
 *
 * The application (h2t_on_*) answers "<METHOD> <path>[ <body>]" at the
 * end of each request unless the test asks it to hold, stream or serve a
 * large body; once its response is complete it lets go of the exchange
 * (x->ctx = NULL), as the Lua layer does. Include after
 * tests/unit/pg_test.h.
 */
#ifndef PG_H2_SIM_H
#define PG_H2_SIM_H

#include <nghttp2/nghttp2.h>

#include "http/pg_h2.h"
#include "tests/unit/net/pg_stream_fake.h"

#define H2T_MS        UINT64_C(1000000)
#define H2T_START_NS  (UINT64_C(1000) * 1000 * H2T_MS)
#define H2T_HIGH      (64u << 10)      /* the fake stream's marks */
#define H2T_LOW       (32u << 10)
#define H2T_STREAMS   512
#define H2T_HELD      256

/* What the client session saw of one stream. */
struct h2t_cstream {
	int status;
	char headers[512];            /* "name: value\n"... of the response */
	char trailers[128];
	char body[4096];              /* the first 4 KiB */
	uint64_t body_len;
	int pattern_bad;              /* big bodies: a byte differed */
	int closed;
	uint32_t close_code;
};

/* Every frame the server sent, as a raw reader sees it. */
struct h2t_log {
	uint8_t fh[9];
	uint32_t fh_got, left, got;
	uint8_t pay[8];               /* the first payload bytes */
	unsigned frames[16];          /* by type */
	unsigned settings_ack, settings;
	unsigned goaway;
	uint32_t goaway_last, goaway_code;
	unsigned rst;
	uint32_t rst_code[16];        /* by stream id, ids < 16 */
	unsigned rst_by_code[16];
	unsigned wu_conn, wu_stream;  /* WINDOW_UPDATE on 0 / on streams */
	uint64_t wu_stream_inc;
	uint64_t data_bytes;
};

struct h2t {
	struct pg_netif nif;
	struct pg_h2_server *srv;
	struct pg_h2_conf conf;
	struct pg_h2_stats stats;
	struct pg_stream_fake fs;      /* the connection */
	uint32_t chunk;               /* bytes delivered per pump step */
	unsigned max_mbufs;           /* most mbufs in use at once */
	/* the client */
	nghttp2_session *cli;
	int raw;
	struct h2t_cstream cs[H2T_STREAMS];
	struct h2t_log log;
	/* the application */
	int hold;                     /* keep requests unanswered in held[] */
	int stream;                   /* unknown length, trailers */
	int big;                      /* answer big_len bytes, backpressure */
	int no_read;                  /* leave the body unread */
	uint64_t big_len, big_sent;
	struct pg_http_xchg *held[H2T_HELD];
	unsigned nheld;
	unsigned requests, closes, logs, writables;
	struct pg_http_xchg_log log_last;
	void *log_ctx;                /* x->ctx when on_log came */
	char cookie[256];
	char log_target[128];
	/* request bodies the client sends */
	const uint8_t *post;
	uint64_t post_len, post_off;
};

static struct h2t T;

/* --- the frame log ------------------------------------------------------- */

static uint32_t
h2t_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16
	       | (uint32_t)p[2] << 8 | p[3];
}

static void
h2t_frame_done(void)
{
	struct h2t_log *l = &T.log;
	uint8_t type = l->fh[3], flags = l->fh[4];
	uint32_t sid = h2t_be32(l->fh + 5) & 0x7fffffffu;
	uint32_t len = (uint32_t)l->fh[0] << 16 | (uint32_t)l->fh[1] << 8
		       | l->fh[2];

	if (type < 16)
		l->frames[type]++;
	switch (type) {
	case NGHTTP2_DATA:
		l->data_bytes += len;
		break;
	case NGHTTP2_SETTINGS:
		if (flags & NGHTTP2_FLAG_ACK)
			l->settings_ack++;
		else
			l->settings++;
		break;
	case NGHTTP2_GOAWAY:
		l->goaway++;
		l->goaway_last = h2t_be32(l->pay) & 0x7fffffffu;
		l->goaway_code = h2t_be32(l->pay + 4);
		break;
	case NGHTTP2_RST_STREAM:
		l->rst++;
		if (sid < 16)
			l->rst_code[sid] = h2t_be32(l->pay);
		if (h2t_be32(l->pay) < 16)
			l->rst_by_code[h2t_be32(l->pay)]++;
		break;
	case NGHTTP2_WINDOW_UPDATE:
		if (sid == 0) {
			l->wu_conn++;
		} else {
			l->wu_stream++;
			l->wu_stream_inc += h2t_be32(l->pay);
		}
		break;
	}
	l->fh_got = 0;
}

static void
h2t_log_bytes(const uint8_t *p, uint32_t n)
{
	struct h2t_log *l = &T.log;

	while (n > 0) {
		if (l->fh_got < 9) {
			uint32_t k = RTE_MIN(9 - l->fh_got, n);
			memcpy(l->fh + l->fh_got, p, k);
			l->fh_got += k;
			p += k;
			n -= k;
			if (l->fh_got < 9)
				return;
			l->left = (uint32_t)l->fh[0] << 16
				  | (uint32_t)l->fh[1] << 8 | l->fh[2];
			l->got = 0;
			if (l->left == 0)
				h2t_frame_done();
			continue;
		}
		uint32_t k = RTE_MIN(l->left, n);
		for (uint32_t i = 0; i < k && l->got + i < 8; i++)
			l->pay[l->got + i] = p[i];
		l->got += k;
		l->left -= k;
		p += k;
		n -= k;
		if (l->left == 0)
			h2t_frame_done();
	}
}

/* --- moving bytes -------------------------------------------------------- */

/* Bytes from the client, offered to the server. */
static void
h2t_to_server(const void *p, uint32_t n)
{
	assert_int_equal(pg_stream_fake_offer(&T.fs, p, n), PG_OK);
}

/* Deliver up to T.chunk bytes the server sent to the client. */
static int
h2t_deliver(void)
{
	struct rte_mbuf *m;
	uint32_t done = 0;

	if (T.fs.sent == NULL)
		return 0;
	while (done < T.chunk && (m = pg_stream_fake_pop(&T.fs)) != NULL) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		h2t_log_bytes(p, m->data_len);
		if (!T.raw && T.cli != NULL)
			assert_true(nghttp2_session_mem_recv(T.cli, p,
							     m->data_len)
				    >= 0);
		done += m->data_len;
		pg_mbuf_free(m);
	}
	pg_stream_fake_drained(&T.fs);
	return 1;
}

static int
h2t_client_send(void)
{
	const uint8_t *p;
	ssize_t n;
	int moved = 0;

	if (T.raw || T.cli == NULL)
		return 0;
	while ((n = nghttp2_session_mem_send(T.cli, &p)) > 0) {
		h2t_to_server(p, (uint32_t)n);
		moved = 1;
	}
	assert_true(n >= 0);
	return moved;
}

static void
h2t_count_mbufs(void)
{
	unsigned used = PG_TEST_MBUFS - rte_mempool_avail_count(pg_test_pool);
	if (used > T.max_mbufs)
		T.max_mbufs = used;
}

static void
h2t_pump(void)
{
	for (int i = 0; i < 1000000; i++) {
		int moved = h2t_client_send();
		moved |= pg_stream_fake_retry(&T.fs);
		moved |= h2t_deliver();
		h2t_count_mbufs();
		if (!moved)
			return;
	}
	fail_msg("h2t_pump: still moving after a million steps");
}

static void
h2t_advance(uint64_t ms)
{
	T.nif.now_ns += ms * H2T_MS;
	pg_h2_server_poll(T.srv);
	h2t_pump();
}

/* --- the application ----------------------------------------------------- */

static void
h2t_big_write(struct pg_http_xchg *x)
{
	static uint8_t buf[16384];

	while (T.big_sent < T.big_len && pg_http_xchg_queued(x) < (64u << 10)) {
		uint32_t n = (uint32_t)RTE_MIN((uint64_t)sizeof(buf),
					       T.big_len - T.big_sent);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((T.big_sent + i) % 251);
		T.big_sent += n;
		assert_int_equal(pg_http_xchg_write(x, buf, n,
						    T.big_sent == T.big_len),
				 PG_OK);
	}
	if (T.big_sent == T.big_len)
		x->ctx = NULL;
}

static void
h2t_answer(struct pg_http_xchg *x, struct pg_http_msg *q)
{
	struct pg_http_field f[2] = { { { "Content-Type", 12 },
					{ "text/plain", 10 } },
				      { { "x-checksum", 10 }, { "abc", 3 } } };
	struct pg_http_msg r = { .status = 200, .fields = f, .nheaders = 1 };
	char body[4096];
	const char *err;
	int n = snprintf(body, sizeof(body), "%.*s %.*s",
			 (int)q->method_name.len, q->method_name.ptr,
			 (int)q->path.len, q->path.ptr);

	if (q->body_len > 0) {
		body[n++] = ' ';
		n += (int)pg_http_xchg_body_read(x, body + n,
						 sizeof(body) - n - 1);
	}
	if (T.big) {
		assert_int_equal(pg_http_xchg_respond(x, &r, (int64_t)T.big_len,
						      0, &err), PG_OK);
		h2t_big_write(x);
		return;
	}
	if (T.stream) {
		r.ntrailers = 1;
		assert_int_equal(pg_http_xchg_respond(x, &r, -1, 0, &err),
				 PG_OK);
		assert_int_equal(pg_http_xchg_write(x, body, 3, 0), PG_OK);
		assert_int_equal(pg_http_xchg_write(x, body + 3,
						    (uint32_t)n - 3, 1), PG_OK);
	} else {
		assert_int_equal(pg_http_xchg_respond(x, &r, n, 0, &err),
				 PG_OK);
		assert_int_equal(pg_http_xchg_write(x, body, (uint32_t)n, 1),
				 PG_OK);
	}
	x->ctx = NULL;
}

static void
h2t_on_request(struct pg_http_xchg *x, struct pg_http_msg *q)
{
	const struct pg_http_str *c = pg_http_msg_header(q, "cookie");

	T.requests++;
	x->ctx = q;                      /* the application's: its request */
	if (c != NULL)
		snprintf(T.cookie, sizeof(T.cookie), "%.*s", (int)c->len, c->ptr);
}

/* Answer a request the test held. */
static void
h2t_answer_held(unsigned i)
{
	struct pg_http_xchg *x = T.held[i];

	T.held[i] = NULL;
	assert_non_null(x);
	h2t_answer(x, x->ctx);
}

static void
h2t_on_request_end(struct pg_http_xchg *x)
{
	if (T.hold || T.no_read) {
		assert_true(T.nheld < H2T_HELD);
		T.held[T.nheld++] = x;
		return;
	}
	h2t_answer(x, x->ctx);
}

static void
h2t_on_body(struct pg_http_xchg *x)
{
	if (T.no_read && T.nheld < H2T_HELD
	    && (T.nheld == 0 || T.held[T.nheld - 1] != x))
		T.held[T.nheld++] = x;
}

static void
h2t_on_writable(struct pg_http_xchg *x)
{
	T.writables++;
	if (T.big)
		h2t_big_write(x);
}

static void
h2t_on_close(struct pg_http_xchg *x)
{
	T.closes++;
	for (unsigned i = 0; i < T.nheld; i++)
		if (T.held[i] == x)
			T.held[i] = NULL;
}

static void
h2t_on_log(struct pg_http_xchg *x, const struct pg_http_xchg_log *l)
{
	T.logs++;
	T.log_last = *l;
	T.log_ctx = x->ctx;
	snprintf(T.log_target, sizeof(T.log_target), "%.*s",
		 (int)l->target.len, l->target.ptr);
}

static const struct pg_http_xchg_handler h2t_handler = {
	.on_request = h2t_on_request, .on_body = h2t_on_body,
	.on_request_end = h2t_on_request_end,
	.on_writable = h2t_on_writable, .on_close = h2t_on_close,
	.on_log = h2t_on_log,
};

/* --- the client session -------------------------------------------------- */

static struct h2t_cstream *
h2t_cs(int32_t id)
{
	assert_true(id > 0 && id < H2T_STREAMS);
	return &T.cs[id];
}

static void
h2t_append(char *buf, size_t size, const uint8_t *n, size_t nlen,
	   const uint8_t *v, size_t vlen)
{
	size_t used = strlen(buf);
	snprintf(buf + used, size - used, "%.*s: %.*s\n", (int)nlen,
		 (const char *)n, (int)vlen, (const char *)v);
}

static int
h2t_cli_header(nghttp2_session *ng, const nghttp2_frame *frame,
	       const uint8_t *n, size_t nlen, const uint8_t *v, size_t vlen,
	       uint8_t flags, void *ud)
{
	struct h2t_cstream *c = h2t_cs(frame->hd.stream_id);

	if (nlen == 7 && memcmp(n, ":status", 7) == 0) {
		int st = atoi((const char *)v);
		if (st >= 200)
			c->status = st;
		return 0;
	}
	if (c->status != 0 && frame->headers.cat == NGHTTP2_HCAT_HEADERS)
		h2t_append(c->trailers, sizeof(c->trailers), n, nlen, v, vlen);
	else
		h2t_append(c->headers, sizeof(c->headers), n, nlen, v, vlen);
	return 0;
}

static int
h2t_cli_data(nghttp2_session *ng, uint8_t flags, int32_t id,
	     const uint8_t *data, size_t len, void *ud)
{
	struct h2t_cstream *c = h2t_cs(id);

	for (size_t i = 0; i < len; i++) {
		if (c->body_len + i < sizeof(c->body) - 1)
			c->body[c->body_len + i] = (char)data[i];
		if (T.big && data[i] != (uint8_t)((c->body_len + i) % 251))
			c->pattern_bad = 1;
	}
	c->body_len += len;
	return 0;
}

static int
h2t_cli_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2t_cstream *c = h2t_cs(id);
	c->closed = 1;
	c->close_code = code;
	return 0;
}

static ssize_t
h2t_cli_post(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
	     uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	size_t n = RTE_MIN(length, (size_t)(T.post_len - T.post_off));
	memcpy(buf, T.post + T.post_off, n);
	T.post_off += n;
	if (T.post_off == T.post_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void
h2t_client(const nghttp2_settings_entry *iv, size_t niv)
{
	nghttp2_session_callbacks *cb;

	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2t_cli_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
								 h2t_cli_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
							       h2t_cli_close);
	assert_int_equal(nghttp2_session_client_new(&T.cli, cb, NULL), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(T.cli, NGHTTP2_FLAG_NONE, iv,
						 niv), 0);
}

#define H2T_NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, \
		       strlen(v), NGHTTP2_NV_FLAG_NONE }

/* Submit a request: method, path, then extra fields. Returns its id. */
static int32_t
h2t_request(const char *method, const char *path, const nghttp2_nv *extra,
	    size_t nextra, int with_body)
{
	nghttp2_nv nv[32] = { H2T_NV(":method", method),
			      H2T_NV(":scheme", "http"),
			      H2T_NV(":authority", "example.org"),
			      H2T_NV(":path", path) };
	nghttp2_data_provider dp = { .read_callback = h2t_cli_post };
	int32_t id;

	assert_true(nextra <= 28);
	memcpy(nv + 4, extra, nextra * sizeof(*nv));
	id = nghttp2_submit_request(T.cli, NULL, nv, 4 + nextra,
				    with_body ? &dp : NULL, NULL);
	assert_true(id > 0);
	return id;
}

/* --- raw frames ---------------------------------------------------------- */

static void
h2t_raw_frame(uint8_t type, uint8_t flags, uint32_t sid, const void *pay,
	      uint32_t len)
{
	uint8_t f[9 + 1024];

	assert_true(len <= 1024);
	f[0] = (uint8_t)(len >> 16);
	f[1] = (uint8_t)(len >> 8);
	f[2] = (uint8_t)len;
	f[3] = type;
	f[4] = flags;
	f[5] = (uint8_t)(sid >> 24);
	f[6] = (uint8_t)(sid >> 16);
	f[7] = (uint8_t)(sid >> 8);
	f[8] = (uint8_t)sid;
	memcpy(f + 9, pay, len);
	h2t_to_server(f, 9 + len);
}

/*
 * An HPACK block of literal fields without indexing (no Huffman), from
 * "name", "value", ... NULL. Returns its length.
 */
static uint32_t
h2t_hpack(uint8_t *out, uint32_t size, const char *const *nv)
{
	uint32_t k = 0;

	for (; *nv != NULL; nv++) {
		size_t len = strlen(*nv);
		assert_true(len < 127 && k + len + 2 <= size);
		out[k++] = (uint8_t)len;
		memcpy(out + k, *nv, len);
		k += (uint32_t)len;
	}
	return k;
}

/* A HEADERS frame of literal fields, then nothing more. */
static void
h2t_raw_headers(uint32_t sid, uint8_t flags, const char *const *nv)
{
	uint8_t block[1024];
	uint32_t n = 0;

	for (; nv[0] != NULL; nv += 2) {
		block[n++] = 0x00;            /* literal, new name, no index */
		n += h2t_hpack(block + n, sizeof(block) - n,
			       (const char *const[]){ nv[0], nv[1], NULL });
	}
	h2t_raw_frame(NGHTTP2_HEADERS, flags, sid, block, n);
}

/* --- start and finish ---------------------------------------------------- */

static void
h2t_server(const struct pg_h2_conf *conf)
{
	const char *err = NULL;

	memset(&T, 0, sizeof(T));
	T.nif.pool = pg_test_pool;
	T.nif.holder = 1;
	T.nif.now_ns = H2T_START_NS;
	T.nif.sim_clock = 1;
	T.chunk = 16384;
	if (conf != NULL)
		T.conf = *conf;
	else
		pg_h2_conf_default(&T.conf);
	T.srv = pg_h2_server_create(&T.nif, &T.conf, &h2t_handler, NULL,
				    &T.stats, &err);
	if (T.srv == NULL)
		fail_msg("h2 server: %s", err);
	pg_stream_fake_init(&T.fs, pg_test_pool, H2T_HIGH, H2T_LOW);
}

/* Server and client; the client's preface is read before the attach. */
static void
h2t_start_with(const struct pg_h2_conf *conf, const nghttp2_settings_entry *iv,
	       size_t niv)
{
	uint8_t first[512];
	const uint8_t *p;
	uint32_t len = 0;
	ssize_t n;

	h2t_server(conf);
	h2t_client(iv, niv);
	while ((n = nghttp2_session_mem_send(T.cli, &p)) > 0) {
		assert_true(len + (uint32_t)n <= sizeof(first));
		memcpy(first + len, p, (size_t)n);
		len += (uint32_t)n;
	}
	assert_true(len > 24);
	assert_int_equal(pg_h2_attach(T.srv, &T.fs.st, first, len), PG_OK);
}

static void
h2t_start(const struct pg_h2_conf *conf)
{
	h2t_start_with(conf, NULL, 0);
}

/* Server only: the test speaks raw frames (preface and SETTINGS sent). */
static void
h2t_start_raw(const struct pg_h2_conf *conf)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	h2t_server(conf);
	T.raw = 1;
	assert_int_equal(pg_h2_attach(T.srv, &T.fs.st, preface,
				      sizeof(preface) - 1), PG_OK);
	h2t_raw_frame(NGHTTP2_SETTINGS, 0, 0, NULL, 0);
	h2t_raw_frame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
	h2t_pump();
}

static const char *const h2t_get_nv[] = {
	":method", "GET", ":scheme", "http", ":authority", "a",
	":path", "/", NULL,
};

static void
h2t_finish(void)
{
	pg_h2_server_destroy(T.srv);
	T.srv = NULL;
	pg_stream_fake_fini(&T.fs);
	if (T.cli != NULL)
		nghttp2_session_del(T.cli);
	T.cli = NULL;
	pg_test_assert_no_leak();
}

#endif
