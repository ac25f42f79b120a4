/*
 * db/defer — queries a pool has accepted in this loop iteration, copied, waiting for the iteration's end, when they are
 * handed to the pool's send function. Until then a request that vanished (an HTTP/2 stream reset in the same read as
 * its HEADERS) can still take its query back: a query whose wanted callback says nobody waits for it any more is
 * dropped unsent. Not thread-safe: one per pool, on the pool's loop.
 */
#ifndef KLIMA_DB_DEFER_H
#define KLIMA_DB_DEFER_H

#include <h2o.h>
#include <stdint.h>

#include "db/pool.h"

typedef struct db_deferred db_deferred_t;

/* Puts one query on the wire (statement_timeout_ms: see db_defer_push); returns 0, or -1 (the query's callback is then
 * answered DB_UNAVAILABLE). */
typedef int (*db_defer_send_cb)(void *ctx, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                                db_result_cb cb, void *data);

typedef struct db_defer {
    db_deferred_t *head, **tail;
    h2o_evloop_t *loop;
    h2o_timeout_t *at_end; /* a zero timeout: runs at the end of the loop iteration */
    h2o_timeout_entry_t entry;
    db_defer_send_cb send;
    void *ctx;
    uint64_t dropped; /* queries dropped unsent (their callbacks got DB_CANCELLED) */
    uint64_t failed;  /* queries send refused (their callbacks got DB_UNAVAILABLE) */
} db_defer_t;

/* An empty queue that sends through send(ctx, ...) when at_end (a zero timeout of loop) runs. */
void db_defer_init(db_defer_t *q, h2o_evloop_t *loop, h2o_timeout_t *at_end, db_defer_send_cb send, void *ctx);

/* Appends a copy of the query (sql and params are copied) to be sent at the end of this loop iteration unless wanted
 * (when not NULL) then returns 0 for data. statement_timeout_ms is handed to send as it is (db/pool reads it).
 * Returns 0, or -1 when out of memory (nothing appended, cb not called). */
int db_defer_push(db_defer_t *q, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                  db_result_cb cb, void *data, db_wanted_cb wanted);

/* Answers every query still waiting with DB_UNAVAILABLE (the pool is being destroyed). */
void db_defer_dispose(db_defer_t *q);

#endif
