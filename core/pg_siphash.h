/*
 * SipHash-2-4 (Aumasson & Bernstein): a keyed PRF for hash tables whose
 * keys come from clients, so that nobody can aim for one chain.
 */
#ifndef PG_SIPHASH_H
#define PG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of len bytes at data under the 128-bit key. */
uint64_t pg_siphash(const uint64_t key[2], const void *data, size_t len);

#endif
