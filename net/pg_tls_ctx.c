/*
 * TLS contexts: one SSL_CTX per certificate, SNI choosing among them,
 * ALPN by the server's preference, and session tickets sealed with keys
 * that rotate on the caller's clock.
 *
 * Ticket keys are not random each: key k is derived (HMAC-SHA512) from a
 * random secret drawn when the context is made and from k, the number of
 * the rotation period. Workers forked after the context was made hold the
 * same secret, so they derive the same keys at the same time without
 * sharing memory: a ticket one worker sealed resumes on any other. A
 * ticket is accepted while its key is among the PG_TLS_TICKET_KEYS
 * newest, and renewed when its key is no longer the current one.
 *
 * OCSP stapling is not done: it needs responses fetched from the CA's
 * responder and refreshed, which belongs with a control-plane task, not
 * here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/pg_core.h"
#include "net/pg_tls_priv.h"

#define PG_TLS_NS_PER_S UINT64_C(1000000000)

/* TLS 1.3 suites, then ECDHE with an AEAD for TLS 1.2. */
static const char pg_tls_suites13[] =
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	"TLS_CHACHA20_POLY1305_SHA256";
static const char pg_tls_ciphers12[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char pg_tls_groups[] = "X25519:P-256:P-384";
static const unsigned char pg_tls_sid_ctx[] = "perigee";

const char *const pg_tls_counter_names[PG_TLS_C_MAX] = {
#define PG_TLS_COUNTER_NAME(name, text) #name,
	PG_TLS_COUNTERS(PG_TLS_COUNTER_NAME)
#undef PG_TLS_COUNTER_NAME
};

const char *const pg_tls_counter_texts[PG_TLS_C_MAX] = {
#define PG_TLS_COUNTER_TEXT(name, text) text,
	PG_TLS_COUNTERS(PG_TLS_COUNTER_TEXT)
#undef PG_TLS_COUNTER_TEXT
};

void
pg_tls_conf_default(struct pg_tls_conf *conf)
{
	*conf = (struct pg_tls_conf){
		.min_version = TLS1_2_VERSION,
		.session_tickets = 1,
		.ticket_rotate_s = 3600,
		.handshake_timeout_ms = 10000,
	};
}

int
pg_tls_alpn_wire(const char *list, uint8_t *out, unsigned *len)
{
	unsigned n = 0;

	while (*list != '\0') {
		size_t k = strcspn(list, ",");
		if (k == 0 || k > 255 || n + 1 + k > PG_TLS_ALPN_MAX)
			return PG_ERROR;
		out[n++] = (uint8_t)k;
		memcpy(out + n, list, k);
		n += (unsigned)k;
		list += k + (list[k] == ',');
	}
	*len = n;
	return PG_OK;
}

/* --- ticket keys --------------------------------------------------------- */

static void
pg_tls_derive(const struct pg_tls_ctx *ctx, const char *label,
	      uint64_t period, uint8_t *out, const EVP_MD *md)
{
	uint8_t in[32];
	size_t k = strlen(label);
	unsigned outlen;

	memcpy(in, label, k);
	for (unsigned i = 0; i < 8; i++)
		in[k + i] = (uint8_t)(period >> (56 - 8 * i));
	HMAC(md, ctx->secret, sizeof(ctx->secret), in, k + 8, out, &outlen);
}

static void
pg_tls_key_derive(const struct pg_tls_ctx *ctx, uint64_t period,
		  struct pg_tls_ticket_key *key)
{
	uint8_t buf[64];

	pg_tls_derive(ctx, "perigee ticket key", period, buf, EVP_sha512());
	memcpy(key->aes, buf, sizeof(key->aes));
	memcpy(key->hmac, buf + sizeof(key->aes), sizeof(key->hmac));
	for (unsigned i = 0; i < 8; i++)
		key->name[i] = (uint8_t)(period >> (56 - 8 * i));
	pg_tls_derive(ctx, "perigee ticket name", period, buf, EVP_sha256());
	memcpy(key->name + 8, buf, 8);
	OPENSSL_cleanse(buf, sizeof(buf));
}

void
pg_tls_ctx_clock(struct pg_tls_ctx *ctx, uint64_t now_ns)
{
	uint64_t period;

	if (!ctx->tickets || (period = now_ns / ctx->rotate_ns) == ctx->period)
		return;
	ctx->period = period;
	for (unsigned i = 0; i < PG_TLS_TICKET_KEYS; i++)
		pg_tls_key_derive(ctx, period - i, &ctx->keys[i]);
}

/* The key named name, and how many periods old it is (-1: none). */
static int
pg_tls_key_find(const struct pg_tls_ctx *ctx, const uint8_t *name)
{
	uint64_t period = 0;

	for (unsigned i = 0; i < 8; i++)
		period = period << 8 | name[i];
	if (period > ctx->period || ctx->period - period >= PG_TLS_TICKET_KEYS)
		return -1;
	unsigned age = (unsigned)(ctx->period - period);
	return memcmp(ctx->keys[age].name, name, 16) == 0 ? (int)age : -1;
}

/*
 * OpenSSL's ticket callback: seal with the current key (enc), or open with
 * the key the ticket names: 1 accepts it, 2 accepts it and issues a new
 * one, 0 refuses it (a full handshake follows), -1 fails the handshake.
 */
static int
pg_tls_ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
		 EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct pg_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const struct pg_tls_ticket_key *key = &ctx->keys[0];
	int age = 0;

	if (enc) {
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			return -1;
		memcpy(name, key->name, sizeof(key->name));
	} else {
		age = pg_tls_key_find(ctx, name);
		if (age < 0)
			return 0;
		key = &ctx->keys[age];
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
						  (void *)key->hmac,
						  sizeof(key->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, key->aes, iv,
			      enc) != 1
	    || EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	return age == 0 ? 1 : 2;
}

/* --- SNI and ALPN -------------------------------------------------------- */

/* Does name match pattern ("*.x.test" stands for one label)? */
static int
pg_tls_name_match(const char *pattern, size_t plen, const char *name)
{
	size_t nlen = strlen(name);

	if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(name, '.');
		if (dot == NULL || dot == name)
			return 0;
		pattern++;
		plen--;
		nlen -= (size_t)(dot - name);
		name = dot;
	}
	return plen == nlen && strncasecmp(pattern, name, plen) == 0;
}

static int
pg_tls_cert_serves(const struct pg_tls_cert *c, const char *name)
{
	if (c->names == NULL)
		return X509_check_host(SSL_CTX_get0_certificate(c->ssl), name,
				       0, 0, NULL) == 1;
	for (const char *p = c->names; *p != '\0';) {
		size_t k = strcspn(p, ",");
		if (pg_tls_name_match(p, k, name))
			return 1;
		p += k + (p[k] == ',');
	}
	return 0;
}

/* SNI: the first certificate serving the name; the default otherwise. */
static int
pg_tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct pg_tls_ctx *ctx = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (unsigned i = 0; i < ctx->n; i++)
		if (pg_tls_cert_serves(&ctx->certs[i], name)) {
			if (i > 0 && SSL_set_SSL_CTX(ssl, ctx->certs[i].ssl) == NULL)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: the first of the server's protocols the client offers. */
static int
pg_tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	       const unsigned char *in, unsigned int inlen, void *arg)
{
	struct pg_tls_cert *c = arg;
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, c->alpn, c->alpn_len, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* --- contexts ------------------------------------------------------------ */

/* What every SSL_CTX of ours has, server or client. */
static int
pg_tls_ssl_ctx_common(SSL_CTX *s, struct pg_tls_ctx *ctx, uint16_t min,
		      uint16_t max, const char **err)
{
	SSL_CTX_set_app_data(s, ctx);
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION
			    | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(s, 1);
	if (SSL_CTX_set_min_proto_version(s, min != 0 ? min : TLS1_2_VERSION)
	    != 1 || SSL_CTX_set_max_proto_version(s, max) != 1) {
		*err = "unsupported TLS version bound (TLS 1.2 or 1.3 expected)";
		return PG_ERROR;
	}
	if (SSL_CTX_set_ciphersuites(s, pg_tls_suites13) != 1
	    || SSL_CTX_set_cipher_list(s, pg_tls_ciphers12) != 1
	    || SSL_CTX_set1_groups_list(s, pg_tls_groups) != 1) {
		*err = "OpenSSL refused the cipher or group list";
		return PG_ERROR;
	}
	return PG_OK;
}

static struct pg_tls_ctx *
pg_tls_ctx_alloc(unsigned n, uint32_t timeout_ms)
{
	struct pg_tls_ctx *ctx;

	/* aligned: the counters are a cache-aligned block */
	if (posix_memalign((void **)&ctx, RTE_CACHE_LINE_SIZE, sizeof(*ctx)))
		return NULL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->certs = calloc(n, sizeof(*ctx->certs));
	if (ctx->certs == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->n = n;
	ctx->stats = &ctx->own_stats;
	ctx->period = UINT64_MAX;
	ctx->hs_timeout_ns = (uint64_t)(timeout_ms != 0 ? timeout_ms : 10000)
			     * (PG_TLS_NS_PER_S / 1000);
	return ctx;
}

/* Load one certificate entry into c; ctx-wide settings come from conf. */
static int
pg_tls_cert_load(struct pg_tls_ctx *ctx, struct pg_tls_cert *c,
		 const struct pg_tls_conf *conf, const struct pg_tls_conf *def,
		 const char **err)
{
	c->ssl = SSL_CTX_new(TLS_server_method());
	if (c->ssl == NULL) {
		*err = "out of memory for an SSL_CTX";
		return PG_ERROR;
	}
	if (pg_tls_ssl_ctx_common(c->ssl, ctx, def->min_version,
				  def->max_version, err) != PG_OK)
		return PG_ERROR;
	if (conf->cert_file == NULL || conf->key_file == NULL) {
		*err = "a TLS certificate needs both cert and key files";
		return PG_ERROR;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ssl, conf->cert_file) != 1) {
		*err = "cannot load the certificate file (PEM expected)";
		return PG_ERROR;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl, conf->key_file,
					SSL_FILETYPE_PEM) != 1) {
		int r = ERR_GET_REASON(ERR_peek_last_error());
		*err = r == X509_R_KEY_VALUES_MISMATCH
		       || r == X509_R_KEY_TYPE_MISMATCH
		       ? "the private key does not match the certificate"
		       : "cannot load the private key file (PEM expected)";
		return PG_ERROR;
	}
	if (SSL_CTX_check_private_key(c->ssl) != 1) {
		*err = "the private key does not match the certificate";
		return PG_ERROR;
	}
	if (pg_tls_alpn_wire(conf->alpn != NULL ? conf->alpn : "h2,http/1.1",
			     c->alpn, &c->alpn_len) != PG_OK) {
		*err = "bad ALPN list (comma-separated names, 64 bytes at most)";
		return PG_ERROR;
	}
	if (conf->server_names != NULL
	    && (c->names = strdup(conf->server_names)) == NULL) {
		*err = "out of memory for server names";
		return PG_ERROR;
	}
	SSL_CTX_set_alpn_select_cb(c->ssl, pg_tls_alpn_cb, c);
	SSL_CTX_set_session_id_context(c->ssl, pg_tls_sid_ctx,
				       sizeof(pg_tls_sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
	if (!def->session_tickets) {
		SSL_CTX_set_options(c->ssl, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(c->ssl, 0);
		return PG_OK;
	}
	/* Sessions live as long as the keys that seal their tickets. */
	SSL_CTX_set_timeout(c->ssl, (long)(ctx->rotate_ns / PG_TLS_NS_PER_S)
				    * (PG_TLS_TICKET_KEYS - 1));
	SSL_CTX_set_tlsext_ticket_key_evp_cb(c->ssl, pg_tls_ticket_cb);
	return PG_OK;
}

struct pg_tls_ctx *
pg_tls_ctx_new(const struct pg_tls_conf *certs, unsigned n, const char **err)
{
	struct pg_tls_ctx *ctx;

	if (n == 0) {
		*err = "a TLS context needs at least one certificate";
		return NULL;
	}
	ctx = pg_tls_ctx_alloc(n, certs[0].handshake_timeout_ms);
	if (ctx == NULL) {
		*err = "out of memory for a TLS context";
		return NULL;
	}
	ctx->tickets = certs[0].session_tickets;
	ctx->rotate_ns = (uint64_t)(certs[0].ticket_rotate_s != 0
				    ? certs[0].ticket_rotate_s : 3600)
			 * PG_TLS_NS_PER_S;
	if (certs[0].ticket_secret != NULL)
		memcpy(ctx->secret, certs[0].ticket_secret,
		       sizeof(ctx->secret));
	else if (RAND_bytes(ctx->secret, sizeof(ctx->secret)) != 1) {
		*err = "no randomness for the ticket key secret";
		goto fail;
	}
	for (unsigned i = 0; i < n; i++)
		if (pg_tls_cert_load(ctx, &ctx->certs[i], &certs[i], &certs[0],
				     err) != PG_OK)
			goto fail;
	SSL_CTX_set_tlsext_servername_callback(ctx->certs[0].ssl,
					       pg_tls_servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx->certs[0].ssl, ctx);
	return ctx;
fail:
	ERR_clear_error();
	pg_tls_ctx_free(ctx);
	return NULL;
}

struct pg_tls_ctx *
pg_tls_ctx_client(const struct pg_tls_client_conf *conf, const char **err)
{
	struct pg_tls_ctx *ctx = pg_tls_ctx_alloc(1, conf->handshake_timeout_ms);
	SSL_CTX *s;

	if (ctx == NULL || (s = SSL_CTX_new(TLS_client_method())) == NULL) {
		*err = "out of memory for a TLS client context";
		goto fail;
	}
	ctx->client = 1;
	ctx->certs[0].ssl = s;
	if (pg_tls_ssl_ctx_common(s, ctx, conf->min_version, conf->max_version,
				  err) != PG_OK)
		goto fail;
	if (!conf->verify)
		return ctx;
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
	if ((conf->ca_file != NULL
	     ? SSL_CTX_load_verify_file(s, conf->ca_file)
	     : SSL_CTX_set_default_verify_paths(s)) != 1) {
		*err = "cannot load the CA certificates to verify servers with";
		goto fail;
	}
	return ctx;
fail:
	ERR_clear_error();
	pg_tls_ctx_free(ctx);
	return NULL;
}

void
pg_tls_ctx_free(struct pg_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	for (unsigned i = 0; i < ctx->n; i++) {
		SSL_CTX_free(ctx->certs[i].ssl);
		free(ctx->certs[i].names);
	}
	free(ctx->certs);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

void
pg_tls_ctx_set_stats(struct pg_tls_ctx *ctx, struct pg_tls_stats *stats)
{
	ctx->stats = stats != NULL ? stats : &ctx->own_stats;
}

const struct pg_tls_stats *
pg_tls_ctx_stats(const struct pg_tls_ctx *ctx)
{
	return ctx->stats;
}
