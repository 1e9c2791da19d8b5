/*
 * What net/pg_tls_ctx.c (contexts: certificates, SNI, ALPN, ticket keys)
 * and net/pg_tls.c (streams: the BIO, handshake, records) share.
 */
#ifndef PG_TLS_PRIV_H
#define PG_TLS_PRIV_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "net/pg_tls.h"

/* ALPN in wire format (length-prefixed names) fits in this. */
#define PG_TLS_ALPN_MAX     64
/* Ticket keys that still decrypt: the current one and two before it. */
#define PG_TLS_TICKET_KEYS  3

struct pg_tls_stream;

/* One certificate with what SNI and ALPN need to pick it and speak. */
struct pg_tls_cert {
	SSL_CTX *ssl;
	char *names;                 /* conf's server_names; NULL: the cert's */
	uint8_t alpn[PG_TLS_ALPN_MAX];
	unsigned alpn_len;
};

/* The name of a key, its period in clear: a ticket says which key sealed it. */
struct pg_tls_ticket_key {
	uint8_t name[16];            /* big-endian period, then 8 derived bytes */
	uint8_t aes[32];             /* AES-256-CBC */
	uint8_t hmac[32];            /* HMAC-SHA256 */
};

struct pg_tls_ctx {
	struct pg_tls_cert *certs;   /* [0]: the default; one for a client */
	unsigned n;
	uint8_t client;
	uint8_t tickets;
	uint64_t hs_timeout_ns;
	uint64_t rotate_ns;
	/* keys[i] belongs to period - i; period UINT64_MAX: none derived yet */
	uint64_t period;
	struct pg_tls_ticket_key keys[PG_TLS_TICKET_KEYS];
	uint8_t secret[PG_TLS_SECRET_LEN]; /* every ticket key derives from it */
	/* streams in their handshake, oldest (first to time out) first */
	struct pg_tls_stream *hs_head, *hs_tail;
	struct pg_tls_stats *stats;
	struct pg_tls_stats own_stats;
};

/* Derive the ticket keys of the period now_ns falls in, if it changed. */
void pg_tls_ctx_clock(struct pg_tls_ctx *ctx, uint64_t now_ns);

/*
 * Encode the comma-separated list into wire format. PG_OK, or PG_ERROR
 * when a name is empty, over 255 bytes or the whole over PG_TLS_ALPN_MAX.
 */
int pg_tls_alpn_wire(const char *list, uint8_t *out, unsigned *len);

#define PG_TLS_COUNT(ctx, name) ((ctx)->stats->name++)

#endif
