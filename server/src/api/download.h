/*
 * api/download — GET /v1/datasets/{id}/download?format=csv|ndjson (+ the records filters): the whole dataset or a slice,
 * streamed from PostgreSQL COPY with backpressure (the next batch is read only when the client took the last one), so
 * memory stays constant whatever the size. Each worker runs at most KLIMA_DOWNLOADS downloads at once; more get 503
 * with Retry-After.
 */
#ifndef KLIMA_API_DOWNLOAD_H
#define KLIMA_API_DOWNLOAD_H

#include "http/router.h"

int api_download_get(h2o_req_t *req, const http_match_t *m);

#endif
