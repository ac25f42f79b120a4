/* http/accesslog: the line format. Includes the .c to format a line without a log. */
#include "http/accesslog.c"
#include "../test.h"

/* One entry's line, as http_accesslog_append would write it; 0 when buf is too small. */
static size_t format_line(char *buf, size_t size, const http_accesslog_entry_t *e)
{
    char ts[19];
    format_second(e->at.tv_sec, ts);
    return format_with(buf, size, e, ts);
}

static void test_accesslog_format(void)
{
    char buf[512];
    size_t n;
    http_accesslog_entry_t e = {.at = {1767225600 + 3723, 45678},
                                .route = "/v1/datasets/{id}/records",
                                .method = "GET",
                                .status = 200,
                                .duration_us = 1234567,
                                .bytes = 918,
                                .country = "DK",
                                .version = 0x200};
    static const char line[] = "{\"ts\":\"2026-01-01T01:02:03.045Z\",\"route\":\"/v1/datasets/{id}/records\",\"method\":\"GET\","
                               "\"status\":200,\"duration_ms\":1234.567,\"bytes\":918,\"country\":\"DK\",\"proto\":\"2\"}\n";

    n = format_line(buf, sizeof(buf), &e);
    CHECK_INT(n, sizeof(line) - 1);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, line);

    /* odd input: escaped route, unknown country, HTTP/1.1, no response */
    e.route = "a\"b\\c\n";
    e.country = "dk";
    e.version = 0x101;
    e.status = 0;
    e.duration_us = 5;
    n = format_line(buf, sizeof(buf), &e);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, "{\"ts\":\"2026-01-01T01:02:03.045Z\",\"route\":\"a\\\"b\\\\c\\u000a\",\"method\":\"GET\",\"status\":0,"
                   "\"duration_ms\":0.005,\"bytes\":918,\"country\":\"ZZ\",\"proto\":\"1.1\"}\n");

    /* an authenticated request names its app (the client id) after the country */
    e.client = "dashboard-app1";
    n = format_line(buf, sizeof(buf), &e);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, "{\"ts\":\"2026-01-01T01:02:03.045Z\",\"route\":\"a\\\"b\\\\c\\u000a\",\"method\":\"GET\",\"status\":0,"
                   "\"duration_ms\":0.005,\"bytes\":918,\"country\":\"ZZ\",\"client\":\"dashboard-app1\",\"proto\":\"1.1\"}\n");

    /* too small a buffer: nothing */
    CHECK_INT(format_line(buf, 40, &e), 0);
}

int main(void)
{
    test_accesslog_format();
    return TEST_DONE();
}
