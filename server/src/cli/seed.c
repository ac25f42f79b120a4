/*
 * cli/seed — `klimaspejl seed`: a deterministic, realistic synthetic Copenhagen, loaded with COPY.
 *
 * THE MODEL (also in sql/README.md, "The synthetic city"). All randomness comes from a seeded xoshiro256** generator
 * (seeded through splitmix64); every household, month and stream derives its own generator from (seed, stream, index),
 * so the output depends only on (seed, households, days, end) and not on thread scheduling.
 *
 * Time: the D days before --end (00:00 UTC), hourly in UTC. Daily rhythms use Copenhagen local time (CET, CEST from the
 * last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC).
 *
 * Weather: daily mean temperature 9.0 - 8.3 cos(2 pi (doy - 28) / 365.25) degrees C (coldest ~0.7 at the end of
 * January, warmest ~17.3 at the end of July, like the DMI normals) plus an AR(1) anomaly (rho 0.8, sd 2.5 K), and a
 * diurnal swing of 2 K (winter) to 4 K (summer) peaking at 15:00 local. Rain days: probability 0.45, which lowers
 * cycling.
 *
 * Households: district by population share; dwelling type by district (Indre By ~99 % apartments, Brønshøj-Husum
 * ~65 %; ~89 % apartments city-wide); occupant band 1 (45 %), 2 (30 %), 3-4 (20 %), 5+ (5 %), with fewer singles in
 * houses; floor area ~28 + 17 m2 per person for apartments (~75 m2 on average), ~115 m2 terraced, ~150 m2 detached.
 * A pseudonym is a version-4 UUID drawn from the generator.
 *
 * Electricity: annual use 1,700 / 2,600 / 3,600 / 4,600 kWh for the four bands, x1.25 terraced, x1.35 detached, times
 * a per-household factor (lognormal, sd 0.3). Hourly shape by local hour with a morning peak (07-08) and an evening peak
 * (17-20, ~1.8x the mean), a later and flatter weekend morning; season factor 1 + 0.18 cos(2 pi (doy - 10) / 365.25)
 * (lighting in winter); hourly noise uniform 0.7-1.3 and one appliance spike (x2.5) every ~40 hours.
 *
 * District heating: space heating = floor area x heating-degree hours (base 17 C) x 1.0 (apartment) / 1.3 (terraced)
 * / 1.5 (detached) Wh per m2 per K-hour x a per-household efficiency factor (lognormal, sd 0.2); reduced to 20 % on
 * days with a mean above 14 C (heating season off). Plus domestic hot water: 35 % of the water is hot, ~18 Wh per
 * litre of total water, plus 25 Wh/h circulation loss. About 6-8 MWh a year for a 75 m2 apartment.
 *
 * Water: ~100 L per person per day (HOFOR ~104 L), per-household factor (sd 0.25), hourly shape with morning
 * (06-08) and evening peaks, weekend mornings later, +10 % in summer; noise uniform 0.6-1.4; one decimal.
 *
 * Waste: one collection weekday per household (Mon-Fri). Residual and food every week; paper and cardboard in even
 * weeks, plastic, glass and metal in odd weeks (biweekly); garden biweekly from April to November for terraced and
 * detached homes; hazardous every 8th week with probability 0.3. Generated per person and week (scaled by persons^0.8):
 * food 1.6, paper 0.9, cardboard 0.6, plastic 0.5, glass 0.8, metal 0.15, other 2.0 kg. A household sorting propensity p
 * (0.3-0.95) decides the share that is sorted: food 0.8p, paper 0.95p, cardboard 0.9p, plastic 0.7p, glass 0.95p,
 * metal 0.7p; the rest ends in residual (city-wide ~40-45 % of the weight is sorted). Weights vary by +-30 %.
 *
 * Mobility: trips per person per day Poisson with mean 2.7 on weekdays, 2.2 at weekends. Mode weights (Copenhagen
 * residents, bike-heavy): walk 20, bike 34, e-bike 4, bus 8, metro 8, S-train 5, car 17+4 (petrol, electric) for
 * car-owning households (~30 %), only 2 for the rest; e-bikes in 15 % of households; houses in outer districts use more
 * car and S-train, Indre By more walking. Rain x0.75 and frost x0.8 on the bike. Mean trip length: walk 1.2, bike 3.5,
 * e-bike 6, bus 4.5, metro 5, S-train 12, car 11 km (exponential-ish spread). One row per (household, day, mode used).
 *
 * Grid CO2 intensity (DK2): 140 + 60 cos(2 pi (doy - 15) / 365.25) g/kWh (higher in winter), times an evening peak
 * (+25 % at 17-20 local), a night dip, a summer midday solar dip (up to -30 %), times a wind factor exp(0.45 x) with x an
 * hourly AR(1) (rho 0.97); clamped to 20-350 g/kWh.
 *
 * LOADING: COPY with large buffers, rows formatted by hand (no printf per field): text for households, grid, waste and
 * trips, binary for the hourly readings (the backend's parsing of a text timestamp cost more than the row's insert;
 * the same values either way). The hourly readings go straight into their monthly partitions, one month per COPY,
 * spread over --jobs connections (default 2), because the backend, not the generator, is the bottleneck. When the connecting role
 * is a superuser, session_replication_role = replica skips the foreign-key triggers: the generated rows reference households loaded
 * (and committed) just before. Households and grid intensity commit first; each month/table then commits on its own, so a failed
 * seed can leave partial data — rerun with --replace.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli/cli.h"
#include "cli/seed.h"
#include "core/strutil.h"
#include "core/time.h"

static const char seed_usage[] =
    "usage: klimaspejl seed [--households N] [--days D] [--seed S] [--end YYYY-MM-DD] [--jobs J] [--replace]\n"
    "  --households N  number of households (default 2000)\n"
    "  --days D        days of data before --end (default 400)\n"
    "  --seed S        random seed; the same seed gives the same city (default 1)\n"
    "  --end DATE      first day after the data, UTC (default today)\n"
    "  --jobs J        parallel COPY connections, 1-8 (default 2)\n"
    "  --replace       empty the core data tables first (otherwise seeding refuses when households exist)\n"
    "Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n";

void seed_fail(seed_ctx_t *ctx, const char *what, const char *msg)
{
    pthread_mutex_lock(&ctx->err_lock);
    if (!atomic_load(&ctx->failed)) {
        str_fmt(ctx->err, sizeof ctx->err, "%s: %s", what, msg);
        size_t n = strlen(ctx->err);
        while (n > 0 && (ctx->err[n - 1] == '\n' || ctx->err[n - 1] == ' '))
            ctx->err[--n] = '\0';
    }
    atomic_store(&ctx->failed, 1);
    pthread_mutex_unlock(&ctx->err_lock);
}

/* Drops NOTICEs ("... does not exist, skipping"): the summary line is the output. */
static void quiet_notice(void *arg, const char *message)
{
}

static PGconn *seed_connect(seed_ctx_t *ctx)
{
    PGconn *conn = PQconnectdb(ctx->conninfo);
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    if (PQstatus(conn) != CONNECTION_OK) {
        seed_fail(ctx, "connect", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    /* Bulk-load settings local to this session: the seed can be redone, so commits need not wait for the WAL flush. */
    if (seed_exec(ctx, conn, "SET synchronous_commit = off") != 0 ||
        seed_exec(ctx, conn, "SET maintenance_work_mem = '256MB'") != 0 ||
        seed_exec(ctx, conn, "SET max_parallel_maintenance_workers = 0") != 0 ||
        (ctx->superuser && seed_exec(ctx, conn, "SET session_replication_role = replica") != 0)) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* ---- the parallel phase ------------------------------------------------------------------------------------------- */

static void *seed_worker(void *arg)
{
    seed_ctx_t *ctx = arg;
    cli_bulk_t c;
    PGconn *conn = seed_connect(ctx);

    if (conn != NULL && cli_bulk_init(&c, conn, SEED_COPY_BUF) != 0) {
        seed_fail(ctx, "seed", "out of memory");
        PQfinish(conn);
        conn = NULL;
    }
    for (; conn != NULL;) {
        uint32_t job = atomic_fetch_add(&ctx->next_job, 1);
        int rc;
        if (job >= ctx->n_jobs || atomic_load(&ctx->failed) || seed_exec(ctx, conn, "BEGIN") != 0)
            break;
        /* The biggest jobs (the months) go first so the short ones fill the gaps at the end. */
        if (job < ctx->n_months)
            rc = seed_load_energy_month(ctx, &c, &ctx->months[job], job);
        else if (job == ctx->n_months)
            rc = seed_load_mobility(ctx, &c);
        else
            rc = seed_load_waste(ctx, &c);
        if (rc != 0 || seed_exec(ctx, conn, "COMMIT") != 0)
            break;
    }
    if (conn != NULL) {
        cli_bulk_free(&c);
        PQfinish(conn);
    }
    atomic_fetch_add(&ctx->workers_done, 1);
    return NULL;
}

/* The energy table loses its primary key for the load (rebuild_pk); this restores it: the partitions' keys (built by
 * the workers, or here for the empty ones) become partitions of the parent's key. Idempotent. */
static const char seed_finish_pk_sql[] =
    "DO $pk$ DECLARE p regclass; idx regclass; BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'core.energy_hourly'::regclass AND contype = 'p') THEN"
    "  ALTER TABLE ONLY core.energy_hourly ADD CONSTRAINT energy_hourly_pkey PRIMARY KEY (household_id, hour_utc);"
    " END IF;"
    " FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'core.energy_hourly'::regclass LOOP"
    "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = p AND contype = 'p') THEN"
    "   EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (household_id, hour_utc)', p);"
    "  END IF;"
    "  SELECT conindid INTO idx FROM pg_constraint WHERE conrelid = p AND contype = 'p';"
    "  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = idx) THEN"
    "   EXECUTE format('ALTER INDEX core.energy_hourly_pkey ATTACH PARTITION %s', idx);"
    "  END IF;"
    " END LOOP; END $pk$";

static uint64_t rows_done(seed_ctx_t *ctx)
{
    return atomic_load(&ctx->rows_energy) + atomic_load(&ctx->rows_waste) + atomic_load(&ctx->rows_mobility);
}

static void show_progress(seed_ctx_t *ctx, double t0, uint64_t base, uint64_t expected)
{
    uint64_t done = base + rows_done(ctx);
    double el = time_mono_s() - t0;
    double rate = el > 0 ? done / el : 0;
    double left = rate > 0 && expected > done ? (expected - done) / rate : 0;
    fprintf(stderr, "\rseed: %.1f / ~%.1f M rows, %.2f M rows/s, %.0f s left   ", done / 1e6, expected / 1e6, rate / 1e6, left);
    fflush(stderr);
}

static void report(seed_ctx_t *ctx, double t0, uint64_t base_rows)
{
    double secs = time_mono_s() - t0;
    uint64_t total = base_rows + rows_done(ctx);
    printf("seed: households %u, grid_intensity_hourly %u, energy_hourly %llu, waste_weighings %llu, mobility_daily "
           "%llu rows; %llu rows in %.1f s (%.2f M rows/s)\n",
           ctx->n_households, ctx->n_hours, (unsigned long long)atomic_load(&ctx->rows_energy),
           (unsigned long long)atomic_load(&ctx->rows_waste), (unsigned long long)atomic_load(&ctx->rows_mobility),
           (unsigned long long)total, secs, total / secs / 1e6);
}

static void report_failure(seed_ctx_t *ctx, PGconn *conn, int tty)
{
    fprintf(stderr, "%sklimaspejl seed: %s\n", tty ? "\n" : "", ctx->err[0] ? ctx->err : "failed");
    /* Give the energy table its key back (failed jobs rolled back; what committed stays, as the message says). */
    if (ctx->rebuild_pk && conn != NULL && PQstatus(conn) == CONNECTION_OK) {
        PGresult *r = PQexec(conn, seed_finish_pk_sql);
        PQclear(r);
    }
    if (ctx->rebuild_pk || atomic_load(&ctx->rows_energy) > 0)
        fputs("klimaspejl seed: the data may be partly loaded; run again with --replace\n", stderr);
}

static int usage_error(const char *flag, const char *what)
{
    fprintf(stderr, "klimaspejl seed: %s %s\n%s", flag, what, seed_usage);
    return CLI_EXIT_USAGE;
}

/* Parses the flags into ctx, *end_day, *jobs and *replace. Returns CLI_EXIT_OK, -1 after printing --help, or
 * CLI_EXIT_USAGE after printing the error and the usage. */
static int seed_parse_args(int argc, char **argv, seed_ctx_t *ctx, int64_t *end_day, uint32_t *jobs, int *replace)
{
    uint64_t v;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(seed_usage, stdout);
            return -1;
        }
        if (strcmp(a, "--replace") == 0) {
            *replace = 1;
            continue;
        }
        if (strcmp(a, "--households") != 0 && strcmp(a, "--days") != 0 && strcmp(a, "--seed") != 0 && strcmp(a, "--end") != 0 &&
            strcmp(a, "--jobs") != 0)
            return usage_error(a, "is not a known option");
        if (i + 1 >= argc)
            return usage_error(a, "needs a value");
        const char *val = argv[++i];
        if (strcmp(a, "--households") == 0) {
            if (str_to_uint(val, strlen(val), 1, 10000000, &v) != 0)
                return usage_error(a, "must be a whole number from 1 to 10000000");
            ctx->n_households = (uint32_t)v;
        } else if (strcmp(a, "--days") == 0) {
            if (str_to_uint(val, strlen(val), 1, 3660, &v) != 0)
                return usage_error(a, "must be a whole number from 1 to 3660");
            ctx->n_days = (uint32_t)v;
        } else if (strcmp(a, "--seed") == 0) {
            if (str_to_uint(val, strlen(val), 0, UINT64_MAX, &v) != 0)
                return usage_error(a, "must be a whole number from 0 to 18446744073709551615");
            ctx->seed = v;
        } else if (strcmp(a, "--jobs") == 0) {
            if (str_to_uint(val, strlen(val), 1, SEED_MAX_JOBS, &v) != 0)
                return usage_error(a, "must be a whole number from 1 to 8");
            *jobs = (uint32_t)v;
        } else if (time_date_parse(val, strlen(val), 1970, end_day) != 0) {
            return usage_error(a, "must be a date YYYY-MM-DD");
        }
    }
    return CLI_EXIT_OK;
}

/* The memory of the city (households, hours, days, grid, months) and the base COPY buffer; -1 when out of memory. */
static int allocate(seed_ctx_t *ctx, char **buf)
{
    ctx->households = calloc(ctx->n_households, sizeof *ctx->households);
    ctx->hours = calloc(ctx->n_hours, sizeof *ctx->hours);
    ctx->days = calloc(ctx->n_days, sizeof *ctx->days);
    ctx->grid = calloc(ctx->n_hours, sizeof *ctx->grid);
    ctx->months = calloc(ctx->n_days / 28 + 3, sizeof *ctx->months);
    *buf = malloc(SEED_COPY_BUF);
    return ctx->households == NULL || ctx->hours == NULL || ctx->days == NULL || ctx->grid == NULL || ctx->months == NULL ||
                   *buf == NULL
               ? -1
               : 0;
}

/* Before the jobs: the role, the check for existing rows (refused without --replace: *refused set), the partitions, and
 * the base load (households and grid intensity). Returns 0, or -1 (after seed_fail unless *refused). */
static int prepare(seed_ctx_t *ctx, PGconn *conn, char *buf, int64_t end_day, int replace, int *refused)
{
    char sql[160], from[11], to[11];
    PGresult *res = PQexec(conn, "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
                                 " EXISTS (SELECT 1 FROM core.households)");
    int rows_exist;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        seed_fail(ctx, "checking core.households", PQerrorMessage(conn));
        PQclear(res);
        return -1;
    }
    ctx->superuser = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    rows_exist = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    if (rows_exist && !replace) {
        *refused = 1;
        return -1;
    }
    if (replace && seed_exec(ctx, conn,
                             "BEGIN; TRUNCATE core.energy_hourly, core.waste_weighings, core.mobility_daily,"
                             " core.grid_intensity_hourly, core.households CASCADE;"
                             /* the replaced city's retired months are not this city's: releases may rebuild them */
                             " DELETE FROM meta.energy_retired; COMMIT") != 0)
        return -1;
    *put_date(from, ctx->start_day) = '\0';
    *put_date(to, end_day - 1) = '\0';
    str_fmt(sql, sizeof sql, "SELECT core.ensure_energy_partitions('%s 00:00:00+00', '%s 23:00:00+00')", from, to);
    if (seed_exec(ctx, conn, sql) != 0 || seed_exec(ctx, conn, "SET synchronous_commit = off") != 0 ||
        seed_load_base(ctx, conn, buf) != 0)
        return -1;
    /* Only the owner (or a superuser) may drop the key; the table is empty here (checked or truncated above). */
    ctx->rebuild_pk = ctx->superuser && getenv("KLIMA_SEED_KEEP_PK") == NULL;
    if (ctx->rebuild_pk && seed_exec(ctx, conn, "ALTER TABLE core.energy_hourly DROP CONSTRAINT IF EXISTS energy_hourly_pkey") != 0)
        return -1;
    return 0;
}

/* The jobs on n_threads connections, with a progress line on a terminal; 0, or -1 when one failed. */
static int run_jobs(seed_ctx_t *ctx, uint32_t n_threads, int tty, double t0, uint64_t base_rows, uint64_t expected)
{
    pthread_t threads[SEED_MAX_JOBS];
    uint32_t started = 0;

    ctx->n_jobs = ctx->n_months + 2;
    if (n_threads > ctx->n_jobs)
        n_threads = ctx->n_jobs;
    for (; started < n_threads; ++started) {
        if (pthread_create(&threads[started], NULL, seed_worker, ctx) != 0) {
            seed_fail(ctx, "seed", "cannot start a thread");
            break;
        }
    }
    /* Workers are joined below; meanwhile redraw the progress line a few times a second. */
    while (tty && atomic_load(&ctx->workers_done) < started) {
        show_progress(ctx, t0, base_rows, expected);
        usleep(250000);
    }
    for (uint32_t i = 0; i < started; ++i)
        pthread_join(threads[i], NULL);
    if (tty) {
        show_progress(ctx, t0, base_rows, expected);
        fputc('\n', stderr);
    }
    return atomic_load(&ctx->failed) ? -1 : 0;
}

/* `klimaspejl seed`: generates the synthetic city and loads it into core (see the model above). Returns CLI_EXIT_OK,
 * CLI_EXIT_FAIL with a message on stderr (database error, households present without --replace), or CLI_EXIT_USAGE. */
int cli_seed_main(int argc, char **argv)
{
    seed_ctx_t ctx;
    int64_t end_day = (int64_t)(time(NULL) / 86400);
    uint32_t n_threads = 2;
    int replace = 0, refused = 0, rc = CLI_EXIT_FAIL, tty = cli_stderr_is_tty(), prc;
    PGconn *conn = NULL;
    char *buf = NULL;
    double t0;
    uint64_t base_rows, expected;

    memset(&ctx, 0, sizeof ctx);
    pthread_mutex_init(&ctx.err_lock, NULL);
    ctx.n_households = 2000;
    ctx.n_days = 400;
    ctx.seed = 1;
    if ((prc = seed_parse_args(argc, argv, &ctx, &end_day, &n_threads, &replace)) != CLI_EXIT_OK) {
        rc = prc < 0 ? CLI_EXIT_OK : prc;
        goto out;
    }
    ctx.conninfo = cli_admin_conninfo();
    ctx.start_day = end_day - ctx.n_days;
    ctx.n_hours = ctx.n_days * 24;
    if (allocate(&ctx, &buf) != 0) {
        fputs("klimaspejl seed: out of memory\n", stderr);
        goto out;
    }
    t0 = time_mono_s();
    seed_build_households(&ctx);
    seed_build_calendar(&ctx);
    base_rows = ctx.n_households + ctx.n_hours;
    expected = base_rows + (uint64_t)ctx.n_households * ctx.n_hours + (uint64_t)ctx.n_households * ctx.n_days * 33 / 10 +
               (uint64_t)ctx.n_households * ctx.n_days * 5 / 10;
    if ((conn = seed_connect(&ctx)) == NULL || prepare(&ctx, conn, buf, end_day, replace, &refused) != 0 ||
        run_jobs(&ctx, n_threads, tty, t0, base_rows, expected) != 0 ||
        (ctx.rebuild_pk && seed_exec(&ctx, conn, seed_finish_pk_sql) != 0)) {
        if (refused)
            fputs("klimaspejl seed: core.households already has rows; use --replace to delete all core data first\n", stderr);
        else
            report_failure(&ctx, conn, tty);
        goto out;
    }
    report(&ctx, t0, base_rows);
    rc = CLI_EXIT_OK;
out:
    PQfinish(conn);
    free(buf);
    free(ctx.households);
    free(ctx.hours);
    free(ctx.days);
    free(ctx.grid);
    free(ctx.months);
    pthread_mutex_destroy(&ctx.err_lock);
    return rc;
}
