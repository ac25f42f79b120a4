/*
 * db/copy — one COPY ... TO STDOUT streamed from PostgreSQL with backpressure, on its own short-lived non-blocking
 * connection (COPY cannot run in a pipeline). Data arrives in batches of up to DB_COPY_BATCH bytes; after each batch
 * the stream pauses until db_copy_resume, so memory stays constant whatever the size. Used by /download.
 */
#ifndef KLIMA_DB_COPY_H
#define KLIMA_DB_COPY_H

#include <h2o.h>

#include "db/pool.h"

#define DB_COPY_BATCH (64 * 1024)

typedef struct db_copy db_copy_t;

typedef struct db_copy_callbacks {
    /* A batch of COPY output (whole rows). data stays valid until db_copy_resume or db_copy_cancel. The stream is
     * paused until then. */
    void (*on_data)(void *ctx, const char *data, size_t len);
    /* Called once at the end: DB_OK after the last batch was resumed, otherwise the failure (message may be NULL).
     * The db_copy_t is freed right after this returns. */
    void (*on_end)(void *ctx, db_status_t status, const char *message, const char *sqlstate);
} db_copy_callbacks_t;

/* Connects with conninfo and runs `sql` (a COPY ... TO STDOUT whose values are $1..$n placeholders; COPY takes no bind
 * parameters, so each $n is replaced by the escaped literal of values[n-1] once connected). Failures arrive through
 * on_end — possibly before this returns, in which case it returns NULL. */
db_copy_t *db_copy_start(h2o_evloop_t *loop, const char *conninfo, unsigned statement_timeout_ms, const char *sql,
                         const char *const *values, size_t nvalues, const db_copy_callbacks_t *cb, void *ctx);

/* Continues after on_data. */
void db_copy_resume(db_copy_t *c);

/* Abandons the COPY (the client went away): closes the connection, which makes PostgreSQL stop the query, and frees
 * c. No callback is called afterwards. */
void db_copy_cancel(db_copy_t *c);

#endif
