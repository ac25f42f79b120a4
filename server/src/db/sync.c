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

int db_sync_exec(PGconn *pg, const char *sql, const char *who)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "klimaspejl %s: %s", who, PQerrorMessage(pg));
    PQclear(res);
    return ok ? 0 : -1;
}
