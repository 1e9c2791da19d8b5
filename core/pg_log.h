/*
 * Logging: one line per event, "TIME [level] PID#ROLE: message", to a file
 * opened with O_APPEND (shared by the primary and the workers) or stderr.
 * The data path logs only at debug level.
 */
#ifndef PG_LOG_H
#define PG_LOG_H

#include <stdarg.h>

enum pg_log_level {
	PG_LOG_ERR,
	PG_LOG_WARN,
	PG_LOG_NOTICE,
	PG_LOG_INFO,
	PG_LOG_DEBUG,
};

extern enum pg_log_level pg_log_max;

/* Open the log: path NULL or "stderr" logs to stderr. role names the process. */
int pg_log_open(const char *path, enum pg_log_level level, const char *role,
		const char **err);

/* Change the role after fork (e.g. "w0"). */
void pg_log_role(const char *role);

/* Parse "err", "warn", "notice", "info", "debug"; -1 if unknown. */
int pg_log_level_parse(const char *name);

void pg_log_write(enum pg_log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* err is an errno value (0 for none); it is printed after the message. */
#define pg_log(level, err, ...) do {                                  \
	if ((level) <= pg_log_max)                                    \
		pg_log_write((level), (err), __VA_ARGS__);            \
} while (0)

#define pg_log_err(err, ...)  pg_log(PG_LOG_ERR, err, __VA_ARGS__)
#define pg_log_warn(err, ...) pg_log(PG_LOG_WARN, err, __VA_ARGS__)
#define pg_log_notice(...)    pg_log(PG_LOG_NOTICE, 0, __VA_ARGS__)
#define pg_log_info(...)      pg_log(PG_LOG_INFO, 0, __VA_ARGS__)
#define pg_log_debug(...)     pg_log(PG_LOG_DEBUG, 0, __VA_ARGS__)

#endif
