/*
 * http/problem — every error response of the project goes through here: RFC 9457 application/problem+json.
 */
#ifndef KLIMA_HTTP_PROBLEM_H
#define KLIMA_HTTP_PROBLEM_H

#include <h2o.h>

/* The kinds of problem; each has a fixed type URI (/docs/problems#<slug>), title and HTTP status. */
typedef enum http_problem_kind {
    HTTP_PROBLEM_BAD_REQUEST,
    HTTP_PROBLEM_INVALID_PARAMETER,
    HTTP_PROBLEM_UNAUTHORIZED,
    HTTP_PROBLEM_FORBIDDEN,
    HTTP_PROBLEM_NOT_FOUND,
    HTTP_PROBLEM_METHOD_NOT_ALLOWED,
    HTTP_PROBLEM_NOT_ACCEPTABLE,
    HTTP_PROBLEM_GONE,
    HTTP_PROBLEM_PAYLOAD_TOO_LARGE,
    HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE,
    HTTP_PROBLEM_TOO_MANY_REQUESTS,
    HTTP_PROBLEM_HEADERS_TOO_LARGE,
    HTTP_PROBLEM_URI_TOO_LONG,
    HTTP_PROBLEM_INTERNAL,
    HTTP_PROBLEM_DB_UNAVAILABLE,
    HTTP_PROBLEM_DB_TIMEOUT,
    HTTP_PROBLEM_SHUTTING_DOWN,
    HTTP_PROBLEM_BUSY,
    HTTP_PROBLEM_INVALID_TOKEN,
    HTTP_PROBLEM_INSUFFICIENT_SCOPE,
    HTTP_PROBLEM_CONSENT_UNAVAILABLE,
    HTTP_PROBLEM_COUNTRY_NOT_ALLOWED,
    HTTP_PROBLEM_ORIGIN_NOT_ALLOWED,
    HTTP_PROBLEM__COUNT
} http_problem_kind_t;

typedef struct http_problem_info {
    const char *slug;
    int status;
    const char *title;
} http_problem_info_t;

/* The table of kinds, indexed by http_problem_kind_t (also used to list them in the spec test). */
extern const http_problem_info_t http_problem_table[HTTP_PROBLEM__COUNT];

/* Sends the problem. detail is a sentence for the reader (may be NULL); parameter names the offending request parameter
 * (NULL if none). Headers the caller added to req->res.headers before the call (Allow, Retry-After, WWW-Authenticate)
 * are kept. The body is allocated from the request's pool. */
void http_problem_send(h2o_req_t *req, http_problem_kind_t kind, const char *detail, const char *parameter);

/* printf-style detail. */
void http_problem_sendf(h2o_req_t *req, http_problem_kind_t kind, const char *parameter, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
