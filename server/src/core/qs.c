/*
 * core/qs — query-string decoding.
 */
#include <string.h>

#include "core/qs.h"
#include "core/strutil.h"

/* Decodes s[0..len) to dst (NUL-terminated); returns the decoded length or -1 on a bad escape. */
static long decode(const char *s, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = str_hexval((unsigned char)s[i + 1])) < 0 || (lo = str_hexval((unsigned char)s[i + 2])) < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return -1;
            i += 2;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

qs_result_t qs_parse(const char *s, size_t len, qs_param_t *out, size_t max, size_t *n, char *buf)
{
    const char *p = s, *end = s + len;
    char *w = buf;

    *n = 0;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *seg_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(seg_end - p));
        long nl, vl;

        if (seg_end == p) {
            p = seg_end + 1;
            continue;
        }
        if (*n == max)
            return QS_TOO_MANY;
        if ((nl = decode(p, (size_t)((eq != NULL ? eq : seg_end) - p), w)) < 0)
            return QS_BAD_ESCAPE;
        out[*n].name = w;
        w += nl + 1;
        if (eq != NULL) {
            if ((vl = decode(eq + 1, (size_t)(seg_end - eq - 1), w)) < 0)
                return QS_BAD_ESCAPE;
        } else {
            vl = 0;
            *w = '\0';
        }
        out[*n].value = w;
        w += vl + 1;
        if (!str_is_utf8(out[*n].name, (size_t)nl) || !str_is_utf8(out[*n].value, (size_t)vl)) {
            ++*n;
            return QS_BAD_UTF8;
        }
        ++*n;
        p = seg_end + 1;
    }
    return QS_OK;
}
