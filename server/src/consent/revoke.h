/*
 * consent/revoke — POST /oauth/revoke (RFC 7009) for refresh and access tokens: revokes the consent behind the token
 * (every server thread refuses its access tokens within a second, NOTIFY klima_consent_revoked). An unknown or invalid
 * token is no error (RFC 7009 2.2); a failed client authentication is 401.
 */
#ifndef KLIMA_CONSENT_REVOKE_H
#define KLIMA_CONSENT_REVOKE_H

#include "http/router.h"

int consent_revoke(h2o_req_t *req, const http_match_t *m);

#endif
