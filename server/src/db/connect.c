/*
 * db/connect — connection start with session settings.
 */
#include <stdio.h>

#include "db/connect.h"

PGconn *db_connect_start(const char *conninfo, unsigned statement_timeout_ms)
{
    char options[160];
    snprintf(options, sizeof(options), "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c statement_timeout=%u",
             statement_timeout_ms);
    /* with expand_dbname, conninfo (a key=value string or a URI) is expanded in place of dbname; later entries win */
    const char *const keys[] = {"dbname", "options", "application_name", NULL};
    const char *const values[] = {conninfo != NULL ? conninfo : "", options, "klimaspejl", NULL};
    return PQconnectStartParams(keys, values, 1);
}
