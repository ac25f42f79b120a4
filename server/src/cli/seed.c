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
 * LOADING: text COPY with large buffers, rows formatted by hand (no printf per field); the hourly readings go straight
 * into their monthly partitions, one month per COPY, spread over --jobs connections (default 2), because the backend,
 * not the generator, is the bottleneck. When the connecting role is a superuser, session_replication_role = replica skips
 * the foreign-key triggers: the generated rows reference households loaded (and committed) just before.
 * Households and grid intensity commit first; each month/table then commits on its own, so a failed seed can leave
 * partial data — rerun with --replace.
 */
#include <errno.h>
#include <math.h>
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
#include "core/strutil.h"
#include "core/time.h"

#define SEED_COPY_BUF (1024 * 1024)
#define SEED_MAX_JOBS 8

static const char seed_usage[] =
    "usage: klimaspejl seed [--households N] [--days D] [--seed S] [--end YYYY-MM-DD] [--jobs J] [--replace]\n"
    "  --households N  number of households (default 2000)\n"
    "  --days D        days of data before --end (default 400)\n"
    "  --seed S        random seed; the same seed gives the same city (default 1)\n"
    "  --end DATE      first day after the data, UTC (default today)\n"
    "  --jobs J        parallel COPY connections, 1-8 (default 2)\n"
    "  --replace       empty the core data tables first (otherwise seeding refuses when households exist)\n"
    "Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n";

/* ---- random numbers ---------------------------------------------------------------------------------------------- */

typedef struct seed_rng {
    uint64_t s[4];
} seed_rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A generator for (seed, stream, index): independent streams without any shared state. */
static void rng_init(seed_rng_t *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL) ^ (index * 0x8cb92ba72f3d8dd7ULL);
    for (int i = 0; i < 4; ++i)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(seed_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double rng_unit(seed_rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Approximately standard normal (Irwin-Hall with 4 terms, scaled) — enough for attribute spreads. */
static double rng_normal(seed_rng_t *r)
{
    double s = rng_unit(r) + rng_unit(r) + rng_unit(r) + rng_unit(r);
    return (s - 2.0) * 1.7320508075688772;
}

static int rng_poisson(seed_rng_t *r, double lambda)
{
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        ++k;
        p *= rng_unit(r);
    } while (p > l && k < 200);
    return k - 1;
}

/* Index into weights[0..n) chosen with probability proportional to its weight. */
static int rng_pick(seed_rng_t *r, const double *weights, int n)
{
    double total = 0, x;
    for (int i = 0; i < n; ++i)
        total += weights[i];
    x = rng_unit(r) * total;
    for (int i = 0; i < n - 1; ++i) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

/* ---- calendar ---------------------------------------------------------------------------------------------------- */

/* Copenhagen's UTC offset in hours at the given UTC hour (EU rule: CEST from the last Sunday of March 01:00 UTC to the
 * last Sunday of October 01:00 UTC). */
static int cph_offset_hours(int64_t utc_hour)
{
    int y, m, d;
    time_civil_from_days(utc_hour / 24, &y, &m, &d);
    int64_t mar = time_days_from_civil(y, 3, 31), oct = time_days_from_civil(y, 10, 31);
    mar -= time_weekday(mar);
    oct -= time_weekday(oct);
    return (utc_hour >= mar * 24 + 1 && utc_hour < oct * 24 + 1) ? 2 : 1;
}

static int day_of_year(int64_t days)
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    return (int)(days - time_days_from_civil(y, 1, 1)) + 1;
}

/* ---- fast text ---------------------------------------------------------------------------------------------------- */

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* Writes v in decimal at p; returns the end. */
static inline char *put_u32(char *p, uint32_t v)
{
    char tmp[12];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        uint32_t q = v / 100, r = v - q * 100;
        t -= 2;
        memcpy(t, digit_pairs + 2 * r, 2);
        v = q;
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, digit_pairs + 2 * v, 2);
    } else {
        *--t = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

/* Writes tenths/10 with one decimal ("12.3"). */
static inline char *put_tenths(char *p, uint32_t tenths)
{
    p = put_u32(p, tenths / 10);
    *p++ = '.';
    *p++ = (char)('0' + tenths % 10);
    return p;
}

static char *put_date(char *p, int64_t days)
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    p = put_u32(p, (uint32_t)y);
    *p++ = '-';
    memcpy(p, digit_pairs + 2 * m, 2);
    p[2] = '-';
    memcpy(p + 3, digit_pairs + 2 * d, 2);
    return p + 5;
}

static void uuid_text(char out[37], seed_rng_t *r)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    uint64_t a = rng_next(r), c = rng_next(r);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

/* ---- the city ----------------------------------------------------------------------------------------------------- */

enum { DWELL_APARTMENT, DWELL_TERRACED, DWELL_DETACHED };
static const char *const dwelling_names[] = {"apartment", "terraced", "detached"};
static const char *const band_names[] = {"1", "2", "3-4", "5+"};

/* Population share (%), share of apartments, share of detached among houses, and how "outer" it is (0-1). */
static const struct {
    double pop, apartments, detached_of_houses, outer;
} districts[10] = {
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

enum { FR_RESIDUAL, FR_FOOD, FR_PAPER, FR_CARDBOARD, FR_PLASTIC, FR_GLASS, FR_METAL, FR_HAZARDOUS, FR_GARDEN, FR_COUNT };
static const char *const fraction_names[FR_COUNT] = {"residual", "food",  "paper",     "cardboard", "plastic",
                                                     "glass",    "metal", "hazardous", "garden"};
/* kg per person and week generated, and the share of it sorted at sorting propensity 1. */
static const double fraction_kg[FR_COUNT] = {2.0, 1.6, 0.9, 0.6, 0.5, 0.8, 0.15, 0.03, 0.0};
static const double fraction_sort[FR_COUNT] = {0.0, 0.8, 0.95, 0.9, 0.7, 0.95, 0.7, 1.0, 1.0};

enum { MODE_WALK, MODE_BIKE, MODE_EBIKE, MODE_BUS, MODE_METRO, MODE_STRAIN, MODE_CAR_PETROL, MODE_CAR_ELECTRIC, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"walk",  "bike",    "e-bike",     "bus",
                                                   "metro", "s-train", "car-petrol", "car-electric"};
static const double mode_km[MODE_COUNT] = {1.2, 3.5, 6.0, 4.5, 5.0, 12.0, 11.0, 11.0};

typedef struct seed_household {
    char id[37];
    uint8_t district; /* 1..10 */
    uint8_t dwelling;
    uint8_t band;
    uint8_t persons;
    uint8_t collect_wd; /* 1..5 = Monday..Friday */
    uint8_t car;        /* 0 none, 1 petrol, 2 electric */
    uint8_t ebike;
    uint16_t area;
    double elec_wh; /* mean electricity per hour */
    double heat_k;  /* space-heating Wh per K-hour */
    double water_l; /* mean water per hour */
    double sorting; /* sorting propensity */
} seed_household_t;

/* One entry per hour of the range. */
typedef struct seed_hour {
    char ts[23]; /* "YYYY-MM-DD HH:00:00+00" */
    float elec;  /* electricity shape x season */
    float water; /* water shape x season */
    float hdh;   /* heating degree hours, already reduced outside the heating season */
} seed_hour_t;

typedef struct seed_day {
    char date[11];
    int64_t days; /* since 1970-01-01 */
    double temp;  /* daily mean, C */
    uint8_t rain;
    uint8_t weekday; /* 0 = Sunday, local date == UTC date here */
} seed_day_t;

typedef struct seed_month {
    char partition[32];            /* energy_hourly_YYYYMM */
    uint32_t first_hour, end_hour; /* [first, end) indices into hours */
} seed_month_t;

typedef struct seed_ctx {
    const char *conninfo;
    uint64_t seed;
    uint32_t n_households, n_days, n_hours, n_months;
    int64_t start_day; /* days since epoch of the first day */
    int superuser;
    int rebuild_pk; /* drop the energy primary key for the load and build it per month afterwards */
    seed_household_t *households;
    seed_hour_t *hours;
    seed_day_t *days;
    float *grid; /* g/kWh per hour */
    seed_month_t *months;
    /* job queue: 0 = waste, 1 = mobility, 2.. = energy months */
    atomic_uint next_job;
    uint32_t n_jobs;
    atomic_ullong rows_energy, rows_waste, rows_mobility;
    atomic_int failed;
    atomic_uint workers_done;
    pthread_mutex_t err_lock;
    char err[512];
} seed_ctx_t;

static void ctx_fail(seed_ctx_t *ctx, const char *what, const char *msg)
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

static void build_households(seed_ctx_t *ctx)
{
    static const double band_share[4] = {45, 30, 20, 5};
    static const double band_share_house[4] = {15, 35, 38, 12};
    static const double band_kwh[4] = {1700, 2600, 3600, 4600};
    double pop[10];
    for (int i = 0; i < 10; ++i)
        pop[i] = districts[i].pop;

    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        seed_household_t *h = &ctx->households[i];
        seed_rng_t r;
        rng_init(&r, ctx->seed, 1, i);
        uuid_text(h->id, &r);
        int d = rng_pick(&r, pop, 10);
        h->district = (uint8_t)(d + 1);
        if (rng_unit(&r) < districts[d].apartments)
            h->dwelling = DWELL_APARTMENT;
        else
            h->dwelling = rng_unit(&r) < districts[d].detached_of_houses ? DWELL_DETACHED : DWELL_TERRACED;
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
        double car_p = h->dwelling == DWELL_APARTMENT ? 0.22 + 0.2 * districts[d].outer : 0.75;
        if (rng_unit(&r) < car_p)
            h->car = rng_unit(&r) < 0.2 ? 2 : 1;
        else
            h->car = 0;
        h->ebike = rng_unit(&r) < 0.15;
    }
}

static void build_calendar(seed_ctx_t *ctx)
{
    /* Relative electricity and water use by local hour; normalised to mean 1 below. */
    static const double elec_wd[24] = {0.55, 0.48, 0.45, 0.44, 0.45, 0.55, 0.85, 1.15, 1.05, 0.85, 0.8,  0.8,
                                       0.85, 0.8,  0.8,  0.9,  1.15, 1.6,  1.85, 1.7,  1.5,  1.3,  1.05, 0.75};
    static const double elec_we[24] = {0.6, 0.52, 0.47, 0.45, 0.45, 0.47, 0.55, 0.75, 1.0,  1.15, 1.15, 1.1,
                                       1.1, 1.0,  0.95, 1.0,  1.2,  1.6,  1.8,  1.65, 1.45, 1.3,  1.1,  0.8};
    static const double water_wd[24] = {0.2, 0.1, 0.1, 0.1, 0.15, 0.4, 1.6, 2.4, 1.8, 1.0, 0.8, 0.8,
                                        0.9, 0.8, 0.7, 0.8, 1.0,  1.3, 1.6, 1.5, 1.3, 1.1, 0.8, 0.4};
    static const double water_we[24] = {0.3, 0.15, 0.1, 0.1, 0.1, 0.15, 0.4, 1.0, 1.8, 2.2, 1.8, 1.3,
                                        1.1, 0.9,  0.8, 0.8, 1.0, 1.3,  1.5, 1.5, 1.3, 1.1, 0.9, 0.5};
    double e_wd = 0, e_we = 0, w_wd = 0, w_we = 0;
    for (int i = 0; i < 24; ++i) {
        e_wd += elec_wd[i] / 24;
        e_we += elec_we[i] / 24;
        w_wd += water_wd[i] / 24;
        w_we += water_we[i] / 24;
    }

    seed_rng_t r;
    rng_init(&r, ctx->seed, 2, 0);
    double anomaly = 0;
    for (uint32_t i = 0; i < ctx->n_days; ++i) {
        seed_day_t *d = &ctx->days[i];
        d->days = ctx->start_day + i;
        int doy = day_of_year(d->days);
        anomaly = 0.8 * anomaly + 1.5 * rng_normal(&r);
        d->temp = 9.0 - 8.3 * cos(2 * M_PI * (doy - 28) / 365.25) + anomaly;
        d->rain = rng_unit(&r) < 0.45;
        d->weekday = (uint8_t)time_weekday(d->days);
        char *e = put_date(d->date, d->days);
        *e = '\0';
    }

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
        char *p = put_date(o->ts, utc_hour / 24);
        *p++ = ' ';
        memcpy(p, digit_pairs + 2 * (utc_hour % 24), 2);
        memcpy(p + 2, ":00:00+00", 10);

        /* DK2 grid intensity. */
        wind = 0.97 * wind + 0.243 * rng_normal(&r);
        double g = 140 + 60 * cos(2 * M_PI * (doy - 15) / 365.25);
        if (lh >= 17 && lh <= 20)
            g *= 1.25;
        else if (lh <= 5)
            g *= 0.9;
        double solar = 0.3 * (1 + cos(2 * M_PI * (doy - 172) / 365.25)) / 2;
        if (lh >= 10 && lh <= 16)
            g *= 1 - solar * sin(M_PI * (lh - 9) / 8.0);
        g *= exp(0.45 * wind);
        ctx->grid[h] = (float)(g < 20 ? 20 : g > 350 ? 350 : g);
    }

    /* Monthly partitions (UTC months). */
    ctx->n_months = 0;
    uint32_t h = 0;
    while (h < ctx->n_hours) {
        int y, m, d;
        time_civil_from_days(ctx->start_day + h / 24, &y, &m, &d);
        int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
        int64_t next = (time_days_from_civil(ny, nm, 1) - ctx->start_day) * 24;
        seed_month_t *mo = &ctx->months[ctx->n_months++];
        str_fmt(mo->partition, sizeof mo->partition, "energy_hourly_%04d%02d", y, m);
        mo->first_hour = h;
        mo->end_hour = next > ctx->n_hours ? ctx->n_hours : (uint32_t)next;
        h = mo->end_hour;
    }
}

/* ---- COPY plumbing ------------------------------------------------------------------------------------------------ */

typedef struct seed_copy {
    PGconn *conn;
    char *buf;
    size_t len;
} seed_copy_t;

static int exec_ok(seed_ctx_t *ctx, PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        ctx_fail(ctx, sql, PQerrorMessage(conn));
    PQclear(res);
    return ok ? 0 : -1;
}

static int copy_begin(seed_ctx_t *ctx, seed_copy_t *c, const char *sql)
{
    PGresult *res = PQexec(c->conn, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok)
        ctx_fail(ctx, sql, PQerrorMessage(c->conn));
    PQclear(res);
    c->len = 0;
    return ok ? 0 : -1;
}

static int copy_flush(seed_ctx_t *ctx, seed_copy_t *c)
{
    if (c->len > 0 && PQputCopyData(c->conn, c->buf, (int)c->len) != 1) {
        ctx_fail(ctx, "COPY", PQerrorMessage(c->conn));
        return -1;
    }
    c->len = 0;
    return 0;
}

static int copy_end(seed_ctx_t *ctx, seed_copy_t *c)
{
    int ok = copy_flush(ctx, c) == 0 && PQputCopyEnd(c->conn, NULL) == 1;
    PGresult *res;
    while ((res = PQgetResult(c->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
            ctx_fail(ctx, "COPY", PQresultErrorMessage(res));
            ok = 0;
        }
        PQclear(res);
    }
    return ok ? 0 : -1;
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
        ctx_fail(ctx, "connect", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    /* Bulk-load settings local to this session: the seed can be redone, so commits need not wait for the WAL flush. */
    if (exec_ok(ctx, conn, "SET synchronous_commit = off") != 0 || exec_ok(ctx, conn, "SET maintenance_work_mem = '256MB'") != 0 ||
        exec_ok(ctx, conn, "SET max_parallel_maintenance_workers = 0") != 0 ||
        (ctx->superuser && exec_ok(ctx, conn, "SET session_replication_role = replica") != 0)) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* With rebuild_pk, a table (empty: checked or truncated before) loses its primary key and is truncated inside the
 * job's transaction, so the COPY can FREEZE and the key is built once by sorting (bulk_finish). If the job fails, the
 * rollback restores the key. */
static int bulk_prepare(seed_ctx_t *ctx, seed_copy_t *c, const char *table)
{
    char sql[160];
    if (!ctx->rebuild_pk)
        return 0;
    str_fmt(sql, sizeof sql, "ALTER TABLE core.%s DROP CONSTRAINT %s_pkey", table, table);
    if (exec_ok(ctx, c->conn, sql) != 0)
        return -1;
    str_fmt(sql, sizeof sql, "TRUNCATE core.%s", table);
    return exec_ok(ctx, c->conn, sql);
}

static int bulk_finish(seed_ctx_t *ctx, seed_copy_t *c, const char *table, const char *key)
{
    char sql[200];
    if (!ctx->rebuild_pk)
        return 0;
    str_fmt(sql, sizeof sql, "ALTER TABLE core.%s ADD CONSTRAINT %s_pkey PRIMARY KEY (%s)", table, table, key);
    return exec_ok(ctx, c->conn, sql);
}

/* ---- generators --------------------------------------------------------------------------------------------------- */

static int load_energy_month(seed_ctx_t *ctx, seed_copy_t *c, const seed_month_t *mo, uint32_t month_index)
{
    char sql[160];
    if (ctx->rebuild_pk) {
        /* A partition left with its own key by an interrupted seed loses it; the (empty) partition is truncated in
         * this transaction so that COPY FREEZE may write the rows frozen and all-visible. */
        str_fmt(sql, sizeof sql, "ALTER TABLE core.%s DROP CONSTRAINT IF EXISTS %s_pkey", mo->partition, mo->partition);
        if (exec_ok(ctx, c->conn, sql) != 0)
            return -1;
        str_fmt(sql, sizeof sql, "TRUNCATE core.%s", mo->partition);
        if (exec_ok(ctx, c->conn, sql) != 0)
            return -1;
    }
    /* Without the owner's rights, go through the parent: partitions created later carry no grants of their own. */
    str_fmt(sql, sizeof sql, "COPY core.%s (household_id, hour_utc, electricity_wh, heat_wh, water_l) FROM STDIN%s",
            ctx->rebuild_pk ? mo->partition : "energy_hourly", ctx->rebuild_pk ? " WITH (FREEZE)" : "");
    if (copy_begin(ctx, c, sql) != 0)
        return -1;
    uint64_t rows = 0;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *hh = &ctx->households[i];
        seed_rng_t r;
        rng_init(&r, ctx->seed, 3, (uint64_t)month_index << 32 | i);
        float elec = (float)hh->elec_wh, water = (float)(hh->water_l * 10.0), heat_k = (float)hh->heat_k;
        for (uint32_t h = mo->first_hour; h < mo->end_hour; ++h) {
            const seed_hour_t *hr = &ctx->hours[h];
            uint64_t x = rng_next(&r);
            float u1 = (float)(x >> 40) * 0x1.0p-24f, u2 = (float)((x >> 16) & 0xffffff) * 0x1.0p-24f;
            float spike = (x & 0xffff) < 1638 ? 2.5f : 1.0f; /* ~1 hour in 40 */
            uint32_t e = (uint32_t)(elec * hr->elec * (0.7f + 0.6f * u1) * spike);
            uint32_t w10 = (uint32_t)(water * hr->water * (0.6f + 0.8f * u2));
            uint32_t heat = (uint32_t)(heat_k * hr->hdh + 1.8f * (float)w10 + 25.0f);
            if (c->len > SEED_COPY_BUF - 128 && copy_flush(ctx, c) != 0)
                return -1;
            char *p = c->buf + c->len;
            memcpy(p, hh->id, 36);
            p[36] = '\t';
            memcpy(p + 37, hr->ts, 22);
            p[59] = '\t';
            p = put_u32(p + 60, e);
            *p++ = '\t';
            p = put_u32(p, heat);
            *p++ = '\t';
            p = put_tenths(p, w10);
            *p++ = '\n';
            c->len = (size_t)(p - c->buf);
            if (++rows == 8192) {
                atomic_fetch_add(&ctx->rows_energy, rows);
                rows = 0;
            }
        }
    }
    atomic_fetch_add(&ctx->rows_energy, rows);
    if (copy_end(ctx, c) != 0)
        return -1;
    if (ctx->rebuild_pk) {
        /* Sorting a month once is cheaper than inserting it into a b-tree row by row; the other connection keeps
         * loading meanwhile. seed_finish_pk attaches these indexes to the parent's key. */
        str_fmt(sql, sizeof sql, "ALTER TABLE core.%s ADD CONSTRAINT %s_pkey PRIMARY KEY (household_id, hour_utc)", mo->partition,
                mo->partition);
        if (exec_ok(ctx, c->conn, sql) != 0)
            return -1;
    }
    return 0;
}

static int load_waste(seed_ctx_t *ctx, seed_copy_t *c)
{
    if (bulk_prepare(ctx, c, "waste_weighings") != 0 ||
        copy_begin(ctx, c,
                   ctx->rebuild_pk ? "COPY core.waste_weighings (household_id, collected_on, fraction, kg) FROM STDIN WITH (FREEZE)"
                                   : "COPY core.waste_weighings (household_id, collected_on, fraction, kg) FROM STDIN") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *hh = &ctx->households[i];
        seed_rng_t r;
        rng_init(&r, ctx->seed, 4, i);
        double scale = pow(hh->persons, 0.8);
        int house = hh->dwelling != DWELL_APARTMENT;
        double weekly[FR_COUNT];
        weekly[FR_RESIDUAL] = fraction_kg[FR_RESIDUAL];
        for (int f = 1; f < FR_COUNT; ++f) {
            double sorted = fraction_kg[f] * fraction_sort[f] * (f == FR_HAZARDOUS ? 1.0 : hh->sorting);
            weekly[f] = sorted;
            weekly[FR_RESIDUAL] += fraction_kg[f] - sorted;
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
                if (c->len > SEED_COPY_BUF - 128 && copy_flush(ctx, c) != 0)
                    return -1;
                char *p = c->buf + c->len;
                memcpy(p, hh->id, 36);
                p[36] = '\t';
                p = put_date(p + 37, d->days);
                *p++ = '\t';
                size_t fl = strlen(fraction_names[f]);
                memcpy(p, fraction_names[f], fl);
                p += fl;
                *p++ = '\t';
                p = put_tenths(p, (uint32_t)(kg * 10 + 0.5));
                *p++ = '\n';
                c->len = (size_t)(p - c->buf);
                ++rows;
            }
        }
        atomic_fetch_add(&ctx->rows_waste, rows);
    }
    if (copy_end(ctx, c) != 0)
        return -1;
    return bulk_finish(ctx, c, "waste_weighings", "household_id, collected_on, fraction");
}

static int load_mobility(seed_ctx_t *ctx, seed_copy_t *c)
{
    static const double base_weight[MODE_COUNT] = {20, 34, 4, 8, 8, 5, 17, 4};
    if (bulk_prepare(ctx, c, "mobility_daily") != 0 ||
        copy_begin(ctx, c,
                   ctx->rebuild_pk ? "COPY core.mobility_daily (household_id, day, mode, trips, km) FROM STDIN WITH (FREEZE)"
                                   : "COPY core.mobility_daily (household_id, day, mode, trips, km) FROM STDIN") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *hh = &ctx->households[i];
        const double outer = districts[hh->district - 1].outer;
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
                km[m] += mode_km[m] * (0.25 + 1.5 * rng_unit(&r) * rng_unit(&r) * 2);
            }
            uint64_t rows = 0;
            for (int m = 0; m < MODE_COUNT; ++m) {
                if (trips[m] == 0)
                    continue;
                if (c->len > SEED_COPY_BUF - 128 && copy_flush(ctx, c) != 0)
                    return -1;
                char *p = c->buf + c->len;
                memcpy(p, hh->id, 36);
                p[36] = '\t';
                memcpy(p + 37, d->date, 10);
                p[47] = '\t';
                p += 48;
                size_t ml = strlen(mode_names[m]);
                memcpy(p, mode_names[m], ml);
                p += ml;
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
    if (copy_end(ctx, c) != 0)
        return -1;
    return bulk_finish(ctx, c, "mobility_daily", "household_id, day, mode");
}

/* ---- the parallel phase ------------------------------------------------------------------------------------------- */

static void *seed_worker(void *arg)
{
    seed_ctx_t *ctx = arg;
    seed_copy_t c = {NULL, NULL, 0};

    c.buf = malloc(SEED_COPY_BUF);
    if (c.buf == NULL) {
        ctx_fail(ctx, "seed", "out of memory");
        goto done;
    }
    if ((c.conn = seed_connect(ctx)) == NULL)
        goto done;
    for (;;) {
        uint32_t job = atomic_fetch_add(&ctx->next_job, 1);
        int rc;
        if (job >= ctx->n_jobs || atomic_load(&ctx->failed))
            break;
        if (exec_ok(ctx, c.conn, "BEGIN") != 0)
            break;
        /* The biggest jobs (the months) go first so the short ones fill the gaps at the end. */
        if (job < ctx->n_months)
            rc = load_energy_month(ctx, &c, &ctx->months[job], job);
        else if (job == ctx->n_months)
            rc = load_mobility(ctx, &c);
        else
            rc = load_waste(ctx, &c);
        if (rc != 0 || exec_ok(ctx, c.conn, "COMMIT") != 0)
            break;
    }
done:
    PQfinish(c.conn);
    free(c.buf);
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

/* Loads the households and the grid intensity in one transaction on conn. */
static int load_base(seed_ctx_t *ctx, PGconn *conn, char *buf)
{
    seed_copy_t c = {conn, buf, 0};
    if (exec_ok(ctx, conn, "BEGIN") != 0)
        return -1;
    if (copy_begin(ctx, &c,
                   "COPY core.households (household_id, district_id, dwelling_type, occupant_band, floor_area_m2)"
                   " FROM STDIN") != 0)
        return -1;
    for (uint32_t i = 0; i < ctx->n_households; ++i) {
        const seed_household_t *h = &ctx->households[i];
        if (c.len > SEED_COPY_BUF - 128 && copy_flush(ctx, &c) != 0)
            return -1;
        char *p = c.buf + c.len;
        memcpy(p, h->id, 36);
        p[36] = '\t';
        p = put_u32(p + 37, h->district);
        *p++ = '\t';
        size_t n = strlen(dwelling_names[h->dwelling]);
        memcpy(p, dwelling_names[h->dwelling], n);
        p += n;
        *p++ = '\t';
        n = strlen(band_names[h->band]);
        memcpy(p, band_names[h->band], n);
        p += n;
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
        if (c.len > SEED_COPY_BUF - 128 && copy_flush(ctx, &c) != 0)
            return -1;
        char *p = c.buf + c.len;
        memcpy(p, ctx->hours[h].ts, 22);
        memcpy(p + 22, "\tDK2\t", 5);
        p = put_tenths(p + 27, (uint32_t)(ctx->grid[h] * 10 + 0.5f));
        *p++ = '\n';
        c.len = (size_t)(p - c.buf);
    }
    if (copy_end(ctx, &c) != 0)
        return -1;
    return exec_ok(ctx, conn, "COMMIT");
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

/* `klimaspejl seed`: generates the synthetic city and loads it into core (see the model above). Returns CLI_EXIT_OK,
 * CLI_EXIT_FAIL with a message on stderr (database error, households present without --replace), or CLI_EXIT_USAGE. */
int cli_seed_main(int argc, char **argv)
{
    seed_ctx_t ctx;
    int64_t end_day = (int64_t)(time(NULL) / 86400);
    uint32_t n_threads = 2;
    int replace = 0, rc = CLI_EXIT_FAIL, tty = cli_stderr_is_tty();
    PGconn *conn = NULL;
    char *buf = NULL;
    pthread_t threads[SEED_MAX_JOBS];
    uint32_t started = 0;
    PGresult *res = NULL;

    memset(&ctx, 0, sizeof ctx);
    pthread_mutex_init(&ctx.err_lock, NULL);
    ctx.n_households = 2000;
    ctx.n_days = 400;
    ctx.seed = 1;
    int prc = seed_parse_args(argc, argv, &ctx, &end_day, &n_threads, &replace);
    if (prc != CLI_EXIT_OK) {
        rc = prc < 0 ? CLI_EXIT_OK : prc;
        goto out;
    }
    ctx.conninfo = cli_admin_conninfo();
    ctx.start_day = end_day - ctx.n_days;
    ctx.n_hours = ctx.n_days * 24;
    ctx.households = calloc(ctx.n_households, sizeof *ctx.households);
    ctx.hours = calloc(ctx.n_hours, sizeof *ctx.hours);
    ctx.days = calloc(ctx.n_days, sizeof *ctx.days);
    ctx.grid = calloc(ctx.n_hours, sizeof *ctx.grid);
    ctx.months = calloc(ctx.n_days / 28 + 3, sizeof *ctx.months);
    buf = malloc(SEED_COPY_BUF);
    if (ctx.households == NULL || ctx.hours == NULL || ctx.days == NULL || ctx.grid == NULL || ctx.months == NULL || buf == NULL) {
        fputs("klimaspejl seed: out of memory\n", stderr);
        goto out;
    }

    double t0 = time_mono_s();
    build_households(&ctx);
    build_calendar(&ctx);

    conn = PQconnectdb(ctx.conninfo);
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    if (PQstatus(conn) != CONNECTION_OK) {
        ctx_fail(&ctx, "connect", PQerrorMessage(conn));
        goto fail;
    }
    res = PQexec(conn, "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
                       " EXISTS (SELECT 1 FROM core.households)");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        ctx_fail(&ctx, "checking core.households", PQerrorMessage(conn));
        goto fail;
    }
    ctx.superuser = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 && !replace) {
        fputs("klimaspejl seed: core.households already has rows; use --replace to delete all core data first\n", stderr);
        goto out;
    }
    if (replace && exec_ok(&ctx, conn,
                           "BEGIN; TRUNCATE core.energy_hourly, core.waste_weighings, core.mobility_daily,"
                           " core.grid_intensity_hourly, core.households; COMMIT") != 0)
        goto fail;
    {
        char sql[160];
        char from[11], to[11];
        *put_date(from, ctx.start_day) = '\0';
        *put_date(to, end_day - 1) = '\0';
        str_fmt(sql, sizeof sql, "SELECT core.ensure_energy_partitions('%s 00:00:00+00', '%s 23:00:00+00')", from, to);
        if (exec_ok(&ctx, conn, sql) != 0)
            goto fail;
    }
    if (exec_ok(&ctx, conn, "SET synchronous_commit = off") != 0 || load_base(&ctx, conn, buf) != 0)
        goto fail;
    /* Only the owner (or a superuser) may drop the key; the table is empty here (checked or truncated above). */
    ctx.rebuild_pk = ctx.superuser && getenv("KLIMA_SEED_KEEP_PK") == NULL;
    if (ctx.rebuild_pk && exec_ok(&ctx, conn, "ALTER TABLE core.energy_hourly DROP CONSTRAINT IF EXISTS energy_hourly_pkey") != 0)
        goto fail;

    uint64_t base_rows = ctx.n_households + ctx.n_hours;
    uint64_t expected = base_rows + (uint64_t)ctx.n_households * ctx.n_hours + (uint64_t)ctx.n_households * ctx.n_days * 33 / 10 +
                        (uint64_t)ctx.n_households * ctx.n_days * 5 / 10;
    ctx.n_jobs = ctx.n_months + 2;
    if (n_threads > ctx.n_jobs)
        n_threads = ctx.n_jobs;
    for (; started < n_threads; ++started) {
        if (pthread_create(&threads[started], NULL, seed_worker, &ctx) != 0) {
            ctx_fail(&ctx, "seed", "cannot start a thread");
            break;
        }
    }
    if (tty) {
        /* Workers are joined below; meanwhile redraw the progress line a few times a second. */
        while (atomic_load(&ctx.workers_done) < started) {
            show_progress(&ctx, t0, base_rows, expected);
            usleep(250000);
        }
    }
    for (uint32_t i = 0; i < started; ++i)
        pthread_join(threads[i], NULL);
    if (tty) {
        show_progress(&ctx, t0, base_rows, expected);
        fputc('\n', stderr);
    }
    if (atomic_load(&ctx.failed))
        goto fail;
    if (ctx.rebuild_pk && exec_ok(&ctx, conn, seed_finish_pk_sql) != 0)
        goto fail;

    double secs = time_mono_s() - t0;
    uint64_t total = base_rows + rows_done(&ctx);
    printf("seed: households %u, grid_intensity_hourly %u, energy_hourly %llu, waste_weighings %llu, mobility_daily "
           "%llu rows; %llu rows in %.1f s (%.2f M rows/s)\n",
           ctx.n_households, ctx.n_hours, (unsigned long long)atomic_load(&ctx.rows_energy),
           (unsigned long long)atomic_load(&ctx.rows_waste), (unsigned long long)atomic_load(&ctx.rows_mobility),
           (unsigned long long)total, secs, total / secs / 1e6);
    rc = CLI_EXIT_OK;
    goto out;

fail:
    fprintf(stderr, "%sklimaspejl seed: %s\n", tty ? "\n" : "", ctx.err[0] ? ctx.err : "failed");
    /* Give the energy table its key back (failed jobs rolled back; what committed stays, as the message says). */
    if (ctx.rebuild_pk && PQstatus(conn) == CONNECTION_OK) {
        PGresult *r = PQexec(conn, seed_finish_pk_sql);
        PQclear(r);
    }
    if (ctx.rebuild_pk || atomic_load(&ctx.rows_energy) > 0)
        fputs("klimaspejl seed: the data may be partly loaded; run again with --replace\n", stderr);
    rc = CLI_EXIT_FAIL;
out:
    PQclear(res);
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
