/*
 * consent/authorize — the authorization request: GET /oauth/authorize validates it (client, exact redirect_uri, PKCE
 * S256, scope) and shows the login (consent/login.h) or, with a session, the consent screen; POST /oauth/consent takes
 * the screen's decision (CSRF-checked) and redirects with a single-use code valid 60 s, or with error=access_denied.
 * Errors before the redirect_uri is known to be valid are problem pages; later ones redirect with error= (RFC 6749
 * 4.1.2.1).
 */
#ifndef KLIMA_CONSENT_AUTHORIZE_H
#define KLIMA_CONSENT_AUTHORIZE_H

#include <stdint.h>

#include "auth/keyring.h"
#include "consent/request.h"
#include "http/router.h"

/* An authorization request on its way through the checks (request pool). */
typedef struct consent_authz {
    consent_params_t p;
    int decision;      /* POST /oauth/consent: the screen's answer is being taken */
    const char *query; /* GET: the request's query string (the login returns to it) */
    const char *client_name;
    int first_party;
    uint32_t scopes;
    const char *household; /* of the browser's active login session, or NULL */
    const char *district;  /* the household's district, for "signed in as" */
    const auth_keyring_t *kr;
} consent_authz_t;

int consent_authorize(h2o_req_t *req, const http_match_t *m);
int consent_authorize_decision(h2o_req_t *req, const http_match_t *m);

#endif
