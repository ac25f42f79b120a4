/*
 * db/pool — a worker thread's PostgreSQL connections, driven by its h2o evloop. libpq runs non-blocking, each connection
 * in pipeline mode: queries from many requests share a connection, each query followed by its own Sync so that one
 * failing query never aborts another. Statements are prepared on each connection the first time they are used there.
 * A lost connection is re-established with backoff; meanwhile db_pool_query fails at once (the caller answers 503).
 * Not thread-safe: one pool per worker thread, used only from that thread.
 */
#ifndef KLIMA_DB_POOL_H
#define KLIMA_DB_POOL_H

#include <h2o.h>
#include <libpq-fe.h>
#include <stdint.h>

typedef struct db_pool db_pool_t;

typedef enum db_status {
    DB_OK = 0,      /* res holds the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) */
    DB_QUERY_ERROR, /* PostgreSQL rejected the query; res holds the error (PQresultErrorField) */
    DB_UNAVAILABLE, /* no usable connection, or the connection was lost (or the server shut down, SQLSTATE class 08 or
                       57P01..57P03) while the query was in flight; res NULL */
    DB_TIMEOUT,     /* no answer within the pool's timeout; the connection was reset; res NULL */
    DB_CANCELLED    /* never sent: its wanted callback said nobody waits for it any more (the client went away); res NULL */
} db_status_t;

/* Where a query may run when read replicas are configured (see db/route.h): the primary (writes, and reads that must
 * see the latest commit), or a streaming replica (reads that tolerate replay lag). */
typedef enum db_target { DB_TARGET_PRIMARY = 0, DB_TARGET_READ } db_target_t;

/* Called exactly once per accepted query, on the pool's thread. res is owned by the pool and valid only during the call. */
typedef void (*db_result_cb)(void *data, db_status_t status, const PGresult *res);

/* Asked (when not NULL) right before an accepted query goes on the wire: 0 means nobody waits for its answer any more
 * (an HTTP/2 stream reset in the same loop iteration), so it is dropped unsent and its callback gets DB_CANCELLED. */
typedef int (*db_wanted_cb)(void *data);

typedef struct db_pool_stats {
    unsigned connections_ready; /* established and in pipeline mode */
    unsigned connections_total;
    uint64_t in_flight; /* queries sent and not yet answered */
    uint64_t queries_ok, queries_failed;
    uint64_t queries_sent;    /* put on the wire to PostgreSQL */
    uint64_t queries_dropped; /* accepted, then dropped unsent (DB_CANCELLED) */
    uint64_t last_ok_ms;      /* h2o_now of the last successful query, 0 if none */
} db_pool_stats_t;

/* Creates a pool of nconns connections on loop and starts connecting (asynchronously). timeout_ms bounds the wait for
 * an answer (then DB_TIMEOUT and a reconnect); statement_timeout_ms is PostgreSQL's statement_timeout (0 = none).
 * Returns NULL only when memory is exhausted. conninfo is copied. */
db_pool_t *db_pool_create(h2o_evloop_t *loop, const char *conninfo, unsigned nconns, unsigned timeout_ms,
                          unsigned statement_timeout_ms);

/* Closes every connection. Callbacks of queries still in flight are called with DB_UNAVAILABLE first. */
void db_pool_destroy(db_pool_t *pool);

/* Accepts sql (parameters as $1.., never text from a request: see opendata/query.c) with text parameters (NULL entries
 * are SQL NULL). Accepted queries wait, copied, until the end of the loop iteration; then each one that is still wanted
 * (wanted NULL, or wanted(data) != 0) goes to the least busy ready connection, the others are dropped unsent. So a
 * request that vanishes in the iteration that made its query (HEADERS and RST_STREAM in one read) costs PostgreSQL
 * nothing. Each connection prepares a statement the first time it sees the exact text and keeps up to 256 such plans.
 * Returns 0 when accepted (cb will be called later, never from within this call), or -1 when no connection is ready
 * (cb is not called; the caller answers 503). */
int db_pool_query_sql(db_pool_t *pool, const char *sql, int nparams, const char *const *params, db_result_cb cb, void *data,
                      db_wanted_cb wanted);

/* Like db_pool_query_sql (no wanted callback), for the server's own cheap metadata loads (the dataset catalog, the time
 * zone names): the query runs with PostgreSQL's statement_timeout at statement_timeout_ms (0 = none) for itself alone,
 * set by set_config(..., is_local) in front of it within its own Sync, whatever the pool's statement timeout, which may
 * be short to protect the database from costly API queries. */
int db_pool_query_sql_timeout(db_pool_t *pool, const char *sql, int nparams, const char *const *params,
                              unsigned statement_timeout_ms, db_result_cb cb, void *data);

/* Whether at least one connection is ready (db_pool_query_sql would accept a query now). */
int db_pool_ready(db_pool_t *pool);

/* The conninfo the pool connects with (owned by the pool). */
const char *db_pool_conninfo(db_pool_t *pool);

/* Fills out with the pool's counters. */
void db_pool_get_stats(db_pool_t *pool, db_pool_stats_t *out);

/* The seconds a client should wait before trying again (Retry-After) after a query failed for want of the database:
 * until the pool's next reconnect attempt, rounded up; 1 while a connection is up or being made. */
unsigned db_pool_retry_after_s(db_pool_t *pool);

#endif
