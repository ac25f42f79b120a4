/*
 * consent/request — what every step of the consent service reads from a request and how it answers: the OAuth
 * parameters (one table of names; a repeated one is recorded, RFC 6749 3.1), the form body, the browser's cookies and
 * its CSRF token, redirects (to this service or back to the app with error=, RFC 6749 4.1.2.1), client authentication
 * (RFC 6749 2.3.1) and the JSON errors of the token and revocation endpoints (RFC 6749 5.2). Secrets that reach the
 * database (codes, refresh tokens, client secrets, the OIDC state and nonce) go as the bytea literal of their SHA-256.
 */
#ifndef KLIMA_CONSENT_REQUEST_H
#define KLIMA_CONSENT_REQUEST_H

#include <h2o.h>

#include "core/sbuf.h"

#define CONSENT_MAX_BODY 16384

/* Every parameter the endpoints read. The first ones, up to P_LANG, are the authorization request's (the consent form
 * carries them along). */
typedef enum consent_param {
    P_RESPONSE_TYPE,
    P_CLIENT_ID,
    P_REDIRECT_URI,
    P_STATE,
    P_SCOPE,
    P_CODE_CHALLENGE,
    P_CODE_CHALLENGE_METHOD,
    P_LANG,
    P_CSRF,
    P_DECISION,
    P_DAYS,
    P_HOUSEHOLD,
    P_Q,
    P_GRANT_TYPE,
    P_CODE,
    P_CODE_VERIFIER,
    P_REFRESH_TOKEN,
    P_CLIENT_SECRET,
    P_TOKEN,
    P_TOKEN_TYPE_HINT,
    P_ID_TOKEN,
    P_ERROR,
    P__COUNT
} consent_param_t;

extern const char *const consent_param_names[P__COUNT];

typedef struct consent_params {
    const char *v[P__COUNT];
    const char *duplicate; /* the first repeated parameter's name, or NULL */
} consent_params_t;

/* Decodes s[0..len) (form-urlencoded) into p, strings in req's pool; unknown names are ignored. Returns 0, or -1 when it
 * is malformed. */
int consent_params_parse(h2o_req_t *req, const char *s, size_t len, consent_params_t *p);

/* The query string's parameters; sends 400 and returns -1 when it is malformed. */
int consent_params_of_query_or_reply(h2o_req_t *req, consent_params_t *p);

/* The form body of a POST (application/x-www-form-urlencoded, at most CONSENT_MAX_BODY bytes); sends 415/413/400 and
 * returns -1 when there is none usable. */
int consent_params_of_form_or_reply(h2o_req_t *req, consent_params_t *p);

/* The language of the pages: a valid lang parameter, else http_request_lang. */
const char *consent_lang(h2o_req_t *req, const consent_params_t *p);

/* The bytea literal of SHA-256(s) ("\\x..." hex), allocated from req's pool. */
char *consent_hash_param(h2o_req_t *req, const char *s);

/* Appends s percent-encoded (RFC 3986 unreserved characters stay). */
void consent_pct_encode(sbuf_t *b, const char *s);

/* The value of cookie name in req, copied into the pool; NULL when it is missing or given more than once. */
const char *consent_cookie_get(h2o_req_t *req, const char *name);

/* Sets cookie name=value on the response: Path=/, Max-Age=max_age (0 deletes it), Secure, HttpOnly, SameSite=Lax — what
 * the __Host- prefix of the names asks for, with and without TLS (browsers accept Secure cookies from http://localhost
 * and http://127.0.0.1; README "Sign-in, sign-out and cookies"). */
void consent_cookie_set(h2o_req_t *req, const char *name, const char *value, int max_age);

/* For the state-changing forms of the consent pages (login, consent, logout): when the request names where it comes
 * from (Origin, else Referer), that must be this service — the issuer's origin or the Host the request was sent to.
 * Sends 403 and returns -1 otherwise ("null" and a repeated Origin included). A request with neither (not a browser's
 * cross-site form) passes: the CSRF token and the session still apply. The token and revocation endpoints do not call
 * this: apps call them from their own origins by design (CORS), with no cookie involved. */
int consent_origin_check_or_reply(h2o_req_t *req);

/* Whether q is plain printable ASCII that may go into a Location header (a stored authorization request). */
int consent_query_safe(const char *q);

/* Redirects (status 302 or 303) to url and frees it; 500 when url failed (out of memory). The fields set so far (cookies,
 * Cache-Control) go out with it. */
void consent_redirect(h2o_req_t *req, int status, sbuf_t *url);

/* Appends to u the app's redirect_uri with error= and error_description= (RFC 6749 4.1.2.1) and the state echoed. */
void consent_error_url(sbuf_t *u, const char *redirect_uri, const char *state, const char *error, const char *description);

/* Redirects (303) to the app's redirect_uri with the error. */
void consent_redirect_error(h2o_req_t *req, const char *redirect_uri, const char *state, const char *error,
                            const char *description);

/* RFC 6749 5.2 error: {"error", "error_description"} with status (401 adds WWW-Authenticate: Basic). */
void consent_oauth_error(h2o_req_t *req, int status, const char *error, const char *description);

/* The authenticated client of a token or revocation request (RFC 6749 2.3.1). */
typedef struct consent_client {
    const char *client_id;
    const char *secret_hash; /* bytea literal, or NULL for a public client */
} consent_client_t;

/* HTTP Basic or client_id (+ client_secret) in the form into *out; sends the RFC 6749 error and returns -1 when the
 * credentials are malformed (their check against the database comes later). */
int consent_client_or_reply(h2o_req_t *req, const consent_params_t *p, consent_client_t *out);

#endif
