/*
 * Per-worker HTTP counters, in the style of core/pg_stats.h: one block per
 * worker, cache-aligned, the worker its single writer. One counter per
 * reason a request was refused or a connection closed early.
 */
#ifndef PG_HTTP_STATS_H
#define PG_HTTP_STATS_H

#include <stdint.h>

#include <rte_common.h>

#define PG_HTTP_COUNTERS(X)                                                  \
	X(conns,            "connections accepted")                          \
	X(conn_limit,       "connections refused: per-worker limit")         \
	X(requests,         "requests received (headers complete)")          \
	X(responses,        "responses completed")                           \
	X(status_1xx,       "final and interim 1xx responses sent")          \
	X(status_2xx,       "2xx responses")                                 \
	X(status_3xx,       "3xx responses")                                 \
	X(status_4xx,       "4xx responses")                                 \
	X(status_5xx,       "5xx responses")                                 \
	X(keepalive_reuse,  "requests on an already used connection")        \
	X(pipelined,        "requests already received when the previous "   \
			    "response ended")                                \
	X(continue_sent,    "100 Continue sent")                             \
	X(h2c_preface,      "connections handed to HTTP/2: h2c preface")     \
	X(h2c_upgrade,      "connections handed to HTTP/2: Upgrade: h2c")    \
	X(h2c_upgrade_refused, "Upgrade: h2c answered over HTTP/1.1 instead") \
	X(err_syntax,       "400: request rejected by the parser")           \
	X(err_line_ending,  "400: bare CR or LF, or obsolete line folding")  \
	X(err_cl_te,        "400: Content-Length with Transfer-Encoding")    \
	X(err_content_length, "400: duplicate or malformed Content-Length")  \
	X(err_transfer_encoding, "400: Transfer-Encoding not ending in "     \
			    "chunked")                                       \
	X(err_chunk,        "400: bad chunk size or chunk framing")          \
	X(err_host,         "400: Host missing (HTTP/1.1) or repeated")      \
	X(err_header_name,  "400: empty or non-token header name")           \
	X(err_version,      "505: HTTP version other than 1.0 and 1.1")      \
	X(err_uri_too_long, "414: request line over the limit")              \
	X(err_header_size,  "431: header section over the byte limit")       \
	X(err_header_count, "431: more header fields than the limit")        \
	X(err_body_size,    "413: body over the limit")                      \
	X(timeout_header,   "408: header not received in time")              \
	X(timeout_body,     "408: body stalled")                             \
	X(timeout_keepalive, "idle keep-alive connection closed")            \
	X(timeout_send,     "closed: the peer stopped reading the response") \
	X(aborted,          "connection lost with a request in progress")    \
	X(nomem,            "mbufs ran out while responding")                \
	X(app_error,        "the application's response was malformed")

enum pg_http_counter {
#define PG_HTTP_COUNTER_ENUM(name, text) PG_HTTP_C_##name,
	PG_HTTP_COUNTERS(PG_HTTP_COUNTER_ENUM)
#undef PG_HTTP_COUNTER_ENUM
	PG_HTTP_C_MAX
};

struct pg_http_stats {
#define PG_HTTP_COUNTER_FIELD(name, text) uint64_t name;
	PG_HTTP_COUNTERS(PG_HTTP_COUNTER_FIELD)
#undef PG_HTTP_COUNTER_FIELD
} __rte_cache_aligned;

/*
 * Count a response by its class into five consecutive counters, 1xx to
 * 5xx (anything else as 5xx): HTTP/1.1's and HTTP/2's.
 */
static inline void
pg_http_count_class(uint64_t *c1xx, unsigned status)
{
	unsigned k = status / 100;
	c1xx[k >= 1 && k <= 4 ? k - 1 : 4]++;
}

extern const char *const pg_http_counter_names[PG_HTTP_C_MAX];
extern const char *const pg_http_counter_texts[PG_HTTP_C_MAX];

#endif
