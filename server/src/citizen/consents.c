/*
 * citizen/consents — the citizen's consents.
 */
#include <string.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/token.h"
#include "citizen/consents.h"
#include "http/problem.h"
#include "http/respond.h"

static const char list_sql[] = "SELECT api.consents_list($1::uuid)";
static const char revoke_sql[] = "SELECT api.consent_revoke($1::uuid, $2::uuid)";

typedef struct consents_state {
    const app_route_t *route;
    const char *id; /* DELETE: the consent's id */
} consents_state_t;

static consents_state_t *state_of(h2o_req_t *req, const http_match_t *m)
{
    consents_state_t *st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    st->id = NULL;
    return st;
}

static void on_list(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    consents_state_t *st = data;
    if (!app_db_row_or_reply(req, status, res))
        return;
    app_cache_control(req, st->route, NULL);
    http_send_bytes(req, 200, "application/json", PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void list_authorized(h2o_req_t *req, void *state, const app_principal_t *who)
{
    const char *params[1] = {who->consent}; /* the functions resolve and check the household themselves */
    app_db_query(req, list_sql, 1, params, on_list, state);
}

int citizen_consents_list(h2o_req_t *req, const http_match_t *m)
{
    app_auth_require(req, m, list_authorized, state_of(req, m));
    return 0;
}

static void on_revoke(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    consents_state_t *st = data;
    if (!app_db_row_or_reply(req, status, res))
        return;
    if (strcmp(PQgetvalue(res, 0, 0), "not-found") == 0) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "This household has no consent with that id.", "id");
        return;
    }
    app_cache_control(req, st->route, NULL);
    http_send_bytes(req, 204, "application/json", "", 0);
}

static void delete_authorized(h2o_req_t *req, void *state, const app_principal_t *who)
{
    consents_state_t *st = state;
    const char *params[2] = {who->consent, st->id};
    app_db_query(req, revoke_sql, 2, params, on_revoke, st);
}

int citizen_consents_delete(h2o_req_t *req, const http_match_t *m)
{
    size_t len;
    const char *v = http_match_param(m, "id", &len);
    consents_state_t *st = state_of(req, m);
    char *id = h2o_mem_alloc_pool(&req->pool, len + 1);

    memcpy(id, v, len);
    id[len] = '\0';
    if (!auth_uuid_valid(id)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "id must be a consent id (a uuid) from GET /v1/me/consents.", "id");
        return 0;
    }
    st->id = id;
    app_auth_require(req, m, delete_authorized, st);
    return 0;
}
