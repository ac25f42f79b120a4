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
    return TEST_DONE();
}
