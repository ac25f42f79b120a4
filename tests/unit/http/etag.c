/* http/etag: tags and If-None-Match lists (weak comparison, "*", several fields). Includes the .c for list_has. */
#include "http/etag.c"
#include "../test.h"

static int has(const char *list, const char *tag)
{
    return list_has(h2o_iovec_init(list, strlen(list)), h2o_iovec_init(tag, strlen(tag)));
}

int main(void)
{
    char tag[HTTP_ETAG_MAX];

    CHECK_INT(http_etag_make(tag, 12, 0xabcULL), 21);
    CHECK_STR(tag, "\"12-0000000000000abc\"");
    CHECK(has("\"a\"", "\"a\""));
    CHECK(has("\"x\", \"a\"", "\"a\""));
    CHECK(has("\"x\",\"a\"", "\"a\""));
    CHECK(has("W/\"a\"", "\"a\""));
    CHECK(has("*", "\"a\""));
    CHECK(has("  \"b\" ,\t\"a\"  ", "\"a\""));
    CHECK(!has("\"a-1\"", "\"a\""));
    CHECK(!has("\"1-abc\"", "\"11-abc\""));
    CHECK(!has("\"11-abc\"", "\"1-abc\"")); /* a substring is not a match */
    CHECK(!has("", "\"a\""));
    CHECK(!has("\"a", "\"a\""));
    CHECK(!has("**", "\"a\""));
    /* a compressed representation's own tag: 2 + the coding's index; a near miss is no match */
    CHECK_INT(has("\"1-abc-gzip\"", "\"1-abc\""), 2);
    CHECK_INT(has("\"x\", W/\"1-abc-br\"", "\"1-abc\""), 3);
    CHECK_INT(has("\"1-abc\"", "\"1-abc\""), 1);
    CHECK(!has("\"1-abc-gzi\"", "\"1-abc\""));
    CHECK(!has("\"1-abc-gzipx\"", "\"1-abc\""));
    CHECK(!has("\"1-abcgzip\"", "\"1-abc\""));
    CHECK(!has("\"1-ab-gzip\"", "\"1-abc\""));
    {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        h2o_iovec_t t = http_etag_coded(&pool, h2o_iovec_init(H2O_STRLIT("\"1-abc\"")), h2o_iovec_init(H2O_STRLIT("gzip")));
        CHECK(t.len == 12 && memcmp(t.base, "\"1-abc-gzip\"", 12) == 0);
        t = http_etag_coded(&pool, h2o_iovec_init(H2O_STRLIT("W/\"1\"")), h2o_iovec_init(H2O_STRLIT("gzip")));
        CHECK(t.len == 5); /* not a strong tag: unchanged */
        h2o_mem_clear_pool(&pool);
    }
    return TEST_DONE();
}
