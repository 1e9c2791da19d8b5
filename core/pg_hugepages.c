#include <dirent.h>
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pg_core.h"
#include "core/pg_hugepages.h"
#include "core/pg_log.h"

#define PG_HP_SYS "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static long
pg_hp_read(const char *file)
{
	char path[128];
	long v = -1;
	snprintf(path, sizeof(path), PG_HP_SYS "%s", file);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int
pg_hp_write_nr(long v)
{
	FILE *f = fopen(PG_HP_SYS "nr_hugepages", "w");
	if (f == NULL)
		return PG_ERROR;
	int rc = fprintf(f, "%ld\n", v) > 0 ? PG_OK : PG_ERROR;
	if (fclose(f) != 0)
		rc = PG_ERROR;
	return rc;
}

/* Call fn(dir) for each hugetlbfs mount; stop early when it returns 1. */
static int
pg_hp_mounts(int (*fn)(const char *dir, void *arg), void *arg)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *e;
	int n = 0;
	if (f == NULL)
		return 0;
	while ((e = getmntent(f)) != NULL) {
		if (strcmp(e->mnt_type, "hugetlbfs") != 0)
			continue;
		n++;
		if (fn != NULL && fn(e->mnt_dir, arg))
			break;
	}
	endmntent(f);
	return n;
}

int
pg_hugepages_prepare(struct pg_hugepages *h, unsigned mb, char *err,
		     size_t errlen)
{
	long need = (mb + 1) / 2, nr = pg_hp_read("nr_hugepages");
	long free_pages = pg_hp_read("free_hugepages");
	int root = geteuid() == 0;

	h->added = 0;
	h->mounted = 0;
	if (nr < 0 || free_pages < 0) {
		snprintf(err, errlen, "this kernel offers no 2 MB hugepages "
			 "(%s missing); start with --single", PG_HP_SYS);
		return PG_ERROR;
	}
	if (free_pages < need) {
		if (!root) {
			snprintf(err, errlen, "%ld free 2 MB hugepages, %ld "
				 "needed: as root run 'echo %ld > /proc/sys/vm/"
				 "nr_hugepages' (or start perigee as root, or "
				 "with --single)", free_pages, need,
				 nr + need - free_pages);
			return PG_ERROR;
		}
		long want = nr + need - free_pages;
		if (pg_hp_write_nr(want) != PG_OK
		    || pg_hp_read("free_hugepages") < need) {
			snprintf(err, errlen, "could not reserve %ld 2 MB "
				 "hugepages (the kernel granted %ld)", want,
				 pg_hp_read("nr_hugepages"));
			if (pg_hp_read("nr_hugepages") > nr)
				pg_hp_write_nr(nr);
			return PG_ERROR;
		}
		h->added = (unsigned)(want - nr);
		pg_log_notice("reserved %u hugepages of 2 MB (nr_hugepages "
			      "%ld -> %ld)", h->added, nr, want);
	}
	if (pg_hp_mounts(NULL, NULL) == 0) {
		if (!root) {
			snprintf(err, errlen, "no hugetlbfs is mounted: as root "
				 "run 'mount -t hugetlbfs nodev %s'",
				 PG_HUGEPAGES_DIR);
			pg_hugepages_release(h);
			return PG_ERROR;
		}
		mkdir(PG_HUGEPAGES_DIR, 0755);
		if (mount("nodev", PG_HUGEPAGES_DIR, "hugetlbfs", 0,
			  "pagesize=2M") != 0) {
			snprintf(err, errlen, "mount hugetlbfs on %s: %s",
				 PG_HUGEPAGES_DIR, strerror(errno));
			pg_hugepages_release(h);
			return PG_ERROR;
		}
		h->mounted = 1;
		pg_log_notice("mounted hugetlbfs on %s", PG_HUGEPAGES_DIR);
	}
	return PG_OK;
}

void
pg_hugepages_release(struct pg_hugepages *h)
{
	if (h->mounted && umount(PG_HUGEPAGES_DIR) == 0)
		h->mounted = 0;
	if (h->added > 0) {
		long nr = pg_hp_read("nr_hugepages");
		if (nr >= (long)h->added && pg_hp_write_nr(nr - h->added) == 0)
			pg_log_notice("released %u hugepages", h->added);
		h->added = 0;
	}
}

struct pg_hp_rm {
	const char *prefix;
	unsigned removed;
};

static int
pg_hp_remove_in(const char *dir, void *arg)
{
	struct pg_hp_rm *r = arg;
	size_t plen = strlen(r->prefix);
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, r->prefix, plen) != 0
		    || strncmp(e->d_name + plen, "map_", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			r->removed++;
	}
	closedir(d);
	return 0;
}

unsigned
pg_hugepages_remove_files(const char *prefix)
{
	struct pg_hp_rm r = { prefix, 0 };
	pg_hp_mounts(pg_hp_remove_in, &r);
	return r.removed;
}
