/*
 * Per-worker counters. Each worker is the single writer of its own block
 * (cache-aligned, in shared memory); the primary only reads them for
 * `perigee status`. One counter per drop reason.
 */
#ifndef PG_STATS_H
#define PG_STATS_H

#include <stdint.h>

#include <rte_common.h>

#include "http/pg_fcache.h"
#include "http/pg_h2.h"
#include "http/pg_http_stats.h"
#include "net/pg_tls.h"
#include "net/pg_tcp.h"

#define PG_DROP_REASONS(X)                                                   \
	X(eth_short,       "frame shorter than an Ethernet header")          \
	X(eth_oversize,    "frame longer than the MTU allows")              \
	X(eth_not_ours,    "destination MAC neither ours nor broadcast")    \
	X(eth_type,        "EtherType not handled")                         \
	X(arp_malformed,   "ARP packet not Ethernet/IPv4 or truncated")     \
	X(arp_not_ours,    "ARP for another address")                       \
	X(ip_short,        "IPv4 packet shorter than its header")           \
	X(ip_version,      "IP version is not 4")                           \
	X(ip_ihl,          "IPv4 header length below 20 bytes")             \
	X(ip_len,          "IPv4 total length inconsistent with the frame") \
	X(ip_csum,         "bad IPv4 header checksum")                      \
	X(ip_martian,      "IPv4 source address impossible")                \
	X(ip_not_ours,     "IPv4 destination is not our address")           \
	X(ip_frag,         "IPv4 fragment (reassembly is not supported)")   \
	X(ip_proto,        "no handler for the IP protocol")                \
	X(icmp_short,      "ICMP message truncated")                        \
	X(icmp_csum,       "bad ICMP checksum")                             \
	X(icmp_type,       "ICMP type not handled")                         \
	X(no_route,        "no neighbour entry for the next hop yet")       \
	X(no_mbuf,         "mbuf pool exhausted")                           \
	X(tx_full,         "transmit queue full")                           \
	X(steer_full,      "steering ring to the owner worker full")        \
	X(fault,           "dropped by the fault-injection filter")         \
	X(tcp_short,       "TCP segment shorter than its header")           \
	X(tcp_csum,        "bad TCP checksum")                              \
	X(tcp_no_conn,     "TCP segment for no connection (RST sent)")      \
	X(tcp_invalid,     "TCP segment unacceptable in its state")         \
	X(tcp_paws,        "TCP segment with an old timestamp (PAWS)")      \
	X(tcp_ooo_full,    "out-of-order TCP data over the memory budget")  \
	X(tcp_syn_flood,   "SYN over the half-open and cookie limits")      \
	X(tcp_conn_limit,  "SYN over the per-worker connection limit")

enum pg_drop {
#define PG_DROP_ENUM(name, text) PG_DROP_##name,
	PG_DROP_REASONS(PG_DROP_ENUM)
#undef PG_DROP_ENUM
	PG_DROP_MAX
};

extern const char *const pg_drop_names[PG_DROP_MAX];
extern const char *const pg_drop_texts[PG_DROP_MAX];

struct pg_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t steer_out;          /* handed to the owner worker */
	uint64_t steer_in;           /* received from another worker */
	uint64_t arp_in;
	uint64_t arp_out;
	uint64_t icmp_echo;          /* echo requests answered */
	uint64_t fault_dup;
	uint64_t fault_reorder;
	uint64_t reloads;
	uint64_t drops[PG_DROP_MAX];
	struct pg_tcp_stats tcp;     /* written by the worker's TCP stack */
	struct pg_http_stats http;   /* written by its HTTP/1.1 server */
	struct pg_h2_stats h2;       /* and by its HTTP/2 server */
	struct pg_tls_stats tls;     /* its TLS listeners */
	struct pg_fcache_stats files; /* its file cache (res:sendfile) */
} __rte_cache_aligned;

#define PG_STAT_INC(s, field)      ((s)->field++)
#define PG_STAT_ADD(s, field, n)   ((s)->field += (n))
#define PG_DROP(s, reason)         ((s)->drops[PG_DROP_##reason]++)

#endif
