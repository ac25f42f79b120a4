/*
 * http/h2o-compat/khash.h — what <h2o/http2_internal.h> of Debian's libh2o 2.2.5 needs from klib's khash.h, which the
 * Debian packages do not install. Only http/conn.c includes that header, for the layout of h2o's HTTP/2 connection and
 * stream (the GOAWAY, the stream reset and the early 413 do what h2o's own frame handlers do).
 *
 * h2o keeps a connection's streams in a khash map from the stream id (64-bit key) to the stream. This stand-in reads
 * that table and never writes it: the struct below is klib's layout (four counters, then the bucket flags, keys and
 * values), and a bucket holds an entry when neither of its two flag bits (empty, deleted) is set. A lookup scans the
 * buckets in order instead of following klib's probe sequence, so it depends on the layout alone (a connection has at
 * most ~120 streams: a few hundred buckets). http/conn.c checks the layout once against a stream it knows (a request's
 * own) before it relies on it.
 */
#ifndef KLIMA_H2O_COMPAT_KHASH_H
#define KLIMA_H2O_COMPAT_KHASH_H

#include <stdint.h>

typedef uint32_t khint_t;
typedef khint_t khiter_t;

#define khash_t(name) kh_##name##_t
/* Whether bucket i holds an entry (klib: neither "empty" nor "deleted" is set). */
#define klima_kh_exist(h, i) ((((h)->flags[(i) >> 4] >> (((i)&0xfU) << 1)) & 3) == 0)

/* The bucket of key k, or kh_end(h) when k is not in the table. */
#define kh_get(name, h, k) klima_kh_get_##name((h), (uint64_t)(k))
#define kh_end(h) ((h)->n_buckets)
#define kh_val(h, x) ((h)->vals[x])

/* The map type, and its lookup (declared where h2o's header declares the map). */
#define KHASH_MAP_INIT_INT64(name, khval_t)                                                                                        \
    typedef struct kh_##name##_s {                                                                                                 \
        khint_t n_buckets, size, n_occupied, upper_bound;                                                                          \
        uint32_t *flags;                                                                                                           \
        uint64_t *keys;                                                                                                            \
        khval_t *vals;                                                                                                             \
    } kh_##name##_t;                                                                                                               \
    static inline khiter_t klima_kh_get_##name(const kh_##name##_t *h, uint64_t k)                                                 \
    {                                                                                                                              \
        for (khiter_t i = 0; i < h->n_buckets; ++i) {                                                                              \
            if (klima_kh_exist(h, i) && h->keys[i] == k)                                                                           \
                return i;                                                                                                          \
        }                                                                                                                          \
        return h->n_buckets;                                                                                                       \
    }

#endif
