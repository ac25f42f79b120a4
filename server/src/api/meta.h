/*
 * api/meta — service routes: /healthz, /readyz.
 */
#ifndef KLIMA_API_META_H
#define KLIMA_API_META_H

#include "http/router.h"

/* GET /healthz: the process is alive (no database involved). */
int api_meta_healthz(h2o_req_t *req, const http_match_t *m);

/* GET /readyz: runs a real query through this worker's pool; 200 when it succeeds, 503 problem otherwise. */
int api_meta_readyz(h2o_req_t *req, const http_match_t *m);

#endif
