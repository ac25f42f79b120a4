/*
 * consent/module — the OAuth 2.0 authorization server (RFC 6749 with PKCE S256 only, RFC 7009, RFC 8414) as an app
 * module: its part of the route table and its settings — the citizens' OpenID Connect identity provider (KLIMA_OIDC_*),
 * the built-in dev login (KLIMA_DEV_LOGIN=1 only, and on loopback without TLS unless =force). The steps live one per
 * file: request (parameters, cookies, Origin, errors), pages, session (the session cookie and its CSRF token),
 * authorize (the request and the consent decision), login (dev and OIDC), logout, token (one table of grant handlers),
 * revoke, wellknown. Browser state is one cookie, __Host-klima_session: a random session id whose signed-in state lives
 * in the database (consent/session.h). Nothing here logs a token, a session id or a household id.
 */
#ifndef KLIMA_CONSENT_MODULE_H
#define KLIMA_CONSENT_MODULE_H

#include "app/app.h"
#include "auth/oidc.h"

extern const app_module_t consent_module;

/* The citizens' OpenID Connect identity provider, or NULL when KLIMA_OIDC_* is not set. */
const auth_oidc_t *consent_oidc(void);

/* Whether the built-in dev login is on (KLIMA_DEV_LOGIN=1). */
int consent_dev_login(void);

#endif
