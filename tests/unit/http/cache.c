/* api/cache: lookups, versions, LRU eviction, and entries that outlive their eviction while a request's pool holds them
 * (run under ASan, a use after free or a leak fails the test). */
#include "http/cache.h"
#include "core/strutil.h"
#include "../test.h"

static http_cache_response_t response(const char *body, const char *link, const char *cursor)
{
    http_cache_response_t r = {"application/json", body, strlen(body), "\"1-abc\"", link, cursor, "json"};
    return r;
}

static int iov_is(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0 && v.base[v.len] == '\0';
}

int main(void)
{
    http_cache_t *c = http_cache_create(64 * 1024);
    http_cache_stats_t st;
    h2o_mem_pool_t pool;
    const http_cache_entry_t *e, *held;
    http_cache_response_t r = response("{\"a\":1}", "</x?cursor=Q>; rel=\"next\"", "Q");
    char key[64], big[3000];
    const char *k = "/v1/datasets/d/records?limit=10";

    h2o_mem_init_pool(&pool);
    CHECK(c != NULL);
    CHECK(http_cache_get(c, &pool, k, strlen(k), 1) == NULL);
    http_cache_put(c, k, strlen(k), 1, &r);
    e = http_cache_get(c, &pool, k, strlen(k), 1);
    CHECK(e != NULL);
    if (e != NULL) {
        CHECK(iov_is(e->body, "{\"a\":1}"));
        CHECK(iov_is(e->etag, "\"1-abc\""));
        CHECK(iov_is(e->link, "</x?cursor=Q>; rel=\"next\""));
        CHECK(iov_is(e->next_cursor, "Q"));
        CHECK(iov_is(e->content_type, "application/json"));
        CHECK_STR(e->tag, "json");
        CHECK(e->body.base != r.body); /* a copy */
    }
    /* another key of the same length misses; a key is the exact bytes */
    CHECK(http_cache_get(c, &pool, "/v1/datasets/d/records?limit=11", strlen(k), 1) == NULL);
    CHECK(http_cache_get(c, &pool, k, strlen(k) - 1, 1) == NULL);

    /* absent header values stay absent; an empty body is sent as is */
    r = response("", NULL, NULL);
    http_cache_put(c, "/empty", 6, 1, &r);
    e = http_cache_get(c, &pool, "/empty", 6, 1);
    CHECK(e != NULL && e->body.base != NULL && e->body.len == 0 && e->link.base == NULL && e->next_cursor.base == NULL);

    /* a newer dataset version misses and drops the entry; the one pool still holds stays intact */
    held = http_cache_get(c, &pool, k, strlen(k), 1);
    CHECK(http_cache_get(c, &pool, k, strlen(k), 2) == NULL);
    CHECK(http_cache_get(c, &pool, k, strlen(k), 1) == NULL);
    CHECK(held != NULL && iov_is(held->body, "{\"a\":1}"));

    /* filling the cache evicts the least recently used entries, but not from under a request */
    r = response("{\"a\":2}", NULL, NULL);
    http_cache_put(c, k, strlen(k), 2, &r);
    held = http_cache_get(c, &pool, k, strlen(k), 2);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 100; ++i) {
        int n = str_fmt(key, sizeof(key), "/k%d", i);
        r = response(big, NULL, NULL);
        http_cache_put(c, key, (size_t)n, 1, &r);
    }
    http_cache_get_stats(c, &st);
    CHECK(st.bytes <= 64 * 1024);
    CHECK(st.entries > 0 && st.entries < 100);
    CHECK(http_cache_get(c, &pool, k, strlen(k), 2) == NULL); /* evicted */
    CHECK(http_cache_get(c, &pool, "/k99", 4, 1) != NULL);    /* the newest stays */
    CHECK(held != NULL && iov_is(held->body, "{\"a\":2}"));

    /* a response over an eighth of the cache is not stored */
    {
        static char huge[9000];
        memset(huge, 'y', sizeof(huge) - 1);
        r = response(huge, NULL, NULL);
        http_cache_put(c, "/huge", 5, 1, &r);
        CHECK(http_cache_get(c, &pool, "/huge", 5, 1) == NULL);
    }

    /* replacing a key while a request holds the old entry */
    r = response("old", NULL, NULL);
    http_cache_put(c, "/r", 2, 1, &r);
    held = http_cache_get(c, &pool, "/r", 2, 1);
    r = response("new", NULL, NULL);
    http_cache_put(c, "/r", 2, 1, &r);
    e = http_cache_get(c, &pool, "/r", 2, 1);
    CHECK(held != NULL && iov_is(held->body, "old"));
    CHECK(e != NULL && iov_is(e->body, "new"));

    /* destroying the cache leaves held entries to the pool, which frees them */
    http_cache_destroy(c);
    CHECK(held != NULL && iov_is(held->body, "old"));
    h2o_mem_clear_pool(&pool);

    /* a disabled cache stores nothing */
    c = http_cache_create(0);
    r = response("x", NULL, NULL);
    http_cache_put(c, "/x", 2, 1, &r);
    CHECK(http_cache_get(c, &pool, "/x", 2, 1) == NULL);
    http_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 0);
    CHECK_INT(st.misses, 1);
    http_cache_destroy(c);
    h2o_mem_clear_pool(&pool);
    return TEST_DONE();
}
