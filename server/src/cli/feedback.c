/*
 * cli/feedback — `klimaspejl feedback list [--since YYYY-MM-DD] [--topic T] [--limit N]`: citizen feedback for staff,
 * newest first, as tab-separated lines. The sender column is the household id of a data-error report sent with a consent
 * token (staff use it to look at that household's data), else "anonymous". Control characters and tabs in messages are shown
 * escaped (\n, \t, \xNN) so a message cannot forge lines or terminal escapes.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/strutil.h"
#include "db/sync.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl feedback list [--since YYYY-MM-DD] [--topic dataset|dashboard|data-error|idea] [--limit N]\n"
                 "connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL)\n");
}

int cli_feedback_main(int argc, char **argv)
{
    const char *since = "1970-01-01", *topic = NULL, *limit = "100";
    uint64_t v;
    PGconn *pg;
    PGresult *res;
    int ret = CLI_EXIT_FAIL;

    if (argc < 2 || strcmp(argv[1], "list") != 0) {
        fprintf(stderr, "klimaspejl feedback: expected 'list'\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (int i = 2; i < argc; ++i) {
        const char **dst = strcmp(argv[i], "--since") == 0   ? &since
                           : strcmp(argv[i], "--topic") == 0 ? &topic
                           : strcmp(argv[i], "--limit") == 0 ? &limit
                                                             : NULL;
        if (dst == NULL || i + 1 >= argc) {
            fprintf(stderr, "klimaspejl feedback: unknown option or missing value '%s'\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        *dst = argv[++i];
    }
    if (str_to_uint(limit, strlen(limit), 1, 100000, &v) != 0) {
        fprintf(stderr, "klimaspejl feedback: --limit must be a whole number from 1 to 100000\n");
        return CLI_EXIT_USAGE;
    }
    if ((pg = db_sync_connect(cli_admin_conninfo(), "feedback")) == NULL)
        return CLI_EXIT_FAIL;
    const char *params[3] = {since, topic, limit};
    res = db_sync_query(pg,
                        "SELECT feedback_id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), topic, "
                        "coalesce(dataset_id, '-'), coalesce(rating::text, '-'), country, "
                        "coalesce(household_id::text, 'anonymous'), message "
                        "FROM core.feedback WHERE received_at >= $1::date AND ($2::text IS NULL OR topic = $2) "
                        "ORDER BY received_at DESC LIMIT $3::integer",
                        3, params, "feedback");
    if (res == NULL)
        goto exit;
    printf("id\treceived_at\ttopic\tdataset\trating\tcountry\tsender\tmessage\n");
    cli_print_rows(res);
    ret = CLI_EXIT_OK;
exit:
    PQclear(res);
    PQfinish(pg);
    return ret;
}
