/*
 * api/cache — a worker's response cache for public GET responses: bounded by bytes, least-recently-used out first.
 * Entries are keyed by the request's path and query and stamped with the dataset version they were built from; a
 * lookup with a newer version misses (and drops the entry), so NOTIFY klima_dataset_refreshed — which bumps the version
 * in the worker's catalog — invalidates at once. One cache per worker thread: no locks.
 */
#ifndef KLIMA_API_CACHE_H
#define KLIMA_API_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct api_cache api_cache_t;

typedef struct api_cache_entry {
    const char *content_type;
    const char *body;
    size_t len;
    const char *etag;
    const char *link;        /* the whole Link header value (<url>; rel="next"), or NULL */
    const char *next_cursor; /* X-Next-Cursor value, or NULL */
} api_cache_entry_t;

typedef struct api_cache_stats {
    uint64_t hits, misses, entries, bytes;
} api_cache_stats_t;

/* max_bytes 0 disables caching (every lookup misses, puts are dropped). */
api_cache_t *api_cache_create(size_t max_bytes);
void api_cache_destroy(api_cache_t *c);

/* The entry for key at version, or NULL. The entry stays valid until the next api_cache_put on this cache. */
const api_cache_entry_t *api_cache_get(api_cache_t *c, const char *key, size_t keylen, uint64_t version);

/* Stores a copy of the response (content_type must be a string literal). Responses larger than an eighth of the cache
 * are not stored. */
void api_cache_put(api_cache_t *c, const char *key, size_t keylen, uint64_t version, const char *content_type, const char *body,
                   size_t len, const char *etag, const char *link, const char *next_cursor);

void api_cache_get_stats(const api_cache_t *c, api_cache_stats_t *out);

#endif
