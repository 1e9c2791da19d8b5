/*
 * Static files, the HTTP side: where a request may lead on disk and what
 * the answer is. Pure functions over strings and struct stat, no I/O but
 * pg_file_open (which the reader thread of http/pg_fcache.c calls, never
 * the worker loop):
 *
 *   pg_file_path       a decoded request path -> a path relative to a root
 *                      (no "..", no dot files unless allowed)
 *   pg_file_open       open it beneath the root (openat2 RESOLVE_BENEATH)
 *   pg_file_prepare    the request's conditionals, Range and HEAD against
 *                      the file's stat -> status, validators, the byte span
 *   pg_file_type       a content type from the file name
 *   pg_file_accept     the codings Accept-Encoding allows (.br, .gz)
 */
#ifndef PG_FILE_H
#define PG_FILE_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http/pg_http_msg.h"

#define PG_FILE_PATH_MAX 1024

/* pg_file_path / pg_file_open flags */
#define PG_FILE_DOTFILES 0x1u        /* serve names that begin with "." */
#define PG_FILE_SYMLINKS 0x2u        /* follow symlinks out of the root */
#define PG_FILE_LISTING  0x4u        /* list a directory without index */

/* Precompressed siblings, in order of preference. */
enum pg_file_coding {
	PG_FILE_IDENTITY = 0,
	PG_FILE_BR = 1,
	PG_FILE_GZIP = 2,
	PG_FILE_NCODINGS
};
#define PG_FILE_CODING_BIT(c) (1u << (c))

/*
 * Check the decoded path p (len bytes, segments separated by "/") and
 * write it to out without empty segments or a leading "/" ("" is the root
 * itself); a trailing "/" is dropped. Returns 0, or the status to answer:
 * 400 (a NUL byte, too long), 403 ("." or ".." segment), 404 (a dot file
 * without PG_FILE_DOTFILES).
 */
unsigned pg_file_path(const char *p, uint32_t len, unsigned flags,
		      char *out, uint32_t outlen);

/*
 * Open rel (from pg_file_path) beneath the directory rootfd for reading:
 * no symlink may lead out of the root unless PG_FILE_SYMLINKS (openat2
 * RESOLVE_BENEATH; on kernels without it, a walk that refuses every
 * symlink). Blocking: reader thread only. The fd, or -1 with errno.
 */
int pg_file_open(int rootfd, const char *rel, unsigned flags);

/* The request fields pg_file_prepare reads (len 0: absent). */
struct pg_file_cond {
	struct pg_http_str if_match, if_none_match;
	struct pg_http_str if_modified_since, if_unmodified_since;
	struct pg_http_str if_range, range;
	uint8_t head;                /* HEAD: no body, same head */
};

/* What to answer. */
struct pg_file_answer {
	unsigned status;             /* 200, 206, 304, 412 or 416 */
	uint64_t off, len;           /* the body span of the file (200, 206) */
	uint64_t size;               /* the file's size */
	char etag[48];               /* with quotes */
	char last_modified[30];
	char content_range[64];      /* 206: "bytes a-b/size"; 416: "bytes *\/size" */
};

/* Collect the fields pg_file_prepare reads from a request. */
void pg_file_cond_from(struct pg_file_cond *q, const struct pg_http_msg *req);

/*
 * Evaluate the preconditions of RFC 9110 section 13.2.2 (If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since, then Range with
 * If-Range) for a GET or HEAD of a file whose stat is st. Always fills a.
 */
void pg_file_prepare(const struct pg_file_cond *q, const struct stat *st,
		     struct pg_file_answer *a);

/* The strong validator of a file: "size-mtime" in hex. */
void pg_file_etag(const struct stat *st, char out[48]);

/*
 * A single "bytes=" range of v against size: 206 with *off and *len, 416
 * (none of it within the file), or 200 (no range, a malformed one, or
 * several: the whole file, as RFC 9110 allows).
 */
unsigned pg_file_range(const struct pg_http_str *v, uint64_t size,
		       uint64_t *off, uint64_t *len);

/* An HTTP-date (IMF-fixdate, RFC 850 or asctime) -> 0 with *t, or -1. */
int pg_file_date_parse(const struct pg_http_str *v, time_t *t);

/* The content type of a file name by its extension (case-insensitive);
 * application/octet-stream when unknown. */
const char *pg_file_type(const char *name, uint32_t len);

/* The PG_FILE_CODING_BIT set of codings Accept-Encoding v accepts. */
unsigned pg_file_accept(const struct pg_http_str *v);

/* The file name suffix of coding c ("" for identity) and its token. */
const char *pg_file_coding_suffix(enum pg_file_coding c);
const char *pg_file_coding_name(enum pg_file_coding c);

#endif
