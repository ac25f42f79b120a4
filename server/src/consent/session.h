/*
 * consent/session — the browser's session at the consent service and the CSRF token bound to it. The browser holds
 * only a random 256-bit session id in the cookie __Host-klima_session (Path=/, Secure, HttpOnly, SameSite=Lax: the
 * __Host- prefix means no other site, subdomain or plain-HTTP page can set or overwrite it). The database keeps the
 * SHA-256 of a signed-in session's id with its household (api.login_session_start at the login, api.login_session to
 * read it, api.login_session_end at POST /oauth/logout), so signing out ends the login on every instance at once. Before
 * the login the id is anonymous (in no table): it only anchors the CSRF token of the login form. The CSRF token of a
 * form is HMAC-SHA-256 of the session id under the server secret (app_auth_mac, purpose "csrf"): there is no CSRF
 * cookie to plant, and a token is worth nothing with another session. The login always starts a new id (no session
 * fixation).
 */
#ifndef KLIMA_CONSENT_SESSION_H
#define KLIMA_CONSENT_SESSION_H

#include <h2o.h>

#include "consent/request.h"

#define CONSENT_SESSION_COOKIE "__Host-klima_session"
#define CONSENT_SESSION_TTL 1800

/* The bytea literal of the SHA-256 of req's session id (the key of api.login_session*), or NULL without a session. */
const char *consent_session_hash(h2o_req_t *req);

/* A new random session id for a login (never the one the login form was shown with: no session fixation), in the pool;
 * NULL (and 500 sent) without randomness. Its SHA-256 (consent_hash_param) goes to api.login_session_start; once that
 * succeeded, consent_session_set makes it the browser's cookie. */
const char *consent_session_new_or_reply(h2o_req_t *req);
void consent_session_set(h2o_req_t *req, const char *sid);

/* Expires the session cookie (the response tells the browser to drop it). */
void consent_session_clear(h2o_req_t *req);

/* The CSRF token for a form of req's page: bound to the browser's session, which is started (anonymous, cookie set)
 * when it has none. NULL (and 500 sent) without randomness. */
const char *consent_csrf_token_or_reply(h2o_req_t *req);

/* Checks the form's csrf against req's session; sends 403 naming csrf and returns -1 when it is missing or is not the
 * token of this browser's session. */
int consent_csrf_check_or_reply(h2o_req_t *req, const consent_params_t *p);

#endif
