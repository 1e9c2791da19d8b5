/*
 * HTTP/1.1 server connections (RFC 9112) over a byte stream (plain TCP or
 * TLS: net/pg_stream.h), parsed by llhttp in strict mode.
 *
 * One server per worker. Each stream attached to it (pg_h1_attach, or a
 * connection accepted by pg_h1_listen) is a connection whose requests
 * arrive one at a time, in order: while a request is unanswered the
 * parser is paused and further data is refused (the stack holds it and
 * the window shrinks), so pipelined requests are answered strictly in
 * order.
 *
 * The application sees each request as a struct pg_http_xchg (one per
 * connection, reused for its next request) through the handler and
 * functions of http/pg_http_xchg.h: the response may come later than
 * on_request (asynchronously).
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
#include "http/pg_http_xchg.h"

struct pg_netif;
struct pg_stream;
struct pg_tcp_stack;
struct pg_h1_server;

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

/* --- server -------------------------------------------------------------- */

/*
 * A server answering through hd, taking mbufs, its worker tag and the
 * time from nif. stats may be NULL (the server keeps its own). NULL on
 * failure, *err says why.
 */
struct pg_h1_server *pg_h1_server_create(struct pg_netif *nif,
					 const struct pg_h1_conf *conf,
					 const struct pg_http_xchg_handler *hd,
					 void *ctx, struct pg_http_stats *stats,
					 const char **err);

/*
 * Serve HTTP/1.1 on st: the server takes it over (st->cbs and st->ctx).
 * PG_ERROR at the connection limit (counted): st is still the caller's.
 */
int pg_h1_attach(struct pg_h1_server *s, struct pg_stream *st);

/*
 * The two ways a plain connection goes over to HTTP/2 (TLS ones choose by
 * ALPN before HTTP/1.1 sees them). HTTP/1.1 lets go of st before calling
 * either.
 *   preface  the first bytes m are the HTTP/2 connection preface (h2c by
 *            prior knowledge): take st with m, return what on_data
 *            returns.
 *   upgrade  a request without a body asked "Upgrade: h2c" with one
 *            HTTP2-Settings field (RFC 7540 3.2): settings is its decoded
 *            payload, initial the bytes received after the request; the
 *            contract of pg_h2_attach_upgrade. On PG_ERROR st comes back
 *            and the request is answered over HTTP/1.1.
 */
struct pg_h1_h2 {
	int (*preface)(void *arg, struct pg_stream *st, struct rte_mbuf *m);
	int (*upgrade)(void *arg, struct pg_stream *st,
		       const uint8_t *settings, uint32_t settings_len,
		       struct pg_http_msg *req, const void *initial,
		       uint32_t len, const char **err);
	void *arg;
};
void pg_h1_set_h2(struct pg_h1_server *s, const struct pg_h1_h2 *h2);

/* Listen on port of stack, plain TCP. PG_OK or PG_ERROR with *err. */
int pg_h1_listen(struct pg_h1_server *s, struct pg_tcp_stack *stack,
		 uint16_t port, const char **err);

/*
 * Graceful stop: refuse new connections, close the idle ones; a request
 * in progress is answered with "Connection: close", then its connection
 * closes.
 */
void pg_h1_server_shutdown(struct pg_h1_server *s);

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

#endif
