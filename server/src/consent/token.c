/*
 * consent/token — the token endpoint and its grant handlers.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "consent/request.h"
#include "consent/token.h"
#include "core/b64.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/respond.h"

static const char code_redeem_sql[] = "SELECT status, detail, consent_id, household_id, array_to_string(scopes, ' '), "
                                      "extract(epoch FROM expires_at)::bigint FROM api.oauth_code_redeem($1::bytea, $2::text, "
                                      "$3::bytea, $4::text, $5::text, $6::bytea)";
static const char refresh_sql[] = "SELECT status, detail, consent_id, household_id, array_to_string(scopes, ' '), "
                                  "extract(epoch FROM expires_at)::bigint FROM api.oauth_refresh($1::bytea, $2::text, $3::bytea, "
                                  "$4::bytea)";

/* A token request on its way: the client, the new refresh token (plain, returned once), the keyring. */
typedef struct grant {
    consent_client_t client;
    const char *refresh;
    const auth_keyring_t *kr;
} grant_t;

/* The database's verdict on a grant (both grants answer the same row): an access token and the new refresh token. */
static void on_grant(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    grant_t *g = state;
    const char *st;
    uint64_t until = 0;
    uint32_t scopes = 0;
    int64_t now = (int64_t)time(NULL), ttl;
    char *tok;
    json_t *j;

    if (!app_db_row_or_reply(req, status, res))
        return;
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "ok") != 0) {
        consent_oauth_error(req, strcmp(st, "invalid_client") == 0 ? 401 : 400, st, PQgetvalue(res, 0, 1));
        return;
    }
    str_to_uint(PQgetvalue(res, 0, 5), (size_t)PQgetlength(res, 0, 5), 0, UINT64_MAX, &until);
    auth_scope_parse(PQgetvalue(res, 0, 4), 0, &scopes);
    ttl = (int64_t)until - now;
    if (ttl > AUTH_TOKEN_MAX_TTL)
        ttl = AUTH_TOKEN_MAX_TTL;
    if (ttl < 1) {
        consent_oauth_error(req, 400, "invalid_grant", "the consent has expired");
        return;
    }
    if ((tok = auth_token_sign(g->kr, app_auth_issuer(), PQgetvalue(res, 0, 3), g->client.client_id, PQgetvalue(res, 0, 2), scopes,
                               now, (unsigned)ttl)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot sign the access token.", NULL);
        return;
    }
    j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", tok, "token_type", "Bearer", "expires_in", (json_int_t)ttl,
                  "refresh_token", g->refresh, "scope", PQgetvalue(res, 0, 4));
    free(tok);
    http_add_header(req, "pragma", "no-cache");
    http_send_json(req, 200, j);
}

/* RFC 7636 code_verifier: 43-128 unreserved characters. */
static int verifier_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 43 && n <= 128 && str_is_word(s, n, "-._~");
}

/* grant_type=authorization_code: the code, the redirect_uri it was issued for, and the PKCE verifier (its S256 must
 * be the challenge of the authorization request). */
static void grant_code(h2o_req_t *req, const consent_params_t *p, grant_t *g)
{
    unsigned char h[32];
    char *challenge = h2o_mem_alloc_pool(&req->pool, 48);

    if (p->v[P_CODE] == NULL || p->v[P_REDIRECT_URI] == NULL || p->v[P_CODE_VERIFIER] == NULL) {
        consent_oauth_error(req, 400, "invalid_request", "code, redirect_uri and code_verifier are required");
        return;
    }
    if (!verifier_valid(p->v[P_CODE_VERIFIER])) {
        consent_oauth_error(req, 400, "invalid_grant", "code_verifier must be 43-128 unreserved characters (RFC 7636)");
        return;
    }
    auth_sha256(p->v[P_CODE_VERIFIER], strlen(p->v[P_CODE_VERIFIER]), h);
    b64url_encode(h, 32, challenge, 48);
    const char *params[6] = {
        consent_hash_param(req, p->v[P_CODE]), g->client.client_id, g->client.secret_hash, p->v[P_REDIRECT_URI], challenge,
        consent_hash_param(req, g->refresh)};
    app_db_query(req, code_redeem_sql, 6, params, on_grant, g);
}

/* grant_type=refresh_token: the refresh token is rotated (the database revokes the consent when an old one is reused). */
static void grant_refresh(h2o_req_t *req, const consent_params_t *p, grant_t *g)
{
    if (p->v[P_REFRESH_TOKEN] == NULL) {
        consent_oauth_error(req, 400, "invalid_request", "refresh_token is required");
        return;
    }
    const char *params[4] = {consent_hash_param(req, p->v[P_REFRESH_TOKEN]), g->client.client_id, g->client.secret_hash,
                             consent_hash_param(req, g->refresh)};
    app_db_query(req, refresh_sql, 4, params, on_grant, g);
}

static const struct {
    const char *type;
    void (*handle)(h2o_req_t *req, const consent_params_t *p, grant_t *g);
} grants[] = {
    {"authorization_code", grant_code},
    {"refresh_token", grant_refresh},
};

int consent_token(h2o_req_t *req, const http_match_t *m)
{
    grant_t *g = h2o_mem_alloc_pool(&req->pool, sizeof(*g));
    consent_params_t p;
    char *refresh;

    app_cache_control(req, app_route_of(m), NULL);
    if ((g->kr = app_auth_keyring_or_reply(req)) == NULL || consent_params_of_form_or_reply(req, &p) != 0)
        return 0;
    if (p.duplicate != NULL) {
        consent_oauth_error(req, 400, "invalid_request", "a parameter was given more than once");
        return 0;
    }
    if (consent_client_or_reply(req, &p, &g->client) != 0)
        return 0;
    refresh = h2o_mem_alloc_pool(&req->pool, 48);
    if (auth_random_token(32, refresh, 48) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness.", NULL);
        return 0;
    }
    g->refresh = refresh;
    if (p.v[P_GRANT_TYPE] == NULL) {
        consent_oauth_error(req, 400, "invalid_request", "grant_type is required");
        return 0;
    }
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); ++i) {
        if (strcmp(p.v[P_GRANT_TYPE], grants[i].type) == 0) {
            grants[i].handle(req, &p, g);
            return 0;
        }
    }
    consent_oauth_error(req, 400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
    return 0;
}
