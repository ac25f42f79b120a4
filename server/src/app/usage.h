/*
 * app/usage — usage statistics of the open-data API: queries and downloads per UTC day, dataset, format and client
 * country. Each worker counts in its own small table (no lock on the request path) and adds the counts to PostgreSQL
 * (api.usage_add) every few seconds through its pool; a failed send keeps them for the next (within the table's bound).
 * Only the country code (geo_client_country) is kept: never an address. GET /v1/usage (opendata/usage.c) publishes the
 * totals.
 */
#ifndef KLIMA_APP_USAGE_H
#define KLIMA_APP_USAGE_H

#include <h2o.h>

#include "app/app.h"

/* How often a worker sends its counts, and how many distinct (day, dataset, kind, format, country) keys it holds before
 * it sends them early. */
#define APP_USAGE_FLUSH_MS 5000
#define APP_USAGE_MAX_KEYS 512

/* The module: per-worker counters, their periodic send, a last send at shutdown (at most a second), and the gauge
 * klimaspejl_usage_flush_lag_seconds. */
extern const app_module_t app_usage_module;

/* Counts one use of dataset_id by req's client. kind is "query" or "download"; format is the output format name
 * ("json", "csv", ...). Strings are copied. Never fails: when the table is full and a send is already in flight the
 * count is dropped (and the drops are logged, as a number, at the next send). Call only on req's worker thread, once
 * per served request. */
void app_usage_count(h2o_req_t *req, const char *dataset_id, const char *kind, const char *format);

#endif
