/*
 * Shared dictionaries, the inside: the layout of the memzone, for
 * pg_shdict.c and its unit tests. See pg_shdict.h for the design.
 */
#ifndef PG_SHDICT_PRIV_H
#define PG_SHDICT_PRIV_H

#include <stdint.h>

#include "core/pg_shdict.h"

#define PG_SHDICT_MAGIC       0x3174636468736770ull   /* "pgshdct1" */
#define PG_SHDICT_UNIT        16
#define PG_SHDICT_NCLASS      32
#define PG_SHDICT_SPLIT_MIN   4        /* units of the smallest remainder */
#define PG_SHDICT_FIT_SCAN    16       /* first-fit tries in the exact class */
#define PG_SHDICT_SWEEP       30       /* expired items dropped before evicting */
#define PG_SHDICT_SPIN_CHECK  (1u << 16) /* spins between holder checks */
#define PG_SHDICT_BUCKET_SIZE 256      /* arena bytes per hash bucket */

enum pg_shdict_state {
	PG_SHDICT_FREE,              /* on a free list */
	PG_SHDICT_BUSY,              /* taken, being written or unlinked */
	PG_SHDICT_LIVE,              /* an item on its chain and the LRU */
};

/* The header of every arena block: 48 bytes, 3 units. */
struct pg_shdict_node {
	uint32_t size;               /* units, this header included */
	uint32_t prev_size;          /* units of the block before, 0: first */
	uint32_t state;              /* enum pg_shdict_state */
	uint32_t hash;
	union {
		struct {             /* live */
			uint32_t hnext;
			uint32_t lru_prev;   /* towards the most recent */
			uint32_t lru_next;   /* towards the least recent */
		};
		struct {             /* free */
			uint32_t fnext;
			uint32_t fprev;
		};
	};
	uint32_t vlen;
	uint64_t expire_ms;          /* 0: never */
	uint32_t flags;
	uint16_t klen;
	uint8_t type;
	uint8_t pad;
	/* key bytes, then value bytes */
};

_Static_assert(sizeof(struct pg_shdict_node) == 3 * PG_SHDICT_UNIT,
	       "a node header is three units");

/* Everything but the lock word is written by its holder only. */
struct pg_shdict_hdr {
	uint64_t magic;
	uint64_t lock;               /* pid << 32 | tid of the holder, 0: free */
	uint64_t size;               /* bytes of the memzone */
	uint64_t hash_key[2];        /* SipHash key, random per dictionary */
	uint32_t nbuckets;           /* a power of two */
	uint32_t buckets;            /* unit of the bucket array */
	uint32_t arena;              /* first unit of the arena */
	uint32_t arena_end;          /* the unit past it */
	uint32_t lru_head;           /* most recently used */
	uint32_t lru_tail;
	uint32_t free_head[PG_SHDICT_NCLASS];
	uint64_t free_units;
	uint64_t items;
	uint64_t evictions;
	uint64_t expired;
	uint64_t recoveries;
} __attribute__((aligned(64)));

/*
 * The dictionary lock (see pg_shdict.h): taking it over from a dead holder
 * rebuilds the dictionary first.
 */
void pg_shdict_lock(struct pg_shdict_hdr *h);
void pg_shdict_unlock(struct pg_shdict_hdr *h);

#endif
