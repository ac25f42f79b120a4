/*
 * citizen/me — the citizen's own data, with a consent token (app/auth.h): the monthly climate summary with feedback
 * (GET /v1/me/summary), its months for charts (GET /v1/me/history), time series (GET /v1/me/energy|waste|mobility) and the full
 * export (GET /v1/me/export). Data is read only through the api SECURITY DEFINER functions, with the household the verified token
 * names.
 */
#ifndef KLIMA_CITIZEN_ME_H
#define KLIMA_CITIZEN_ME_H

#include "http/router.h"

int citizen_me_summary(h2o_req_t *req, const http_match_t *m);
/* GET /v1/me/history?from=YYYY-MM&to=YYYY-MM (summary:read): the household's months with its comparison group's median,
 * at most 24 (api.me_history); a bad month is a 400 naming it. */
int citizen_me_history(h2o_req_t *req, const http_match_t *m);
int citizen_me_energy(h2o_req_t *req, const http_match_t *m);
int citizen_me_waste(h2o_req_t *req, const http_match_t *m);
int citizen_me_mobility(h2o_req_t *req, const http_match_t *m);
int citizen_me_export(h2o_req_t *req, const http_match_t *m);

#endif
