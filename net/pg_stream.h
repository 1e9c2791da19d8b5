/*
 * A byte stream a protocol runs over: a TCP connection as it is, or TLS
 * on one (net/pg_tls.h). HTTP/1.1 and HTTP/2 are written against this
 * interface, so they work the same with and without TLS.
 *
 * The rules are TCP's (net/pg_tcp.h), word for word, with "stream" for
 * "connection":
 *   - on_data(s, m): m, a chain whose data is exactly the next bytes of
 *     the stream (plaintext under TLS), becomes the protocol's when
 *     on_data returns PG_OK; with PG_AGAIN the stream keeps m, stops
 *     reading (TCP's window shrinks) and hands m over again after
 *     pg_stream_recv_resume().
 *   - pg_stream_send(s, m) consumes m on every path; the data must not be
 *     modified afterwards (plain TCP keeps referencing it until it is
 *     acknowledged). pg_stream_write copies.
 *   - Callbacks may call any pg_stream_* function on their own stream.
 *     After pg_stream_close or pg_stream_abort the protocol forgets s: no
 *     callback follows and s is freed. So it is once on_close returns.
 *
 * One worker uses a stream, never two.
 */
#ifndef PG_STREAM_H
#define PG_STREAM_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "net/pg_tcp.h"

struct pg_stream;

/* What the protocol above is told. */
struct pg_stream_cbs {
	int (*on_data)(struct pg_stream *s, struct rte_mbuf *m);
	/* The peer will send no more (FIN, or TLS close_notify then FIN). */
	void (*on_eof)(struct pg_stream *s);
	/* Queued data fell below the low-water mark after reaching the high. */
	void (*on_writable)(struct pg_stream *s);
	/* The stream ended while the protocol held it. */
	void (*on_close)(struct pg_stream *s, enum pg_tcp_reason why);
};

/* What a kind of stream does (plain TCP, TLS). */
struct pg_stream_ops {
	int (*send)(struct pg_stream *s, struct rte_mbuf *m);
	int (*write)(struct pg_stream *s, const void *buf, uint32_t len);
	uint32_t (*queued)(const struct pg_stream *s);
	void (*recv_resume)(struct pg_stream *s);
	void (*shutdown)(struct pg_stream *s);
	void (*close)(struct pg_stream *s);
	void (*abort)(struct pg_stream *s);
};

/* Application-layer protocols a stream may carry (TLS ALPN or sniffing). */
enum pg_stream_proto {
	PG_PROTO_UNKNOWN,
	PG_PROTO_HTTP1,              /* "http/1.1" */
	PG_PROTO_HTTP2,              /* "h2" (TLS) or "h2c" (plain) */
};

struct pg_stream {
	const struct pg_stream_ops *ops;
	const struct pg_stream_cbs *cbs; /* set by the protocol above */
	void *ctx;                   /* the protocol's */
	struct pg_tcp_conn *tcp;     /* underneath; NULL once it is gone */
	uint8_t tls;                 /* 1: TLS (ops are pg_tls's) */
	uint8_t proto;               /* enum pg_stream_proto, ALPN under TLS */
	uint8_t dying;               /* in on_close: freed when it returns */
	uint16_t port;               /* local port it was accepted on */
};

static inline int
pg_stream_send(struct pg_stream *s, struct rte_mbuf *m)
{
	return s->ops->send(s, m);
}

static inline int
pg_stream_write(struct pg_stream *s, const void *buf, uint32_t len)
{
	return s->ops->write(s, buf, len);
}

/* Bytes queued and not yet acknowledged (ciphertext included). */
static inline uint32_t
pg_stream_queued(const struct pg_stream *s)
{
	return s->ops->queued(s);
}

static inline void
pg_stream_recv_resume(struct pg_stream *s)
{
	s->ops->recv_resume(s);
}

/* Send FIN (after close_notify under TLS) once the queue is out. */
static inline void
pg_stream_shutdown(struct pg_stream *s)
{
	s->ops->shutdown(s);
}

static inline void
pg_stream_close(struct pg_stream *s)
{
	s->ops->close(s);
}

static inline void
pg_stream_abort(struct pg_stream *s)
{
	s->ops->abort(s);
}

/*
 * Plain TCP. A stream over c, allocated (NULL when out of memory); c's
 * context becomes the stream. The TCP callbacks of c's listener (or
 * connect) must hand on to the stream: PG_STREAM_TCP_FORWARDERS in their
 * initializer, beside on_accept or on_connected.
 */
struct pg_stream *pg_stream_tcp_new(struct pg_tcp_conn *c);

/* Free a stream nobody took, inside on_accept that then refuses c. */
void pg_stream_tcp_drop(struct pg_stream *s);

int pg_stream_tcp_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m);
void pg_stream_tcp_on_eof(struct pg_tcp_conn *c);
void pg_stream_tcp_on_writable(struct pg_tcp_conn *c);
void pg_stream_tcp_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why);

#define PG_STREAM_TCP_FORWARDERS                                            \
	.on_data = pg_stream_tcp_on_data, .on_eof = pg_stream_tcp_on_eof,   \
	.on_writable = pg_stream_tcp_on_writable,                           \
	.on_close = pg_stream_tcp_on_close

/* Client address (network order) and port (host order); 0 when gone. */
void pg_stream_peer(const struct pg_stream *s, uint32_t *addr,
		    uint16_t *port);

#endif
