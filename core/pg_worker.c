/*
 * The worker process and its loop.
 *
 *   pg_worker_main -> rte_eal_init (secondary) -> pg_worker_attach
 *                  -> pg_worker_run -> pg_netif_poll ... -> exit
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "core/pg_log.h"
#include "core/pg_worker.h"
#include "net/pg_steer.h"

/* Empty polls before the loop starts sleeping, and the first sleep. */
#define PG_IDLE_SPINS     512
#define PG_IDLE_SLEEP_US  8

static struct rte_ring *pg_worker_rings[PG_MAX_WORKERS];

static int
pg_worker_open_driver(struct pg_worker *w, struct rte_mempool *pool,
		      const char **err)
{
	struct pg_config *cfg = &w->shm->cfg;
	struct pg_driver *d = pg_driver_ethdev_open(w->shm->port_id,
						    (uint16_t)w->id,
						    w->nif.holder, err);
	if (d == NULL)
		return PG_ERROR;
	if (cfg->fault.drop > 0 || cfg->fault.duplicate > 0
	    || cfg->fault.reorder > 0) {
		struct pg_fault_conf fc = cfg->fault;
		fc.seed += w->id;
		struct pg_driver *f = pg_driver_fault_open(d, &fc, pool,
							   &w->self->stats, err);
		if (f == NULL) {
			pg_driver_close(d);
			return PG_ERROR;
		}
		d = f;
	}
	w->nif.drv = d;
	return PG_OK;
}

int
pg_worker_attach(struct pg_worker *w, unsigned id, const char **err)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;

	memset(w, 0, sizeof(*w));
	w->id = id;
	mz = rte_memzone_lookup(PG_SHM_SHARED);
	if (mz == NULL) {
		*err = "shared memory " PG_SHM_SHARED " not found";
		return PG_ERROR;
	}
	w->shm = mz->addr;
	struct pg_config *cfg = &w->shm->cfg;
	if (id >= cfg->nworkers) {
		*err = "worker id beyond the configured workers";
		return PG_ERROR;
	}
	w->self = &w->shm->workers[id];

	mz = rte_memzone_lookup(PG_SHM_NEIGH);
	snprintf(name, sizeof(name), PG_SHM_POOL_FMT, id);
	struct rte_mempool *pool = rte_mempool_lookup(name);
	if (mz == NULL || pool == NULL) {
		*err = "neighbour table or mbuf pool not found";
		return PG_ERROR;
	}
	for (unsigned i = 0; i < cfg->nworkers; i++) {
		snprintf(name, sizeof(name), PG_SHM_STEER_FMT, i);
		pg_worker_rings[i] = rte_ring_lookup(name);
		if (pg_worker_rings[i] == NULL) {
			*err = "steering ring not found";
			return PG_ERROR;
		}
	}

	struct pg_netif *nif = &w->nif;
	pg_netif_init(nif, id, cfg->nworkers, &w->shm->mac, cfg->address,
		      cfg->prefix, cfg->gateway, cfg->mtu);
	nif->pool = pool;
	nif->stats = &w->self->stats;
	nif->neigh = mz->addr;
	nif->steer = pg_worker_rings;
	return pg_worker_open_driver(w, pool, err);
}

/*
 * Adaptive idle backoff: busy-poll while traffic flows; after a run of
 * empty polls sleep, doubling up to idle_sleep_max_us, so an idle server
 * does not pin its CPUs.
 */
static void
pg_worker_idle(struct pg_worker *w, unsigned *empty, unsigned *sleep_us)
{
	if (++*empty < PG_IDLE_SPINS)
		return;
	unsigned max = w->shm->cfg.idle_sleep_max_us;
	if (max == 0)
		return;
	*sleep_us = *sleep_us == 0 ? PG_IDLE_SLEEP_US : *sleep_us * 2;
	if (*sleep_us > max)
		*sleep_us = max;
	rte_delay_us_sleep(*sleep_us);
}

void
pg_worker_run(struct pg_worker *w)
{
	unsigned empty = 0, sleep_us = 0;
	uint64_t gen = w->shm->generation;

	w->self->generation = gen;
	w->self->state = PG_WORKER_RUNNING;
	pg_log_notice("worker %u running on lcore %u, queue %u", w->id,
		      rte_lcore_id(), w->id);
	if (w->id == 0)
		pg_arp_request(&w->nif, w->nif.addr);   /* gratuitous ARP */

	while (!w->shm->stopping) {
		if (pg_netif_poll(&w->nif) != 0) {
			empty = 0;
			sleep_us = 0;
		} else {
			pg_worker_idle(w, &empty, &sleep_us);
		}
		if (pg_unlikely(w->shm->generation != gen)) {
			gen = w->shm->generation;
			w->self->generation = gen;
			PG_STAT_INC(&w->self->stats, reloads);
			pg_log_notice("worker %u: reload, generation %lu",
				      w->id, (unsigned long)gen);
		}
	}
	pg_netif_close(&w->nif);
	pg_driver_close(w->nif.drv);
	w->nif.drv = NULL;
	pg_log_notice("worker %u stopped", w->id);
}

int
pg_worker_main(int argc, char **argv)
{
	struct pg_worker w;
	const char *err = NULL;
	char role[16];

	/* argv: perigee worker ID -- EAL-ARGS... */
	if (argc < 4 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "perigee worker: internal command, started by "
			"the primary\n");
		return 2;
	}
	unsigned id = (unsigned)strtoul(argv[2], NULL, 10);
	snprintf(role, sizeof(role), "w%u", id);
	pg_log_role(role);

	/* The primary blocks the signals it reads with signalfd. */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGINT, SIG_IGN);      /* stop comes from the primary */
	signal(SIGHUP, SIG_IGN);

	argv[3] = argv[0];
	if (rte_eal_init(argc - 3, argv + 3) < 0) {
		pg_log_err(rte_errno, "worker %u: rte_eal_init() failed", id);
		return 1;
	}
	if (pg_worker_attach(&w, id, &err) != PG_OK) {
		pg_log_err(0, "worker %u: %s", id, err);
		rte_eal_cleanup();
		return 1;
	}
	const char *lf = w.shm->cfg.log_file;
	if (pg_log_open(lf, w.shm->cfg.log_level, NULL, &err) != PG_OK)
		pg_log_err(0, "worker %u: %s %s", id, err, lf);

	pg_worker_run(&w);
	w.self->state = PG_WORKER_EXITED;
	rte_eal_cleanup();
	return 0;
}
