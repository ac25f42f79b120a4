/*
 * app/db — a request's database calls: the guarded call that survives a vanished client, and the one table that turns
 * a database failure into the HTTP answer (problem type, status and Retry-After, the wait taken from the pool's state).
 */
#ifndef KLIMA_APP_DB_H
#define KLIMA_APP_DB_H

#include <h2o.h>
#include <libpq-fe.h>

#include "db/pool.h"

/* Receives a query's outcome while the request still exists: DB_OK, or DB_QUERY_ERROR (res holds the error). The
 * unavailable and timed-out cases never reach it: the guard answers those with 503 + Retry-After itself. */
typedef void (*app_db_cb)(h2o_req_t *req, void *state, db_status_t status, const PGresult *res);

/* Runs sql (prepared per connection on first use; every value a $n parameter, never request text) for req on the
 * primary: writes, and reads that must see the latest commit (consents, tokens, OAuth codes and clients). If the client
 * goes away before the result arrives, the result is dropped and cb is not called; nothing the request owned is touched.
 * Returns 0 when the query was queued; when the database is unavailable it has already answered 503 + Retry-After and
 * returns -1. Either way the handler then returns 0 to h2o. */
int app_db_query(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state);

/* Like app_db_query for a read a streaming replica may answer (open data, a household's own series): a healthy replica
 * when KLIMA_DB_READ_URLS names any, else the primary (db/route.h). */
int app_db_read(h2o_req_t *req, const char *sql, int nparams, const char *const *params, app_db_cb cb, void *state);

/* How a failed query came about, for the table (flags): */
typedef enum app_db_query_kind {
    APP_DB_PLAIN = 0,  /* the server's own query (a statement timeout is 503 database-timeout + Retry-After, as for every kind) */
    APP_DB_SHAPED = 1, /* the client shaped it (records filters, a download): a statement timeout's detail says how to narrow it */
    APP_DB_INPUT = 2   /* request values reach SQL that checks them: a data exception (class 22) is 400 naming the
                          parameter (the error's column, or tz for a time zone) */
} app_db_query_kind_t;

/* Answers a failed query by the table: status (DB_QUERY_ERROR with sqlstate, message and column from PostgreSQL,
 * DB_UNAVAILABLE, DB_TIMEOUT), kind the APP_DB_* flags that apply. Unexpected errors are logged and answered 500. */
void app_db_fail(h2o_req_t *req, unsigned kind, db_status_t status, const char *sqlstate, const char *message, const char *column);

/* For an app_db_cb: 1 when status is DB_OK; otherwise answers by the table (kind: the APP_DB_* flags; res: the
 * error result) and returns 0 — the callback then just returns. */
int app_db_ok_or_reply(h2o_req_t *req, db_status_t status, const PGresult *res, unsigned kind);

/* For an app_db_cb of a query that answers exactly one row (the SQL API's functions): 1 when it did; otherwise
 * answers (a query error by the table, a wrong row count as 500) and returns 0. */
int app_db_row_or_reply(h2o_req_t *req, db_status_t status, const PGresult *res);

#endif
