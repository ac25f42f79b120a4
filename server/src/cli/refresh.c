/*
 * cli/refresh — `klimaspejl refresh [--full] [DATASET...]`: publishes one release. Every rollup and published table is
 * brought up to one snapshot of core in one REPEATABLE READ transaction; each dataset whose published rows changed gets
 * a new version (content hash), the others keep theirs; servers hear NOTIFY klima_dataset_refreshed '<id> <version>'
 * for each new version when the transaction commits, the moment readers see the new rows in every table at once.
 *
 * A release rebuilds only the local days and months whose data changed since the last release (noted by triggers on
 * core), or everything: the first release, after a change no period describes, or with --full. The published datasets
 * are linked (meta.dataset_links) and every dataset is linked to every other one through the footprint, so naming
 * datasets does not narrow the release. The SQL side lives in sql/migrations/0008_releases.sql (meta.release_begin,
 * meta.release_rollup, meta.release_publish); this file runs those steps one by one so each can be timed.
 *
 * After the release commits, the same run maintains core.energy_hourly's monthly partitions (core.energy_maintenance,
 * 0028_energy_partman.sql: pg_partman premakes the coming months and, with KLIMA_ENERGY_RETENTION_MONTHS set, drops the
 * months past it that no release needs any more). Here rather than in partman's background worker: that needs
 * shared_preload_libraries (a server restart, not always allowed on a managed server) and would drop months without
 * knowing what the next release still reads; after a release nothing is pending but what arrived since.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "cli/cli.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "db/sync.h"

#define REFRESH_WHO "refresh"
/* KLIMA_ENERGY_RETENTION_MONTHS: the citizen routes read 24 months back, and the current month (core.energy_maintenance
 * refuses less too); at most a century. */
#define REFRESH_RETENTION_MIN 25
#define REFRESH_RETENTION_MAX 1200

/* Session settings for the big aggregations: hash tables of a few hundred MB stay in memory instead of spilling. */
static const char refresh_session_sql[] = "SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'; "
                                          "SET application_name = 'klimaspejl refresh'";

typedef struct refresh_names {
    char **items;
    size_t len;
} refresh_names_t;

static void refresh_usage(FILE *out)
{
    fprintf(out,
            "usage: klimaspejl refresh [--full] [DATASET...]\n"
            "  Publishes a release: brings every rollup and published dataset up to one snapshot of the core\n"
            "  tables in one transaction (a named dataset is rebuilt with everything it is linked to, which is\n"
            "  every dataset), gives a new version to each dataset whose published rows changed and sends\n"
            "  NOTIFY klima_dataset_refreshed '<dataset> <version>' for it at commit. Only the local days and\n"
            "  months whose data changed since the last release are rebuilt, unless everything must be (the first\n"
            "  release; new disclosure parameters, emission factors or districts; a TRUNCATE or a seed).\n"
            "  --full  rebuild everything whatever changed\n"
            "  Prints what it rebuilds, the time and rows of each rollup and each dataset's version. Connects\n"
            "  with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n"
            "  Then maintains the monthly partitions of the hourly readings: premakes the coming months and, when\n"
            "  KLIMA_ENERGY_RETENTION_MONTHS is set (%d to %d; unset: keep every month), drops the months whose\n"
            "  hours are all older than that, unless the next release still needs them.\n",
            REFRESH_RETENTION_MIN, REFRESH_RETENTION_MAX);
}

static double refresh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void refresh_names_free(refresh_names_t *n)
{
    for (size_t i = 0; i < n->len; ++i)
        free(n->items[i]);
    free(n->items);
    n->items = NULL;
    n->len = 0;
}

static int refresh_names_has(const refresh_names_t *n, const char *s)
{
    for (size_t i = 0; i < n->len; ++i)
        if (strcmp(n->items[i], s) == 0)
            return 1;
    return 0;
}

/* Runs a query with text parameters and returns its tuples result, or NULL after printing the error. */
static PGresult *refresh_query(PGconn *pg, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "klimaspejl %s: %s", REFRESH_WHO, PQerrorMessage(pg));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Loads the first column of a query into names (each string owned by names). Returns 0 or -1. */
static int refresh_load_names(PGconn *pg, const char *sql, refresh_names_t *names)
{
    PGresult *res = refresh_query(pg, sql, 0, NULL);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    names->items = calloc((size_t)rows + 1, sizeof(char *));
    if (names->items == NULL) {
        PQclear(res);
        fprintf(stderr, "klimaspejl %s: out of memory\n", REFRESH_WHO);
        return -1;
    }
    for (int i = 0; i < rows; ++i)
        names->items[names->len++] = str_dup(PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

/* The named datasets as a PostgreSQL array literal ("{a,b}"), or NULL for none; ids are catalog ids ([a-z0-9-]),
 * checked against the catalog before, so they need no quoting. The caller frees the result. */
static char *refresh_requested(int argc, char **argv)
{
    sbuf_t b = SBUF_INIT(SBUF_CAP_VALUE);
    if (argc <= 1)
        return NULL;
    sbuf_putc(&b, '{');
    for (int i = 1; i < argc; ++i)
        sbuf_printf(&b, "%s%s", i > 1 ? "," : "", argv[i]);
    sbuf_putc(&b, '}');
    if (sbuf_failed(&b)) {
        sbuf_free(&b);
        return NULL;
    }
    return b.data;
}

/* Prints what release rid rebuilds (meta.releases): everything and why, or its local days and months. */
static int refresh_print_plan(PGconn *pg, const char *release)
{
    const char *params[1] = {release};
    PGresult *res = refresh_query(pg,
                                  "SELECT full_rebuild, full_reason, days::text, months::text,"
                                  " (SELECT coalesce(sum(upper(u) - lower(u)), 0) FROM unnest(days) u),"
                                  " (SELECT count(*) FROM unnest(months) u CROSS JOIN generate_series(lower(u), upper(u) - 1,"
                                  " interval '1 month') m)"
                                  " FROM meta.releases WHERE release_id = $1::bigint",
                                  1, params);
    if (res == NULL)
        return -1;
    if (PQgetvalue(res, 0, 0)[0] == 't')
        printf("release %s: one snapshot of core, one transaction; rebuilds everything (%s)\n", release, PQgetvalue(res, 0, 1));
    else
        printf("release %s: one snapshot of core, one transaction; rebuilds what changed: local days %s (%s), months %s (%s)\n",
               release, PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 3));
    PQclear(res);
    return 0;
}

/* The release inside the open REPEATABLE READ transaction: begin, every rollup (timed), publish. Returns 0 or -1. */
static int refresh_release(PGconn *pg, const char *requested, int full, const refresh_names_t *rollups)
{
    const char *params[2] = {requested, full ? "true" : "false"};
    PGresult *res = refresh_query(pg, "SELECT meta.release_begin($1::text[], $2::boolean)", 2, params);
    char release[24];
    int changed = 0;

    if (res == NULL)
        return -1;
    str_fmt(release, sizeof(release), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (refresh_print_plan(pg, release) != 0)
        return -1;
    for (size_t i = 0; i < rollups->len; ++i) {
        double t0 = refresh_now();
        const char *p[2] = {release, rollups->items[i]};
        if ((res = refresh_query(pg, "SELECT meta.release_rollup($1::bigint, $2)", 2, p)) == NULL)
            return -1;
        if (PQgetisnull(res, 0, 0))
            printf("  %-34s %7.1f s\n", rollups->items[i], refresh_now() - t0);
        else
            printf("  %-34s %7.1f s %10s rows\n", rollups->items[i], refresh_now() - t0, PQgetvalue(res, 0, 0));
        PQclear(res);
        fflush(stdout);
    }
    double t0 = refresh_now();
    /* the provenance of the real sources loaded so far (0017_source_provenance.sql), published with the release */
    if ((res = refresh_query(pg, "SELECT meta.provenance_publish()", 0, NULL)) == NULL)
        return -1;
    PQclear(res);
    params[0] = release;
    if ((res = refresh_query(pg, "SELECT dataset_id, version, changed FROM meta.release_publish($1::bigint)", 1, params)) == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); ++i) {
        int c = PQgetvalue(res, i, 2)[0] == 't';
        changed += c;
        printf("  %-28s v%-6s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), c ? "new version" : "unchanged");
    }
    printf("  %-34s %7.1f s (%d of %d datasets changed)\n", "(content hashes, versions)", refresh_now() - t0, changed,
           PQntuples(res));
    PQclear(res);
    return 0;
}

/* Reads KLIMA_ENERGY_RETENTION_MONTHS into out (empty when unset: retention off). Returns 0, or -1 after printing what
 * is wrong with it. */
static int refresh_retention(char out[8])
{
    const char *v = getenv("KLIMA_ENERGY_RETENTION_MONTHS");
    uint64_t months;
    out[0] = '\0';
    if (v == NULL || v[0] == '\0')
        return 0;
    if (str_to_uint(v, strlen(v), REFRESH_RETENTION_MIN, REFRESH_RETENTION_MAX, &months) != 0) {
        fprintf(stderr,
                "klimaspejl refresh: KLIMA_ENERGY_RETENTION_MONTHS must be a whole number of months from %d to %d "
                "(unset: keep every month)\n",
                REFRESH_RETENTION_MIN, REFRESH_RETENTION_MAX);
        return -1;
    }
    str_fmt(out, 8, "%u", (unsigned)months);
    return 0;
}

/* The partition maintenance after a release (core.energy_maintenance), in its own transaction; prints what it did.
 * Returns 0 or -1 after printing the error. */
static int refresh_maintain(PGconn *pg, const char *retention)
{
    const char *params[1] = {retention[0] != '\0' ? retention : NULL};
    double t0 = refresh_now();
    PGresult *res = refresh_query(pg,
                                  "SELECT created, retired, to_char(retired_before AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
                                  " coalesce(held_back, '') FROM core.energy_maintenance($1::integer)",
                                  1, params);
    if (res == NULL) {
        fputs("klimaspejl refresh: the release was published; its partition maintenance failed\n", stderr);
        return -1;
    }
    printf("partitions: %s created", PQgetvalue(res, 0, 0));
    if (retention[0] == '\0')
        printf("; retention off (KLIMA_ENERGY_RETENTION_MONTHS unset)");
    else
        printf("; retention %s months: %s dropped", retention, PQgetvalue(res, 0, 1));
    if (!PQgetisnull(res, 0, 2))
        printf("; readings before %s retired", PQgetvalue(res, 0, 2));
    if (PQgetvalue(res, 0, 3)[0] != '\0')
        printf("; held back: %s", PQgetvalue(res, 0, 3));
    printf(" (%.1f s)\n", refresh_now() - t0);
    PQclear(res);
    return 0;
}

/* Publishes the release in one REPEATABLE READ transaction, then maintains the partitions; 0, or -1 after printing the
 * error. */
static int refresh_publish(PGconn *pg, const char *requested, int full, const refresh_names_t *rollups, const char *retention)
{
    /* One release at a time: a second run waits here, before its transaction takes its snapshot, so it then builds on
     * the first one's data instead of failing on it. */
    if (db_sync_exec(pg, "SELECT pg_advisory_lock(hashtext('klimaspejl refresh'))", REFRESH_WHO) != 0)
        return -1;
    double t_all = refresh_now();
    if (db_sync_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ", REFRESH_WHO) != 0)
        return -1;
    if (refresh_release(pg, requested, full, rollups) != 0) {
        PQclear(PQexec(pg, "ROLLBACK"));
        return -1;
    }
    if (db_sync_exec(pg, "COMMIT", REFRESH_WHO) != 0)
        return -1;
    printf("%-36s %7.1f s\n", "total (published at commit)", refresh_now() - t_all);
    /* still under the advisory lock: no release begins while months may be dropped */
    return refresh_maintain(pg, retention);
}

int cli_refresh_main(int argc, char **argv)
{
    char retention[8];
    refresh_names_t known = {0}, rollups = {0};
    PGconn *pg = NULL;
    char *requested = NULL;
    int rc = CLI_EXIT_FAIL, full = 0, n_ids = 1;
    /* argv without the options: the program name, then the dataset ids (refresh_requested's shape) */
    char **ids = calloc((size_t)argc + 1, sizeof(char *));

    if (ids == NULL) {
        fprintf(stderr, "klimaspejl %s: out of memory\n", REFRESH_WHO);
        return CLI_EXIT_FAIL;
    }
    ids[0] = argv[0];
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            refresh_usage(stdout);
            rc = CLI_EXIT_OK;
            goto exit;
        }
        if (strcmp(argv[i], "--full") == 0) {
            full = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "klimaspejl refresh: unknown option %s\n", argv[i]);
            refresh_usage(stderr);
            rc = CLI_EXIT_USAGE;
            goto exit;
        } else {
            ids[n_ids++] = argv[i];
        }
    }

    if (refresh_retention(retention) != 0) {
        rc = CLI_EXIT_USAGE;
        goto exit;
    }
    if ((pg = db_sync_connect(cli_admin_conninfo(), REFRESH_WHO)) == NULL)
        goto exit;
    if (db_sync_exec(pg, refresh_session_sql, REFRESH_WHO) != 0)
        goto exit;
    if (refresh_load_names(pg, "SELECT id FROM meta.datasets ORDER BY id", &known) != 0)
        goto exit;
    if (refresh_load_names(pg, "SELECT name FROM meta.rollups ORDER BY refresh_order", &rollups) != 0)
        goto exit;

    for (int i = 1; i < n_ids; ++i) {
        if (!refresh_names_has(&known, ids[i])) {
            fprintf(stderr, "klimaspejl refresh: unknown dataset %s\nknown datasets:", ids[i]);
            for (size_t j = 0; j < known.len; ++j)
                fprintf(stderr, " %s", known.items[j]);
            fputc('\n', stderr);
            rc = CLI_EXIT_USAGE;
            goto exit;
        }
    }
    requested = refresh_requested(n_ids, ids);

    if (refresh_publish(pg, requested, full, &rollups, retention) == 0)
        rc = CLI_EXIT_OK;

exit:
    free(requested);
    free(ids);
    refresh_names_free(&known);
    refresh_names_free(&rollups);
    if (pg != NULL)
        PQfinish(pg);
    return rc;
}
