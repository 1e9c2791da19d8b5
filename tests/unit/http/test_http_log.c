/*
 * The access log writer: the line format, escaping and cutting of the
 * target, nothing written before a second passed or the buffer filled,
 * reopening after a rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "core/pg_core.h"
#include "http/pg_http_log.h"

#define S(lit) ((struct pg_http_str){ lit, sizeof(lit) - 1 })
#define SEC UINT64_C(1000000000)

static char path[] = "/tmp/pg_test_access_XXXXXX";

static off_t
file_size(void)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static char *
slurp(void)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static struct pg_http_log_rec
rec(void)
{
	return (struct pg_http_log_rec){
		.start_ns = 5 * SEC, .end_ns = 5 * SEC + 1234567,
		.bytes = 164, .addr = inet_addr("198.18.0.1"), .status = 200,
		.id = S("w0-0000002a"), .method = S("GET"),
		.target = S("/hello?x=1"),
	};
}

static void
test_line_and_buffering(void **state)
{
	(void)state;
	truncate(path, 0);
	struct pg_http_log *l = pg_http_log_open(path, 4096);
	assert_non_null(l);
	struct pg_http_log_rec r = rec();
	pg_http_log_add(l, &r, 10 * SEC);
	r = (struct pg_http_log_rec){ .status = 414, .bytes = 99,
				      .addr = inet_addr("10.0.0.7") };
	pg_http_log_add(l, &r, 10 * SEC);
	/* Buffered: nothing before a second has passed. */
	assert_int_equal(pg_http_log_poll(l, 10 * SEC + SEC / 2), 0);
	assert_int_equal(file_size(), 0);
	assert_int_equal(pg_http_log_poll(l, 11 * SEC), 1);
	char *text = slurp();
	char ts[32], id[32], addr[32], m[16], t[64];
	unsigned status;
	unsigned long bytes;
	double ms;
	assert_int_equal(sscanf(text, "%31s %31s %31s %15s %63s %u %lu %lf",
				ts, id, addr, m, t, &status, &bytes, &ms), 8);
	assert_int_equal(strlen(ts), 24);           /* 2025-01-31T12:00:00.123Z */
	assert_true(ts[4] == '-' && ts[10] == 'T' && ts[19] == '.'
		    && ts[23] == 'Z');
	assert_string_equal(id, "w0-0000002a");
	assert_string_equal(addr, "198.18.0.1");
	assert_string_equal(m, "GET");
	assert_string_equal(t, "/hello?x=1");
	assert_int_equal(status, 200);
	assert_int_equal(bytes, 164);
	assert_non_null(strstr(text, " 200 164 1.234\n"));
	assert_non_null(strstr(text, "Z - 10.0.0.7 - - 414 99 0.000\n"));
	assert_int_equal(pg_http_log_lines(l), 2);
	assert_int_equal(pg_http_log_lost(l), 0);
	pg_http_log_close(l);
}

static void
test_target_escaped_and_cut(void **state)
{
	(void)state;
	truncate(path, 0);
	struct pg_http_log *l = pg_http_log_open(path, 4096);
	struct pg_http_log_rec r = rec();
	r.target = S("/a b\"c\\d\x01\xff");
	pg_http_log_add(l, &r, 0);
	static char big[8000];
	memset(big, 'x', sizeof(big));
	r.target = (struct pg_http_str){ big, sizeof(big) };
	pg_http_log_add(l, &r, 0);
	pg_http_log_close(l);
	char *text = slurp();
	assert_non_null(strstr(text, " /a\\x20b\\x22c\\x5cd\\x01\\xff 200 "));
	char *second = strchr(text, '\n') + 1;
	char *nl = strchr(second, '\n');
	assert_non_null(nl);
	assert_true(nl - second < 2048);
	assert_non_null(strstr(second, "xxx... 200 164 1.234\n"));
}

/* A full buffer is written at once, in whole lines. */
static void
test_full_buffer_written(void **state)
{
	(void)state;
	truncate(path, 0);
	struct pg_http_log *l = pg_http_log_open(path, 4096);
	struct pg_http_log_rec r = rec();
	unsigned n = 0;
	while (file_size() == 0) {
		pg_http_log_add(l, &r, 0);
		n++;
		assert_true(n < 1000);
	}
	assert_true(file_size() <= 8192);
	char *text = slurp();
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(pg_http_log_lines(l), n - 1);
	pg_http_log_close(l);
	char *all = slurp();
	unsigned lines = 0;
	for (char *p = all; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, n);
}

/* After a rotation moved the file away, reopen writes to a new one. */
static void
test_reopen_after_rotation(void **state)
{
	char moved[sizeof(path) + 8];
	(void)state;
	truncate(path, 0);
	snprintf(moved, sizeof(moved), "%s.1", path);
	struct pg_http_log *l = pg_http_log_open(path, 4096);
	struct pg_http_log_rec r = rec();
	pg_http_log_add(l, &r, 0);
	assert_int_equal(rename(path, moved), 0);
	/* Buffered lines go to the file they were written for. */
	assert_int_equal(pg_http_log_reopen(l), PG_OK);
	r.status = 404;
	pg_http_log_add(l, &r, 0);
	pg_http_log_close(l);
	char *text = slurp();
	assert_non_null(strstr(text, " 404 164 "));
	assert_null(strstr(text, " 200 164 "));
	FILE *f = fopen(moved, "r");
	char old[4096];
	size_t n = fread(old, 1, sizeof(old) - 1, f);
	fclose(f);
	old[n] = '\0';
	assert_non_null(strstr(old, " 200 164 "));
	unlink(moved);
	assert_int_equal(pg_http_log_reopen(NULL), PG_OK);
}

int
main(void)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_and_buffering),
		cmocka_unit_test(test_target_escaped_and_cut),
		cmocka_unit_test(test_full_buffer_written),
		cmocka_unit_test(test_reopen_after_rotation),
	};
	int rc = cmocka_run_group_tests_name("access log", tests, NULL, NULL);
	unlink(path);
	return rc;
}
