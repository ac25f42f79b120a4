/*
 * cli/ingest — `klimaspejl ingest households|energy|waste|mobility FILE.csv`: loads real data in one transaction.
 *
 * The file is streamed through a fixed buffer (constant memory whatever its length): each record is parsed (RFC 4180,
 * comma-separated, optional double quotes; a line break inside quotes is refused so that record N is always line N+1),
 * validated in C (UTF-8, field count, syntax and ranges, known names, known households) and re-emitted as one line of a
 * text-format COPY. The first bad row rolls everything back and is reported as `FILE:LINE: reason`. Errors PostgreSQL
 * finds during COPY (duplicate keys) carry "COPY ..., line N" in their context; the COPY lines of a segment start at a
 * known file line, so they map back to the file line. Energy rows go through the partitioned parent; when a month without
 * a partition appears, the COPY is ended, core.ensure_energy_partitions creates it and a new COPY starts — all within the
 * one transaction. The formats are documented in sql/README.md, "Loading real data".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli/bulk.h"
#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/ingest.h"
#include "cli/source.h"
#include "core/strutil.h"
#include "core/time.h"

#define INGEST_READ_BUF (1024 * 1024)
#define INGEST_COPY_BUF (1024 * 1024)

static const char ingest_usage[] =
    "usage: klimaspejl ingest households|energy|waste|mobility FILE.csv   (FILE may be - for standard input)\n"
    "  households: household_id,district,dwelling_type,occupant_band,floor_area_m2\n"
    "  energy:     household_id,hour_utc,electricity_wh,heat_wh,water_l\n"
    "  waste:      household_id,collected_on,fraction,kg\n"
    "  mobility:   household_id,day,mode,trips,km\n"
    "One transaction per file: the first bad row aborts with FILE:LINE: reason and nothing is loaded.\n"
    "Real sources: klimaspejl ingest eds-co2 FILE [--dataset CO2Emis|CO2EmisProg]; ingest eloverblik FILE --household UUID\n"
    "Formats: sql/README.md, \"Loading real data\". Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n";

/* ---- the load ------------------------------------------------------------------------------------------------------ */

static int known_household(ingest_ctx_t *ctx, const uint8_t id[16])
{
    if (ctx->have_last_ok && memcmp(ctx->last_ok, id, 16) == 0)
        return 1;
    size_t lo = 0, hi = ctx->n_households;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(ctx->households[mid], id, 16);
        if (c == 0) {
            memcpy(ctx->last_ok, id, 16);
            ctx->have_last_ok = 1;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int copy_start(ingest_ctx_t *ctx, uint64_t first_line, const char **why)
{
    ctx->segment_first_line = first_line;
    if (cli_bulk_begin(&ctx->bulk, ctx->kind->copy_sql) == 0)
        return 0;
    str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", ctx->bulk.error);
    *why = ctx->why_buf;
    return -1;
}

/* Turns a PostgreSQL error into a reason and, when its context names a COPY line, the file line. */
typedef struct pg_error {
    ingest_ctx_t *ctx;
    uint64_t *line;
    const char **why;
} pg_error_t;

static void describe_pg_error(void *data, const PGresult *res)
{
    pg_error_t *e = data;
    ingest_ctx_t *ctx = e->ctx;
    uint64_t *line = e->line;
    const char **why = e->why;
    if (res == NULL) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", PQerrorMessage(ctx->conn));
        *why = ctx->why_buf;
        return;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
    const char *at = context != NULL ? strstr(context, ", line ") : NULL;
    uint64_t n = 0;
    if (at != NULL) {
        at += 7;
        size_t len = strspn(at, "0123456789");
        if (str_to_uint(at, len, 1, UINT64_MAX / 2, &n) == 0)
            *line = ctx->segment_first_line + n - 1;
    }
    if (state != NULL && strcmp(state, "23505") == 0)
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "duplicate key: this row repeats an earlier row or one already loaded");
    else if (state != NULL && strcmp(state, "23503") == 0)
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "unknown household_id (not in core.households)");
    else
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", msg != NULL ? msg : PQresultErrorMessage(res));
    *why = ctx->why_buf;
}

/* Ends the running COPY (if any); on a PostgreSQL error sets *why and, when its context names a COPY line, *line.
 * Returns 0 or -1. */
static int copy_finish(ingest_ctx_t *ctx, uint64_t *line, const char **why)
{
    pg_error_t e = {ctx, line, why};
    if (!ctx->bulk.active)
        return 0;
    return cli_bulk_end(&ctx->bulk, describe_pg_error, &e);
}

/* Reads the districts and the known household ids (sorted, as PostgreSQL orders uuids bytewise). */
static int load_reference(ingest_ctx_t *ctx, const char **why)
{
    PGresult *res = PQexec(ctx->conn, "SELECT district_id, name FROM core.districts ORDER BY district_id LIMIT 16");
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    ctx->n_districts = PQntuples(res);
    for (int i = 0; i < ctx->n_districts; ++i) {
        uint64_t id;
        const char *v = PQgetvalue(res, i, 0);
        if (str_to_uint(v, strlen(v), 0, 32767, &id) != 0)
            goto fail;
        ctx->district_ids[i] = (int)id;
        str_fmt(ctx->district_names[i], sizeof ctx->district_names[i], "%s", PQgetvalue(res, i, 1));
    }
    PQclear(res);
    res = NULL;
    if (!ctx->kind->needs_household) {
        rc = 0;
        goto fail;
    }
    res = PQexec(ctx->conn, "SELECT household_id FROM core.households ORDER BY household_id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    ctx->n_households = (size_t)PQntuples(res);
    ctx->households = malloc(ctx->n_households * 16 + 16);
    if (ctx->households == NULL)
        goto fail;
    for (size_t i = 0; i < ctx->n_households; ++i)
        if (ingest_parse_uuid(PQgetvalue(res, (int)i, 0), 36, ctx->households[i]) != 0)
            goto fail;
    rc = 0;
fail:
    if (rc != 0) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "reading reference data: %s", PQerrorMessage(ctx->conn));
        *why = ctx->why_buf;
    }
    PQclear(res);
    return rc;
}

static void ingest_progress(uint64_t rows, double t0, uint64_t bytes, uint64_t size)
{
    double el = time_mono_s() - t0, rate = el > 0 ? rows / el : 0;
    fprintf(stderr, "\ringest: %llu rows, %.2f M rows/s", (unsigned long long)rows, rate / 1e6);
    if (size > 0 && bytes > 0 && bytes <= size)
        fprintf(stderr, ", %.0f s left", el * (double)(size - bytes) / (double)bytes);
    fputs("   ", stderr);
    fflush(stderr);
}

static void ingest_quiet(void *arg, const char *message)
{
}

/* The header record must name kind's columns exactly (it may be quoted and start with a byte-order mark). Returns 0, or
 * -1 with *why set. */
static int check_header(ingest_ctx_t *ctx, const cli_csv_record_t *rec, const char **why)
{
    /* Rebuild the header from the parsed fields and compare it exactly. */
    char hdr[CLI_CSV_MAX_RECORD + CLI_CSV_MAX_FIELDS], *p = hdr;
    for (int i = 0; i < rec->nf; ++i) {
        if (i > 0)
            *p++ = ',';
        memcpy(p, rec->data + rec->off[i], rec->len[i]);
        p += rec->len[i];
    }
    *p = '\0';
    const char *h = hdr;
    if (strncmp(h, "\xef\xbb\xbf", 3) == 0) /* a byte-order mark from a spreadsheet */
        h += 3;
    if (strcmp(h, ctx->kind->header) != 0) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "wrong header: expected %s", ctx->kind->header);
        *why = ctx->why_buf;
        return -1;
    }
    return 0;
}

/* The checks of a data record that need no database: field count, UTF-8, no empty field and, for the kinds keyed by
 * household, a syntactically valid household id (returned in id). Returns 0, or -1 with *why set. */
static int check_record(ingest_ctx_t *ctx, const cli_csv_record_t *rec, uint8_t id[16], const char **why)
{
    if (rec->nf != ctx->kind->nfields) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "expected %d fields, found %d", ctx->kind->nfields, rec->nf);
        *why = ctx->why_buf;
        return -1;
    }
    for (int i = 0; i < rec->nf; ++i) {
        if (!str_is_utf8(rec->data + rec->off[i], rec->len[i])) {
            str_fmt(ctx->why_buf, sizeof ctx->why_buf, "field %d is not valid UTF-8", i + 1);
            *why = ctx->why_buf;
            return -1;
        }
        if (rec->len[i] == 0) {
            str_fmt(ctx->why_buf, sizeof ctx->why_buf, "field %d is empty", i + 1);
            *why = ctx->why_buf;
            return -1;
        }
    }
    if (ctx->kind->needs_household && ingest_parse_uuid(rec->data, rec->len[0], id) != 0) {
        *why = "household_id: expected a UUID like 0b6f3c1e-2a4d-4e8f-9c1a-3d5e7f9a1b2c";
        return -1;
    }
    return 0;
}

static const ingest_kind_t *kind_named(const char *name)
{
    for (const ingest_kind_t *k = ingest_kinds; k->name != NULL; ++k)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

/* ---- the command --------------------------------------------------------------------------------------------------- */

/* A load on its way: where it is in the file and how it ends. */
typedef struct ingest_run {
    ingest_ctx_t *ctx;
    cli_csv_t rd;
    cli_csv_record_t *rec;
    const char *path, *why;
    uint64_t line, rows, fail_line, size;
    int tty, began;
    double t0, last_shown;
} ingest_run_t;

/* How a step ended: done, a bad row (FILE:LINE: why), a database error (FILE[:LINE]: why), or already reported. */
enum { RUN_OK, RUN_BAD_ROW, RUN_DB_ERROR, RUN_FAILED };

/* Opens path ("-" for standard input) for the reader; prints why and returns -1 when it cannot. */
static int open_input(ingest_run_t *run, char *buf)
{
    int fd = STDIN_FILENO;
    struct stat st;

    if (strcmp(run->path, "-") != 0 && (fd = open(run->path, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "klimaspejl ingest: %s: %s\n", run->path, strerror(errno));
        return -1;
    }
    cli_csv_open(&run->rd, fd, buf, INGEST_READ_BUF);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        run->size = (uint64_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

/* Connects, begins the transaction, reads the reference data and starts the COPY. */
static int begin_load(ingest_run_t *run)
{
    ingest_ctx_t *ctx = run->ctx;
    const char *su;

    ctx->conn = PQconnectdb(cli_admin_conninfo());
    PQsetNoticeProcessor(ctx->conn, ingest_quiet, NULL);
    if (PQstatus(ctx->conn) != CONNECTION_OK) {
        fprintf(stderr, "klimaspejl ingest: cannot connect: %s", PQerrorMessage(ctx->conn));
        return RUN_FAILED;
    }
    if (cli_bulk_init(&ctx->bulk, ctx->conn, INGEST_COPY_BUF) != 0 || cli_bulk_exec(ctx->conn, "BEGIN") != 0) {
        fprintf(stderr, "klimaspejl ingest: %s", ctx->bulk.buf == NULL ? "out of memory\n" : PQerrorMessage(ctx->conn));
        return RUN_FAILED;
    }
    run->began = 1;
    /* The rows' households are checked in C against the ids read below, so a superuser may skip the per-row foreign-key
     * triggers (session_replication_role) — provided households and districts cannot change until commit, which the
     * SHARE lock guarantees. Other roles keep the triggers. */
    su = PQparameterStatus(ctx->conn, "is_superuser");
    if (su != NULL && strcmp(su, "on") == 0 &&
        cli_bulk_exec(ctx->conn, "LOCK TABLE core.districts, core.households IN SHARE MODE;"
                                 " SET LOCAL session_replication_role = replica") != 0) {
        fprintf(stderr, "klimaspejl ingest: %s", PQerrorMessage(ctx->conn));
        return RUN_FAILED;
    }
    if (load_reference(ctx, &run->why) != 0) {
        fprintf(stderr, "klimaspejl ingest: %s\n", run->why);
        return RUN_FAILED;
    }
    return copy_start(ctx, 2, &run->why) == 0 ? RUN_OK : RUN_DB_ERROR;
}

/* A row that opens a month without a partition: end this COPY, create the partition, send the row in a new COPY. */
static int new_partition(ingest_run_t *run, char **end)
{
    ingest_ctx_t *ctx = run->ctx;
    char row[CLI_CSV_MAX_RECORD + 128], sql[160];
    size_t row_len = (size_t)(*end - (ctx->bulk.buf + ctx->bulk.len));

    memcpy(row, ctx->bulk.buf + ctx->bulk.len, row_len);
    str_fmt(sql, sizeof sql, "SELECT core.ensure_energy_partitions('%s', '%s')", ctx->new_month, ctx->new_month);
    if (copy_finish(ctx, &run->fail_line, &run->why) != 0)
        return RUN_DB_ERROR;
    if (cli_bulk_exec(ctx->conn, sql) != 0) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "creating a partition: %s", PQerrorMessage(ctx->conn));
        run->why = ctx->why_buf;
        return RUN_BAD_ROW;
    }
    if (copy_start(ctx, run->line, &run->why) != 0)
        return RUN_DB_ERROR;
    memcpy(ctx->bulk.buf, row, row_len);
    *end = ctx->bulk.buf + row_len;
    return RUN_OK;
}

/* Every data record: checked, turned into a COPY line and sent. */
static int load_rows(ingest_run_t *run)
{
    ingest_ctx_t *ctx = run->ctx;
    int r, st;

    while ((r = cli_csv_next(&run->rd, run->rec, &run->why)) != 0) {
        uint8_t id[16];
        char *out, *end;
        ++run->line;
        if (r < 0 || check_record(ctx, run->rec, id, &run->why) != 0)
            return RUN_BAD_ROW;
        if (ctx->kind->needs_household && !known_household(ctx, id)) {
            run->why = "household_id: unknown household (load it first with `klimaspejl ingest households`)";
            return RUN_BAD_ROW;
        }
        if ((out = cli_bulk_room(&ctx->bulk, CLI_CSV_MAX_RECORD + 128)) == NULL) {
            copy_finish(ctx, &run->fail_line, &run->why);
            return RUN_DB_ERROR;
        }
        ctx->new_month[0] = '\0';
        if ((end = ctx->kind->emit(ctx, run->rec, out, &run->why)) == NULL)
            return RUN_BAD_ROW;
        if (ctx->new_month[0] != '\0' && (st = new_partition(run, &end)) != RUN_OK)
            return st;
        ctx->bulk.len = (size_t)(end - ctx->bulk.buf);
        ++run->rows;
        if (run->tty && (run->rows & 0xffff) == 0 && time_mono_s() - run->last_shown > 0.25) {
            run->last_shown = time_mono_s();
            ingest_progress(run->rows, run->t0, run->rd.bytes, run->size);
        }
    }
    return RUN_OK;
}

/* The header, the load and the commit. */
static int run_load(ingest_run_t *run)
{
    ingest_ctx_t *ctx = run->ctx;
    int r, st;

    /* The header first: a wrong file fails before touching the database. */
    r = cli_csv_next(&run->rd, run->rec, &run->why);
    run->line = 1;
    if (r == 0)
        run->why = "empty file: expected the header line";
    if (r != 1 || check_header(ctx, run->rec, &run->why) != 0)
        return RUN_BAD_ROW;
    if ((st = begin_load(run)) != RUN_OK || (st = load_rows(run)) != RUN_OK)
        return st;
    if (copy_finish(ctx, &run->fail_line, &run->why) != 0)
        return RUN_DB_ERROR;
    if (cli_bulk_exec(ctx->conn, "COMMIT") != 0) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", PQerrorMessage(ctx->conn));
        run->why = ctx->why_buf;
        return RUN_DB_ERROR;
    }
    run->began = 0;
    return RUN_OK;
}

/* Prints how the load ended. */
static void report(const ingest_run_t *run, int st)
{
    double secs = time_mono_s() - run->t0;

    if (run->tty && st != RUN_FAILED && (st != RUN_BAD_ROW || run->rows > 0))
        fputc('\n', stderr);
    if (st == RUN_OK)
        printf("ingest %s: %llu rows from %s in %.1f s (%.2f M rows/s)\n", run->ctx->kind->name, (unsigned long long)run->rows,
               run->path, secs, secs > 0 ? run->rows / secs / 1e6 : 0.0);
    else if (st == RUN_BAD_ROW || (st == RUN_DB_ERROR && run->fail_line > 0))
        fprintf(stderr, "%s:%llu: %s\n", run->path, (unsigned long long)(st == RUN_BAD_ROW ? run->line : run->fail_line),
                run->why != NULL ? run->why : "rejected");
    else if (st == RUN_DB_ERROR)
        fprintf(stderr, "%s: %s\n", run->path, run->why != NULL ? run->why : PQerrorMessage(run->ctx->conn));
}

/* `klimaspejl ingest KIND FILE`: validates and loads one CSV file in one transaction (see the top of this file).
 * Returns CLI_EXIT_OK, CLI_EXIT_FAIL after printing `FILE:LINE: reason` (or another one-line error), CLI_EXIT_USAGE. */
int cli_ingest_main(int argc, char **argv)
{
    ingest_run_t run = {0};
    const ingest_kind_t *kind;
    char *buf = NULL;
    int st = RUN_FAILED;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(ingest_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 2 && (strcmp(argv[1], "eds-co2") == 0 || strcmp(argv[1], "eloverblik") == 0))
        return cli_ingest_source_main(argc - 1, argv + 1);
    if (argc != 3) {
        fprintf(stderr, "klimaspejl ingest: expected KIND and FILE\n%s", ingest_usage);
        return CLI_EXIT_USAGE;
    }
    if ((kind = kind_named(argv[1])) == NULL) {
        fprintf(stderr, "klimaspejl ingest: KIND '%s' is not one of households, energy, waste, mobility, eds-co2, eloverblik\n%s",
                argv[1], ingest_usage);
        return CLI_EXIT_USAGE;
    }
    run.path = argv[2];
    run.tty = cli_stderr_is_tty();
    run.t0 = run.last_shown = time_mono_s();
    run.rd.fd = -1;
    run.ctx = calloc(1, sizeof *run.ctx);
    run.rec = malloc(sizeof *run.rec);
    if (run.ctx == NULL || run.rec == NULL || (buf = malloc(INGEST_READ_BUF)) == NULL) {
        fputs("klimaspejl ingest: out of memory\n", stderr);
        goto out;
    }
    run.ctx->kind = kind;
    if (open_input(&run, buf) == 0) {
        st = run_load(&run);
        report(&run, st);
    }
out:
    if (run.ctx != NULL && run.ctx->conn != NULL) {
        cli_bulk_abort(&run.ctx->bulk);
        if (run.began)
            cli_bulk_exec(run.ctx->conn, "ROLLBACK");
        PQfinish(run.ctx->conn);
    }
    if (run.rd.fd > STDIN_FILENO)
        close(run.rd.fd);
    if (run.ctx != NULL) {
        cli_bulk_free(&run.ctx->bulk);
        free(run.ctx->households);
    }
    free(run.ctx);
    free(run.rec);
    free(buf);
    return st == RUN_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
