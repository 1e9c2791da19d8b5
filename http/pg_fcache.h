/*
 * The worker's file cache: files opened and read by a helper thread, never
 * by the worker loop, into chunks of memory that outgoing mbufs reference
 * as external buffers (rte_pktmbuf_attach_extbuf): the payload goes from
 * the chunk to the wire (or into TLS records, or into HTTP/2 DATA frames)
 * without another copy, and every download of the same bytes of the same
 * file shares the chunk.
 *
 *   worker loop                           reader thread
 *   pg_fcache_open  --job--> to_reader -> open beneath root, fstat, .br/.gz
 *   pg_fcache_take  --read-> to_reader -> pread a chunk, fstat again
 *   pg_fcache_poll  <- from_reader <----- the job, done
 *     -> waiters (the requests that wait on an open or a chunk)
 *   mbuf freed (TCP acked, TLS encrypted) -> shinfo free_cb -> chunk idle
 *
 * Why read and not mmap: a mapped file that is truncated while it is being
 * sent raises SIGBUS in whoever touches the missing pages, the NIC driver
 * included. Reading into our own memory pins the bytes; the reader checks
 * the file's size and mtime after each read and fails the chunk when the
 * file changed, and the sender then cuts the response short (the
 * connection, or the HTTP/2 stream, is reset): a client sees either the
 * old bytes whole or an error, never a mixture it would take as complete.
 * A file replaced by rename keeps being served from the open descriptor.
 * The cost is one copy from the page cache, made by the reader thread.
 *
 * Memory: conf.cache_mb per worker, in chunks of conf.chunk_kb, allocated
 * at start; a chunk is busy while an mbuf references it or a read fills
 * it, idle (cached, LRU) otherwise. When every chunk is busy, a sender
 * waits until one is released: memory stays bounded whatever the number
 * of downloads.
 *
 * Single writer: everything but the job's own fields while it is queued
 * is the worker loop's.
 */
#ifndef PG_FCACHE_H
#define PG_FCACHE_H

#include <stdint.h>
#include <sys/stat.h>

#include <rte_mbuf.h>

#include "http/pg_file.h"

struct pg_fcache;
struct pg_fcache_stats;

/* files = { ... } */
struct pg_fcache_conf {
	unsigned cache_mb;           /* chunk memory per worker */
	unsigned chunk_kb;           /* unit of reading and caching */
	unsigned readahead;          /* chunks read ahead of a sender */
	unsigned open_cache;         /* opens remembered (0: none) */
	unsigned open_valid_ms;      /* for this long (0: none) */
};

/* A request waiting on the cache: fn is called from pg_fcache_poll (never
 * from inside another pg_fcache call), once per wait. */
struct pg_fcache_waiter {
	struct pg_fcache_waiter *next;
	struct pg_fcache_waiter **list;  /* the list it is on, NULL: none */
	void (*fn)(struct pg_fcache_waiter *w);
};

/* An open file (its descriptor and what it was when opened). */
struct pg_fcache_file {
	int fd;
	unsigned refs;
	struct stat st;
};

/* An open in progress or done (pg_fcache_open). */
struct pg_fcache_open {
	/* out, once done */
	int done;
	int err;                     /* errno of the failure, 0: opened */
	int is_dir;                  /* the path named a directory */
	enum pg_file_coding coding;  /* the sibling chosen */
	struct pg_fcache_file *file; /* the caller's reference */
	char rel[PG_FILE_PATH_MAX];  /* what was opened (index appended) */
	/* PG_FILE_LISTING, a directory without index (err EISDIR): one
	 * record per entry but dot files (unless PG_FILE_DOTFILES), each
	 * "<d|f|l><size> <mtime> <name>" and a NUL, unsorted; truncated at
	 * PG_FCACHE_LIST_MAX bytes. Freed with the open. */
	char *listing;
	uint32_t listing_len;
	uint8_t listing_truncated;
};

#define PG_FCACHE_LIST_MAX (1u << 20)

/*
 * Make the cache of a worker and start its reader thread; counters into
 * stats (borrowed; NULL: the cache's own). NULL with *err.
 */
struct pg_fcache *pg_fcache_create(const struct pg_fcache_conf *conf,
				   struct pg_fcache_stats *stats,
				   const char **err);

/* Stop the thread and release what no mbuf still references. */
void pg_fcache_destroy(struct pg_fcache *fc);

/*
 * Open root/rel (rel from pg_file_path; PG_FILE_* flags), trying first the
 * siblings of the codings in the PG_FILE_CODING_BIT set codings, and
 * rel/index when rel is a directory (index "" : none; then its listing
 * with PG_FILE_LISTING). w is called when
 * the result is in the returned object, unless it is done at once (an
 * open remembered: see pg_fcache.c, "open files"). NULL when the reader
 * is saturated (try later).
 */
struct pg_fcache_open *pg_fcache_open(struct pg_fcache *fc, const char *root,
				      const char *rel, unsigned flags,
				      unsigned codings, const char *index,
				      struct pg_fcache_waiter *w);

/* Forget o (done or not: an open still running is closed when it ends).
 * The reference to o->file, if taken, stays the caller's. */
void pg_fcache_open_release(struct pg_fcache *fc, struct pg_fcache_open *o);

void pg_fcache_file_put(struct pg_fcache *fc, struct pg_fcache_file *f);

/*
 * Up to max bytes of f from off as a chain of mbufs from pool (tagged
 * holder) referencing the cache's memory, into *m. PG_OK; PG_AGAIN when
 * the bytes are not read yet, no memory is free to read them into, or
 * pool is empty (w is called when it is worth trying again); PG_ERROR
 * when the file changed or cannot be read.
 */
int pg_fcache_take(struct pg_fcache *fc, struct pg_fcache_file *f,
		   uint64_t off, uint64_t max, struct rte_mempool *pool,
		   uint16_t holder, struct rte_mbuf **m,
		   struct pg_fcache_waiter *w);

/* Stop waiting (the request went away). */
void pg_fcache_cancel(struct pg_fcache_waiter *w);

/* Completed jobs: wake their waiters. Nonzero while jobs are running. */
unsigned pg_fcache_poll(struct pg_fcache *fc);

/* Counters of a worker's cache (perigee status: "files"); the last two
 * are gauges. */
#define PG_FCACHE_COUNTERS(X)                                                \
	X(opens,        "opens asked of the reader thread")               \
	X(open_hits,    "opens answered from the open files remembered")  \
	X(hits,         "sends from a chunk already read")               \
	X(misses,       "chunks read from disk")                         \
	X(read_bytes,   "bytes read from disk")                          \
	X(read_errors,  "reads failed: file changed, truncated, I/O")    \
	X(waits_mem,    "sends that waited for a chunk to be free")      \
	X(waits_mbuf,   "sends that waited for mbufs")                   \
	X(chunks,       "chunks of the cache")                           \
	X(busy,         "chunks referenced by packets or being read")

enum pg_fcache_counter {
#define PG_FCACHE_COUNTER_ENUM(name, text) PG_FCACHE_C_##name,
	PG_FCACHE_COUNTERS(PG_FCACHE_COUNTER_ENUM)
#undef PG_FCACHE_COUNTER_ENUM
	PG_FCACHE_C_MAX
};

struct pg_fcache_stats {
#define PG_FCACHE_COUNTER_FIELD(name, text) uint64_t name;
	PG_FCACHE_COUNTERS(PG_FCACHE_COUNTER_FIELD)
#undef PG_FCACHE_COUNTER_FIELD
} __rte_cache_aligned;

extern const char *const pg_fcache_counter_names[PG_FCACHE_C_MAX];

/* A copy of the counters. */
void pg_fcache_stats(const struct pg_fcache *fc, struct pg_fcache_stats *s);

#endif
