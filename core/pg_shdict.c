/*
 * Shared dictionaries. Layout, eviction and locking are described in
 * pg_shdict.h.
 *
 *   pg_shdict_set/add/replace -> pg_shdict_store -> pg_shdict_insert
 *     -> pg_shdict_alloc_evict -> pg_shdict_alloc -> pg_shdict_split
 *   pg_shdict_delete -> pg_shdict_remove -> pg_shdict_blk_free (coalesce)
 *   pg_shdict_lock -> (holder dead) pg_shdict_rebuild
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_pause.h>

#include "core/pg_log.h"
#include "core/pg_shdict_priv.h"
#include "core/pg_shm.h"
#include "core/pg_siphash.h"

/* --- clock, identity ----------------------------------------------------- */

static uint64_t
pg_shdict_clock_default(void)
{
	return pg_now_ns() / 1000000;
}

static uint64_t (*pg_shdict_now_ms)(void) = pg_shdict_clock_default;

void
pg_shdict_set_clock(uint64_t (*now_ms)(void))
{
	pg_shdict_now_ms = now_ms != NULL ? now_ms : pg_shdict_clock_default;
}

static __thread uint64_t pg_shdict_self_id;
static pthread_once_t pg_shdict_once = PTHREAD_ONCE_INIT;

/* A forked child is another holder: forget the parent's identity. */
static void
pg_shdict_forked(void)
{
	pg_shdict_self_id = 0;
}

static void
pg_shdict_register_fork(void)
{
	pthread_atfork(NULL, NULL, pg_shdict_forked);
}

static uint64_t
pg_shdict_self(void)
{
	if (pg_unlikely(pg_shdict_self_id == 0))
		pg_shdict_self_id = (uint64_t)getpid() << 32
				    | (uint32_t)gettid();
	return pg_shdict_self_id;
}

/* Is the thread behind a lock word gone? (A zombie is not gone yet.) */
static int
pg_shdict_holder_dead(uint64_t id)
{
	return syscall(SYS_tgkill, (pid_t)(id >> 32), (pid_t)(uint32_t)id, 0)
	       != 0 && errno == ESRCH;
}

/* --- addressing ---------------------------------------------------------- */

static inline struct pg_shdict_node *
pg_shdict_node(struct pg_shdict_hdr *h, uint32_t off)
{
	return (struct pg_shdict_node *)((char *)h
					 + (size_t)off * PG_SHDICT_UNIT);
}

static inline uint32_t *
pg_shdict_buckets(struct pg_shdict_hdr *h)
{
	return (uint32_t *)((char *)h + (size_t)h->buckets * PG_SHDICT_UNIT);
}

static inline char *
pg_shdict_key(struct pg_shdict_node *n)
{
	return (char *)(n + 1);
}

static inline char *
pg_shdict_val(struct pg_shdict_node *n)
{
	return (char *)(n + 1) + n->klen;
}

static inline uint32_t
pg_shdict_units(size_t bytes)
{
	return (uint32_t)((bytes + PG_SHDICT_UNIT - 1) / PG_SHDICT_UNIT);
}

static inline unsigned
pg_shdict_class(uint32_t units)
{
	return 31u - (unsigned)__builtin_clz(units);
}

static inline int
pg_shdict_expired(const struct pg_shdict_node *n, uint64_t now)
{
	return n->expire_ms != 0 && n->expire_ms <= now;
}

/* --- the lock ------------------------------------------------------------ */

static void pg_shdict_rebuild(struct pg_shdict_hdr *h);

void
pg_shdict_lock(struct pg_shdict_hdr *h)
{
	uint64_t me = pg_shdict_self(), cur;
	unsigned spins = 0;

	for (;;) {
		cur = 0;
		if (__atomic_compare_exchange_n(&h->lock, &cur, me, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		while ((cur = __atomic_load_n(&h->lock, __ATOMIC_RELAXED)) != 0) {
			if (++spins % PG_SHDICT_SPIN_CHECK == 0
			    && pg_shdict_holder_dead(cur)
			    && __atomic_compare_exchange_n(&h->lock, &cur, me, 0,
							   __ATOMIC_ACQUIRE,
							   __ATOMIC_RELAXED)) {
				pg_shdict_rebuild(h);
				return;
			}
			rte_pause();
		}
	}
}

void
pg_shdict_unlock(struct pg_shdict_hdr *h)
{
	__atomic_store_n(&h->lock, 0, __ATOMIC_RELEASE);
}

/* --- free blocks --------------------------------------------------------- */

static void
pg_shdict_free_link(struct pg_shdict_hdr *h, uint32_t off)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	uint32_t *head = &h->free_head[pg_shdict_class(n->size)];
	n->state = PG_SHDICT_FREE;
	n->fprev = 0;
	n->fnext = *head;
	if (*head != 0)
		pg_shdict_node(h, *head)->fprev = off;
	*head = off;
}

static void
pg_shdict_free_unlink(struct pg_shdict_hdr *h, uint32_t off)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	if (n->fprev != 0)
		pg_shdict_node(h, n->fprev)->fnext = n->fnext;
	else
		h->free_head[pg_shdict_class(n->size)] = n->fnext;
	if (n->fnext != 0)
		pg_shdict_node(h, n->fnext)->fprev = n->fprev;
	n->state = PG_SHDICT_BUSY;
}

/* Tell the block after off how big off is now. */
static void
pg_shdict_fix_next(struct pg_shdict_hdr *h, uint32_t off)
{
	uint32_t next = off + pg_shdict_node(h, off)->size;
	if (next < h->arena_end)
		pg_shdict_node(h, next)->prev_size = pg_shdict_node(h, off)->size;
}

/* Return a taken block, merged with the free blocks on either side. */
static void
pg_shdict_blk_free(struct pg_shdict_hdr *h, uint32_t off)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	uint32_t next = off + n->size;

	h->free_units += n->size;
	if (next < h->arena_end
	    && pg_shdict_node(h, next)->state == PG_SHDICT_FREE) {
		pg_shdict_free_unlink(h, next);
		n->size += pg_shdict_node(h, next)->size;
	}
	if (n->prev_size != 0) {
		uint32_t prev = off - n->prev_size;
		struct pg_shdict_node *p = pg_shdict_node(h, prev);
		if (p->state == PG_SHDICT_FREE) {
			pg_shdict_free_unlink(h, prev);
			p->size += n->size;
			off = prev;
		}
	}
	pg_shdict_fix_next(h, off);
	pg_shdict_free_link(h, off);
}

/*
 * Cut need units off the free block off. The remainder's header is
 * written before the block shrinks, so a walk of the arena always steps
 * over whole blocks (see the recovery in pg_shdict.h).
 */
static void
pg_shdict_split(struct pg_shdict_hdr *h, uint32_t off, uint32_t need)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	if (n->size - need < PG_SHDICT_SPLIT_MIN)
		return;
	uint32_t rest = off + need;
	struct pg_shdict_node *r = pg_shdict_node(h, rest);
	r->size = n->size - need;
	r->prev_size = need;
	r->state = PG_SHDICT_BUSY;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&n->size, need, __ATOMIC_RELAXED);
	pg_shdict_fix_next(h, rest);
	pg_shdict_free_link(h, rest);
}

/* A block of at least need units, or 0. */
static uint32_t
pg_shdict_alloc(struct pg_shdict_hdr *h, uint32_t need)
{
	unsigned c = pg_shdict_class(need), tries = 0;
	uint32_t off = h->free_head[c];

	while (off != 0 && pg_shdict_node(h, off)->size < need
	       && ++tries < PG_SHDICT_FIT_SCAN)
		off = pg_shdict_node(h, off)->fnext;
	if (off == 0 || pg_shdict_node(h, off)->size < need) {
		off = 0;
		for (c++; c < PG_SHDICT_NCLASS && off == 0; c++)
			off = h->free_head[c];
	}
	if (off == 0)
		return 0;
	pg_shdict_free_unlink(h, off);
	pg_shdict_split(h, off, need);
	h->free_units -= pg_shdict_node(h, off)->size;
	return off;
}

/* --- items --------------------------------------------------------------- */

static void
pg_shdict_lru_unlink(struct pg_shdict_hdr *h, struct pg_shdict_node *n)
{
	if (n->lru_prev != 0)
		pg_shdict_node(h, n->lru_prev)->lru_next = n->lru_next;
	else
		h->lru_head = n->lru_next;
	if (n->lru_next != 0)
		pg_shdict_node(h, n->lru_next)->lru_prev = n->lru_prev;
	else
		h->lru_tail = n->lru_prev;
}

static void
pg_shdict_lru_push(struct pg_shdict_hdr *h, uint32_t off, int front)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	uint32_t *end = front ? &h->lru_head : &h->lru_tail;
	uint32_t *other = front ? &h->lru_tail : &h->lru_head;
	n->lru_prev = front ? 0 : *end;
	n->lru_next = front ? *end : 0;
	if (*end != 0) {
		struct pg_shdict_node *e = pg_shdict_node(h, *end);
		if (front)
			e->lru_prev = off;
		else
			e->lru_next = off;
	} else {
		*other = off;
	}
	*end = off;
}

static void
pg_shdict_touch(struct pg_shdict_hdr *h, uint32_t off)
{
	if (h->lru_head == off)
		return;
	pg_shdict_lru_unlink(h, pg_shdict_node(h, off));
	pg_shdict_lru_push(h, off, 1);
}

static uint32_t
pg_shdict_hash(const struct pg_shdict_hdr *h, const char *key, size_t klen)
{
	return (uint32_t)pg_siphash(h->hash_key, key, klen);
}

static uint32_t
pg_shdict_lookup(struct pg_shdict_hdr *h, const char *key, size_t klen,
		 uint32_t hash)
{
	uint32_t off = pg_shdict_buckets(h)[hash & (h->nbuckets - 1)];
	while (off != 0) {
		struct pg_shdict_node *n = pg_shdict_node(h, off);
		if (n->hash == hash && n->klen == klen
		    && memcmp(pg_shdict_key(n), key, klen) == 0)
			return off;
		off = n->hnext;
	}
	return 0;
}

/* Take the item off its chain and the LRU list and free its block. */
static void
pg_shdict_remove(struct pg_shdict_hdr *h, uint32_t off)
{
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	uint32_t *link = &pg_shdict_buckets(h)[n->hash & (h->nbuckets - 1)];
	while (*link != off)
		link = &pg_shdict_node(h, *link)->hnext;
	n->state = PG_SHDICT_BUSY;
	*link = n->hnext;
	pg_shdict_lru_unlink(h, n);
	h->items--;
	pg_shdict_blk_free(h, off);
}

/* The live item under key, or 0; an expired one is dropped on the way. */
static uint32_t
pg_shdict_find_live(struct pg_shdict_hdr *h, const char *key, size_t klen,
		    uint32_t hash, uint64_t now)
{
	uint32_t off = pg_shdict_lookup(h, key, klen, hash);
	if (off != 0 && pg_shdict_expired(pg_shdict_node(h, off), now)) {
		pg_shdict_remove(h, off);
		h->expired++;
		off = 0;
	}
	return off;
}

/*
 * A block of need units, making room when the arena is full: expired items
 * from the cold end first, then live ones (*forcible, evictions).
 */
static uint32_t
pg_shdict_alloc_evict(struct pg_shdict_hdr *h, uint32_t need, uint64_t now,
		      int *forcible)
{
	uint32_t off;
	if (need > h->arena_end - h->arena)
		return 0;
	if ((off = pg_shdict_alloc(h, need)) != 0)
		return off;
	uint32_t cur = h->lru_tail;
	for (unsigned i = 0; cur != 0 && i < PG_SHDICT_SWEEP; i++) {
		uint32_t prev = pg_shdict_node(h, cur)->lru_prev;
		if (pg_shdict_expired(pg_shdict_node(h, cur), now)) {
			pg_shdict_remove(h, cur);
			h->expired++;
		}
		cur = prev;
	}
	while ((off = pg_shdict_alloc(h, need)) == 0 && h->lru_tail != 0) {
		pg_shdict_remove(h, h->lru_tail);
		h->evictions++;
		*forcible = 1;
	}
	return off;
}

/* The bytes that represent v in the arena. */
static int
pg_shdict_encode(const struct pg_shdict_value *v, const void **bytes,
		 size_t *len, uint8_t *b, const char **err)
{
	switch (v->type) {
	case PG_SHDICT_STRING:
		*bytes = v->str;
		*len = v->len;
		if (v->len <= UINT32_MAX - PG_SHDICT_KEY_MAX)
			return PG_OK;
		*err = "value too large";
		return PG_ERROR;
	case PG_SHDICT_NUMBER:
		*bytes = &v->num;
		*len = sizeof(double);
		return PG_OK;
	case PG_SHDICT_BOOLEAN:
		*b = v->boolean != 0;
		*bytes = b;
		*len = 1;
		return PG_OK;
	}
	*err = "bad value type";
	return PG_ERROR;
}

/* Write a new item (the key must be absent). Returns its block or 0. */
static uint32_t
pg_shdict_insert(struct pg_shdict_hdr *h, const char *key, size_t klen,
		 uint32_t hash, int type, const void *val, size_t vlen,
		 uint32_t flags, uint64_t ttl_ms, uint64_t now, int *forcible)
{
	uint32_t need = pg_shdict_units(sizeof(struct pg_shdict_node) + klen
					+ vlen);
	uint32_t off = pg_shdict_alloc_evict(h, need, now, forcible);
	if (off == 0)
		return 0;
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	uint32_t *bucket = &pg_shdict_buckets(h)[hash & (h->nbuckets - 1)];
	n->hash = hash;
	n->klen = (uint16_t)klen;
	n->vlen = (uint32_t)vlen;
	n->type = (uint8_t)type;
	n->flags = flags;
	n->expire_ms = ttl_ms != 0 ? now + ttl_ms : 0;
	memcpy(pg_shdict_key(n), key, klen);
	if (vlen != 0)
		memcpy(pg_shdict_val(n), val, vlen);
	n->hnext = *bucket;
	*bucket = off;
	pg_shdict_lru_push(h, off, 1);
	h->items++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	n->state = PG_SHDICT_LIVE;
	return off;
}

/* --- layout and recovery ------------------------------------------------- */

/* Empty the dictionary: no item, one free block. */
static void
pg_shdict_reset(struct pg_shdict_hdr *h)
{
	memset(pg_shdict_buckets(h), 0, (size_t)h->nbuckets * sizeof(uint32_t));
	memset(h->free_head, 0, sizeof(h->free_head));
	h->lru_head = h->lru_tail = 0;
	h->items = 0;
	struct pg_shdict_node *n = pg_shdict_node(h, h->arena);
	n->size = h->arena_end - h->arena;
	n->prev_size = 0;
	h->free_units = n->size;
	pg_shdict_free_link(h, h->arena);
}

/* Would the node at off keep a sane item? */
static int
pg_shdict_node_sane(struct pg_shdict_hdr *h, struct pg_shdict_node *n)
{
	return n->state == PG_SHDICT_LIVE
	       && (n->type == PG_SHDICT_STRING || n->type == PG_SHDICT_NUMBER
		   || n->type == PG_SHDICT_BOOLEAN)
	       && n->klen > 0
	       && sizeof(*n) + n->klen + (uint64_t)n->vlen
		  <= (uint64_t)n->size * PG_SHDICT_UNIT
	       && n->hash == pg_shdict_hash(h, pg_shdict_key(n), n->klen)
	       && pg_shdict_lookup(h, pg_shdict_key(n), n->klen, n->hash) == 0;
}

/*
 * Derive everything again from a walk of the arena, after a holder died
 * in the middle of who knows what: the live items are kept (in arena
 * order on the LRU list), everything else becomes free and coalesces.
 */
static void
pg_shdict_rebuild(struct pg_shdict_hdr *h)
{
	uint32_t off, run = 0, prev_size = 0;

	h->recoveries++;
	for (off = h->arena; off < h->arena_end;) {
		uint32_t size = pg_shdict_node(h, off)->size;
		if (size < sizeof(struct pg_shdict_node) / PG_SHDICT_UNIT
		    || size > h->arena_end - off) {
			pg_log_warn(0, "shared dictionary: arena damaged at "
				    "unit %u; emptied", off);
			pg_shdict_reset(h);
			return;
		}
		off += size;
	}
	memset(pg_shdict_buckets(h), 0, (size_t)h->nbuckets * sizeof(uint32_t));
	memset(h->free_head, 0, sizeof(h->free_head));
	h->lru_head = h->lru_tail = 0;
	h->items = 0;
	h->free_units = 0;
	for (off = h->arena; off < h->arena_end;) {
		struct pg_shdict_node *n = pg_shdict_node(h, off);
		uint32_t size = n->size;
		n->prev_size = prev_size;
		if (pg_shdict_node_sane(h, n)) {
			uint32_t *b = &pg_shdict_buckets(h)[n->hash
							   & (h->nbuckets - 1)];
			n->hnext = *b;
			*b = off;
			pg_shdict_lru_push(h, off, 0);
			h->items++;
			run = 0;
			prev_size = size;
		} else if (run != 0) {
			pg_shdict_node(h, run)->size += size;
			prev_size = pg_shdict_node(h, run)->size;
		} else {
			run = off;
			n->state = PG_SHDICT_FREE;
			prev_size = size;
		}
		off += size;
	}
	for (off = h->arena; off < h->arena_end;) {
		struct pg_shdict_node *n = pg_shdict_node(h, off);
		if (n->state == PG_SHDICT_FREE) {
			pg_shdict_free_link(h, off);
			h->free_units += n->size;
		}
		off += n->size;
	}
}

int
pg_shdict_init(struct pg_shdict *d, const char *name, void *mem,
	       size_t size, const char **err)
{
	struct pg_shdict_hdr *h = mem;

	if (size < PG_SHDICT_SIZE_MIN || size > PG_SHDICT_SIZE_MAX) {
		*err = "dictionary size out of range";
		return PG_ERROR;
	}
	memset(h, 0, sizeof(*h));
	h->size = size;
	if (getrandom(h->hash_key, sizeof(h->hash_key), 0)
	    != sizeof(h->hash_key)) {
		*err = "getrandom() failed";
		return PG_ERROR;
	}
	uint64_t units = size / PG_SHDICT_UNIT;
	uint32_t nb = 64;
	while ((uint64_t)nb * PG_SHDICT_BUCKET_SIZE < size && nb < (1u << 30))
		nb <<= 1;
	h->nbuckets = nb;
	h->buckets = pg_shdict_units(sizeof(*h));
	h->arena = h->buckets + pg_shdict_units((size_t)nb * sizeof(uint32_t));
	h->arena_end = (uint32_t)units;
	pg_shdict_reset(h);
	h->magic = PG_SHDICT_MAGIC;
	return pg_shdict_attach(d, name, mem, err);
}

int
pg_shdict_attach(struct pg_shdict *d, const char *name, void *mem,
		 const char **err)
{
	struct pg_shdict_hdr *h = mem;
	if (h->magic != PG_SHDICT_MAGIC) {
		*err = "not a shared dictionary of this version";
		return PG_ERROR;
	}
	pthread_once(&pg_shdict_once, pg_shdict_register_fork);
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->hdr = h;
	return PG_OK;
}

int
pg_shdict_recover(struct pg_shdict *d, pid_t pid)
{
	struct pg_shdict_hdr *h = d->hdr;
	uint64_t cur = __atomic_load_n(&h->lock, __ATOMIC_ACQUIRE);
	if (cur == 0 || (pid_t)(cur >> 32) != pid
	    || !__atomic_compare_exchange_n(&h->lock, &cur, pg_shdict_self(),
					    0, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED))
		return 0;
	pg_shdict_rebuild(h);
	pg_shdict_unlock(h);
	return 1;
}

/* --- the registry (process memory) --------------------------------------- */

static struct pg_shdict pg_shdict_reg[PG_MAX_SHDICTS];
static unsigned pg_shdict_nreg;

int
pg_shdict_create_all(const struct pg_config *cfg, const char **err)
{
	char mzname[RTE_MEMZONE_NAMESIZE];

	for (unsigned i = 0; i < cfg->nshdicts; i++) {
		const struct pg_shdict_conf *sc = &cfg->shdicts[i];
		snprintf(mzname, sizeof(mzname), PG_SHM_SHDICT_FMT, sc->name);
		const struct rte_memzone *mz = rte_memzone_reserve(mzname,
				sc->size, SOCKET_ID_ANY, 0);
		if (mz == NULL) {
			pg_log_err(rte_errno, "shared dictionary '%s': cannot "
				   "reserve %lu bytes: %s (raise 'hugepages')",
				   sc->name, (unsigned long)sc->size,
				   rte_strerror(rte_errno));
			*err = "cannot reserve a shared dictionary";
			return PG_ERROR;
		}
		struct pg_shdict *d = &pg_shdict_reg[pg_shdict_nreg];
		if (pg_shdict_init(d, sc->name, mz->addr, sc->size, err)
		    != PG_OK) {
			rte_memzone_free(mz);
			return PG_ERROR;
		}
		d->mz = mz;
		pg_shdict_nreg++;
	}
	return PG_OK;
}

int
pg_shdict_attach_all(const struct pg_config *cfg, const char **err)
{
	char mzname[RTE_MEMZONE_NAMESIZE];

	if (pg_shdict_nreg != 0)
		return PG_OK;
	for (unsigned i = 0; i < cfg->nshdicts; i++) {
		snprintf(mzname, sizeof(mzname), PG_SHM_SHDICT_FMT,
			 cfg->shdicts[i].name);
		const struct rte_memzone *mz = rte_memzone_lookup(mzname);
		if (mz == NULL) {
			*err = "shared dictionary memzone not found";
			return PG_ERROR;
		}
		struct pg_shdict *d = &pg_shdict_reg[pg_shdict_nreg];
		if (pg_shdict_attach(d, cfg->shdicts[i].name, mz->addr, err)
		    != PG_OK)
			return PG_ERROR;
		d->mz = mz;
		pg_shdict_nreg++;
	}
	return PG_OK;
}

void
pg_shdict_free_all(void)
{
	for (unsigned i = 0; i < pg_shdict_nreg; i++)
		if (pg_shdict_reg[i].mz != NULL)
			rte_memzone_free(pg_shdict_reg[i].mz);
	pg_shdict_nreg = 0;
}

struct pg_shdict *
pg_shdict_find(const char *name)
{
	for (unsigned i = 0; i < pg_shdict_nreg; i++)
		if (strcmp(pg_shdict_reg[i].name, name) == 0)
			return &pg_shdict_reg[i];
	return NULL;
}

struct pg_shdict *
pg_shdict_at(unsigned i)
{
	return i < pg_shdict_nreg ? &pg_shdict_reg[i] : NULL;
}

unsigned
pg_shdict_recover_all(pid_t pid)
{
	unsigned n = 0;
	for (unsigned i = 0; i < pg_shdict_nreg; i++)
		n += (unsigned)pg_shdict_recover(&pg_shdict_reg[i], pid);
	return n;
}

/* --- operations ---------------------------------------------------------- */

static int
pg_shdict_key_ok(const char *key, size_t klen, const char **err)
{
	if (klen == 0 || key == NULL) {
		*err = "empty key";
		return 0;
	}
	if (klen > PG_SHDICT_KEY_MAX) {
		*err = "key too long";
		return 0;
	}
	return 1;
}

enum pg_shdict_mode { PG_SHDICT_SET, PG_SHDICT_ADD, PG_SHDICT_REPLACE };

static int
pg_shdict_store(struct pg_shdict *d, const char *key, size_t klen,
		const struct pg_shdict_value *v, uint64_t ttl_ms, int mode,
		int *forcible, const char **err)
{
	struct pg_shdict_hdr *h = d->hdr;
	const void *bytes = NULL;
	size_t len = 0;
	uint8_t b;
	int dummy, rc = PG_OK;

	if (forcible == NULL)
		forcible = &dummy;
	*forcible = 0;
	if (!pg_shdict_key_ok(key, klen, err))
		return PG_ERROR;
	if (!(v->type == PG_SHDICT_NIL && mode == PG_SHDICT_SET)
	    && pg_shdict_encode(v, &bytes, &len, &b, err) != PG_OK)
		return PG_ERROR;
	uint32_t hash = pg_shdict_hash(d->hdr, key, klen);

	pg_shdict_lock(h);
	uint64_t now = pg_shdict_now_ms();
	uint32_t off = pg_shdict_find_live(h, key, klen, hash, now);
	if (mode == PG_SHDICT_ADD && off != 0) {
		*err = "exists";
		rc = PG_DECLINED;
	} else if (mode == PG_SHDICT_REPLACE && off == 0) {
		*err = "not found";
		rc = PG_DECLINED;
	} else {
		if (off != 0)
			pg_shdict_remove(h, off);
		if (v->type != PG_SHDICT_NIL
		    && pg_shdict_insert(h, key, klen, hash, v->type, bytes, len,
					v->flags, ttl_ms, now, forcible) == 0) {
			*err = "no memory";
			rc = PG_ERROR;
		}
	}
	pg_shdict_unlock(h);
	return rc;
}

int
pg_shdict_set(struct pg_shdict *d, const char *key, size_t klen,
	      const struct pg_shdict_value *v, uint64_t ttl_ms, int *forcible,
	      const char **err)
{
	return pg_shdict_store(d, key, klen, v, ttl_ms, PG_SHDICT_SET,
			       forcible, err);
}

int
pg_shdict_add(struct pg_shdict *d, const char *key, size_t klen,
	      const struct pg_shdict_value *v, uint64_t ttl_ms, int *forcible,
	      const char **err)
{
	return pg_shdict_store(d, key, klen, v, ttl_ms, PG_SHDICT_ADD,
			       forcible, err);
}

int
pg_shdict_replace(struct pg_shdict *d, const char *key, size_t klen,
		  const struct pg_shdict_value *v, uint64_t ttl_ms,
		  int *forcible, const char **err)
{
	return pg_shdict_store(d, key, klen, v, ttl_ms, PG_SHDICT_REPLACE,
			       forcible, err);
}

int
pg_shdict_get(struct pg_shdict *d, const char *key, size_t klen,
	      struct pg_shdict_value *v, char *buf, size_t buflen,
	      const char **err)
{
	struct pg_shdict_hdr *h = d->hdr;
	int rc = PG_OK;

	if (!pg_shdict_key_ok(key, klen, err))
		return PG_ERROR;
	uint32_t hash = pg_shdict_hash(d->hdr, key, klen);
	memset(v, 0, sizeof(*v));

	pg_shdict_lock(h);
	uint32_t off = pg_shdict_find_live(h, key, klen, hash,
					   pg_shdict_now_ms());
	if (off == 0) {
		*err = "not found";
		rc = PG_DECLINED;
		goto done;
	}
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	v->type = n->type;
	v->flags = n->flags;
	switch (n->type) {
	case PG_SHDICT_STRING:
		v->len = n->vlen;
		if (n->vlen > buflen) {
			*err = "buffer too small";
			rc = PG_AGAIN;
			goto done;
		}
		if (n->vlen != 0)
			memcpy(buf, pg_shdict_val(n), n->vlen);
		v->str = buf;
		break;
	case PG_SHDICT_NUMBER:
		memcpy(&v->num, pg_shdict_val(n), sizeof(double));
		break;
	case PG_SHDICT_BOOLEAN:
		v->boolean = *pg_shdict_val(n);
		break;
	}
	pg_shdict_touch(h, off);
done:
	pg_shdict_unlock(h);
	return rc;
}

int
pg_shdict_incr(struct pg_shdict *d, const char *key, size_t klen,
	       double delta, int has_init, double init, uint64_t init_ttl_ms,
	       double *out, int *forcible, const char **err)
{
	struct pg_shdict_hdr *h = d->hdr;
	int dummy, rc = PG_OK;

	if (forcible == NULL)
		forcible = &dummy;
	*forcible = 0;
	if (!pg_shdict_key_ok(key, klen, err))
		return PG_ERROR;
	uint32_t hash = pg_shdict_hash(d->hdr, key, klen);

	pg_shdict_lock(h);
	uint64_t now = pg_shdict_now_ms();
	uint32_t off = pg_shdict_find_live(h, key, klen, hash, now);
	if (off == 0 && !has_init) {
		*err = "not found";
		rc = PG_DECLINED;
	} else if (off == 0) {
		*out = init + delta;
		if (pg_shdict_insert(h, key, klen, hash, PG_SHDICT_NUMBER, out,
				     sizeof(double), 0, init_ttl_ms, now,
				     forcible) == 0) {
			*err = "no memory";
			rc = PG_ERROR;
		}
	} else if (pg_shdict_node(h, off)->type != PG_SHDICT_NUMBER) {
		*err = "not a number";
		rc = PG_ERROR;
	} else {
		struct pg_shdict_node *n = pg_shdict_node(h, off);
		double num;
		memcpy(&num, pg_shdict_val(n), sizeof(num));
		*out = num + delta;
		memcpy(pg_shdict_val(n), out, sizeof(*out));
		pg_shdict_touch(h, off);
	}
	pg_shdict_unlock(h);
	return rc;
}

/*
 * The steps every single-key operation shares: check the key, lock, find
 * the live item; then op runs under the lock on a found item.
 */
enum pg_shdict_keyop { PG_SHDICT_DELETE, PG_SHDICT_TTL, PG_SHDICT_EXPIRE };

static int
pg_shdict_keyop(struct pg_shdict *d, const char *key, size_t klen, int op,
		uint64_t *ttl_ms, const char **err)
{
	struct pg_shdict_hdr *h = d->hdr;

	if (!pg_shdict_key_ok(key, klen, err))
		return PG_ERROR;
	uint32_t hash = pg_shdict_hash(d->hdr, key, klen);
	pg_shdict_lock(h);
	uint64_t now = pg_shdict_now_ms();
	uint32_t off = pg_shdict_find_live(h, key, klen, hash, now);
	if (off == 0) {
		pg_shdict_unlock(h);
		*err = "not found";
		return PG_DECLINED;
	}
	struct pg_shdict_node *n = pg_shdict_node(h, off);
	switch (op) {
	case PG_SHDICT_DELETE:
		pg_shdict_remove(h, off);
		break;
	case PG_SHDICT_TTL:
		*ttl_ms = n->expire_ms != 0 ? n->expire_ms - now : 0;
		break;
	case PG_SHDICT_EXPIRE:
		n->expire_ms = *ttl_ms != 0 ? now + *ttl_ms : 0;
		break;
	}
	pg_shdict_unlock(h);
	return PG_OK;
}

int
pg_shdict_delete(struct pg_shdict *d, const char *key, size_t klen,
		 const char **err)
{
	return pg_shdict_keyop(d, key, klen, PG_SHDICT_DELETE, NULL, err);
}

int
pg_shdict_ttl(struct pg_shdict *d, const char *key, size_t klen,
	      uint64_t *ttl_ms, const char **err)
{
	return pg_shdict_keyop(d, key, klen, PG_SHDICT_TTL, ttl_ms, err);
}

int
pg_shdict_expire(struct pg_shdict *d, const char *key, size_t klen,
		 uint64_t ttl_ms, const char **err)
{
	return pg_shdict_keyop(d, key, klen, PG_SHDICT_EXPIRE, &ttl_ms, err);
}

void
pg_shdict_flush_all(struct pg_shdict *d)
{
	pg_shdict_lock(d->hdr);
	pg_shdict_reset(d->hdr);
	pg_shdict_unlock(d->hdr);
}

unsigned
pg_shdict_flush_expired(struct pg_shdict *d, unsigned max)
{
	struct pg_shdict_hdr *h = d->hdr;
	unsigned n = 0;

	pg_shdict_lock(h);
	uint64_t now = pg_shdict_now_ms();
	uint32_t cur = h->lru_tail;
	while (cur != 0 && (max == 0 || n < max)) {
		uint32_t prev = pg_shdict_node(h, cur)->lru_prev;
		if (pg_shdict_expired(pg_shdict_node(h, cur), now)) {
			pg_shdict_remove(h, cur);
			h->expired++;
			n++;
		}
		cur = prev;
	}
	pg_shdict_unlock(h);
	return n;
}

int
pg_shdict_keys(struct pg_shdict *d, unsigned max, char *buf, size_t buflen,
	       size_t *used)
{
	struct pg_shdict_hdr *h = d->hdr;
	size_t pos = 0;
	int n = 0;

	pg_shdict_lock(h);
	uint64_t now = pg_shdict_now_ms();
	for (uint32_t cur = h->lru_head; cur != 0 && (max == 0 || n < (int)max);
	     cur = pg_shdict_node(h, cur)->lru_next) {
		struct pg_shdict_node *k = pg_shdict_node(h, cur);
		if (pg_shdict_expired(k, now))
			continue;
		if (pos + 2 + k->klen <= buflen) {
			memcpy(buf + pos, &k->klen, 2);
			memcpy(buf + pos + 2, pg_shdict_key(k), k->klen);
		}
		pos += 2 + k->klen;
		n++;
	}
	pg_shdict_unlock(h);
	*used = pos;
	return pos > buflen ? PG_AGAIN : n;
}

void
pg_shdict_stats(const struct pg_shdict *d, struct pg_shdict_stats *st)
{
	const struct pg_shdict_hdr *h = d->hdr;
	st->capacity = (uint64_t)(h->arena_end - h->arena) * PG_SHDICT_UNIT;
	st->free = __atomic_load_n(&h->free_units, __ATOMIC_RELAXED)
		   * PG_SHDICT_UNIT;
	st->items = __atomic_load_n(&h->items, __ATOMIC_RELAXED);
	st->evictions = __atomic_load_n(&h->evictions, __ATOMIC_RELAXED);
	st->expired = __atomic_load_n(&h->expired, __ATOMIC_RELAXED);
	st->recoveries = __atomic_load_n(&h->recoveries, __ATOMIC_RELAXED);
}

uint64_t
pg_shdict_free_space(const struct pg_shdict *d)
{
	struct pg_shdict_stats st;
	pg_shdict_stats(d, &st);
	return st.free;
}

uint64_t
pg_shdict_capacity(const struct pg_shdict *d)
{
	struct pg_shdict_stats st;
	pg_shdict_stats(d, &st);
	return st.capacity;
}
