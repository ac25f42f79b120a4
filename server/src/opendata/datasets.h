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

/* The language of titles and descriptions for req: ?lang=da|en, else Accept-Language (Danish when it starts with da or
 * nb), else English. Returns the static string "da" or "en". */
const char *opendata_datasets_lang(h2o_req_t *req);

/* The Frictionless Table Schema of ds (fields with type, format, unit, descriptions in lang, constraints, and the
 * records API's capabilities under x-klimaspejl; primaryKey; missingValues). Returns a new reference the caller owns;
 * shared by GET /v1/datasets/{id} and the Data Package. */
json_t *opendata_datasets_table_schema(const app_dataset_t *ds, const char *lang);

#endif
