/*
 * core/strutil — small checked string helpers used across the layers (no project includes).
 */
#ifndef KLIMA_CORE_STRUTIL_H
#define KLIMA_CORE_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

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

/* Returns 1 if s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int str_is_utf8(const char *s, size_t len);

#endif
