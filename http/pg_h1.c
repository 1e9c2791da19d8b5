/*
 * HTTP/1.1 server connections over a byte stream (plain TCP or TLS).
 *
 *   on_data -> pg_h1_process -> pg_h1_scan (CR/LF strictness, limits)
 *                            -> llhttp_execute -> callbacks (spans, fields)
 *                            -> pg_h1_event (headers, trailers, complete:
 *                               the parser pauses at each so the
 *                               application runs outside llhttp)
 *   pg_h1_respond / pg_h1_send -> pg_h1_response_done -> pg_h1_next
 *                               (next pipelined request) or close
 *   timer -> 408 or close
 *
 * Received chains: `cur` is the chain being parsed (seg/off the cursor).
 * A chain holding bytes of the current request head (slices point into
 * it) is pinned: once parsed it moves to `held` until the request ends;
 * other chains are freed as soon as they are parsed.
 */
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "core/pg_core.h"
#include "core/pg_timer.h"
#include "http/pg_h1.h"
#include "net/pg_mbuf.h"
#include "net/pg_netif.h"
#include "net/pg_stream.h"
#include "net/pg_tcp.h"

#define PG_H1_MS          UINT64_C(1000000)
#define PG_H1_TICK_NS     (10 * PG_H1_MS)
#define PG_H1_PINNED      0x4000u       /* pg_mbuf_priv flags of a chain */

enum pg_h1_state {
	PG_H1_IDLE,          /* between requests */
	PG_H1_HEAD,          /* reading the request head */
	PG_H1_BODY,          /* reading the body */
	PG_H1_DONE,          /* request complete, response not */
	PG_H1_LINGER,        /* write side shut, draining the read side */
};

enum pg_h1_timer_kind {
	PG_H1_T_HEADER, PG_H1_T_BODY, PG_H1_T_KEEPALIVE, PG_H1_T_LINGER,
};

/* Scanner states: line endings of the head and the trailers. */
enum pg_h1_scan {
	PG_H1_SC_OFF, PG_H1_SC_START, PG_H1_SC_START_CR, PG_H1_SC_LINE,
	PG_H1_SC_CR, PG_H1_SC_BOL, PG_H1_SC_BOL_CR,
};

/* What paused the parser. */
enum pg_h1_event {
	PG_H1_EV_NONE, PG_H1_EV_HEADERS, PG_H1_EV_TRAILERS, PG_H1_EV_COMPLETE,
};

/* Span being assembled from llhttp's data callbacks. */
enum pg_h1_span { PG_H1_SP_NONE, PG_H1_SP_URL, PG_H1_SP_NAME, PG_H1_SP_VALUE };

#define PG_H1F_APP        0x0001u  /* the application holds the request */
#define PG_H1F_RESP_HEAD  0x0002u  /* final response head sent */
#define PG_H1F_RESP_DONE  0x0004u
#define PG_H1F_CLOSE      0x0008u  /* close after this response */
#define PG_H1F_CONTINUE   0x0010u  /* 100 Continue sent */
#define PG_H1F_EOF        0x0020u  /* the peer sent FIN */
#define PG_H1F_DEAD       0x0040u  /* stream gone: free when not busy */
#define PG_H1F_REFUSED    0x0080u  /* on_data answered PG_AGAIN */
#define PG_H1F_TRAILERS   0x0100u  /* fields now are trailers */
#define PG_H1F_NOBODY     0x0200u  /* response body is not written */
#define PG_H1F_HOST       0x0400u  /* a Host field was seen */
#define PG_H1F_BODY_NEW   0x0800u  /* body arrived since on_body */
#define PG_H1F_UPGRADE    0x1000u  /* parser stopped at an upgrade */
#define PG_H1F_IN_LIST    0x2000u
#define PG_H1F_PROCESSING 0x4000u  /* inside pg_h1_process */

struct pg_h1_server {
	struct pg_h1_conf conf;
	struct pg_http_xchg_handler hd;
	void *ctx;
	struct pg_netif *nif;
	struct pg_http_stats *stats;
	struct pg_http_stats own_stats;
	llhttp_settings_t settings;
	struct pg_wheel wheel;
	struct pg_h1_conn *conns;        /* live, doubly linked */
	struct pg_h1_conn *free;         /* reusable blocks */
	uint32_t nconns;
	uint32_t block_size;
	uint8_t shutdown;                /* no new connections, no keep-alive */
	struct pg_h1_h2 h2;              /* HTTP/2 over plain TCP */
	int64_t date_sec;
	char date[30];
};

struct pg_h1_conn {
	struct pg_http_xchg x;           /* x.st: the stream, NULL once gone */
	struct pg_h1_server *srv;
	struct pg_h1_conn *next, **pprev;
	llhttp_t parser;
	struct pg_timer timer;
	uint8_t state, timer_kind, scan, event, span, resumed;
	uint16_t flags;
	uint16_t busy;
	uint16_t resp_status;
	uint8_t framing;
	uint32_t line_len, head_bytes;
	uint16_t err_status;             /* set by a callback with HPE_USER */
	uint16_t err_counter;
	struct rte_mbuf *cur, *seg;      /* chain parsed, cursor segment */
	uint16_t off;
	struct rte_mbuf *held;           /* pinned chains, via priv qnext */
	struct pg_http_str span_str;     /* URL, name or value being read */
	struct pg_http_str name;         /* name of the field being read */
	uint64_t body_total, body_max;
	uint64_t resp_clen, resp_sent;
	uint64_t start_ns, resp_bytes;   /* for on_log */
	struct pg_http_msg req;
	/* the arena follows */
};

#define PG_H1_COUNT(h, c) ((h)->srv->stats->c++)

static inline struct pg_h1_conn *
pg_h1_of_xchg(const struct pg_http_xchg *x)
{
	return container_of(x, struct pg_h1_conn, x);
}

static void pg_h1_process(struct pg_h1_conn *h);
static void pg_h1_fail(struct pg_h1_conn *h, unsigned status,
		       enum pg_http_counter c);
static void pg_h1_end(struct pg_h1_conn *h, int abort);
static int pg_h1_pending(const struct pg_h1_conn *h);
static const struct pg_stream_cbs pg_h1_st_cbs;

void
pg_h1_conf_default(struct pg_h1_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 65536;
	c->max_request_line = 8192;
	c->max_header_bytes = 16384;
	c->max_headers = 100;
	c->arena_size = 8192;
	c->max_body = 1u << 20;
	c->body_buffer = 1u << 20;
	c->header_timeout_ms = 10000;
	c->body_timeout_ms = 10000;
	c->keepalive_timeout_ms = 60000;
	c->linger_ms = 2000;
	c->max_requests = 10000;
	c->auto_continue = 1;
	c->date = 1;
}

/* --- connection lifetime ------------------------------------------------- */

static inline void
pg_h1_enter(struct pg_h1_conn *h)
{
	h->busy++;
}

static void
pg_h1_free(struct pg_h1_conn *h)
{
	struct pg_h1_server *s = h->srv;

	pg_timer_cancel(&s->wheel, &h->timer);
	pg_http_msg_reset(&h->req);
	while (h->held != NULL) {
		struct rte_mbuf *m = h->held;
		h->held = pg_mbuf_priv(m)->qnext;
		pg_mbuf_free(m);
	}
	if (h->cur != NULL)
		pg_mbuf_free(h->cur);
	h->cur = NULL;
	if (h->flags & PG_H1F_IN_LIST) {
		*h->pprev = h->next;
		if (h->next != NULL)
			h->next->pprev = h->pprev;
		s->nconns--;
	}
	h->next = s->free;
	s->free = h;
}

/* Leave a section entered with pg_h1_enter; 1 when h was freed. */
static int
pg_h1_leave(struct pg_h1_conn *h)
{
	if (--h->busy == 0 && (h->flags & PG_H1F_DEAD)) {
		pg_h1_free(h);
		return 1;
	}
	return 0;
}

/* Tell the application, if it holds a request, that h is going away. */
static void
pg_h1_app_drop(struct pg_h1_conn *h)
{
	if (!(h->flags & PG_H1F_APP))
		return;
	h->flags &= ~PG_H1F_APP;
	if (h->srv->hd.on_close != NULL)
		h->srv->hd.on_close(&h->x);
	h->x.ctx = NULL;             /* the application forgot h */
}

/* Close (abort 0: FIN after the queued data) or reset the connection. */
static void
pg_h1_end(struct pg_h1_conn *h, int abort)
{
	if (h->flags & PG_H1F_DEAD)
		return;
	pg_h1_enter(h);
	pg_h1_app_drop(h);
	h->flags |= PG_H1F_DEAD;
	if (h->x.st != NULL) {
		struct pg_stream *st = h->x.st;
		h->x.st = NULL;
		if (abort)
			pg_stream_abort(st);
		else
			pg_stream_close(st);
	}
	pg_h1_leave(h);
}

/* --- timers -------------------------------------------------------------- */

static void
pg_h1_arm(struct pg_h1_conn *h, enum pg_h1_timer_kind kind, uint32_t ms)
{
	h->timer_kind = (uint8_t)kind;
	if (ms == 0)
		pg_timer_cancel(&h->srv->wheel, &h->timer);
	else
		pg_timer_arm(&h->srv->wheel, &h->timer, ms * PG_H1_MS);
}

static void
pg_h1_timer_fire(struct pg_timer *t)
{
	struct pg_h1_conn *h = container_of(t, struct pg_h1_conn, timer);

	pg_h1_enter(h);
	switch (h->timer_kind) {
	case PG_H1_T_HEADER:
		if (h->state == PG_H1_IDLE) {
			PG_H1_COUNT(h, timeout_keepalive);
			pg_h1_end(h, 0);
		} else {
			pg_h1_fail(h, 408, PG_HTTP_C_timeout_header);
		}
		break;
	case PG_H1_T_BODY:
		pg_h1_fail(h, 408, PG_HTTP_C_timeout_body);
		break;
	case PG_H1_T_KEEPALIVE:
		PG_H1_COUNT(h, timeout_keepalive);
		pg_h1_end(h, 0);
		break;
	case PG_H1_T_LINGER:
		pg_h1_end(h, 0);
		break;
	}
	pg_h1_leave(h);
}

/* --- sending ------------------------------------------------------------- */

static const char *
pg_h1_date(struct pg_h1_server *s)
{
	int64_t sec = (int64_t)(s->nif->now_ns / 1000000000u);

	if (!s->conf.date)
		return NULL;
	if (sec != s->date_sec) {
		s->date_sec = sec;
		pg_http_date(s->date, time(NULL));
	}
	return s->date;
}

static void
pg_h1_count_status(struct pg_h1_conn *h, unsigned status)
{
	_Static_assert(offsetof(struct pg_http_stats, status_5xx)
		       - offsetof(struct pg_http_stats, status_1xx)
		       == 4 * sizeof(uint64_t), "status classes in a row");
	pg_http_count_class(&h->srv->stats->status_1xx, status);
}

/* Hand the chain written to the stream. PG_ERROR when it could not. */
static int
pg_h1_flush(struct pg_h1_conn *h, struct pg_http_out *o)
{
	struct rte_mbuf *m = pg_http_out_take(o);

	if (m == NULL)
		return PG_OK;
	if (h->x.st == NULL) {
		pg_mbuf_free(m);
		return PG_ERROR;
	}
	h->resp_bytes += m->pkt_len;
	return pg_stream_send(h->x.st, m);
}

static void
pg_h1_out_init(struct pg_h1_conn *h, struct pg_http_out *o)
{
	pg_http_out_init(o, h->srv->nif->pool, h->srv->nif->holder);
}

/* The response to the current request ended: tell on_log. */
static void
pg_h1_log(struct pg_h1_conn *h, unsigned status)
{
	const struct pg_http_msg *m = &h->req;
	struct pg_http_xchg_log l = { .start_ns = h->start_ns,
			       .end_ns = h->srv->nif->now_ns,
			       .bytes = h->resp_bytes,
			       .status = (uint16_t)status,
			       .method = m->method_name, .target = m->target };

	/* (The method is known as soon as the target is: on_url_complete.) */
	if (h->srv->hd.on_log == NULL)
		return;
	h->srv->hd.on_log(&h->x, &l);
}

/* A response of our own: status, no body beyond a one-line text. */
static void
pg_h1_send_error(struct pg_h1_conn *h, unsigned status)
{
	struct pg_http_msg resp = { .status = (uint16_t)status };
	struct pg_http_head_opts o = { .framing = PG_HTTP_FRAME_LENGTH,
				       .keep_alive = 0, .version = 11,
				       .date = pg_h1_date(h->srv) };
	struct pg_http_out out;
	const char *err, *reason = pg_http_reason(status);
	char body[64];
	int n = snprintf(body, sizeof(body), "%u %s\n", status, reason);

	o.content_length = (uint64_t)n;
	pg_h1_out_init(h, &out);
	if (pg_http_write_head(&out, &resp, &o, &err) != PG_OK
	    || pg_http_out_put(&out, body, (uint32_t)n) != PG_OK) {
		pg_http_out_free(&out);
		PG_H1_COUNT(h, nomem);
		return;
	}
	pg_h1_count_status(h, status);
	pg_h1_flush(h, &out);
	pg_h1_log(h, status);
}

/*
 * Stop sending and drain what the peer still sends, so that our last
 * response is not destroyed by an RST answering data nobody reads.
 */
static void
pg_h1_linger(struct pg_h1_conn *h)
{
	pg_h1_app_drop(h);
	h->state = PG_H1_LINGER;
	if (h->x.st == NULL)
		return;
	pg_stream_shutdown(h->x.st);
	if (h->flags & PG_H1F_EOF) {
		pg_h1_end(h, 0);
		return;
	}
	pg_h1_arm(h, PG_H1_T_LINGER, h->srv->conf.linger_ms);
	if (h->flags & PG_H1F_REFUSED) {
		h->flags &= ~PG_H1F_REFUSED;
		pg_stream_recv_resume(h->x.st);
	}
}

/*
 * Refuse the request with status. When a response began, just close: with
 * a reset if it is cut (the peer must see it), or after it if it is whole
 * (an answer given before the rest of the body, which turned out bad).
 */
static void
pg_h1_fail(struct pg_h1_conn *h, unsigned status, enum pg_http_counter c)
{
	((uint64_t *)h->srv->stats)[c]++;
	if (h->state == PG_H1_LINGER || (h->flags & PG_H1F_DEAD))
		return;
	/* The application is told (on_close) after the refusal is logged. */
	if (!(h->flags & PG_H1F_RESP_HEAD)) {
		pg_h1_send_error(h, status);
		pg_h1_linger(h);
	} else if (h->flags & PG_H1F_RESP_DONE) {
		pg_h1_linger(h);
	} else {
		pg_h1_end(h, 1);
	}
}

/* --- received chains ----------------------------------------------------- */

/* The cursor chain is parsed: keep it if the request points into it. */
static void
pg_h1_retire_cur(struct pg_h1_conn *h)
{
	struct rte_mbuf *m = h->cur;

	h->cur = h->seg = NULL;
	h->off = 0;
	if (!(pg_mbuf_priv(m)->flags & PG_H1_PINNED)) {
		pg_mbuf_free(m);
		return;
	}
	pg_mbuf_priv(m)->qnext = h->held;
	h->held = m;
}

static inline void
pg_h1_pin(struct pg_h1_conn *h)
{
	if (h->cur != NULL)
		pg_mbuf_priv(h->cur)->flags |= PG_H1_PINNED;
}

/* --- llhttp callbacks ---------------------------------------------------- */

static inline struct pg_h1_conn *
pg_h1_of(llhttp_t *p)
{
	return p->data;
}

static int
pg_h1_user_error(struct pg_h1_conn *h, unsigned status,
		 enum pg_http_counter c)
{
	h->err_status = (uint16_t)status;
	h->err_counter = (uint16_t)c;
	return HPE_USER;
}

static int
pg_h1_on_message_begin(llhttp_t *p)
{
	struct pg_h1_conn *h = pg_h1_of(p);

	h->state = PG_H1_HEAD;
	pg_h1_pin(h);
	if (h->timer_kind != PG_H1_T_HEADER || !pg_timer_armed(&h->timer))
		pg_h1_arm(h, PG_H1_T_HEADER, h->srv->conf.header_timeout_ms);
	return 0;
}

/*
 * A span continues: the first piece stays where it is (zero copy); a
 * second piece (the span crossed into another segment) moves the whole
 * into the arena.
 */
static int
pg_h1_span(struct pg_h1_conn *h, enum pg_h1_span kind, const char *at,
	   size_t len)
{
	struct pg_http_arena *a = &h->req.arena;

	pg_h1_pin(h);
	if (h->span != kind) {
		h->span = (uint8_t)kind;
		h->span_str = (struct pg_http_str){ at, (uint32_t)len };
		return 0;
	}
	if (h->span_str.ptr + h->span_str.len == at) {
		h->span_str.len += (uint32_t)len;
		return 0;
	}
	if (pg_http_arena_extend(a, &h->span_str, at, (uint32_t)len) == PG_OK)
		return 0;
	char *d = pg_http_arena_dup(a, h->span_str.ptr, h->span_str.len);
	if (d == NULL || pg_http_arena_dup(a, at, (uint32_t)len) == NULL)
		return pg_h1_user_error(h, 431, PG_HTTP_C_err_header_size);
	h->span_str = (struct pg_http_str){ d, h->span_str.len
						+ (uint32_t)len };
	return 0;
}

static int
pg_h1_on_url(llhttp_t *p, const char *at, size_t len)
{
	return pg_h1_span(pg_h1_of(p), PG_H1_SP_URL, at, len);
}

static int
pg_h1_on_url_complete(llhttp_t *p)
{
	struct pg_h1_conn *h = pg_h1_of(p);

	/* llhttp's names are static strings: the slice needs no copy. */
	h->req.method_name.ptr = llhttp_method_name(llhttp_get_method(p));
	h->req.method_name.len = (uint32_t)strlen(h->req.method_name.ptr);
	h->req.method = pg_http_method_parse(h->req.method_name.ptr,
					     h->req.method_name.len);
	h->span = PG_H1_SP_NONE;
	if (pg_http_msg_set_target(&h->req, h->span_str.ptr, h->span_str.len)
	    != PG_OK)
		return pg_h1_user_error(h, 400, PG_HTTP_C_err_syntax);
	return 0;
}

static int
pg_h1_on_header_field(llhttp_t *p, const char *at, size_t len)
{
	return pg_h1_span(pg_h1_of(p), PG_H1_SP_NAME, at, len);
}

static int
pg_h1_on_header_field_complete(llhttp_t *p)
{
	struct pg_h1_conn *h = pg_h1_of(p);

	h->name = h->span == PG_H1_SP_NAME ? h->span_str
					   : (struct pg_http_str){ "", 0 };
	h->span = PG_H1_SP_NONE;
	if (h->name.len == 0)
		return pg_h1_user_error(h, 400, PG_HTTP_C_err_header_name);
	for (uint32_t i = 0; i < h->name.len; i++)
		if (!pg_http_is_tchar((unsigned char)h->name.ptr[i]))
			return pg_h1_user_error(h, 400,
						PG_HTTP_C_err_header_name);
	return 0;
}

static int
pg_h1_on_header_value(llhttp_t *p, const char *at, size_t len)
{
	return pg_h1_span(pg_h1_of(p), PG_H1_SP_VALUE, at, len);
}

static int
pg_h1_on_header_value_complete(llhttp_t *p)
{
	struct pg_h1_conn *h = pg_h1_of(p);
	struct pg_http_str v = h->span == PG_H1_SP_VALUE
			       ? h->span_str : (struct pg_http_str){ "", 0 };
	int trailer = !!(h->flags & PG_H1F_TRAILERS);

	h->span = PG_H1_SP_NONE;
	while (v.len > 0 && (v.ptr[v.len - 1] == ' '
			     || v.ptr[v.len - 1] == '\t'))
		v.len--;
	if (pg_http_msg_add(&h->req, h->name.ptr, h->name.len, v.ptr, v.len,
			    trailer) != PG_OK)
		return pg_h1_user_error(h, 431, PG_HTTP_C_err_header_count);
	if (!trailer && pg_http_str_eq_nocase(h->name.ptr, h->name.len,
					      "host", 4)) {
		if (h->flags & PG_H1F_HOST)
			return pg_h1_user_error(h, 400, PG_HTTP_C_err_host);
		h->flags |= PG_H1F_HOST;
	}
	return 0;
}

static int
pg_h1_on_headers_complete(llhttp_t *p)
{
	pg_h1_of(p)->event = PG_H1_EV_HEADERS;
	return HPE_PAUSED;
}

static int
pg_h1_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct pg_h1_conn *h = pg_h1_of(p);
	struct pg_http_msg *m = &h->req;

	h->body_total += len;
	if (h->flags & (PG_H1F_RESP_HEAD | PG_H1F_RESP_DONE))
		return 0;            /* answered already: discard */
	if (h->body_total > h->body_max)
		return pg_h1_user_error(h, 413, PG_HTTP_C_err_body_size);
	struct pg_http_out o = { h->srv->nif->pool, h->srv->nif->holder,
				 m->body, m->body_tail };
	int rc = pg_http_out_put(&o, at, (uint32_t)len);
	m->body = o.head;
	m->body_tail = o.tail;
	if (rc != PG_OK)
		return pg_h1_user_error(h, 503, PG_HTTP_C_nomem);
	m->body_len += len;
	h->flags |= PG_H1F_BODY_NEW;
	return 0;
}

static int
pg_h1_on_chunk_header(llhttp_t *p)
{
	struct pg_h1_conn *h = pg_h1_of(p);

	if (p->content_length != 0)
		return 0;
	h->event = PG_H1_EV_TRAILERS;   /* last chunk: trailers follow */
	return HPE_PAUSED;
}

static int
pg_h1_on_message_complete(llhttp_t *p)
{
	pg_h1_of(p)->event = PG_H1_EV_COMPLETE;
	return HPE_PAUSED;
}

static void
pg_h1_settings(llhttp_settings_t *s)
{
	llhttp_settings_init(s);
	s->on_message_begin = pg_h1_on_message_begin;
	s->on_url = pg_h1_on_url;
	s->on_url_complete = pg_h1_on_url_complete;
	s->on_header_field = pg_h1_on_header_field;
	s->on_header_field_complete = pg_h1_on_header_field_complete;
	s->on_header_value = pg_h1_on_header_value;
	s->on_header_value_complete = pg_h1_on_header_value_complete;
	s->on_headers_complete = pg_h1_on_headers_complete;
	s->on_body = pg_h1_on_body;
	s->on_chunk_header = pg_h1_on_chunk_header;
	s->on_message_complete = pg_h1_on_message_complete;
}

/* --- strict line endings and head limits --------------------------------- */

/*
 * Check the bytes of a request head (or trailer section) before llhttp
 * sees them: CRLF only (llhttp 8 accepts a bare LF after the request line
 * and at the end of the head), no obsolete line folding, the request line
 * and the header section within their limits. Stops at the empty line.
 * PG_OK or PG_ERROR (the connection failed).
 */
static int
pg_h1_scan(struct pg_h1_conn *h, const char *p, uint32_t n)
{
	const struct pg_h1_conf *cf = &h->srv->conf;
	uint8_t st = h->scan;
	uint32_t i;

	if (h->start_ns == 0)
		h->start_ns = h->srv->nif->now_ns;

	for (i = 0; i < n && st != PG_H1_SC_OFF; i++) {
		char c = p[i];
		switch (st) {
		case PG_H1_SC_START:
			st = c == '\r' ? PG_H1_SC_START_CR : PG_H1_SC_LINE;
			if (c == '\n')
				goto bad;
			break;
		case PG_H1_SC_START_CR:
			if (c != '\n')
				goto bad;
			st = PG_H1_SC_START;
			break;
		case PG_H1_SC_LINE:
			if (c == '\r')
				st = PG_H1_SC_CR;
			else if (c == '\n')
				goto bad;
			break;
		case PG_H1_SC_CR:
			if (c != '\n')
				goto bad;
			st = PG_H1_SC_BOL;
			h->line_len = UINT32_MAX;   /* the request line is over */
			break;
		case PG_H1_SC_BOL:
			if (c == ' ' || c == '\t' || c == '\n')
				goto bad;
			st = c == '\r' ? PG_H1_SC_BOL_CR : PG_H1_SC_LINE;
			break;
		case PG_H1_SC_BOL_CR:
			if (c != '\n')
				goto bad;
			st = PG_H1_SC_OFF;
			break;
		}
		if (h->line_len != UINT32_MAX) {
			if (st != PG_H1_SC_START && st != PG_H1_SC_START_CR
			    && ++h->line_len > cf->max_request_line) {
				pg_h1_fail(h, 414, PG_HTTP_C_err_uri_too_long);
				return PG_ERROR;
			}
		} else if (++h->head_bytes > cf->max_header_bytes) {
			pg_h1_fail(h, 431, PG_HTTP_C_err_header_size);
			return PG_ERROR;
		}
	}
	h->scan = st;
	return PG_OK;
bad:
	pg_h1_fail(h, 400, PG_HTTP_C_err_line_ending);
	return PG_ERROR;
}

/* --- events: the application runs here, outside llhttp ------------------ */

static int
pg_h1_body_over(const struct pg_h1_conn *h)
{
	return h->req.body_len >= h->srv->conf.body_buffer;
}

static void
pg_h1_send_continue(struct pg_h1_conn *h)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (!(h->req.flags & PG_HTTP_F_EXPECT_CONTINUE)
	    || (h->flags & (PG_H1F_CONTINUE | PG_H1F_RESP_HEAD))
	    || (h->req.flags & PG_HTTP_F_BODY_DONE) || h->x.st == NULL)
		return;
	h->flags |= PG_H1F_CONTINUE;
	if (pg_stream_write(h->x.st, line, sizeof(line) - 1) == PG_OK) {
		PG_H1_COUNT(h, continue_sent);
		PG_H1_COUNT(h, status_1xx);
	}
}

/* Headers complete: check what llhttp leaves to us, then on_request. */
/* --- Upgrade: h2c --------------------------------------------------------- */

#define PG_H1_H2_SETTINGS_MAX 128    /* decoded HTTP2-Settings: 21 settings */

/*
 * Does m ask for HTTP/2 (RFC 7540 3.2): Connection: Upgrade (the parser's
 * upgrade flag) and "h2c" among the Upgrade tokens, over plain TCP?
 */
static int
pg_h1_wants_h2c(const struct pg_h1_conn *h, const struct pg_http_msg *m)
{
	const struct pg_http_str *up;

	if (!(m->flags & PG_HTTP_F_UPGRADE) || h->srv->h2.upgrade == NULL
	    || h->x.st->tls)
		return 0;            /* (the common case: no header scan) */
	up = pg_http_msg_header(m, "upgrade");
	return up != NULL && pg_http_list_has(up, "h2c");
}

/*
 * The decoded HTTP2-Settings of m into buf, or -1: not exactly one such
 * field, malformed, or a body (which would have to be read whole before
 * switching: such requests stay HTTP/1.1).
 */
static int32_t
pg_h1_h2c_settings(const struct pg_http_msg *m, uint8_t *buf, uint32_t cap)
{
	int i = pg_http_msg_find(m, "http2-settings", 14, 0, 0);

	if (i < 0 || pg_http_msg_find(m, "http2-settings", 14, i + 1, 0) >= 0
	    || (m->flags & PG_HTTP_F_CHUNKED) || m->content_length > 0)
		return -1;
	return pg_http_base64url_decode(m->fields[i].value.ptr,
					m->fields[i].value.len, buf, cap);
}

/* The bytes received after the request head, copied (NULL, 0: none). */
static void *
pg_h1_rest(const struct pg_h1_conn *h, uint32_t *len)
{
	uint32_t n = 0, off = h->off;
	char *buf;

	for (const struct rte_mbuf *s = h->seg; s != NULL; s = s->next, off = 0)
		n += s->data_len - RTE_MIN(off, s->data_len);
	*len = n;
	if (n == 0 || (buf = malloc(n)) == NULL)
		return NULL;
	n = 0;
	off = h->off;
	for (const struct rte_mbuf *s = h->seg; s != NULL; s = s->next, off = 0) {
		uint32_t k = s->data_len - RTE_MIN(off, s->data_len);
		memcpy(buf + n, rte_pktmbuf_mtod_offset(s, const char *, off), k);
		n += k;
	}
	return buf;
}

/*
 * Hand the connection to HTTP/2 with m as its stream 1. PG_OK: h is dead
 * (freed when the parse loop leaves it); PG_ERROR: the request goes on
 * over HTTP/1.1, Upgrade ignored (RFC 9110 7.8 lets a server do that).
 */
static int
pg_h1_upgrade(struct pg_h1_conn *h, struct pg_http_msg *m)
{
	const struct pg_h1_h2 *h2 = &h->srv->h2;
	uint8_t settings[PG_H1_H2_SETTINGS_MAX];
	struct pg_stream *st = h->x.st;
	const char *err = NULL;
	uint32_t len = 0;
	void *rest = pg_h1_rest(h, &len);
	int32_t n = pg_h1_h2c_settings(m, settings, sizeof(settings));

	if (n >= 0 && (len == 0 || rest != NULL)) {
		h->x.st = NULL;
		st->ctx = NULL;
		st->cbs = NULL;
		if (h2->upgrade(h2->arg, st, settings, (uint32_t)n, m, rest,
				len, &err) == PG_OK) {
			free(rest);
			PG_H1_COUNT(h, h2c_upgrade);
			h->flags |= PG_H1F_DEAD;
			return PG_OK;
		}
		h->x.st = st;
		st->ctx = h;
		st->cbs = &pg_h1_st_cbs;
	}
	free(rest);
	PG_H1_COUNT(h, h2c_upgrade_refused);
	return PG_ERROR;
}

static void
pg_h1_headers(struct pg_h1_conn *h)
{
	struct pg_http_msg *m = &h->req;
	llhttp_t *p = &h->parser;
	const struct pg_http_str *v;

	m->version = (uint8_t)(p->http_major * 10 + p->http_minor);
	h->x.version = m->version;
	if (m->version != 10 && m->version != 11) {
		pg_h1_fail(h, 505, PG_HTTP_C_err_version);
		return;
	}
	/* llhttp refuses these only after on_headers_complete: too late */
	if ((p->flags & F_TRANSFER_ENCODING) && (p->flags & F_CONTENT_LENGTH)) {
		pg_h1_fail(h, 400, PG_HTTP_C_err_cl_te);
		return;
	}
	if ((p->flags & F_TRANSFER_ENCODING) && !(p->flags & F_CHUNKED)) {
		pg_h1_fail(h, 400, PG_HTTP_C_err_transfer_encoding);
		return;
	}
	if (m->version == 11 && !(h->flags & PG_H1F_HOST)) {
		pg_h1_fail(h, 400, PG_HTTP_C_err_host);
		return;
	}
	if ((v = pg_http_msg_header(m, "host")) != NULL
	    && m->authority.ptr == NULL)
		m->authority = *v;
	if (llhttp_should_keep_alive(p))
		m->flags |= PG_HTTP_F_KEEP_ALIVE;
	if (p->flags & F_CHUNKED)
		m->flags |= PG_HTTP_F_CHUNKED;
	if (p->flags & F_CONTENT_LENGTH) {
		m->flags |= PG_HTTP_F_CONTENT_LENGTH;
		m->content_length = p->content_length;
	}
	if (p->upgrade)
		m->flags |= PG_HTTP_F_UPGRADE;
	if (m->version == 11 && (v = pg_http_msg_header(m, "expect")) != NULL
	    && pg_http_str_eq_nocase(v->ptr, v->len, "100-continue", 12)
	    && ((m->flags & PG_HTTP_F_CHUNKED) || m->content_length > 0))
		m->flags |= PG_HTTP_F_EXPECT_CONTINUE;
	if (pg_h1_wants_h2c(h, m) && pg_h1_upgrade(h, m) == PG_OK)
		return;
	if (m->flags & PG_HTTP_F_UPGRADE)
		h->flags |= PG_H1F_UPGRADE;   /* not switched: close after */
	if ((m->flags & PG_HTTP_F_CONTENT_LENGTH)
	    && m->content_length > h->body_max) {
		pg_h1_fail(h, 413, PG_HTTP_C_err_body_size);
		return;
	}
	h->state = PG_H1_BODY;
	h->scan = PG_H1_SC_OFF;
	pg_h1_arm(h, PG_H1_T_BODY, h->srv->conf.body_timeout_ms);
	PG_H1_COUNT(h, requests);
	if (h->x.nth > 0)
		PG_H1_COUNT(h, keepalive_reuse);
	h->flags |= PG_H1F_APP;
	h->srv->hd.on_request(&h->x, m);
	if (h->srv->conf.auto_continue && (h->flags & PG_H1F_APP))
		pg_h1_send_continue(h);
}

static void
pg_h1_complete(struct pg_h1_conn *h)
{
	h->req.flags |= PG_HTTP_F_BODY_DONE;
	h->state = PG_H1_DONE;
	pg_timer_cancel(&h->srv->wheel, &h->timer);
	if ((h->flags & PG_H1F_APP) && h->srv->hd.on_request_end != NULL)
		h->srv->hd.on_request_end(&h->x);
}

/* Ready for the next request on this connection. */
static void
pg_h1_next(struct pg_h1_conn *h)
{
	while (h->held != NULL) {
		struct rte_mbuf *m = h->held;
		h->held = pg_mbuf_priv(m)->qnext;
		pg_mbuf_free(m);
	}
	if (h->cur != NULL) {
		pg_mbuf_priv(h->cur)->flags &= ~PG_H1_PINNED;
		if (pg_h1_pending(h))
			PG_H1_COUNT(h, pipelined);
	}
	pg_http_msg_reset(&h->req);
	h->x.nth++;
	h->state = PG_H1_IDLE;
	h->scan = PG_H1_SC_START;
	h->line_len = h->head_bytes = 0;
	h->span = PG_H1_SP_NONE;
	h->flags &= PG_H1F_EOF | PG_H1F_REFUSED | PG_H1F_DEAD | PG_H1F_IN_LIST
		    | PG_H1F_PROCESSING;
	h->body_total = 0;
	h->body_max = h->srv->conf.max_body;
	h->resp_clen = h->resp_sent = 0;
	h->start_ns = h->resp_bytes = 0;
	if (h->srv->shutdown)
		pg_h1_linger(h);     /* stopping: no next request */
	else
		pg_h1_arm(h, PG_H1_T_KEEPALIVE,
			  h->srv->conf.keepalive_timeout_ms);
}

/* --- parse loop ---------------------------------------------------------- */

static enum pg_http_counter
pg_h1_llhttp_counter(llhttp_errno_t e, const char *reason)
{
	switch (e) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return strstr(reason, "Transfer-Encoding") != NULL
		       ? PG_HTTP_C_err_cl_te : PG_HTTP_C_err_content_length;
	case HPE_INVALID_CONTENT_LENGTH:
		return PG_HTTP_C_err_content_length;
	case HPE_INVALID_TRANSFER_ENCODING:
		return PG_HTTP_C_err_transfer_encoding;
	case HPE_INVALID_CHUNK_SIZE:
		return PG_HTTP_C_err_chunk;
	case HPE_CR_EXPECTED:
	case HPE_LF_EXPECTED:
		return PG_HTTP_C_err_line_ending;
	case HPE_INVALID_VERSION:
		return PG_HTTP_C_err_version;
	default:
		return PG_HTTP_C_err_syntax;
	}
}

/* Can the parser go on, or does it wait for the application? */
static int
pg_h1_blocked(const struct pg_h1_conn *h)
{
	if (h->flags & PG_H1F_DEAD)
		return 1;
	if (h->state == PG_H1_LINGER)
		return 0;
	if (h->state == PG_H1_DONE)
		return 1;            /* until the response ends */
	return h->state == PG_H1_BODY && (h->flags & PG_H1F_APP)
	       && pg_h1_body_over(h);
}

/* Handle what paused the parser. */
static void
pg_h1_event(struct pg_h1_conn *h)
{
	uint8_t ev = h->event;

	h->event = PG_H1_EV_NONE;
	switch (ev) {
	case PG_H1_EV_HEADERS:
		pg_h1_headers(h);
		break;
	case PG_H1_EV_TRAILERS:
		h->flags |= PG_H1F_TRAILERS;
		h->scan = PG_H1_SC_BOL;
		h->line_len = UINT32_MAX;
		break;
	case PG_H1_EV_COMPLETE:
		pg_h1_complete(h);
		if (h->flags & PG_H1F_RESP_DONE)
			pg_h1_next(h);
		break;
	}
}

/* Parse from the cursor until the chain ends or the parser must wait. */
static void
pg_h1_process(struct pg_h1_conn *h)
{
	if (h->flags & PG_H1F_PROCESSING)
		return;              /* the loop below goes on by itself */
	h->flags |= PG_H1F_PROCESSING;
	while (h->cur != NULL && !pg_h1_blocked(h)) {
		if (h->state == PG_H1_LINGER)
			break;
		if (h->seg == NULL) {
			pg_h1_retire_cur(h);
			break;
		}
		/*
		 * After a pause at the last byte, llhttp may still owe
		 * callbacks that need no input (message complete after a
		 * head without body): run it once more on nothing.
		 */
		if (h->off >= h->seg->data_len && !h->resumed) {
			h->seg = h->seg->next;
			h->off = 0;
			continue;
		}
		const char *p = rte_pktmbuf_mtod_offset(h->seg, const char *,
							h->off);
		uint32_t n = h->seg->data_len - h->off;
		if (h->scan != PG_H1_SC_OFF && pg_h1_scan(h, p, n) != PG_OK)
			break;
		h->resumed = 0;
		llhttp_errno_t e = llhttp_execute(&h->parser, p, n);
		uint32_t used = n;
		if (e == HPE_PAUSED) {
			used = (uint32_t)(llhttp_get_error_pos(&h->parser) - p);
			llhttp_resume(&h->parser);
			h->resumed = 1;
		} else if (h->err_status != 0) {
			/* ours (HPE_USER, or HPE_CB_* from a _complete hook) */
			pg_h1_fail(h, h->err_status, h->err_counter);
			break;
		} else if (e != HPE_OK) {
			pg_h1_fail(h, 400, pg_h1_llhttp_counter(e,
							h->parser.reason));
			break;
		}
		h->off = (uint16_t)(h->off + used);
		if (h->event != PG_H1_EV_NONE)
			pg_h1_event(h);
		if ((h->flags & PG_H1F_BODY_NEW) && (h->flags & PG_H1F_APP)) {
			h->flags &= ~PG_H1F_BODY_NEW;
			pg_h1_arm(h, PG_H1_T_BODY, h->srv->conf.body_timeout_ms);
			if (h->srv->hd.on_body != NULL)
				h->srv->hd.on_body(&h->x);
		}
	}
	if (h->state == PG_H1_LINGER && h->cur != NULL) {
		pg_mbuf_priv(h->cur)->flags &= ~PG_H1_PINNED;
		pg_h1_retire_cur(h);
	}
	h->flags &= ~PG_H1F_PROCESSING;
}

/* Are there received bytes not parsed yet? */
static int
pg_h1_pending(const struct pg_h1_conn *h)
{
	return h->seg != NULL && (h->off < h->seg->data_len
				  || h->seg->next != NULL);
}

/* Take up again after the application unblocked the connection. */
static void
pg_h1_kick(struct pg_h1_conn *h)
{
	pg_h1_enter(h);
	pg_h1_process(h);
	if (h->cur == NULL && (h->flags & PG_H1F_REFUSED) && h->x.st != NULL
	    && !(h->flags & PG_H1F_DEAD)) {
		h->flags &= ~PG_H1F_REFUSED;
		pg_stream_recv_resume(h->x.st);
	}
	if (!(h->flags & PG_H1F_DEAD) && h->cur == NULL && h->state
	    == PG_H1_IDLE && (h->flags & PG_H1F_EOF))
		pg_h1_end(h, 0);
	pg_h1_leave(h);
}

/* --- stream callbacks ---------------------------------------------------- */

/* Does m begin with the HTTP/2 connection preface (RFC 9113 3.4)? */
static int
pg_h1_is_preface(const struct rte_mbuf *m)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	char buf[sizeof(preface) - 1];
	const void *p = rte_pktmbuf_read(m, 0, sizeof(buf), buf);
	return p != NULL && memcmp(p, preface, sizeof(buf)) == 0;
}

/* HTTP/2 takes st over: h lets go of it. */
static struct pg_stream *
pg_h1_release(struct pg_h1_conn *h)
{
	struct pg_stream *st = h->x.st;

	h->x.st = NULL;
	st->ctx = NULL;
	st->cbs = NULL;
	pg_h1_enter(h);
	h->flags |= PG_H1F_DEAD;
	pg_h1_leave(h);
	return st;
}

/* The first bytes are the HTTP/2 preface: the stream goes to HTTP/2. */
static int
pg_h1_hand_over(struct pg_h1_conn *h, struct rte_mbuf *m)
{
	const struct pg_h1_h2 *h2 = &h->srv->h2;

	PG_H1_COUNT(h, h2c_preface);
	return h2->preface(h2->arg, pg_h1_release(h), m);
}

static int
pg_h1_st_data(struct pg_stream *st, struct rte_mbuf *m)
{
	struct pg_h1_conn *h = st->ctx;

	if (h == NULL) {
		pg_mbuf_free(m);
		return PG_OK;
	}
	if (pg_unlikely(h->x.nth == 0 && h->state == PG_H1_IDLE
			&& h->cur == NULL && h->srv->h2.preface != NULL)
	    && pg_h1_is_preface(m))
		return pg_h1_hand_over(h, m);
	if (h->state == PG_H1_LINGER) {
		pg_mbuf_free(m);
		return PG_OK;
	}
	if (h->cur != NULL || pg_h1_blocked(h)) {
		h->flags |= PG_H1F_REFUSED;
		return PG_AGAIN;
	}
	h->flags &= ~PG_H1F_REFUSED;
	pg_mbuf_priv(m)->flags = 0;
	h->cur = h->seg = m;
	h->off = 0;
	pg_h1_kick(h);
	return PG_OK;
}

static void
pg_h1_st_eof(struct pg_stream *st)
{
	struct pg_h1_conn *h = st->ctx;

	if (h == NULL)
		return;
	pg_h1_enter(h);
	h->flags |= PG_H1F_EOF;
	switch (h->state) {
	case PG_H1_LINGER:
		pg_h1_end(h, 0);
		break;
	case PG_H1_IDLE:
		if (h->cur == NULL)
			pg_h1_end(h, 0);
		break;
	case PG_H1_HEAD:
	case PG_H1_BODY:
		if (llhttp_message_needs_eof(&h->parser)) {
			pg_h1_complete(h);
			break;
		}
		PG_H1_COUNT(h, aborted);
		pg_h1_end(h, 0);
		break;
	case PG_H1_DONE:
		h->flags |= PG_H1F_CLOSE;   /* answer, then close */
		break;
	}
	pg_h1_leave(h);
}

static void
pg_h1_st_writable(struct pg_stream *st)
{
	struct pg_h1_conn *h = st->ctx;

	if (h != NULL && (h->flags & PG_H1F_APP)
	    && h->srv->hd.on_writable != NULL) {
		pg_h1_enter(h);
		h->srv->hd.on_writable(&h->x);
		pg_h1_leave(h);
	}
}

static void
pg_h1_st_close(struct pg_stream *st, enum pg_tcp_reason why)
{
	struct pg_h1_conn *h = st->ctx;

	(void)why;
	if (h == NULL)
		return;
	pg_h1_enter(h);
	if (h->state == PG_H1_HEAD || h->state == PG_H1_BODY
	    || (h->flags & PG_H1F_APP))
		PG_H1_COUNT(h, aborted);
	h->x.st = NULL;
	pg_h1_app_drop(h);
	h->flags |= PG_H1F_DEAD;
	pg_h1_leave(h);
}

static struct pg_h1_conn *
pg_h1_conn_alloc(struct pg_h1_server *s)
{
	struct pg_h1_conn *h = s->free;

	if (h != NULL) {
		s->free = h->next;
		return h;
	}
	return malloc(s->block_size);
}

static const struct pg_stream_cbs pg_h1_st_cbs = {
	.on_data = pg_h1_st_data,
	.on_eof = pg_h1_st_eof,
	.on_writable = pg_h1_st_writable,
	.on_close = pg_h1_st_close,
};

static const struct pg_http_xchg_ops pg_h1_xchg_ops;

int
pg_h1_attach(struct pg_h1_server *s, struct pg_stream *st)
{
	struct pg_h1_conn *h;

	if (s->shutdown || s->nconns >= s->conf.max_conns
	    || (h = pg_h1_conn_alloc(s)) == NULL) {
		s->stats->conn_limit++;
		return PG_ERROR;
	}
	memset(h, 0, sizeof(*h));
	h->srv = s;
	h->x.ops = &pg_h1_xchg_ops;
	h->x.hd = &s->hd;
	h->x.server_ctx = s->ctx;
	h->x.st = st;
	h->x.version = 11;
	pg_timer_init(&h->timer, pg_h1_timer_fire);
	pg_http_msg_init(&h->req, h + 1, s->conf.arena_size,
			 s->conf.max_headers);
	llhttp_init(&h->parser, HTTP_REQUEST, &s->settings);
	h->parser.data = h;
	h->next = s->conns;
	if (s->conns != NULL)
		s->conns->pprev = &h->next;
	h->pprev = &s->conns;
	s->conns = h;
	s->nconns++;
	h->flags = PG_H1F_IN_LIST;
	pg_h1_next(h);
	h->x.nth = 0;
	pg_h1_arm(h, PG_H1_T_HEADER, s->conf.header_timeout_ms);
	s->stats->conns++;
	st->ctx = h;
	st->cbs = &pg_h1_st_cbs;
	return PG_OK;
}

/* pg_h1_listen's connections: plain TCP streams. */
static int
pg_h1_tcp_accept(struct pg_tcp_conn *c, void *lctx)
{
	struct pg_stream *st = pg_stream_tcp_new(c);

	if (st == NULL)
		return PG_ERROR;
	if (pg_h1_attach(lctx, st) != PG_OK) {
		pg_stream_tcp_drop(st);
		return PG_ERROR;
	}
	return PG_OK;
}

static const struct pg_tcp_callbacks pg_h1_tcp_cbs = {
	.on_accept = pg_h1_tcp_accept,
	PG_STREAM_TCP_FORWARDERS,
};

/* --- server -------------------------------------------------------------- */

struct pg_h1_server *
pg_h1_server_create(struct pg_netif *nif, const struct pg_h1_conf *conf,
		    const struct pg_http_xchg_handler *hd, void *ctx,
		    struct pg_http_stats *stats, const char **err)
{
	struct pg_h1_server *s;
	uint32_t fields = conf->max_headers * sizeof(struct pg_http_field);

	if (hd == NULL || hd->on_request == NULL) {
		*err = "an HTTP handler needs on_request";
		return NULL;
	}
	if (conf->arena_size < fields + 256) {
		*err = "http arena_size too small for max_headers fields "
		       "(32 bytes each, plus 256): raise arena_size";
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*err = "out of memory for the HTTP server";
		return NULL;
	}
	s->conf = *conf;
	s->hd = *hd;
	s->ctx = ctx;
	s->nif = nif;
	s->stats = stats != NULL ? stats : &s->own_stats;
	s->block_size = (uint32_t)RTE_ALIGN_CEIL(sizeof(struct pg_h1_conn), 8)
			+ conf->arena_size;
	s->date_sec = -1;
	pg_h1_settings(&s->settings);
	pg_wheel_init(&s->wheel, PG_H1_TICK_NS, nif->now_ns);
	return s;
}

int
pg_h1_listen(struct pg_h1_server *s, struct pg_tcp_stack *stack,
	     uint16_t port, const char **err)
{
	return pg_tcp_listen(stack, port, &pg_h1_tcp_cbs, s, NULL, err) != NULL
	       ? PG_OK : PG_ERROR;
}

void
pg_h1_set_h2(struct pg_h1_server *s, const struct pg_h1_h2 *h2)
{
	s->h2 = *h2;
}

void
pg_h1_server_shutdown(struct pg_h1_server *s)
{
	struct pg_h1_conn *h, *next;

	s->shutdown = 1;
	for (h = s->conns; h != NULL; h = next) {
		next = h->next;
		if (h->state == PG_H1_IDLE && h->cur == NULL
		    && !(h->flags & PG_H1F_APP))
			pg_h1_end(h, 0);
		else
			h->flags |= PG_H1F_CLOSE;   /* (after a keep-alive
						       head: closes anyway) */
	}
}

unsigned
pg_h1_server_poll(struct pg_h1_server *s)
{
	return pg_wheel_advance(&s->wheel, s->nif->now_ns);
}

uint64_t
pg_h1_server_next_timer(const struct pg_h1_server *s)
{
	return pg_wheel_next(&s->wheel);
}

void
pg_h1_server_destroy(struct pg_h1_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		pg_h1_end(s->conns, 1);
	while (s->free != NULL) {
		struct pg_h1_conn *h = s->free;
		s->free = h->next;
		free(h);
	}
	free(s);
}

const struct pg_http_stats *
pg_h1_server_stats(const struct pg_h1_server *s)
{
	return s->stats;
}

void *
pg_h1_server_ctx(const struct pg_h1_server *s)
{
	return s->ctx;
}

uint32_t
pg_h1_server_conns(const struct pg_h1_server *s)
{
	return s->nconns;
}

/* --- the exchange: request ----------------------------------------------- */

static void
pg_h1_set_body_limit(struct pg_http_xchg *x, uint64_t max)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);

	h->body_max = max;
	if ((h->req.flags & PG_HTTP_F_CONTENT_LENGTH)
	    && h->req.content_length > max)
		pg_h1_fail(h, 413, PG_HTTP_C_err_body_size);
}

static void
pg_h1_continue(struct pg_http_xchg *x)
{
	pg_h1_send_continue(pg_h1_of_xchg(x));
}

static int
pg_h1_body_done(const struct pg_http_xchg *x)
{
	return !!(pg_h1_of_xchg(x)->req.flags & PG_HTTP_F_BODY_DONE);
}

static uint32_t
pg_h1_body_read(struct pg_http_xchg *x, void *buf, uint32_t len)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);
	struct pg_http_msg *m = &h->req;
	int was_over = pg_h1_body_over(h);
	uint32_t got;

	pg_h1_send_continue(h);
	got = pg_http_msg_body_read(m, buf, len);
	if (was_over && !pg_h1_body_over(h))
		pg_h1_kick(h);
	return got;
}

/* --- the exchange: response ---------------------------------------------- */

static void
pg_h1_response_done(struct pg_h1_conn *h)
{
	PG_H1_COUNT(h, responses);
	pg_h1_log(h, h->resp_status);
	h->flags = (uint16_t)((h->flags & ~PG_H1F_APP) | PG_H1F_RESP_DONE);
	if (h->flags & (PG_H1F_CLOSE | PG_H1F_UPGRADE)) {
		pg_h1_linger(h);
		return;
	}
	if (h->state == PG_H1_DONE)
		pg_h1_next(h);
	/* else: the body is still coming; it is read and dropped */
	pg_h1_kick(h);
}

static int pg_h1_send(struct pg_http_xchg *x, struct rte_mbuf *m, int last);

static int
pg_h1_respond(struct pg_http_xchg *x, const struct pg_http_msg *resp,
	      int64_t clen, unsigned flags, const char **err)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);
	const struct pg_http_msg *req = &h->req;
	const struct pg_http_str *v;
	struct pg_http_head_opts o = { .version = req->version,
				       .date = pg_h1_date(h->srv) };
	struct pg_http_out out;
	int rc;

	if (!(h->flags & PG_H1F_APP) || (h->flags & PG_H1F_RESP_HEAD)) {
		*err = "no request waits for a response on this connection";
		return PG_ERROR;
	}
	if (resp->status >= 100 && resp->status < 200) {
		if (resp->status == 101 || req->version < 11) {
			*err = "101 and HTTP/1.0 interim responses are not "
			       "supported";
			return PG_ERROR;
		}
		o.keep_alive = 1;
		o.framing = PG_HTTP_FRAME_NONE;
		if (resp->status == 100)
			h->flags |= PG_H1F_CONTINUE;
		goto write;
	}
	if ((v = pg_http_msg_header(resp, "content-length")) != NULL
	    && clen < 0 && (clen = pg_http_parse_length(v)) < 0) {
		*err = "malformed Content-Length in the response";
		PG_H1_COUNT(h, app_error);
		pg_h1_fail(h, 500, PG_HTTP_C_app_error);
		return PG_ERROR;
	}
	if ((v = pg_http_msg_header(resp, "connection")) != NULL
	    && pg_http_list_has(v, "close"))
		h->flags |= PG_H1F_CLOSE;
	if (!(req->flags & PG_HTTP_F_KEEP_ALIVE))
		h->flags |= PG_H1F_CLOSE;
	/* The last request a connection may carry says so in its answer
	 * (closing after a keep-alive answer reads as an error to clients). */
	if ((h->srv->conf.max_requests != 0
	     && h->x.nth + 1 >= h->srv->conf.max_requests)
	    || h->srv->shutdown)
		h->flags |= PG_H1F_CLOSE;
	/* The client may still hold back a body we never asked for. */
	if ((req->flags & PG_HTTP_F_EXPECT_CONTINUE)
	    && !(req->flags & PG_HTTP_F_BODY_DONE)
	    && !(h->flags & PG_H1F_CONTINUE))
		h->flags |= PG_H1F_CLOSE;
	o.framing = (uint8_t)pg_http_framing(req->method, req->version,
					     resp->status, clen);
	if (o.framing == PG_HTTP_FRAME_CLOSE)
		h->flags |= PG_H1F_CLOSE;
	o.keep_alive = !(h->flags & PG_H1F_CLOSE);
	o.content_length = clen >= 0 ? (uint64_t)clen : 0;
	o.length_header = req->method == PG_HTTP_HEAD && clen >= 0
			  && o.framing != PG_HTTP_FRAME_NONE;
	h->framing = o.framing;
	h->resp_clen = o.content_length;
	h->resp_sent = 0;
	h->resp_status = resp->status;
	if (o.framing == PG_HTTP_FRAME_NONE || req->method == PG_HTTP_HEAD)
		h->flags |= PG_H1F_NOBODY;
write:
	pg_h1_out_init(h, &out);
	if (pg_http_write_head(&out, resp, &o, err) != PG_OK) {
		pg_http_out_free(&out);
		pg_h1_fail(h, 500, PG_HTTP_C_app_error);
		return PG_ERROR;
	}
	pg_h1_count_status(h, resp->status);
	if (resp->status >= 200)
		h->flags |= PG_H1F_RESP_HEAD;
	rc = pg_h1_flush(h, &out);
	if (rc == PG_OK && resp->status >= 200 && (flags & PG_XCHG_END))
		return pg_h1_send(x, NULL, 1);
	return rc;
}

static int
pg_h1_send(struct pg_http_xchg *x, struct rte_mbuf *m, int last)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);
	struct pg_http_out out;
	const char *err;
	uint32_t len = m != NULL ? m->pkt_len : 0;
	int rc = PG_OK;

	if (!(h->flags & PG_H1F_RESP_HEAD) || !(h->flags & PG_H1F_APP)
	    || h->x.st == NULL) {
		if (m != NULL)
			pg_mbuf_free(m);
		return PG_ERROR;
	}
	pg_h1_out_init(h, &out);
	if (h->flags & PG_H1F_NOBODY) {
		if (m != NULL)
			pg_mbuf_free(m);
	} else if (h->framing == PG_HTTP_FRAME_CHUNKED) {
		rc = pg_http_write_chunk(&out, m);
		if (rc == PG_OK && last)
			rc = pg_http_write_last_chunk(&out, NULL, &err);
	} else {
		if (h->framing == PG_HTTP_FRAME_LENGTH
		    && h->resp_sent + len > h->resp_clen) {
			pg_mbuf_free(m);
			pg_http_out_free(&out);
			pg_h1_fail(h, 500, PG_HTTP_C_app_error);
			return PG_ERROR;
		}
		pg_http_out_chain(&out, m);
	}
	h->resp_sent += len;
	if (rc != PG_OK) {
		pg_http_out_free(&out);
		pg_h1_fail(h, 503, PG_HTTP_C_nomem);
		return PG_ERROR;
	}
	rc = pg_h1_flush(h, &out);
	if (rc != PG_OK || !last)
		return rc;
	if (h->framing == PG_HTTP_FRAME_LENGTH && !(h->flags & PG_H1F_NOBODY)
	    && h->resp_sent != h->resp_clen) {
		pg_h1_fail(h, 500, PG_HTTP_C_app_error);  /* short body */
		return PG_ERROR;
	}
	pg_h1_response_done(h);
	return PG_OK;
}

static int
pg_h1_write(struct pg_http_xchg *x, const void *buf, uint32_t len, int last)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);
	struct pg_http_out out;

	pg_h1_out_init(h, &out);
	if (len > 0 && pg_http_out_put(&out, buf, len) != PG_OK) {
		pg_http_out_free(&out);
		PG_H1_COUNT(h, nomem);
		return PG_ERROR;
	}
	return pg_h1_send(x, pg_http_out_take(&out), last);
}

static uint32_t
pg_h1_queued(const struct pg_http_xchg *x)
{
	return x->st != NULL ? pg_stream_queued(x->st) : 0;
}

static void
pg_h1_abort(struct pg_http_xchg *x)
{
	struct pg_h1_conn *h = pg_h1_of_xchg(x);

	h->flags &= ~PG_H1F_APP;     /* no on_close for the caller itself */
	pg_h1_end(h, 1);
}

static const struct pg_http_xchg_ops pg_h1_xchg_ops = {
	.respond = pg_h1_respond,
	.send = pg_h1_send,
	.write = pg_h1_write,
	.queued = pg_h1_queued,
	.body_read = pg_h1_body_read,
	.body_done = pg_h1_body_done,
	.set_body_limit = pg_h1_set_body_limit,
	.cont = pg_h1_continue,
	.abort = pg_h1_abort,
};
