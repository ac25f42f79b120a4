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
    if (len < 17 || parse_date(s, 10, &days) != 0 || (s[10] != 'T' && s[10] != ' ') ||
        two_digits(s + 11, 0, 23, &hh) != 0 || s[13] != ':' || two_digits(s + 14, 0, 59, &mm) != 0)
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
static int check_uint(const char *s, size_t len, uint64_t max)
{
    uint64_t v;
    return str_to_uint(s, len, 0, max, &v);
}

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

/* Sets the reason and returns NULL, for the emit functions. */
static char *reject(const char **why, const char *reason)
{
    *why = reason;
    return NULL;
}

#define F(i) (rec->data + rec->off[i])
#define L(i) (rec->len[i])

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
    if (in_list(F(2), dwellings) < 0)
        return reject(why, "dwelling_type: expected apartment, terraced or detached");
    if (in_list(F(3), bands) < 0)
        return reject(why, "occupant_band: expected 1, 2, 3-4 or 5+");
    uint64_t area;
    if (str_to_uint(F(4), L(4), 5, 2000, &area) != 0)
        return reject(why, "floor_area_m2: expected a whole number from 5 to 2000");
    out = put_field(out, rec, 0, '\t');
    char num[8];
    int n = str_fmt(num, sizeof num, "%d", d);
    memcpy(out, num, (size_t)n);
    out += n;
    *out++ = '\t';
    out = put_field(out, rec, 2, '\t');
    out = put_field(out, rec, 3, '\t');
    return put_field(out, rec, 4, '\n');
}

static char *emit_energy(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    int64_t hour;
    int rc = parse_hour(F(1), L(1), &hour);
    if (rc == -2)
        return reject(why, "hour_utc: must be on the hour (minutes and seconds zero after applying the offset)");
    if (rc != 0)
        return reject(why, "hour_utc: expected a timestamp with a zone, like 2024-01-31T23:00:00Z or 2024-02-01T00:00:00+01:00");
    if (check_uint(F(2), L(2), 1000000) != 0)
        return reject(why, "electricity_wh: expected a whole number from 0 to 1000000");
    if (check_uint(F(3), L(3), 10000000) != 0)
        return reject(why, "heat_wh: expected a whole number from 0 to 10000000");
    if (check_decimal(F(4), L(4), 100000) != 0)
        return reject(why, "water_l: expected a decimal number from 0 to 100000 (like 12.5)");
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
    out = put_field(out, rec, 2, '\t');
    out = put_field(out, rec, 3, '\t');
    out = put_field(out, rec, 4, '\n');
    if (!(ctx->months_known[month_index / 64] >> (month_index % 64) & 1)) {
        /* Signalled to the caller: the month needs its partition before this row is sent. */
        ctx->months_known[month_index / 64] |= 1ULL << (month_index % 64);
        str_fmt(ctx->new_month, sizeof ctx->new_month, "%04d-%02d-01 00:00:00+00", y, m);
    }
    return out;
}

static char *emit_waste(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    int64_t days;
    if (parse_date(F(1), L(1), &days) != 0 || L(1) != 10)
        return reject(why, "collected_on: expected a date YYYY-MM-DD");
    if (in_list(F(2), fractions) < 0)
        return reject(why, "fraction: expected residual, food, paper, cardboard, plastic, glass, metal, hazardous or garden");
    if (check_decimal(F(3), L(3), 10000) != 0)
        return reject(why, "kg: expected a decimal number from 0 to 10000 (like 3.2)");
    out = put_field(out, rec, 0, '\t');
    out = put_field(out, rec, 1, '\t');
    out = put_field(out, rec, 2, '\t');
    return put_field(out, rec, 3, '\n');
}

static char *emit_mobility(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why)
{
    int64_t days;
    if (parse_date(F(1), L(1), &days) != 0 || L(1) != 10)
        return reject(why, "day: expected a date YYYY-MM-DD");
    if (in_list(F(2), modes) < 0)
        return reject(why, "mode: expected walk, bike, e-bike, bus, metro, s-train, car-petrol or car-electric");
    if (check_uint(F(3), L(3), 1000) != 0)
        return reject(why, "trips: expected a whole number from 0 to 1000");
    if (check_decimal(F(4), L(4), 10000) != 0)
        return reject(why, "km: expected a decimal number from 0 to 10000 (like 4.5)");
    out = put_field(out, rec, 0, '\t');
    out = put_field(out, rec, 1, '\t');
    out = put_field(out, rec, 2, '\t');
    out = put_field(out, rec, 3, '\t');
    return put_field(out, rec, 4, '\n');
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

