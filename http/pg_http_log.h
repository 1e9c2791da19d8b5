/*
 * The access log: one line per response, gathered in a per-worker buffer
 * and written with one write(2) when the buffer fills or a line has waited
 * a second (pg_http_log_poll), never once per request. The file is opened
 * in append mode by every worker; a write is whole lines, so the lines of
 * different workers never mix.
 *
 *   TIME ID ADDR METHOD TARGET STATUS BYTES LATENCY_MS
 *   2025-01-31T12:00:00.123Z w0-00000001 198.18.0.1 GET /a?b=c 200 164 0.412
 *
 * Missing fields are "-"; the target's bytes outside printable ASCII, '"'
 * and '\' are written \xHH, and a target longer than the line allows ends
 * in "...".
 */
#ifndef PG_HTTP_LOG_H
#define PG_HTTP_LOG_H

#include <stdint.h>

#include "http/pg_http_msg.h"

struct pg_http_log;

/* One response, as the HTTP layer and the application know it. */
struct pg_http_log_rec {
	uint64_t start_ns;           /* first byte of the request */
	uint64_t end_ns;             /* response queued in full (same clock) */
	uint64_t bytes;              /* response bytes, head included */
	uint32_t addr;               /* client IPv4, network order */
	uint16_t status;
	struct pg_http_str id;       /* request id; len 0: none */
	struct pg_http_str method;   /* len 0: not parsed */
	struct pg_http_str target;
};

/* Buffered up to size bytes (at least 4096). NULL with errno set. */
struct pg_http_log *pg_http_log_open(const char *path, uint32_t size);

/* Append one line; writes the buffer first when the line does not fit. */
void pg_http_log_add(struct pg_http_log *l, const struct pg_http_log_rec *r,
		     uint64_t now_ns);

/* Write what waited a second or more; 1 when it wrote. */
unsigned pg_http_log_poll(struct pg_http_log *l, uint64_t now_ns);

/* Write the buffer now. PG_OK, or PG_ERROR with errno (lines dropped). */
int pg_http_log_flush(struct pg_http_log *l);

/*
 * Write the buffer, then open the file by its path again (after a log
 * rotation moved it away). On failure (errno set) the old file is kept.
 * l may be NULL.
 */
int pg_http_log_reopen(struct pg_http_log *l);

/* Flush and close; l may be NULL. */
void pg_http_log_close(struct pg_http_log *l);

/* Lines written and lines lost to failed writes, for tests. */
uint64_t pg_http_log_lines(const struct pg_http_log *l);
uint64_t pg_http_log_lost(const struct pg_http_log *l);

#endif
