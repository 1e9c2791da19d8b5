/*
 * The receive path of one worker, frame by frame: ARP answered and learned,
 * ICMP echo answered with a correct checksum, and every malformed frame
 * dropped under its own reason, with no mbuf leaked.
 */
#include "tests/unit/pg_test.h"

#include <rte_arp.h>
#include <rte_icmp.h>

#include "core/pg_shm.h"

static const struct rte_ether_addr our_mac = {{ 0x02, 0, 0, 0, 0, 2 }};
static const struct rte_ether_addr peer_mac = {{ 0x02, 0, 0, 0, 0, 1 }};
#define OUR_IP  RTE_BE32(RTE_IPV4(198, 18, 0, 2))
#define PEER_IP RTE_BE32(RTE_IPV4(198, 18, 0, 1))

struct fixture {
	struct pg_netif nif;
	struct pg_cap_driver cap;
	struct pg_stats stats;
	void *neigh;
};

static int
setup(void **state)
{
	static struct fixture f;
	pg_test_eal();
	memset(&f, 0, sizeof(f));
	f.neigh = calloc(1, pg_neigh_table_size());
	pg_neigh_init(f.neigh);
	pg_netif_init(&f.nif, 0, 1, &our_mac, OUR_IP, 24, 0, 1500);
	pg_cap_init(&f.cap, f.nif.holder);
	f.nif.drv = &f.cap.base;
	f.nif.pool = pg_test_pool;
	f.nif.stats = &f.stats;
	f.nif.neigh = f.neigh;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	pg_cap_clear(&f->cap);
	pg_netif_close(&f->nif);
	free(f->neigh);
	pg_test_assert_no_leak();
	return 0;
}

/* --- frame builders ------------------------------------------------------ */

struct frame {
	uint8_t b[2048];
	size_t len;
};

static void
eth(struct frame *fr, const struct rte_ether_addr *dst, uint16_t type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)fr->b;
	eh->dst_addr = *dst;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(type);
	fr->len = sizeof(*eh);
}

static struct rte_ipv4_hdr *
ipv4(struct frame *fr, uint8_t proto, size_t payload)
{
	eth(fr, &our_mac, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(fr->b + fr->len);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = PEER_IP;
	ip->dst_addr = OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	fr->len += sizeof(*ip) + payload;
	return ip;
}

static void
ip_resum(struct rte_ipv4_hdr *ip)
{
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static struct rte_icmp_hdr *
echo(struct frame *fr, size_t data)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, IPPROTO_ICMP, sizeof(struct rte_icmp_hdr)
				       + data);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_code = 0;
	ic->icmp_ident = RTE_BE16(0x1234);
	ic->icmp_seq_nb = RTE_BE16(7);
	for (size_t i = 0; i < data; i++)
		((uint8_t *)(ic + 1))[i] = (uint8_t)i;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + data);
	return ic;
}

static struct rte_arp_hdr *
arp(struct frame *fr, uint16_t op, uint32_t tip)
{
	static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff,
						      0xff, 0xff }};
	eth(fr, &bcast, RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(fr->b + fr->len);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = peer_mac;
	ah->arp_data.arp_sip = PEER_IP;
	memset(&ah->arp_data.arp_tha, 0, 6);
	ah->arp_data.arp_tip = tip;
	fr->len += sizeof(*ah);
	return ah;
}

/* Feed the frame through one poll. */
static void
feed(struct fixture *f, const struct frame *fr)
{
	pg_cap_push(&f->cap, pg_test_frame(fr->b, fr->len));
	pg_netif_poll(&f->nif);
}

static void
learn_peer(struct fixture *f)
{
	struct frame fr;
	arp(&fr, RTE_ARP_OP_REQUEST, OUR_IP);
	feed(f, &fr);
	pg_cap_clear(&f->cap);
}

/* --- tests --------------------------------------------------------------- */

static void
test_arp_request_answered_and_learned(void **state)
{
	struct fixture *f = *state;
	struct frame fr;
	struct rte_ether_addr mac;

	arp(&fr, RTE_ARP_OP_REQUEST, OUR_IP);
	feed(f, &fr);
	assert_int_equal(f->cap.ntx, 1);
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(f->cap.tx[0],
						    struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	assert_true(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac));
	assert_true(rte_is_same_ether_addr(&eh->src_addr, &our_mac));
	assert_int_equal(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	assert_true(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &our_mac));
	assert_int_equal(ah->arp_data.arp_sip, OUR_IP);
	assert_int_equal(ah->arp_data.arp_tip, PEER_IP);
	assert_int_equal(f->cap.tx[0]->pkt_len, sizeof(*eh) + sizeof(*ah));
	assert_true(pg_neigh_lookup(f->neigh, PEER_IP, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &peer_mac));
}

static void
test_arp_for_other_host_not_learned(void **state)
{
	struct fixture *f = *state;
	struct frame fr;
	struct rte_ether_addr mac;

	arp(&fr, RTE_ARP_OP_REQUEST, RTE_BE32(RTE_IPV4(198, 18, 0, 9)));
	feed(f, &fr);
	assert_int_equal(f->cap.ntx, 0);
	assert_int_equal(f->stats.drops[PG_DROP_arp_not_ours], 1);
	assert_false(pg_neigh_lookup(f->neigh, PEER_IP, &mac));
}

static void
test_echo_answered(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	learn_peer(f);
	echo(&fr, 56);
	feed(f, &fr);
	assert_int_equal(f->cap.ntx, 1);
	assert_int_equal(f->stats.icmp_echo, 1);

	struct rte_mbuf *m = f->cap.tx[0];
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	assert_true(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac));
	assert_int_equal(ip->src_addr, OUR_IP);
	assert_int_equal(ip->dst_addr, PEER_IP);
	assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(ic->icmp_seq_nb, RTE_BE16(7));
	assert_int_equal(rte_raw_cksum(ic, sizeof(*ic) + 56), 0xffff);
	assert_int_equal(((uint8_t *)(ic + 1))[55], 55);
}

static void
test_echo_with_ip_options_answered_without_them(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	learn_peer(f);
	echo(&fr, 8);
	/* Insert 4 bytes of options (NOP x4) after the header. */
	uint8_t *ipb = fr.b + sizeof(struct rte_ether_hdr);
	memmove(ipb + 24, ipb + 20, fr.len - 34);
	memset(ipb + 20, 1, 4);
	fr.len += 4;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)ipb;
	ip->version_ihl = 0x46;
	ip->total_length = rte_cpu_to_be_16(24 + 16);
	ip_resum(ip);
	feed(f, &fr);
	assert_int_equal(f->cap.ntx, 1);
	struct rte_ipv4_hdr *rip = rte_pktmbuf_mtod_offset(f->cap.tx[0],
		struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(rip->version_ihl, RTE_IPV4_VHL_DEF);
	assert_int_equal(rte_be_to_cpu_16(rip->total_length), 20 + 16);
	assert_int_equal(rte_raw_cksum(rip, 20), 0xffff);
	assert_int_equal(rte_raw_cksum(rip + 1, 16), 0xffff);
}

static void
test_echo_unknown_neighbour_triggers_arp(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	echo(&fr, 8);
	feed(f, &fr);
	/* No entry for the peer: the reply is dropped, an ARP request goes. */
	assert_int_equal(f->stats.drops[PG_DROP_no_route], 1);
	assert_int_equal(f->cap.ntx, 1);
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(f->cap.tx[0],
						    struct rte_ether_hdr *);
	assert_int_equal(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	assert_true(rte_is_broadcast_ether_addr(&eh->dst_addr));
}

/* One malformed frame and the counter it must land in. */
struct bad_case {
	const char *name;
	void (*make)(struct frame *fr);
	enum pg_drop reason;
};

static void bad_short(struct frame *fr) { eth(fr, &our_mac, 0x0800); fr->len = 10; }
static void bad_oversize(struct frame *fr) { echo(fr, 1600); }
static void bad_not_ours(struct frame *fr)
{
	static const struct rte_ether_addr other = {{ 0x02, 9, 9, 9, 9, 9 }};
	echo(fr, 8);
	((struct rte_ether_hdr *)fr->b)->dst_addr = other;
}
static void bad_type(struct frame *fr) { eth(fr, &our_mac, 0x86dd); fr->len = 60; }
static void bad_arp_short(struct frame *fr) { arp(fr, 1, OUR_IP); fr->len -= 10; }
static void bad_arp_hrd(struct frame *fr)
{
	arp(fr, 1, OUR_IP)->arp_hardware = RTE_BE16(6);
}
static void bad_ip_short(struct frame *fr) { ipv4(fr, 1, 0); fr->len = 14 + 12; }
static void bad_ip_version(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->version_ihl = 0x65;
	ip_resum(ip);
}
static void bad_ip_ihl(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->version_ihl = 0x43;
	ip_resum(ip);
}
static void bad_ip_len(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->total_length = RTE_BE16(400);
	ip_resum(ip);
}
static void bad_ip_csum(struct frame *fr)
{
	ipv4(fr, 1, 8)->hdr_checksum ^= 0x1;
}
static void bad_ip_martian(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->src_addr = RTE_BE32(RTE_IPV4(127, 0, 0, 1));
	ip_resum(ip);
}
static void bad_ip_not_ours(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->dst_addr = RTE_BE32(RTE_IPV4(198, 18, 0, 3));
	ip_resum(ip);
}
static void bad_ip_frag(struct frame *fr)
{
	struct rte_ipv4_hdr *ip = ipv4(fr, 1, 8);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	ip_resum(ip);
}
static void bad_ip_proto(struct frame *fr) { ipv4(fr, IPPROTO_TCP, 20); }
static void bad_icmp_short(struct frame *fr) { ipv4(fr, IPPROTO_ICMP, 4); }
static void bad_icmp_csum(struct frame *fr) { echo(fr, 8)->icmp_cksum ^= 0x100; }
static void bad_icmp_type(struct frame *fr)
{
	struct rte_icmp_hdr *ic = echo(fr, 8);
	ic->icmp_type = 13;     /* timestamp */
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + 8);
}

static const struct bad_case bad_cases[] = {
	{ "short", bad_short, PG_DROP_eth_short },
	{ "oversize", bad_oversize, PG_DROP_eth_oversize },
	{ "not ours", bad_not_ours, PG_DROP_eth_not_ours },
	{ "ethertype", bad_type, PG_DROP_eth_type },
	{ "arp short", bad_arp_short, PG_DROP_arp_malformed },
	{ "arp hrd", bad_arp_hrd, PG_DROP_arp_malformed },
	{ "ip short", bad_ip_short, PG_DROP_ip_short },
	{ "ip version", bad_ip_version, PG_DROP_ip_version },
	{ "ip ihl", bad_ip_ihl, PG_DROP_ip_ihl },
	{ "ip len", bad_ip_len, PG_DROP_ip_len },
	{ "ip csum", bad_ip_csum, PG_DROP_ip_csum },
	{ "ip martian", bad_ip_martian, PG_DROP_ip_martian },
	{ "ip not ours", bad_ip_not_ours, PG_DROP_ip_not_ours },
	{ "ip frag", bad_ip_frag, PG_DROP_ip_frag },
	{ "ip proto", bad_ip_proto, PG_DROP_ip_proto },
	{ "icmp short", bad_icmp_short, PG_DROP_icmp_short },
	{ "icmp csum", bad_icmp_csum, PG_DROP_icmp_csum },
	{ "icmp type", bad_icmp_type, PG_DROP_icmp_type },
};

static void
test_malformed_frames_counted(void **state)
{
	struct fixture *f = *state;
	learn_peer(f);
	for (size_t i = 0; i < PG_ARRAY_SIZE(bad_cases); i++) {
		struct frame fr;
		uint64_t before[PG_DROP_MAX];
		memset(&fr, 0, sizeof(fr));
		memcpy(before, f->stats.drops, sizeof(before));
		bad_cases[i].make(&fr);
		feed(f, &fr);
		for (unsigned d = 0; d < PG_DROP_MAX; d++) {
			uint64_t want = before[d] + (d == bad_cases[i].reason);
			if (f->stats.drops[d] != want)
				fail_msg("case '%s': drop %s is %lu, want %lu",
					 bad_cases[i].name, pg_drop_names[d],
					 (unsigned long)f->stats.drops[d],
					 (unsigned long)want);
		}
		assert_int_equal(f->cap.ntx, 0);
	}
}

static void
test_tx_refused_is_dropped_not_leaked(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	learn_peer(f);
	uint64_t sent = f->stats.tx_pkts, bytes = f->stats.tx_bytes;
	f->cap.tx_refuse = 1;
	echo(&fr, 8);
	feed(f, &fr);
	assert_int_equal(f->cap.ntx, 0);
	assert_int_equal(f->stats.drops[PG_DROP_tx_full], 1);
	assert_int_equal(f->stats.tx_pkts, sent);
	assert_int_equal(f->stats.tx_bytes, bytes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_request_answered_and_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_for_other_host_not_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_with_ip_options_answered_without_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_unknown_neighbour_triggers_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frames_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_refused_is_dropped_not_leaked, setup, teardown),
	};
	return cmocka_run_group_tests_name("net input", tests, NULL, NULL);
}
