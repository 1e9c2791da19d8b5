/*
 * TCP internals shared by pg_tcp*.c: the control block, the stack, the
 * parsed segment and the functions each file offers the others.
 *
 *   pg_tcp.c        stack, connection table, API, closing
 *   pg_tcp_in.c     segment arrival (RFC 9293 3.10.7), receive queues
 *   pg_tcp_out.c    segment building, output decisions, retransmission
 *   pg_tcp_timer.c  the per-connection timer (RTO, persist, delayed ACK,
 *                   keepalive, TIME_WAIT) and RTT estimation
 *   pg_tcp_cc.c     congestion control: NewReno, CUBIC, SACK recovery
 *   pg_tcp_isn.c    RFC 6528 ISNs and SYN cookies (SipHash-2-4)
 */
#ifndef PG_TCP_PRIV_H
#define PG_TCP_PRIV_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "core/pg_core.h"
#include "core/pg_timer.h"
#include "net/pg_mbuf.h"
#include "net/pg_netif.h"
#include "net/pg_tcp.h"

/* Sequence number comparisons (RFC 9293 3.4, modulo 2^32). */
#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

#define PG_TCP_FIN   RTE_TCP_FIN_FLAG
#define PG_TCP_SYN   RTE_TCP_SYN_FLAG
#define PG_TCP_RST   RTE_TCP_RST_FLAG
#define PG_TCP_PSH   RTE_TCP_PSH_FLAG
#define PG_TCP_ACK   RTE_TCP_ACK_FLAG
#define PG_TCP_URG   RTE_TCP_URG_FLAG

#define PG_TCP_MSS_DEFAULT   536       /* RFC 9293 3.7.1 */
#define PG_TCP_MSS_MIN       64
#define PG_TCP_MAX_WS        14
#define PG_TCP_SACK_MAX      4         /* blocks in one segment */
#define PG_TCP_SACK_BOARD    8         /* blocks the sender remembers */
#define PG_TCP_HDR_MAX       60
#define PG_TCP_TW_MAX_MS     (24u * 24 * 3600 * 1000)   /* PAWS: 24 days */
#define PG_TCP_COPY_MAX      256       /* payload copied, not referenced */
#define PG_TCP_CHALLENGE_PER_S 1000    /* RFC 5961 7: rate limit */
/* Memory an mbuf chain really takes, for the out-of-order budgets. */
#define PG_TCP_TRUESIZE(m) \
	((uint32_t)(m)->nb_segs * (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(struct rte_mbuf)))

/* Connection flags. */
enum {
	PG_TCPF_SACK      = 1u << 0,   /* SACK permitted both ways */
	PG_TCPF_TS        = 1u << 1,   /* timestamps negotiated */
	PG_TCPF_WS        = 1u << 2,   /* window scaling negotiated */
	PG_TCPF_NODELAY   = 1u << 3,
	PG_TCPF_KEEPALIVE = 1u << 4,
	PG_TCPF_SHUT_WR   = 1u << 5,   /* FIN to send after the queue */
	PG_TCPF_FIN_ACKED = 1u << 6,   /* our FIN is acknowledged */
	PG_TCPF_EOF_DUE   = 1u << 8,   /* on_eof waits for held data */
	PG_TCPF_ORPHAN    = 1u << 9,   /* the application let go */
	PG_TCPF_PASSIVE   = 1u << 10,  /* opened by a listener */
	PG_TCPF_RECOVERY  = 1u << 11,  /* fast recovery until recover */
	PG_TCPF_BUSY      = 1u << 12,  /* inside input/timer processing */
	PG_TCPF_DEAD      = 1u << 13,  /* free when no longer busy */
	PG_TCPF_ACK_NOW   = 1u << 14,
	PG_TCPF_WRITABLE  = 1u << 15,  /* on_writable owed at low water */
	PG_TCPF_RTT       = 1u << 16,  /* rtt_seq is being timed */
	PG_TCPF_PERSIST   = 1u << 17,  /* zero-window probing */
	PG_TCPF_HASHED    = 1u << 18,
	PG_TCPF_HALF_OPEN = 1u << 19,  /* counted in its listener's backlog */
	PG_TCPF_CLOSE_DUE = 1u << 20,  /* on_close waits for held data */
	PG_TCPF_RESUME    = 1u << 21,  /* recv_resume asked while busy */
	PG_TCPF_TLP       = 1u << 22,  /* rtx_at is a tail loss probe */
};

/*
 * The control block: every byte here is paid by every connection, idle or
 * not (the target is 256 bytes). Queues are mbuf chains linked through
 * their private area (pg_tcp_qnext); deadlines are stack milliseconds,
 * 0 when unset, all served by the one embedded timer.
 */
struct pg_tcp_conn {
	struct pg_tcp_conn *hnext;          /* connection table chain */
	struct pg_tcp_stack *stack;
	const struct pg_tcp_callbacks *cb;
	void *ctx;                          /* SYN_RCVD: the listener */
	struct pg_timer timer;
	struct rte_mbuf *sndq, *sndq_tail;  /* from snd_una on */
	struct rte_mbuf *ooo;               /* out of order, by sequence */
	struct rte_mbuf *held;              /* in order, refused by on_data */
	struct pg_tcp_sack_board *board;    /* peer's SACK blocks, lazily */

	uint32_t laddr, raddr;              /* network order */
	uint16_t lport, rport;              /* network order */
	uint32_t flags;

	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint32_t rcv_nxt, rcv_adv;
	uint32_t ts_recent;
	/* Timestamps make RTT timing by sequence number unnecessary: one
	 * field serves either (PG_TCPF_TS tells which). */
	union {
		uint32_t ts_recent_ms;      /* when ts_recent was taken (PAWS) */
		uint32_t rtt_ms;            /* when rtt_seq was sent (Karn) */
	};
	uint32_t queued, ooo_bytes, held_bytes;

	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh, recover;
	uint32_t rtt_seq;                   /* Karn timing without TS */
	uint32_t cc_wmax, cc_epoch_ms, cc_k_ms, cc_west;   /* CUBIC */

	uint32_t rtx_at, ack_at, idle_at;   /* deadlines, stack ms */

	uint16_t mss;                       /* send MSS (options excluded) */
	uint8_t state, snd_ws, rcv_ws;
	uint8_t dupacks, backoff, probes, cc, segs_unacked;
};

struct pg_tcp_sack_board {
	uint32_t n;
	uint32_t rexmit_nxt;                /* SACK recovery: next hole */
	struct { uint32_t start, end; } blk[PG_TCP_SACK_BOARD];
};

struct pg_tcp_listener {
	struct pg_tcp_listener *next;
	struct pg_tcp_stack *stack;
	const struct pg_tcp_callbacks *cb;
	void *ctx;
	struct pg_tcp_opts opts;
	uint16_t port;                      /* network order */
	uint32_t half_open;
};

struct pg_tcp_slab;

/* Where the last segment was taken from a send queue. */
struct pg_tcp_cursor {
	const struct pg_tcp_conn *conn;
	uint32_t una;                       /* valid while snd_una is this */
	uint32_t seq;                       /* first byte of seg */
	struct rte_mbuf *entry, *seg;
};

struct pg_tcp_stack {
	struct pg_netif *nif;
	struct pg_tcp_conf conf;
	struct pg_tcp_stats *stats;
	struct pg_tcp_stats own_stats;
	struct pg_wheel wheel;

	struct pg_tcp_conn **table;
	uint32_t table_mask;
	uint32_t nconns;
	struct pg_tcp_conn *free_conns;
	struct pg_tcp_slab *slabs;
	uint64_t slab_bytes;
	uint64_t board_bytes;
	uint32_t ooo_total;

	struct pg_tcp_listener *listeners;
	uint16_t next_port;                 /* ephemeral port search, host */
	uint64_t secret[2];
	uint32_t challenge_sec, challenge_n;
	uint64_t epoch_ns;                  /* stack ms are counted from here */
	struct pg_tcp_cursor cursor;
	const struct pg_tcp_conn *last_ooo_conn;   /* first SACK block */
	uint32_t last_ooo_seq;
};

/* A segment as input parses it. */
struct pg_tcp_seg {
	uint32_t laddr, raddr;              /* network order, ours first */
	uint16_t lport, rport;
	uint32_t seq, ack, wnd, len;        /* len: payload + SYN + FIN */
	uint32_t plen;                      /* payload bytes */
	uint8_t flags;
	uint8_t has_mss, has_ws, sack_ok, has_ts, nsack;
	uint8_t ws;
	uint16_t mss;
	uint32_t tsval, tsecr;
	struct { uint32_t start, end; } sack[PG_TCP_SACK_MAX];
};


/* --- pg_tcp.c ----------------------------------------------------------- */

/* The send queue goes away: the stack's cursor must not lead into it. */
static inline void
pg_tcp_sndq_forget(struct pg_tcp_conn *c)
{
	if (c->stack->cursor.conn == c)
		c->stack->cursor.conn = NULL;
}

static inline uint32_t
pg_tcp_now_ms(const struct pg_tcp_stack *s)
{
	return (uint32_t)((s->nif->now_ns - s->epoch_ns) / 1000000) + 1;
}

struct pg_tcp_conn *pg_tcp_lookup(struct pg_tcp_stack *s, uint32_t laddr,
				  uint16_t lport, uint32_t raddr,
				  uint16_t rport);
struct pg_tcp_conn *pg_tcp_conn_new(struct pg_tcp_stack *s, uint32_t laddr,
				    uint16_t lport, uint32_t raddr,
				    uint16_t rport, const char **err);
void pg_tcp_set_state(struct pg_tcp_conn *c, enum pg_tcp_state st);
/* The connection ends: callbacks if attached, then free (or defer). */
void pg_tcp_conn_done(struct pg_tcp_conn *c, enum pg_tcp_reason why);
void pg_tcp_conn_release(struct pg_tcp_conn *c);
/* End of input or timer work on c. Returns 1 when c is gone. */
int pg_tcp_unbusy(struct pg_tcp_conn *c);
void pg_tcp_enter_time_wait(struct pg_tcp_conn *c);
void pg_tcp_close_due(struct pg_tcp_conn *c);
void pg_tcp_free_queue(struct rte_mbuf *q);
struct pg_tcp_listener *pg_tcp_find_listener(struct pg_tcp_stack *s,
					     uint16_t nport);
void pg_tcp_apply_opts(struct pg_tcp_conn *c, const struct pg_tcp_opts *o);
/* A passive connection leaves its listener's half-open count. */
void pg_tcp_half_open_done(struct pg_tcp_conn *c);
uint32_t pg_tcp_rcv_space(const struct pg_tcp_conn *c);
/* Chain helpers: drop n bytes from the front / keep only len bytes. */
struct rte_mbuf *pg_tcp_chain_adj(struct rte_mbuf *m, uint32_t n);
void pg_tcp_chain_trim(struct rte_mbuf *m, uint32_t len);

/* --- pg_tcp_in.c -------------------------------------------------------- */

void pg_tcp_input(struct pg_netif *nif, struct rte_mbuf *m);
/* Hand held data to the application again. Returns 1 when c is gone. */
int pg_tcp_deliver_held(struct pg_tcp_conn *c);

/* --- pg_tcp_out.c ------------------------------------------------------- */

/* Send what the windows allow; FIN when due. */
void pg_tcp_output(struct pg_tcp_conn *c);
/* Send one segment of [seq, seq+len) (data taken from the send queue). */
int pg_tcp_xmit(struct pg_tcp_conn *c, uint32_t seq, uint32_t len,
		uint8_t flags);
void pg_tcp_send_ack(struct pg_tcp_conn *c);
/* A bare segment with seq snd_una - 1: zero-window and keepalive probe. */
void pg_tcp_send_probe(struct pg_tcp_conn *c);
void pg_tcp_send_syn(struct pg_tcp_conn *c);
/* RST in answer to a segment that has no connection (RFC 9293 3.10.7.1). */
void pg_tcp_reset_reply(struct pg_tcp_stack *s, const struct pg_tcp_seg *seg);
void pg_tcp_send_rst(struct pg_tcp_conn *c);
/* SYN-ACK of a SYN cookie: there is no control block. */
void pg_tcp_send_cookie_synack(struct pg_tcp_stack *s,
			       const struct pg_tcp_seg *seg, uint32_t cookie,
			       uint32_t tsval);
/* Retransmit the first unacknowledged segment (or the FIN). */
uint32_t pg_tcp_retransmit_head(struct pg_tcp_conn *c);
uint8_t pg_tcp_rcv_wscale(const struct pg_tcp_stack *s);
uint32_t pg_tcp_eff_mss(const struct pg_tcp_conn *c);
uint32_t pg_tcp_wnd_to_advertise(struct pg_tcp_conn *c);
uint16_t pg_tcp_local_mss(const struct pg_tcp_stack *s);
uint32_t pg_tcp_tsval(const struct pg_tcp_conn *c);

/* --- pg_tcp_timer.c ----------------------------------------------------- */

void pg_tcp_timer_fire(struct pg_timer *t);
/* Re-arm the embedded timer for the earliest deadline. */
void pg_tcp_timer_update(struct pg_tcp_conn *c);
void pg_tcp_rtx_arm(struct pg_tcp_conn *c);
void pg_tcp_rtx_arm_probe(struct pg_tcp_conn *c);
void pg_tcp_rtt_sample(struct pg_tcp_conn *c, uint32_t rtt_us);
void pg_tcp_idle_arm(struct pg_tcp_conn *c);

/* --- pg_tcp_cc.c -------------------------------------------------------- */

void pg_tcp_cc_init(struct pg_tcp_conn *c);
/* acked bytes advanced snd_una (outside recovery). */
void pg_tcp_cc_on_ack(struct pg_tcp_conn *c, uint32_t acked);
/* Entering fast recovery / after an RTO. */
void pg_tcp_cc_on_loss(struct pg_tcp_conn *c);
void pg_tcp_cc_on_rto(struct pg_tcp_conn *c);
uint32_t pg_tcp_in_flight(const struct pg_tcp_conn *c);
/* Record the SACK blocks of seg: how many SACK data above snd_una (the
 * others are D-SACKs, RFC 2883, or nonsense). */
unsigned pg_tcp_sack_update(struct pg_tcp_conn *c, const struct pg_tcp_seg *seg);
void pg_tcp_sack_prune(struct pg_tcp_conn *c);
uint32_t pg_tcp_sacked_bytes(const struct pg_tcp_conn *c);
/* SACK recovery (RFC 6675, simplified): holes first, then new data. */
void pg_tcp_sack_output(struct pg_tcp_conn *c);

/* --- pg_tcp_isn.c ------------------------------------------------------- */

uint32_t pg_tcp_isn(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		    uint32_t raddr, uint16_t rport);
uint32_t pg_tcp_cookie_make(struct pg_tcp_stack *s, uint32_t laddr,
			    uint16_t lport, uint32_t raddr, uint16_t rport,
			    uint32_t irs, unsigned mss_idx);
/* The MSS the cookie carried, or 0 when it is not valid. */
uint16_t pg_tcp_cookie_check(struct pg_tcp_stack *s, uint32_t laddr,
			     uint16_t lport, uint32_t raddr, uint16_t rport,
			     uint32_t irs, uint32_t cookie);
unsigned pg_tcp_cookie_mss_idx(uint16_t mss);

#endif
