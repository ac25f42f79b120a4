/*
 * core/b64 — base64url (RFC 4648 section 5) without padding, the one encoding of tokens, cursors and secrets here.
 * Decoding is strict: only the url alphabet, no padding, no whitespace, and zero leftover bits, so each byte string has
 * exactly one spelling.
 */
#ifndef KLIMA_CORE_B64_H
#define KLIMA_CORE_B64_H

#include <stddef.h>

#include "core/sbuf.h"

/* The length of the encoding of len bytes (without the NUL). */
#define B64URL_LEN(len) (((len) / 3) * 4 + ((len) % 3 == 0 ? 0 : (len) % 3 + 1))

/* Encodes in[0..len) into out (NUL-terminated); returns the length, or -1 when out (outsize bytes) is too small. */
int b64url_encode(const void *in, size_t len, char *out, size_t outsize);

/* Appends the encoding of in[0..len) to out (sbuf_failed on allocation failure). */
void b64url_append(sbuf_t *out, const void *in, size_t len);

/* Decodes in[0..len) into out; returns the number of bytes, or -1 when the text is not canonical base64url or out
 * (outsize bytes) is too small. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outsize);

/* 1 when s is min..max characters of the base64url alphabet (a random token of ours, a PKCE challenge), else 0. */
int b64url_is_token(const char *s, size_t min, size_t max);

#endif
