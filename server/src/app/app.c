/*
 * app/app — per-worker state and the guarded database call.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/auth.h"
#include "app/gate.h"
#include "app/service.h"
#include "app/usage.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/strutil.h"
#include "db/listen.h"
#include "http/problem.h"
#include "http/respond.h"

const db_statement_t app_statements[APP_STMT__COUNT] = {
    [APP_STMT_PING] = {"ping", "SELECT 1", 0},
    [APP_STMT_CATALOG] = {"catalog", app_catalog_sql, 0},
    [APP_STMT_FEEDBACK_ADD] = {"feedback_add",
                               "SELECT feedback_id, received_at FROM api.feedback_add($1, $2, $3::integer, $4, $5, $6::uuid, $7)", 7},
    [APP_STMT_FEEDBACK_STATS] = {"feedback_stats", "SELECT month, topic, rating, count FROM api.feedback_stats()", 0, DB_TARGET_READ},
    [APP_STMT_USAGE_ADD] = {"usage_add", "SELECT api.usage_add($1::jsonb)", 1},
    [APP_STMT_USAGE_GET] = {"usage_get",
                            "SELECT to_char(day, 'YYYY-MM-DD'), dataset, format, country, "
                            "coalesce(sum(count) FILTER (WHERE kind = 'download'), 0), "
                            "coalesce(sum(count) FILTER (WHERE kind = 'query'), 0) FROM api.usage "
                            "WHERE day BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR dataset = $3::text) "
                            "GROUP BY day, dataset, format, country ORDER BY day, dataset, format, country",
                            3, DB_TARGET_READ},
};

static const char *const notify_channels[] = {"klima_dataset_refreshed", "klima_consent_revoked", NULL};

static struct {
    const config_t *cfg;
    app_worker_t **workers; /* indexed by http worker id; written once by each worker at start */
    unsigned nworkers;
} app;

typedef struct notify_message {
    h2o_multithread_message_t super;
    int channel; /* index into notify_channels */
    char payload[256];
} notify_message_t;

app_worker_t *app_worker_of(h2o_req_t *req)
{
    return http_worker_of(req)->app;
}

/* --- the guarded call -------------------------------------------------------------------------------------------- */

/* Shared between the request (through a guard on its pool) and the pool callback; freed when both let go. */
typedef struct app_call {
    h2o_req_t *req; /* NULL once the request is gone */
    app_db_cb cb;
    void *state;
} app_call_t;

static void call_guard_dispose(void *p)
{
    app_call_t *call = *(app_call_t **)p;
    call->req = NULL;
    h2o_mem_release_shared(call);
}

static void send_unavailable(h2o_req_t *req, http_problem_kind_t kind, const char *detail)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    http_problem_send(req, kind, detail, NULL);
}

static void call_on_result(void *data, db_status_t status, const PGresult *res)
{
    app_call_t *call = data;

    if (call->req != NULL) {
        switch (status) {
        case DB_UNAVAILABLE:
            send_unavailable(call->req, HTTP_PROBLEM_DB_UNAVAILABLE, "The database connection was lost; try again shortly.");
            break;
        case DB_TIMEOUT:
            send_unavailable(call->req, HTTP_PROBLEM_DB_TIMEOUT, "The database did not answer in time; try again shortly.");
            break;
        default:
            call->cb(call->req, call->state, status, res);
            break;
        }
    }
    h2o_mem_release_shared(call);
}

/* stmt >= 0: a statement of the table (routed by its target); otherwise sql is run on target (prepared per connection on
 * first use). */
static int db_call(h2o_req_t *req, int stmt, db_target_t target, const char *sql, int nparams, const char *const *params, app_db_cb cb,
                   void *state)
{
    app_worker_t *aw = app_worker_of(req);
    app_call_t *call = h2o_mem_alloc_shared(NULL, sizeof(*call), NULL);
    app_call_t **guard;
    int r;

    call->req = req;
    call->cb = cb;
    call->state = state;
    r = stmt >= 0 ? db_route_query(aw->route, (size_t)stmt, params, call_on_result, call)
                  : db_route_query_sql(aw->route, target, sql, nparams, params, call_on_result, call);
    if (r != 0) {
        h2o_mem_release_shared(call);
        send_unavailable(req, HTTP_PROBLEM_DB_UNAVAILABLE, "The database is not reachable right now; try again shortly.");
        return -1;
    }
    /* the pool holds the first reference; the guard on the request's pool holds the second */
    h2o_mem_addref_shared(call);
    guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), call_guard_dispose);
    *guard = call;
    return 0;
}

int app_db_query(h2o_req_t *req, app_stmt_t stmt, const char *const *params, app_db_cb cb, void *state)
{
    return db_call(req, (int)stmt, DB_TARGET_PRIMARY, NULL, 0, params, cb, state);
}

int app_db_query_sql(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state)
{
    return db_call(req, -1, DB_TARGET_PRIMARY, sql, nparams, params, cb, state);
}

int app_db_read_sql(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state)
{
    return db_call(req, -1, DB_TARGET_READ, sql, nparams, params, cb, state);
}

void app_db_error_reply(h2o_req_t *req, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (state != NULL && strcmp(state, "57014") == 0) {
        send_unavailable(req, HTTP_PROBLEM_DB_TIMEOUT, "The query took longer than the server allows.");
        return;
    }
    if (state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 || strcmp(state, "40001") == 0)) {
        /* the database is shutting down or restarting, or a replica cancelled the query: try again, not a server bug */
        send_unavailable(req, HTTP_PROBLEM_DB_UNAVAILABLE, "The database is restarting; try again shortly.");
        return;
    }
    log_error("query failed: %s %s", state != NULL ? state : "-", msg != NULL ? msg : "(no message)");
    http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The database rejected the query; the error has been logged.", NULL);
}

/* --- catalog ---------------------------------------------------------------------------------------------------- */

static void catalog_holder_dispose(void *p)
{
    app_catalog_free(*(app_catalog_t **)p);
}

app_catalog_t *app_catalog_acquire(h2o_req_t *req)
{
    app_worker_t *aw = app_worker_of(req);
    if (aw->catalog == NULL) {
        send_unavailable(req, HTTP_PROBLEM_DB_UNAVAILABLE,
                         "The dataset catalog has not been loaded yet (the database has not answered since the server "
                         "started); try again shortly.");
        return NULL;
    }
    h2o_mem_link_shared(&req->pool, aw->catalog);
    return *aw->catalog;
}

static void on_catalog(void *data, db_status_t status, const PGresult *res)
{
    app_worker_t *aw = data;
    app_catalog_t *cat;
    app_catalog_t **holder;

    aw->catalog_loading = 0;
    if (status != DB_OK || PQntuples(res) != 1) {
        if (status == DB_QUERY_ERROR)
            log_error("cannot load the dataset catalog: %s", PQresultErrorMessage(res));
        return;
    }
    if ((cat = app_catalog_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0))) == NULL)
        return;
    holder = h2o_mem_alloc_shared(NULL, sizeof(*holder), catalog_holder_dispose);
    *holder = cat;
    if (aw->catalog != NULL)
        h2o_mem_release_shared(aw->catalog);
    else
        log_debug("worker %u: catalog loaded, %zu datasets", aw->http->id, cat->n);
    aw->catalog = holder;
}

/* Once a second: load the catalog until it is there, then reload it every minute (a safety net for a missed NOTIFY). */
static void on_tick(h2o_timeout_entry_t *te)
{
    app_worker_t *aw = H2O_STRUCT_FROM_MEMBER(app_worker_t, tick_entry, te);
    if (!aw->catalog_loading && (aw->catalog == NULL || ++aw->ticks % 60 == 0)) {
        if (db_pool_query(aw->db, APP_STMT_CATALOG, NULL, on_catalog, aw) == 0)
            aw->catalog_loading = 1;
    }
    app_service_metrics_publish(aw);
    h2o_timeout_link(aw->http->loop, &aw->tick_timeout, &aw->tick_entry);
}

/* --- notifications ------------------------------------------------------------------------------------------------- */

static void on_notify_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    app_worker_t *aw = H2O_STRUCT_FROM_MEMBER(app_worker_t, notify_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        notify_message_t *m = H2O_STRUCT_FROM_MEMBER(notify_message_t, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        if (m->channel == 0) {
            ++aw->datasets_generation;
            db_route_fence(aw->route); /* no replica serves this dataset until it has replayed the refresh */
            if (aw->catalog != NULL)
                app_catalog_apply_notify(*aw->catalog, m->payload);
        }
        else if (m->channel == 1) {
            ++aw->consents_revoked;
            app_auth_on_revoked(aw, m->payload);
        } else {
            /* the listener (re)connected: notifications may have been missed meanwhile */
            app_auth_on_revoked(aw, NULL);
            db_route_fence(aw->route);
            if (aw->catalog != NULL)
                aw->ticks = 59; /* reload the catalog (versions) at the next tick */
        }
        log_debug("worker %u: %s %s", aw->http->id, m->channel >= 0 && m->channel < 2 ? notify_channels[m->channel] : "(listener connected)",
                  m->payload);
        free(m);
    }
}

/* Runs on the listener thread: one message per worker. */
static void on_notify(const char *channel, const char *payload, void *ctx)
{
    int ch = channel == NULL ? 2 : -1; /* 2: the listener (re)connected */
    for (int i = 0; channel != NULL && notify_channels[i] != NULL; ++i) {
        if (strcmp(channel, notify_channels[i]) == 0)
            ch = i;
    }
    if (ch < 0)
        return;
    for (unsigned i = 0; i < app.nworkers; ++i) {
        app_worker_t *aw = __atomic_load_n(&app.workers[i], __ATOMIC_ACQUIRE);
        notify_message_t *m;
        if (aw == NULL || (m = calloc(1, sizeof(*m))) == NULL)
            continue;
        m->channel = ch;
        str_fmt(m->payload, sizeof(m->payload), "%s", payload != NULL ? payload : "");
        h2o_multithread_send_message(&aw->notify_receiver, &m->super);
    }
}

/* --- worker lifecycle ---------------------------------------------------------------------------------------------- */

static void on_first_tick(h2o_timeout_entry_t *te);

static void *worker_start(http_worker_t *w)
{
    app_worker_t *aw = calloc(1, sizeof(*aw));
    if (aw == NULL)
        return NULL;
    aw->http = w;
    aw->conninfo = app.cfg->db_url != NULL ? app.cfg->db_url : "";
    aw->downloads_max = app.cfg->downloads;
    aw->cache = http_cache_create((size_t)app.cfg->cache_mb * 1024 * 1024 / (app.cfg->threads > 0 ? app.cfg->threads : 1));
    aw->download_timeout_ms = app.cfg->download_timeout_ms;
    aw->route = db_route_create(w->loop, app.cfg->db_url, app.cfg->db_read_urls, app.cfg->db_conns, app.cfg->db_timeout_ms,
                                app.cfg->statement_timeout_ms, app_statements, APP_STMT__COUNT);
    if (aw->route == NULL) {
        http_cache_destroy(aw->cache);
        free(aw);
        return NULL;
    }
    aw->db = db_route_primary(aw->route);
    h2o_multithread_register_receiver(w->ctx.queue, &aw->notify_receiver, on_notify_messages);
    h2o_timeout_init(w->loop, &aw->tick_timeout, 1000);
    aw->tick_entry.cb = on_tick;
    h2o_timeout_link(w->loop, &aw->tick_timeout, &aw->tick_entry);
    /* the first attempt as soon as a connection is up: the pool's own backoff makes this cheap */
    h2o_timeout_init(w->loop, &aw->first_timeout, 50);
    aw->first_entry.cb = on_first_tick;
    h2o_timeout_link(w->loop, &aw->first_timeout, &aw->first_entry);
    if (app_gate_worker_start(aw) != 0)
        log_warn("worker %u: out of memory for the rate limits; this thread serves without them", w->id);
    if (app_auth_worker_start(aw) != 0)
        log_warn("worker %u: out of memory for the token cache; personal routes answer 503 on this thread", w->id);
    if (app_usage_worker_start(aw) != 0)
        log_warn("worker %u: out of memory for usage counters; this thread does not count usage", w->id);
    __atomic_store_n(&app.workers[w->id], aw, __ATOMIC_RELEASE);
    return aw;
}

static void on_first_tick(h2o_timeout_entry_t *te)
{
    app_worker_t *aw = H2O_STRUCT_FROM_MEMBER(app_worker_t, first_entry, te);
    if (aw->catalog != NULL || aw->catalog_loading)
        return;
    if (db_pool_query(aw->db, APP_STMT_CATALOG, NULL, on_catalog, aw) == 0)
        aw->catalog_loading = 1;
    else
        h2o_timeout_link(aw->http->loop, &aw->first_timeout, &aw->first_entry);
}

/* The app_worker itself stays allocated (the listener thread may still address its receiver until app_stop). */
static void worker_stop(http_worker_t *w)
{
    app_worker_t *aw = w->app;
    if (h2o_timeout_is_linked(&aw->tick_entry))
        h2o_timeout_unlink(&aw->tick_entry);
    if (h2o_timeout_is_linked(&aw->first_entry))
        h2o_timeout_unlink(&aw->first_entry);
    app_usage_worker_stop(aw); /* its last send needs the pool */
    db_route_destroy(aw->route);
    aw->route = NULL;
    aw->db = NULL;
    app_gate_worker_stop(aw); /* after the pool: its last callbacks (origin loads) still reach the gate */
    http_cache_destroy(aw->cache);
    aw->cache = NULL;
    app_auth_worker_stop(aw);
    if (aw->catalog != NULL) {
        h2o_mem_release_shared(aw->catalog);
        aw->catalog = NULL;
    }
}

static http_server_hooks_t hooks = {worker_start, worker_stop};

const http_server_hooks_t *app_start(const config_t *cfg)
{
    char err[512];

    app.cfg = cfg;
    {
        char *urls[DB_ROUTE_MAX_REPLICAS];
        int n = db_route_split_urls(cfg->db_read_urls, urls, DB_ROUTE_MAX_REPLICAS);
        if (n < 0) {
            log_error("KLIMA_DB_READ_URLS: at most %d comma-separated connection strings", DB_ROUTE_MAX_REPLICAS);
            return NULL;
        }
        if (n > 0)
            log_info("reads that tolerate replication lag go to %d replica(s); writes and fresh reads to the primary", n);
        while (n > 0)
            free(urls[--n]);
    }
    if (app_auth_start(cfg, err, sizeof(err)) != 0 || app_gate_start(cfg, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return NULL;
    }
    app.nworkers = cfg->threads;
    app.workers = calloc(cfg->threads, sizeof(*app.workers));
    if (app.workers == NULL)
        return NULL;
    if ((hooks.metrics = app_service_metrics_start(cfg->threads)) == NULL)
        log_warn("out of memory for the metrics registry: /metrics answers 500");
    hooks.country_of = app_service_country_of;
    hooks.gate = app_gate_check;
    hooks.options = app_gate_options;
    if (db_listen_start(cfg->db_url, notify_channels, on_notify, NULL) != 0)
        log_warn("cannot start the notification listener; cache invalidation will wait for expiry");
    return &hooks;
}

void app_stop(void)
{
    db_listen_stop();
    app_auth_stop();
    app_service_metrics_stop();
    hooks.metrics = NULL;
}
