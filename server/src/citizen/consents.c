/*
 * citizen/consents — the citizen's consents.
 */
#include <string.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "citizen/consents.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

static const char list_sql[] = "SELECT api.consents_list($1::uuid)";
static const char revoke_sql[] = "SELECT api.consent_revoke($1::uuid, $2::uuid)";

typedef struct consents_state {
    const app_route_t *route;
    const char *id;   /* DELETE: the consent's id */
    const char *lang; /* GET: "da" or "en", for the scopes in words */
} consents_state_t;

static consents_state_t *state_of(h2o_req_t *req, const http_match_t *m)
{
    consents_state_t *st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    st->id = NULL;
    st->lang = "en";
    return st;
}

/* Adds scopes_text to each consent: its scopes in plain words (auth/scope's table, the consent screen's words). */
static void add_scope_words(json_t *list, int da)
{
    size_t i, j;
    json_t *c, *name;
    json_array_foreach(list, i, c)
    {
        json_t *words = json_array();
        json_array_foreach(json_object_get(c, "scopes"), j, name)
        {
            const char *n = json_string_value(name);
            for (size_t k = 0; n != NULL && k < auth_nscopes; ++k) {
                if (strcmp(auth_scopes[k].name, n) == 0)
                    json_array_append_new(words, json_string(da ? auth_scopes[k].text_da : auth_scopes[k].text_en));
            }
        }
        json_object_set_new(c, "scopes_text", words);
    }
}

static void on_list(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    consents_state_t *st = data;
    json_t *list;
    if (!app_db_row_or_reply(req, status, res))
        return;
    if ((list = json_loadb(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 0, NULL)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The consents could not be read.", NULL);
        return;
    }
    add_scope_words(list, strcmp(st->lang, "da") == 0);
    app_cache_control(req, st->route, NULL);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Authorization, Accept-Language"));
    http_send_json(req, 200, list);
}

static void list_authorized(h2o_req_t *req, void *state, const app_principal_t *who)
{
    const char *params[1] = {who->consent}; /* the functions resolve and check the household themselves */
    app_db_query(req, list_sql, 1, params, on_list, state);
}

int citizen_consents_list(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"lang"};
    const char *v[1];
    consents_state_t *st;

    if (http_query_take_or_reply(req, names, v, 1) != 0)
        return 0;
    if (v[0] != NULL && strcmp(v[0], "da") != 0 && strcmp(v[0], "en") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'lang' must be da or en.", "lang");
        return 0;
    }
    st = state_of(req, m);
    st->lang = v[0] != NULL ? v[0] : http_request_lang(req);
    app_auth_require(req, m, list_authorized, st);
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
