/*
 * opendata/records — GET /v1/datasets/{id}/records: filtered, grouped, aggregated, keyset-paged rows of a published dataset
 * as JSON, CSV, NDJSON or GeoJSON. The query language is opendata/query.h.
 */
#ifndef KLIMA_OPENDATA_RECORDS_H
#define KLIMA_OPENDATA_RECORDS_H

#include "app/catalog.h"
#include "opendata/query.h"
#include "http/router.h"

int opendata_records_get(h2o_req_t *req, const http_match_t *m);

/* Shared with /download: looks up the {id} dataset in cat (NULL: the worker's catalog, acquired for req) and parses the
 * query string into a request-pool opendata_query_t. On any problem it has sent the 4xx/503 itself and returns NULL. */
opendata_query_t *opendata_records_prepare(h2o_req_t *req, const http_match_t *m, app_catalog_t *cat, int for_download);

/* The Content-Type of q's format (shared with /download): CSV with a tab delimiter is text/tab-separated-values. A
 * static string. */
const char *opendata_records_content_type(const opendata_query_t *q);

#endif
