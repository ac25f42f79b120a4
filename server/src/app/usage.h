/*
 * app/usage — usage statistics of the open-data API: queries and downloads per UTC day, dataset, format and client
 * country. Each worker counts in its own small table (no lock on the request path) and adds the counts to PostgreSQL
 * (api.usage_add) every few seconds through its pool. Only the country code (geo/geoip) is kept: never an address.
 * GET /v1/usage publishes the totals.
 */
#ifndef KLIMA_APP_USAGE_H
#define KLIMA_APP_USAGE_H

#include <h2o.h>

#include "app/app.h"
#include "opendata/query.h"
#include "http/router.h"

/* How often a worker sends its counts, and how many distinct (day, dataset, kind, format, country) keys it holds before
 * it sends them early. */
#define APP_USAGE_FLUSH_MS 5000
#define APP_USAGE_MAX_KEYS 512

/* Counts one use of dataset_id by req's client. kind is "query" or "download"; format is the output format name
 * ("json", "csv", ...; app_usage_format_name). The country comes from req's peer address and X-Forwarded-For
 * (geo_client_country); the address itself is not kept. Strings are copied. Never fails: when the table is full and a send
 * is already in flight the count is dropped (and the drops are logged, as a number, at the next send). Call only on
 * req's worker thread, once per served request. */
void app_usage_count(h2o_req_t *req, const char *dataset_id, const char *kind, const char *format);

/* The name of an output format as it is counted ("json", "csv", "ndjson", "geojson"). A static string. */
const char *app_usage_format_name(opendata_format_t format);

/* The same name from a response's content type (for responses served from the cache): "application/json" -> "json",
 * "text/csv; ..." -> "csv", ...; "other" when unknown. A static string. */
const char *app_usage_format_of_type(const char *content_type);

/* Creates aw's counters (aw->usage) and starts the periodic send on aw's loop. Call from the worker start hook after
 * aw->db and aw->http are set. Returns 0, or -1 when memory is exhausted (aw->usage stays NULL and counting is off). */
int app_usage_worker_start(app_worker_t *aw);

/* Stops the periodic send, then makes a last attempt to send what is counted (running aw's loop for at most about a
 * second until PostgreSQL answered), and releases aw->usage. Call from the worker stop hook before aw->db is destroyed. */
void app_usage_worker_stop(app_worker_t *aw);

/* The h2o_now (ms) at which aw's counts were last all saved: the last successful send, or the last flush tick that found
 * nothing to send. now minus this is the usage-flush lag (normally under APP_USAGE_FLUSH_MS). 0 when counting is off.
 * Call on aw's thread. */
uint64_t app_usage_saved_at_ms(const app_worker_t *aw);

/* GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&dataset=ID — a JSON array of {day, dataset, format, country, downloads,
 * queries}, ordered by day, dataset, format, country (api-spec/openapi.yaml). to defaults to today (UTC), from to 29 days
 * before to; to is at most 366 days after from. Bad input gets a 400 problem naming the parameter. */
int app_usage_get(h2o_req_t *req, const http_match_t *m);

#endif
