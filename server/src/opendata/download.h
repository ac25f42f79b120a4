/*
 * opendata/download — GET /v1/datasets/{id}/download?format=csv|ndjson (+ the records filters): the whole dataset or a slice,
 * streamed from PostgreSQL COPY with backpressure (the next batch is read only when the client took the last one), so
 * memory stays constant whatever the size. Each worker runs at most KLIMA_DOWNLOADS downloads at once; more get 503
 * with Retry-After.
 */
#ifndef KLIMA_OPENDATA_DOWNLOAD_H
#define KLIMA_OPENDATA_DOWNLOAD_H

#include "http/router.h"

int opendata_download_get(h2o_req_t *req, const http_match_t *m);

/* What a streamed COPY response says about itself. Strings are copied. */
typedef struct opendata_stream_opts {
    const char *content_type;
    const char *filename;      /* Content-Disposition: attachment; filename="..." */
    const char *cache_control;
    const char *etag;          /* or NULL */
    const char *version;       /* X-Dataset-Version, or NULL */
    const char *log_label;     /* names the stream in log lines (never a household id) */
    const char *usage_dataset; /* counted in /v1/usage as a download of this dataset, or NULL */
    const char *usage_format;  /* a static string, with usage_dataset */
    int bom;                   /* start with a UTF-8 byte-order mark */
    int public_cors;           /* Access-Control-Allow-Origin: * */
} opendata_stream_opts_t;

/* Streams `copy_sql` (a COPY ... TO STDOUT with $n placeholders for values) to the client with backpressure, on its
 * own connection, within the worker's download slots (503 busy beyond them). HEAD gets the headers only. Sends every
 * answer itself, including errors before the first byte as problem+json. */
void opendata_stream_copy(h2o_req_t *req, const char *copy_sql, const char *const *values, size_t nvalues, const opendata_stream_opts_t *o);

#endif
