/*
 * Worker supervision: spawn each worker as a DPDK secondary process pinned
 * to its lcore, restart a worker that dies (with backoff, logged), and give
 * back to the pools every mbuf the dead worker held.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_log.h>

#include "core/pg_log.h"
#include "core/pg_primary.h"
#include "core/pg_shdict.h"
#include "net/pg_mbuf.h"
#include "net/pg_neigh.h"

/* A worker that ran this long before dying restarts after the base delay. */
#define PG_RESTART_STABLE_NS (1000ull * 1000 * 1000)

static void
pg_supervisor_exec(struct pg_primary *p, unsigned id)
{
	const struct pg_config *cfg = &p->cfg;
	char ids[16], prefix[64], lcores[64], loglevel[32];
	char *argv[16 + PG_MAX_EAL_ARGS];
	int n = 0;

	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", p->file_prefix);
	snprintf(lcores, sizeof(lcores), "--lcores=%u@%u", id + 1,
		 cfg->worker_cpu[id]);
	snprintf(loglevel, sizeof(loglevel), "--log-level=%d",
		 cfg->log_level >= PG_LOG_DEBUG ? RTE_LOG_DEBUG : RTE_LOG_WARNING);
	argv[n++] = p->exe;
	argv[n++] = "worker";
	argv[n++] = ids;
	argv[n++] = "--";
	argv[n++] = "--proc-type=secondary";
	argv[n++] = prefix;
	argv[n++] = "--no-pci";
	argv[n++] = "--no-telemetry";
	argv[n++] = lcores;
	argv[n++] = loglevel;
	for (unsigned i = 0; i < cfg->neal_args; i++)
		argv[n++] = (char *)cfg->eal_args[i];
	argv[n] = NULL;

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(p->exe, argv);
	pg_log_err(errno, "execv(%s) for worker %u failed", p->exe, id);
	_exit(127);
}

int
pg_supervisor_spawn(struct pg_primary *p, unsigned id)
{
	struct pg_worker_shm *ws = &p->shm->workers[id];

	ws->state = PG_WORKER_STARTING;
	ws->lcore = id + 1;
	ws->cpu = p->cfg.worker_cpu[id];
	ws->started_ns = pg_now_ns();
	ws->lua_since_ns = 0;         /* not the last incarnation's */
	p->watch_since[id] = 0;
	pid_t pid = fork();
	if (pid < 0) {
		pg_log_err(errno, "fork() for worker %u failed", id);
		ws->state = PG_WORKER_EXITED;
		return PG_ERROR;
	}
	if (pid == 0)
		pg_supervisor_exec(p, id);
	ws->pid = pid;
	p->restart_at_ns[id] = 0;
	pg_log_info("worker %u started, pid %d, cpu %u", id, (int)pid, ws->cpu);
	return PG_OK;
}

int
pg_supervisor_wait_running(struct pg_primary *p, unsigned timeout_ms)
{
	uint64_t deadline = pg_now_ns() + timeout_ms * 1000000ull;
	for (;;) {
		unsigned running = 0;
		for (unsigned i = 0; i < p->cfg.nworkers; i++) {
			uint32_t st = p->shm->workers[i].state;
			if (st == PG_WORKER_EXITED)
				return PG_ERROR;
			running += st == PG_WORKER_RUNNING;
		}
		if (running == p->cfg.nworkers)
			return PG_OK;
		if (pg_now_ns() > deadline)
			return PG_ERROR;
		pg_supervisor_reap(p);
		usleep(10000);
	}
}

/* Everything the dead worker id held goes back to the pools; the shared
 * dictionaries whose lock it died holding are repaired. */
static void
pg_supervisor_recover(struct pg_primary *p, unsigned id, pid_t pid)
{
	uint16_t holder = (uint16_t)(id + 1);
	unsigned n = 0;

	pg_neigh_recover(p->mz_neigh->addr, holder);
	for (unsigned i = 0; i < p->cfg.nworkers; i++)
		n += pg_mbuf_reclaim(p->pools[i], holder);
	if (n > 0)
		pg_log_notice("worker %u: recovered %u mbufs it held", id, n);
	n = pg_shdict_recover_all(pid);
	if (n > 0)
		pg_log_notice("worker %u: repaired %u shared dictionaries whose "
			      "lock it held", id, n);
}

static void
pg_supervisor_died(struct pg_primary *p, unsigned id, int status)
{
	struct pg_worker_shm *ws = &p->shm->workers[id];
	uint64_t now = pg_now_ns();
	unsigned base = p->cfg.restart_delay_ms;
	unsigned *delay = &p->restart_delay_ms[id];
	pid_t pid = ws->pid;

	ws->state = PG_WORKER_EXITED;
	ws->pid = 0;
	pg_supervisor_recover(p, id, pid);
	if (p->stop_requested)
		return;

	if (now - ws->started_ns >= PG_RESTART_STABLE_NS || *delay == 0)
		*delay = base;
	else if (*delay < p->cfg.restart_delay_max_ms)
		*delay = *delay * 2 > p->cfg.restart_delay_max_ms
			 ? p->cfg.restart_delay_max_ms : *delay * 2;
	p->restart_at_ns[id] = now + *delay * 1000000ull + 1;

	if (WIFSIGNALED(status))
		pg_log_warn(0, "worker %u exited on signal %d; restarting in "
			    "%u ms", id, WTERMSIG(status), *delay);
	else
		pg_log_warn(0, "worker %u exited with status %d; restarting "
			    "in %u ms", id, WEXITSTATUS(status), *delay);
}

void
pg_supervisor_reap(struct pg_primary *p)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < p->cfg.nworkers; i++)
			if (p->shm->workers[i].pid == pid)
				pg_supervisor_died(p, i, status);
	}
}

void
pg_supervisor_restart_due(struct pg_primary *p)
{
	uint64_t now = pg_now_ns();
	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		if (p->restart_at_ns[i] == 0 || now < p->restart_at_ns[i])
			continue;
		p->shm->workers[i].restarts++;
		if (pg_supervisor_spawn(p, i) != PG_OK)
			p->restart_at_ns[i] = now + p->cfg.restart_delay_max_ms
						    * 1000000ull;
	}
}

/*
 * The Lua watchdog, primary side (the worker side is in lua/pg_lua.c): a
 * worker in Lua for longer than lua.cpu_limit_ms gets SIGXCPU, which
 * interrupts the handler; one still there lua.kill_after_ms later runs a
 * compiled loop that ignores the interrupt and is restarted.
 */
void
pg_supervisor_watch(struct pg_primary *p)
{
	const struct pg_lua_conf *lc = &p->cfg.lua;
	uint64_t now = pg_now_ns(), limit = lc->cpu_limit_ms * 1000000ull;

	if (limit == 0)
		return;
	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		struct pg_worker_shm *ws = &p->shm->workers[i];
		uint64_t since = ws->lua_since_ns;
		pid_t pid = ws->pid;
		if (pid == 0 || since == 0 || now < since || now - since < limit)
			continue;
		if (p->watch_since[i] != since) {
			p->watch_since[i] = since;
			pg_log_warn(0, "worker %u: Lua has run %lu ms without "
				    "yielding: interrupting it", i,
				    (unsigned long)((now - since) / 1000000));
			syscall(SYS_tgkill, pid, pid, SIGXCPU);
		} else if (now - since >= limit
			   + lc->kill_after_ms * 1000000ull) {
			pg_log_err(0, "worker %u: Lua still runs %lu ms after "
				   "the interrupt (a compiled loop that never "
				   "yields does not see it): restarting the "
				   "worker", i, (unsigned long)((now - since
				   - limit) / 1000000));
			ws->lua_since_ns = 0;
			kill(pid, SIGKILL);
		}
	}
}

static unsigned
pg_supervisor_alive(struct pg_primary *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->cfg.nworkers; i++)
		n += p->shm->workers[i].pid != 0;
	return n;
}

void
pg_supervisor_stop_all(struct pg_primary *p)
{
	uint64_t deadline = pg_now_ns() + p->cfg.stop_timeout_ms * 1000000ull;

	p->stop_requested = 1;
	p->shm->stopping = 1;
	while (pg_supervisor_alive(p) > 0 && pg_now_ns() < deadline) {
		pg_supervisor_reap(p);
		usleep(10000);
	}
	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		pid_t pid = p->shm->workers[i].pid;
		if (pid == 0)
			continue;
		pg_log_warn(0, "worker %u (pid %d) did not stop in %u ms; "
			    "killing it", i, (int)pid, p->cfg.stop_timeout_ms);
		kill(pid, SIGKILL);
		int status;
		if (waitpid(pid, &status, 0) == pid)
			pg_supervisor_died(p, i, status);
	}
}
