/*
 * opendata/factors — GET /v1/emission-factors: every emission factor behind the CO2e figures, with unit, validity, method,
 * source and whether it is an assumption; category labels in Danish or English (?lang, Accept-Language).
 */
#ifndef KLIMA_OPENDATA_FACTORS_H
#define KLIMA_OPENDATA_FACTORS_H

#include "http/router.h"

/* Answers from api.emission_factors through the worker's pool (one query; 304 on a matching If-None-Match without
 * one). 503 + Retry-After when the catalog or the database is unavailable. */
int opendata_factors_get(h2o_req_t *req, const http_match_t *m);

#endif
