/*
 * citizen/consents — the citizen's consents.
 */
#include <string.h>

#include "app/app.h"
#include "app/auth.h"
#include "citizen/consents.h"
#include "auth/token.h"
#include "http/problem.h"
#include "http/respond.h"

static const char list_sql[] = "SELECT api.consents_list($1::uuid)";
static const char revoke_sql[] = "SELECT api.consent_revoke($1::uuid, $2::uuid)";

static void on_list(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void list_authorized(h2o_req_t *req, void *state, const app_principal_t *who)
{
    const char *params[1] = {who->household};
    app_db_query_sql(req, list_sql, 1, params, on_list, NULL);
}

int citizen_consents_list(h2o_req_t *req, const http_match_t *m)
{
    app_auth_require(req, "consents:manage", list_authorized, NULL);
    return 0;
}

static void on_revoke(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "not-found") == 0) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "This household has no consent with that id.", "id");
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 204, "application/json", "", 0);
}

static void delete_authorized(h2o_req_t *req, void *state, const app_principal_t *who)
{
    const char *params[2] = {who->household, state};
    app_db_query_sql(req, revoke_sql, 2, params, on_revoke, NULL);
}

int citizen_consents_delete(h2o_req_t *req, const http_match_t *m)
{
    size_t len;
    const char *v = http_match_param(m, "id", &len);
    char *id = h2o_mem_alloc_pool(&req->pool, len + 1);

    memcpy(id, v, len);
    id[len] = '\0';
    if (!auth_uuid_valid(id)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "id must be a consent id (a uuid) from GET /v1/me/consents.", "id");
        return 0;
    }
    app_auth_require(req, "consents:manage", delete_authorized, id);
    return 0;
}
