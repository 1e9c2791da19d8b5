#define ALLOW_EXPERIMENTAL_API 1   /* rte_seqlock is experimental in 22.11 */

#include <string.h>

#include <rte_seqlock.h>

#include "net/pg_neigh.h"

struct pg_neigh_entry {
	uint32_t ip;                 /* 0: empty */
	struct rte_ether_addr mac;
	uint64_t updated_ns;
};

struct pg_neigh_table {
	rte_seqlock_t lock;
	volatile uint16_t writer;    /* holder inside the write section */
	uint32_t count;
	struct pg_neigh_entry e[PG_NEIGH_SIZE];
};

size_t
pg_neigh_table_size(void)
{
	return sizeof(struct pg_neigh_table);
}

void
pg_neigh_init(struct pg_neigh_table *t)
{
	memset(t, 0, sizeof(*t));
	rte_seqlock_init(&t->lock);
}

static inline unsigned
pg_neigh_slot(uint32_t ip)
{
	uint32_t h = ip * 2654435761u;
	return h >> (32 - 10);       /* log2(PG_NEIGH_SIZE) */
}

_Static_assert(PG_NEIGH_SIZE == 1024, "pg_neigh_slot assumes 1024 slots");

int
pg_neigh_lookup(const struct pg_neigh_table *t, uint32_t ip,
		struct rte_ether_addr *mac)
{
	unsigned s = pg_neigh_slot(ip);
	uint32_t seq;
	int found;

	do {
		seq = rte_seqlock_read_begin(&t->lock);
		found = 0;
		for (unsigned i = 0; i < PG_NEIGH_PROBE; i++) {
			const struct pg_neigh_entry *e =
				&t->e[(s + i) & (PG_NEIGH_SIZE - 1)];
			if (e->ip == ip) {
				*mac = e->mac;
				found = 1;
				break;
			}
		}
	} while (rte_seqlock_read_retry(&t->lock, seq));
	return found;
}

void
pg_neigh_update(struct pg_neigh_table *t, uint32_t ip,
		const struct rte_ether_addr *mac, uint64_t now_ns, int create,
		uint16_t holder)
{
	unsigned s = pg_neigh_slot(ip);
	struct pg_neigh_entry *victim = NULL;

	rte_seqlock_write_lock(&t->lock);
	t->writer = holder;
	for (unsigned i = 0; i < PG_NEIGH_PROBE; i++) {
		struct pg_neigh_entry *e = &t->e[(s + i) & (PG_NEIGH_SIZE - 1)];
		if (e->ip == ip) {
			victim = e;
			break;
		}
		if (victim == NULL || (victim->ip != 0
		    && (e->ip == 0 || e->updated_ns < victim->updated_ns)))
			victim = e;
	}
	if (victim->ip == ip || create) {
		if (victim->ip == 0)
			t->count++;
		victim->ip = ip;
		victim->mac = *mac;
		victim->updated_ns = now_ns;
	}
	t->writer = 0;
	rte_seqlock_write_unlock(&t->lock);
}

void
pg_neigh_recover(struct pg_neigh_table *t, uint16_t holder)
{
	if (t->writer != holder)
		return;
	/* The holder died inside the write section: finish it for him. */
	t->writer = 0;
	rte_seqlock_write_unlock(&t->lock);
}

unsigned
pg_neigh_count(const struct pg_neigh_table *t)
{
	return t->count;
}
