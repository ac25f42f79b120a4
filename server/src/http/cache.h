/*
 * http/cache — a worker's response cache for public GET responses: bounded by bytes, least-recently-used out first.
 * Entries are keyed by the request's path and query and stamped with the dataset version they were built from; a
 * lookup with a newer version misses (and drops the entry), so NOTIFY klima_dataset_refreshed — which bumps the version
 * in the worker's catalog — invalidates at once. One cache per worker thread: no locks.
 *
 * An entry is one refcounted block (h2o_mem_alloc_shared). A hit links it to the request's pool, so the body and the
 * header values can be handed to h2o without copying: an entry evicted or replaced while responses still send from it
 * lives until the last of those requests is disposed.
 */
#ifndef KLIMA_HTTP_CACHE_H
#define KLIMA_HTTP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <h2o/memory.h>

typedef struct http_cache http_cache_t;

/* A stored response. Every iovec points into the entry (or at a string literal); base NULL means "absent". */
typedef struct http_cache_entry {
    h2o_iovec_t content_type; /* a string literal */
    h2o_iovec_t body;
    h2o_iovec_t etag;
    h2o_iovec_t link;        /* the whole Link header value (<url>; rel="next") */
    h2o_iovec_t next_cursor; /* the X-Next-Cursor value */
    const char *tag;         /* the caller's string literal, returned as given (records: the usage format name) */
} http_cache_entry_t;

/* What http_cache_put stores; the strings are copied (content_type and tag must be string literals). */
typedef struct http_cache_response {
    const char *content_type;
    const char *body;
    size_t len;
    const char *etag;
    const char *link;        /* or NULL */
    const char *next_cursor; /* or NULL */
    const char *tag;         /* or NULL */
} http_cache_response_t;

typedef struct http_cache_stats {
    uint64_t hits, misses, entries, bytes;
} http_cache_stats_t;

/* max_bytes 0 disables caching (every lookup misses, puts are dropped). Returns NULL when out of memory. */
http_cache_t *http_cache_create(size_t max_bytes);
/* Drops every entry; entries still linked to a request's pool are freed when that pool is cleared. */
void http_cache_destroy(http_cache_t *c);

/* The entry for key at version, or NULL. On a hit the entry is linked to pool (h2o_mem_link_shared): it stays valid, and
 * unchanged, until that pool is cleared, even when the cache drops it meanwhile. */
const http_cache_entry_t *http_cache_get(http_cache_t *c, h2o_mem_pool_t *pool, const char *key, size_t keylen, uint64_t version);

/* Stores a copy of the response under key at version, replacing an older entry for key. Responses larger than an eighth
 * of the cache are not stored; when out of memory nothing is stored. */
void http_cache_put(http_cache_t *c, const char *key, size_t keylen, uint64_t version, const http_cache_response_t *r);

void http_cache_get_stats(const http_cache_t *c, http_cache_stats_t *out);

#endif
