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

/*
 * Blocks of struct pg_stats that are arrays of uint64_t counters in the
 * order of their X-macro (tcp, http): named once for both renderings.
 */
static const char *const pg_status_tcp_names[] = {
#define PG_STATUS_NAME(n) #n,
	PG_TCP_COUNTERS(PG_STATUS_NAME)
#undef PG_STATUS_NAME
};

struct pg_status_group {
	const char *name;
	const char *const *names;
	size_t n;
	size_t off;                  /* of the block in struct pg_stats */
};

static const struct pg_status_group pg_status_tcp = {
	"tcp", pg_status_tcp_names, PG_ARRAY_SIZE(pg_status_tcp_names),
	offsetof(struct pg_stats, tcp),
};
static const struct pg_status_group pg_status_http = {
	"http", pg_http_counter_names, PG_HTTP_C_MAX,
	offsetof(struct pg_stats, http),
};

static const struct pg_status_group pg_status_h2 = {
	"h2", pg_h2_counter_names, PG_H2_C_MAX,
	offsetof(struct pg_stats, h2),
};

static const struct pg_status_group pg_status_tls = {
	"tls", pg_tls_counter_names, PG_TLS_C_MAX,
	offsetof(struct pg_stats, tls),
};

static const struct pg_status_group pg_status_files = {
	"files", pg_fcache_counter_names, PG_FCACHE_C_MAX,
	offsetof(struct pg_stats, files),
};

static uint64_t
pg_status_value(const struct pg_stats *s, const struct pg_status_group *g,
		size_t i)
{
	return ((const uint64_t *)((const char *)s + g->off))[i];
}

static void
pg_status_json_group(FILE *f, const struct pg_stats *s,
		     const struct pg_status_group *g)
{
	fprintf(f, ", \"%s\": {", g->name);
	for (size_t i = 0; i < g->n; i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", g->names[i],
			(unsigned long)pg_status_value(s, g, i));
	fputc('}', f);
}

/*
 * One line for people: the first counter of the group always, then every
 * other one that moved, except those skip() keeps for lines of their own.
 */
static void
pg_status_text_group(FILE *f, const struct pg_stats *s,
		     const struct pg_status_group *g, size_t first,
		     int (*skip)(size_t i))
{
	int col = fprintf(f, "  %s %s %lu", g->name, g->names[first],
			  (unsigned long)pg_status_value(s, g, first));
	for (size_t i = 0; i < g->n; i++) {
		uint64_t v = pg_status_value(s, g, i);
		if (v == 0 || i == first || (skip != NULL && skip(i)))
			continue;
		if (col > 64)
			col = fprintf(f, "\n     ");
		col += fprintf(f, "  %s %lu", g->names[i], (unsigned long)v);
	}
	fputc('\n', f);
}

/* HTTP refusals and early closes get a line each, with what they mean. */
static int
pg_status_http_refusal(size_t i)
{
	return i >= PG_HTTP_C_err_syntax || i == PG_HTTP_C_conn_limit;
}

static int
pg_status_h2_refusal(size_t i)
{
	return i >= PG_H2_C_resets_recv || i == PG_H2_C_conn_refused;
}

static int
pg_status_tls_refusal(size_t i)
{
	return i >= PG_TLS_C_fail_garbage && i <= PG_TLS_C_nomem;
}

static void
pg_status_text_refusals(FILE *f, const struct pg_stats *s,
			const struct pg_status_group *g, size_t first,
			const char *const *texts, int (*refusal)(size_t i))
{
	size_t moved = 0;
	for (size_t i = 0; i < g->n; i++)
		moved += pg_status_value(s, g, i) != 0;
	if (moved == 0)                          /* never served */
		return;
	pg_status_text_group(f, s, g, first, refusal);
	for (size_t i = 0; i < g->n; i++) {
		uint64_t v = pg_status_value(s, g, i);
		if (v != 0 && refusal(i))
			fprintf(f, "  %-4s %-21s %10lu  %s\n", g->name,
				g->names[i], (unsigned long)v, texts[i]);
	}
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
	fputc('}', f);
	pg_status_json_group(f, s, &pg_status_tcp);
	pg_status_json_group(f, s, &pg_status_http);
	pg_status_json_group(f, s, &pg_status_h2);
	pg_status_json_group(f, s, &pg_status_tls);
	pg_status_json_group(f, s, &pg_status_files);
	fputc('}', f);
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
	pg_status_text_group(f, s, &pg_status_tcp,
			     offsetof(struct pg_tcp_stats, conns)
			     / sizeof(uint64_t), NULL);
	pg_status_text_refusals(f, s, &pg_status_http, PG_HTTP_C_requests,
				pg_http_counter_texts, pg_status_http_refusal);
	pg_status_text_refusals(f, s, &pg_status_h2, PG_H2_C_requests,
				pg_h2_counter_texts, pg_status_h2_refusal);
	pg_status_text_refusals(f, s, &pg_status_tls, PG_TLS_C_handshakes,
				pg_tls_counter_texts, pg_status_tls_refusal);
	if (s->files.opens + s->files.open_hits > 0)
		pg_status_text_group(f, s, &pg_status_files, PG_FCACHE_C_opens,
				     NULL);
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
