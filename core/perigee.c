/*
 * perigee: the command line.
 *
 *   perigee start  [-c FILE] [--single] [--foreground]
 *   perigee stop|reload|status [--json] [-c FILE | -s SOCKET]
 *   perigee check  [-c FILE]
 *   perigee worker ID -- EAL-ARGS     (internal: started by the primary)
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/pg_config.h"
#include "core/pg_control.h"
#include "core/pg_primary.h"
#include "lua/pg_lua.h"
#include "core/pg_worker.h"

static void
pg_usage(FILE *f)
{
	fprintf(f,
"usage: perigee COMMAND [OPTIONS]\n"
"\n"
"commands:\n"
"  start    start the server (detaches once every worker is up)\n"
"  stop     stop gracefully: workers finish, shared memory is released\n"
"  reload   reload the application in every worker\n"
"  status   per worker counters, drops and pool levels\n"
"  check    validate the configuration file and exit\n"
"\n"
"options:\n"
"  -c, --config FILE   configuration (default %s)\n"
"  -s, --socket PATH   control socket (default: from the configuration)\n"
"      --single        start: one worker inside the primary, no hugepages\n"
"      --foreground    start: stay attached (for systemd)\n"
"      --json          status: machine-readable output\n"
"  -h, --help          this text\n"
"  -v, --version       print the version\n", PG_CONF_PATH);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "single", no_argument, NULL, 'S' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct pg_primary_opts opts = { 0, 0 };
	const char *conf = PG_CONF_PATH, *sock = NULL;
	int json = 0, c;

	if (argc >= 2 && strcmp(argv[1], "worker") == 0)
		return pg_worker_main(argc, argv);

	while ((c = getopt_long(argc, argv, "c:s:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sock = optarg; break;
		case 'S': opts.single = 1; break;
		case 'F': opts.foreground = 1; break;
		case 'j': json = 1; break;
		case 'h': pg_usage(stdout); return 0;
		case 'v': printf("perigee %s\n", PG_VERSION); return 0;
		default: pg_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		pg_usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];

	static struct pg_config cfg;
	char err[512], path[PG_PATH_MAX + 32];
	int is_ctl = strcmp(cmd, "stop") == 0 || strcmp(cmd, "reload") == 0
		     || strcmp(cmd, "status") == 0;
	if (!is_ctl && strcmp(cmd, "start") != 0 && strcmp(cmd, "check") != 0) {
		fprintf(stderr, "perigee: unknown command '%s'\n", cmd);
		pg_usage(stderr);
		return 2;
	}
	if (!(is_ctl && sock != NULL)
	    && pg_config_load(conf, &cfg, err, sizeof(err)) != PG_OK) {
		fprintf(stderr, "perigee: bad configuration: %s\n", err);
		return 1;
	}
	if ((strcmp(cmd, "check") == 0 || strcmp(cmd, "start") == 0)
	    && cfg.app[0] != '\0') {
		struct pg_lua_vm *vm = pg_lua_vm_open(cfg.app, "check", 0, err,
						      sizeof(err));
		if (vm == NULL) {
			fprintf(stderr, "perigee: the application does not load: "
				"%s\n", err);
			return 1;
		}
		pg_lua_vm_put(vm);
	}
	if ((strcmp(cmd, "check") == 0 || strcmp(cmd, "start") == 0)
	    && pg_config_check_tls(&cfg, err, sizeof(err)) != PG_OK) {
		fprintf(stderr, "perigee: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "check") == 0) {
		printf("perigee: configuration %s is valid\n", conf);
		return 0;
	}
	if (strcmp(cmd, "start") == 0)
		return pg_primary_start(&cfg, &opts);

	if (sock == NULL) {
		pg_config_control_path(&cfg, path, sizeof(path));
		sock = path;
	}
	if (strcmp(cmd, "status") == 0)
		return pg_control_call(sock, json ? "status json" : "status",
				       stdout);
	return pg_control_call(sock, cmd, stdout);
}
