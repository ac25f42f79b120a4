/*
 * core/sbuf — growable buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

static int reserve(sbuf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1, ncap;
    char *p;
    if (b->failed)
        return -1;
    if (need > b->max + 1) {
        b->failed = 1;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    ncap = b->cap != 0 ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if ((p = realloc(b->data, ncap)) == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

void sbuf_append(sbuf_t *b, const char *s, size_t len)
{
    if (reserve(b, len) != 0)
        return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sbuf_puts(sbuf_t *b, const char *s)
{
    sbuf_append(b, s, strlen(s));
}

void sbuf_putc(sbuf_t *b, char c)
{
    sbuf_append(b, &c, 1);
}

void sbuf_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    size_t room = !b->failed && b->cap > b->len ? b->cap - b->len : 0; /* with the NUL's byte */

    /* One pass when the text fits the room the buffer already has (the usual case once it has grown: SQL, JSON), else
     * the measure of that pass, then the room and a second pass. */
    va_start(ap, fmt);
    n = vsnprintf(room != 0 ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room && b->len + (size_t)n <= b->max) {
        b->len += (size_t)n;
        return;
    }
    if (room != 0)
        b->data[b->len] = '\0'; /* the first pass may have written a cut-off text */
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sbuf_json_escape(sbuf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sbuf_append(b, s + start, i - start);
        start = i + 1;
        /* the two-character escapes; every other control character as \u00XX */
        const char *short_esc = c == '"'    ? "\\\""
                                : c == '\\' ? "\\\\"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                            : NULL;
        if (short_esc != NULL) {
            sbuf_append(b, short_esc, 2);
        } else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sbuf_append(b, u, 6);
        }
    }
    sbuf_append(b, s + start, len - start);
}

void sbuf_csv_field(sbuf_t *b, const char *s, size_t len, char delim)
{
    int quote = 0;
    for (size_t i = 0; i < len && !quote; ++i)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        sbuf_append(b, s, len);
        return;
    }
    sbuf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; ++i) {
        if (s[i] == '"') {
            sbuf_append(b, s + start, i + 1 - start);
            sbuf_putc(b, '"');
            start = i + 1;
        }
    }
    sbuf_append(b, s + start, len - start);
    sbuf_putc(b, '"');
}

void sbuf_free(sbuf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
