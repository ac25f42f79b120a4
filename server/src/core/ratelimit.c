/*
 * core/ratelimit — fixed-size token-bucket table.
 */
#include <math.h>
#include <stdlib.h>

#include "core/ratelimit.h"

typedef struct bucket {
    uint64_t key;
    uint64_t last_ms;
    double tokens;
} bucket_t;

struct ratelimit {
    bucket_t *slots;
    size_t nslots;
    double per_ms, burst;
};

/* A table of nslots buckets, each refilled at per_minute tokens per minute up to burst. NULL when out of memory. */
static ratelimit_t *ratelimit_create(size_t nslots, unsigned per_minute, unsigned burst)
{
    ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL || (rl->slots = calloc(nslots, sizeof(*rl->slots))) == NULL) {
        free(rl);
        return NULL;
    }
    rl->nslots = nslots;
    rl->per_ms = per_minute / 60000.0;
    rl->burst = burst;
    return rl;
}

void ratelimit_destroy(ratelimit_t *rl)
{
    if (rl != NULL)
        free(rl->slots);
    free(rl);
}

/* Whole seconds covering ms (rounded up, a rounding error of a microsecond ignored), at least 1. */
static unsigned seconds_up(double ms)
{
    double s = ceil(ms / 1000.0 - 1e-6);
    return s < 1.0 ? 1 : s > 4e9 ? 4000000000u : (unsigned)s;
}

/* Takes one token for key at time now_ms. Returns 1 if allowed; 0 if not, with *retry_after_s set to the whole seconds
 * until a token is available (at least 1). */
static int ratelimit_take(ratelimit_t *rl, uint64_t key, uint64_t now_ms, unsigned *retry_after_s)
{
    bucket_t *b = &rl->slots[key % rl->nslots];

    if (b->key != key || b->last_ms == 0) {
        /* a new key takes over the slot with a full bucket */
        b->key = key;
        b->tokens = rl->burst;
        b->last_ms = now_ms;
    } else if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * rl->per_ms;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 1;
    }
    *retry_after_s = seconds_up((1.0 - b->tokens) / rl->per_ms);
    return 0;
}

ratelimit_t *ratelimit_create_window(size_t nslots, unsigned quota, unsigned window_s)
{
    ratelimit_t *rl = ratelimit_create(nslots, 0, quota);
    if (rl != NULL)
        rl->per_ms = (double)quota / ((double)(window_s > 0 ? window_s : 1) * 1000.0);
    return rl;
}

static void fill_info(const ratelimit_t *rl, const bucket_t *b, ratelimit_info_t *info)
{
    double missing = rl->burst - b->tokens;
    info->remaining = b->tokens >= 1.0 ? (unsigned)b->tokens : 0;
    info->full_s = missing > 1e-9 && rl->per_ms > 0.0 ? seconds_up(missing / rl->per_ms) : 0;
    info->retry_after_s = b->tokens >= 1.0 || rl->per_ms <= 0.0 ? 0 : seconds_up((1.0 - b->tokens) / rl->per_ms);
}

int ratelimit_take_info(ratelimit_t *rl, uint64_t key, uint64_t now_ms, ratelimit_info_t *info)
{
    unsigned retry = 0;
    int ok = ratelimit_take(rl, key, now_ms, &retry);
    fill_info(rl, &rl->slots[key % rl->nslots], info);
    if (!ok)
        info->retry_after_s = retry;
    return ok;
}

void ratelimit_refund(ratelimit_t *rl, uint64_t key, ratelimit_info_t *info)
{
    bucket_t *b = &rl->slots[key % rl->nslots];

    if (b->key == key && b->last_ms != 0) {
        b->tokens += 1.0;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
    }
    if (info != NULL)
        fill_info(rl, b, info);
}
