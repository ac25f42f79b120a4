/*
 * app/openapi — serves the embedded spec.
 */
#include <h2o.h>
#include <string.h>

#include "app/openapi.h"
#include "app/route.h"
#include "http/etag.h"
#include "http/respond.h"

int app_openapi_get(h2o_req_t *req, const http_match_t *m)
{
    h2o_iovec_t etag = h2o_iovec_init(app_openapi_spec_etag, strlen(app_openapi_spec_etag));

    app_cache_control(req, app_route_of(m), NULL);
    if (http_not_modified(req, etag, NULL))
        return 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag.base, etag.len);
    http_send_bytes(req, 200, "application/json", (const char *)app_openapi_spec_json, app_openapi_spec_json_len);
    return 0;
}
