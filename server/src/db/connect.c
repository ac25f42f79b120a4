/*
 * db/connect — connection start with session settings.
 */
#include <stdio.h>

#include "db/connect.h"

PGconn *db_connect_start(const char *conninfo, unsigned statement_timeout_ms)
{
    char options[224];
    /* client_connection_check_interval: a query whose client went away (a COPY the server abandoned when its HTTP client
     * vanished, while PostgreSQL is still sorting and not yet writing) stops within a second instead of running on */
    snprintf(options, sizeof(options),
             "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c statement_timeout=%u "
             "-c client_connection_check_interval=1000",
             statement_timeout_ms);
    /* with expand_dbname, conninfo (a key=value string or a URI) is expanded in place of dbname; later entries win.
     * fallback_application_name: an application_name in conninfo (one per instance, to tell them apart in
     * pg_stat_activity) wins over the default */
    const char *const keys[] = {"dbname", "options", "fallback_application_name", NULL};
    const char *const values[] = {conninfo != NULL ? conninfo : "", options, "klimaspejl", NULL};
    return PQconnectStartParams(keys, values, 1);
}
