#include <rte_mbuf.h>

#include "net/pg_mbuf.h"

struct rte_mempool *
pg_mbuf_pool_create(const char *name, unsigned n, int socket)
{
	/* rte_pktmbuf_init zeroes the private area: fresh mbufs are untagged. */
	return rte_pktmbuf_pool_create(name, n, PG_MBUF_CACHE,
				       PG_MBUF_PRIV_SIZE, PG_MBUF_DATA_ROOM,
				       socket);
}

struct pg_reclaim {
	uint16_t holder;
	unsigned count;
};

static void
pg_mbuf_reclaim_one(struct rte_mempool *mp, void *arg, void *obj,
		    unsigned idx)
{
	struct pg_reclaim *r = arg;
	struct rte_mbuf *m = obj;

	if (pg_mbuf_priv(m)->holder != r->holder)
		return;
	pg_mbuf_priv(m)->holder = 0;
	/* A clone (TCP keeps payload by reference) gets its own buffer back
	 * without touching the one it was attached to: that one is tagged
	 * too and reclaimed on its own, in whatever order the walk finds
	 * them. */
	if (RTE_MBUF_CLONED(m) || RTE_MBUF_HAS_EXTBUF(m)) {
		uint32_t hdr = sizeof(*m) + rte_pktmbuf_priv_size(mp);
		m->buf_addr = (char *)m + hdr;
		rte_mbuf_iova_set(m, rte_mempool_virt2iova(m) + hdr);
		m->buf_len = rte_pktmbuf_data_room_size(mp);
		m->shinfo = NULL;
		m->ol_flags = 0;
	}
	/* Each tagged segment is reclaimed on its own: cut it loose. Every
	 * reference to it was the dead worker's (a synchronous PMD that took
	 * one during a transmit has dropped it or never will). */
	m->next = NULL;
	m->nb_segs = 1;
	rte_mbuf_refcnt_set(m, 1);
	m = rte_pktmbuf_prefree_seg(m);
	if (m == NULL)
		return;
	rte_mempool_generic_put(mp, (void **)&m, 1, NULL);
	r->count++;
}

unsigned
pg_mbuf_reclaim(struct rte_mempool *mp, uint16_t holder)
{
	struct pg_reclaim r = { holder, 0 };
	rte_mempool_obj_iter(mp, pg_mbuf_reclaim_one, &r);
	return r.count;
}
