/*
 * citizen/feedback — POST /v1/feedback (citizen feedback, anonymous) and GET /v1/feedback/stats (published counts).
 * Stored without any IP address (the country is kept); rate-limited per client by a daily-salted address hash that
 * exists only in memory.
 */
#ifndef KLIMA_CITIZEN_FEEDBACK_H
#define KLIMA_CITIZEN_FEEDBACK_H

#include "http/router.h"

/* POST /v1/feedback: a JSON body of at most 16 KiB, {topic, dataset?, rating?, message?} with a message of at most 2,000
 * characters; 201 with its id, or 400 naming the field. */
int citizen_feedback_post(h2o_req_t *req, const http_match_t *m);

/* GET /v1/feedback/stats: counts per month, topic and rating. */
int citizen_feedback_stats(h2o_req_t *req, const http_match_t *m);

#endif
