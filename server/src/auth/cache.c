/*
 * auth/cache — verified-token cache.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/cache.h"

#define WAYS 4

typedef struct entry {
    unsigned char hash[32];
    int64_t expires_at; /* 0 = empty slot */
    auth_claims_t claims;
} entry_t;

struct auth_cache {
    entry_t *slots;
    size_t nsets; /* power of two */
    size_t live;
};

auth_cache_t *auth_cache_create(size_t capacity)
{
    auth_cache_t *c = calloc(1, sizeof(*c));
    size_t nsets = 16;
    if (c == NULL)
        return NULL;
    while (nsets * WAYS < capacity)
        nsets *= 2;
    if ((c->slots = calloc(nsets * WAYS, sizeof(entry_t))) == NULL) {
        free(c);
        return NULL;
    }
    c->nsets = nsets;
    return c;
}

/* duplicate: the create/destroy idiom every owner of memory here follows (destroy accepts NULL). */
void auth_cache_destroy(auth_cache_t *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c);
}

static entry_t *set_of(auth_cache_t *c, const unsigned char hash[32])
{
    uint64_t h;
    memcpy(&h, hash, sizeof(h)); /* the hash is uniformly distributed already */
    return &c->slots[(h & (c->nsets - 1)) * WAYS];
}

const auth_claims_t *auth_cache_get(auth_cache_t *c, const unsigned char hash[32], int64_t now)
{
    entry_t *set = set_of(c, hash);
    for (int i = 0; i < WAYS; ++i) {
        entry_t *e = &set[i];
        if (e->expires_at == 0 || memcmp(e->hash, hash, 32) != 0)
            continue;
        if (e->expires_at <= now) {
            e->expires_at = 0;
            --c->live;
            return NULL;
        }
        return &e->claims;
    }
    return NULL;
}

void auth_cache_put(auth_cache_t *c, const unsigned char hash[32], const auth_claims_t *claims, int64_t expires_at)
{
    entry_t *set = set_of(c, hash), *victim = &set[0];
    for (int i = 0; i < WAYS; ++i) {
        entry_t *e = &set[i];
        if (e->expires_at != 0 && memcmp(e->hash, hash, 32) == 0) {
            victim = e;
            break;
        }
        if (e->expires_at == 0 || (victim->expires_at != 0 && e->expires_at < victim->expires_at))
            victim = e;
    }
    if (expires_at <= 0)
        return;
    if (victim->expires_at == 0)
        ++c->live;
    memcpy(victim->hash, hash, 32);
    victim->expires_at = expires_at;
    victim->claims = *claims;
}

size_t auth_cache_drop_consent(auth_cache_t *c, const char *cid)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nsets * WAYS; ++i) {
        entry_t *e = &c->slots[i];
        if (e->expires_at != 0 && strcmp(e->claims.cid, cid) == 0) {
            e->expires_at = 0;
            ++n;
        }
    }
    c->live -= n;
    return n;
}
