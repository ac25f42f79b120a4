/*
 * app/gate — what every routed request passes before its handler: CORS, the country restriction of personal routes
 * (KLIMA_PERSONAL_COUNTRIES) and rate limits per route class (KLIMA_RATE_*), with the RateLimit-Policy / RateLimit
 * header fields of draft-ietf-httpapi-ratelimit-headers-11. http/server calls it through its hooks (gate, options);
 * it lives in api because it needs the token cache (client ids), geo and the database (registered clients' origins).
 *
 * Each route's class and CORS policy are derived once from its pattern: /healthz, /readyz, /metrics are "service";
 * /v1/me/... "personal"; /oauth/... "oauth"; .../download "download"; POST /v1/feedback "feedback"; every other route
 * "open". Buckets are per worker thread (nothing on the request path takes a lock), keyed by the consent token's client
 * id when the token is already in this thread's verified-token cache, else by the daily-salted address hash
 * (geo_client_key of geo_client_of). A 304 gives its token back. OPTIONS requests (CORS preflights) are answered here and never
 * counted.
 */
#ifndef KLIMA_APP_GATE_H
#define KLIMA_APP_GATE_H

#include <h2o.h>

#include "app/app.h"
#include "core/config.h"

typedef enum app_gate_class {
    APP_GATE_SERVICE,
    APP_GATE_OPEN,
    APP_GATE_DOWNLOAD,
    APP_GATE_PERSONAL,
    APP_GATE_OAUTH,
    APP_GATE_FEEDBACK,
    APP_GATE__CLASSES
} app_gate_class_t;

/* The class names: the `class` label of klimaspejl_ratelimit_hits_total and the RateLimit policy names. */
extern const char *const app_gate_class_names[APP_GATE__CLASSES];

/* Derives every route's class and CORS policy from the route table and reads the settings (rates, countries). Call
 * once, before the workers start. Returns 0, or -1 with a message naming the setting in err. */
int app_gate_start(const config_t *cfg, char *err, size_t errlen);

/* Per-worker buckets and the registered clients' origins (loaded through the worker's pool at start and every 10 s).
 * Returns 0, or -1 when out of memory (the worker then serves without rate limits and allows no cross-origin
 * personal requests). Stop after the worker's pool is destroyed (its callbacks may still arrive until then). */
int app_gate_worker_start(app_worker_t *aw);
void app_gate_worker_stop(app_worker_t *aw);

/* http_server_hooks_t.gate: route is the index into app_routes of the matched route. Adds CORS headers, refuses a
 * personal request from a country not allowed (403), takes a token from the request's bucket (429 + Retry-After when
 * empty) and arranges the RateLimit headers. Returns 0 when the handler should run, 1 when the gate answered. */
int app_gate_check(h2o_req_t *req, size_t route);

/* http_server_hooks_t.options: answers OPTIONS on a known path (route: the first route of the path; allow: its methods,
 * "GET, HEAD" style): a CORS preflight gets 204 with the Access-Control-Allow-* fields, or 403 when the route is not
 * open to that origin; a plain OPTIONS gets 204 with Allow. Returns 0. */
int app_gate_options(h2o_req_t *req, size_t route, const char *allow);

#endif
