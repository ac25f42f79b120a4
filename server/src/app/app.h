/*
 * app/app — the application's modules and its per-worker state. A module (the h2o habit: one register function per
 * module over one args struct) hands app its routes and what it needs per process and per worker thread: start and
 * stop, a worker's start, stop and dispose, a once-a-second tick, a NOTIFY channel. app runs the modules in order and
 * calls none of them by name: its own parts (the dataset catalog, the gate, bearer authentication, usage counting,
 * download slots, the service routes) are modules like the audiences (opendata, citizen, consent), which cli/serve.c
 * lists. http/server knows app only through the hooks app registers with it.
 */
#ifndef KLIMA_APP_APP_H
#define KLIMA_APP_APP_H

#include <h2o.h>

#include "app/route.h"
#include "core/config.h"
#include "db/pool.h"
#include "db/route.h"
#include "http/metrics.h"
#include "http/server.h"

#define APP_MAX_MODULES 16

typedef struct app_worker app_worker_t;

typedef struct app_module {
    const char *name;
    const app_route_t *routes; /* this module's part of the route table */
    size_t nroutes;
    struct {
        /* Once, in module order, before the workers start: reads its settings and registers its metrics families
         * (app_metrics()). Returns 0, or -1 with a message naming the setting in err (the server does not start). */
        int (*start)(const config_t *cfg, char *err, size_t errlen);
        /* After the workers stopped, in reverse order. */
        void (*stop)(void);
    } process;
    struct {
        /* On each worker thread, in module order, once the worker's database pools exist. Returns the module's state
         * for this worker (app_worker_state), or NULL: the module then runs degraded on this thread and has logged
         * why (app_worker_state_or_warn). */
        void *(*start)(app_worker_t *w);
        /* At shutdown, in reverse order, while the pools still run (a last write may be sent). */
        void (*stop)(app_worker_t *w, void *state);
        /* After the pools were destroyed (their last callbacks have run): releases the state. */
        void (*dispose)(app_worker_t *w, void *state);
        /* Once a second. */
        void (*tick)(app_worker_t *w, void *state);
        /* Copies the worker's gauges and mirrored counters into the metrics: once a second, and before /metrics
         * renders. */
        void (*publish)(app_worker_t *w, void *state);
    } worker;
    struct {
        /* A NOTIFY channel and its handler, run on each worker thread; payload NULL: the listener (re)connected, so
         * notifications may have been missed. */
        const char *channel;
        void (*fn)(app_worker_t *w, void *state, const char *payload);
    } notify;
    /* Where app writes the module's index, for app_worker_state. */
    size_t *slot;
} app_module_t;

/* .routes and .nroutes of a module from its static table of routes. */
#define APP_ROUTES(table) .routes = (table), .nroutes = sizeof(table) / sizeof((table)[0])

struct app_worker {
    http_worker_t *http;
    const config_t *cfg;
    db_route_t *route; /* the primary and the read replicas (KLIMA_DB_READ_URLS) */
    db_pool_t *db;     /* the primary's pool (owned by route): writes and reads that must be fresh */
    void *state[APP_MAX_MODULES];
    /* private */
    h2o_multithread_receiver_t _notify_receiver;
    h2o_timeout_t _tick_timeout;
    h2o_timeout_entry_t _tick_entry;
};

/* The app state of the worker serving req. */
app_worker_t *app_worker_of(h2o_req_t *req);

/* A module's state on worker w (slot: the module's *slot). NULL when its worker_start gave none. */
static inline void *app_worker_state(const app_worker_t *w, size_t slot)
{
    return w->state[slot];
}

/* For worker_start hooks: returns state; when it is NULL (out of memory), first logs "worker N: out of memory for
 * <what>" — what names the state and what the thread does without it. */
void *app_worker_state_or_warn(const app_worker_t *w, void *state, const char *what);

/* The process's metrics registry, for modules to register their families in (start) and count in; NULL when out of
 * memory (then nothing is counted and /metrics answers 500). */
metrics_t *app_metrics(void);

/* Runs every module's publish hook on w (the worker's figures become exact in the registry). */
void app_publish(app_worker_t *w);

/* Starts app's own modules and modules[0..nmodules) (cfg must outlive the call), the notification listener and the
 * HTTP server, and serves until SIGINT/SIGTERM; then stops everything. Returns 0, or -1 when something could not start
 * (logged). */
int app_run(const config_t *cfg, const app_module_t *const *modules, size_t nmodules);

#endif
