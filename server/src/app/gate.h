/*
 * app/gate — what every routed request passes before its handler (app/route.c puts it there): CORS, the country
 * restriction of personal and consent routes (KLIMA_PERSONAL_COUNTRIES) and rate limits per route class
 * (KLIMA_RATE_*), with the RateLimit-Policy / RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-11. The
 * policy of each request is its route-table entry's (class, CORS). Each worker thread decides on its own buckets
 * (nothing on the request path takes a lock or waits for the database), keyed by the consent token's client id when
 * the token is already in this thread's verified-token cache, else by the daily client address key (geo_client_key of
 * geo_client_of, keyed with a secret derived from the signing key, so every instance computes the same). Every
 * KLIMA_RATE_SYNC_MS each worker reconciles its buckets with every other worker of every instance through PostgreSQL
 * (api.rate_sync), so a quota holds for the whole service, up to what the workers grant between two syncs. A 304 gives
 * its token back. OPTIONS requests (CORS preflights) are answered here and never counted. The registered clients' origins
 * are loaded through the worker's pool at start and every 10 s.
 */
#ifndef KLIMA_APP_GATE_H
#define KLIMA_APP_GATE_H

#include <h2o.h>

#include "app/app.h"
#include "app/route.h"

/* The module: reads the rates and countries at start (an error names the setting), keeps each worker's buckets and
 * origins, and counts refusals in klimaspejl_ratelimit_hits_total{class}. */
extern const app_module_t app_gate_module;

/* Runs before route's handler: adds CORS fields, refuses a personal or consent request from a country not allowed
 * (403), takes a token from the request's bucket (429 + Retry-After when empty) and arranges the RateLimit fields.
 * Returns 0 when the handler should run, 1 when the gate has answered. */
int app_gate_check(h2o_req_t *req, const app_route_t *route);

/* http_server_hooks_t.options: answers OPTIONS on a known path (route: the first route of the path; allow: its methods,
 * "GET, HEAD" style): a CORS preflight gets 204 with the Access-Control-Allow-* fields, or 403 when the route is not
 * open to that origin; a plain OPTIONS gets 204 with Allow. Returns 0. */
int app_gate_options(h2o_req_t *req, const http_route_t *route, const char *allow);

#endif
