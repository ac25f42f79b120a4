/*
 * opendata/module — the open-data routes and the records cache.
 */
#include "app/route.h"
#include "core/log.h"
#include "opendata/datasets.h"
#include "opendata/download.h"
#include "opendata/factors.h"
#include "opendata/grid.h"
#include "opendata/metadata.h"
#include "opendata/module.h"
#include "opendata/records.h"
#include "opendata/usage.h"

/* Cache-Control NULL: the dataset's own (public, max-age from its refresh frequency; the catalog takes the shortest). */
static const app_route_t opendata_routes[] = {
    {"GET", "/v1/datasets", opendata_datasets_list, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=60"},
    {"GET", "/v1/datasets/{id}", opendata_datasets_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=60"},
    {"GET", "/v1/datasets/{id}/records", opendata_records_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, NULL},
    {"GET", "/v1/datasets/{id}/download", opendata_download_get, APP_CLASS_DOWNLOAD, NULL, APP_CORS_ANY, NULL},
    {"GET", "/v1/usage", opendata_usage_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=60"},
    {"GET", "/v1/datasets/{id}/datapackage.json", opendata_metadata_datapackage, APP_CLASS_OPEN, NULL, APP_CORS_ANY, NULL},
    {"GET", "/v1/catalog.jsonld", opendata_metadata_catalog, APP_CLASS_OPEN, NULL, APP_CORS_ANY, NULL},
    {"GET", "/v1/emission-factors", opendata_factors_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, NULL},
    {"GET", "/v1/grid/forecast", opendata_grid_forecast_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, NULL},
};

enum { M_CACHE_HITS, M_CACHE_MISSES, M_CACHE_BYTES, M__COUNT };

static const metrics_family_t families[M__COUNT] = {
    [M_CACHE_HITS] = {.name = "klimaspejl_cache_hits_total",
                      .help = "Records responses served from the response cache.",
                      .type = METRICS_COUNTER},
    [M_CACHE_MISSES] = {.name = "klimaspejl_cache_misses_total",
                        .help = "Records requests the response cache could not answer.",
                        .type = METRICS_COUNTER},
    [M_CACHE_BYTES] = {.name = "klimaspejl_cache_bytes", .help = "Bytes held by the response caches.", .type = METRICS_GAUGE},
};

static struct {
    metrics_t *metrics;
    int id[M__COUNT];
    size_t cache_bytes; /* per worker */
} od;

static size_t od_slot;

http_cache_t *opendata_cache_of(h2o_req_t *req)
{
    return app_worker_state(app_worker_of(req), od_slot);
}

static int od_start(const config_t *cfg, char *err, size_t errlen)
{
    od.cache_bytes = (size_t)cfg->cache_mb * 1024 * 1024 / (cfg->threads > 0 ? cfg->threads : 1);
    if ((od.metrics = app_metrics()) == NULL)
        return 0;
    for (size_t i = 0; i < M__COUNT; ++i) {
        if ((od.id[i] = metrics_register(od.metrics, &families[i])) < 0) {
            od.metrics = NULL;
            break;
        }
    }
    return 0;
}

static void *od_worker_start(app_worker_t *w)
{
    return app_worker_state_or_warn(w, http_cache_create(od.cache_bytes),
                                    "the response cache; this thread answers every records query afresh");
}

static void od_worker_dispose(app_worker_t *w, void *state)
{
    http_cache_destroy(state);
}

/* The cache's counters, copied into the metrics once a second. */
static void od_publish(app_worker_t *w, void *state)
{
    http_cache_stats_t s = {0};
    if (od.metrics == NULL)
        return;
    if (state != NULL)
        http_cache_get_stats(state, &s);
    metrics_set(od.metrics, w->http->id, od.id[M_CACHE_HITS], 0, (int64_t)s.hits);
    metrics_set(od.metrics, w->http->id, od.id[M_CACHE_MISSES], 0, (int64_t)s.misses);
    metrics_set(od.metrics, w->http->id, od.id[M_CACHE_BYTES], 0, (int64_t)s.bytes);
}

const app_module_t opendata_module = {.name = "opendata",
                                      APP_ROUTES(opendata_routes),
                                      .process = {.start = od_start},
                                      .worker = {.start = od_worker_start, .dispose = od_worker_dispose, .publish = od_publish},
                                      .slot = &od_slot};
