/*
 * res:sendfile and app:static, the worker's side: the FFI functions the
 * Lua transport (perigee.ffi_transport) calls to open a file through the
 * worker's file cache (http/pg_fcache.h), answer the request's
 * preconditions and Range (http/pg_file.h), and pump the body out of the
 * cache into the exchange as mbufs that reference the cached pages.
 *
 *   file_open  -> pg_file_path (refuse) -> pg_fcache_open -> (reader)
 *   open done  -> pg_lua_file_event -> pg_lua_wake (the task waits)
 *   file_info  -> pg_file_prepare: status, validators, span
 *   file_pump  -> pg_fcache_take -> pg_http_xchg_send, until the span is
 *                 sent; waits for the cache (a chunk being read, memory
 *                 all busy) or the peer (queued above the high-water mark)
 *   file_close -> the file, the open and the waits are let go
 *
 * Lua holds a struct pg_lua_file through ffi.gc; the request holds it in
 * r->file until either ends, whichever first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/pg_core.h"
#include "http/pg_fcache.h"
#include "http/pg_file.h"
#include "lua/pg_lua_http.h"
#include "lua/pg_lua_http_priv.h"
#include "net/pg_netif.h"

struct pg_lua_file {
	struct pg_lua_req *r;        /* NULL once the request ended */
	struct pg_fcache *fc;
	struct pg_fcache_open *open;
	struct pg_fcache_file *file;
	struct pg_fcache_waiter w;
	uint64_t off, end;           /* what is left to send */
};

/* What Lua reads back (perigee.ffi_transport declares it too). */
struct pg_lua_file_info {
	int status;                  /* 200, 206, 304, 412, 416, or the error */
	int is_dir;                  /* the path was a directory */
	uint64_t len, size;
	const char *name;            /* the file opened, index appended */
	const char *type;
	const char *encoding;        /* NULL: identity */
	char etag[48];
	char last_modified[30];
	char content_range[64];
	const char *listing;         /* PG_FILE_LISTING: see pg_fcache_open */
	uint32_t listing_len;
	int listing_truncated;
};

/* pg_lua_ffi_file_open flags, beyond PG_FILE_* */
#define PG_LUA_FILE_PRECOMPRESSED 0x100u

static void
pg_lua_file_event(struct pg_fcache_waiter *w)
{
	struct pg_lua_file *f = (struct pg_lua_file *)((char *)w
		- offsetof(struct pg_lua_file, w));
	if (f->r != NULL)
		pg_lua_wake(f->r);
}

void
pg_lua_file_detach(struct pg_lua_req *r)
{
	struct pg_lua_file *f = r->file;
	if (f == NULL)
		return;
	pg_fcache_cancel(&f->w);
	f->r = NULL;
	r->file = NULL;
}

/*
 * Open path beneath root. NULL with *status (400, 403, 404: refused
 * without looking; 503: the reader is saturated; 500: no file cache).
 */
struct pg_lua_file *
pg_lua_ffi_file_open(struct pg_lua_req *r, const char *root,
		     const char *path, uint32_t len, unsigned flags,
		     const char *index, int *status)
{
	char rel[PG_FILE_PATH_MAX];
	unsigned codings = 0;
	struct pg_lua_file *f;

	*status = 500;
	if (r->x == NULL || r->owner->files == NULL || r->file != NULL)
		return NULL;
	*status = (int)pg_file_path(path, len, flags, rel, sizeof(rel));
	if (*status != 0)
		return NULL;
	if (flags & PG_LUA_FILE_PRECOMPRESSED) {
		const struct pg_http_str *ae = pg_http_msg_header(r->req,
							"accept-encoding");
		if (ae != NULL)
			codings = pg_file_accept(ae);
	}
	*status = 503;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->r = r;
	f->fc = r->owner->files;
	f->w.fn = pg_lua_file_event;
	f->open = pg_fcache_open(f->fc, root, rel, flags, codings, index,
				 &f->w);
	if (f->open == NULL) {
		free(f);
		return NULL;
	}
	r->file = f;
	*status = 0;
	return f;
}

int
pg_lua_ffi_file_ready(const struct pg_lua_file *f)
{
	return f->open->done || f->r == NULL;
}

static int
pg_lua_file_error(int err)
{
	switch (err) {
	case ENOENT: case ENOTDIR: case EISDIR: case ENAMETOOLONG:
		return 404;
	case EACCES: case EPERM: case ELOOP: case EXDEV:
		return 403;
	default:
		return 500;
	}
}

/* The answer to the request for the opened file (after file_ready). */
void
pg_lua_ffi_file_info(struct pg_lua_file *f, struct pg_lua_file_info *out)
{
	struct pg_fcache_open *o = f->open;
	struct pg_file_answer a;
	struct pg_file_cond q;

	memset(out, 0, sizeof(*out));
	out->is_dir = o->is_dir;
	if (f->r == NULL || f->r->x == NULL) {
		out->status = 499;
		return;
	}
	if (o->err != 0) {
		out->status = pg_lua_file_error(o->err);
		out->listing = o->listing;
		out->listing_len = o->listing_len;
		out->listing_truncated = o->listing_truncated;
		return;
	}
	f->file = o->file;
	o->file = NULL;
	pg_file_cond_from(&q, f->r->req);
	pg_file_prepare(&q, &f->file->st, &a);
	out->status = (int)a.status;
	out->len = a.len;
	out->size = a.size;
	out->name = o->rel;
	out->type = pg_file_type(o->rel, (uint32_t)strlen(o->rel));
	if (o->coding != PG_FILE_IDENTITY)
		out->encoding = pg_file_coding_name(o->coding);
	memcpy(out->etag, a.etag, sizeof(out->etag));
	memcpy(out->last_modified, a.last_modified,
	       sizeof(out->last_modified));
	memcpy(out->content_range, a.content_range,
	       sizeof(out->content_range));
	f->off = a.off;
	f->end = q.head ? a.off : a.off + a.len;
}

/*
 * Send what can be sent now. 0: all of it was queued (the body ended);
 * 1: wait (pg_lua_ffi_wait), then call again; -1: the file changed or
 * cannot be read, the exchange was reset; -2: the client is gone.
 */
int
pg_lua_ffi_file_pump(struct pg_lua_file *f)
{
	struct pg_lua_req *r = f->r;
	struct pg_lua_http *lh;

	if (r == NULL || r->x == NULL)
		return -2;
	lh = r->owner;
	uint32_t hiwat = pg_lua_write_hiwat(r);
	while (f->off < f->end) {
		struct rte_mbuf *m = NULL;
		if (pg_http_xchg_queued(r->x) >= hiwat)
			return 1;
		int rc = pg_fcache_take(f->fc, f->file, f->off,
					f->end - f->off, lh->nif->pool,
					lh->nif->holder, &m, &f->w);
		if (rc == PG_AGAIN)
			return 1;
		if (rc != PG_OK) {
			pg_lua_ffi_abort(r);
			return -1;
		}
		f->off += m->pkt_len;
		pg_lua_call_enter(r);
		rc = pg_http_xchg_send(r->x, m, f->off == f->end);
		pg_lua_call_leave(r);
		if (rc != PG_OK)
			return r->x == NULL ? -2 : -1;
		if (r->x == NULL)
			return f->off == f->end ? 0 : -2;
	}
	return 0;
}

void
pg_lua_ffi_file_close(struct pg_lua_file *f)
{
	if (f->r != NULL)
		pg_lua_file_detach(f->r);
	pg_fcache_cancel(&f->w);
	pg_fcache_file_put(f->fc, f->file);
	if (f->open->done)
		pg_fcache_file_put(f->fc, f->open->file);
	pg_fcache_open_release(f->fc, f->open);
	free(f);
}
