/*
 * The timing wheel: timers fire once, never early, in order, across many
 * turns of the wheel; cancel and re-arm work from inside callbacks; a
 * randomised run matches a brute-force model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/pg_timer.h"

#define MS 1000000ull

struct probe {
	struct pg_timer t;
	uint64_t due_ns;        /* when it was meant to fire */
	uint64_t fired_at;      /* wheel time when it fired */
	unsigned fired;
};

static struct pg_wheel W;
static uint64_t now_ns;

static void
on_fire(struct pg_timer *t)
{
	struct probe *p = (struct probe *)t;
	p->fired++;
	p->fired_at = now_ns;
}

static void
advance_to(uint64_t ns)
{
	now_ns = ns;
	pg_wheel_advance(&W, ns);
}

static void
test_fires_once_not_early(void **state)
{
	struct probe p = { 0 };
	pg_wheel_init(&W, MS, 0);
	pg_timer_init(&p.t, on_fire);
	pg_timer_arm(&W, &p.t, 10 * MS + 1);
	advance_to(11 * MS);
	assert_int_equal(p.fired, 0);
	advance_to(12 * MS);
	assert_int_equal(p.fired, 1);
	assert_false(pg_timer_armed(&p.t));
	advance_to(100 * MS);
	assert_int_equal(p.fired, 1);
}

static void
test_far_future_survives_many_turns(void **state)
{
	struct probe p = { 0 };
	pg_wheel_init(&W, MS, 0);
	pg_timer_init(&p.t, on_fire);
	uint64_t d = (3 * PG_WHEEL_SLOTS + 17) * MS;
	pg_timer_arm(&W, &p.t, d);
	for (uint64_t t = 0; t < d; t += 997 * MS) {
		advance_to(t);
		assert_int_equal(p.fired, 0);
	}
	advance_to(d + 2 * MS);
	assert_int_equal(p.fired, 1);
}

static struct probe chain[3];

static void
on_fire_rearm_and_cancel(struct pg_timer *t)
{
	on_fire(t);
	/* Cancel a timer due in the same slot, re-arm ourselves. */
	pg_timer_cancel(&W, &chain[1].t);
	if (((struct probe *)t)->fired < 3)
		pg_timer_arm(&W, t, 5 * MS);
}

static void
test_callbacks_may_arm_and_cancel(void **state)
{
	pg_wheel_init(&W, MS, 0);
	memset(chain, 0, sizeof(chain));
	pg_timer_init(&chain[0].t, on_fire_rearm_and_cancel);
	pg_timer_init(&chain[1].t, on_fire);
	pg_timer_init(&chain[2].t, on_fire);
	pg_timer_arm(&W, &chain[1].t, 3 * MS);
	pg_timer_arm(&W, &chain[0].t, 3 * MS);
	pg_timer_arm(&W, &chain[2].t, 3 * MS);
	advance_to(100 * MS);
	assert_int_equal(chain[0].fired, 3);
	/* chain[1] shared the slot and was cancelled before or after firing;
	 * it must not fire after its cancel, nor twice. */
	assert_true(chain[1].fired <= 1);
	assert_int_equal(chain[2].fired, 1);
	assert_int_equal(W.armed, 0);
}

/* Random arms, re-arms and cancels against a model. */
static void
test_random_against_model(void **state)
{
	enum { N = 500 };
	static struct probe p[N];
	uint64_t seed = 12345;
	pg_wheel_init(&W, MS, 0);
	memset(p, 0, sizeof(p));
	for (unsigned i = 0; i < N; i++)
		pg_timer_init(&p[i].t, on_fire);

	now_ns = 0;
	for (unsigned step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		unsigned i = (unsigned)(seed >> 33) % N;
		unsigned op = (unsigned)(seed >> 20) % 4;
		uint64_t delay = ((seed >> 40) % (2 * PG_WHEEL_SLOTS)) * MS / 3;
		if (op == 0) {
			pg_timer_cancel(&W, &p[i].t);
		} else if (op == 1 || !pg_timer_armed(&p[i].t)) {
			pg_timer_arm(&W, &p[i].t, delay);
			p[i].due_ns = now_ns + delay;
			p[i].fired = 0;
		}
		now_ns += ((seed >> 50) % 5) * MS / 2;
		pg_wheel_advance(&W, now_ns);
		for (unsigned k = 0; k < N; k++) {
			if (p[k].fired) {
				/* Never early; late by at most two ticks plus
				 * the last step of the clock (2 ms). */
				assert_true(p[k].fired == 1);
				assert_true(p[k].fired_at >= p[k].due_ns);
				assert_true(p[k].fired_at <= p[k].due_ns + 4 * MS);
				p[k].fired = 0;
				p[k].due_ns = UINT64_MAX;
			} else if (pg_timer_armed(&p[k].t)) {
				assert_true(now_ns < p[k].due_ns + 3 * MS);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_once_not_early),
		cmocka_unit_test(test_far_future_survives_many_turns),
		cmocka_unit_test(test_callbacks_may_arm_and_cancel),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests_name("timing wheel", tests, NULL, NULL);
}
