/*
 * db/defer — the queries of one loop iteration, waiting to be sent.
 */
#include <stdlib.h>
#include <string.h>

#include "db/defer.h"

/* One allocation holds the entry, its parameter pointers, their text and the SQL. */
struct db_deferred {
    db_deferred_t *next;
    db_result_cb cb;
    void *data;
    db_wanted_cb wanted;
    int nparams;
    unsigned statement_timeout_ms;
    const char **params;
    const char *sql;
};

/* Takes the whole queue (so callbacks may push again, for the next iteration) and sends or drops each query, oldest
 * first; send NULL fails them all. */
static void defer_run(db_defer_t *q, db_defer_send_cb send)
{
    db_deferred_t *d = q->head;

    q->head = NULL;
    q->tail = &q->head;
    while (d != NULL) {
        db_deferred_t *next = d->next;
        if (send != NULL && d->wanted != NULL && !d->wanted(d->data)) {
            ++q->dropped;
            d->cb(d->data, DB_CANCELLED, NULL);
        } else if (send == NULL || send(q->ctx, d->sql, d->nparams, d->params, d->statement_timeout_ms, d->cb, d->data) != 0) {
            ++q->failed;
            d->cb(d->data, DB_UNAVAILABLE, NULL);
        }
        free(d);
        d = next;
    }
}

static void defer_on_end(h2o_timeout_entry_t *te)
{
    db_defer_t *q = H2O_STRUCT_FROM_MEMBER(db_defer_t, entry, te);
    defer_run(q, q->send);
}

void db_defer_init(db_defer_t *q, h2o_evloop_t *loop, h2o_timeout_t *at_end, db_defer_send_cb send, void *ctx)
{
    *q = (db_defer_t){.loop = loop, .at_end = at_end, .send = send, .ctx = ctx};
    q->tail = &q->head;
    q->entry.cb = defer_on_end;
}

int db_defer_push(db_defer_t *q, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                  db_result_cb cb, void *data, db_wanted_cb wanted)
{
    size_t size = sizeof(db_deferred_t) + (size_t)nparams * sizeof(char *) + strlen(sql) + 1;
    db_deferred_t *d;
    char *at;

    for (int i = 0; i < nparams; ++i)
        size += params[i] != NULL ? strlen(params[i]) + 1 : 0;
    if ((d = malloc(size)) == NULL)
        return -1;
    *d = (db_deferred_t){.cb = cb,
                         .data = data,
                         .wanted = wanted,
                         .nparams = nparams,
                         .statement_timeout_ms = statement_timeout_ms,
                         .params = (const char **)(d + 1)};
    at = (char *)(d->params + nparams);
    for (int i = 0; i < nparams; ++i) {
        d->params[i] = NULL;
        if (params[i] != NULL) {
            size_t n = strlen(params[i]) + 1;
            d->params[i] = memcpy(at, params[i], n);
            at += n;
        }
    }
    d->sql = memcpy(at, sql, strlen(sql) + 1);
    *q->tail = d;
    q->tail = &d->next;
    if (!h2o_timeout_is_linked(&q->entry))
        h2o_timeout_link(q->loop, q->at_end, &q->entry);
    return 0;
}

void db_defer_dispose(db_defer_t *q)
{
    if (h2o_timeout_is_linked(&q->entry))
        h2o_timeout_unlink(&q->entry);
    defer_run(q, NULL);
}
