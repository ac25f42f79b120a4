/*
 * opendata/download — COPY streaming to the client.
 */
#include <string.h>

#include "app/app.h"
#include "opendata/download.h"
#include "opendata/records.h"
#include "app/usage.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "db/copy.h"
#include "http/etag.h"
#include "http/problem.h"
#include "http/respond.h"

typedef struct download {
    h2o_generator_t super;
    h2o_req_t *req;     /* NULL once the request is gone */
    app_worker_t *aw;
    db_copy_t *copy;    /* NULL once finished or cancelled */
    opendata_stream_opts_t o; /* strings in the request's pool */
    int started;        /* response headers sent */
    int bom_pending;
    int finished;       /* the COPY ended; the last batch may still be in flight */
    char etag[64];
    h2o_iovec_t chunk[2];
} download_t;

static const char bom[] = "\xef\xbb\xbf";

static void download_release_slot(download_t *d)
{
    if (d->aw != NULL) {
        --d->aw->downloads_active;
        d->aw = NULL;
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
    if (d->o.public_cors)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
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
    if (status == DB_QUERY_ERROR && sqlstate != NULL && strcmp(sqlstate, "57014") == 0) {
        http_problem_send(req, HTTP_PROBLEM_QUERY_TOO_LARGE, "The download ran longer than the server allows; narrow it with filters.",
                          NULL);
    } else if (status == DB_QUERY_ERROR) {
        log_error("download of %s failed: %s", d->o.log_label, message != NULL ? message : "");
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The database rejected the download query; the error has been logged.", NULL);
    } else {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("5"));
        http_problem_send(req, HTTP_PROBLEM_DB_UNAVAILABLE, "The database is not reachable right now; try again shortly.", NULL);
    }
}

static const db_copy_callbacks_t copy_callbacks = {on_copy_data, on_copy_end};

static const char *pool_str(h2o_req_t *req, const char *s)
{
    return s != NULL ? h2o_strdup(&req->pool, s, SIZE_MAX).base : NULL;
}

void opendata_stream_copy(h2o_req_t *req, const char *copy_sql, const char *const *values, size_t nvalues, const opendata_stream_opts_t *o)
{
    app_worker_t *aw = app_worker_of(req);
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
    if (aw->downloads_active >= aw->downloads_max) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("5"));
        http_problem_sendf(req, HTTP_PROBLEM_BUSY, NULL,
                           "All %u download slots of this server thread are busy; try again in a few seconds.", aw->downloads_max);
        return;
    }
    ++aw->downloads_active;
    d->aw = aw;
    /* a replica when one is healthy: a download is a read that tolerates replication lag */
    d->copy = db_copy_start(aw->http->loop, db_route_read_conninfo(aw->route), aw->download_timeout_ms, copy_sql, values, nvalues,
                            &copy_callbacks, d);
}

int opendata_download_get(h2o_req_t *req, const http_match_t *m)
{
    opendata_query_t *q;
    sbuf_t sql = SBUF_INIT, copy = SBUF_INIT;
    const char *values[QUERY_MAX_PARAMS + 4];
    size_t nvalues = 0;
    char *etag = h2o_mem_alloc_pool(&req->pool, HTTP_ETAG_MAX), filename[128], cc[48], version[24];
    opendata_stream_opts_t o = {0};

    /* downloads default to CSV; /records defaults to JSON */
    if ((q = opendata_records_prepare(req, m, 1)) == NULL)
        return 0;
    if (q->format == FORMAT_JSON && (req->query_at == SIZE_MAX || memmem(req->path.base + req->query_at, req->path.len - req->query_at,
                                                                           "format=json", 11) == NULL))
        q->format = FORMAT_CSV;
    if (q->format != FORMAT_CSV && q->format != FORMAT_NDJSON) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'format' must be csv or ndjson for downloads.", "format");
        return 0;
    }
    http_etag_make(etag, q->ds->version, hash_bytes(req->path.base, req->path.len, HASH_SEED));
    if (http_not_modified(req, h2o_iovec_init(etag, strlen(etag))))
        return 0;
    opendata_query_sql(q, q->format == FORMAT_CSV ? 1 : 2, &sql, values, &nvalues);
    if (q->format == FORMAT_CSV)
        sbuf_printf(&copy, "COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER E'%s')", sql.data,
                    q->delimiter == '\t' ? "\\t" : (q->delimiter == ';' ? ";" : ","));
    else
        /* CSV framing with quote and delimiter bytes that JSON text never holds unescaped: each line is the JSON as is */
        sbuf_printf(&copy, "COPY (SELECT row_to_json(t) FROM (%s) t) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
                    sql.data);
    if (sbuf_failed(&sql) || sbuf_failed(&copy)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The query could not be assembled (out of memory).", NULL);
        goto exit;
    }
    str_fmt(filename, sizeof(filename), "%s-v%llu.%s", q->ds->id, (unsigned long long)q->ds->version,
            q->format == FORMAT_CSV ? "csv" : "ndjson");
    str_fmt(cc, sizeof(cc), "public, max-age=%u", q->ds->max_age);
    str_fmt(version, sizeof(version), "%llu", (unsigned long long)q->ds->version);
    o.content_type = q->format == FORMAT_CSV ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson";
    o.filename = filename;
    o.cache_control = cc;
    o.etag = etag;
    o.version = version;
    o.log_label = q->ds->id;
    o.usage_dataset = q->ds->id;
    o.usage_format = app_usage_format_name(q->format);
    o.bom = q->format == FORMAT_CSV && q->bom;
    o.public_cors = 1;
    opendata_stream_copy(req, copy.data, values, nvalues, &o);
exit:
    sbuf_free(&sql);
    sbuf_free(&copy);
    return 0;
}
