/*
 * A request served by the Lua application, as the worker's side of the
 * Lua layer sees it: lua/pg_lua_http.c (the exchange handler, the FFI of
 * the transport) and lua/pg_lua_file.c (files sent from the file cache).
 */
#ifndef PG_LUA_HTTP_PRIV_H
#define PG_LUA_HTTP_PRIV_H

#include <stdint.h>

#include "http/pg_http_xchg.h"
#include "lua/pg_lua_http.h"

/* What Lua may queue before write() waits for the peer to drain. */
#define PG_LUA_WRITE_HIWAT (256u << 10)
#define PG_LUA_ID_MAX      48

struct pg_lua_file;

struct pg_lua_req {
	struct pg_http_xchg *x;      /* NULL once the exchange is gone */
	struct pg_http_msg *req;     /* x's request */
	struct pg_lua_vm *vm;        /* held until the task ends */
	struct pg_lua_http *owner;
	struct pg_lua_file *file;    /* the file being sent, NULL: none */
	int task;                    /* the host task serving it */
	int waiting;                 /* task to wake on an event, 0: none */
	int responded;
	uint8_t id_len;
	char id[PG_LUA_ID_MAX];      /* the request id, for the access log */
};

/* Around every call an FFI function makes into the protocol: callbacks
 * that come from inside it are deferred (Lua cannot be entered there). */
static inline void
pg_lua_call_enter(struct pg_lua_req *r)
{
	r->owner->calls++;
}

static inline void
pg_lua_call_leave(struct pg_lua_req *r)
{
	r->owner->calls--;
}

/*
 * Bytes a response may queue before its task waits for on_writable: where
 * the protocol promises one. HTTP/2 fires it when a stream's unframed
 * bytes fall under half its stream buffer, once they had reached it
 * (PG_LUA_WRITE_HIWAT is above that); TCP, under HTTP/1.1, only after its
 * queue had reached snd_hiwat.
 */
static inline uint32_t
pg_lua_write_hiwat(const struct pg_lua_req *r)
{
	return r->x->version == 20 ? PG_LUA_WRITE_HIWAT
				   : r->owner->write_hiwat_h1;
}

/* Resume the task of r if it waits (pg_lua_ffi_wait). */
void pg_lua_wake(struct pg_lua_req *r);

/* Reset the exchange of r (no callback follows). */
void pg_lua_ffi_abort(struct pg_lua_req *r);

/* The request ends: its file, if any, no longer refers to it. */
void pg_lua_file_detach(struct pg_lua_req *r);

#endif
