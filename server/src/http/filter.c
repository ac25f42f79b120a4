/*
 * http/filter — Strict-Transport-Security and problem+json for h2o's own errors.
 */
#include <jansson.h>
#include <string.h>

#include "core/strutil.h"
#include "http/conn.h"
#include "http/etag.h"
#include "http/filter.h"
#include "http/problem.h"

typedef struct filter {
    h2o_filter_t super;
    http_filter_config_t conf;
} filter_t;

/* Replaces whatever the generator sends by one fixed body. */
typedef struct replace_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    int sent;
} replace_ostream_t;

static void replace_do_send(h2o_ostream_t *ostr, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    replace_ostream_t *self = (replace_ostream_t *)ostr;
    size_t n = 0;

    if (!self->sent && state != H2O_SEND_STATE_ERROR &&
        !h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        n = 1;
    self->sent = 1;
    h2o_ostream_send_next(&self->super, req, n != 0 ? &self->body : NULL, n, state);
}

/* The problem document for an error h2o answered by itself, in the request's pool; {NULL, 0} when out of memory. */
static h2o_iovec_t problem_body(h2o_req_t *req, http_problem_kind_t kind, const char *detail)
{
    const http_problem_info_t *info = &http_problem_table[kind];
    char type[96];
    json_t *doc;
    char *text;
    h2o_iovec_t out = {NULL, 0};

    str_fmt(type, sizeof(type), "/docs/problems#%s", info->slug);
    doc = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", info->title, "status", info->status, "detail", detail);
    if (doc != NULL && req->path_normalized.base != NULL && req->path_normalized.len < 1024)
        json_object_set_new(doc, "instance", json_stringn(req->path_normalized.base, req->path_normalized.len));
    text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text != NULL) {
        out = h2o_strdup(&req->pool, text, strlen(text));
        free(text);
    }
    return out;
}

/* Rewrites a 400 or 413 that h2o generated while reading the request into problem+json (headers now, body later).
 * Returns the slot for the next output stream: slot itself, or the next slot of the inserted replacing stream. */
static h2o_ostream_t **rewrite_error(filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    char detail[160];
    http_problem_kind_t kind;
    replace_ostream_t *ostr;
    h2o_iovec_t body;

    if (req->res.status == 413 || req->res.status == 400)
        http_conn_linger(req); /* h2o closes the connection after this answer, with the body unread */
    if (req->res.status == 413) {
        kind = HTTP_PROBLEM_PAYLOAD_TOO_LARGE;
        str_fmt(detail, sizeof(detail), HTTP_CONN_BODY_LIMIT_DETAIL, self->conf.max_body);
    } else if (req->res.status == 400) {
        kind = HTTP_PROBLEM_BAD_REQUEST;
        str_fmt(detail, sizeof(detail), "The request body's framing is broken (Content-Length or chunked Transfer-Encoding).");
    } else {
        return slot;
    }
    if ((body = problem_body(req, kind, detail)).base == NULL)
        return slot; /* out of memory: h2o's own text/plain answer goes out */
    req->res.reason = http_problem_table[kind].title;
    req->res.content_length = body.len;
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/problem+json"), 1);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"), 1);
    ostr = (replace_ostream_t *)h2o_add_ostream(req, sizeof(*ostr), slot);
    ostr->super.do_send = replace_do_send;
    ostr->body = body;
    ostr->sent = 0;
    return &ostr->super.next;
}

/* A compressed response is another representation: it gets its own strong tag (http_etag_coded). This filter runs after
 * h2o's compress filter, which has set Content-Encoding by then. h2o does not compress a HEAD response (it has no
 * body), yet a streamed response's HEAD must describe what GET would send (RFC 9110 9.3.2): the coding and its tag, so that a
 * client that checks a download's ETag with HEAD before resuming sees the tag its GET got. */
static void code_etag(h2o_req_t *req)
{
    ssize_t enc = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_ENCODING, -1), tag, ae;
    if ((tag = h2o_find_header(&req->res.headers, H2O_TOKEN_ETAG, -1)) == -1)
        return;
    /* only streamed responses (no Content-Length): h2o compresses those whatever their size */
    if (enc == -1 && req->res.status == 200 && req->res.content_length == SIZE_MAX &&
        req->compress_hint == H2O_COMPRESS_HINT_ENABLE &&
        h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")) &&
        (ae = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_ENCODING, -1)) != -1 &&
        h2o_contains_token(req->headers.entries[ae].value.base, req->headers.entries[ae].value.len, H2O_STRLIT("gzip"), ',')) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_ENCODING, NULL, H2O_STRLIT("gzip"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("accept-encoding"));
        enc = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_ENCODING, -1);
    }
    if (enc == -1)
        return;
    req->res.headers.entries[tag].value =
        http_etag_coded(&req->pool, req->res.headers.entries[tag].value, req->res.headers.entries[enc].value);
}

static void on_setup_ostream(h2o_filter_t *f, h2o_req_t *req, h2o_ostream_t **slot)
{
    filter_t *self = (filter_t *)f;

    code_etag(req);
    if (self->conf.hsts)
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_STRICT_TRANSPORT_SECURITY, H2O_STRLIT(HTTP_FILTER_HSTS), 1);
    if (self->conf.rewrite_errors)
        slot = rewrite_error(self, req, slot);
    h2o_setup_next_ostream(req, slot);
}

void http_filter_register(h2o_pathconf_t *path, const http_filter_config_t *conf)
{
    filter_t *self = (filter_t *)h2o_create_filter(path, sizeof(*self));
    self->super.on_setup_ostream = on_setup_ostream;
    self->conf = *conf;
}
