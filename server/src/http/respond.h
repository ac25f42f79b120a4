/*
 * http/respond — writers for successful responses.
 */
#ifndef KLIMA_HTTP_RESPOND_H
#define KLIMA_HTTP_RESPOND_H

#include <h2o.h>
#include <jansson.h>

#include "core/sbuf.h"

/* Sends `body` (a complete byte string the caller keeps alive until the response is sent, e.g. static or pool memory)
 * with the given status and content type. */
void http_send_bytes(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);

/* Like http_send_bytes without the copy: h2o sends `body` where it is, so it must stay unchanged until req is disposed
 * (static memory, req's pool, or a refcounted block linked to req's pool with h2o_mem_link_shared). HEAD gets the
 * headers, Content-Length included, and no body. */
void http_send_shared(h2o_req_t *req, int status, h2o_iovec_t content_type, h2o_iovec_t body);

/* Serializes `json` (compact, UTF-8) into the request's pool and sends it as application/json; steals the reference.
 * If serialization fails, sends a 500 problem instead. */
void http_send_json(h2o_req_t *req, int status, json_t *json);

/* http_send_json with jansson's dump flags and a content type of the caller's (JSON-LD, precision of reals). */
void http_send_json_as(h2o_req_t *req, int status, json_t *json, size_t flags, const char *content_type);

/* b's bytes copied into req's pool (NUL-terminated) and b freed; when b failed (out of memory), answers 500 and
 * returns base NULL. */
h2o_iovec_t http_sbuf_to_pool_or_reply(h2o_req_t *req, sbuf_t *b);

/* Sends b's bytes (copied into req's pool) with status and content type and frees b; when b failed (out of memory)
 * sends a 500 problem instead. */
void http_send_sbuf(h2o_req_t *req, int status, const char *content_type, sbuf_t *b);

/* Adds a header by name (lower-case) with a value copied into the request's pool. */
void http_add_header(h2o_req_t *req, const char *name, const char *value);

#endif
