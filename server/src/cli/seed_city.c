/*
 * cli/seed_city — the synthetic city's tables, households and calendar (see the model at the top of cli/seed.c).
 */
#include <stdlib.h>

#include "cli/seed.h"
#include "core/strutil.h"

const char seed_digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                   "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";

const char *const seed_dwelling_names[3] = {"apartment", "terraced", "detached"};
const char *const seed_band_names[4] = {"1", "2", "3-4", "5+"};

/* Population share (%), share of apartments, share of detached among houses, and how "outer" it is (0-1). */
const seed_district_t seed_districts[10] = {
    {9.0, 0.99, 0.2, 0.0},  /* 1 Indre By */
    {13.0, 0.97, 0.5, 0.2}, /* 2 Østerbro */
    {12.5, 0.99, 0.3, 0.2}, /* 3 Nørrebro */
    {13.0, 0.96, 0.3, 0.3}, /* 4 Vesterbro/Kongens Enghave */
    {9.5, 0.82, 0.5, 0.6},  /* 5 Valby */
    {6.5, 0.72, 0.6, 0.8},  /* 6 Vanløse */
    {7.5, 0.65, 0.6, 0.9},  /* 7 Brønshøj-Husum */
    {9.0, 0.92, 0.5, 0.6},  /* 8 Bispebjerg */
    {10.0, 0.85, 0.6, 0.6}, /* 9 Amager Øst */
    {12.0, 0.85, 0.5, 0.6}, /* 10 Amager Vest */
};

const char *const seed_fraction_names[FR_COUNT] = {"residual", "food",  "paper",     "cardboard", "plastic",
                                                   "glass",    "metal", "hazardous", "garden"};
/* kg per person and week generated, and the share of it sorted at sorting propensity 1. */
const double seed_fraction_kg[FR_COUNT] = {2.0, 1.6, 0.9, 0.6, 0.5, 0.8, 0.15, 0.03, 0.0};
const double seed_fraction_sort[FR_COUNT] = {0.0, 0.8, 0.95, 0.9, 0.7, 0.95, 0.7, 1.0, 1.0};

const char *const seed_mode_names[MODE_COUNT] = {"walk", "bike", "e-bike", "bus", "metro", "s-train", "car-petrol", "car-electric"};
const double seed_mode_km[MODE_COUNT] = {1.2, 3.5, 6.0, 4.5, 5.0, 12.0, 11.0, 11.0};

void seed_build_households(seed_ctx_t *ctx)
{
    static const double band_share[4] = {45, 30, 20, 5};
    static const double band_share_house[4] = {15, 35, 38, 12};
    static const double band_kwh[4] = {1700, 2600, 3600, 4600};
    double pop[10];
    for (int i = 0; i < 10; ++i)
        pop[i] = seed_districts[i].pop;

    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        seed_household_t *h = &ctx->households[i];
        seed_rng_t r;
        rng_init(&r, ctx->seed, 1, i);
        uuid_draw(h->id, h->uuid, &r);
        int d = rng_pick(&r, pop, 10);
        h->district = (uint8_t)(d + 1);
        if (rng_unit(&r) < seed_districts[d].apartments)
            h->dwelling = DWELL_APARTMENT;
        else
            h->dwelling = rng_unit(&r) < seed_districts[d].detached_of_houses ? DWELL_DETACHED : DWELL_TERRACED;
        h->band = (uint8_t)rng_pick(&r, h->dwelling == DWELL_APARTMENT ? band_share : band_share_house, 4);
        static const uint8_t persons_lo[4] = {1, 2, 3, 5};
        h->persons = (uint8_t)(persons_lo[h->band] + ((h->band >= 2 && rng_unit(&r) < 0.4) ? 1 : 0));
        double area;
        if (h->dwelling == DWELL_APARTMENT)
            area = 28 + 17 * h->persons + 14 * rng_normal(&r);
        else if (h->dwelling == DWELL_TERRACED)
            area = 95 + 8 * h->persons + 15 * rng_normal(&r);
        else
            area = 125 + 10 * h->persons + 25 * rng_normal(&r);
        h->area = (uint16_t)(area < 20 ? 20 : area > 400 ? 400 : area);
        double house_factor = h->dwelling == DWELL_APARTMENT ? 1.0 : h->dwelling == DWELL_TERRACED ? 1.25 : 1.35;
        h->elec_wh = band_kwh[h->band] * house_factor * exp(0.3 * rng_normal(&r) - 0.045) * 1000.0 / 8766.0;
        double per_k = h->dwelling == DWELL_APARTMENT ? 1.0 : h->dwelling == DWELL_TERRACED ? 1.3 : 1.5;
        h->heat_k = h->area * per_k * exp(0.2 * rng_normal(&r) - 0.02);
        h->water_l = 100.0 * h->persons * exp(0.25 * rng_normal(&r) - 0.03) / 24.0;
        h->sorting = 0.3 + 0.65 * rng_unit(&r);
        h->collect_wd = (uint8_t)(1 + (uint32_t)(rng_unit(&r) * 5));
        double car_p = h->dwelling == DWELL_APARTMENT ? 0.22 + 0.2 * seed_districts[d].outer : 0.75;
        if (rng_unit(&r) < car_p)
            h->car = rng_unit(&r) < 0.2 ? 2 : 1;
        else
            h->car = 0;
        h->ebike = rng_unit(&r) < 0.15;
    }
}

/* Relative electricity and water use by local hour, weekday (wd) and weekend (we); normalised to mean 1 where used. */
static const double elec_wd[24] = {0.55, 0.48, 0.45, 0.44, 0.45, 0.55, 0.85, 1.15, 1.05, 0.85, 0.8,  0.8,
                                   0.85, 0.8,  0.8,  0.9,  1.15, 1.6,  1.85, 1.7,  1.5,  1.3,  1.05, 0.75};
static const double elec_we[24] = {0.6, 0.52, 0.47, 0.45, 0.45, 0.47, 0.55, 0.75, 1.0,  1.15, 1.15, 1.1,
                                   1.1, 1.0,  0.95, 1.0,  1.2,  1.6,  1.8,  1.65, 1.45, 1.3,  1.1,  0.8};
static const double water_wd[24] = {0.2, 0.1, 0.1, 0.1, 0.15, 0.4, 1.6, 2.4, 1.8, 1.0, 0.8, 0.8,
                                    0.9, 0.8, 0.7, 0.8, 1.0,  1.3, 1.6, 1.5, 1.3, 1.1, 0.8, 0.4};
static const double water_we[24] = {0.3, 0.15, 0.1, 0.1, 0.1, 0.15, 0.4, 1.0, 1.8, 2.2, 1.8, 1.3,
                                    1.1, 0.9,  0.8, 0.8, 1.0, 1.3,  1.5, 1.5, 1.3, 1.1, 0.9, 0.5};

static double profile_mean(const double p[24])
{
    double m = 0;
    for (int i = 0; i < 24; ++i)
        m += p[i] / 24;
    return m;
}

/* Each day: its date, weekday, mean temperature (an AR(1) anomaly around the season) and whether it rains. */
static void build_days(seed_ctx_t *ctx, seed_rng_t *r)
{
    double anomaly = 0;
    for (uint32_t i = 0; i < ctx->n_days; ++i) {
        seed_day_t *d = &ctx->days[i];
        d->days = ctx->start_day + i;
        int doy = day_of_year(d->days);
        anomaly = 0.8 * anomaly + 1.5 * rng_normal(r);
        d->temp = 9.0 - 8.3 * cos(2 * M_PI * (doy - 28) / 365.25) + anomaly;
        d->rain = rng_unit(r) < 0.45;
        d->weekday = (uint8_t)time_weekday(d->days);
        char *e = put_date(d->date, d->days);
        *e = '\0';
    }
}

/* DK2 grid intensity of a local hour lh on day of year doy, given the wind's random walk. */
static float grid_intensity(int lh, int doy, double wind)
{
    double g = 140 + 60 * cos(2 * M_PI * (doy - 15) / 365.25);
    if (lh >= 17 && lh <= 20)
        g *= 1.25;
    else if (lh <= 5)
        g *= 0.9;
    double solar = 0.3 * (1 + cos(2 * M_PI * (doy - 172) / 365.25)) / 2;
    if (lh >= 10 && lh <= 16)
        g *= 1 - solar * sin(M_PI * (lh - 9) / 8.0);
    g *= exp(0.45 * wind);
    return (float)(g < 20 ? 20 : g > 350 ? 350 : g);
}

/* Each UTC hour: its timestamp, the use profiles, heating degree-hours and the grid's intensity. */
static void build_hours(seed_ctx_t *ctx, seed_rng_t *r)
{
    double e_wd = profile_mean(elec_wd), e_we = profile_mean(elec_we);
    double w_wd = profile_mean(water_wd), w_we = profile_mean(water_we);
    double wind = 0;
    for (uint32_t h = 0; h < ctx->n_hours; ++h) {
        int64_t utc_hour = ctx->start_day * 24 + h;
        int64_t local = utc_hour + cph_offset_hours(utc_hour);
        int lh = (int)(local % 24);
        int64_t lday = local / 24;
        int wd = time_weekday(lday);
        int weekend = wd == 0 || wd == 6;
        int doy = day_of_year(lday);
        uint32_t di = h / 24;
        double dmean = ctx->days[di].temp;
        double swing = 3.0 - 1.0 * cos(2 * M_PI * (doy - 28) / 365.25);
        double temp = dmean + swing * cos(2 * M_PI * (lh - 15) / 24.0);
        double hdh = temp < 17 ? 17 - temp : 0;
        if (dmean > 14)
            hdh *= 0.2;
        double season = 1 + 0.18 * cos(2 * M_PI * (doy - 10) / 365.25);
        double summer = 1 + 0.1 * cos(2 * M_PI * (doy - 200) / 365.25);
        seed_hour_t *o = &ctx->hours[h];
        o->elec = (float)((weekend ? elec_we[lh] / e_we : elec_wd[lh] / e_wd) * season);
        o->water = (float)((weekend ? water_we[lh] / w_we : water_wd[lh] / w_wd) * summer);
        o->hdh = (float)hdh;
        o->pg_usec = (utc_hour * 3600 - 946684800LL) * 1000000LL;
        char *p = put_date(o->ts, utc_hour / 24);
        *p++ = ' ';
        memcpy(p, seed_digit_pairs + 2 * (utc_hour % 24), 2);
        memcpy(p + 2, ":00:00+00", 10);
        wind = 0.97 * wind + 0.243 * rng_normal(r);
        ctx->grid[h] = grid_intensity(lh, doy, wind);
    }
}

/* Monthly partitions (UTC months), named as pg_partman names them (0028_energy_partman.sql: datetime_string YYYY_MM;
 * sql/tests/13_partitions.sql checks every partition's name against its bounds). */
static void build_months(seed_ctx_t *ctx)
{
    uint32_t h = 0;
    ctx->n_months = 0;
    while (h < ctx->n_hours) {
        int y, m, d;
        time_civil_from_days(ctx->start_day + h / 24, &y, &m, &d);
        int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
        int64_t next = (time_days_from_civil(ny, nm, 1) - ctx->start_day) * 24;
        seed_month_t *mo = &ctx->months[ctx->n_months++];
        str_fmt(mo->partition, sizeof mo->partition, "energy_hourly_p%04d_%02d", y, m);
        mo->first_hour = h;
        mo->end_hour = next > ctx->n_hours ? ctx->n_hours : (uint32_t)next;
        h = mo->end_hour;
    }
}

void seed_build_calendar(seed_ctx_t *ctx)
{
    seed_rng_t r;
    rng_init(&r, ctx->seed, 2, 0);
    build_days(ctx, &r);
    build_hours(ctx, &r);
    build_months(ctx);
}
