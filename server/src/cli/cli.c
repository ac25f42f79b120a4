/*
 * cli — the subcommand table and what the subcommands share.
 */
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/source.h"
#include "db/sync.h"

/* duplicate: one entry a subcommand (the redis habit: a command's attributes in its one table entry). */
const cli_command_t cli_commands[] = {
    {"serve", "run the HTTP server (klimaspejl serve --help lists the settings)", cli_serve_main},
    {"migrate", "apply sql/migrations in order, each once, in its own transaction", cli_migrate_main},
    {"seed", "generate a deterministic synthetic city: --households N --days D --seed S", cli_seed_main},
    {"ingest", "load real data: ingest households|energy|waste|mobility FILE.csv, eds-co2 FILE, eloverblik FILE --household ID",
     cli_ingest_main},
    {"fetch", "fetch and ingest Energi Data Service's CO2Emis/CO2EmisProg: fetch eds --from DATE --to DATE", cli_fetch_main},
    {"refresh", "refresh the published rollups, bump dataset versions and notify servers", cli_refresh_main},
    {"keygen", "write a new token signing key into KLIMA_KEYS_DIR: keygen [--alg ES256|RS256]", cli_keygen_main},
    {"client", "register apps for the consent flow: client add|list|remove", cli_client_main},
    {"citizen", "link citizens' logins to households: citizen link --subject SUB --household ID | unlink | list", cli_citizen_main},
    {"token", "mint a consent and its token: token --household ID --scope \"a b\" --client ID [--ttl S]", cli_token_main},
    {"feedback", "list citizen feedback for staff: feedback list [--since DATE] [--topic T]", cli_feedback_main},
    {"audit", "play the attacker against the published datasets: audit --url BASE [--save DIR] [--previous DIR]", cli_audit_main},
    {"version", "print the version", cli_version_main},
    {"help", "print this list", cli_help_main},
    {NULL, NULL, NULL},
};

void cli_print_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl <subcommand> [options]\n\nsubcommands:\n");
    for (const cli_command_t *c = cli_commands; c->name != NULL; ++c)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

const char *cli_admin_conninfo(void)
{
    const char *s = getenv("KLIMA_DB_ADMIN_URL");
    if (s == NULL || *s == '\0')
        s = getenv("KLIMA_DB_URL");
    return s != NULL ? s : "";
}

int cli_stderr_is_tty(void)
{
    const char *ci = getenv("CI");
    return isatty(STDERR_FILENO) && (ci == NULL || *ci == '\0');
}

int cli_version_main(int argc, char **argv)
{
    printf("klimaspejl %s\n", KLIMA_VERSION);
    return CLI_EXIT_OK;
}

int cli_help_main(int argc, char **argv)
{
    cli_print_usage(stdout);
    return CLI_EXIT_OK;
}

static void print_escaped(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; ++p) {
        if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\t')
            fputs("\\t", stdout);
        else if (*p == '\\')
            fputs("\\\\", stdout);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
}

void cli_print_rows(const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); ++r) {
        for (int c = 0; c < PQnfields(res); ++c) {
            if (c > 0)
                putchar('\t');
            print_escaped(PQgetvalue(res, r, c));
        }
        putchar('\n');
    }
}

int cli_list(PGconn *pg, const char *sql, int nparams, const char *const *params, const char *who)
{
    PGresult *res = db_sync_query(pg, sql, nparams, params, who);
    if (res == NULL)
        return CLI_EXIT_FAIL;
    cli_print_rows(res);
    PQclear(res);
    return CLI_EXIT_OK;
}
