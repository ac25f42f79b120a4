/*
 * http/etag — entity tags and If-None-Match.
 */
#include <string.h>

#include "core/strutil.h"
#include "http/etag.h"

size_t http_etag_make(char out[HTTP_ETAG_MAX], uint64_t version, uint64_t hash)
{
    int n = str_fmt(out, HTTP_ETAG_MAX, "\"%llu-%016llx\"", (unsigned long long)version, (unsigned long long)hash);
    return n > 0 ? (size_t)n : 0;
}

/* Whether the comma-separated list v holds etag (or "*"). */
static int list_has(h2o_iovec_t v, h2o_iovec_t etag)
{
    size_t i = 0;

    while (i < v.len) {
        size_t start, end;
        while (i < v.len && (v.base[i] == ' ' || v.base[i] == '\t' || v.base[i] == ','))
            ++i;
        start = i;
        /* a quoted tag may hold a comma; the tags of this server do not, but skip to the closing quote anyway */
        if (i + 2 <= v.len && v.base[i] == 'W' && v.base[i + 1] == '/')
            i += 2;
        if (i < v.len && v.base[i] == '"') {
            const char *close = memchr(v.base + i + 1, '"', v.len - i - 1);
            i = close != NULL ? (size_t)(close - v.base) + 1 : v.len;
        } else {
            while (i < v.len && v.base[i] != ',' && v.base[i] != ' ' && v.base[i] != '\t')
                ++i;
        }
        end = i;
        if (end - start == 1 && v.base[start] == '*')
            return 1;
        if (end - start >= 2 && v.base[start] == 'W' && v.base[start + 1] == '/')
            start += 2;
        if (end - start == etag.len && memcmp(v.base + start, etag.base, etag.len) == 0)
            return 1;
    }
    return 0;
}

static int http_etag_matches(h2o_req_t *req, h2o_iovec_t etag)
{
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1;) {
        if (list_has(req->headers.entries[i].value, etag))
            return 1;
    }
    return 0;
}

int http_not_modified(h2o_req_t *req, h2o_iovec_t etag)
{
    if (!http_etag_matches(req, etag))
        return 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag.base, etag.len);
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_send_inline(req, NULL, 0);
    return 1;
}
