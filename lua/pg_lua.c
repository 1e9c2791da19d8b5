/*
 * The application's VM: creation with the module search path, loading of
 * the app file, reference counting across reloads.
 */
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/pg_core.h"
#include "core/pg_log.h"
#include "core/pg_shm.h"
#include "lua/pg_lua.h"
#include "pg_auto_config.h"

/* --- the watchdog --------------------------------------------------------- */

static struct {
	volatile uint64_t *since;    /* in the worker's shm slot */
	uint64_t limit_ns;
	lua_State *volatile L;       /* running Lua now, NULL: not */
	volatile sig_atomic_t armed; /* the hook is set */
} pg_lua_watch;

/*
 * The count hook the interrupt sets: raise in the coroutine that runs (a
 * request's or a timer's task). The host's own code in the main thread
 * is left alone; the hook stays until a task runs or Lua returns to C.
 */
static void
pg_lua_cpu_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (lua_pushthread(L)) {
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	lua_sethook(L, NULL, 0, 0);
	pg_lua_watch.armed = 0;
	luaL_error(L, "exceeded the CPU limit (%d ms without yielding)",
		   (int)(pg_lua_watch.limit_ns / 1000000));
}

/* SIGXCPU from the primary. lua_sethook is safe in a signal handler. */
static void
pg_lua_on_xcpu(int sig)
{
	lua_State *L = pg_lua_watch.L;
	uint64_t since = *pg_lua_watch.since;
	(void)sig;
	/* Not in Lua any more, or in Lua again but not for long. */
	if (L == NULL || pg_lua_watch.armed || since == 0
	    || pg_now_ns() - since < pg_lua_watch.limit_ns)
		return;
	pg_lua_watch.armed = 1;
	lua_sethook(L, pg_lua_cpu_hook, LUA_MASKCOUNT, 1000);
}

void
pg_lua_watchdog_init(volatile uint64_t *since, unsigned limit_ms)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pg_lua_on_xcpu;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	*since = 0;
	pg_lua_watch.since = since;
	pg_lua_watch.limit_ns = (uint64_t)limit_ms * 1000000;
	sigaction(SIGXCPU, &sa, NULL);
}

int
pg_lua_pcall(lua_State *L, int nargs, int nres)
{
	lua_State *outer = pg_lua_watch.L;
	int rc;

	if (pg_lua_watch.since == NULL)
		return lua_pcall(L, nargs, nres, 0);
	if (outer == NULL)
		*pg_lua_watch.since = pg_now_ns();
	pg_lua_watch.L = L;
	rc = lua_pcall(L, nargs, nres, 0);
	pg_lua_watch.L = outer;
	if (outer == NULL)
		*pg_lua_watch.since = 0;
	if (pg_lua_watch.armed) {
		/* The interrupt came but did not fire here: pass it out. */
		lua_sethook(L, NULL, 0, 0);
		if (outer != NULL)
			lua_sethook(outer, pg_lua_cpu_hook, LUA_MASKCOUNT,
				    1000);
		else
			pg_lua_watch.armed = 0;
	}
	return rc;
}

/* --- the VM ------------------------------------------------------------------ */

/* package.path = app dir, $PERIGEE_LUA_PATH, the installed modules, Lua's. */
static void
pg_lua_set_path(lua_State *L, const char *app)
{
	char copy[PG_PATH_MAX];
	const char *extra = getenv("PERIGEE_LUA_PATH");

	snprintf(copy, sizeof(copy), "%s", app);
	const char *dir = dirname(copy);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "path");
	lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s%s%s/?.lua;%s/?/init.lua;%s",
			dir, dir, extra ? extra : "", extra ? ";" : "",
			PG_LUA_DIR, PG_LUA_DIR, lua_tostring(L, -1));
	lua_setfield(L, -3, "path");
	lua_pop(L, 2);
}

/* host.init's clock: seconds, the same monotonic clock as the worker's. */
static int
pg_lua_now(lua_State *L)
{
	lua_pushnumber(L, (double)pg_now_ns() / 1e9);
	return 1;
}

/* host.init's log(level, message). */
static int
pg_lua_log(lua_State *L)
{
	const char *level = luaL_optstring(L, 1, "info");
	const char *msg = luaL_optstring(L, 2, "");
	if (strcmp(level, "error") == 0)
		pg_log_err(0, "lua: %s", msg);
	else if (strcmp(level, "warn") == 0)
		pg_log_warn(0, "lua: %s", msg);
	else
		pg_log_info("lua: %s", msg);
	return 0;
}

/*
 * The shared-dictionary backend: the C dictionaries through FFI in a
 * worker (they exist only once the primary made them), an in-process one
 * where there are none (`perigee check`). Left on the stack.
 */
static int
pg_lua_shared_backend(lua_State *L, int server)
{
	lua_getglobal(L, "require");
	lua_pushstring(L, server ? "perigee.shared.ffi" : "perigee.shared.memory");
	if (lua_pcall(L, 1, 1, 0) != 0)
		return -1;
	if (server)
		return 0;
	lua_getfield(L, -1, "new");
	lua_remove(L, -2);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, pg_lua_now);
	lua_setfield(L, -2, "now");
	return lua_pcall(L, 1, 1, 0) != 0 ? -1 : 0;
}

/* perigee.host, initialised; left on the stack. */
static int
pg_lua_host_init(lua_State *L, const char *id_prefix, int server)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "perigee.host");
	if (lua_pcall(L, 1, 1, 0) != 0)
		return -1;
	lua_getfield(L, -1, "init");
	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, pg_lua_now);
	lua_setfield(L, -2, "now");
	lua_pushcfunction(L, pg_lua_log);
	lua_setfield(L, -2, "log");
	lua_pushstring(L, id_prefix);
	lua_setfield(L, -2, "id_prefix");
	if (pg_lua_shared_backend(L, server) != 0)
		return -1;
	lua_setfield(L, -2, "shared_backend");
	if (lua_pcall(L, 1, 0, 0) != 0)
		return -1;
	return 0;
}

struct pg_lua_vm *
pg_lua_vm_open(const char *app, const char *id_prefix, int server,
	       char *err, size_t errlen)
{
	struct pg_lua_vm *vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		snprintf(err, errlen, "%s: out of memory", app);
		return NULL;
	}
	vm->L = luaL_newstate();
	if (vm->L == NULL) {
		snprintf(err, errlen, "%s: cannot create a Lua VM", app);
		free(vm);
		return NULL;
	}
	lua_State *L = vm->L;
	luaL_openlibs(L);
	pg_lua_set_path(L, app);
	if (pg_lua_host_init(L, id_prefix, server) != 0) {
		snprintf(err, errlen, "the Perigee Lua framework: %s",
			 lua_tostring(L, -1));
		goto failed;
	}
	/* host.load(app) -> app | nil, err (the message names file and line) */
	lua_getfield(L, -1, "load");
	lua_pushstring(L, app);
	if (pg_lua_pcall(L, 1, 2) != 0 || lua_isnil(L, -2)) {
		snprintf(err, errlen, "%s", lua_tostring(L, -1));
		goto failed;
	}
	lua_pop(L, 1);
	vm->app_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	vm->host_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	vm->serve_ref = LUA_NOREF;
	if (server) {
		/* The per-request entry, looked up once, not per request. */
		lua_getglobal(L, "require");
		lua_pushliteral(L, "perigee.ffi_transport");
		if (lua_pcall(L, 1, 1, 0) != 0) {
			snprintf(err, errlen, "perigee.ffi_transport: %s",
				 lua_tostring(L, -1));
			goto failed;
		}
		lua_getfield(L, -1, "serve");
		vm->serve_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		lua_pop(L, 1);
	}
	vm->refs = 1;
	vm->timers = 1;              /* the app file may have started some */
	return vm;
failed:
	lua_close(L);
	free(vm);
	return NULL;
}

void
pg_lua_vm_shutdown(struct pg_lua_vm *vm, const char *signal)
{
	lua_State *L = vm->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->host_ref);
	lua_getfield(L, -1, "shutdown");
	lua_pushstring(L, signal);
	if (pg_lua_pcall(L, 1, 0) != 0)
		pg_log_err(0, "lua: host.shutdown: %s", lua_tostring(L, -1));
	lua_settop(L, 0);
}

void
pg_lua_vm_put(struct pg_lua_vm *vm)
{
	if (vm == NULL || --vm->refs > 0)
		return;
	lua_close(vm->L);
	free(vm);
}
