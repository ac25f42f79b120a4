/*
 * core/b64 — base64url without padding.
 */
#include <string.h>

#include "core/b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of a base64url digit, or -1 (NUL is no digit: strchr would find the terminator). */
static int value_of(char c)
{
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

int b64url_encode(const void *in, size_t len, char *out, size_t outsize)
{
    const unsigned char *p = in;
    size_t o = 0, i = 0;

    if (B64URL_LEN(len) + 1 > outsize)
        return -1;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return (int)o;
}

void b64url_append(sbuf_t *out, const void *in, size_t len)
{
    const unsigned char *p = in;
    char chunk[4 * 64 + 1];

    /* 192 input bytes at a time: a multiple of 3, so the pieces join without padding in between */
    for (size_t i = 0; i < len; i += 192) {
        size_t n = len - i < 192 ? len - i : 192;
        int w = b64url_encode(p + i, n, chunk, sizeof(chunk));
        sbuf_append(out, chunk, (size_t)w);
    }
}

int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outsize)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    if (len % 4 == 1 || len / 4 * 3 + 3 > outsize + 3)
        return -1;
    for (size_t i = 0; i < len; ++i) {
        int v = value_of(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsize)
                return -1;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (int)o;
}

int b64url_is_token(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; ++i) {
        if (value_of(s[i]) < 0)
            return 0;
    }
    return 1;
}
