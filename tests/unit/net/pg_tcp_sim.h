/*
 * Two TCP stacks in one process, joined by the simulated wire and driven
 * by a virtual clock: the harness of the TCP soak and memory tests.
 *
 *   side 0 (client) 198.18.0.1  --- wire end 0 | end 1 ---  198.18.0.2 (server) side 1
 *
 * Each side is a netif (worker 0 of 1, MAC 02:00:00:00:00:0n, the peer's
 * MAC already in its own neighbour table) and a stack on it. The run loop
 * delivers what the wire has due, runs the stacks' timers, lets the test
 * act (its step function), then jumps the clock to the earliest next event:
 * a frame arriving, a stack timer, or a wake-up the step asked for. Nothing
 * reads the real clock, so a run is a function of the wire's seed, the
 * stacks' secrets and what the test does.
 *
 * Include after tests/unit/pg_test.h (it uses pg_test_pool).
 */
#ifndef PG_TCP_SIM_H
#define PG_TCP_SIM_H

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "net/pg_driver_sim.h"
#include "net/pg_neigh.h"
#include "net/pg_netif.h"
#include "net/pg_tcp.h"

#define PG_TCP_SIM_CLIENT 0
#define PG_TCP_SIM_SERVER 1
#define PG_TCP_SIM_IP(side) \
	rte_cpu_to_be_32((uint32_t)198 << 24 | 18u << 16 | ((side) + 1u))
#define PG_TCP_SIM_MS       UINT64_C(1000000)
#define PG_TCP_SIM_START_NS (1000 * PG_TCP_SIM_MS)  /* virtual t0 */
/* Passes at one instant before the loop calls it a livelock. */
#define PG_TCP_SIM_SPIN_MAX 1000

struct pg_tcp_sim;

/* A driver in front of a wire end that can print every frame it passes. */
struct pg_tcp_sim_tap {
	struct pg_driver base;
	struct pg_driver *wire;
	struct pg_tcp_sim *sim;
	unsigned side;
};

struct pg_tcp_sim_side {
	struct pg_tcp_sim_tap tap;
	struct pg_netif nif;
	struct pg_stats stats;
	struct pg_neigh_table *neigh;
	struct pg_tcp_stack *stack;
	struct pg_tcp_stats tcp_stats;
};

struct pg_tcp_sim {
	struct pg_sim_wire *wire;
	struct pg_tcp_sim_side side[2];
	uint64_t now_ns;
	uint64_t passes;
	int trace;                 /* print every TCP segment sent and received */
};

/* How pg_tcp_sim_run ended. */
enum pg_tcp_sim_end {
	PG_TCP_SIM_DONE,       /* the step function said so */
	PG_TCP_SIM_DEADLINE,   /* the next event lies past the deadline */
	PG_TCP_SIM_IDLE,       /* nothing will ever happen again */
	PG_TCP_SIM_SPIN,       /* the clock stopped moving: a livelock */
};

static const char *const pg_tcp_sim_end_names[] = {
	"done", "deadline passed", "idle (no event pending)",
	"livelock (clock stuck)",
};

/*
 * Called once per pass, after frames and timers at s->now_ns were
 * handled. Return 1 to stop the run. Lower *wake to be called again at
 * that time even if nothing else happens then.
 */
typedef int (*pg_tcp_sim_step_fn)(struct pg_tcp_sim *s, void *arg,
				  uint64_t *wake);

static inline void
pg_tcp_sim_set_time(struct pg_tcp_sim *s, uint64_t now_ns)
{
	s->now_ns = now_ns;
	pg_sim_wire_set_time(s->wire, now_ns);
	for (unsigned i = 0; i < 2; i++)
		s->side[i].nif.now_ns = now_ns;
}

/* --- trace --------------------------------------------------------------- */

/* One line per TCP segment: time, direction, flags, seq, ack, window, length. */
static inline void
pg_tcp_sim_trace(const struct pg_tcp_sim *s, unsigned side, const char *what,
		 struct rte_mbuf *m)
{
	static const char dirs[2][3] = { "c>", "s>" };
	char fl[7] = "------";
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t hl;

	if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*ip))
		return;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
				     sizeof(struct rte_ether_hdr));
	hl = rte_ipv4_hdr_len(ip);
	if (ip->next_proto_id != IPPROTO_TCP
	    || m->data_len < sizeof(struct rte_ether_hdr) + hl + sizeof(*th))
		return;
	th = (const struct rte_tcp_hdr *)((const char *)ip + hl);
	for (unsigned i = 0; i < 6; i++)
		if (th->tcp_flags & (1u << i))
			fl[5 - i] = "UAPRSF"[5 - i];
	printf("# %12.6f %s %s %s %5u>%-5u seq %10u ack %10u wnd %5u len %u\n",
	       (double)(s->now_ns - PG_TCP_SIM_START_NS) / 1e6, what,
	       dirs[side], fl, rte_be_to_cpu_16(th->src_port),
	       rte_be_to_cpu_16(th->dst_port), rte_be_to_cpu_32(th->sent_seq),
	       rte_be_to_cpu_32(th->recv_ack), rte_be_to_cpu_16(th->rx_win),
	       rte_be_to_cpu_16(ip->total_length) - hl
	       - (uint32_t)(th->data_off >> 4) * 4);
}

static inline uint16_t
pg_tcp_sim_tap_rx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_tcp_sim_tap *t = (struct pg_tcp_sim_tap *)d;
	uint16_t k = pg_driver_rx(t->wire, pkts, n);
	for (uint16_t i = 0; t->sim->trace && i < k; i++)
		pg_tcp_sim_trace(t->sim, !t->side, "recv", pkts[i]);
	return k;
}

static inline uint16_t
pg_tcp_sim_tap_tx(struct pg_driver *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct pg_tcp_sim_tap *t = (struct pg_tcp_sim_tap *)d;
	for (uint16_t i = 0; t->sim->trace && i < n; i++)
		pg_tcp_sim_trace(t->sim, t->side, "send", pkts[i]);
	return pg_driver_tx(t->wire, pkts, n);
}

static const struct pg_driver_ops pg_tcp_sim_tap_ops = {
	pg_tcp_sim_tap_rx, pg_tcp_sim_tap_tx, NULL
};

/* --- setup --------------------------------------------------------------- */

static inline int
pg_tcp_sim_side_init(struct pg_tcp_sim *s, unsigned i, unsigned mtu,
		     const struct pg_tcp_conf *conf, const char **err)
{
	struct pg_tcp_sim_side *sd = &s->side[i];
	struct rte_ether_addr mac = {{ 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) }};
	struct rte_ether_addr peer = {{ 0x02, 0, 0, 0, 0, (uint8_t)(2 - i) }};

	sd->neigh = calloc(1, pg_neigh_table_size());
	if (sd->neigh == NULL) {
		*err = "out of memory for a neighbour table";
		return PG_ERROR;
	}
	pg_neigh_init(sd->neigh);
	pg_netif_init(&sd->nif, 0, 1, &mac, PG_TCP_SIM_IP(i), 24, 0, mtu);
	sd->tap.base.ops = &pg_tcp_sim_tap_ops;
	sd->tap.base.holder = sd->nif.holder;
	sd->tap.wire = pg_sim_wire_end(s->wire, i, sd->nif.holder);
	sd->tap.sim = s;
	sd->tap.side = i;
	sd->nif.drv = &sd->tap.base;
	sd->nif.pool = pg_test_pool;
	sd->nif.stats = &sd->stats;
	sd->nif.neigh = sd->neigh;
	sd->nif.now_ns = s->now_ns;
	sd->nif.sim_clock = 1;
	pg_neigh_update(sd->neigh, PG_TCP_SIM_IP(!i), &peer, s->now_ns, 1,
			sd->nif.holder);
	sd->stack = pg_tcp_stack_create(&sd->nif, conf, &sd->tcp_stats, err);
	return sd->stack != NULL ? PG_OK : PG_ERROR;
}

/*
 * Free the stacks (on_close PG_TCP_SHUTDOWN for what is still open), the
 * netifs' batches, the wire and every frame on it. Safe on a partly
 * initialised harness.
 */
static inline void
pg_tcp_sim_fini(struct pg_tcp_sim *s)
{
	for (unsigned i = 0; i < 2; i++) {
		struct pg_tcp_sim_side *sd = &s->side[i];
		if (sd->stack != NULL)
			pg_tcp_stack_destroy(sd->stack);
		sd->stack = NULL;
		if (sd->nif.drv != NULL)
			pg_netif_close(&sd->nif);
		free(sd->neigh);
		sd->neigh = NULL;
	}
	pg_sim_wire_destroy(s->wire);
	s->wire = NULL;
}

/*
 * Set up both sides over a wire configured by wc; conf[i] configures side
 * i's stack (give it fixed secrets for a deterministic run). PG_OK, or
 * PG_ERROR with *err saying why (the harness is then freed).
 */
static inline int
pg_tcp_sim_init(struct pg_tcp_sim *s, const struct pg_sim_conf *wc,
		unsigned mtu, const struct pg_tcp_conf *conf[2],
		const char **err)
{
	memset(s, 0, sizeof(*s));
	s->wire = pg_sim_wire_create(wc, pg_test_pool);
	if (s->wire == NULL) {
		*err = "out of memory for the wire";
		return PG_ERROR;
	}
	pg_tcp_sim_set_time(s, PG_TCP_SIM_START_NS);
	for (unsigned i = 0; i < 2; i++)
		if (pg_tcp_sim_side_init(s, i, mtu, conf[i], err) != PG_OK) {
			pg_tcp_sim_fini(s);
			return PG_ERROR;
		}
	return PG_OK;
}

static inline void
pg_tcp_sim_flush(struct pg_tcp_sim *s)
{
	for (unsigned i = 0; i < 2; i++)
		pg_netif_flush(&s->side[i].nif);
}

/* Earliest of the wire's next delivery, both stacks' timers and wake. */
static inline uint64_t
pg_tcp_sim_next(const struct pg_tcp_sim *s, uint64_t wake)
{
	uint64_t t = pg_sim_wire_next_event(s->wire);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t st = pg_tcp_stack_next_timer(s->side[i].stack);
		if (st < t)
			t = st;
	}
	return wake < t ? wake : t;
}

/*
 * Run until step returns 1 or the next event lies past deadline_ns
 * (virtual). step may be NULL (run until idle or the deadline).
 */
static inline enum pg_tcp_sim_end
pg_tcp_sim_run(struct pg_tcp_sim *s, pg_tcp_sim_step_fn step, void *arg,
	       uint64_t deadline_ns)
{
	unsigned spin = 0;

	for (;;) {
		uint64_t wake = UINT64_MAX;
		unsigned work = 0;

		s->passes++;
		for (unsigned i = 0; i < 2; i++)
			work += pg_netif_poll(&s->side[i].nif);
		for (unsigned i = 0; i < 2; i++)
			work += pg_tcp_stack_poll(s->side[i].stack);
		pg_tcp_sim_flush(s);
		if (step != NULL && step(s, arg, &wake))
			return PG_TCP_SIM_DONE;
		pg_tcp_sim_flush(s);

		uint64_t next = pg_tcp_sim_next(s, wake);
		if (next == UINT64_MAX)
			return PG_TCP_SIM_IDLE;
		if (next > deadline_ns)
			return PG_TCP_SIM_DEADLINE;
		if (next > s->now_ns) {
			pg_tcp_sim_set_time(s, next);
			spin = 0;
		} else if (work == 0 && ++spin > PG_TCP_SIM_SPIN_MAX) {
			return PG_TCP_SIM_SPIN;
		}
	}
}

#endif
