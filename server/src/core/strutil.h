/*
 * core/strutil — small checked string helpers used across the layers (no project includes).
 */
#ifndef KLIMA_CORE_STRUTIL_H
#define KLIMA_CORE_STRUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Parses a whole decimal unsigned integer in [min, max]; no sign, no spaces, no trailing text.
 * Returns 0 and stores it in *out, or -1 (out untouched). */
int str_to_uint(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* Like strdup, but aborts the process when memory is exhausted (callers have no way to recover at start-up). */
char *str_dup(const char *s);

/* Formats into buf (always NUL-terminated); returns the length written, or -1 if it did not fit. */
int str_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Splits "host:port" (host may be "[v6]" or empty for all addresses). host_out receives a NUL-terminated copy of the host
 * without brackets. Returns 0, or -1 if the form or port (1..65535) is wrong. */
int str_parse_hostport(const char *s, char *host_out, size_t host_size, uint16_t *port_out);

/* The value of a hexadecimal digit, or -1. */
int str_hexval(int c);

/* bytes[0..n) as 2n lowercase hexadecimal digits and a NUL into out (2n + 1 bytes). */
void str_hex(const void *bytes, size_t n, char *out);

/* Writes v in decimal at p (no NUL; room for 20 digits is the caller's) and returns the end. Inline: the access log and
 * the RateLimit headers write numbers on every request. */
static inline char *str_put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(p, tmp + sizeof(tmp) - n, n);
    return p + n;
}

/* 1 when c is an ASCII letter or digit or one of the characters of extra (not NUL). */
static inline int str_is_word_char(int c, const char *extra)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c) != NULL);
}

/* 1 when every character of s[0..len) is str_is_word_char(c, extra): the one check of the identifier-like values
 * (key ids, client ids, PKCE verifiers, time zone names, host names). */
int str_is_word(const char *s, size_t len, const char *extra);

/* Returns 1 if s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int str_is_utf8(const char *s, size_t len);

#endif
