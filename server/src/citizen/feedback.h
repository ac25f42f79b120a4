/*
 * citizen/feedback — POST /v1/feedback (citizen feedback, anonymous) and GET /v1/feedback/stats (published counts).
 * Stored without any IP address (the country is kept); rate-limited per client by a daily-salted address hash that
 * exists only in memory.
 */
#ifndef KLIMA_CITIZEN_FEEDBACK_H
#define KLIMA_CITIZEN_FEEDBACK_H

#include <jansson.h>

#include "http/router.h"

#define FEEDBACK_MAX_MESSAGE 2000 /* characters (Unicode code points) */
#define FEEDBACK_MAX_BODY 16384   /* bytes */

int citizen_feedback_post(h2o_req_t *req, const http_match_t *m);
int citizen_feedback_stats(h2o_req_t *req, const http_match_t *m);

/* Validates a feedback body (JSON text). On success returns 0 and fills the out fields (pointing into *root, which the
 * caller json_decref-s); otherwise returns -1 with param (may be NULL) and detail set. dataset_known(id) decides
 * whether a dataset id exists. Exposed for unit tests and the fuzzer. */
typedef struct citizen_feedback_input {
    const char *topic, *dataset, *message;
    int rating; /* 0 = none */
} citizen_feedback_input_t;
int citizen_feedback_validate(const char *body, size_t len, int (*dataset_known)(const char *id, void *ctx), void *ctx,
                          json_t **root, citizen_feedback_input_t *out, const char **param, char *detail, size_t detail_size);

#endif
