/*
 * citizen/consents — the citizen's own consents: GET /v1/me/consents and DELETE /v1/me/consents/{id}. Both need a token
 * with the first-party scope consents:manage (only the city's own apps are granted it), so a third-party app can neither
 * list the household's other apps nor revoke their access; an app ends its own access through POST /oauth/revoke.
 */
#ifndef KLIMA_CITIZEN_CONSENTS_H
#define KLIMA_CITIZEN_CONSENTS_H

#include "http/router.h"

/* GET /v1/me/consents: every consent of the token's household, newest first (active, expired and revoked). */
int citizen_consents_list(h2o_req_t *req, const http_match_t *m);

/* DELETE /v1/me/consents/{id}: revokes one of the household's consents at once (every server thread refuses its tokens
 * within a second); 204, or 404 when the household has no such consent. */
int citizen_consents_delete(h2o_req_t *req, const http_match_t *m);

#endif
