/*
 * pg-rawframe: send crafted Ethernet frames on an interface through an
 * AF_PACKET socket, to check how Perigee validates what it receives.
 *
 *   pg-rawframe [-g USEC] IFACE DSTMAC KIND [COUNT [SPORT [STEP]]]
 *   pg-rawframe --list
 *
 * Run it inside the test's network namespace on the kernel side of the TAP
 * device. Frames go from the interface's own MAC and 198.18.0.1 to DSTMAC
 * and 198.18.0.2; the only other address ever written is one of these two
 * (a martian source is Perigee's own address, a foreign destination is the
 * kernel side's). KIND names the defect, and the drop counter it should
 * hit is listed by --list as "KIND COUNTER" (the e2e tests read that list).
 * "udp" sends COUNT datagrams from source ports SPORT, SPORT+STEP, ...
 * (default 20000 and 1; modulo 65536) to port 80, so that their flows
 * spread over the workers. -g sets the pause between two frames (default
 * 100 us: the TAP queue is short).
 *
 * Exit status: 0 sent, 1 error, 2 usage, 3 the kernel refused the frame
 * itself (Linux does not transmit a frame shorter than the device's link
 * header, so "short" never reaches the wire from the kernel side).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RF_CLIENT_IP  0xc6120001u   /* 198.18.0.1 */
#define RF_SERVER_IP  0xc6120002u   /* 198.18.0.2 */
#define RF_ETH_HLEN   14
#define RF_IP_HLEN    20
#define RF_FRAME_MAX  2048
#define RF_OVERSIZE   1600          /* > 1500 + 18 but one mbuf segment */
#define RF_COUNT_MAX  100000000
#define RF_GAP_US     100           /* default pause between frames */

struct rf_frame {
	uint8_t buf[RF_FRAME_MAX];
	size_t len;
	uint8_t dst[6];
	uint8_t src[6];
	unsigned seq;                 /* frame index, for ids and ports */
	unsigned sport;
	unsigned step;
};

typedef void (*rf_build_fn)(struct rf_frame *f);

struct rf_kind {
	const char *name;
	const char *counter;          /* what Perigee should count */
	rf_build_fn build;
};

/* --- byte helpers -------------------------------------------------------- */

static void
rf_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
rf_put32(uint8_t *p, uint32_t v)
{
	rf_put16(p, v >> 16);
	rf_put16(p + 2, v & 0xffff);
}

/* The Internet checksum (RFC 1071) of len bytes, folded and inverted. */
static unsigned
rf_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* --- layers -------------------------------------------------------------- */

/* Ethernet header; returns the payload. */
static uint8_t *
rf_eth(struct rf_frame *f, const uint8_t *dst, unsigned type)
{
	memcpy(f->buf, dst, 6);
	memcpy(f->buf + 6, f->src, 6);
	rf_put16(f->buf + 12, type);
	f->len = RF_ETH_HLEN;
	return f->buf + RF_ETH_HLEN;
}

/*
 * IPv4 header (no options) from 198.18.0.1 to 198.18.0.2 carrying plen
 * bytes of protocol proto, with a valid checksum; the frame ends with the
 * datagram. Returns the payload.
 */
static uint8_t *
rf_ip(struct rf_frame *f, unsigned proto, size_t plen)
{
	uint8_t *ip = rf_eth(f, f->dst, 0x0800);
	memset(ip, 0, RF_IP_HLEN);
	ip[0] = 0x45;
	rf_put16(ip + 2, (unsigned)(RF_IP_HLEN + plen));
	rf_put16(ip + 4, 0x5000 + (f->seq & 0xfff));
	rf_put16(ip + 6, 0x4000);                 /* DF */
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	rf_put32(ip + 12, RF_CLIENT_IP);
	rf_put32(ip + 16, RF_SERVER_IP);
	rf_put16(ip + 10, rf_csum(ip, RF_IP_HLEN, 0));
	f->len += RF_IP_HLEN + plen;
	return ip + RF_IP_HLEN;
}

static uint8_t *
rf_ip_hdr(struct rf_frame *f)
{
	return f->buf + RF_ETH_HLEN;
}

/* Recompute the IPv4 header checksum after a change. */
static void
rf_ip_fix(struct rf_frame *f)
{
	uint8_t *ip = rf_ip_hdr(f);
	rf_put16(ip + 10, 0);
	rf_put16(ip + 10, rf_csum(ip, (size_t)(ip[0] & 0xf) * 4, 0));
}

/* ICMP message of type/code with a payload of plen bytes, valid sum. */
static uint8_t *
rf_icmp(struct rf_frame *f, unsigned type, size_t plen)
{
	size_t len = 8 + plen;
	uint8_t *ic = rf_ip(f, 1, len);
	memset(ic, 0, len);
	ic[0] = (uint8_t)type;
	rf_put16(ic + 4, 0x7067);                 /* identifier "pg" */
	rf_put16(ic + 6, f->seq & 0xffff);
	for (size_t i = 0; i < plen; i++)
		ic[8 + i] = (uint8_t)('a' + i % 26);
	rf_put16(ic + 2, rf_csum(ic, len, 0));
	return ic;
}

static uint8_t *
rf_echo(struct rf_frame *f)
{
	return rf_icmp(f, 8, 56);
}

/* ARP request from 198.18.0.1 for tip; returns the ARP header. */
static uint8_t *
rf_arp(struct rf_frame *f, uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = rf_eth(f, bcast, 0x0806);
	rf_put16(a, 1);                           /* Ethernet */
	rf_put16(a + 2, 0x0800);                  /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	rf_put16(a + 6, 1);                       /* request */
	memcpy(a + 8, f->src, 6);
	rf_put32(a + 14, RF_CLIENT_IP);
	memset(a + 18, 0, 6);
	rf_put32(a + 24, tip);
	f->len += 28;
	return a;
}

/* --- kinds --------------------------------------------------------------- */

static void
rf_short(struct rf_frame *f)
{
	/* Fewer bytes than an Ethernet header. */
	rf_eth(f, f->dst, 0x0800);
	f->len = 10;
}

static void
rf_oversize(struct rf_frame *f)
{
	rf_icmp(f, 8, RF_OVERSIZE - RF_ETH_HLEN - RF_IP_HLEN - 8);
}

static void
rf_bad_ethertype(struct rf_frame *f)
{
	uint8_t *p = rf_eth(f, f->dst, 0x88b5);   /* IEEE local experimental */
	memset(p, 0x5a, 46);
	f->len += 46;
}

static void
rf_not_ours_mac(struct rf_frame *f)
{
	/* A valid echo request, to a unicast MAC one bit away from Perigee's. */
	f->dst[5] ^= 0x01;
	rf_echo(f);
}

static void
rf_arp_short(struct rf_frame *f)
{
	rf_arp(f, RF_SERVER_IP);
	f->len = RF_ETH_HLEN + 20;
}

static void
rf_arp_bad_hrd(struct rf_frame *f)
{
	uint8_t *a = rf_arp(f, RF_SERVER_IP);
	rf_put16(a, 6);                           /* IEEE 802, not Ethernet */
}

static void
rf_arp_bad_sender(struct rf_frame *f)
{
	uint8_t *a = rf_arp(f, RF_SERVER_IP);
	a[8] |= 0x01;                             /* multicast sender MAC */
}

static void
rf_arp_not_ours(struct rf_frame *f)
{
	/* A gratuitous ARP of the kernel side: for an address not Perigee's. */
	rf_arp(f, RF_CLIENT_IP);
}

static void
rf_ip_short(struct rf_frame *f)
{
	uint8_t *ip = rf_eth(f, f->dst, 0x0800);
	memset(ip, 0, 16);
	ip[0] = 0x45;
	f->len += 16;
}

static void
rf_ip_version(struct rf_frame *f)
{
	rf_echo(f);
	rf_ip_hdr(f)[0] = 0x65;
	rf_ip_fix(f);
}

static void
rf_ip_ihl(struct rf_frame *f)
{
	rf_echo(f);
	rf_ip_hdr(f)[0] = 0x44;
	rf_ip_fix(f);
}

static void
rf_ip_len(struct rf_frame *f)
{
	/* Total length claims more than the frame holds. */
	rf_echo(f);
	rf_put16(rf_ip_hdr(f) + 2, 1000);
	rf_ip_fix(f);
}

static void
rf_ip_csum(struct rf_frame *f)
{
	rf_echo(f);
	rf_ip_hdr(f)[10] ^= 0xff;
}

static void
rf_ip_martian(struct rf_frame *f)
{
	/* From Perigee's own address. */
	rf_echo(f);
	rf_put32(rf_ip_hdr(f) + 12, RF_SERVER_IP);
	rf_ip_fix(f);
}

static void
rf_ip_not_ours(struct rf_frame *f)
{
	/* To the kernel side's address, through Perigee's MAC. */
	rf_echo(f);
	rf_put32(rf_ip_hdr(f) + 16, RF_CLIENT_IP);
	rf_ip_fix(f);
}

static void
rf_ip_frag(struct rf_frame *f)
{
	rf_echo(f);
	rf_put16(rf_ip_hdr(f) + 6, 0x2000);       /* MF, offset 0 */
	rf_ip_fix(f);
}

static void
rf_ip_proto(struct rf_frame *f)
{
	uint8_t *p = rf_ip(f, 253, 32);           /* RFC 3692 experimental */
	memset(p, 0x5a, 32);
}

static void
rf_icmp_short(struct rf_frame *f)
{
	/* Four bytes of ICMP: less than its header. */
	uint8_t *ic = rf_ip(f, 1, 4);
	ic[0] = 8;
	ic[1] = 0;
	rf_put16(ic + 2, 0);
	rf_put16(ic + 2, rf_csum(ic, 4, 0));
}

static void
rf_icmp_csum(struct rf_frame *f)
{
	uint8_t *ic = rf_echo(f);
	ic[2] ^= 0xff;
}

static void
rf_icmp_type(struct rf_frame *f)
{
	rf_icmp(f, 13, 12);                       /* timestamp request */
}

static void
rf_good_echo(struct rf_frame *f)
{
	rf_echo(f);
}

static void
rf_udp(struct rf_frame *f)
{
	static const char text[] = "perigee steering test";
	size_t plen = sizeof(text) - 1, len = 8 + plen;
	uint8_t *u = rf_ip(f, 17, len);
	uint8_t pseudo[12];

	rf_put16(u, (f->sport + f->seq * f->step) & 0xffff);
	rf_put16(u + 2, 80);
	rf_put16(u + 4, (unsigned)len);
	rf_put16(u + 6, 0);
	memcpy(u + 8, text, plen);
	rf_put32(pseudo, RF_CLIENT_IP);
	rf_put32(pseudo + 4, RF_SERVER_IP);
	pseudo[8] = 0;
	pseudo[9] = 17;
	rf_put16(pseudo + 10, (unsigned)len);
	uint32_t sum = 0xffff & ~rf_csum(pseudo, sizeof(pseudo), 0);
	unsigned ck = rf_csum(u, len, sum);
	rf_put16(u + 6, ck == 0 ? 0xffff : ck);
}

static const struct rf_kind rf_kinds[] = {
	{ "short",         "eth_short",     rf_short },
	{ "oversize",      "eth_oversize",  rf_oversize },
	{ "bad-ethertype", "eth_type",      rf_bad_ethertype },
	{ "not-ours-mac",  "eth_not_ours",  rf_not_ours_mac },
	{ "arp-short",     "arp_malformed", rf_arp_short },
	{ "arp-bad-hrd",   "arp_malformed", rf_arp_bad_hrd },
	{ "arp-bad-sender", "arp_malformed", rf_arp_bad_sender },
	{ "arp-not-ours",  "arp_not_ours",  rf_arp_not_ours },
	{ "ip-short",      "ip_short",      rf_ip_short },
	{ "ip-version",    "ip_version",    rf_ip_version },
	{ "ip-ihl",        "ip_ihl",        rf_ip_ihl },
	{ "ip-len",        "ip_len",        rf_ip_len },
	{ "ip-csum",       "ip_csum",       rf_ip_csum },
	{ "ip-martian",    "ip_martian",    rf_ip_martian },
	{ "ip-not-ours",   "ip_not_ours",   rf_ip_not_ours },
	{ "ip-frag",       "ip_frag",       rf_ip_frag },
	{ "ip-proto",      "ip_proto",      rf_ip_proto },
	{ "icmp-short",    "icmp_short",    rf_icmp_short },
	{ "icmp-csum",     "icmp_csum",     rf_icmp_csum },
	{ "icmp-type",     "icmp_type",     rf_icmp_type },
	{ "good-echo",     "-",             rf_good_echo },
	{ "udp",           "-",             rf_udp },
};

#define RF_NKINDS (sizeof(rf_kinds) / sizeof(rf_kinds[0]))

/* --- main ---------------------------------------------------------------- */

static void
rf_usage(FILE *out)
{
	fprintf(out, "usage: pg-rawframe [-g USEC] IFACE DSTMAC KIND "
		"[COUNT [SPORT [STEP]]]\n"
		"       pg-rawframe --list\nkinds:");
	for (size_t i = 0; i < RF_NKINDS; i++)
		fprintf(out, " %s", rf_kinds[i].name);
	fputc('\n', out);
}

static int
rf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int
rf_parse_uint(const char *s, unsigned long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void
rf_pause(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	if (us > 0)
		nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	const struct rf_kind *kind = NULL;
	struct rf_frame f;
	unsigned count = 1, sport = 20000, step = 1, gap_us = RF_GAP_US;

	if (argc > 2 && strcmp(argv[1], "-g") == 0) {
		if (rf_parse_uint(argv[2], 10000000, &gap_us) != 0) {
			rf_usage(stderr);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < RF_NKINDS; i++)
			printf("%s %s\n", rf_kinds[i].name, rf_kinds[i].counter);
		return 0;
	}
	if (argc < 4 || argc > 7) {
		rf_usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < RF_NKINDS; i++)
		if (strcmp(argv[3], rf_kinds[i].name) == 0)
			kind = &rf_kinds[i];
	memset(&f, 0, sizeof(f));
	if (kind == NULL || rf_parse_mac(argv[2], f.dst) != 0
	    || (argc > 4 && rf_parse_uint(argv[4], RF_COUNT_MAX, &count) != 0)
	    || (argc > 5 && rf_parse_uint(argv[5], 65535, &sport) != 0)
	    || (argc > 6 && rf_parse_uint(argv[6], 65535, &step) != 0)) {
		rf_usage(stderr);
		return 2;
	}
	f.sport = sport;
	f.step = step;

	unsigned ifindex = if_nametoindex(argv[1]);
	if (ifindex == 0) {
		fprintf(stderr, "pg-rawframe: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "pg-rawframe: socket(AF_PACKET): %s\n",
			strerror(errno));
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
		fprintf(stderr, "pg-rawframe: %s: no MAC address: %s\n", argv[1],
			strerror(errno));
		close(fd);
		return 1;
	}
	memcpy(f.src, ifr.ifr_hwaddr.sa_data, 6);

	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	sll.sll_halen = 6;

	uint8_t dst[6];
	memcpy(dst, f.dst, 6);
	for (unsigned i = 0; i < count; i++) {
		memcpy(f.dst, dst, 6);
		f.seq = i;
		f.len = 0;
		kind->build(&f);
		memcpy(sll.sll_addr, f.buf, 6);
		if (sendto(fd, f.buf, f.len, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != (ssize_t)f.len) {
			int e = errno;
			fprintf(stderr, "pg-rawframe: %s: sending %s frame %u "
				"(%zu bytes): %s\n", argv[1], kind->name, i + 1,
				f.len, strerror(e));
			close(fd);
			/* The kernel checks the link-layer header length. */
			return e == EINVAL && f.len < RF_ETH_HLEN ? 3 : 1;
		}
		if (i + 1 < count)
			rf_pause(gap_us);
	}
	close(fd);
	printf("sent %u %s frame%s (%zu bytes) on %s\n", count, kind->name,
	       count == 1 ? "" : "s", f.len, argv[1]);
	return 0;
}
