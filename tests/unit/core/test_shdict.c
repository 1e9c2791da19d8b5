/*
 * Shared dictionaries: every operation, TTLs on a fake clock, LRU eviction
 * and the forcible flag, big values, binary values, two threads counting,
 * a lock left by a dead holder (taken over by a waiter and by the
 * primary's recovery), and no arena memory lost once everything is gone.
 * The dictionaries live in MAP_SHARED memory so that a forked child is
 * another process on the same dictionary; one test goes through memzones.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tests/unit/pg_test.h"

#include "core/pg_shdict_priv.h"
#include "core/pg_siphash.h"

#define SMALL (64u << 10)

static uint64_t fake_now = 1000000;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

struct dict {
	struct pg_shdict d;
	void *mem;
	size_t size;
	uint64_t free0;
};

static void
dict_open(struct dict *t, size_t size)
{
	const char *err = NULL;
	t->size = size;
	t->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(t->mem != MAP_FAILED);
	if (pg_shdict_init(&t->d, "t", t->mem, size, &err) != PG_OK)
		fail_msg("%s", err);
	t->free0 = pg_shdict_free_space(&t->d);
	assert_int_equal(t->free0, pg_shdict_capacity(&t->d));
}

static void
dict_close(struct dict *t)
{
	munmap(t->mem, t->size);
}

static struct pg_shdict_value
str(const char *s, size_t len)
{
	return (struct pg_shdict_value){ .type = PG_SHDICT_STRING, .str = s,
					 .len = len };
}

static struct pg_shdict_value
num(double n)
{
	return (struct pg_shdict_value){ .type = PG_SHDICT_NUMBER, .num = n };
}

static int
set(struct dict *t, const char *k, struct pg_shdict_value v, uint64_t ttl,
    int *forcible)
{
	const char *err = NULL;
	return pg_shdict_set(&t->d, k, strlen(k), &v, ttl, forcible, &err);
}

static int
get(struct dict *t, const char *k, struct pg_shdict_value *v, char *buf,
    size_t len)
{
	const char *err = NULL;
	return pg_shdict_get(&t->d, k, strlen(k), v, buf, len, &err);
}

static double
get_num(struct dict *t, const char *k)
{
	struct pg_shdict_value v;
	assert_int_equal(get(t, k, &v, NULL, 0), PG_OK);
	assert_int_equal(v.type, PG_SHDICT_NUMBER);
	return v.num;
}

static void
setup_clock(void)
{
	fake_now = 1000000;
	pg_shdict_set_clock(fake_clock);
}

/* --- operations ---------------------------------------------------------- */

/* The reference vector of the SipHash paper (appendix A). */
static void
test_siphash_vector(void **state)
{
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(pg_siphash(key, msg, sizeof(msg)) == 0xa129ca6149be45e5ull);
}

static void
test_types_and_binary_values(void **state)
{
	struct dict t;
	struct pg_shdict_value v;
	char buf[64];
	const char bin[] = "a\0b\0\xff";
	setup_clock();
	dict_open(&t, 4 * SMALL);

	struct pg_shdict_value s = str(bin, sizeof(bin));
	s.flags = 7;
	assert_int_equal(set(&t, "s", s, 0, NULL), PG_OK);
	assert_int_equal(set(&t, "n", num(-2.5), 0, NULL), PG_OK);
	struct pg_shdict_value b = { .type = PG_SHDICT_BOOLEAN, .boolean = 5 };
	assert_int_equal(set(&t, "b", b, 0, NULL), PG_OK);
	assert_int_equal(set(&t, "e", str("", 0), 0, NULL), PG_OK);

	assert_int_equal(get(&t, "s", &v, buf, sizeof(buf)), PG_OK);
	assert_int_equal(v.type, PG_SHDICT_STRING);
	assert_int_equal(v.len, sizeof(bin));
	assert_memory_equal(v.str, bin, sizeof(bin));
	assert_int_equal(v.flags, 7);
	assert_true(get_num(&t, "n") == -2.5);
	assert_int_equal(get(&t, "b", &v, NULL, 0), PG_OK);
	assert_int_equal(v.type, PG_SHDICT_BOOLEAN);
	assert_int_equal(v.boolean, 1);
	assert_int_equal(get(&t, "e", &v, NULL, 0), PG_OK);
	assert_int_equal(v.len, 0);

	/* A buffer too small: told the size, nothing copied. */
	assert_int_equal(get(&t, "s", &v, buf, 3), PG_AGAIN);
	assert_int_equal(v.len, sizeof(bin));
	assert_int_equal(get(&t, "x", &v, buf, sizeof(buf)), PG_DECLINED);

	/* Setting nil deletes; keys are checked. */
	assert_int_equal(set(&t, "s", (struct pg_shdict_value){ 0 }, 0, NULL),
			 PG_OK);
	assert_int_equal(get(&t, "s", &v, buf, sizeof(buf)), PG_DECLINED);
	const char *err = NULL;
	assert_int_equal(pg_shdict_set(&t.d, "", 0, &b, 0, NULL, &err),
			 PG_ERROR);
	assert_string_equal(err, "empty key");
	char *big = calloc(1, PG_SHDICT_KEY_MAX + 1);
	memset(big, 'k', PG_SHDICT_KEY_MAX + 1);
	assert_int_equal(pg_shdict_set(&t.d, big, PG_SHDICT_KEY_MAX + 1, &b, 0,
				       NULL, &err), PG_ERROR);
	assert_string_equal(err, "key too long");
	assert_int_equal(pg_shdict_set(&t.d, big, PG_SHDICT_KEY_MAX, &b, 0,
				       NULL, &err), PG_OK);
	assert_int_equal(pg_shdict_get(&t.d, big, PG_SHDICT_KEY_MAX, &v, NULL,
				       0, &err), PG_OK);
	free(big);
	dict_close(&t);
}

static void
test_add_replace_delete(void **state)
{
	struct dict t;
	const char *err = NULL;
	struct pg_shdict_value one = num(1), two = num(2);
	setup_clock();
	dict_open(&t, SMALL);

	assert_int_equal(pg_shdict_replace(&t.d, "k", 1, &one, 0, NULL, &err),
			 PG_DECLINED);
	assert_string_equal(err, "not found");
	assert_int_equal(pg_shdict_add(&t.d, "k", 1, &one, 100, NULL, &err),
			 PG_OK);
	assert_int_equal(pg_shdict_add(&t.d, "k", 1, &two, 0, NULL, &err),
			 PG_DECLINED);
	assert_string_equal(err, "exists");
	assert_true(get_num(&t, "k") == 1);
	assert_int_equal(pg_shdict_replace(&t.d, "k", 1, &two, 0, NULL, &err),
			 PG_OK);
	assert_true(get_num(&t, "k") == 2);

	/* add succeeds over an expired item, replace does not see it. */
	assert_int_equal(set(&t, "x", one, 10, NULL), PG_OK);
	fake_now += 10;
	assert_int_equal(pg_shdict_replace(&t.d, "x", 1, &two, 0, NULL, &err),
			 PG_DECLINED);
	assert_int_equal(set(&t, "x", one, 10, NULL), PG_OK);
	fake_now += 10;
	assert_int_equal(pg_shdict_add(&t.d, "x", 1, &two, 0, NULL, &err),
			 PG_OK);
	assert_true(get_num(&t, "x") == 2);

	assert_int_equal(pg_shdict_delete(&t.d, "k", 1, &err), PG_OK);
	assert_int_equal(pg_shdict_delete(&t.d, "k", 1, &err), PG_DECLINED);
	dict_close(&t);
}

static void
test_incr(void **state)
{
	struct dict t;
	const char *err = NULL;
	double out = 0;
	uint64_t ttl;
	setup_clock();
	dict_open(&t, SMALL);

	assert_int_equal(pg_shdict_incr(&t.d, "c", 1, 1, 0, 0, 0, &out, NULL,
					&err), PG_DECLINED);
	assert_string_equal(err, "not found");
	assert_int_equal(pg_shdict_incr(&t.d, "c", 1, 2, 1, 10, 500, &out,
					NULL, &err), PG_OK);
	assert_true(out == 12);
	assert_int_equal(pg_shdict_incr(&t.d, "c", 1, -0.5, 1, 10, 0, &out,
					NULL, &err), PG_OK);
	assert_true(out == 11.5);
	/* The init TTL stays with the item. */
	assert_int_equal(pg_shdict_ttl(&t.d, "c", 1, &ttl, &err), PG_OK);
	assert_int_equal(ttl, 500);
	fake_now += 500;
	assert_int_equal(pg_shdict_incr(&t.d, "c", 1, 1, 0, 0, 0, &out, NULL,
					&err), PG_DECLINED);

	assert_int_equal(set(&t, "s", str("x", 1), 0, NULL), PG_OK);
	assert_int_equal(pg_shdict_incr(&t.d, "s", 1, 1, 1, 0, 0, &out, NULL,
					&err), PG_ERROR);
	assert_string_equal(err, "not a number");
	dict_close(&t);
}

static void
test_ttl_and_expire(void **state)
{
	struct dict t;
	struct pg_shdict_stats st;
	struct pg_shdict_value v;
	const char *err = NULL;
	uint64_t ttl = 99;
	setup_clock();
	dict_open(&t, SMALL);

	assert_int_equal(set(&t, "forever", num(1), 0, NULL), PG_OK);
	assert_int_equal(set(&t, "brief", num(2), 1000, NULL), PG_OK);
	assert_int_equal(pg_shdict_ttl(&t.d, "forever", 7, &ttl, &err), PG_OK);
	assert_int_equal(ttl, 0);
	fake_now += 400;
	assert_int_equal(pg_shdict_ttl(&t.d, "brief", 5, &ttl, &err), PG_OK);
	assert_int_equal(ttl, 600);
	fake_now += 599;
	assert_int_equal(get(&t, "brief", &v, NULL, 0), PG_OK);
	fake_now += 1;
	assert_int_equal(get(&t, "brief", &v, NULL, 0), PG_DECLINED);
	assert_int_equal(pg_shdict_ttl(&t.d, "brief", 5, &ttl, &err),
			 PG_DECLINED);

	/* expire: give a TTL, take it away. */
	assert_int_equal(pg_shdict_expire(&t.d, "forever", 7, 50, &err), PG_OK);
	assert_int_equal(pg_shdict_ttl(&t.d, "forever", 7, &ttl, &err), PG_OK);
	assert_int_equal(ttl, 50);
	assert_int_equal(pg_shdict_expire(&t.d, "forever", 7, 0, &err), PG_OK);
	fake_now += 100;
	assert_int_equal(get(&t, "forever", &v, NULL, 0), PG_OK);
	assert_int_equal(pg_shdict_expire(&t.d, "nope", 4, 5, &err),
			 PG_DECLINED);

	/* flush_expired sweeps what nobody asked for again. */
	for (int i = 0; i < 10; i++) {
		char k[8];
		snprintf(k, sizeof(k), "e%d", i);
		assert_int_equal(set(&t, k, num(i), 10, NULL), PG_OK);
	}
	fake_now += 10;
	assert_int_equal(pg_shdict_flush_expired(&t.d, 4), 4);
	assert_int_equal(pg_shdict_flush_expired(&t.d, 0), 6);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.items, 1);
	assert_int_equal(st.expired, 11);
	dict_close(&t);
}

static void
test_keys(void **state)
{
	struct dict t;
	char buf[64];
	size_t used;
	struct pg_shdict_value v;
	setup_clock();
	dict_open(&t, SMALL);

	assert_int_equal(set(&t, "a", num(1), 0, NULL), PG_OK);
	assert_int_equal(set(&t, "bb", num(2), 5, NULL), PG_OK);
	assert_int_equal(set(&t, "ccc", num(3), 0, NULL), PG_OK);
	assert_int_equal(get(&t, "a", &v, NULL, 0), PG_OK);  /* a is hottest */

	assert_int_equal(pg_shdict_keys(&t.d, 0, buf, sizeof(buf), &used), 3);
	assert_int_equal(used, 3 * 2 + 6);
	uint16_t len;
	memcpy(&len, buf, 2);
	assert_int_equal(len, 1);
	assert_int_equal(buf[2], 'a');
	memcpy(&len, buf + 3, 2);
	assert_int_equal(len, 3);
	assert_memory_equal(buf + 5, "ccc", 3);

	assert_int_equal(pg_shdict_keys(&t.d, 1, buf, sizeof(buf), &used), 1);
	assert_int_equal(used, 3);
	assert_int_equal(pg_shdict_keys(&t.d, 0, buf, 4, &used), PG_AGAIN);
	assert_int_equal(used, 12);
	fake_now += 5;
	assert_int_equal(pg_shdict_keys(&t.d, 0, buf, sizeof(buf), &used), 2);

	pg_shdict_flush_all(&t.d);
	assert_int_equal(pg_shdict_keys(&t.d, 0, buf, sizeof(buf), &used), 0);
	assert_int_equal(pg_shdict_free_space(&t.d), t.free0);
	dict_close(&t);
}

/* --- memory -------------------------------------------------------------- */

static void
key_of(char *k, size_t len, unsigned i)
{
	snprintf(k, len, "key%u", i);
}

static void
test_lru_eviction_and_forcible(void **state)
{
	struct dict t;
	struct pg_shdict_stats st;
	struct pg_shdict_value v;
	char k[16], val[200] = { 0 };
	int forcible = 0;
	unsigned n = 0;
	setup_clock();
	dict_open(&t, SMALL);

	/* Fill until the first store has to evict. */
	for (;;) {
		key_of(k, sizeof(k), n);
		assert_int_equal(set(&t, k, str(val, sizeof(val)), 0, &forcible),
				 PG_OK);
		if (forcible)
			break;
		n++;
		/* key0 stays hot: it must not be the one to go. */
		assert_int_equal(get(&t, "key0", &v, val, sizeof(val)), PG_OK);
	}
	assert_true(n > 100);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.items, n);
	assert_int_equal(get(&t, "key0", &v, val, sizeof(val)), PG_OK);
	assert_int_equal(get(&t, "key1", &v, val, sizeof(val)), PG_DECLINED);
	assert_int_equal(get(&t, "key2", &v, val, sizeof(val)), PG_OK);

	/* Expired items go before any live one, and without forcible:
	 * key3, now the coldest, expires (expire does not touch the LRU). */
	const char *err = NULL;
	assert_int_equal(pg_shdict_expire(&t.d, "key3", 4, 1, &err), PG_OK);
	fake_now += 1;
	assert_int_equal(set(&t, "new", str(val, sizeof(val)), 0, &forcible),
			 PG_OK);
	assert_int_equal(forcible, 0);
	assert_int_equal(get(&t, "key3", &v, val, sizeof(val)), PG_DECLINED);
	/* key4 is the coldest: used, it leaves key5 to go. */
	assert_int_equal(get(&t, "key4", &v, val, sizeof(val)), PG_OK);
	assert_int_equal(set(&t, "new2", str(val, sizeof(val)), 0, &forcible),
			 PG_OK);
	assert_int_equal(forcible, 1);
	assert_int_equal(get(&t, "key5", &v, val, sizeof(val)), PG_DECLINED);
	assert_int_equal(get(&t, "key4", &v, val, sizeof(val)), PG_OK);
	assert_int_equal(get(&t, "key6", &v, val, sizeof(val)), PG_OK);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.evictions, 2);
	dict_close(&t);
}

static void
test_big_values(void **state)
{
	struct dict t;
	struct pg_shdict_stats st;
	struct pg_shdict_value v;
	const char *err = NULL;
	int forcible = 0;
	setup_clock();
	dict_open(&t, SMALL);
	size_t cap = pg_shdict_capacity(&t.d);
	char *big = malloc(cap);
	for (size_t i = 0; i < cap; i++)
		big[i] = (char)(i * 7);

	for (unsigned i = 0; i < 50; i++) {
		char k[16];
		key_of(k, sizeof(k), i);
		assert_int_equal(set(&t, k, num(i), 0, NULL), PG_OK);
	}
	/* Larger than the arena: refused at once, nothing evicted. */
	struct pg_shdict_value huge = str(big, cap);
	assert_int_equal(pg_shdict_set(&t.d, "huge", 4, &huge, 0, &forcible,
				       &err), PG_ERROR);
	assert_string_equal(err, "no memory");
	assert_int_equal(forcible, 0);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.items, 50);

	/* Almost the whole arena: every item goes, the value is whole. */
	size_t len = cap - 64;
	struct pg_shdict_value most = str(big, len);
	assert_int_equal(pg_shdict_set(&t.d, "most", 4, &most, 0, &forcible,
				       &err), PG_OK);
	assert_int_equal(forcible, 1);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.items, 1);
	assert_int_equal(st.evictions, 50);
	char *out = malloc(cap);
	assert_int_equal(get(&t, "most", &v, out, cap), PG_OK);
	assert_int_equal(v.len, len);
	assert_memory_equal(out, big, len);

	/* Two halves do not fit together: the second evicts the first. */
	struct pg_shdict_value half = str(big, cap / 2);
	assert_int_equal(pg_shdict_set(&t.d, "h1", 2, &half, 0, &forcible,
				       &err), PG_OK);
	assert_int_equal(pg_shdict_set(&t.d, "h2", 2, &half, 0, &forcible,
				       &err), PG_OK);
	assert_int_equal(forcible, 1);
	assert_int_equal(get(&t, "h2", &v, out, cap), PG_OK);
	assert_memory_equal(out, big, cap / 2);
	assert_int_equal(pg_shdict_delete(&t.d, "h2", 2, &err), PG_OK);
	assert_int_equal(pg_shdict_free_space(&t.d), t.free0);
	free(out);
	free(big);
	dict_close(&t);
}

/* Random sizes, overwrites and deletes; then delete all: nothing lost. */
static void
test_no_leak_after_deleting_everything(void **state)
{
	struct dict t;
	struct pg_shdict_stats st;
	const char *err = NULL;
	char k[16], *val = calloc(1, 4096);
	uint32_t seed = 12345;
	setup_clock();
	dict_open(&t, 256u << 10);

	for (unsigned round = 0; round < 20000; round++) {
		seed = seed * 1103515245 + 12345;
		unsigned key = (seed >> 8) % 300;
		size_t len = (seed >> 16) % 4000;
		key_of(k, sizeof(k), key);
		if ((seed & 7) == 0) {
			pg_shdict_delete(&t.d, k, strlen(k), &err);
		} else {
			struct pg_shdict_value v = str(val, len);
			assert_int_equal(pg_shdict_set(&t.d, k, strlen(k), &v,
						       (seed & 8) ? 3 : 0, NULL,
						       &err), PG_OK);
		}
		if ((round & 255) == 0)
			fake_now++;
	}
	pg_shdict_stats(&t.d, &st);
	assert_true(st.evictions > 0);
	for (unsigned i = 0; i < 300; i++) {
		key_of(k, sizeof(k), i);
		pg_shdict_delete(&t.d, k, strlen(k), &err);
	}
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.items, 0);
	assert_int_equal(st.free, t.free0);
	free(val);
	dict_close(&t);
}

/* --- concurrency and recovery -------------------------------------------- */

#define INCRS 200000

static void *
incr_thread(void *arg)
{
	struct dict *t = arg;
	const char *err = NULL;
	double out;
	for (int i = 0; i < INCRS; i++)
		if (pg_shdict_incr(&t->d, "n", 1, 1, 1, 0, 0, &out, NULL, &err)
		    != PG_OK)
			return (void *)1;
	return NULL;
}

static void
test_two_threads_count_exactly(void **state)
{
	struct dict t;
	pthread_t th[2];
	void *rc;
	pg_shdict_set_clock(NULL);
	dict_open(&t, SMALL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, incr_thread, &t), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], &rc), 0);
		assert_null(rc);
	}
	assert_true(get_num(&t, "n") == 2.0 * INCRS);
	dict_close(&t);
}

/*
 * A child process takes the lock, leaves an item half removed (what a
 * kill -9 inside pg_shdict_remove would leave) and dies holding it.
 */
static pid_t
die_holding_lock(struct dict *t, const char *half_removed)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pg_shdict_hdr *h = t->d.hdr;
		pg_shdict_lock(h);
		uint32_t off = h->lru_head;
		while (off != 0) {
			struct pg_shdict_node *n = (struct pg_shdict_node *)
				((char *)h + (size_t)off * PG_SHDICT_UNIT);
			if (n->klen == strlen(half_removed)
			    && memcmp(n + 1, half_removed, n->klen) == 0)
				n->state = PG_SHDICT_BUSY;
			off = n->lru_next;
		}
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(t->d.hdr->lock != 0);
	return pid;
}

static void
fill_ten(struct dict *t)
{
	char k[16];
	for (unsigned i = 0; i < 10; i++) {
		key_of(k, sizeof(k), i);
		assert_int_equal(set(t, k, num(i), 0, NULL), PG_OK);
	}
}

static void
assert_recovered(struct dict *t)
{
	struct pg_shdict_stats st;
	struct pg_shdict_value v;
	const char *err = NULL;
	char k[16];
	pg_shdict_stats(&t->d, &st);
	assert_int_equal(st.recoveries, 1);
	assert_int_equal(st.items, 9);
	assert_int_equal(get(t, "key3", &v, NULL, 0), PG_DECLINED);
	for (unsigned i = 0; i < 10; i++) {
		key_of(k, sizeof(k), i);
		if (i != 3)
			assert_true(get_num(t, k) == i);
		pg_shdict_delete(&t->d, k, strlen(k), &err);
	}
	assert_int_equal(pg_shdict_free_space(&t->d), t->free0);
}

static void
test_waiter_takes_over_dead_holders_lock(void **state)
{
	struct dict t;
	setup_clock();
	dict_open(&t, SMALL);
	fill_ten(&t);
	die_holding_lock(&t, "key3");
	/* This get spins, finds the holder gone, rebuilds and answers. */
	assert_true(get_num(&t, "key7") == 7);
	assert_int_equal(t.d.hdr->lock, 0);
	assert_recovered(&t);
	dict_close(&t);
}

static void
test_primary_recovers_dead_workers_lock(void **state)
{
	struct dict t;
	setup_clock();
	dict_open(&t, SMALL);
	fill_ten(&t);
	pid_t pid = die_holding_lock(&t, "key3");
	assert_int_equal(pg_shdict_recover(&t.d, pid + 1), 0);
	assert_int_equal(pg_shdict_recover(&t.d, pid), 1);
	assert_int_equal(t.d.hdr->lock, 0);
	assert_recovered(&t);
	assert_int_equal(pg_shdict_recover(&t.d, pid), 0);
	dict_close(&t);
}

/* A block size that does not add up: emptied, not trusted. */
static void
test_damaged_arena_is_emptied(void **state)
{
	struct dict t;
	struct pg_shdict_stats st;
	setup_clock();
	dict_open(&t, SMALL);
	fill_ten(&t);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pg_shdict_lock(t.d.hdr);
		struct pg_shdict_node *n = (struct pg_shdict_node *)
			((char *)t.d.hdr + (size_t)t.d.hdr->arena
			 * PG_SHDICT_UNIT);
		n->size = 1;
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(pg_shdict_recover(&t.d, pid), 1);
	pg_shdict_stats(&t.d, &st);
	assert_int_equal(st.items, 0);
	assert_int_equal(st.free, t.free0);
	assert_int_equal(set(&t, "again", num(1), 0, NULL), PG_OK);
	dict_close(&t);
}

/* --- memzones ------------------------------------------------------------ */

static void
test_memzones_by_name(void **state)
{
	static struct pg_config cfg;
	const char *err = NULL;
	pg_test_eal();
	cfg.nshdicts = 2;
	snprintf(cfg.shdicts[0].name, PG_SHDICT_NAME_MAX, "cache");
	cfg.shdicts[0].size = 1u << 20;
	snprintf(cfg.shdicts[1].name, PG_SHDICT_NAME_MAX, "limits");
	cfg.shdicts[1].size = SMALL;
	if (pg_shdict_create_all(&cfg, &err) != PG_OK)
		fail_msg("%s", err);
	assert_non_null(rte_memzone_lookup("pg_shdict_cache"));
	assert_non_null(rte_memzone_lookup("pg_shdict_limits"));
	assert_int_equal(pg_shdict_attach_all(&cfg, &err), PG_OK);
	struct pg_shdict *d = pg_shdict_find("limits");
	assert_non_null(d);
	assert_ptr_equal(pg_shdict_at(1), d);
	assert_null(pg_shdict_at(2));
	assert_null(pg_shdict_find("nope"));
	assert_true(pg_shdict_capacity(d) < SMALL);
	assert_true(pg_shdict_capacity(pg_shdict_find("cache"))
		    > (1u << 20) - (1u << 20) / 64 - 1024);

	/* What a worker does: attach to the memzone by name. */
	struct pg_shdict w;
	struct pg_shdict_value one = num(1), v;
	assert_int_equal(pg_shdict_set(d, "k", 1, &one, 0, NULL, &err), PG_OK);
	assert_int_equal(pg_shdict_attach(&w, "limits",
					  rte_memzone_lookup("pg_shdict_limits")
					  ->addr, &err), PG_OK);
	assert_int_equal(pg_shdict_get(&w, "k", 1, &v, NULL, 0, &err), PG_OK);
	assert_true(v.num == 1);
	assert_int_equal(pg_shdict_recover_all(getpid()), 0);
	pg_shdict_free_all();
	assert_null(rte_memzone_lookup("pg_shdict_cache"));
	assert_null(pg_shdict_find("cache"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test(test_types_and_binary_values),
		cmocka_unit_test(test_add_replace_delete),
		cmocka_unit_test(test_incr),
		cmocka_unit_test(test_ttl_and_expire),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_lru_eviction_and_forcible),
		cmocka_unit_test(test_big_values),
		cmocka_unit_test(test_no_leak_after_deleting_everything),
		cmocka_unit_test(test_two_threads_count_exactly),
		cmocka_unit_test(test_waiter_takes_over_dead_holders_lock),
		cmocka_unit_test(test_primary_recovers_dead_workers_lock),
		cmocka_unit_test(test_damaged_arena_is_emptied),
		cmocka_unit_test(test_memzones_by_name),
	};
	return cmocka_run_group_tests_name("shared dictionaries", tests, NULL,
					   NULL);
}
