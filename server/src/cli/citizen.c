/*
 * cli/citizen — `klimaspejl citizen link|unlink|list`: which household a citizen's login at the identity provider
 * (issuer, subject: the id_token's iss and sub) speaks for (core.citizen_identities). Staff link a subject once, after
 * checking who the citizen is; until then the login ends on a "not linked to a household" page.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "auth/oidc.h"
#include "auth/token.h"
#include "cli/cli.h"
#include "db/sync.h"

#define WHO "citizen"

static void citizen_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl citizen link --subject SUB --household ID [--issuer URL]\n"
                 "       klimaspejl citizen unlink --subject SUB [--issuer URL]\n"
                 "       klimaspejl citizen list [--household ID] [--issuer URL]\n"
                 "  SUB is the citizen's subject (the id_token's sub) at the identity provider; --issuer defaults to\n"
                 "  KLIMA_OIDC_ISSUER. A subject has one household; a household may have several subjects (its members).\n"
                 "  Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n");
}

/* The same rule as the server's id_token check: 1-255 printable ASCII characters. */
static int subject_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AUTH_OIDC_SUB_MAX)
        return 0;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    }
    return 1;
}

typedef struct citizen_args {
    const char *subject, *household, *issuer;
} citizen_args_t;

/* Parses the options after the action; returns 0, or CLI_EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, citizen_args_t *a)
{
    memset(a, 0, sizeof(*a));
    a->issuer = getenv("KLIMA_OIDC_ISSUER");
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc)
            a->subject = argv[++i];
        else if (strcmp(argv[i], "--household") == 0 && i + 1 < argc)
            a->household = argv[++i];
        else if (strcmp(argv[i], "--issuer") == 0 && i + 1 < argc)
            a->issuer = argv[++i];
        else {
            fprintf(stderr, "klimaspejl citizen %s: unknown argument %s\n", argv[1], argv[i]);
            citizen_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (a->issuer != NULL && *a->issuer == '\0')
        a->issuer = NULL;
    if (a->subject != NULL && !subject_ok(a->subject)) {
        fprintf(stderr, "klimaspejl citizen %s: --subject must be 1-255 printable ASCII characters (the id_token's sub)\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (a->household != NULL && !auth_uuid_valid(a->household)) {
        fprintf(stderr, "klimaspejl citizen %s: --household must be a household id (uuid)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int citizen_link(PGconn *pg, const citizen_args_t *a)
{
    const char *params[3] = {a->issuer, a->subject, a->household};
    PGresult *res = PQexecParams(pg,
                                 "INSERT INTO core.citizen_identities (issuer, subject, household_id) VALUES ($1, $2, $3::uuid) "
                                 "ON CONFLICT (issuer, subject) DO UPDATE SET household_id = EXCLUDED.household_id, "
                                 "linked_at = now()",
                                 3, NULL, params, NULL, NULL, 0);
    int ret = CLI_EXIT_FAIL;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        printf("linked subject %s at %s to household %s\n", a->subject, a->issuer, a->household);
        ret = CLI_EXIT_OK;
    } else if (state != NULL && strcmp(state, "23503") == 0) {
        fprintf(stderr, "klimaspejl citizen link: no household %s\n", a->household);
    } else {
        fprintf(stderr, "klimaspejl citizen link: %s", PQerrorMessage(pg));
    }
    PQclear(res);
    return ret;
}

static int citizen_unlink(PGconn *pg, const citizen_args_t *a)
{
    const char *params[2] = {a->issuer, a->subject};
    PGresult *res =
        db_sync_query(pg, "DELETE FROM core.citizen_identities WHERE issuer = $1 AND subject = $2", 2, params, "citizen unlink");
    int unlinked = res != NULL && strcmp(PQcmdTuples(res), "0") != 0;

    if (res != NULL && !unlinked)
        fprintf(stderr, "klimaspejl citizen unlink: subject %s at %s is not linked\n", a->subject, a->issuer);
    if (unlinked)
        printf("unlinked subject %s at %s\n", a->subject, a->issuer);
    PQclear(res);
    return unlinked ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int citizen_list(PGconn *pg, const citizen_args_t *a)
{
    const char *params[2] = {a->household, a->issuer};
    return cli_list(pg,
                    "SELECT issuer, subject, household_id, to_char(linked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                    "FROM core.citizen_identities WHERE ($1::uuid IS NULL OR household_id = $1::uuid) "
                    "AND ($2::text IS NULL OR issuer = $2) ORDER BY issuer, subject",
                    2, params, "citizen list");
}

static const struct {
    const char *name;
    int needs_subject, needs_household, needs_issuer;
    int (*run)(PGconn *pg, const citizen_args_t *a);
} actions[] = {
    {"link", 1, 1, 1, citizen_link},
    {"unlink", 1, 0, 1, citizen_unlink},
    {"list", 0, 0, 0, citizen_list},
};

int cli_citizen_main(int argc, char **argv)
{
    citizen_args_t a;
    PGconn *pg;
    int ret;

    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        citizen_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); ++i) {
        if (strcmp(argv[1], actions[i].name) != 0)
            continue;
        if ((ret = parse_args(argc, argv, &a)) != 0)
            return ret;
        if ((actions[i].needs_subject && a.subject == NULL) || (actions[i].needs_household && a.household == NULL)) {
            fprintf(stderr, "klimaspejl citizen %s: %s\n", argv[1],
                    actions[i].needs_household ? "--subject and --household are required" : "--subject is required");
            citizen_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (actions[i].needs_issuer && a.issuer == NULL) {
            fprintf(stderr, "klimaspejl citizen %s: give --issuer or set KLIMA_OIDC_ISSUER (the identity provider's issuer)\n",
                    argv[1]);
            return CLI_EXIT_USAGE;
        }
        if ((pg = db_sync_connect(cli_admin_conninfo(), WHO)) == NULL)
            return CLI_EXIT_FAIL;
        ret = actions[i].run(pg, &a);
        PQfinish(pg);
        return ret;
    }
    fprintf(stderr, "klimaspejl citizen: unknown action %s\n", argv[1]);
    citizen_usage(stderr);
    return CLI_EXIT_USAGE;
}
