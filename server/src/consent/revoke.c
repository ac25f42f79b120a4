/*
 * consent/revoke — the revocation endpoint.
 */
#include <string.h>
#include <time.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "auth/token.h"
#include "consent/request.h"
#include "consent/revoke.h"
#include "http/respond.h"

static const char revoke_sql[] = "SELECT api.oauth_revoke($1::bytea, $2::uuid, $3::text, $4::bytea)";

static void on_revoked(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (!app_db_row_or_reply(req, status, res))
        return;
    if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
        consent_oauth_error(req, 401, "invalid_client", "client authentication failed");
        return;
    }
    http_send_bytes(req, 200, "application/json", "{}", 2);
}

int consent_revoke(h2o_req_t *req, const http_match_t *m)
{
    const auth_keyring_t *kr;
    consent_params_t p;
    consent_client_t client;
    const char *token_hash = NULL, *consent = NULL;

    app_cache_control(req, app_route_of(m), NULL);
    if ((kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (consent_params_of_form_or_reply(req, &p) != 0 || consent_client_or_reply(req, &p, &client) != 0)
        return 0;
    if (p.v[P_TOKEN] == NULL) {
        consent_oauth_error(req, 400, "invalid_request", "token is required");
        return 0;
    }
    if (strchr(p.v[P_TOKEN], '.') != NULL) {
        auth_claims_t c;
        /* an access token: revoke its consent if it verifies (RFC 7009: an invalid token is no error) */
        if (auth_token_verify(kr, app_auth_issuer(), NULL, p.v[P_TOKEN], strlen(p.v[P_TOKEN]), (int64_t)time(NULL), &c) ==
            AUTH_TOKEN_OK) {
            char *cid = h2o_mem_alloc_pool(&req->pool, sizeof(c.cid));
            memcpy(cid, c.cid, sizeof(c.cid));
            consent = cid;
        }
    } else {
        token_hash = consent_hash_param(req, p.v[P_TOKEN]);
    }
    {
        const char *params[4] = {token_hash, consent, client.client_id, client.secret_hash};
        app_db_query(req, revoke_sql, 4, params, on_revoked, NULL);
    }
    return 0;
}
