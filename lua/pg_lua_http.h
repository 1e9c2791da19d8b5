/*
 * HTTP requests served by the Lua application of the worker (see
 * pg_lua_http.c for the call chain). The FFI functions the Lua transport
 * calls (pg_lua_ffi_*) are exported by the binary, not declared here.
 */
#ifndef PG_LUA_HTTP_H
#define PG_LUA_HTTP_H

#include <stdint.h>

struct pg_netif;
struct pg_tcp_stack;
struct pg_http_server;
struct pg_config;
struct pg_stats;
struct pg_http_log;
struct pg_http_stats;
struct pg_lua_vm;
struct pg_fcache;
struct pg_lua_ev;

#define PG_LUA_RETIRED_MAX 8

struct pg_lua_http {
	struct pg_http_server *srv;
	struct pg_lua_vm **vm;       /* the worker's current VM (reloads) */
	unsigned active;             /* requests in flight, every VM */
	/* VMs replaced by a reload whose tasks are still running: their
	 * timers are driven until the last task ends. */
	struct pg_lua_vm *retired[PG_LUA_RETIRED_MAX];
	unsigned nretired;
	struct pg_http_log *log;     /* the access log, NULL: off */
	struct pg_netif *nif;        /* mbufs of file bodies come from its pool */
	/* res:sendfile's files (files = { ... }); it lives as long as the
	 * worker process, past pg_lua_http_stop: a closing VM may still
	 * release files into it. */
	struct pg_fcache *files;
	/* Bytes a response queues before it waits for on_writable over
	 * HTTP/1.1: TCP arms on_writable only once snd_hiwat was reached. */
	uint32_t write_hiwat_h1;
	/* FFI calls into the protocol under way, and the callbacks they
	 * caused, replayed by pg_lua_http_poll (see pg_lua_defer). */
	unsigned calls;
	struct pg_lua_ev *ev;
	unsigned nev, evcap;
};

/*
 * Serve HTTP on the listeners of cfg (plain or TLS; TLS ticket keys from
 * tls_secret) with its HTTP/1.1 and HTTP/2 settings and the application
 * in *vm (followed across reloads); counters into stats, each response a
 * line of log (borrowed; NULL: no access log). PG_OK or PG_ERROR with
 * *err.
 */
int pg_lua_http_start(struct pg_lua_http *lh, struct pg_netif *nif,
		      struct pg_tcp_stack *tcp, const struct pg_config *cfg,
		      const uint8_t *tls_secret, struct pg_http_log *log,
		      struct pg_lua_vm **vm, struct pg_stats *stats,
		      const char **err);

/*
 * A reload replaced vm: keep driving its tasks (sleeps, timeouts) until
 * they are done. The caller keeps its own reference to drop.
 */
void pg_lua_http_retire(struct pg_lua_http *lh, struct pg_lua_vm *vm);

/* Connection timers and the VMs' tasks; once per loop pass. */
unsigned pg_lua_http_poll(struct pg_lua_http *lh);

/*
 * Graceful stop begins (pg_http_server_shutdown): keep polling while
 * pg_lua_http_conns says connections are still finishing.
 */
void pg_lua_http_shutdown(struct pg_lua_http *lh);
uint32_t pg_lua_http_conns(const struct pg_lua_http *lh);

/* Reset what is left and free the server. */
void pg_lua_http_stop(struct pg_lua_http *lh);

#endif
