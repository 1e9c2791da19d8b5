/*
 * A per-worker hashed timing wheel (Varghese & Lauck, scheme 6). Timers are
 * embedded in the objects they serve (a TCP control block holds its own),
 * so arming allocates nothing; arm and cancel are O(1). A timer further
 * away than one turn of the wheel stays in its slot and is skipped until
 * its turn comes.
 *
 * Not thread-safe: one wheel per worker, used by that worker only.
 */
#ifndef PG_TIMER_H
#define PG_TIMER_H

#include <stdint.h>

#define PG_WHEEL_SLOTS 4096          /* power of two */

struct pg_timer;
typedef void (*pg_timer_fn)(struct pg_timer *t);

struct pg_timer {
	struct pg_timer *next;
	struct pg_timer **pprev;     /* NULL when not armed */
	uint64_t expires;            /* tick at which it fires */
	pg_timer_fn fn;
};

struct pg_wheel {
	uint64_t tick_ns;            /* length of a tick */
	uint64_t now;                /* last tick processed */
	uint64_t armed;              /* timers in the wheel */
	struct pg_timer *slot[PG_WHEEL_SLOTS];
};

/* A wheel whose ticks last tick_ns, starting at time now_ns. */
void pg_wheel_init(struct pg_wheel *w, uint64_t tick_ns, uint64_t now_ns);

static inline int
pg_timer_armed(const struct pg_timer *t)
{
	return t->pprev != NULL;
}

/* Initialise a timer (not armed) that will call fn. */
static inline void
pg_timer_init(struct pg_timer *t, pg_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}

/*
 * Fire t after at least delay_ns and at most two ticks more (rearming an
 * armed timer moves it).
 */
void pg_timer_arm(struct pg_wheel *w, struct pg_timer *t, uint64_t delay_ns);

/* Disarm t; harmless when it is not armed. */
void pg_timer_cancel(struct pg_wheel *w, struct pg_timer *t);

/*
 * Run every timer due at now_ns, in tick order. A callback may arm or
 * cancel any timer, itself included. Returns how many fired.
 */
unsigned pg_wheel_advance(struct pg_wheel *w, uint64_t now_ns);

/*
 * The time (ns) at which pg_wheel_advance will next fire a timer,
 * UINT64_MAX when none is armed. Scans the wheel: for idle paths only.
 */
uint64_t pg_wheel_next(const struct pg_wheel *w);

#endif
