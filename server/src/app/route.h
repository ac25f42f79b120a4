/*
 * app/route — the route table: one entry per operation of api-spec/openapi.yaml with everything the server decides
 * about it (the redis habit: every attribute of a command in its one table entry). Each module hands app its part of
 * the table (app_module_t.routes); app joins them into the one table the router matches, and every routed request goes
 * through the gate (app/gate.h) with its entry before the entry's handler runs. The gate and the handlers read a route's
 * policy only from its entry (app_route_of); a unit test checks the table against the spec, and that every personal
 * route names a scope.
 */
#ifndef KLIMA_APP_ROUTE_H
#define KLIMA_APP_ROUTE_H

#include <h2o.h>

#include "http/router.h"

/* What kind of route it is: its rate limit (KLIMA_RATE_<CLASS>, the RateLimit policy name and the metrics label) and
 * whether KLIMA_PERSONAL_COUNTRIES applies (personal and oauth). */
typedef enum app_class {
    APP_CLASS_SERVICE,  /* health, readiness, metrics: for load balancers and scrapers */
    APP_CLASS_OPEN,     /* open data and documents */
    APP_CLASS_DOWNLOAD, /* whole datasets streamed */
    APP_CLASS_PERSONAL, /* a citizen's own data: a consent token with the entry's scope */
    APP_CLASS_OAUTH,    /* the consent service */
    APP_CLASS_FEEDBACK, /* citizen feedback (anonymous; a token with the entry's scope links a data-error report) */
    APP_CLASS_REGISTER, /* self-service app registration (POST /oauth/register) */
    APP_CLASS__COUNT
} app_class_t;

/* Who may read a route's responses from another origin (the gate answers preflights and adds the fields). */
typedef enum app_cors {
    APP_CORS_ANY,     /* Access-Control-Allow-Origin: * */
    APP_CORS_CLIENTS, /* the origins of registered apps only, echoed with Vary: Origin */
    APP_CORS_NONE     /* pages and forms of this server, and the metrics: no CORS at all */
} app_cors_t;

typedef struct app_route {
    const char *method;  /* "GET" (answers HEAD too), "POST", "DELETE" */
    const char *pattern; /* the path exactly as in api-spec/openapi.yaml */
    http_handler_fn handler;
    app_class_t cls;
    const char *scope; /* the consent scope a token must carry here (auth/scope.c), or NULL */
    app_cors_t cors;
    const char *cache_control; /* the Cache-Control value; NULL: the dataset's (public, max-age from its refresh) */
} app_route_t;

/* The class names: the `class` label of klimaspejl_ratelimit_hits_total and the RateLimit policy names. */
extern const char *const app_class_names[APP_CLASS__COUNT];

/* The entry of the route m matched (for the handler of that route). */
static inline const app_route_t *app_route_of(const http_match_t *m)
{
    return (const app_route_t *)m->route->data;
}

/* Adds the entry's Cache-Control to req's response; an entry without one takes dataset_value (a dataset's ready-made
 * "public, max-age=N", which must outlive req: it is not copied). */
void app_cache_control(h2o_req_t *req, const app_route_t *route, const char *dataset_value);

/* The Cache-Control value app_cache_control adds: the route entry's, else dataset_value (may be NULL). */
const char *app_cache_control_value(const app_route_t *route, const char *dataset_value);

/* The router's table for entries[0..n): each route's handler becomes the gate in front of the entry's handler. Returns a
 * malloc'ed array of n routes (free it after the server stopped), or NULL when out of memory. */
http_route_t *app_route_table(const app_route_t *const *entries, size_t n);

#endif
