/*
 * citizen/feedback — citizen feedback.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/catalog.h"
#include "app/db.h"
#include "app/route.h"
#include "citizen/feedback.h"
#include "core/strutil.h"
#include "geo/client.h"
#include "http/problem.h"
#include "http/respond.h"

#define FEEDBACK_MAX_MESSAGE 2000 /* characters (Unicode code points) */
#define FEEDBACK_MAX_BODY 16384   /* bytes */

/* A validated feedback body: strings point into its JSON. */
typedef struct citizen_feedback_input {
    const char *topic, *dataset, *message;
    int rating; /* 0 = none */
} citizen_feedback_input_t;

static const char *const topics[] = {"dataset", "dashboard", "data-error", "idea", NULL};

static const char feedback_add_sql[] =
    "SELECT feedback_id, received_at FROM api.feedback_add($1, $2, $3::integer, $4, $5, $6::uuid)";
static const char feedback_stats_sql[] = "SELECT month, topic, rating, count FROM api.feedback_stats()";

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; ++s)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* One field of the body: stores v into out, or returns the detail of why it is refused (the field names it). */
typedef const char *(*field_fn)(json_t *v, citizen_feedback_input_t *out);

static const char *field_topic(json_t *v, citizen_feedback_input_t *out)
{
    out->topic = json_string_value(v); /* checked against the topics once all fields are read */
    return NULL;
}

static const char *field_dataset(json_t *v, citizen_feedback_input_t *out)
{
    if (!json_is_null(v) && (out->dataset = json_string_value(v)) == NULL)
        return "'dataset' must be a dataset id (a string).";
    return NULL;
}

static const char *field_rating(json_t *v, citizen_feedback_input_t *out)
{
    if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 5))
        return "'rating' must be a whole number from 1 to 5.";
    out->rating = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    return NULL;
}

static const char *field_message(json_t *v, citizen_feedback_input_t *out)
{
    if (!json_is_null(v) && (out->message = json_string_value(v)) == NULL)
        return "'message' must be a string.";
    return NULL;
}

static const struct {
    const char *name;
    field_fn read;
} fields[] = {{"topic", field_topic}, {"dataset", field_dataset}, {"rating", field_rating}, {"message", field_message}};

/* Reads the fields of the object root into out. Returns 0, or -1 with *param and detail set. */
static int read_fields(json_t *root, citizen_feedback_input_t *out, const char **param, char *detail, size_t detail_size)
{
    const char *key, *why;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t f = 0;
        while (f < sizeof(fields) / sizeof(fields[0]) && strcmp(fields[f].name, key) != 0)
            ++f;
        if (f == sizeof(fields) / sizeof(fields[0])) {
            *param = "body";
            str_fmt(detail, detail_size, "Unknown field in the body; the fields are topic, dataset, rating and message.");
            return -1;
        }
        if ((why = fields[f].read(v, out)) != NULL) {
            *param = fields[f].name;
            str_fmt(detail, detail_size, "%s", why);
            return -1;
        }
    }
    return 0;
}

/* Validates a feedback body (JSON text). On success returns 0 and fills the out fields (pointing into *root, which the
 * caller json_decref-s); otherwise returns -1 with param (may be NULL) and detail set. dataset_known(id) decides
 * whether a dataset id exists. The fuzzer (tests/fuzz/fuzz_feedback.c) includes this file to call it. */
static int citizen_feedback_validate(const char *body, size_t len, int (*dataset_known)(const char *id, void *ctx), void *ctx,
                                     json_t **root, citizen_feedback_input_t *out, const char **param, char *detail,
                                     size_t detail_size)
{
    json_error_t jerr;
    int ok_topic = 0;

    memset(out, 0, sizeof(*out));
    *param = NULL;
    /* jansson refuses invalid UTF-8 and NUL bytes in strings */
    if ((*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        str_fmt(detail, detail_size, "The body is not valid JSON in UTF-8: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(*root)) {
        str_fmt(detail, detail_size, "The body must be a JSON object with topic, and message and/or rating.");
        return -1;
    }
    if (read_fields(*root, out, param, detail, detail_size) != 0)
        return -1;
    for (const char *const *t = topics; out->topic != NULL && *t != NULL; ++t)
        ok_topic |= strcmp(*t, out->topic) == 0;
    if (!ok_topic) {
        *param = "topic";
        str_fmt(detail, detail_size, "'topic' must be one of dataset, dashboard, data-error, idea.");
        return -1;
    }
    if (out->dataset != NULL && !dataset_known(out->dataset, ctx)) {
        *param = "dataset";
        str_fmt(detail, detail_size, "There is no such dataset; GET /v1/datasets lists them.");
        return -1;
    }
    if (out->message != NULL) {
        size_t chars = utf8_chars(out->message);
        /* the text is stored as given (it is never rendered as HTML by klimaspejl); only its size is limited */
        if (chars > FEEDBACK_MAX_MESSAGE) {
            *param = "message";
            str_fmt(detail, detail_size, "'message' may be at most %d characters; it has %zu.", FEEDBACK_MAX_MESSAGE, chars);
            return -1;
        }
        const char *p = out->message;
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            ++p;
        if (*p == '\0')
            out->message = NULL;
    }
    if (out->message == NULL && out->rating == 0) {
        *param = "message";
        str_fmt(detail, detail_size, "Give a message, a rating (1-5), or both.");
        return -1;
    }
    return 0;
}

static int catalog_has(const char *id, void *ctx)
{
    return app_catalog_find(ctx, id, strlen(id)) != NULL;
}

typedef struct feedback_state {
    const app_route_t *route;
    json_t *root; /* released when the request's pool is cleared */
    citizen_feedback_input_t in;
    char country[3], rating[4];
} feedback_state_t;

static void feedback_state_dispose(void *p)
{
    json_decref(((feedback_state_t *)p)->root);
}

static void on_added(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    feedback_state_t *st = data;
    if (!app_db_row_or_reply(req, status, res))
        return;
    char ts[40];
    str_fmt(ts, sizeof(ts), "%s", PQgetvalue(res, 0, 1));
    if (strlen(ts) > 10 && ts[10] == ' ')
        ts[10] = 'T';
    app_cache_control(req, st->route, NULL);
    http_send_json(req, 201,
                   json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "received_at", ts));
}

/* Stores the validated feedback; who (the verified token's principal) links a data-error report to its household:
 * api.feedback_add takes the consent id and finds the household and app itself. */
static void feedback_store(h2o_req_t *req, feedback_state_t *st, const app_principal_t *who)
{
    const citizen_feedback_input_t *in = &st->in;
    int linked = who != NULL && strcmp(in->topic, "data-error") == 0;
    const char *params[6] = {in->topic,
                             in->dataset,
                             in->rating != 0 ? st->rating : NULL,
                             in->message != NULL ? in->message : "",
                             st->country,
                             linked ? who->consent : NULL};
    app_db_query(req, feedback_add_sql, 6, params, on_added, st);
}

static void feedback_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    feedback_store(req, data, who);
}

int citizen_feedback_post(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat;
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    const char *param;
    char detail[300];
    feedback_state_t *st;
    citizen_feedback_input_t in;

    if (ct == -1 || !(req->headers.entries[ct].value.len >= 16 &&
                      h2o_lcstris(req->headers.entries[ct].value.base, 16, H2O_STRLIT("application/json")))) {
        http_problem_send(req, HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Send the feedback as application/json.", NULL);
        return 0;
    }
    if (req->entity.len > FEEDBACK_MAX_BODY) {
        http_problem_sendf(req, HTTP_PROBLEM_PAYLOAD_TOO_LARGE, NULL, "The body may be at most %d bytes.", FEEDBACK_MAX_BODY);
        return 0;
    }
    /* the rate limit (the route's class, feedback: KLIMA_RATE_FEEDBACK) was applied by app/gate.c before this handler ran */
    if ((cat = app_catalog_acquire(req)) == NULL)
        return 0;
    st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), feedback_state_dispose);
    st->root = NULL;
    st->route = app_route_of(m);
    if (citizen_feedback_validate(req->entity.base != NULL ? req->entity.base : "", req->entity.len, catalog_has, cat, &st->root,
                                  &in, &param, detail, sizeof(detail)) != 0) {
        http_problem_send(req, param != NULL ? HTTP_PROBLEM_INVALID_PARAMETER : HTTP_PROBLEM_BAD_REQUEST, detail, param);
        return 0;
    }
    st->in = in;
    geo_client_country(req, st->country);
    str_fmt(st->rating, sizeof(st->rating), "%d", in.rating);
    /* With a consent token (scope summary:read) a data-error report is linked to the household, so staff can look at
     * its data; the token is verified whatever the topic (a bad one is 401), but other topics stay anonymous. */
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) != -1) {
        app_auth_require(req, m, feedback_authorized, st);
        return 0;
    }
    feedback_store(req, st, NULL);
    return 0;
}

static void on_stats(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    json_t *rows;
    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    rows = json_array();
    for (int r = 0; r < PQntuples(res); ++r) {
        json_t *row = json_pack("{s:s, s:s, s:I}", "month", PQgetvalue(res, r, 0), "topic", PQgetvalue(res, r, 1), "count",
                                (json_int_t)strtoll(PQgetvalue(res, r, 3), NULL, 10));
        json_object_set_new(row, "rating",
                            PQgetisnull(res, r, 2) ? json_null() : json_integer(strtol(PQgetvalue(res, r, 2), NULL, 10)));
        json_array_append_new(rows, row);
    }
    app_cache_control(req, data, NULL);
    http_send_json(req, 200, json_pack("{s:o}", "rows", rows));
}

int citizen_feedback_stats(h2o_req_t *req, const http_match_t *m)
{
    app_db_read(req, feedback_stats_sql, 0, NULL, on_stats, (void *)app_route_of(m));
    return 0;
}
