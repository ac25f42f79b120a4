/*
 * db/sync — blocking libpq helpers for the administrative subcommands (never used on a worker's event loop).
 */
#ifndef KLIMA_DB_SYNC_H
#define KLIMA_DB_SYNC_H

#include <libpq-fe.h>

/* Connects with conninfo; on failure prints "klimaspejl <who>: cannot connect to the database: <reason>" to stderr,
 * frees the connection and returns NULL. The caller PQfinish-es a returned connection. Notices are suppressed. */
PGconn *db_sync_connect(const char *conninfo, const char *who);

/* Runs sql (may hold several statements); returns 0, or -1 after printing "klimaspejl <who>: <PostgreSQL error>". */
int db_sync_exec(PGconn *pg, const char *sql, const char *who);

/* Runs sql with nparams text parameters. Returns the result (the caller PQclear-s it) when it succeeded (rows or a
 * command), else prints "klimaspejl <who>: <PostgreSQL error>" and returns NULL. */
PGresult *db_sync_query(PGconn *pg, const char *sql, int nparams, const char *const *params, const char *who);

#endif
