/* http/metrics (registry, exposition text) and http/accesslog (line format) */
#include <stdlib.h>

#include "http/accesslog.h"
#include "http/metrics.h"
#include "test.h"

static const char *const routes[] = {"/a", "q\"uote", "back\\slash", "new\nline"};
static const char *const statuses[] = {"200", "404"};
static const char *const hroutes[] = {"/a", "/b"};

static const char expected[] = "# HELP t_requests_total Requests.\\nSecond \\\\ line, \"quoted\".\n"
                               "# TYPE t_requests_total counter\n"
                               "t_requests_total{route=\"/a\",status=\"200\"} 5\n"
                               "t_requests_total{route=\"q\\\"uote\",status=\"404\"} 1\n"
                               "t_requests_total{route=\"back\\\\slash\",status=\"200\"} 1\n"
                               "t_requests_total{route=\"new\\nline\",status=\"404\"} 4\n"
                               "# HELP t_conns Connections.\n"
                               "# TYPE t_conns gauge\n"
                               "t_conns 5\n"
                               "# HELP t_lag_seconds Lag.\n"
                               "# TYPE t_lag_seconds gauge\n"
                               "t_lag_seconds 1.500\n"
                               "# HELP t_duration_seconds Duration.\n"
                               "# TYPE t_duration_seconds histogram\n"
                               "t_duration_seconds_bucket{route=\"/a\",le=\"0.001\"} 2\n"
                               "t_duration_seconds_bucket{route=\"/a\",le=\"0.01\"} 3\n"
                               "t_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
                               "t_duration_seconds_sum{route=\"/a\"} 0.026500\n"
                               "t_duration_seconds_count{route=\"/a\"} 4\n"
                               "# HELP t_hits_total Hits.\n"
                               "# TYPE t_hits_total counter\n"
                               "t_hits_total 0\n";

static void test_registry(void)
{
    metrics_t *m = metrics_create(2);
    metrics_family_t req = {.name = "t_requests_total",
                            .help = "Requests.\nSecond \\ line, \"quoted\".",
                            .type = METRICS_COUNTER,
                            .nlabels = 2,
                            .labels = {{"route", routes, 4}, {"status", statuses, 2}}};
    metrics_family_t conns = {.name = "t_conns", .help = "Connections.", .type = METRICS_GAUGE, .merge = METRICS_MERGE_SUM};
    metrics_family_t lag = {
        .name = "t_lag_seconds", .help = "Lag.", .type = METRICS_GAUGE, .merge = METRICS_MERGE_MAX, .scale = 0.001};
    metrics_family_t dur = {.name = "t_duration_seconds",
                            .help = "Duration.",
                            .type = METRICS_HISTOGRAM,
                            .scale = 1e-6,
                            .nlabels = 1,
                            .labels = {{"route", hroutes, 2}},
                            .nbuckets = 2,
                            .buckets = {1000, 10000}};
    metrics_family_t hits = {.name = "t_hits_total", .help = "Hits.", .type = METRICS_COUNTER};
    metrics_family_t bad_buckets = {.name = "t_bad", .help = "Bad.", .type = METRICS_HISTOGRAM, .nbuckets = 2, .buckets = {10, 5}};
    metrics_family_t bad_label = {
        .name = "t_bad", .help = "Bad.", .type = METRICS_COUNTER, .nlabels = 1, .labels = {{"x", routes, 0}}};
    int r, c, l, d, h;
    unsigned idx[2];
    sbuf_t out = SBUF_INIT;

    CHECK(m != NULL);
    CHECK(metrics_create(0) == NULL);
    CHECK_INT(r = metrics_register(m, &req), 0);
    CHECK_INT(c = metrics_register(m, &conns), 1);
    CHECK_INT(l = metrics_register(m, &lag), 2);
    CHECK_INT(d = metrics_register(m, &dur), 3);
    CHECK_INT(h = metrics_register(m, &hits), 4);
    CHECK_INT(metrics_register(m, &bad_buckets), -1);
    CHECK_INT(metrics_register(m, &bad_label), -1);
    CHECK_INT(metrics_nseries(m, r), 8);
    idx[0] = 3;
    idx[1] = 1;
    CHECK_INT(metrics_series(m, r, idx), 7);

    /* per-worker counters add up */
    metrics_add(m, 0, r, 0, 2);
    metrics_add(m, 1, r, 0, 3);
    metrics_add(m, 1, r, 3, 1);
    metrics_add(m, 0, r, 4, 1);
    metrics_add(m, 1, r, 7, 4);
    metrics_add(m, 2, r, 0, 100);  /* no such worker: ignored */
    metrics_add(m, 0, r, 8, 100);  /* no such series: ignored */
    metrics_add(m, 0, 99, 0, 100); /* no such family: ignored */
    CHECK_INT(metrics_value(m, r, 0), 5);
    CHECK_INT(metrics_value(m, r, 7), 4);
    CHECK_INT(metrics_value(m, r, 1), 0);

    /* gauges: sum or maximum of the workers' values */
    metrics_set(m, 0, c, 0, 2);
    metrics_set(m, 1, c, 0, 3);
    CHECK_INT(metrics_value(m, c, 0), 5);
    metrics_set(m, 0, l, 0, 1500);
    metrics_set(m, 1, l, 0, 250);
    CHECK_INT(metrics_value(m, l, 0), 1500);

    /* histogram: upper bounds are inclusive; buckets cumulative in the text; sum in seconds */
    metrics_observe(m, 0, d, 0, 500);
    metrics_observe(m, 0, d, 0, 1000);
    metrics_observe(m, 1, d, 0, 5000);
    metrics_observe(m, 1, d, 0, 20000);
    metrics_add(m, 0, d, 0, 7);     /* not a counter: ignored */
    metrics_observe(m, 0, c, 0, 7); /* not a histogram: ignored */

    CHECK_INT(metrics_render(m, &out), 0);
    CHECK_STR(out.data, expected);
    sbuf_free(&out);
    metrics_destroy(m);
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

    n = http_accesslog_format(buf, sizeof(buf), &e);
    CHECK_INT(n, sizeof(line) - 1);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, line);

    /* odd input: escaped route, unknown country, HTTP/1.1, no response */
    e.route = "a\"b\\c\n";
    e.country = "dk";
    e.version = 0x101;
    e.status = 0;
    e.duration_us = 5;
    n = http_accesslog_format(buf, sizeof(buf), &e);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, "{\"ts\":\"2026-01-01T01:02:03.045Z\",\"route\":\"a\\\"b\\\\c\\u000a\",\"method\":\"GET\",\"status\":0,"
                   "\"duration_ms\":0.005,\"bytes\":918,\"country\":\"ZZ\",\"proto\":\"1.1\"}\n");

    /* an authenticated request names its app (the client id) after the country */
    e.client = "dashboard-app1";
    n = http_accesslog_format(buf, sizeof(buf), &e);
    buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
    CHECK_STR(buf, "{\"ts\":\"2026-01-01T01:02:03.045Z\",\"route\":\"a\\\"b\\\\c\\u000a\",\"method\":\"GET\",\"status\":0,"
                   "\"duration_ms\":0.005,\"bytes\":918,\"country\":\"ZZ\",\"client\":\"dashboard-app1\",\"proto\":\"1.1\"}\n");

    /* too small a buffer: nothing */
    CHECK_INT(http_accesslog_format(buf, 40, &e), 0);
}

int main(void)
{
    test_registry();
    test_accesslog_format();
    return TEST_DONE();
}
