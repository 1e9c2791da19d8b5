/*
 * `perigee status`: per worker counters, pool levels and supervision
 * state, as a table for people or JSON for scripts.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_ether.h>

#include "core/pg_primary.h"
#include "core/pg_shdict.h"
#include "net/pg_neigh.h"

static const char *const pg_state_names[] = {
	[PG_WORKER_STOPPED] = "stopped",
	[PG_WORKER_STARTING] = "starting",
	[PG_WORKER_RUNNING] = "running",
	[PG_WORKER_EXITED] = "exited",
};

/* The counters of struct pg_stats, named once for both renderings. */
#define PG_STATUS_COUNTERS(X)                                          \
	X(rx_pkts) X(rx_bytes) X(tx_pkts) X(tx_bytes) X(steer_out)     \
	X(steer_in) X(arp_in) X(arp_out) X(icmp_echo) X(fault_dup)     \
	X(fault_reorder) X(reloads)

struct pg_status_worker {
	const struct pg_worker_shm *ws;
	const char *state;
	double uptime;
	unsigned pool_free;
	unsigned pool_size;
};

static void
pg_status_worker_get(struct pg_primary *p, unsigned i,
		     struct pg_status_worker *sw, uint64_t now)
{
	sw->ws = &p->shm->workers[i];
	uint32_t st = sw->ws->state;
	sw->state = st < PG_ARRAY_SIZE(pg_state_names) ? pg_state_names[st]
						       : "?";
	sw->uptime = st == PG_WORKER_RUNNING
		     ? (double)(now - sw->ws->started_ns) / 1e9 : 0;
	sw->pool_free = rte_mempool_avail_count(p->pools[i]);
	sw->pool_size = p->pools[i]->size;
}

/* The counters of struct pg_tcp_stats, by name, for both renderings. */
static const struct {
	const char *name;
	size_t off;
} pg_status_tcp[] = {
#define PG_STATUS_TCP(n) { #n, offsetof(struct pg_tcp_stats, n) },
	PG_TCP_COUNTERS(PG_STATUS_TCP)
#undef PG_STATUS_TCP
};

static uint64_t
pg_status_tcp_value(const struct pg_tcp_stats *t, size_t i)
{
	return *(const uint64_t *)((const char *)t + pg_status_tcp[i].off);
}

static void
pg_status_json_worker(FILE *f, unsigned i, const struct pg_status_worker *sw)
{
	const struct pg_stats *s = &sw->ws->stats;
	fprintf(f, "%s\n    {\"id\": %u, \"pid\": %d, \"lcore\": %u, "
		"\"cpu\": %u, \"state\": \"%s\", \"uptime\": %.3f, "
		"\"restarts\": %u, \"generation\": %lu, \"mempool_free\": %u, "
		"\"mempool_size\": %u", i ? "," : "", i, (int)sw->ws->pid,
		sw->ws->lcore, sw->ws->cpu, sw->state, sw->uptime,
		sw->ws->restarts, (unsigned long)sw->ws->generation,
		sw->pool_free, sw->pool_size);
#define PG_JSON_COUNTER(name) \
	fprintf(f, ", \"%s\": %lu", #name, (unsigned long)s->name);
	PG_STATUS_COUNTERS(PG_JSON_COUNTER)
#undef PG_JSON_COUNTER
	fprintf(f, ", \"drops\": {");
	for (unsigned d = 0; d < PG_DROP_MAX; d++)
		fprintf(f, "%s\"%s\": %lu", d ? ", " : "", pg_drop_names[d],
			(unsigned long)s->drops[d]);
	fprintf(f, "}, \"tcp\": {");
	for (size_t i = 0; i < PG_ARRAY_SIZE(pg_status_tcp); i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", pg_status_tcp[i].name,
			(unsigned long)pg_status_tcp_value(&s->tcp, i));
	fprintf(f, "}}");
}

/* TCP in the table: the connections open, then every counter that moved. */
static void
pg_status_text_tcp(FILE *f, const struct pg_tcp_stats *t)
{
	int col = fprintf(f, "  tcp conns %lu", (unsigned long)t->conns);
	for (size_t i = 0; i < PG_ARRAY_SIZE(pg_status_tcp); i++) {
		uint64_t v = pg_status_tcp_value(t, i);
		if (v == 0 || pg_status_tcp[i].off
			      == offsetof(struct pg_tcp_stats, conns))
			continue;
		if (col > 64)
			col = fprintf(f, "\n     ");
		col += fprintf(f, "  %s %lu", pg_status_tcp[i].name,
			       (unsigned long)v);
	}
	fputc('\n', f);
}

static void
pg_status_text_worker(FILE *f, unsigned i, const struct pg_status_worker *sw)
{
	const struct pg_stats *s = &sw->ws->stats;
	fprintf(f, "worker %u  pid %d  cpu %u  lcore %u  %s  uptime %.1fs  "
		"restarts %u  mbufs free %u/%u\n", i, (int)sw->ws->pid,
		sw->ws->cpu, sw->ws->lcore, sw->state, sw->uptime,
		sw->ws->restarts, sw->pool_free, sw->pool_size);
	fprintf(f, "  rx %lu pkts %lu bytes  tx %lu pkts %lu bytes  steered "
		"out %lu in %lu  arp in %lu out %lu  echo %lu\n",
		(unsigned long)s->rx_pkts, (unsigned long)s->rx_bytes,
		(unsigned long)s->tx_pkts, (unsigned long)s->tx_bytes,
		(unsigned long)s->steer_out, (unsigned long)s->steer_in,
		(unsigned long)s->arp_in, (unsigned long)s->arp_out,
		(unsigned long)s->icmp_echo);
	pg_status_text_tcp(f, &s->tcp);
	for (unsigned d = 0; d < PG_DROP_MAX; d++)
		if (s->drops[d] != 0)
			fprintf(f, "  drop %-14s %10lu  %s\n", pg_drop_names[d],
				(unsigned long)s->drops[d], pg_drop_texts[d]);
}

/* The shared dictionaries: size, use and evictions (read without lock). */
static void
pg_status_shdicts(FILE *f, int json)
{
	struct pg_shdict *d;
	struct pg_shdict_stats st;

	if (json)
		fprintf(f, ",\n  \"shared\": [");
	for (unsigned i = 0; (d = pg_shdict_at(i)) != NULL; i++) {
		pg_shdict_stats(d, &st);
		if (json)
			fprintf(f, "%s\n    {\"name\": \"%s\", \"capacity\": %lu, "
				"\"free\": %lu, \"items\": %lu, \"evictions\": "
				"%lu, \"expired\": %lu, \"recoveries\": %lu}",
				i ? "," : "", d->name,
				(unsigned long)st.capacity,
				(unsigned long)st.free, (unsigned long)st.items,
				(unsigned long)st.evictions,
				(unsigned long)st.expired,
				(unsigned long)st.recoveries);
		else
			fprintf(f, "shared %-12s capacity %lu  free %lu  items %lu"
				"  evictions %lu  expired %lu  recoveries %lu\n",
				d->name, (unsigned long)st.capacity,
				(unsigned long)st.free, (unsigned long)st.items,
				(unsigned long)st.evictions,
				(unsigned long)st.expired,
				(unsigned long)st.recoveries);
	}
	if (json)
		fprintf(f, "%s]", pg_shdict_at(0) != NULL ? "\n  " : "");
}

char *
pg_status_render(struct pg_primary *p, int json, size_t *len)
{
	char *buf = NULL, mac[RTE_ETHER_ADDR_FMT_SIZE], addr[INET_ADDRSTRLEN];
	FILE *f = open_memstream(&buf, len);
	uint64_t now = pg_now_ns();
	const struct pg_shared *shm = p->shm;

	if (f == NULL)
		return NULL;
	rte_ether_format_addr(mac, sizeof(mac), &shm->mac);
	inet_ntop(AF_INET, &shm->cfg.address, addr, sizeof(addr));
	double up = (double)(now - shm->started_ns) / 1e9;
	unsigned neigh = pg_neigh_count(p->mz_neigh->addr);

	if (json)
		fprintf(f, "{\"name\": \"%s\", \"version\": \"%s\", \"pid\": %d, "
			"\"mode\": \"%s\", \"uptime\": %.3f, \"generation\": %lu, "
			"\"mac\": \"%s\", \"address\": \"%s\", \"neighbours\": %u, "
			"\"workers\": [", shm->cfg.name, PG_VERSION, (int)getpid(),
			p->opts.single ? "single" : "multi", up,
			(unsigned long)shm->generation, mac, addr, neigh);
	else
		fprintf(f, "perigee %s  '%s'  pid %d  %s-process  uptime %.1fs  "
			"generation %lu\ninterface %s/%u  MAC %s  neighbours %u\n",
			PG_VERSION, shm->cfg.name, (int)getpid(),
			p->opts.single ? "single" : "multi", up,
			(unsigned long)shm->generation, addr, shm->cfg.prefix,
			mac, neigh);
	for (unsigned i = 0; i < p->cfg.nworkers; i++) {
		struct pg_status_worker sw;
		pg_status_worker_get(p, i, &sw, now);
		if (json)
			pg_status_json_worker(f, i, &sw);
		else
			pg_status_text_worker(f, i, &sw);
	}
	if (json)
		fprintf(f, "\n  ]");
	pg_status_shdicts(f, json);
	if (json)
		fprintf(f, "}\n");
	fclose(f);
	return buf;
}
