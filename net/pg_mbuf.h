/*
 * Mbuf ownership tags. Every mbuf carries in its private area the id of the
 * worker that holds it (worker index + 1; 0 when it sits in a pool, a PMD
 * queue or a steering ring). When a worker dies the primary walks the pools
 * and returns to them every mbuf still tagged with that worker: a killed
 * worker leaks nothing.
 *
 * Rule: a worker tags what it takes (rx burst, alloc, steering dequeue) and
 * clears the tag of what it gives away (free, tx burst, steering enqueue).
 */
#ifndef PG_MBUF_H
#define PG_MBUF_H

#include <rte_mbuf.h>
#include <rte_mempool.h>

struct pg_mbuf_priv {
	uint16_t holder;
	uint16_t flags;              /* owner's use (TCP: FIN follows) */
	uint32_t seq;                /* owner's use (TCP: first byte) */
	struct rte_mbuf *qnext;      /* owner's queue of chains */
};

#define PG_MBUF_PRIV_SIZE \
	RTE_ALIGN(sizeof(struct pg_mbuf_priv), RTE_MBUF_PRIV_ALIGN)

/* Data room: a 1500-byte MTU frame plus headroom fits one segment. */
#define PG_MBUF_DATA_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE)
#define PG_MBUF_CACHE     256

static inline struct pg_mbuf_priv *
pg_mbuf_priv(struct rte_mbuf *m)
{
	return (struct pg_mbuf_priv *)rte_mbuf_to_priv(m);
}

/* Tag every segment of the chain m with holder. */
static inline void
pg_mbuf_tag(struct rte_mbuf *m, uint16_t holder)
{
	for (; m != NULL; m = m->next)
		pg_mbuf_priv(m)->holder = holder;
}

/* Free the chain m (consumes it). */
static inline void
pg_mbuf_free(struct rte_mbuf *m)
{
	pg_mbuf_tag(m, 0);
	rte_pktmbuf_free(m);
}

/* Allocate an mbuf tagged with holder; NULL when the pool is empty. */
static inline struct rte_mbuf *
pg_mbuf_alloc(struct rte_mempool *mp, uint16_t holder)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m != NULL)
		pg_mbuf_priv(m)->holder = holder;
	return m;
}

/*
 * Append the chain m (consumed) to the chain *head whose last segment is
 * *tail (both NULL for an empty chain); *tail becomes m's last segment.
 */
static inline void
pg_mbuf_chain_add(struct rte_mbuf **head, struct rte_mbuf **tail,
		  struct rte_mbuf *m)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(m);
	if (*head == NULL) {
		*head = m;
	} else {
		(*tail)->next = m;
		(*head)->nb_segs += m->nb_segs;
		(*head)->pkt_len += m->pkt_len;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
	}
	*tail = last;
}

/*
 * Detach the first segment of the chain *head (last segment *tail) and
 * return it as a chain of its own; *head becomes the rest (NULL, with
 * *tail, when it was the last).
 */
static inline struct rte_mbuf *
pg_mbuf_chain_pop(struct rte_mbuf **head, struct rte_mbuf **tail)
{
	struct rte_mbuf *m = *head;

	*head = m->next;
	if (*head != NULL) {
		(*head)->nb_segs = (uint16_t)(m->nb_segs - 1);
		(*head)->pkt_len = m->pkt_len - m->data_len;
	} else {
		*tail = NULL;
	}
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	return m;
}

/* Create a packet pool whose mbufs carry the private tag area. */
struct rte_mempool *pg_mbuf_pool_create(const char *name, unsigned n,
					int socket);

/*
 * Return to mp every mbuf tagged with holder, bypassing per-lcore caches.
 * Called by the primary after the holder's worker died. Returns how many
 * mbufs it recovered.
 */
unsigned pg_mbuf_reclaim(struct rte_mempool *mp, uint16_t holder);

#endif
