/*
 * opendata/datasets — GET /v1/datasets (the catalog) and GET /v1/datasets/{id} (metadata + Frictionless Table Schema).
 * Both are rendered from the worker's catalog (app/catalog.h) without a database round trip.
 */
#ifndef KLIMA_OPENDATA_DATASETS_H
#define KLIMA_OPENDATA_DATASETS_H

#include <jansson.h>

#include "app/catalog.h"
#include "http/router.h"

int opendata_datasets_list(h2o_req_t *req, const http_match_t *m);
int opendata_datasets_get(h2o_req_t *req, const http_match_t *m);

/* The dataset named by the {id} of the route m matched, in cat; or NULL after answering 404 (a problem pointing to
 * GET /v1/datasets). */
app_dataset_t *opendata_dataset_or_reply(h2o_req_t *req, const http_match_t *m, app_catalog_t *cat);

/* The Frictionless format of a Copenhagen wall-clock datetime column (catalog format 'local'): a strptime pattern, as
 * Table Schema v1 allows for datetime; the values have no offset. */
#define OPENDATA_LOCAL_DATETIME_PATTERN "%Y-%m-%dT%H:%M:%S"

/* The Frictionless Table Schema of ds (fields with type, format, unit, descriptions in lang, constraints, and the
 * records API's capabilities under x-klimaspejl; primaryKey; missingValues). Returns a new reference the caller owns;
 * shared by GET /v1/datasets/{id} and the Data Package. */
json_t *opendata_datasets_table_schema(const app_dataset_t *ds, const char *lang);

#endif
