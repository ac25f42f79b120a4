/*
 * http/cache — per-worker LRU response cache.
 *
 * A node and everything it stores (the key, the body, the header values) are one h2o_mem_alloc_shared block. The cache
 * holds one reference; each hit adds one for the request (h2o_mem_link_shared), which the request's pool drops when
 * h2o disposes the request. Removing a node from the cache drops the cache's reference only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "http/cache.h"

typedef struct node {
    struct node *lru_prev, *lru_next; /* most recent at head */
    struct node *bucket_next;
    uint64_t hash, version;
    const char *key;
    size_t keylen, cost;
    http_cache_entry_t e;
} node_t;

struct http_cache {
    node_t **buckets;
    size_t nbuckets; /* a power of two */
    node_t *head, *tail;
    size_t bytes, max_bytes, entries;
    uint64_t hits, misses;
    uint64_t seed; /* keys are client-chosen URLs: a secret seed keeps them from piling into one bucket */
};

http_cache_t *http_cache_create(size_t max_bytes)
{
    http_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->max_bytes = max_bytes;
    c->nbuckets = 4096;
    if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
        free(c);
        return NULL;
    }
    if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t)sizeof(c->seed))
        c->seed = (uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ULL;
    return c;
}

/* A seeded hash that takes 8 bytes per step: a hit hashes the whole path and query, so a byte-at-a-time hash showed up
 * in profiles. */
static uint64_t key_hash(uint64_t seed, const char *p, size_t len)
{
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static void lru_unlink(http_cache_t *c, node_t *n)
{
    if (n->lru_prev != NULL)
        n->lru_prev->lru_next = n->lru_next;
    else
        c->head = n->lru_next;
    if (n->lru_next != NULL)
        n->lru_next->lru_prev = n->lru_prev;
    else
        c->tail = n->lru_prev;
    n->lru_prev = n->lru_next = NULL;
}

static void lru_push_front(http_cache_t *c, node_t *n)
{
    n->lru_prev = NULL;
    n->lru_next = c->head;
    if (c->head != NULL)
        c->head->lru_prev = n;
    c->head = n;
    if (c->tail == NULL)
        c->tail = n;
}

/* Takes n out of the cache and drops the cache's reference (requests still sending from it keep theirs). */
static void remove_node(http_cache_t *c, node_t *n)
{
    node_t **pp = &c->buckets[n->hash & (c->nbuckets - 1)];
    while (*pp != n)
        pp = &(*pp)->bucket_next;
    *pp = n->bucket_next;
    lru_unlink(c, n);
    c->bytes -= n->cost;
    --c->entries;
    h2o_mem_release_shared(n);
}

void http_cache_destroy(http_cache_t *c)
{
    if (c == NULL)
        return;
    while (c->head != NULL)
        remove_node(c, c->head);
    free(c->buckets);
    free(c);
}

static node_t *find(http_cache_t *c, uint64_t h, const char *key, size_t keylen)
{
    for (node_t *n = c->buckets[h & (c->nbuckets - 1)]; n != NULL; n = n->bucket_next) {
        if (n->hash == h && n->keylen == keylen && memcmp(n->key, key, keylen) == 0)
            return n;
    }
    return NULL;
}

const http_cache_entry_t *http_cache_get(http_cache_t *c, h2o_mem_pool_t *pool, const char *key, size_t keylen, uint64_t version)
{
    node_t *n;

    if (c->entries == 0 || (n = find(c, key_hash(c->seed, key, keylen), key, keylen)) == NULL) {
        ++c->misses;
        return NULL;
    }
    if (n->version != version) {
        remove_node(c, n);
        ++c->misses;
        return NULL;
    }
    if (c->head != n) {
        lru_unlink(c, n);
        lru_push_front(c, n);
    }
    ++c->hits;
    h2o_mem_link_shared(pool, n);
    return &n->e;
}

static size_t opt_len(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies len bytes of s to *w, NUL-terminated, and returns them as an iovec; NULL stays absent. */
static h2o_iovec_t put_bytes(char **w, const char *s, size_t len)
{
    char *at = *w;
    if (s == NULL)
        return h2o_iovec_init(NULL, 0);
    memcpy(at, s, len);
    at[len] = '\0';
    *w += len + 1;
    return h2o_iovec_init(at, len);
}

static h2o_iovec_t put_str(char **w, const char *s)
{
    return put_bytes(w, s, s != NULL ? strlen(s) : 0);
}

void http_cache_put(http_cache_t *c, const char *key, size_t keylen, uint64_t version, const http_cache_response_t *r)
{
    size_t size = sizeof(node_t) + keylen + 1 + r->len + 1 + opt_len(r->etag) + opt_len(r->link) + opt_len(r->next_cursor);
    uint64_t h;
    node_t *n;
    char *w;

    if (c->max_bytes == 0 || size > c->max_bytes / 8)
        return;
    h = key_hash(c->seed, key, keylen);
    if ((n = find(c, h, key, keylen)) != NULL)
        remove_node(c, n);
    while (c->bytes + size > c->max_bytes && c->tail != NULL)
        remove_node(c, c->tail);
    /* h2o_mem_alloc_shared aborts rather than return NULL when out of memory, like every h2o allocation */
    n = h2o_mem_alloc_shared(NULL, size, NULL);
    memset(n, 0, sizeof(*n));
    w = (char *)(n + 1);
    n->e.body = put_bytes(&w, r->body != NULL ? r->body : "", r->len); /* never absent: it is sent as is */
    n->key = put_bytes(&w, key, keylen).base;
    n->keylen = keylen;
    n->e.etag = put_str(&w, r->etag);
    n->e.link = put_str(&w, r->link);
    n->e.next_cursor = put_str(&w, r->next_cursor);
    n->e.content_type = h2o_iovec_init(r->content_type, strlen(r->content_type));
    n->e.tag = r->tag;
    n->hash = h;
    n->version = version;
    n->cost = size;
    n->bucket_next = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = n;
    lru_push_front(c, n);
    c->bytes += size;
    ++c->entries;
}

void http_cache_get_stats(const http_cache_t *c, http_cache_stats_t *out)
{
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = c->entries;
    out->bytes = c->bytes;
}
