/*
 * cli/refresh — `klimaspejl refresh [DATASET...]`: refreshes the materialized rollups behind the published datasets,
 * starts a new release of each dataset (version + 1, refreshed_at, meta.dataset_versions row) and notifies servers
 * on channel klima_dataset_refreshed with payload "<dataset id> <version>".
 *
 * The SQL side lives in sql/migrations/0008_releases.sql: meta.rollups (every materialized view in refresh order),
 * meta.dataset_rollups (the views each dataset needs), meta.refresh_rollup() (CONCURRENTLY once a view holds data,
 * plainly on its first fill) and meta.dataset_bump(). This file only sequences them so each dataset can be timed:
 * each statement runs in its own transaction, so readers keep reading the previous rows while a view refreshes, and
 * a dataset's NOTIFY is delivered as soon as its own bump commits.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "cli/cli.h"
#include "core/strutil.h"
#include "db/sync.h"

#define REFRESH_WHO "refresh"

/* Session settings for the big aggregations: hash tables of a few hundred MB stay in memory instead of spilling. */
static const char refresh_session_sql[] = "SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'; "
                                          "SET application_name = 'klimaspejl refresh'";

typedef struct refresh_names {
    char **items;
    size_t len;
} refresh_names_t;

static void refresh_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl refresh [DATASET...]\n"
                 "  Refreshes the rollups of the given datasets (all datasets, and the per-household rollups of the\n"
                 "  citizen summary, when none is given), bumps each dataset's version and sends\n"
                 "  NOTIFY klima_dataset_refreshed '<dataset> <version>'. Prints one line per dataset with its time.\n"
                 "  Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n");
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
static int refresh_load_names(PGconn *pg, const char *sql, int nparams, const char *const *params, refresh_names_t *names)
{
    PGresult *res = refresh_query(pg, sql, nparams, params);
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

/* Refreshes one materialized view unless this run already did. Returns 0 or -1. */
static int refresh_rollup(PGconn *pg, const char *rollup, refresh_names_t *done, size_t done_cap)
{
    if (refresh_names_has(done, rollup))
        return 0;
    const char *params[1] = {rollup};
    PGresult *res = refresh_query(pg, "SELECT meta.refresh_rollup($1)", 1, params);
    if (res == NULL)
        return -1;
    PQclear(res);
    if (done->len < done_cap)
        done->items[done->len++] = str_dup(rollup);
    return 0;
}

/* Refreshes the rollups of one dataset, bumps its version and prints "<id> v<version> <seconds> s". */
static int refresh_dataset(PGconn *pg, const char *id, refresh_names_t *done, size_t done_cap)
{
    double t0 = refresh_now();
    refresh_names_t rollups = {0};
    const char *params[1] = {id};
    int rc = -1;

    if (refresh_load_names(pg,
                           "SELECT r.name FROM meta.dataset_rollups d JOIN meta.rollups r ON r.name = d.rollup "
                           "WHERE d.dataset_id = $1 ORDER BY r.refresh_order",
                           1, params, &rollups) != 0)
        goto exit;
    for (size_t i = 0; i < rollups.len; ++i)
        if (refresh_rollup(pg, rollups.items[i], done, done_cap) != 0)
            goto exit;
    PGresult *res = refresh_query(pg, "SELECT meta.dataset_bump($1)", 1, params);
    if (res == NULL)
        goto exit;
    printf("%-28s v%-6s %7.1f s\n", id, PQgetvalue(res, 0, 0), refresh_now() - t0);
    fflush(stdout);
    PQclear(res);
    rc = 0;
exit:
    refresh_names_free(&rollups);
    return rc;
}

int cli_refresh_main(int argc, char **argv)
{
    refresh_names_t known = {0}, all_rollups = {0}, done = {0};
    PGconn *pg = NULL;
    int rc = CLI_EXIT_FAIL;

    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            refresh_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "klimaspejl refresh: unknown option %s\n", argv[i]);
            refresh_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    if ((pg = db_sync_connect(cli_admin_conninfo(), REFRESH_WHO)) == NULL)
        goto exit;
    if (db_sync_exec(pg, refresh_session_sql, REFRESH_WHO) != 0)
        goto exit;
    if (refresh_load_names(pg, "SELECT id FROM meta.datasets ORDER BY id", 0, NULL, &known) != 0)
        goto exit;
    if (refresh_load_names(pg, "SELECT name FROM meta.rollups ORDER BY refresh_order", 0, NULL, &all_rollups) != 0)
        goto exit;

    for (int i = 1; i < argc; ++i) {
        if (!refresh_names_has(&known, argv[i])) {
            fprintf(stderr, "klimaspejl refresh: unknown dataset %s\nknown datasets:", argv[i]);
            for (size_t j = 0; j < known.len; ++j)
                fprintf(stderr, " %s", known.items[j]);
            fputc('\n', stderr);
            rc = CLI_EXIT_USAGE;
            goto exit;
        }
    }

    /* One refresh at a time: a second run waits instead of fighting over the same views. */
    if (db_sync_exec(pg, "SELECT pg_advisory_lock(hashtext('klimaspejl refresh'))", REFRESH_WHO) != 0)
        goto exit;

    done.items = calloc(all_rollups.len + 1, sizeof(char *));
    if (done.items == NULL) {
        fprintf(stderr, "klimaspejl refresh: out of memory\n");
        goto exit;
    }

    double t_all = refresh_now();
    if (argc > 1) {
        for (int i = 1; i < argc; ++i)
            if (refresh_dataset(pg, argv[i], &done, all_rollups.len) != 0)
                goto exit;
    } else {
        for (size_t i = 0; i < known.len; ++i)
            if (refresh_dataset(pg, known.items[i], &done, all_rollups.len) != 0)
                goto exit;
        /* The per-household rollups of /v1/me/summary belong to no dataset. */
        double t0 = refresh_now();
        for (size_t i = 0; i < all_rollups.len; ++i)
            if (refresh_rollup(pg, all_rollups.items[i], &done, all_rollups.len) != 0)
                goto exit;
        printf("%-28s %-7s %7.1f s\n", "(citizen summary rollups)", "", refresh_now() - t0);
    }
    printf("%-28s %-7s %7.1f s\n", "total", "", refresh_now() - t_all);
    rc = CLI_EXIT_OK;

exit:
    refresh_names_free(&known);
    refresh_names_free(&all_rollups);
    refresh_names_free(&done);
    if (pg != NULL)
        PQfinish(pg);
    return rc;
}
