/*
 * api/meta — service routes.
 */
#include "api/app.h"
#include "api/meta.h"
#include "http/problem.h"
#include "http/respond.h"

static const char healthz_body[] = "{\"status\":\"ok\"}";
static const char readyz_body[] = "{\"status\":\"ready\",\"database\":\"ok\"}";

int api_meta_healthz(h2o_req_t *req, const http_match_t *m)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", healthz_body, sizeof(healthz_body) - 1);
    return 0;
}

static void on_ping(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (status != DB_OK) {
        api_db_error_reply(req, res);
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", readyz_body, sizeof(readyz_body) - 1);
}

int api_meta_readyz(h2o_req_t *req, const http_match_t *m)
{
    /* ready = this worker can serve datasets: its catalog is loaded and the database answers now */
    if (api_catalog_acquire(req) == NULL)
        return 0;
    api_db_query(req, API_STMT_PING, NULL, on_ping, NULL);
    return 0;
}
