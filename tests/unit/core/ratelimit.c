/* core/ratelimit: token buckets with quota per window, the info for the RateLimit fields, refunds, and the cost of a
 * take (it runs on every rate-limited request). */
#include <time.h>

#include "core/ratelimit.h"
#include "../test.h"

static void test_window_bucket(void)
{
    ratelimit_t *rl = ratelimit_create_window(64, 5, 60); /* 5 tokens, one back every 12 s */
    ratelimit_info_t info;
    uint64_t t = 1000000;

    CHECK(rl != NULL);
    for (unsigned i = 0; i < 5; ++i) {
        CHECK_INT(ratelimit_take_info(rl, 42, t, &info), 1);
        CHECK_INT(info.remaining, 4 - i);
    }
    CHECK_INT(info.full_s, 60);
    CHECK_INT(ratelimit_take_info(rl, 42, t, &info), 0);
    CHECK_INT(info.remaining, 0);
    CHECK_INT(info.retry_after_s, 12);
    /* another key is independent */
    CHECK_INT(ratelimit_take_info(rl, 43, t, &info), 1);
    CHECK_INT(info.remaining, 4);
    /* 6 s later half a token is back: still refused, 6 s to wait */
    CHECK_INT(ratelimit_take_info(rl, 42, t + 6000, &info), 0);
    CHECK_INT(info.retry_after_s, 6);
    /* 12 s after the burst one token is back */
    CHECK_INT(ratelimit_take_info(rl, 42, t + 12000, &info), 1);
    CHECK_INT(info.remaining, 0);
    ratelimit_destroy(rl);
}

static void test_refund(void)
{
    ratelimit_t *rl = ratelimit_create_window(64, 3, 30);
    ratelimit_info_t info;

    CHECK_INT(ratelimit_take_info(rl, 7, 5000, &info), 1);
    CHECK_INT(info.remaining, 2);
    ratelimit_refund(rl, 7, &info);
    CHECK_INT(info.remaining, 3);
    CHECK_INT(info.full_s, 0);
    /* never above the quota */
    ratelimit_refund(rl, 7, &info);
    CHECK_INT(info.remaining, 3);
    /* a slot taken over by another key (7 + 64 lands on the same slot) is not credited to it */
    CHECK_INT(ratelimit_take_info(rl, 7 + 64, 5000, &info), 1);
    ratelimit_refund(rl, 7, &info);
    CHECK_INT(info.remaining, 2);
    ratelimit_destroy(rl);
}

/* Two tables (two workers, or two instances) sharing one budget through collect and apply, the way app/gate syncs them
 * through PostgreSQL: a "database" that sums what each reports and drains at the policy's rate. */
static void test_shared(void)
{
    ratelimit_t *a = ratelimit_create_window(64, 4, 60), *b = ratelimit_create_window(64, 4, 60);
    ratelimit_info_t info;
    uint64_t keys[8];
    double taken[8], shared = 0.0;
    uint64_t t = 100000;
    size_t n;

    CHECK(a != NULL && b != NULL);
    CHECK(ratelimit_per_s(a) > 0.0666 && ratelimit_per_s(a) < 0.0667);
    /* a takes 3; nothing else is pending */
    for (int i = 0; i < 3; ++i)
        CHECK_INT(ratelimit_take_info(a, 9, t, &info), 1);
    CHECK_INT((int)ratelimit_collect(b, keys, taken, 8), 0);
    n = ratelimit_collect(a, keys, taken, 8);
    CHECK_INT((int)n, 1);
    CHECK(keys[0] == 9 && taken[0] == 3.0);
    CHECK_INT((int)ratelimit_collect(a, keys, taken, 8), 0); /* reported once */
    /* while the sync is in flight a takes one more */
    CHECK_INT(ratelimit_take_info(a, 9, t, &info), 1);
    shared += taken[0];
    ratelimit_apply(a, 9, shared, t);
    /* b has never seen key 9: the sync hands it the shared level, so it grants none of the budget a used */
    ratelimit_apply(b, 9, shared, t);
    CHECK_INT(ratelimit_take_info(b, 9, t, &info), 1); /* 3 shared taken: one token left as far as b knows */
    CHECK_INT(ratelimit_take_info(b, 9, t, &info), 0);
    CHECK_INT(info.retry_after_s, 15);
    /* a's local view still counts its unreported token: 3 shared + 1 = 4, empty */
    CHECK_INT(ratelimit_take_info(a, 9, t, &info), 0);
    /* the next sync: each reports its one, both learn 5 (over the quota: what two workers granted between syncs) */
    n = ratelimit_collect(a, keys, taken, 8);
    CHECK(n == 1 && taken[0] == 1.0);
    shared += taken[0];
    n = ratelimit_collect(b, keys, taken, 8);
    CHECK(n == 1 && taken[0] == 1.0);
    shared += taken[0];
    ratelimit_apply(a, 9, shared, t);
    ratelimit_apply(b, 9, shared, t);
    CHECK_INT(ratelimit_take_info(a, 9, t, &info), 0);
    CHECK_INT(info.retry_after_s, 30); /* 5 taken of 4: two tokens must drain first, one every 15 s */
    CHECK_INT(info.full_s, 75);
    /* a refund reports -1 */
    CHECK_INT(ratelimit_take_info(a, 10, t, &info), 1);
    ratelimit_refund(a, 10, &info);
    n = ratelimit_collect(a, keys, taken, 8);
    CHECK_INT((int)n, 0); /* +1 -1: nothing to report */
    /* a failed sync reports again */
    CHECK_INT(ratelimit_take_info(a, 11, t, &info), 1);
    CHECK_INT((int)ratelimit_collect(a, keys, taken, 8), 1);
    ratelimit_collect_failed(a);
    n = ratelimit_collect(a, keys, taken, 8);
    CHECK(n == 1 && keys[0] == 11 && taken[0] == 1.0);
    /* another table's level never evicts a bucket with something pending here */
    CHECK_INT(ratelimit_take_info(b, 12, t, &info), 1);
    ratelimit_apply(b, 12 + 64, 4.0, t);
    CHECK_INT(ratelimit_take_info(b, 12, t, &info), 1);
    CHECK_INT(info.remaining, 2);
    /* collect takes at most max, the rest waits */
    for (uint64_t k = 20; k < 30; ++k)
        CHECK_INT(ratelimit_take_info(a, k, t, &info), 1);
    CHECK_INT((int)ratelimit_collect(a, keys, taken, 8), 8);
    CHECK_INT((int)ratelimit_collect(a, keys, taken, 8), 2);
    ratelimit_destroy(a);
    ratelimit_destroy(b);
}

static void bench_take(void)
{
    ratelimit_t *rl = ratelimit_create_window(8192, 1000000000u, 1);
    ratelimit_info_t info;
    struct timespec a, b;
    const unsigned n = 2000000;
    unsigned ok = 0;
    double ns;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (unsigned i = 0; i < n; ++i)
        ok += (unsigned)ratelimit_take_info(rl, (uint64_t)i * 2654435761u, 1000 + i / 1000, &info);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n;
    CHECK_INT(ok, n);
    fprintf(stderr, "ratelimit_take_info: %.1f ns per take\n", ns);
    CHECK(ns < 1000.0); /* generous for a sanitizer build on a shared machine */
    ratelimit_destroy(rl);
}

int main(void)
{
    test_window_bucket();
    test_refund();
    test_shared();
    bench_take();
    return TEST_DONE();
}
