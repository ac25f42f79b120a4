/*
 * cli/migrate — `klimaspejl migrate [--dir DIR] [--status]`: applies sql/migrations/NNNN_name.sql in order, each once and
 * in its own transaction, recorded in meta.schema_migrations with a SHA-256 checksum of the file. A file that changed
 * after it was applied, or a migration that fails, stops the run with a clear message; a failed migration leaves nothing
 * behind (its transaction is rolled back).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/keyring.h"
#include "cli/cli.h"
#include "core/strutil.h"
#include "db/sync.h"

#define MIGRATE_MAX_FILES 1000

typedef struct migration {
    char name[256]; /* file name, e.g. 0001_core.sql */
    char version[5];
} migration_t;

static const char bootstrap_sql[] = "CREATE SCHEMA IF NOT EXISTS meta;"
                                    "CREATE TABLE IF NOT EXISTS meta.schema_migrations ("
                                    "  version text PRIMARY KEY,"
                                    "  name text NOT NULL,"
                                    "  checksum text NOT NULL,"
                                    "  applied_at timestamptz NOT NULL DEFAULT now())";

static int cmp_migration(const void *a, const void *b)
{
    return strcmp(((const migration_t *)a)->name, ((const migration_t *)b)->name);
}

/* Lists DIR's NNNN_*.sql files in order. Returns the count, or -1 after printing why. */
static int list_migrations(const char *dir, migration_t *out, size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL) {
        fprintf(stderr, "klimaspejl migrate: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 9 || strcmp(de->d_name + len - 4, ".sql") != 0)
            continue;
        uint64_t v;
        if (str_to_uint(de->d_name, 4, 0, 9999, &v) != 0 || de->d_name[4] != '_' || len >= sizeof(out->name)) {
            fprintf(stderr, "klimaspejl migrate: %s/%s: migration files are named NNNN_name.sql\n", dir, de->d_name);
            closedir(d);
            return -1;
        }
        if ((size_t)n == max) {
            fprintf(stderr, "klimaspejl migrate: more than %zu migrations in %s\n", max, dir);
            closedir(d);
            return -1;
        }
        memcpy(out[n].name, de->d_name, len + 1);
        memcpy(out[n].version, de->d_name, 4);
        out[n].version[4] = '\0';
        ++n;
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof(*out), cmp_migration);
    for (int i = 1; i < n; ++i) {
        if (strcmp(out[i].version, out[i - 1].version) == 0) {
            fprintf(stderr, "klimaspejl migrate: %s and %s share version %s\n", out[i - 1].name, out[i].name, out[i].version);
            return -1;
        }
    }
    return n;
}

/* Reads a whole file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto exit;
    if ((buf = malloc((size_t)size + 1)) == NULL)
        goto exit;
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
        goto exit;
    }
    buf[size] = '\0';
    *len = (size_t)size;
exit:
    fclose(f);
    return buf;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    auth_sha256(data, len, md);
    str_hex(md, 32, out);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: klimaspejl migrate [--dir DIR] [--status]\n"
            "  --dir DIR   the migrations folder (default: KLIMA_MIGRATIONS_DIR or %s/sql/migrations)\n"
            "  --status    list applied and pending migrations, change nothing\n"
            "connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL)\n",
            KLIMA_SOURCE_DIR);
}

/* Applies one migration file in its own transaction, recording it. Returns 0 or -1 (said on stderr). */
static int apply_one(PGconn *pg, const migration_t *m, const char *sql, const char *sum)
{
    const char *params[3] = {m->version, m->name, sum};
    PGresult *res;
    int ok;

    if (db_sync_exec(pg, "BEGIN", "migrate") != 0)
        return -1;
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "klimaspejl migrate: %s failed, nothing of it was applied:\n%s", m->name, PQerrorMessage(pg));
        PQclear(res);
        db_sync_exec(pg, "ROLLBACK", "migrate");
        return -1;
    }
    PQclear(res);
    /* a migration may SET LOCAL ROLE klima_owner; the record is written as the connecting role */
    if (db_sync_exec(pg, "RESET ROLE", "migrate") != 0) {
        db_sync_exec(pg, "ROLLBACK", "migrate");
        return -1;
    }
    res = PQexecParams(pg, "INSERT INTO meta.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3, NULL, params,
                       NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok || db_sync_exec(pg, "COMMIT", "migrate") != 0) {
        fprintf(stderr, "klimaspejl migrate: cannot record %s: %s", m->name, PQerrorMessage(pg));
        db_sync_exec(pg, "ROLLBACK", "migrate");
        return -1;
    }
    return 0;
}

/* One migration file: compared with its record (an applied file must be unchanged), listed (status_only) or
 * applied. Returns 1 when it was applied now, 0 when there was nothing to do, -1 on failure (said on stderr). */
static int migrate_one(PGconn *pg, const char *dir, const migration_t *m, int status_only)
{
    char path[4096], sum[65];
    const char *params[1] = {m->version};
    size_t len;
    char *sql;
    PGresult *res;
    int ret = -1;

    str_fmt(path, sizeof(path), "%s/%s", dir, m->name);
    if ((sql = read_file(path, &len)) == NULL) {
        fprintf(stderr, "klimaspejl migrate: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    sha256_hex(sql, len, sum);
    res = db_sync_query(pg, "SELECT name, checksum FROM meta.schema_migrations WHERE version = $1", 1, params, "migrate");
    if (res == NULL) {
        /* said */
    } else if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 1), sum) != 0) {
            fprintf(stderr,
                    "klimaspejl migrate: %s was changed after it was applied (recorded checksum %.12s…, file %.12s…).\n"
                    "Applied migrations are never edited: put the change in a new migration file.\n",
                    m->name, PQgetvalue(res, 0, 1), sum);
        } else {
            if (status_only)
                printf("applied  %s\n", m->name);
            ret = 0;
        }
    } else if (status_only) {
        printf("pending  %s\n", m->name);
        ret = 0;
    } else if (apply_one(pg, m, sql, sum) == 0) {
        printf("applied  %s\n", m->name);
        ret = 1;
    }
    PQclear(res);
    free(sql);
    return ret;
}

int cli_migrate_main(int argc, char **argv)
{
    const char *dir = getenv("KLIMA_MIGRATIONS_DIR");
    int status_only = 0, n, applied = 0, ret = CLI_EXIT_FAIL;
    char default_dir[4096];
    migration_t *files = NULL;
    PGconn *pg = NULL;

    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strncmp(argv[i], "--dir=", 6) == 0) {
            dir = argv[i] + 6;
        } else if (strcmp(argv[i], "--status") == 0) {
            status_only = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "klimaspejl migrate: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || *dir == '\0') {
        str_fmt(default_dir, sizeof(default_dir), "%s/sql/migrations", KLIMA_SOURCE_DIR);
        dir = default_dir;
    }
    if ((files = calloc(MIGRATE_MAX_FILES, sizeof(*files))) == NULL)
        goto exit;
    if ((n = list_migrations(dir, files, MIGRATE_MAX_FILES)) < 0)
        goto exit;
    if ((pg = db_sync_connect(cli_admin_conninfo(), "migrate")) == NULL)
        goto exit;
    /* one migrate at a time per database: a second one waits here, then finds the work done */
    if (db_sync_exec(pg, "SELECT pg_advisory_lock(7406201)", "migrate") != 0 || db_sync_exec(pg, bootstrap_sql, "migrate") != 0)
        goto exit;
    for (int i = 0; i < n; ++i) {
        int r = migrate_one(pg, dir, &files[i], status_only);
        if (r < 0)
            goto exit;
        applied += r;
    }
    if (!status_only)
        printf("migrate: %d applied, %d already up to date\n", applied, n - applied);
    ret = CLI_EXIT_OK;

exit:
    PQfinish(pg);
    free(files);
    return ret;
}
