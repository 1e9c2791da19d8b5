/*
 * The neighbour (ARP) table, in shared memory. Any worker may update it
 * (ARP can arrive on any queue); every worker reads it without taking a
 * lock: writers serialise on the seqlock's spinlock, readers retry when a
 * write overlapped their read.
 */
#ifndef PG_NEIGH_H
#define PG_NEIGH_H

#include <stdint.h>

#include <rte_ether.h>

#define PG_NEIGH_SIZE  1024          /* power of two */
#define PG_NEIGH_PROBE 8             /* slots probed per lookup */

struct pg_neigh_table;

/* Bytes to reserve for a table (for the memzone). */
size_t pg_neigh_table_size(void);

/* Initialise a table in memory of pg_neigh_table_size() bytes. */
void pg_neigh_init(struct pg_neigh_table *t);

/* Copy the MAC of ip (network order) into mac; 1 if known, 0 if not. */
int pg_neigh_lookup(const struct pg_neigh_table *t, uint32_t ip,
		    struct rte_ether_addr *mac);

/*
 * Record ip -> mac. With create 0 only an existing entry is refreshed
 * (RFC 826's merge rule). When the probe window is full the stalest entry
 * in it is replaced. holder names the writer (see pg_neigh_recover).
 */
void pg_neigh_update(struct pg_neigh_table *t, uint32_t ip,
		     const struct rte_ether_addr *mac, uint64_t now_ns,
		     int create, uint16_t holder);

/*
 * Called by the primary when the worker tagged holder died: if it died
 * inside a write, complete the write so readers stop waiting.
 */
void pg_neigh_recover(struct pg_neigh_table *t, uint16_t holder);

/* Number of entries (for status). */
unsigned pg_neigh_count(const struct pg_neigh_table *t);

#endif
