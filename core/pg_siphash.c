/*
 * SipHash-2-4, reading the message in 8-byte words and the tail byte by
 * byte: never past its end.
 */
#include <string.h>

#include "core/pg_siphash.h"

#define PG_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void
pg_siphash_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = PG_ROTL(v[1], 13); v[1] ^= v[0];
	v[0] = PG_ROTL(v[0], 32);
	v[2] += v[3]; v[3] = PG_ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = PG_ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = PG_ROTL(v[1], 17); v[1] ^= v[2];
	v[2] = PG_ROTL(v[2], 32);
}

static inline void
pg_siphash_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	pg_siphash_round(v);
	pg_siphash_round(v);
	v[0] ^= m;
}

uint64_t
pg_siphash(const uint64_t key[2], const void *data, size_t len)
{
	uint64_t v[4] = { key[0] ^ 0x736f6d6570736575ull,
			  key[1] ^ 0x646f72616e646f6dull,
			  key[0] ^ 0x6c7967656e657261ull,
			  key[1] ^ 0x7465646279746573ull };
	const uint8_t *p = data;
	size_t n = len;
	uint64_t m;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&m, p, 8);
		pg_siphash_compress(v, m);
	}
	m = (uint64_t)len << 56;
	for (size_t i = 0; i < n; i++)
		m |= (uint64_t)p[i] << (8 * i);
	pg_siphash_compress(v, m);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		pg_siphash_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
