/*
 * cli/seed — `klimaspejl seed`, the synthetic city (the model is described at the top of cli/seed.c): what the job
 * threads share, the random numbers and fast text every generator uses (inline: the hourly loop runs billions of
 * times), the city's tables (cli/seed_city.c) and the row generators (cli/seed_rows.c).
 */
#ifndef KLIMA_CLI_SEED_H
#define KLIMA_CLI_SEED_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli/bulk.h"
#include "core/time.h"

#define SEED_COPY_BUF (1024 * 1024)
#define SEED_MAX_JOBS 8

/* ---- random numbers ---------------------------------------------------------------------------------------------- */

typedef struct seed_rng {
    uint64_t s[4];
} seed_rng_t;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A generator for (seed, stream, index): independent streams without any shared state. */
static inline void rng_init(seed_rng_t *r, uint64_t seed, uint64_t stream, uint64_t index)
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
static inline double rng_normal(seed_rng_t *r)
{
    double s = rng_unit(r) + rng_unit(r) + rng_unit(r) + rng_unit(r);
    return (s - 2.0) * 1.7320508075688772;
}

static inline int rng_poisson(seed_rng_t *r, double lambda)
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
static inline int rng_pick(seed_rng_t *r, const double *weights, int n)
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
static inline int cph_offset_hours(int64_t utc_hour)
{
    int y, m, d;
    time_civil_from_days(utc_hour / 24, &y, &m, &d);
    int64_t mar = time_days_from_civil(y, 3, 31), oct = time_days_from_civil(y, 10, 31);
    mar -= time_weekday(mar);
    oct -= time_weekday(oct);
    return (utc_hour >= mar * 24 + 1 && utc_hour < oct * 24 + 1) ? 2 : 1;
}

static inline int day_of_year(int64_t days)
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    return (int)(days - time_days_from_civil(y, 1, 1)) + 1;
}

/* ---- fast text ---------------------------------------------------------------------------------------------------- */

extern const char seed_digit_pairs[201];

/* s without its NUL at p; returns the end. */
static inline char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Writes v in decimal at p; returns the end. */
static inline char *put_u32(char *p, uint32_t v)
{
    char tmp[12];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        uint32_t q = v / 100, r = v - q * 100;
        t -= 2;
        memcpy(t, seed_digit_pairs + 2 * r, 2);
        v = q;
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, seed_digit_pairs + 2 * v, 2);
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

static inline char *put_date(char *p, int64_t days)
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    p = put_u32(p, (uint32_t)y);
    *p++ = '-';
    memcpy(p, seed_digit_pairs + 2 * m, 2);
    p[2] = '-';
    memcpy(p + 3, seed_digit_pairs + 2 * d, 2);
    return p + 5;
}

/* A version-4 UUID drawn from r: its 16 bytes in b (the binary COPY's) and its text in out. */
static inline void uuid_draw(char out[37], uint8_t b[16], seed_rng_t *r)
{
    static const char hex[] = "0123456789abcdef";
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

/* ---- fast binary (COPY ... WITH (FORMAT binary): every number in network byte order) ------------------------------ */

static inline char *put_be16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
    return p + 2;
}

static inline char *put_be32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
    return p + 4;
}

static inline char *put_be64(char *p, uint64_t v)
{
    p = put_be32(p, (uint32_t)(v >> 32));
    return put_be32(p, (uint32_t)v);
}

/* The binary COPY's header (signature, flags 0, no extension) and its trailer (a field count of -1). */
#define SEED_BINARY_HEADER "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"
#define SEED_BINARY_HEADER_LEN 19

/* ---- the city ----------------------------------------------------------------------------------------------------- */

/* Population share (%), share of apartments, share of detached among houses, and how "outer" it is (0-1). */
typedef struct seed_district {
    double pop, apartments, detached_of_houses, outer;
} seed_district_t;
extern const seed_district_t seed_districts[10];

enum { DWELL_APARTMENT, DWELL_TERRACED, DWELL_DETACHED };
extern const char *const seed_dwelling_names[3];
extern const char *const seed_band_names[4];
enum { FR_RESIDUAL, FR_FOOD, FR_PAPER, FR_CARDBOARD, FR_PLASTIC, FR_GLASS, FR_METAL, FR_HAZARDOUS, FR_GARDEN, FR_COUNT };
extern const char *const seed_fraction_names[FR_COUNT];
extern const double seed_fraction_kg[FR_COUNT], seed_fraction_sort[FR_COUNT];
enum { MODE_WALK, MODE_BIKE, MODE_EBIKE, MODE_BUS, MODE_METRO, MODE_STRAIN, MODE_CAR_PETROL, MODE_CAR_ELECTRIC, MODE_COUNT };
extern const char *const seed_mode_names[MODE_COUNT];
extern const double seed_mode_km[MODE_COUNT];

typedef struct seed_household {
    char id[37];
    uint8_t uuid[16]; /* id's bytes, for the binary COPY of the readings */
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
    char ts[23];     /* "YYYY-MM-DD HH:00:00+00" */
    int64_t pg_usec; /* the same hour as PostgreSQL stores a timestamptz: microseconds since 2000-01-01 00:00 UTC */
    float elec;      /* electricity shape x season */
    float water;     /* water shape x season */
    float hdh;       /* heating degree hours, already reduced outside the heating season */
} seed_hour_t;

typedef struct seed_day {
    char date[11];
    int64_t days; /* since 1970-01-01 */
    double temp;  /* daily mean, C */
    uint8_t rain;
    uint8_t weekday; /* 0 = Sunday, local date == UTC date here */
} seed_day_t;

typedef struct seed_month {
    char partition[32];            /* energy_hourly_pYYYY_MM */
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

/* Records the first failure (thread-safe); the jobs stop and the command reports it. */
void seed_fail(seed_ctx_t *ctx, const char *what, const char *msg);

/* Runs sql on conn; on failure records it (seed_fail) and returns -1. */
int seed_exec(seed_ctx_t *ctx, PGconn *conn, const char *sql);

/* The households (their district, dwelling, people, appliances and habits) and the calendar (days, hours with their
 * load shapes and heating-degree hours, grid intensity, monthly partitions), from the seed alone. */
void seed_build_households(seed_ctx_t *ctx);
void seed_build_calendar(seed_ctx_t *ctx);

/* The loads, each in the caller's transaction on c's connection; 0, or -1 after seed_fail. The base (households and
 * grid intensity) goes first, through buf (SEED_COPY_BUF bytes), in its own transaction. */
int seed_load_base(seed_ctx_t *ctx, PGconn *conn, char *buf);
int seed_load_energy_month(seed_ctx_t *ctx, cli_bulk_t *c, const seed_month_t *mo, uint32_t month_index);
int seed_load_waste(seed_ctx_t *ctx, cli_bulk_t *c);
int seed_load_mobility(seed_ctx_t *ctx, cli_bulk_t *c);

#endif
