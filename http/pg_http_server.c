/*
 * The HTTP front door: listeners, and the protocol of each connection.
 *
 *   plain accept -> pg_stream_tcp_new -> pg_h1_attach (HTTP/1.1 hands a
 *                   connection that opens with the HTTP/2 preface over
 *                   to pg_http_server_h2c -> pg_h2_attach, one whose
 *                   request asks "Upgrade: h2c" to pg_http_server_upgrade
 *                   -> pg_h2_attach_upgrade)
 *   TLS accept   -> pg_tls_accept -> handshake -> pg_http_server_ready:
 *                   ALPN h2 -> pg_h2_attach, else pg_h1_attach
 */
#include <stdlib.h>
#include <string.h>

#include "core/pg_core.h"
#include "http/pg_h2.h"
#include "http/pg_http_server.h"
#include "net/pg_netif.h"
#include "net/pg_stream.h"
#include "net/pg_tcp.h"
#include "net/pg_tls.h"

#define PG_HTTP_MAX_LISTENERS 16

struct pg_http_listener {
	struct pg_http_server *srv;
	struct pg_tcp_listener *tcp;
	struct pg_tls_ctx *tls;          /* NULL: plain */
	uint16_t port;
};

struct pg_http_server {
	struct pg_netif *nif;
	struct pg_h1_server *h1;
	struct pg_h2_server *h2;
	struct pg_tls_stats *tls_stats;
	struct pg_http_listener listeners[PG_HTTP_MAX_LISTENERS];
	unsigned nlisteners;
};

/* --- accepting ----------------------------------------------------------- */

/* HTTP/1.1 saw the HTTP/2 preface (h2c by prior knowledge): m is it. */
static int
pg_http_server_h2c(void *arg, struct pg_stream *st, struct rte_mbuf *m)
{
	struct pg_http_server *s = arg;

	if (pg_h2_attach(s->h2, st, NULL, 0) != PG_OK) {
		rte_pktmbuf_free(m);
		pg_stream_close(st);
		return PG_OK;
	}
	return st->cbs->on_data(st, m);
}

/* HTTP/1.1 saw "Upgrade: h2c": the request becomes stream 1. */
static int
pg_http_server_upgrade(void *arg, struct pg_stream *st,
		       const uint8_t *settings, uint32_t settings_len,
		       struct pg_http_msg *req, const void *initial,
		       uint32_t len, const char **err)
{
	struct pg_http_server *s = arg;

	return pg_h2_attach_upgrade(s->h2, st, settings, settings_len, req,
				    initial, len, err);
}

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

/* The TLS handshake is done: ALPN says which protocol serves st. */
static int
pg_http_server_ready(struct pg_stream *st)
{
	struct pg_http_server *s = st->ctx;

	if (st->proto == PG_PROTO_HTTP2)
		return pg_h2_attach(s->h2, st, NULL, 0);
	return pg_h1_attach(s->h1, st);
}

static int
pg_http_server_accept_tls(struct pg_tcp_conn *c, void *lctx)
{
	struct pg_http_listener *l = lctx;

	return pg_tls_accept(l->tls, c, pg_http_server_ready, l->srv) != NULL
	       ? PG_OK : PG_ERROR;
}

static const struct pg_tcp_callbacks pg_http_server_tls_cbs = {
	.on_accept = pg_http_server_accept_tls,
	PG_TLS_FORWARDERS,
};

/* --- server -------------------------------------------------------------- */

struct pg_http_server *
pg_http_server_create(struct pg_netif *nif, const struct pg_h1_conf *h1,
		      const struct pg_h2_conf *h2,
		      const struct pg_http_xchg_handler *hd, void *ctx,
		      struct pg_http_stats *stats, struct pg_h2_stats *h2stats,
		      struct pg_tls_stats *tls_stats, const char **err)
{
	struct pg_http_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		*err = "out of memory for the HTTP server";
		return NULL;
	}
	s->nif = nif;
	s->tls_stats = tls_stats;
	s->h1 = pg_h1_server_create(nif, h1, hd, ctx, stats, err);
	if (s->h1 == NULL)
		goto failed;
	s->h2 = pg_h2_server_create(nif, h2, hd, ctx, h2stats, err);
	if (s->h2 == NULL)
		goto failed;
	pg_h1_set_h2(s->h1, &(struct pg_h1_h2){ pg_http_server_h2c,
					      pg_http_server_upgrade, s });
	return s;
failed:
	pg_http_server_destroy(s);
	return NULL;
}

int
pg_http_server_listen(struct pg_http_server *s, struct pg_tcp_stack *stack,
		      uint16_t port, const struct pg_tls_conf *certs,
		      unsigned ncerts, const char **err)
{
	struct pg_http_listener *l;

	if (s->nlisteners == PG_HTTP_MAX_LISTENERS) {
		*err = "too many HTTP listeners";
		return PG_ERROR;
	}
	l = &s->listeners[s->nlisteners];
	memset(l, 0, sizeof(*l));
	l->srv = s;
	l->port = port;
	if (ncerts > 0) {
		l->tls = pg_tls_ctx_new(certs, ncerts, err);
		if (l->tls == NULL)
			return PG_ERROR;
		if (s->tls_stats != NULL)
			pg_tls_ctx_set_stats(l->tls, s->tls_stats);
	}
	l->tcp = pg_tcp_listen(stack, port, l->tls != NULL
			       ? &pg_http_server_tls_cbs
			       : &pg_http_server_tcp_cbs, l, NULL, err);
	if (l->tcp == NULL) {
		pg_tls_ctx_free(l->tls);
		l->tls = NULL;
		return PG_ERROR;
	}
	s->nlisteners++;
	return PG_OK;
}

unsigned
pg_http_server_poll(struct pg_http_server *s)
{
	unsigned n = pg_h1_server_poll(s->h1) + pg_h2_server_poll(s->h2);
	for (unsigned i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].tls != NULL)
			n += pg_tls_ctx_poll(s->listeners[i].tls,
					     s->nif->now_ns);
	return n;
}

uint64_t
pg_http_server_next_timer(const struct pg_http_server *s)
{
	uint64_t a = pg_h1_server_next_timer(s->h1);
	uint64_t b = pg_h2_server_next_timer(s->h2);
	return a < b ? a : b;
}

uint32_t
pg_http_server_conns(const struct pg_http_server *s)
{
	return pg_h1_server_conns(s->h1) + pg_h2_server_conns(s->h2);
}

void
pg_http_server_shutdown(struct pg_http_server *s)
{
	for (unsigned i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].tcp != NULL)
			pg_tcp_unlisten(s->listeners[i].tcp);
		s->listeners[i].tcp = NULL;
	}
	pg_h1_server_shutdown(s->h1);
	pg_h2_server_shutdown(s->h2);
}

void
pg_http_server_destroy(struct pg_http_server *s)
{
	if (s == NULL)
		return;
	if (s->h2 != NULL)
		pg_h2_server_destroy(s->h2);
	if (s->h1 != NULL)
		pg_h1_server_destroy(s->h1);
	/* Streams still in their handshake belong to the contexts. */
	for (unsigned i = 0; i < s->nlisteners; i++)
		pg_tls_ctx_free(s->listeners[i].tls);
	free(s);
}
