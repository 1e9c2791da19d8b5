/*
 * The worker's file cache (http/pg_fcache.c) with its real reader thread:
 * opens (siblings, index, refusals), chunks read into mbufs that reference
 * them (bytes equal, shared between readers, clones keep them), memory
 * bounded (a sender waits until a chunk is released), a file truncated
 * while cached fails the read, and nothing is left busy or allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "tests/unit/pg_test.h"

#include "http/pg_fcache.h"

static char root[] = "/tmp/pg_test_fcache_XXXXXX";
static char *data;
#define SIZE (600u << 10)            /* 2 chunks and a bit */
#define CHUNK (256u << 10)

struct waiter {
	struct pg_fcache_waiter w;
	int called;
};

static void
woken(struct pg_fcache_waiter *w)
{
	((struct waiter *)w)->called++;
}

static void
put(const char *rel, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Poll fc until w was called (at most 5 s). */
static void
poll_until(struct pg_fcache *fc, struct waiter *w)
{
	for (int i = 0; i < 50000 && !w->called; i++) {
		pg_fcache_poll(fc);
		if (!w->called)
			usleep(100);
	}
	assert_true(w->called);
}

static struct pg_fcache *
cache(unsigned mb)
{
	const char *err = NULL;
	struct pg_fcache_conf conf = { .cache_mb = mb, .chunk_kb = CHUNK >> 10,
				       .readahead = 1 };
	struct pg_fcache *fc = pg_fcache_create(&conf, NULL, &err);
	assert_non_null(fc);
	return fc;
}

static struct pg_fcache_file *
open_ok(struct pg_fcache *fc, const char *rel, unsigned codings,
	const char *index, struct pg_fcache_open **out)
{
	struct waiter w = { .w.fn = woken };
	struct pg_fcache_open *o = pg_fcache_open(fc, root, rel, 0, codings,
						  index, &w.w);
	assert_non_null(o);
	poll_until(fc, &w);
	assert_int_equal(o->err, 0);
	struct pg_fcache_file *f = o->file;
	o->file = NULL;
	if (out != NULL)
		*out = o;
	else
		pg_fcache_open_release(fc, o);
	return f;
}

/* take, waiting as long as it says PG_AGAIN. */
static struct rte_mbuf *
take(struct pg_fcache *fc, struct pg_fcache_file *f, uint64_t off,
     uint64_t max)
{
	struct rte_mbuf *m = NULL;
	for (int i = 0; i < 10; i++) {
		struct waiter w = { .w.fn = woken };
		int rc = pg_fcache_take(fc, f, off, max, pg_test_pool, 1, &m,
					&w.w);
		if (rc == PG_OK)
			return m;
		assert_int_equal(rc, PG_AGAIN);
		poll_until(fc, &w);
	}
	fail_msg("take never succeeded");
	return NULL;
}

static void
chain_equal(struct rte_mbuf *m, const char *want, uint32_t len)
{
	uint32_t at = 0;
	assert_int_equal(m->pkt_len, len);
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		assert_true(RTE_MBUF_HAS_EXTBUF(s));
		assert_memory_equal(rte_pktmbuf_mtod(s, char *), want + at,
				    s->data_len);
		at += s->data_len;
	}
	assert_int_equal(at, len);
}

static void
settle(struct pg_fcache *fc)
{
	struct pg_fcache_stats st;
	for (int i = 0; i < 100; i++) {
		pg_fcache_poll(fc);
		usleep(1000);
	}
	pg_fcache_stats(fc, &st);
	assert_int_equal(st.busy, 0);
}

static void
test_read_whole_file(void **state)
{
	struct pg_fcache *fc = cache(4);
	struct pg_fcache_file *f = open_ok(fc, "f.bin", 0, "", NULL);
	(void)state;

	assert_int_equal(f->st.st_size, SIZE);
	for (uint64_t off = 0; off < SIZE;) {
		struct rte_mbuf *m = take(fc, f, off, 100000);
		uint32_t n = m->pkt_len;
		assert_true(n > 0 && n <= 100000);
		chain_equal(m, data + off, n);
		/* a clone, as TCP keeps payload, outlives the original */
		struct rte_mbuf *c = rte_pktmbuf_clone(m, pg_test_pool);
		assert_non_null(c);
		pg_mbuf_free(m);
		chain_equal(c, data + off, n);
		pg_mbuf_free(c);
		off += n;
	}
	/* the same bytes again: from the cache, no read */
	struct pg_fcache_stats a, b;
	pg_fcache_stats(fc, &a);
	struct rte_mbuf *m1 = take(fc, f, 1000, 10), *m2 = take(fc, f, 1000, 10);
	pg_fcache_stats(fc, &b);
	assert_int_equal(b.misses, a.misses);
	assert_ptr_equal(m1->buf_addr, m2->buf_addr);     /* shared */
	pg_mbuf_free(m1);
	pg_mbuf_free(m2);
	pg_fcache_file_put(fc, f);
	settle(fc);
	pg_fcache_destroy(fc);
	pg_test_assert_no_leak();
}

static void
test_memory_bounded(void **state)
{
	struct pg_fcache *fc = cache(1);      /* 4 chunks */
	struct pg_fcache_file *f = open_ok(fc, "f.bin", 0, "", NULL);
	struct pg_fcache_file *g = open_ok(fc, "g.bin", 0, "", NULL);
	struct rte_mbuf *held[3];
	(void)state;

	for (unsigned i = 0; i < 3; i++)
		held[i] = take(fc, f, (uint64_t)i * CHUNK, 1);
	struct rte_mbuf *h4 = take(fc, g, 0, 1);
	/* every chunk busy: the next sender waits */
	struct waiter w = { .w.fn = woken };
	struct rte_mbuf *m = NULL;
	assert_int_equal(pg_fcache_take(fc, g, CHUNK, 1, pg_test_pool, 1, &m,
					&w.w), PG_AGAIN);
	assert_int_equal(w.called, 0);
	pg_mbuf_free(held[0]);                /* a chunk is released */
	assert_int_equal(w.called, 0);        /* woken by the poll only */
	pg_fcache_poll(fc);
	assert_int_equal(w.called, 1);
	m = take(fc, g, CHUNK, 1);
	assert_int_equal(*rte_pktmbuf_mtod(m, char *), data[CHUNK] ^ 0x5a);
	pg_mbuf_free(m);
	pg_mbuf_free(held[1]);
	pg_mbuf_free(held[2]);
	pg_mbuf_free(h4);
	pg_fcache_file_put(fc, f);
	pg_fcache_file_put(fc, g);
	settle(fc);
	pg_fcache_destroy(fc);
	pg_test_assert_no_leak();
}

static void
test_truncated_fails(void **state)
{
	struct pg_fcache *fc = cache(4);
	(void)state;
	put("t.bin", data, SIZE);
	struct pg_fcache_file *f = open_ok(fc, "t.bin", 0, "", NULL);
	char path[512];
	snprintf(path, sizeof(path), "%s/t.bin", root);
	assert_int_equal(truncate(path, 1000), 0);
	struct waiter w = { .w.fn = woken };
	struct rte_mbuf *m = NULL;
	int rc = pg_fcache_take(fc, f, CHUNK, 10, pg_test_pool, 1, &m, &w.w);
	assert_int_equal(rc, PG_AGAIN);
	poll_until(fc, &w);
	rc = pg_fcache_take(fc, f, CHUNK, 10, pg_test_pool, 1, &m, &w.w);
	assert_int_equal(rc, PG_ERROR);
	pg_fcache_file_put(fc, f);
	settle(fc);
	pg_fcache_destroy(fc);
	pg_test_assert_no_leak();
}

static void
test_open_variants(void **state)
{
	struct pg_fcache *fc = cache(1);
	struct pg_fcache_open *o;
	(void)state;

	put("page.txt", "plain", 5);
	put("page.txt.gz", "gzipped", 7);
	struct pg_fcache_file *f = open_ok(fc, "page.txt",
		PG_FILE_CODING_BIT(PG_FILE_GZIP) | PG_FILE_CODING_BIT(PG_FILE_BR),
		"", &o);
	assert_int_equal(o->coding, PG_FILE_GZIP);
	assert_int_equal(f->st.st_size, 7);
	pg_fcache_open_release(fc, o);
	pg_fcache_file_put(fc, f);
	f = open_ok(fc, "page.txt", 0, "", &o);
	assert_int_equal(o->coding, PG_FILE_IDENTITY);
	assert_int_equal(f->st.st_size, 5);
	pg_fcache_open_release(fc, o);
	pg_fcache_file_put(fc, f);
	f = open_ok(fc, "sub", 0, "index.html", &o);
	assert_true(o->is_dir);
	assert_string_equal(o->rel, "sub/index.html");
	pg_fcache_open_release(fc, o);
	pg_fcache_file_put(fc, f);

	/* refusals: missing, a directory without index, a symlink out */
	const char *bad[] = { "nope", "sub", "out" };
	const int err[] = { ENOENT, EISDIR, EXDEV };
	for (unsigned i = 0; i < 3; i++) {
		struct waiter w = { .w.fn = woken };
		o = pg_fcache_open(fc, root, bad[i], 0, 0, "", &w.w);
		poll_until(fc, &w);
		assert_int_equal(o->err, err[i]);
		assert_null(o->file);
		pg_fcache_open_release(fc, o);
	}
	/* a directory without index, listed: dot files left out */
	struct waiter lw = { .w.fn = woken };
	put("sub/.hidden", "x", 1);
	o = pg_fcache_open(fc, root, "sub", PG_FILE_LISTING, 0, "nope.html",
			   &lw.w);
	poll_until(fc, &lw);
	assert_int_equal(o->err, EISDIR);
	assert_true(o->is_dir);
	assert_string_equal(o->rel, "sub");
	assert_non_null(o->listing);
	assert_int_equal(o->listing_len, strlen(o->listing) + 1);
	assert_true(strncmp(o->listing, "f3 ", 3) == 0);
	assert_non_null(strstr(o->listing, " index.html"));
	pg_fcache_open_release(fc, o);
	/* released before it is done: closed on arrival */
	struct waiter w = { .w.fn = woken };
	o = pg_fcache_open(fc, root, "page.txt", 0, 0, "", &w.w);
	pg_fcache_open_release(fc, o);
	settle(fc);
	assert_int_equal(w.called, 0);
	pg_fcache_destroy(fc);
}

static void
test_open_cache(void **state)
{
	const char *err = NULL;
	struct pg_fcache_conf conf = { .cache_mb = 1, .chunk_kb = 256,
				       .open_cache = 2, .open_valid_ms = 100 };
	struct pg_fcache *fc = pg_fcache_create(&conf, NULL, &err);
	struct pg_fcache_stats st;
	(void)state;

	assert_non_null(fc);
	put("c.txt", "one", 3);
	pg_fcache_file_put(fc, open_ok(fc, "c.txt", 0, "", NULL));
	/* asked again: answered at once, the same descriptor */
	struct waiter w = { .w.fn = woken };
	struct pg_fcache_open *o = pg_fcache_open(fc, root, "c.txt", 0, 0, "",
						  &w.w);
	assert_true(o->done);
	assert_int_equal(o->err, 0);
	assert_int_equal(o->file->st.st_size, 3);
	pg_fcache_file_put(fc, o->file);
	pg_fcache_open_release(fc, o);
	pg_fcache_stats(fc, &st);
	assert_int_equal(st.open_hits, 1);
	assert_int_equal(st.opens, 1);
	/* other flags or codings are another entry */
	o = pg_fcache_open(fc, root, "c.txt", 0,
			   PG_FILE_CODING_BIT(PG_FILE_GZIP), "", &w.w);
	assert_false(o->done);
	poll_until(fc, &w);
	pg_fcache_file_put(fc, o->file);
	pg_fcache_open_release(fc, o);
	/* replaced on disk: seen once the entry expired */
	put("c.txt", "three", 5);
	usleep(150 * 1000);
	struct pg_fcache_file *f = open_ok(fc, "c.txt", 0, "", NULL);
	assert_int_equal(f->st.st_size, 5);
	pg_fcache_file_put(fc, f);
	/* bounded: a third key pushes the oldest out */
	pg_fcache_file_put(fc, open_ok(fc, "f.bin", 0, "", NULL));
	pg_fcache_file_put(fc, open_ok(fc, "g.bin", 0, "", NULL));
	w.called = 0;
	o = pg_fcache_open(fc, root, "c.txt", 0, 0, "", &w.w);
	assert_false(o->done);
	poll_until(fc, &w);
	pg_fcache_file_put(fc, o->file);
	pg_fcache_open_release(fc, o);
	settle(fc);
	pg_fcache_destroy(fc);
}

static int
setup(void **state)
{
	char path[512];
	(void)state;
	assert_non_null(mkdtemp(root));
	data = malloc(SIZE);
	for (uint32_t i = 0; i < SIZE; i++)
		data[i] = (char)((i * 2654435761u) >> 13);
	put("f.bin", data, SIZE);
	char *g = malloc(SIZE);
	for (uint32_t i = 0; i < SIZE; i++)
		g[i] = data[i] ^ 0x5a;
	put("g.bin", g, SIZE);
	free(g);
	snprintf(path, sizeof(path), "%s/sub", root);
	mkdir(path, 0755);
	put("sub/index.html", "<p>", 3);
	snprintf(path, sizeof(path), "%s/out", root);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	free(data);
	return system(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_whole_file),
		cmocka_unit_test(test_memory_bounded),
		cmocka_unit_test(test_truncated_fails),
		cmocka_unit_test(test_open_variants),
		cmocka_unit_test(test_open_cache),
	};
	pg_test_eal();
	return cmocka_run_group_tests_name("file cache", tests, setup,
					   teardown);
}
