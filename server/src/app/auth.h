/*
 * app/auth — bearer-token authentication of personal routes (RFC 6750) and the consent service's shared state: the
 * keyring, the issuer, and each worker's verified-token cache (emptied per consent by NOTIFY klima_consent_revoked).
 */
#ifndef KLIMA_APP_AUTH_H
#define KLIMA_APP_AUTH_H

#include <h2o.h>
#include <stdint.h>

#include "app/app.h"
#include "auth/keyring.h"
#include "auth/oidc.h"
#include "core/config.h"

/* Who a verified consent token speaks for. */
typedef struct app_principal {
    char household[37]; /* the household pseudonym (token sub); never log it */
    char client[65];    /* the client id (aud) */
    char consent[37];   /* the consent id (cid) */
    uint32_t scopes;    /* auth/scope.h mask */
} app_principal_t;

/* Continues a request once its token is verified; who is valid only during the call. */
typedef void (*app_auth_cb)(h2o_req_t *req, void *state, const app_principal_t *who);

/* Authenticates req's `Authorization: Bearer` token for scope (a name from auth/scope.c, or NULL for none). A token
 * seen before on this thread costs a hash and a cache lookup, and cb runs before this call returns; otherwise the
 * signature and claims are verified (auth/token.h) and the consent is checked in the database (active, not expired, the
 * client still registered), and cb runs later — or never, if the client has gone away meanwhile. On failure this sends
 * the answer itself and cb is not called: 401 with `WWW-Authenticate: Bearer ... error="invalid_token",
 * error_description="<check>"` and a problem+json naming the failed check (the token is never echoed); 403 with
 * error="insufficient_scope" for a missing scope; 503 when the consent service or the database is unavailable.
 * The handler returns 0 to h2o afterwards in every case. */
void app_auth_require(h2o_req_t *req, const char *scope, app_auth_cb cb, void *state);

/* For the rate limiter (app/gate.c): when req carries `Authorization: Bearer <token>` and this thread has verified the
 * token before (a cache hit: no signature check, no database), copies its client id (aud) to client and returns 1;
 * otherwise 0. The token's hash is remembered, so app_auth_require on the same token does not hash it again. */
int app_auth_cached_client(h2o_req_t *req, char client[65]);

/* Loads the keyring (KLIMA_KEYS_DIR) and the citizens' identity provider (KLIMA_OIDC_*), and remembers the issuer and
 * dev-login setting; called once by app_start. When KLIMA_KEYS_DIR is unset the consent service is off (its routes
 * answer 503) and 0 is returned; a keyring that fails to load, or an incomplete or invalid OIDC setting (any one set
 * asks for all), returns -1 with the reason (naming the setting) in err. */
int app_auth_start(const config_t *cfg, char *err, size_t errlen);

/* Releases what app_auth_start loaded (after the workers stopped). */
void app_auth_stop(void);

/* The keyring, or NULL when the consent service is off. */
const auth_keyring_t *app_auth_keyring(void);

/* The issuer (iss) of this service's tokens, also the base of the metadata URLs. */
const char *app_auth_issuer(void);

/* Whether the built-in dev login is on (KLIMA_DEV_LOGIN=1). */
int app_auth_dev_login(void);

/* The citizens' OpenID Connect identity provider, or NULL when KLIMA_OIDC_* is not set. */
const auth_oidc_t *app_auth_oidc(void);

/* Whether cookies must carry Secure (TLS is configured). */
int app_auth_secure_cookies(void);

/* Sends 503 "the consent service is not configured" when the keyring is missing and returns NULL; else the keyring. */
const auth_keyring_t *app_auth_keyring_or_reply(h2o_req_t *req);

/* Per-worker set-up and tear-down of the token cache (called from app/app.c). Returns 0, or -1 when out of memory. */
int app_auth_worker_start(app_worker_t *aw);
void app_auth_worker_stop(app_worker_t *aw);

/* A consent was revoked (NOTIFY payload: its id): drops this worker's cached tokens of it. consent_id NULL: the
 * notification listener (re)connected and may have missed revocations: drops every cached token. */
void app_auth_on_revoked(app_worker_t *aw, const char *consent_id);

#endif
