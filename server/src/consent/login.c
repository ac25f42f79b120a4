/*
 * consent/login — the OpenID Connect login and the dev login.
 */
#include <string.h>
#include <time.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/oidc.h"
#include "auth/token.h"
#include "consent/login.h"
#include "consent/module.h"
#include "consent/pages.h"
#include "consent/session.h"
#include "core/b64.h"
#include "core/sbuf.h"
#include "http/problem.h"

#define DEV_HOUSEHOLDS "5"

static const char dev_households_sql[] =
    "SELECT household_id, district, dwelling_type, occupant_band FROM api.dev_households(" DEV_HOUSEHOLDS ")";
/* the chosen household must be a demo household; its login session starts in the same statement */
static const char dev_household_ok_sql[] =
    "SELECT api.login_session_start($2::bytea, household_id) FROM api.dev_households(" DEV_HOUSEHOLDS
    ") WHERE household_id = $1::uuid";

/* --- dev login ------------------------------------------------------------------------------------------------------- */

static void on_dev_households(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    consent_authz_t *a = state;
    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    consent_page_login(req, &a->p, a->query, res);
}

void consent_login_dev_page(h2o_req_t *req, consent_authz_t *a)
{
    app_db_query(req, dev_households_sql, 0, NULL, on_dev_households, a);
}

typedef struct login {
    const char *household, *query, *session;
} login_t;

static void on_dev_household_ok(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    login_t *l = state;
    sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    if (PQntuples(res) != 1) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "household is not one of the demo households.", "household");
        return;
    }
    consent_session_set(req, l->session);
    sbuf_puts(&u, "/oauth/authorize?");
    sbuf_puts(&u, l->query);
    consent_redirect(req, 303, &u);
}

int consent_login_dev(h2o_req_t *req, const http_match_t *m)
{
    login_t *l = h2o_mem_alloc_pool(&req->pool, sizeof(*l));
    consent_params_t p;

    app_cache_control(req, app_route_of(m), NULL);
    if (app_auth_keyring_or_reply(req) == NULL)
        return 0;
    if (!consent_dev_login()) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "The dev login is off (KLIMA_DEV_LOGIN is not 1).", NULL);
        return 0;
    }
    if (consent_origin_check_or_reply(req) != 0 || consent_params_of_form_or_reply(req, &p) != 0 ||
        consent_csrf_check_or_reply(req, &p) != 0)
        return 0;
    if (p.v[P_HOUSEHOLD] == NULL || !auth_uuid_valid(p.v[P_HOUSEHOLD])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "household must be a demo household's id.", "household");
        return 0;
    }
    if (p.v[P_Q] == NULL || !consent_query_safe(p.v[P_Q])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "q must be the authorization request's query string.", "q");
        return 0;
    }
    l->household = p.v[P_HOUSEHOLD];
    l->query = p.v[P_Q];
    if ((l->session = consent_session_new_or_reply(req)) == NULL)
        return 0;
    {
        const char *params[2] = {l->household, consent_hash_param(req, l->session)};
        app_db_query(req, dev_household_ok_sql, 2, params, on_dev_household_ok, l);
    }
    return 0;
}

/* --- OpenID Connect login ---------------------------------------------------------------------------------------------- */

static const char oidc_create_sql[] = "SELECT api.oidc_request_create($1::bytea, $2::bytea, $3::text)";
static const char oidc_cancel_sql[] = "SELECT api.oidc_request_cancel($1::bytea)";
/* a successful login starts its session in the same statement ($5: the SHA-256 of the new session id) */
static const char oidc_login_sql[] =
    "SELECT status, query, household_id, CASE WHEN status = 'ok' AND household_id IS NOT NULL THEN "
    "api.login_session_start($5::bytea, household_id) END FROM api.oidc_login($1::bytea, "
    "$2::bytea, $3::text, $4::text)";

typedef struct oidc_start {
    consent_authz_t *a;
    const char *state, *nonce;
} oidc_start_t;

static void on_oidc_request_stored(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    oidc_start_t *o = data;
    const auth_oidc_t *idp = consent_oidc();
    sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    sbuf_puts(&u, idp->authorization_endpoint);
    sbuf_puts(&u, "?response_type=id_token&response_mode=form_post&scope=openid&client_id=");
    consent_pct_encode(&u, idp->client_id);
    sbuf_puts(&u, "&redirect_uri=");
    consent_pct_encode(&u, app_auth_issuer());
    consent_pct_encode(&u, "/oauth/oidc/callback");
    sbuf_puts(&u, "&state=");
    sbuf_puts(&u, o->state);
    sbuf_puts(&u, "&nonce=");
    sbuf_puts(&u, o->nonce);
    sbuf_puts(&u, "&ui_locales=");
    sbuf_puts(&u, consent_lang(req, &o->a->p));
    consent_redirect(req, 302, &u);
}

/* No session yet and an identity provider is configured: store the request and send the browser to the provider. */
void consent_login_oidc_start(h2o_req_t *req, consent_authz_t *a)
{
    oidc_start_t *o = h2o_mem_alloc_pool(&req->pool, sizeof(*o));
    char *state = h2o_mem_alloc_pool(&req->pool, 48), *nonce = h2o_mem_alloc_pool(&req->pool, 48);

    if (a->query == NULL || strlen(a->query) > CONSENT_MAX_BODY || !consent_query_safe(a->query)) {
        consent_redirect_error(req, a->p.v[P_REDIRECT_URI], a->p.v[P_STATE], "invalid_request",
                               "the authorization request must be plain ASCII and at most 16 KiB");
        return;
    }
    if (auth_random_token(32, state, 48) != 0 || auth_random_token(32, nonce, 48) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the login state.", NULL);
        return;
    }
    o->a = a;
    o->state = state;
    o->nonce = nonce;
    {
        const char *params[3] = {consent_hash_param(req, state), consent_hash_param(req, nonce), a->query};
        app_db_query(req, oidc_create_sql, 3, params, on_oidc_request_stored, o);
    }
}

/* The authorization request's parameters, parsed from its stored query string (valid when it was stored). */
static consent_params_t *stored_params(h2o_req_t *req, const char *query)
{
    consent_params_t *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    if (consent_params_parse(req, query, strlen(query), p) != 0)
        memset(p, 0, sizeof(*p));
    return p;
}

static void reply_unknown_state(h2o_req_t *req)
{
    http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                      "state names no pending login: it is unknown, was used already, or is older than 10 minutes "
                      "(start again from the app).",
                      "state");
}

/* The identity provider answered error=...: the authorization request ends with an error at the app (RFC 6749
 * 4.1.2.1). A provider outage becomes temporarily_unavailable; every other refusal is access_denied. */
static void on_oidc_cancelled(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    const char *idp_error = data;
    const consent_params_t *p;
    int outage;

    if (!app_db_row_or_reply(req, status, res))
        return;
    if (PQgetisnull(res, 0, 0)) {
        reply_unknown_state(req);
        return;
    }
    p = stored_params(req, PQgetvalue(res, 0, 0));
    if (p->v[P_REDIRECT_URI] == NULL) {
        reply_unknown_state(req);
        return;
    }
    outage = strcmp(idp_error, "temporarily_unavailable") == 0 || strcmp(idp_error, "server_error") == 0;
    consent_redirect_error(req, p->v[P_REDIRECT_URI], p->v[P_STATE], outage ? "temporarily_unavailable" : "access_denied",
                           outage ? "the city's login service is unavailable"
                                  : "the citizen did not log in at the city's login service");
}

static void on_oidc_login(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    const char *session = data, *st;
    sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);

    if (!app_db_row_or_reply(req, status, res))
        return;
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "unknown_state") == 0) {
        reply_unknown_state(req);
    } else if (strcmp(st, "nonce_mismatch") == 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "id_token check failed: nonce mismatch. The id_token's nonce is not the one sent with this login's "
                          "state.",
                          "id_token");
    } else if (strcmp(st, "unknown_subject") == 0) {
        consent_page_unlinked(req, stored_params(req, PQgetvalue(res, 0, 1)));
    } else if (strcmp(st, "ok") == 0 && !PQgetisnull(res, 0, 2)) {
        consent_session_set(req, session);
        sbuf_puts(&u, "/oauth/authorize?");
        sbuf_puts(&u, PQgetvalue(res, 0, 1));
        consent_redirect(req, 303, &u);
    } else {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Unexpected answer from api.oidc_login.", NULL);
    }
}

int consent_login_oidc_callback(h2o_req_t *req, const http_match_t *m)
{
    const auth_oidc_t *idp = consent_oidc();
    auth_oidc_identity_t id;
    auth_oidc_result_t r;
    const char *state_hash, *session;
    char *sub;
    consent_params_t p;

    app_cache_control(req, app_route_of(m), NULL);
    if (app_auth_keyring_or_reply(req) == NULL)
        return 0;
    if (idp == NULL) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "No identity provider is configured on this server (KLIMA_OIDC_ISSUER).",
                          NULL);
        return 0;
    }
    if (consent_params_of_form_or_reply(req, &p) != 0)
        return 0;
    if (p.duplicate != NULL) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, p.duplicate, "%s was given more than once.", p.duplicate);
        return 0;
    }
    if (p.v[P_STATE] == NULL || !b64url_is_token(p.v[P_STATE], 43, 43)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "state is required: the value klimaspejl sent to the identity provider (43 characters).", "state");
        return 0;
    }
    state_hash = consent_hash_param(req, p.v[P_STATE]);
    if (p.v[P_ERROR] != NULL) {
        const char *params[1] = {state_hash};
        app_db_query(req, oidc_cancel_sql, 1, params, on_oidc_cancelled, (void *)p.v[P_ERROR]);
        return 0;
    }
    if (p.v[P_ID_TOKEN] == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "id_token (or error) is required: the identity provider's answer.",
                          "id_token");
        return 0;
    }
    if ((r = auth_oidc_verify(idp, p.v[P_ID_TOKEN], strlen(p.v[P_ID_TOKEN]), (int64_t)time(NULL), &id)) != AUTH_OIDC_OK) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, "id_token", "id_token check failed: %s. %s",
                           auth_oidc_result_name(r), auth_oidc_result_detail(r));
        return 0;
    }
    sub = h2o_mem_alloc_pool(&req->pool, strlen(id.sub) + 1);
    memcpy(sub, id.sub, strlen(id.sub) + 1);
    /* the identity provider posts this form from its own origin: state and nonce protect it, not an Origin check */
    if ((session = consent_session_new_or_reply(req)) == NULL)
        return 0;
    {
        const char *params[5] = {state_hash, consent_hash_param(req, id.nonce), idp->issuer, sub, consent_hash_param(req, session)};
        app_db_query(req, oidc_login_sql, 5, params, on_oidc_login, (void *)session);
    }
    return 0;
}
