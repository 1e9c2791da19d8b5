/*
 * Configuration loader. The file is ordinary Lua run by LuaJIT; it must
 * return a table. Every section is checked against its list of known keys
 * so that a typo is an error, not a silently ignored setting.
 *
 *   pg_config_load
 *     -> pg_conf_top -> pg_conf_dpdk, pg_conf_interface, pg_conf_log, ...
 *                    -> pg_conf_tcp, pg_conf_http (tables of fields)
 *                    -> pg_conf_testsvc -> pg_conf_connect
 *                    -> pg_conf_shared
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/pg_config.h"
#include "core/pg_log.h"
#include "core/pg_shdict.h"

struct pg_conf_ctx {
	lua_State *L;
	const char *file;
	char section[64];      /* "" at top level, "a.b" in a nested table */
	char *err;
	size_t errlen;
};

/* --- primitives ---------------------------------------------------------- */

static int
pg_conf_fail(struct pg_conf_ctx *c, const char *key, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "%s: key '%s%s%s': ", c->file,
			 c->section, c->section[0] ? "." : "", key);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return PG_ERROR;
}

/* Refuse keys that are not in known (a NULL-terminated list). */
static int
pg_conf_known(struct pg_conf_ctx *c, int idx, const char *const *known)
{
	lua_State *L = c->L;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return pg_conf_fail(c, "?", "keys must be names");
		}
		const char *k = lua_tostring(L, -1);
		const char *const *p = known;
		while (*p != NULL && strcmp(*p, k) != 0)
			p++;
		if (*p == NULL) {
			char key[64];
			snprintf(key, sizeof(key), "%s", k);
			lua_pop(L, 1);
			return pg_conf_fail(c, key, "unknown key");
		}
	}
	return PG_OK;
}

/* Push t[key]; returns 0 when absent (nothing pushed). */
static int
pg_conf_field(struct pg_conf_ctx *c, int idx, const char *key)
{
	lua_getfield(c->L, idx, key);
	if (lua_isnil(c->L, -1)) {
		lua_pop(c->L, 1);
		return 0;
	}
	return 1;
}

static int
pg_conf_u64(struct pg_conf_ctx *c, int idx, const char *key, uint64_t min,
	    uint64_t max, uint64_t def, uint64_t *out)
{
	*out = def;
	if (!pg_conf_field(c, idx, key))
		return PG_OK;
	int ok = lua_type(c->L, -1) == LUA_TNUMBER;
	double v = lua_tonumber(c->L, -1);
	lua_pop(c->L, 1);
	if (!ok || !(v >= (double)min && v <= (double)max)
	    || v != (double)(uint64_t)v)
		return pg_conf_fail(c, key, "must be a whole number from %lu to "
				    "%lu", (unsigned long)min, (unsigned long)max);
	*out = (uint64_t)v;
	return PG_OK;
}

static int
pg_conf_uint(struct pg_conf_ctx *c, int idx, const char *key, unsigned min,
	     unsigned max, unsigned def, unsigned *out)
{
	uint64_t v;
	int rc = pg_conf_u64(c, idx, key, min, max, def, &v);
	*out = (unsigned)v;
	return rc;
}

static int
pg_conf_bool(struct pg_conf_ctx *c, int idx, const char *key, int def,
	     uint8_t *out)
{
	*out = (uint8_t)def;
	if (!pg_conf_field(c, idx, key))
		return PG_OK;
	int ok = lua_type(c->L, -1) == LUA_TBOOLEAN;
	*out = (uint8_t)lua_toboolean(c->L, -1);
	lua_pop(c->L, 1);
	return ok ? PG_OK : pg_conf_fail(c, key, "must be true or false");
}

static int
pg_conf_rate(struct pg_conf_ctx *c, int idx, const char *key, double *out)
{
	*out = 0;
	if (!pg_conf_field(c, idx, key))
		return PG_OK;
	int ok = lua_type(c->L, -1) == LUA_TNUMBER;
	double v = lua_tonumber(c->L, -1);
	lua_pop(c->L, 1);
	if (!ok || !(v >= 0 && v <= 1))
		return pg_conf_fail(c, key, "must be a number from 0 to 1");
	*out = v;
	return PG_OK;
}

static int
pg_conf_string(struct pg_conf_ctx *c, int idx, const char *key, char *out,
	       size_t len, const char *def)
{
	snprintf(out, len, "%s", def);
	if (!pg_conf_field(c, idx, key))
		return PG_OK;
	size_t n;
	const char *s = lua_type(c->L, -1) == LUA_TSTRING
			? lua_tolstring(c->L, -1, &n) : NULL;
	if (s == NULL || n == 0 || n >= len) {
		lua_pop(c->L, 1);
		return pg_conf_fail(c, key, "must be a string of 1 to %zu bytes",
				    len - 1);
	}
	memcpy(out, s, n + 1);
	lua_pop(c->L, 1);
	return PG_OK;
}

static int
pg_conf_ipv4(struct pg_conf_ctx *c, int idx, const char *key, int required,
	     uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	*out = 0;
	if (!pg_conf_field(c, idx, key))
		return required ? pg_conf_fail(c, key, "is required") : PG_OK;
	lua_pop(c->L, 1);
	if (pg_conf_string(c, idx, key, buf, sizeof(buf), "") != PG_OK)
		return pg_conf_fail(c, key, "must be an IPv4 address string");
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return pg_conf_fail(c, key, "'%s' is not an IPv4 address", buf);
	*out = a.s_addr;
	return PG_OK;
}

/*
 * Walk the array at t[key], calling item(c, index) with the element on top
 * of the stack. An absent key leaves *n untouched (the caller's default).
 */
typedef int (*pg_conf_item_fn)(struct pg_conf_ctx *c, const char *key,
			       unsigned i, void *arg);

static int
pg_conf_list(struct pg_conf_ctx *c, int idx, const char *key, unsigned max,
	     unsigned *n, pg_conf_item_fn item, void *arg)
{
	if (!pg_conf_field(c, idx, key))
		return PG_OK;
	if (!lua_istable(c->L, -1)) {
		lua_pop(c->L, 1);
		return pg_conf_fail(c, key, "must be a list");
	}
	size_t len = lua_objlen(c->L, -1);
	if (len > max) {
		lua_pop(c->L, 1);
		return pg_conf_fail(c, key, "has %zu entries, at most %u allowed",
				    len, max);
	}
	for (unsigned i = 0; i < len; i++) {
		lua_rawgeti(c->L, -1, (int)i + 1);
		int rc = item(c, key, i, arg);
		lua_pop(c->L, 1);
		if (rc != PG_OK) {
			lua_pop(c->L, 1);
			return rc;
		}
	}
	lua_pop(c->L, 1);
	*n = (unsigned)len;
	return PG_OK;
}

struct pg_conf_strv {
	char (*v)[PG_ARG_MAX];
};

static int
pg_conf_str_item(struct pg_conf_ctx *c, const char *key, unsigned i, void *arg)
{
	struct pg_conf_strv *sv = arg;
	size_t n;
	const char *s = lua_type(c->L, -1) == LUA_TSTRING
			? lua_tolstring(c->L, -1, &n) : NULL;
	if (s == NULL || n == 0 || n >= PG_ARG_MAX)
		return pg_conf_fail(c, key, "entry %u must be a string of 1 to %d "
				    "bytes", i + 1, PG_ARG_MAX - 1);
	memcpy(sv->v[i], s, n + 1);
	return PG_OK;
}

struct pg_conf_uintv {
	unsigned min, max;
	unsigned *u;
	uint16_t *u16;
};

static int
pg_conf_uint_item(struct pg_conf_ctx *c, const char *key, unsigned i, void *arg)
{
	struct pg_conf_uintv *uv = arg;
	double v = lua_tonumber(c->L, -1);
	if (lua_type(c->L, -1) != LUA_TNUMBER || v != (double)(unsigned long)v
	    || v < uv->min || v > uv->max)
		return pg_conf_fail(c, key, "entry %u must be a whole number "
				    "from %u to %u", i + 1, uv->min, uv->max);
	for (unsigned j = 0; j < i; j++)
		if ((uv->u ? uv->u[j] : uv->u16[j]) == (unsigned)v)
			return pg_conf_fail(c, key, "entry %u repeats %u",
					    i + 1, (unsigned)v);
	if (uv->u)
		uv->u[i] = (unsigned)v;
	else
		uv->u16[i] = (uint16_t)v;
	return PG_OK;
}

/*
 * Enter the sub-table t[name] (absent: an empty table) and check its keys;
 * returns its stack index. The caller pops it with pg_conf_leave. Sections
 * nest: errors inside name the whole path ("a.b.key").
 */
static int
pg_conf_enter(struct pg_conf_ctx *c, int idx, const char *name,
	      const char *const *known, int *sub)
{
	if (!pg_conf_field(c, idx, name))
		lua_newtable(c->L);
	if (!lua_istable(c->L, -1)) {
		lua_pop(c->L, 1);
		return pg_conf_fail(c, name, "must be a table");
	}
	*sub = lua_gettop(c->L);
	size_t n = strlen(c->section);
	snprintf(c->section + n, sizeof(c->section) - n, "%s%s", n ? "." : "",
		 name);
	if (pg_conf_known(c, *sub, known) != PG_OK)
		return PG_ERROR;
	return PG_OK;
}

static void
pg_conf_leave(struct pg_conf_ctx *c)
{
	lua_pop(c->L, 1);
	char *dot = strrchr(c->section, '.');
	*(dot != NULL ? dot : c->section) = '\0';
}

/* --- sections ------------------------------------------------------------ */

static int
pg_conf_dpdk(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "devices", "eal_args", "mbufs",
		"rx_desc", "tx_desc", NULL };
	int s;
	if (pg_conf_enter(c, t, "dpdk", known, &s) != PG_OK)
		return PG_ERROR;
	struct pg_conf_strv dev = { cfg->devices }, eal = { cfg->eal_args };
	cfg->ndevices = 1;
	snprintf(cfg->devices[0], PG_ARG_MAX, "net_tap0,iface=pg0");
	int rc = pg_conf_list(c, s, "devices", PG_MAX_DEVICES, &cfg->ndevices,
			      pg_conf_str_item, &dev);
	if (rc == PG_OK && cfg->ndevices == 0)
		rc = pg_conf_fail(c, "devices", "needs at least one device");
	if (rc == PG_OK)
		rc = pg_conf_list(c, s, "eal_args", PG_MAX_EAL_ARGS,
				  &cfg->neal_args, pg_conf_str_item, &eal);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "mbufs", 1023, 1u << 20, 8191,
				  &cfg->mbufs);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "rx_desc", 64, 4096, 512, &cfg->rx_desc);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "tx_desc", 64, 4096, 512, &cfg->tx_desc);
	if (rc == PG_OK && cfg->rx_desc + cfg->tx_desc + 1024 > cfg->mbufs)
		rc = pg_conf_fail(c, "mbufs", "must exceed rx_desc + tx_desc + "
				  "1024 (%u)", cfg->rx_desc + cfg->tx_desc + 1024);
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_interface(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "address", "prefix", "gateway",
		"mtu", NULL };
	int s;
	if (pg_conf_enter(c, t, "interface", known, &s) != PG_OK)
		return PG_ERROR;
	int rc = pg_conf_ipv4(c, s, "address", 1, &cfg->address);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "prefix", 1, 32, 24, &cfg->prefix);
	if (rc == PG_OK)
		rc = pg_conf_ipv4(c, s, "gateway", 0, &cfg->gateway);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "mtu", 576, 9000, 1500, &cfg->mtu);
	if (rc == PG_OK && cfg->gateway != 0) {
		uint32_t mask = htonl(cfg->prefix == 32 ? ~0u
				      : ~(~0u >> cfg->prefix));
		if ((cfg->gateway & mask) != (cfg->address & mask))
			rc = pg_conf_fail(c, "gateway", "is not inside "
					  "address/prefix");
	}
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_log(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "level", "file", "access",
		"access_buffer", NULL };
	char level[16];
	int s;
	if (pg_conf_enter(c, t, "log", known, &s) != PG_OK)
		return PG_ERROR;
	int rc = pg_conf_string(c, s, "level", level, sizeof(level), "info");
	if (rc == PG_OK && (cfg->log_level = pg_log_level_parse(level)) < 0)
		rc = pg_conf_fail(c, "level", "'%s' is not one of error, warn, "
				  "notice, info, debug", level);
	if (rc == PG_OK)
		rc = pg_conf_string(c, s, "file", cfg->log_file,
				    sizeof(cfg->log_file), "stderr");
	if (rc == PG_OK)
		rc = pg_conf_string(c, s, "access", cfg->access_log,
				    sizeof(cfg->access_log), "off");
	if (rc == PG_OK && strcmp(cfg->access_log, "off") == 0)
		cfg->access_log[0] = '\0';
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "access_buffer", 4096, 1u << 24,
				  1u << 16, &cfg->access_buffer);
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_process(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "restart_delay_ms",
		"restart_delay_max_ms", "stop_timeout_ms", "drain_ms",
		"idle_sleep_max_us", NULL };
	int s;
	if (pg_conf_enter(c, t, "process", known, &s) != PG_OK)
		return PG_ERROR;
	int rc = pg_conf_uint(c, s, "restart_delay_ms", 0, 60000, 100,
			      &cfg->restart_delay_ms);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "restart_delay_max_ms", 0, 600000,
				  10000, &cfg->restart_delay_max_ms);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "stop_timeout_ms", 100, 600000, 5000,
				  &cfg->stop_timeout_ms);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "drain_ms", 0, 600000, ~0u,
				  &cfg->drain_ms);
	if (cfg->drain_ms == ~0u)    /* unset: 3 s, within stop_timeout_ms */
		cfg->drain_ms = RTE_MIN(3000u, cfg->stop_timeout_ms / 2);
	else if (rc == PG_OK && cfg->drain_ms >= cfg->stop_timeout_ms)
		rc = pg_conf_fail(c, "drain_ms", "must be below stop_timeout_ms "
				  "(%u), which ends a worker still draining",
				  cfg->stop_timeout_ms);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "idle_sleep_max_us", 0, 100000, 1000,
				  &cfg->idle_sleep_max_us);
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_fault(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "drop", "duplicate", "reorder",
		"seed", "direction", NULL };
	struct pg_fault_conf *f = &cfg->fault;
	char dir[8];
	unsigned seed;
	int s;
	if (pg_conf_enter(c, t, "fault", known, &s) != PG_OK)
		return PG_ERROR;
	int rc = pg_conf_rate(c, s, "drop", &f->drop);
	if (rc == PG_OK)
		rc = pg_conf_rate(c, s, "duplicate", &f->duplicate);
	if (rc == PG_OK)
		rc = pg_conf_rate(c, s, "reorder", &f->reorder);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "seed", 0, ~0u, 1, &seed);
	if (rc == PG_OK)
		rc = pg_conf_string(c, s, "direction", dir, sizeof(dir), "rx");
	if (rc == PG_OK) {
		f->seed = seed;
		f->rx = strcmp(dir, "rx") == 0 || strcmp(dir, "both") == 0;
		f->tx = strcmp(dir, "tx") == 0 || strcmp(dir, "both") == 0;
		if (!f->rx && !f->tx)
			rc = pg_conf_fail(c, "direction", "must be rx, tx or both");
	}
	pg_conf_leave(c);
	return rc;
}

/*
 * Sections that map a C configuration struct field for field (tcp, http)
 * are described by tables: numbers with their width and range, and
 * booleans. The defaults are the layer's own (pg_tcp_conf_default,
 * pg_h1_conf_default), so they are written down only there.
 */
struct pg_conf_num {
	const char *key;
	size_t off;
	uint8_t size;                /* of the field: 2, 4 or 8 bytes */
	uint64_t min, max;
};

struct pg_conf_flag {
	const char *key;
	size_t off;                  /* of a uint8_t */
};

#define PG_CONF_NUM(type, f, lo, hi) \
	{ #f, offsetof(type, f), sizeof(((type *)0)->f), lo, hi }
#define PG_CONF_FLAG(type, f) { #f, offsetof(type, f) }

static uint64_t
pg_conf_num_get(const void *base, const struct pg_conf_num *n)
{
	const char *p = (const char *)base + n->off;
	switch (n->size) {
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

static void
pg_conf_num_set(void *base, const struct pg_conf_num *n, uint64_t v)
{
	char *p = (char *)base + n->off;
	switch (n->size) {
	case 2: *(uint16_t *)p = (uint16_t)v; break;
	case 4: *(uint32_t *)p = (uint32_t)v; break;
	default: *(uint64_t *)p = v; break;
	}
}

/* The key names of both tables then extra, NULL-terminated, into known. */
static void
pg_conf_keys(const char **known, const struct pg_conf_num *nums, size_t nn,
	     const struct pg_conf_flag *flags, size_t nf, const char *extra)
{
	size_t k = 0;
	for (size_t i = 0; i < nn; i++)
		known[k++] = nums[i].key;
	for (size_t i = 0; i < nf; i++)
		known[k++] = flags[i].key;
	if (extra != NULL)
		known[k++] = extra;
	known[k] = NULL;
}

/* Read every field of the tables from the table at s over base's values. */
static int
pg_conf_fields(struct pg_conf_ctx *c, int s, void *base,
	       const struct pg_conf_num *nums, size_t nn,
	       const struct pg_conf_flag *flags, size_t nf)
{
	int rc = PG_OK;
	for (size_t i = 0; rc == PG_OK && i < nn; i++) {
		uint64_t v;
		rc = pg_conf_u64(c, s, nums[i].key, nums[i].min, nums[i].max,
				 pg_conf_num_get(base, &nums[i]), &v);
		pg_conf_num_set(base, &nums[i], v);
	}
	for (size_t i = 0; rc == PG_OK && i < nf; i++) {
		uint8_t *f = (uint8_t *)base + flags[i].off;
		rc = pg_conf_bool(c, s, flags[i].key, *f, f);
	}
	return rc;
}

/*
 * A section read field for field into a C struct: the key tables, and
 * extra, a key the section's check reads itself (or NULL).
 */
struct pg_conf_table {
	const char *name;
	const struct pg_conf_num *nums;
	size_t nn;
	const struct pg_conf_flag *flags;
	size_t nf;
	const char *extra;
};

#define PG_CONF_TABLE(name, nums, flags, extra) \
	{ name, nums, PG_ARRAY_SIZE(nums), flags, PG_ARRAY_SIZE(flags), extra }
#define PG_CONF_TABLE_MAX_KEYS 64

/* What a section checks once its fields are read (still entered at s). */
typedef int (*pg_conf_check_fn)(struct pg_conf_ctx *c, int s,
				struct pg_config *cfg);

/* t[tb->name] into base, whose values are the defaults; then check. */
static int
pg_conf_table(struct pg_conf_ctx *c, int t, const struct pg_conf_table *tb,
	      void *base, struct pg_config *cfg, pg_conf_check_fn check)
{
	const char *known[PG_CONF_TABLE_MAX_KEYS + 1];
	int s;

	pg_conf_keys(known, tb->nums, tb->nn, tb->flags, tb->nf, tb->extra);
	if (pg_conf_enter(c, t, tb->name, known, &s) != PG_OK)
		return PG_ERROR;
	int rc = pg_conf_fields(c, s, base, tb->nums, tb->nn, tb->flags,
				tb->nf);
	if (rc == PG_OK && check != NULL)
		rc = check(c, s, cfg);
	pg_conf_leave(c);
	return rc;
}

/* tcp = { ... }: struct pg_tcp_conf. */
#define PG_CONF_TCP_NUM(f, lo, hi) PG_CONF_NUM(struct pg_tcp_conf, f, lo, hi)
static const struct pg_conf_num pg_conf_tcp_nums[] = {
	PG_CONF_TCP_NUM(max_conns, 1, 1u << 22),
	PG_CONF_TCP_NUM(rcv_wnd, 2048, 1u << 30),
	PG_CONF_TCP_NUM(snd_hiwat, 4096, 1u << 30),
	PG_CONF_TCP_NUM(snd_lowat, 0, 1u << 30),
	PG_CONF_TCP_NUM(ooo_max, 0, 1u << 30),
	PG_CONF_TCP_NUM(ooo_max_total, 0, 1u << 31),
	PG_CONF_TCP_NUM(syn_backlog, 1, 1u << 20),
	PG_CONF_TCP_NUM(rto_min_ms, 1, 60000),
	PG_CONF_TCP_NUM(rto_max_ms, 1, 3600000),
	PG_CONF_TCP_NUM(rto_initial_ms, 1, 60000),
	PG_CONF_TCP_NUM(delack_ms, 0, 500),           /* RFC 9293 3.8.6.3 */
	PG_CONF_TCP_NUM(time_wait_ms, 0, 600000),
	PG_CONF_TCP_NUM(fin_wait2_ms, 0, 600000),
	PG_CONF_TCP_NUM(syn_retries, 1, 20),
	PG_CONF_TCP_NUM(retries, 1, 30),
	PG_CONF_TCP_NUM(keepalive_idle_ms, 1000, 7u * 86400000),
	PG_CONF_TCP_NUM(keepalive_intvl_ms, 1000, 86400000),
	PG_CONF_TCP_NUM(keepalive_probes, 1, 127),
};
#undef PG_CONF_TCP_NUM

#define PG_CONF_TCP_FLAG(f) PG_CONF_FLAG(struct pg_tcp_conf, f)
static const struct pg_conf_flag pg_conf_tcp_flags[] = {
	PG_CONF_TCP_FLAG(sack), PG_CONF_TCP_FLAG(timestamps),
	PG_CONF_TCP_FLAG(window_scaling), PG_CONF_TCP_FLAG(syncookies),
	PG_CONF_TCP_FLAG(tail_loss_probe),
};
#undef PG_CONF_TCP_FLAG

static const char *const pg_conf_tcp_cc_names[] = {
	[PG_TCP_CC_NEWRENO] = "newreno",
	[PG_TCP_CC_CUBIC] = "cubic",
};

/* Values that are valid one by one but not together. */
static int
pg_conf_tcp_check(struct pg_conf_ctx *c, const struct pg_tcp_conf *t)
{
	if (t->rto_min_ms > t->rto_max_ms)
		return pg_conf_fail(c, "rto_min_ms", "must not exceed rto_max_ms "
				    "(%u)", t->rto_max_ms);
	if (t->rto_initial_ms < t->rto_min_ms
	    || t->rto_initial_ms > t->rto_max_ms)
		return pg_conf_fail(c, "rto_initial_ms", "must lie between "
				    "rto_min_ms (%u) and rto_max_ms (%u)",
				    t->rto_min_ms, t->rto_max_ms);
	if (t->snd_lowat >= t->snd_hiwat)
		return pg_conf_fail(c, "snd_lowat", "must be below snd_hiwat (%u)",
				    t->snd_hiwat);
	if (t->ooo_max > t->ooo_max_total)
		return pg_conf_fail(c, "ooo_max", "must not exceed ooo_max_total "
				    "(%u)", t->ooo_max_total);
	if (!t->window_scaling && t->rcv_wnd > 65535)
		return pg_conf_fail(c, "rcv_wnd", "must be at most 65535 when "
				    "window_scaling is off");
	return PG_OK;
}

/* tcp.cc, by name, then what holds only together. */
static int
pg_conf_tcp_cc(struct pg_conf_ctx *c, int s, struct pg_config *cfg)
{
	struct pg_tcp_conf *tc = &cfg->tcp;
	char cc[16];
	size_t i = 0;

	if (pg_conf_string(c, s, "cc", cc, sizeof(cc),
			   pg_conf_tcp_cc_names[tc->cc]) != PG_OK)
		return PG_ERROR;
	while (i < PG_ARRAY_SIZE(pg_conf_tcp_cc_names)
	       && strcmp(cc, pg_conf_tcp_cc_names[i]) != 0)
		i++;
	if (i == PG_ARRAY_SIZE(pg_conf_tcp_cc_names))
		return pg_conf_fail(c, "cc", "'%s' is not one of cubic, "
				    "newreno", cc);
	tc->cc = (uint8_t)i;
	return pg_conf_tcp_check(c, tc);
}

static int
pg_conf_tcp(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = PG_CONF_TABLE("tcp",
		pg_conf_tcp_nums, pg_conf_tcp_flags, "cc");

	pg_tcp_conf_default(&cfg->tcp);
	return pg_conf_table(c, t, &tb, &cfg->tcp, cfg, pg_conf_tcp_cc);
}

/* http = { ... }: struct pg_h1_conf, the limits of the HTTP/1.1 server. */
#define PG_CONF_HTTP_NUM(f, lo, hi) PG_CONF_NUM(struct pg_h1_conf, f, lo, hi)
static const struct pg_conf_num pg_conf_http_nums[] = {
	PG_CONF_HTTP_NUM(max_conns, 1, 1u << 22),
	PG_CONF_HTTP_NUM(max_request_line, 16, 1u << 20),
	PG_CONF_HTTP_NUM(max_header_bytes, 16, 1u << 24),
	PG_CONF_HTTP_NUM(max_headers, 1, 4096),
	PG_CONF_HTTP_NUM(arena_size, 1024, 1u << 24),
	PG_CONF_HTTP_NUM(max_body, 0, 1ull << 50),
	PG_CONF_HTTP_NUM(body_buffer, 1024, 1u << 30),
	PG_CONF_HTTP_NUM(header_timeout_ms, 1, 3600000),
	PG_CONF_HTTP_NUM(body_timeout_ms, 1, 3600000),
	PG_CONF_HTTP_NUM(keepalive_timeout_ms, 1, 86400000),
	PG_CONF_HTTP_NUM(linger_ms, 1, 600000),
	PG_CONF_HTTP_NUM(max_requests, 0, ~0u),
};
#undef PG_CONF_HTTP_NUM

#define PG_CONF_HTTP_FLAG(f) PG_CONF_FLAG(struct pg_h1_conf, f)
static const struct pg_conf_flag pg_conf_http_flags[] = {
	PG_CONF_HTTP_FLAG(auto_continue), PG_CONF_HTTP_FLAG(date),
};
#undef PG_CONF_HTTP_FLAG

/* The field slices live in the per-request arena (pg_h1.c). */
static int
pg_conf_http_arena(struct pg_conf_ctx *c, int s, struct pg_config *cfg)
{
	const struct pg_h1_conf *hc = &cfg->http;
	const unsigned per = (unsigned)sizeof(struct pg_http_field);
	uint32_t need = hc->max_headers * per + 256;

	(void)s;
	if (hc->arena_size < need)
		return pg_conf_fail(c, "arena_size", "must be at least %u for "
				    "max_headers = %u (%u bytes per field + "
				    "256): raise arena_size or lower "
				    "max_headers", need, hc->max_headers, per);
	return PG_OK;
}

static int
pg_conf_http(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = PG_CONF_TABLE("http",
		pg_conf_http_nums, pg_conf_http_flags, NULL);

	pg_h1_conf_default(&cfg->http);
	return pg_conf_table(c, t, &tb, &cfg->http, cfg, pg_conf_http_arena);
}

/* http2 = { ... }: struct pg_h2_conf, the HTTP/2 server's settings. */
#define PG_CONF_H2_NUM(f, lo, hi) PG_CONF_NUM(struct pg_h2_conf, f, lo, hi)
static const struct pg_conf_num pg_conf_h2_nums[] = {
	PG_CONF_H2_NUM(max_conns, 1, 1u << 22),
	PG_CONF_H2_NUM(max_concurrent_streams, 1, 1u << 16),
	PG_CONF_H2_NUM(initial_window, 1024, (1u << 31) - 1),
	PG_CONF_H2_NUM(conn_window, 65535, (1u << 31) - 1),
	PG_CONF_H2_NUM(max_frame_size, 16384, (1u << 24) - 1),
	PG_CONF_H2_NUM(max_header_list, 1024, 1u << 24),
	PG_CONF_H2_NUM(max_headers, 1, 4096),
	PG_CONF_H2_NUM(arena_size, 1024, 1u << 24),
	PG_CONF_H2_NUM(max_body, 0, 1ull << 50),
	PG_CONF_H2_NUM(send_buffer, 4096, 1u << 30),
	PG_CONF_H2_NUM(stream_buffer, 4096, 1u << 30),
	PG_CONF_H2_NUM(idle_timeout_ms, 1, 86400000),
	PG_CONF_H2_NUM(settings_timeout_ms, 1, 600000),
	PG_CONF_H2_NUM(shutdown_timeout_ms, 1, 600000),
	PG_CONF_H2_NUM(rst_burst, 1, 1u << 20),
	PG_CONF_H2_NUM(rst_rate, 1, 1u << 20),
	PG_CONF_H2_NUM(max_continuations, 0, 1u << 16),
	PG_CONF_H2_NUM(settings_rate, 1, 1u << 20),
	PG_CONF_H2_NUM(ping_rate, 1, 1u << 20),
	PG_CONF_H2_NUM(empty_data_rate, 1, 1u << 20),
	PG_CONF_H2_NUM(window_update_rate, 1, 1u << 20),
	PG_CONF_H2_NUM(max_outbound_ack, 1, 1u << 20),
};
#undef PG_CONF_H2_NUM

static const struct pg_conf_flag pg_conf_h2_flags[] = {
	PG_CONF_FLAG(struct pg_h2_conf, auto_continue),
};

/* HTTP/2 stops framing at send_buffer and waits for the stream to say
 * it drained, which TCP says only once past its high mark. */
static int
pg_conf_http2_send(struct pg_conf_ctx *c, int s, struct pg_config *cfg)
{
	(void)c;
	(void)s;
	if (cfg->http2.send_buffer < cfg->tcp.snd_hiwat)
		cfg->http2.send_buffer = cfg->tcp.snd_hiwat;
	return PG_OK;
}

static int
pg_conf_http2(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = PG_CONF_TABLE("http2",
		pg_conf_h2_nums, pg_conf_h2_flags, NULL);
	struct pg_h2_conf *hc = &cfg->http2;

	pg_h2_conf_default(hc);
	/* The request limits of http = { ... } hold for HTTP/2 as well
	 * unless http2 = { ... } says otherwise. */
	hc->max_conns = cfg->http.max_conns;
	hc->max_headers = cfg->http.max_headers;
	hc->arena_size = cfg->http.arena_size;
	hc->max_body = cfg->http.max_body;
	return pg_conf_table(c, t, &tb, hc, cfg, pg_conf_http2_send);
}

/* test_service.connect = { addr = ..., port = ..., bytes = ... } */
static int
pg_conf_connect(struct pg_conf_ctx *c, int t, struct pg_testsvc_conf *ts)
{
	static const char *const known[] = { "addr", "port", "bytes", NULL };
	int s;
	if (!pg_conf_field(c, t, "connect"))
		return PG_OK;
	lua_pop(c->L, 1);
	if (pg_conf_enter(c, t, "connect", known, &s) != PG_OK)
		return PG_ERROR;
	unsigned port = 0;
	int rc = pg_conf_ipv4(c, s, "addr", 1, &ts->connect_addr);
	if (rc == PG_OK)
		rc = pg_conf_uint(c, s, "port", 1, 65535, 0, &port);
	if (rc == PG_OK && port == 0)
		rc = pg_conf_fail(c, "port", "is required");
	if (rc == PG_OK)
		rc = pg_conf_u64(c, s, "bytes", 0, 1ull << 50, 0,
				 &ts->connect_bytes);
	ts->connect_port = (uint16_t)port;
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_testsvc(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "echo", "discard", "source",
		"source_bytes", "connect", NULL };
	struct pg_testsvc_conf *ts = &cfg->testsvc;
	const char *const *name = known;
	uint16_t *port[] = { &ts->echo, &ts->discard, &ts->source };
	int s, rc = PG_OK;
	if (pg_conf_enter(c, t, "test_service", known, &s) != PG_OK)
		return PG_ERROR;
	for (size_t i = 0; rc == PG_OK && i < PG_ARRAY_SIZE(port); i++) {
		unsigned v;
		rc = pg_conf_uint(c, s, name[i], 1, 65535, 0, &v);
		*port[i] = (uint16_t)v;
		for (size_t j = 0; rc == PG_OK && v != 0 && j < i; j++)
			if (*port[j] == v)
				rc = pg_conf_fail(c, name[i], "port %u is already "
						  "%s's", v, name[j]);
	}
	if (rc == PG_OK)
		rc = pg_conf_u64(c, s, "source_bytes", 0, 1ull << 50, 1u << 20,
				 &ts->source_bytes);
	if (rc == PG_OK)
		rc = pg_conf_connect(c, s, ts);
	pg_conf_leave(c);
	return rc;
}

static int
pg_conf_name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
		      || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/*
 * The path t[key] into out, taken from the configuration file's directory
 * when relative. Absent: out = "" (an error when required).
 */
static int
pg_conf_path(struct pg_conf_ctx *c, int t, const char *key, char *out,
	     size_t len, int required)
{
	char path[PG_PATH_MAX];
	if (pg_conf_string(c, t, key, path, sizeof(path), "-") != PG_OK)
		return PG_ERROR;
	if (strcmp(path, "-") == 0) {
		out[0] = '\0';
		return required ? pg_conf_fail(c, key, "is required") : PG_OK;
	}
	const char *slash = strrchr(c->file, '/');
	int dir = path[0] == '/' || slash == NULL ? 0 : (int)(slash - c->file);
	if ((size_t)snprintf(out, len, "%.*s%s%s", dir, c->file,
			     dir ? "/" : "", path) >= len)
		return pg_conf_fail(c, key, "path too long");
	return PG_OK;
}

/* The application file. */
static int
pg_conf_app(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	return pg_conf_path(c, t, "app", cfg->app, sizeof(cfg->app), 0);
}

/* One { cert = ..., key = ... } at the top of the stack. */
static int
pg_conf_cert(struct pg_conf_ctx *c, struct pg_tls_cert_conf *tc)
{
	static const char *const known[] = { "cert", "key", NULL };
	int t = lua_gettop(c->L);
	if (!lua_istable(c->L, t))
		return pg_conf_fail(c, "cert", "tls must be { cert = FILE, key "
				    "= FILE } or a list of them");
	if (pg_conf_known(c, t, known) != PG_OK
	    || pg_conf_path(c, t, "cert", tc->cert, sizeof(tc->cert), 1)
	       != PG_OK
	    || pg_conf_path(c, t, "key", tc->key, sizeof(tc->key), 1)
	       != PG_OK)
		return PG_ERROR;
	return PG_OK;
}

/* tls = { cert = ..., key = ... } or a list of such, at the stack top. */
static int
pg_conf_listen_tls(struct pg_conf_ctx *c, struct pg_listen_tls *lt)
{
	int t = lua_gettop(c->L);
	size_t n = lua_istable(c->L, t) ? lua_objlen(c->L, t) : 0;

	if (n == 0) {
		lt->ncerts = 1;
		return pg_conf_cert(c, &lt->certs[0]);
	}
	if (n > PG_MAX_CERTS)
		return pg_conf_fail(c, "cert", "%zu certificates, at most %d "
				    "allowed", n, PG_MAX_CERTS);
	for (unsigned i = 0; i < n; i++) {
		lua_rawgeti(c->L, t, (int)i + 1);
		int rc = pg_conf_cert(c, &lt->certs[i]);
		lua_pop(c->L, 1);
		if (rc != PG_OK)
			return rc;
	}
	lt->ncerts = (unsigned)n;
	return PG_OK;
}

/* A listen entry: a port, or { port = P, tls = ... }. */
static int
pg_conf_listen_item(struct pg_conf_ctx *c, const char *key, unsigned i,
		    void *arg)
{
	static const char *const known[] = { "port", "tls", NULL };
	struct pg_config *cfg = arg;
	struct pg_conf_uintv pv = { 1, 65535, NULL, cfg->listen };
	size_t n = strlen(c->section);
	int t = lua_gettop(c->L), rc;

	memset(&cfg->listen_tls[i], 0, sizeof(cfg->listen_tls[i]));
	if (!lua_istable(c->L, t))
		return pg_conf_uint_item(c, key, i, &pv);
	snprintf(c->section + n, sizeof(c->section) - n, "%s%s[%u]",
		 n ? "." : "", key, i + 1);
	rc = pg_conf_known(c, t, known);
	if (rc == PG_OK) {
		lua_getfield(c->L, t, "port");
		rc = pg_conf_uint_item(c, "port", i, &pv);
		lua_pop(c->L, 1);
	}
	if (rc == PG_OK && pg_conf_field(c, t, "tls")) {
		size_t m = strlen(c->section);
		snprintf(c->section + m, sizeof(c->section) - m, ".tls");
		rc = pg_conf_listen_tls(c, &cfg->listen_tls[i]);
		lua_pop(c->L, 1);
	}
	c->section[n] = '\0';
	return rc;
}

/* tls = { ... } */
static const struct pg_conf_num pg_conf_tls_nums[] = {
	PG_CONF_NUM(struct pg_tls_opts, ticket_rotate_s, 60, 7 * 86400),
	PG_CONF_NUM(struct pg_tls_opts, handshake_timeout_ms, 100, 600000),
};
static const struct pg_conf_flag pg_conf_tls_flags[] = {
	PG_CONF_FLAG(struct pg_tls_opts, tickets),
};

static int
pg_conf_tls(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = PG_CONF_TABLE("tls",
		pg_conf_tls_nums, pg_conf_tls_flags, NULL);

	cfg->tls = (struct pg_tls_opts){ .tickets = 1, .ticket_rotate_s = 3600,
					 .handshake_timeout_ms = 10000 };
	return pg_conf_table(c, t, &tb, &cfg->tls, cfg, NULL);
}

/* lua = { ... } */
static const struct pg_conf_num pg_conf_lua_nums[] = {
	PG_CONF_NUM(struct pg_lua_conf, cpu_limit_ms, 0, 3600000),
	PG_CONF_NUM(struct pg_lua_conf, kill_after_ms, 100, 3600000),
	PG_CONF_NUM(struct pg_lua_conf, watch_ms, 50, 60000),
};
static const struct pg_conf_flag pg_conf_lua_flags[] = {
	PG_CONF_FLAG(struct pg_lua_conf, auto_reload),
};

static int
pg_conf_lua(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = PG_CONF_TABLE("lua",
		pg_conf_lua_nums, pg_conf_lua_flags, NULL);

	cfg->lua = (struct pg_lua_conf){ .cpu_limit_ms = 2000,
					 .kill_after_ms = 3000, .watch_ms = 500 };
	return pg_conf_table(c, t, &tb, &cfg->lua, cfg, NULL);
}

/* files = { ... } */
static const struct pg_conf_num pg_conf_files_nums[] = {
	PG_CONF_NUM(struct pg_fcache_conf, cache_mb, 1, 65536),
	PG_CONF_NUM(struct pg_fcache_conf, chunk_kb, 16, 4096),
	PG_CONF_NUM(struct pg_fcache_conf, readahead, 0, 64),
	PG_CONF_NUM(struct pg_fcache_conf, open_cache, 0, 1u << 20),
	PG_CONF_NUM(struct pg_fcache_conf, open_valid_ms, 0, 3600000),
};

/* A sender holds a chunk while the next is read: two at least. */
static int
pg_conf_files_check(struct pg_conf_ctx *c, int s, struct pg_config *cfg)
{
	(void)s;
	if ((uint64_t)cfg->files.cache_mb * 1024 < 2ull * cfg->files.chunk_kb)
		return pg_conf_fail(c, "cache_mb", "must hold two chunks of "
				    "chunk_kb = %u at least", cfg->files.chunk_kb);
	return PG_OK;
}

static int
pg_conf_files(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const struct pg_conf_table tb = { "files", pg_conf_files_nums,
		PG_ARRAY_SIZE(pg_conf_files_nums), NULL, 0, NULL };

	cfg->files = (struct pg_fcache_conf){ .cache_mb = 64, .chunk_kb = 256,
					      .readahead = 2, .open_cache = 1024,
					      .open_valid_ms = 1000 };
	return pg_conf_table(c, t, &tb, &cfg->files, cfg,
			     pg_conf_files_check);
}

/*
 * shared = { name = size_bytes, ... }: the dictionaries of
 * perigee.shared(name), sorted by name. Names become memzone names.
 */
static int
pg_conf_shared_item(struct pg_conf_ctx *c, int s, struct pg_config *cfg)
{
	size_t n;
	const char *name = lua_tolstring(c->L, -1, &n);
	char key[PG_SHDICT_NAME_MAX + 8];
	snprintf(key, sizeof(key), "%.*s", (int)PG_SHDICT_NAME_MAX, name);
	if (n == 0 || n >= PG_SHDICT_NAME_MAX || !pg_conf_name_ok(name))
		return pg_conf_fail(c, key, "a dictionary name is 1 to %d "
				    "letters, digits, '-' or '_'",
				    PG_SHDICT_NAME_MAX - 1);
	if (cfg->nshdicts == PG_MAX_SHDICTS)
		return pg_conf_fail(c, key, "at most %d dictionaries",
				    PG_MAX_SHDICTS);
	struct pg_shdict_conf sc;
	memcpy(sc.name, name, n + 1);
	if (pg_conf_u64(c, s, sc.name, PG_SHDICT_SIZE_MIN, PG_SHDICT_SIZE_MAX,
			0, &sc.size) != PG_OK)
		return PG_ERROR;
	unsigned i = cfg->nshdicts++;
	for (; i > 0 && strcmp(cfg->shdicts[i - 1].name, sc.name) > 0; i--)
		cfg->shdicts[i] = cfg->shdicts[i - 1];
	cfg->shdicts[i] = sc;
	return PG_OK;
}

static int
pg_conf_shared(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	uint64_t total = 0;
	int rc = PG_OK;
	if (!pg_conf_field(c, t, "shared"))
		return PG_OK;
	if (!lua_istable(c->L, -1)) {
		lua_pop(c->L, 1);
		return pg_conf_fail(c, "shared", "must be a table of name = "
				    "size in bytes");
	}
	int s = lua_gettop(c->L);
	snprintf(c->section, sizeof(c->section), "shared");
	lua_pushnil(c->L);
	while (lua_next(c->L, s) != 0) {
		lua_pop(c->L, 1);
		rc = lua_type(c->L, -1) == LUA_TSTRING
		     ? pg_conf_shared_item(c, s, cfg)
		     : pg_conf_fail(c, "?", "keys must be names");
		if (rc != PG_OK) {
			lua_pop(c->L, 1);
			break;
		}
	}
	pg_conf_leave(c);
	for (unsigned i = 0; i < cfg->nshdicts; i++)
		total += cfg->shdicts[i].size;
	if (rc == PG_OK && cfg->hugepages_mb != 0
	    && total >= (uint64_t)cfg->hugepages_mb << 20)
		rc = pg_conf_fail(c, "shared", "the dictionaries take %lu MB, "
				  "'hugepages' is %u MB: raise 'hugepages'",
				  (unsigned long)((total + (1 << 20) - 1) >> 20),
				  cfg->hugepages_mb);
	return rc;
}

static int
pg_conf_top(struct pg_conf_ctx *c, int t, struct pg_config *cfg)
{
	static const char *const known[] = { "name", "workers", "dpdk",
		"interface", "listen", "log", "hugepages", "runtime_dir",
		"process", "fault", "tcp", "http", "test_service", "shared",
		"app", "lua", "tls", "http2", "files", NULL };
	if (pg_conf_known(c, t, known) != PG_OK)
		return PG_ERROR;
	if (pg_conf_string(c, t, "name", cfg->name, sizeof(cfg->name),
			   "perigee") != PG_OK)
		return PG_ERROR;
	if (!pg_conf_name_ok(cfg->name))
		return pg_conf_fail(c, "name", "may hold only letters, digits, "
				    "'-' and '_'");

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct pg_conf_uintv wv = { 0, (unsigned)ncpu - 1, cfg->worker_cpu,
				    NULL };
	cfg->nworkers = 1;
	cfg->worker_cpu[0] = 0;
	if (pg_conf_list(c, t, "workers", PG_MAX_WORKERS, &cfg->nworkers,
			 pg_conf_uint_item, &wv) != PG_OK)
		return PG_ERROR;
	if (cfg->nworkers == 0)
		return pg_conf_fail(c, "workers", "needs at least one CPU");

	if (pg_conf_list(c, t, "listen", PG_MAX_LISTEN, &cfg->nlisten,
			 pg_conf_listen_item, cfg) != PG_OK)
		return PG_ERROR;
	if (pg_conf_uint(c, t, "hugepages", 0, 1u << 20, 256,
			 &cfg->hugepages_mb) != PG_OK)
		return PG_ERROR;

	char def[PG_PATH_MAX];
	snprintf(def, sizeof(def), "/run/perigee/%s", cfg->name);
	if (pg_conf_string(c, t, "runtime_dir", cfg->runtime_dir,
			   sizeof(cfg->runtime_dir) - 32, def) != PG_OK)
		return PG_ERROR;

	if (pg_conf_app(c, t, cfg) != PG_OK || pg_conf_lua(c, t, cfg) != PG_OK
	    || pg_conf_files(c, t, cfg) != PG_OK)
		return PG_ERROR;

	if (pg_conf_dpdk(c, t, cfg) != PG_OK
	    || pg_conf_interface(c, t, cfg) != PG_OK
	    || pg_conf_log(c, t, cfg) != PG_OK
	    || pg_conf_process(c, t, cfg) != PG_OK
	    || pg_conf_fault(c, t, cfg) != PG_OK
	    || pg_conf_tcp(c, t, cfg) != PG_OK
	    || pg_conf_http(c, t, cfg) != PG_OK
	    || pg_conf_http2(c, t, cfg) != PG_OK
	    || pg_conf_tls(c, t, cfg) != PG_OK
	    || pg_conf_testsvc(c, t, cfg) != PG_OK
	    || pg_conf_shared(c, t, cfg) != PG_OK)
		return PG_ERROR;
	return PG_OK;
}

/* --- entry points -------------------------------------------------------- */

int
pg_config_load(const char *file, struct pg_config *cfg, char *err,
	       size_t errlen)
{
	struct pg_conf_ctx c = { .file = file, .err = err, .errlen = errlen };
	int rc = PG_ERROR;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(file) >= sizeof(cfg->path)) {
		snprintf(err, errlen, "%s: path too long", file);
		return PG_ERROR;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", file);

	c.L = luaL_newstate();
	if (c.L == NULL) {
		snprintf(err, errlen, "%s: cannot create a Lua state", file);
		return PG_ERROR;
	}
	luaL_openlibs(c.L);
	if (luaL_loadfile(c.L, file) != 0 || lua_pcall(c.L, 0, 1, 0) != 0) {
		/* Lua's message already names the file (and line). */
		snprintf(err, errlen, "%s", lua_tostring(c.L, -1));
		goto done;
	}
	if (!lua_istable(c.L, -1)) {
		snprintf(err, errlen, "%s: must return a table (got %s)", file,
			 luaL_typename(c.L, -1));
		goto done;
	}
	rc = pg_conf_top(&c, lua_gettop(c.L), cfg);
done:
	lua_close(c.L);
	return rc;
}

void
pg_config_control_path(const struct pg_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/control.sock", cfg->runtime_dir);
}

void
pg_config_pid_path(const struct pg_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/perigee.pid", cfg->runtime_dir);
}

unsigned
pg_config_tls(const struct pg_config *cfg, unsigned i, const uint8_t *secret,
	      struct pg_tls_conf *out)
{
	const struct pg_listen_tls *lt = &cfg->listen_tls[i];
	for (unsigned k = 0; k < lt->ncerts; k++) {
		pg_tls_conf_default(&out[k]);
		out[k].cert_file = lt->certs[k].cert;
		out[k].key_file = lt->certs[k].key;
		out[k].session_tickets = cfg->tls.tickets;
		out[k].ticket_rotate_s = cfg->tls.ticket_rotate_s;
		out[k].handshake_timeout_ms = cfg->tls.handshake_timeout_ms;
		out[k].ticket_secret = secret;
	}
	return lt->ncerts;
}

int
pg_config_check_tls(const struct pg_config *cfg, char *err, size_t errlen)
{
	struct pg_tls_conf certs[PG_MAX_CERTS];
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		unsigned n = pg_config_tls(cfg, i, NULL, certs);
		const char *why = NULL;
		struct pg_tls_ctx *ctx = n > 0 ? pg_tls_ctx_new(certs, n, &why)
					       : NULL;
		if (n > 0 && ctx == NULL) {
			snprintf(err, errlen, "%s: listen[%u] (port %u): %s",
				 cfg->path, i + 1, cfg->listen[i], why);
			return PG_ERROR;
		}
		pg_tls_ctx_free(ctx);
	}
	return PG_OK;
}
