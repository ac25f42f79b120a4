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

/* A table of nslots buckets, each refilled at per_minute tokens per minute up to burst. NULL when out of memory. */
ratelimit_t *ratelimit_create(size_t nslots, unsigned per_minute, unsigned burst);
void ratelimit_destroy(ratelimit_t *rl);

/* Takes one token for key at time now_ms. Returns 1 if allowed; 0 if not, with *retry_after_s set to the whole
 * seconds until a token is available (at least 1). */
int ratelimit_take(ratelimit_t *rl, uint64_t key, uint64_t now_ms, unsigned *retry_after_s);

#endif
