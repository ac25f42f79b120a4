/*
 * app/openapi — serves the embedded spec.
 */
#include <h2o.h>
#include <string.h>

#include "app/openapi.h"
#include "http/respond.h"

int app_openapi_get(h2o_req_t *req, const http_match_t *m)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    size_t etag_len = strlen(app_openapi_spec_etag);

    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, app_openapi_spec_etag, etag_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=300"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        /* a list of tags or "*": a plain substring test is enough for our quoted hex tag */
        if ((v.len == 1 && v.base[0] == '*') || (v.len >= etag_len && memmem(v.base, v.len, app_openapi_spec_etag, etag_len) != NULL)) {
            req->res.status = 304;
            req->res.reason = "Not Modified";
            h2o_send_inline(req, NULL, 0);
            return 0;
        }
    }
    http_send_bytes(req, 200, "application/json", (const char *)app_openapi_spec_json, app_openapi_spec_json_len);
    return 0;
}
