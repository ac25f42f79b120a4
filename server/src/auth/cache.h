/*
 * auth/cache — a worker thread's verified-token cache: SHA-256 of the bearer token -> its verified claims, so a token
 * seen before costs a hash and a lookup instead of a signature verification and a database check. Bounded (a fixed
 * 4-way set-associative table, so memory is fixed at creation); an entry is dropped when its expiry passes and when its
 * consent is revoked (auth_cache_drop_consent, driven by NOTIFY klima_consent_revoked). Not thread-safe: one per thread.
 */
#ifndef KLIMA_AUTH_CACHE_H
#define KLIMA_AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/token.h"

typedef struct auth_cache auth_cache_t;

/* Creates a cache of at least capacity entries (rounded up to a power of two, at least 64). NULL when out of memory. */
auth_cache_t *auth_cache_create(size_t capacity);

/* Releases c (NULL is fine). */
void auth_cache_destroy(auth_cache_t *c);

/* The claims cached for this token hash, valid until the next call on c; NULL on a miss or when the entry expired at
 * or before now (it is then dropped). */
const auth_claims_t *auth_cache_get(auth_cache_t *c, const unsigned char hash[32], int64_t now);

/* Stores claims for hash until expires_at (a Unix time). Replaces an expired entry of the set, else the one that
 * expires first. */
void auth_cache_put(auth_cache_t *c, const unsigned char hash[32], const auth_claims_t *claims, int64_t expires_at);

/* Drops every entry of consent cid; returns how many. */
size_t auth_cache_drop_consent(auth_cache_t *c, const char *cid);

#endif
