/*
 * The protocol-agnostic HTTP message: arena, fields, target, and the
 * HTTP/1.1 response serializer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/pg_core.h"
#include "http/pg_http_msg.h"
#include "http/pg_http_stats.h"
#include "net/pg_mbuf.h"

const char *const pg_http_counter_names[PG_HTTP_C_MAX] = {
#define PG_HTTP_COUNTER_NAME(name, text) #name,
	PG_HTTP_COUNTERS(PG_HTTP_COUNTER_NAME)
#undef PG_HTTP_COUNTER_NAME
};

const char *const pg_http_counter_texts[PG_HTTP_C_MAX] = {
#define PG_HTTP_COUNTER_TEXT(name, text) text,
	PG_HTTP_COUNTERS(PG_HTTP_COUNTER_TEXT)
#undef PG_HTTP_COUNTER_TEXT
};

/* --- arena --------------------------------------------------------------- */

void *
pg_http_arena_alloc(struct pg_http_arena *a, uint32_t len)
{
	uint32_t at = RTE_ALIGN_CEIL(a->used, 8u);

	if (at > a->size || len > a->size - at)
		return NULL;
	a->used = at + len;
	return a->base + at;
}

char *
pg_http_arena_dup(struct pg_http_arena *a, const char *p, uint32_t len)
{
	if (len > a->size - a->used)
		return NULL;
	char *d = a->base + a->used;
	memcpy(d, p, len);
	a->used += len;
	return d;
}

int
pg_http_arena_extend(struct pg_http_arena *a, struct pg_http_str *s,
		     const char *p, uint32_t len)
{
	if (s->ptr + s->len != a->base + a->used
	    || pg_http_arena_dup(a, p, len) == NULL)
		return PG_ERROR;
	s->len += len;
	return PG_OK;
}

/* --- message ------------------------------------------------------------- */

int
pg_http_msg_init(struct pg_http_msg *m, void *buf, uint32_t size,
		 uint16_t max_fields)
{
	memset(m, 0, sizeof(*m));
	pg_http_arena_init(&m->arena, buf, size);
	m->max_fields = max_fields;
	m->fields = pg_http_arena_alloc(&m->arena,
					max_fields * sizeof(*m->fields));
	return m->fields != NULL ? PG_OK : PG_ERROR;
}

void
pg_http_msg_reset(struct pg_http_msg *m)
{
	struct pg_http_arena a = m->arena;
	struct pg_http_field *f = m->fields;
	uint16_t max = m->max_fields;

	if (m->body != NULL)
		pg_mbuf_free(m->body);
	memset(m, 0, sizeof(*m));
	m->arena = a;
	m->arena.used = (uint32_t)((char *)(f + max) - a.base);
	m->fields = f;
	m->max_fields = max;
}

int
pg_http_msg_add(struct pg_http_msg *m, const char *name, uint32_t nlen,
		const char *value, uint32_t vlen, int trailer)
{
	if (m->nheaders + m->ntrailers >= m->max_fields)
		return PG_ERROR;
	struct pg_http_field *f = &m->fields[m->nheaders + m->ntrailers];
	f->name = (struct pg_http_str){ name, nlen };
	f->value = (struct pg_http_str){ value, vlen };
	if (trailer)
		m->ntrailers++;
	else if (m->ntrailers == 0)
		m->nheaders++;
	else
		return PG_ERROR;     /* headers after trailers: a caller's bug */
	return PG_OK;
}

/* ASCII case folding of letters only: "|0x20" would also equate symbols. */
static inline int
pg_http_eq_tchar(unsigned char a, unsigned char b)
{
	a = (a >= 'A' && a <= 'Z') ? a | 0x20 : a;
	b = (b >= 'A' && b <= 'Z') ? b | 0x20 : b;
	return a == b;
}

int
pg_http_str_eq_nocase(const char *a, uint32_t alen, const char *b,
		      uint32_t blen)
{
	if (alen != blen)
		return 0;
	for (uint32_t i = 0; i < alen; i++)
		if (!pg_http_eq_tchar((unsigned char)a[i], (unsigned char)b[i]))
			return 0;
	return 1;
}

static inline int
pg_http_name_eq(const struct pg_http_str *s, const char *name, uint32_t nlen)
{
	return pg_http_str_eq_nocase(s->ptr, s->len, name, nlen);
}

int
pg_http_msg_find(const struct pg_http_msg *m, const char *name,
		 uint32_t nlen, int from, int trailer)
{
	int lo = trailer ? m->nheaders : 0;
	int hi = trailer ? m->nheaders + m->ntrailers : m->nheaders;

	for (int i = RTE_MAX(from, lo); i < hi; i++)
		if (pg_http_name_eq(&m->fields[i].name, name, nlen))
			return i;
	return -1;
}

const struct pg_http_str *
pg_http_msg_header(const struct pg_http_msg *m, const char *name)
{
	int i = pg_http_msg_find(m, name, (uint32_t)strlen(name), 0, 0);
	return i < 0 ? NULL : &m->fields[i].value;
}

int
pg_http_list_has(const struct pg_http_str *v, const char *token)
{
	uint32_t tlen = (uint32_t)strlen(token), i = 0;

	while (i < v->len) {
		while (i < v->len && (v->ptr[i] == ' ' || v->ptr[i] == '\t'
				      || v->ptr[i] == ','))
			i++;
		uint32_t start = i;
		while (i < v->len && v->ptr[i] != ',')
			i++;
		uint32_t end = i;
		while (end > start && (v->ptr[end - 1] == ' '
				       || v->ptr[end - 1] == '\t'))
			end--;
		if (end > start && pg_http_name_eq(&(struct pg_http_str){
				v->ptr + start, end - start }, token, tlen))
			return 1;
	}
	return 0;
}

static int
pg_http_base64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int32_t
pg_http_base64url_decode(const char *src, uint32_t len, uint8_t *out,
			 uint32_t cap)
{
	uint32_t acc = 0, bits = 0, n = 0;

	while (len > 0 && src[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;           /* 6 bits cannot end a byte */
	for (uint32_t i = 0; i < len; i++) {
		int v = pg_http_base64url_value((unsigned char)src[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;           /* non-zero padding bits */
	return (int32_t)n;
}

static const struct {
	const char *name;
	uint8_t len, method;
} pg_http_methods[] = {
	{ "GET", 3, PG_HTTP_GET },         { "HEAD", 4, PG_HTTP_HEAD },
	{ "POST", 4, PG_HTTP_POST },       { "PUT", 3, PG_HTTP_PUT },
	{ "DELETE", 6, PG_HTTP_DELETE },   { "CONNECT", 7, PG_HTTP_CONNECT },
	{ "OPTIONS", 7, PG_HTTP_OPTIONS }, { "TRACE", 5, PG_HTTP_TRACE },
	{ "PATCH", 5, PG_HTTP_PATCH },
};

uint8_t
pg_http_method_parse(const char *p, uint32_t len)
{
	for (unsigned i = 0; i < PG_ARRAY_SIZE(pg_http_methods); i++)
		if (pg_http_methods[i].len == len
		    && memcmp(pg_http_methods[i].name, p, len) == 0)
			return pg_http_methods[i].method;
	return PG_HTTP_OTHER;
}

uint32_t
pg_http_msg_body_read(struct pg_http_msg *m, void *buf, uint32_t len)
{
	uint32_t got = 0;

	while (got < len && m->body != NULL) {
		struct rte_mbuf *b = m->body;
		uint16_t k = (uint16_t)RTE_MIN((uint32_t)b->data_len, len - got);
		memcpy((char *)buf + got, rte_pktmbuf_mtod(b, char *), k);
		got += k;
		m->body_len -= k;
		if (k < b->data_len) {
			rte_pktmbuf_adj(b, k);
			break;
		}
		pg_mbuf_free(pg_mbuf_chain_pop(&m->body, &m->body_tail));
	}
	return got;
}

int64_t
pg_http_parse_length(const struct pg_http_str *v)
{
	int64_t n = 0;

	if (v->len == 0 || v->len > 18)
		return -1;
	for (uint32_t i = 0; i < v->len; i++) {
		if (v->ptr[i] < '0' || v->ptr[i] > '9')
			return -1;
		n = n * 10 + (v->ptr[i] - '0');
	}
	return n;
}

int
pg_http_is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
	       || (c >= 'A' && c <= 'Z') || (c != 0 && strchr(extra, c) != NULL);
}

static void
pg_http_split_query(struct pg_http_msg *m, const char *p, uint32_t len)
{
	const char *q = memchr(p, '?', len);

	if (q == NULL) {
		m->path = (struct pg_http_str){ p, len };
		m->query = (struct pg_http_str){ NULL, 0 };
		return;
	}
	m->path = (struct pg_http_str){ p, (uint32_t)(q - p) };
	m->query = (struct pg_http_str){ q + 1, (uint32_t)(p + len - q - 1) };
}

int
pg_http_msg_set_target(struct pg_http_msg *m, const char *p, uint32_t len)
{
	m->target = (struct pg_http_str){ p, len };
	if (len == 0)
		return PG_ERROR;
	if (p[0] == '/') {
		pg_http_split_query(m, p, len);
		return PG_OK;
	}
	if (len == 1 && p[0] == '*') {
		m->path = m->target;
		return PG_OK;
	}
	const char *sep = len > 3 ? memmem(p, len, "://", 3) : NULL;
	if (m->method == PG_HTTP_CONNECT || sep == NULL) {
		if (m->method != PG_HTTP_CONNECT)
			return PG_ERROR;
		m->authority = m->target;   /* authority-form */
		return PG_OK;
	}
	m->scheme = (struct pg_http_str){ p, (uint32_t)(sep - p) };
	const char *a = sep + 3, *end = p + len;
	const char *slash = memchr(a, '/', (size_t)(end - a));
	const char *qm = memchr(a, '?', (size_t)(end - a));
	const char *aend = slash != NULL ? slash : end;
	if (qm != NULL && qm < aend)
		aend = qm;
	m->authority = (struct pg_http_str){ a, (uint32_t)(aend - a) };
	if (aend == end) {
		m->path = (struct pg_http_str){ "/", 1 };
		return PG_OK;
	}
	if (*aend == '?') {
		m->path = (struct pg_http_str){ "/", 1 };
		m->query = (struct pg_http_str){ aend + 1,
						 (uint32_t)(end - aend - 1) };
		return PG_OK;
	}
	pg_http_split_query(m, aend, (uint32_t)(end - aend));
	return PG_OK;
}

/* --- output chain -------------------------------------------------------- */

int
pg_http_out_put(struct pg_http_out *o, const void *p, uint32_t len)
{
	const char *s = p;

	while (len > 0) {
		struct rte_mbuf *t = o->tail;
		uint16_t room = 0;
		if (t != NULL && RTE_MBUF_DIRECT(t)
		    && rte_mbuf_refcnt_read(t) == 1)
			room = rte_pktmbuf_tailroom(t);
		if (room == 0) {
			t = pg_mbuf_alloc(o->mp, o->holder);
			if (t == NULL)
				return PG_ERROR;
			pg_mbuf_chain_add(&o->head, &o->tail, t);
			room = rte_pktmbuf_tailroom(t);
		}
		uint16_t k = (uint16_t)RTE_MIN((uint32_t)room, len);
		memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len), s, k);
		t->data_len += k;
		o->head->pkt_len += k;
		s += k;
		len -= k;
	}
	return PG_OK;
}

void
pg_http_out_chain(struct pg_http_out *o, struct rte_mbuf *m)
{
	if (m != NULL)
		pg_mbuf_chain_add(&o->head, &o->tail, m);
}

struct rte_mbuf *
pg_http_out_take(struct pg_http_out *o)
{
	struct rte_mbuf *m = o->head;
	o->head = o->tail = NULL;
	return m;
}

void
pg_http_out_free(struct pg_http_out *o)
{
	if (o->head != NULL)
		pg_mbuf_free(o->head);
	o->head = o->tail = NULL;
}

/* --- serializer ---------------------------------------------------------- */

static const struct {
	uint16_t status;
	const char *reason;
} pg_http_reasons[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" },
	{ 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
	{ 206, "Partial Content" }, { 301, "Moved Permanently" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 417, "Expectation Failed" },
	{ 426, "Upgrade Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
};

const char *
pg_http_reason(unsigned status)
{
	for (unsigned i = 0; i < PG_ARRAY_SIZE(pg_http_reasons); i++)
		if (pg_http_reasons[i].status == status)
			return pg_http_reasons[i].reason;
	return "";
}

void
pg_http_date(char buf[30], time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
					 "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
					    "Jun", "Jul", "Aug", "Sep", "Oct",
					    "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		 (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum pg_http_framing
pg_http_framing(uint8_t method, uint8_t version, unsigned status, int64_t clen)
{
	if (status < 200 || status == 204 || status == 304
	    || (method == PG_HTTP_CONNECT && status < 300))
		return PG_HTTP_FRAME_NONE;
	if (clen >= 0)
		return PG_HTTP_FRAME_LENGTH;
	if (method == PG_HTTP_HEAD)
		return PG_HTTP_FRAME_NONE;
	return version >= 11 ? PG_HTTP_FRAME_CHUNKED : PG_HTTP_FRAME_CLOSE;
}

/* Fields the connection owns: the application's are not written. */
static int
pg_http_hop_field(const struct pg_http_str *n)
{
	static const struct { const char *s; uint32_t len; } owned[] = {
		{ "content-length", 14 }, { "transfer-encoding", 17 },
		{ "connection", 10 }, { "keep-alive", 10 },
	};
	for (unsigned i = 0; i < PG_ARRAY_SIZE(owned); i++)
		if (pg_http_name_eq(n, owned[i].s, owned[i].len))
			return 1;
	return 0;
}

static int
pg_http_field_ok(const struct pg_http_field *f, const char **err)
{
	if (f->name.len == 0) {
		*err = "empty field name";
		return 0;
	}
	for (uint32_t i = 0; i < f->name.len; i++)
		if (!pg_http_is_tchar((unsigned char)f->name.ptr[i])) {
			*err = "field name is not a token";
			return 0;
		}
	for (uint32_t i = 0; i < f->value.len; i++) {
		char c = f->value.ptr[i];
		if (c == '\r' || c == '\n' || c == '\0') {
			*err = "field value holds CR, LF or NUL";
			return 0;
		}
	}
	return 1;
}

static int
pg_http_write_fields(struct pg_http_out *o, const struct pg_http_field *f,
		     unsigned n, int skip_hop, const char **err)
{
	for (unsigned i = 0; i < n; i++) {
		if (!pg_http_field_ok(&f[i], err))
			return PG_ERROR;
		if (skip_hop && pg_http_hop_field(&f[i].name))
			continue;
		if (pg_http_out_put(o, f[i].name.ptr, f[i].name.len) != PG_OK
		    || pg_http_out_put(o, ": ", 2) != PG_OK
		    || pg_http_out_put(o, f[i].value.ptr, f[i].value.len) != PG_OK
		    || pg_http_out_put(o, "\r\n", 2) != PG_OK)
			goto nomem;
	}
	return PG_OK;
nomem:
	*err = "out of mbufs";
	return PG_ERROR;
}

int
pg_http_write_head(struct pg_http_out *o, const struct pg_http_msg *resp,
		   const struct pg_http_head_opts *opts, const char **err)
{
	char line[160];
	int n;

	if (resp->status < 100 || resp->status > 999) {
		*err = "status outside 100-999";
		return PG_ERROR;
	}
	n = snprintf(line, sizeof(line), "HTTP/1.1 %u %s\r\n", resp->status,
		     pg_http_reason(resp->status));
	if (pg_http_out_put(o, line, (uint32_t)n) != PG_OK)
		goto nomem;
	if (pg_http_write_fields(o, resp->fields, resp->nheaders, 1, err)
	    != PG_OK)
		return PG_ERROR;
	n = 0;
	if (opts->date != NULL && pg_http_msg_header(resp, "date") == NULL)
		n += snprintf(line + n, sizeof(line) - n, "Date: %s\r\n",
			      opts->date);
	if (opts->framing == PG_HTTP_FRAME_LENGTH || opts->length_header)
		n += snprintf(line + n, sizeof(line) - n,
			      "Content-Length: %" PRIu64 "\r\n",
			      opts->content_length);
	else if (opts->framing == PG_HTTP_FRAME_CHUNKED)
		n += snprintf(line + n, sizeof(line) - n,
			      "Transfer-Encoding: chunked\r\n");
	if (resp->status >= 200) {
		if (!opts->keep_alive)
			n += snprintf(line + n, sizeof(line) - n,
				      "Connection: close\r\n");
		else if (opts->version == 10)
			n += snprintf(line + n, sizeof(line) - n,
				      "Connection: keep-alive\r\n");
	}
	n += snprintf(line + n, sizeof(line) - n, "\r\n");
	if (pg_http_out_put(o, line, (uint32_t)n) != PG_OK)
		goto nomem;
	return PG_OK;
nomem:
	*err = "out of mbufs";
	return PG_ERROR;
}

int
pg_http_write_chunk(struct pg_http_out *o, struct rte_mbuf *m)
{
	char line[24];

	if (m == NULL || m->pkt_len == 0) {
		if (m != NULL)
			pg_mbuf_free(m);
		return PG_OK;        /* an empty chunk would end the body */
	}
	int n = snprintf(line, sizeof(line), "%x\r\n", m->pkt_len);
	if (pg_http_out_put(o, line, (uint32_t)n) != PG_OK) {
		pg_mbuf_free(m);
		return PG_ERROR;
	}
	pg_http_out_chain(o, m);
	return pg_http_out_put(o, "\r\n", 2);
}

int
pg_http_write_last_chunk(struct pg_http_out *o, const struct pg_http_msg *t,
			 const char **err)
{
	if (pg_http_out_put(o, "0\r\n", 3) != PG_OK)
		goto nomem;
	if (t != NULL && pg_http_write_fields(o, t->fields + t->nheaders,
					      t->ntrailers, 1, err) != PG_OK)
		return PG_ERROR;
	if (pg_http_out_put(o, "\r\n", 2) != PG_OK)
		goto nomem;
	return PG_OK;
nomem:
	*err = "out of mbufs";
	return PG_ERROR;
}
