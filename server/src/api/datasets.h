/*
 * api/datasets — GET /v1/datasets (the catalog) and GET /v1/datasets/{id} (metadata + Frictionless Table Schema).
 * Both are rendered from the worker's catalog (api/catalog.h) without a database round trip.
 */
#ifndef KLIMA_API_DATASETS_H
#define KLIMA_API_DATASETS_H

#include "http/router.h"

int api_datasets_list(h2o_req_t *req, const http_match_t *m);
int api_datasets_get(h2o_req_t *req, const http_match_t *m);

#endif
