/*
 * cli/token — `klimaspejl token --household ID --scope "a b" --client ID [--ttl S] [--days D]`: creates a consent for
 * (household, client, scopes) lasting D days (default 1) and prints an access token for it, signed with the newest key
 * of KLIMA_KEYS_DIR and issued by KLIMA_ISSUER — for administrators and tests. The consent id goes to stderr.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "auth/keyring.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/strutil.h"
#include "db/sync.h"

#define WHO "token"

static void token_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl token --household ID --scope \"SCOPE...\" --client CLIENT_ID [--ttl SECONDS] [--days DAYS]\n"
                 "  Creates a consent (DAYS, default 1, at most 1096) and prints a consent token valid TTL seconds\n"
                 "  (default and at most 3600). Signs with KLIMA_KEYS_DIR's newest key; iss = KLIMA_ISSUER\n"
                 "  (default: derived from KLIMA_LISTEN, as `serve` does).\n"
                 "  Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n");
}

typedef struct token_args {
    const char *household, *scope, *client;
    uint64_t ttl, days;
    uint32_t scopes;
} token_args_t;

/* Reads the options into a. Returns 1 on --help, 0 when they are complete and valid, -1 otherwise. */
static int parse_args(int argc, char **argv, token_args_t *a)
{
    *a = (token_args_t){.ttl = AUTH_TOKEN_MAX_TTL, .days = 1};
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0)
            return 1;
        if (v == NULL)
            return -1;
        ++i;
        if (strcmp(o, "--household") == 0)
            a->household = v;
        else if (strcmp(o, "--scope") == 0)
            a->scope = v;
        else if (strcmp(o, "--client") == 0)
            a->client = v;
        else if (strcmp(o, "--ttl") == 0) {
            if (str_to_uint(v, strlen(v), 1, AUTH_TOKEN_MAX_TTL, &a->ttl) != 0)
                return -1;
        } else if (strcmp(o, "--days") == 0) {
            if (str_to_uint(v, strlen(v), 1, 1096, &a->days) != 0)
                return -1;
        } else
            return -1;
    }
    if (a->household == NULL || a->scope == NULL || a->client == NULL || !auth_uuid_valid(a->household) ||
        !auth_client_id_valid(a->client) || auth_scope_parse(a->scope, 1, &a->scopes) != 0 || a->scopes == 0)
        return -1;
    return 0;
}

/* Inserts the consent; returns its row (consent_id) or NULL (said on stderr). */
static PGresult *create_consent(PGconn *pg, const token_args_t *a)
{
    char scopes_arr[512], days_s[16];

    auth_scope_format(a->scopes, scopes_arr + 1, sizeof(scopes_arr) - 2);
    scopes_arr[0] = '{';
    for (char *c = scopes_arr; *c != '\0'; ++c)
        *c = *c == ' ' ? ',' : *c;
    str_fmt(scopes_arr + strlen(scopes_arr), 2, "}");
    str_fmt(days_s, sizeof(days_s), "%u", (unsigned)a->days);
    const char *params[4] = {a->household, a->client, scopes_arr, days_s};
    return db_sync_query(pg,
                         "INSERT INTO core.consents (household_id, client_id, scopes, expires_at) "
                         "VALUES ($1::uuid, $2, $3::text[], now() + make_interval(days => $4::integer)) RETURNING consent_id",
                         4, params, WHO);
}

int cli_token_main(int argc, char **argv)
{
    const char *issuer;
    token_args_t a;
    char err[512], *tok = NULL;
    auth_keyring_t *kr = NULL;
    PGconn *pg = NULL;
    PGresult *res = NULL;
    config_t cfg = {0};
    int ret = CLI_EXIT_FAIL, parsed = parse_args(argc, argv, &a);

    if (parsed == 1) {
        token_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (parsed != 0) {
        fprintf(stderr, "klimaspejl token: need --household UUID, --scope with known scopes, --client CLIENT_ID (--ttl "
                        "1..3600, --days 1..1096)\n");
        token_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    /* the same issuer the server uses: KLIMA_ISSUER, else derived from KLIMA_LISTEN (and TLS) as `serve` does */
    if (config_load(&cfg, 0, NULL, err, sizeof(err)) != CONFIG_OK) {
        fprintf(stderr, "klimaspejl token: %s\n", err);
        goto exit;
    }
    issuer = cfg.issuer;
    if ((kr = auth_keyring_load(getenv("KLIMA_KEYS_DIR"), err, sizeof(err))) == NULL) {
        fprintf(stderr, "klimaspejl token: %s\n", err);
        goto exit;
    }
    if ((pg = db_sync_connect(cli_admin_conninfo(), WHO)) == NULL || (res = create_consent(pg, &a)) == NULL)
        goto exit;
    if ((tok = auth_token_sign(kr, issuer, a.household, a.client, PQgetvalue(res, 0, 0), a.scopes, (int64_t)time(NULL),
                               (unsigned)a.ttl)) == NULL) {
        fprintf(stderr, "klimaspejl token: cannot sign\n");
        goto exit;
    }
    printf("%s\n", tok);
    fprintf(stderr, "consent %s\n", PQgetvalue(res, 0, 0));
    ret = CLI_EXIT_OK;
exit:
    free(tok);
    PQclear(res);
    if (pg != NULL)
        PQfinish(pg);
    auth_keyring_free(kr);
    config_free(&cfg);
    return ret;
}
