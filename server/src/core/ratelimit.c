/*
 * core/ratelimit — fixed-size token-bucket table, shareable through periodic syncs.
 *
 * A bucket is kept as its level: the tokens taken and not yet refilled (0 = full, burst = empty), draining at per_ms.
 * That is the quantity several tables can add up: a sync reports what this table took (pending) and gets back the sum
 * over every table (ratelimit_apply).
 */
#include <math.h>
#include <stdlib.h>

#include "core/ratelimit.h"

/* Slots remembered as touched between two collects; beyond it a collect scans the whole table. */
#define RATELIMIT_DIRTY_MAX 1024

typedef struct bucket {
    uint64_t key;
    uint64_t at_ms; /* when level was last brought up to date; 0 = a free slot */
    double level;   /* tokens taken and not refilled, as of at_ms (may exceed burst when other tables took too) */
    double pending; /* tokens taken (given back: negative) here since the last collect */
    double flight;  /* tokens collected, their sync not answered yet */
    int dirty;      /* pending was touched since the last collect */
} bucket_t;

struct ratelimit {
    bucket_t *slots;
    size_t nslots;
    double per_ms, burst;
    uint32_t dirty[RATELIMIT_DIRTY_MAX];
    size_t ndirty;
    int dirty_overflow;
};

ratelimit_t *ratelimit_create_window(size_t nslots, unsigned quota, unsigned window_s)
{
    ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL || nslots > UINT32_MAX || (rl->slots = calloc(nslots, sizeof(*rl->slots))) == NULL) {
        free(rl);
        return NULL;
    }
    rl->nslots = nslots;
    rl->burst = quota;
    rl->per_ms = (double)quota / ((double)(window_s > 0 ? window_s : 1) * 1000.0);
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

/* Brings b's level up to now_ms (what drained since at_ms). */
static void drain(const ratelimit_t *rl, bucket_t *b, uint64_t now_ms)
{
    if (now_ms > b->at_ms) {
        b->level -= (double)(now_ms - b->at_ms) * rl->per_ms;
        if (b->level < 0.0)
            b->level = 0.0;
        b->at_ms = now_ms;
    }
}

/* key takes over b (a free slot, or one another key held): a full bucket, nothing pending. */
static void take_over(bucket_t *b, uint64_t key, uint64_t now_ms)
{
    b->key = key;
    b->at_ms = now_ms != 0 ? now_ms : 1;
    b->level = b->pending = b->flight = 0.0;
}

static void touch(ratelimit_t *rl, bucket_t *b, double tokens)
{
    b->pending += tokens;
    if (b->dirty)
        return;
    b->dirty = 1;
    if (rl->ndirty < RATELIMIT_DIRTY_MAX)
        rl->dirty[rl->ndirty++] = (uint32_t)(b - rl->slots);
    else
        rl->dirty_overflow = 1;
}

static void fill_info(const ratelimit_t *rl, const bucket_t *b, ratelimit_info_t *info)
{
    double tokens = rl->burst - b->level;
    info->remaining = tokens >= 1.0 ? (unsigned)tokens : 0;
    info->full_s = b->level > 1e-9 && rl->per_ms > 0.0 ? seconds_up(b->level / rl->per_ms) : 0;
    info->retry_after_s = tokens >= 1.0 || rl->per_ms <= 0.0 ? 0 : seconds_up((1.0 - tokens) / rl->per_ms);
}

int ratelimit_take_info(ratelimit_t *rl, uint64_t key, uint64_t now_ms, ratelimit_info_t *info)
{
    bucket_t *b = &rl->slots[key % rl->nslots];
    int ok;

    if (b->key != key || b->at_ms == 0)
        take_over(b, key, now_ms); /* a new key takes over the slot with a full bucket */
    else
        drain(rl, b, now_ms);
    if ((ok = b->level + 1.0 <= rl->burst + 1e-9)) {
        b->level += 1.0;
        touch(rl, b, 1.0);
    }
    fill_info(rl, b, info);
    return ok;
}

void ratelimit_refund(ratelimit_t *rl, uint64_t key, ratelimit_info_t *info)
{
    bucket_t *b = &rl->slots[key % rl->nslots];

    if (b->key == key && b->at_ms != 0) {
        b->level = b->level > 1.0 ? b->level - 1.0 : 0.0;
        touch(rl, b, -1.0);
    }
    if (info != NULL)
        fill_info(rl, b, info);
}

double ratelimit_per_s(const ratelimit_t *rl)
{
    return rl->per_ms * 1000.0;
}

/* Moves b's pending tokens into flight and reports them; 0 when there was nothing to report. */
static int collect_one(bucket_t *b, uint64_t *key, double *taken)
{
    b->dirty = 0;
    if (b->at_ms == 0 || b->pending == 0.0)
        return 0;
    *key = b->key;
    *taken = b->pending;
    b->flight += b->pending;
    b->pending = 0.0;
    return 1;
}

size_t ratelimit_collect(ratelimit_t *rl, uint64_t *keys, double *taken, size_t max)
{
    size_t n = 0, i;

    if (rl->dirty_overflow) {
        for (i = 0; i < rl->nslots && n < max; ++i) {
            if (rl->slots[i].dirty)
                n += (size_t)collect_one(&rl->slots[i], &keys[n], &taken[n]);
        }
        rl->dirty_overflow = i < rl->nslots; /* max reached: the rest next time */
        rl->ndirty = 0;
        return n;
    }
    for (i = 0; i < rl->ndirty && n < max; ++i)
        n += (size_t)collect_one(&rl->slots[rl->dirty[i]], &keys[n], &taken[n]);
    /* what max left out waits for the next collect */
    for (size_t j = i; j < rl->ndirty; ++j)
        rl->dirty[j - i] = rl->dirty[j];
    rl->ndirty -= i;
    return n;
}

void ratelimit_apply(ratelimit_t *rl, uint64_t key, double level, uint64_t now_ms)
{
    bucket_t *b = &rl->slots[key % rl->nslots];

    if (!(level >= 0.0) || level > 1e12)
        level = 0.0;
    if (b->key == key && b->at_ms != 0) {
        /* the shared level counts what this table had in flight; what it took since the collect comes on top */
        b->level = level + b->pending;
        b->flight = 0.0;
        b->at_ms = now_ms > b->at_ms ? now_ms : b->at_ms;
        return;
    }
    /* another table's client: worth a slot only when it holds back something and the slot has nothing to lose */
    if (level < 1e-9)
        return;
    if (b->at_ms != 0) {
        drain(rl, b, now_ms);
        if (b->level > 1e-9 || b->pending != 0.0 || b->flight != 0.0 || b->dirty)
            return;
    }
    take_over(b, key, now_ms);
    b->level = level;
}

void ratelimit_collect_failed(ratelimit_t *rl)
{
    for (size_t i = 0; i < rl->nslots; ++i) {
        bucket_t *b = &rl->slots[i];
        if (b->flight != 0.0) {
            touch(rl, b, b->flight);
            b->flight = 0.0;
        }
    }
}
