/*
 * cli/client — `klimaspejl client add|list|remove`: the registered apps (meta.clients). Removing a client revokes its
 * consents first, so servers refuse its tokens at once (NOTIFY klima_consent_revoked).
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "auth/client.h"
#include "auth/keyring.h"
#include "cli/cli.h"
#include "core/sbuf.h"
#include "db/sync.h"

#define WHO "client"

static void client_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl client add --name NAME --redirect-uri URI [--redirect-uri URI...] [--confidential]\n"
                 "                             [--origin ORIGIN...] [--first-party]\n"
                 "       klimaspejl client list [--pending]\n"
                 "       klimaspejl client approve CLIENT_ID\n"
                 "       klimaspejl client remove CLIENT_ID\n"
                 "  add prints the client_id and, for --confidential, the secret (shown once, stored only as a hash).\n"
                 "  --first-party marks the city's own apps, the only ones that may be granted consents:manage.\n"
                 "  list --pending shows the self-registered apps (POST /oauth/register) that ask for personal data and\n"
                 "  wait for approval: their scopes, redirect URIs and contacts; approve makes one active.\n"
                 "  Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n");
}

/* Appends s as an element of a PostgreSQL array literal (quoted, with " and \ escaped). */
static void array_elem(sbuf_t *b, const char *s)
{
    if (b->len > 1)
        sbuf_putc(b, ',');
    sbuf_putc(b, '"');
    for (; *s != '\0'; ++s) {
        if (*s == '"' || *s == '\\')
            sbuf_putc(b, '\\');
        sbuf_putc(b, *s);
    }
    sbuf_putc(b, '"');
}

static int client_add(PGconn *pg, int argc, char **argv)
{
    const char *name = NULL;
    int confidential = 0, first_party = 0, ret = CLI_EXIT_FAIL;
    sbuf_t uris = SBUF_INIT(SBUF_CAP_VALUE), origins = SBUF_INIT(SBUF_CAP_VALUE);
    char id[40], secret[48], hash_hex[67];
    PGresult *res = NULL;

    sbuf_putc(&uris, '{');
    sbuf_putc(&origins, '{');
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--redirect-uri") == 0 && i + 1 < argc) {
            if (!auth_redirect_uri_valid(argv[++i])) {
                fprintf(stderr,
                        "klimaspejl client: --redirect-uri %s: must be https://..., http://localhost..., or a "
                        "private-use scheme (com.example.app:/cb), without a fragment\n",
                        argv[i]);
                ret = CLI_EXIT_USAGE;
                goto exit;
            }
            array_elem(&uris, argv[i]);
        } else if (strcmp(argv[i], "--origin") == 0 && i + 1 < argc)
            array_elem(&origins, argv[++i]);
        else if (strcmp(argv[i], "--confidential") == 0)
            confidential = 1;
        else if (strcmp(argv[i], "--first-party") == 0)
            first_party = 1;
        else {
            fprintf(stderr, "klimaspejl client add: unknown argument %s\n", argv[i]);
            client_usage(stderr);
            ret = CLI_EXIT_USAGE;
            goto exit;
        }
    }
    sbuf_putc(&uris, '}');
    sbuf_putc(&origins, '}');
    if (name == NULL || uris.len <= 2) {
        fprintf(stderr, "klimaspejl client add: --name and at least one --redirect-uri are required\n");
        client_usage(stderr);
        ret = CLI_EXIT_USAGE;
        goto exit;
    }
    if (sbuf_failed(&uris) || sbuf_failed(&origins) || auth_random_token(12, id, sizeof(id)) != 0 ||
        auth_random_token(32, secret, sizeof(secret)) != 0) {
        fprintf(stderr, "klimaspejl client: out of memory or randomness\n");
        goto exit;
    }
    auth_sha256_bytea(secret, strlen(secret), hash_hex);
    const char *params[7] = {
        id, name, uris.data, confidential ? "f" : "t", confidential ? hash_hex : NULL, origins.data, first_party ? "t" : "f"};
    if ((res = db_sync_query(pg,
                             "INSERT INTO meta.clients (client_id, name, redirect_uris, public, secret_hash, origins, first_party) "
                             "VALUES ($1, $2, $3::text[], $4::boolean, $5::bytea, $6::text[], $7::boolean)",
                             7, params, "client add")) == NULL)
        goto exit;
    printf("client_id %s\n", id);
    if (confidential)
        printf("client_secret %s\n(shown once: store it now; only its hash is kept)\n", secret);
    ret = CLI_EXIT_OK;
exit:
    PQclear(res);
    sbuf_free(&uris);
    sbuf_free(&origins);
    return ret;
}

/* Every client (status, kind, party, name, redirect URIs, date), or with pending the registrations waiting for approval
 * (the scopes they ask for and their contacts instead of the kind and party). */
static int client_list(PGconn *pg, int pending)
{
    if (pending)
        return cli_list(pg,
                        "SELECT client_id, name, array_to_string(allowed_scopes, ' '), array_to_string(redirect_uris, ' '), "
                        "array_to_string(contacts, ' '), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                        "FROM meta.clients WHERE status = 'pending' ORDER BY created_at, client_id",
                        0, NULL, "client list");
    return cli_list(pg,
                    "SELECT client_id, status, CASE WHEN public THEN 'public' ELSE 'confidential' END, "
                    "CASE WHEN first_party THEN 'first-party' ELSE 'third-party' END, name, "
                    "array_to_string(redirect_uris, ' '), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                    "FROM meta.clients ORDER BY created_at, client_id",
                    0, NULL, "client list");
}

/* Makes a pending registration active: citizens may then be asked to consent to the scopes it registered. */
static int client_approve(PGconn *pg, const char *id)
{
    const char *params[1] = {id};
    PGresult *res =
        db_sync_query(pg,
                      "UPDATE meta.clients SET status = 'active', approved_at = now() "
                      "WHERE client_id = $1 AND status = 'pending' RETURNING name, array_to_string(allowed_scopes, ' ')",
                      1, params, "client approve");
    int approved = res != NULL && PQntuples(res) == 1;
    if (res != NULL && !approved)
        fprintf(stderr, "klimaspejl client approve: no pending client %s (klimaspejl client list --pending)\n", id);
    if (approved)
        printf("approved %s (%s): it may now ask citizens for %s\n", id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    PQclear(res);
    return approved ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int client_remove(PGconn *pg, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = db_sync_query(pg, "SELECT meta.client_remove($1)", 1, params, "client remove");
    int removed = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (res != NULL && !removed)
        fprintf(stderr, "klimaspejl client remove: no client %s\n", id);
    if (removed)
        printf("removed %s (its consents are revoked)\n", id);
    PQclear(res);
    return removed ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_client_main(int argc, char **argv)
{
    PGconn *pg;
    int ret;

    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        client_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "list") != 0 && strcmp(argv[1], "remove") != 0 &&
        strcmp(argv[1], "approve") != 0) {
        fprintf(stderr, "klimaspejl client: unknown action %s\n", argv[1]);
        client_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if ((strcmp(argv[1], "remove") == 0 || strcmp(argv[1], "approve") == 0) && argc != 3) {
        fprintf(stderr, "klimaspejl client %s: give exactly one CLIENT_ID\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "list") == 0 && (argc > 3 || (argc == 3 && strcmp(argv[2], "--pending") != 0))) {
        fprintf(stderr, "klimaspejl client list: the only option is --pending\n");
        return CLI_EXIT_USAGE;
    }
    if ((pg = db_sync_connect(cli_admin_conninfo(), WHO)) == NULL)
        return CLI_EXIT_FAIL;
    if (strcmp(argv[1], "add") == 0)
        ret = client_add(pg, argc, argv);
    else if (strcmp(argv[1], "list") == 0)
        ret = client_list(pg, argc == 3);
    else if (strcmp(argv[1], "approve") == 0)
        ret = client_approve(pg, argv[2]);
    else
        ret = client_remove(pg, argv[2]);
    PQfinish(pg);
    return ret;
}
