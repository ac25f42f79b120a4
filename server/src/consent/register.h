/*
 * consent/register — dynamic client registration (RFC 7591): POST /oauth/register.
 */
#ifndef KLIMA_CONSENT_REGISTER_H
#define KLIMA_CONSENT_REGISTER_H

#include "http/router.h"

/* POST /oauth/register: registers an app from its JSON metadata (redirect_uris, client_name, token_endpoint_auth_method,
 * grant_types, response_types, scope, contacts), checked here before any SQL; answers 201 with the client_id (and the
 * client_secret of a confidential client, shown once) and `status`: active at once without personal scopes, pending
 * until an operator approves it with them. Bad metadata is a 400 problem naming the field, with RFC 7591's `error`
 * (invalid_redirect_uri, invalid_client_metadata) as extension members. */
int consent_register(h2o_req_t *req, const http_match_t *m);

#endif
