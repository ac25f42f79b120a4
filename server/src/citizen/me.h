/*
 * citizen/me — the citizen's own data, with a consent token (app/auth.h): the monthly climate summary with feedback
 * (GET /v1/me/summary), time series (GET /v1/me/energy|waste|mobility) and the full export (GET /v1/me/export).
 * Data is read only through the api SECURITY DEFINER functions, with the household the verified token names.
 */
#ifndef KLIMA_CITIZEN_ME_H
#define KLIMA_CITIZEN_ME_H

#include <jansson.h>

#include "http/router.h"

int citizen_me_summary(h2o_req_t *req, const http_match_t *m);
int citizen_me_energy(h2o_req_t *req, const http_match_t *m);
int citizen_me_waste(h2o_req_t *req, const http_match_t *m);
int citizen_me_mobility(h2o_req_t *req, const http_match_t *m);
int citizen_me_export(h2o_req_t *req, const http_match_t *m);

/* Adds the feedback a citizen reads to a summary from api.me_summary (in place): the rating in words that praise low
 * users, the KP2035 path for the month's year, and up to three tips ranked by the kg CO2e this household could save,
 * each computed from its own figures — texts in `lang` ("da" or "en"). Exposed for unit tests. */
void citizen_me_feedback(json_t *summary, const char *lang);

/* The KP2035 target in tonnes CO2e per person and year for `year`: 10 t in 2019, 7.5 t in 2030 (-25 %), 5 t in 2035,
 * straight lines between, 5 t after 2035. */
double citizen_me_kp2035_target(int year);

#endif
