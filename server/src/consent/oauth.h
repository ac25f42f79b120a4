/*
 * consent/oauth — the OAuth 2.0 authorization server (RFC 6749 with PKCE S256 only, RFC 7009, RFC 8414) and its pages:
 * the citizen login (the OpenID Connect identity provider, KLIMA_OIDC_*, or the built-in dev login, KLIMA_DEV_LOGIN=1
 * only) and the consent screen in Danish and English.
 */
#ifndef KLIMA_CONSENT_OAUTH_H
#define KLIMA_CONSENT_OAUTH_H

#include "http/router.h"

/* GET /oauth/authorize: validates the request (client, exact redirect_uri, PKCE S256, scope) and shows the login page or
 * the consent screen. Errors before the redirect_uri is known to be valid are problem pages; later ones redirect with
 * error= (RFC 6749 4.1.2.1). */
int consent_oauth_authorize(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/login: the dev login form (CSRF-checked); sets the session cookie and returns to /oauth/authorize. */
int consent_oauth_login(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/oidc/callback: the identity provider's form_post answer (id_token and state, or error and state). A valid
 * id_token of a linked subject sets the session cookie and returns (303) to /oauth/authorize, which shows the consent
 * screen; error= goes back to the app's redirect_uri (access_denied, RFC 6749 4.1.2.1); an invalid id_token, nonce or
 * state is a 400 problem naming the failed check (never echoing the token); an unlinked subject gets a 403 page in
 * Danish and English. */
int consent_oauth_oidc_callback(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/consent: the consent screen's decision (CSRF-checked); redirects with a single-use code valid 60 s, or
 * with error=access_denied. */
int consent_oauth_consent(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/token: grant_type authorization_code (with code_verifier) or refresh_token (rotating; reuse revokes the
 * consent). Errors are RFC 6749 5.2 JSON. */
int consent_oauth_token(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/revoke: RFC 7009 for refresh and access tokens; revokes the consent behind the token. */
int consent_oauth_revoke(h2o_req_t *req, const http_match_t *m);

/* GET /.well-known/jwks.json: the public keys. */
int consent_oauth_jwks(h2o_req_t *req, const http_match_t *m);

/* GET /.well-known/oauth-authorization-server: RFC 8414 metadata. */
int consent_oauth_metadata(h2o_req_t *req, const http_match_t *m);

#endif
