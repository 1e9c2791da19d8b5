/*
 * The access log (see pg_http_log.h for the line format).
 *
 *   pg_h1 on_log -> application adds its request id -> pg_http_log_add
 *                -> line into the buffer (written first when full)
 *   worker loop  -> pg_http_log_poll -> pg_http_log_flush after 1 s
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pg_core.h"
#include "core/pg_log.h"
#include "http/pg_http_log.h"

#define PG_HTTP_LOG_LINE_MAX  2048          /* bytes; the target is cut */
#define PG_HTTP_LOG_WAIT_NS   UINT64_C(1000000000)

struct pg_http_log {
	int fd;
	char path[PG_PATH_MAX];
	uint32_t size, len;
	uint64_t first_ns;           /* when the oldest buffered line came */
	uint64_t lines, lost;
	unsigned pending;            /* lines in the buffer */
	int warned;                  /* a failed write was logged */
	time_t sec;                  /* of stamp */
	char stamp[24];              /* "YYYY-MM-DDTHH:MM:SS" */
	char buf[];
};

struct pg_http_log *
pg_http_log_open(const char *path, uint32_t size)
{
	struct pg_http_log *l;

	if (size < 2 * PG_HTTP_LOG_LINE_MAX)
		size = 2 * PG_HTTP_LOG_LINE_MAX;
	l = calloc(1, sizeof(*l) + size);
	if (l == NULL)
		return NULL;
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		int e = errno;
		free(l);
		errno = e;
		return NULL;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->size = size;
	l->sec = -1;
	return l;
}

int
pg_http_log_reopen(struct pg_http_log *l)
{
	if (l == NULL)
		return PG_OK;
	pg_http_log_flush(l);
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0644);
	if (fd < 0)
		return PG_ERROR;
	close(l->fd);
	l->fd = fd;
	l->warned = 0;
	return PG_OK;
}

int
pg_http_log_flush(struct pg_http_log *l)
{
	uint32_t off = 0;
	int rc = PG_OK;

	while (off < l->len) {
		ssize_t n = write(l->fd, l->buf + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!l->warned)
				pg_log_err(errno, "access log: write() failed, "
					   "%u lines lost (this is said once)",
					   l->pending);
			l->warned = 1;
			l->lost += l->pending;
			rc = PG_ERROR;
			break;
		}
		off += (uint32_t)n;
	}
	if (rc == PG_OK)
		l->lines += l->pending;
	l->len = 0;
	l->pending = 0;
	return rc;
}

unsigned
pg_http_log_poll(struct pg_http_log *l, uint64_t now_ns)
{
	if (l == NULL || l->len == 0 || now_ns - l->first_ns < PG_HTTP_LOG_WAIT_NS)
		return 0;
	pg_http_log_flush(l);
	return 1;
}

/* What snprintf wrote into room bytes (cut to fit). */
static size_t
pg_http_log_wrote(int r, size_t room)
{
	return r < 0 ? 0 : (size_t)r >= room ? room - 1 : (size_t)r;
}

/* " -" for an empty string, " " and the string (cut to room) otherwise. */
static size_t
pg_http_log_str(char *p, size_t room, struct pg_http_str s)
{
	if (s.len == 0)
		return pg_http_log_wrote(snprintf(p, room, " -"), room);
	return pg_http_log_wrote(snprintf(p, room, " %.*s", (int)s.len, s.ptr),
				 room);
}

/* The target, escaped, in at most room bytes ("..." when cut). */
static size_t
pg_http_log_target(char *p, size_t room, struct pg_http_str t)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (t.len == 0) {
		p[n++] = '-';
		return n;
	}
	for (uint32_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.ptr[i];
		int plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\';
		if (n + (plain ? 1 : 4) > room - 3) {
			memcpy(p + n, "...", 3);
			return n + 3;
		}
		if (plain) {
			p[n++] = (char)c;
		} else {
			p[n++] = '\\';
			p[n++] = 'x';
			p[n++] = hex[c >> 4];
			p[n++] = hex[c & 15];
		}
	}
	return n;
}

void
pg_http_log_add(struct pg_http_log *l, const struct pg_http_log_rec *r,
		uint64_t now_ns)
{
	char line[PG_HTTP_LOG_LINE_MAX];
	const uint8_t *a = (const uint8_t *)&r->addr;
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != l->sec) {
		l->sec = ts.tv_sec;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(l->stamp, sizeof(l->stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	n = pg_http_log_wrote(snprintf(line, 64, "%s.%03ldZ", l->stamp,
				       ts.tv_nsec / 1000000), 64);
	n += pg_http_log_str(line + n, 64, r->id);
	n += pg_http_log_wrote(snprintf(line + n, 32, " %u.%u.%u.%u", a[0],
					a[1], a[2], a[3]), 32);
	n += pg_http_log_str(line + n, 40, r->method);
	line[n++] = ' ';
	n += pg_http_log_target(line + n, sizeof(line) - n - 80, r->target);
	uint64_t us = r->end_ns > r->start_ns && r->start_ns != 0
		      ? (r->end_ns - r->start_ns) / 1000 : 0;
	n += pg_http_log_wrote(snprintf(line + n, 80, " %u %lu %lu.%03lu\n",
					r->status, (unsigned long)r->bytes,
					(unsigned long)(us / 1000),
					(unsigned long)(us % 1000)), 80);
	if (l->len + n > l->size)
		pg_http_log_flush(l);
	if (l->len == 0)
		l->first_ns = now_ns;
	memcpy(l->buf + l->len, line, n);
	l->len += (uint32_t)n;
	l->pending++;
}

void
pg_http_log_close(struct pg_http_log *l)
{
	if (l == NULL)
		return;
	pg_http_log_flush(l);
	close(l->fd);
	free(l);
}

uint64_t
pg_http_log_lines(const struct pg_http_log *l)
{
	return l->lines;
}

uint64_t
pg_http_log_lost(const struct pg_http_log *l)
{
	return l->lost;
}
