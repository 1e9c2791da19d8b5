/*
 * Hugepages for the primary: reserve and mount them when the machine has
 * none and we are root; say exactly what to run otherwise. Whatever we
 * reserved or mounted is given back at stop.
 */
#ifndef PG_HUGEPAGES_H
#define PG_HUGEPAGES_H

#include <stddef.h>

struct pg_hugepages {
	unsigned added;          /* 2 MB pages we reserved */
	int mounted;             /* we mounted PG_HUGEPAGES_DIR */
};

#define PG_HUGEPAGES_DIR "/dev/hugepages"

/* Make sure mb megabytes of 2 MB hugepages are free and mounted. */
int pg_hugepages_prepare(struct pg_hugepages *h, unsigned mb, char *err,
			 size_t errlen);

/* Give back what prepare took. */
void pg_hugepages_release(struct pg_hugepages *h);

/* Remove the hugepage files DPDK left for file prefix (in every mount). */
unsigned pg_hugepages_remove_files(const char *prefix);

#endif
