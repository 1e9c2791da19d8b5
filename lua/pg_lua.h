/*
 * The application's LuaJIT VM. Each worker runs one VM holding the loaded
 * application (the table the app file returns). A reload builds a fresh
 * VM beside the old one; the old one is closed once nothing uses it any
 * more (requests in flight hold a reference), so a reload never drops a
 * request and a broken app never replaces a working one.
 *
 * Not thread-safe: a VM belongs to one worker.
 */
#ifndef PG_LUA_H
#define PG_LUA_H

#include <stddef.h>
#include <stdint.h>

struct lua_State;

struct pg_lua_vm {
	struct lua_State *L;
	int app_ref;                 /* registry reference of the app table */
	int host_ref;                /* and of perigee.host */
	int serve_ref;               /* perigee.ffi_transport.serve (server) */
	unsigned refs;               /* the worker's own + requests in flight */
	uint64_t generation;         /* the reload generation it was built for */
	int timers;                  /* host.run may have timers pending */
};

/*
 * A new VM with the Perigee framework (perigee.host initialised; request
 * ids start with id_prefix) and the application file app loaded. Module
 * search path: the app's directory, $PERIGEE_LUA_PATH (a Lua path pattern
 * list, for running from a source tree), then the installed modules
 * (PG_LUA_DIR). server: shared dictionaries are the primary's (in a
 * worker), else in-process stand-ins (`perigee check`). NULL on failure,
 * with what went wrong (Lua's message, naming file and line) in err.
 */
struct pg_lua_vm *pg_lua_vm_open(const char *app, const char *id_prefix,
				 int server, char *err, size_t errlen);

/*
 * The watchdog, worker side. Lua that runs longer than limit_ms without
 * returning to C (a handler that never yields) is interrupted when the
 * primary sends SIGXCPU: a count hook raises "exceeded the CPU limit" in
 * the running coroutine, which the framework answers with a 500. since is
 * where this process publishes when it entered Lua (0: not in Lua) for
 * the primary to read. Code LuaJIT compiled into a loop that never leaves
 * its trace does not run hooks: the primary then restarts the worker.
 * Without pg_lua_watchdog_init (perigee check, tests) nothing is watched.
 */
void pg_lua_watchdog_init(volatile uint64_t *since, unsigned limit_ms);

/* lua_pcall(L, nargs, nres, 0) under the watchdog. */
int pg_lua_pcall(struct lua_State *L, int nargs, int nres);

/* Take or drop a reference; the last one closes the VM. */
static inline void
pg_lua_vm_hold(struct pg_lua_vm *vm)
{
	vm->refs++;
}

void pg_lua_vm_put(struct pg_lua_vm *vm);

/* The app's timers fire once more with signal ("reloading", "stopping"). */
void pg_lua_vm_shutdown(struct pg_lua_vm *vm, const char *signal);

#endif
