/*
 * app/ratesync — the shared budget of the rate limits. Every KLIMA_RATE_SYNC_MS a worker reports what its rate-limit
 * tables took since its last sync and takes back each bucket's level summed over every worker of every instance, plus
 * the levels of the buckets others changed (api.rate_sync, sql/migrations/0026_rate_limits.sql), so a quota holds for
 * the whole service up to what the workers grant between two syncs. Nothing on the request path waits for it. One sync
 * in flight per worker; while the database cannot be reached the tables count alone and report later. app/gate owns
 * the tables and numbers them (a table's policy).
 */
#ifndef KLIMA_APP_RATESYNC_H
#define KLIMA_APP_RATESYNC_H

#include <stddef.h>

#include "app/app.h"
#include "core/ratelimit.h"

typedef struct app_ratesync app_ratesync_t;

/* Registers klimaspejl_ratelimit_sync_failures_total in metrics (NULL: none). Once, before the workers start. Returns
 * 0, or -1 when out of memory. */
int app_ratesync_init(metrics_t *metrics);

/* Syncs worker w's tables every interval_ms from now on: tables[p] is the table of policy p (its number in
 * meta.rate_levels, below 256; NULL entries are skipped). The tables must outlive app_ratesync_dispose. Returns NULL
 * when out of memory (the tables then count alone). */
app_ratesync_t *app_ratesync_start(app_worker_t *w, ratelimit_t *const *tables, size_t ntables, unsigned interval_ms);

/* Starts no sync from now on (one in flight may still answer, before the worker's pool is gone). */
void app_ratesync_stop(app_ratesync_t *s);

/* Frees s, after the worker's pool is gone. NULL is fine. */
void app_ratesync_dispose(app_ratesync_t *s);

#endif
