/*
 * consent/authorize — the authorization request and the consent decision.
 */
#include <string.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "consent/authorize.h"
#include "consent/login.h"
#include "consent/module.h"
#include "consent/pages.h"
#include "consent/session.h"
#include "core/b64.h"
#include "core/strutil.h"
#include "http/problem.h"

#define CONSENT_MAX_DAYS 1096

/* The client, whether redirect_uri is one of its own, and the browser's login session (its household and district) when
 * there is an active one ($3: the SHA-256 of the session id, or NULL). */
static const char client_sql[] =
    "SELECT c.name, $2::text = ANY (c.redirect_uris), c.first_party, s.household_id, s.district FROM api.oauth_client($1::text) "
    "c LEFT JOIN api.login_session($3::bytea) s ON true";
static const char code_create_sql[] =
    "SELECT api.oauth_code_create($1::bytea, $2::uuid, $3::text, $4::text, $5::text[], $6::integer, $7::text)";

static void decide(h2o_req_t *req, consent_authz_t *a);

/* Column col of res's first row, copied into the pool. */
static const char *pool_copy(h2o_req_t *req, const PGresult *res, int col)
{
    size_t n = (size_t)PQgetlength(res, 0, col);
    char *out = h2o_mem_alloc_pool(&req->pool, n + 1);
    memcpy(out, PQgetvalue(res, 0, col), n + 1);
    return out;
}

/* The client and redirect_uri are valid: from here on errors go back to the client. */
static void on_client(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    consent_authz_t *a = state;
    const consent_params_t *p = &a->p;
    const char *ru = p->v[P_REDIRECT_URI], *st = p->v[P_STATE];

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    if (PQntuples(res) != 1) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "client_id names no registered client.", "client_id");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "redirect_uri is not one of the client's registered redirect URIs (exact match required).",
                          "redirect_uri");
        return;
    }
    a->client_name = pool_copy(req, res, 0);
    a->first_party = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    if (!PQgetisnull(res, 0, 3)) {
        a->household = pool_copy(req, res, 3);
        a->district = PQgetisnull(res, 0, 4) ? "" : pool_copy(req, res, 4);
    }

    if (p->duplicate != NULL) {
        consent_redirect_error(req, ru, st, "invalid_request", "a parameter was given more than once");
        return;
    }
    if (p->v[P_RESPONSE_TYPE] == NULL || strcmp(p->v[P_RESPONSE_TYPE], "code") != 0) {
        consent_redirect_error(req, ru, st, "unsupported_response_type", "only response_type=code is supported");
        return;
    }
    if (p->v[P_CODE_CHALLENGE] == NULL || p->v[P_CODE_CHALLENGE_METHOD] == NULL ||
        strcmp(p->v[P_CODE_CHALLENGE_METHOD], "S256") != 0 || !b64url_is_token(p->v[P_CODE_CHALLENGE], 43, 43)) {
        consent_redirect_error(req, ru, st, "invalid_request",
                               "PKCE is required: code_challenge (43 characters) and code_challenge_method=S256");
        return;
    }
    if (p->v[P_SCOPE] == NULL || auth_scope_parse(p->v[P_SCOPE], 1, &a->scopes) != 0 || a->scopes == 0) {
        consent_redirect_error(req, ru, st, "invalid_scope", "scope must be a space-separated list of known scopes");
        return;
    }
    for (size_t i = 0; i < auth_nscopes; ++i) {
        if ((a->scopes & (UINT32_C(1) << i)) != 0 && auth_scopes[i].first_party_only && !a->first_party) {
            consent_redirect_error(req, ru, st, "invalid_scope", "consents:manage is only granted to the city's own apps");
            return;
        }
    }
    if (a->decision) {
        decide(req, a);
        return;
    }
    if (a->household != NULL) {
        consent_page_consent(req, a);
        return;
    }
    if (consent_oidc() != NULL) {
        /* the identity provider, when configured, is the login even where the dev login is on too */
        consent_login_oidc_start(req, a);
        return;
    }
    if (!consent_dev_login()) {
        consent_redirect_error(req, ru, st, "temporarily_unavailable",
                               "no citizen login (identity provider) is configured on this server");
        return;
    }
    consent_login_dev_page(req, a);
}

/* Common start of GET /oauth/authorize and POST /oauth/consent: the problem-page checks, then the client lookup. */
static void authorize_start(h2o_req_t *req, consent_authz_t *a)
{
    const consent_params_t *p = &a->p;
    if (p->duplicate != NULL && (strcmp(p->duplicate, "client_id") == 0 || strcmp(p->duplicate, "redirect_uri") == 0)) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, p->duplicate, "%s was given more than once.", p->duplicate);
        return;
    }
    if (p->v[P_CLIENT_ID] == NULL || !auth_client_id_valid(p->v[P_CLIENT_ID])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "client_id is required: the id of a registered client.",
                          "client_id");
        return;
    }
    if (p->v[P_REDIRECT_URI] == NULL || p->v[P_REDIRECT_URI][0] == '\0') {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "redirect_uri is required (exact match with a registered one).",
                          "redirect_uri");
        return;
    }
    {
        const char *params[3] = {p->v[P_CLIENT_ID], p->v[P_REDIRECT_URI], consent_session_hash(req)};
        app_db_query(req, client_sql, 3, params, on_client, a);
    }
}

int consent_authorize(h2o_req_t *req, const http_match_t *m)
{
    consent_authz_t *a = h2o_mem_alloc_pool(&req->pool, sizeof(*a));
    memset(a, 0, sizeof(*a));
    app_cache_control(req, app_route_of(m), NULL);
    if ((a->kr = app_auth_keyring_or_reply(req)) == NULL || consent_params_of_query_or_reply(req, &a->p) != 0)
        return 0;
    if (req->query_at != SIZE_MAX) {
        size_t n = req->path.len - req->query_at - 1;
        char *q = h2o_mem_alloc_pool(&req->pool, n + 1);
        memcpy(q, req->path.base + req->query_at + 1, n);
        q[n] = '\0';
        a->query = q;
    }
    authorize_start(req, a);
    return 0;
}

/* --- the decision ------------------------------------------------------------------------------------------------------ */

typedef struct code_state {
    consent_authz_t *a;
    const char *code;
} code_state_t;

static void on_code_created(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    code_state_t *cs = state;
    const consent_params_t *p = &cs->a->p;
    sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    sbuf_puts(&u, p->v[P_REDIRECT_URI]);
    sbuf_putc(&u, strchr(p->v[P_REDIRECT_URI], '?') != NULL ? '&' : '?');
    sbuf_puts(&u, "code=");
    sbuf_puts(&u, cs->code);
    if (p->v[P_STATE] != NULL) {
        sbuf_puts(&u, "&state=");
        consent_pct_encode(&u, p->v[P_STATE]);
    }
    consent_redirect(req, 303, &u);
}

static void decide(h2o_req_t *req, consent_authz_t *a)
{
    const consent_params_t *p = &a->p;
    uint64_t days;
    char *code, scopes[512], *arr, dbuf[16];
    code_state_t *cs;

    if (a->household == NULL) {
        http_problem_send(req, HTTP_PROBLEM_FORBIDDEN, "The login session has expired or was signed out; start again from the app.",
                          NULL);
        return;
    }
    if (p->v[P_DECISION] == NULL || strcmp(p->v[P_DECISION], "approve") != 0) {
        consent_redirect_error(req, p->v[P_REDIRECT_URI], p->v[P_STATE], "access_denied", "the citizen declined");
        return;
    }
    if (p->v[P_DAYS] == NULL || str_to_uint(p->v[P_DAYS], strlen(p->v[P_DAYS]), 1, CONSENT_MAX_DAYS, &days) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "days must be a whole number from 1 to 1096 (3 years).", "days");
        return;
    }
    code = h2o_mem_alloc_pool(&req->pool, 48);
    if (auth_random_token(32, code, 48) != 0 || auth_scope_format(a->scopes, scopes, sizeof(scopes)) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot make a code.", NULL);
        return;
    }
    /* a text[] literal: scope names hold no characters that need quoting */
    arr = h2o_mem_alloc_pool(&req->pool, strlen(scopes) + 3);
    arr[0] = '{';
    for (size_t i = 0; scopes[i] != '\0'; ++i)
        arr[i + 1] = scopes[i] == ' ' ? ',' : scopes[i];
    memcpy(arr + strlen(scopes) + 1, "}", 2);
    str_fmt(dbuf, sizeof(dbuf), "%u", (unsigned)days);
    cs = h2o_mem_alloc_pool(&req->pool, sizeof(*cs));
    cs->a = a;
    cs->code = code;
    {
        char *daysp = h2o_mem_alloc_pool(&req->pool, strlen(dbuf) + 1);
        memcpy(daysp, dbuf, strlen(dbuf) + 1);
        const char *params[7] = {consent_hash_param(req, code), a->household, p->v[P_CLIENT_ID], p->v[P_REDIRECT_URI], arr, daysp,
                                 p->v[P_CODE_CHALLENGE]};
        app_db_query(req, code_create_sql, 7, params, on_code_created, cs);
    }
}

int consent_authorize_decision(h2o_req_t *req, const http_match_t *m)
{
    consent_authz_t *a = h2o_mem_alloc_pool(&req->pool, sizeof(*a));
    memset(a, 0, sizeof(*a));
    app_cache_control(req, app_route_of(m), NULL);
    if ((a->kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (consent_origin_check_or_reply(req) != 0 || consent_params_of_form_or_reply(req, &a->p) != 0 ||
        consent_csrf_check_or_reply(req, &a->p) != 0)
        return 0;
    a->decision = 1;
    authorize_start(req, a);
    return 0;
}
