/*
 * http/respond — writers for successful responses.
 */
#include <string.h>

#include "http/problem.h"
#include "http/respond.h"

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    default:
        return "";
    }
}

void http_send_bytes(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_send_inline(req, body, len);
}

void http_send_shared(h2o_req_t *req, int status, h2o_iovec_t content_type, h2o_iovec_t body)
{
    /* h2o_send_inline without its copy: a generator without callbacks suffices for a response sent in one piece */
    static h2o_generator_t generator = {NULL, NULL};

    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type.base, content_type.len);
    h2o_start_response(req, &generator);
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

/* Where a JSON answer is written first: one serialization for any answer up to this size (a summary is ~3 kB), where
 * measuring and then writing would serialize twice. */
#define JSON_SCRATCH 16384
static __thread char json_scratch[JSON_SCRATCH];

void http_send_json_as(h2o_req_t *req, int status, json_t *json, size_t flags, const char *content_type)
{
    size_t len = json != NULL ? json_dumpb(json, json_scratch, sizeof(json_scratch), flags) : 0;
    char *buf;

    if (len == 0) {
        json_decref(json);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be encoded.", NULL);
        return;
    }
    buf = h2o_mem_alloc_pool(&req->pool, len);
    if (len <= sizeof(json_scratch))
        memcpy(buf, json_scratch, len);
    else
        json_dumpb(json, buf, len, flags); /* larger: jansson told the size, write it again where it stays */
    json_decref(json);
    /* the pool lives as long as the request: no second copy */
    http_send_shared(req, status, h2o_iovec_init(content_type, strlen(content_type)), h2o_iovec_init(buf, len));
}

void http_send_json(h2o_req_t *req, int status, json_t *json)
{
    http_send_json_as(req, status, json, JSON_COMPACT, "application/json");
}

h2o_iovec_t http_sbuf_to_pool_or_reply(h2o_req_t *req, sbuf_t *b)
{
    h2o_iovec_t v = {NULL, 0};
    if (sbuf_failed(b)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be assembled (out of memory).", NULL);
    } else {
        v = h2o_iovec_init(h2o_mem_alloc_pool(&req->pool, b->len + 1), b->len);
        memcpy(v.base, b->data != NULL ? b->data : "", b->len);
        v.base[b->len] = '\0';
    }
    sbuf_free(b);
    return v;
}

void http_send_sbuf(h2o_req_t *req, int status, const char *content_type, sbuf_t *b)
{
    h2o_iovec_t body = http_sbuf_to_pool_or_reply(req, b);
    if (body.base != NULL)
        http_send_bytes(req, status, content_type, body.base, body.len);
}

void http_add_header(h2o_req_t *req, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *n = h2o_mem_alloc_pool(&req->pool, nl), *v = h2o_mem_alloc_pool(&req->pool, vl);
    memcpy(n, name, nl);
    memcpy(v, value, vl);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, nl, 1, NULL, v, vl);
}
