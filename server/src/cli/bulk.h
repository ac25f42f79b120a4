/*
 * cli/bulk — the one bulk-load path of the admin commands (seed, ingest): a text-format COPY ... FROM STDIN fed from a
 * buffer the caller writes rows into (b->buf + b->len, at most b->cap bytes; cli_bulk_room flushes when a row would not
 * fit), so memory stays constant whatever is loaded. Errors PostgreSQL finds (a duplicate key) arrive when the COPY
 * ends; the first one is handed to the caller, who can map its "COPY ..., line N" context back to its input.
 */
#ifndef KLIMA_CLI_BULK_H
#define KLIMA_CLI_BULK_H

#include <stddef.h>

#include <libpq-fe.h>

typedef struct cli_bulk {
    PGconn *conn;
    char *buf;
    size_t len, cap;
    int active;      /* a COPY is running */
    char error[512]; /* why the last call failed */
} cli_bulk_t;

/* A buffer of cap bytes for COPYs on conn. Returns 0, or -1 when out of memory. */
int cli_bulk_init(cli_bulk_t *b, PGconn *conn, size_t cap);

/* Releases the buffer (the connection stays the caller's). */
void cli_bulk_free(cli_bulk_t *b);

/* Starts copy_sql (a COPY ... FROM STDIN). Returns 0, or -1 with b->error set. */
int cli_bulk_begin(cli_bulk_t *b, const char *copy_sql);

/* Where the next row of at most need bytes may be written: flushes first when it would not fit. NULL after a failed
 * flush. The caller sets b->len to the row's end. */
char *cli_bulk_room(cli_bulk_t *b, size_t need);

/* Sends the rest and ends the COPY. Returns 0, or -1 with b->error set; on_error (optional) sees the first failed
 * result, or NULL when the failure was the connection's (PQerrorMessage then says why). */
int cli_bulk_end(cli_bulk_t *b, void (*on_error)(void *ctx, const PGresult *res), void *ctx);

/* Abandons a running COPY (nothing of it is stored) and reads the connection clean. */
void cli_bulk_abort(cli_bulk_t *b);

/* Runs sql (no rows wanted). Returns 0, or -1 (PQerrorMessage(conn) says why). */
int cli_bulk_exec(PGconn *conn, const char *sql);

#endif
