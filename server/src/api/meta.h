/*
 * api/meta — service routes: /healthz, /readyz.
 */
#ifndef KLIMA_API_META_H
#define KLIMA_API_META_H

#include "http/router.h"

/* GET /healthz: the process is alive (no database involved). */
int api_meta_healthz(h2o_req_t *req, const http_match_t *m);

/* GET /readyz: 200 when this worker has its dataset catalog and a real query through its pool succeeds now; 503 problem
 * with Retry-After otherwise. */
int api_meta_readyz(h2o_req_t *req, const http_match_t *m);

#endif
