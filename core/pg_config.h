/*
 * Configuration: a Lua file returning a table. The primary loads and
 * validates it, then copies the result into shared memory, so the struct
 * holds no pointers: workers read the very same values.
 */
#ifndef PG_CONFIG_H
#define PG_CONFIG_H

#include <stdint.h>

#include "core/pg_core.h"
#include "http/pg_fcache.h"
#include "http/pg_h1.h"
#include "http/pg_h2.h"
#include "net/pg_tcp.h"
#include "net/pg_tls.h"

/* Seeded fault injection on a driver (tests; DESIGN §2). Rates are 0..1. */
struct pg_fault_conf {
	double drop;
	double duplicate;
	double reorder;
	uint64_t seed;
	int rx;          /* filter received frames */
	int tx;          /* filter transmitted frames */
};

/*
 * The built-in TCP test service (net/pg_testsvc.c): RFC 862 echo, RFC 863
 * discard and a source of a known pattern on the ports set (0: off), and an
 * active open from worker 0 when connect_addr is set.
 */
struct pg_testsvc_conf {
	uint16_t echo;
	uint16_t discard;
	uint16_t source;
	uint64_t source_bytes;       /* what source sends to each client */
	uint32_t connect_addr;       /* network byte order, 0: no client */
	uint16_t connect_port;
	uint64_t connect_bytes;      /* what the client sends */
};

/* One shared dictionary: shared = { name = size_bytes, ... } */
struct pg_shdict_conf {
	char name[PG_SHDICT_NAME_MAX];
	uint64_t size;
};

/* One certificate of a TLS listener (paths taken from the config's dir). */
struct pg_tls_cert_conf {
	char cert[PG_PATH_MAX];      /* PEM: the certificate, then its chain */
	char key[PG_PATH_MAX];       /* PEM private key */
};

/* listen = { { port = P, tls = { cert = ..., key = ... } } }: SNI picks
 * among several certificates; the first is the default. */
struct pg_listen_tls {
	unsigned ncerts;
	struct pg_tls_cert_conf certs[PG_MAX_CERTS];
};

/* tls = { ... }: what every TLS listener shares. */
struct pg_tls_opts {
	uint8_t tickets;             /* session resumption by tickets */
	unsigned ticket_rotate_s;    /* a new ticket key this often */
	unsigned handshake_timeout_ms;
};

/* lua = { ... }: the application's watchdog and development reloads. */
struct pg_lua_conf {
	unsigned cpu_limit_ms;       /* Lua running this long without yielding
				      * is interrupted (an error: 500); 0 off */
	unsigned kill_after_ms;      /* still running this much later (compiled
				      * code ignores the interrupt): the worker
				      * is restarted */
	uint8_t auto_reload;         /* reload when the app's files change */
	unsigned watch_ms;           /* how often they are looked at */
};

struct pg_config {
	char path[PG_PATH_MAX];
	char name[PG_NAME_MAX];

	unsigned nworkers;
	unsigned worker_cpu[PG_MAX_WORKERS];

	unsigned ndevices;
	char devices[PG_MAX_DEVICES][PG_ARG_MAX];
	unsigned neal_args;
	char eal_args[PG_MAX_EAL_ARGS][PG_ARG_MAX];
	unsigned mbufs;              /* per worker pool */
	unsigned rx_desc;
	unsigned tx_desc;

	uint32_t address;            /* network byte order */
	unsigned prefix;
	uint32_t gateway;            /* network byte order, 0 if none */
	unsigned mtu;

	unsigned nlisten;
	uint16_t listen[PG_MAX_LISTEN];
	struct pg_listen_tls listen_tls[PG_MAX_LISTEN]; /* ncerts 0: plain */
	struct pg_tls_opts tls;       /* tls = { ... } */

	int log_level;
	char log_file[PG_PATH_MAX];
	char access_log[PG_PATH_MAX]; /* "" when off */
	unsigned access_buffer;      /* bytes per worker between writes */

	unsigned hugepages_mb;
	char runtime_dir[PG_PATH_MAX];
	char app[PG_PATH_MAX];        /* the Lua application file, "" for none */
	struct pg_lua_conf lua;       /* lua = { ... } */

	unsigned restart_delay_ms;
	unsigned restart_delay_max_ms;
	unsigned stop_timeout_ms;
	unsigned drain_ms;           /* at stop: requests in flight finish */
	unsigned idle_sleep_max_us;

	struct pg_fault_conf fault;
	struct pg_tcp_conf tcp;
	struct pg_h1_conf http;      /* limits of the HTTP/1.1 server */
	struct pg_h2_conf http2;     /* settings of the HTTP/2 server */
	struct pg_testsvc_conf testsvc;
	struct pg_fcache_conf files; /* files = { ... }: res:sendfile's cache */

	unsigned nshdicts;           /* sorted by name */
	struct pg_shdict_conf shdicts[PG_MAX_SHDICTS];
};

/*
 * Load and validate FILE into cfg. On failure returns PG_ERROR and writes
 * "FILE: key 'a.b': reason" into err.
 */
int pg_config_load(const char *file, struct pg_config *cfg, char *err,
		   size_t errlen);

/*
 * The certificates of TLS listener i as pg_tls_ctx_new takes them (out
 * holds PG_MAX_CERTS; the strings stay cfg's), ticket keys derived from
 * secret (NULL: random). Returns how many: 0 for a plain listener.
 */
unsigned pg_config_tls(const struct pg_config *cfg, unsigned i,
		       const uint8_t *secret, struct pg_tls_conf *out);

/*
 * Load every TLS listener's certificates and keys once, as the workers
 * will. PG_ERROR with "listen[N]: why" in err when one does not.
 */
int pg_config_check_tls(const struct pg_config *cfg, char *err,
			size_t errlen);

/* Path of the control socket and pid file inside cfg->runtime_dir. */
void pg_config_control_path(const struct pg_config *cfg, char *buf,
			    size_t len);
void pg_config_pid_path(const struct pg_config *cfg, char *buf, size_t len);

#endif
