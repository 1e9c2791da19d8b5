/*
 * The protocol-agnostic HTTP message (after Sōzu's kawa): what HTTP/1.1
 * and HTTP/2 parse into and serialise from.
 *
 * Strings are slices {ptr, len}, not NUL-terminated: into the received
 * mbufs when the bytes arrived contiguous, else into the message's arena,
 * a fixed buffer reset with each request (nothing is freed one by one).
 * Fields keep their order; headers come first, then trailers. The body is
 * an mbuf chain.
 *
 * The response serializer writes HTTP/1.1 heads and chunk framing into
 * mbufs taken from a pool (struct pg_http_out).
 */
#ifndef PG_HTTP_MSG_H
#define PG_HTTP_MSG_H

#include <stdint.h>
#include <time.h>

#include <rte_mbuf.h>

struct pg_http_str {
	const char *ptr;
	uint32_t len;
};

struct pg_http_field {
	struct pg_http_str name, value;
};

/* A bump allocator over a caller's buffer. */
struct pg_http_arena {
	char *base;
	uint32_t size, used;
};

enum pg_http_method {
	PG_HTTP_OTHER, PG_HTTP_GET, PG_HTTP_HEAD, PG_HTTP_POST, PG_HTTP_PUT,
	PG_HTTP_DELETE, PG_HTTP_CONNECT, PG_HTTP_OPTIONS, PG_HTTP_TRACE,
	PG_HTTP_PATCH,
};

/* Message flags. */
#define PG_HTTP_F_KEEP_ALIVE      0x01u  /* the connection may carry another */
#define PG_HTTP_F_CHUNKED         0x02u  /* body framed by chunks */
#define PG_HTTP_F_CONTENT_LENGTH  0x04u  /* content_length is set */
#define PG_HTTP_F_EXPECT_CONTINUE 0x08u  /* Expect: 100-continue */
#define PG_HTTP_F_UPGRADE         0x10u  /* Upgrade (or CONNECT) requested */
#define PG_HTTP_F_BODY_DONE       0x20u  /* the whole body (and trailers) is in */

struct pg_http_msg {
	struct pg_http_str method_name;  /* request */
	struct pg_http_str scheme;       /* request: absolute form or :scheme */
	struct pg_http_str authority;    /* request: Host or :authority */
	struct pg_http_str path;         /* request: without the query */
	struct pg_http_str query;        /* request: after '?', without it */
	struct pg_http_str target;       /* request: as received (h1) */
	uint8_t method;                  /* enum pg_http_method */
	uint8_t version;                 /* 10, 11 or 20 */
	uint16_t status;                 /* response */
	uint32_t flags;                  /* PG_HTTP_F_* */
	uint64_t content_length;
	struct pg_http_field *fields;    /* headers then trailers */
	uint16_t nheaders, ntrailers, max_fields;
	struct rte_mbuf *body, *body_tail;  /* body chunks received */
	uint64_t body_len;
	struct pg_http_arena arena;
};

/* --- arena --------------------------------------------------------------- */

static inline void
pg_http_arena_init(struct pg_http_arena *a, void *buf, uint32_t size)
{
	a->base = buf;
	a->size = size;
	a->used = 0;
}

/* len bytes, 8-aligned; NULL when the arena is full. */
void *pg_http_arena_alloc(struct pg_http_arena *a, uint32_t len);

/* Append len bytes to the string s, which must be the arena's last. */
int pg_http_arena_extend(struct pg_http_arena *a, struct pg_http_str *s,
			 const char *p, uint32_t len);

/* A copy of p in the arena; NULL when it is full. */
char *pg_http_arena_dup(struct pg_http_arena *a, const char *p, uint32_t len);

/* --- message ------------------------------------------------------------- */

/*
 * A message whose fields array and copies live in arena (size bytes at
 * buf, of which max_fields * sizeof(struct pg_http_field) are the array).
 * PG_ERROR when buf is too small for the array.
 */
int pg_http_msg_init(struct pg_http_msg *m, void *buf, uint32_t size,
		     uint16_t max_fields);

/* Forget everything (frees the body chain) and reuse the arena. */
void pg_http_msg_reset(struct pg_http_msg *m);

/* Append a field (slices borrowed, not copied). PG_ERROR when full. */
int pg_http_msg_add(struct pg_http_msg *m, const char *name, uint32_t nlen,
		    const char *value, uint32_t vlen, int trailer);

/*
 * Index of the first field named name (ASCII case-insensitive) at or after
 * from, among headers (trailer 0) or trailers (trailer 1); -1 when none.
 */
int pg_http_msg_find(const struct pg_http_msg *m, const char *name,
		     uint32_t nlen, int from, int trailer);

/* The value of the first header named name, or NULL. */
const struct pg_http_str *pg_http_msg_header(const struct pg_http_msg *m,
					     const char *name);

/* Does the comma-separated list value hold token (case-insensitive)? */
int pg_http_list_has(const struct pg_http_str *value, const char *token);

int pg_http_str_eq_nocase(const char *a, uint32_t alen, const char *b,
			  uint32_t blen);

/* enum pg_http_method of a method name. */
uint8_t pg_http_method_parse(const char *p, uint32_t len);

/*
 * Split an origin-form or absolute-form target into scheme, authority,
 * path and query (slices of target). PG_ERROR for another form than
 * origin ("/..."), absolute ("http://..."), authority (CONNECT) and "*".
 */
int pg_http_msg_set_target(struct pg_http_msg *m, const char *p,
			   uint32_t len);

/*
 * Copy up to len bytes of m's body into buf, freeing what was read.
 * Returns how many.
 */
uint32_t pg_http_msg_body_read(struct pg_http_msg *m, void *buf,
			       uint32_t len);

/* A Content-Length value: 0 to 10^18 - 1, or -1 when malformed. */
int64_t pg_http_parse_length(const struct pg_http_str *v);

/* Is c a token character (RFC 9110 5.6.2)? */
int pg_http_is_tchar(unsigned char c);

/*
 * Decode base64url (RFC 4648 section 5; padding optional, as
 * HTTP2-Settings carries it) into out. Returns the decoded length, or -1
 * when src is malformed or does not fit in cap bytes.
 */
int32_t pg_http_base64url_decode(const char *src, uint32_t len,
				 uint8_t *out, uint32_t cap);

/* --- serializer ---------------------------------------------------------- */

/* An mbuf chain being written. */
struct pg_http_out {
	struct rte_mempool *mp;
	uint16_t holder;
	struct rte_mbuf *head, *tail;
};

static inline void
pg_http_out_init(struct pg_http_out *o, struct rte_mempool *mp,
		 uint16_t holder)
{
	o->mp = mp;
	o->holder = holder;
	o->head = o->tail = NULL;
}

/* Copy len bytes to the end of the chain. PG_ERROR when mbufs ran out. */
int pg_http_out_put(struct pg_http_out *o, const void *p, uint32_t len);

/* Append the chain m (consumed on every path; a NULL m is nothing). */
void pg_http_out_chain(struct pg_http_out *o, struct rte_mbuf *m);

/* The chain written so far; the writer is empty again. */
struct rte_mbuf *pg_http_out_take(struct pg_http_out *o);

/* Free what was written. */
void pg_http_out_free(struct pg_http_out *o);

/* How the length of a response body is told. */
enum pg_http_framing {
	PG_HTTP_FRAME_NONE,      /* no body: 1xx, 204, 304, 2xx to CONNECT */
	PG_HTTP_FRAME_LENGTH,    /* Content-Length */
	PG_HTTP_FRAME_CHUNKED,   /* Transfer-Encoding: chunked (HTTP/1.1) */
	PG_HTTP_FRAME_CLOSE,     /* until the connection closes (HTTP/1.0) */
};

/*
 * The framing of a response with status to a request of method and
 * version (10, 11), whose body length is clen, or -1 while unknown.
 */
enum pg_http_framing pg_http_framing(uint8_t method, uint8_t version,
				     unsigned status, int64_t clen);

struct pg_http_head_opts {
	uint8_t framing;             /* enum pg_http_framing */
	uint8_t keep_alive;          /* 0: Connection: close */
	uint8_t version;             /* of the request: 10 says keep-alive */
	uint8_t length_header;       /* write Content-Length (HEAD keeps it) */
	uint64_t content_length;
	const char *date;            /* 29 characters, or NULL for none */
};

/*
 * Write the head of the response resp (status, its fields) into o: the
 * status line, every field except those the framing owns
 * (Content-Length, Transfer-Encoding, Connection, Keep-Alive), Date unless
 * resp has one, then the framing and Connection. PG_ERROR with *err when a
 * field could split the response (a name that is not a token, CR, LF or
 * NUL in a value) or when mbufs ran out.
 */
int pg_http_write_head(struct pg_http_out *o, const struct pg_http_msg *resp,
		       const struct pg_http_head_opts *opts, const char **err);

/* Frame m (consumed) as one chunk: size line, data, CRLF. */
int pg_http_write_chunk(struct pg_http_out *o, struct rte_mbuf *m);

/* The last chunk with the trailers of t (may be NULL). */
int pg_http_write_last_chunk(struct pg_http_out *o,
			     const struct pg_http_msg *t, const char **err);

/* The reason phrase of status ("" when unknown). */
const char *pg_http_reason(unsigned status);

/* An IMF-fixdate (RFC 9110 5.6.7) of t in buf: 29 characters and a NUL. */
void pg_http_date(char buf[30], time_t t);

#endif
