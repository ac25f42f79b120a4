/*
 * app/service — service routes: /healthz, /readyz, /metrics; and the process's metrics registry (the api's families:
 * database pool, response cache, token rejections, rate limits, downloads, usage-flush lag, build info — the HTTP
 * request families are registered by http/server).
 */
#ifndef KLIMA_APP_SERVICE_H
#define KLIMA_APP_SERVICE_H

#include "app/app.h"
#include "auth/token.h"
#include "http/metrics.h"
#include "http/router.h"

/* GET /healthz: the process is alive (no database involved). */
int app_service_healthz(h2o_req_t *req, const http_match_t *m);

/* GET /readyz: 200 when this worker has its dataset catalog and a real query through its pool succeeds now; 503 problem
 * with Retry-After otherwise. */
int app_service_readyz(h2o_req_t *req, const http_match_t *m);

/* GET /metrics: every family in the Prometheus text format (text/plain; version=0.0.4), summed over the workers. Gauges
 * copied from other workers' state (pool, cache, downloads, usage) are at most a second old. */
int app_service_metrics(h2o_req_t *req, const http_match_t *m);

/* Creates the registry for nworkers workers and registers the api's families. Returns it (owned by app/service until
 * app_service_metrics_stop), or NULL when out of memory. Call once, before the workers start. */
metrics_t *app_service_metrics_start(unsigned nworkers);

/* Releases the registry (after the workers stopped). */
void app_service_metrics_stop(void);

/* Copies aw's gauges and mirrored counters (pool, cache, downloads, usage-flush lag) into its metrics. Call on aw's
 * thread: once a second, and before rendering. */
void app_service_metrics_publish(app_worker_t *aw);

/* Why a bearer token was refused (the `reason` label of klimaspejl_token_rejections_total). */
typedef enum app_token_rejection {
    APP_TOKEN_REJECT_MISSING,    /* no Authorization header */
    APP_TOKEN_REJECT_NOT_BEARER, /* another scheme */
    APP_TOKEN_REJECT_MALFORMED,
    APP_TOKEN_REJECT_BAD_ALG,
    APP_TOKEN_REJECT_UNKNOWN_KID,
    APP_TOKEN_REJECT_ALG_MISMATCH,
    APP_TOKEN_REJECT_BAD_SIGNATURE,
    APP_TOKEN_REJECT_BAD_ISSUER,
    APP_TOKEN_REJECT_BAD_AUDIENCE,
    APP_TOKEN_REJECT_EXPIRED,
    APP_TOKEN_REJECT_NOT_YET_VALID,
    APP_TOKEN_REJECT_BAD_CLAIMS,
    APP_TOKEN_REJECT_CONSENT_REVOKED,
    APP_TOKEN_REJECT_CONSENT_EXPIRED,
    APP_TOKEN_REJECT_UNKNOWN_CONSENT,
    APP_TOKEN_REJECT_INSUFFICIENT_SCOPE,
    APP_TOKEN_REJECT__COUNT
} app_token_rejection_t;

/* The rejection reason of a failed token check (r != AUTH_TOKEN_OK). */
app_token_rejection_t app_service_token_rejection_of(auth_token_result_t r);

/* Counts one refused token / one request refused by a rate limit, on req's worker (no lock). */
void app_service_count_token_rejection(h2o_req_t *req, app_token_rejection_t why);
void app_service_count_ratelimit_hit(h2o_req_t *req, int cls); /* cls: app_gate_class_t */

/* The client's country for the access log (http_server_hooks_t.country_of): geo_client_country of req. */
void app_service_country_of(h2o_req_t *req, char out[3]);

#endif
