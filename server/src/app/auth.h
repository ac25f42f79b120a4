/*
 * app/auth — bearer-token authentication of personal routes (RFC 6750) and the service's signing keys: the keyring
 * (KLIMA_KEYS_DIR), the issuer, and each worker's verified-token cache, emptied per consent by NOTIFY
 * klima_consent_revoked. A route's scope comes from its route-table entry.
 */
#ifndef KLIMA_APP_AUTH_H
#define KLIMA_APP_AUTH_H

#include <h2o.h>
#include <stdint.h>

#include "app/app.h"
#include "auth/keyring.h"
#include "http/router.h"

/* Who a verified consent token speaks for. */
typedef struct app_principal {
    char household[37]; /* the household pseudonym (token sub); never log it */
    char client[65];    /* the client id (aud) */
    char consent[37];   /* the consent id (cid) */
    uint32_t scopes;    /* auth/scope.h mask */
} app_principal_t;

/* Continues a request once its token is verified; who is valid only during the call. */
typedef void (*app_auth_cb)(h2o_req_t *req, void *state, const app_principal_t *who);

/* The module: loads the keyring at start (when KLIMA_KEYS_DIR is unset the consent service is off and its routes answer
 * 503; a keyring that fails to load stops the server, naming the setting), keeps each worker's token cache and counts
 * refusals in klimaspejl_token_rejections_total{reason}. */
extern const app_module_t app_auth_module;

/* Authenticates req's `Authorization: Bearer` token for the scope of the route m matched (its route-table entry; none
 * when the entry has none). A token seen before on this thread costs a hash and a cache lookup, and cb runs before
 * this call returns; otherwise the signature and claims are verified (auth/token.h) and the consent is checked in the
 * database (active, not expired, the client still registered), and cb runs later — or never, if the client has gone
 * away meanwhile. On failure this sends the answer itself and cb is not called: 401 with `WWW-Authenticate: Bearer ...
 * error="invalid_token", error_description="<check>"` and a problem+json naming the failed check (the token is never
 * echoed); 403 with error="insufficient_scope" for a missing scope; 503 when the consent service or the database is
 * unavailable. The handler returns 0 to h2o afterwards in every case. */
void app_auth_require(h2o_req_t *req, const http_match_t *m, app_auth_cb cb, void *state);

/* For the rate limiter (app/gate.c): when req carries `Authorization: Bearer <token>` and this thread has verified the
 * token before (a cache hit: no signature check, no database), copies its client id (aud) to client and returns 1;
 * otherwise 0. The token's hash is remembered, so app_auth_require on the same token does not hash it again. */
int app_auth_cached_client(h2o_req_t *req, char client[65]);

/* The keyring, or NULL when the consent service is off. */
const auth_keyring_t *app_auth_keyring(void);

/* Sends 503 "the consent service is not configured" when the keyring is missing and returns NULL; else the keyring. */
const auth_keyring_t *app_auth_keyring_or_reply(h2o_req_t *req);

/* 401 invalid_token with its WWW-Authenticate header, for a database function that found the token's consent no longer
 * active (revoked or expired after this thread verified and cached the token; SQLSTATE 28000 from the api functions,
 * answered so by app/db.c's failure table). */
void app_auth_reply_consent_inactive(h2o_req_t *req);

/* The server secret, for values the server hands out and must recognise again (records cursors, CSRF tokens): each
 * signing key has one (auth_key_t.secret), so it rotates with the keys and every instance sharing KLIMA_KEYS_DIR agrees;
 * without KLIMA_KEYS_DIR a random one is made at start (such values then hold only until the server restarts).
 * app_auth_mac writes HMAC-SHA-256 of msg under the current secret, keyed for purpose (a short label such as "cursor"),
 * into out. app_auth_mac_verify tells (1/0) whether mac[0..maclen) (8 to 32 bytes: a prefix of the full MAC) is msg's
 * MAC for purpose under the current or any older key's secret, in constant time. Any thread. */
void app_auth_mac(const char *purpose, const void *msg, size_t len, unsigned char out[32]);
int app_auth_mac_verify(const char *purpose, const void *msg, size_t len, const unsigned char *mac, size_t maclen);

/* The issuer (iss) of this service's tokens, also the base of the metadata URLs. */
const char *app_auth_issuer(void);

#endif
