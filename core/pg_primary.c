/*
 * The primary process. See pg_primary.h for the call chain.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include "core/pg_appwatch.h"
#include "core/pg_control.h"
#include "core/pg_log.h"
#include "core/pg_primary.h"
#include "core/pg_shdict.h"
#include "net/pg_mbuf.h"
#include "net/pg_neigh.h"
#include "net/pg_steer.h"

#define PG_START_TIMEOUT_MS 15000
#define PG_LOOP_TICK_MS     50
#define PG_RELOAD_WAIT_MS   5000

static FILE *pg_primary_dpdk_log;

/* --- EAL and shared objects ---------------------------------------------- */

static int
pg_primary_eal(struct pg_primary *p)
{
	const struct pg_config *cfg = &p->cfg;
	char prefix[64], lcores[64], loglevel[32], mem[32];
	char vdev[PG_MAX_DEVICES][PG_ARG_MAX + 8];
	char *argv[24 + PG_MAX_DEVICES + PG_MAX_EAL_ARGS];
	int n = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", p->file_prefix);
	/* lcore 0 (the primary) floats over every CPU; workers are 1..N. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int l = snprintf(lcores, sizeof(lcores), "--lcores=0@(0-%ld)", ncpu - 1);
	if (p->opts.single)
		snprintf(lcores + l, sizeof(lcores) - l, ",1@%u",
			 cfg->worker_cpu[0]);
	snprintf(loglevel, sizeof(loglevel), "--log-level=%d",
		 cfg->log_level >= PG_LOG_DEBUG ? RTE_LOG_DEBUG : RTE_LOG_WARNING);
	snprintf(mem, sizeof(mem), "-m%u", cfg->hugepages_mb);

	argv[n++] = p->exe;
	argv[n++] = prefix;
	argv[n++] = "--no-pci";
	argv[n++] = "--no-telemetry";
	argv[n++] = lcores;
	argv[n++] = loglevel;
	if (p->opts.single) {
		/* 22.11 refuses --in-memory with --no-huge; --no-shconf
		 * is the part of it that applies. */
		argv[n++] = "--no-huge";
		argv[n++] = "--no-shconf";
		argv[n++] = mem;
	} else {
		argv[n++] = "--proc-type=primary";
	}
	for (unsigned i = 0; i < cfg->ndevices; i++) {
		snprintf(vdev[i], sizeof(vdev[i]), "--vdev=%s", cfg->devices[i]);
		argv[n++] = vdev[i];
	}
	for (unsigned i = 0; i < cfg->neal_args; i++)
		argv[n++] = (char *)cfg->eal_args[i];
	argv[n] = NULL;

	if (rte_eal_init(n, argv) < 0) {
		pg_log_err(rte_errno, "rte_eal_init() failed: %s",
			   rte_strerror(rte_errno));
		return PG_ERROR;
	}
	if (cfg->log_file[0] && strcmp(cfg->log_file, "stderr") != 0) {
		pg_primary_dpdk_log = fopen(cfg->log_file, "a");
		if (pg_primary_dpdk_log != NULL) {
			setvbuf(pg_primary_dpdk_log, NULL, _IOLBF, 0);
			rte_openlog_stream(pg_primary_dpdk_log);
		}
	}
	return PG_OK;
}

static int
pg_primary_shared(struct pg_primary *p)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const char *err = NULL;

	p->mz_shared = rte_memzone_reserve(PG_SHM_SHARED,
					   sizeof(struct pg_shared),
					   SOCKET_ID_ANY, 0);
	p->mz_neigh = rte_memzone_reserve(PG_SHM_NEIGH, pg_neigh_table_size(),
					  SOCKET_ID_ANY, 0);
	if (p->mz_shared == NULL || p->mz_neigh == NULL) {
		pg_log_err(rte_errno, "cannot reserve shared memory: %s",
			   rte_strerror(rte_errno));
		return PG_ERROR;
	}
	p->shm = p->mz_shared->addr;
	memset(p->shm, 0, sizeof(*p->shm));
	p->shm->cfg = p->cfg;
	p->shm->started_ns = pg_now_ns();
	if (getrandom(p->shm->tls_secret, sizeof(p->shm->tls_secret), 0)
	    != (ssize_t)sizeof(p->shm->tls_secret)) {
		pg_log_err(errno, "no randomness for the TLS ticket secret");
		return PG_ERROR;
	}
	p->shm->generation = 1;
	pg_neigh_init(p->mz_neigh->addr);

	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		snprintf(name, sizeof(name), PG_SHM_POOL_FMT, i);
		p->pools[i] = pg_mbuf_pool_create(name, p->cfg.mbufs,
						  (int)rte_socket_id());
		snprintf(name, sizeof(name), PG_SHM_STEER_FMT, i);
		p->rings[i] = rte_ring_create(name, PG_STEER_RING,
					      (int)rte_socket_id(),
					      RING_F_SC_DEQ);
		if (p->pools[i] == NULL || p->rings[i] == NULL) {
			pg_log_err(rte_errno, "cannot create the mbuf pool or "
				   "steering ring of worker %u: %s (raise "
				   "'hugepages' or lower 'dpdk.mbufs')", i,
				   rte_strerror(rte_errno));
			return PG_ERROR;
		}
	}
	return pg_shdict_create_all(&p->cfg, &err);
}

/*
 * May the PMD compute TCP/IPv4 checksums for us? net_tap before DPDK 23.11
 * sums each segment of a chain on its own, so a segment of odd length (a
 * response head followed by its body in one TCP segment) gets a wrong
 * checksum and the peer drops it. It computes them in software anyway:
 * Perigee doing it costs the same.
 */
static int
pg_primary_csum_offload(const struct rte_eth_dev_info *info)
{
	const uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
			      | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

	if ((info->tx_offload_capa & csum) != csum)
		return 0;
#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
	if (strcmp(info->driver_name, "net_tap") == 0)
		return 0;
#endif
	return 1;
}

/* Configure the port: one queue pair per worker, RSS where supported. */
static int
pg_primary_port(struct pg_primary *p)
{
	const struct pg_config *cfg = &p->cfg;
	char name[PG_ARG_MAX];
	uint16_t port, nq = (uint16_t)cfg->nworkers;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;

	snprintf(name, sizeof(name), "%s", cfg->devices[0]);
	name[strcspn(name, ",")] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &port) != 0) {
		pg_log_err(0, "device '%s' did not probe; check dpdk.devices",
			   name);
		return PG_ERROR;
	}
	if (rte_eth_dev_info_get(port, &info) != 0 || info.max_rx_queues < nq
	    || info.max_tx_queues < nq) {
		pg_log_err(0, "device '%s' offers %u rx / %u tx queues, %u "
			   "workers need as many", name, info.max_rx_queues,
			   info.max_tx_queues, nq);
		return PG_ERROR;
	}

	memset(&conf, 0, sizeof(conf));
	if (pg_primary_csum_offload(&info))
		conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
				       | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	uint64_t hf = info.flow_type_rss_offloads
		      & (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	if (nq > 1 && hf != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)pg_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = PG_RSS_KEY_LEN;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	int rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc != 0 && conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS) {
		pg_log_notice("%s refuses RSS (%s); software steering only",
			      name, rte_strerror(-rc));
		memset(&conf.rxmode, 0, sizeof(conf.rxmode));
		memset(&conf.rx_adv_conf, 0, sizeof(conf.rx_adv_conf));
		rc = rte_eth_dev_configure(port, nq, nq, &conf);
	}
	if (rc != 0) {
		pg_log_err(-rc, "rte_eth_dev_configure(%s) failed", name);
		return PG_ERROR;
	}
	rc = rte_eth_dev_set_mtu(port, (uint16_t)cfg->mtu);
	if (rc != 0)
		pg_log_warn(-rc, "%s: cannot set MTU %u", name, cfg->mtu);

	unsigned sock = (unsigned)rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, (uint16_t)cfg->rx_desc,
					    sock, NULL, p->pools[q]);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q,
						    (uint16_t)cfg->tx_desc,
						    sock, NULL);
		if (rc != 0) {
			pg_log_err(-rc, "%s: queue %u setup failed", name, q);
			return PG_ERROR;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		pg_log_err(-rc, "rte_eth_dev_start(%s) failed", name);
		return PG_ERROR;
	}
	p->shm->port_id = port;
	p->shm->nqueues = nq;
	p->shm->tx_csum = conf.txmode.offloads != 0;
	rte_eth_macaddr_get(port, &p->shm->mac);
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &p->shm->mac);
	pg_log_notice("port %s (%u) started: %u queue pairs, MAC %s, RSS %s, "
		      "TCP/IPv4 checksum offload %s", name, port, nq, mac,
		      conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off",
		      p->shm->tx_csum ? "on" : "off");
	return PG_OK;
}

/* --- single-process mode ------------------------------------------------- */

static int
pg_primary_single_worker(void *arg)
{
	struct pg_primary *p = arg;
	pg_worker_run(&p->single_worker);
	p->shm->workers[0].state = PG_WORKER_EXITED;
	return 0;
}

static int
pg_primary_single_start(struct pg_primary *p)
{
	const char *err = NULL;
	struct pg_worker_shm *ws = &p->shm->workers[0];

	if (pg_worker_attach(&p->single_worker, 0, &err) != PG_OK) {
		pg_log_err(0, "single worker: %s", err);
		return PG_ERROR;
	}
	ws->pid = getpid();
	ws->lcore = 1;
	ws->cpu = p->cfg.worker_cpu[0];
	ws->started_ns = pg_now_ns();
	ws->state = PG_WORKER_STARTING;
	if (rte_eal_remote_launch(pg_primary_single_worker, p, 1) != 0)
		return PG_ERROR;
	return pg_supervisor_wait_running(p, PG_START_TIMEOUT_MS);
}

/* --- control ------------------------------------------------------------- */

static void
pg_primary_reload(struct pg_primary *p)
{
	p->shm->generation++;
	pg_log_notice("reload: generation %lu",
		      (unsigned long)p->shm->generation);
}

/*
 * A `perigee reload` client waits until every running worker has applied
 * the generation (or a worker said why it could not, and keeps serving
 * what it had). The answer lists the failures; a worker that does not
 * answer in time is reported too.
 */
static void
pg_primary_reload_check(struct pg_primary *p, int timed_out)
{
	char buf[2048];
	size_t len = 0;
	int failed = 0;

	if (p->reload_client_fd < 0)
		return;
	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		struct pg_worker_shm *w = &p->shm->workers[i];
		if (w->state != PG_WORKER_RUNNING)
			continue;
		if (w->generation < p->reload_gen) {
			if (!timed_out)
				return;
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
				"error: worker %u did not apply generation %lu "
				"within %u ms\n", i,
				(unsigned long)p->reload_gen, PG_RELOAD_WAIT_MS);
			failed = 1;
		} else if ((rte_rmb(), w->reload_error[0] != '\0')) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
				"error: worker %u: %.*s\n", i,
				(int)sizeof(w->reload_error), w->reload_error);
			failed = 1;
		}
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
	}
	if (!failed)
		len = (size_t)snprintf(buf, sizeof(buf), "reloaded: generation "
				       "%lu\n", (unsigned long)p->reload_gen);
	pg_control_reply(p->reload_client_fd, buf, len);
	p->reload_client_fd = -1;
}

static void
pg_primary_command(struct pg_primary *p, int fd, const char *cmd)
{
	char buf[128];
	size_t len;
	char *text;

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "status json") == 0) {
		text = pg_status_render(p, cmd[6] != '\0', &len);
		pg_control_reply(fd, text != NULL ? text : "error: out of memory\n",
				 text != NULL ? len : 21);
		free(text);
	} else if (strcmp(cmd, "reload") == 0) {
		if (p->reload_client_fd >= 0) {
			static const char busy[] =
				"error: a reload is already in progress\n";
			pg_control_reply(fd, busy, sizeof(busy) - 1);
			return;
		}
		pg_primary_reload(p);
		p->reload_client_fd = fd;
		p->reload_gen = p->shm->generation;
		p->reload_deadline_ns = pg_now_ns()
					+ PG_RELOAD_WAIT_MS * 1000000ull;
		pg_primary_reload_check(p, 0);
	} else if (strcmp(cmd, "stop") == 0) {
		p->stop_requested = 1;
		if (p->stop_client_fd >= 0)
			close(p->stop_client_fd);
		p->stop_client_fd = fd;
	} else {
		len = (size_t)snprintf(buf, sizeof(buf), "error: unknown command "
				       "'%.40s' (status, reload, stop)\n", cmd);
		pg_control_reply(fd, buf, len);
	}
}

static void
pg_primary_signal(struct pg_primary *p)
{
	struct signalfd_siginfo si;
	while (read(p->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			pg_log_notice("signal %u: stopping", si.ssi_signo);
			p->stop_requested = 1;
			break;
		case SIGHUP:
			pg_primary_reload(p);
			break;
		case SIGCHLD:
			if (!p->opts.single)
				pg_supervisor_reap(p);
			break;
		}
	}
}

static void
pg_primary_loop(struct pg_primary *p)
{
	char cmd[128];

	while (!p->stop_requested) {
		struct pollfd fds[2] = { { p->ctl_fd, POLLIN, 0 },
					 { p->sig_fd, POLLIN, 0 } };
		int n = poll(fds, 2, p->reload_client_fd >= 0 ? 5
							       : PG_LOOP_TICK_MS);
		if (n > 0 && (fds[1].revents & POLLIN))
			pg_primary_signal(p);
		if (n > 0 && (fds[0].revents & POLLIN)) {
			int fd = pg_control_accept(p->ctl_fd, cmd, sizeof(cmd));
			if (fd >= 0)
				pg_primary_command(p, fd, cmd);
		}
		if (!p->opts.single) {
			pg_supervisor_restart_due(p);
			pg_supervisor_watch(p);
		}
		if (pg_appwatch_poll(p->appwatch, pg_now_ns())) {
			pg_log_notice("the application's files changed");
			pg_primary_reload(p);
		}
		if (p->reload_client_fd >= 0)
			pg_primary_reload_check(p,
				pg_now_ns() > p->reload_deadline_ns);
	}
}

/* --- start and stop ------------------------------------------------------ */

static void
pg_primary_remove_runtime(struct pg_primary *p)
{
	char path[PG_PATH_MAX + 32];

	pg_config_control_path(&p->cfg, path, sizeof(path));
	unlink(path);
	pg_config_pid_path(&p->cfg, path, sizeof(path));
	unlink(path);
	rmdir(p->cfg.runtime_dir);
}

/* Everything DPDK keeps on disk for our prefix goes with us. */
static void
pg_primary_remove_dpdk_files(struct pg_primary *p)
{
	char dir[PG_PATH_MAX], path[PG_PATH_MAX * 2];
	unsigned n = pg_hugepages_remove_files(p->file_prefix);

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", p->file_prefix);
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
		rmdir(dir);
	}
	if (n > 0)
		pg_log_info("removed %u hugepage files", n);
}

static void
pg_primary_stop(struct pg_primary *p, int eal_up)
{
	if (eal_up && p->shm != NULL) {
		if (p->opts.single) {
			p->shm->stopping = 1;
			rte_eal_wait_lcore(1);
		} else {
			pg_supervisor_stop_all(p);
		}
		uint16_t port = p->shm->port_id;
		if (rte_eth_dev_is_valid_port(port)) {
			rte_eth_dev_stop(port);
			rte_eth_dev_close(port);
		}
		for (unsigned i = 0; i < p->cfg.nworkers; i++) {
			rte_ring_free(p->rings[i]);
			rte_mempool_free(p->pools[i]);
		}
		pg_shdict_free_all();
		rte_memzone_free(p->mz_neigh);
		rte_memzone_free(p->mz_shared);
		p->shm = NULL;
	}
	/* Only what this process created is removed: a failed start must not
	 * touch the files of another instance. */
	if (eal_up) {
		rte_eal_cleanup();
		pg_primary_remove_dpdk_files(p);
	}
	pg_hugepages_release(&p->huge);
	if (p->ctl_fd >= 0)
		pg_primary_remove_runtime(p);
	pg_log_notice("stopped");
	if (p->reload_client_fd >= 0) {
		static const char gone[] = "error: stopped before the reload "
					   "completed\n";
		pg_control_reply(p->reload_client_fd, gone, sizeof(gone) - 1);
		p->reload_client_fd = -1;
	}
	if (p->stop_client_fd >= 0)
		pg_control_reply(p->stop_client_fd, "stopped\n", 8);
	if (pg_primary_dpdk_log != NULL) {
		rte_openlog_stream(NULL);
		fclose(pg_primary_dpdk_log);
	}
}

static int
pg_primary_runtime_dir(struct pg_primary *p)
{
	char path[PG_PATH_MAX + 32], *s;
	const char *err = NULL;

	snprintf(path, sizeof(path), "%s", p->cfg.runtime_dir);
	for (s = path + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(path, 0755);
			*s = '/';
		}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		pg_log_err(errno, "cannot create runtime_dir %s", path);
		return PG_ERROR;
	}
	pg_config_control_path(&p->cfg, path, sizeof(path));
	p->ctl_fd = pg_control_listen(path, &err);
	if (p->ctl_fd < 0) {
		pg_log_err(errno, "%s: %s", err, path);
		return PG_ERROR;
	}
	pg_config_pid_path(&p->cfg, path, sizeof(path));
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	return PG_OK;
}

static int
pg_primary_signals(struct pg_primary *p)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	p->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	return p->sig_fd < 0 ? PG_ERROR : PG_OK;
}

/*
 * Detach from the terminal: the parent waits on a pipe and exits with 0
 * once the child says the server is up, with 1 if the child dies first.
 * Returns the write end in the child, -1 in foreground mode.
 */
static int
pg_primary_detach(void)
{
	int fds[2];
	char c;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		ssize_t r = read(fds[0], &c, 1);
		_exit(r == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	return fds[1];
}

static int
pg_primary_init(struct pg_primary *p, int *eal_up)
{
	char err[512];

	if (pg_primary_signals(p) != PG_OK || pg_primary_runtime_dir(p) != PG_OK)
		return PG_ERROR;
	if (!p->opts.single && pg_hugepages_prepare(&p->huge,
						    p->cfg.hugepages_mb, err,
						    sizeof(err)) != PG_OK) {
		pg_log_err(0, "hugepages: %s", err);
		return PG_ERROR;
	}
	if (pg_primary_eal(p) != PG_OK)
		return PG_ERROR;
	*eal_up = 1;
	if (pg_primary_shared(p) != PG_OK || pg_primary_port(p) != PG_OK)
		return PG_ERROR;
	if (p->opts.single)
		return pg_primary_single_start(p);
	for (unsigned i = 0; i < p->cfg.nworkers; i++)
		if (pg_supervisor_spawn(p, i) != PG_OK)
			return PG_ERROR;
	if (pg_supervisor_wait_running(p, PG_START_TIMEOUT_MS) != PG_OK) {
		pg_log_err(0, "workers did not come up; see the log above");
		return PG_ERROR;
	}
	return PG_OK;
}

int
pg_primary_start(const struct pg_config *cfg,
		 const struct pg_primary_opts *opts)
{
	static struct pg_primary prim;
	struct pg_primary *p = &prim;
	const char *err = NULL;
	int eal_up = 0, notify = -1, rc = 1;

	p->cfg = *cfg;
	p->opts = *opts;
	p->ctl_fd = p->sig_fd = p->stop_client_fd = p->reload_client_fd = -1;
	snprintf(p->file_prefix, sizeof(p->file_prefix), "pg-%s", cfg->name);
	ssize_t n = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "perigee: cannot find my own executable\n");
		return 1;
	}
	p->exe[n] = '\0';
	if (opts->single && cfg->nworkers != 1) {
		fprintf(stderr, "perigee: %s: --single runs exactly one worker; "
			"set workers = { CPU }\n", cfg->path);
		return 1;
	}
	char sock[PG_PATH_MAX + 32];
	pg_config_control_path(cfg, sock, sizeof(sock));
	if (pg_control_alive(sock)) {
		fprintf(stderr, "perigee: instance '%s' is already running (its "
			"control socket %s answers); stop it first\n", cfg->name,
			sock);
		return 1;
	}
	if (pg_log_open(cfg->log_file, cfg->log_level, "primary", &err)
	    != PG_OK) {
		fprintf(stderr, "perigee: %s: %s\n", err, cfg->log_file);
		return 1;
	}
	if (!opts->foreground)
		notify = pg_primary_detach();

	if (pg_primary_init(p, &eal_up) == PG_OK) {
		pg_log_notice("perigee %s started: %u workers, %s mode",
			      PG_VERSION, cfg->nworkers,
			      opts->single ? "single-process" : "multi-process");
		if (notify >= 0) {
			ssize_t w = write(notify, "1", 1);
			(void)w;
			close(notify);
			notify = -1;
		}
		if (cfg->app[0] != '\0' && cfg->lua.auto_reload)
			p->appwatch = pg_appwatch_new(cfg->app,
						      cfg->lua.watch_ms);
		pg_primary_loop(p);
		pg_appwatch_free(p->appwatch);
		p->appwatch = NULL;
		rc = 0;
	} else {
		fprintf(stderr, "perigee: start failed; see the log (%s)\n",
			cfg->log_file);
	}
	pg_primary_stop(p, eal_up);
	return rc;
}
