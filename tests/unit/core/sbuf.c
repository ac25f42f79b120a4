/* core/sbuf: appends, the cap given at birth (an append past it fails the buffer like out of memory), JSON and CSV
 * escaping. */
#include "core/sbuf.h"
#include "../test.h"

static void test_cap(void)
{
    sbuf_t b = SBUF_INIT(8);
    sbuf_puts(&b, "12345678"); /* exactly the cap */
    CHECK_INT(sbuf_failed(&b), 0);
    CHECK_STR(b.data, "12345678");
    sbuf_putc(&b, '9'); /* one past it */
    CHECK_INT(sbuf_failed(&b), 1);
    sbuf_puts(&b, "x"); /* ignored once failed */
    CHECK_INT(b.len, 8);
    sbuf_free(&b);

    sbuf_t p = SBUF_INIT(SBUF_CAP_VALUE);
    sbuf_printf(&p, "%0*d", (int)SBUF_CAP_VALUE - 1, 7);
    CHECK_INT(sbuf_failed(&p), 0);
    sbuf_printf(&p, "%d%d", 1, 2);
    CHECK_INT(sbuf_failed(&p), 1);
    sbuf_free(&p);
}

static void test_escapes(void)
{
    sbuf_t b = SBUF_INIT(SBUF_CAP_VALUE);
    sbuf_json_escape(&b, "a\"b\\c\nd\re\tf\x01g/", 14);
    CHECK_STR(b.data, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g/");
    sbuf_free(&b);
    sbuf_csv_field(&b, "plain", 5, ',');
    sbuf_putc(&b, '|');
    sbuf_csv_field(&b, "a,\"b\"", 5, ',');
    sbuf_putc(&b, '|');
    sbuf_csv_field(&b, "a;b", 3, ';');
    CHECK_STR(b.data, "plain|\"a,\"\"b\"\"\"|\"a;b\"");
    sbuf_free(&b);
}

int main(void)
{
    test_cap();
    test_escapes();
    return TEST_DONE();
}
