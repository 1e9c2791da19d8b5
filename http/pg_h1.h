/*
 * HTTP/1.1 server connections (RFC 9112) on the userspace TCP stack,
 * parsed by llhttp in strict mode.
 *
 * One server per worker. Each TCP connection accepted by its listener
 * gets a struct pg_h1_conn; requests arrive one at a time, in order:
 * while a request is unanswered the parser is paused and further TCP data
 * is refused (the stack holds it and the window shrinks), so pipelined
 * requests are answered strictly in order.
 *
 * The application sees one request at a time per connection:
 *   on_request(h, req)   headers complete. req is valid until the
 *                        response ends (pg_h1_send/pg_h1_write with last,
 *                        or pg_h1_respond with PG_H1_END).
 *   on_body(h)           more request body is buffered: read it with
 *                        pg_h1_body_read (optional callback).
 *   on_request_end(h)    the body is complete (trailers in req).
 *   on_writable(h)       the peer drained the response below the stack's
 *                        low-water mark: write more.
 *   on_close(h)          the connection died while the application held
 *                        a request (reset, timeout, limit): forget h.
 * The response may come later than on_request (asynchronously); each
 * pg_h1_* call below must be made between on_request and the end of the
 * response or on_close, on the worker that owns the connection.
 *
 * Refused requests get a clean error response (400, 408, 413, 414, 431,
 * 505) followed by a lingering close: the write side is shut, the read
 * side drained until the peer closes or linger_ms passes.
 */
#ifndef PG_H1_H
#define PG_H1_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "http/pg_http_msg.h"
#include "http/pg_http_stats.h"

struct pg_netif;
struct pg_tcp_stack;
struct pg_tcp_conn;
struct pg_h1_server;
struct pg_h1_conn;

/* Limits and timeouts; pg_h1_conf_default fills safe values. */
struct pg_h1_conf {
	uint32_t max_conns;            /* connections per server (worker) */
	uint32_t max_request_line;     /* bytes; over it: 414 */
	uint32_t max_header_bytes;     /* header section bytes; over: 431 */
	uint16_t max_headers;          /* header fields; over: 431 */
	uint32_t arena_size;           /* per-request arena, fields included */
	uint64_t max_body;             /* bytes; over: 413 */
	uint64_t body_buffer;          /* unread body that stops reading */
	uint32_t header_timeout_ms;    /* whole request head: 408 */
	uint32_t body_timeout_ms;      /* between two body reads: 408 */
	uint32_t keepalive_timeout_ms; /* idle between requests: close */
	uint32_t linger_ms;            /* draining after an error response */
	uint32_t max_requests;         /* per connection; 0: no limit */
	uint8_t auto_continue;         /* 100 Continue after on_request */
	uint8_t date;                  /* send a Date header */
};

void pg_h1_conf_default(struct pg_h1_conf *conf);

/*
 * A response that ended, for an access log (on_log): the application's
 * (its ctx is still set) or one of the server's own refusals (ctx NULL).
 */
struct pg_h1_log {
	uint64_t start_ns;           /* first byte of the request (nif clock) */
	uint64_t end_ns;             /* response queued in full */
	uint64_t bytes;              /* response bytes queued, head included */
	uint16_t status;
	struct pg_http_str method;   /* len 0: not parsed yet */
	struct pg_http_str target;
};

struct pg_h1_handler {
	void (*on_request)(struct pg_h1_conn *h, struct pg_http_msg *req);
	void (*on_body)(struct pg_h1_conn *h);
	void (*on_request_end)(struct pg_h1_conn *h);
	void (*on_writable)(struct pg_h1_conn *h);
	void (*on_close)(struct pg_h1_conn *h);
	void (*on_log)(struct pg_h1_conn *h, const struct pg_h1_log *l);
};

/* --- server -------------------------------------------------------------- */

/*
 * A server answering through hd, taking mbufs, its worker tag and the
 * time from nif. stats may be NULL (the server keeps its own). NULL on
 * failure, *err says why.
 */
struct pg_h1_server *pg_h1_server_create(struct pg_netif *nif,
					 const struct pg_h1_conf *conf,
					 const struct pg_h1_handler *hd,
					 void *ctx, struct pg_http_stats *stats,
					 const char **err);

/* Listen on port of stack. PG_OK or PG_ERROR with *err. */
int pg_h1_listen(struct pg_h1_server *s, struct pg_tcp_stack *stack,
		 uint16_t port, const char **err);

/* Run the timers due at nif->now_ns; returns how many fired. */
unsigned pg_h1_server_poll(struct pg_h1_server *s);

/* When the next timer is due (ns), UINT64_MAX when none: simulations. */
uint64_t pg_h1_server_next_timer(const struct pg_h1_server *s);

/*
 * Abort every connection (on_close for requests in progress) and free the
 * server. Destroy the TCP stacks first or after: both orders are safe.
 */
void pg_h1_server_destroy(struct pg_h1_server *s);

const struct pg_http_stats *pg_h1_server_stats(const struct pg_h1_server *s);
void *pg_h1_server_ctx(const struct pg_h1_server *s);
uint32_t pg_h1_server_conns(const struct pg_h1_server *s);

/* --- request ------------------------------------------------------------- */

struct pg_http_msg *pg_h1_request(struct pg_h1_conn *h);
void *pg_h1_ctx(const struct pg_h1_conn *h);
void pg_h1_set_ctx(struct pg_h1_conn *h, void *ctx);
struct pg_h1_server *pg_h1_conn_server(const struct pg_h1_conn *h);
struct pg_tcp_conn *pg_h1_tcp(const struct pg_h1_conn *h);
/* Requests served on this connection before this one. */
uint32_t pg_h1_conn_requests(const struct pg_h1_conn *h);

/* Lower (or raise) the body limit of this request (a route's limit). */
void pg_h1_set_body_limit(struct pg_h1_conn *h, uint64_t max);

/* Send 100 Continue now if the client waits for it (auto_continue off). */
void pg_h1_continue(struct pg_h1_conn *h);

/*
 * Copy up to len bytes of buffered request body into buf. Returns how
 * many; 0 when nothing is buffered (see on_body, on_request_end).
 */
uint32_t pg_h1_body_read(struct pg_h1_conn *h, void *buf, uint32_t len);

/* Has the whole request body arrived (and been buffered)? */
int pg_h1_body_done(const struct pg_h1_conn *h);

/* --- response ------------------------------------------------------------ */

#define PG_H1_END 0x1u           /* no body follows */

/*
 * Send the response head: resp->status and resp's header fields (borrowed
 * during the call). clen is the body length, or -1 when unknown: the body
 * is then chunked (HTTP/1.1) or ends with the connection (HTTP/1.0). A
 * Content-Length field in resp counts as clen. HEAD, 1xx, 204 and 304
 * carry no body. A 1xx status is an interim response. With PG_H1_END the
 * response is complete. PG_OK; PG_ERROR with *err when resp is malformed
 * (the connection then closes) or the response was already sent.
 */
int pg_h1_respond(struct pg_h1_conn *h, const struct pg_http_msg *resp,
		  int64_t clen, unsigned flags, const char **err);

/*
 * Send m as body (consumed on every path; NULL sends nothing); last ends
 * the response. PG_ERROR when the connection cannot send.
 */
int pg_h1_send(struct pg_h1_conn *h, struct rte_mbuf *m, int last);

/* pg_h1_send of a copy of len bytes at buf. */
int pg_h1_write(struct pg_h1_conn *h, const void *buf, uint32_t len,
		int last);

/* Response bytes queued and not yet acknowledged (for backpressure). */
uint32_t pg_h1_queued(const struct pg_h1_conn *h);

/* Give up: reset the connection. No callback follows; forget h. */
void pg_h1_abort(struct pg_h1_conn *h);

#endif
