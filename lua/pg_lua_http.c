/*
 * HTTP requests to the Lua application: the exchange handler (HTTP/1.1
 * and HTTP/2 alike, http/pg_http_xchg.h) that starts a task per request in
 * the worker's VM (perigee.ffi_transport.serve), the FFI functions that
 * task's transport calls, and the wake-ups from the exchange's events
 * (body data, drained window, gone).
 *
 *   on_request      -> pg_lua_http_request -> ffi_transport.serve (Lua)
 *   Lua transport   -> pg_lua_ffi_* (read body, respond, write, wait)
 *   on_body / on_request_end / on_writable -> host.wake(task)
 *   on_close        -> host.abort(task)
 *   task ends       -> pg_lua_http_done: the request lets go of x and vm
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <rte_ip.h>

#include "core/pg_config.h"
#include "core/pg_core.h"
#include "core/pg_stats.h"
#include "core/pg_log.h"
#include "http/pg_fcache.h"
#include "http/pg_http_server.h"
#include "http/pg_http_log.h"
#include "lua/pg_lua.h"
#include "lua/pg_lua_http.h"
#include "lua/pg_lua_http_priv.h"
#include "net/pg_stream.h"

#define PG_LUA_MAX_FIELDS  128


/* --- calling into the VM ------------------------------------------------- */

/* host.<fn>(id) in vm; errors are logged, never raised. */
static void
pg_lua_host_call(struct pg_lua_vm *vm, const char *fn, int id)
{
	lua_State *L = vm->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->host_ref);
	lua_getfield(L, -1, fn);
	lua_pushinteger(L, id);
	if (pg_lua_pcall(L, 1, 0) != 0) {
		pg_log_err(0, "lua: host.%s: %s", fn, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* --- events that arrive while Lua is inside a call ------------------------ */

/*
 * An FFI call of the transport that reaches the protocol (respond, write,
 * body read, a file's send, abort) may make the protocol run: HTTP/2 reads
 * the input it held back (new streams), frames other streams (on_writable)
 * and resets some (on_close). LuaJIT forbids entering the VM from inside
 * an FFI call, so while lh->calls > 0 those callbacks are queued here and
 * replayed by pg_lua_http_poll.
 */
enum pg_lua_ev_kind { PG_LUA_EV_REQUEST, PG_LUA_EV_WAKE, PG_LUA_EV_ABORT };

struct pg_lua_ev {
	enum pg_lua_ev_kind kind;
	int task;
	struct pg_lua_vm *vm;        /* held: the task's (WAKE, ABORT) */
	struct pg_http_xchg *x;      /* REQUEST; NULL: closed meanwhile */
	struct pg_http_msg *req;
};

/* x->ctx of a request whose on_request is queued. */
static char pg_lua_queued_request;

static struct pg_lua_req *
pg_lua_req_of(const struct pg_http_xchg *x)
{
	return x->ctx == &pg_lua_queued_request ? NULL : x->ctx;
}

static void
pg_lua_defer(struct pg_lua_http *lh, struct pg_lua_ev ev)
{
	if (lh->nev == lh->evcap) {
		unsigned cap = lh->evcap ? lh->evcap * 2 : 64;
		struct pg_lua_ev *a = realloc(lh->ev, cap * sizeof(*a));
		if (a == NULL) {
			/* Lost: the request waits for its timeout, or the
			 * new exchange is reset by its own timer. */
			pg_log_err(0, "lua: out of memory for a deferred event");
			return;
		}
		lh->ev = a;
		lh->evcap = cap;
	}
	if (ev.vm != NULL)
		pg_lua_vm_hold(ev.vm);
	lh->ev[lh->nev++] = ev;
}

static void
pg_lua_host_task(struct pg_lua_http *lh, struct pg_lua_vm *vm,
		 const char *fn, enum pg_lua_ev_kind kind, int task)
{
	if (lh->calls > 0)
		pg_lua_defer(lh, (struct pg_lua_ev){ .kind = kind,
			     .task = task, .vm = vm });
	else
		pg_lua_host_call(vm, fn, task);
}

void
pg_lua_wake(struct pg_lua_req *r)
{
	int task = r->waiting;
	if (task == 0)
		return;
	r->waiting = 0;
	pg_lua_host_task(r->owner, r->vm, "wake", PG_LUA_EV_WAKE, task);
}

/* The task is over (its on_exit): let go of the connection and the VM. */
static int
pg_lua_http_done(lua_State *L)
{
	struct pg_lua_req *r = lua_touserdata(L, 1);
	pg_lua_file_detach(r);
	if (r->x != NULL) {
		r->x->ctx = NULL;
		if (!r->responded)
			pg_http_xchg_abort(r->x);
	}
	r->owner->active--;
	pg_lua_vm_put(r->vm);
	free(r);
	return 0;
}

/* --- the exchange handler ------------------------------------------------ */

static void
pg_lua_http_request(struct pg_http_xchg *x, struct pg_http_msg *req)
{
	struct pg_lua_http *lh = x->server_ctx;
	struct pg_lua_vm *vm = *lh->vm;
	struct pg_lua_req *r;
	lua_State *L;

	if (lh->calls > 0) {
		x->ctx = &pg_lua_queued_request;
		pg_lua_defer(lh, (struct pg_lua_ev){ .kind = PG_LUA_EV_REQUEST,
						     .x = x, .req = req });
		return;
	}
	if (vm == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		pg_http_xchg_abort(x);
		return;
	}
	r->x = x;
	r->req = req;
	r->vm = vm;
	r->owner = lh;
	pg_lua_vm_hold(vm);
	x->ctx = r;
	lh->active++;
	L = vm->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->serve_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->app_ref);
	lua_pushlightuserdata(L, r);
	lua_pushcfunction(L, pg_lua_http_done);
	/* serve may finish the request (and free r) before it returns. */
	if (pg_lua_pcall(L, 3, 1) != 0)
		goto failed;
	int task = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	vm->timers = 1;              /* the request may have started some */
	if (x->ctx == r)
		r->task = task;
	return;
failed:
	pg_log_err(0, "lua: cannot serve a request: %s", lua_tostring(L, -1));
	lua_settop(L, 0);
	x->ctx = NULL;
	pg_http_xchg_abort(x);
	lh->active--;
	pg_lua_vm_put(vm);
	free(r);
}

static void
pg_lua_http_event(struct pg_http_xchg *x)
{
	struct pg_lua_req *r = pg_lua_req_of(x);
	if (r != NULL)
		pg_lua_wake(r);
}

static void
pg_lua_http_close(struct pg_http_xchg *x)
{
	struct pg_lua_http *lh = x->server_ctx;
	struct pg_lua_req *r = x->ctx;

	if (r == (void *)&pg_lua_queued_request) {
		for (unsigned i = 0; i < lh->nev; i++)
			if (lh->ev[i].x == x)
				lh->ev[i].x = NULL;
		x->ctx = NULL;
		return;
	}
	if (r == NULL)
		return;
	r->x = NULL;
	r->req = NULL;
	r->waiting = 0;
	pg_lua_host_task(lh, r->vm, "abort", PG_LUA_EV_ABORT, r->task);
}

/* A response ended: a line in the access log, with the request id. */
static void
pg_lua_http_log(struct pg_http_xchg *x, const struct pg_http_xchg_log *l)
{
	struct pg_lua_http *lh = x->server_ctx;
	struct pg_lua_req *r = pg_lua_req_of(x);
	struct pg_http_log_rec rec = {
		.start_ns = l->start_ns, .end_ns = l->end_ns,
		.bytes = l->bytes, .status = l->status,
		.method = l->method, .target = l->target,
	};

	if (lh->log == NULL)
		return;
	if (r != NULL)
		rec.id = (struct pg_http_str){ r->id, r->id_len };
	pg_stream_peer(x->st, &rec.addr, NULL);
	pg_http_log_add(lh->log, &rec, l->end_ns);
}

static const struct pg_http_xchg_handler pg_lua_http_handler = {
	.on_request = pg_lua_http_request,
	.on_body = pg_lua_http_event,
	.on_request_end = pg_lua_http_event,
	.on_writable = pg_lua_http_event,
	.on_close = pg_lua_http_close,
	.on_log = pg_lua_http_log,
};

/* --- FFI (called by perigee.ffi_transport) -------------------------------- */

int
pg_lua_ffi_head(struct pg_lua_req *r, int what, const char **p, uint32_t *len)
{
	static const char *const versions[] = { "1.0", "1.1", "2" };
	if (r->x == NULL)
		return -1;
	struct pg_http_msg *m = r->req;
	struct pg_http_str s = what == 0 ? m->method_name : m->target;
	if (what == 2) {
		const char *v = versions[m->version == 10 ? 0
					 : m->version == 20 ? 2 : 1];
		s = (struct pg_http_str){ v, (uint32_t)strlen(v) };
	}
	*p = s.ptr;
	*len = s.len;
	return 0;
}

int
pg_lua_ffi_nheaders(struct pg_lua_req *r)
{
	return r->x == NULL ? 0 : r->req->nheaders;
}

int
pg_lua_ffi_header(struct pg_lua_req *r, int i, const char **n, uint32_t *nl,
		  const char **v, uint32_t *vl)
{
	if (r->x == NULL || i < 0 || i >= r->req->nheaders)
		return -1;
	const struct pg_http_field *f = &r->req->fields[i];
	*n = f->name.ptr;
	*nl = f->name.len;
	*v = f->value.ptr;
	*vl = f->value.len;
	return 0;
}

/* The request id the Lua side made (perigee.host), for the access log. */
void
pg_lua_ffi_set_id(struct pg_lua_req *r, const char *id, uint32_t len)
{
	if (len > sizeof(r->id))
		len = sizeof(r->id);
	memcpy(r->id, id, len);
	r->id_len = (uint8_t)len;
}

/* The peer's address into addr; returns its port. */
int
pg_lua_ffi_remote(struct pg_lua_req *r, char *addr, uint32_t len)
{
	uint32_t ip = 0;
	uint16_t port = 0;
	if (r->x != NULL)
		pg_stream_peer(r->x->st, &ip, &port);
	const uint8_t *b = (const uint8_t *)&ip;
	snprintf(addr, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return port;
}

/* Bytes read (> 0), 0: none yet (wait), -1: the body is over, -2: gone. */
int
pg_lua_ffi_body_read(struct pg_lua_req *r, char *buf, uint32_t len)
{
	if (r->x == NULL)
		return -2;
	pg_lua_call_enter(r);
	uint32_t n = pg_http_xchg_body_read(r->x, buf, len);
	pg_lua_call_leave(r);
	if (n > 0)
		return (int)n;
	return r->x != NULL && !pg_http_xchg_body_done(r->x) ? 0 : -1;
}

/* 0, -1 with *err, -2 when the connection is gone. */
int
pg_lua_ffi_respond(struct pg_lua_req *r, int status, int n,
		   const char **names, const uint32_t *nlens,
		   const char **values, const uint32_t *vlens, int64_t clen,
		   int end, const char **err)
{
	struct pg_http_field fields[PG_LUA_MAX_FIELDS];
	if (r->x == NULL)
		return -2;
	if (n < 0 || n > PG_LUA_MAX_FIELDS) {
		*err = "too many response header fields";
		return -1;
	}
	for (int i = 0; i < n; i++)
		fields[i] = (struct pg_http_field){
			{ names[i], nlens[i] }, { values[i], vlens[i] } };
	struct pg_http_msg resp = { .status = (uint16_t)status,
				    .fields = fields, .nheaders = (uint16_t)n,
				    .max_fields = (uint16_t)n };
	/* HEAD keeps the Content-Length GET would have had. */
	pg_lua_call_enter(r);
	int rc = pg_http_xchg_respond(r->x, &resp, clen,
				      end ? PG_XCHG_END : 0, err);
	pg_lua_call_leave(r);
	if (rc != PG_OK)
		return -1;
	r->responded = 1;
	return 0;
}

/*
 * Queue len bytes (last: the body ends; -1: only ask whether the peer has
 * drained). 0: go on, 1: wait for the peer to drain, -2: gone, -1: error.
 */
int
pg_lua_ffi_write(struct pg_lua_req *r, const char *buf, uint32_t len,
		 int last)
{
	if (r->x == NULL)
		return -2;
	if (last >= 0 && (len > 0 || last)) {
		pg_lua_call_enter(r);
		int rc = pg_http_xchg_write(r->x, buf, len, last);
		pg_lua_call_leave(r);
		if (rc != PG_OK)
			return -1;
	}
	return r->x != NULL && pg_http_xchg_queued(r->x) >= pg_lua_write_hiwat(r);
}

void
pg_lua_ffi_wait(struct pg_lua_req *r, int task)
{
	r->waiting = task;
}

void
pg_lua_ffi_abort(struct pg_lua_req *r)
{
	struct pg_http_xchg *x = r->x;
	if (x == NULL)
		return;
	r->x = NULL;                 /* no callback follows: forget it */
	r->req = NULL;
	x->ctx = NULL;
	pg_lua_call_enter(r);
	pg_http_xchg_abort(x);
	pg_lua_call_leave(r);
}

/* --- the worker's side ----------------------------------------------------- */

int
pg_lua_http_start(struct pg_lua_http *lh, struct pg_netif *nif,
		  struct pg_tcp_stack *tcp, const struct pg_config *cfg,
		  const uint8_t *tls_secret, struct pg_http_log *log,
		  struct pg_lua_vm **vm, struct pg_stats *stats,
		  const char **err)
{
	struct pg_tls_conf certs[PG_MAX_CERTS];

	memset(lh, 0, sizeof(*lh));
	lh->vm = vm;
	lh->log = log;
	lh->nif = nif;
	lh->write_hiwat_h1 = cfg->tcp.snd_hiwat;
	lh->files = pg_fcache_create(&cfg->files, &stats->files, err);
	if (lh->files == NULL)
		return PG_ERROR;
	lh->srv = pg_http_server_create(nif, &cfg->http, &cfg->http2,
					&pg_lua_http_handler, lh, &stats->http,
					&stats->h2, &stats->tls, err);
	if (lh->srv == NULL)
		return PG_ERROR;
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		unsigned n = pg_config_tls(cfg, i, tls_secret, certs);
		if (pg_http_server_listen(lh->srv, tcp, cfg->listen[i], certs,
					  n, err) != PG_OK) {
			pg_http_server_destroy(lh->srv);
			lh->srv = NULL;
			return PG_ERROR;
		}
	}
	return PG_OK;
}

/* host.<fn>() -> its first result as a number (0 on error or nil). */
static double
pg_lua_host_number(struct pg_lua_vm *vm, const char *fn, int *isnil)
{
	lua_State *L = vm->L;
	double v = 0;
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->host_ref);
	lua_getfield(L, -1, fn);
	if (pg_lua_pcall(L, 0, 1) != 0) {
		pg_log_err(0, "lua: host.%s: %s", fn, lua_tostring(L, -1));
		*isnil = 1;
	} else {
		*isnil = lua_isnil(L, -1);
		v = lua_tonumber(L, -1);
	}
	lua_settop(L, 0);
	return v;
}

/* Timers and tasks of a VM (sleeps, timeouts): host.run(). */
static void
pg_lua_http_run(struct pg_lua_vm *vm)
{
	int none;
	pg_lua_host_number(vm, "run", &none);
	vm->timers = !none;
}

void
pg_lua_http_retire(struct pg_lua_http *lh, struct pg_lua_vm *vm)
{
	int none;
	if (lh->srv == NULL || pg_lua_host_number(vm, "busy", &none) == 0)
		return;
	if (lh->nretired == PG_LUA_RETIRED_MAX) {
		pg_log_warn(0, "lua: %u reloads still finishing requests: the "
			    "timers of the oldest no longer run", lh->nretired);
		pg_lua_vm_put(lh->retired[0]);
		memmove(lh->retired, lh->retired + 1,
			(lh->nretired - 1) * sizeof(lh->retired[0]));
		lh->nretired--;
	}
	pg_lua_vm_hold(vm);
	lh->retired[lh->nretired++] = vm;
}

/* The events queued while Lua was inside a call (pg_lua_defer). */
static unsigned
pg_lua_http_replay(struct pg_lua_http *lh)
{
	unsigned n = lh->nev;

	for (unsigned i = 0; i < lh->nev; i++) {
		struct pg_lua_ev ev = lh->ev[i];
		switch (ev.kind) {
		case PG_LUA_EV_REQUEST:
			if (ev.x == NULL)
				break;
			ev.x->ctx = NULL;
			pg_lua_http_request(ev.x, ev.req);
			break;
		case PG_LUA_EV_WAKE:
			pg_lua_host_call(ev.vm, "wake", ev.task);
			break;
		case PG_LUA_EV_ABORT:
			pg_lua_host_call(ev.vm, "abort", ev.task);
			break;
		}
		if (ev.vm != NULL)
			pg_lua_vm_put(ev.vm);
	}
	lh->nev = 0;
	return n;
}

unsigned
pg_lua_http_poll(struct pg_lua_http *lh)
{
	unsigned n = 0;
	if (lh->srv == NULL)
		return 0;
	n += pg_lua_http_replay(lh);
	n += pg_http_server_poll(lh->srv);
	n += pg_fcache_poll(lh->files);
	struct pg_lua_vm *vm = *lh->vm;
	if (vm != NULL && (lh->active > 0 || vm->timers))
		pg_lua_http_run(vm);
	for (unsigned i = 0; i < lh->nretired;) {
		int none;
		pg_lua_http_run(lh->retired[i]);
		if (pg_lua_host_number(lh->retired[i], "busy", &none) > 0) {
			i++;
			continue;
		}
		pg_lua_vm_put(lh->retired[i]);
		lh->retired[i] = lh->retired[--lh->nretired];
	}
	return n;
}

void
pg_lua_http_shutdown(struct pg_lua_http *lh)
{
	if (lh->srv != NULL)
		pg_http_server_shutdown(lh->srv);
}

uint32_t
pg_lua_http_conns(const struct pg_lua_http *lh)
{
	return lh->srv != NULL ? pg_http_server_conns(lh->srv) : 0;
}

void
pg_lua_http_stop(struct pg_lua_http *lh)
{
	if (lh->srv != NULL)
		pg_http_server_destroy(lh->srv);
	lh->srv = NULL;
	for (unsigned i = 0; i < lh->nev; i++)
		if (lh->ev[i].vm != NULL)
			pg_lua_vm_put(lh->ev[i].vm);
	free(lh->ev);
	lh->ev = NULL;
	lh->nev = lh->evcap = 0;
	while (lh->nretired > 0)
		pg_lua_vm_put(lh->retired[--lh->nretired]);
}
