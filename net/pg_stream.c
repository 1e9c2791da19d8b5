/*
 * The plain kind of pg_stream: TCP as it is. Each operation is the TCP
 * call of the same name; each TCP callback is handed on to the protocol.
 * The stream is freed when the protocol lets go (close, abort) or when
 * TCP reports the end (after the protocol's on_close).
 */
#include <stdlib.h>

#include "core/pg_core.h"
#include "net/pg_stream.h"

static int
pg_stream_tcp_send(struct pg_stream *s, struct rte_mbuf *m)
{
	if (s->tcp == NULL) {
		rte_pktmbuf_free(m);
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
pg_stream_tcp_resume(struct pg_stream *s)
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
	if (s->dying)
		return;              /* freed when on_close returns */
	if (s->tcp != NULL) {
		pg_tcp_set_ctx(s->tcp, NULL);
		pg_tcp_close(s->tcp);
	}
	free(s);
}

static void
pg_stream_tcp_abort(struct pg_stream *s)
{
	if (s->dying)
		return;
	if (s->tcp != NULL) {
		pg_tcp_set_ctx(s->tcp, NULL);
		pg_tcp_abort(s->tcp);
	}
	free(s);
}

static const struct pg_stream_ops pg_stream_tcp_ops = {
	.send = pg_stream_tcp_send,
	.write = pg_stream_tcp_write,
	.queued = pg_stream_tcp_queued,
	.recv_resume = pg_stream_tcp_resume,
	.shutdown = pg_stream_tcp_shutdown,
	.close = pg_stream_tcp_close,
	.abort = pg_stream_tcp_abort,
};

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
pg_stream_tcp_drop(struct pg_stream *s)
{
	pg_tcp_set_ctx(s->tcp, NULL);
	free(s);
}

/* --- TCP to the protocol -------------------------------------------------- */

int
pg_stream_tcp_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s == NULL || s->cbs == NULL) {
		rte_pktmbuf_free(m);
		return PG_OK;
	}
	return s->cbs->on_data(s, m);
}

void
pg_stream_tcp_on_eof(struct pg_tcp_conn *c)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s != NULL && s->cbs != NULL && s->cbs->on_eof != NULL)
		s->cbs->on_eof(s);
}

void
pg_stream_tcp_on_writable(struct pg_tcp_conn *c)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s != NULL && s->cbs != NULL && s->cbs->on_writable != NULL)
		s->cbs->on_writable(s);
}

void
pg_stream_tcp_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_stream *s = pg_tcp_ctx(c);
	if (s == NULL)
		return;
	s->tcp = NULL;
	s->dying = 1;
	if (s->cbs != NULL && s->cbs->on_close != NULL)
		s->cbs->on_close(s, why);
	free(s);
}

void
pg_stream_peer(const struct pg_stream *s, uint32_t *addr, uint16_t *port)
{
	if (addr != NULL)
		*addr = 0;
	if (port != NULL)
		*port = 0;
	if (s != NULL && s->tcp != NULL)
		pg_tcp_endpoints(s->tcp, NULL, NULL, addr, port);
}
