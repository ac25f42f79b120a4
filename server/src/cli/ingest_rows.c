/*
 * cli/ingest_rows — the field checks of `klimaspejl ingest` and each kind's COPY line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/ingest.h"
#include "core/strutil.h"
#include "core/time.h"

static int two_digits(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return str_to_uint(s, 2, min, max, out);
}

/* YYYY-MM-DD (1970..9999; s[0..10), len at least 10) -> days since epoch. */
static int parse_date(const char *s, size_t len, int64_t *days)
{
    return len < 10 ? -1 : time_date_parse(s, 10, 1970, days);
}

/* An ISO 8601 / RFC 3339 timestamp with an explicit zone: YYYY-MM-DD[T ]HH:MM[:SS](Z|+HH[:MM]|-HH[:MM]).
 * Returns the UTC hour since the epoch; -1 = bad syntax, -2 = not on the hour. */
static int parse_hour(const char *s, size_t len, int64_t *utc_hour)
{
    int64_t days;
    uint64_t hh, mm, ss = 0, oh = 0, om = 0;
    size_t p = 16;
    if (len < 17 || parse_date(s, 10, &days) != 0 || (s[10] != 'T' && s[10] != ' ') || two_digits(s + 11, 0, 23, &hh) != 0 ||
        s[13] != ':' || two_digits(s + 14, 0, 59, &mm) != 0)
        return -1;
    if (s[p] == ':') {
        if (p + 3 > len || two_digits(s + p + 1, 0, 59, &ss) != 0)
            return -1;
        p += 3;
    }
    int sign = 0;
    if (p + 1 == len && (s[p] == 'Z' || s[p] == 'z')) {
        p += 1;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        sign = s[p] == '+' ? 1 : -1;
        if (p + 3 > len || two_digits(s + p + 1, 0, 18, &oh) != 0)
            return -1;
        p += 3;
        if (p < len && s[p] == ':')
            p++;
        if (p < len) {
            if (p + 2 > len || two_digits(s + p, 0, 59, &om) != 0)
                return -1;
            p += 2;
        }
    } else {
        return -1; /* no zone: ambiguous local time */
    }
    if (p != len)
        return -1;
    int64_t minutes = (days * 24 + (int64_t)hh) * 60 + (int64_t)mm - sign * (int64_t)(oh * 60 + om);
    if (ss != 0 || minutes % 60 != 0)
        return -2;
    *utc_hour = minutes / 60;
    return 0;
}

int ingest_parse_uuid(const char *s, size_t len, uint8_t out[16])
{
    if (len != 36)
        return -1;
    int b = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            ++i;
            continue;
        }
        int hi = str_hexval((unsigned char)s[i]), lo = str_hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[b++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

/* A whole number without sign in [0, max]. */
/* A non-negative decimal: digits, optionally '.' and digits; no sign, exponent or spaces; value <= max. */
static int check_decimal(const char *s, size_t len, double max)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        ++i, ++int_digits;
    if (i < len && s[i] == '.') {
        ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            ++i, ++frac_digits;
        if (frac_digits == 0)
            return -1;
    }
    if (i != len || int_digits == 0 || int_digits > 12 || frac_digits > 6)
        return -1;
    return strtod(s, NULL) <= max ? 0 : -1;
}

static int in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i] != NULL; ++i)
        if (strcmp(s, list[i]) == 0)
            return i;
    return -1;
}

static const char *const fractions[] = {"residual", "food",  "paper",     "cardboard", "plastic",
                                        "glass",    "metal", "hazardous", "garden",    NULL};
static const char *const modes[] = {"walk", "bike", "e-bike", "bus", "metro", "s-train", "car-petrol", "car-electric", NULL};
static const char *const dwellings[] = {"apartment", "terraced", "detached", NULL};
static const char *const bands[] = {"1", "2", "3-4", "5+", NULL};

static char *put_field(char *out, const cli_csv_record_t *rec, int i, char end)
{
    memcpy(out, rec->data + rec->off[i], rec->len[i]);
    out += rec->len[i];
    *out++ = end;
    return out;
}

/* Fields from..nf-1 of rec (checked: as many as the kind has), tab-separated, and the line's end. */
static char *put_rest(char *out, const cli_csv_record_t *rec, int from)
{
    for (int i = from; i < rec->nf; ++i)
        out = put_field(out, rec, i, i + 1 < rec->nf ? '\t' : '\n');
    return out;
}

/* Sets the reason and returns NULL, for the emit functions. */
static char *reject(const char **why, const char *reason)
{
    *why = reason;
    return NULL;
}

#define F(i) (rec->data + rec->off[i])
#define L(i) (rec->len[i])

/* One table of the plain field checks (the ones that need no context): field, rule, and the reason a row is refused. */
typedef enum field_rule { RULE_DATE, RULE_ONE_OF, RULE_WHOLE, RULE_DECIMAL } field_rule_t;

typedef struct field_check {
    int field;
    field_rule_t rule;
    const char *const *one_of; /* RULE_ONE_OF */
    uint64_t min, max;         /* RULE_WHOLE; RULE_DECIMAL: max */
    const char *why;
} field_check_t;

/* duplicate: one table of checks a kind; the tables are alike by design (data, not code). */
static const field_check_t household_checks[] = {
    {2, RULE_ONE_OF, dwellings, 0, 0, "dwelling_type: expected apartment, terraced or detached"},
    {3, RULE_ONE_OF, bands, 0, 0, "occupant_band: expected 1, 2, 3-4 or 5+"},
    {4, RULE_WHOLE, NULL, 5, 2000, "floor_area_m2: expected a whole number from 5 to 2000"},
    {-1, 0, NULL, 0, 0, NULL},
};
static const field_check_t energy_checks[] = {
    {2, RULE_WHOLE, NULL, 0, 1000000, "electricity_wh: expected a whole number from 0 to 1000000"},
    {3, RULE_WHOLE, NULL, 0, 10000000, "heat_wh: expected a whole number from 0 to 10000000"},
    {4, RULE_DECIMAL, NULL, 0, 100000, "water_l: expected a decimal number from 0 to 100000 (like 12.5)"},
    {-1, 0, NULL, 0, 0, NULL},
};
static const field_check_t waste_checks[] = {
    {1, RULE_DATE, NULL, 0, 0, "collected_on: expected a date YYYY-MM-DD"},
    {2, RULE_ONE_OF, fractions, 0, 0,
     "fraction: expected residual, food, paper, cardboard, plastic, glass, metal, hazardous or garden"},
    {3, RULE_DECIMAL, NULL, 0, 10000, "kg: expected a decimal number from 0 to 10000 (like 3.2)"},
    {-1, 0, NULL, 0, 0, NULL},
};
static const field_check_t mobility_checks[] = {
    {1, RULE_DATE, NULL, 0, 0, "day: expected a date YYYY-MM-DD"},
    {2, RULE_ONE_OF, modes, 0, 0, "mode: expected walk, bike, e-bike, bus, metro, s-train, car-petrol or car-electric"},
    {3, RULE_WHOLE, NULL, 0, 1000, "trips: expected a whole number from 0 to 1000"},
    {4, RULE_DECIMAL, NULL, 0, 10000, "km: expected a decimal number from 0 to 10000 (like 4.5)"},
    {-1, 0, NULL, 0, 0, NULL},
};

/* NULL when every check of checks holds for rec, else the first failing check's reason. */
static const char *check_fields(const cli_csv_record_t *rec, const field_check_t *checks)
{
    for (const field_check_t *c = checks; c->field >= 0; ++c) {
        const char *s = F(c->field);
        size_t n = L(c->field);
        int64_t days;
        uint64_t v;
        int ok = 0;
        switch (c->rule) {
        case RULE_DATE:
            ok = n == 10 && parse_date(s, n, &days) == 0;
            break;
        case RULE_ONE_OF:
            ok = in_list(s, c->one_of) >= 0;
            break;
        case RULE_WHOLE:
            ok = str_to_uint(s, n, c->min, c->max, &v) == 0;
            break;
        case RULE_DECIMAL:
            ok = check_decimal(s, n, (double)c->max) == 0;
            break;
        }
        if (!ok)
            return c->why;
    }
    return NULL;
}

static char *emit_households(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    uint8_t id[16];
    int d = -1;
    if (ingest_parse_uuid(F(0), L(0), id) != 0)
        return reject(why, "household_id: expected a UUID like 0b6f3c1e-2a4d-4e8f-9c1a-3d5e7f9a1b2c");
    for (int i = 0; i < ctx->n_districts; ++i)
        if (strcmp(F(1), ctx->district_names[i]) == 0)
            d = ctx->district_ids[i];
    if (d < 0)
        return reject(why, "district: unknown district (expected a Danish bydel name such as Nørrebro or Amager Øst)");
    *why = check_fields(rec, household_checks);
    if (*why != NULL)
        return NULL;
    out = put_field(out, rec, 0, '\t');
    out = str_put_u64(out, (uint64_t)d);
    *out++ = '\t';
    return put_rest(out, rec, 2);
}

static char *emit_energy(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    int64_t hour;
    int rc = parse_hour(F(1), L(1), &hour);
    if (rc == -2)
        return reject(why, "hour_utc: must be on the hour (minutes and seconds zero after applying the offset)");
    if (rc != 0)
        return reject(why, "hour_utc: expected a timestamp with a zone, like 2024-01-31T23:00:00Z or 2024-02-01T00:00:00+01:00");
    *why = check_fields(rec, energy_checks);
    if (*why != NULL)
        return NULL;
    int y, m, d;
    time_civil_from_days(hour / 24, &y, &m, &d);
    int64_t month_index = (int64_t)(y - 1970) * 12 + (m - 1);
    if (month_index < 0 || month_index >= 2048)
        return reject(why, "hour_utc: year out of range (1970-2140)");
    char ts[32];
    int n = str_fmt(ts, sizeof ts, "%04d-%02d-%02d %02d:00:00+00", y, m, d, (int)(hour % 24));
    out = put_field(out, rec, 0, '\t');
    memcpy(out, ts, (size_t)n);
    out += n;
    *out++ = '\t';
    out = put_rest(out, rec, 2);
    if (!(ctx->months_known[month_index / 64] >> (month_index % 64) & 1)) {
        /* Signalled to the caller: the month needs its partition before this row is sent. */
        ctx->months_known[month_index / 64] |= 1ULL << (month_index % 64);
        str_fmt(ctx->new_month, sizeof ctx->new_month, "%04d-%02d-01 00:00:00+00", y, m);
    }
    return out;
}

static char *emit_waste(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    *why = check_fields(rec, waste_checks);
    return *why == NULL ? put_rest(out, rec, 0) : NULL;
}

static char *emit_mobility(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    *why = check_fields(rec, mobility_checks);
    return *why == NULL ? put_rest(out, rec, 0) : NULL;
}

#undef F
#undef L

const ingest_kind_t ingest_kinds[] = {
    {"households", "household_id,district,dwelling_type,occupant_band,floor_area_m2",
     "COPY core.households (household_id, district_id, dwelling_type, occupant_band, floor_area_m2) FROM STDIN", 5, 0,
     emit_households},
    {"energy", "household_id,hour_utc,electricity_wh,heat_wh,water_l",
     "COPY core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l) FROM STDIN", 5, 1, emit_energy},
    {"waste", "household_id,collected_on,fraction,kg",
     "COPY core.waste_weighings (household_id, collected_on, fraction, kg) FROM STDIN", 4, 1, emit_waste},
    {"mobility", "household_id,day,mode,trips,km", "COPY core.mobility_daily (household_id, day, mode, trips, km) FROM STDIN", 5, 1,
     emit_mobility},
    {NULL, NULL, NULL, 0, 0, NULL},
};
