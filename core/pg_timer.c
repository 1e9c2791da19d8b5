#include <string.h>

#include "core/pg_timer.h"

void
pg_wheel_init(struct pg_wheel *w, uint64_t tick_ns, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->tick_ns = tick_ns;
	w->now = now_ns / tick_ns;
}

static void
pg_timer_link(struct pg_wheel *w, struct pg_timer *t)
{
	struct pg_timer **head = &w->slot[t->expires & (PG_WHEEL_SLOTS - 1)];
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
	w->armed++;
}

void
pg_timer_cancel(struct pg_wheel *w, struct pg_timer *t)
{
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
}

void
pg_timer_arm(struct pg_wheel *w, struct pg_timer *t, uint64_t delay_ns)
{
	/* Round up, plus the part of the current tick already gone (the wheel
	 * does not know it): a timer never fires early, at most two ticks
	 * late. */
	uint64_t ticks = (delay_ns + w->tick_ns - 1) / w->tick_ns;
	uint64_t expires = w->now + ticks + 1;
	/* TCP re-arms after every segment, mostly for the same tick. */
	if (pg_timer_armed(t) && t->expires == expires)
		return;
	pg_timer_cancel(w, t);
	t->expires = expires;
	pg_timer_link(w, t);
}

unsigned
pg_wheel_advance(struct pg_wheel *w, uint64_t now_ns)
{
	uint64_t target = now_ns / w->tick_ns;
	unsigned fired = 0;

	/* An idle wheel jumps straight to the present. */
	if (w->armed == 0) {
		if (target > w->now)
			w->now = target;
		return 0;
	}
	while (w->now < target) {
		/* A long gap (a stalled loop, a simulation's jump) skips the
		 * ticks where nothing expires instead of walking each. */
		if (target - w->now > PG_WHEEL_SLOTS) {
			uint64_t next = pg_wheel_next(w) / w->tick_ns;
			if (next > w->now + 1)
				w->now = (next < target ? next : target) - 1;
		}
		w->now++;
		/* Detach the slot: callbacks may arm or cancel anything, and
		 * what they arm for this slot waits for the next turn. */
		struct pg_timer **head = &w->slot[w->now & (PG_WHEEL_SLOTS - 1)];
		struct pg_timer *pending = *head, *t;
		*head = NULL;
		if (pending != NULL)
			pending->pprev = &pending;
		while ((t = pending) != NULL) {
			pg_timer_cancel(w, t);
			if (t->expires <= w->now) {
				t->fn(t);
				fired++;
			} else {
				pg_timer_link(w, t);    /* a later turn */
			}
		}
		if (w->armed == 0 && target > w->now)
			w->now = target;
	}
	return fired;
}

uint64_t
pg_wheel_next(const struct pg_wheel *w)
{
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return UINT64_MAX;
	for (uint64_t i = 1; i <= PG_WHEEL_SLOTS; i++) {
		const struct pg_timer *t = w->slot[(w->now + i) & (PG_WHEEL_SLOTS - 1)];
		for (; t != NULL; t = t->next)
			if (t->expires < best)
				best = t->expires;
		/* Nothing in a later slot can beat a timer of this turn. */
		if (best <= w->now + i)
			break;
	}
	return best == UINT64_MAX ? UINT64_MAX : best * w->tick_ns;
}
