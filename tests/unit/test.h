/*
 * A tiny unit-test harness: assertions print both sides; main returns non-zero if any failed.
 */
#ifndef KLIMA_TEST_H
#define KLIMA_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures, test_checks;

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        ++test_checks;                                                                                                             \
        if (!(cond)) {                                                                                                             \
            ++test_failures;                                                                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                                               \
        }                                                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                                                            \
    do {                                                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                                                        \
        ++test_checks;                                                                                                             \
        if (_a != _b) {                                                                                                            \
            ++test_failures;                                                                                                       \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b);                         \
        }                                                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                                                            \
    do {                                                                                                                           \
        const char *_a = (a), *_b = (b);                                                                                           \
        ++test_checks;                                                                                                             \
        if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {                                                                     \
            ++test_failures;                                                                                                       \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, _a ? _a : "(null)",          \
                    _b ? _b : "(null)");                                                                                           \
        }                                                                                                                          \
    } while (0)

#define TEST_DONE() (printf("%s: %d checks, %d failed\n", __FILE__, test_checks, test_failures), test_failures != 0)

#endif
