/*
 * app/app — what every resource handler shares: the per-worker state (database pool, notification receiver), the route
 * table, the statement table, and the guarded database call that survives a vanished client.
 */
#ifndef KLIMA_APP_APP_H
#define KLIMA_APP_APP_H

#include <h2o.h>

#include "http/cache.h"
#include "app/catalog.h"
#include "core/config.h"
#include "db/pool.h"
#include "db/route.h"
#include "http/router.h"
#include "http/server.h"

/* The statements the server runs, one table for every connection (prepared on first use per connection). Each entry's
 * target says whether a read replica may answer it (DB_TARGET_READ) or only the primary (the default). */
typedef enum app_stmt { APP_STMT_PING, APP_STMT_CATALOG, APP_STMT_USAGE_ADD, APP_STMT_USAGE_GET, APP_STMT_FEEDBACK_ADD, APP_STMT_FEEDBACK_STATS,
                       APP_STMT__COUNT } app_stmt_t;
extern const db_statement_t app_statements[APP_STMT__COUNT];

/* The route table (app/routes.c) — the one place a route is registered; tests compare it with api-spec/openapi.yaml. */
extern const http_route_t app_routes[];
extern const size_t app_nroutes;

typedef struct app_worker {
    http_worker_t *http;
    db_route_t *route;         /* the primary and the read replicas (KLIMA_DB_READ_URLS) */
    db_pool_t *db;             /* the primary's pool (owned by route): writes and reads that must be fresh */
    h2o_multithread_receiver_t notify_receiver;
    uint64_t datasets_generation; /* bumped by NOTIFY klima_dataset_refreshed */
    uint64_t consents_revoked;    /* bumped by NOTIFY klima_consent_revoked */
    app_catalog_t **catalog;      /* shared (refcounted) holder; NULL until first loaded */
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick_entry;
    unsigned ticks;
    int catalog_loading;
    const char *conninfo;      /* the primary's (downloads ask db_route_read_conninfo, which may name a replica) */
    http_cache_t *cache;        /* public responses (records) */
    void *gate;                /* app/gate.c's buckets and CORS origins (opaque); NULL when out of memory */
    unsigned downloads_active, downloads_max, download_timeout_ms;
    void *auth;                /* app/auth.c's token cache (opaque); NULL when out of memory */
    void *usage;               /* app/usage.c's counters (opaque); NULL when counting is off */
    h2o_timeout_t first_timeout;
    h2o_timeout_entry_t first_entry;
} app_worker_t;

/* The api state of the worker serving req. */
app_worker_t *app_worker_of(h2o_req_t *req);

/* Receives a query's outcome while the request still exists. DB_UNAVAILABLE and DB_TIMEOUT never reach it: app_db_query
 * answers those with 503 + Retry-After itself. */
typedef void (*app_db_cb)(h2o_req_t *req, void *state, db_status_t status, const PGresult *res);

/* Runs statement stmt for req. If the client goes away before the result arrives, the result is dropped and cb is not
 * called; nothing the request owned is touched. Returns 0 when the query was queued; when the database is unavailable
 * it has already sent 503 + Retry-After and returns -1. Either way the handler then returns 0 to h2o. */
int app_db_query(h2o_req_t *req, app_stmt_t stmt, const char *const *params, app_db_cb cb, void *state);

/* The worker's current catalog, kept alive until req is done (a reload meanwhile does not pull it away). When the catalog
 * has not been loaded yet (database not reached since start) it sends 503 + Retry-After and returns NULL. */
app_catalog_t *app_catalog_acquire(h2o_req_t *req);

/* Like app_db_query for SQL built at run time (prepared per connection on first use), on the primary: writes, and reads
 * that must see the latest commit (consent and token checks, OAuth codes and clients). */
int app_db_query_sql(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state);

/* Like app_db_query_sql for a read that a streaming replica may answer (open data, a household's own series): it goes to
 * a healthy replica when KLIMA_DB_READ_URLS names any, else to the primary (see db/route.h). */
int app_db_read_sql(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state);

/* Sends the problem for a query PostgreSQL rejected (logs the SQL error; statement timeouts become 503). */
void app_db_error_reply(h2o_req_t *req, const PGresult *res);

/* Starts the notification listener and returns the worker hooks for http_server_run. cfg must outlive the server. */
const http_server_hooks_t *app_start(const config_t *cfg);

/* Stops the notification listener (after http_server_run returned). */
void app_stop(void);

#endif
