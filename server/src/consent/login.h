/*
 * consent/login — how a citizen logs in before the consent screen. In production, the city's OpenID Connect identity
 * provider (KLIMA_OIDC_*): without a back channel to it, the login is the id_token flow with response_mode=form_post —
 * the pending authorization request is stored under SHA-256(state) with SHA-256(nonce) (api.oidc_request_create), the
 * browser goes to the provider, and the provider's page posts id_token and state to POST /oauth/oidc/callback, where the
 * token is verified (auth/oidc.h) and api.oidc_login takes the pending request (once), compares the nonce and finds the
 * household of the token's subject. The state is the callback's CSRF protection: 256 random bits, bound to one pending
 * request and used once. The form_post is a cross-site POST, which carries no SameSite=Lax cookie, so the callback's own
 * response sets the session cookie; the 303 back to /oauth/authorize is a top-level GET that carries it. In development
 * (KLIMA_DEV_LOGIN=1 only) a page picks a demo household instead (POST /oauth/login, CSRF-checked).
 */
#ifndef KLIMA_CONSENT_LOGIN_H
#define KLIMA_CONSENT_LOGIN_H

#include "consent/authorize.h"
#include "http/router.h"

/* No session yet, an identity provider configured: stores the request and sends the browser (302) to the provider. */
void consent_login_oidc_start(h2o_req_t *req, consent_authz_t *a);

/* No session yet, the dev login on: the page of demo households. */
void consent_login_dev_page(h2o_req_t *req, consent_authz_t *a);

/* POST /oauth/login: the dev login form; sets the session cookie and returns (303) to /oauth/authorize. */
int consent_login_dev(h2o_req_t *req, const http_match_t *m);

/* POST /oauth/oidc/callback: the identity provider's answer (id_token and state, or error and state). A valid id_token
 * of a linked subject sets the session cookie and returns (303) to /oauth/authorize; error= goes back to the app's
 * redirect_uri (access_denied, or temporarily_unavailable for the provider's outage); an invalid id_token, nonce or
 * state is a 400 problem naming the failed check (never echoing the token); an unlinked subject gets the 403 page. */
int consent_login_oidc_callback(h2o_req_t *req, const http_match_t *m);

#endif
