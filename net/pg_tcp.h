/*
 * TCP (RFC 9293) without per-socket buffers: the public API.
 *
 * A connection is a pointer to a small control block. There is no receive
 * buffer: in-order payload is handed to the application straight from the
 * mbuf it arrived in. There is no send buffer: the application hands the
 * stack mbuf chains, which the stack keeps by reference until the peer
 * acknowledges them. Memory grows only with what the network makes
 * necessary (unacknowledged data, out-of-order segments, data the
 * application refused), under per-connection and per-stack budgets.
 *
 * One stack per worker, used by that worker only (not thread-safe).
 *
 * Ownership of mbufs:
 *   - on_data(c, m): m (a chain whose data is exactly the payload) becomes
 *     the application's when on_data returns PG_OK; when it returns
 *     PG_AGAIN the stack keeps m, shrinks the advertised window by its
 *     length and hands it over again after pg_tcp_recv_resume().
 *   - pg_tcp_send(c, m): consumes m on every path. The stack frees it
 *     once every byte of it is acknowledged (or the connection dies). The
 *     application must not modify the data after handing it over: the
 *     segments on the wire reference it.
 *   - pg_tcp_write(c, buf, len): copies; buf stays the caller's.
 *
 * Callbacks may call any function of this API on their own connection,
 * including pg_tcp_close and pg_tcp_abort. After pg_tcp_close or
 * pg_tcp_abort the application must forget the pointer: the stack makes
 * no further callback for it.
 */
#ifndef PG_TCP_H
#define PG_TCP_H

#include <stdint.h>

#include <rte_mbuf.h>

struct pg_netif;
struct pg_tcp_stack;
struct pg_tcp_conn;
struct pg_tcp_listener;

enum pg_tcp_state {
	PG_TCP_CLOSED,
	PG_TCP_LISTEN,
	PG_TCP_SYN_SENT,
	PG_TCP_SYN_RCVD,
	PG_TCP_ESTABLISHED,
	PG_TCP_FIN_WAIT_1,
	PG_TCP_FIN_WAIT_2,
	PG_TCP_CLOSE_WAIT,
	PG_TCP_CLOSING,
	PG_TCP_LAST_ACK,
	PG_TCP_TIME_WAIT,
	PG_TCP_NSTATES
};

extern const char *const pg_tcp_state_names[PG_TCP_NSTATES];

/* Why a connection ended, as on_close reports it. */
enum pg_tcp_reason {
	PG_TCP_DONE,          /* both directions closed in order */
	PG_TCP_RESET,         /* the peer sent RST */
	PG_TCP_REFUSED,       /* RST in answer to our SYN */
	PG_TCP_TIMEOUT,       /* retransmissions, connect or keepalive gave up */
	PG_TCP_NOMEM,         /* out of mbufs or control blocks */
	PG_TCP_SHUTDOWN,      /* the stack is being destroyed */
	PG_TCP_NREASONS
};

extern const char *const pg_tcp_reason_names[PG_TCP_NREASONS];

enum pg_tcp_cc {
	PG_TCP_CC_NEWRENO,    /* RFC 5681 + RFC 6582 */
	PG_TCP_CC_CUBIC,      /* RFC 9438 */
};

struct pg_tcp_callbacks {
	/*
	 * A passive open completed (listeners only). Return PG_OK to keep the
	 * connection (set its context with pg_tcp_set_ctx), anything else to
	 * reset it.
	 */
	int (*on_accept)(struct pg_tcp_conn *c, void *listen_ctx);
	/* An active open completed. */
	void (*on_connected)(struct pg_tcp_conn *c);
	/* In-order payload; see the ownership rules above. */
	int (*on_data)(struct pg_tcp_conn *c, struct rte_mbuf *m);
	/* The peer will send no more (its FIN arrived in order). */
	void (*on_eof)(struct pg_tcp_conn *c);
	/* bytes of what was sent are acknowledged (and freed). */
	void (*on_acked)(struct pg_tcp_conn *c, uint32_t bytes);
	/* Queued data fell below the low-water mark after reaching the high one. */
	void (*on_writable)(struct pg_tcp_conn *c);
	/* The connection ended while the application still held it. */
	void (*on_close)(struct pg_tcp_conn *c, enum pg_tcp_reason why);
};

/* Per-stack settings; pg_tcp_conf_default fills sane values. */
struct pg_tcp_conf {
	uint32_t max_conns;          /* control blocks per stack */
	uint32_t rcv_wnd;            /* receive window offered, bytes */
	uint32_t snd_hiwat;          /* queued bytes that stop on_writable */
	uint32_t snd_lowat;          /* queued bytes that restart it */
	uint32_t ooo_max;            /* out-of-order mbuf memory per connection */
	uint32_t ooo_max_total;      /* out-of-order mbuf memory per stack */
	uint32_t syn_backlog;        /* half-open connections per listener */
	uint32_t rto_min_ms, rto_max_ms, rto_initial_ms;
	uint32_t delack_ms;
	uint32_t time_wait_ms;       /* 2MSL */
	uint32_t fin_wait2_ms;       /* orphaned FIN_WAIT_2 */
	uint32_t syn_retries;        /* SYN / SYN-ACK retransmissions */
	uint32_t retries;            /* data retransmissions before giving up */
	uint32_t keepalive_idle_ms, keepalive_intvl_ms, keepalive_probes;
	uint8_t cc;                  /* enum pg_tcp_cc, the default */
	uint8_t sack, timestamps, window_scaling, syncookies;
	uint8_t tail_loss_probe;     /* RFC 8985 probe before the RTO */
	uint64_t secret[2];          /* ISN and cookie key; 0: random */
};

void pg_tcp_conf_default(struct pg_tcp_conf *conf);

/* Options of one listener or one active open. */
struct pg_tcp_opts {
	uint8_t cc;                  /* enum pg_tcp_cc */
	uint8_t nodelay;             /* 1: no Nagle (the default) */
	uint8_t keepalive;
};

/* Counters of one stack (its worker's, in shared memory). */
#define PG_TCP_COUNTERS(X)                                                  \
	X(active_opens)  X(passive_opens) X(established)  X(conns)           \
	X(closed)        X(resets_in)     X(resets_out)   X(in_segs)         \
	X(out_segs)      X(retrans_segs)  X(fast_retrans) X(rto_expired)     \
	X(dup_acks)      X(ooo_segs)      X(ooo_dropped)  X(sack_blocks_in)  \
	X(challenge_acks) X(syncookies_sent) X(syncookies_ok)                \
	X(syncookies_bad) X(syn_dropped)  X(paws_rejected) X(bad_csum)       \
	X(no_listener)   X(keepalive_probes) X(persist_probes)               \
	X(timewait_reuse) X(delayed_acks) X(refused_bytes) X(conn_limit)       \
	X(tail_probes)   X(early_retrans)

struct pg_tcp_stats {
#define PG_TCP_COUNTER_FIELD(name) uint64_t name;
	PG_TCP_COUNTERS(PG_TCP_COUNTER_FIELD)
#undef PG_TCP_COUNTER_FIELD
};

/* --- stack --------------------------------------------------------------- */

/*
 * A stack over nif: it registers itself as the netif's TCP input. stats may
 * be NULL (the stack then keeps its own). NULL on failure, *err says why.
 */
struct pg_tcp_stack *pg_tcp_stack_create(struct pg_netif *nif,
					 const struct pg_tcp_conf *conf,
					 struct pg_tcp_stats *stats,
					 const char **err);

/*
 * Run the timers due at nif->now_ns and flush pending ACKs. Call once per
 * loop pass, after pg_netif_poll. Returns how many timers fired.
 */
unsigned pg_tcp_stack_poll(struct pg_tcp_stack *s);

/* Earliest time a timer is due (UINT64_MAX when none): for simulations. */
uint64_t pg_tcp_stack_next_timer(const struct pg_tcp_stack *s);

/* Abort every connection (on_close PG_TCP_SHUTDOWN) and free the stack. */
void pg_tcp_stack_destroy(struct pg_tcp_stack *s);

const struct pg_tcp_stats *pg_tcp_stack_stats(const struct pg_tcp_stack *s);

/* The netif the stack runs on: its mbuf pool, holder tag and clock. */
struct pg_netif *pg_tcp_stack_netif(const struct pg_tcp_stack *s);

/* Control blocks in use and bytes of memory the stack holds for them. */
uint32_t pg_tcp_stack_conns(const struct pg_tcp_stack *s);

/*
 * Connections whose data or FIN the peer has not acknowledged yet: what a
 * graceful stop waits for before it destroys the stack (walks the table).
 */
uint32_t pg_tcp_stack_unacked(const struct pg_tcp_stack *s);
uint64_t pg_tcp_stack_memory(const struct pg_tcp_stack *s);

/* --- opening ------------------------------------------------------------- */

/* Listen on port (host order). NULL on failure, *err says why. */
struct pg_tcp_listener *pg_tcp_listen(struct pg_tcp_stack *s, uint16_t port,
				      const struct pg_tcp_callbacks *cb,
				      void *ctx, const struct pg_tcp_opts *opts,
				      const char **err);

/* Stop listening; established connections are not affected. */
void pg_tcp_unlisten(struct pg_tcp_listener *l);

/*
 * Open a connection to addr:port (network order address, host order port)
 * from an ephemeral port whose flow steering maps back to this worker.
 * on_connected or on_close follows. NULL on failure, *err says why.
 */
struct pg_tcp_conn *pg_tcp_connect(struct pg_tcp_stack *s, uint32_t addr,
				   uint16_t port,
				   const struct pg_tcp_callbacks *cb, void *ctx,
				   const struct pg_tcp_opts *opts,
				   const char **err);

/* --- data ---------------------------------------------------------------- */

/*
 * Queue the chain m for sending (consumes m on every path). PG_OK, or
 * PG_ERROR when the connection can no longer send (m is freed).
 */
int pg_tcp_send(struct pg_tcp_conn *c, struct rte_mbuf *m);

/*
 * Copy len bytes of buf into the send queue: all of them (PG_OK) or none
 * (PG_ERROR: the connection cannot send, or mbufs ran out).
 */
int pg_tcp_write(struct pg_tcp_conn *c, const void *buf, uint32_t len);

/* Bytes queued (unsent plus unacknowledged). */
uint32_t pg_tcp_queued(const struct pg_tcp_conn *c);

/* Hand over again the data on_data refused. */
void pg_tcp_recv_resume(struct pg_tcp_conn *c);

/* --- closing ------------------------------------------------------------- */

/* Send FIN after the queued data; receiving goes on. */
void pg_tcp_shutdown(struct pg_tcp_conn *c);

/*
 * shutdown, and the application lets go: data that still arrives is
 * answered with RST (RFC 9293 3.6: nobody will read it), queued data is
 * still delivered to the peer. No more callbacks.
 */
void pg_tcp_close(struct pg_tcp_conn *c);

/* Send RST and free everything now. No more callbacks. */
void pg_tcp_abort(struct pg_tcp_conn *c);

/* --- per connection ------------------------------------------------------ */

void *pg_tcp_ctx(const struct pg_tcp_conn *c);
void pg_tcp_set_ctx(struct pg_tcp_conn *c, void *ctx);
enum pg_tcp_state pg_tcp_conn_state(const struct pg_tcp_conn *c);
void pg_tcp_set_nodelay(struct pg_tcp_conn *c, int on);
void pg_tcp_set_keepalive(struct pg_tcp_conn *c, int on);
void pg_tcp_set_cc(struct pg_tcp_conn *c, enum pg_tcp_cc cc);
struct pg_tcp_stack *pg_tcp_conn_stack(const struct pg_tcp_conn *c);

/* Addresses network order, ports host order; any pointer may be NULL. */
void pg_tcp_endpoints(const struct pg_tcp_conn *c, uint32_t *laddr,
		      uint16_t *lport, uint32_t *raddr, uint16_t *rport);

struct pg_tcp_info {
	enum pg_tcp_state state;
	uint32_t mss, snd_wscale, rcv_wscale;
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh, snd_wnd, rcv_wnd;
	uint32_t in_flight, queued, ooo_bytes, held_bytes;
	uint32_t retransmits;
	uint8_t sack, timestamps, cc;
};

void pg_tcp_conn_info(const struct pg_tcp_conn *c, struct pg_tcp_info *i);

#endif
