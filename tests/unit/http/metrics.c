/* http/metrics: the registry and the exposition text. Includes the .c to read the registry's figures. */
#include <stdlib.h>

#include "http/metrics.c"
#include "../test.h"

/* The number of series of family id (the product of its labels' value counts). */
static size_t metrics_nseries(const metrics_t *m, int id)
{
    return id >= 0 && (size_t)id < m->nfamilies ? m->families[id].nseries : 0;
}

/* The series index for label value indices idx[0..nlabels). */
static size_t metrics_series(const metrics_t *m, int id, const unsigned *idx)
{
    size_t s = 0;
    for (size_t i = 0; i < m->families[id].def.nlabels; ++i)
        s = s * m->families[id].def.labels[i].nvalues + idx[i];
    return s;
}

/* The merged value of a counter or gauge series. */
static int64_t metrics_value(const metrics_t *m, int id, size_t series)
{
    if (id < 0 || (size_t)id >= m->nfamilies || series >= m->families[id].nseries || m->families[id].def.type == METRICS_HISTOGRAM)
        return 0;
    return merged(m, &m->families[id], series, 0);
}

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
    sbuf_t out = SBUF_INIT(SBUF_CAP_BODY);

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

int main(void)
{
    test_registry();
    return TEST_DONE();
}
