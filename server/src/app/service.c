/*
 * app/service — service routes (/healthz, /readyz, /metrics, /openapi.json) and the database pool gauges.
 */
#include <string.h>

#include "app/catalog.h"
#include "app/db.h"
#include "app/openapi.h"
#include "app/service.h"
#include "core/sbuf.h"
#include "http/problem.h"
#include "http/respond.h"

static const char healthz_body[] = "{\"status\":\"ok\"}";
static const char readyz_body[] = "{\"status\":\"ready\",\"database\":\"ok\"}";

static int service_healthz(h2o_req_t *req, const http_match_t *m)
{
    app_cache_control(req, app_route_of(m), NULL);
    http_send_bytes(req, 200, "application/json", healthz_body, sizeof(healthz_body) - 1);
    return 0;
}

static void on_ping(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    app_cache_control(req, state, NULL);
    http_send_bytes(req, 200, "application/json", readyz_body, sizeof(readyz_body) - 1);
}

/* Ready = this worker can serve datasets: its catalog and the process's time zone names (which every tz parameter is
 * checked against) are loaded, and the database answers now. */
static int service_readyz(h2o_req_t *req, const http_match_t *m)
{
    if (app_catalog_acquire(req) == NULL)
        return 0;
    if (!app_catalog_tz_loaded()) {
        app_catalog_tz_unloaded_reply(req);
        return 0;
    }
    app_db_query(req, "SELECT 1", 0, NULL, on_ping, (void *)app_route_of(m));
    return 0;
}

/* --- metrics --------------------------------------------------------------------------------------------------------- */

static const char *const conn_states[] = {"ready", "total"};
static const char *const query_results[] = {"ok", "failed"};
static const char *const read_targets[] = {"replica", "primary", "primary_retry"};
static const char *const versions[] = {KLIMA_VERSION};

/* This module's families; registration order is render order. */
enum {
    M_DB_CONNECTIONS,
    M_DB_QUERIES,
    M_DB_IN_FLIGHT,
    M_DB_REPLICA_CONNECTIONS,
    M_DB_REPLICA_QUERIES,
    M_DB_REPLICA_IN_FLIGHT,
    M_DB_READS,
    M_DB_SENT,
    M_DB_DROPPED,
    M_BUILD_INFO,
    M__COUNT
};

#define LABEL(n, v) .nlabels = 1, .labels = {{n, v, sizeof(v) / sizeof(v[0])}}

/* duplicate: one entry a metrics family; the entries are alike by design. */
static const metrics_family_t families[M__COUNT] = {
    [M_DB_CONNECTIONS] = {.name = "klimaspejl_db_connections",
                          .help = "PostgreSQL connections of the request pools: ready (in pipeline mode) and total.",
                          .type = METRICS_GAUGE,
                          LABEL("state", conn_states)},
    [M_DB_QUERIES] = {.name = "klimaspejl_db_queries_total",
                      .help = "Queries answered by PostgreSQL through the request pools, by result.",
                      .type = METRICS_COUNTER,
                      LABEL("result", query_results),
                      .show_zero = 1},
    [M_DB_IN_FLIGHT] = {.name = "klimaspejl_db_in_flight",
                        .help = "Queries sent on the pipelined connections and not yet answered (pipeline depth).",
                        .type = METRICS_GAUGE},
    [M_DB_REPLICA_CONNECTIONS] = {.name = "klimaspejl_db_replica_connections",
                                  .help = "PostgreSQL connections to the read replicas (KLIMA_DB_READ_URLS): ready and total.",
                                  .type = METRICS_GAUGE,
                                  LABEL("state", conn_states)},
    [M_DB_REPLICA_QUERIES] = {.name = "klimaspejl_db_replica_queries_total",
                              .help = "Queries answered by the read replicas, by result.",
                              .type = METRICS_COUNTER,
                              LABEL("result", query_results)},
    [M_DB_REPLICA_IN_FLIGHT] = {.name = "klimaspejl_db_replica_in_flight",
                                .help = "Queries sent to the read replicas and not yet answered (pipeline depth).",
                                .type = METRICS_GAUGE},
    [M_DB_READS] = {.name = "klimaspejl_db_reads_total",
                    .help = "Reads a replica may answer, by where they went: a replica, the primary (no usable replica), or "
                            "the primary after a replica dropped them (primary_retry).",
                    .type = METRICS_COUNTER,
                    LABEL("target", read_targets),
                    .show_zero = 1},
    [M_DB_SENT] = {.name = "klimaspejl_db_queries_sent_total",
                   .help = "Queries put on the wire to PostgreSQL by the request pools (primary and replicas; downloads' COPY "
                           "excluded).",
                   .type = METRICS_COUNTER,
                   .show_zero = 1},
    [M_DB_DROPPED] = {.name = "klimaspejl_db_queries_dropped_total",
                      .help = "Queries dropped unsent because their request was gone before they could be sent (an HTTP/2 "
                              "stream reset right after its HEADERS).",
                      .type = METRICS_COUNTER,
                      .show_zero = 1},
    [M_BUILD_INFO] = {.name = "klimaspejl_build_info",
                      .help = "The running version (value 1).",
                      .type = METRICS_GAUGE,
                      .merge = METRICS_MERGE_MAX,
                      LABEL("version", versions)},
};

static struct {
    metrics_t *m;
    int id[M__COUNT];
} meta;

static int service_start(const config_t *cfg, char *err, size_t errlen)
{
    if ((meta.m = app_metrics()) == NULL)
        return 0;
    for (size_t i = 0; i < M__COUNT; ++i) {
        if ((meta.id[i] = metrics_register(meta.m, &families[i])) < 0) {
            meta.m = NULL;
            return 0; /* out of memory: the families registered so far stay empty */
        }
    }
    metrics_set(meta.m, 0, meta.id[M_BUILD_INFO], 0, 1);
    return 0;
}

/* Copies w's pool counters into its metrics: once a second, and before rendering. */
static void service_publish(app_worker_t *w, void *state)
{
    unsigned id = w->http->id;
    db_pool_stats_t db;
    db_route_stats_t rs;

    if (meta.m == NULL || w->route == NULL)
        return;
    db_pool_get_stats(w->db, &db);
    metrics_set(meta.m, id, meta.id[M_DB_CONNECTIONS], 0, db.connections_ready);
    metrics_set(meta.m, id, meta.id[M_DB_CONNECTIONS], 1, db.connections_total);
    metrics_set(meta.m, id, meta.id[M_DB_QUERIES], 0, (int64_t)db.queries_ok);
    metrics_set(meta.m, id, meta.id[M_DB_QUERIES], 1, (int64_t)db.queries_failed);
    metrics_set(meta.m, id, meta.id[M_DB_IN_FLIGHT], 0, (int64_t)db.in_flight);
    db_route_get_stats(w->route, &rs);
    if (rs.replicas > 0) {
        metrics_set(meta.m, id, meta.id[M_DB_REPLICA_CONNECTIONS], 0, rs.replica.connections_ready);
        metrics_set(meta.m, id, meta.id[M_DB_REPLICA_CONNECTIONS], 1, rs.replica.connections_total);
        metrics_set(meta.m, id, meta.id[M_DB_REPLICA_QUERIES], 0, (int64_t)rs.replica.queries_ok);
        metrics_set(meta.m, id, meta.id[M_DB_REPLICA_QUERIES], 1, (int64_t)rs.replica.queries_failed);
        metrics_set(meta.m, id, meta.id[M_DB_REPLICA_IN_FLIGHT], 0, (int64_t)rs.replica.in_flight);
    }
    metrics_set(meta.m, id, meta.id[M_DB_SENT], 0, (int64_t)(db.queries_sent + rs.replica.queries_sent));
    metrics_set(meta.m, id, meta.id[M_DB_DROPPED], 0, (int64_t)(db.queries_dropped + rs.replica.queries_dropped));
    metrics_set(meta.m, id, meta.id[M_DB_READS], 0, (int64_t)rs.reads_replica);
    metrics_set(meta.m, id, meta.id[M_DB_READS], 1, (int64_t)rs.reads_primary);
    metrics_set(meta.m, id, meta.id[M_DB_READS], 2, (int64_t)rs.reads_retried);
}

/* Every family in the Prometheus text format, summed over the workers. Gauges copied from other workers' state are at
 * most a second old (their tick); this worker's pool gauges are exact. */
static int service_metrics(h2o_req_t *req, const http_match_t *m)
{
    metrics_t *reg = app_metrics();
    sbuf_t text = SBUF_INIT(SBUF_CAP_BODY);
    char *body;

    if (reg == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The metrics registry could not be created (out of memory).", NULL);
        return 0;
    }
    app_publish(app_worker_of(req));
    if (metrics_render(reg, &text) != 0 || (body = h2o_mem_alloc_pool(&req->pool, text.len)) == NULL) {
        sbuf_free(&text);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory while rendering the metrics.", NULL);
        return 0;
    }
    memcpy(body, text.data, text.len);
    app_cache_control(req, app_route_of(m), NULL);
    http_send_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, text.len);
    sbuf_free(&text);
    return 0;
}

static const app_route_t service_routes[] = {
    {"GET", "/healthz", service_healthz, APP_CLASS_SERVICE, NULL, APP_CORS_ANY, "no-store"},
    {"GET", "/readyz", service_readyz, APP_CLASS_SERVICE, NULL, APP_CORS_ANY, "no-store"},
    /* for the operator's scraper, not for scripts of web pages (an intranet deployment's browsers included) */
    {"GET", "/metrics", service_metrics, APP_CLASS_SERVICE, NULL, APP_CORS_NONE, "no-store"},
    {"GET", "/openapi.json", app_openapi_get, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=300"},
};

const app_module_t app_service_module = {
    .name = "service", APP_ROUTES(service_routes), .process = {.start = service_start}, .worker = {.publish = service_publish}};
