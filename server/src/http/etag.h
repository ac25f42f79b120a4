/*
 * http/etag — strong entity tags and conditional GET (RFC 9110 8.8.3 and 13.1.2): the one If-None-Match check every
 * handler with an ETag uses (records, downloads, metadata, factors, the spec, web pages).
 */
#ifndef KLIMA_HTTP_ETAG_H
#define KLIMA_HTTP_ETAG_H

#include <h2o.h>
#include <stdint.h>

/* Room for the tags http_etag_make writes, with the NUL. */
#define HTTP_ETAG_MAX 48

/* Writes the strong tag "\"<version>-<hash as 16 hex digits>\"" (a dataset release plus what shaped the bytes) into
 * out, NUL-terminated; returns its length. */
size_t http_etag_make(char out[HTTP_ETAG_MAX], uint64_t version, uint64_t hash);

/* Conditional GET: when If-None-Match holds etag, "*", or etag's variant for a content coding (http_etag_coded: a
 * compressed body has its own strong tag), sends 304 Not Modified with the ETag the client holds and the Cache-Control
 * cache_control (NULL: none added here) and returns 1; otherwise sends nothing and returns 0. etag is not copied: it
 * must outlive req (static memory, req's pool, or a block linked to it). Fields the caller added before (Cache-Control,
 * Vary) go out with the 304 too. */
int http_not_modified(h2o_req_t *req, h2o_iovec_t etag, const char *cache_control);

/* The strong tag of etag's representation in content coding `coding` ("gzip"): "\"<tag>-gzip\"", in pool. A tag that
 * is not a quoted strong tag is returned as it is. The output filter (http/filter.c) applies it to every compressed
 * response. */
h2o_iovec_t http_etag_coded(h2o_mem_pool_t *pool, h2o_iovec_t etag, h2o_iovec_t coding);

#endif
