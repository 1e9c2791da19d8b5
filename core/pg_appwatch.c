/*
 * The application's files, summed up: a hash over the path, size, inode
 * and modification time of every *.lua file under the app's directory.
 * Polling stat() twice a second over a handful of files costs nothing and
 * needs no inotify watch per directory.
 */
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/pg_appwatch.h"
#include "core/pg_core.h"

#define PG_APPWATCH_DEPTH 4
#define PG_APPWATCH_FILES 4096

struct pg_appwatch {
	char dir[PG_PATH_MAX];
	uint64_t period_ns;
	uint64_t next_ns;
	uint64_t seen;               /* what the last look found */
	uint64_t served;             /* what the workers run */
};

/* FNV-1a, 64 bits. */
static uint64_t
pg_appwatch_mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int
pg_appwatch_is_lua(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".lua") == 0;
}

static uint64_t
pg_appwatch_walk(const char *dir, int depth, uint64_t h, unsigned *files)
{
	char path[PG_PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);
	if (d == NULL)
		return h;
	while ((e = readdir(d)) != NULL && *files < PG_APPWATCH_FILES) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path)
		    || stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth > 0) {
			h = pg_appwatch_walk(path, depth - 1, h, files);
		} else if (S_ISREG(st.st_mode) && pg_appwatch_is_lua(e->d_name)) {
			uint64_t f[4] = { (uint64_t)st.st_size, st.st_ino,
					  (uint64_t)st.st_mtim.tv_sec,
					  (uint64_t)st.st_mtim.tv_nsec };
			/* Order-free: a readdir order change is no change. */
			uint64_t one = pg_appwatch_mix(0xcbf29ce484222325ull,
						       path, strlen(path));
			h += pg_appwatch_mix(one, f, sizeof(f));
			(*files)++;
		}
	}
	closedir(d);
	return h;
}

static uint64_t
pg_appwatch_look(const struct pg_appwatch *aw)
{
	unsigned files = 0;
	return pg_appwatch_walk(aw->dir, PG_APPWATCH_DEPTH, 0, &files);
}

struct pg_appwatch *
pg_appwatch_new(const char *app, unsigned watch_ms)
{
	struct pg_appwatch *aw = calloc(1, sizeof(*aw));
	char copy[PG_PATH_MAX];
	if (aw == NULL)
		return NULL;
	snprintf(copy, sizeof(copy), "%s", app);
	snprintf(aw->dir, sizeof(aw->dir), "%s", dirname(copy));
	aw->period_ns = watch_ms * 1000000ull;
	aw->seen = aw->served = pg_appwatch_look(aw);
	return aw;
}

int
pg_appwatch_poll(struct pg_appwatch *aw, uint64_t now_ns)
{
	if (aw == NULL || now_ns < aw->next_ns)
		return 0;
	aw->next_ns = now_ns + aw->period_ns;
	uint64_t now = pg_appwatch_look(aw);
	int settled = now == aw->seen && now != aw->served;
	aw->seen = now;
	if (settled)
		aw->served = now;
	return settled;
}

void
pg_appwatch_free(struct pg_appwatch *aw)
{
	free(aw);
}
