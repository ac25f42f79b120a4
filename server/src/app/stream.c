/*
 * app/stream — COPY streaming to the client within the worker's download slots.
 *
 * A download is in one of three places: waiting for a slot (the worker's queue), running (it holds a slot and its own
 * PostgreSQL connection), or done. Two rules keep slow or hostile clients from holding the slots:
 *   - a running download whose client takes no data for KLIMA_DOWNLOAD_STALL_MS loses its slot: the COPY is cancelled
 *     and the response cut off (HTTP/2: RST_STREAM; HTTP/1.1: the connection is shut down), http/conn.c;
 *   - one client (the app of a verified token, else the client address of geo/client.c) holds at most half of the
 *     worker's slots and half of its queue places; what is over gets 503 + Retry-After at once.
 * The queue is first come, first served among the clients under their share.
 */
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/stream.h"
#include "app/usage.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/strutil.h"
#include "db/copy.h"
#include "geo/client.h"
#include "http/conn.h"
#include "http/problem.h"
#include "http/respond.h"

#define STREAM_BUSY_RETRY_S "5" /* a download slot frees when a download ends: seconds, not the database's pace */

/* A worker's download slots (KLIMA_DOWNLOADS at once; each holds its own PostgreSQL connection) and its queue. */
typedef struct stream_worker {
    app_worker_t *aw;
    unsigned active, queued;
    h2o_linklist_t running, waiting; /* download_t.link; waiting oldest first */
    h2o_timeout_t stall_timeout;     /* KLIMA_DOWNLOAD_STALL_MS (when not 0) */
    h2o_timeout_t queue_timeout;     /* KLIMA_DOWNLOAD_QUEUE_MS */
    uint64_t stalled;                /* downloads that lost their slot to a stall */
} stream_worker_t;

static struct {
    metrics_t *metrics;
    int m_active;  /* klimaspejl_downloads_active */
    int m_queued;  /* klimaspejl_downloads_queued */
    int m_stalled; /* klimaspejl_downloads_stalled_total */
} stream;

static size_t stream_slot;

typedef enum download_place { DOWNLOAD_NEW, DOWNLOAD_WAITING, DOWNLOAD_RUNNING, DOWNLOAD_DONE } download_place_t;

typedef struct download {
    h2o_generator_t super;
    h2o_req_t *req;            /* NULL once the request is gone */
    stream_worker_t *sw;       /* the worker's slots and queue */
    download_place_t place;    /* which list link is on (WAITING, RUNNING) */
    h2o_linklist_t link;       /* in sw->waiting or sw->running */
    h2o_timeout_entry_t timer; /* waiting: the queue deadline; running: armed while the client holds a batch */
    uint64_t client;           /* whose share this download counts against */
    db_copy_t *copy;           /* NULL once finished or cancelled */
    const char *sql;           /* the COPY and its values (in the request's pool) */
    const char **values;
    size_t nvalues;
    app_stream_opts_t o; /* strings in the request's pool */
    int started;         /* response headers sent */
    int bom_pending;
    int finished; /* the COPY ended; the last batch may still be in flight */
    h2o_iovec_t chunk[2];
    app_xlsx_t *xlsx; /* o.xlsx's writer, from the slot to the last chunk */
} download_t;

static const char bom[] = "\xef\xbb\xbf";

static void stream_admit(stream_worker_t *sw);
static void on_xlsx(void *ctx, app_xlsx_event_t ev);

static void timer_stop(download_t *d)
{
    if (h2o_timeout_is_linked(&d->timer))
        h2o_timeout_unlink(&d->timer);
}

/* Leaves the list d is on (a slot or a queue place); a freed slot goes to the next waiter. */
static void download_release_slot(download_t *d)
{
    stream_worker_t *sw = d->sw;
    download_place_t was = d->place;

    if (was != DOWNLOAD_WAITING && was != DOWNLOAD_RUNNING)
        return;
    timer_stop(d);
    h2o_linklist_unlink(&d->link);
    d->place = DOWNLOAD_DONE;
    if (was == DOWNLOAD_WAITING) {
        --sw->queued;
        return;
    }
    --sw->active;
    stream_admit(sw);
}

/* Stops whatever d still runs (its COPY, its spreadsheet writer, its timer) and gives up its slot or queue place. */
static void download_abandon(download_t *d)
{
    if (d->copy != NULL) {
        db_copy_cancel(d->copy);
        d->copy = NULL;
    }
    app_xlsx_cancel(d->xlsx);
    d->xlsx = NULL;
    timer_stop(d); /* a spreadsheet's chunks are timed after its slot is gone */
    download_release_slot(d);
}

/* Bound to the request's pool: runs when the request ends for any reason, so a vanished client cancels its COPY. */
static void download_dispose(void *p)
{
    download_t *d = p;
    d->req = NULL;
    download_abandon(d);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    download_t *d = (download_t *)g;
    timer_stop(d);
    if (d->xlsx != NULL) {
        app_xlsx_next_chunk(d->xlsx);
        return;
    }
    if (d->finished) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    if (d->copy != NULL)
        db_copy_resume(d->copy);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    download_abandon((download_t *)g);
}

static void start_response(download_t *d)
{
    h2o_req_t *req = d->req;
    char disp[200];

    d->started = 1;
    if (d->o.usage_dataset != NULL && !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        app_usage_count(req, d->o.usage_dataset, d->o.usage_kind != NULL ? d->o.usage_kind : "download", d->o.usage_format);
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
    /* an .xlsx is a zip already */
    req->compress_hint = d->o.xlsx != NULL ? H2O_COMPRESS_HINT_DISABLE : H2O_COMPRESS_HINT_ENABLE;
    h2o_start_response(req, &d->super);
}

/* The client held a batch for KLIMA_DOWNLOAD_STALL_MS without taking it: the download loses its slot and its response
 * is cut off, so the client can tell it from a complete one. */
static void on_stall(h2o_timeout_entry_t *te)
{
    download_t *d = H2O_STRUCT_FROM_MEMBER(download_t, timer, te);
    stream_worker_t *sw = d->sw;
    h2o_req_t *req = d->req;

    ++sw->stalled;
    log_info("download of %s: the client took no data for %u ms; its slot goes to the next download", d->o.log_label,
             sw->aw->cfg->download_stall_ms);
    download_abandon(d);
    http_conn_abort(req); /* may dispose the request, and d with it */
}

static void on_copy_data(void *ctx, const char *data, size_t len)
{
    download_t *d = ctx;
    size_t n = 0;
    if (d->req == NULL)
        return;
    if (d->xlsx != NULL) {
        app_xlsx_feed(d->xlsx, data, len); /* copied: the COPY resumes on APP_XLSX_FED */
        return;
    }
    if (!d->started)
        start_response(d);
    if (d->bom_pending) {
        d->chunk[n++] = h2o_iovec_init(bom, 3);
        d->bom_pending = 0;
    }
    d->chunk[n++] = h2o_iovec_init(data, len);
    /* armed before the send: until on_proceed, the client holds the batch */
    if (d->sw->aw->cfg->download_stall_ms != 0 && d->place == DOWNLOAD_RUNNING)
        h2o_timeout_link(d->sw->aw->http->loop, &d->sw->stall_timeout, &d->timer);
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
    if (status == DB_OK && d->xlsx != NULL) {
        app_xlsx_finish(d->xlsx); /* the slot is held until the workbook is complete */
        return;
    }
    if (status == DB_OK) {
        download_release_slot(d);
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
        return;
    }
    download_release_slot(d);
    app_xlsx_cancel(d->xlsx);
    d->xlsx = NULL;
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

/* The spreadsheet writer took a batch, completed the workbook, read a chunk of it, or failed. */
static void on_xlsx(void *ctx, app_xlsx_event_t ev)
{
    download_t *d = ctx;
    h2o_iovec_t chunk;

    switch (ev) {
    case APP_XLSX_FED:
        if (d->copy != NULL)
            db_copy_resume(d->copy);
        return;
    case APP_XLSX_READY:
        download_release_slot(d);
        if (d->o.xlsx_ready != NULL)
            d->o.xlsx_ready(d->req, d->o.xlsx_ctx, d->xlsx);
        start_response(d);
        app_xlsx_next_chunk(d->xlsx);
        return;
    case APP_XLSX_CHUNK:
        chunk = app_xlsx_chunk(d->xlsx);
        if (chunk.len == 0) {
            app_xlsx_cancel(d->xlsx);
            d->xlsx = NULL;
            h2o_send(d->req, NULL, 0, H2O_SEND_STATE_FINAL);
            return;
        }
        d->chunk[0] = chunk;
        if (d->sw->aw->cfg->download_stall_ms != 0)
            h2o_timeout_link(d->sw->aw->http->loop, &d->sw->stall_timeout, &d->timer);
        h2o_send(d->req, d->chunk, 1, H2O_SEND_STATE_IN_PROGRESS);
        return;
    default:
        log_warn("download of %s: the spreadsheet failed: %s", d->o.log_label, app_xlsx_error(d->xlsx));
        download_abandon(d);
        if (d->started)
            h2o_send(d->req, NULL, 0, H2O_SEND_STATE_ERROR);
        else
            http_problem_send(d->req, HTTP_PROBLEM_INTERNAL, "The spreadsheet could not be written.", NULL);
        return;
    }
}

static const db_copy_callbacks_t copy_callbacks = {on_copy_data, on_copy_end};

static const char *pool_str(h2o_req_t *req, const char *s)
{
    return s != NULL ? h2o_strdup(&req->pool, s, SIZE_MAX).base : NULL;
}

/* How many downloads of client are on list. */
static unsigned count_client(h2o_linklist_t *list, uint64_t client)
{
    unsigned n = 0;
    for (h2o_linklist_t *node = list->next; node != list; node = node->next) {
        if (H2O_STRUCT_FROM_MEMBER(download_t, link, node)->client == client)
            ++n;
    }
    return n;
}

/* Half of n, at least one: one client's share of the slots and of the queue. */
static unsigned share_of(unsigned n)
{
    return n / 2 > 0 ? n / 2 : 1;
}

/* Takes a slot for d and starts its COPY (a replica's connection when one is healthy, unless asked for the primary: a
 * download is a read that tolerates replication lag). A COPY that fails at once ends d through on_copy_end. */
static void download_run(download_t *d)
{
    stream_worker_t *sw = d->sw;
    app_worker_t *w = sw->aw;

    ++sw->active;
    d->place = DOWNLOAD_RUNNING;
    d->timer.cb = on_stall;
    h2o_linklist_insert(&sw->running, &d->link);
    if (d->o.xlsx != NULL && (d->xlsx = app_xlsx_start(w->http->loop, d->o.xlsx, on_xlsx, d)) == NULL) {
        download_release_slot(d);
        h2o_add_header(&d->req->pool, &d->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT(STREAM_BUSY_RETRY_S));
        http_problem_send(d->req, HTTP_PROBLEM_BUSY, "No spreadsheet writer could be started now (see the server log).", NULL);
        return;
    }
    d->copy = db_copy_start(w->http->loop, d->o.primary ? db_route_primary_conninfo(w->route) : db_route_read_conninfo(w->route),
                            d->o.timeout_ms != 0 ? d->o.timeout_ms : w->cfg->download_timeout_ms, d->sql, d->values, d->nvalues,
                            &copy_callbacks, d);
}

/* Gives free slots to the oldest waiters whose client is under its share. */
static void stream_admit(stream_worker_t *sw)
{
    unsigned share = share_of(sw->aw->cfg->downloads);

    while (sw->active < sw->aw->cfg->downloads) {
        download_t *next = NULL;
        for (h2o_linklist_t *node = sw->waiting.next; node != &sw->waiting; node = node->next) {
            download_t *d = H2O_STRUCT_FROM_MEMBER(download_t, link, node);
            if (count_client(&sw->running, d->client) < share) {
                next = d;
                break;
            }
        }
        if (next == NULL)
            return;
        timer_stop(next);
        h2o_linklist_unlink(&next->link);
        --sw->queued;
        download_run(next);
    }
}

static void busy_reply(h2o_req_t *req, const config_t *cfg, int over_share)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT(STREAM_BUSY_RETRY_S));
    if (over_share)
        http_problem_sendf(req, HTTP_PROBLEM_BUSY, NULL,
                           "This client already holds its share of the download slots of this server thread (half of %u, "
                           "and half of its queue); try again when one of its downloads has ended.",
                           cfg->downloads);
    else
        http_problem_sendf(req, HTTP_PROBLEM_BUSY, NULL,
                           "All %u download slots of this server thread are busy and its queue is full; try again in a few "
                           "seconds.",
                           cfg->downloads);
}

/* The queue deadline passed before a slot came free. */
static void on_queue_timeout(h2o_timeout_entry_t *te)
{
    download_t *d = H2O_STRUCT_FROM_MEMBER(download_t, timer, te);
    h2o_req_t *req = d->req;

    download_release_slot(d);
    busy_reply(req, d->sw->aw->cfg, 0);
}

/* The app of a verified token when there is one (apps behind one address stay apart), else the client address. */
static uint64_t client_of(h2o_req_t *req)
{
    char app[65];
    geo_addr_t addr;

    if (app_auth_cached_client(req, app))
        return hash_bytes(app, strlen(app), HASH_SEED) | 1; /* odd: never equal to an address key's 0 */
    return geo_client_of(req, &addr) == 0 ? geo_client_key(&addr) & ~(uint64_t)1 : 0;
}

void app_stream_copy(h2o_req_t *req, const char *copy_sql, const char *const *values, size_t nvalues, const app_stream_opts_t *o)
{
    app_worker_t *w = app_worker_of(req);
    stream_worker_t *sw = app_worker_state(w, stream_slot);
    download_t *d = h2o_mem_alloc_shared(&req->pool, sizeof(*d), download_dispose);
    const config_t *cfg = w->cfg;

    memset(d, 0, sizeof(*d));
    d->super.proceed = on_proceed;
    d->super.stop = on_stop;
    d->req = req;
    d->sw = sw;
    d->o = *o;
    d->o.content_type = pool_str(req, o->content_type);
    d->o.filename = pool_str(req, o->filename);
    d->o.cache_control = pool_str(req, o->cache_control);
    d->o.etag = pool_str(req, o->etag);
    d->o.version = pool_str(req, o->version);
    d->o.log_label = pool_str(req, o->log_label);
    d->o.usage_dataset = pool_str(req, o->usage_dataset);
    d->o.usage_kind = pool_str(req, o->usage_kind);
    d->bom_pending = o->bom;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        /* the headers a GET would carry, without running the COPY */
        start_response(d);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    if (sw == NULL) {
        busy_reply(req, cfg, 0);
        return;
    }
    d->client = client_of(req);
    d->sql = pool_str(req, copy_sql);
    d->values = h2o_mem_alloc_pool(&req->pool, (nvalues > 0 ? nvalues : 1) * sizeof(*d->values));
    for (size_t i = 0; i < nvalues; ++i)
        d->values[i] = pool_str(req, values[i]);
    d->nvalues = nvalues;
    if (sw->active < cfg->downloads && h2o_linklist_is_empty(&sw->waiting) &&
        count_client(&sw->running, d->client) < share_of(cfg->downloads)) {
        download_run(d);
        return;
    }
    if (count_client(&sw->waiting, d->client) >= share_of(cfg->download_queue)) {
        busy_reply(req, cfg, 1);
        return;
    }
    if (sw->queued >= cfg->download_queue || cfg->download_queue_ms == 0) {
        busy_reply(req, cfg, 0);
        return;
    }
    ++sw->queued;
    d->place = DOWNLOAD_WAITING;
    h2o_linklist_insert(&sw->waiting, &d->link);
    d->timer.cb = on_queue_timeout;
    h2o_timeout_link(w->http->loop, &sw->queue_timeout, &d->timer);
    stream_admit(sw); /* a slot may be free for this client while older waiters are over their share */
}

/* --- the module ---------------------------------------------------------------------------------------------------- */

static int stream_start(const config_t *cfg, char *err, size_t errlen)
{
    metrics_family_t families[] = {
        {.name = "klimaspejl_downloads_active", .help = "Dataset downloads streaming now.", .type = METRICS_GAUGE},
        {.name = "klimaspejl_downloads_queued",
         .help = "Downloads waiting for a slot (KLIMA_DOWNLOAD_QUEUE per worker, up to KLIMA_DOWNLOAD_QUEUE_MS).",
         .type = METRICS_GAUGE},
        {.name = "klimaspejl_downloads_stalled_total",
         .help = "Downloads that lost their slot because the client took no data for KLIMA_DOWNLOAD_STALL_MS.",
         .type = METRICS_COUNTER,
         .show_zero = 1},
    };
    int *ids[] = {&stream.m_active, &stream.m_queued, &stream.m_stalled};

    if ((stream.metrics = app_metrics()) == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); ++i) {
        if ((*ids[i] = metrics_register(stream.metrics, &families[i])) < 0) {
            stream.metrics = NULL;
            return 0;
        }
    }
    return 0;
}

static void *stream_worker_start(app_worker_t *w)
{
    stream_worker_t *sw = calloc(1, sizeof(*sw));
    if (sw != NULL) {
        sw->aw = w;
        h2o_linklist_init_anchor(&sw->running);
        h2o_linklist_init_anchor(&sw->waiting);
        h2o_timeout_init(w->http->loop, &sw->stall_timeout, w->cfg->download_stall_ms);
        h2o_timeout_init(w->http->loop, &sw->queue_timeout, w->cfg->download_queue_ms);
    }
    return app_worker_state_or_warn(w, sw, "the download slots; downloads answer 503 on this thread");
}

static void stream_worker_dispose(app_worker_t *w, void *state)
{
    stream_worker_t *sw = state;
    if (sw == NULL)
        return;
    /* downloads still there after the shutdown deadline: their timers and places go first (their requests are never
     * disposed now; a later dispose finds them done) */
    for (h2o_linklist_t *lists[] = {&sw->running, &sw->waiting}, **l = lists; l < lists + 2; ++l) {
        while (!h2o_linklist_is_empty(*l)) {
            download_t *d = H2O_STRUCT_FROM_MEMBER(download_t, link, (*l)->next);
            timer_stop(d);
            h2o_linklist_unlink(&d->link);
            d->place = DOWNLOAD_DONE;
        }
    }
    h2o_timeout_dispose(w->http->loop, &sw->stall_timeout);
    h2o_timeout_dispose(w->http->loop, &sw->queue_timeout);
    free(sw);
}

static void stream_publish(app_worker_t *w, void *state)
{
    stream_worker_t *s = state;
    if (stream.metrics == NULL || s == NULL)
        return;
    metrics_set(stream.metrics, w->http->id, stream.m_active, 0, s->active);
    metrics_set(stream.metrics, w->http->id, stream.m_queued, 0, s->queued);
    metrics_set(stream.metrics, w->http->id, stream.m_stalled, 0, (int64_t)s->stalled);
}

const app_module_t app_stream_module = {
    .name = "stream",
    .process = {.start = stream_start},
    .worker = {.start = stream_worker_start, .dispose = stream_worker_dispose, .publish = stream_publish},
    .slot = &stream_slot};
