/*
 * The worker's file cache and its reader thread (see pg_fcache.h).
 *
 *   pg_fcache_open -> pg_fcache_submit -> reader: pg_fcache_do_open
 *   pg_fcache_take -> pg_fcache_chunk_get -> pg_fcache_read_start
 *                                        -> reader: pg_fcache_do_read
 *   pg_fcache_poll -> pg_fcache_open_done / pg_fcache_read_done -> waiters
 *   last mbuf of a chunk freed -> pg_fcache_ext_free -> chunk idle (LRU)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ring.h>

#include "core/pg_core.h"
#include "http/pg_fcache.h"
#include "net/pg_mbuf.h"

/* An extbuf is at most 64 KiB - 1 (buf_len is 16 bits). */
#define PG_FCACHE_SEG      (32u << 10)
#define PG_FCACHE_BURST    32
#define PG_FCACHE_OPENS    1024     /* opens in flight per worker */
#define PG_FCACHE_KEY_MAX  (PG_PATH_MAX + PG_FILE_PATH_MAX + 64 + 8)

enum pg_fcache_job_kind { PG_FCACHE_JOB_OPEN, PG_FCACHE_JOB_READ };

struct pg_fcache_job {
	uint8_t kind;
	int err;
};

/* What a file was when it was opened: the key of its chunks. */
struct pg_fcache_id {
	uint64_t dev, ino, size, mtime_s, mtime_ns;
};

enum pg_fcache_state { PG_FCACHE_FREE, PG_FCACHE_READING, PG_FCACHE_READY,
		       PG_FCACHE_FAILED };

struct pg_fcache_chunk {
	struct pg_fcache_job job;        /* first: the ring carries it */
	struct rte_mbuf_ext_shared_info shinfo;
	struct pg_fcache *fc;
	char *buf;
	struct pg_fcache_id id;
	uint64_t idx;
	uint32_t len;                    /* bytes read */
	uint8_t state;
	struct pg_fcache_file *file;     /* while reading */
	struct pg_fcache_chunk *hnext;   /* hash chain */
	TAILQ_ENTRY(pg_fcache_chunk) lru; /* idle or free */
	struct pg_fcache_waiter *waiters;
};

struct pg_fcache_openjob {
	struct pg_fcache_job job;        /* first */
	struct pg_fcache_open o;
	struct pg_fcache_waiter *w;      /* NULL: released, close on arrival */
	char root[PG_PATH_MAX];
	char index[64];
	unsigned flags, codings;
	int fd;
	struct stat st;
	uint32_t klen;
	char key[PG_FCACHE_KEY_MAX];     /* what was asked (pg_fcache_key) */
};

/* An open that succeeded, reused until expires_ns (pg_fcache_lookup). */
struct pg_fcache_oent {
	TAILQ_ENTRY(pg_fcache_oent) lru;
	struct pg_fcache_oent *hnext;
	uint64_t hash, expires_ns;
	struct pg_fcache_file *file;     /* the cache's reference */
	uint8_t coding, is_dir;
	char rel[PG_FILE_PATH_MAX];      /* what was opened */
	uint32_t klen;
	char key[];
};

TAILQ_HEAD(pg_fcache_list, pg_fcache_chunk);
TAILQ_HEAD(pg_fcache_olist, pg_fcache_oent);

struct pg_fcache {
	struct pg_fcache_conf conf;
	uint32_t chunk_size;
	unsigned nchunks, nbuckets, inflight, opens;
	char *mem;
	size_t mem_len;
	struct pg_fcache_chunk *chunks;
	struct pg_fcache_chunk **hash;
	struct pg_fcache_list free, idle;   /* free first, then LRU order */
	struct pg_fcache_waiter *mem_waiters;
	struct pg_fcache_waiter *mbuf_waiters;  /* retried at each poll */
	struct rte_mempool *pool;        /* the one senders take mbufs from */
	int released;                    /* a chunk went idle since the poll */
	struct rte_ring *to_reader, *from_reader;
	int efd;
	volatile int stopping;
	pthread_t thread;
	int thread_ok;
	struct pg_fcache_oent **otab;    /* open files: hash, LRU, count */
	unsigned nobuckets, nopen;
	struct pg_fcache_olist olru;
	struct pg_fcache_stats *st;      /* own_st, or the worker's block */
	struct pg_fcache_stats own_st;
};

const char *const pg_fcache_counter_names[PG_FCACHE_C_MAX] = {
#define PG_FCACHE_COUNTER_NAME(name, text) #name,
	PG_FCACHE_COUNTERS(PG_FCACHE_COUNTER_NAME)
#undef PG_FCACHE_COUNTER_NAME
};

/* --- the reader thread ---------------------------------------------------- */

static void
pg_fcache_id_of(const struct stat *st, struct pg_fcache_id *id)
{
	*id = (struct pg_fcache_id){ (uint64_t)st->st_dev,
		(uint64_t)st->st_ino, (uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec };
}

/* Open rel+suffix as a regular file into j (fd, st); errno on failure. */
static int
pg_fcache_try(struct pg_fcache_openjob *j, int rootfd, const char *rel,
	      const char *suffix)
{
	char p[PG_FILE_PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s%s", rel, suffix);
	int fd = pg_file_open(rootfd, p, j->flags);
	if (fd < 0)
		return errno;
	if (fstat(fd, &j->st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	j->fd = fd;
	return 0;
}

/* Append an entry of the directory d to j's listing; 0 when it is full. */
static int
pg_fcache_list_add(struct pg_fcache_openjob *j, DIR *d, const char *name,
		   size_t *cap)
{
	struct pg_fcache_open *o = &j->o;
	struct stat st;
	char rec[320];

	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 1;
	char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f'
		    : S_ISLNK(st.st_mode) ? 'l' : 0;
	if (kind == 0)
		return 1;
	int n = snprintf(rec, sizeof(rec), "%c%llu %lld %s", kind,
			 (unsigned long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, name);
	if (n < 0 || (size_t)n >= sizeof(rec))
		return 1;
	if (o->listing_len + (size_t)n + 1 > PG_FCACHE_LIST_MAX) {
		o->listing_truncated = 1;
		return 0;
	}
	if (o->listing_len + (size_t)n + 1 > *cap) {
		size_t c = *cap * 2;
		char *b = realloc(o->listing, c);
		if (b == NULL)
			return 0;
		o->listing = b;
		*cap = c;
	}
	memcpy(o->listing + o->listing_len, rec, (size_t)n + 1);
	o->listing_len += (uint32_t)n + 1;
	return 1;
}

/* What the directory dirfd (consumed) holds, into j's listing. */
static void
pg_fcache_list(struct pg_fcache_openjob *j, int dirfd)
{
	size_t cap = 4096;
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (d == NULL) {
		close(dirfd);
		return;
	}
	if ((j->o.listing = malloc(cap)) != NULL)
		while ((e = readdir(d)) != NULL) {
			const char *name = e->d_name;
			if (name[0] == '.' && (!(j->flags & PG_FILE_DOTFILES)
					       || strcmp(name, ".") == 0
					       || strcmp(name, "..") == 0))
				continue;
			if (!pg_fcache_list_add(j, d, name, &cap))
				break;
		}
	closedir(d);
}

/* rel is the directory dirfd (consumed): its index, else its listing. */
static void
pg_fcache_open_dir(struct pg_fcache_openjob *j, int rootfd, int dirfd)
{
	struct pg_fcache_open *o = &j->o;
	size_t n = strlen(o->rel);

	o->is_dir = 1;
	j->job.err = EISDIR;
	if (j->index[0] != '\0'
	    && n + strlen(j->index) + 2 < sizeof(o->rel)) {
		snprintf(o->rel + n, sizeof(o->rel) - n, "%s%s",
			 n > 0 ? "/" : "", j->index);
		j->job.err = pg_fcache_try(j, rootfd, o->rel, "");
		if (j->job.err == 0) {
			close(dirfd);
			return;
		}
		j->job.err = EISDIR;
		o->rel[n] = '\0';
	}
	if (j->flags & PG_FILE_LISTING)
		pg_fcache_list(j, dirfd);
	else
		close(dirfd);
}

static void
pg_fcache_do_open(struct pg_fcache_openjob *j)
{
	struct pg_fcache_open *o = &j->o;
	int rootfd = open(j->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	j->fd = -1;
	if (rootfd < 0) {
		j->job.err = errno;
		return;
	}
	j->job.err = pg_fcache_try(j, rootfd, o->rel, "");
	if (j->job.err == 0 && S_ISDIR(j->st.st_mode)) {
		int dirfd = j->fd;
		j->fd = -1;
		pg_fcache_open_dir(j, rootfd, dirfd);
	}
	if (j->job.err == 0 && !S_ISREG(j->st.st_mode)) {
		close(j->fd);
		j->fd = -1;
		j->job.err = EACCES;
	}
	for (unsigned c = PG_FILE_BR; j->job.err == 0 && c < PG_FILE_NCODINGS;
	     c++) {
		struct stat plain = j->st;
		int fd = j->fd;
		if (!(j->codings & PG_FILE_CODING_BIT(c)))
			continue;
		if (pg_fcache_try(j, rootfd, o->rel,
				  pg_file_coding_suffix(c)) == 0
		    && S_ISREG(j->st.st_mode)) {
			close(fd);
			o->coding = c;
			break;
		}
		if (j->fd != fd)
			close(j->fd);
		j->fd = fd;
		j->st = plain;
	}
	close(rootfd);
}

/* Fill chunk c from its file; fail it when the file is not what it was. */
static void
pg_fcache_do_read(struct pg_fcache *fc, struct pg_fcache_chunk *c)
{
	uint64_t off = c->idx * fc->chunk_size;
	uint64_t want = c->id.size - off;
	struct pg_fcache_id now;
	struct stat st;

	if (want > fc->chunk_size)
		want = fc->chunk_size;
	c->len = 0;
	c->job.err = 0;
	while (c->len < want) {
		ssize_t n = pread(c->file->fd, c->buf + c->len,
				  want - c->len, (off_t)(off + c->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->job.err = n == 0 ? ESTALE : errno;
			return;
		}
		c->len += (uint32_t)n;
	}
	if (fstat(c->file->fd, &st) != 0) {
		c->job.err = errno;
		return;
	}
	pg_fcache_id_of(&st, &now);
	if (memcmp(&now, &c->id, sizeof(now)) != 0)
		c->job.err = ESTALE;
}

static void *
pg_fcache_reader(void *arg)
{
	struct pg_fcache *fc = arg;
	void *jobs[PG_FCACHE_BURST];

	while (!fc->stopping) {
		unsigned n = rte_ring_sc_dequeue_burst(fc->to_reader, jobs,
						       PG_FCACHE_BURST, NULL);
		if (n == 0) {
			uint64_t v;
			if (read(fc->efd, &v, sizeof(v)) < 0 && errno != EINTR
			    && errno != EAGAIN)
				break;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			struct pg_fcache_job *j = jobs[i];
			if (j->kind == PG_FCACHE_JOB_OPEN)
				pg_fcache_do_open((struct pg_fcache_openjob *)j);
			else
				pg_fcache_do_read(fc, jobs[i]);
		}
		/* Never full: at most a ring's worth is in flight. */
		rte_ring_sp_enqueue_bulk(fc->from_reader, jobs, n, NULL);
	}
	return NULL;
}

/* --- the worker's side: jobs ---------------------------------------------- */

/* Wake the reader (an eventfd counter cannot fill: the reader drains it). */
static void
pg_fcache_kick(struct pg_fcache *fc)
{
	uint64_t one = 1;
	ssize_t n = write(fc->efd, &one, sizeof(one));
	(void)n;
}

static int
pg_fcache_submit(struct pg_fcache *fc, struct pg_fcache_job *j)
{
	if (fc->inflight + 1 >= rte_ring_get_capacity(fc->to_reader)
	    || rte_ring_sp_enqueue(fc->to_reader, j) != 0)
		return PG_ERROR;
	fc->inflight++;
	pg_fcache_kick(fc);
	return PG_OK;
}

static void
pg_fcache_wait(struct pg_fcache_waiter **list, struct pg_fcache_waiter *w)
{
	if (w->list != NULL)
		pg_fcache_cancel(w);
	w->next = *list;
	w->list = list;
	*list = w;
}

void
pg_fcache_cancel(struct pg_fcache_waiter *w)
{
	if (w->list == NULL)
		return;
	for (struct pg_fcache_waiter **p = w->list; *p != NULL;
	     p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	w->list = NULL;
	w->next = NULL;
}

/*
 * Call every waiter of *list once. fn may wait again, and may end other
 * requests whose waiters are still to be called: they cancel themselves
 * from the local list, which is why each waiter is moved onto it first.
 * Only from pg_fcache_poll: fn resumes Lua, which must not happen inside
 * a call Lua made.
 */
static void
pg_fcache_wake(struct pg_fcache_waiter **list)
{
	struct pg_fcache_waiter *local = *list, *w;

	*list = NULL;
	for (w = local; w != NULL; w = w->next)
		w->list = &local;
	while ((w = local) != NULL) {
		local = w->next;
		w->list = NULL;
		w->next = NULL;
		w->fn(w);
	}
}

/* --- open files ------------------------------------------------------------ */

/*
 * Opens that succeeded, by what was asked (root, path, index, flags,
 * codings), are reused for conf.open_valid_ms without asking the reader:
 * a small file is then answered without a round trip to the thread. A file
 * replaced or changed on disk is seen once its entry expired (until then
 * a change in place cuts the responses short, as during a download). At
 * most conf.open_cache entries, least recently used first out.
 */
static uint64_t
pg_fcache_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The key of an open into j->key: root, path, index and flags. */
static void
pg_fcache_key(struct pg_fcache_openjob *j)
{
	int n = snprintf(j->key, sizeof(j->key), "%s%c%s%c%s%c%x%c%x",
			 j->root, 0, j->o.rel, 0, j->index, 0, j->flags, 0,
			 j->codings);
	j->klen = n < 0 ? 0 : (uint32_t)RTE_MIN((size_t)n, sizeof(j->key));
}

static uint64_t
pg_fcache_key_hash(const char *k, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;           /* FNV-1a */
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)k[i]) * 0x100000001b3ull;
	return h;
}

static struct pg_fcache_oent **
pg_fcache_oslot(struct pg_fcache *fc, uint64_t h, const char *k,
		uint32_t len)
{
	struct pg_fcache_oent **p = &fc->otab[h % fc->nobuckets];
	while (*p != NULL && ((*p)->hash != h || (*p)->klen != len
			      || memcmp((*p)->key, k, len) != 0))
		p = &(*p)->hnext;
	return p;
}

static void
pg_fcache_oremove(struct pg_fcache *fc, struct pg_fcache_oent **p)
{
	struct pg_fcache_oent *e = *p;
	*p = e->hnext;
	TAILQ_REMOVE(&fc->olru, e, lru);
	fc->nopen--;
	pg_fcache_file_put(fc, e->file);
	free(e);
}

/* A fresh entry for j's key: fill o from it. */
static int
pg_fcache_lookup(struct pg_fcache *fc, struct pg_fcache_openjob *j)
{
	if (fc->otab == NULL)
		return 0;
	uint64_t h = pg_fcache_key_hash(j->key, j->klen);
	struct pg_fcache_oent **p = pg_fcache_oslot(fc, h, j->key, j->klen);
	struct pg_fcache_oent *e = *p;
	if (e == NULL)
		return 0;
	if (e->expires_ns <= pg_fcache_now_ns()) {
		pg_fcache_oremove(fc, p);
		return 0;
	}
	TAILQ_REMOVE(&fc->olru, e, lru);
	TAILQ_INSERT_TAIL(&fc->olru, e, lru);
	e->file->refs++;
	j->o = (struct pg_fcache_open){ .done = 1, .is_dir = e->is_dir,
		.coding = e->coding, .file = e->file };
	memcpy(j->o.rel, e->rel, sizeof(j->o.rel));
	fc->st->open_hits++;
	return 1;
}

/* Keep what j opened for the next ones that ask the same. */
static void
pg_fcache_remember(struct pg_fcache *fc, struct pg_fcache_openjob *j)
{
	uint64_t h = pg_fcache_key_hash(j->key, j->klen);
	struct pg_fcache_oent **p = pg_fcache_oslot(fc, h, j->key, j->klen);
	struct pg_fcache_oent *e;

	if (*p != NULL)
		pg_fcache_oremove(fc, p);
	if (fc->nopen >= fc->conf.open_cache)
		pg_fcache_oremove(fc, pg_fcache_oslot(fc,
			TAILQ_FIRST(&fc->olru)->hash, TAILQ_FIRST(&fc->olru)->key,
			TAILQ_FIRST(&fc->olru)->klen));
	if ((e = malloc(sizeof(*e) + j->klen)) == NULL)
		return;
	e->hash = h;
	e->expires_ns = pg_fcache_now_ns()
			+ (uint64_t)fc->conf.open_valid_ms * 1000000u;
	e->file = j->o.file;
	e->file->refs++;
	e->coding = (uint8_t)j->o.coding;
	e->is_dir = (uint8_t)j->o.is_dir;
	memcpy(e->rel, j->o.rel, sizeof(e->rel));
	e->klen = j->klen;
	memcpy(e->key, j->key, j->klen);
	p = pg_fcache_oslot(fc, h, j->key, j->klen);
	e->hnext = *p;
	*p = e;
	TAILQ_INSERT_TAIL(&fc->olru, e, lru);
	fc->nopen++;
}

struct pg_fcache_open *
pg_fcache_open(struct pg_fcache *fc, const char *root, const char *rel,
	       unsigned flags, unsigned codings, const char *index,
	       struct pg_fcache_waiter *w)
{
	struct pg_fcache_openjob *j;

	if (fc->opens >= PG_FCACHE_OPENS || (j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->job.kind = PG_FCACHE_JOB_OPEN;
	snprintf(j->root, sizeof(j->root), "%s", root);
	snprintf(j->o.rel, sizeof(j->o.rel), "%s", rel);
	snprintf(j->index, sizeof(j->index), "%s", index);
	j->flags = flags;
	j->codings = codings;
	j->w = w;
	pg_fcache_key(j);
	if (pg_fcache_lookup(fc, j))
		return &j->o;
	if (pg_fcache_submit(fc, &j->job) != PG_OK) {
		free(j);
		return NULL;
	}
	fc->opens++;
	fc->st->opens++;
	return &j->o;
}

static struct pg_fcache_openjob *
pg_fcache_openjob(struct pg_fcache_open *o)
{
	return (struct pg_fcache_openjob *)((char *)o
		- offsetof(struct pg_fcache_openjob, o));
}

void
pg_fcache_open_release(struct pg_fcache *fc, struct pg_fcache_open *o)
{
	struct pg_fcache_openjob *j = pg_fcache_openjob(o);
	if (!o->done) {
		j->w = NULL;                 /* freed when it arrives */
		return;
	}
	free(o->listing);
	free(j);
}

void
pg_fcache_file_put(struct pg_fcache *fc, struct pg_fcache_file *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	close(f->fd);
	free(f);
}

static void
pg_fcache_open_done(struct pg_fcache *fc, struct pg_fcache_openjob *j)
{
	struct pg_fcache_open *o = &j->o;

	fc->opens--;
	o->err = j->job.err;
	if (o->err == 0 && (o->file = malloc(sizeof(*o->file))) == NULL)
		o->err = ENOMEM;
	if (o->err == 0) {
		*o->file = (struct pg_fcache_file){ .fd = j->fd, .refs = 1,
						    .st = j->st };
	} else if (j->fd >= 0) {
		close(j->fd);
	}
	o->done = 1;
	if (o->err == 0 && fc->otab != NULL)
		pg_fcache_remember(fc, j);
	if (j->w == NULL) {              /* released meanwhile */
		pg_fcache_file_put(fc, o->file);
		free(o->listing);
		free(j);
		return;
	}
	j->w->fn(j->w);
}

/* --- chunks --------------------------------------------------------------- */

static unsigned
pg_fcache_bucket(const struct pg_fcache *fc, const struct pg_fcache_id *id,
		 uint64_t idx)
{
	uint64_t h = id->ino * 0x9e3779b97f4a7c15ull ^ id->dev
		     ^ (id->mtime_ns << 7) ^ (idx * 0xff51afd7ed558ccdull);
	h ^= h >> 29;
	return (unsigned)(h % fc->nbuckets);
}

static struct pg_fcache_chunk *
pg_fcache_find(struct pg_fcache *fc, const struct pg_fcache_id *id,
	       uint64_t idx)
{
	struct pg_fcache_chunk *c = fc->hash[pg_fcache_bucket(fc, id, idx)];
	while (c != NULL && (c->idx != idx
			     || memcmp(&c->id, id, sizeof(*id)) != 0))
		c = c->hnext;
	return c;
}

static void
pg_fcache_unhash(struct pg_fcache *fc, struct pg_fcache_chunk *c)
{
	struct pg_fcache_chunk **p = &fc->hash[pg_fcache_bucket(fc, &c->id,
								 c->idx)];
	while (*p != c)
		p = &(*p)->hnext;
	*p = c->hnext;
	c->hnext = NULL;
}

static int
pg_fcache_idle(const struct pg_fcache_chunk *c)
{
	return c->state != PG_FCACHE_READING
	       && rte_mbuf_ext_refcnt_read(&c->shinfo) == 0;
}

/* The last mbuf referencing c was freed (TCP acked it, TLS encrypted it,
 * the driver sent it). Runs on the worker. */
static void
pg_fcache_ext_free(void *addr, void *opaque)
{
	struct pg_fcache_chunk *c = opaque;
	struct pg_fcache *fc = c->fc;

	fc->st->busy--;
	TAILQ_INSERT_TAIL(&fc->idle, c, lru);
	fc->released = 1;            /* mem_waiters, at the next poll */
}

/* A free chunk, or the least recently used idle one; NULL: all busy. */
static struct pg_fcache_chunk *
pg_fcache_alloc(struct pg_fcache *fc)
{
	struct pg_fcache_chunk *c = TAILQ_FIRST(&fc->free);
	if (c != NULL) {
		TAILQ_REMOVE(&fc->free, c, lru);
		return c;
	}
	c = TAILQ_FIRST(&fc->idle);
	if (c == NULL)
		return NULL;
	TAILQ_REMOVE(&fc->idle, c, lru);
	pg_fcache_unhash(fc, c);
	return c;
}

/* Start reading chunk idx of f into a chunk; NULL when none is free. */
static struct pg_fcache_chunk *
pg_fcache_read_start(struct pg_fcache *fc, struct pg_fcache_file *f,
		     const struct pg_fcache_id *id, uint64_t idx)
{
	struct pg_fcache_chunk *c = pg_fcache_alloc(fc);
	if (c == NULL)
		return NULL;
	c->id = *id;
	c->idx = idx;
	c->state = PG_FCACHE_READING;
	c->file = f;
	c->job.kind = PG_FCACHE_JOB_READ;
	if (pg_fcache_submit(fc, &c->job) != PG_OK) {
		c->state = PG_FCACHE_FREE;
		TAILQ_INSERT_HEAD(&fc->free, c, lru);
		return NULL;
	}
	f->refs++;
	fc->st->busy++;
	unsigned b = pg_fcache_bucket(fc, id, idx);
	c->hnext = fc->hash[b];
	fc->hash[b] = c;
	fc->st->misses++;
	return c;
}

static void
pg_fcache_read_done(struct pg_fcache *fc, struct pg_fcache_chunk *c)
{
	struct pg_fcache_file *f = c->file;

	c->file = NULL;
	c->state = c->job.err == 0 ? PG_FCACHE_READY : PG_FCACHE_FAILED;
	fc->st->read_bytes += c->len;
	if (c->job.err != 0)
		fc->st->read_errors++;
	fc->st->busy--;
	TAILQ_INSERT_TAIL(&fc->idle, c, lru);
	pg_fcache_file_put(fc, f);
	pg_fcache_wake(&c->waiters);
	pg_fcache_wake(&fc->mem_waiters);
}

/* Read ahead of a sender, with memory that is free or idle only. */
static void
pg_fcache_readahead(struct pg_fcache *fc, struct pg_fcache_file *f,
		    const struct pg_fcache_id *id, uint64_t idx)
{
	uint64_t last = (id->size + fc->chunk_size - 1) / fc->chunk_size;
	for (unsigned i = 1; i <= fc->conf.readahead && idx + i < last; i++)
		if (pg_fcache_find(fc, id, idx + i) == NULL
		    && pg_fcache_read_start(fc, f, id, idx + i) == NULL)
			return;
}

/* Mbufs over [at, at + len) of chunk c, tagged holder. */
static struct rte_mbuf *
pg_fcache_mbufs(struct pg_fcache *fc, struct pg_fcache_chunk *c, uint32_t at,
		uint32_t len, struct rte_mempool *pool, uint16_t holder)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	int va = rte_eal_iova_mode() == RTE_IOVA_VA;

	while (len > 0) {
		uint32_t n = PG_FCACHE_SEG - at % PG_FCACHE_SEG;
		if (n > len)
			n = len;
		struct rte_mbuf *m = pg_mbuf_alloc(pool, holder);
		if (m == NULL) {
			if (head != NULL)
				pg_mbuf_free(head);
			return NULL;
		}
		if (pg_fcache_idle(c)) {
			TAILQ_REMOVE(&fc->idle, c, lru);
			fc->st->busy++;
			rte_mbuf_ext_refcnt_set(&c->shinfo, 1);
		} else {
			rte_mbuf_ext_refcnt_update(&c->shinfo, 1);
		}
		char *p = c->buf + at;
		rte_pktmbuf_attach_extbuf(m, p, va ? (rte_iova_t)(uintptr_t)p
					  : RTE_BAD_IOVA, (uint16_t)n,
					  &c->shinfo);
		m->data_len = (uint16_t)n;
		m->pkt_len = n;
		pg_mbuf_chain_add(&head, &tail, m);
		at += n;
		len -= n;
	}
	return head;
}

int
pg_fcache_take(struct pg_fcache *fc, struct pg_fcache_file *f, uint64_t off,
	       uint64_t max, struct rte_mempool *pool, uint16_t holder,
	       struct rte_mbuf **m, struct pg_fcache_waiter *w)
{
	struct pg_fcache_id id;
	uint64_t idx = off / fc->chunk_size;
	uint32_t at = (uint32_t)(off % fc->chunk_size);

	/* File bodies may take half the pool: the rest stays for TCP's
	 * headers and segments and for receiving, or every connection could
	 * hold mbufs that no ACK will free since nothing can be sent. */
	fc->pool = pool;
	if (rte_mempool_avail_count(pool) < pool->size / 2)
		goto no_mbufs;
	pg_fcache_id_of(&f->st, &id);
	struct pg_fcache_chunk *c = pg_fcache_find(fc, &id, idx);
	if (c == NULL) {
		c = pg_fcache_read_start(fc, f, &id, idx);
		if (c == NULL) {
			fc->st->waits_mem++;
			pg_fcache_wait(&fc->mem_waiters, w);
			return PG_AGAIN;
		}
	} else if (c->state == PG_FCACHE_READY && at < c->len) {
		fc->st->hits++;
	}
	if (c->state == PG_FCACHE_READING) {
		pg_fcache_wait(&c->waiters, w);
		pg_fcache_readahead(fc, f, &id, idx);
		return PG_AGAIN;
	}
	if (c->state != PG_FCACHE_READY || at >= c->len)
		return PG_ERROR;
	uint64_t n = c->len - at;
	if (n > max)
		n = max;
	*m = pg_fcache_mbufs(fc, c, at, (uint32_t)n, pool, holder);
	/* Only now: c is busy, reading ahead cannot take it for another. */
	pg_fcache_readahead(fc, f, &id, idx);
	if (*m != NULL)
		return PG_OK;
no_mbufs:
	/* Many downloads queue their bodies: try again at a poll where TCP
	 * had acknowledgements. */
	fc->st->waits_mbuf++;
	pg_fcache_wait(&fc->mbuf_waiters, w);
	return PG_AGAIN;
}

unsigned
pg_fcache_poll(struct pg_fcache *fc)
{
	void *jobs[PG_FCACHE_BURST];
	unsigned n;

	if (fc == NULL)
		return 0;
	unsigned starving = fc->mbuf_waiters != NULL;
	if (starving && rte_mempool_avail_count(fc->pool) >= fc->pool->size / 2)
		pg_fcache_wake(&fc->mbuf_waiters);
	if (fc->released) {
		fc->released = 0;
		pg_fcache_wake(&fc->mem_waiters);
	}
	if (fc->inflight == 0)
		return starving;
	n = rte_ring_sc_dequeue_burst(fc->from_reader, jobs, PG_FCACHE_BURST,
				      NULL);
	fc->inflight -= n;
	for (unsigned i = 0; i < n; i++) {
		struct pg_fcache_job *j = jobs[i];
		if (j->kind == PG_FCACHE_JOB_OPEN)
			pg_fcache_open_done(fc, (struct pg_fcache_openjob *)j);
		else
			pg_fcache_read_done(fc, jobs[i]);
	}
	return n + (fc->inflight > 0) + starving;
}

void
pg_fcache_stats(const struct pg_fcache *fc, struct pg_fcache_stats *s)
{
	*s = *fc->st;
}

/* --- life ----------------------------------------------------------------- */

static struct rte_ring *
pg_fcache_ring(unsigned count)
{
	ssize_t sz = rte_ring_get_memsize(count);
	struct rte_ring *r;
	if (sz < 0 || posix_memalign((void **)&r, RTE_CACHE_LINE_SIZE,
				     (size_t)sz) != 0)
		return NULL;
	if (rte_ring_init(r, "pg_fcache", count,
			  RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* Open files are descriptors: allow as many as the hard limit does. */
static void
pg_fcache_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The reader may run on any CPU: not on the worker's busy-polled one
 * only, where it would wait for the worker's time slice. */
static void
pg_fcache_thread_cpus(pthread_t t)
{
	cpu_set_t all;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	CPU_ZERO(&all);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	pthread_setaffinity_np(t, sizeof(all), &all);
}

struct pg_fcache *
pg_fcache_create(const struct pg_fcache_conf *conf,
		 struct pg_fcache_stats *stats, const char **err)
{
	struct pg_fcache *fc = calloc(1, sizeof(*fc));

	if (fc == NULL) {
		*err = "out of memory";
		return NULL;
	}
	fc->st = stats != NULL ? stats : &fc->own_st;
	fc->conf = *conf;
	fc->efd = -1;
	fc->chunk_size = conf->chunk_kb << 10;
	fc->nchunks = (unsigned)(((size_t)conf->cache_mb << 20)
				 / fc->chunk_size);
	if (fc->nchunks < 2) {
		*err = "files.cache_mb must hold at least two chunks";
		goto failed;
	}
	fc->st->chunks = fc->nchunks;
	fc->nbuckets = fc->nchunks * 2 + 1;
	fc->mem_len = (size_t)fc->nchunks * fc->chunk_size;
	fc->mem = mmap(NULL, fc->mem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fc->mem == MAP_FAILED) {
		fc->mem = NULL;
		*err = "cannot map the file cache (files.cache_mb)";
		goto failed;
	}
	fc->chunks = calloc(fc->nchunks, sizeof(*fc->chunks));
	fc->hash = calloc(fc->nbuckets, sizeof(*fc->hash));
	unsigned ring = rte_align32pow2(fc->nchunks + PG_FCACHE_OPENS + 2);
	fc->to_reader = pg_fcache_ring(ring);
	fc->from_reader = pg_fcache_ring(ring);
	fc->efd = eventfd(0, EFD_CLOEXEC);
	if (fc->chunks == NULL || fc->hash == NULL || fc->to_reader == NULL
	    || fc->from_reader == NULL || fc->efd < 0) {
		*err = "out of memory for the file cache";
		goto failed;
	}
	TAILQ_INIT(&fc->free);
	TAILQ_INIT(&fc->idle);
	TAILQ_INIT(&fc->olru);
	if (conf->open_cache > 0 && conf->open_valid_ms > 0) {
		fc->nobuckets = conf->open_cache * 2 + 1;
		fc->otab = calloc(fc->nobuckets, sizeof(*fc->otab));
		if (fc->otab == NULL) {
			*err = "out of memory for the open file cache";
			goto failed;
		}
	}
	pg_fcache_nofile();
	for (unsigned i = 0; i < fc->nchunks; i++) {
		struct pg_fcache_chunk *c = &fc->chunks[i];
		c->fc = fc;
		c->buf = fc->mem + (size_t)i * fc->chunk_size;
		c->shinfo.free_cb = pg_fcache_ext_free;
		c->shinfo.fcb_opaque = c;
		rte_mbuf_ext_refcnt_set(&c->shinfo, 0);
		TAILQ_INSERT_TAIL(&fc->free, c, lru);
	}
	if (pthread_create(&fc->thread, NULL, pg_fcache_reader, fc) != 0) {
		*err = "cannot start the file reader thread";
		goto failed;
	}
	fc->thread_ok = 1;
	pthread_setname_np(fc->thread, "pg-file-reader");
	pg_fcache_thread_cpus(fc->thread);
	return fc;
failed:
	pg_fcache_destroy(fc);
	return NULL;
}

void
pg_fcache_destroy(struct pg_fcache *fc)
{
	if (fc == NULL)
		return;
	if (fc->thread_ok) {
		fc->stopping = 1;
		pg_fcache_kick(fc);
		pthread_join(fc->thread, NULL);
	}
	if (fc->efd >= 0)
		close(fc->efd);
	free(fc->to_reader);
	free(fc->from_reader);
	free(fc->hash);
	while (fc->otab != NULL && !TAILQ_EMPTY(&fc->olru)) {
		struct pg_fcache_oent *e = TAILQ_FIRST(&fc->olru);
		pg_fcache_oremove(fc, pg_fcache_oslot(fc, e->hash, e->key,
						      e->klen));
	}
	free(fc->otab);
	/* Chunks still referenced by mbufs (a worker stopping mid-send) keep
	 * their memory: the process ends right after. */
	if (fc->st->busy == 0) {
		if (fc->mem != NULL)
			munmap(fc->mem, fc->mem_len);
		free(fc->chunks);
		free(fc);
	}
}
