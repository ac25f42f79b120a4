/*
 * consent/pages — the pages of the consent flow, in Danish and English (the texts are one table): the dev login (demo
 * households), the consent screen (the app, each scope in plain words, a duration up to 3 years), and the page for a
 * citizen whose login is linked to no household. Every page is no-store, cannot be framed, and carries a strict
 * Content-Security-Policy; every value put into it is HTML-escaped.
 */
#ifndef KLIMA_CONSENT_PAGES_H
#define KLIMA_CONSENT_PAGES_H

#include <h2o.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "consent/authorize.h"
#include "consent/request.h"

/* The consent screen for the authorization request a (its client, the scopes it asks for; a->household signed in): who is
 * signed in (the household's district and the start of its id) with a "Not you?" form that signs out (POST
 * /oauth/logout with the request, which then starts again at the login), and the decision form posting to
 * /oauth/consent with the CSRF token of the session. */
void consent_page_consent(h2o_req_t *req, const consent_authz_t *a);

/* The dev login: one radio button per demo household of res (household_id, district, dwelling_type, occupant_band),
 * posting to /oauth/login with query (the authorization request's query string, to return to). */
void consent_page_login(h2o_req_t *req, const consent_params_t *p, const char *query, const PGresult *res);

/* 403: the login worked, but no household is linked to it; both languages, and a link back to the app with
 * error=access_denied when p names its redirect_uri. */
void consent_page_unlinked(h2o_req_t *req, const consent_params_t *p);

#endif
