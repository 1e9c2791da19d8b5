/*
 * The primary process: EAL primary, ports, mempools, memzones; it spawns,
 * pins and supervises the workers and serves the control socket. It polls
 * no packets.
 *
 *   pg_primary_start -> pg_primary_init (EAL, shm, port)
 *                    -> pg_supervisor_spawn_all
 *                    -> pg_primary_loop (control socket, signals, reaping)
 *                    -> pg_primary_stop
 */
#ifndef PG_PRIMARY_H
#define PG_PRIMARY_H

#include <limits.h>
#include <stdint.h>

#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "core/pg_config.h"
#include "core/pg_hugepages.h"
#include "core/pg_shm.h"
#include "core/pg_worker.h"

struct pg_primary_opts {
	int single;              /* one worker inside the primary, no hugepages */
	int foreground;          /* do not detach */
};

struct pg_primary {
	struct pg_config cfg;
	struct pg_primary_opts opts;
	struct pg_shared *shm;
	const struct rte_memzone *mz_shared;
	const struct rte_memzone *mz_neigh;
	struct rte_mempool *pools[PG_MAX_WORKERS];
	struct rte_ring *rings[PG_MAX_WORKERS];
	struct pg_hugepages huge;
	char file_prefix[PG_NAME_MAX + 8];
	char exe[PATH_MAX];

	/* supervision (the primary's own memory) */
	uint64_t restart_at_ns[PG_MAX_WORKERS];    /* 0: none pending */
	unsigned restart_delay_ms[PG_MAX_WORKERS];
	uint64_t watch_since[PG_MAX_WORKERS];      /* interrupted Lua run */
	struct pg_appwatch *appwatch;              /* lua.auto_reload */
	struct pg_worker single_worker;            /* --single */

	int ctl_fd;
	int sig_fd;
	int stop_requested;
	int stop_client_fd;      /* answered when the stop is complete */
	int reload_client_fd;    /* answered when every worker has reloaded */
	uint64_t reload_gen;
	uint64_t reload_deadline_ns;
};

/* `perigee start`: returns the process exit status. */
int pg_primary_start(const struct pg_config *cfg,
		     const struct pg_primary_opts *opts);

/* --- supervisor (pg_supervisor.c) ---------------------------------------- */

/* Start worker id as a secondary process. */
int pg_supervisor_spawn(struct pg_primary *p, unsigned id);

/* Wait until every worker is running; PG_ERROR after timeout_ms. */
int pg_supervisor_wait_running(struct pg_primary *p, unsigned timeout_ms);

/* Reap dead workers, recover what they held, schedule their restart. */
void pg_supervisor_reap(struct pg_primary *p);

/* Start the workers whose restart time has come. */
void pg_supervisor_restart_due(struct pg_primary *p);

/* The Lua watchdog: interrupt, then restart, workers stuck in Lua. */
void pg_supervisor_watch(struct pg_primary *p);

/* Ask every worker to stop; kill those still there after the timeout. */
void pg_supervisor_stop_all(struct pg_primary *p);

/* --- status (pg_status.c) ------------------------------------------------ */

/* Render status as text or JSON into a malloc'ed string (*len bytes). */
char *pg_status_render(struct pg_primary *p, int json, size_t *len);

#endif
