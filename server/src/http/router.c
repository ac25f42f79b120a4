/*
 * http/router — linear match over a small table; routes are few (tens), so a scan beats a trie in simplicity and speed.
 */
#include <string.h>

#include "core/strutil.h"
#include "http/router.h"

/* Matches path against pattern segment by segment; records {param} captures in out. Returns 1 on a match. */
static int match_pattern(const char *pattern, const char *path, size_t path_len, http_match_t *out)
{
    const char *p = pattern, *s = path, *end = path + path_len;

    out->nparams = 0;
    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = memchr(s, '/', (size_t)(end - s));
            if (seg_end == NULL)
                seg_end = end;
            if (seg_end == s || close == NULL || out->nparams == HTTP_ROUTE_MAX_PARAMS)
                return 0;
            out->params[out->nparams].name = p + 1;
            out->params[out->nparams].name_len = (size_t)(close - p - 1);
            out->params[out->nparams].value = s;
            out->params[out->nparams].value_len = (size_t)(seg_end - s);
            ++out->nparams;
            p = close + 1;
            s = seg_end;
        } else {
            if (s == end || *s != *p)
                return 0;
            ++p;
            ++s;
        }
    }
    return s == end;
}

http_route_result_t http_router_match(const http_route_t *routes, size_t nroutes, const char *method, size_t method_len,
                                      const char *path, size_t path_len, http_match_t *out)
{
    int is_head = method_len == 4 && memcmp(method, "HEAD", 4) == 0;
    int path_known = 0;
    size_t allow_len = 0;
    http_match_t m;

    out->allow[0] = '\0';
    out->route = NULL;
    for (size_t i = 0; i < nroutes; ++i) {
        const http_route_t *r = &routes[i];
        if (!match_pattern(r->pattern, path, path_len, &m))
            continue;
        size_t rl = strlen(r->method);
        if ((rl == method_len && memcmp(r->method, method, rl) == 0) || (is_head && strcmp(r->method, "GET") == 0)) {
            *out = m;
            out->route = r;
            out->allow[0] = '\0';
            return HTTP_ROUTE_FOUND;
        }
        if (!path_known)
            out->route = r; /* for 405: a route of this path (its pattern names the path) */
        path_known = 1;
        /* collect the Allow list; GET implies HEAD */
        const char *add[2] = {r->method, strcmp(r->method, "GET") == 0 ? "HEAD" : NULL};
        for (size_t k = 0; k < 2 && add[k] != NULL; ++k) {
            int n = str_fmt(out->allow + allow_len, sizeof(out->allow) - allow_len, "%s%s", allow_len ? ", " : "", add[k]);
            if (n > 0)
                allow_len += (size_t)n;
        }
    }
    return path_known ? HTTP_ROUTE_METHOD_NOT_ALLOWED : HTTP_ROUTE_NOT_FOUND;
}

const char *http_match_param(const http_match_t *m, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < m->nparams; ++i) {
        if (m->params[i].name_len == nl && memcmp(m->params[i].name, name, nl) == 0) {
            *len = m->params[i].value_len;
            return m->params[i].value;
        }
    }
    *len = 0;
    return NULL;
}
