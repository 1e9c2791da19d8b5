/*
 * One HTTP exchange, a request and its response, as the application sees
 * it whatever the protocol: the current request of an HTTP/1.1 connection
 * (http/pg_h1.h) or one HTTP/2 stream (http/pg_h2.h), with or without TLS
 * underneath. The Lua layer is written against this interface only, so a
 * handler works the same over h1, h2, h1+TLS and h2+TLS.
 *
 * The protocol calls the handler:
 *   on_request(x, req)   the request head is complete. req is valid until
 *                        the response ends (send/write with last, or
 *                        respond with PG_XCHG_END) or on_close.
 *   on_body(x)           more request body is buffered: body_read it.
 *   on_request_end(x)    the body is complete (trailers in req).
 *   on_writable(x)       the peer drained the response below the low-water
 *                        mark (HTTP/2: this stream's window opened too):
 *                        write more.
 *   on_close(x)          the exchange died while the application held it
 *                        (reset, timeout, limit, the stream was reset):
 *                        forget x.
 *   on_log(x, l)         a response ended (x->ctx still set), or the
 *                        protocol refused a request itself (x->ctx NULL).
 * The application calls the protocol through pg_http_xchg_* between
 * on_request and the end of the response or on_close, on the worker that
 * owns the connection. Callbacks may arrive from inside those calls.
 */
#ifndef PG_HTTP_XCHG_H
#define PG_HTTP_XCHG_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "http/pg_http_msg.h"

struct pg_stream;
struct pg_http_xchg;

#define PG_XCHG_END 0x1u         /* respond: no body follows */

/* A response that ended, for the access log. */
struct pg_http_xchg_log {
	uint64_t start_ns;           /* first byte of the request (nif clock) */
	uint64_t end_ns;             /* response queued in full */
	/* response bytes queued, head included (HTTP/2: the head's fields
	 * before HPACK and the body, no frame headers) */
	uint64_t bytes;
	uint16_t status;
	struct pg_http_str method;   /* len 0: not parsed yet */
	struct pg_http_str target;
};

struct pg_http_xchg_handler {
	void (*on_request)(struct pg_http_xchg *x, struct pg_http_msg *req);
	void (*on_body)(struct pg_http_xchg *x);
	void (*on_request_end)(struct pg_http_xchg *x);
	void (*on_writable)(struct pg_http_xchg *x);
	void (*on_close)(struct pg_http_xchg *x);
	void (*on_log)(struct pg_http_xchg *x, const struct pg_http_xchg_log *l);
};

struct pg_http_xchg_ops {
	/*
	 * The response head: resp->status and resp's fields (borrowed during
	 * the call). clen is the body length or -1 when unknown (HTTP/1.1:
	 * chunked; HTTP/1.0: until close; HTTP/2: DATA until END_STREAM). A
	 * Content-Length field counts as clen. HEAD, 1xx, 204 and 304 carry
	 * no body; 1xx is interim. PG_XCHG_END: complete. PG_OK, or PG_ERROR
	 * with *err (malformed response: the exchange is reset; or already
	 * sent).
	 */
	int (*respond)(struct pg_http_xchg *x, const struct pg_http_msg *resp,
		       int64_t clen, unsigned flags, const char **err);
	/* Body bytes (m consumed on every path, NULL: none); last ends it. */
	int (*send)(struct pg_http_xchg *x, struct rte_mbuf *m, int last);
	/* send of a copy of len bytes at buf. */
	int (*write)(struct pg_http_xchg *x, const void *buf, uint32_t len,
		     int last);
	/* Response bytes queued and not yet sent on and acknowledged. */
	uint32_t (*queued)(const struct pg_http_xchg *x);
	/* Copy up to len buffered body bytes into buf; 0: none buffered. */
	uint32_t (*body_read)(struct pg_http_xchg *x, void *buf, uint32_t len);
	/* Has the whole request body arrived? */
	int (*body_done)(const struct pg_http_xchg *x);
	/* Lower (or raise) the body limit of this request. */
	void (*set_body_limit)(struct pg_http_xchg *x, uint64_t max);
	/* Send 100 Continue now if the client waits for it. */
	void (*cont)(struct pg_http_xchg *x);
	/* Give up: reset (HTTP/1.1: the connection; HTTP/2: the stream). No
	 * callback follows; forget x. */
	void (*abort)(struct pg_http_xchg *x);
};

struct pg_http_xchg {
	const struct pg_http_xchg_ops *ops;
	const struct pg_http_xchg_handler *hd;
	void *ctx;                   /* the application's; NULL: none */
	void *server_ctx;            /* given when the server was made */
	struct pg_stream *st;        /* the connection's (peer address, TLS) */
	uint8_t version;             /* 10, 11 or 20 */
	uint32_t nth;                /* requests before it on the connection */
};

static inline int
pg_http_xchg_respond(struct pg_http_xchg *x, const struct pg_http_msg *resp,
		     int64_t clen, unsigned flags, const char **err)
{
	return x->ops->respond(x, resp, clen, flags, err);
}

static inline int
pg_http_xchg_send(struct pg_http_xchg *x, struct rte_mbuf *m, int last)
{
	return x->ops->send(x, m, last);
}

static inline int
pg_http_xchg_write(struct pg_http_xchg *x, const void *buf, uint32_t len,
		   int last)
{
	return x->ops->write(x, buf, len, last);
}

static inline uint32_t
pg_http_xchg_queued(const struct pg_http_xchg *x)
{
	return x->ops->queued(x);
}

static inline uint32_t
pg_http_xchg_body_read(struct pg_http_xchg *x, void *buf, uint32_t len)
{
	return x->ops->body_read(x, buf, len);
}

static inline int
pg_http_xchg_body_done(const struct pg_http_xchg *x)
{
	return x->ops->body_done(x);
}

static inline void
pg_http_xchg_set_body_limit(struct pg_http_xchg *x, uint64_t max)
{
	x->ops->set_body_limit(x, max);
}

static inline void
pg_http_xchg_continue(struct pg_http_xchg *x)
{
	x->ops->cont(x);
}

static inline void
pg_http_xchg_abort(struct pg_http_xchg *x)
{
	x->ops->abort(x);
}

#endif
