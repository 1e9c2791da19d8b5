/*
 * A test double of struct pg_stream (net/pg_stream.h) with TCP's rules
 * and no network: what the protocol sends is kept until the test takes
 * it (pg_stream_fake_pop), queued bytes are reported like TCP's, and
 * on_writable comes when they fall below the low-water mark after
 * reaching the high one. Input the protocol refuses (PG_AGAIN) is kept
 * and offered again after pg_stream_recv_resume (pg_stream_fake_retry).
 *
 * No test framework here: the unit tests and the fuzz targets share it.
 */
#ifndef PG_STREAM_FAKE_H
#define PG_STREAM_FAKE_H

#include <string.h>

#include "core/pg_core.h"
#include "http/pg_http_msg.h"
#include "net/pg_mbuf.h"
#include "net/pg_stream.h"

struct pg_stream_fake {
	struct pg_stream st;             /* first: ops get &f->st */
	struct rte_mempool *mp;
	struct rte_mbuf *sent, *sent_tail;
	struct rte_mbuf *refused;        /* input answered PG_AGAIN */
	uint32_t queued, high_mark, low_mark;
	int high, resumed, closed, aborted, shut;
};

static inline struct pg_stream_fake *
pg_stream_fake_of(const struct pg_stream *s)
{
	return (struct pg_stream_fake *)(uintptr_t)s;
}

static int
pg_stream_fake_send(struct pg_stream *s, struct rte_mbuf *m)
{
	struct pg_stream_fake *f = pg_stream_fake_of(s);

	if (f->closed) {
		pg_mbuf_free(m);
		return PG_ERROR;
	}
	f->queued += m->pkt_len;
	pg_mbuf_chain_add(&f->sent, &f->sent_tail, m);
	if (f->queued >= f->high_mark)
		f->high = 1;
	return PG_OK;
}

static int
pg_stream_fake_write(struct pg_stream *s, const void *buf, uint32_t len)
{
	struct pg_http_out o;

	pg_http_out_init(&o, pg_stream_fake_of(s)->mp, 1);
	if (pg_http_out_put(&o, buf, len) != PG_OK) {
		pg_http_out_free(&o);
		return PG_ERROR;
	}
	return pg_stream_fake_send(s, pg_http_out_take(&o));
}

static uint32_t
pg_stream_fake_queued(const struct pg_stream *s)
{
	return pg_stream_fake_of(s)->queued;
}

static void
pg_stream_fake_resume(struct pg_stream *s)
{
	pg_stream_fake_of(s)->resumed = 1;
}

static void
pg_stream_fake_shutdown(struct pg_stream *s)
{
	pg_stream_fake_of(s)->shut = 1;
}

static void
pg_stream_fake_close(struct pg_stream *s)
{
	pg_stream_fake_of(s)->closed = 1;
}

static void
pg_stream_fake_abort(struct pg_stream *s)
{
	pg_stream_fake_of(s)->closed = pg_stream_fake_of(s)->aborted = 1;
}

static const struct pg_stream_ops pg_stream_fake_ops = {
	.send = pg_stream_fake_send, .write = pg_stream_fake_write,
	.queued = pg_stream_fake_queued, .recv_resume = pg_stream_fake_resume,
	.shutdown = pg_stream_fake_shutdown, .close = pg_stream_fake_close,
	.abort = pg_stream_fake_abort,
};

static inline void
pg_stream_fake_init(struct pg_stream_fake *f, struct rte_mempool *mp,
		    uint32_t high_mark, uint32_t low_mark)
{
	memset(f, 0, sizeof(*f));
	f->st.ops = &pg_stream_fake_ops;
	f->mp = mp;
	f->high_mark = high_mark;
	f->low_mark = low_mark;
}

/* Offer the bytes at p to the protocol as one chain. PG_ERROR: no mbufs. */
static inline int
pg_stream_fake_offer(struct pg_stream_fake *f, const void *p, uint32_t n)
{
	struct pg_http_out o;
	struct rte_mbuf *m;

	pg_http_out_init(&o, f->mp, 1);
	if (pg_http_out_put(&o, p, n) != PG_OK) {
		pg_http_out_free(&o);
		return PG_ERROR;
	}
	m = pg_http_out_take(&o);
	if (f->refused != NULL) {        /* still refused: keep the order */
		struct rte_mbuf *tail = rte_pktmbuf_lastseg(f->refused);
		pg_mbuf_chain_add(&f->refused, &tail, m);
	} else if (f->closed || f->st.cbs == NULL) {
		pg_mbuf_free(m);
	} else if (f->st.cbs->on_data(&f->st, m) == PG_AGAIN) {
		f->refused = m;
	}
	return PG_OK;
}

/* Offer refused input again if the protocol resumed; 1 when it did. */
static inline int
pg_stream_fake_retry(struct pg_stream_fake *f)
{
	struct rte_mbuf *m = f->refused;

	if (m == NULL || !f->resumed)
		return 0;
	f->refused = NULL;
	f->resumed = 0;
	if (f->closed || f->st.cbs == NULL)
		pg_mbuf_free(m);
	else if (f->st.cbs->on_data(&f->st, m) == PG_AGAIN)
		f->refused = m;
	return 1;
}

/* The next segment sent (the caller frees it), NULL when none. */
static inline struct rte_mbuf *
pg_stream_fake_pop(struct pg_stream_fake *f)
{
	struct rte_mbuf *m;

	if (f->sent == NULL)
		return NULL;
	m = pg_mbuf_chain_pop(&f->sent, &f->sent_tail);
	f->queued -= m->data_len;
	return m;
}

/* After pops: on_writable when the queue fell below the low mark. */
static inline void
pg_stream_fake_drained(struct pg_stream_fake *f)
{
	if (!f->high || f->queued >= f->low_mark || f->closed
	    || f->st.cbs == NULL)
		return;
	f->high = 0;
	if (f->st.cbs->on_writable != NULL)
		f->st.cbs->on_writable(&f->st);
}

/* Free what the fake still holds. */
static inline void
pg_stream_fake_fini(struct pg_stream_fake *f)
{
	if (f->sent != NULL)
		pg_mbuf_free(f->sent);
	if (f->refused != NULL)
		pg_mbuf_free(f->refused);
	f->sent = f->sent_tail = f->refused = NULL;
}

#endif
