/*
 * opendata/download — GET /v1/datasets/{id}/download?format=csv|ndjson (+ the records filters, delimiter, bom): the
 * whole dataset or a slice, streamed from PostgreSQL COPY (app/stream.h) with a strong ETag and Content-Disposition.
 */
#ifndef KLIMA_OPENDATA_DOWNLOAD_H
#define KLIMA_OPENDATA_DOWNLOAD_H

#include "http/router.h"

int opendata_download_get(h2o_req_t *req, const http_match_t *m);

#endif
