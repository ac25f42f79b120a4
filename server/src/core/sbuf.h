/*
 * core/sbuf — a growable byte buffer on the heap, with a cap given where it is born (the curl habit: the bound of every
 * buffer is visible at its declaration, from a short table of named caps). Appends never fail silently: when memory
 * runs out or an append would pass the cap, the buffer is marked failed, later appends are ignored, and sbuf_failed
 * tells the caller to give up (a handler answers 500).
 */
#ifndef KLIMA_CORE_SBUF_H
#define KLIMA_CORE_SBUF_H

#include <stddef.h>

typedef struct sbuf {
    char *data; /* NUL-terminated while not failed */
    size_t len, cap;
    int failed;
    size_t max; /* the most bytes it may hold */
} sbuf_t;

/* The caps. */
#define SBUF_CAP_VALUE (64 * 1024)       /* one value: a URL, a header value, a cursor, an array literal */
#define SBUF_CAP_TEXT (1024 * 1024)      /* an HTML page, SQL built for a request, a batch of usage counts */
#define SBUF_CAP_BODY (64 * 1024 * 1024) /* a response body assembled in memory: a records page, a series, /metrics */

#define SBUF_INIT(max_bytes) ((sbuf_t){.max = (max_bytes)})

void sbuf_append(sbuf_t *b, const char *s, size_t len);
void sbuf_puts(sbuf_t *b, const char *s);
void sbuf_putc(sbuf_t *b, char c);
void sbuf_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s[0..len) as the inside of a JSON string (quotes not included), escaping as RFC 8259 requires. */
void sbuf_json_escape(sbuf_t *b, const char *s, size_t len);

/* Appends s as an RFC 4180 CSV field: quoted (with doubled quotes) when it holds the delimiter, a quote, CR or LF. */
void sbuf_csv_field(sbuf_t *b, const char *s, size_t len, char delim);

static inline int sbuf_failed(const sbuf_t *b)
{
    return b->failed;
}

/* Releases the memory; the buffer can be reused. */
void sbuf_free(sbuf_t *b);

#endif
