/*
 * api/openapi — GET /openapi.json: the embedded api-spec/openapi.yaml (converted to JSON at build time).
 */
#ifndef KLIMA_API_OPENAPI_H
#define KLIMA_API_OPENAPI_H

#include <stddef.h>

#include "http/router.h"

/* The spec as compact UTF-8 JSON (generated, see api-spec/embed.py), its length and its strong ETag. */
extern const unsigned char api_spec_json[];
extern const size_t api_spec_json_len;
extern const char api_spec_etag[];

/* GET /openapi.json, with ETag / If-None-Match. */
int api_openapi_get(h2o_req_t *req, const http_match_t *m);

#endif
