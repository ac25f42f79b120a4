/*
 * app/openapi — GET /openapi.json: the embedded api-spec/openapi.yaml (converted to JSON at build time).
 */
#ifndef KLIMA_APP_OPENAPI_H
#define KLIMA_APP_OPENAPI_H

#include <stddef.h>

#include "http/router.h"

/* The spec as compact UTF-8 JSON (generated, see api-spec/embed.py), its length and its strong ETag. */
extern const unsigned char app_openapi_spec_json[];
extern const size_t app_openapi_spec_json_len;
extern const char app_openapi_spec_etag[];

/* GET /openapi.json, with ETag / If-None-Match. */
int app_openapi_get(h2o_req_t *req, const http_match_t *m);

#endif
