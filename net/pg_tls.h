/*
 * TLS (1.2 and 1.3, OpenSSL 3) on the userspace TCP stack: a kind of
 * pg_stream (net/pg_stream.h) whose bytes are TLS records on a TCP
 * connection. No kernel socket: OpenSSL reads ciphertext straight from
 * the received mbufs and writes records into mbufs handed to pg_tcp_send.
 *
 * A context (struct pg_tls_ctx) holds the certificates, SNI choosing among
 * them, ALPN, session tickets with rotating keys, the handshake timeout,
 * the counters and the list of connections still in their handshake.
 * It serves one worker: create it before the workers fork (they then
 * derive the same ticket keys, so a ticket from one resumes on another)
 * or in each worker.
 *
 * The handshake runs before the protocol above hears anything: the
 * stream calls ready(s) when it is complete, with s->proto set from ALPN,
 * and ready attaches the protocol (s->cbs, s->ctx). A handshake that fails
 * or times out closes the TCP connection (after the alert, if any) and is
 * counted; the stream is then freed, after s->cbs->on_close if cbs was
 * set at accept or connect.
 *
 * Plaintext follows pg_stream's rules exactly. Errors after the handshake
 * (a bad record, a fatal alert) end the stream with on_close(PG_TCP_RESET).
 *
 * The TCP callbacks of a TLS connection's listener (or connect) must hand
 * on to the stream: PG_TLS_FORWARDERS in their initializer, beside
 * on_accept or on_connected.
 */
#ifndef PG_TLS_H
#define PG_TLS_H

#include <stdint.h>

#include <rte_common.h>

#include <openssl/ssl.h>

#include "net/pg_stream.h"
#include "net/pg_tcp.h"

struct pg_tls_ctx;

/* --- configuration ------------------------------------------------------- */

/*
 * One certificate. The settings marked "ctx" apply to the whole context
 * and are read from the first entry (the default certificate).
 */
struct pg_tls_conf {
	const char *cert_file;       /* PEM: certificate then chain */
	const char *key_file;        /* PEM private key */
	/* Comma-separated names SNI selects this entry for ("*.x.test"
	 * matches one label). NULL: the names in the certificate. */
	const char *server_names;
	/* ALPN protocols in order of preference, comma-separated. NULL:
	 * "h2,http/1.1". A client offering ALPN but none of these fails. */
	const char *alpn;
	uint16_t min_version;        /* ctx; TLS1_2_VERSION when 0 */
	uint16_t max_version;        /* ctx; 0: the newest (TLS 1.3) */
	uint8_t session_tickets;     /* ctx; 1: issue and accept tickets */
	uint32_t ticket_rotate_s;    /* ctx; a new ticket key this often */
	uint32_t handshake_timeout_ms; /* ctx */
	/* ctx; PG_TLS_SECRET_LEN bytes the ticket keys derive from, shared
	 * by every worker of a server (NULL: random, this context only). */
	const uint8_t *ticket_secret;
};

#define PG_TLS_SECRET_LEN 32

/* Defaults: TLS 1.2 and up, tickets on, keys rotated hourly, 10 s. */
void pg_tls_conf_default(struct pg_tls_conf *conf);

/*
 * A server context with n certificates (n >= 1), the first the default
 * when SNI names none of them. NULL on failure, *err says why (a file
 * that would not load, a key that does not match its certificate).
 */
struct pg_tls_ctx *pg_tls_ctx_new(const struct pg_tls_conf *certs,
				  unsigned n, const char **err);

/* What a client context checks and offers. */
struct pg_tls_client_conf {
	const char *ca_file;         /* PEM roots; NULL: the system's */
	uint8_t verify;              /* 1: fail unless the chain and name verify */
	uint16_t min_version;        /* TLS1_2_VERSION when 0 */
	uint16_t max_version;        /* 0: the newest */
	uint32_t handshake_timeout_ms; /* 10 s when 0 */
};

struct pg_tls_ctx *pg_tls_ctx_client(const struct pg_tls_client_conf *conf,
				     const char **err);

/* Free the context; its streams must be gone. */
void pg_tls_ctx_free(struct pg_tls_ctx *ctx);

/*
 * Close the handshakes that timed out at now_ns and rotate ticket keys.
 * Call once per loop pass (or when pg_tls_ctx_next_timer says). Returns
 * how many handshakes it closed.
 */
unsigned pg_tls_ctx_poll(struct pg_tls_ctx *ctx, uint64_t now_ns);

/* When the oldest handshake times out (UINT64_MAX: none): for sims. */
uint64_t pg_tls_ctx_next_timer(const struct pg_tls_ctx *ctx);

/* --- counters ------------------------------------------------------------ */

#define PG_TLS_COUNTERS(X)                                                   \
	X(handshakes,       "handshakes completed")                          \
	X(resumed,          "of which resumed from a session ticket")        \
	X(tls13,            "of which TLS 1.3")                              \
	X(alpn_h2,          "ALPN chose h2")                                 \
	X(alpn_http1,       "ALPN chose http/1.1")                           \
	X(alpn_none,        "no ALPN (HTTP/1.1 assumed)")                    \
	X(fail_garbage,     "handshake failed: not TLS, or a malformed "     \
			    "record or message")                             \
	X(fail_version,     "handshake failed: no protocol version in "      \
			    "common")                                        \
	X(fail_cipher,      "handshake failed: no cipher, group or "         \
			    "signature in common")                           \
	X(fail_alpn,        "handshake failed: no ALPN protocol in common")  \
	X(fail_cert,        "handshake failed: certificate refused")         \
	X(fail_timeout,     "handshake failed: not complete in time")        \
	X(fail_closed,      "handshake failed: the peer closed or reset")    \
	X(fail_other,       "handshake failed: another reason")              \
	X(record_errors,    "fatal errors after the handshake (bad record, " \
			    "alert)")                                        \
	X(close_notify_sent, "close_notify sent")                            \
	X(close_notify_recv, "close_notify received")                        \
	X(truncated,        "the peer closed TCP without close_notify")      \
	X(nomem,            "mbufs or OpenSSL memory ran out")               \
	X(bytes_in,         "plaintext bytes received")                      \
	X(bytes_out,        "plaintext bytes sent")

enum pg_tls_counter {
#define PG_TLS_COUNTER_ENUM(name, text) PG_TLS_C_##name,
	PG_TLS_COUNTERS(PG_TLS_COUNTER_ENUM)
#undef PG_TLS_COUNTER_ENUM
	PG_TLS_C_MAX
};

struct pg_tls_stats {
#define PG_TLS_COUNTER_FIELD(name, text) uint64_t name;
	PG_TLS_COUNTERS(PG_TLS_COUNTER_FIELD)
#undef PG_TLS_COUNTER_FIELD
} __rte_cache_aligned;

extern const char *const pg_tls_counter_names[PG_TLS_C_MAX];
extern const char *const pg_tls_counter_texts[PG_TLS_C_MAX];

/* Count into stats (the worker's, in shared memory) instead of the ctx's. */
void pg_tls_ctx_set_stats(struct pg_tls_ctx *ctx, struct pg_tls_stats *stats);
const struct pg_tls_stats *pg_tls_ctx_stats(const struct pg_tls_ctx *ctx);

/* --- streams ------------------------------------------------------------- */

/*
 * The handshake of s completed (s->proto, s->tls set). Attach the protocol
 * (s->cbs, s->ctx) and return PG_OK; anything else closes the stream and
 * frees it with no further callback.
 */
typedef int (*pg_tls_ready_fn)(struct pg_stream *s);

/*
 * The server side of TLS on c, an accepted connection (call it from the
 * listener's on_accept); c's context becomes the stream. s->ctx is arg
 * until ready replaces it. NULL when memory ran out (refuse c).
 */
struct pg_stream *pg_tls_accept(struct pg_tls_ctx *ctx, struct pg_tcp_conn *c,
				pg_tls_ready_fn ready, void *arg);

/* Free a stream nobody took, inside on_accept that then refuses c. */
void pg_tls_drop(struct pg_stream *s);

/* What a client asks for. */
struct pg_tls_peer {
	const char *sni;             /* server name sent and verified; NULL: none */
	const char *alpn;            /* comma-separated; NULL: no ALPN */
	SSL_SESSION *session;        /* resume it (borrowed); NULL: full */
};

/*
 * The client side on c, just opened with pg_tcp_connect: the ClientHello
 * is queued at once. NULL on failure (*err says why): c is then closed,
 * forget it.
 */
struct pg_stream *pg_tls_connect(struct pg_tls_ctx *ctx, struct pg_tcp_conn *c,
				 const struct pg_tls_peer *peer,
				 pg_tls_ready_fn ready, void *arg,
				 const char **err);

int pg_tls_tcp_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m);
void pg_tls_tcp_on_eof(struct pg_tcp_conn *c);
void pg_tls_tcp_on_writable(struct pg_tcp_conn *c);
void pg_tls_tcp_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why);

#define PG_TLS_FORWARDERS                                                   \
	.on_data = pg_tls_tcp_on_data, .on_eof = pg_tls_tcp_on_eof,         \
	.on_writable = pg_tls_tcp_on_writable,                              \
	.on_close = pg_tls_tcp_on_close

/*
 * The OpenSSL connection under s, to inspect (version, cipher, peer
 * certificate, SSL_get1_session for a later pg_tls_peer.session). Do not
 * read or write through it.
 */
SSL *pg_tls_ssl(const struct pg_stream *s);

#endif
