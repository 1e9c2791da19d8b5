/*
 * TLS streams: OpenSSL over a userspace TCP connection, through a BIO of
 * ours that reads the received mbufs and writes into new ones.
 *
 *   TCP on_data -> pg_tls_tcp_data: the chain joins rx
 *     -> pg_tls_handshake (SSL_do_handshake; the BIO's read callback copies
 *        from rx, its write callback fills tx) -> pg_tls_established -> ready
 *     -> pg_tls_deliver -> pg_tls_read (SSL_read_ex into new mbufs)
 *        -> cbs->on_data
 *   pg_stream_send/write -> pg_tls_encrypt (SSL_write_ex) -> tx
 *   after each OpenSSL call: pg_tls_flush -> pg_tcp_send(tx)
 *   pg_tls_ctx_poll -> handshakes past their deadline -> pg_tls_fail
 *
 * Every entry (a TCP callback, an operation, a timeout) holds the stream:
 * the protocol may close it from any callback, and it is freed when the
 * outermost entry returns.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/pg_core.h"
#include "net/pg_mbuf.h"
#include "net/pg_netif.h"
#include "net/pg_tls_priv.h"

/* Plaintext handed to the protocol in one on_data, at most. */
#define PG_TLS_READ_MAX (64u << 10)

enum pg_tls_state {
	PG_TLS_HANDSHAKE,
	PG_TLS_OPEN,
	PG_TLS_DEAD,                 /* freed when the last entry returns */
};

/* How reading ended (0: it did not, more may come). */
enum pg_tls_rend {
	PG_TLS_R_MORE,
	PG_TLS_R_NOTIFY,             /* close_notify */
	PG_TLS_R_EOF,                /* TCP FIN without close_notify */
	PG_TLS_R_ERROR,
};

#define PG_TLS_F_FIN       0x001 /* TCP delivered the peer's FIN */
#define PG_TLS_F_EOF_READ  0x002 /* the BIO told OpenSSL: end of input */
#define PG_TLS_F_EOF_DONE  0x004 /* on_eof was called */
#define PG_TLS_F_BLOCKED   0x008 /* the protocol refused held */
#define PG_TLS_F_READING   0x010 /* pg_tls_deliver is under way */
#define PG_TLS_F_RESUMED   0x020 /* recv_resume came during on_data */
#define PG_TLS_F_TCP_HELD  0x040 /* TCP data refused: resume TCP too */
#define PG_TLS_F_NOMEM     0x080 /* the BIO could not allocate */
#define PG_TLS_F_BROKEN    0x100 /* a write failed: nothing more goes out */

struct pg_tls_stream {
	struct pg_stream st;         /* first: a pg_stream * is one of these */
	struct pg_tls_ctx *ctx;
	SSL *ssl;
	struct pg_netif *nif;        /* mbuf pool, holder tag, clock */
	pg_tls_ready_fn ready;
	struct rte_mbuf *rx, *rx_tail; /* ciphertext OpenSSL has not read */
	struct rte_mbuf *tx, *tx_tail; /* records not handed to TCP yet */
	struct rte_mbuf *held;       /* plaintext the protocol refused */
	struct pg_tls_stream *hs_next, *hs_prev; /* ctx's handshake list */
	uint64_t hs_deadline;
	uint32_t depth;              /* entries under way */
	uint16_t flags;
	uint8_t state;               /* enum pg_tls_state */
	uint8_t rend;                /* enum pg_tls_rend */
};

static const struct pg_stream_ops pg_tls_ops;

static void
pg_tls_count(struct pg_tls_ctx *ctx, enum pg_tls_counter c)
{
	((uint64_t *)ctx->stats)[c]++;
}

/* --- the BIO ------------------------------------------------------------- */

/* Drop c bytes from the front of rx (c: at most its first segment's). */
static void
pg_tls_rx_drop(struct pg_tls_stream *t, uint16_t c)
{
	struct rte_mbuf *m = t->rx, *next = m->next;

	if (c < m->data_len) {
		rte_pktmbuf_adj(m, c);
		return;
	}
	if (next != NULL) {
		next->nb_segs = (uint16_t)(m->nb_segs - 1);
		next->pkt_len = m->pkt_len - m->data_len;
	} else {
		t->rx_tail = NULL;
	}
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	pg_mbuf_free(m);
	t->rx = next;
}

static int
pg_tls_bio_read(BIO *b, char *buf, size_t len, size_t *n)
{
	struct pg_tls_stream *t = BIO_get_data(b);
	size_t k = 0;

	BIO_clear_retry_flags(b);
	while (k < len && t->rx != NULL) {
		uint16_t c = (uint16_t)RTE_MIN(len - k, (size_t)t->rx->data_len);
		memcpy(buf + k, rte_pktmbuf_mtod(t->rx, char *), c);
		k += c;
		pg_tls_rx_drop(t, c);
	}
	*n = k;
	if (k > 0)
		return 1;
	if (t->flags & PG_TLS_F_FIN)
		t->flags |= PG_TLS_F_EOF_READ;
	else
		BIO_set_retry_read(b);
	return 0;
}

/* Records go into mbufs, the last one filled before a new one is taken. */
static int
pg_tls_bio_write(BIO *b, const char *buf, size_t len, size_t *n)
{
	struct pg_tls_stream *t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	for (size_t done = 0; done < len;) {
		struct rte_mbuf *m = t->tx_tail;
		if (m == NULL || rte_pktmbuf_tailroom(m) == 0) {
			m = pg_mbuf_alloc(t->nif->pool, t->nif->holder);
			if (m == NULL) {
				t->flags |= PG_TLS_F_NOMEM;
				return 0;
			}
			pg_mbuf_chain_add(&t->tx, &t->tx_tail, m);
		}
		uint16_t k = (uint16_t)RTE_MIN(len - done,
					       (size_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod_offset(m, char *, m->data_len),
		       buf + done, k);
		m->data_len = (uint16_t)(m->data_len + k);
		t->tx->pkt_len += k;
		done += k;
	}
	*n = len;
	return 1;
}

static long
pg_tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	const struct pg_tls_stream *t = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return (t->flags & PG_TLS_F_FIN) && t->rx == NULL;
	default:
		return 0;
	}
}

static BIO_METHOD *
pg_tls_bio_method(void)
{
	static BIO_METHOD *meth;
	BIO_METHOD *m;

	if (meth != NULL)
		return meth;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			 "perigee tcp");
	if (m == NULL || BIO_meth_set_read_ex(m, pg_tls_bio_read) != 1
	    || BIO_meth_set_write_ex(m, pg_tls_bio_write) != 1
	    || BIO_meth_set_ctrl(m, pg_tls_bio_ctrl) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	meth = m;
	return meth;
}

/* Hand the records OpenSSL wrote to TCP. */
static void
pg_tls_flush(struct pg_tls_stream *t)
{
	struct rte_mbuf *m = t->tx;

	if (m == NULL)
		return;
	t->tx = t->tx_tail = NULL;
	if (t->st.tcp != NULL)
		pg_tcp_send(t->st.tcp, m);
	else
		pg_mbuf_free(m);
}

/* --- life and death ------------------------------------------------------ */

static void
pg_tls_hs_unlink(struct pg_tls_stream *t)
{
	struct pg_tls_ctx *ctx = t->ctx;

	if (t->hs_prev != NULL)
		t->hs_prev->hs_next = t->hs_next;
	else
		ctx->hs_head = t->hs_next;
	if (t->hs_next != NULL)
		t->hs_next->hs_prev = t->hs_prev;
	else
		ctx->hs_tail = t->hs_prev;
	t->hs_next = t->hs_prev = NULL;
}

static void
pg_tls_free(struct pg_tls_stream *t)
{
	SSL_free(t->ssl);
	pg_mbuf_free(t->rx);
	pg_mbuf_free(t->tx);
	pg_mbuf_free(t->held);
	free(t);
}

static void
pg_tls_hold(struct pg_tls_stream *t)
{
	t->depth++;
}

static void
pg_tls_release(struct pg_tls_stream *t)
{
	if (--t->depth == 0 && t->state == PG_TLS_DEAD)
		pg_tls_free(t);
}

/* Let go of TCP through fn (pg_tcp_close or pg_tcp_abort); t is dead. */
static void
pg_tls_detach(struct pg_tls_stream *t, void (*fn)(struct pg_tcp_conn *))
{
	struct pg_tcp_conn *c = t->st.tcp;

	t->st.tcp = NULL;
	if (c != NULL)
		fn(c);
	if (t->state == PG_TLS_HANDSHAKE)
		pg_tls_hs_unlink(t);
	t->state = PG_TLS_DEAD;
}

/* The stream ended under the protocol: close TCP, tell the protocol. */
static void
pg_tls_end(struct pg_tls_stream *t, enum pg_tcp_reason why)
{
	pg_tls_detach(t, pg_tcp_close);
	t->st.dying = 1;
	if (t->st.cbs != NULL && t->st.cbs->on_close != NULL)
		t->st.cbs->on_close(&t->st, why);
}

/* A fatal error: count it, send the alert OpenSSL wrote, end. */
static void
pg_tls_fail(struct pg_tls_stream *t, enum pg_tls_counter c,
	    enum pg_tcp_reason why)
{
	ERR_clear_error();
	pg_tls_count(t->ctx, c);
	pg_tls_flush(t);
	pg_tls_end(t, why);
}

/* Send close_notify once, if the connection can still speak. */
static void
pg_tls_close_notify(struct pg_tls_stream *t)
{
	if (t->state != PG_TLS_OPEN || (t->flags & PG_TLS_F_BROKEN)
	    || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		return;
	ERR_clear_error();
	if (SSL_shutdown(t->ssl) >= 0)
		pg_tls_count(t->ctx, PG_TLS_C_close_notify_sent);
	ERR_clear_error();
	pg_tls_flush(t);
}

/* --- handshake ----------------------------------------------------------- */

/* OpenSSL's reasons, by class of handshake failure. */
static const struct {
	int reason;
	enum pg_tls_counter counter;
} pg_tls_failures[] = {
	{ SSL_R_WRONG_VERSION_NUMBER,          PG_TLS_C_fail_garbage },
	{ SSL_R_HTTP_REQUEST,                  PG_TLS_C_fail_garbage },
	{ SSL_R_HTTPS_PROXY_REQUEST,           PG_TLS_C_fail_garbage },
	{ SSL_R_PACKET_LENGTH_TOO_LONG,        PG_TLS_C_fail_garbage },
	{ SSL_R_RECORD_LENGTH_MISMATCH,        PG_TLS_C_fail_garbage },
	{ SSL_R_LENGTH_MISMATCH,               PG_TLS_C_fail_garbage },
	{ SSL_R_BAD_RECORD_TYPE,               PG_TLS_C_fail_garbage },
	{ SSL_R_UNEXPECTED_RECORD,             PG_TLS_C_fail_garbage },
	{ SSL_R_UNEXPECTED_MESSAGE,            PG_TLS_C_fail_garbage },
	{ SSL_R_UNSUPPORTED_PROTOCOL,          PG_TLS_C_fail_version },
	{ SSL_R_VERSION_TOO_LOW,               PG_TLS_C_fail_version },
	{ SSL_R_NO_PROTOCOLS_AVAILABLE,        PG_TLS_C_fail_version },
	{ SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,  PG_TLS_C_fail_version },
	{ SSL_R_NO_SHARED_CIPHER,              PG_TLS_C_fail_cipher },
	{ SSL_R_NO_SHARED_GROUPS,              PG_TLS_C_fail_cipher },
	{ SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM, PG_TLS_C_fail_cipher },
	{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, PG_TLS_C_fail_cipher },
	{ SSL_R_NO_APPLICATION_PROTOCOL,       PG_TLS_C_fail_alpn },
	{ SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, PG_TLS_C_fail_alpn },
	{ SSL_R_CERTIFICATE_VERIFY_FAILED,     PG_TLS_C_fail_cert },
	{ SSL_R_TLSV1_ALERT_UNKNOWN_CA,        PG_TLS_C_fail_cert },
	{ SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,   PG_TLS_C_fail_cert },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, PG_TLS_C_fail_cert },
};

static enum pg_tls_counter
pg_tls_failure(const struct pg_tls_stream *t)
{
	unsigned long e = ERR_peek_error();

	if (t->flags & PG_TLS_F_NOMEM)
		return PG_TLS_C_nomem;
	if (t->flags & PG_TLS_F_EOF_READ)
		return PG_TLS_C_fail_closed;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL)
		for (unsigned i = 0; i < PG_ARRAY_SIZE(pg_tls_failures); i++)
			if (pg_tls_failures[i].reason == ERR_GET_REASON(e))
				return pg_tls_failures[i].counter;
	return PG_TLS_C_fail_other;
}

/* ALPN names we know, what they make of the stream. */
static const struct {
	const char *name;
	uint8_t proto;
	enum pg_tls_counter counter;
} pg_tls_protos[] = {
	{ "h2",       PG_PROTO_HTTP2, PG_TLS_C_alpn_h2 },
	{ "http/1.1", PG_PROTO_HTTP1, PG_TLS_C_alpn_http1 },
};

static void
pg_tls_set_proto(struct pg_tls_stream *t)
{
	const unsigned char *alpn;
	unsigned len;

	SSL_get0_alpn_selected(t->ssl, &alpn, &len);
	if (len == 0) {
		t->st.proto = PG_PROTO_HTTP1;
		pg_tls_count(t->ctx, PG_TLS_C_alpn_none);
		return;
	}
	t->st.proto = PG_PROTO_UNKNOWN;
	for (unsigned i = 0; i < PG_ARRAY_SIZE(pg_tls_protos); i++)
		if (strlen(pg_tls_protos[i].name) == len
		    && memcmp(pg_tls_protos[i].name, alpn, len) == 0) {
			t->st.proto = pg_tls_protos[i].proto;
			pg_tls_count(t->ctx, pg_tls_protos[i].counter);
		}
}

static void pg_tls_deliver(struct pg_tls_stream *t);

static void
pg_tls_established(struct pg_tls_stream *t)
{
	pg_tls_hs_unlink(t);
	t->state = PG_TLS_OPEN;
	pg_tls_set_proto(t);
	pg_tls_count(t->ctx, PG_TLS_C_handshakes);
	if (SSL_session_reused(t->ssl))
		pg_tls_count(t->ctx, PG_TLS_C_resumed);
	if (SSL_version(t->ssl) == TLS1_3_VERSION)
		pg_tls_count(t->ctx, PG_TLS_C_tls13);
	if (t->ready(&t->st) != PG_OK || t->st.cbs == NULL) {
		if (t->state != PG_TLS_DEAD) {
			pg_tls_close_notify(t);
			pg_tls_detach(t, pg_tcp_close);
		}
		return;
	}
	pg_tls_deliver(t);
}

/* One step of the handshake: as far as the flight received allows. */
static void
pg_tls_handshake(struct pg_tls_stream *t)
{
	int r;

	pg_tls_ctx_clock(t->ctx, t->nif->now_ns);
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	pg_tls_flush(t);
	if (r == 1)
		pg_tls_established(t);
	else if (SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ)
		pg_tls_fail(t, pg_tls_failure(t), PG_TCP_RESET);
}

/* --- reading ------------------------------------------------------------- */

static int
pg_tls_readable(const struct pg_tls_stream *t)
{
	return t->rx != NULL || (t->flags & PG_TLS_F_FIN)
	       || SSL_has_pending(t->ssl);
}

static enum pg_tls_rend
pg_tls_read_status(struct pg_tls_stream *t, int r)
{
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return PG_TLS_R_MORE;
	case SSL_ERROR_ZERO_RETURN:
		return (t->flags & PG_TLS_F_EOF_READ) ? PG_TLS_R_EOF
						      : PG_TLS_R_NOTIFY;
	default:
		return PG_TLS_R_ERROR;
	}
}

/*
 * Decrypt into new mbufs, up to PG_TLS_READ_MAX: the chain (NULL: none)
 * into *out, and how reading ended.
 */
static enum pg_tls_rend
pg_tls_read(struct pg_tls_stream *t, struct rte_mbuf **out)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	enum pg_tls_rend rend = PG_TLS_R_MORE;

	while (pg_tls_readable(t)
	       && (head == NULL || head->pkt_len < PG_TLS_READ_MAX)) {
		struct rte_mbuf *m = pg_mbuf_alloc(t->nif->pool, t->nif->holder);
		size_t n;
		if (m == NULL) {
			t->flags |= PG_TLS_F_NOMEM;
			rend = PG_TLS_R_ERROR;
			break;
		}
		ERR_clear_error();
		if (SSL_read_ex(t->ssl, rte_pktmbuf_mtod(m, void *),
				rte_pktmbuf_tailroom(m), &n) != 1) {
			pg_mbuf_free(m);
			rend = pg_tls_read_status(t, 0);
			break;
		}
		m->data_len = (uint16_t)n;
		m->pkt_len = (uint32_t)n;
		pg_mbuf_chain_add(&head, &tail, m);
	}
	*out = head;
	return rend;
}

/* Hand held to the protocol; keep it if refused. */
static void
pg_tls_hand(struct pg_tls_stream *t)
{
	struct rte_mbuf *m = t->held;
	uint32_t len = m->pkt_len;

	t->held = NULL;
	t->flags &= (uint16_t)~PG_TLS_F_RESUMED;
	if (t->st.cbs->on_data(&t->st, m) != PG_AGAIN) {
		t->ctx->stats->bytes_in += len;
		return;
	}
	t->held = m;
	if (!(t->flags & PG_TLS_F_RESUMED))
		t->flags |= PG_TLS_F_BLOCKED;
}

/* Reading is over: on_eof once (close_notify or FIN), or the end. */
static void
pg_tls_read_end(struct pg_tls_stream *t)
{
	if (t->rend == PG_TLS_R_ERROR) {
		pg_tls_fail(t, (t->flags & PG_TLS_F_NOMEM)
			       ? PG_TLS_C_nomem : PG_TLS_C_record_errors,
			    PG_TCP_RESET);
		return;
	}
	if (t->flags & PG_TLS_F_EOF_DONE)
		return;
	t->flags |= PG_TLS_F_EOF_DONE;
	pg_tls_count(t->ctx, t->rend == PG_TLS_R_NOTIFY
			     ? PG_TLS_C_close_notify_recv : PG_TLS_C_truncated);
	if (t->st.cbs->on_eof != NULL)
		t->st.cbs->on_eof(&t->st);
}

/* Plaintext to the protocol until it refuses or none is left. */
static void
pg_tls_deliver(struct pg_tls_stream *t)
{
	if (t->flags & PG_TLS_F_READING)
		return;
	t->flags |= PG_TLS_F_READING;
	while (t->state == PG_TLS_OPEN && !(t->flags & PG_TLS_F_BLOCKED)) {
		if (t->held != NULL) {
			pg_tls_hand(t);
			continue;
		}
		if (t->rend != PG_TLS_R_MORE) {
			pg_tls_read_end(t);
			break;
		}
		t->rend = (uint8_t)pg_tls_read(t, &t->held);
		pg_tls_flush(t);     /* KeyUpdate answers, alerts */
		if (t->held == NULL && t->rend == PG_TLS_R_MORE)
			break;
	}
	t->flags &= (uint16_t)~PG_TLS_F_READING;
	if (t->state == PG_TLS_OPEN && !(t->flags & PG_TLS_F_BLOCKED)
	    && (t->flags & PG_TLS_F_TCP_HELD)) {
		t->flags &= (uint16_t)~PG_TLS_F_TCP_HELD;
		pg_tcp_recv_resume(t->st.tcp);
	}
}

static void
pg_tls_input(struct pg_tls_stream *t)
{
	pg_tls_hold(t);
	if (t->state == PG_TLS_HANDSHAKE)
		pg_tls_handshake(t);
	else
		pg_tls_deliver(t);
	pg_tls_release(t);
}

/* --- TCP callbacks ------------------------------------------------------- */

int
pg_tls_tcp_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_tls_stream *t = pg_tcp_ctx(c);

	if (t == NULL) {
		pg_mbuf_free(m);
		return PG_OK;
	}
	if (t->flags & PG_TLS_F_BLOCKED) {
		t->flags |= PG_TLS_F_TCP_HELD;
		return PG_AGAIN;
	}
	pg_mbuf_chain_add(&t->rx, &t->rx_tail, m);
	pg_tls_input(t);
	return PG_OK;
}

void
pg_tls_tcp_on_eof(struct pg_tcp_conn *c)
{
	struct pg_tls_stream *t = pg_tcp_ctx(c);

	if (t == NULL)
		return;
	t->flags |= PG_TLS_F_FIN;
	pg_tls_input(t);
}

void
pg_tls_tcp_on_writable(struct pg_tcp_conn *c)
{
	struct pg_tls_stream *t = pg_tcp_ctx(c);

	if (t == NULL)
		return;
	pg_tls_hold(t);
	if (t->state == PG_TLS_OPEN && t->st.cbs->on_writable != NULL)
		t->st.cbs->on_writable(&t->st);
	pg_tls_release(t);
}

void
pg_tls_tcp_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_tls_stream *t = pg_tcp_ctx(c);

	if (t == NULL)
		return;
	t->st.tcp = NULL;
	pg_tls_hold(t);
	if (t->state == PG_TLS_HANDSHAKE)
		pg_tls_count(t->ctx, PG_TLS_C_fail_closed);
	if (t->state != PG_TLS_DEAD)
		pg_tls_end(t, why);
	pg_tls_release(t);
}

/* --- operations ---------------------------------------------------------- */

/*
 * Encrypt len bytes into tx. A failure (mbufs ran out mid-record) leaves
 * a stream that cannot send: what was written is dropped, FIN follows,
 * and the peer sees the stream cut short.
 */
static int
pg_tls_encrypt(struct pg_tls_stream *t, const void *p, uint32_t len)
{
	size_t n;

	if (t->state != PG_TLS_OPEN || (t->flags & PG_TLS_F_BROKEN)
	    || t->st.tcp == NULL
	    || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		return PG_ERROR;
	if (len == 0)
		return PG_OK;
	ERR_clear_error();
	if (SSL_write_ex(t->ssl, p, len, &n) == 1) {
		t->ctx->stats->bytes_out += len;
		return PG_OK;
	}
	ERR_clear_error();
	pg_tls_count(t->ctx, (t->flags & PG_TLS_F_NOMEM)
			     ? PG_TLS_C_nomem : PG_TLS_C_record_errors);
	t->flags |= PG_TLS_F_BROKEN;
	pg_mbuf_free(t->tx);
	t->tx = t->tx_tail = NULL;
	pg_tcp_shutdown(t->st.tcp);
	return PG_ERROR;
}

static int
pg_tls_send(struct pg_stream *s, struct rte_mbuf *m)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;
	int rc = PG_OK;

	pg_tls_hold(t);
	for (struct rte_mbuf *g = m; g != NULL && rc == PG_OK; g = g->next)
		rc = pg_tls_encrypt(t, rte_pktmbuf_mtod(g, void *),
				    g->data_len);
	pg_mbuf_free(m);
	pg_tls_flush(t);
	pg_tls_release(t);
	return rc;
}

static int
pg_tls_write(struct pg_stream *s, const void *buf, uint32_t len)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;
	int rc;

	pg_tls_hold(t);
	rc = pg_tls_encrypt(t, buf, len);
	pg_tls_flush(t);
	pg_tls_release(t);
	return rc;
}

static uint32_t
pg_tls_queued(const struct pg_stream *s)
{
	return s->tcp != NULL ? pg_tcp_queued(s->tcp) : 0;
}

static void
pg_tls_recv_resume(struct pg_stream *s)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;

	if (t->state != PG_TLS_OPEN)
		return;
	if (t->flags & PG_TLS_F_READING)
		t->flags |= PG_TLS_F_RESUMED;
	if (!(t->flags & PG_TLS_F_BLOCKED))
		return;
	t->flags &= (uint16_t)~PG_TLS_F_BLOCKED;
	pg_tls_input(t);
}

static void
pg_tls_shutdown(struct pg_stream *s)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;

	pg_tls_hold(t);
	pg_tls_close_notify(t);
	if (t->st.tcp != NULL)
		pg_tcp_shutdown(t->st.tcp);
	pg_tls_release(t);
}

static void
pg_tls_close(struct pg_stream *s)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;

	pg_tls_hold(t);
	pg_tls_close_notify(t);
	pg_tls_detach(t, pg_tcp_close);
	pg_tls_release(t);
}

static void
pg_tls_abort(struct pg_stream *s)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;

	pg_tls_hold(t);
	pg_tls_detach(t, pg_tcp_abort);
	pg_tls_release(t);
}

static const struct pg_stream_ops pg_tls_ops = {
	.send = pg_tls_send,
	.write = pg_tls_write,
	.queued = pg_tls_queued,
	.recv_resume = pg_tls_recv_resume,
	.shutdown = pg_tls_shutdown,
	.close = pg_tls_close,
	.abort = pg_tls_abort,
};

/* --- streams ------------------------------------------------------------- */

static struct pg_tls_stream *
pg_tls_new(struct pg_tls_ctx *ctx, struct pg_tcp_conn *c,
	   pg_tls_ready_fn ready, void *arg)
{
	BIO_METHOD *meth = pg_tls_bio_method();
	struct pg_tls_stream *t;
	BIO *bio;

	if (meth == NULL || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ssl = SSL_new(ctx->certs[0].ssl);
	bio = BIO_new(meth);
	if (t->ssl == NULL || bio == NULL) {
		BIO_free(bio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_data(bio, t);
	BIO_set_init(bio, 1);
	SSL_set_bio(t->ssl, bio, bio);
	t->st.ops = &pg_tls_ops;
	t->st.tcp = c;
	t->st.tls = 1;
	t->st.ctx = arg;
	pg_tcp_endpoints(c, NULL, &t->st.port, NULL, NULL);
	t->ctx = ctx;
	t->ready = ready;
	t->nif = pg_tcp_stack_netif(pg_tcp_conn_stack(c));
	t->hs_deadline = t->nif->now_ns + ctx->hs_timeout_ns;
	t->hs_prev = ctx->hs_tail;
	if (ctx->hs_tail != NULL)
		ctx->hs_tail->hs_next = t;
	else
		ctx->hs_head = t;
	ctx->hs_tail = t;
	pg_tcp_set_ctx(c, t);
	pg_tls_ctx_clock(ctx, t->nif->now_ns);
	return t;
}

struct pg_stream *
pg_tls_accept(struct pg_tls_ctx *ctx, struct pg_tcp_conn *c,
	      pg_tls_ready_fn ready, void *arg)
{
	struct pg_tls_stream *t = pg_tls_new(ctx, c, ready, arg);

	if (t == NULL) {
		pg_tls_count(ctx, PG_TLS_C_nomem);
		return NULL;
	}
	SSL_set_accept_state(t->ssl);
	return &t->st;
}

void
pg_tls_drop(struct pg_stream *s)
{
	struct pg_tls_stream *t = (struct pg_tls_stream *)s;

	pg_tcp_set_ctx(t->st.tcp, NULL);
	t->st.tcp = NULL;
	pg_tls_hold(t);
	pg_tls_detach(t, pg_tcp_close);
	pg_tls_release(t);
}

/* Set what the client asks for on t. NULL, or why it could not. */
static const char *
pg_tls_peer_set(struct pg_tls_stream *t, const struct pg_tls_peer *peer)
{
	uint8_t alpn[PG_TLS_ALPN_MAX];
	unsigned len;

	if (peer->sni != NULL
	    && (SSL_set_tlsext_host_name(t->ssl, peer->sni) != 1
		|| (SSL_get_verify_mode(t->ssl) != SSL_VERIFY_NONE
		    && SSL_set1_host(t->ssl, peer->sni) != 1)))
		return "the server name is not a valid host name";
	if (peer->alpn != NULL
	    && (pg_tls_alpn_wire(peer->alpn, alpn, &len) != PG_OK
		|| SSL_set_alpn_protos(t->ssl, alpn, len) != 0))
		return "bad ALPN list (comma-separated names, 64 bytes at most)";
	if (peer->session != NULL && SSL_set_session(t->ssl, peer->session) != 1)
		return "OpenSSL refused the session to resume";
	return NULL;
}

struct pg_stream *
pg_tls_connect(struct pg_tls_ctx *ctx, struct pg_tcp_conn *c,
	       const struct pg_tls_peer *peer, pg_tls_ready_fn ready,
	       void *arg, const char **err)
{
	struct pg_tls_stream *t;

	if (!ctx->client) {
		*err = "pg_tls_connect needs a client context";
		pg_tcp_abort(c);
		return NULL;
	}
	t = pg_tls_new(ctx, c, ready, arg);
	if (t == NULL) {
		*err = "out of memory for a TLS stream";
		pg_tcp_abort(c);
		return NULL;
	}
	SSL_set_connect_state(t->ssl);
	*err = pg_tls_peer_set(t, peer);
	if (*err != NULL) {
		ERR_clear_error();
		pg_tls_abort(&t->st);
		return NULL;
	}
	pg_tls_hold(t);
	pg_tls_handshake(t);         /* the ClientHello */
	if (t->state == PG_TLS_DEAD) {
		*err = "out of mbufs for the ClientHello";
		pg_tls_release(t);
		return NULL;
	}
	pg_tls_release(t);
	return &t->st;
}

SSL *
pg_tls_ssl(const struct pg_stream *s)
{
	return ((const struct pg_tls_stream *)s)->ssl;
}

/* --- timeouts ------------------------------------------------------------ */

unsigned
pg_tls_ctx_poll(struct pg_tls_ctx *ctx, uint64_t now_ns)
{
	unsigned n = 0;

	pg_tls_ctx_clock(ctx, now_ns);
	while (ctx->hs_head != NULL && ctx->hs_head->hs_deadline <= now_ns) {
		struct pg_tls_stream *t = ctx->hs_head;
		pg_tls_hold(t);
		pg_tls_fail(t, PG_TLS_C_fail_timeout, PG_TCP_TIMEOUT);
		pg_tls_release(t);
		n++;
	}
	return n;
}

uint64_t
pg_tls_ctx_next_timer(const struct pg_tls_ctx *ctx)
{
	return ctx->hs_head != NULL ? ctx->hs_head->hs_deadline : UINT64_MAX;
}
