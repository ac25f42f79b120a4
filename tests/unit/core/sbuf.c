/* core/sbuf: appends, the cap given at birth (an append past it fails the buffer like out of memory), JSON and CSV
 * escaping. */
#include <string.h>

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

/* sbuf_printf writes straight into the room the buffer has when the text fits it (one vsnprintf), and otherwise grows
 * the buffer and writes again; neither way may pass the cap or leave a cut-off text behind. */
static void test_printf_room(void)
{
    sbuf_t b = SBUF_INIT(300);
    char big[201];
    memset(big, 'a', 200);
    big[200] = '\0';
    sbuf_puts(&b, big); /* len 200, cap 256 */
    CHECK_INT(b.cap, 256);
    sbuf_printf(&b, "<%d>", 42); /* fits the room: one pass */
    CHECK_INT(b.len, 204);
    CHECK_STR(b.data + 200, "<42>");
    sbuf_printf(&b, "%060d", 7); /* 60 bytes, 52 of room: grown, written again */
    CHECK_INT(sbuf_failed(&b), 0);
    CHECK_INT(b.len, 264);
    CHECK_INT((int)strlen(b.data), 264);
    CHECK_INT(b.data[263], '7');
    CHECK_INT(b.cap, 512);
    sbuf_printf(&b, "%040d", 1); /* fits the room (248 bytes) but not the cap (300): fails, nothing written */
    CHECK_INT(sbuf_failed(&b), 1);
    CHECK_INT(b.len, 264);
    CHECK_INT(b.data[264], '\0');
    sbuf_free(&b);
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
    test_printf_room();
    test_escapes();
    return TEST_DONE();
}
