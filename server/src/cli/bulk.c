/*
 * cli/bulk — COPY ... FROM STDIN from a buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/bulk.h"
#include "core/strutil.h"

/* b->error from a libpq message, without its trailing newline. */
static void set_error(cli_bulk_t *b, const char *msg)
{
    size_t n;
    str_fmt(b->error, sizeof(b->error), "%s", msg != NULL ? msg : "");
    n = strlen(b->error);
    while (n > 0 && (b->error[n - 1] == '\n' || b->error[n - 1] == ' '))
        b->error[--n] = '\0';
}

int cli_bulk_init(cli_bulk_t *b, PGconn *conn, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->conn = conn;
    b->cap = cap;
    b->buf = malloc(cap);
    return b->buf != NULL ? 0 : -1;
}

void cli_bulk_free(cli_bulk_t *b)
{
    free(b->buf);
    b->buf = NULL;
}

int cli_bulk_begin(cli_bulk_t *b, const char *copy_sql)
{
    PGresult *res = PQexec(b->conn, copy_sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;

    if (!ok)
        set_error(b, PQerrorMessage(b->conn));
    PQclear(res);
    b->len = 0;
    b->active = ok;
    return ok ? 0 : -1;
}

/* Sends what the buffer holds. Returns 0, or -1 with b->error set (the server may have refused a row: cli_bulk_end
 * tells which). */
static int cli_bulk_flush(cli_bulk_t *b)
{
    int ok = b->len == 0 || PQputCopyData(b->conn, b->buf, (int)b->len) == 1;
    if (!ok)
        set_error(b, PQerrorMessage(b->conn));
    b->len = 0;
    return ok ? 0 : -1;
}

char *cli_bulk_room(cli_bulk_t *b, size_t need)
{
    if (b->len + need > b->cap && cli_bulk_flush(b) != 0)
        return NULL;
    return b->buf + b->len;
}

int cli_bulk_end(cli_bulk_t *b, void (*on_error)(void *ctx, const PGresult *res), void *ctx)
{
    /* When the server has already refused a row, sending fails; its error (with the COPY line) is still to be read. */
    int sent = cli_bulk_flush(b) == 0 && PQputCopyEnd(b->conn, NULL) == 1, reported = 0;
    PGresult *res;

    b->active = 0;
    while ((res = PQgetResult(b->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !reported) {
            set_error(b, PQresultErrorMessage(res));
            if (on_error != NULL)
                on_error(ctx, res);
            reported = 1;
        }
        PQclear(res);
    }
    if (!sent && !reported) {
        set_error(b, PQerrorMessage(b->conn));
        if (on_error != NULL)
            on_error(ctx, NULL);
    }
    return sent && !reported ? 0 : -1;
}

void cli_bulk_abort(cli_bulk_t *b)
{
    PGresult *res;
    if (!b->active)
        return;
    b->active = 0;
    PQputCopyEnd(b->conn, "aborted");
    while ((res = PQgetResult(b->conn)) != NULL)
        PQclear(res);
}

int cli_bulk_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}
