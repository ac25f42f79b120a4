/*
 * core/hash — the project's one non-cryptographic hash: XXH3, 64 bits, seeded (libxxhash). For hash tables, cache keys,
 * ETags and the records query's canonical hash. Not for secrets: tokens are hashed with SHA-256 (auth/keyring.h) and the
 * rate limiter's address key is a keyed SipHash (geo/client.h).
 */
#ifndef KLIMA_CORE_HASH_H
#define KLIMA_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The seed of hashes that must be the same in every process and instance (ETags, cursors): any fixed value would do. */
#define HASH_SEED 0

/* XXH3-64 of p[0..len) with seed. To hash several pieces, pass each result as the next piece's seed. */
uint64_t hash_bytes(const void *p, size_t len, uint64_t seed);

/* hash_bytes of the NUL-terminated string s, with its terminating NUL (so "ab" + "c" and "a" + "bc" differ when chained). */
uint64_t hash_str(const char *s, uint64_t seed);

#endif
