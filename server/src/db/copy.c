/*
 * db/copy — streaming COPY TO STDOUT with backpressure.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "db/connect.h"
#include "db/copy.h"

typedef enum copy_state { COPY_CONNECTING, COPY_RUNNING, COPY_PAUSED, COPY_DONE } copy_state_t;

struct db_copy {
    h2o_evloop_t *loop;
    PGconn *pg;
    h2o_socket_t *sock; /* watches a dup of libpq's descriptor */
    int pg_fd;
    copy_state_t state;
    char *sql; /* with placeholders, until connected */
    char **values;
    size_t nvalues;
    const db_copy_callbacks_t *cb;
    void *ctx;
    char *batch;
    size_t batch_len;
    char *pending_row; /* a row that did not fit in the last batch (PQfreemem) */
    int pending_len;
    int in_callback; /* on_data is running: resume and cancel from inside it are deferred */
    int cancelled;
    int ended; /* PQgetCopyData said the rows are over */
};

static void copy_on_io(h2o_socket_t *sock, const char *err);
static void copy_on_writable(h2o_socket_t *sock, const char *err);

static void copy_free(db_copy_t *c)
{
    if (c->sock != NULL) {
        h2o_socket_read_stop(c->sock);
        h2o_socket_close(c->sock);
    }
    if (c->pending_row != NULL)
        PQfreemem(c->pending_row);
    PQfinish(c->pg);
    for (size_t i = 0; i < c->nvalues; ++i)
        free(c->values[i]);
    free(c->values);
    free(c->sql);
    free(c->batch);
    free(c);
}

static void copy_finish(db_copy_t *c, db_status_t status, const char *message, const char *sqlstate)
{
    c->state = COPY_DONE;
    c->cb->on_end(c->ctx, status, message, sqlstate);
    copy_free(c);
}

static void copy_fail_pg(db_copy_t *c, const PGresult *res)
{
    char msg[512];
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    str_fmt(msg, sizeof(msg), "%s", res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
    copy_finish(c, res != NULL ? DB_QUERY_ERROR : DB_UNAVAILABLE, msg, state);
}

static int copy_watch(db_copy_t *c)
{
    int fd = PQsocket(c->pg), dupfd;
    if (fd == c->pg_fd && c->sock != NULL)
        return 0;
    if (c->sock != NULL) {
        h2o_socket_read_stop(c->sock);
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
    if (fd < 0 || (dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
        return -1;
    c->pg_fd = fd;
    c->sock = h2o_evloop_socket_create(c->loop, dupfd, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->data = c;
    h2o_socket_read_start(c->sock, copy_on_io);
    return 0;
}

static char *db_copy_inline_params(PGconn *pg, const char *sql, const char *const *values, size_t nvalues)
{
    sbuf_t out = SBUF_INIT(SBUF_CAP_TEXT);
    const char *p = sql;
    while (*p != '\0') {
        const char *dollar = strchr(p, '$');
        if (dollar == NULL) {
            sbuf_puts(&out, p);
            break;
        }
        sbuf_append(&out, p, (size_t)(dollar - p));
        size_t n = 0, digits = 0;
        while (dollar[1 + digits] >= '0' && dollar[1 + digits] <= '9' && digits < 4) {
            n = n * 10 + (size_t)(dollar[1 + digits] - '0');
            ++digits;
        }
        if (digits == 0 || n == 0 || n > nvalues || values[n - 1] == NULL)
            goto fail;
        char *lit = PQescapeLiteral(pg, values[n - 1], strlen(values[n - 1]));
        if (lit == NULL)
            goto fail;
        sbuf_puts(&out, lit);
        PQfreemem(lit);
        p = dollar + 1 + digits;
    }
    if (sbuf_failed(&out) || out.data == NULL)
        goto fail;
    return out.data;
fail:
    sbuf_free(&out);
    return NULL;
}

/* After the last row: the COPY's final result, once libpq has it (PQgetResult would block while busy). */
static void copy_collect_result(db_copy_t *c)
{
    PGresult *res;
    if (PQisBusy(c->pg)) {
        h2o_socket_read_start(c->sock, copy_on_io);
        return;
    }
    res = PQgetResult(c->pg);
    if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        copy_finish(c, DB_OK, NULL, NULL);
    } else {
        copy_fail_pg(c, res);
        PQclear(res);
    }
}

/* Moves rows from libpq into the batch until it is full, the data runs out, or the COPY ends; hands full batches to
 * on_data and pauses. */
static void copy_pump(db_copy_t *c)
{
    int refilled = 0; /* read the socket once since libpq last ran out of rows */

    while (c->state == COPY_RUNNING) {
        char *row = c->pending_row;
        int len = c->pending_len;

        if (c->ended) {
            if (c->batch_len > 0)
                goto deliver;
            copy_collect_result(c);
            return;
        }
        c->pending_row = NULL;
        if (row == NULL)
            len = PQgetCopyData(c->pg, &row, 1);
        if (len > 0) {
            refilled = 0;
            if (c->batch_len + (size_t)len > DB_COPY_BATCH && c->batch_len > 0) {
                c->pending_row = row;
                c->pending_len = len;
                goto deliver;
            }
            if ((size_t)len > DB_COPY_BATCH) {
                /* a single row larger than a batch: the batch grows to hold it */
                char *big = realloc(c->batch, (size_t)len);
                if (big == NULL)
                    abort();
                c->batch = big;
            }
            memcpy(c->batch + c->batch_len, row, (size_t)len);
            c->batch_len += (size_t)len;
            PQfreemem(row);
            continue;
        }
        if (len == 0) {
            /* libpq has no whole row left: first take what the socket holds already (a read that does not wait), so
             * that a batch is as full as the data at hand allows — each batch costs the worker a loop round trip (send,
             * proceed, resume), and under load a loop round trip is long; libpq alone hands over its buffer's worth */
            if (!refilled && c->batch_len > 0) {
                refilled = 1;
                if (!PQconsumeInput(c->pg)) {
                    copy_fail_pg(c, NULL);
                    return;
                }
                continue;
            }
            /* libpq needs more from the socket; hand over what we hold meanwhile */
            if (c->batch_len > 0)
                goto deliver;
            h2o_socket_read_start(c->sock, copy_on_io);
            return;
        }
        if (len == -1) {
            c->ended = 1;
            continue;
        }
        copy_fail_pg(c, NULL);
        return;

    deliver:
        c->state = COPY_PAUSED;
        h2o_socket_read_stop(c->sock);
        c->in_callback = 1;
        c->cb->on_data(c->ctx, c->batch, c->batch_len);
        c->in_callback = 0;
        if (c->cancelled) {
            copy_free(c);
            return;
        }
        /* if on_data resumed at once the loop goes on; otherwise db_copy_resume calls us again */
    }
}

static void copy_begin(db_copy_t *c)
{
    char *sql = db_copy_inline_params(c->pg, c->sql, (const char *const *)c->values, c->nvalues);
    if (sql == NULL) {
        copy_finish(c, DB_QUERY_ERROR, "could not inline the query parameters", NULL);
        return;
    }
    int ok = PQsendQuery(c->pg, sql);
    free(sql);
    if (!ok) {
        copy_fail_pg(c, NULL);
        return;
    }
    c->state = COPY_RUNNING;
    if (PQflush(c->pg) == 1)
        h2o_socket_notify_write(c->sock, copy_on_writable);
}

/* Before the first row: wait for PGRES_COPY_OUT (or the error). */
static int copy_started(db_copy_t *c)
{
    if (PQisBusy(c->pg))
        return 0;
    PGresult *res = PQgetResult(c->pg);
    if (res != NULL && PQresultStatus(res) == PGRES_COPY_OUT) {
        PQclear(res);
        return 1;
    }
    copy_fail_pg(c, res);
    PQclear(res);
    return -1;
}

static void copy_poll_connect(db_copy_t *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_OK:
        if (copy_watch(c) != 0) {
            copy_finish(c, DB_UNAVAILABLE, "cannot watch the database socket", NULL);
            return;
        }
        copy_begin(c);
        break;
    case PGRES_POLLING_READING:
        if (copy_watch(c) != 0)
            copy_finish(c, DB_UNAVAILABLE, "cannot watch the database socket", NULL);
        break;
    case PGRES_POLLING_WRITING:
        if (copy_watch(c) != 0) {
            copy_finish(c, DB_UNAVAILABLE, "cannot watch the database socket", NULL);
            return;
        }
        h2o_socket_notify_write(c->sock, copy_on_writable);
        break;
    default:
        copy_fail_pg(c, NULL);
        break;
    }
}

static int started_flag(db_copy_t *c)
{
    /* batch == NULL marks "COPY_OUT not yet seen" */
    return c->batch != NULL;
}

static void copy_on_io(h2o_socket_t *sock, const char *err)
{
    db_copy_t *c = sock->data;
    if (err != NULL) {
        copy_finish(c, DB_UNAVAILABLE, err, NULL);
        return;
    }
    if (c->state == COPY_CONNECTING) {
        copy_poll_connect(c);
        return;
    }
    if (c->state != COPY_RUNNING)
        return;
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
        copy_fail_pg(c, NULL);
        return;
    }
    if (!started_flag(c)) {
        int r = copy_started(c);
        if (r <= 0)
            return;
        if ((c->batch = malloc(DB_COPY_BATCH)) == NULL) {
            copy_finish(c, DB_UNAVAILABLE, "out of memory", NULL);
            return;
        }
    }
    copy_pump(c);
}

static void copy_on_writable(h2o_socket_t *sock, const char *err)
{
    db_copy_t *c = sock->data;
    if (err != NULL) {
        copy_finish(c, DB_UNAVAILABLE, err, NULL);
        return;
    }
    if (c->state == COPY_CONNECTING)
        copy_poll_connect(c);
    else if (PQflush(c->pg) == 1)
        h2o_socket_notify_write(c->sock, copy_on_writable);
}

db_copy_t *db_copy_start(h2o_evloop_t *loop, const char *conninfo, unsigned statement_timeout_ms, const char *sql,
                         const char *const *values, size_t nvalues, const db_copy_callbacks_t *cb, void *ctx)
{
    db_copy_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->loop = loop;
    c->pg_fd = -1;
    c->cb = cb;
    c->ctx = ctx;
    c->sql = str_dup(sql);
    c->nvalues = nvalues;
    c->values = calloc(nvalues > 0 ? nvalues : 1, sizeof(char *));
    if (c->values == NULL)
        abort();
    for (size_t i = 0; i < nvalues; ++i)
        c->values[i] = values[i] != NULL ? str_dup(values[i]) : NULL;
    c->state = COPY_CONNECTING;
    c->pg = db_connect_start(conninfo, statement_timeout_ms);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        copy_finish(c, DB_UNAVAILABLE, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory", NULL);
        return NULL;
    }
    PQsetnonblocking(c->pg, 1);
    if (copy_watch(c) != 0) {
        copy_finish(c, DB_UNAVAILABLE, "cannot watch the database socket", NULL);
        return NULL;
    }
    h2o_socket_notify_write(c->sock, copy_on_writable);
    return c;
}

void db_copy_resume(db_copy_t *c)
{
    if (c->state != COPY_PAUSED)
        return;
    c->batch_len = 0;
    c->state = COPY_RUNNING;
    if (!c->in_callback)
        copy_pump(c);
}

void db_copy_cancel(db_copy_t *c)
{
    if (c == NULL || c->state == COPY_DONE)
        return;
    if (c->in_callback) {
        c->cancelled = 1;
        return;
    }
    copy_free(c);
}
