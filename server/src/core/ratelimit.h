/*
 * core/ratelimit — token buckets keyed by a 64-bit key (a client id hash or a daily-salted address hash), in a fixed
 * table: memory is bounded whatever the number of clients. A key that lands on a slot held by another key takes it
 * over with a full bucket, so with a table much larger than the number of active clients collisions are rare and
 * cost at most one extra burst. Not thread-safe: one table per worker thread.
 *
 * Tables can share their budget: each reports what it took since its last report (ratelimit_collect) and is told the
 * level of each bucket summed over every table (ratelimit_apply); app/gate does that through PostgreSQL, so the limit
 * holds across the threads and instances of the service, up to what they grant between two syncs.
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

/* Tokens the table refills per second (quota / window). */
double ratelimit_per_s(const ratelimit_t *rl);

/* Writes up to max buckets with tokens taken (or given back: negative) since the last collect: keys[i], taken[i]; that
 * much is then in flight until ratelimit_apply answers the key or ratelimit_collect_failed puts it back. Returns how
 * many were written; buckets left over (more than max) wait for the next collect. */
size_t ratelimit_collect(ratelimit_t *rl, uint64_t *keys, double *taken, size_t max);

/* The level of key's bucket summed over every table at now_ms (tokens taken and not refilled; what this table had in
 * flight included): its bucket becomes that plus what it took since the collect. The level of a key this table does
 * not hold takes over its slot when it is free, or full with nothing pending; else it is dropped. */
void ratelimit_apply(ratelimit_t *rl, uint64_t key, double level, uint64_t now_ms);

/* The report failed: what was in flight is reported again by the next collect. */
void ratelimit_collect_failed(ratelimit_t *rl);

#endif
