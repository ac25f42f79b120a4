/*
 * cli/seed_rows — the rows of the synthetic city, written straight into COPY buffers (no printf per field).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/seed.h"
#include "core/strutil.h"

/* A seed job's COPY: the shared bulk-load path (cli/bulk.h), failures recorded in ctx. */
int seed_exec(seed_ctx_t *ctx, PGconn *conn, const char *sql)
{
    if (cli_bulk_exec(conn, sql) == 0)
        return 0;
    seed_fail(ctx, sql, PQerrorMessage(conn));
    return -1;
}

/* seed_exec of a statement formatted like printf (table and partition names). */
static int seed_execf(seed_ctx_t *ctx, PGconn *conn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seed_execf(seed_ctx_t *ctx, PGconn *conn, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof sql) {
        seed_fail(ctx, fmt, "statement too long");
        return -1;
    }
    return seed_exec(ctx, conn, sql);
}

static int copy_begin(seed_ctx_t *ctx, cli_bulk_t *c, const char *sql)
{
    if (cli_bulk_begin(c, sql) == 0)
        return 0;
    seed_fail(ctx, sql, c->error);
    return -1;
}

/* Where the next row goes (room for 128 bytes, flushing first when needed), or NULL when the flush failed. */
static inline char *row_start(seed_ctx_t *ctx, cli_bulk_t *c)
{
    char *p = cli_bulk_room(c, 128);
    if (p == NULL)
        seed_fail(ctx, "COPY", c->error);
    return p;
}

/* row_start of a row whose first field is the household id; returns where the second field goes. */
static inline char *household_row(seed_ctx_t *ctx, cli_bulk_t *c, const seed_household_t *hh)
{
    char *p = row_start(ctx, c);
    if (p == NULL)
        return NULL;
    memcpy(p, hh->id, 36);
    p[36] = '\t';
    return p + 37;
}

static int copy_end(seed_ctx_t *ctx, cli_bulk_t *c)
{
    if (cli_bulk_end(c, NULL, NULL) == 0)
        return 0;
    seed_fail(ctx, "COPY", c->error);
    return -1;
}

/* Starts COPY core.<table> (<columns>). With rebuild_pk the table (empty: checked or truncated before) first loses its
 * primary key and is truncated inside the job's transaction, so the COPY can FREEZE and the key is built once by
 * sorting (bulk_finish). If the job fails, the rollback restores the key. */
static int bulk_begin(seed_ctx_t *ctx, cli_bulk_t *c, const char *table, const char *columns)
{
    char sql[200];
    if (ctx->rebuild_pk) {
        if (seed_execf(ctx, c->conn, "ALTER TABLE core.%s DROP CONSTRAINT %s_pkey", table, table) != 0)
            return -1;
        if (seed_execf(ctx, c->conn, "TRUNCATE core.%s", table) != 0)
            return -1;
    }
    str_fmt(sql, sizeof sql, "COPY core.%s (%s) FROM STDIN%s", table, columns, ctx->rebuild_pk ? " WITH (FREEZE)" : "");
    return copy_begin(ctx, c, sql);
}

/* Ends the table's COPY and, with rebuild_pk, builds its primary key on key. */
static int bulk_finish(seed_ctx_t *ctx, cli_bulk_t *c, const char *table, const char *key)
{
    char sql[200];
    if (copy_end(ctx, c) != 0)
        return -1;
    if (!ctx->rebuild_pk)
        return 0;
    if (seed_execf(ctx, c->conn, "ALTER TABLE core.%s ADD CONSTRAINT %s_pkey PRIMARY KEY (%s)", table, table, key) != 0)
        return -1;
    /* statistics for the first release's plans (a range of days with none is taken for 0.5 % of the rows) */
    str_fmt(sql, sizeof sql, "ANALYZE core.%s", table);
    return seed_exec(ctx, c->conn, sql);
}

/* ---- generators --------------------------------------------------------------------------------------------------- */

/* One reading as a row of a binary COPY: household hh, hour hr, the next draw of the household's generator. Binary
 * because the backend's text parsing (the timestamp above all) took 0.7 of its 1.07 us a row (2 M readings into an
 * unindexed table: 2.17 s as text, 0.72 s binary). The values are the text path's: the water, drawn in tenths of a
 * litre, is the float4 nearest to tenths/10, as float4in reads "12.3" (checked equal to strtof for every tenths below
 * 5e7; beyond, strtof itself). 0, or -1 when the COPY failed. */
static int energy_row(seed_ctx_t *ctx, cli_bulk_t *c, const seed_household_t *hh, const seed_hour_t *hr, seed_rng_t *r)
{
    float elec = (float)hh->elec_wh, water = (float)(hh->water_l * 10.0), heat_k = (float)hh->heat_k;
    uint64_t x = rng_next(r);
    float u1 = (float)(x >> 40) * 0x1.0p-24f, u2 = (float)((x >> 16) & 0xffffff) * 0x1.0p-24f;
    float spike = (x & 0xffff) < 1638 ? 2.5f : 1.0f; /* ~1 hour in 40 */
    uint32_t e = (uint32_t)(elec * hr->elec * (0.7f + 0.6f * u1) * spike);
    uint32_t w10 = (uint32_t)(water * hr->water * (0.6f + 0.8f * u2));
    uint32_t heat = (uint32_t)(heat_k * hr->hdh + 1.8f * (float)w10 + 25.0f);
    float litres;
    uint32_t litres_bits;
    if (w10 < 50000000) {
        litres = (float)((double)w10 / 10.0);
    } else {
        char t[16];
        *put_tenths(t, w10) = '\0';
        litres = strtof(t, NULL);
    }
    memcpy(&litres_bits, &litres, 4);
    char *p = row_start(ctx, c);
    if (p == NULL)
        return -1;
    p = put_be16(p, 5);
    p = put_be32(p, 16);
    memcpy(p, hh->uuid, 16);
    p = put_be32(p + 16, 8);
    p = put_be64(p, (uint64_t)hr->pg_usec);
    p = put_be32(p, 4);
    p = put_be32(p, e);
    p = put_be32(p, 4);
    p = put_be32(p, heat);
    p = put_be32(p, 4);
    p = put_be32(p, litres_bits);
    c->len = (size_t)(p - c->buf);
    return 0;
}

/* The month's readings hour by hour, every household in each hour: the order in which a meter feed delivers them, so
 * the month's blocks follow time and the BRIN index on hour_utc finds any day (household by household, every block
 * range would hold the whole month). Each household keeps its own generator (its stream of the month), so the values
 * are the same as drawn household by household. */
static int energy_month_rows(seed_ctx_t *ctx, cli_bulk_t *c, const seed_month_t *mo, uint32_t month_index)
{
    seed_rng_t *rngs = malloc((size_t)ctx->n_households * sizeof *rngs);
    uint64_t rows = 0;
    int rc = 0;
    if (rngs == NULL) {
        seed_fail(ctx, "energy", "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < ctx->n_households; ++i)
        rng_init(&rngs[i], ctx->seed, 3, (uint64_t)month_index << 32 | i);
    for (uint32_t h = mo->first_hour; h < mo->end_hour && rc == 0; ++h) {
        for (uint32_t i = 0; i < ctx->n_households && rc == 0; ++i) {
            rc = energy_row(ctx, c, &ctx->households[i], &ctx->hours[h], &rngs[i]);
            if (++rows == 8192) {
                atomic_fetch_add(&ctx->rows_energy, rows);
                rows = 0;
            }
        }
    }
    free(rngs);
    atomic_fetch_add(&ctx->rows_energy, rows);
    return rc;
}

int seed_load_energy_month(seed_ctx_t *ctx, cli_bulk_t *c, const seed_month_t *mo, uint32_t month_index)
{
    char sql[320];
    if (ctx->rebuild_pk) {
        /* A partition left with its own key by an interrupted seed loses it; the (empty) partition is truncated in
         * this transaction so that COPY FREEZE may write the rows frozen and all-visible. */
        if (seed_execf(ctx, c->conn, "ALTER TABLE core.%s DROP CONSTRAINT IF EXISTS %s_pkey", mo->partition, mo->partition) != 0)
            return -1;
        if (seed_execf(ctx, c->conn, "TRUNCATE core.%s", mo->partition) != 0)
            return -1;
    }
    /* Without the owner's rights, go through the parent: partitions created later carry no grants of their own. */
    str_fmt(sql, sizeof sql,
            "COPY core.%s (household_id, hour_utc, electricity_wh, heat_wh, water_l) FROM STDIN WITH (FORMAT binary%s)",
            ctx->rebuild_pk ? mo->partition : "energy_hourly", ctx->rebuild_pk ? ", FREEZE" : "");
    if (copy_begin(ctx, c, sql) != 0)
        return -1;
    memcpy(c->buf + c->len, SEED_BINARY_HEADER, SEED_BINARY_HEADER_LEN);
    c->len += SEED_BINARY_HEADER_LEN;
    if (energy_month_rows(ctx, c, mo, month_index) != 0)
        return -1;
    char *p = row_start(ctx, c);
    if (p == NULL)
        return -1;
    c->len = (size_t)(put_be16(p, 0xffff) - c->buf);
    if (copy_end(ctx, c) != 0)
        return -1;
    if (ctx->rebuild_pk) {
        /* Sorting a month once is cheaper than inserting it into a b-tree row by row; the other connection keeps
         * loading meanwhile. seed_finish_pk attaches these indexes to the parent's key. */
        if (seed_execf(ctx, c->conn, "ALTER TABLE core.%s ADD CONSTRAINT %s_pkey PRIMARY KEY (household_id, hour_utc)",
                       mo->partition, mo->partition) != 0)
            return -1;
        /* statistics now, by the job that loaded the month (autovacuum would gather them during the first release) */
        if (seed_execf(ctx, c->conn, "ANALYZE core.%s", mo->partition) != 0)
            return -1;
        /* the month's block ranges in its BRIN index on hour_utc (0027_energy_hour_brin.sql): a release finds a later
         * day without scanning the month */
        if (seed_execf(ctx, c->conn,
                       "SELECT brin_summarize_new_values(i.indexrelid) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                       " JOIN pg_am a ON a.oid = x.relam WHERE i.indrelid = 'core.%s'::regclass AND a.amname = 'brin'",
                       mo->partition) != 0)
            return -1;
    }
    return 0;
}

int seed_load_waste(seed_ctx_t *ctx, cli_bulk_t *c)
{
    if (bulk_begin(ctx, c, "waste_weighings", "household_id, collected_on, fraction, kg") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *hh = &ctx->households[i];
        seed_rng_t r;
        rng_init(&r, ctx->seed, 4, i);
        double scale = pow(hh->persons, 0.8);
        int house = hh->dwelling != DWELL_APARTMENT;
        double weekly[FR_COUNT];
        weekly[FR_RESIDUAL] = seed_fraction_kg[FR_RESIDUAL];
        for (int f = 1; f < FR_COUNT; ++f) {
            double sorted = seed_fraction_kg[f] * seed_fraction_sort[f] * (f == FR_HAZARDOUS ? 1.0 : hh->sorting);
            weekly[f] = sorted;
            weekly[FR_RESIDUAL] += seed_fraction_kg[f] - sorted;
        }
        for (int f = 0; f < FR_COUNT; ++f)
            weekly[f] *= scale;
        weekly[FR_GARDEN] = house ? 6.0 : 0.0;
        uint64_t rows = 0;
        for (uint32_t di = 0; di < ctx->n_days; ++di) {
            const seed_day_t *d = &ctx->days[di];
            if (d->weekday != hh->collect_wd)
                continue;
            int64_t week = (d->days + 3) / 7;
            int month;
            {
                int y, dd;
                time_civil_from_days(d->days, &y, &month, &dd);
            }
            for (int f = 0; f < FR_COUNT; ++f) {
                double weeks;
                if (f == FR_RESIDUAL || f == FR_FOOD)
                    weeks = 1;
                else if (f == FR_PAPER || f == FR_CARDBOARD)
                    weeks = (week % 2 == 0) ? 2 : 0;
                else if (f == FR_PLASTIC || f == FR_GLASS || f == FR_METAL)
                    weeks = (week % 2 == 1) ? 2 : 0;
                else if (f == FR_HAZARDOUS)
                    weeks = (week % 8 == (int64_t)(i % 8) && rng_unit(&r) < 0.3) ? 8 : 0;
                else
                    weeks = (house && month >= 4 && month <= 11 && week % 2 == 0) ? 2 : 0;
                if (weeks == 0 || weekly[f] <= 0)
                    continue;
                double kg = weekly[f] * weeks * (0.7 + 0.6 * rng_unit(&r));
                char *p = household_row(ctx, c, hh);
                if (p == NULL)
                    return -1;
                p = put_date(p, d->days);
                *p++ = '\t';
                p = put_str(p, seed_fraction_names[f]);
                *p++ = '\t';
                p = put_tenths(p, (uint32_t)(kg * 10 + 0.5));
                *p++ = '\n';
                c->len = (size_t)(p - c->buf);
                ++rows;
            }
        }
        atomic_fetch_add(&ctx->rows_waste, rows);
    }
    return bulk_finish(ctx, c, "waste_weighings", "household_id, collected_on, fraction");
}

int seed_load_mobility(seed_ctx_t *ctx, cli_bulk_t *c)
{
    static const double base_weight[MODE_COUNT] = {20, 34, 4, 8, 8, 5, 17, 4};
    if (bulk_begin(ctx, c, "mobility_daily", "household_id, day, mode, trips, km") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *hh = &ctx->households[i];
        const double outer = seed_districts[hh->district - 1].outer;
        seed_rng_t r;
        rng_init(&r, ctx->seed, 5, i);
        double w[MODE_COUNT];
        memcpy(w, base_weight, sizeof w);
        if (hh->car == 0) {
            w[MODE_CAR_PETROL] = 1.6;
            w[MODE_CAR_ELECTRIC] = 0.4;
        } else {
            w[MODE_CAR_PETROL] = hh->car == 1 ? 30 + 15 * outer : 4;
            w[MODE_CAR_ELECTRIC] = hh->car == 2 ? 30 + 15 * outer : 1;
        }
        if (!hh->ebike)
            w[MODE_EBIKE] = 0.3;
        else
            w[MODE_EBIKE] = 14;
        w[MODE_WALK] *= 1.4 - 0.6 * outer;
        w[MODE_STRAIN] *= 0.5 + 1.5 * outer;
        w[MODE_METRO] *= 1.3 - 0.8 * outer;
        for (uint32_t di = 0; di < ctx->n_days; ++di) {
            const seed_day_t *d = &ctx->days[di];
            double dw[MODE_COUNT];
            memcpy(dw, w, sizeof dw);
            double bike = (d->rain ? 0.75 : 1.0) * (d->temp < 2 ? 0.8 : 1.0);
            dw[MODE_BIKE] *= bike;
            dw[MODE_EBIKE] *= bike;
            dw[MODE_BUS] *= 2 - bike;
            int weekend = d->weekday == 0 || d->weekday == 6;
            int total = rng_poisson(&r, hh->persons * (weekend ? 2.2 : 2.7));
            int trips[MODE_COUNT] = {0};
            double km[MODE_COUNT] = {0};
            for (int t = 0; t < total; ++t) {
                int m = rng_pick(&r, dw, MODE_COUNT);
                trips[m]++;
                km[m] += seed_mode_km[m] * (0.25 + 1.5 * rng_unit(&r) * rng_unit(&r) * 2);
            }
            uint64_t rows = 0;
            for (int m = 0; m < MODE_COUNT; ++m) {
                if (trips[m] == 0)
                    continue;
                char *p = household_row(ctx, c, hh);
                if (p == NULL)
                    return -1;
                memcpy(p, d->date, 10);
                p[10] = '\t';
                p = put_str(p + 11, seed_mode_names[m]);
                *p++ = '\t';
                p = put_u32(p, (uint32_t)trips[m]);
                *p++ = '\t';
                p = put_tenths(p, (uint32_t)(km[m] * 10 + 0.5));
                *p++ = '\n';
                c->len = (size_t)(p - c->buf);
                ++rows;
            }
            atomic_fetch_add(&ctx->rows_mobility, rows);
        }
    }
    return bulk_finish(ctx, c, "mobility_daily", "household_id, day, mode");
}

/* Loads the households and the grid intensity in one transaction on conn. */
int seed_load_base(seed_ctx_t *ctx, PGconn *conn, char *buf)
{
    cli_bulk_t c = {.conn = conn, .buf = buf, .cap = SEED_COPY_BUF};
    if (seed_exec(ctx, conn, "BEGIN") != 0)
        return -1;
    if (copy_begin(ctx, &c,
                   "COPY core.households (household_id, district_id, dwelling_type, occupant_band, floor_area_m2)"
                   " FROM STDIN") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *h = &ctx->households[i];
        char *p = household_row(ctx, &c, h);
        if (p == NULL)
            return -1;
        p = put_u32(p, h->district);
        *p++ = '\t';
        p = put_str(p, seed_dwelling_names[h->dwelling]);
        *p++ = '\t';
        p = put_str(p, seed_band_names[h->band]);
        *p++ = '\t';
        p = put_u32(p, h->area);
        *p++ = '\n';
        c.len = (size_t)(p - c.buf);
    }
    if (copy_end(ctx, &c) != 0)
        return -1;
    if (copy_begin(ctx, &c, "COPY core.grid_intensity_hourly (hour_utc, area, g_per_kwh) FROM STDIN") != 0)
        return -1;
    for (uint32_t h = 0; h < ctx->n_hours; ++h) {
        char *p = row_start(ctx, &c);
        if (p == NULL)
            return -1;
        memcpy(p, ctx->hours[h].ts, 22);
        memcpy(p + 22, "\tDK2\t", 5);
        p = put_tenths(p + 27, (uint32_t)(ctx->grid[h] * 10 + 0.5f));
        *p++ = '\n';
        c.len = (size_t)(p - c.buf);
    }
    if (copy_end(ctx, &c) != 0 || seed_exec(ctx, conn, "COMMIT") != 0)
        return -1;
    return ctx->superuser ? seed_exec(ctx, conn, "ANALYZE core.households, core.grid_intensity_hourly") : 0;
}
