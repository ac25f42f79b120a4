/*
 * api/meta — service routes: /healthz, /readyz, /metrics; and the process's metrics registry (the api's families:
 * database pool, response cache, token rejections, rate limits, downloads, usage-flush lag, build info — the HTTP
 * request families are registered by http/server).
 */
#ifndef KLIMA_API_META_H
#define KLIMA_API_META_H

#include "app/app.h"
#include "auth/token.h"
#include "http/metrics.h"
#include "http/router.h"

/* GET /healthz: the process is alive (no database involved). */
int api_meta_healthz(h2o_req_t *req, const http_match_t *m);

/* GET /readyz: 200 when this worker has its dataset catalog and a real query through its pool succeeds now; 503 problem
 * with Retry-After otherwise. */
int api_meta_readyz(h2o_req_t *req, const http_match_t *m);

/* GET /metrics: every family in the Prometheus text format (text/plain; version=0.0.4), summed over the workers. Gauges
 * copied from other workers' state (pool, cache, downloads, usage) are at most a second old. */
int api_meta_metrics(h2o_req_t *req, const http_match_t *m);

/* Creates the registry for nworkers workers and registers the api's families. Returns it (owned by api/meta until
 * api_meta_metrics_stop), or NULL when out of memory. Call once, before the workers start. */
metrics_t *api_meta_metrics_start(unsigned nworkers);

/* Releases the registry (after the workers stopped). */
void api_meta_metrics_stop(void);

/* Copies aw's gauges and mirrored counters (pool, cache, downloads, usage-flush lag) into its metrics. Call on aw's
 * thread: once a second, and before rendering. */
void api_meta_metrics_publish(api_worker_t *aw);

/* Why a bearer token was refused (the `reason` label of klimaspejl_token_rejections_total). */
typedef enum api_token_rejection {
    API_TOKEN_REJECT_MISSING,    /* no Authorization header */
    API_TOKEN_REJECT_NOT_BEARER, /* another scheme */
    API_TOKEN_REJECT_MALFORMED,
    API_TOKEN_REJECT_BAD_ALG,
    API_TOKEN_REJECT_UNKNOWN_KID,
    API_TOKEN_REJECT_ALG_MISMATCH,
    API_TOKEN_REJECT_BAD_SIGNATURE,
    API_TOKEN_REJECT_BAD_ISSUER,
    API_TOKEN_REJECT_BAD_AUDIENCE,
    API_TOKEN_REJECT_EXPIRED,
    API_TOKEN_REJECT_NOT_YET_VALID,
    API_TOKEN_REJECT_BAD_CLAIMS,
    API_TOKEN_REJECT_CONSENT_REVOKED,
    API_TOKEN_REJECT_CONSENT_EXPIRED,
    API_TOKEN_REJECT_UNKNOWN_CONSENT,
    API_TOKEN_REJECT_INSUFFICIENT_SCOPE,
    API_TOKEN_REJECT__COUNT
} api_token_rejection_t;

/* The rejection reason of a failed token check (r != AUTH_TOKEN_OK). */
api_token_rejection_t api_meta_token_rejection_of(auth_token_result_t r);

/* Counts one refused token / one request refused by a rate limit, on req's worker (no lock). */
void api_meta_count_token_rejection(h2o_req_t *req, api_token_rejection_t why);
void api_meta_count_ratelimit_hit(h2o_req_t *req, int cls); /* cls: api_gate_class_t */

/* The client's country for the access log (http_server_hooks_t.country_of): geo_country_of of req's peer and
 * X-Forwarded-For. */
void api_meta_country_of(h2o_req_t *req, char out[3]);

#endif
