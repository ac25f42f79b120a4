/*
 * consent/wellknown — GET /.well-known/jwks.json (the public keys; an empty set when the consent service is off) and GET
 * /.well-known/oauth-authorization-server (RFC 8414 metadata, URLs from the issuer).
 */
#ifndef KLIMA_CONSENT_WELLKNOWN_H
#define KLIMA_CONSENT_WELLKNOWN_H

#include "http/router.h"

int consent_wellknown_jwks(h2o_req_t *req, const http_match_t *m);
int consent_wellknown_metadata(h2o_req_t *req, const http_match_t *m);

#endif
