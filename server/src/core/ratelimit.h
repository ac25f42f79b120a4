/*
 * core/ratelimit — token buckets keyed by a 64-bit key (a client id hash or a daily-salted address hash), in a fixed
 * table: memory is bounded whatever the number of clients. A key that lands on a slot held by another key takes it
 * over with a full bucket, so with a table much larger than the number of active clients collisions are rare and
 * cost at most one extra burst. Not thread-safe: one table per worker thread.
 */
#ifndef KLIMA_CORE_RATELIMIT_H
#define KLIMA_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit_t;

/* A table of nslots buckets, each holding quota tokens refilled at quota per window_s seconds (window_s >= 1,
 * quota >= 1). NULL when out of memory. */
ratelimit_t *ratelimit_create_window(size_t nslots, unsigned quota, unsigned window_s);
void ratelimit_destroy(ratelimit_t *rl);

/* What a bucket holds after a take: for the RateLimit header fields and Retry-After. */
typedef struct ratelimit_info {
    unsigned remaining;     /* whole tokens left */
    unsigned full_s;        /* whole seconds until the bucket is full again (0 when full) */
    unsigned retry_after_s; /* when refused: whole seconds until one token is there (at least 1) */
} ratelimit_info_t;

/* Takes one token for key at time now_ms. Returns 1 if allowed, 0 if not; fills *info in both cases. */
int ratelimit_take_info(ratelimit_t *rl, uint64_t key, uint64_t now_ms, ratelimit_info_t *info);

/* Gives back the token a ratelimit_take for key took (e.g. the request turned out to be a 304 revalidation), unless the
 * slot has been taken over by another key since. Fills *info (may be NULL) with the bucket's state afterwards. */
void ratelimit_refund(ratelimit_t *rl, uint64_t key, ratelimit_info_t *info);

#endif
