/*
 * A worker: one per configured CPU, a DPDK secondary process (or a thread
 * of the primary in single-process mode) that runs the loop
 *   rx burst -> steering -> eth/arp/ip/tcp -> tx flush -> TCP timers
 *   -> tx flush -> idle backoff (never past the next TCP timer)
 * until the primary asks it to stop.
 */
#ifndef PG_WORKER_H
#define PG_WORKER_H

#include "lua/pg_lua_http.h"
#include "core/pg_shm.h"
#include "net/pg_netif.h"

struct pg_tcp_stack;
struct pg_testsvc;

struct pg_worker {
	unsigned id;
	struct pg_shared *shm;
	struct pg_worker_shm *self;
	struct pg_netif nif;
	struct pg_tcp_stack *tcp;
	struct pg_testsvc *testsvc;
	struct pg_lua_vm *vm;         /* the application, NULL without one */
	struct pg_lua_http http;      /* its HTTP/1.1 server */
	struct pg_http_log *access;   /* the access log, NULL: off */
	char id_prefix[16];           /* of request ids: "w<id>-" */
};

/*
 * Attach worker id to the shared objects the primary created (after EAL
 * init). Returns PG_OK or PG_ERROR with err set.
 */
int pg_worker_attach(struct pg_worker *w, unsigned id, const char **err);

/*
 * Run the loop until shm->stopping; then release what the worker holds.
 * PG_ERROR when the worker could not start (logged).
 */
int pg_worker_run(struct pg_worker *w);

/* Entry point of `perigee worker ID -- EAL-ARGS` (a secondary process). */
int pg_worker_main(int argc, char **argv);

#endif
