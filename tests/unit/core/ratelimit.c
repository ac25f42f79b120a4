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
    bench_take();
    return TEST_DONE();
}
