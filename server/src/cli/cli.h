/*
 * cli — the klimaspejl subcommands. Each takes the arguments after its own name (argv[0] is the subcommand name) and
 * returns the process exit code: 0 success, 1 runtime failure (message on stderr), 2 usage error (one-line message
 * followed by the usage on stderr).
 */
#ifndef KLIMA_CLI_CLI_H
#define KLIMA_CLI_CLI_H

#include <stdio.h>

#include <libpq-fe.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line for `klimaspejl help` */
    int (*main)(int argc, char **argv);
} cli_command_t;

/* The subcommand table, terminated by an entry whose name is NULL. */
extern const cli_command_t cli_commands[];

/* Prints the top-level usage (every subcommand with its summary) to out. */
void cli_print_usage(FILE *out);

/* The connection string for administrative subcommands: KLIMA_DB_ADMIN_URL, else KLIMA_DB_URL, else NULL (libpq's
 * defaults). Never NULL-dereferenced by callers: pass it straight to PQconnectdb (NULL is turned into ""). */
const char *cli_admin_conninfo(void);

/* Tells whether stderr is a terminal (progress display) — and not a CI log. */
int cli_stderr_is_tty(void);

/* Prints every row of res to stdout, its values tab-separated, escaped so that a row stays one line: \n, \t, \\ and
 * \xHH for the other control characters. */
void cli_print_rows(const PGresult *res);

/* Runs a listing query (sql with nparams parameters) and prints its rows (cli_print_rows); returns the exit code. who
 * names the subcommand in an error. */
int cli_list(PGconn *pg, const char *sql, int nparams, const char *const *params, const char *who);

/* duplicate: the subcommands' entry points, one for each entry of cli_commands (cli.c): a list of like lines. */
int cli_serve_main(int argc, char **argv);
int cli_migrate_main(int argc, char **argv);
int cli_seed_main(int argc, char **argv);
int cli_ingest_main(int argc, char **argv);
int cli_refresh_main(int argc, char **argv);
int cli_feedback_main(int argc, char **argv);
int cli_keygen_main(int argc, char **argv);
int cli_client_main(int argc, char **argv);
int cli_citizen_main(int argc, char **argv);
int cli_token_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);
int cli_version_main(int argc, char **argv);
int cli_help_main(int argc, char **argv);

#endif
