/*
 * Static files, the HTTP side (see pg_file.h): path checks, opening
 * beneath a root, validators, preconditions, ranges, content types.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "core/pg_core.h"
#include "http/pg_file.h"

/* --- paths ---------------------------------------------------------------- */

unsigned
pg_file_path(const char *p, uint32_t len, unsigned flags, char *out,
	     uint32_t outlen)
{
	uint32_t o = 0, i = 0;

	if (memchr(p, '\0', len) != NULL)
		return 400;
	while (i < len) {
		uint32_t s = i;
		while (i < len && p[i] != '/')
			i++;
		uint32_t n = i - s;
		i++;                 /* the "/" */
		if (n == 0)
			continue;
		if (p[s] == '.') {
			if (n == 1 || (n == 2 && p[s + 1] == '.'))
				return 403;
			if (!(flags & PG_FILE_DOTFILES))
				return 404;
		}
		if (o + n + 2 > outlen)
			return 400;
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, p + s, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* Without openat2: one component at a time, refusing every symlink. */
static int
pg_file_open_walk(int rootfd, const char *rel)
{
	char buf[PG_FILE_PATH_MAX], *save = NULL;
	int fd = dup(rootfd);

	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *c = strtok_r(buf, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_NOFOLLOW | O_CLOEXEC
				  | O_NONBLOCK);
		int e = errno;
		close(fd);
		if (next < 0) {
			errno = e == ELOOP ? EACCES : e;
			return -1;
		}
		fd = next;
	}
	return fd;
}

int
pg_file_open(int rootfd, const char *rel, unsigned flags)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
		.resolve = (flags & PG_FILE_SYMLINKS) ? 0
			   : RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *name = rel[0] != '\0' ? rel : ".";
	long fd = syscall(SYS_openat2, rootfd, name, &how, sizeof(how));

	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
	if (flags & PG_FILE_SYMLINKS)
		return openat(rootfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	return pg_file_open_walk(rootfd, rel);
}

/* --- validators and dates ------------------------------------------------- */

void
pg_file_etag(const struct stat *st, char out[48])
{
	snprintf(out, 48, "\"%" PRIx64 "-%" PRIx64 ".%" PRIx64 "\"",
		 (uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
		 (uint64_t)st->st_mtim.tv_nsec);
}

int
pg_file_date_parse(const struct pg_http_str *v, time_t *t)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",     /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",     /* RFC 850 */
		"%a %b %e %H:%M:%S %Y",          /* asctime */
	};
	char buf[64];

	if (v->len == 0 || v->len >= sizeof(buf))
		return -1;
	memcpy(buf, v->ptr, v->len);
	buf[v->len] = '\0';
	for (unsigned i = 0; i < PG_ARRAY_SIZE(formats); i++) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(buf, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			*t = timegm(&tm);
			return 0;
		}
	}
	return -1;
}

/* --- preconditions -------------------------------------------------------- */

static const char *
pg_file_skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
		p++;
	return p;
}

/*
 * Does the entity-tag list v name etag? "*" matches any. Weak comparison
 * (If-None-Match) ignores a W/ prefix; strong (If-Match, If-Range) never
 * matches a weak tag.
 */
static int
pg_file_etag_match(const struct pg_http_str *v, const char *etag, int weak)
{
	const char *p = v->ptr, *end = v->ptr + v->len;
	size_t elen = strlen(etag);

	for (p = pg_file_skip_ows(p, end); p < end;
	     p = pg_file_skip_ows(p, end)) {
		int is_weak = 0;
		if (*p == '*')
			return 1;
		if (end - p > 2 && p[0] == 'W' && p[1] == '/') {
			is_weak = 1;
			p += 2;
		}
		if (*p != '"')
			return 0;            /* malformed: no match */
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (q == NULL)
			return 0;
		q++;
		if ((weak || !is_weak) && (size_t)(q - p) == elen
		    && memcmp(p, etag, elen) == 0)
			return 1;
		p = q;
	}
	return 0;
}

/* 1: the resource is unmodified since the date v (-1: v is no date). */
static int
pg_file_unmodified_since(const struct pg_http_str *v, time_t mtime)
{
	time_t t;
	if (pg_file_date_parse(v, &t) != 0)
		return -1;
	return mtime <= t;
}

static int
pg_file_if_range(const struct pg_file_cond *q, const struct pg_file_answer *a,
		 time_t mtime)
{
	const struct pg_http_str *v = &q->if_range;
	time_t t;

	if (v->len == 0)
		return 1;
	if (v->ptr[0] == '"' || (v->len > 2 && v->ptr[0] == 'W'))
		return pg_file_etag_match(v, a->etag, 0);
	return pg_file_date_parse(v, &t) == 0 && t == mtime;
}

void
pg_file_cond_from(struct pg_file_cond *q, const struct pg_http_msg *req)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
#define F(n, m) { n, offsetof(struct pg_file_cond, m) }
		F("if-match", if_match),
		F("if-none-match", if_none_match),
		F("if-modified-since", if_modified_since),
		F("if-unmodified-since", if_unmodified_since),
		F("if-range", if_range),
		F("range", range),
#undef F
	};

	memset(q, 0, sizeof(*q));
	q->head = req->method == PG_HTTP_HEAD;
	for (unsigned i = 0; i < PG_ARRAY_SIZE(fields); i++) {
		const struct pg_http_str *v = pg_http_msg_header(req,
							fields[i].name);
		if (v != NULL)
			*(struct pg_http_str *)((char *)q + fields[i].off) = *v;
	}
}

void
pg_file_prepare(const struct pg_file_cond *q, const struct stat *st,
		struct pg_file_answer *a)
{
	time_t mtime = st->st_mtim.tv_sec;
	uint64_t size = (uint64_t)st->st_size;

	memset(a, 0, sizeof(*a));
	a->size = size;
	a->len = size;
	pg_file_etag(st, a->etag);
	pg_http_date(a->last_modified, mtime);
	a->status = 200;
	if (q->if_match.len > 0) {
		if (!pg_file_etag_match(&q->if_match, a->etag, 0))
			goto failed;
	} else if (q->if_unmodified_since.len > 0
		   && pg_file_unmodified_since(&q->if_unmodified_since,
					       mtime) == 0) {
		goto failed;
	}
	if (q->if_none_match.len > 0) {
		if (pg_file_etag_match(&q->if_none_match, a->etag, 1))
			goto not_modified;
	} else if (q->if_modified_since.len > 0
		   && pg_file_unmodified_since(&q->if_modified_since,
					       mtime) == 1) {
		goto not_modified;
	}
	if (q->range.len == 0 || !pg_file_if_range(q, a, mtime))
		return;
	a->status = pg_file_range(&q->range, size, &a->off, &a->len);
	if (a->status == 206)
		snprintf(a->content_range, sizeof(a->content_range),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a->off,
			 a->off + a->len - 1, size);
	else if (a->status == 416)
		snprintf(a->content_range, sizeof(a->content_range),
			 "bytes */%" PRIu64, size);
	if (a->status != 206)
		a->off = 0, a->len = a->status == 200 ? size : 0;
	return;
failed:
	a->status = 412;
	a->len = 0;
	return;
not_modified:
	a->status = 304;
	a->len = 0;
}

/* --- ranges --------------------------------------------------------------- */

/* Digits at *p (advanced) into *v; -1 when none or overflowing. */
static int
pg_file_num(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	*v = n;
	return *p > s ? 0 : -1;
}

unsigned
pg_file_range(const struct pg_http_str *v, uint64_t size, uint64_t *off,
	      uint64_t *len)
{
	const char *p = v->ptr, *end = v->ptr + v->len;
	uint64_t first, last = UINT64_MAX;

	if (v->len < 7 || strncasecmp(p, "bytes=", 6) != 0
	    || memchr(p, ',', v->len) != NULL)
		return 200;
	p = pg_file_skip_ows(p + 6, end);
	if (p < end && *p == '-') {          /* suffix: the last n bytes */
		p++;
		uint64_t n;
		if (pg_file_num(&p, end, &n) != 0
		    || pg_file_skip_ows(p, end) != end)
			return 200;
		if (n == 0 || size == 0)
			return 416;
		*len = n < size ? n : size;
		*off = size - *len;
		return 206;
	}
	if (pg_file_num(&p, end, &first) != 0 || p == end || *p++ != '-')
		return 200;
	if (p < end && *p != ' ' && *p != '\t'
	    && (pg_file_num(&p, end, &last) != 0 || last < first))
		return 200;
	if (pg_file_skip_ows(p, end) != end)
		return 200;
	if (first >= size)
		return 416;
	if (last >= size)
		last = size - 1;
	*off = first;
	*len = last - first + 1;
	return 206;
}

/* --- content types and codings ------------------------------------------- */

/* Sorted by extension (bsearch). */
static const struct pg_file_ctype {
	const char *ext;
	const char *type;
} pg_file_types[] = {
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/x-icon" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "ogg", "audio/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wasm", "application/wasm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xml", "application/xml" },
	{ "zip", "application/zip" },
};

static int
pg_file_type_cmp(const void *k, const void *e)
{
	return strcasecmp(k, ((const struct pg_file_ctype *)e)->ext);
}

const char *
pg_file_type(const char *name, uint32_t len)
{
	char ext[16];
	uint32_t i = len;

	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
		i--;
	if (i == 0 || name[i - 1] != '.' || len - i == 0
	    || len - i >= sizeof(ext))
		return "application/octet-stream";
	memcpy(ext, name + i, len - i);
	ext[len - i] = '\0';
	const struct pg_file_ctype *t = bsearch(ext, pg_file_types,
		PG_ARRAY_SIZE(pg_file_types), sizeof(pg_file_types[0]),
		pg_file_type_cmp);
	return t != NULL ? t->type : "application/octet-stream";
}

static const char *const pg_file_codings[PG_FILE_NCODINGS][2] = {
	[PG_FILE_IDENTITY] = { "", "identity" },
	[PG_FILE_BR] = { ".br", "br" },
	[PG_FILE_GZIP] = { ".gz", "gzip" },
};

const char *
pg_file_coding_suffix(enum pg_file_coding c)
{
	return pg_file_codings[c][0];
}

const char *
pg_file_coding_name(enum pg_file_coding c)
{
	return pg_file_codings[c][1];
}

/* Is the parameter list at p (after a coding) "q=0", "q=0.0"...? */
static int
pg_file_q_zero(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
		p++;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return 0;
	for (p += 2; p < end && *p != ','; p++)
		if (*p != '0' && *p != '.' && *p != ' ')
			return 0;
	return 1;
}

unsigned
pg_file_accept(const struct pg_http_str *v)
{
	const char *p = v->ptr, *end = v->ptr + v->len;
	unsigned ok = 0;

	while ((p = pg_file_skip_ows(p, end)) < end) {
		const char *s = p;
		while (p < end && *p != ',' && *p != ';' && *p != ' ')
			p++;
		const char *pe = p;
		while (p < end && *p != ',')
			p++;
		if (pg_file_q_zero(pe, p))
			continue;
		for (unsigned c = PG_FILE_BR; c < PG_FILE_NCODINGS; c++) {
			const char *name = pg_file_codings[c][1];
			if ((size_t)(pe - s) == strlen(name)
			    && strncasecmp(s, name, (size_t)(pe - s)) == 0)
				ok |= PG_FILE_CODING_BIT(c);
		}
	}
	return ok;
}
