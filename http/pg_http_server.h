/*
 * The HTTP front door of a worker: its listeners, and for each accepted
 * connection the choice of protocol, after which HTTP/1.1 (http/pg_h1.h)
 * or HTTP/2 (http/pg_h2.h) serves it. Either way the application sees
 * struct pg_http_xchg (http/pg_http_xchg.h) and one handler.
 *
 *   plain port: the first bytes decide: the HTTP/2 connection preface
 *               ("PRI * HTTP/2.0...", h2c by prior knowledge) -> HTTP/2,
 *               anything else -> HTTP/1.1, which hands a request
 *               asking "Upgrade: h2c" (no body) to HTTP/2 as stream 1
 *   TLS port:   TLS first (net/pg_tls.h), then ALPN: "h2" -> HTTP/2,
 *               "http/1.1" or none -> HTTP/1.1
 *
 * One server per worker, used by that worker only.
 */
#ifndef PG_HTTP_SERVER_H
#define PG_HTTP_SERVER_H

#include <stdint.h>

#include "http/pg_h1.h"
#include "http/pg_h2.h"
#include "http/pg_http_stats.h"
#include "http/pg_http_xchg.h"
#include "net/pg_tls.h"

struct pg_netif;
struct pg_tcp_stack;
struct pg_http_server;

/*
 * A server whose exchanges go to hd (with ctx as their server_ctx), with
 * the HTTP/1.1 limits h1 and the HTTP/2 settings h2 (copied). The stats
 * may be NULL. NULL on failure, *err says why.
 */
struct pg_http_server *pg_http_server_create(struct pg_netif *nif,
					     const struct pg_h1_conf *h1,
					     const struct pg_h2_conf *h2,
					     const struct pg_http_xchg_handler *hd,
					     void *ctx,
					     struct pg_http_stats *stats,
					     struct pg_h2_stats *h2stats,
					     struct pg_tls_stats *tls_stats,
					     const char **err);

/*
 * Serve port of stack: plain when ncerts is 0, else TLS with those
 * certificates (SNI; the first is the default). PG_OK or PG_ERROR with
 * *err (a certificate that does not load, a port taken).
 */
int pg_http_server_listen(struct pg_http_server *s,
			  struct pg_tcp_stack *stack, uint16_t port,
			  const struct pg_tls_conf *certs, unsigned ncerts,
			  const char **err);

/* Timers due at the netif's clock; returns how many fired. */
unsigned pg_http_server_poll(struct pg_http_server *s);

/* When the next timer is due (ns), UINT64_MAX when none. */
uint64_t pg_http_server_next_timer(const struct pg_http_server *s);

/* Connections being served, every protocol. */
uint32_t pg_http_server_conns(const struct pg_http_server *s);

/*
 * Graceful stop: the listeners close; HTTP/1.1 closes idle connections
 * and answers requests in progress with "Connection: close"; HTTP/2 sends
 * GOAWAY with the last stream it took, lets those streams finish, then
 * closes. pg_http_server_conns falls to 0 as they end.
 */
void pg_http_server_shutdown(struct pg_http_server *s);

/*
 * Reset every connection (on_close for exchanges in progress), free. TLS
 * handshakes in progress hold the listeners' contexts: destroy the TCP
 * stack first when there are TLS listeners.
 */
void pg_http_server_destroy(struct pg_http_server *s);

#endif
