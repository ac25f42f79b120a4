/* db/defer: queries wait for the end of the loop iteration, copied; a query nobody wants any more is dropped unsent
 * (DB_CANCELLED), a refused send is answered DB_UNAVAILABLE, a disposed queue answers the rest DB_UNAVAILABLE, and
 * callbacks may queue again (for the next iteration). No database, no sockets: the send function is the test's. */
#include <stdlib.h>
#include <string.h>

#include "db/defer.h"
#include "../test.h"

static char sent[8][64];
static int nsent, refuse;
static db_status_t got[8];
static int ngot;

static int fake_send(void *ctx, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                     db_result_cb cb, void *data)
{
    if (refuse)
        return -1;
    snprintf(sent[nsent++], sizeof(sent[0]), "%s|%s|%u", sql, nparams > 0 && params[0] != NULL ? params[0] : "NULL",
             statement_timeout_ms);
    return 0;
}

static void on_result(void *data, db_status_t status, const PGresult *res)
{
    got[ngot++] = status;
}

static int wanted(void *data)
{
    return *(int *)data;
}

int main(void)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_timeout_t at_end;
    db_defer_t q;
    int yes = 1, no = 0;
    char param[8] = "v1";
    const char *params[1] = {param};

    h2o_timeout_init(loop, &at_end, 0);
    db_defer_init(&q, loop, &at_end, fake_send, NULL);

    /* three queries; the second's request is gone by the end of the iteration; the parameter is copied; the third has
     * a statement timeout of its own */
    CHECK_INT(db_defer_push(&q, "SELECT $1", 1, params, 0, on_result, &yes, wanted), 0);
    CHECK_INT(db_defer_push(&q, "SELECT 2", 0, NULL, 0, on_result, &no, wanted), 0);
    CHECK_INT(db_defer_push(&q, "SELECT 3", 0, NULL, 30000, on_result, NULL, NULL), 0);
    memcpy(param, "XX", 3);
    CHECK_INT(nsent, 0); /* nothing is sent inside the iteration */
    h2o_evloop_run(loop, 0);
    CHECK_INT(nsent, 2);
    CHECK_STR(sent[0], "SELECT $1|v1|0");
    CHECK_STR(sent[1], "SELECT 3|NULL|30000"); /* the statement timeout travels with its query */
    CHECK_INT(ngot, 1);
    CHECK_INT(got[0], DB_CANCELLED);
    CHECK_INT((int)q.dropped, 1);

    /* a send that fails answers DB_UNAVAILABLE */
    refuse = 1;
    CHECK_INT(db_defer_push(&q, "SELECT 4", 0, NULL, 0, on_result, &yes, wanted), 0);
    h2o_evloop_run(loop, 0);
    CHECK_INT(ngot, 2);
    CHECK_INT(got[1], DB_UNAVAILABLE);
    CHECK_INT((int)q.failed, 1);

    /* disposing answers what still waits, and nothing runs afterwards */
    refuse = 0;
    CHECK_INT(db_defer_push(&q, "SELECT 5", 0, NULL, 0, on_result, &yes, wanted), 0);
    db_defer_dispose(&q);
    CHECK_INT(ngot, 3);
    CHECK_INT(got[2], DB_UNAVAILABLE);
    h2o_evloop_run(loop, 0);
    CHECK_INT(nsent, 2);

    h2o_timeout_dispose(loop, &at_end);
    h2o_evloop_destroy(loop);
    return TEST_DONE();
}
