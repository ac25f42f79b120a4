/*
 * consent/token — POST /oauth/token: the grants of one table (authorization_code with code_verifier, refresh_token),
 * each checked in the database in one call, answering an access token (a consent JWT of at most 1 h, auth/token.h) and
 * a new opaque refresh token (stored hashed and rotated on every use; reusing an old one revokes the whole consent).
 * Errors are RFC 6749 5.2 JSON.
 */
#ifndef KLIMA_CONSENT_TOKEN_H
#define KLIMA_CONSENT_TOKEN_H

#include "http/router.h"

int consent_token(h2o_req_t *req, const http_match_t *m);

#endif
