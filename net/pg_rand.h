/*
 * A small seeded generator (xorshift64*) for fault decisions in drivers and
 * the simulated wire: fast, reproducible from its seed, not cryptographic.
 */
#ifndef PG_RAND_H
#define PG_RAND_H

#include <stdint.h>

/* A state from any seed (0 included). */
static inline uint64_t
pg_rand_seed(uint64_t seed)
{
	return seed * 0x9E3779B97F4A7C15ULL + 1;
}

/* Uniform in [0, 1). */
static inline double
pg_rand_uniform(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

#endif
