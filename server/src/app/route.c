/*
 * app/route — the gate in front of every route's handler, and the route helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "app/gate.h"
#include "app/route.h"

const char *const app_class_names[APP_CLASS__COUNT] = {"service", "open", "download", "personal", "oauth", "feedback", "register"};

const char *app_cache_control_value(const app_route_t *route, const char *dataset_value)
{
    return route->cache_control != NULL ? route->cache_control : dataset_value;
}

void app_cache_control(h2o_req_t *req, const app_route_t *route, const char *dataset_value)
{
    const char *v = app_cache_control_value(route, dataset_value);
    if (v != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, v, strlen(v));
}

/* Every routed request: the gate (CORS, countries, rate limits), then the entry's handler. */
static int gated(h2o_req_t *req, const http_match_t *m)
{
    const app_route_t *route = app_route_of(m);
    if (app_gate_check(req, route) != 0)
        return 0;
    return route->handler(req, m);
}

http_route_t *app_route_table(const app_route_t *const *entries, size_t n)
{
    http_route_t *table = calloc(n > 0 ? n : 1, sizeof(*table));

    if (table == NULL)
        return NULL;
    for (size_t i = 0; i < n; ++i)
        table[i] = (http_route_t){entries[i]->method, entries[i]->pattern, gated, entries[i]};
    return table;
}
