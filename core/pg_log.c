/*
 * Logging. Lines are formatted into one buffer and written with a single
 * write(2) so that lines of several processes sharing an O_APPEND file never
 * interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pg_core.h"
#include "core/pg_log.h"

enum pg_log_level pg_log_max = PG_LOG_INFO;

static int pg_log_fd = STDERR_FILENO;
static char pg_log_role_name[16] = "perigee";

static const char *const pg_log_names[] = {
	[PG_LOG_ERR] = "error",
	[PG_LOG_WARN] = "warn",
	[PG_LOG_NOTICE] = "notice",
	[PG_LOG_INFO] = "info",
	[PG_LOG_DEBUG] = "debug",
};

int
pg_log_level_parse(const char *name)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(pg_log_names); i++)
		if (strcmp(name, pg_log_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "err") == 0)
		return PG_LOG_ERR;
	return -1;
}

int
pg_log_open(const char *path, enum pg_log_level level, const char *role,
	    const char **err)
{
	pg_log_max = level;
	if (role != NULL)
		pg_log_role(role);
	if (path == NULL || path[0] == '\0' || strcmp(path, "stderr") == 0)
		return PG_OK;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		*err = "cannot open the log file";
		return PG_ERROR;
	}
	if (pg_log_fd != STDERR_FILENO)
		close(pg_log_fd);
	pg_log_fd = fd;
	return PG_OK;
}

void
pg_log_role(const char *role)
{
	snprintf(pg_log_role_name, sizeof(pg_log_role_name), "%s", role);
}

void
pg_log_write(enum pg_log_level level, int err, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - n, " [%s] %d#%s: ",
		      pg_log_names[level], (int)getpid(), pg_log_role_name);

	va_list ap;
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (err != 0 && n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, " (%d: %s)", err,
			      strerror(err));
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(pg_log_fd, line, n);
	(void)w;
}
