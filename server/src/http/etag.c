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

/* The content codings a response of this server may carry (h2o's compress filter): each has its own strong tag, the
 * identity tag with "-<coding>" before the closing quote (RFC 9110 8.8.3: a strong tag differs for every encoding). */
static const char *const codings[] = {"gzip", "br"};
#define NCODINGS (sizeof(codings) / sizeof(codings[0]))

/* Whether tag (len bytes) is etag with "-<coding>" inside the quotes; returns 1 + the coding's index, or 0. */
static int coded_variant(const char *tag, size_t len, h2o_iovec_t etag)
{
    if (etag.len < 2 || len <= etag.len || memcmp(tag, etag.base, etag.len - 1) != 0 || tag[etag.len - 1] != '-' ||
        tag[len - 1] != '"')
        return 0;
    for (size_t c = 0; c < NCODINGS; ++c) {
        size_t n = strlen(codings[c]);
        if (len == etag.len + 1 + n && memcmp(tag + etag.len, codings[c], n) == 0)
            return 1 + (int)c;
    }
    return 0;
}

/* Whether the comma-separated list v holds etag (or "*"): 1 for the identity tag or "*", 2 + i for the tag of coding i
 * (codings[i]), 0 for none. */
static int list_has(h2o_iovec_t v, h2o_iovec_t etag)
{
    size_t i = 0;
    int c;

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
        if ((c = coded_variant(v.base + start, end - start, etag)) != 0)
            return 1 + c;
    }
    return 0;
}

static int http_etag_matches(h2o_req_t *req, h2o_iovec_t etag)
{
    int r;
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1;) {
        if ((r = list_has(req->headers.entries[i].value, etag)) != 0)
            return r;
    }
    return 0;
}

h2o_iovec_t http_etag_coded(h2o_mem_pool_t *pool, h2o_iovec_t etag, h2o_iovec_t coding)
{
    h2o_iovec_t out;
    if (etag.len < 2 || etag.base[0] != '"' || etag.base[etag.len - 1] != '"' || coding.len == 0)
        return etag;
    out.len = etag.len + 1 + coding.len;
    out.base = h2o_mem_alloc_pool(pool, out.len + 1);
    memcpy(out.base, etag.base, etag.len - 1);
    out.base[etag.len - 1] = '-';
    memcpy(out.base + etag.len, coding.base, coding.len);
    out.base[out.len - 1] = '"';
    out.base[out.len] = '\0';
    return out;
}

int http_not_modified(h2o_req_t *req, h2o_iovec_t etag, const char *cache_control)
{
    int r = http_etag_matches(req, etag);
    if (r == 0)
        return 0;
    /* the 304 carries the tag the client holds: the coded one when it got (and asks again for) a compressed body */
    if (r >= 2)
        etag = http_etag_coded(&req->pool, etag, h2o_iovec_init(codings[r - 2], strlen(codings[r - 2])));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag.base, etag.len);
    if (cache_control != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache_control, strlen(cache_control));
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_send_inline(req, NULL, 0);
    return 1;
}
