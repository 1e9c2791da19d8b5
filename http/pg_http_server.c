/*
 * The HTTP front door: listeners, and the protocol of each connection.
 *
 *   plain accept -> pg_stream_tcp_new -> pg_h1_attach (HTTP/1.1 hands a
 *                   connection that opens with the HTTP/2 preface over
 *                   to pg_http_server_h2)
 */
#include <stdlib.h>
#include <string.h>

#include "core/pg_core.h"
#include "http/pg_http_server.h"
#include "net/pg_stream.h"
#include "net/pg_tcp.h"

#define PG_HTTP_MAX_LISTENERS 16

struct pg_http_listener {
	struct pg_http_server *srv;
	struct pg_tcp_listener *tcp;
	uint16_t port;
};

struct pg_http_server {
	struct pg_h1_server *h1;
	struct pg_http_listener listeners[PG_HTTP_MAX_LISTENERS];
	unsigned nlisteners;
};

/* --- accepting ----------------------------------------------------------- */

static int
pg_http_server_accept(struct pg_tcp_conn *c, void *lctx)
{
	struct pg_http_listener *l = lctx;
	struct pg_stream *st = pg_stream_tcp_new(c);

	if (st == NULL)
		return PG_ERROR;
	if (pg_h1_attach(l->srv->h1, st) != PG_OK) {
		pg_stream_tcp_drop(st);
		return PG_ERROR;
	}
	return PG_OK;
}

static const struct pg_tcp_callbacks pg_http_server_tcp_cbs = {
	.on_accept = pg_http_server_accept,
	PG_STREAM_TCP_FORWARDERS,
};

/* --- server -------------------------------------------------------------- */

struct pg_http_server *
pg_http_server_create(struct pg_netif *nif, const struct pg_h1_conf *h1,
		      const struct pg_http_xchg_handler *hd, void *ctx,
		      struct pg_http_stats *stats, const char **err)
{
	struct pg_http_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		*err = "out of memory for the HTTP server";
		return NULL;
	}
	s->h1 = pg_h1_server_create(nif, h1, hd, ctx, stats, err);
	if (s->h1 == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
pg_http_server_listen(struct pg_http_server *s, struct pg_tcp_stack *stack,
		      uint16_t port, const char **err)
{
	struct pg_http_listener *l;

	if (s->nlisteners == PG_HTTP_MAX_LISTENERS) {
		*err = "too many HTTP listeners";
		return PG_ERROR;
	}
	l = &s->listeners[s->nlisteners];
	l->srv = s;
	l->port = port;
	l->tcp = pg_tcp_listen(stack, port, &pg_http_server_tcp_cbs, l, NULL,
			       err);
	if (l->tcp == NULL)
		return PG_ERROR;
	s->nlisteners++;
	return PG_OK;
}

unsigned
pg_http_server_poll(struct pg_http_server *s)
{
	return pg_h1_server_poll(s->h1);
}

uint64_t
pg_http_server_next_timer(const struct pg_http_server *s)
{
	return pg_h1_server_next_timer(s->h1);
}

uint32_t
pg_http_server_conns(const struct pg_http_server *s)
{
	return pg_h1_server_conns(s->h1);
}

void
pg_http_server_destroy(struct pg_http_server *s)
{
	if (s == NULL)
		return;
	pg_h1_server_destroy(s->h1);
	free(s);
}
