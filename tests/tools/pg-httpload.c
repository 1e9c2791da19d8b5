/*
 * pg-httpload: an HTTP/1.1 load generator on Perigee's own TCP stack, for
 * the ceiling of scripts/bench-ceiling: no kernel on the path, the client
 * and the server joined by a DPDK virtual device (net_memif).
 *
 *   pg-httpload VDEV CONNS PIPELINE[,PIPELINE...] SECONDS [PATH]
 *
 * VDEV is the client's end, e.g. "net_memif0,role=client,
 * mac=02:00:00:00:00:01" (the server's end has mac 02:00:00:00:00:02, the
 * MAC pg_tool_mac gives 198.18.0.2). CONNS keep-alive connections from
 * 198.18.0.1 to 198.18.0.2:8080 each keep PIPELINE requests
 * "GET PATH HTTP/1.1" in flight (PIPELINE 1: request, answer, request...).
 * Every answer must be "HTTP/1.1 200" with a Content-Length. For each
 * PIPELINE given, on the same connections (a memif peer may not take a
 * second client), after a second of warm-up and SECONDS of counting it
 * prints one line:
 *   "pipeline P requests N seconds S rps R conns C"
 * (any wrong answer or lost connection ends it with status 1).
 * Exit status: 0 done, 1 a failure (the reason on stderr), 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "core/pg_core.h"
#include "core/pg_shm.h"
#include "net/pg_driver.h"
#include "net/pg_mbuf.h"
#include "net/pg_tcp.h"
#include "tests/tools/pg_tool_net.h"

#define HL_SERVER  RTE_BE32(0xc6120002u)     /* 198.18.0.2 */
#define HL_CLIENT  RTE_BE32(0xc6120001u)     /* 198.18.0.1 */
#define HL_PORT    8080
#define HL_MBUFS   32767
#define HL_HEAD    2048                      /* response head, bytes */
#define HL_NS      1000000000ull

/* One connection: its response parser and what it has in flight. */
struct hl_conn {
	struct pg_tcp_conn *c;
	char head[HL_HEAD];
	uint32_t head_len;
	uint64_t body_left;                  /* of the current response */
	uint32_t in_flight;
	int in_body;
};

static struct {
	struct pg_tcp_stack *s;
	char req[512];
	uint32_t req_len, pipeline;
	uint64_t done;
	int measuring;
	unsigned connected;
} hl;

static void
hl_die(const char *what, const char *why)
{
	fprintf(stderr, "pg-httpload: %s: %s\n", what, why);
	exit(1);
}

static void
hl_send(struct hl_conn *h)
{
	while (h->in_flight < hl.pipeline) {
		if (pg_tcp_write(h->c, hl.req, hl.req_len) != PG_OK)
			return;              /* the queue is full: next answer */
		h->in_flight++;
	}
}

/* A whole response head is in h->head: check it, find its body. */
static int
hl_head(struct hl_conn *h)
{
	const char *cl;

	h->head[h->head_len] = '\0';
	if (strncmp(h->head, "HTTP/1.1 200 ", 13) != 0)
		return PG_ERROR;
	cl = strcasestr(h->head, "\r\ncontent-length:");
	if (cl == NULL)
		return PG_ERROR;
	h->body_left = strtoull(cl + 17, NULL, 10);
	h->in_body = 1;
	h->head_len = 0;
	return PG_OK;
}

static void
hl_answer(struct hl_conn *h)
{
	h->in_body = 0;
	h->in_flight--;
	if (hl.measuring)
		hl.done++;
	hl_send(h);
}

/* Parse the bytes of one segment: heads byte by byte, bodies skipped. */
static int
hl_parse(struct hl_conn *h, const char *p, uint32_t n)
{
	while (n > 0) {
		if (h->in_body) {
			uint64_t k = RTE_MIN((uint64_t)n, h->body_left);
			h->body_left -= k;
			p += k;
			n -= (uint32_t)k;
			if (h->body_left == 0)
				hl_answer(h);
			continue;
		}
		if (h->head_len == HL_HEAD - 1)
			return PG_ERROR;
		h->head[h->head_len++] = *p++;
		n--;
		if (h->head_len >= 4
		    && memcmp(h->head + h->head_len - 4, "\r\n\r\n", 4) == 0) {
			if (hl_head(h) != PG_OK)
				return PG_ERROR;
			if (h->body_left == 0)
				hl_answer(h);
		}
	}
	return PG_OK;
}

static int
hl_on_data(struct pg_tcp_conn *c, struct rte_mbuf *m)
{
	struct hl_conn *h = pg_tcp_ctx(c);
	int rc = PG_OK;

	for (struct rte_mbuf *s = m; s != NULL && rc == PG_OK; s = s->next)
		rc = hl_parse(h, rte_pktmbuf_mtod(s, const char *),
			      s->data_len);
	pg_mbuf_free(m);
	if (rc != PG_OK) {
		h->head[h->head_len] = '\0';   /* (head_len < HL_HEAD) */
		hl_die("not a 200 with a Content-Length", h->head);
	}
	return PG_OK;
}

static void
hl_on_connected(struct pg_tcp_conn *c)
{
	hl.connected++;
	hl_send(pg_tcp_ctx(c));
}

static void
hl_on_writable(struct pg_tcp_conn *c)
{
	hl_send(pg_tcp_ctx(c));
}

static void
hl_on_close(struct pg_tcp_conn *c, enum pg_tcp_reason why)
{
	(void)c;
	if (why != PG_TCP_SHUTDOWN)
		hl_die("a connection ended", pg_tcp_reason_names[why]);
}

static void
hl_on_eof(struct pg_tcp_conn *c)
{
	(void)c;
	hl_die("a connection ended", "the server closed it");
}

static const struct pg_tcp_callbacks hl_cb = {
	.on_connected = hl_on_connected,
	.on_data = hl_on_data,
	.on_eof = hl_on_eof,
	.on_writable = hl_on_writable,
	.on_close = hl_on_close,
};

/* The client's port: one queue pair, up within 10 s (the memif peer). */
static void
hl_port(struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link;

	if (rte_eth_dev_count_avail() < 1)
		hl_die("the device", "did not probe");
	if (rte_eth_dev_configure(0, 1, 1, &conf) != 0
	    || rte_eth_rx_queue_setup(0, 0, 1024, 0, NULL, pool) != 0
	    || rte_eth_tx_queue_setup(0, 0, 1024, 0, NULL) != 0
	    || rte_eth_dev_start(0) != 0)
		hl_die("the device", "cannot configure or start it");
	for (int i = 0; i < 1000; i++) {
		if (rte_eth_link_get_nowait(0, &link) == 0 && link.link_status)
			return;
		usleep(10000);
	}
	hl_die("the device", "no link in 10 s (is the server up?)");
}

static void
hl_poll(struct pg_tool_node *n)
{
	pg_netif_poll(&n->nif);
	pg_tcp_stack_poll(hl.s);
	pg_netif_flush(&n->nif);
}

int
main(int argc, char **argv)
{
	static struct pg_tool_node node;
	struct pg_tcp_conf tc;
	const char *err = "?";
	struct hl_conn *conns;
	unsigned nconns;
	uint64_t t0, t1, end;

	if (argc < 5 || atoi(argv[2]) <= 0 || atoi(argv[3]) <= 0
	    || atoi(argv[4]) <= 0) {
		fprintf(stderr, "usage: pg-httpload VDEV CONNS PIPELINE[,...] "
			"SECONDS [PATH]\n");
		return 2;
	}
	nconns = (unsigned)atoi(argv[2]);
	hl.pipeline = 1;
	hl.req_len = (uint32_t)snprintf(hl.req, sizeof(hl.req),
		"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n",
		argc > 5 ? argv[5] : "/");
	pg_tool_eal_args("pg-httpload", 512, argv[1]);
	struct rte_mempool *pool = pg_mbuf_pool_create("hl_pool", HL_MBUFS, 0);
	if (pool == NULL)
		hl_die("pg_mbuf_pool_create", "cannot create the pool");
	hl_port(pool);
	struct pg_driver *drv = pg_driver_ethdev_open(0, 0, 0, &err);
	if (drv == NULL)
		hl_die("pg_driver_ethdev_open", err);
	pg_tool_node_init(&node, HL_CLIENT, HL_SERVER, drv, pool);
	pg_tcp_conf_default(&tc);
	hl.s = pg_tcp_stack_create(&node.nif, &tc, NULL, &err);
	if (hl.s == NULL)
		hl_die("pg_tcp_stack_create", err);
	conns = calloc(nconns, sizeof(*conns));
	if (conns == NULL)
		hl_die("connections", "out of memory");
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].c = pg_tcp_connect(hl.s, HL_SERVER, HL_PORT, &hl_cb,
					    &conns[i], NULL, &err);
		if (conns[i].c == NULL)
			hl_die("pg_tcp_connect", err);
	}
	end = pg_now_ns() + 10 * HL_NS;
	while (hl.connected < nconns && pg_now_ns() < end)
		hl_poll(&node);
	if (hl.connected < nconns)
		hl_die("connections", "not all opened in 10 s");
	for (const char *pl = argv[3]; pl != NULL; pl = strchr(pl, ',')) {
		pl += *pl == ',';
		hl.pipeline = (uint32_t)atoi(pl);
		if (hl.pipeline == 0)
			hl_die("PIPELINE", "must be a positive number");
		for (unsigned i = 0; i < nconns; i++)
			hl_send(&conns[i]);
		end = pg_now_ns() + HL_NS;           /* warm-up */
		while (pg_now_ns() < end)
			hl_poll(&node);
		hl.done = 0;
		hl.measuring = 1;
		t0 = pg_now_ns();
		end = t0 + (uint64_t)atoi(argv[4]) * HL_NS;
		while ((t1 = pg_now_ns()) < end)
			hl_poll(&node);
		hl.measuring = 0;
		double secs = (double)(t1 - t0) / HL_NS;
		printf("pipeline %u requests %lu seconds %.3f rps %.0f conns "
		       "%u\n", hl.pipeline, (unsigned long)hl.done, secs,
		       (double)hl.done / secs, nconns);
		fflush(stdout);
	}
	pg_tcp_stack_destroy(hl.s);
	pg_netif_flush(&node.nif);
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	return 0;
}
