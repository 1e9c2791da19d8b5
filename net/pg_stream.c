/*
 * The plain-TCP kind of stream: each operation is the TCP call of the
 * same name, each TCP callback is forwarded to the protocol as it is.
 *
 *   TCP on_data/on_eof/on_writable  -> cbs->on_data/on_eof/on_writable
 *   TCP on_close                    -> cbs->on_close, then the stream is freed
 *   pg_stream_close/abort           -> pg_tcp_close/abort, the stream freed
 */
#include <stdlib.h>

#include "core/pg_core.h"
#include "net/pg_mbuf.h"
#include "net/pg_stream.h"

/* --- operations ---------------------------------------------------------- */

static int
pg_stream_tcp_send(struct pg_stream *s, struct rte_mbuf *m)
{
	if (s->tcp == NULL) {
		pg_mbuf_free(m);
		return PG_ERROR;
	}
	return pg_tcp_send(s->tcp, m);
}

static int
pg_stream_tcp_write(struct pg_stream *s, const void *buf, uint32_t len)
{
	return s->tcp != NULL ? pg_tcp_write(s->tcp, buf, len) : PG_ERROR;
}

static uint32_t
pg_stream_tcp_queued(const struct pg_stream *s)
{
	return s->tcp != NULL ? pg_tcp_queued(s->tcp) : 0;
}

static void
pg_stream_tcp_recv_resume(struct pg_stream *s)
{
	if (s->tcp != NULL)
		pg_tcp_recv_resume(s->tcp);
}

static void
pg_stream_tcp_shutdown(struct pg_stream *s)
{
	if (s->tcp != NULL)
		pg_tcp_shutdown(s->tcp);
}

static void
pg_stream_tcp_close(struct pg_stream *s)
{
	if (s->tcp != NULL)
		pg_tcp_close(s->tcp);
	free(s);
}

static void
pg_stream_tcp_abort(struct pg_stream *s)
{
	if (s->tcp != NULL)
		pg_tcp_abort(s->tcp);
	free(s);
}

static const struct pg_stream_ops pg_stream_tcp_ops = {
	.send = pg_stream_tcp_send,
	.write = pg_stream_tcp_write,
	.queued = pg_stream_tcp_queued,
	.recv_resume = pg_stream_tcp_recv_resume,
	.shutdown = pg_stream_tcp_shutdown,
	.close = pg_stream_tcp_close,
	.abort = pg_stream_tcp_abort,
};

/* --- TCP callbacks ------------------------------------------------------- */

static int
pg_stream_tcp_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	return s->cbs->on_data(s, m);
}

static void
pg_stream_tcp_on_eof(struct pg_tcp_conn *c)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s->cbs->on_eof != NULL)
		s->cbs->on_eof(s);
}

static void
pg_stream_tcp_on_writable(struct pg_tcp_conn *c)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s->cbs->on_writable != NULL)
		s->cbs->on_writable(s);
}

static void
pg_stream_tcp_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	s->tcp = NULL;
	if (s->cbs != NULL && s->cbs->on_close != NULL)
		s->cbs->on_close(s, why);
	free(s);
}

void
pg_stream_tcp_callbacks(struct pg_tcp_callbacks *cb)
{
	cb->on_data = pg_stream_tcp_on_data;
	cb->on_eof = pg_stream_tcp_on_eof;
	cb->on_writable = pg_stream_tcp_on_writable;
	cb->on_close = pg_stream_tcp_on_close;
}

/* --- streams ------------------------------------------------------------- */

struct pg_stream *
pg_stream_tcp_new(struct pg_tcp_conn *c)
{
	struct pg_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ops = &pg_stream_tcp_ops;
	s->tcp = c;
	pg_tcp_endpoints(c, NULL, &s->port, NULL, NULL);
	pg_tcp_set_ctx(c, s);
	return s;
}

void
pg_stream_peer(const struct pg_stream *s, uint32_t *addr, uint16_t *port)
{
	*addr = 0;
	*port = 0;
	if (s->tcp != NULL)
		pg_tcp_endpoints(s->tcp, NULL, NULL, addr, port);
}
