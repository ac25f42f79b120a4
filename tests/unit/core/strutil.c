/* core/strutil */
#include "core/strutil.h"
#include "../test.h"

static void test_to_uint(void)
{
    uint64_t v = 7;
    CHECK_INT(str_to_uint("42", 2, 0, 100, &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(str_to_uint("0", 1, 0, 100, &v), 0);
    CHECK_INT(v, 0);
    CHECK_INT(str_to_uint("101", 3, 0, 100, &v), -1);
    CHECK_INT(str_to_uint("5", 1, 10, 100, &v), -1);
    CHECK_INT(str_to_uint("", 0, 0, 100, &v), -1);
    CHECK_INT(str_to_uint("-1", 2, 0, 100, &v), -1);
    CHECK_INT(str_to_uint("1a", 2, 0, 100, &v), -1);
    CHECK_INT(str_to_uint(" 1", 2, 0, 100, &v), -1);
    CHECK_INT(str_to_uint("18446744073709551615", 20, 0, UINT64_MAX, &v), 0);
    CHECK(v == UINT64_MAX);
    CHECK_INT(str_to_uint("18446744073709551616", 20, 0, UINT64_MAX, &v), -1);
    CHECK_INT(str_to_uint("123456", 3, 0, 1000, &v), 0); /* only len bytes are read */
    CHECK_INT(v, 123);
}

static void test_hostport(void)
{
    char host[64];
    uint16_t port = 0;
    CHECK_INT(str_parse_hostport("127.0.0.1:8080", host, sizeof(host), &port), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 8080);
    CHECK_INT(str_parse_hostport(":80", host, sizeof(host), &port), 0);
    CHECK_STR(host, "");
    CHECK_INT(port, 80);
    CHECK_INT(str_parse_hostport("[::1]:443", host, sizeof(host), &port), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 443);
    CHECK_INT(str_parse_hostport("::1:443", host, sizeof(host), &port), -1);
    CHECK_INT(str_parse_hostport("localhost", host, sizeof(host), &port), -1);
    CHECK_INT(str_parse_hostport("localhost:0", host, sizeof(host), &port), -1);
    CHECK_INT(str_parse_hostport("localhost:65536", host, sizeof(host), &port), -1);
    CHECK_INT(str_parse_hostport("[::1:80", host, sizeof(host), &port), -1);
    CHECK_INT(
        str_parse_hostport("averyveryveryveryveryveryveryveryveryveryveryveryveryverylonghostname:80", host, sizeof(host), &port),
        -1);
}

static void test_utf8(void)
{
    CHECK_INT(str_is_utf8("Nørrebro", strlen("Nørrebro")), 1);
    CHECK_INT(str_is_utf8("plain", 5), 1);
    CHECK_INT(str_is_utf8("\xc3", 1), 0);             /* truncated */
    CHECK_INT(str_is_utf8("\xc0\xaf", 2), 0);         /* overlong */
    CHECK_INT(str_is_utf8("\xed\xa0\x80", 3), 0);     /* surrogate */
    CHECK_INT(str_is_utf8("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
    CHECK_INT(str_is_utf8("a\0b", 3), 0);             /* NUL */
    CHECK_INT(str_is_utf8("\xf0\x9f\x8c\x8d", 4), 1); /* emoji */
    CHECK_INT(str_is_utf8("\xff", 1), 0);
}

static void test_fmt(void)
{
    char buf[8];
    CHECK_INT(str_fmt(buf, sizeof(buf), "%d", 1234567), 7);
    CHECK_STR(buf, "1234567");
    CHECK_INT(str_fmt(buf, sizeof(buf), "%d", 12345678), -1);
    CHECK_INT(strlen(buf), 7); /* truncated but terminated */
}

static void test_hex(void)
{
    char out[9];
    str_hex("\x00\x9f\xff\x10", 4, out);
    CHECK_STR(out, "009fff10");
    str_hex("", 0, out);
    CHECK_STR(out, "");
    for (int c = 0; c < 256; ++c)
        CHECK_INT(str_hexval(c), (c >= '0' && c <= '9')   ? c - '0'
                                 : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                 : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                          : -1);
}

int main(void)
{
    test_to_uint();
    test_hostport();
    test_utf8();
    test_fmt();
    test_hex();
    return TEST_DONE();
}
