/*
 * Initial sequence numbers (RFC 6528) and SYN cookies, both keyed with the
 * stack's secret through SipHash-2-4 (Aumasson & Bernstein), a PRF small
 * enough to run per SYN.
 *
 * Cookie layout (the ISN of a SYN-ACK sent without a control block):
 *   bits 31..7  hash(secret, 4-tuple, peer ISN, period) (25 bits)
 *   bits  6..2  period: 64-second counter, modulo 32
 *   bits  1..0  index of the peer's MSS in pg_tcp_cookie_mss
 * A cookie is good for the current and the previous period. The window
 * scale and SACK permission ride in the low bits of the SYN-ACK's TSval
 * (see pg_tcp_in.c), as Linux does; without timestamps they are lost.
 */
#include <string.h>

#include "core/pg_siphash.h"
#include "net/pg_tcp_priv.h"

struct pg_tcp_tuple_key {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t extra[2];
};

static uint64_t
pg_tcp_tuple_hash(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		  uint32_t raddr, uint16_t rport, uint32_t a, uint32_t b)
{
	struct pg_tcp_tuple_key k = { laddr, raddr, lport, rport, { a, b } };
	return pg_siphash(s->secret, &k, sizeof(k));
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock. */
uint32_t
pg_tcp_isn(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
	   uint32_t raddr, uint16_t rport)
{
	uint32_t m = (uint32_t)(s->nif->now_ns / 4000);
	return m + (uint32_t)pg_tcp_tuple_hash(s, laddr, lport, raddr, rport,
					       0, 0);
}

static const uint16_t pg_tcp_cookie_mss[4] = { 536, 1220, 1440, 1460 };

unsigned
pg_tcp_cookie_mss_idx(uint16_t mss)
{
	unsigned i = 3;
	while (i > 0 && pg_tcp_cookie_mss[i] > mss)
		i--;
	return i;
}

static uint32_t
pg_tcp_cookie_period(struct pg_tcp_stack *s)
{
	return (uint32_t)(s->nif->now_ns / (64ull * 1000000000));
}

static uint32_t
pg_tcp_cookie_hash(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		   uint32_t raddr, uint16_t rport, uint32_t irs,
		   uint32_t period)
{
	return (uint32_t)pg_tcp_tuple_hash(s, laddr, lport, raddr, rport, irs,
					   period | 0x80000000u) >> 7;
}

uint32_t
pg_tcp_cookie_make(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		   uint32_t raddr, uint16_t rport, uint32_t irs,
		   unsigned mss_idx)
{
	uint32_t p = pg_tcp_cookie_period(s) & 31;
	return pg_tcp_cookie_hash(s, laddr, lport, raddr, rport, irs, p) << 7
	       | p << 2 | (mss_idx & 3);
}

uint16_t
pg_tcp_cookie_check(struct pg_tcp_stack *s, uint32_t laddr, uint16_t lport,
		    uint32_t raddr, uint16_t rport, uint32_t irs,
		    uint32_t cookie)
{
	uint32_t now = pg_tcp_cookie_period(s) & 31;
	uint32_t p = (cookie >> 2) & 31;
	if (p != now && p != ((now - 1) & 31))
		return 0;
	if (pg_tcp_cookie_hash(s, laddr, lport, raddr, rport, irs, p)
	    != cookie >> 7)
		return 0;
	return pg_tcp_cookie_mss[cookie & 3];
}
