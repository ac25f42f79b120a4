/*
 * core/qs — application/x-www-form-urlencoded query strings: split on '&', then name '=' value, percent-decoding and '+'
 * as space.
 */
#ifndef KLIMA_CORE_QS_H
#define KLIMA_CORE_QS_H

#include <stddef.h>

typedef struct qs_param {
    const char *name;  /* NUL-terminated, decoded */
    const char *value; /* NUL-terminated, decoded ("" when there is no '=') */
} qs_param_t;

typedef enum qs_result {
    QS_OK = 0,
    QS_TOO_MANY,   /* more than max parameters */
    QS_BAD_ESCAPE, /* a '%' not followed by two hex digits, or an escape that decodes to NUL */
    QS_BAD_UTF8    /* a decoded name or value is not valid UTF-8; *bad names the parameter index */
} qs_result_t;

/* Decodes s[0..len) into out (at most max entries). buf must hold at least len + 2 * max + 2 bytes; decoded strings
 * point into it. Empty segments ("a=1&&b=2") are skipped. On failure *n holds the entries decoded so far. */
qs_result_t qs_parse(const char *s, size_t len, qs_param_t *out, size_t max, size_t *n, char *buf);

#endif
