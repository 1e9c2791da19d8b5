/*
 * Shared memory between the primary and the workers. The primary creates
 * every object below; workers look them up by name. Names live only here.
 * Nothing in shared memory holds a function pointer, and each mutable field
 * names its single writer.
 */
#ifndef PG_SHM_H
#define PG_SHM_H

#include <stdint.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "core/pg_config.h"
#include "core/pg_stats.h"

#define PG_SHM_SHARED     "pg_shared"
#define PG_SHM_NEIGH      "pg_neigh"
#define PG_SHM_POOL_FMT   "pg_pool_%u"
#define PG_SHM_STEER_FMT  "pg_steer_%u"
#define PG_SHM_SHDICT_FMT "pg_shdict_%s"  /* core/pg_shdict.h */

enum pg_worker_state {
	PG_WORKER_STOPPED,
	PG_WORKER_STARTING,
	PG_WORKER_RUNNING,
	PG_WORKER_EXITED,
};

/* What the primary knows of a worker and what the worker reports back. */
struct pg_worker_shm {
	/* written by the primary */
	pid_t pid;
	unsigned lcore;
	unsigned cpu;
	uint64_t started_ns;          /* CLOCK_MONOTONIC of the last start */
	uint32_t restarts;
	/* written by the worker */
	volatile uint32_t state;      /* enum pg_worker_state */
	volatile uint64_t generation; /* the reload generation it has applied */
	char reload_error[256];       /* why it failed ("": it worked); written
				       * before generation */
	volatile uint64_t lua_since_ns; /* running Lua since (pg_now_ns), 0:
					 * not in Lua; the primary's watchdog */
	struct pg_stats stats;
} __rte_cache_aligned;

struct pg_shared {
	/* written by the primary before workers start */
	struct pg_config cfg;
	uint16_t port_id;
	struct rte_ether_addr mac;
	unsigned nqueues;
	uint32_t tx_csum;             /* the port computes TCP/IPv4 checksums */
	uint64_t started_ns;
	/* written by the primary while running */
	volatile uint64_t generation; /* bumped by reload */
	volatile uint32_t stopping;   /* workers leave their loop */
	uint8_t tls_secret[32];       /* TLS ticket keys derive from it: the
				       * same in every worker */
	struct pg_worker_shm workers[PG_MAX_WORKERS];
};

/* Monotonic clock in nanoseconds. */
uint64_t pg_now_ns(void);

#endif
