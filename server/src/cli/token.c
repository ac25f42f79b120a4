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

int cli_token_main(int argc, char **argv)
{
    const char *household = NULL, *scope = NULL, *client = NULL, *issuer;
    uint64_t ttl = AUTH_TOKEN_MAX_TTL, days = 1;
    uint32_t scopes;
    char err[512], *tok = NULL, scopes_arr[512], days_s[16];
    auth_keyring_t *kr = NULL;
    PGconn *pg = NULL;
    PGresult *res = NULL;
    int ret = CLI_EXIT_FAIL;
    config_t cfg = {0};

    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            token_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (v == NULL)
            goto usage;
        ++i;
        if (strcmp(a, "--household") == 0)
            household = v;
        else if (strcmp(a, "--scope") == 0)
            scope = v;
        else if (strcmp(a, "--client") == 0)
            client = v;
        else if (strcmp(a, "--ttl") == 0) {
            if (str_to_uint(v, strlen(v), 1, AUTH_TOKEN_MAX_TTL, &ttl) != 0)
                goto usage;
        } else if (strcmp(a, "--days") == 0) {
            if (str_to_uint(v, strlen(v), 1, 1096, &days) != 0)
                goto usage;
        } else
            goto usage;
    }
    if (household == NULL || scope == NULL || client == NULL || !auth_uuid_valid(household) || !auth_client_id_valid(client) ||
        auth_scope_parse(scope, 1, &scopes) != 0 || scopes == 0)
        goto usage;
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
    if ((pg = db_sync_connect(cli_admin_conninfo(), WHO)) == NULL)
        goto exit;
    auth_scope_format(scopes, scopes_arr + 1, sizeof(scopes_arr) - 2);
    scopes_arr[0] = '{';
    for (char *c = scopes_arr; *c != '\0'; ++c)
        *c = *c == ' ' ? ',' : *c;
    str_fmt(scopes_arr + strlen(scopes_arr), 2, "}");
    str_fmt(days_s, sizeof(days_s), "%u", (unsigned)days);
    {
        const char *params[4] = {household, client, scopes_arr, days_s};
        res = PQexecParams(pg,
                           "INSERT INTO core.consents (household_id, client_id, scopes, expires_at) "
                           "VALUES ($1::uuid, $2, $3::text[], now() + make_interval(days => $4::integer)) RETURNING consent_id",
                           4, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "klimaspejl token: %s", PQerrorMessage(pg));
        goto exit;
    }
    if ((tok = auth_token_sign(kr, issuer, household, client, PQgetvalue(res, 0, 0), scopes, (int64_t)time(NULL), (unsigned)ttl)) ==
        NULL) {
        fprintf(stderr, "klimaspejl token: cannot sign\n");
        goto exit;
    }
    printf("%s\n", tok);
    fprintf(stderr, "consent %s\n", PQgetvalue(res, 0, 0));
    ret = CLI_EXIT_OK;
    goto exit;
usage:
    fprintf(stderr, "klimaspejl token: need --household UUID, --scope with known scopes, --client CLIENT_ID (--ttl 1..3600, "
                    "--days 1..1096)\n");
    token_usage(stderr);
    ret = CLI_EXIT_USAGE;
exit:
    free(tok);
    PQclear(res);
    if (pg != NULL)
        PQfinish(pg);
    auth_keyring_free(kr);
    config_free(&cfg);
    return ret;
}
