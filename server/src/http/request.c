/*
 * http/request — query strings and the request's language.
 */
#include <string.h>

#include "core/strutil.h"
#include "http/problem.h"
#include "http/request.h"

const char *http_query_string(h2o_req_t *req, size_t *len)
{
    if (req->query_at == SIZE_MAX) {
        *len = 0;
        return "";
    }
    *len = req->path.len - req->query_at - 1;
    return req->path.base + req->query_at + 1;
}

int http_query_params_or_reply(h2o_req_t *req, qs_param_t *params, size_t max, size_t *n)
{
    size_t len;
    const char *qs = http_query_string(req, &len);
    char *decoded = h2o_mem_alloc_pool(&req->pool, len + 2 * max + 2);

    *n = 0;
    switch (qs_parse(qs, len, params, max, n, decoded)) {
    case QS_OK:
        return 0;
    case QS_TOO_MANY:
        http_problem_sendf(req, HTTP_PROBLEM_BAD_REQUEST, NULL, "At most %zu query parameters.", max);
        return -1;
    case QS_BAD_ESCAPE:
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST,
                          "The query string has a malformed percent-escape (or an encoded NUL byte).", NULL);
        return -1;
    case QS_BAD_UTF8:
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "A parameter is not valid UTF-8 once decoded.",
                          str_is_utf8(params[*n - 1].name, strlen(params[*n - 1].name)) ? params[*n - 1].name : NULL);
        return -1;
    }
    return -1;
}

#define TAKE_MAX 16 /* query parameters decoded for a route that takes named ones: more are refused as too many */

int http_query_take_or_reply(h2o_req_t *req, const char *const *names, const char **values, size_t n)
{
    qs_param_t params[TAKE_MAX];
    size_t np;
    char list[256];
    size_t used = 0;

    for (size_t k = 0; k < n; ++k)
        values[k] = NULL;
    if (http_query_params_or_reply(req, params, TAKE_MAX, &np) != 0)
        return -1;
    for (size_t i = 0; i < np; ++i) {
        size_t k = 0;
        while (k < n && strcmp(params[i].name, names[k]) != 0)
            ++k;
        if (k < n && values[k] != NULL) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, params[i].name, "'%s' is given more than once.",
                               params[i].name);
            return -1;
        }
        if (k < n) {
            values[k] = params[i].value;
            continue;
        }
        list[0] = '\0';
        for (size_t j = 0; j < n; ++j) {
            int w = str_fmt(list + used, sizeof(list) - used, "%s%s", j ? ", " : "", names[j]);
            used += w > 0 ? (size_t)w : 0;
        }
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, params[i].name,
                           "'%.64s' is not a parameter here; this route takes %s.", params[i].name, n > 0 ? list : "none");
        return -1;
    }
    return 0;
}

const char *http_request_lang(h2o_req_t *req)
{
    ssize_t i;
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at;
        size_t n = req->path.len - req->query_at;
        if (memmem(q, n, "lang=da", 7) != NULL)
            return "da";
        if (memmem(q, n, "lang=en", 7) != NULL)
            return "en";
    }
    if ((i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_LANGUAGE, -1)) != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (v.len >= 2 && (memcmp(v.base, "da", 2) == 0 || memcmp(v.base, "nb", 2) == 0))
            return "da";
    }
    return "en";
}
