/*
 * The application's VM: creation with the module search path, loading of
 * the app file, reference counting across reloads.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/pg_core.h"
#include "lua/pg_lua.h"
#include "pg_auto_config.h"

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

struct pg_lua_vm *
pg_lua_vm_open(const char *app, char *err, size_t errlen)
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
	luaL_openlibs(vm->L);
	pg_lua_set_path(vm->L, app);
	if (luaL_loadfile(vm->L, app) != 0 || lua_pcall(vm->L, 0, 1, 0) != 0) {
		/* Lua's message names the file and the line. */
		snprintf(err, errlen, "%s", lua_tostring(vm->L, -1));
		goto failed;
	}
	if (!lua_istable(vm->L, -1)) {
		snprintf(err, errlen, "%s: must return the application (a "
			 "table), returned %s", app, luaL_typename(vm->L, -1));
		goto failed;
	}
	vm->app_ref = luaL_ref(vm->L, LUA_REGISTRYINDEX);
	vm->refs = 1;
	return vm;
failed:
	lua_close(vm->L);
	free(vm);
	return NULL;
}

void
pg_lua_vm_put(struct pg_lua_vm *vm)
{
	if (vm == NULL || --vm->refs > 0)
		return;
	lua_close(vm->L);
	free(vm);
}
