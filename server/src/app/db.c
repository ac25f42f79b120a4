/*
 * app/db — the guarded database call and the failure table.
 */
#include <string.h>

#include "app/app.h"
#include "app/auth.h"
#include "app/db.h"
#include "core/log.h"
#include "core/strutil.h"
#include "http/problem.h"

/* The one table from a database failure to its answer; the first row that fits wins. */
static const struct {
    db_status_t status;
    const char *sqlstate; /* a prefix; NULL = any */
    unsigned kind;        /* the row applies only to queries of this kind (APP_DB_* flag); 0: to every query */
    http_problem_kind_t problem;
    int retry;                     /* add Retry-After (from the pool) */
    const char *detail;            /* NULL: PostgreSQL's own message (data exceptions: it names the value) */
    void (*reply)(h2o_req_t *req); /* answers instead of problem/detail (a reply of its own kind, with its headers) */
} failures[] = {
    {DB_UNAVAILABLE, NULL, APP_DB_PLAIN, HTTP_PROBLEM_DB_UNAVAILABLE, 1,
     "The database is not reachable right now; try again shortly."},
    {DB_TIMEOUT, NULL, APP_DB_PLAIN, HTTP_PROBLEM_DB_TIMEOUT, 1, "The database did not answer in time; try again shortly."},
    /* a statement timeout is 503 + Retry-After on every route (records and downloads included): the server did not finish
     * in time, which load can cause as well as the query; where the client shaped the query, the detail says how to
     * make it cheaper */
    {DB_QUERY_ERROR, "57014", APP_DB_SHAPED, HTTP_PROBLEM_DB_TIMEOUT, 1,
     "The query ran longer than the server allows. Narrow it: filter on a time column (e.g. hour_utc=gte:...), group fewer "
     "columns, or use a daily/monthly dataset."},
    {DB_QUERY_ERROR, "57014", APP_DB_PLAIN, HTTP_PROBLEM_DB_TIMEOUT, 1, "The query took longer than the server allows."},
    {DB_QUERY_ERROR, "22", APP_DB_INPUT, HTTP_PROBLEM_INVALID_PARAMETER, 0, NULL},
    /* the database is shutting down or restarting, or a replica cancelled the query: try again, not a server bug */
    {DB_QUERY_ERROR, "08", APP_DB_PLAIN, HTTP_PROBLEM_DB_UNAVAILABLE, 1, "The database is restarting; try again shortly."},
    {DB_QUERY_ERROR, "57P", APP_DB_PLAIN, HTTP_PROBLEM_DB_UNAVAILABLE, 1, "The database is restarting; try again shortly."},
    {DB_QUERY_ERROR, "40001", APP_DB_PLAIN, HTTP_PROBLEM_DB_UNAVAILABLE, 1, "The database is restarting; try again shortly."},
    /* a personal function found the token's consent no longer active (revoked or expired since it was verified) */
    {DB_QUERY_ERROR, "28000", APP_DB_PLAIN, HTTP_PROBLEM_INVALID_TOKEN, 0, NULL, app_auth_reply_consent_inactive},
    {DB_QUERY_ERROR, NULL, APP_DB_PLAIN, HTTP_PROBLEM_INTERNAL, 0, "The database rejected the query; the error has been logged."},
};

void app_db_fail(h2o_req_t *req, unsigned kind, db_status_t status, const char *sqlstate, const char *message, const char *column)
{
    app_worker_t *w = app_worker_of(req);

    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); ++i) {
        if (failures[i].status != status || (failures[i].kind != 0 && (failures[i].kind & kind) == 0))
            continue;
        if (failures[i].sqlstate != NULL &&
            (sqlstate == NULL || strncmp(sqlstate, failures[i].sqlstate, strlen(failures[i].sqlstate)) != 0))
            continue;
        if (failures[i].reply != NULL) {
            failures[i].reply(req);
            return;
        }
        if (failures[i].retry) {
            char s[16];
            str_fmt(s, sizeof(s), "%u", w != NULL && w->db != NULL ? db_pool_retry_after_s(w->db) : 1);
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, h2o_strdup(&req->pool, s, SIZE_MAX).base,
                           strlen(s));
        }
        if (failures[i].problem == HTTP_PROBLEM_INTERNAL)
            log_error("query failed: %s %s", sqlstate != NULL ? sqlstate : "-", message != NULL ? message : "(no message)");
        if (failures[i].problem == HTTP_PROBLEM_INVALID_PARAMETER && column == NULL && message != NULL &&
            strstr(message, "time zone") != NULL)
            column = "tz"; /* a bad zone can fail a conversion before the function's own check names it */
        http_problem_send(req, failures[i].problem, failures[i].detail != NULL ? failures[i].detail : message,
                          failures[i].problem == HTTP_PROBLEM_INVALID_PARAMETER ? column : NULL);
        return;
    }
    http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The database call failed.", NULL);
}

/* app_db_fail for a query of app_db_query/app_db_read (res: the error result). */
static void fail_reply(h2o_req_t *req, unsigned kind, const PGresult *res)
{
    app_db_fail(req, kind, DB_QUERY_ERROR, res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL,
                res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL,
                res != NULL ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL);
}

int app_db_ok_or_reply(h2o_req_t *req, db_status_t status, const PGresult *res, unsigned kind)
{
    if (status == DB_OK)
        return 1;
    fail_reply(req, kind, res);
    return 0;
}

int app_db_row_or_reply(h2o_req_t *req, db_status_t status, const PGresult *res)
{
    if (status == DB_OK && PQntuples(res) == 1)
        return 1;
    fail_reply(req, APP_DB_PLAIN, res);
    return 0;
}

/* --- the guarded call -------------------------------------------------------------------------------------------- */

/* Shared between the request (through a guard on its pool) and the pool callback; freed when both let go. */
typedef struct app_call {
    h2o_req_t *req; /* NULL once the request is gone */
    app_db_cb cb;
    void *state;
} app_call_t;

static void call_guard_dispose(void *p)
{
    app_call_t *call = *(app_call_t **)p;
    call->req = NULL;
    h2o_mem_release_shared(call);
}

static void call_on_result(void *data, db_status_t status, const PGresult *res)
{
    app_call_t *call = data;

    if (call->req != NULL) {
        if (status == DB_UNAVAILABLE || status == DB_TIMEOUT || status == DB_CANCELLED)
            app_db_fail(call->req, APP_DB_PLAIN, status, NULL, NULL, NULL);
        else
            call->cb(call->req, call->state, status, res);
    }
    h2o_mem_release_shared(call);
}

/* Asked by the pool right before the query goes on the wire: a request gone by then (its stream reset in the same loop
 * iteration) has its query dropped unsent. */
static int call_wanted(void *data)
{
    app_call_t *call = data;
    return call->req != NULL;
}

static int db_call(h2o_req_t *req, db_target_t target, const char *sql, int nparams, const char *const *params, app_db_cb cb,
                   void *state)
{
    app_worker_t *w = app_worker_of(req);
    app_call_t *call = h2o_mem_alloc_shared(NULL, sizeof(*call), NULL);
    app_call_t **guard;

    call->req = req;
    call->cb = cb;
    call->state = state;
    if (db_route_query_sql(w->route, target, sql, nparams, params, call_on_result, call, call_wanted) != 0) {
        h2o_mem_release_shared(call);
        app_db_fail(req, APP_DB_PLAIN, DB_UNAVAILABLE, NULL, NULL, NULL);
        return -1;
    }
    /* the pool holds the first reference; the guard on the request's pool holds the second */
    h2o_mem_addref_shared(call);
    guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), call_guard_dispose);
    *guard = call;
    return 0;
}

int app_db_query(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state)
{
    return db_call(req, DB_TARGET_PRIMARY, sql, nparams, params, cb, state);
}

int app_db_read(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state)
{
    return db_call(req, DB_TARGET_READ, sql, nparams, params, cb, state);
}
