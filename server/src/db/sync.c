/*
 * db/sync — blocking libpq helpers for the CLI.
 */
#include <stdio.h>

#include "db/sync.h"

static void quiet_notice(void *arg, const char *message)
{
}

PGconn *db_sync_connect(const char *conninfo, const char *who)
{
    PGconn *pg = PQconnectdb(conninfo != NULL ? conninfo : "");
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "klimaspejl %s: cannot connect to the database: %s", who, PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet_notice, NULL);
    return pg;
}

static PGresult *checked(PGconn *pg, PGresult *res, const char *who)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    fprintf(stderr, "klimaspejl %s: %s", who, PQerrorMessage(pg));
    PQclear(res);
    return NULL;
}

int db_sync_exec(PGconn *pg, const char *sql, const char *who)
{
    PGresult *res = checked(pg, PQexec(pg, sql), who);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

PGresult *db_sync_query(PGconn *pg, const char *sql, int nparams, const char *const *params, const char *who)
{
    return checked(pg, PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0), who);
}
