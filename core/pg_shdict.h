/*
 * Shared dictionaries: `perigee.shared("name")`. Each dictionary is one
 * memzone (PG_SHM_SHDICT_FMT) created by the primary at start and looked
 * up by name by the workers, so its contents outlive a reload and a worker
 * restart. Every operation is atomic across processes.
 *
 * Layout (nothing but offsets inside): a header, a hash table of 32-bit
 * bucket heads, then the arena. The arena is a sequence of blocks, each
 * starting with a 48-byte node header that holds its own size and the size
 * of the block before it (boundary tags), so free blocks coalesce with
 * their neighbours and a dictionary emptied by deletes is one free block
 * again. Keys hash with SipHash under a random key per dictionary (keys
 * come from clients). Free blocks sit in 32 lists by power of two of their size; a live
 * block holds one item (key bytes, then the value) and sits on its hash
 * chain and on the LRU list. Offsets count 16-byte units from the start of
 * the memzone: 32 bits address 64 GB.
 *
 * When an item does not fit, set/add/replace/incr first drop expired items
 * from the cold end of the LRU list, then evict live ones from that end
 * until the block fits; evicting a live item sets *forcible and counts in
 * the dictionary's evictions.
 *
 * Locking. One spinlock per dictionary whose word is the holder's thread
 * id (the pid of a single-threaded worker). Critical sections are short
 * (no system call, no allocation outside the arena) and a killed holder is
 * recovered twice over:
 *   - the primary, reaping a dead worker, calls pg_shdict_recover_all(pid);
 *   - a waiter that spun for a while checks kill(holder, 0) and takes the
 *     lock over when the holder is gone (ESRCH; a zombie still counts as
 *     alive until its parent reaps it, which the primary does at once).
 * The new holder cannot trust what the dead one left half done, so it
 * rebuilds everything derivable from the arena walk: hash chains, LRU
 * list (in arena order), free lists, counters. Writes are ordered so that
 * the walk always sees whole blocks: a block's size is one 32-bit store,
 * a split writes the remainder's header before shrinking the block, and an
 * item is marked live only once its key and value are in place (a half
 * written item is freed). If the walk finds a block size that does not
 * add up (it should not happen), the dictionary is emptied rather than
 * trusted. The count of recoveries is in the statistics.
 *
 * Calling convention (LuaJIT FFI, lua-resty-core style): functions return
 * PG_OK, PG_DECLINED (not found / exists, with *err saying which) or
 * PG_ERROR with *err a static string; PG_AGAIN asks for a bigger buffer.
 */
#ifndef PG_SHDICT_H
#define PG_SHDICT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/pg_config.h"

#define PG_SHDICT_KEY_MAX   65535          /* bytes of a key */
#define PG_SHDICT_SIZE_MIN  (16u << 10)    /* of a whole dictionary */
#define PG_SHDICT_SIZE_MAX  (32ull << 30)

/* Value types, numbered as Lua numbers its types (lua.h LUA_T*). */
enum pg_shdict_type {
	PG_SHDICT_NIL = 0,
	PG_SHDICT_BOOLEAN = 1,
	PG_SHDICT_NUMBER = 3,
	PG_SHDICT_STRING = 4,
};

/*
 * A value going in or coming out. For a string in, str/len name the bytes
 * (binary-safe); out, they are copied into the caller's buffer. boolean is
 * 0 or 1. flags are the user's, stored beside the value as OpenResty does.
 */
struct pg_shdict_value {
	int type;                    /* enum pg_shdict_type */
	const char *str;
	size_t len;
	double num;
	int boolean;
	uint32_t flags;
};

struct pg_shdict_stats {
	uint64_t capacity;           /* bytes of the arena */
	uint64_t free;               /* bytes of it in free blocks */
	uint64_t items;
	uint64_t evictions;          /* live items pushed out by a store */
	uint64_t expired;            /* items dropped after their TTL */
	uint64_t recoveries;         /* locks taken over from a dead holder */
};

struct pg_shdict_hdr;

/* A process's handle on one dictionary (process memory). */
struct pg_shdict {
	char name[PG_SHDICT_NAME_MAX];
	struct pg_shdict_hdr *hdr;   /* == the start of the shared memory */
	const void *mz;              /* its memzone, NULL when not one */
};

/* --- set up -------------------------------------------------------------- */

/*
 * Lay a new empty dictionary over size bytes at mem (16-byte aligned) and
 * fill d. Fails only when size is below PG_SHDICT_SIZE_MIN or above
 * PG_SHDICT_SIZE_MAX.
 */
int pg_shdict_init(struct pg_shdict *d, const char *name, void *mem,
		   size_t size, const char **err);

/* Fill d for a dictionary pg_shdict_init laid at mem (in any process). */
int pg_shdict_attach(struct pg_shdict *d, const char *name, void *mem,
		     const char **err);

/*
 * The memzones of cfg->shdicts: the primary creates them (after EAL init),
 * a worker looks them up. Either fills the process's registry, which
 * pg_shdict_find reads; attaching again is a no-op (single-process mode).
 * pg_shdict_free_all frees the memzones (primary, at stop).
 */
int pg_shdict_create_all(const struct pg_config *cfg, const char **err);
int pg_shdict_attach_all(const struct pg_config *cfg, const char **err);
void pg_shdict_free_all(void);

/* The dictionary called name in this process, or NULL. */
struct pg_shdict *pg_shdict_find(const char *name);

/* The registry by index, for status: NULL past the last one. */
struct pg_shdict *pg_shdict_at(unsigned i);

/*
 * The process pid died: take over and repair every dictionary lock it
 * held. Returns how many. Called by the primary when it reaps a worker.
 */
unsigned pg_shdict_recover_all(pid_t pid);
int pg_shdict_recover(struct pg_shdict *d, pid_t pid);

/*
 * Replace the clock (milliseconds; default CLOCK_MONOTONIC, which every
 * process shares) for this process. NULL restores it. Tests only.
 */
void pg_shdict_set_clock(uint64_t (*now_ms)(void));

/* --- operations ---------------------------------------------------------- */

/*
 * Look key up. A string value is copied into buf: when it is longer than
 * buflen, returns PG_AGAIN with v->len set to the size needed (call again
 * with a bigger buffer). Not found or expired: PG_DECLINED. A hit makes
 * the item the most recently used.
 */
int pg_shdict_get(struct pg_shdict *d, const char *key, size_t klen,
		  struct pg_shdict_value *v, char *buf, size_t buflen,
		  const char **err);

/*
 * Store v under key with a time to live of ttl_ms (0: forever).
 * set:     always (a NIL value deletes the key).
 * add:     only if the key is absent (or expired): PG_DECLINED "exists".
 * replace: only if it is present: PG_DECLINED "not found".
 * *forcible (may be NULL) tells whether live items were evicted for room.
 * PG_ERROR "no memory" when the item cannot fit even in an empty arena.
 */
int pg_shdict_set(struct pg_shdict *d, const char *key, size_t klen,
		  const struct pg_shdict_value *v, uint64_t ttl_ms,
		  int *forcible, const char **err);
int pg_shdict_add(struct pg_shdict *d, const char *key, size_t klen,
		  const struct pg_shdict_value *v, uint64_t ttl_ms,
		  int *forcible, const char **err);
int pg_shdict_replace(struct pg_shdict *d, const char *key, size_t klen,
		      const struct pg_shdict_value *v, uint64_t ttl_ms,
		      int *forcible, const char **err);

/*
 * Add delta to the number under key and store the sum in *out. An absent
 * key is PG_DECLINED "not found" unless has_init: then it is created as
 * init + delta with init_ttl_ms. PG_ERROR "not a number" for other types.
 * The item keeps its TTL.
 */
int pg_shdict_incr(struct pg_shdict *d, const char *key, size_t klen,
		   double delta, int has_init, double init,
		   uint64_t init_ttl_ms, double *out, int *forcible,
		   const char **err);

/* Remove key: PG_OK, or PG_DECLINED when it was not there. */
int pg_shdict_delete(struct pg_shdict *d, const char *key, size_t klen,
		     const char **err);

/*
 * Remaining time to live of key in *ttl_ms, 0 when it never expires;
 * PG_DECLINED when not found.
 */
int pg_shdict_ttl(struct pg_shdict *d, const char *key, size_t klen,
		  uint64_t *ttl_ms, const char **err);

/* Give key a new time to live (0: forever); PG_DECLINED when not found. */
int pg_shdict_expire(struct pg_shdict *d, const char *key, size_t klen,
		     uint64_t ttl_ms, const char **err);

/* Remove every item. */
void pg_shdict_flush_all(struct pg_shdict *d);

/* Remove up to max expired items (0: all); returns how many. */
unsigned pg_shdict_flush_expired(struct pg_shdict *d, unsigned max);

/*
 * The keys of live items, most recently used first, at most max of them
 * (0: all), written into buf as a 2-byte length (host order) followed by
 * the key bytes. Returns how many keys, or PG_AGAIN with *used the bytes
 * needed when buflen is too small. Does not touch the LRU order.
 */
int pg_shdict_keys(struct pg_shdict *d, unsigned max, char *buf,
		   size_t buflen, size_t *used);

/* Capacity and free bytes of the arena, and the counters. Lock-free. */
void pg_shdict_stats(const struct pg_shdict *d, struct pg_shdict_stats *st);
uint64_t pg_shdict_free_space(const struct pg_shdict *d);
uint64_t pg_shdict_capacity(const struct pg_shdict *d);

#endif
