/*
 * http/filter — an output filter on every response. It adds Strict-Transport-Security when the server speaks TLS, and it
 * turns the error responses h2o writes by itself, before a request reaches the router, into problem+json: 413 for a
 * body over KLIMA_MAX_BODY_BYTES and 400 for a body whose framing is broken (Content-Length, chunked encoding). A response
 * that h2o's compress filter encoded gets the strong ETag of that coding (http_etag_coded), so it must run after the
 * compress filter: h2o runs filters in the reverse order of registration, so register it before h2o_compress_register.
 */
#ifndef KLIMA_HTTP_FILTER_H
#define KLIMA_HTTP_FILTER_H

#include <h2o.h>
#include <stddef.h>

/* The value of Strict-Transport-Security: one year, subdomains included. */
#define HTTP_FILTER_HSTS "max-age=31536000; includeSubDomains"

typedef struct http_filter_config {
    int hsts;           /* 1 = add Strict-Transport-Security to every response (set only when every listener is TLS) */
    int rewrite_errors; /* 1 = replace h2o's text/plain 400 and 413 by problem+json (for the host's fallback path) */
    size_t max_body;    /* the body limit, quoted in the 413's detail */
} http_filter_config_t;

/* Adds the filter to path (conf is copied). Call while the configuration is built, before the workers start. */
void http_filter_register(h2o_pathconf_t *path, const http_filter_config_t *conf);

#endif
