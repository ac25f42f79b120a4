/*
 * consent/logout — POST /oauth/logout: ends the browser's login session at the consent service (server-side, so it is
 * over on every instance) and drops the session cookie. The dashboard's "Log ud" calls it; the consent screen's "Not
 * you?" form posts it with the authorization request (q), and the browser then starts that request again, at the login.
 * Origin-checked (consent_origin_check_or_reply); a csrf field, when sent, must be the session's token.
 */
#ifndef KLIMA_CONSENT_LOGOUT_H
#define KLIMA_CONSENT_LOGOUT_H

#include <h2o.h>

#include "http/router.h"

int consent_logout(h2o_req_t *req, const http_match_t *m);

#endif
