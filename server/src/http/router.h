/*
 * http/router — matches a method and a path against a table of routes. Patterns are literal segments and `{name}`
 * parameters, each parameter one whole segment (e.g. "/v1/datasets/{id}/records"). The table is owned by the caller
 * (app/route.c builds it from the modules' route tables); the router keeps no state.
 */
#ifndef KLIMA_HTTP_ROUTER_H
#define KLIMA_HTTP_ROUTER_H

#include <stddef.h>

#define HTTP_ROUTE_MAX_PARAMS 4

typedef struct st_h2o_req_t h2o_req_t;
typedef struct http_route http_route_t;

typedef struct http_match {
    const http_route_t *route;
    size_t nparams;
    struct {
        const char *name; /* points into the pattern; not NUL-terminated at the brace: use name_len */
        size_t name_len;
        const char *value; /* points into the request path */
        size_t value_len;
    } params[HTTP_ROUTE_MAX_PARAMS];
    char allow[96]; /* for 405: the methods the path accepts, "GET, HEAD" style */
} http_match_t;

/* A route handler. It must send a response (or arrange one asynchronously) and return 0. */
typedef int (*http_handler_fn)(h2o_req_t *req, const http_match_t *match);

struct http_route {
    const char *method;  /* "GET", "POST", "DELETE"; GET routes answer HEAD too */
    const char *pattern; /* the path as written in api-spec/openapi.yaml */
    http_handler_fn handler;
    const void *data; /* the owner's description of the route (app/route.h), for the handler; the router ignores it */
};

typedef enum http_route_result { HTTP_ROUTE_FOUND, HTTP_ROUTE_NOT_FOUND, HTTP_ROUTE_METHOD_NOT_ALLOWED } http_route_result_t;

/* Finds the route for method + path (path without the query string). On HTTP_ROUTE_METHOD_NOT_ALLOWED, out->allow lists
 * the methods the path accepts and out->route is the first route of that path (for its pattern; not to be called);
 * on HTTP_ROUTE_NOT_FOUND out->route is NULL. */
http_route_result_t http_router_match(const http_route_t *routes, size_t nroutes, const char *method, size_t method_len,
                                      const char *path, size_t path_len, http_match_t *out);

/* Returns the value of path parameter `name`, or NULL (with *len 0) if the route has none of that name. */
const char *http_match_param(const http_match_t *m, const char *name, size_t *len);

#endif
