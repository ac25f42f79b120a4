/*
 * api/cache — per-worker LRU response cache.
 */
#include <stdlib.h>
#include <string.h>

#include "api/cache.h"
#include "core/strutil.h"

typedef struct node {
    struct node *lru_prev, *lru_next; /* most recent at head */
    struct node *bucket_next;
    uint64_t hash, version;
    char *key;
    size_t keylen, cost;
    api_cache_entry_t e;
    char *storage; /* body + strings in one allocation */
} node_t;

struct api_cache {
    node_t **buckets;
    size_t nbuckets;
    node_t *head, *tail;
    size_t bytes, max_bytes, entries;
    uint64_t hits, misses;
};

api_cache_t *api_cache_create(size_t max_bytes)
{
    api_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->max_bytes = max_bytes;
    c->nbuckets = 4096;
    if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

static void lru_unlink(api_cache_t *c, node_t *n)
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

static void lru_push_front(api_cache_t *c, node_t *n)
{
    n->lru_prev = NULL;
    n->lru_next = c->head;
    if (c->head != NULL)
        c->head->lru_prev = n;
    c->head = n;
    if (c->tail == NULL)
        c->tail = n;
}

static void remove_node(api_cache_t *c, node_t *n)
{
    node_t **pp = &c->buckets[n->hash % c->nbuckets];
    while (*pp != n)
        pp = &(*pp)->bucket_next;
    *pp = n->bucket_next;
    lru_unlink(c, n);
    c->bytes -= n->cost;
    --c->entries;
    free(n->storage);
    free(n);
}

void api_cache_destroy(api_cache_t *c)
{
    if (c == NULL)
        return;
    while (c->head != NULL)
        remove_node(c, c->head);
    free(c->buckets);
    free(c);
}

const api_cache_entry_t *api_cache_get(api_cache_t *c, const char *key, size_t keylen, uint64_t version)
{
    uint64_t h = str_hash64(key, keylen);
    for (node_t *n = c->buckets[h % c->nbuckets]; n != NULL; n = n->bucket_next) {
        if (n->hash != h || n->keylen != keylen || memcmp(n->key, key, keylen) != 0)
            continue;
        if (n->version != version) {
            remove_node(c, n);
            break;
        }
        lru_unlink(c, n);
        lru_push_front(c, n);
        ++c->hits;
        return &n->e;
    }
    ++c->misses;
    return NULL;
}

/* Copies s into *w (NUL-terminated) and returns where it went; NULL stays NULL. */
static const char *put_str(char **w, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s) + 1;
    char *at = *w;
    memcpy(at, s, len);
    *w += len;
    return at;
}

void api_cache_put(api_cache_t *c, const char *key, size_t keylen, uint64_t version, const char *content_type, const char *body,
                   size_t len, const char *etag, const char *link, const char *next_cursor)
{
    size_t strs = keylen + 1 + strlen(etag) + 1 + (link != NULL ? strlen(link) + 1 : 0) +
                  (next_cursor != NULL ? strlen(next_cursor) + 1 : 0);
    size_t cost = sizeof(node_t) + len + strs;
    uint64_t h = str_hash64(key, keylen);
    node_t *n;
    char *w;

    if (c->max_bytes == 0 || cost > c->max_bytes / 8)
        return;
    for (n = c->buckets[h % c->nbuckets]; n != NULL; n = n->bucket_next) {
        if (n->hash == h && n->keylen == keylen && memcmp(n->key, key, keylen) == 0) {
            remove_node(c, n);
            break;
        }
    }
    while (c->bytes + cost > c->max_bytes && c->tail != NULL)
        remove_node(c, c->tail);
    if ((n = calloc(1, sizeof(*n))) == NULL)
        return;
    if ((n->storage = malloc(len + strs)) == NULL) {
        free(n);
        return;
    }
    w = n->storage;
    memcpy(w, body, len);
    n->e.body = w;
    n->e.len = len;
    w += len;
    memcpy(w, key, keylen);
    w[keylen] = '\0';
    n->key = w;
    n->keylen = keylen;
    w += keylen + 1;
    n->e.etag = put_str(&w, etag);
    n->e.link = put_str(&w, link);
    n->e.next_cursor = put_str(&w, next_cursor);
    n->e.content_type = content_type;
    n->hash = h;
    n->version = version;
    n->cost = cost;
    n->bucket_next = c->buckets[h % c->nbuckets];
    c->buckets[h % c->nbuckets] = n;
    lru_push_front(c, n);
    c->bytes += cost;
    ++c->entries;
}

void api_cache_get_stats(const api_cache_t *c, api_cache_stats_t *out)
{
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = c->entries;
    out->bytes = c->bytes;
}
