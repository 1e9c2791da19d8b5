/*
 * The TCP test service (see pg_testsvc.h). Each kind of connection is a
 * table of callbacks; a session holds what the kind needs.
 *
 *   pg_testsvc_start -> pg_tcp_listen (echo, discard, source)
 *                    -> pg_tcp_connect (client)
 *   on_accept -> pg_testsvc_sess_new -> pg_testsvc_fill (source)
 *   on_data   -> pg_testsvc_echo_data | pg_testsvc_digest_data
 *   on_writable / on_acked -> pg_testsvc_fill | pg_tcp_recv_resume (echo)
 *   on_eof    -> pg_testsvc_report -> pg_tcp_close
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "core/pg_log.h"
#include "core/pg_shm.h"
#include "net/pg_mbuf.h"
#include "net/pg_testsvc.h"

/* Mbufs of pattern handed to pg_tcp_send in one chain. */
#define PG_TESTSVC_CHAIN_SEGS 16

enum pg_testsvc_kind {
	PG_TESTSVC_ECHO,
	PG_TESTSVC_DISCARD,
	PG_TESTSVC_SOURCE,
	PG_TESTSVC_CLIENT,
	PG_TESTSVC_NKINDS
};

static const char *const pg_testsvc_names[PG_TESTSVC_NKINDS] = {
	"echo", "discard", "source", "client",
};

struct pg_testsvc;

/* A listener's context: which service it is. */
struct pg_testsvc_port {
	struct pg_testsvc *svc;
	enum pg_testsvc_kind kind;
	struct pg_tcp_listener *l;
};

struct pg_testsvc_sess {
	struct pg_testsvc_sess *next, **pprev;  /* svc->sessions */
	struct pg_testsvc *svc;
	struct pg_tcp_conn *conn;
	enum pg_testsvc_kind kind;
	uint64_t sent, to_send;      /* source, client: pattern bytes */
	uint64_t rcvd;
	uint64_t start_ns;
	EVP_MD_CTX *md;              /* discard, client: what was received */
	uint8_t refused;             /* echo: data refused until on_writable */
	uint8_t starved;             /* fill ran out of mbufs: retry on ACKs */
	uint8_t shut;                /* client: FIN queued after the pattern */
};

struct pg_testsvc {
	struct pg_tcp_stack *stack;
	struct rte_mempool *pool;
	uint16_t holder;
	uint32_t hiwat;              /* the stack's snd_hiwat */
	struct pg_tcp_opts opts;
	struct pg_testsvc_port ports[PG_TESTSVC_CLIENT];
	struct pg_testsvc_sess *sessions;
	uint64_t source_bytes;
};

static const struct pg_tcp_callbacks pg_testsvc_cbs[PG_TESTSVC_NKINDS];

/* --- sessions ------------------------------------------------------------ */

static struct pg_testsvc_sess *
pg_testsvc_sess_new(struct pg_testsvc *svc, enum pg_testsvc_kind kind)
{
	struct pg_testsvc_sess *ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return NULL;
	if (kind == PG_TESTSVC_DISCARD || kind == PG_TESTSVC_CLIENT) {
		ss->md = EVP_MD_CTX_new();
		if (ss->md == NULL
		    || EVP_DigestInit_ex(ss->md, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(ss->md);
			free(ss);
			return NULL;
		}
	}
	ss->svc = svc;
	ss->kind = kind;
	ss->start_ns = pg_now_ns();
	ss->next = svc->sessions;
	if (ss->next != NULL)
		ss->next->pprev = &ss->next;
	ss->pprev = &svc->sessions;
	svc->sessions = ss;
	return ss;
}

static void
pg_testsvc_sess_free(struct pg_testsvc_sess *ss)
{
	*ss->pprev = ss->next;
	if (ss->next != NULL)
		ss->next->pprev = ss->pprev;
	EVP_MD_CTX_free(ss->md);
	free(ss);
}

/* Let go of the connection (FIN after what is queued) and of the session. */
static void
pg_testsvc_sess_close(struct pg_testsvc_sess *ss)
{
	pg_tcp_close(ss->conn);
	pg_testsvc_sess_free(ss);
}

/* "A.B.C.D:PORT" of the peer. */
static void
pg_testsvc_peer(const struct pg_testsvc_sess *ss, char *buf, size_t len)
{
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	char a[INET_ADDRSTRLEN];
	pg_tcp_endpoints(ss->conn, &laddr, &lport, &raddr, &rport);
	inet_ntop(AF_INET, &raddr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, rport);
}

/* One line for the tests: what the connection moved, and its digest. */
static void
pg_testsvc_report(struct pg_testsvc_sess *ss)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1], peer[32], sent[48] = "";
	unsigned n = 0;

	EVP_DigestFinal_ex(ss->md, md, &n);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * n] = '\0';
	if (ss->kind == PG_TESTSVC_CLIENT)
		snprintf(sent, sizeof(sent), " sent %lu bytes,",
			 (unsigned long)ss->sent);
	pg_testsvc_peer(ss, peer, sizeof(peer));
	pg_log_notice("testsvc %s %s:%s received %lu bytes sha256 %s in %.3f s",
		      pg_testsvc_names[ss->kind], peer, sent,
		      (unsigned long)ss->rcvd, hex,
		      (double)(pg_now_ns() - ss->start_ns) / 1e9);
}

/* --- sending the pattern ------------------------------------------------- */

/*
 * A chain of up to PG_TESTSVC_CHAIN_SEGS full mbufs holding len bytes of
 * the pattern from stream offset off; shorter when the pool runs low, NULL
 * when it is empty.
 */
static struct rte_mbuf *
pg_testsvc_pattern_chain(struct pg_testsvc *svc, uint64_t off, uint64_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	for (unsigned i = 0; i < PG_TESTSVC_CHAIN_SEGS && len > 0; i++) {
		struct rte_mbuf *m = pg_mbuf_alloc(svc->pool, svc->holder);
		if (m == NULL)
			break;
		uint16_t n = rte_pktmbuf_tailroom(m);
		if (n > len)
			n = (uint16_t)len;
		pg_testsvc_pattern(off, rte_pktmbuf_append(m, n), n);
		off += n;
		len -= n;
		pg_mbuf_chain_add(&head, &tail, m);
	}
	return head;
}

/*
 * Queue pattern until the high-water mark (on_writable resumes) or the end
 * (then source closes, client half-closes). Returns PG_ERROR when the
 * session is gone.
 */
static int
pg_testsvc_fill(struct pg_testsvc_sess *ss)
{
	struct pg_testsvc *svc = ss->svc;
	struct pg_tcp_conn *c = ss->conn;

	ss->starved = 0;
	if (ss->shut)
		return PG_OK;
	while (ss->sent < ss->to_send && pg_tcp_queued(c) < svc->hiwat) {
		struct rte_mbuf *m = pg_testsvc_pattern_chain(svc, ss->sent,
							ss->to_send - ss->sent);
		if (m == NULL) {
			if (pg_tcp_queued(c) == 0) {
				pg_log_warn(0, "testsvc %s: mbuf pool empty with "
					    "nothing in flight: reset",
					    pg_testsvc_names[ss->kind]);
				pg_tcp_abort(c);
				pg_testsvc_sess_free(ss);
				return PG_ERROR;
			}
			ss->starved = 1;   /* on_acked tries again */
			return PG_OK;
		}
		uint32_t len = m->pkt_len;
		if (pg_tcp_send(c, m) != PG_OK)
			return PG_OK;      /* on_close follows */
		ss->sent += len;
	}
	if (ss->sent < ss->to_send)
		return PG_OK;
	if (ss->kind == PG_TESTSVC_SOURCE) {
		pg_testsvc_sess_close(ss);
		return PG_ERROR;
	}
	pg_tcp_shutdown(c);
	ss->shut = 1;
	return PG_OK;
}

/* --- callbacks ----------------------------------------------------------- */

static int
pg_testsvc_on_accept(struct pg_tcp_conn *c, void *listen_ctx)
{
	struct pg_testsvc_port *port = listen_ctx;
	struct pg_testsvc_sess *ss = pg_testsvc_sess_new(port->svc, port->kind);
	if (ss == NULL)
		return PG_ERROR;
	ss->conn = c;
	pg_tcp_set_ctx(c, ss);
	if (port->kind == PG_TESTSVC_SOURCE) {
		ss->to_send = port->svc->source_bytes;
		pg_testsvc_fill(ss);
	}
	return PG_OK;
}

static void
pg_testsvc_on_connected(struct pg_tcp_conn *c)
{
	pg_testsvc_fill(pg_tcp_ctx(c));
}

/* Echo: the received chain goes back as it is, unless the queue is full. */
static int
pg_testsvc_echo_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	if (ss->refused || pg_tcp_queued(c) >= ss->svc->hiwat) {
		ss->refused = 1;
		return PG_AGAIN;
	}
	ss->rcvd += m->pkt_len;
	pg_tcp_send(c, m);
	return PG_OK;
}

static void
pg_testsvc_echo_writable(struct pg_tcp_conn *c)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	if (ss->refused) {
		ss->refused = 0;
		pg_tcp_recv_resume(c);
	}
}

static int
pg_testsvc_digest_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	if (ss->md != NULL)
		for (struct rte_mbuf *s = m; s != NULL; s = s->next)
			EVP_DigestUpdate(ss->md, rte_pktmbuf_mtod(s, void *),
					 s->data_len);
	ss->rcvd += m->pkt_len;
	pg_mbuf_free(m);
	return PG_OK;
}

static void
pg_testsvc_fill_writable(struct pg_tcp_conn *c)
{
	pg_testsvc_fill(pg_tcp_ctx(c));
}

static void
pg_testsvc_fill_acked(struct pg_tcp_conn *c, uint32_t bytes)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	if (ss->starved)
		pg_testsvc_fill(ss);
}

/* Echo: the peer is done, so are we once its data is sent back. */
static void
pg_testsvc_close_eof(struct pg_tcp_conn *c)
{
	pg_testsvc_sess_close(pg_tcp_ctx(c));
}

static void
pg_testsvc_report_eof(struct pg_tcp_conn *c)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	pg_testsvc_report(ss);
	pg_testsvc_sess_close(ss);
}

static void
pg_testsvc_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	struct pg_testsvc_sess *ss = pg_tcp_ctx(c);
	char peer[32];
	pg_testsvc_peer(ss, peer, sizeof(peer));
	if (ss->kind == PG_TESTSVC_CLIENT)
		pg_log_notice("testsvc client %s: failed after sending %lu "
			      "bytes: %s", peer, (unsigned long)ss->sent,
			      pg_tcp_reason_names[why]);
	else
		pg_log_info("testsvc %s %s: %s after receiving %lu bytes",
			    pg_testsvc_names[ss->kind], peer,
			    pg_tcp_reason_names[why], (unsigned long)ss->rcvd);
	pg_testsvc_sess_free(ss);
}

static const struct pg_tcp_callbacks pg_testsvc_cbs[PG_TESTSVC_NKINDS] = {
	[PG_TESTSVC_ECHO] = {
		.on_accept = pg_testsvc_on_accept,
		.on_data = pg_testsvc_echo_data,
		.on_eof = pg_testsvc_close_eof,
		.on_writable = pg_testsvc_echo_writable,
		.on_close = pg_testsvc_on_close,
	},
	[PG_TESTSVC_DISCARD] = {
		.on_accept = pg_testsvc_on_accept,
		.on_data = pg_testsvc_digest_data,
		.on_eof = pg_testsvc_report_eof,
		.on_close = pg_testsvc_on_close,
	},
	[PG_TESTSVC_SOURCE] = {
		.on_accept = pg_testsvc_on_accept,
		.on_data = pg_testsvc_digest_data,
		.on_acked = pg_testsvc_fill_acked,
		.on_writable = pg_testsvc_fill_writable,
		.on_close = pg_testsvc_on_close,
	},
	[PG_TESTSVC_CLIENT] = {
		.on_connected = pg_testsvc_on_connected,
		.on_data = pg_testsvc_digest_data,
		.on_eof = pg_testsvc_report_eof,
		.on_acked = pg_testsvc_fill_acked,
		.on_writable = pg_testsvc_fill_writable,
		.on_close = pg_testsvc_on_close,
	},
};

/* --- start and stop ------------------------------------------------------ */

static int
pg_testsvc_connect(struct pg_testsvc *svc, const struct pg_testsvc_conf *tc,
		   const char **err)
{
	struct pg_testsvc_sess *ss = pg_testsvc_sess_new(svc, PG_TESTSVC_CLIENT);
	if (ss == NULL) {
		*err = "out of memory";
		return PG_ERROR;
	}
	ss->to_send = tc->connect_bytes;
	ss->conn = pg_tcp_connect(svc->stack, tc->connect_addr,
				  tc->connect_port,
				  &pg_testsvc_cbs[PG_TESTSVC_CLIENT], ss,
				  &svc->opts, err);
	if (ss->conn == NULL) {
		pg_testsvc_sess_free(ss);
		return PG_ERROR;
	}
	return PG_OK;
}

struct pg_testsvc *
pg_testsvc_start(struct pg_tcp_stack *s, const struct pg_config *cfg,
		 struct rte_mempool *pool, uint16_t holder, int client,
		 const char **err)
{
	const struct pg_testsvc_conf *tc = &cfg->testsvc;
	const uint16_t port[PG_TESTSVC_CLIENT] = { tc->echo, tc->discard,
						   tc->source };
	struct pg_testsvc *svc = calloc(1, sizeof(*svc));
	if (svc == NULL) {
		*err = "out of memory";
		return NULL;
	}
	svc->stack = s;
	svc->pool = pool;
	svc->holder = holder;
	svc->hiwat = cfg->tcp.snd_hiwat;
	svc->source_bytes = tc->source_bytes;
	svc->opts = (struct pg_tcp_opts){ .cc = cfg->tcp.cc, .nodelay = 1 };
	for (unsigned k = 0; k < PG_TESTSVC_CLIENT; k++) {
		svc->ports[k] = (struct pg_testsvc_port){ svc, k, NULL };
		if (port[k] == 0)
			continue;
		svc->ports[k].l = pg_tcp_listen(s, port[k], &pg_testsvc_cbs[k],
						&svc->ports[k], &svc->opts, err);
		if (svc->ports[k].l == NULL)
			goto failed;
	}
	if (client && tc->connect_addr != 0
	    && pg_testsvc_connect(svc, tc, err) != PG_OK)
		goto failed;
	return svc;
failed:
	pg_testsvc_stop(svc);
	return NULL;
}

void
pg_testsvc_stop(struct pg_testsvc *svc)
{
	if (svc == NULL)
		return;
	while (svc->sessions != NULL) {
		pg_tcp_abort(svc->sessions->conn);
		pg_testsvc_sess_free(svc->sessions);
	}
	for (unsigned k = 0; k < PG_TESTSVC_CLIENT; k++)
		if (svc->ports[k].l != NULL)
			pg_tcp_unlisten(svc->ports[k].l);
	free(svc);
}
