/*
 * opendata/usage — GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&dataset=ID: a JSON array of {day, dataset, format,
 * country, downloads, queries}, ordered by day, dataset, format, country (api-spec/openapi.yaml), from what app/usage
 * counted. to defaults to today (UTC), from to 29 days before to; to is at most 366 days after from. Bad input gets a
 * 400 problem naming the parameter.
 */
#ifndef KLIMA_OPENDATA_USAGE_H
#define KLIMA_OPENDATA_USAGE_H

#include "http/router.h"

int opendata_usage_get(h2o_req_t *req, const http_match_t *m);

#endif
