/*
 * TCP: the stack, its connection table and control-block slabs, opening,
 * closing and the application's API. Segment arrival is in pg_tcp_in.c,
 * segment building in pg_tcp_out.c, timers in pg_tcp_timer.c.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_random.h>

#include "core/pg_log.h"
#include "net/pg_steer.h"
#include "net/pg_tcp_priv.h"

const char *const pg_tcp_state_names[PG_TCP_NSTATES] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
	"TIME_WAIT",
};

const char *const pg_tcp_reason_names[PG_TCP_NREASONS] = {
	"done", "reset", "refused", "timeout", "nomem", "shutdown",
};

#define PG_TCP_SLAB_CONNS 256
#define PG_TCP_EPHEMERAL_LO 32768

struct pg_tcp_slab {
	struct pg_tcp_slab *next;
	struct pg_tcp_conn conns[PG_TCP_SLAB_CONNS];
};

_Static_assert(sizeof(struct pg_tcp_conn) <= 256,
	       "a control block must stay within 256 bytes");

void
pg_tcp_conf_default(struct pg_tcp_conf *c)
{
	*c = (struct pg_tcp_conf){
		.max_conns = 262144,
		.rcv_wnd = 1u << 20,
		.snd_hiwat = 1u << 20,
		.snd_lowat = 256u << 10,
		/* Counted in mbuf memory: a full 1 MiB window of segments. */
		.ooo_max = 2u << 20,
		.ooo_max_total = 32u << 20,
		.syn_backlog = 1024,
		.rto_min_ms = 200,
		.rto_max_ms = 120000,
		.rto_initial_ms = 1000,
		.delack_ms = 40,
		.time_wait_ms = 60000,
		.fin_wait2_ms = 60000,
		.syn_retries = 6,
		.retries = 15,
		.keepalive_idle_ms = 7200000,
		.keepalive_intvl_ms = 75000,
		.keepalive_probes = 9,
		.cc = PG_TCP_CC_CUBIC,
		.sack = 1,
		.timestamps = 1,
		.window_scaling = 1,
		.syncookies = 1,
		.tail_loss_probe = 1,
	};
}

/* --- stack --------------------------------------------------------------- */

struct pg_tcp_stack *
pg_tcp_stack_create(struct pg_netif *nif, const struct pg_tcp_conf *conf,
		    struct pg_tcp_stats *stats, const char **err)
{
	struct pg_tcp_stack *s = calloc(1, sizeof(*s));
	uint32_t buckets = 1;

	if (s == NULL) {
		*err = "out of memory for the TCP stack";
		return NULL;
	}
	if (conf->max_conns == 0 || conf->rcv_wnd == 0
	    || conf->rto_min_ms == 0 || conf->rto_min_ms > conf->rto_max_ms) {
		free(s);
		*err = "invalid TCP configuration";
		return NULL;
	}
	while (buckets < conf->max_conns && buckets < (1u << 24))
		buckets <<= 1;
	s->table = calloc(buckets, sizeof(*s->table));
	if (s->table == NULL) {
		free(s);
		*err = "out of memory for the TCP connection table";
		return NULL;
	}
	s->table_mask = buckets - 1;
	s->nif = nif;
	s->conf = *conf;
	s->stats = stats != NULL ? stats : &s->own_stats;
	s->secret[0] = conf->secret[0] ? conf->secret[0] : rte_rand();
	s->secret[1] = conf->secret[1] ? conf->secret[1] : rte_rand();
	s->epoch_ns = nif->now_ns;
	/* From the secret, so that a given secret replays a run exactly. */
	s->next_port = PG_TCP_EPHEMERAL_LO
		       + (uint16_t)((s->secret[0] ^ s->secret[1])
				    % (65536 - PG_TCP_EPHEMERAL_LO));
	pg_wheel_init(&s->wheel, 1000000, nif->now_ns);
	nif->l4_input[IPPROTO_TCP] = pg_tcp_input;
	nif->tcp = s;
	return s;
}

unsigned
pg_tcp_stack_poll(struct pg_tcp_stack *s)
{
	return pg_wheel_advance(&s->wheel, s->nif->now_ns);
}

uint64_t
pg_tcp_stack_next_timer(const struct pg_tcp_stack *s)
{
	return pg_wheel_next(&s->wheel);
}

void
pg_tcp_stack_destroy(struct pg_tcp_stack *s)
{
	if (s == NULL)
		return;
	for (uint32_t b = 0; b <= s->table_mask; b++)
		while (s->table[b] != NULL) {
			struct pg_tcp_conn *c = s->table[b];
			c->flags &= ~PG_TCPF_BUSY;
			pg_tcp_conn_done(c, PG_TCP_SHUTDOWN);
		}
	while (s->listeners != NULL)
		pg_tcp_unlisten(s->listeners);
	while (s->slabs != NULL) {
		struct pg_tcp_slab *n = s->slabs->next;
		free(s->slabs);
		s->slabs = n;
	}
	if (s->nif->tcp == s) {
		s->nif->l4_input[IPPROTO_TCP] = NULL;
		s->nif->tcp = NULL;
	}
	free(s->table);
	free(s);
}

const struct pg_tcp_stats *
pg_tcp_stack_stats(const struct pg_tcp_stack *s)
{
	return s->stats;
}

struct pg_netif *
pg_tcp_stack_netif(const struct pg_tcp_stack *s)
{
	return s->nif;
}

uint32_t
pg_tcp_stack_conns(const struct pg_tcp_stack *s)
{
	return s->nconns;
}

uint32_t
pg_tcp_stack_unacked(const struct pg_tcp_stack *s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= s->table_mask; i++)
		for (const struct pg_tcp_conn *c = s->table[i]; c != NULL;
		     c = c->hnext)
			n += c->state != PG_TCP_SYN_RCVD
			     && c->snd_una != c->snd_max;
	return n;
}

uint64_t
pg_tcp_stack_memory(const struct pg_tcp_stack *s)
{
	return s->slab_bytes + s->board_bytes
	       + (uint64_t)s->ooo_total;
}

/* --- connection table ---------------------------------------------------- */

static inline uint32_t
pg_tcp_bucket(const struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
	      uint32_t raddr, uint16_t rport)
{
	return rte_jhash_3words(raddr, laddr, (uint32_t)lport << 16 | rport,
				(uint32_t)s->secret[0]) & s->table_mask;
}

struct pg_tcp_conn *
pg_tcp_lookup(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
	      uint32_t raddr, uint16_t rport)
{
	struct pg_tcp_conn *c = s->table[pg_tcp_bucket(s, laddr, lport, raddr,
						       rport)];
	for (; c != NULL; c = c->hnext)
		if (c->raddr == raddr && c->rport == rport
		    && c->lport == lport && c->laddr == laddr)
			return c;
	return NULL;
}

static void
pg_tcp_unhash(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;
	struct pg_tcp_conn **pp = &s->table[pg_tcp_bucket(s, c->laddr, c->lport,
							  c->raddr, c->rport)];
	if (!(c->flags & PG_TCPF_HASHED))
		return;
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	c->flags &= ~PG_TCPF_HASHED;
}

static struct pg_tcp_conn *
pg_tcp_conn_alloc(struct pg_tcp_stack *s)
{
	if (s->free_conns == NULL) {
		struct pg_tcp_slab *sl = malloc(sizeof(*sl));
		if (sl == NULL)
			return NULL;
		sl->next = s->slabs;
		s->slabs = sl;
		s->slab_bytes += sizeof(*sl);
		for (unsigned i = 0; i < PG_TCP_SLAB_CONNS; i++) {
			sl->conns[i].hnext = s->free_conns;
			s->free_conns = &sl->conns[i];
		}
	}
	struct pg_tcp_conn *c = s->free_conns;
	s->free_conns = c->hnext;
	return c;
}

struct pg_tcp_conn *
pg_tcp_conn_new(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		uint32_t raddr, uint16_t rport, const char **err)
{
	if (s->nconns >= s->conf.max_conns) {
		s->stats->conn_limit++;
		*err = "connection limit reached (tcp.max_conns)";
		return NULL;
	}
	struct pg_tcp_conn *c = pg_tcp_conn_alloc(s);
	if (c == NULL) {
		*err = "out of memory for a control block";
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->stack = s;
	c->laddr = laddr;
	c->lport = lport;
	c->raddr = raddr;
	c->rport = rport;
	c->mss = PG_TCP_MSS_DEFAULT;
	c->rto_ms = s->conf.rto_initial_ms;
	c->cc = s->conf.cc;
	c->iss = pg_tcp_isn(s, laddr, lport, raddr, rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	pg_timer_init(&c->timer, pg_tcp_timer_fire);
	uint32_t b = pg_tcp_bucket(s, laddr, lport, raddr, rport);
	c->hnext = s->table[b];
	s->table[b] = c;
	c->flags |= PG_TCPF_HASHED | PG_TCPF_NODELAY;
	s->nconns++;
	s->stats->conns++;
	return c;
}

void
pg_tcp_free_queue(struct rte_mbuf *q)
{
	while (q != NULL) {
		struct rte_mbuf *n = pg_mbuf_priv(q)->qnext;
		pg_mbuf_free(q);
		q = n;
	}
}

/* Free the control block and everything it holds (not its callbacks). */
static void
pg_tcp_conn_free(struct pg_tcp_conn *c)
{
	struct pg_tcp_stack *s = c->stack;

	pg_timer_cancel(&s->wheel, &c->timer);
	pg_tcp_unhash(c);
	pg_tcp_sndq_forget(c);
	pg_tcp_free_queue(c->sndq);
	pg_tcp_free_queue(c->ooo);
	pg_tcp_free_queue(c->held);
	s->ooo_total -= c->ooo_bytes;
	if (c->board != NULL) {
		free(c->board);
		s->board_bytes -= sizeof(*c->board);
	}
	pg_tcp_half_open_done(c);
	c->state = PG_TCP_CLOSED;
	c->hnext = s->free_conns;
	s->free_conns = c;
	s->nconns--;
	s->stats->conns--;
	s->stats->closed++;
}

/*
 * Release the control block now, or when the input or timer processing
 * that holds it is over (PG_TCPF_BUSY).
 */
void
pg_tcp_conn_release(struct pg_tcp_conn *c)
{
	if (c->flags & PG_TCPF_BUSY) {
		c->flags |= PG_TCPF_DEAD;
		c->state = PG_TCP_CLOSED;
		pg_timer_cancel(&c->stack->wheel, &c->timer);
		return;
	}
	pg_tcp_conn_free(c);
}

int
pg_tcp_unbusy(struct pg_tcp_conn *c)
{
	c->flags &= ~PG_TCPF_BUSY;
	if (c->flags & PG_TCPF_DEAD) {
		pg_tcp_conn_release(c);
		return 1;
	}
	if (c->flags & PG_TCPF_RESUME)
		return pg_tcp_deliver_held(c);
	return 0;
}

static int
pg_tcp_attached(const struct pg_tcp_conn *c)
{
	return !(c->flags & (PG_TCPF_ORPHAN | PG_TCPF_HALF_OPEN))
	       && c->cb != NULL;
}

void
pg_tcp_conn_done(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	if (c->flags & PG_TCPF_DEAD)
		return;
	int attached = pg_tcp_attached(c);
	c->flags |= PG_TCPF_ORPHAN;
	c->state = PG_TCP_CLOSED;
	if (attached && c->cb->on_close != NULL) {
		uint32_t busy = c->flags & PG_TCPF_BUSY;
		c->flags |= PG_TCPF_BUSY;
		c->cb->on_close(c, why);
		c->flags = (c->flags & ~PG_TCPF_BUSY) | busy;
	}
	pg_tcp_conn_release(c);
}

void
pg_tcp_set_state(struct pg_tcp_conn *c, enum pg_tcp_state st)
{
	if (st == PG_TCP_ESTABLISHED)
		c->stack->stats->established++;
	c->state = st;
}

/* Both directions are closed: tell the application, keep the tuple. */
void
pg_tcp_enter_time_wait(struct pg_tcp_conn *c)
{
	c->state = PG_TCP_TIME_WAIT;
	pg_tcp_sndq_forget(c);
	pg_tcp_free_queue(c->sndq);
	c->sndq = c->sndq_tail = NULL;
	c->queued = 0;
	c->rtx_at = 0;
	c->idle_at = pg_tcp_now_ms(c->stack) + c->stack->conf.time_wait_ms;
	pg_tcp_timer_update(c);
	pg_tcp_close_due(c);
}

/*
 * Both directions are done: on_close(PG_TCP_DONE), unless the application
 * still has refused data to take; then it comes after the last of it
 * (pg_tcp_deliver_held), the control block waiting in TIME_WAIT.
 */
void
pg_tcp_close_due(struct pg_tcp_conn *c)
{
	if (!pg_tcp_attached(c)) {
		c->flags |= PG_TCPF_ORPHAN;
		return;
	}
	if (c->held != NULL) {
		c->flags |= PG_TCPF_CLOSE_DUE;
		return;
	}
	c->flags &= ~PG_TCPF_CLOSE_DUE;
	c->flags |= PG_TCPF_ORPHAN;
	if (c->cb->on_close != NULL)
		c->cb->on_close(c, PG_TCP_DONE);
}

/* --- chains -------------------------------------------------------------- */

struct rte_mbuf *
pg_tcp_chain_adj(struct rte_mbuf *m, uint32_t n)
{
	while (m != NULL && n >= m->data_len && n > 0) {
		struct rte_mbuf *next = m->next;
		uint32_t pkt_len = m->pkt_len - m->data_len;
		uint16_t nb = m->nb_segs - 1;
		n -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		pg_mbuf_priv(m)->holder = 0;
		rte_pktmbuf_free_seg(m);
		if (next == NULL)
			return NULL;
		next->pkt_len = pkt_len;
		next->nb_segs = nb;
		m = next;
	}
	if (m != NULL && n > 0) {
		m->data_off += n;
		m->data_len -= n;
		m->pkt_len -= n;
	}
	return m;
}

void
pg_tcp_chain_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m, *prev = NULL;
	uint32_t left = len;
	uint16_t nb = 0;

	while (seg != NULL && left > seg->data_len) {
		left -= seg->data_len;
		prev = seg;
		seg = seg->next;
		nb++;
	}
	if (seg == NULL)
		return;
	/* seg holds the last byte kept (or is the head of a 0-length trim). */
	if (left == 0 && prev != NULL) {
		prev->next = NULL;
		pg_mbuf_free(seg);
	} else {
		seg->data_len = (uint16_t)left;
		nb++;
		if (seg->next != NULL) {
			pg_mbuf_free(seg->next);
			seg->next = NULL;
		}
	}
	m->nb_segs = nb;
	m->pkt_len = len;
}

/* --- opening ------------------------------------------------------------- */

static const struct pg_tcp_opts pg_tcp_opts_default = {
	.cc = PG_TCP_CC_CUBIC, .nodelay = 1, .keepalive = 0,
};

struct pg_tcp_listener *
pg_tcp_listen(struct pg_tcp_stack *s, uint16_t port,
	      const struct pg_tcp_callbacks *cb, void *ctx,
	      const struct pg_tcp_opts *opts, const char **err)
{
	uint16_t nport = rte_cpu_to_be_16(port);
	for (struct pg_tcp_listener *l = s->listeners; l != NULL; l = l->next)
		if (l->port == nport) {
			*err = "port already has a listener";
			return NULL;
		}
	if (port == 0 || cb == NULL || cb->on_accept == NULL) {
		*err = "listen needs a port and an on_accept callback";
		return NULL;
	}
	struct pg_tcp_listener *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		*err = "out of memory";
		return NULL;
	}
	l->stack = s;
	l->cb = cb;
	l->ctx = ctx;
	l->opts = opts != NULL ? *opts : pg_tcp_opts_default;
	if (opts == NULL)
		l->opts.cc = s->conf.cc;
	l->port = nport;
	l->next = s->listeners;
	s->listeners = l;
	return l;
}

void
pg_tcp_unlisten(struct pg_tcp_listener *l)
{
	struct pg_tcp_stack *s = l->stack;
	struct pg_tcp_listener **pp = &s->listeners;
	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	/* Half-open connections of this listener are reset. */
	for (uint32_t b = 0; b <= s->table_mask && l->half_open > 0; b++)
		for (struct pg_tcp_conn *c = s->table[b], *n; c != NULL; c = n) {
			n = c->hnext;
			if (c->state == PG_TCP_SYN_RCVD && c->ctx == l) {
				pg_tcp_send_rst(c);
				pg_tcp_conn_release(c);
			}
		}
	free(l);
}

struct pg_tcp_listener *
pg_tcp_find_listener(struct pg_tcp_stack *s, uint16_t nport)
{
	for (struct pg_tcp_listener *l = s->listeners; l != NULL; l = l->next)
		if (l->port == nport)
			return l;
	return NULL;
}

void
pg_tcp_apply_opts(struct pg_tcp_conn *c, const struct pg_tcp_opts *o)
{
	c->cc = o->cc;
	if (!o->nodelay)
		c->flags &= ~PG_TCPF_NODELAY;
	if (o->keepalive)
		c->flags |= PG_TCPF_KEEPALIVE;
}

/* An ephemeral port free for raddr:rport that steers to this worker. */
static uint16_t
pg_tcp_pick_port(struct pg_tcp_stack *s, uint32_t raddr, uint16_t rport)
{
	struct pg_netif *nif = s->nif;
	for (unsigned tries = 0; tries < 65536 - PG_TCP_EPHEMERAL_LO; tries++) {
		uint16_t p = s->next_port++;
		if (s->next_port < PG_TCP_EPHEMERAL_LO)
			s->next_port = PG_TCP_EPHEMERAL_LO;
		if (p < PG_TCP_EPHEMERAL_LO)
			continue;
		uint16_t np = rte_cpu_to_be_16(p);
		/* Inbound packets carry (raddr, laddr, rport, lport). */
		if (nif->nworkers > 1
		    && pg_steer_owner(raddr, nif->addr, rport, np,
				      nif->nworkers) != nif->worker)
			continue;
		if (pg_tcp_lookup(s, nif->addr, np, raddr, rport) == NULL
		    && pg_tcp_find_listener(s, np) == NULL)
			return np;
	}
	return 0;
}

struct pg_tcp_conn *
pg_tcp_connect(struct pg_tcp_stack *s, uint32_t addr, uint16_t port,
	       const struct pg_tcp_callbacks *cb, void *ctx,
	       const struct pg_tcp_opts *opts, const char **err)
{
	uint16_t rport = rte_cpu_to_be_16(port);
	if (port == 0 || addr == 0 || cb == NULL) {
		*err = "connect needs an address, a port and callbacks";
		return NULL;
	}
	uint16_t lport = pg_tcp_pick_port(s, addr, rport);
	if (lport == 0) {
		*err = "no ephemeral port left for this destination";
		return NULL;
	}
	struct pg_tcp_conn *c = pg_tcp_conn_new(s, s->nif->addr, lport, addr,
						rport, err);
	if (c == NULL)
		return NULL;
	c->cb = cb;
	c->ctx = ctx;
	if (opts == NULL) {
		struct pg_tcp_opts o = pg_tcp_opts_default;
		o.cc = s->conf.cc;
		pg_tcp_apply_opts(c, &o);
	} else {
		pg_tcp_apply_opts(c, opts);
	}
	s->stats->active_opens++;
	c->state = PG_TCP_SYN_SENT;
	c->rcv_ws = s->conf.window_scaling ? pg_tcp_rcv_wscale(s) : 0;
	pg_tcp_send_syn(c);
	return c;
}

/* --- data ---------------------------------------------------------------- */

static int
pg_tcp_can_send(const struct pg_tcp_conn *c)
{
	return !(c->flags & (PG_TCPF_SHUT_WR | PG_TCPF_DEAD))
	       && (c->state == PG_TCP_ESTABLISHED
		   || c->state == PG_TCP_CLOSE_WAIT
		   || c->state == PG_TCP_SYN_SENT
		   || c->state == PG_TCP_SYN_RCVD);
}

static void
pg_tcp_enqueue(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	pg_mbuf_priv(m)->qnext = NULL;
	if (c->sndq_tail == NULL)
		c->sndq = m;
	else
		pg_mbuf_priv(c->sndq_tail)->qnext = m;
	c->sndq_tail = m;
	c->queued += m->pkt_len;
	if (c->queued >= c->stack->conf.snd_hiwat)
		c->flags |= PG_TCPF_WRITABLE;
}

int
pg_tcp_send(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	if (!pg_tcp_can_send(c)) {
		pg_mbuf_free(m);
		return PG_ERROR;
	}
	if (m->pkt_len == 0) {
		pg_mbuf_free(m);
		return PG_OK;
	}
	pg_tcp_enqueue(c, m);
	if (c->state != PG_TCP_SYN_SENT && c->state != PG_TCP_SYN_RCVD
	    && !(c->flags & PG_TCPF_BUSY))
		pg_tcp_output(c);
	return PG_OK;
}

int
pg_tcp_write(struct pg_tcp_conn *c, const void *buf, uint32_t len)
{
	struct pg_tcp_stack *s = c->stack;
	const uint8_t *p = buf;
	struct rte_mbuf *head = NULL, *tail = NULL;

	if (!pg_tcp_can_send(c))
		return PG_ERROR;
	if (len == 0)
		return PG_OK;
	/* All or nothing: one chain, queued only once complete. */
	while (len > 0) {
		struct rte_mbuf *m = pg_mbuf_alloc(s->nif->pool, s->nif->holder);
		if (m == NULL) {
			pg_mbuf_free(head);
			return PG_ERROR;
		}
		uint16_t n = (uint16_t)RTE_MIN(len,
					       (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, n), p, n);
		p += n;
		len -= n;
		pg_mbuf_chain_add(&head, &tail, m);
	}
	pg_tcp_enqueue(c, head);
	if (c->state != PG_TCP_SYN_SENT && c->state != PG_TCP_SYN_RCVD
	    && !(c->flags & PG_TCPF_BUSY))
		pg_tcp_output(c);
	return PG_OK;
}

uint32_t
pg_tcp_queued(const struct pg_tcp_conn *c)
{
	return c->queued;
}

void
pg_tcp_recv_resume(struct pg_tcp_conn *c)
{
	if (c->held == NULL)
		return;
	if (c->flags & PG_TCPF_BUSY)
		c->flags |= PG_TCPF_RESUME;     /* when the stack is done with c */
	else
		pg_tcp_deliver_held(c);
}

/* --- closing ------------------------------------------------------------- */

void
pg_tcp_shutdown(struct pg_tcp_conn *c)
{
	if (c->flags & (PG_TCPF_SHUT_WR | PG_TCPF_DEAD))
		return;
	switch (c->state) {
	case PG_TCP_SYN_SENT:
		pg_tcp_conn_done(c, PG_TCP_DONE);
		return;
	case PG_TCP_SYN_RCVD:
	case PG_TCP_ESTABLISHED:
		c->flags |= PG_TCPF_SHUT_WR;
		if (c->state == PG_TCP_ESTABLISHED)
			c->state = PG_TCP_FIN_WAIT_1;
		break;
	case PG_TCP_CLOSE_WAIT:
		c->flags |= PG_TCPF_SHUT_WR;
		c->state = PG_TCP_LAST_ACK;
		break;
	default:
		return;
	}
	if (!(c->flags & PG_TCPF_BUSY))
		pg_tcp_output(c);
}

void
pg_tcp_close(struct pg_tcp_conn *c)
{
	if (c->flags & PG_TCPF_DEAD)
		return;
	pg_tcp_free_queue(c->held);
	c->held = NULL;
	c->held_bytes = 0;
	if (c->state == PG_TCP_SYN_SENT) {
		c->flags |= PG_TCPF_ORPHAN;
		pg_tcp_conn_release(c);
		return;
	}
	pg_tcp_shutdown(c);
	c->flags |= PG_TCPF_ORPHAN;
	if (c->state == PG_TCP_FIN_WAIT_2 && c->idle_at == 0) {
		c->idle_at = pg_tcp_now_ms(c->stack)
			     + c->stack->conf.fin_wait2_ms;
		pg_tcp_timer_update(c);
	}
}

void
pg_tcp_abort(struct pg_tcp_conn *c)
{
	if (c->flags & PG_TCPF_DEAD)
		return;
	if (c->state != PG_TCP_SYN_SENT && c->state != PG_TCP_TIME_WAIT
	    && c->state != PG_TCP_CLOSED)
		pg_tcp_send_rst(c);
	c->flags |= PG_TCPF_ORPHAN;
	pg_tcp_conn_release(c);
}

/* --- per connection ------------------------------------------------------ */

void *
pg_tcp_ctx(const struct pg_tcp_conn *c)
{
	return c->ctx;
}

void
pg_tcp_set_ctx(struct pg_tcp_conn *c, void *ctx)
{
	c->ctx = ctx;
}

enum pg_tcp_state
pg_tcp_conn_state(const struct pg_tcp_conn *c)
{
	return (enum pg_tcp_state)c->state;
}

void
pg_tcp_set_nodelay(struct pg_tcp_conn *c, int on)
{
	if (on)
		c->flags |= PG_TCPF_NODELAY;
	else
		c->flags &= ~PG_TCPF_NODELAY;
}

void
pg_tcp_set_keepalive(struct pg_tcp_conn *c, int on)
{
	if (on)
		c->flags |= PG_TCPF_KEEPALIVE;
	else
		c->flags &= ~PG_TCPF_KEEPALIVE;
	pg_tcp_idle_arm(c);
}

void
pg_tcp_set_cc(struct pg_tcp_conn *c, enum pg_tcp_cc cc)
{
	c->cc = cc;
	pg_tcp_cc_init(c);
}

struct pg_tcp_stack *
pg_tcp_conn_stack(const struct pg_tcp_conn *c)
{
	return c->stack;
}

void
pg_tcp_endpoints(const struct pg_tcp_conn *c, uint32_t *laddr,
		 uint16_t *lport, uint32_t *raddr, uint16_t *rport)
{
	if (laddr != NULL)
		*laddr = c->laddr;
	if (lport != NULL)
		*lport = rte_be_to_cpu_16(c->lport);
	if (raddr != NULL)
		*raddr = c->raddr;
	if (rport != NULL)
		*rport = rte_be_to_cpu_16(c->rport);
}

void
pg_tcp_conn_info(const struct pg_tcp_conn *c, struct pg_tcp_info *i)
{
	*i = (struct pg_tcp_info){
		.state = (enum pg_tcp_state)c->state,
		.mss = c->mss,
		.snd_wscale = c->snd_ws,
		.rcv_wscale = c->rcv_ws,
		.srtt_us = c->srtt_us,
		.rttvar_us = c->rttvar_us,
		.rto_ms = c->rto_ms,
		.cwnd = c->cwnd,
		.ssthresh = c->ssthresh,
		.snd_wnd = c->snd_wnd,
		.rcv_wnd = c->rcv_adv - c->rcv_nxt,
		.in_flight = pg_tcp_in_flight(c),
		.queued = c->queued,
		.ooo_bytes = c->ooo_bytes,
		.held_bytes = c->held_bytes,
		.retransmits = c->backoff,
		.sack = !!(c->flags & PG_TCPF_SACK),
		.timestamps = !!(c->flags & PG_TCPF_TS),
		.cc = c->cc,
	};
}
