/*
 * http/request — reading a request: its query string, decoded into parameters (the 400 sent here when it is not valid
 * form encoding), and the language it asks for.
 */
#ifndef KLIMA_HTTP_REQUEST_H
#define KLIMA_HTTP_REQUEST_H

#include <h2o.h>

#include "core/qs.h"

/* The query string of req (after '?', not decoded) and its length; "" and 0 when there is none. */
const char *http_query_string(h2o_req_t *req, size_t *len);

/* Decodes req's query string (core/qs.h) into params[0..max), the strings in req's pool; stores the count in *n.
 * Returns 0, or -1 after answering 400: more than max parameters, a malformed percent-escape, or text that is not
 * UTF-8 once decoded (invalid-parameter naming it). */
int http_query_params_or_reply(h2o_req_t *req, qs_param_t *params, size_t max, size_t *n);

/* Decodes req's query string and takes exactly the parameters named in names[0..n), each at most once, into
 * values[0..n) (NULL when absent; the strings live in req's pool). Returns 0, or -1 after answering 400: malformed
 * encoding (as http_query_params_or_reply), or a name not in names or given twice (invalid-parameter naming it). */
int http_query_take_or_reply(h2o_req_t *req, const char *const *names, const char **values, size_t n);

/* The language of titles and texts for req: ?lang=da|en, else Accept-Language (Danish when it starts with da or nb),
 * else English. Returns the static string "da" or "en". */
const char *http_request_lang(h2o_req_t *req);

#endif
