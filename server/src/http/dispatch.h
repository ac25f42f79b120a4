/*
 * http/dispatch — a request's way from h2o to its handler: the size limits of the request target and header block
 * (414/431), the route table (a match runs the route's handler; a known path with another method gets 405 with Allow,
 * or the OPTIONS hook), the web pages (http/static), then 404 — every error as problem+json. When h2o disposes the
 * request, however it ended, it is counted in the request metrics and written to the access log.
 */
#ifndef KLIMA_HTTP_DISPATCH_H
#define KLIMA_HTTP_DISPATCH_H

#include <h2o.h>

#include "http/router.h"
#include "http/server.h"

/* Takes the route table (which must outlive the server), the hooks, and registers the request families in
 * hooks->metrics (klimaspejl_http_requests_total{route,method,status}, klimaspejl_http_request_duration_seconds{route}).
 * Call once before the workers start. Returns 0, or -1 when out of memory. */
int http_dispatch_init(const http_route_t *routes, size_t nroutes, const http_server_hooks_t *hooks);

/* Releases what http_dispatch_init allocated (after the workers stopped). */
void http_dispatch_free(void);

/* The h2o handler (on_req) of every request. Returns 0: the request is always answered. */
int http_dispatch(h2o_handler_t *self, h2o_req_t *req);

/* Records the client id (a registered app's id, at most 64 characters) that req was authenticated as, for the access
 * log. Call on req's thread while the request is running; a later call replaces it. */
void http_request_set_client(h2o_req_t *req, const char *client);

#endif
