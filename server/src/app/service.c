/*
 * app/service — service routes and the metrics registry.
 */
#include <string.h>
#include <sys/socket.h>

#include "app/app.h"
#include "app/gate.h"
#include "app/service.h"
#include "app/usage.h"
#include "core/sbuf.h"
#include "geo/client.h"
#include "http/problem.h"
#include "http/respond.h"

static const char healthz_body[] = "{\"status\":\"ok\"}";
static const char readyz_body[] = "{\"status\":\"ready\",\"database\":\"ok\"}";

int app_service_healthz(h2o_req_t *req, const http_match_t *m)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", healthz_body, sizeof(healthz_body) - 1);
    return 0;
}

static void on_ping(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", readyz_body, sizeof(readyz_body) - 1);
}

int app_service_readyz(h2o_req_t *req, const http_match_t *m)
{
    /* ready = this worker can serve datasets: its catalog is loaded and the database answers now */
    if (app_catalog_acquire(req) == NULL)
        return 0;
    app_db_query(req, APP_STMT_PING, NULL, on_ping, NULL);
    return 0;
}

/* --- metrics --------------------------------------------------------------------------------------------------------- */

static const char *const conn_states[] = {"ready", "total"};
static const char *const query_results[] = {"ok", "failed"};
static const char *const read_targets[] = {"replica", "primary", "primary_retry"};
static const char *const token_reasons[APP_TOKEN_REJECT__COUNT] = {
    [APP_TOKEN_REJECT_MISSING] = "missing",
    [APP_TOKEN_REJECT_NOT_BEARER] = "not_bearer",
    [APP_TOKEN_REJECT_MALFORMED] = "malformed",
    [APP_TOKEN_REJECT_BAD_ALG] = "unsupported_alg",
    [APP_TOKEN_REJECT_UNKNOWN_KID] = "unknown_kid",
    [APP_TOKEN_REJECT_ALG_MISMATCH] = "alg_mismatch",
    [APP_TOKEN_REJECT_BAD_SIGNATURE] = "bad_signature",
    [APP_TOKEN_REJECT_BAD_ISSUER] = "wrong_issuer",
    [APP_TOKEN_REJECT_BAD_AUDIENCE] = "wrong_audience",
    [APP_TOKEN_REJECT_EXPIRED] = "expired",
    [APP_TOKEN_REJECT_NOT_YET_VALID] = "not_yet_valid",
    [APP_TOKEN_REJECT_BAD_CLAIMS] = "bad_claims",
    [APP_TOKEN_REJECT_CONSENT_REVOKED] = "consent_revoked",
    [APP_TOKEN_REJECT_CONSENT_EXPIRED] = "consent_expired",
    [APP_TOKEN_REJECT_UNKNOWN_CONSENT] = "unknown_consent",
    [APP_TOKEN_REJECT_INSUFFICIENT_SCOPE] = "insufficient_scope",
};
static const char *const versions[] = {KLIMA_VERSION};

/* The api's families; registration order is render order (http/server adds its request families after these). */
enum {
    M_DB_CONNECTIONS,
    M_DB_QUERIES,
    M_DB_IN_FLIGHT,
    M_DB_REPLICA_CONNECTIONS,
    M_DB_REPLICA_QUERIES,
    M_DB_REPLICA_IN_FLIGHT,
    M_DB_READS,
    M_CACHE_HITS,
    M_CACHE_MISSES,
    M_CACHE_BYTES,
    M_TOKEN_REJECTIONS,
    M_RATELIMIT_HITS,
    M_DOWNLOADS_ACTIVE,
    M_USAGE_FLUSH_LAG,
    M_BUILD_INFO,
    M__COUNT
};

#define LABEL(n, v) .nlabels = 1, .labels = {{n, v, sizeof(v) / sizeof(v[0])}}

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
    [M_CACHE_HITS] = {.name = "klimaspejl_cache_hits_total",
                      .help = "Records responses served from the response cache.",
                      .type = METRICS_COUNTER},
    [M_CACHE_MISSES] = {.name = "klimaspejl_cache_misses_total",
                        .help = "Records requests the response cache could not answer.",
                        .type = METRICS_COUNTER},
    [M_CACHE_BYTES] = {.name = "klimaspejl_cache_bytes", .help = "Bytes held by the response caches.", .type = METRICS_GAUGE},
    [M_TOKEN_REJECTIONS] = {.name = "klimaspejl_token_rejections_total",
                            .help = "Bearer tokens refused on personal routes, by the check that failed.",
                            .type = METRICS_COUNTER,
                            LABEL("reason", token_reasons),
                            .show_zero = 1},
    [M_RATELIMIT_HITS] = {.name = "klimaspejl_ratelimit_hits_total",
                          .help = "Requests refused with 429 by a rate limit, by route class (KLIMA_RATE_*).",
                          .type = METRICS_COUNTER,
                          LABEL("class", app_gate_class_names),
                          .show_zero = 1},
    [M_DOWNLOADS_ACTIVE] = {.name = "klimaspejl_downloads_active",
                            .help = "Dataset downloads streaming now.",
                            .type = METRICS_GAUGE},
    [M_USAGE_FLUSH_LAG] = {.name = "klimaspejl_usage_flush_lag_seconds",
                           .help = "Seconds since the usage counts were last all saved to PostgreSQL (the oldest worker); "
                                   "normally under 5.",
                           .type = METRICS_GAUGE,
                           .merge = METRICS_MERGE_MAX,
                           .scale = 0.001},
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

metrics_t *app_service_metrics_start(unsigned nworkers)
{
    if ((meta.m = metrics_create(nworkers)) == NULL)
        return NULL;
    for (size_t i = 0; i < M__COUNT; ++i) {
        if ((meta.id[i] = metrics_register(meta.m, &families[i])) < 0) {
            metrics_destroy(meta.m);
            meta.m = NULL;
            return NULL;
        }
    }
    metrics_set(meta.m, 0, meta.id[M_BUILD_INFO], 0, 1);
    return meta.m;
}

void app_service_metrics_stop(void)
{
    metrics_destroy(meta.m);
    meta.m = NULL;
}

void app_service_metrics_publish(app_worker_t *aw)
{
    unsigned w = aw->http->id;
    db_pool_stats_t db;
    http_cache_stats_t cache = {0};
    uint64_t saved_at = app_usage_saved_at_ms(aw), now = h2o_now(aw->http->loop);

    if (meta.m == NULL)
        return;
    if (aw->db != NULL) {
        db_pool_get_stats(aw->db, &db);
        metrics_set(meta.m, w, meta.id[M_DB_CONNECTIONS], 0, db.connections_ready);
        metrics_set(meta.m, w, meta.id[M_DB_CONNECTIONS], 1, db.connections_total);
        metrics_set(meta.m, w, meta.id[M_DB_QUERIES], 0, (int64_t)db.queries_ok);
        metrics_set(meta.m, w, meta.id[M_DB_QUERIES], 1, (int64_t)db.queries_failed);
        metrics_set(meta.m, w, meta.id[M_DB_IN_FLIGHT], 0, (int64_t)db.in_flight);
    }
    if (aw->route != NULL) {
        db_route_stats_t rs;
        db_route_get_stats(aw->route, &rs);
        if (rs.replicas > 0) {
            metrics_set(meta.m, w, meta.id[M_DB_REPLICA_CONNECTIONS], 0, rs.replica.connections_ready);
            metrics_set(meta.m, w, meta.id[M_DB_REPLICA_CONNECTIONS], 1, rs.replica.connections_total);
            metrics_set(meta.m, w, meta.id[M_DB_REPLICA_QUERIES], 0, (int64_t)rs.replica.queries_ok);
            metrics_set(meta.m, w, meta.id[M_DB_REPLICA_QUERIES], 1, (int64_t)rs.replica.queries_failed);
            metrics_set(meta.m, w, meta.id[M_DB_REPLICA_IN_FLIGHT], 0, (int64_t)rs.replica.in_flight);
        }
        metrics_set(meta.m, w, meta.id[M_DB_READS], 0, (int64_t)rs.reads_replica);
        metrics_set(meta.m, w, meta.id[M_DB_READS], 1, (int64_t)rs.reads_primary);
        metrics_set(meta.m, w, meta.id[M_DB_READS], 2, (int64_t)rs.reads_retried);
    }
    if (aw->cache != NULL)
        http_cache_get_stats(aw->cache, &cache);
    metrics_set(meta.m, w, meta.id[M_CACHE_HITS], 0, (int64_t)cache.hits);
    metrics_set(meta.m, w, meta.id[M_CACHE_MISSES], 0, (int64_t)cache.misses);
    metrics_set(meta.m, w, meta.id[M_CACHE_BYTES], 0, (int64_t)cache.bytes);
    metrics_set(meta.m, w, meta.id[M_DOWNLOADS_ACTIVE], 0, aw->downloads_active);
    metrics_set(meta.m, w, meta.id[M_USAGE_FLUSH_LAG], 0, saved_at != 0 && now > saved_at ? (int64_t)(now - saved_at) : 0);
}

app_token_rejection_t app_service_token_rejection_of(auth_token_result_t r)
{
    static const app_token_rejection_t of_result[AUTH_TOKEN__COUNT] = {
        [AUTH_TOKEN_OK] = APP_TOKEN_REJECT_MALFORMED, /* not a rejection; never asked */
        [AUTH_TOKEN_MALFORMED] = APP_TOKEN_REJECT_MALFORMED,
        [AUTH_TOKEN_BAD_ALG] = APP_TOKEN_REJECT_BAD_ALG,
        [AUTH_TOKEN_UNKNOWN_KID] = APP_TOKEN_REJECT_UNKNOWN_KID,
        [AUTH_TOKEN_ALG_MISMATCH] = APP_TOKEN_REJECT_ALG_MISMATCH,
        [AUTH_TOKEN_BAD_SIGNATURE] = APP_TOKEN_REJECT_BAD_SIGNATURE,
        [AUTH_TOKEN_BAD_ISSUER] = APP_TOKEN_REJECT_BAD_ISSUER,
        [AUTH_TOKEN_BAD_AUDIENCE] = APP_TOKEN_REJECT_BAD_AUDIENCE,
        [AUTH_TOKEN_EXPIRED] = APP_TOKEN_REJECT_EXPIRED,
        [AUTH_TOKEN_NOT_YET_VALID] = APP_TOKEN_REJECT_NOT_YET_VALID,
        [AUTH_TOKEN_BAD_CLAIMS] = APP_TOKEN_REJECT_BAD_CLAIMS,
    };
    return (unsigned)r < AUTH_TOKEN__COUNT ? of_result[r] : APP_TOKEN_REJECT_MALFORMED;
}

void app_service_count_token_rejection(h2o_req_t *req, app_token_rejection_t why)
{
    if (meta.m != NULL)
        metrics_add(meta.m, http_worker_of(req)->id, meta.id[M_TOKEN_REJECTIONS], (size_t)why, 1);
}

void app_service_count_ratelimit_hit(h2o_req_t *req, int cls)
{
    if (meta.m != NULL && cls >= 0 && cls < APP_GATE__CLASSES)
        metrics_add(meta.m, http_worker_of(req)->id, meta.id[M_RATELIMIT_HITS], (size_t)cls, 1);
}

void app_service_country_of(h2o_req_t *req, char out[3])
{
    geo_client_country(req, out);
}

int app_service_metrics(h2o_req_t *req, const http_match_t *m)
{
    sbuf_t text = SBUF_INIT;
    char *body;

    if (meta.m == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The metrics registry could not be created (out of memory).", NULL);
        return 0;
    }
    app_service_metrics_publish(app_worker_of(req)); /* this worker's gauges are exact; the others' at most a second old */
    if (metrics_render(meta.m, &text) != 0 || (body = h2o_mem_alloc_pool(&req->pool, text.len)) == NULL) {
        sbuf_free(&text);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory while rendering the metrics.", NULL);
        return 0;
    }
    memcpy(body, text.data, text.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, text.len);
    sbuf_free(&text);
    return 0;
}
