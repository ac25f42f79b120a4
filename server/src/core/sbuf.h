/*
 * core/sbuf — a growable byte buffer on the heap. Appends never fail silently: on allocation failure the buffer is
 * marked failed, later appends are ignored, and sbuf_failed tells the caller to give up.
 */
#ifndef KLIMA_CORE_SBUF_H
#define KLIMA_CORE_SBUF_H

#include <stddef.h>

typedef struct sbuf {
    char *data; /* NUL-terminated while not failed */
    size_t len, cap;
    int failed;
} sbuf_t;

#define SBUF_INIT                                                                                                                  \
    {                                                                                                                              \
        NULL, 0, 0, 0                                                                                                              \
    }

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
