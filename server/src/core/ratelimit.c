/*
 * core/ratelimit — fixed-size token-bucket table.
 */
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

ratelimit_t *ratelimit_create(size_t nslots, unsigned per_minute, unsigned burst)
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

int ratelimit_take(ratelimit_t *rl, uint64_t key, uint64_t now_ms, unsigned *retry_after_s)
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
    double wait_ms = (1.0 - b->tokens) / rl->per_ms;
    *retry_after_s = (unsigned)(wait_ms / 1000.0) + 1;
    return 0;
}
