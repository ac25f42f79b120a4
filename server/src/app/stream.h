/*
 * app/stream — a PostgreSQL COPY ... TO STDOUT streamed to the client with backpressure (the next batch is read only
 * when the client took the last one), so memory stays constant whatever the size; shared by dataset downloads
 * (opendata) and the household export (citizen). Each worker runs at most KLIMA_DOWNLOADS streams at once, each on a
 * connection of its own (COPY cannot run in a pipeline); more wait in a bounded queue, then get 503 busy with
 * Retry-After. One client holds at most half the slots; a client that takes no data for KLIMA_DOWNLOAD_STALL_MS loses
 * its slot (app/stream.c). A stream that fails after
 * its first bytes is aborted (the HTTP/1.1 chunked stream or the HTTP/2 stream is reset), never ended as if complete.
 */
#ifndef KLIMA_APP_STREAM_H
#define KLIMA_APP_STREAM_H

#include <h2o.h>

#include "app/app.h"
#include "app/xlsx.h"

/* What a streamed response says about itself. Strings are copied. */
typedef struct app_stream_opts {
    const char *content_type;
    const char *filename; /* Content-Disposition: attachment; filename="..." */
    const char *cache_control;
    const char *etag;          /* or NULL */
    const char *version;       /* X-Dataset-Version, or NULL */
    const char *log_label;     /* names the stream in log lines (never a household id) */
    const char *usage_dataset; /* counted in /v1/usage as a download of this dataset, or NULL */
    const char *usage_format;  /* a static string, with usage_dataset */
    const char *usage_kind;    /* how /v1/usage counts it: "download" (NULL) or "query" */
    int bom;                   /* start with a UTF-8 byte-order mark */
    int primary;               /* read on the primary, not a replica (a personal export checks a consent made just now) */
    unsigned timeout_ms;       /* the COPY's statement_timeout; 0: KLIMA_DOWNLOAD_TIMEOUT_MS (a whole download's) */
    /* When set, the COPY's rows (CSV, no header) become this spreadsheet (app/xlsx.h), sent once it is complete; the
     * download keeps its slot until then. Must live as long as the request (its pool), as must xlsx_ctx. */
    const app_xlsx_book_t *xlsx;
    /* With xlsx: called when the workbook is complete, just before the response starts (it may add headers). */
    void (*xlsx_ready)(h2o_req_t *req, void *ctx, const app_xlsx_t *x);
    void *xlsx_ctx;
} app_stream_opts_t;

/* The module: each worker's download slots and the gauge klimaspejl_downloads_active. */
extern const app_module_t app_stream_module;

/* Streams copy_sql (a COPY ... TO STDOUT with $n placeholders for values[0..nvalues)), or the spreadsheet of its rows
 * (o->xlsx), to the client on its own
 * connection (a replica's when one is healthy), within the worker's download slots. HEAD gets the headers only. Sends
 * every answer itself, errors before the first byte as problem+json (a statement timeout is 503 database-timeout with Retry-After,
 * as on every route). */
void app_stream_copy(h2o_req_t *req, const char *copy_sql, const char *const *values, size_t nvalues, const app_stream_opts_t *o);

#endif
