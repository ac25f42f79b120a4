/*
 * opendata/metadata — machine-readable descriptions of the open data for portals and search engines:
 * GET /v1/datasets/{id}/datapackage.json (Frictionless Data Package) and GET /v1/catalog.jsonld (DCAT-AP 3 /
 * DCAT-AP-DK JSON-LD with a DataService for the API, plus schema.org Dataset nodes). Both are rendered from the
 * worker's catalog without a database round trip; absolute URLs use the request's scheme and Host.
 * Also the small helpers the metadata-like routes share (opendata/factors.c).
 */
#ifndef KLIMA_OPENDATA_METADATA_H
#define KLIMA_OPENDATA_METADATA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/route.h"
#include "http/router.h"

int opendata_metadata_datapackage(h2o_req_t *req, const http_match_t *m);
int opendata_metadata_catalog(h2o_req_t *req, const http_match_t *m);

/* "scheme://host" of the request (its Host when that is a plain host name, else localhost) into out; returns its
 * length. */
size_t opendata_metadata_base_url(h2o_req_t *req, char *out, size_t size);

/* Adds the headers of a public, cacheable open-data response: ETag (not copied: req's pool or static), Cache-Control (the
 * route entry's, else public with max_age), and Vary: Accept-Language when vary_lang. */
void opendata_metadata_cache_headers(h2o_req_t *req, const app_route_t *route, const char *etag, unsigned max_age, int vary_lang);

/* Conditional GET of such a response: http_not_modified with the same Cache-Control. Returns 1 when it sent the 304. */
int opendata_metadata_not_modified(h2o_req_t *req, const app_route_t *route, const char *etag, unsigned max_age);

/* Serializes json (steals the reference) into the request pool and sends it with status 200 and content_type; sends
 * a 500 problem if serialization fails. */
void opendata_metadata_send(h2o_req_t *req, json_t *json, const char *content_type);

#endif
