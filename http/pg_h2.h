/*
 * HTTP/2 server connections (RFC 9113) with nghttp2, over a struct
 * pg_stream (plain TCP: h2c; TLS: h2 by ALPN).
 *
 * One server per worker. A connection is handed over with pg_h2_attach
 * once the preface was recognised (ALPN "h2", or the bytes sniffed on a
 * plain port, given back as `initial`), or with pg_h2_attach_upgrade after
 * an HTTP/1.1 "Upgrade: h2c" request. Each request stream is one
 * struct pg_http_xchg (http/pg_http_xchg.h): the application answers it
 * exactly as it answers an HTTP/1.1 request.
 *
 * Requests fill a struct pg_http_msg like HTTP/1.1 does: pseudo-headers
 * become method, scheme, authority, path and query (target is :path as
 * received), cookie crumbs are joined with "; ", trailers follow the
 * headers. nghttp2 checks the fields as RFC 9113 section 8.2 asks (lower
 * case names, no connection-specific field, TE only "trailers"); a
 * malformed request is reset with PROTOCOL_ERROR and counted.
 *
 * Flow control is the memory bound of request bodies: the stream window
 * opens again only for the bytes the application read (body_read), so a
 * stream never buffers more than initial_window bytes, a connection never
 * more than conn_window. Responses are framed without copying (the
 * application's mbufs become DATA payloads); framing stops while the
 * pg_stream holds send_buffer bytes, and a stream reports on_writable
 * when its own unframed bytes fall below half of stream_buffer.
 *
 * Limits against known attacks, each counted: rapid reset and
 * MadeYouReset (a token bucket of the RST_STREAMs received, and of those
 * the peer's errors make us send), CONTINUATION flood, SETTINGS, PING,
 * empty DATA and WINDOW_UPDATE floods (per-second buckets on the worker
 * clock), the header list size (431), the body size (413), concurrent
 * streams (REFUSED_STREAM), SETTINGS acknowledged in time.
 */
#ifndef PG_H2_H
#define PG_H2_H

#include <stdint.h>

#include <rte_common.h>

#include "http/pg_http_msg.h"
#include "http/pg_http_xchg.h"

struct pg_netif;
struct pg_stream;
struct pg_h2_server;

/* Limits and timeouts; pg_h2_conf_default fills safe values. */
struct pg_h2_conf {
	uint32_t max_conns;              /* connections per server (worker) */
	uint32_t max_concurrent_streams; /* advertised; over: REFUSED_STREAM */
	uint32_t initial_window;         /* stream receive window, bytes */
	uint32_t conn_window;            /* connection receive window */
	uint32_t max_frame_size;         /* advertised SETTINGS_MAX_FRAME_SIZE */
	uint32_t max_header_list;        /* advertised and enforced: 431 */
	uint16_t max_headers;            /* fields per request: 431 */
	uint32_t arena_size;             /* per-stream arena, fields included */
	uint64_t max_body;               /* per stream; over: 413 or reset */
	uint32_t send_buffer;            /* stop framing over this queued */
	uint32_t stream_buffer;          /* a stream's unframed bytes: high */
	uint32_t idle_timeout_ms;        /* no stream open: GOAWAY, close */
	uint32_t settings_timeout_ms;    /* our SETTINGS unacknowledged */
	uint32_t shutdown_timeout_ms;    /* graceful GOAWAY: then reset */
	/* attack limits; a flood is answered GOAWAY ENHANCE_YOUR_CALM */
	uint32_t rst_burst, rst_rate;    /* RST_STREAM received or provoked */
	uint32_t max_continuations;      /* per header block */
	uint32_t settings_rate;          /* SETTINGS per second */
	uint32_t ping_rate;              /* PING per second */
	uint32_t empty_data_rate;        /* empty DATA (no END_STREAM) */
	uint32_t window_update_rate;     /* WINDOW_UPDATE < 1 KiB per second */
	uint32_t max_outbound_ack;       /* ACKs queued unsent (nghttp2) */
	uint8_t auto_continue;           /* 100 Continue after on_request */
};

void pg_h2_conf_default(struct pg_h2_conf *conf);

/*
 * Per-worker HTTP/2 counters, the worker their single writer (as
 * pg_http_stats.h does for HTTP/1.1).
 */
#define PG_H2_COUNTERS(X)                                                    \
	X(conns,              "connections attached")                        \
	X(conn_refused,       "connections refused: limit or shutting down") \
	X(streams,            "request streams opened")                      \
	X(requests,           "requests handed to the application")          \
	X(responses,          "responses completed (END_STREAM sent)")       \
	X(status_1xx,         "interim 1xx responses sent")                  \
	X(status_2xx,         "2xx responses")                               \
	X(status_3xx,         "3xx responses")                               \
	X(status_4xx,         "4xx responses")                               \
	X(status_5xx,         "5xx responses")                               \
	X(resets_recv,        "RST_STREAM received")                         \
	X(resets_sent,        "RST_STREAM sent")                             \
	X(refused_streams,    "REFUSED_STREAM: over max_concurrent_streams") \
	X(goaway_sent,        "GOAWAY sent")                                 \
	X(goaway_recv,        "GOAWAY received")                             \
	X(err_malformed,      "requests reset: malformed (RFC 9113 8.2)")    \
	X(err_protocol,       "connections ended: a protocol violation")     \
	X(err_flow_control,   "flow-control errors (stream or connection)")  \
	X(err_compression,    "connections ended: HPACK error")              \
	X(err_preface,        "connections ended: bad client preface")       \
	X(err_header_list,    "431: header list over max_header_list")       \
	X(err_body_size,      "413 or reset: body over max_body")            \
	X(flood_rst,          "rapid reset: RST_STREAM over the bucket")     \
	X(flood_continuation, "CONTINUATION frames over the limit")          \
	X(flood_settings,     "SETTINGS frames over the rate")               \
	X(flood_ping,         "PING frames over the rate")                   \
	X(flood_empty_data,   "empty DATA frames over the rate")             \
	X(flood_window_update, "tiny WINDOW_UPDATEs over the rate")          \
	X(flood_ack,          "ACKs the peer does not read (nghttp2)")       \
	X(timeout_settings,   "SETTINGS not acknowledged in time")           \
	X(timeout_idle,       "idle connections closed")                     \
	X(timeout_shutdown,   "streams reset at the end of a shutdown")      \
	X(aborted,            "streams lost while the application held them")\
	X(nomem,              "mbufs or memory ran out")                     \
	X(app_error,          "the application's response was malformed")

enum pg_h2_counter {
#define PG_H2_COUNTER_ENUM(name, text) PG_H2_C_##name,
	PG_H2_COUNTERS(PG_H2_COUNTER_ENUM)
#undef PG_H2_COUNTER_ENUM
	PG_H2_C_MAX
};

struct pg_h2_stats {
#define PG_H2_COUNTER_FIELD(name, text) uint64_t name;
	PG_H2_COUNTERS(PG_H2_COUNTER_FIELD)
#undef PG_H2_COUNTER_FIELD
} __rte_cache_aligned;

extern const char *const pg_h2_counter_names[PG_H2_C_MAX];
extern const char *const pg_h2_counter_texts[PG_H2_C_MAX];

/* --- server -------------------------------------------------------------- */

/*
 * A server answering through hd (on_request required), taking mbufs, its
 * worker tag and the time from nif. ctx becomes each exchange's
 * server_ctx. stats may be NULL (the server keeps its own). NULL on
 * failure, *err says why.
 */
struct pg_h2_server *pg_h2_server_create(struct pg_netif *nif,
					 const struct pg_h2_conf *conf,
					 const struct pg_http_xchg_handler *hd,
					 void *ctx, struct pg_h2_stats *stats,
					 const char **err);

/*
 * Take over st, whose first len bytes (the client preface, or part of
 * it) were already read into initial (copied; len 0: none). The server
 * sends its SETTINGS at once. PG_OK: st is the server's (its cbs and ctx
 * are set); PG_ERROR: refused (limit, shutting down, out of memory), st
 * is still the caller's.
 */
int pg_h2_attach(struct pg_h2_server *s, struct pg_stream *st,
		 const void *initial, uint32_t len);

/*
 * Take over st after an HTTP/1.1 request asked "Upgrade: h2c" (RFC 7540
 * 3.2). settings is the decoded HTTP2-Settings payload; req is the
 * request (copied into stream 1, body included: req->body is taken);
 * initial holds the bytes received after the request. Sends "101
 * Switching Protocols", the server preface, then runs req as stream 1
 * (half-closed: its response goes out as HTTP/2). PG_OK, or PG_ERROR with
 * *err: st is still the caller's (answer the request over HTTP/1.1).
 */
int pg_h2_attach_upgrade(struct pg_h2_server *s, struct pg_stream *st,
			 const uint8_t *settings, uint32_t settings_len,
			 struct pg_http_msg *req, const void *initial,
			 uint32_t len, const char **err);

/* Run the timers due at nif->now_ns; returns how many fired. */
unsigned pg_h2_server_poll(struct pg_h2_server *s);

/* When the next timer is due (ns), UINT64_MAX when none: simulations. */
uint64_t pg_h2_server_next_timer(const struct pg_h2_server *s);

/*
 * Graceful shutdown: refuse new connections, send every connection GOAWAY
 * with the last stream it took; streams in flight complete, then each
 * connection closes. Streams still open after shutdown_timeout_ms are
 * reset.
 */
void pg_h2_server_shutdown(struct pg_h2_server *s);

/* Abort every connection (on_close for held exchanges), free the server. */
void pg_h2_server_destroy(struct pg_h2_server *s);

const struct pg_h2_stats *pg_h2_server_stats(const struct pg_h2_server *s);
void *pg_h2_server_ctx(const struct pg_h2_server *s);
uint32_t pg_h2_server_conns(const struct pg_h2_server *s);

#endif
