/*
 * Static files, the HTTP side (http/pg_file.c): path checks, opening
 * beneath a root (symlinks out refused), ranges, preconditions, dates,
 * content types, Accept-Encoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/pg_core.h"
#include "http/pg_file.h"

#define S(lit) ((struct pg_http_str){ lit, sizeof(lit) - 1 })

static unsigned
path(const char *p, unsigned flags, char *out)
{
	return pg_file_path(p, (uint32_t)strlen(p), flags, out,
			    PG_FILE_PATH_MAX);
}

static void
test_path(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		unsigned status;
		const char *out;
	} cases[] = {
		{ "/a/b.txt", 0, 0, "a/b.txt" },
		{ "a//b/", 0, 0, "a/b" },
		{ "/", 0, 0, "" },
		{ "", 0, 0, "" },
		{ "/../etc/passwd", 0, 403, NULL },
		{ "/a/../../b", 0, 403, NULL },
		{ "/a/./b", 0, 403, NULL },
		{ "/a/..", 0, 403, NULL },
		{ "..", 0, 403, NULL },
		{ "/.git/config", 0, 404, NULL },
		{ "/a/.env", 0, 404, NULL },
		{ "/a/.env", PG_FILE_DOTFILES, 0, "a/.env" },
		{ "/.well-known/x", PG_FILE_DOTFILES, 0, ".well-known/x" },
		{ "/a/..b", 0, 404, NULL },
		{ "/a/b..", 0, 0, "a/b.." },
	};
	char out[PG_FILE_PATH_MAX];
	(void)state;

	for (unsigned i = 0; i < PG_ARRAY_SIZE(cases); i++) {
		unsigned st = path(cases[i].in, cases[i].flags, out);
		assert_int_equal(st, cases[i].status);
		if (st == 0)
			assert_string_equal(out, cases[i].out);
	}
	/* a NUL inside, and too long */
	assert_int_equal(pg_file_path("a\0b", 3, 0, out, sizeof(out)), 400);
	assert_int_equal(pg_file_path("/abcdef", 7, 0, out, 4), 400);
}

static char root[] = "/tmp/pg_test_file_XXXXXX";

static void
put(const char *rel, const char *data)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static void
test_open_beneath(void **state)
{
	char p[512];
	(void)state;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/sub", root);
	assert_int_equal(mkdir(p, 0755), 0);
	put("sub/in.txt", "inside");
	snprintf(p, sizeof(p), "%s/sub/link-in", root);
	assert_int_equal(symlink("in.txt", p), 0);
	snprintf(p, sizeof(p), "%s/sub/link-out", root);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/sub/link-up", root);
	assert_int_equal(symlink("../../", p), 0);

	int rfd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(rfd >= 0);
	int fd = pg_file_open(rfd, "sub/in.txt", 0);
	assert_true(fd >= 0);
	char buf[16] = "";
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "inside");
	close(fd);
	fd = pg_file_open(rfd, "sub/link-in", 0);
	assert_true(fd >= 0);
	close(fd);
	/* out of the root: refused, unless allowed */
	assert_int_equal(pg_file_open(rfd, "sub/link-out", 0), -1);
	assert_int_equal(pg_file_open(rfd, "sub/link-up/etc", 0), -1);
	fd = pg_file_open(rfd, "sub/link-out", PG_FILE_SYMLINKS);
	if (access("/etc/hostname", R_OK) == 0) {
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(pg_file_open(rfd, "nope", 0), -1);
	assert_int_equal(errno, ENOENT);
	/* the root itself */
	fd = pg_file_open(rfd, "", 0);
	assert_true(fd >= 0);
	close(fd);
	close(rfd);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void
test_range(void **state)
{
	static const struct {
		const char *v;
		uint64_t size;
		unsigned status;
		uint64_t off, len;
	} cases[] = {
		{ "bytes=0-99", 1000, 206, 0, 100 },
		{ "bytes=100-", 1000, 206, 100, 900 },
		{ "bytes=-10", 1000, 206, 990, 10 },
		{ "bytes=-2000", 1000, 206, 0, 1000 },
		{ "bytes=990-5000", 1000, 206, 990, 10 },
		{ "BYTES=5-5", 1000, 206, 5, 1 },
		{ "bytes=1000-", 1000, 416, 0, 0 },
		{ "bytes=-0", 1000, 416, 0, 0 },
		{ "bytes=0-", 0, 416, 0, 0 },
		{ "bytes=5-4", 1000, 200, 0, 0 },
		{ "bytes=0-1,5-6", 1000, 200, 0, 0 },
		{ "items=0-1", 1000, 200, 0, 0 },
		{ "bytes=a-b", 1000, 200, 0, 0 },
		{ "bytes=", 1000, 200, 0, 0 },
		{ "bytes=-", 1000, 200, 0, 0 },
		{ "bytes=99999999999999999999999-", 1000, 200, 0, 0 },
	};
	(void)state;

	for (unsigned i = 0; i < PG_ARRAY_SIZE(cases); i++) {
		struct pg_http_str v = { cases[i].v,
					 (uint32_t)strlen(cases[i].v) };
		uint64_t off = 0, len = 0;
		unsigned st = pg_file_range(&v, cases[i].size, &off, &len);
		assert_int_equal(st, cases[i].status);
		if (st == 206) {
			assert_int_equal(off, cases[i].off);
			assert_int_equal(len, cases[i].len);
		}
	}
}

static void
test_date(void **state)
{
	time_t t;
	(void)state;

	assert_int_equal(pg_file_date_parse(&S("Sun, 06 Nov 1994 08:49:37 GMT"),
					    &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(pg_file_date_parse(&S("Sunday, 06-Nov-94 08:49:37 GMT"),
					    &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(pg_file_date_parse(&S("Sun Nov  6 08:49:37 1994"), &t),
			 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(pg_file_date_parse(&S("yesterday"), &t), -1);
	assert_int_equal(pg_file_date_parse(&S("Sun, 06 Nov 1994 08:49:37 GMT x"),
					    &t), -1);
}

/* A file of 1000 bytes last modified at 784111777 (+ 5 ns). */
static struct stat
st1000(void)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_size = 1000;
	st.st_mtim.tv_sec = 784111777;
	st.st_mtim.tv_nsec = 5;
	return st;
}

#define LM "Sun, 06 Nov 1994 08:49:37 GMT"
#define EARLIER "Sun, 06 Nov 1994 08:49:36 GMT"

static unsigned
cond(struct pg_file_cond q, struct pg_file_answer *a)
{
	struct stat st = st1000();
	pg_file_prepare(&q, &st, a);
	return a->status;
}

static void
test_prepare(void **state)
{
	struct pg_file_answer a;
	struct stat st = st1000();
	char etag[48];
	(void)state;

	pg_file_etag(&st, etag);
	assert_string_equal(etag, "\"3e8-2ebc98a1.5\"");
	struct pg_http_str tag = { etag, (uint32_t)strlen(etag) };

	assert_int_equal(cond((struct pg_file_cond){ 0 }, &a), 200);
	assert_int_equal(a.len, 1000);
	assert_string_equal(a.last_modified, LM);
	assert_string_equal(a.etag, etag);
	/* If-None-Match: weak comparison, lists, "*" */
	assert_int_equal(cond((struct pg_file_cond){ .if_none_match = tag },
			      &a), 304);
	assert_int_equal(a.len, 0);
	assert_int_equal(cond((struct pg_file_cond){
		.if_none_match = S("\"x\", W/\"3e8-2ebc98a1.5\"") }, &a), 304);
	assert_int_equal(cond((struct pg_file_cond){
		.if_none_match = S("*") }, &a), 304);
	assert_int_equal(cond((struct pg_file_cond){
		.if_none_match = S("\"other\"") }, &a), 200);
	/* If-Modified-Since, ignored when If-None-Match is there */
	assert_int_equal(cond((struct pg_file_cond){
		.if_modified_since = S(LM) }, &a), 304);
	assert_int_equal(cond((struct pg_file_cond){
		.if_modified_since = S(EARLIER) }, &a), 200);
	assert_int_equal(cond((struct pg_file_cond){
		.if_modified_since = S("garbage") }, &a), 200);
	assert_int_equal(cond((struct pg_file_cond){
		.if_none_match = S("\"other\""),
		.if_modified_since = S(LM) }, &a), 200);
	/* If-Match: strong; If-Unmodified-Since */
	assert_int_equal(cond((struct pg_file_cond){ .if_match = tag }, &a),
			 200);
	assert_int_equal(cond((struct pg_file_cond){
		.if_match = S("W/\"3e8-2ebc98a1.5\"") }, &a), 412);
	assert_int_equal(cond((struct pg_file_cond){
		.if_unmodified_since = S(EARLIER) }, &a), 412);
	assert_int_equal(cond((struct pg_file_cond){
		.if_unmodified_since = S(LM) }, &a), 200);
	/* Range, with If-Range by tag or by date */
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19") }, &a), 206);
	assert_int_equal(a.off, 10);
	assert_int_equal(a.len, 10);
	assert_string_equal(a.content_range, "bytes 10-19/1000");
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=2000-") }, &a), 416);
	assert_string_equal(a.content_range, "bytes */1000");
	assert_int_equal(a.len, 0);
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19"), .if_range = tag }, &a), 206);
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19"), .if_range = S("\"old\"") }, &a),
		200);
	assert_int_equal(a.len, 1000);
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19"), .if_range = S(LM) }, &a), 206);
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19"), .if_range = S(EARLIER) }, &a), 200);
	/* a conditional GET that matches wins over Range */
	assert_int_equal(cond((struct pg_file_cond){
		.range = S("bytes=10-19"), .if_none_match = tag }, &a), 304);
}

static void
test_types(void **state)
{
	(void)state;
	assert_string_equal(pg_file_type("index.html", 10),
			    "text/html; charset=utf-8");
	assert_string_equal(pg_file_type("a/B.PNG", 7), "image/png");
	assert_string_equal(pg_file_type("x.woff2", 7), "font/woff2");
	assert_string_equal(pg_file_type("x.unknown", 9),
			    "application/octet-stream");
	assert_string_equal(pg_file_type("Makefile", 8),
			    "application/octet-stream");
	assert_string_equal(pg_file_type("a.d/file", 8),
			    "application/octet-stream");
	assert_string_equal(pg_file_type("trailing.", 9),
			    "application/octet-stream");
}

static void
test_accept(void **state)
{
	(void)state;
	const unsigned br = PG_FILE_CODING_BIT(PG_FILE_BR);
	const unsigned gz = PG_FILE_CODING_BIT(PG_FILE_GZIP);
	assert_int_equal(pg_file_accept(&S("gzip, deflate, br")), br | gz);
	assert_int_equal(pg_file_accept(&S("gzip;q=0.5")), gz);
	assert_int_equal(pg_file_accept(&S("br;q=0, gzip")), gz);
	assert_int_equal(pg_file_accept(&S("GZIP ; q=0.0")), 0);
	assert_int_equal(pg_file_accept(&S("identity")), 0);
	assert_int_equal(pg_file_accept(&S("")), 0);
	assert_string_equal(pg_file_coding_suffix(PG_FILE_GZIP), ".gz");
	assert_string_equal(pg_file_coding_name(PG_FILE_BR), "br");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_open_beneath),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_accept),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
