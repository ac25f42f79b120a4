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
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli/cli.h"
#include "cli/ingest.h"
#include "core/strutil.h"
#include "core/time.h"

#define INGEST_READ_BUF (1024 * 1024)
#define INGEST_COPY_BUF (1024 * 1024)
#define INGEST_MAX_RECORD 4096
#define INGEST_MAX_FIELDS 16

static const char ingest_usage[] =
    "usage: klimaspejl ingest households|energy|waste|mobility FILE.csv   (FILE may be - for standard input)\n"
    "  households: household_id,district,dwelling_type,occupant_band,floor_area_m2\n"
    "  energy:     household_id,hour_utc,electricity_wh,heat_wh,water_l\n"
    "  waste:      household_id,collected_on,fraction,kg\n"
    "  mobility:   household_id,day,mode,trips,km\n"
    "One transaction per file: the first bad row aborts with FILE:LINE: reason and nothing is loaded.\n"
    "Formats: sql/README.md, \"Loading real data\". Connects with KLIMA_DB_ADMIN_URL (else KLIMA_DB_URL).\n";

/* ---- streaming CSV reader ------------------------------------------------------------------------------------------ */

typedef struct ingest_reader {
    int fd;
    char *buf;
    size_t pos, len;
    int eof;
    uint64_t bytes; /* read so far, for progress */
} ingest_reader_t;

typedef struct ingest_record {
    char data[INGEST_MAX_RECORD + INGEST_MAX_FIELDS];
    size_t off[INGEST_MAX_FIELDS + 1]; /* field i is data[off[i]], NUL-terminated */
    size_t len[INGEST_MAX_FIELDS];
    int nf;
} ingest_record_t;

/* Next byte, or -1 at the end of input, -2 on a read error. */
static inline int reader_getc(ingest_reader_t *r)
{
    if (r->pos == r->len) {
        if (r->eof)
            return -1;
        ssize_t n;
        do {
            n = read(r->fd, r->buf, INGEST_READ_BUF);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return -2;
        if (n == 0) {
            r->eof = 1;
            return -1;
        }
        r->pos = 0;
        r->len = (size_t)n;
        r->bytes += (uint64_t)n;
    }
    return (unsigned char)r->buf[r->pos++];
}

static inline int reader_peek(ingest_reader_t *r)
{
    int c = reader_getc(r);
    if (c >= 0)
        r->pos--;
    return c;
}

/* Reads one record. Returns 1, 0 at the end of input (no record), or -1 with *why set. */
static int reader_next(ingest_reader_t *r, ingest_record_t *rec, const char **why)
{
    enum { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE } st = FIELD_START;
    size_t n = 0;
    int c, any = 0;

    rec->nf = 0;
    rec->off[0] = 0;
    for (;;) {
        c = reader_getc(r);
        if (c == -2) {
            *why = "read error";
            return -1;
        }
        if (c == -1) {
            if (!any)
                return 0;
            if (st == QUOTED) {
                *why = "unterminated quoted field";
                return -1;
            }
            c = '\n'; /* last line without a line break */
        }
        any = 1;
        if (c == '\r' && st != QUOTED) {
            if (reader_peek(r) != '\n') {
                *why = "carriage return not followed by a line feed";
                return -1;
            }
            continue;
        }
        if (st == QUOTED) {
            if (c == '"') {
                st = AFTER_QUOTE;
                continue;
            }
            if (c == '\n' || c == '\r') {
                *why = "line break inside a quoted field (not allowed in these formats)";
                return -1;
            }
        } else if (c == ',' || c == '\n') {
            if (rec->nf == INGEST_MAX_FIELDS) {
                *why = "too many fields";
                return -1;
            }
            rec->len[rec->nf] = n - rec->off[rec->nf];
            rec->data[n++] = '\0';
            rec->nf++;
            rec->off[rec->nf] = n;
            if (c == '\n')
                return 1;
            st = FIELD_START;
            continue;
        } else if (c == '"') {
            if (st == FIELD_START) {
                st = QUOTED;
                continue;
            }
            if (st == AFTER_QUOTE) {
                st = QUOTED; /* "" inside quotes is one quote */
            } else {
                *why = "quote character inside an unquoted field";
                return -1;
            }
        } else if (st == AFTER_QUOTE) {
            *why = "text after a closing quote";
            return -1;
        } else {
            st = UNQUOTED;
        }
        if (n >= INGEST_MAX_RECORD) {
            *why = "line longer than 4096 bytes";
            return -1;
        }
        rec->data[n++] = (char)c;
    }
}

/* ---- field validation ---------------------------------------------------------------------------------------------- */

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

/* 8-4-4-4-12 hex digits -> 16 bytes. */
static int parse_uuid(const char *s, size_t len, uint8_t out[16])
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

/* ---- the load ------------------------------------------------------------------------------------------------------ */

typedef struct ingest_ctx ingest_ctx_t;

typedef struct ingest_kind {
    const char *name;
    const char *header;
    const char *copy_sql;
    int nfields;
    int needs_household; /* first field must be a known household */
    /* Validates rec and appends its COPY line at out (room for INGEST_MAX_RECORD + 64 bytes); returns the end, or NULL
     * with *why set. */
    char *(*emit)(ingest_ctx_t *ctx, const ingest_record_t *rec, char *out, const char **why);
} ingest_kind_t;

struct ingest_ctx {
    const ingest_kind_t *kind;
    PGconn *conn;
    char *copy_buf;
    size_t copy_len;
    int in_copy;
    uint64_t segment_first_line; /* file line of COPY line 1 */
    char district_names[16][64];
    int n_districts;
    int district_ids[16];
    uint8_t (*households)[16]; /* sorted */
    size_t n_households;
    uint8_t last_ok[16];
    int have_last_ok;
    uint64_t months_known[2048 / 64]; /* bit per month since 1970-01 (years 1970-2140) */
    char new_month[32];               /* set by emit_energy when a row opens a month not seen before */
    char why_buf[160];
};

static char *put_field(char *out, const ingest_record_t *rec, int i, char end)
{
    memcpy(out, rec->data + rec->off[i], rec->len[i]);
    out += rec->len[i];
    *out++ = end;
    return out;
}

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

/* Sets the reason and returns NULL, for the emit functions. */
static char *reject(const char **why, const char *reason)
{
    *why = reason;
    return NULL;
}

#define F(i) (rec->data + rec->off[i])
#define L(i) (rec->len[i])

static char *emit_households(ingest_ctx_t *ctx, const ingest_record_t *rec, char *out, const char **why)
{
    uint8_t id[16];
    int d = -1;
    if (parse_uuid(F(0), L(0), id) != 0)
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

/* Ends the running COPY (if any); on a PostgreSQL error sets *why and *line. Returns 0 or -1. */
static int copy_finish(ingest_ctx_t *ctx, uint64_t *line, const char **why);
static int copy_start(ingest_ctx_t *ctx, uint64_t first_line, const char **why);

static char *emit_energy(ingest_ctx_t *ctx, const ingest_record_t *rec, char *out, const char **why)
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
    int64_t days = hour / 24;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
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

static char *emit_waste(ingest_ctx_t *ctx, const ingest_record_t *rec, char *out, const char **why)
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

static char *emit_mobility(ingest_ctx_t *ctx, const ingest_record_t *rec, char *out, const char **why)
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

static const ingest_kind_t ingest_kinds[] = {
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

static int copy_start(ingest_ctx_t *ctx, uint64_t first_line, const char **why)
{
    PGresult *res = PQexec(ctx->conn, ctx->kind->copy_sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", PQerrorMessage(ctx->conn));
        *why = ctx->why_buf;
    }
    PQclear(res);
    ctx->in_copy = ok;
    ctx->copy_len = 0;
    ctx->segment_first_line = first_line;
    return ok ? 0 : -1;
}

static int copy_flush(ingest_ctx_t *ctx)
{
    int ok = ctx->copy_len == 0 || PQputCopyData(ctx->conn, ctx->copy_buf, (int)ctx->copy_len) == 1;
    ctx->copy_len = 0;
    return ok ? 0 : -1;
}

/* Turns a PostgreSQL error into a reason and, when its context names a COPY line, the file line. */
static void describe_pg_error(ingest_ctx_t *ctx, const PGresult *res, uint64_t *line, const char **why)
{
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

static int copy_finish(ingest_ctx_t *ctx, uint64_t *line, const char **why)
{
    int sent, described = 0;
    PGresult *res;
    if (!ctx->in_copy)
        return 0;
    ctx->in_copy = 0;
    /* When the server has already rejected a row, sending fails; its error (with the COPY line) is still to be read. */
    sent = copy_flush(ctx) == 0 && PQputCopyEnd(ctx->conn, NULL) == 1;
    while ((res = PQgetResult(ctx->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !described) {
            describe_pg_error(ctx, res, line, why);
            described = 1;
        }
        PQclear(res);
    }
    if (!sent && !described) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", PQerrorMessage(ctx->conn));
        *why = ctx->why_buf;
    }
    return sent && !described ? 0 : -1;
}

static int exec_cmd(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
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
        if (parse_uuid(PQgetvalue(res, (int)i, 0), 36, ctx->households[i]) != 0)
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
static int check_header(ingest_ctx_t *ctx, const ingest_record_t *rec, const char **why)
{
    /* Rebuild the header from the parsed fields and compare it exactly. */
    char hdr[INGEST_MAX_RECORD + INGEST_MAX_FIELDS], *p = hdr;
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
static int check_record(ingest_ctx_t *ctx, const ingest_record_t *rec, uint8_t id[16], const char **why)
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
    if (ctx->kind->needs_household && parse_uuid(rec->data, rec->len[0], id) != 0) {
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

int64_t cli_ingest_check(const char *kind_name, const char *data, size_t len, const char *const *districts, uint64_t *line,
                         const char **why)
{
    static __thread char why_copy[160];
    ingest_reader_t rd = {-1, (char *)data, 0, len, 1, len};
    const ingest_kind_t *kind = kind_named(kind_name);
    ingest_ctx_t *ctx;
    ingest_record_t *rec;
    char *row;
    int64_t rows = -1;
    int r;

    *line = 0;
    *why = NULL;
    if (kind == NULL) {
        *why = "unknown kind";
        return -2;
    }
    ctx = calloc(1, sizeof *ctx);
    rec = malloc(sizeof *rec);
    row = malloc(INGEST_MAX_RECORD + 128);
    if (ctx == NULL || rec == NULL || row == NULL) {
        *why = "out of memory";
        goto out;
    }
    ctx->kind = kind;
    for (int i = 0; districts != NULL && districts[i] != NULL && i < 16; ++i) {
        str_fmt(ctx->district_names[i], sizeof ctx->district_names[i], "%s", districts[i]);
        ctx->district_ids[i] = i + 1;
        ctx->n_districts = i + 1;
    }
    r = reader_next(&rd, rec, why);
    *line = 1;
    if (r == 0)
        *why = "empty file: expected the header line";
    if (r != 1 || check_header(ctx, rec, why) != 0)
        goto out;
    for (rows = 0;;) {
        uint8_t id[16];
        r = reader_next(&rd, rec, why);
        if (r == 0)
            break;
        ++*line;
        if (r < 0 || check_record(ctx, rec, id, why) != 0 || kind->emit(ctx, rec, row, why) == NULL) {
            rows = -1;
            break;
        }
        ++rows;
    }
out:
    if (rows < 0 && *why != NULL && ctx != NULL && *why == ctx->why_buf) {
        /* the reason outlives ctx */
        str_fmt(why_copy, sizeof why_copy, "%s", ctx->why_buf);
        *why = why_copy;
    }
    free(row);
    free(rec);
    free(ctx);
    return rows;
}

/* `klimaspejl ingest KIND FILE`: validates and loads one CSV file in one transaction (see the top of this file).
 * Returns CLI_EXIT_OK, CLI_EXIT_FAIL after printing `FILE:LINE: reason` (or another one-line error), CLI_EXIT_USAGE. */
int cli_ingest_main(int argc, char **argv)
{
    ingest_ctx_t *ctx = NULL;
    ingest_reader_t rd = {-1, NULL, 0, 0, 0, 0};
    ingest_record_t *rec = NULL;
    const char *why = NULL, *path;
    uint64_t line = 0, rows = 0, fail_line = 0, size = 0;
    int rc = CLI_EXIT_FAIL, tty = cli_stderr_is_tty(), began = 0;
    double t0 = time_mono_s(), last_shown = t0;
    const ingest_kind_t *kind = NULL;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(ingest_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc != 3) {
        fprintf(stderr, "klimaspejl ingest: expected KIND and FILE\n%s", ingest_usage);
        return CLI_EXIT_USAGE;
    }
    if ((kind = kind_named(argv[1])) == NULL) {
        fprintf(stderr, "klimaspejl ingest: KIND '%s' is not one of households, energy, waste, mobility\n%s", argv[1],
                ingest_usage);
        return CLI_EXIT_USAGE;
    }
    path = argv[2];

    ctx = calloc(1, sizeof *ctx);
    rec = malloc(sizeof *rec);
    rd.buf = malloc(INGEST_READ_BUF);
    if (ctx == NULL || rec == NULL || rd.buf == NULL || (ctx->copy_buf = malloc(INGEST_COPY_BUF)) == NULL) {
        fputs("klimaspejl ingest: out of memory\n", stderr);
        goto out;
    }
    ctx->kind = kind;
    if (strcmp(path, "-") == 0) {
        rd.fd = STDIN_FILENO;
    } else if ((rd.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "klimaspejl ingest: %s: %s\n", path, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(rd.fd, &st) == 0 && S_ISREG(st.st_mode))
        size = (uint64_t)st.st_size;
    posix_fadvise(rd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    /* The header first: a wrong file fails before touching the database. */
    int r = reader_next(&rd, rec, &why);
    line = 1;
    if (r == 0)
        why = "empty file: expected the header line";
    if (r == 1 && check_header(ctx, rec, &why) != 0)
        r = -1;
    if (r != 1)
        goto bad_row;

    ctx->conn = PQconnectdb(cli_admin_conninfo());
    PQsetNoticeProcessor(ctx->conn, ingest_quiet, NULL);
    if (PQstatus(ctx->conn) != CONNECTION_OK) {
        fprintf(stderr, "klimaspejl ingest: cannot connect: %s", PQerrorMessage(ctx->conn));
        goto out;
    }
    if (exec_cmd(ctx->conn, "BEGIN") != 0) {
        fprintf(stderr, "klimaspejl ingest: %s", PQerrorMessage(ctx->conn));
        goto out;
    }
    began = 1;
    {
        /* The rows' households are checked in C against the ids read below, so a superuser may skip the per-row
         * foreign-key triggers (session_replication_role) — provided households and districts cannot change until
         * commit, which the SHARE lock guarantees. Other roles keep the triggers. */
        const char *su = PQparameterStatus(ctx->conn, "is_superuser");
        if (su != NULL && strcmp(su, "on") == 0 &&
            exec_cmd(ctx->conn, "LOCK TABLE core.districts, core.households IN SHARE MODE;"
                                " SET LOCAL session_replication_role = replica") != 0) {
            fprintf(stderr, "klimaspejl ingest: %s", PQerrorMessage(ctx->conn));
            goto out;
        }
    }
    if (load_reference(ctx, &why) != 0) {
        fprintf(stderr, "klimaspejl ingest: %s\n", why);
        goto out;
    }
    if (copy_start(ctx, 2, &why) != 0)
        goto db_error;

    for (;;) {
        r = reader_next(&rd, rec, &why);
        if (r == 0)
            break;
        ++line;
        if (r < 0)
            goto bad_row;
        uint8_t id[16];
        if (check_record(ctx, rec, id, &why) != 0)
            goto bad_row;
        if (kind->needs_household && !known_household(ctx, id)) {
            why = "household_id: unknown household (load it first with `klimaspejl ingest households`)";
            goto bad_row;
        }
        if (ctx->copy_len > INGEST_COPY_BUF - INGEST_MAX_RECORD - 128 && copy_flush(ctx) != 0) {
            copy_finish(ctx, &fail_line, &why);
            goto db_error;
        }
        ctx->new_month[0] = '\0';
        char *end = kind->emit(ctx, rec, ctx->copy_buf + ctx->copy_len, &why);
        if (end == NULL)
            goto bad_row;
        if (ctx->new_month[0] != '\0') {
            /* A month without a partition: end this COPY, create the partition, send the row in a new COPY. */
            char row[INGEST_MAX_RECORD + 128], sql[160];
            size_t row_len = (size_t)(end - (ctx->copy_buf + ctx->copy_len));
            memcpy(row, ctx->copy_buf + ctx->copy_len, row_len);
            str_fmt(sql, sizeof sql, "SELECT core.ensure_energy_partitions('%s', '%s')", ctx->new_month, ctx->new_month);
            if (copy_finish(ctx, &fail_line, &why) != 0)
                goto db_error;
            if (exec_cmd(ctx->conn, sql) != 0) {
                str_fmt(ctx->why_buf, sizeof ctx->why_buf, "creating a partition: %s", PQerrorMessage(ctx->conn));
                why = ctx->why_buf;
                goto bad_row;
            }
            if (copy_start(ctx, line, &why) != 0)
                goto db_error;
            memcpy(ctx->copy_buf, row, row_len);
            end = ctx->copy_buf + row_len;
        }
        ctx->copy_len = (size_t)(end - ctx->copy_buf);
        ++rows;
        if (tty && (rows & 0xffff) == 0 && time_mono_s() - last_shown > 0.25) {
            last_shown = time_mono_s();
            ingest_progress(rows, t0, rd.bytes, size);
        }
    }
    if (copy_finish(ctx, &fail_line, &why) != 0)
        goto db_error;
    if (exec_cmd(ctx->conn, "COMMIT") != 0) {
        str_fmt(ctx->why_buf, sizeof ctx->why_buf, "%s", PQerrorMessage(ctx->conn));
        why = ctx->why_buf;
        goto db_error;
    }
    began = 0;
    double secs = time_mono_s() - t0;
    if (tty)
        fputc('\n', stderr);
    printf("ingest %s: %llu rows from %s in %.1f s (%.2f M rows/s)\n", kind->name, (unsigned long long)rows, path, secs,
           secs > 0 ? rows / secs / 1e6 : 0.0);
    rc = CLI_EXIT_OK;
    goto out;

db_error:
    if (tty)
        fputc('\n', stderr);
    if (fail_line > 0)
        fprintf(stderr, "%s:%llu: %s\n", path, (unsigned long long)fail_line, why != NULL ? why : "rejected");
    else
        fprintf(stderr, "%s: %s\n", path, why != NULL ? why : PQerrorMessage(ctx->conn));
    goto out;
bad_row:
    if (tty && rows > 0)
        fputc('\n', stderr);
    fprintf(stderr, "%s:%llu: %s\n", path, (unsigned long long)line, why != NULL ? why : "rejected");
out:
    if (ctx != NULL && ctx->conn != NULL) {
        if (ctx->in_copy) {
            PQputCopyEnd(ctx->conn, "ingest aborted");
            PGresult *res;
            while ((res = PQgetResult(ctx->conn)) != NULL)
                PQclear(res);
        }
        if (began)
            exec_cmd(ctx->conn, "ROLLBACK");
        PQfinish(ctx->conn);
    }
    if (rd.fd > STDIN_FILENO)
        close(rd.fd);
    if (ctx != NULL) {
        free(ctx->copy_buf);
        free(ctx->households);
    }
    free(ctx);
    free(rec);
    free(rd.buf);
    return rc;
}
