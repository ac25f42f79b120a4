/*
 * http/h2o-compat/khash.h — what <h2o/http2_internal.h> of Debian's libh2o 2.2.5 needs from klib's khash.h, which the
 * Debian packages do not install. Only http/conn.c includes that header, for the layout of h2o's HTTP/2 connection and
 * stream (the GOAWAY and stream reset h2o's own frame handlers do); the stream table itself is never touched here: any
 * use of it fails to link (klima_khash_unavailable is defined nowhere).
 */
#ifndef KLIMA_H2O_COMPAT_KHASH_H
#define KLIMA_H2O_COMPAT_KHASH_H

#include <stdint.h>

typedef uint32_t khiter_t;

void *klima_khash_unavailable(void);

#define khash_t(name) kh_##name##_t
#define KHASH_MAP_INIT_INT64(name, khval_t) typedef struct kh_##name##_s kh_##name##_t;
#define kh_get(name, h, k) ((khiter_t)(uintptr_t)klima_khash_unavailable())
#define kh_end(h) ((khiter_t)0)
#define kh_val(h, x) (*(h2o_http2_stream_t **)klima_khash_unavailable())

#endif
