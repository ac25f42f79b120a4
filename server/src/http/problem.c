/*
 * http/problem — RFC 9457 problem details.
 */
#include <jansson.h>
#include <stdarg.h>

#include "http/problem.h"

const http_problem_info_t http_problem_table[HTTP_PROBLEM__COUNT] = {
    [HTTP_PROBLEM_BAD_REQUEST] = {"bad-request", 400, "Bad request"},
    [HTTP_PROBLEM_INVALID_PARAMETER] = {"invalid-parameter", 400, "Invalid parameter"},
    [HTTP_PROBLEM_UNAUTHORIZED] = {"unauthorized", 401, "Unauthorized"},
    [HTTP_PROBLEM_FORBIDDEN] = {"forbidden", 403, "Forbidden"},
    [HTTP_PROBLEM_NOT_FOUND] = {"not-found", 404, "Not found"},
    [HTTP_PROBLEM_METHOD_NOT_ALLOWED] = {"method-not-allowed", 405, "Method not allowed"},
    [HTTP_PROBLEM_NOT_ACCEPTABLE] = {"not-acceptable", 406, "Not acceptable"},
    [HTTP_PROBLEM_GONE] = {"gone", 410, "Gone"},
    [HTTP_PROBLEM_PAYLOAD_TOO_LARGE] = {"payload-too-large", 413, "Payload too large"},
    [HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {"unsupported-media-type", 415, "Unsupported media type"},
    [HTTP_PROBLEM_TOO_MANY_REQUESTS] = {"too-many-requests", 429, "Too many requests"},
    [HTTP_PROBLEM_HEADERS_TOO_LARGE] = {"headers-too-large", 431, "Request header fields too large"},
    [HTTP_PROBLEM_URI_TOO_LONG] = {"uri-too-long", 414, "URI too long"},
    [HTTP_PROBLEM_INTERNAL] = {"internal-error", 500, "Internal server error"},
    [HTTP_PROBLEM_DB_UNAVAILABLE] = {"database-unavailable", 503, "Database unavailable"},
    [HTTP_PROBLEM_DB_TIMEOUT] = {"database-timeout", 503, "Database did not answer in time"},
    [HTTP_PROBLEM_SHUTTING_DOWN] = {"shutting-down", 503, "Server is shutting down"},
    [HTTP_PROBLEM_BUSY] = {"busy", 503, "Server busy"},
    [HTTP_PROBLEM_INVALID_TOKEN] = {"invalid-token", 401, "Invalid or missing token"},
    [HTTP_PROBLEM_INSUFFICIENT_SCOPE] = {"insufficient-scope", 403, "Insufficient scope"},
    [HTTP_PROBLEM_CONSENT_UNAVAILABLE] = {"consent-unavailable", 503, "Consent service unavailable"},
    [HTTP_PROBLEM_COUNTRY_NOT_ALLOWED] = {"country-not-allowed", 403, "Not available from this country"},
    [HTTP_PROBLEM_ORIGIN_NOT_ALLOWED] = {"origin-not-allowed", 403, "Origin not allowed"},
};

void http_problem_send(h2o_req_t *req, http_problem_kind_t kind, const char *detail, const char *parameter)
{
    const http_problem_info_t *info = &http_problem_table[kind];
    char type[96];
    json_t *body;
    char *text;
    size_t len;

    snprintf(type, sizeof(type), "/docs/problems#%s", info->slug);
    body = json_pack("{s:s, s:s, s:i}", "type", type, "title", info->title, "status", info->status);
    if (body != NULL && detail != NULL)
        json_object_set_new(body, "detail", json_string(detail));
    if (body != NULL && parameter != NULL)
        json_object_set_new(body, "parameter", json_string(parameter));
    if (body != NULL && req->path_normalized.len < 1024)
        json_object_set_new(body, "instance", json_stringn(req->path_normalized.base, req->path_normalized.len));
    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        /* out of memory or invalid UTF-8 in detail: fall back to a fixed body */
        static const char fallback[] =
            "{\"type\":\"/docs/problems#internal-error\",\"title\":\"Internal server error\",\"status\":500}";
        req->res.status = 500;
        req->res.reason = "Internal Server Error";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/problem+json"));
        h2o_send_inline(req, fallback, sizeof(fallback) - 1);
        return;
    }
    len = strlen(text);
    char *copy = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(copy, text, len);
    free(text);
    req->res.status = info->status;
    req->res.reason = info->title;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/problem+json"));
    /* an error is never cached, whatever the handler meant to send */
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"), 1);
    req->res.content_length = len;
    h2o_send_inline(req, copy, len);
}

void http_problem_sendf(h2o_req_t *req, http_problem_kind_t kind, const char *parameter, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    http_problem_send(req, kind, detail, parameter);
}
