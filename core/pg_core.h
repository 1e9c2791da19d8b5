/*
 * Perigee core definitions shared by every layer: the return codes, the
 * limits that size shared structures, and a few helpers.
 */
#ifndef PG_CORE_H
#define PG_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "pg_auto_config.h"

/* One set of return codes for every layer. */
#define PG_OK        0
#define PG_ERROR    -1
#define PG_AGAIN    -2
#define PG_DECLINED -3
#define PG_DONE     -4

/* Sizes of structures that live in shared memory (no pointers there). */
#define PG_MAX_WORKERS   16
#define PG_MAX_DEVICES   4
#define PG_MAX_EAL_ARGS  16
#define PG_MAX_LISTEN    16
#define PG_MAX_CERTS     4          /* per TLS listener (SNI) */
#define PG_PATH_MAX      256
#define PG_NAME_MAX      32
#define PG_ARG_MAX       128
#define PG_MAX_SHDICTS   16
/* "pg_shdict_" + name must fit RTE_MEMZONE_NAMESIZE (32) */
#define PG_SHDICT_NAME_MAX 22

#define PG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define pg_likely(x)   __builtin_expect(!!(x), 1)
#define pg_unlikely(x) __builtin_expect(!!(x), 0)

#endif
