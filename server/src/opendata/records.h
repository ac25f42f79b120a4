/*
 * api/records — GET /v1/datasets/{id}/records: filtered, grouped, aggregated, keyset-paged rows of a published dataset
 * as JSON, CSV, NDJSON or GeoJSON. The query language is api/query.h.
 */
#ifndef KLIMA_API_RECORDS_H
#define KLIMA_API_RECORDS_H

#include "app/catalog.h"
#include "opendata/query.h"
#include "http/router.h"

int api_records_get(h2o_req_t *req, const http_match_t *m);

/* Shared with /download: looks up the {id} dataset and parses the query string into a request-pool api_query_t. On any
 * problem it has sent the 4xx/503 itself and returns NULL. */
api_query_t *api_records_prepare(h2o_req_t *req, const http_match_t *m, int for_download);

#endif
