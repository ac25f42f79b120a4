/*
 * db/connect — how the server opens its PostgreSQL connections: the operator's conninfo plus session settings the
 * response formats rely on (TimeZone UTC, ISO dates) and the statement timeout that bounds a query's cost.
 */
#ifndef KLIMA_DB_CONNECT_H
#define KLIMA_DB_CONNECT_H

#include <libpq-fe.h>

/* PQconnectStartParams with the session settings added (they override the same settings in conninfo's `options`) and
 * application_name "klimaspejl" unless conninfo names one; statement_timeout_ms 0 means none. The caller drives
 * PQconnectPoll. */
PGconn *db_connect_start(const char *conninfo, unsigned statement_timeout_ms);

#endif
