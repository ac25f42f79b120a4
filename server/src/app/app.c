/*
 * app/app — modules, workers and notifications.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/auth.h"
#include "app/catalog.h"
#include "app/gate.h"
#include "app/service.h"
#include "app/stream.h"
#include "app/usage.h"
#include "core/log.h"
#include "core/strutil.h"
#include "db/listen.h"
#include "geo/client.h"

/* app's own modules, first in module order (the gate after auth: it derives its client-key secret from the keys). */
static const app_module_t *const core_modules[] = {&app_catalog_module, &app_service_module, &app_auth_module,
                                                   &app_gate_module,    &app_usage_module,   &app_stream_module};
#define NCORE (sizeof(core_modules) / sizeof(core_modules[0]))

/* Process-wide, written by app_run before the workers start. */
static struct {
    const config_t *cfg;
    const app_module_t *modules[APP_MAX_MODULES];
    size_t nmodules;
    const char *channels[APP_MAX_MODULES + 1]; /* NULL-terminated, for db_listen */
    app_worker_t **workers;                    /* indexed by http worker id; written once by each worker at start */
    unsigned nworkers;
    metrics_t *metrics;
} app;

typedef struct notify_message {
    h2o_multithread_message_t super;
    const char *channel; /* NULL: the listener (re)connected */
    char payload[256];
} notify_message_t;

app_worker_t *app_worker_of(h2o_req_t *req)
{
    return http_worker_of(req)->app;
}

void *app_worker_state_or_warn(const app_worker_t *w, void *state, const char *what)
{
    if (state == NULL)
        log_warn("worker %u: out of memory for %s", w->http->id, what);
    return state;
}

metrics_t *app_metrics(void)
{
    return app.metrics;
}

static size_t app_routes(const app_module_t *const *modules, size_t nmodules, const app_route_t **out, size_t max)
{
    size_t n = 0;
    for (size_t m = 0; m < NCORE + nmodules; ++m) {
        const app_module_t *mod = m < NCORE ? core_modules[m] : modules[m - NCORE];
        for (size_t i = 0; i < mod->nroutes; ++i, ++n) {
            if (n < max)
                out[n] = &mod->routes[i];
        }
    }
    return n;
}

/* --- notifications ------------------------------------------------------------------------------------------------- */

static void on_notify_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    app_worker_t *w = H2O_STRUCT_FROM_MEMBER(app_worker_t, _notify_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        notify_message_t *m = H2O_STRUCT_FROM_MEMBER(notify_message_t, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        for (size_t i = 0; i < app.nmodules; ++i) {
            const app_module_t *mod = app.modules[i];
            if (mod->notify.fn != NULL && (m->channel == NULL || m->channel == mod->notify.channel))
                mod->notify.fn(w, w->state[i], m->channel != NULL ? m->payload : NULL);
        }
        log_debug("worker %u: %s %s", w->http->id, m->channel != NULL ? m->channel : "(listener connected)", m->payload);
        free(m);
    }
}

/* Runs on the listener thread: one message per worker. */
static void on_notify(const char *channel, const char *payload, void *ctx)
{
    const char *ch = NULL;
    for (size_t i = 0; channel != NULL && app.channels[i] != NULL; ++i) {
        if (strcmp(channel, app.channels[i]) == 0)
            ch = app.channels[i];
    }
    if (channel != NULL && ch == NULL)
        return;
    for (unsigned i = 0; i < app.nworkers; ++i) {
        app_worker_t *w = __atomic_load_n(&app.workers[i], __ATOMIC_ACQUIRE);
        notify_message_t *m;
        if (w == NULL || (m = calloc(1, sizeof(*m))) == NULL)
            continue;
        m->channel = ch;
        str_fmt(m->payload, sizeof(m->payload), "%s", payload != NULL ? payload : "");
        h2o_multithread_send_message(&w->_notify_receiver, &m->super);
    }
}

/* --- worker lifecycle ---------------------------------------------------------------------------------------------- */

void app_publish(app_worker_t *w)
{
    for (size_t i = 0; i < app.nmodules; ++i) {
        if (app.modules[i]->worker.publish != NULL)
            app.modules[i]->worker.publish(w, w->state[i]);
    }
}

static void on_tick(h2o_timeout_entry_t *te)
{
    app_worker_t *w = H2O_STRUCT_FROM_MEMBER(app_worker_t, _tick_entry, te);
    for (size_t i = 0; i < app.nmodules; ++i) {
        if (app.modules[i]->worker.tick != NULL)
            app.modules[i]->worker.tick(w, w->state[i]);
    }
    app_publish(w);
    h2o_timeout_link(w->http->loop, &w->_tick_timeout, &w->_tick_entry);
}

static void *worker_start(http_worker_t *hw)
{
    const config_t *cfg = app.cfg;
    app_worker_t *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->http = hw;
    w->cfg = cfg;
    w->route =
        db_route_create(hw->loop, cfg->db_url, cfg->db_read_urls, cfg->db_conns, cfg->db_timeout_ms, cfg->statement_timeout_ms);
    if (w->route == NULL) {
        free(w);
        return NULL;
    }
    w->db = db_route_primary(w->route);
    hw->app = w; /* modules may look their worker up through a request from here on */
    for (size_t i = 0; i < app.nmodules; ++i)
        w->state[i] = app.modules[i]->worker.start != NULL ? app.modules[i]->worker.start(w) : NULL;
    h2o_multithread_register_receiver(hw->ctx.queue, &w->_notify_receiver, on_notify_messages);
    h2o_timeout_init(hw->loop, &w->_tick_timeout, 1000);
    w->_tick_entry.cb = on_tick;
    h2o_timeout_link(hw->loop, &w->_tick_timeout, &w->_tick_entry);
    __atomic_store_n(&app.workers[hw->id], w, __ATOMIC_RELEASE);
    return w;
}

/* The app_worker itself stays allocated (the listener thread may still address its receiver until app_run ends). */
static void worker_stop(http_worker_t *hw)
{
    app_worker_t *w = hw->app;

    if (h2o_timeout_is_linked(&w->_tick_entry))
        h2o_timeout_unlink(&w->_tick_entry);
    for (size_t i = app.nmodules; i-- > 0;) {
        if (app.modules[i]->worker.stop != NULL)
            app.modules[i]->worker.stop(w, w->state[i]);
    }
    db_route_destroy(w->route);
    w->route = NULL;
    w->db = NULL;
    for (size_t i = app.nmodules; i-- > 0;) {
        if (app.modules[i]->worker.dispose != NULL)
            app.modules[i]->worker.dispose(w, w->state[i]);
        w->state[i] = NULL;
    }
}

/* --- the process --------------------------------------------------------------------------------------------------- */

/* Takes the modules in order, gives each its slot, collects the NOTIFY channels and starts them. Returns how many
 * started (all of them, or fewer after logging why one could not). */
static size_t start_modules(const app_module_t *const *modules, size_t nmodules, int *failed)
{
    char err[512];
    size_t n = 0, nch = 0;

    *failed = 0;
    if (NCORE + nmodules > APP_MAX_MODULES) {
        log_error("at most %d modules", APP_MAX_MODULES);
        *failed = 1;
        return 0;
    }
    for (size_t i = 0; i < NCORE + nmodules; ++i) {
        const app_module_t *mod = i < NCORE ? core_modules[i] : modules[i - NCORE];
        app.modules[i] = mod;
        if (mod->slot != NULL)
            *mod->slot = i;
        if (mod->notify.channel != NULL)
            app.channels[nch++] = mod->notify.channel;
    }
    app.nmodules = NCORE + nmodules;
    for (; n < app.nmodules; ++n) {
        if (app.modules[n]->process.start != NULL && app.modules[n]->process.start(app.cfg, err, sizeof(err)) != 0) {
            log_error("%s", err);
            *failed = 1;
            break;
        }
    }
    return n;
}

static void stop_modules(size_t started)
{
    while (started-- > 0) {
        if (app.modules[started]->process.stop != NULL)
            app.modules[started]->process.stop();
    }
}

/* Logs where reads go; -1 when KLIMA_DB_READ_URLS holds too many replicas. */
static int check_replicas(const config_t *cfg)
{
    char *urls[DB_ROUTE_MAX_REPLICAS];
    int n = db_route_split_urls(cfg->db_read_urls, urls, DB_ROUTE_MAX_REPLICAS);

    if (n < 0) {
        log_error("KLIMA_DB_READ_URLS: at most %d comma-separated connection strings", DB_ROUTE_MAX_REPLICAS);
        return -1;
    }
    if (n > 0)
        log_info("reads that tolerate replication lag go to %d replica(s); writes and fresh reads to the primary", n);
    while (n > 0)
        free(urls[--n]);
    return 0;
}

int app_run(const config_t *cfg, const app_module_t *const *modules, size_t nmodules)
{
    const app_route_t *entries[256];
    http_route_t *table = NULL;
    http_server_hooks_t hooks = {worker_start, worker_stop, NULL, geo_client_country, app_gate_options};
    size_t started = 0, nroutes;
    int failed, ret = -1;

    app.cfg = cfg;
    if (check_replicas(cfg) != 0)
        return -1;
    if ((app.metrics = metrics_create(cfg->threads)) == NULL)
        log_warn("out of memory for the metrics registry: /metrics answers 500");
    started = start_modules(modules, nmodules, &failed);
    if (failed)
        goto exit;
    if ((nroutes = app_routes(modules, nmodules, entries, 256)) > 256 || (table = app_route_table(entries, nroutes)) == NULL) {
        log_error("the route table could not be built");
        goto exit;
    }
    app.nworkers = cfg->threads;
    if ((app.workers = calloc(cfg->threads, sizeof(*app.workers))) == NULL)
        goto exit;
    if (db_listen_start(cfg->db_url, app.channels, on_notify, NULL) != 0)
        log_warn("cannot start the notification listener; cache invalidation will wait for expiry");
    hooks.metrics = app.metrics;
    ret = http_server_run(cfg, table, nroutes, &hooks);
    db_listen_stop();
exit:
    stop_modules(started);
    for (unsigned i = 0; app.workers != NULL && i < app.nworkers; ++i)
        free(app.workers[i]);
    free(app.workers);
    app.workers = NULL;
    free(table);
    metrics_destroy(app.metrics);
    app.metrics = NULL;
    return ret;
}
