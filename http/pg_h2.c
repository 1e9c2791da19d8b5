/*
 * HTTP/2 server connections with nghttp2 over a pg_stream.
 *
 *   on_data -> pg_h2_run -> pg_h2_recv -> nghttp2_session_mem_recv
 *                        |               -> callbacks: streams, fields,
 *                        |                  body, floods, application
 *                        -> pg_h2_flush -> nghttp2_session_mem_send
 *                        |               -> pg_h2_read / pg_h2_send_data
 *                        |                  (DATA without copy)
 *                        |               -> pg_stream_send
 *                        -> pg_h2_notify (on_writable)
 *                        -> pg_h2_check_end (close, resume input)
 *   xchg ops, timers, on_writable -> pg_h2_run
 *
 * nghttp2 is never entered twice: while pg_h2_run works, a call that
 * needs it to run again only sets PG_H2F_AGAIN. The application's
 * callbacks run from inside nghttp2's; what they ask is submitted there
 * and written out once mem_recv returns.
 *
 * Input is bounded by the output: while the pg_stream holds send_buffer
 * bytes, input is refused (PG_AGAIN) so a peer that does not read cannot
 * make us queue answers (PING, SETTINGS ACKs) without end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/pg_core.h"
#include "core/pg_timer.h"
#include "http/pg_h2.h"
#include "http/pg_http_stats.h"
#include "net/pg_mbuf.h"
#include "net/pg_netif.h"
#include "net/pg_stream.h"

#define PG_H2_MS          UINT64_C(1000000)
#define PG_H2_SEC         UINT64_C(1000000000)
#define PG_H2_TICK_NS     (10 * PG_H2_MS)
#define PG_H2_FRAME_HD    9
#define PG_H2_TINY_WINDOW 1024     /* a WINDOW_UPDATE under it is suspect */

/* Connection flags. */
#define PG_H2F_IN_LIST    0x0001u
#define PG_H2F_DEAD       0x0002u  /* stream gone or closed: free when idle */
#define PG_H2F_RUNNING    0x0004u  /* inside pg_h2_run */
#define PG_H2F_AGAIN      0x0008u  /* run once more */
#define PG_H2F_REFUSED    0x0010u  /* on_data answered PG_AGAIN */
#define PG_H2F_CLOSING    0x0020u  /* fatal: flush, then close */
#define PG_H2F_EOF        0x0040u  /* the peer sends no more */
#define PG_H2F_GOAWAY     0x0080u  /* graceful shutdown began */
#define PG_H2F_NOTIFY     0x0100u  /* a stream waits for on_writable */

/* Stream flags. */
#define PG_H2S_APP        0x0001u  /* the application holds the exchange */
#define PG_H2S_REQ_DONE   0x0002u  /* END_STREAM received */
#define PG_H2S_RESP_HEAD  0x0004u  /* final response head submitted */
#define PG_H2S_RESP_LAST  0x0008u  /* the application gave the last byte */
#define PG_H2S_DEFERRED   0x0010u  /* the data provider waits for bytes */
#define PG_H2S_HIGH       0x0020u  /* unframed bytes reached the high mark */
#define PG_H2S_NOTIFY     0x0040u  /* on_writable due */
#define PG_H2S_NOBODY     0x0080u  /* HEAD, 204, 304: body dropped */
#define PG_H2S_BODY_NEW   0x0100u  /* body arrived since on_body */
#define PG_H2S_TOO_LARGE  0x0200u  /* header list over the limit */
#define PG_H2S_CONTINUE   0x0400u  /* 100 Continue sent */
#define PG_H2S_STARTED    0x0800u  /* on_request ran (or a refusal) */

/* Floods, each a token bucket refilled every second. */
enum pg_h2_flood {
	PG_H2_FL_RST, PG_H2_FL_SETTINGS, PG_H2_FL_PING, PG_H2_FL_EMPTY_DATA,
	PG_H2_FL_WINDOW_UPDATE, PG_H2_FL_MAX,
};

struct pg_h2_bucket {
	uint64_t tokens;
	uint64_t sec;                    /* last refill, worker clock */
};

enum pg_h2_timer_kind { PG_H2_T_IDLE, PG_H2_T_SHUTDOWN };

struct pg_h2_server {
	struct pg_h2_conf conf;
	struct pg_http_xchg_handler hd;
	void *ctx;
	struct pg_netif *nif;
	struct pg_h2_stats *stats;
	struct pg_h2_stats own_stats;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	struct pg_wheel wheel;
	struct pg_h2_conn *conns;        /* live, doubly linked */
	struct pg_h2_conn *free_conns;
	struct pg_h2_stream *free_streams;
	uint32_t nconns;
	uint32_t stream_size;            /* stream block, arena included */
	uint8_t shutdown;
	/* scratch for a response head: nva, lower-case names */
	nghttp2_nv *nva;
	char *names;
	uint32_t nva_max, names_size;
};

struct pg_h2_stream;

struct pg_h2_conn {
	struct pg_h2_server *srv;
	struct pg_stream *st;
	nghttp2_session *ng;
	struct pg_h2_conn *next, **pprev;
	struct pg_h2_stream *streams;    /* ours, open */
	struct pg_timer timer;           /* idle or shutdown deadline */
	struct pg_timer settings_timer;
	struct pg_http_out out;          /* frames being written */
	struct rte_mbuf *in, *in_seg;    /* input chain, next segment */
	uint16_t flags, busy;
	uint8_t timer_kind;
	uint32_t nstreams, nth;
	struct pg_h2_bucket flood[PG_H2_FL_MAX];
	/* pg_h2_scan: the frame header being read, the bytes to pass */
	uint8_t scan_hd[13];
	uint8_t scan_len;
	uint32_t scan_skip;
};

struct pg_h2_stream {
	struct pg_http_xchg x;           /* first: the application's handle */
	struct pg_h2_conn *c;
	struct pg_h2_stream *next, **pprev;
	int32_t id;
	uint16_t flags;
	uint16_t status;
	uint32_t head_bytes;             /* header list size, RFC 9113 6.5.2 */
	struct rte_mbuf *out, *out_tail; /* response body not framed yet */
	uint32_t out_len;
	uint64_t body_max, body_total;
	uint64_t owed;                   /* body bytes whose window is shut */
	int64_t resp_clen;               /* -1: unknown */
	uint64_t resp_sent;
	uint64_t start_ns;
	uint32_t resp_head;              /* its fields' bytes, for on_log */
	nghttp2_nv *trailers;            /* response trailers, in the arena */
	uint16_t ntrailers;
	struct pg_http_msg req;
	/* the arena follows */
};

#define PG_H2_COUNT(c, name) ((c)->srv->stats->name++)

static void pg_h2_run(struct pg_h2_conn *c);
static void pg_h2_close(struct pg_h2_conn *c, int abort);
static const struct pg_http_xchg_ops pg_h2_xchg_ops;
static const struct pg_stream_cbs pg_h2_stream_cbs;

const char *const pg_h2_counter_names[PG_H2_C_MAX] = {
#define PG_H2_COUNTER_NAME(name, text) #name,
	PG_H2_COUNTERS(PG_H2_COUNTER_NAME)
#undef PG_H2_COUNTER_NAME
};

const char *const pg_h2_counter_texts[PG_H2_C_MAX] = {
#define PG_H2_COUNTER_TEXT(name, text) text,
	PG_H2_COUNTERS(PG_H2_COUNTER_TEXT)
#undef PG_H2_COUNTER_TEXT
};

void
pg_h2_conf_default(struct pg_h2_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 65536;
	c->max_concurrent_streams = 100;
	c->initial_window = 65535;
	c->conn_window = 1u << 20;
	c->max_frame_size = 16384;
	c->max_header_list = 16384;
	c->max_headers = 100;
	c->arena_size = 8192;
	c->max_body = 1u << 20;
	c->send_buffer = 256u << 10;
	c->stream_buffer = 64u << 10;
	c->idle_timeout_ms = 60000;
	c->settings_timeout_ms = 10000;
	c->shutdown_timeout_ms = 30000;
	c->rst_burst = 1000;
	c->rst_rate = 33;
	c->max_continuations = 8;
	c->settings_rate = 100;
	c->ping_rate = 100;
	c->empty_data_rate = 100;
	c->window_update_rate = 1000;
	c->max_outbound_ack = 1000;
	c->auto_continue = 1;
}

static inline struct pg_h2_stream *
pg_h2_of(struct pg_http_xchg *x)
{
	return (struct pg_h2_stream *)x;
}

static struct pg_h2_stream *
pg_h2_stream_get(struct pg_h2_conn *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->ng, id);
}

/* The three digits of a status (100..999) for :status. */
static void
pg_h2_status_str(char d[4], unsigned status)
{
	d[0] = (char)('0' + status / 100 % 10);
	d[1] = (char)('0' + status / 10 % 10);
	d[2] = (char)('0' + status % 10);
	d[3] = '\0';
}

static void
pg_h2_count_status(struct pg_h2_conn *c, unsigned status)
{
	_Static_assert(offsetof(struct pg_h2_stats, status_5xx)
		       - offsetof(struct pg_h2_stats, status_1xx)
		       == 4 * sizeof(uint64_t), "status classes in a row");
	pg_http_count_class(&c->srv->stats->status_1xx, status);
}

/* --- connection lifetime ------------------------------------------------- */

static inline void
pg_h2_enter(struct pg_h2_conn *c)
{
	c->busy++;
}

static void
pg_h2_stream_free(struct pg_h2_stream *s)
{
	struct pg_h2_conn *c = s->c;
	struct pg_h2_server *srv = c->srv;

	if (s->owed > 0 && c->ng != NULL)
		nghttp2_session_consume_connection(c->ng, s->owed);
	pg_http_msg_reset(&s->req);
	if (s->out != NULL)
		pg_mbuf_free(s->out);
	*s->pprev = s->next;
	if (s->next != NULL)
		s->next->pprev = s->pprev;
	c->nstreams--;
	s->next = srv->free_streams;
	srv->free_streams = s;
}

static void
pg_h2_free(struct pg_h2_conn *c)
{
	struct pg_h2_server *s = c->srv;

	pg_timer_cancel(&s->wheel, &c->timer);
	pg_timer_cancel(&s->wheel, &c->settings_timer);
	while (c->streams != NULL)
		pg_h2_stream_free(c->streams);
	nghttp2_session_del(c->ng);
	c->ng = NULL;
	pg_http_out_free(&c->out);
	if (c->in != NULL)
		pg_mbuf_free(c->in);
	c->in = NULL;
	if (c->flags & PG_H2F_IN_LIST) {
		*c->pprev = c->next;
		if (c->next != NULL)
			c->next->pprev = c->pprev;
		s->nconns--;
	}
	c->next = s->free_conns;
	s->free_conns = c;
}

/* Leave a section entered with pg_h2_enter; 1 when c was freed. */
static int
pg_h2_leave(struct pg_h2_conn *c)
{
	if (--c->busy == 0 && (c->flags & PG_H2F_DEAD)) {
		pg_h2_free(c);
		return 1;
	}
	return 0;
}

/* Tell the application, if it holds s, that s is going away. */
static void
pg_h2_app_drop(struct pg_h2_stream *s)
{
	if (!(s->flags & PG_H2S_APP))
		return;
	s->flags &= ~PG_H2S_APP;
	PG_H2_COUNT(s->c, aborted);
	if (s->c->srv->hd.on_close != NULL)
		s->c->srv->hd.on_close(&s->x);
	s->x.ctx = NULL;
}

/* Close (abort 0: FIN after the queued data) or reset the connection. */
static void
pg_h2_close(struct pg_h2_conn *c, int abort)
{
	if (c->flags & PG_H2F_DEAD)
		return;
	pg_h2_enter(c);
	c->flags |= PG_H2F_DEAD;
	for (struct pg_h2_stream *s = c->streams; s != NULL; s = s->next)
		pg_h2_app_drop(s);
	if (c->st != NULL) {
		struct pg_stream *st = c->st;
		c->st = NULL;
		st->ctx = NULL;
		st->cbs = NULL;
		if (abort)
			pg_stream_abort(st);
		else
			pg_stream_close(st);
	}
	pg_h2_leave(c);
}

/* End the connection with GOAWAY code once it is written out. */
static void
pg_h2_terminate(struct pg_h2_conn *c, uint32_t code)
{
	nghttp2_session_terminate_session(c->ng, code);
}

/* --- timers -------------------------------------------------------------- */

static void
pg_h2_arm(struct pg_h2_conn *c, enum pg_h2_timer_kind kind, uint32_t ms)
{
	c->timer_kind = (uint8_t)kind;
	if (ms == 0)
		pg_timer_cancel(&c->srv->wheel, &c->timer);
	else
		pg_timer_arm(&c->srv->wheel, &c->timer, ms * PG_H2_MS);
}

static void
pg_h2_timer_fire(struct pg_timer *t)
{
	struct pg_h2_conn *c = container_of(t, struct pg_h2_conn, timer);

	pg_h2_enter(c);
	if (c->timer_kind == PG_H2_T_IDLE) {
		PG_H2_COUNT(c, timeout_idle);
		pg_h2_terminate(c, NGHTTP2_NO_ERROR);
	} else {
		PG_H2_COUNT(c, timeout_shutdown);
		pg_h2_terminate(c, NGHTTP2_NO_ERROR);
		c->flags |= PG_H2F_CLOSING;
	}
	pg_h2_run(c);
	pg_h2_leave(c);
}

static void
pg_h2_settings_fire(struct pg_timer *t)
{
	struct pg_h2_conn *c = container_of(t, struct pg_h2_conn,
					     settings_timer);

	pg_h2_enter(c);
	PG_H2_COUNT(c, timeout_settings);
	pg_h2_terminate(c, NGHTTP2_SETTINGS_TIMEOUT);
	pg_h2_run(c);
	pg_h2_leave(c);
}

/* --- floods -------------------------------------------------------------- */

/* Per flood: the bucket's burst and rate, and the counter of a trigger. */
static void
pg_h2_flood_limits(const struct pg_h2_conf *cf, enum pg_h2_flood f,
		   uint64_t *burst, uint64_t *rate, enum pg_h2_counter *ctr)
{
	static const enum pg_h2_counter ctrs[PG_H2_FL_MAX] = {
		PG_H2_C_flood_rst, PG_H2_C_flood_settings, PG_H2_C_flood_ping,
		PG_H2_C_flood_empty_data, PG_H2_C_flood_window_update,
	};
	const uint32_t rates[PG_H2_FL_MAX] = {
		cf->rst_rate, cf->settings_rate, cf->ping_rate,
		cf->empty_data_rate, cf->window_update_rate,
	};

	*burst = f == PG_H2_FL_RST ? cf->rst_burst : rates[f];
	*rate = rates[f];
	*ctr = ctrs[f];
}

static void
pg_h2_flood_init(struct pg_h2_conn *c)
{
	uint64_t burst, rate, sec = c->srv->nif->now_ns / PG_H2_SEC;
	enum pg_h2_counter ctr;

	for (int f = 0; f < PG_H2_FL_MAX; f++) {
		pg_h2_flood_limits(&c->srv->conf, f, &burst, &rate, &ctr);
		c->flood[f] = (struct pg_h2_bucket){ burst, sec };
	}
}

/*
 * One more frame of kind f. Over its bucket the connection ends with
 * GOAWAY ENHANCE_YOUR_CALM (counted); returns 1 then.
 */
static int
pg_h2_flood(struct pg_h2_conn *c, enum pg_h2_flood f)
{
	struct pg_h2_bucket *b = &c->flood[f];
	uint64_t burst, rate, sec = c->srv->nif->now_ns / PG_H2_SEC;
	enum pg_h2_counter ctr;

	pg_h2_flood_limits(&c->srv->conf, f, &burst, &rate, &ctr);
	if (sec > b->sec) {
		b->tokens = RTE_MIN(burst, b->tokens + (sec - b->sec) * rate);
		b->sec = sec;
	}
	if (b->tokens > 0) {
		b->tokens--;
		return 0;
	}
	if (c->flags & PG_H2F_CLOSING)
		return 1;
	((uint64_t *)c->srv->stats)[ctr]++;
	pg_h2_terminate(c, NGHTTP2_ENHANCE_YOUR_CALM);
	c->flags |= PG_H2F_CLOSING;
	return 1;
}

/* --- output -------------------------------------------------------------- */

/* Bytes written and not yet acknowledged: the pg_stream's and ours. */
static uint32_t
pg_h2_pending(const struct pg_h2_conn *c)
{
	uint32_t mine = c->out.head != NULL ? c->out.head->pkt_len : 0;

	return (c->st != NULL ? pg_stream_queued(c->st) : 0) + mine;
}

static int
pg_h2_blocked(const struct pg_h2_conn *c)
{
	return !(c->flags & PG_H2F_CLOSING)
	       && pg_h2_pending(c) >= c->srv->conf.send_buffer;
}

/*
 * Detach len bytes from the front of s's unframed body: whole segments
 * move, a segment cut in two lends its first part through an indirect
 * mbuf. NULL when that mbuf cannot be had (nothing moved then).
 */
static struct rte_mbuf *
pg_h2_take(struct pg_h2_stream *s, uint32_t len)
{
	struct pg_netif *nif = s->c->srv->nif;
	struct rte_mbuf *head = NULL, *tail = NULL, *m, *mi = NULL;
	uint32_t left = len;

	for (m = s->out; m != NULL && left >= m->data_len; m = m->next)
		left -= m->data_len;
	if (left > 0 && (mi = pg_mbuf_alloc(nif->pool, nif->holder)) == NULL)
		return NULL;
	while (len > 0 && s->out->data_len <= len) {
		len -= s->out->data_len;
		pg_mbuf_chain_add(&head, &tail,
				  pg_mbuf_chain_pop(&s->out, &s->out_tail));
	}
	if (len > 0) {
		rte_pktmbuf_attach(mi, s->out);
		mi->data_len = (uint16_t)len;
		mi->pkt_len = len;
		rte_pktmbuf_adj(s->out, (uint16_t)len);
		pg_mbuf_chain_add(&head, &tail, mi);
	}
	return head;
}

/* nghttp2 wants the next DATA payload of s: tell how much is there. */
static ssize_t
pg_h2_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
	   uint32_t *flags, nghttp2_data_source *source, void *ud)
{
	struct pg_h2_stream *s = source->ptr;
	uint32_t n = (uint32_t)RTE_MIN((size_t)s->out_len, length);

	if (s->out_len == 0 && !(s->flags & PG_H2S_RESP_LAST)) {
		s->flags |= PG_H2S_DEFERRED;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > 0)
		*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (n == s->out_len && (s->flags & PG_H2S_RESP_LAST)) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (s->ntrailers > 0) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			if (nghttp2_submit_trailer(ng, id, s->trailers,
						   s->ntrailers) != 0)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
	}
	return (ssize_t)n;
}

/* A DATA frame of s: its header, then the payload moved, not copied. */
static int
pg_h2_send_data(nghttp2_session *ng, nghttp2_frame *frame,
		const uint8_t *framehd, size_t length,
		nghttp2_data_source *source, void *ud)
{
	static const uint8_t zeros[256];
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s = source->ptr;
	struct rte_mbuf *m = NULL;
	uint8_t pad = frame->data.padlen > 0
		      ? (uint8_t)(frame->data.padlen - 1) : 0;

	if (length > 0 && (m = pg_h2_take(s, (uint32_t)length)) == NULL) {
		PG_H2_COUNT(c, nomem);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (pg_http_out_put(&c->out, framehd, PG_H2_FRAME_HD) != PG_OK
	    || (frame->data.padlen > 0
		&& pg_http_out_put(&c->out, &pad, 1) != PG_OK)) {
		if (m != NULL)
			pg_mbuf_free(m);
		PG_H2_COUNT(c, nomem);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	pg_http_out_chain(&c->out, m);
	if (pad > 0 && pg_http_out_put(&c->out, zeros, pad) != PG_OK) {
		PG_H2_COUNT(c, nomem);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	s->out_len -= (uint32_t)length;
	if ((s->flags & PG_H2S_HIGH)
	    && s->out_len < c->srv->conf.stream_buffer / 2) {
		s->flags = (uint16_t)((s->flags & ~PG_H2S_HIGH)
				      | PG_H2S_NOTIFY);
		c->flags |= PG_H2F_NOTIFY;
	}
	return pg_h2_blocked(c) ? NGHTTP2_ERR_PAUSE : 0;
}

/* A fatal error of nghttp2: count it, say GOAWAY if we can, then close. */
static void
pg_h2_fatal(struct pg_h2_conn *c, int rv)
{
	uint32_t code = NGHTTP2_INTERNAL_ERROR;

	switch (rv) {
	case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
		PG_H2_COUNT(c, flood_continuation);
		code = NGHTTP2_ENHANCE_YOUR_CALM;
		break;
	case NGHTTP2_ERR_FLOODED:
		PG_H2_COUNT(c, flood_ack);
		code = NGHTTP2_ENHANCE_YOUR_CALM;
		break;
	case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
		PG_H2_COUNT(c, err_preface);
		c->flags |= PG_H2F_CLOSING;
		pg_h2_close(c, 0);     /* not HTTP/2: no GOAWAY */
		return;
	case NGHTTP2_ERR_NOMEM:
		PG_H2_COUNT(c, nomem);
		break;
	default:
		PG_H2_COUNT(c, err_protocol);
		break;
	}
	c->flags |= PG_H2F_CLOSING;
	pg_h2_terminate(c, code);
}

/* Write what nghttp2 has to send into mbufs and hand them to the stream. */
static void
pg_h2_flush(struct pg_h2_conn *c)
{
	const uint8_t *p;
	ssize_t n;

	while (!(c->flags & PG_H2F_DEAD) && !pg_h2_blocked(c)) {
		n = nghttp2_session_mem_send(c->ng, &p);
		if (n < 0) {
			pg_h2_fatal(c, (int)n);
			break;
		}
		if (n == 0)
			break;
		if (pg_http_out_put(&c->out, p, (uint32_t)n) != PG_OK) {
			PG_H2_COUNT(c, nomem);
			c->flags |= PG_H2F_CLOSING;
			break;
		}
	}
	struct rte_mbuf *m = pg_http_out_take(&c->out);
	if (m == NULL)
		return;
	if (c->st == NULL)
		pg_mbuf_free(m);
	else
		pg_stream_send(c->st, m);
}

/* on_writable for the streams whose unframed bytes fell low. */
static void
pg_h2_notify(struct pg_h2_conn *c)
{
	const struct pg_http_xchg_handler *hd = &c->srv->hd;

	if (!(c->flags & PG_H2F_NOTIFY))
		return;
	c->flags &= ~PG_H2F_NOTIFY;
	for (struct pg_h2_stream *s = c->streams; s != NULL; s = s->next) {
		if (!(s->flags & PG_H2S_NOTIFY))
			continue;
		s->flags &= ~PG_H2S_NOTIFY;
		if ((s->flags & PG_H2S_APP) && hd->on_writable != NULL)
			hd->on_writable(&s->x);
	}
}

/* --- input --------------------------------------------------------------- */

/* Feed n bytes at p to nghttp2 and write out its answers. */
/* A frame header (and a WINDOW_UPDATE's increment) read whole. */
static int
pg_h2_scan_frame(struct pg_h2_conn *c, uint32_t len)
{
	const uint8_t *h = c->scan_hd;

	if (h[3] == NGHTTP2_DATA && len == 0
	    && !(h[4] & NGHTTP2_FLAG_END_STREAM))
		return pg_h2_flood(c, PG_H2_FL_EMPTY_DATA);
	if (h[3] == NGHTTP2_WINDOW_UPDATE && len == 4
	    && ((uint32_t)(h[9] & 0x7f) << 24 | (uint32_t)h[10] << 16
		| (uint32_t)h[11] << 8 | h[12]) < PG_H2_TINY_WINDOW)
		return pg_h2_flood(c, PG_H2_FL_WINDOW_UPDATE);
	return 0;
}

/*
 * Every frame header, read here before nghttp2 gets the bytes: the frames
 * that carry nothing (empty DATA without END_STREAM, WINDOW_UPDATE under
 * PG_H2_TINY_WINDOW) are limited on any stream, also on those nghttp2
 * forgot and drops without a callback. 1 when a flood ended c.
 */
static uint32_t
pg_h2_scan_length(const struct pg_h2_conn *c)
{
	return (uint32_t)c->scan_hd[0] << 16 | (uint32_t)c->scan_hd[1] << 8
	       | c->scan_hd[2];
}

/* Bytes of a frame the scan reads: its header, and a WINDOW_UPDATE's
 * increment once the header says so. */
static uint32_t
pg_h2_scan_need(const struct pg_h2_conn *c)
{
	return c->scan_len >= 9 && c->scan_hd[3] == NGHTTP2_WINDOW_UPDATE
	       && pg_h2_scan_length(c) == 4 ? 13 : 9;
}

static int
pg_h2_scan(struct pg_h2_conn *c, const uint8_t *p, uint32_t n)
{
	while (n > 0) {
		uint32_t k = c->scan_skip > 0 ? RTE_MIN(n, c->scan_skip)
			     : RTE_MIN(n, pg_h2_scan_need(c) - c->scan_len);

		if (c->scan_skip > 0) {
			c->scan_skip -= k;
		} else {
			memcpy(c->scan_hd + c->scan_len, p, k);
			c->scan_len = (uint8_t)(c->scan_len + k);
		}
		p += k;
		n -= k;
		if (c->scan_skip > 0 || c->scan_len < pg_h2_scan_need(c))
			continue;
		if (pg_h2_scan_frame(c, pg_h2_scan_length(c)))
			return 1;
		c->scan_skip = pg_h2_scan_length(c) - (c->scan_len - 9u);
		c->scan_len = 0;
	}
	return 0;
}

static void
pg_h2_feed(struct pg_h2_conn *c, const uint8_t *p, uint32_t n)
{
	ssize_t rv;

	if (pg_h2_scan(c, p, n))
		return;
	rv = nghttp2_session_mem_recv(c->ng, p, n);

	if (rv < 0)
		pg_h2_fatal(c, (int)rv);
	pg_h2_flush(c);
}

/* Read the input chain while the output has room. */
static void
pg_h2_recv(struct pg_h2_conn *c)
{
	while (c->in_seg != NULL && !(c->flags & (PG_H2F_DEAD
						  | PG_H2F_CLOSING))
	       && !pg_h2_blocked(c)) {
		struct rte_mbuf *seg = c->in_seg;

		c->in_seg = seg->next;
		if (seg->data_len > 0)
			pg_h2_feed(c, rte_pktmbuf_mtod(seg, uint8_t *),
				   seg->data_len);
	}
	if (c->in != NULL && (c->in_seg == NULL
			      || (c->flags & (PG_H2F_DEAD | PG_H2F_CLOSING)))) {
		pg_mbuf_free(c->in);
		c->in = c->in_seg = NULL;
	}
}

/* Close when nghttp2 is done, take input again when there is room. */
static void
pg_h2_check_end(struct pg_h2_conn *c)
{
	if (c->flags & PG_H2F_DEAD)
		return;
	if ((c->flags & PG_H2F_CLOSING) || (!nghttp2_session_want_read(c->ng)
					    && !nghttp2_session_want_write(c->ng))
	    || ((c->flags & PG_H2F_EOF) && c->nstreams == 0)) {
		pg_h2_close(c, 0);
		return;
	}
	if ((c->flags & PG_H2F_REFUSED) && c->in == NULL && !pg_h2_blocked(c)) {
		c->flags &= ~PG_H2F_REFUSED;
		pg_stream_recv_resume(c->st);
	}
}

static void
pg_h2_run(struct pg_h2_conn *c)
{
	if (c->flags & PG_H2F_RUNNING) {
		c->flags |= PG_H2F_AGAIN;
		return;
	}
	if (c->flags & PG_H2F_DEAD)
		return;
	pg_h2_enter(c);
	c->flags |= PG_H2F_RUNNING;
	do {
		c->flags &= ~PG_H2F_AGAIN;
		pg_h2_recv(c);
		pg_h2_flush(c);
		pg_h2_notify(c);
	} while ((c->flags & PG_H2F_AGAIN) && !(c->flags & PG_H2F_DEAD));
	c->flags &= ~PG_H2F_RUNNING;
	pg_h2_check_end(c);
	pg_h2_leave(c);
}

/* --- stream callbacks ---------------------------------------------------- */

static int
pg_h2_st_data(struct pg_stream *st, struct rte_mbuf *m)
{
	struct pg_h2_conn *c = st->ctx;

	if (c == NULL || (c->flags & (PG_H2F_DEAD | PG_H2F_CLOSING))) {
		pg_mbuf_free(m);
		return PG_OK;
	}
	if (c->in != NULL || pg_h2_blocked(c)) {
		c->flags |= PG_H2F_REFUSED;
		return PG_AGAIN;
	}
	c->in = c->in_seg = m;
	pg_h2_run(c);
	return PG_OK;
}

static void
pg_h2_st_eof(struct pg_stream *st)
{
	struct pg_h2_conn *c = st->ctx;

	if (c == NULL)
		return;
	c->flags |= PG_H2F_EOF;
	pg_h2_run(c);
}

static void
pg_h2_st_writable(struct pg_stream *st)
{
	struct pg_h2_conn *c = st->ctx;

	if (c != NULL)
		pg_h2_run(c);
}

static void
pg_h2_st_close(struct pg_stream *st, enum pg_tcp_reason why)
{
	struct pg_h2_conn *c = st->ctx;

	if (c == NULL)
		return;
	pg_h2_enter(c);
	c->st = NULL;                /* freed by its owner when we return */
	st->ctx = NULL;
	pg_h2_close(c, 1);
	pg_h2_leave(c);
}

static const struct pg_stream_cbs pg_h2_stream_cbs = {
	.on_data = pg_h2_st_data,
	.on_eof = pg_h2_st_eof,
	.on_writable = pg_h2_st_writable,
	.on_close = pg_h2_st_close,
};

/* --- requests ------------------------------------------------------------ */

static struct pg_h2_stream *
pg_h2_stream_new(struct pg_h2_conn *c, int32_t id)
{
	struct pg_h2_server *srv = c->srv;
	struct pg_h2_stream *s = srv->free_streams;

	if (s != NULL)
		srv->free_streams = s->next;
	else if ((s = malloc(srv->stream_size)) == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->id = id;
	s->x.ops = &pg_h2_xchg_ops;
	s->x.hd = &srv->hd;
	s->x.server_ctx = srv->ctx;
	s->x.st = c->st;
	s->x.version = 20;
	s->x.nth = c->nth++;
	s->body_max = srv->conf.max_body;
	s->resp_clen = -1;
	s->start_ns = srv->nif->now_ns;
	pg_http_msg_init(&s->req, s + 1, srv->conf.arena_size,
			 srv->conf.max_headers);
	s->req.version = 20;
	s->next = c->streams;
	if (c->streams != NULL)
		c->streams->pprev = &s->next;
	s->pprev = &c->streams;
	c->streams = s;
	if (c->nstreams++ == 0 && c->timer_kind == PG_H2_T_IDLE)
		pg_timer_cancel(&srv->wheel, &c->timer);
	PG_H2_COUNT(c, streams);
	return s;
}

/* Join every cookie field into the first, crumbs separated by "; ". */
static int
pg_h2_join_cookies(struct pg_http_msg *m)
{
	struct pg_http_field *f = m->fields;
	int first = pg_http_msg_find(m, "cookie", 6, 0, 0), at;
	uint32_t len = 0;
	char *d;

	if (first < 0 || pg_http_msg_find(m, "cookie", 6, first + 1, 0) < 0)
		return PG_OK;
	for (at = first; at >= 0; at = pg_http_msg_find(m, "cookie", 6,
							 at + 1, 0))
		len += f[at].value.len + 2;
	if ((d = pg_http_arena_alloc(&m->arena, len - 2)) == NULL)
		return PG_ERROR;
	len = 0;
	for (at = first; at >= 0; at = pg_http_msg_find(m, "cookie", 6,
							 at + 1, 0)) {
		if (len > 0) {
			memcpy(d + len, "; ", 2);
			len += 2;
		}
		memcpy(d + len, f[at].value.ptr, f[at].value.len);
		len += f[at].value.len;
	}
	f[first].value = (struct pg_http_str){ d, len };
	/* drop the other crumbs, keeping the order of the rest */
	uint16_t w = (uint16_t)(first + 1);
	for (uint16_t r = w; r < m->nheaders; r++)
		if (!pg_http_str_eq_nocase(f[r].name.ptr, f[r].name.len,
					   "cookie", 6))
			f[w++] = f[r];
	m->nheaders = w;
	return PG_OK;
}

/*
 * The response of s is queued in full: its access log line. on_log comes
 * now, while the application still holds x->ctx (http/pg_http_xchg.h),
 * not when END_STREAM is framed: that may be after the application let
 * go (an answer given inside nghttp2's callbacks is framed when they
 * return). bytes: the head's fields before HPACK and the body, without
 * frame headers.
 */
static void
pg_h2_log(struct pg_h2_stream *s)
{
	const struct pg_h2_server *srv = s->c->srv;
	struct pg_http_xchg_log l = {
		.start_ns = s->start_ns, .end_ns = srv->nif->now_ns,
		.bytes = s->resp_head
			 + ((s->flags & PG_H2S_NOBODY) ? 0 : s->resp_sent),
		.status = s->status, .method = s->req.method_name,
		.target = s->req.target };

	if (srv->hd.on_log != NULL)
		srv->hd.on_log(&s->x, &l);
}

/* A response of the server's own (no body), for a request it refuses. */
static void
pg_h2_refuse(struct pg_h2_stream *s, unsigned status, enum pg_h2_counter ctr)
{
	struct pg_h2_conn *c = s->c;
	char code[4];
	nghttp2_nv nv = { (uint8_t *)":status", (uint8_t *)code, 7, 3,
			  NGHTTP2_NV_FLAG_NONE };

	((uint64_t *)c->srv->stats)[ctr]++;
	s->flags |= PG_H2S_STARTED;
	if (s->flags & PG_H2S_RESP_HEAD) {
		nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_INTERNAL_ERROR);
		pg_h2_app_drop(s);
		return;
	}
	pg_h2_status_str(code, status);
	s->status = (uint16_t)status;
	s->resp_head = (uint32_t)(nv.namelen + nv.valuelen);
	s->flags |= PG_H2S_RESP_HEAD | PG_H2S_RESP_LAST;
	nghttp2_submit_response(c->ng, s->id, &nv, 1, NULL);
	pg_h2_app_drop(s);
	pg_h2_count_status(c, status);
	pg_h2_log(s);
}

/* The request head is complete: fill in what the fields say, hand it on. */
static void
pg_h2_request(struct pg_h2_stream *s)
{
	struct pg_h2_conn *c = s->c;
	struct pg_http_msg *m = &s->req;
	const struct pg_http_str *v;
	int64_t clen;

	if ((s->flags & PG_H2S_TOO_LARGE) || pg_h2_join_cookies(m) != PG_OK) {
		pg_h2_refuse(s, 431, PG_H2_C_err_header_list);
		return;
	}
	if (m->authority.ptr == NULL
	    && (v = pg_http_msg_header(m, "host")) != NULL)
		m->authority = *v;
	if ((v = pg_http_msg_header(m, "content-length")) != NULL
	    && (clen = pg_http_parse_length(v)) >= 0) {
		m->flags |= PG_HTTP_F_CONTENT_LENGTH;
		m->content_length = (uint64_t)clen;
		if ((uint64_t)clen > s->body_max) {
			pg_h2_refuse(s, 413, PG_H2_C_err_body_size);
			return;
		}
	}
	if ((v = pg_http_msg_header(m, "expect")) != NULL
	    && pg_http_str_eq_nocase(v->ptr, v->len, "100-continue", 12)
	    && !(s->flags & PG_H2S_REQ_DONE))
		m->flags |= PG_HTTP_F_EXPECT_CONTINUE;
	if (m->method == PG_HTTP_CONNECT)
		m->flags |= PG_HTTP_F_UPGRADE;
	s->flags |= PG_H2S_APP | PG_H2S_STARTED;
	PG_H2_COUNT(c, requests);
	c->srv->hd.on_request(&s->x, m);
	if (c->srv->conf.auto_continue && (s->flags & PG_H2S_APP))
		pg_h2_xchg_ops.cont(&s->x);
}

static void
pg_h2_request_end(struct pg_h2_stream *s)
{
	s->flags |= PG_H2S_REQ_DONE;
	s->req.flags |= PG_HTTP_F_BODY_DONE;
	if ((s->flags & PG_H2S_APP) && s->c->srv->hd.on_request_end != NULL)
		s->c->srv->hd.on_request_end(&s->x);
}

/* --- nghttp2 callbacks --------------------------------------------------- */

/*
 * RFC 9113 6.3: PRIORITY on stream 0 is a connection error. nghttp2,
 * with RFC 7540 priorities off, skips PRIORITY frames unread: only their
 * header is seen, here.
 */
static int
pg_h2_on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd,
		     void *ud)
{
	if (hd->type == NGHTTP2_PRIORITY && hd->stream_id == 0)
		pg_h2_terminate(ud, NGHTTP2_PROTOCOL_ERROR);
	return 0;
}

static int
pg_h2_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame,
		       void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS
	    || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((s = pg_h2_stream_new(c, frame->hd.stream_id)) == NULL) {
		PG_H2_COUNT(c, nomem);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	nghttp2_session_set_stream_user_data(ng, s->id, s);
	return 0;
}

/* A pseudo-header (nghttp2 checked its place, value and uniqueness). */
static void
pg_h2_pseudo(struct pg_http_msg *m, const char *n, uint32_t nlen,
	     const char *v, uint32_t vlen)
{
	struct pg_http_str str = { v, vlen };

	switch (nlen) {
	case 5:                  /* :path */
		pg_http_msg_set_target(m, v, vlen);
		break;
	case 7:                  /* :method, :scheme */
		if (n[1] == 'm') {
			m->method_name = str;
			m->method = pg_http_method_parse(v, vlen);
		} else {
			m->scheme = str;
		}
		break;
	case 10:                 /* :authority */
		m->authority = str;
		break;
	}
}

static int
pg_h2_on_header(nghttp2_session *ng, const nghttp2_frame *frame,
		const uint8_t *name, size_t nlen, const uint8_t *value,
		size_t vlen, uint8_t flags, void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s = pg_h2_stream_get(c, frame->hd.stream_id);
	struct pg_http_arena *a;
	char *n, *v;

	if (s == NULL || (s->flags & PG_H2S_TOO_LARGE))
		return 0;
	s->head_bytes += (uint32_t)(nlen + vlen + 32);
	if (s->head_bytes > c->srv->conf.max_header_list)
		goto too_large;
	a = &s->req.arena;
	if ((n = pg_http_arena_dup(a, (const char *)name, (uint32_t)nlen))
	    == NULL || (v = pg_http_arena_dup(a, (const char *)value,
					      (uint32_t)vlen)) == NULL)
		goto too_large;
	if (nlen > 0 && name[0] == ':') {
		pg_h2_pseudo(&s->req, n, (uint32_t)nlen, v, (uint32_t)vlen);
		return 0;
	}
	if (pg_http_msg_add(&s->req, n, (uint32_t)nlen, v, (uint32_t)vlen,
			    frame->headers.cat == NGHTTP2_HCAT_HEADERS)
	    != PG_OK)
		goto too_large;
	return 0;
too_large:
	s->flags |= PG_H2S_TOO_LARGE;
	return 0;
}

/* Strict like HTTP/1.1: a field nghttp2 would drop resets the stream. */
static int
pg_h2_on_invalid_header(nghttp2_session *ng, const nghttp2_frame *frame,
			const uint8_t *name, size_t nlen,
			const uint8_t *value, size_t vlen, uint8_t flags,
			void *ud)
{
	return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int
pg_h2_on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame,
		       int lib_error, void *ud)
{
	struct pg_h2_conn *c = ud;

	/* (flow-control errors are counted as we send their RST_STREAM or
	 * GOAWAY: some do not pass here, a connection's would count twice) */
	switch (lib_error) {
	case NGHTTP2_ERR_HTTP_HEADER:
	case NGHTTP2_ERR_HTTP_MESSAGING:
		PG_H2_COUNT(c, err_malformed);
		break;
	}
	return 0;
}

static int
pg_h2_on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id,
		    const uint8_t *data, size_t len, void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s = pg_h2_stream_get(c, id);
	struct pg_http_msg *m;

	if (s == NULL || !(s->flags & PG_H2S_APP)) {
		nghttp2_session_consume(ng, id, len);   /* nobody reads it */
		return 0;
	}
	m = &s->req;
	s->body_total += len;
	if (s->body_total > s->body_max) {
		nghttp2_session_consume(ng, id, len);
		pg_h2_refuse(s, 413, PG_H2_C_err_body_size);
		return 0;
	}
	struct pg_http_out o = { c->srv->nif->pool, c->srv->nif->holder,
				 m->body, m->body_tail };
	int rc = pg_http_out_put(&o, data, (uint32_t)len);
	m->body = o.head;
	m->body_tail = o.tail;
	if (rc != PG_OK) {
		/* the body is lost: give its window back and refuse */
		nghttp2_session_consume(ng, id, len + s->owed);
		s->owed = 0;
		pg_mbuf_free(m->body);
		m->body = m->body_tail = NULL;
		m->body_len = 0;
		pg_h2_refuse(s, 503, PG_H2_C_nomem);
		return 0;
	}
	m->body_len += len;
	s->owed += len;
	s->flags |= PG_H2S_BODY_NEW;
	return 0;
}

static int
pg_h2_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame,
		    void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s = NULL;
	int end = !!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM);

	switch (frame->hd.type) {
	case NGHTTP2_SETTINGS:
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			pg_timer_cancel(&c->srv->wheel, &c->settings_timer);
		else
			pg_h2_flood(c, PG_H2_FL_SETTINGS);
		return 0;
	case NGHTTP2_PING:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
			pg_h2_flood(c, PG_H2_FL_PING);
		return 0;
	case NGHTTP2_RST_STREAM:
		PG_H2_COUNT(c, resets_recv);
		pg_h2_flood(c, PG_H2_FL_RST);
		return 0;
	case NGHTTP2_GOAWAY:
		PG_H2_COUNT(c, goaway_recv);
		return 0;
	case NGHTTP2_HEADERS:
		if ((s = pg_h2_stream_get(c, frame->hd.stream_id)) == NULL)
			return 0;
		if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
			pg_h2_request(s);
		else if (s->flags & PG_H2S_TOO_LARGE)
			pg_h2_refuse(s, 431, PG_H2_C_err_header_list);
		break;
	case NGHTTP2_DATA:
		if ((s = pg_h2_stream_get(c, frame->hd.stream_id)) == NULL)
			return 0;
		if ((s->flags & PG_H2S_BODY_NEW) && (s->flags & PG_H2S_APP)) {
			s->flags &= ~PG_H2S_BODY_NEW;
			if (c->srv->hd.on_body != NULL)
				c->srv->hd.on_body(&s->x);
		}
		break;
	default:
		return 0;
	}
	if (end)
		pg_h2_request_end(s);
	return 0;
}

/* The response of s ended (END_STREAM written): count it. */
static void
pg_h2_response_done(struct pg_h2_stream *s)
{
	struct pg_h2_conn *c = s->c;

	PG_H2_COUNT(c, responses);
	/* RFC 9113 8.1: the body we will not read is not wanted either. */
	if (!(s->flags & PG_H2S_REQ_DONE))
		nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_NO_ERROR);
}

/* Does an error code say the peer broke the rules of the protocol? */
static int
pg_h2_violation(uint32_t code)
{
	return code == NGHTTP2_PROTOCOL_ERROR || code == NGHTTP2_STREAM_CLOSED
	       || code == NGHTTP2_FRAME_SIZE_ERROR;
}

/* A GOAWAY went out: count why the connection ends. */
static void
pg_h2_goaway_sent(struct pg_h2_conn *c, uint32_t code)
{
	PG_H2_COUNT(c, goaway_sent);
	if (pg_h2_violation(code))
		PG_H2_COUNT(c, err_protocol);
	else if (code == NGHTTP2_FLOW_CONTROL_ERROR)
		PG_H2_COUNT(c, err_flow_control);
	else if (code == NGHTTP2_COMPRESSION_ERROR)
		PG_H2_COUNT(c, err_compression);
}

/*
 * A RST_STREAM went out. One the peer made us send (a malformed request,
 * a window overrun, a frame on a half-closed stream) costs us a stream
 * as much as one it sends, and it can provoke them at will (MadeYouReset,
 * CVE-2025-8671): both take from the RST bucket.
 */
static void
pg_h2_reset_sent(struct pg_h2_conn *c, uint32_t code)
{
	PG_H2_COUNT(c, resets_sent);
	if (code == NGHTTP2_REFUSED_STREAM)
		PG_H2_COUNT(c, refused_streams);
	else if (code == NGHTTP2_FLOW_CONTROL_ERROR)
		PG_H2_COUNT(c, err_flow_control);
	if (pg_h2_violation(code) || code == NGHTTP2_FLOW_CONTROL_ERROR)
		pg_h2_flood(c, PG_H2_FL_RST);
}

static int
pg_h2_on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame,
		    void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s;

	switch (frame->hd.type) {
	case NGHTTP2_RST_STREAM:
		pg_h2_reset_sent(c, frame->rst_stream.error_code);
		return 0;
	case NGHTTP2_GOAWAY:
		pg_h2_goaway_sent(c, frame->goaway.error_code);
		return 0;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	if ((s = pg_h2_stream_get(c, frame->hd.stream_id)) == NULL)
		return 0;
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		pg_h2_response_done(s);
	return 0;
}

static int
pg_h2_on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code,
		      void *ud)
{
	struct pg_h2_conn *c = ud;
	struct pg_h2_stream *s = pg_h2_stream_get(c, id);

	if (s == NULL)
		return 0;
	pg_h2_app_drop(s);
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	pg_h2_stream_free(s);
	if (c->nstreams == 0 && !(c->flags & PG_H2F_GOAWAY))
		pg_h2_arm(c, PG_H2_T_IDLE, c->srv->conf.idle_timeout_ms);
	return 0;
}

static int
pg_h2_callbacks(nghttp2_session_callbacks **cbs)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(cbs) != 0)
		return PG_ERROR;
	cb = *cbs;
	nghttp2_session_callbacks_set_on_begin_frame_callback(
		cb, pg_h2_on_begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(
		cb, pg_h2_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, pg_h2_on_header);
	nghttp2_session_callbacks_set_on_invalid_header_callback(
		cb, pg_h2_on_invalid_header);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
		cb, pg_h2_on_invalid_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
		cb, pg_h2_on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(
		cb, pg_h2_on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(
		cb, pg_h2_on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(
		cb, pg_h2_on_stream_close);
	nghttp2_session_callbacks_set_send_data_callback(cb, pg_h2_send_data);
	return PG_OK;
}

static int
pg_h2_options(nghttp2_option **opt, const struct pg_h2_conf *cf)
{
	if (nghttp2_option_new(opt) != 0)
		return PG_ERROR;
	nghttp2_option_set_no_auto_window_update(*opt, 1);
	nghttp2_option_set_no_closed_streams(*opt, 1);
	nghttp2_option_set_max_outbound_ack(*opt, cf->max_outbound_ack);
	nghttp2_option_set_max_continuations(*opt, cf->max_continuations);
	/* Ours counts on the worker clock; nghttp2's (wall clock) is a
	 * looser backstop. */
	nghttp2_option_set_stream_reset_rate_limit(*opt,
						   2 * (uint64_t)cf->rst_burst,
						   2 * (uint64_t)cf->rst_rate);
	return PG_OK;
}

/* --- exchange operations ------------------------------------------------- */

/* Is name a field HTTP/2 forbids (RFC 9113 8.2.2) or that we write? */
static int
pg_h2_skip_field(const struct pg_http_str *n)
{
	static const struct pg_http_str skip[] = {
		{ "connection", 10 }, { "keep-alive", 10 },
		{ "proxy-connection", 16 }, { "transfer-encoding", 17 },
		{ "upgrade", 7 }, { "content-length", 14 },
	};

	for (unsigned i = 0; i < PG_ARRAY_SIZE(skip); i++)
		if (pg_http_str_eq_nocase(n->ptr, n->len, skip[i].ptr,
					  skip[i].len))
			return 1;
	return 0;
}

/* Can the field be sent? Token name, no CR, LF or NUL in the value. */
static int
pg_h2_field_ok(const struct pg_http_field *f)
{
	if (f->name.len == 0)
		return 0;
	for (uint32_t i = 0; i < f->name.len; i++)
		if (!pg_http_is_tchar((unsigned char)f->name.ptr[i]))
			return 0;
	for (uint32_t i = 0; i < f->value.len; i++)
		if (f->value.ptr[i] == '\r' || f->value.ptr[i] == '\n'
		    || f->value.ptr[i] == '\0')
			return 0;
	return 1;
}

/*
 * nv entries for the fields [from, from + n) of m, names lowered into
 * names (a buffer of size bytes at *used). Forbidden fields are left
 * out. Returns how many entries, or -1 (malformed or no room).
 */
static int
pg_h2_nv(nghttp2_nv *nv, uint32_t max, char *names, uint32_t size,
	 uint32_t *used, const struct pg_http_msg *m, uint16_t from,
	 uint16_t n)
{
	int k = 0;

	for (uint16_t i = from; i < from + n; i++) {
		const struct pg_http_field *f = &m->fields[i];
		if (pg_h2_skip_field(&f->name))
			continue;
		if (!pg_h2_field_ok(f) || (uint32_t)k >= max
		    || *used + f->name.len > size)
			return -1;
		char *low = names + *used;
		for (uint32_t j = 0; j < f->name.len; j++)
			low[j] = (char)((f->name.ptr[j] >= 'A'
					 && f->name.ptr[j] <= 'Z')
					? f->name.ptr[j] | 0x20 : f->name.ptr[j]);
		*used += f->name.len;
		nv[k++] = (nghttp2_nv){ (uint8_t *)low, (uint8_t *)f->value.ptr,
					f->name.len, f->value.len,
					NGHTTP2_NV_FLAG_NONE };
	}
	return k;
}

/* Copy resp's trailers into s's arena, for pg_h2_read to send. */
static int
pg_h2_keep_trailers(struct pg_h2_stream *s, const struct pg_http_msg *resp)
{
	struct pg_http_arena *a = &s->req.arena;
	uint32_t used = 0, size = 0;
	nghttp2_nv *nv;
	char *names;
	int n;

	for (uint16_t i = 0; i < resp->ntrailers; i++)
		size += resp->fields[resp->nheaders + i].name.len;
	nv = pg_http_arena_alloc(a, resp->ntrailers * sizeof(*nv));
	names = pg_http_arena_alloc(a, size + 1);
	if (nv == NULL || names == NULL)
		return PG_ERROR;
	n = pg_h2_nv(nv, resp->ntrailers, names, size, &used, resp,
		     resp->nheaders, resp->ntrailers);
	if (n < 0)
		return PG_ERROR;
	for (int i = 0; i < n; i++) {
		char *v = pg_http_arena_dup(a, (const char *)nv[i].value,
					    (uint32_t)nv[i].valuelen);
		if (v == NULL)
			return PG_ERROR;
		nv[i].value = (uint8_t *)v;
	}
	s->trailers = nv;
	s->ntrailers = (uint16_t)n;
	return PG_OK;
}

/* The application broke its response: reset the stream, it forgets x. */
static int
pg_h2_app_fail(struct pg_h2_stream *s, const char **err, const char *why)
{
	if (err != NULL)
		*err = why;
	PG_H2_COUNT(s->c, app_error);
	s->flags &= ~PG_H2S_APP;
	nghttp2_submit_rst_stream(s->c->ng, NGHTTP2_FLAG_NONE, s->id,
				  NGHTTP2_INTERNAL_ERROR);
	pg_h2_run(s->c);
	return PG_ERROR;
}

static int
pg_h2_respond(struct pg_http_xchg *x, const struct pg_http_msg *resp,
	      int64_t clen, unsigned flags, const char **err)
{
	struct pg_h2_stream *s = pg_h2_of(x);
	struct pg_h2_conn *c = s->c;
	struct pg_h2_server *srv = c->srv;
	const struct pg_http_str *v;
	nghttp2_data_provider dp = { .source.ptr = s,
				     .read_callback = pg_h2_read };
	char status[4], length[24];
	uint32_t used = 0;
	int n, rv;

	if (!(s->flags & PG_H2S_APP) || (s->flags & PG_H2S_RESP_HEAD)
	    || (c->flags & PG_H2F_DEAD)) {
		*err = "no request waits for a response on this stream";
		return PG_ERROR;
	}
	if (resp->status < 100 || resp->status > 999 || resp->status == 101)
		return pg_h2_app_fail(s, err, "bad status for HTTP/2");
	if ((v = pg_http_msg_header(resp, "content-length")) != NULL
	    && clen < 0 && (clen = pg_http_parse_length(v)) < 0)
		return pg_h2_app_fail(s, err, "malformed Content-Length in "
				      "the response");
	pg_h2_status_str(status, resp->status);
	srv->nva[0] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)status,
				    7, 3, NGHTTP2_NV_FLAG_NONE };
	n = pg_h2_nv(srv->nva + 1, srv->nva_max - 2, srv->names,
		     srv->names_size, &used, resp, 0, resp->nheaders);
	if (n < 0)
		return pg_h2_app_fail(s, err, "a response field is malformed "
				      "or there are too many");
	n++;
	pg_h2_count_status(c, resp->status);
	if (resp->status < 200) {
		if (resp->status == 100)
			s->flags |= PG_H2S_CONTINUE;
		nghttp2_submit_headers(c->ng, NGHTTP2_FLAG_NONE, s->id, NULL,
				       srv->nva, (size_t)n, NULL);
		pg_h2_run(c);
		return PG_OK;
	}
	if (resp->status == 204 || resp->status == 304
	    || s->req.method == PG_HTTP_HEAD)
		s->flags |= PG_H2S_NOBODY;
	if (clen >= 0 && resp->status != 204 && resp->status != 304) {
		snprintf(length, sizeof(length), "%" PRId64, clen);
		srv->nva[n++] = (nghttp2_nv){ (uint8_t *)"content-length",
					      (uint8_t *)length, 14,
					      strlen(length),
					      NGHTTP2_NV_FLAG_NONE };
	}
	if (resp->ntrailers > 0 && pg_h2_keep_trailers(s, resp) != PG_OK)
		return pg_h2_app_fail(s, err, "response trailers malformed "
				      "or over the arena");
	s->status = resp->status;
	s->resp_clen = (s->flags & PG_H2S_NOBODY) ? -1 : clen;
	s->resp_head = 0;
	for (int i = 0; i < n; i++)
		s->resp_head += (uint32_t)(srv->nva[i].namelen
					   + srv->nva[i].valuelen);
	s->flags |= PG_H2S_RESP_HEAD;
	if ((flags & PG_XCHG_END) && s->ntrailers == 0) {
		s->flags = (uint16_t)((s->flags | PG_H2S_RESP_LAST)
				      & ~PG_H2S_APP);
		rv = nghttp2_submit_response(c->ng, s->id, srv->nva,
					     (size_t)n, NULL);
	} else {
		if (flags & PG_XCHG_END)
			s->flags = (uint16_t)((s->flags | PG_H2S_RESP_LAST)
					      & ~PG_H2S_APP);
		rv = nghttp2_submit_response(c->ng, s->id, srv->nva,
					     (size_t)n, &dp);
	}
	if (rv != 0) {
		*err = nghttp2_strerror(rv);
		return PG_ERROR;
	}
	if (flags & PG_XCHG_END)
		pg_h2_log(s);
	pg_h2_run(c);
	return PG_OK;
}

static int
pg_h2_send(struct pg_http_xchg *x, struct rte_mbuf *m, int last)
{
	struct pg_h2_stream *s = pg_h2_of(x);
	struct pg_h2_conn *c = s->c;
	uint32_t len = m != NULL ? m->pkt_len : 0;

	if (!(s->flags & PG_H2S_APP) || !(s->flags & PG_H2S_RESP_HEAD)
	    || (c->flags & PG_H2F_DEAD)) {
		if (m != NULL)
			pg_mbuf_free(m);
		return PG_ERROR;
	}
	if (s->resp_clen >= 0 && (s->resp_sent + len > (uint64_t)s->resp_clen
				  || (last && s->resp_sent + len
				      != (uint64_t)s->resp_clen))) {
		if (m != NULL)
			pg_mbuf_free(m);
		return pg_h2_app_fail(s, NULL, "body length differs from "
				      "Content-Length");
	}
	s->resp_sent += len;
	if (m != NULL && (s->flags & PG_H2S_NOBODY)) {
		pg_mbuf_free(m);
	} else if (m != NULL) {
		pg_mbuf_chain_add(&s->out, &s->out_tail, m);
		s->out_len += len;
	}
	if (s->out_len >= c->srv->conf.stream_buffer)
		s->flags |= PG_H2S_HIGH;
	if (last) {
		s->flags = (uint16_t)((s->flags | PG_H2S_RESP_LAST)
				      & ~PG_H2S_APP);
		pg_h2_log(s);
	}
	if ((s->flags & PG_H2S_DEFERRED) && (s->out_len > 0 || last)) {
		s->flags &= ~PG_H2S_DEFERRED;
		nghttp2_session_resume_data(c->ng, s->id);
	}
	pg_h2_run(c);
	return PG_OK;
}

static int
pg_h2_write(struct pg_http_xchg *x, const void *buf, uint32_t len, int last)
{
	struct pg_h2_stream *s = pg_h2_of(x);
	struct pg_http_out out;

	pg_http_out_init(&out, s->c->srv->nif->pool, s->c->srv->nif->holder);
	if (len > 0 && pg_http_out_put(&out, buf, len) != PG_OK) {
		pg_http_out_free(&out);
		PG_H2_COUNT(s->c, nomem);
		return PG_ERROR;
	}
	return pg_h2_send(x, pg_http_out_take(&out), last);
}

static uint32_t
pg_h2_queued(const struct pg_http_xchg *x)
{
	return ((const struct pg_h2_stream *)x)->out_len;
}

static uint32_t
pg_h2_body_read(struct pg_http_xchg *x, void *buf, uint32_t len)
{
	struct pg_h2_stream *s = pg_h2_of(x);
	uint32_t got;

	if (s->c->flags & PG_H2F_DEAD)
		return 0;
	pg_h2_xchg_ops.cont(x);
	got = pg_http_msg_body_read(&s->req, buf, len);
	if (got > 0 && s->owed > 0) {
		/* the window opens by what the application took (not by a
		 * body that came over HTTP/1.1 before an upgrade) */
		uint64_t k = RTE_MIN((uint64_t)got, s->owed);
		s->owed -= k;
		nghttp2_session_consume(s->c->ng, s->id, k);
		pg_h2_run(s->c);
	}
	return got;
}

static int
pg_h2_body_done(const struct pg_http_xchg *x)
{
	return !!(((const struct pg_h2_stream *)x)->req.flags
		  & PG_HTTP_F_BODY_DONE);
}

static void
pg_h2_set_body_limit(struct pg_http_xchg *x, uint64_t max)
{
	struct pg_h2_stream *s = pg_h2_of(x);

	s->body_max = max;
	if (s->body_total > max || ((s->req.flags & PG_HTTP_F_CONTENT_LENGTH)
				    && s->req.content_length > max)) {
		pg_h2_refuse(s, 413, PG_H2_C_err_body_size);
		pg_h2_run(s->c);
	}
}

static void
pg_h2_cont(struct pg_http_xchg *x)
{
	struct pg_h2_stream *s = pg_h2_of(x);
	static const struct pg_http_msg r100 = { .status = 100 };
	const char *err;

	if (!(s->req.flags & PG_HTTP_F_EXPECT_CONTINUE)
	    || (s->flags & (PG_H2S_CONTINUE | PG_H2S_RESP_HEAD
			    | PG_H2S_REQ_DONE)))
		return;
	pg_h2_respond(x, &r100, -1, 0, &err);
}

static void
pg_h2_abort(struct pg_http_xchg *x)
{
	struct pg_h2_stream *s = pg_h2_of(x);

	s->flags &= ~PG_H2S_APP;     /* no on_close for the caller itself */
	if (s->c->flags & PG_H2F_DEAD)
		return;
	nghttp2_submit_rst_stream(s->c->ng, NGHTTP2_FLAG_NONE, s->id,
				  (s->flags & PG_H2S_RESP_HEAD)
				  ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_CANCEL);
	pg_h2_run(s->c);
}

static const struct pg_http_xchg_ops pg_h2_xchg_ops = {
	.respond = pg_h2_respond,
	.send = pg_h2_send,
	.write = pg_h2_write,
	.queued = pg_h2_queued,
	.body_read = pg_h2_body_read,
	.body_done = pg_h2_body_done,
	.set_body_limit = pg_h2_set_body_limit,
	.cont = pg_h2_cont,
	.abort = pg_h2_abort,
};

/* --- attach -------------------------------------------------------------- */

static struct pg_h2_conn *
pg_h2_conn_new(struct pg_h2_server *s, struct pg_stream *st)
{
	struct pg_h2_conn *c = s->free_conns;

	if (s->shutdown || s->nconns >= s->conf.max_conns) {
		s->stats->conn_refused++;
		return NULL;
	}
	if (c != NULL)
		s->free_conns = c->next;
	else if ((c = malloc(sizeof(*c))) == NULL)
		goto nomem;
	memset(c, 0, sizeof(*c));
	c->srv = s;
	c->st = st;
	if (nghttp2_session_server_new2(&c->ng, s->cbs, c, s->opt) != 0) {
		c->next = s->free_conns;
		s->free_conns = c;
		goto nomem;
	}
	pg_timer_init(&c->timer, pg_h2_timer_fire);
	pg_timer_init(&c->settings_timer, pg_h2_settings_fire);
	pg_http_out_init(&c->out, s->nif->pool, s->nif->holder);
	pg_h2_flood_init(c);
	c->scan_skip = 24;           /* the client preface */
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->pprev = &c->next;
	c->pprev = &s->conns;
	s->conns = c;
	s->nconns++;
	c->flags = PG_H2F_IN_LIST;
	return c;
nomem:
	s->stats->nomem++;
	return NULL;
}

/* Our SETTINGS and the connection window; the stream becomes ours. */
static int
pg_h2_start(struct pg_h2_conn *c)
{
	const struct pg_h2_conf *cf = &c->srv->conf;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
		  cf->max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cf->initial_window },
		{ NGHTTP2_SETTINGS_MAX_FRAME_SIZE, cf->max_frame_size },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cf->max_header_list },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv,
				    PG_ARRAY_SIZE(iv)) != 0
	    || nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE,
						     0, (int32_t)cf->conn_window)
	       != 0)
		return PG_ERROR;
	/* (armed at submission: an early ACK may come with the preface) */
	if (cf->settings_timeout_ms > 0)
		pg_timer_arm(&c->srv->wheel, &c->settings_timer,
			     cf->settings_timeout_ms * PG_H2_MS);
	c->st->cbs = &pg_h2_stream_cbs;
	c->st->ctx = c;
	c->srv->stats->conns++;
	if (c->nstreams == 0)
		pg_h2_arm(c, PG_H2_T_IDLE, cf->idle_timeout_ms);
	return PG_OK;
}

/* Undo pg_h2_conn_new: st was never touched. */
static void
pg_h2_conn_drop(struct pg_h2_conn *c)
{
	c->st = NULL;
	c->flags |= PG_H2F_DEAD;
	pg_h2_free(c);
}

int
pg_h2_attach(struct pg_h2_server *s, struct pg_stream *st,
	     const void *initial, uint32_t len)
{
	struct pg_h2_conn *c = pg_h2_conn_new(s, st);

	if (c == NULL)
		return PG_ERROR;
	if (pg_h2_start(c) != PG_OK) {
		s->stats->nomem++;
		pg_h2_conn_drop(c);
		return PG_ERROR;
	}
	pg_h2_enter(c);
	c->flags |= PG_H2F_RUNNING;
	if (len > 0)
		pg_h2_feed(c, initial, len);
	c->flags &= ~PG_H2F_RUNNING;
	pg_h2_run(c);
	pg_h2_leave(c);
	return PG_OK;
}

/* Copy the HTTP/1.1 request req into stream 1's message. */
static int
pg_h2_copy_request(struct pg_h2_stream *s, struct pg_http_msg *req)
{
	struct pg_http_msg *m = &s->req;
	struct pg_http_arena *a = &m->arena;
	const struct pg_http_str *src[] = { &req->method_name, &req->scheme,
					    &req->authority, &req->target };
	struct pg_http_str *dst[] = { &m->method_name, &m->scheme,
				      &m->authority, &m->target };

	for (unsigned i = 0; i < PG_ARRAY_SIZE(src); i++) {
		char *d = pg_http_arena_dup(a, src[i]->ptr != NULL
					    ? src[i]->ptr : "", src[i]->len);
		if (d == NULL)
			return PG_ERROR;
		*dst[i] = (struct pg_http_str){ d, src[i]->len };
	}
	m->method = req->method;
	if (m->target.len > 0 && m->target.ptr[0] == '/')
		pg_http_msg_set_target(m, m->target.ptr, m->target.len);
	for (uint16_t i = 0; i < req->nheaders; i++) {
		const struct pg_http_field *f = &req->fields[i];
		char *n = pg_http_arena_dup(a, f->name.ptr, f->name.len);
		char *v = pg_http_arena_dup(a, f->value.ptr, f->value.len);
		if (n == NULL || v == NULL
		    || pg_http_msg_add(m, n, f->name.len, v, f->value.len, 0)
		       != PG_OK)
			return PG_ERROR;
	}
	m->flags = req->flags & (PG_HTTP_F_CONTENT_LENGTH
				 | PG_HTTP_F_BODY_DONE);
	m->content_length = req->content_length;
	return PG_OK;
}

int
pg_h2_attach_upgrade(struct pg_h2_server *s, struct pg_stream *st,
		     const uint8_t *settings, uint32_t settings_len,
		     struct pg_http_msg *req, const void *initial,
		     uint32_t len, const char **err)
{
	static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n"
				 "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	struct pg_h2_conn *c = pg_h2_conn_new(s, st);
	struct pg_h2_stream *h;

	if (c == NULL) {
		*err = "HTTP/2 connection limit, or shutting down";
		return PG_ERROR;
	}
	h = pg_h2_stream_new(c, 1);
	if (h == NULL || nghttp2_session_upgrade2(c->ng, settings,
						  settings_len,
						  req->method == PG_HTTP_HEAD,
						  h) != 0
	    || pg_h2_copy_request(h, req) != PG_OK) {
		*err = "bad HTTP2-Settings, or the request does not fit the "
		       "HTTP/2 stream arena";
		pg_h2_conn_drop(c);
		return PG_ERROR;
	}
	if (pg_stream_write(st, sw, sizeof(sw) - 1) != PG_OK
	    || pg_h2_start(c) != PG_OK) {
		*err = "out of memory";
		pg_h2_conn_drop(c);
		return PG_ERROR;
	}
	h->req.body = req->body;
	h->req.body_tail = req->body_tail;
	h->req.body_len = req->body_len;
	req->body = req->body_tail = NULL;
	req->body_len = 0;
	pg_h2_enter(c);
	c->flags |= PG_H2F_RUNNING;
	pg_h2_request(h);
	pg_h2_request_end(h);
	if (len > 0)
		pg_h2_feed(c, initial, len);
	c->flags &= ~PG_H2F_RUNNING;
	pg_h2_run(c);
	pg_h2_leave(c);
	return PG_OK;
}

/* --- server -------------------------------------------------------------- */

struct pg_h2_server *
pg_h2_server_create(struct pg_netif *nif, const struct pg_h2_conf *conf,
		    const struct pg_http_xchg_handler *hd, void *ctx,
		    struct pg_h2_stats *stats, const char **err)
{
	struct pg_h2_server *s;
	uint32_t fields = conf->max_headers * sizeof(struct pg_http_field);

	if (hd == NULL || hd->on_request == NULL) {
		*err = "an HTTP/2 handler needs on_request";
		return NULL;
	}
	if (conf->arena_size < fields + 256) {
		*err = "http2 arena_size too small for max_headers fields "
		       "(32 bytes each, plus 256): raise arena_size";
		return NULL;
	}
	if (conf->max_frame_size < 16384 || conf->max_frame_size > 16777215
	    || conf->initial_window > INT32_MAX
	    || conf->conn_window > INT32_MAX) {
		*err = "http2 max_frame_size must be 16384..16777215 and the "
		       "windows at most 2^31-1";
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*err = "out of memory for the HTTP/2 server";
		return NULL;
	}
	s->conf = *conf;
	s->hd = *hd;
	s->ctx = ctx;
	s->nif = nif;
	s->stats = stats != NULL ? stats : &s->own_stats;
	s->stream_size = (uint32_t)RTE_ALIGN_CEIL(sizeof(struct pg_h2_stream),
						  8) + conf->arena_size;
	s->nva_max = (uint32_t)conf->max_headers + 2;
	s->names_size = conf->max_header_list;
	s->nva = calloc(s->nva_max, sizeof(*s->nva));
	s->names = malloc(s->names_size);
	if (s->nva == NULL || s->names == NULL || pg_h2_callbacks(&s->cbs)
	    != PG_OK || pg_h2_options(&s->opt, conf) != PG_OK) {
		pg_h2_server_destroy(s);
		*err = "out of memory for the HTTP/2 server";
		return NULL;
	}
	pg_wheel_init(&s->wheel, PG_H2_TICK_NS, nif->now_ns);
	return s;
}

unsigned
pg_h2_server_poll(struct pg_h2_server *s)
{
	return pg_wheel_advance(&s->wheel, s->nif->now_ns);
}

uint64_t
pg_h2_server_next_timer(const struct pg_h2_server *s)
{
	return pg_wheel_next(&s->wheel);
}

void
pg_h2_server_shutdown(struct pg_h2_server *s)
{
	struct pg_h2_conn *c, *next;

	s->shutdown = 1;
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->flags & (PG_H2F_DEAD | PG_H2F_GOAWAY))
			continue;
		pg_h2_enter(c);
		c->flags |= PG_H2F_GOAWAY;
		nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(
					      c->ng),
				      NGHTTP2_NO_ERROR, NULL, 0);
		pg_h2_arm(c, PG_H2_T_SHUTDOWN, s->conf.shutdown_timeout_ms);
		pg_h2_run(c);
		pg_h2_leave(c);
	}
}

void
pg_h2_server_destroy(struct pg_h2_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		pg_h2_close(s->conns, 1);
	while (s->free_conns != NULL) {
		struct pg_h2_conn *c = s->free_conns;
		s->free_conns = c->next;
		free(c);
	}
	while (s->free_streams != NULL) {
		struct pg_h2_stream *h = s->free_streams;
		s->free_streams = h->next;
		free(h);
	}
	nghttp2_session_callbacks_del(s->cbs);
	nghttp2_option_del(s->opt);
	free(s->nva);
	free(s->names);
	free(s);
}

const struct pg_h2_stats *
pg_h2_server_stats(const struct pg_h2_server *s)
{
	return s->stats;
}

void *
pg_h2_server_ctx(const struct pg_h2_server *s)
{
	return s->ctx;
}

uint32_t
pg_h2_server_conns(const struct pg_h2_server *s)
{
	return s->nconns;
}
