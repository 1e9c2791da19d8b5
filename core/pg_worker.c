/*
 * The worker process and its loop.
 *
 *   pg_worker_main -> rte_eal_init (secondary) -> pg_worker_attach
 *                  -> pg_worker_run -> pg_worker_tcp_start
 *                                   -> pg_netif_poll, pg_tcp_stack_poll ...
 *                                   -> pg_worker_tcp_stop -> exit
 */
#include <errno.h>
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
#include "core/pg_shdict.h"
#include "core/pg_worker.h"
#include "http/pg_http_log.h"
#include "net/pg_steer.h"
#include "lua/pg_lua.h"
#include "net/pg_tcp.h"
#include "net/pg_testsvc.h"

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
	if (pg_shdict_attach_all(cfg, err) != PG_OK)
		return PG_ERROR;

	struct pg_netif *nif = &w->nif;
	pg_netif_init(nif, id, cfg->nworkers, &w->shm->mac, cfg->address,
		      cfg->prefix, cfg->gateway, cfg->mtu);
	nif->pool = pool;
	nif->stats = &w->self->stats;
	nif->neigh = mz->addr;
	nif->steer = pg_worker_rings;
	nif->tx_csum = (int)w->shm->tx_csum;
	return pg_worker_open_driver(w, pool, err);
}

/*
 * The TCP stack over the netif, its counters in this worker's shared
 * statistics, and the test service when configured. A restarted worker
 * starts with no connection: the gauge is reset, the totals go on.
 */
static int
pg_worker_tcp_start(struct pg_worker *w, const char **err)
{
	const struct pg_config *cfg = &w->shm->cfg;
	struct pg_tcp_stats *st = &w->self->stats.tcp;

	struct pg_tcp_conf conf = cfg->tcp;
	/* Out-of-order data may take at most half of this worker's mbufs:
	 * the rest keeps receiving, sending and answering. */
	uint64_t half = (uint64_t)w->nif.pool->size / 2
			* (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(struct rte_mbuf));
	if (conf.ooo_max_total > half)
		conf.ooo_max_total = (uint32_t)half;
	st->conns = 0;
	w->tcp = pg_tcp_stack_create(&w->nif, &conf, st, err);
	if (w->tcp == NULL)
		return PG_ERROR;
	w->testsvc = pg_testsvc_start(w->tcp, cfg, w->nif.pool, w->nif.holder,
				      w->id == 0, err);
	if (w->testsvc == NULL) {
		pg_tcp_stack_destroy(w->tcp);
		w->tcp = NULL;
		return PG_ERROR;
	}
	return PG_OK;
}

static void
pg_worker_tcp_stop(struct pg_worker *w)
{
	pg_testsvc_stop(w->testsvc);
	w->testsvc = NULL;
	pg_tcp_stack_destroy(w->tcp);
	w->tcp = NULL;
	pg_netif_flush(&w->nif);        /* the resets of what was aborted */
}

/*
 * Adaptive idle backoff: busy-poll while traffic flows; after a run of
 * empty polls sleep, doubling up to idle_sleep_max_us, so an idle server
 * does not pin its CPUs. A sleep never runs past the next TCP timer.
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
	unsigned us = *sleep_us;
	uint64_t due = pg_tcp_stack_next_timer(w->tcp), now = pg_now_ns();
	if (due <= now)
		return;
	if (due - now < (uint64_t)us * 1000)
		us = (unsigned)((due - now) / 1000);
	if (us > 0)
		rte_delay_us_sleep(us);
}

/*
 * Apply reload generation gen. What failed goes to reload_error before the
 * generation is published: the primary reads them in that order.
 */
static void
pg_worker_reload(struct pg_worker *w, uint64_t gen)
{
	const char *app = w->shm->cfg.app;
	char *err = w->self->reload_error;

	err[0] = '\0';
	if (pg_http_log_reopen(w->access) != PG_OK)
		pg_log_err(errno, "worker %u: cannot reopen the access log %s; "
			   "writing on to the old file", w->id,
			   w->shm->cfg.access_log);
	if (app[0] != '\0') {
		/* A fresh VM; the old one serves on until it is released. */
		struct pg_lua_vm *vm = pg_lua_vm_open(app, w->id_prefix, 1, err,
					sizeof(w->self->reload_error));
		if (vm != NULL) {
			vm->generation = gen;
			if (w->vm != NULL) {
				pg_lua_vm_shutdown(w->vm, "reloading");
				pg_lua_http_retire(&w->http, w->vm);
			}
			pg_lua_vm_put(w->vm);
			w->vm = vm;
		}
	}
	rte_wmb();
	w->self->generation = gen;
	PG_STAT_INC(&w->self->stats, reloads);
	if (err[0] != '\0')
		pg_log_err(0, "worker %u: reload, generation %lu, failed: %s; "
			   "the previous application keeps serving", w->id,
			   (unsigned long)gen, err);
	else
		pg_log_notice("worker %u: reload, generation %lu", w->id,
			      (unsigned long)gen);
}

/* One pass of the loop: receive, timers, the application, send. */
static void
pg_worker_pass(struct pg_worker *w, unsigned *empty, unsigned *sleep_us)
{
	unsigned busy = pg_netif_poll(&w->nif);

	busy += pg_tcp_stack_poll(w->tcp);
	busy += pg_lua_http_poll(&w->http);
	pg_http_log_poll(w->access, w->nif.now_ns);
	pg_netif_flush(&w->nif);
	if (busy != 0) {
		*empty = 0;
		*sleep_us = 0;
	} else {
		pg_worker_idle(w, empty, sleep_us);
	}
}

/*
 * Graceful stop: no new connections; requests in flight finish (HTTP/2
 * after GOAWAY) and their bytes reach the client, for at most drain_ms.
 * What is left then is reset by pg_worker_tcp_stop.
 */
static void
pg_worker_drain(struct pg_worker *w)
{
	uint64_t start = pg_now_ns();
	uint64_t end = start + w->shm->cfg.drain_ms * 1000000ull;
	unsigned empty = 0, sleep_us = 0;
	uint32_t left;

	if (w->http.srv == NULL)
		return;
	pg_lua_http_shutdown(&w->http);
	/* (the TCP table is walked only once HTTP has let go of all) */
	while (((left = pg_lua_http_conns(&w->http)) > 0
		|| (left = pg_tcp_stack_unacked(w->tcp)) > 0)
	       && pg_now_ns() < end)
		pg_worker_pass(w, &empty, &sleep_us);
	if (left > 0)
		pg_log_warn(0, "worker %u: %u connections still busy after "
			    "drain_ms (%u ms): reset", w->id, left,
			    w->shm->cfg.drain_ms);
	else
		pg_log_info("worker %u: drained in %lu ms", w->id,
			    (unsigned long)((pg_now_ns() - start) / 1000000));
}

/*
 * The loop. TCP timers run after each receive pass and what they send
 * leaves in the same pass. Returns PG_ERROR when the worker could not
 * start its TCP stack.
 */
int
pg_worker_run(struct pg_worker *w)
{
	unsigned empty = 0, sleep_us = 0;
	uint64_t gen = w->shm->generation;
	const char *err = NULL;
	int rc;

	w->self->generation = gen;
	w->self->reload_error[0] = '\0';
	if (w->shm->cfg.app[0] != '\0') {
		char lerr[256];
		snprintf(w->id_prefix, sizeof(w->id_prefix), "w%u-", w->id);
		w->vm = pg_lua_vm_open(w->shm->cfg.app, w->id_prefix, 1, lerr,
				       sizeof(lerr));
		if (w->vm == NULL) {
			pg_log_err(0, "worker %u: the application does not "
				   "load: %s", w->id, lerr);
			rc = PG_ERROR;
			goto done;
		}
		w->vm->generation = gen;
	}
	rc = pg_worker_tcp_start(w, &err);
	if (rc != PG_OK) {
		pg_log_err(0, "worker %u: cannot start TCP: %s", w->id, err);
		goto done;
	}
	if (w->vm != NULL && w->shm->cfg.nlisten > 0
	    && w->shm->cfg.access_log[0] != '\0') {
		w->access = pg_http_log_open(w->shm->cfg.access_log,
					     w->shm->cfg.access_buffer);
		if (w->access == NULL)
			pg_log_err(errno, "worker %u: cannot open the access "
				   "log %s; serving without it", w->id,
				   w->shm->cfg.access_log);
	}
	if (w->vm != NULL && w->shm->cfg.nlisten > 0) {
		rc = pg_lua_http_start(&w->http, &w->nif, w->tcp,
				       &w->shm->cfg, w->shm->tls_secret,
				       w->access, &w->vm, &w->self->stats,
				       &err);
		if (rc != PG_OK) {
			pg_log_err(0, "worker %u: cannot serve HTTP: %s",
				   w->id, err);
			pg_worker_tcp_stop(w);
			goto done;
		}
	}
	w->self->state = PG_WORKER_RUNNING;
	pg_log_notice("worker %u running on lcore %u, queue %u", w->id,
		      rte_lcore_id(), w->id);
	if (w->id == 0)
		pg_arp_request(&w->nif, w->nif.addr);   /* gratuitous ARP */

	while (!w->shm->stopping) {
		pg_worker_pass(w, &empty, &sleep_us);
		if (pg_unlikely(w->shm->generation != gen)) {
			gen = w->shm->generation;
			pg_worker_reload(w, gen);
		}
	}
	if (w->vm != NULL)
		pg_lua_vm_shutdown(w->vm, "stopping");
	pg_worker_drain(w);
	/* TCP first: every stream ends (TLS ones still in their handshake
	 * too) before the HTTP server frees what they use. */
	pg_worker_tcp_stop(w);
	pg_lua_http_stop(&w->http);
done:
	pg_http_log_close(w->access);
	w->access = NULL;
	pg_lua_vm_put(w->vm);
	w->vm = NULL;
	pg_netif_close(&w->nif);
	pg_driver_close(w->nif.drv);
	w->nif.drv = NULL;
	pg_log_notice("worker %u stopped", w->id);
	return rc;
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
	if (w.shm->cfg.lua.cpu_limit_ms > 0)
		pg_lua_watchdog_init(&w.self->lua_since_ns,
				     w.shm->cfg.lua.cpu_limit_ms);
	const char *lf = w.shm->cfg.log_file;
	if (pg_log_open(lf, w.shm->cfg.log_level, NULL, &err) != PG_OK)
		pg_log_err(0, "worker %u: %s %s", id, err, lf);

	int rc = pg_worker_run(&w);
	w.self->state = PG_WORKER_EXITED;
	rte_eal_cleanup();
	return rc == PG_OK ? 0 : 1;
}
