/*
 * consent/session — the citizen's login session: the klima_session cookie, a JWS of the service key naming the
 * household (audience klimaspejl:session, 30 minutes), set by the dev login or the OpenID Connect callback and read by
 * the authorization steps. Ending a session is setting the cookie again with Max-Age=0 (a logout route would do only
 * that).
 */
#ifndef KLIMA_CONSENT_SESSION_H
#define KLIMA_CONSENT_SESSION_H

#include <h2o.h>

#include "auth/keyring.h"

#define CONSENT_SESSION_TTL 1800

/* Sets the session cookie for household. Sends 500 and returns -1 when it cannot be signed. */
int consent_session_start_or_reply(h2o_req_t *req, const auth_keyring_t *kr, const char *household);

/* The household of req's valid session cookie (signature, audience, issuer, expiry), copied into the pool, or NULL. */
const char *consent_session_household(h2o_req_t *req, const auth_keyring_t *kr);

#endif
