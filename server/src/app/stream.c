/*
 * app/stream — COPY streaming to the client within the worker's download slots.
 */
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "app/stream.h"
#include "app/usage.h"
#include "core/log.h"
#include "core/strutil.h"
#include "db/copy.h"
#include "http/problem.h"
#include "http/respond.h"

#define STREAM_BUSY_RETRY_S "5" /* a download slot frees when a download ends: seconds, not the database's pace */

/* A worker's download slots (KLIMA_DOWNLOADS at once; each holds its own PostgreSQL connection). */
typedef struct stream_worker {
    unsigned active;
} stream_worker_t;

static struct {
    metrics_t *metrics;
    int m_active; /* klimaspejl_downloads_active */
} stream;

static size_t stream_slot;

typedef struct download {
    h2o_generator_t super;
    h2o_req_t *req;         /* NULL once the request is gone */
    stream_worker_t *slots; /* the worker's slots while this download holds one, else NULL */
    db_copy_t *copy;        /* NULL once finished or cancelled */
    app_stream_opts_t o;    /* strings in the request's pool */
    int started;            /* response headers sent */
    int bom_pending;
    int finished; /* the COPY ended; the last batch may still be in flight */
    h2o_iovec_t chunk[2];
} download_t;

static const char bom[] = "\xef\xbb\xbf";

static void download_release_slot(download_t *d)
{
    if (d->slots != NULL) {
        --d->slots->active;
        d->slots = NULL;
    }
}

/* Bound to the request's pool: runs when the request ends for any reason, so a vanished client cancels its COPY. */
static void download_dispose(void *p)
{
    download_t *d = p;
    d->req = NULL;
    if (d->copy != NULL) {
        db_copy_cancel(d->copy);
        d->copy = NULL;
    }
    download_release_slot(d);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    download_t *d = (download_t *)g;
    if (d->finished) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    if (d->copy != NULL)
        db_copy_resume(d->copy);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    download_t *d = (download_t *)g;
    if (d->copy != NULL) {
        db_copy_cancel(d->copy);
        d->copy = NULL;
    }
    download_release_slot(d);
}

static void start_response(download_t *d)
{
    h2o_req_t *req = d->req;
    char disp[200];

    d->started = 1;
    if (d->o.usage_dataset != NULL && !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        app_usage_count(req, d->o.usage_dataset, "download", d->o.usage_format);
    req->res.status = 200;
    req->res.reason = "OK";
    http_add_header(req, "content-type", d->o.content_type);
    str_fmt(disp, sizeof(disp), "attachment; filename=\"%s\"", d->o.filename);
    http_add_header(req, "content-disposition", disp);
    if (d->o.etag != NULL)
        http_add_header(req, "etag", d->o.etag);
    http_add_header(req, "cache-control", d->o.cache_control);
    if (d->o.version != NULL)
        http_add_header(req, "x-dataset-version", d->o.version);
    req->compress_hint = H2O_COMPRESS_HINT_ENABLE;
    h2o_start_response(req, &d->super);
}

static void on_copy_data(void *ctx, const char *data, size_t len)
{
    download_t *d = ctx;
    size_t n = 0;
    if (d->req == NULL)
        return;
    if (!d->started)
        start_response(d);
    if (d->bom_pending) {
        d->chunk[n++] = h2o_iovec_init(bom, 3);
        d->bom_pending = 0;
    }
    d->chunk[n++] = h2o_iovec_init(data, len);
    h2o_send(d->req, d->chunk, n, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_copy_end(void *ctx, db_status_t status, const char *message, const char *sqlstate)
{
    download_t *d = ctx;
    h2o_req_t *req = d->req;

    d->copy = NULL; /* freed by db/copy after this returns */
    d->finished = 1;
    if (req == NULL)
        return;
    if (status == DB_OK) {
        if (!d->started) {
            start_response(d);
            if (d->bom_pending) {
                d->chunk[0] = h2o_iovec_init(bom, 3);
                h2o_send(req, d->chunk, 1, H2O_SEND_STATE_FINAL);
                return;
            }
        }
        /* the last batch was taken (on_proceed asked for more): end the stream */
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        download_release_slot(d);
        return;
    }
    download_release_slot(d);
    if (d->started) {
        /* headers are out: the only honest signal left is to abort the stream (no partial data passes as complete) */
        log_warn("download of %s aborted: %s", d->o.log_label, message != NULL ? message : "database error");
        h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    if (status == DB_QUERY_ERROR)
        log_warn("download of %s failed: %s %s", d->o.log_label, sqlstate != NULL ? sqlstate : "-", message != NULL ? message : "");
    app_db_fail(req, APP_DB_SHAPED, status, sqlstate, message, NULL);
}

static const db_copy_callbacks_t copy_callbacks = {on_copy_data, on_copy_end};

static const char *pool_str(h2o_req_t *req, const char *s)
{
    return s != NULL ? h2o_strdup(&req->pool, s, SIZE_MAX).base : NULL;
}

void app_stream_copy(h2o_req_t *req, const char *copy_sql, const char *const *values, size_t nvalues, const app_stream_opts_t *o)
{
    app_worker_t *w = app_worker_of(req);
    stream_worker_t *slots = app_worker_state(w, stream_slot);
    download_t *d = h2o_mem_alloc_shared(&req->pool, sizeof(*d), download_dispose);

    memset(d, 0, sizeof(*d));
    d->super.proceed = on_proceed;
    d->super.stop = on_stop;
    d->req = req;
    d->o = *o;
    d->o.content_type = pool_str(req, o->content_type);
    d->o.filename = pool_str(req, o->filename);
    d->o.cache_control = pool_str(req, o->cache_control);
    d->o.etag = pool_str(req, o->etag);
    d->o.version = pool_str(req, o->version);
    d->o.log_label = pool_str(req, o->log_label);
    d->o.usage_dataset = pool_str(req, o->usage_dataset);
    d->bom_pending = o->bom;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        /* the headers a GET would carry, without running the COPY */
        start_response(d);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    if (slots == NULL || slots->active >= w->cfg->downloads) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT(STREAM_BUSY_RETRY_S));
        http_problem_sendf(req, HTTP_PROBLEM_BUSY, NULL,
                           "All %u download slots of this server thread are busy; try again in a few seconds.", w->cfg->downloads);
        return;
    }
    ++slots->active;
    d->slots = slots;
    /* a replica when one is healthy, unless asked for the primary: a download is a read that tolerates replication lag */
    d->copy = db_copy_start(w->http->loop, o->primary ? db_route_primary_conninfo(w->route) : db_route_read_conninfo(w->route),
                            w->cfg->download_timeout_ms, copy_sql, values, nvalues, &copy_callbacks, d);
}

/* --- the module ---------------------------------------------------------------------------------------------------- */

static int stream_start(const config_t *cfg, char *err, size_t errlen)
{
    metrics_family_t active = {
        .name = "klimaspejl_downloads_active", .help = "Dataset downloads streaming now.", .type = METRICS_GAUGE};
    if ((stream.metrics = app_metrics()) != NULL && (stream.m_active = metrics_register(stream.metrics, &active)) < 0)
        stream.metrics = NULL;
    return 0;
}

static void *stream_worker_start(app_worker_t *w)
{
    return app_worker_state_or_warn(w, calloc(1, sizeof(stream_worker_t)),
                                    "the download slots; downloads answer 503 on this thread");
}

static void stream_worker_dispose(app_worker_t *w, void *state)
{
    free(state);
}

static void stream_publish(app_worker_t *w, void *state)
{
    stream_worker_t *s = state;
    if (stream.metrics != NULL && s != NULL)
        metrics_set(stream.metrics, w->http->id, stream.m_active, 0, s->active);
}

const app_module_t app_stream_module = {
    .name = "stream",
    .process = {.start = stream_start},
    .worker = {.start = stream_worker_start, .dispose = stream_worker_dispose, .publish = stream_publish},
    .slot = &stream_slot};
