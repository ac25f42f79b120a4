/*
 * cli/source — staging the native formats of Energi Data Service and Eloverblik (see cli/source.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/source.h"
#include "core/strutil.h"
#include "core/time.h"

#define SOURCE_COPY_BUF (256 * 1024)
#define SOURCE_LINE_MAX 640

/* The staging tables; core.eds_load and core.eloverblik_load run as klima_owner and read them. */
static const char *const stage_sql[][2] = {
    {"eds", "CREATE TEMP TABLE eds_stage (ord bigint, path text, area text, minute5_utc timestamptz, minute5_dk timestamp,"
            " g_per_kwh numeric) ON COMMIT DROP; GRANT SELECT ON eds_stage TO klima_owner;"
            " COPY eds_stage (ord, path, area, minute5_utc, minute5_dk, g_per_kwh) FROM STDIN"},
    {"eloverblik", "CREATE TEMP TABLE elo_stage (ord bigint, path text, metering_point text, start_utc timestamptz,"
                   " resolution text, wh bigint, quality text) ON COMMIT DROP; GRANT SELECT ON elo_stage TO klima_owner;"
                   " COPY elo_stage (ord, path, metering_point, start_utc, resolution, wh, quality) FROM STDIN"},
};

/* The path of field in the record at path: "$.records[3].PriceArea" in JSON, "line 4, PriceArea" in CSV. */
static void field_path(char *out, size_t outlen, const char *path, const char *field)
{
    str_fmt(out, outlen, "%s%s%s", path, path[0] == '$' || strstr(path, ": $") != NULL ? "." : ", ", field);
}

static int fail(cli_source_load_t *l, const char *path, const char *why)
{
    str_fmt(l->path, sizeof l->path, "%s", path);
    str_fmt(l->why, sizeof l->why, "%s", why);
    return -1;
}

int cli_source_begin(cli_source_load_t *l, const char *kind)
{
    const char *sql = NULL;

    for (size_t i = 0; i < sizeof stage_sql / sizeof stage_sql[0]; ++i)
        if (strcmp(stage_sql[i][0], kind) == 0)
            sql = stage_sql[i][1];
    l->conn = PQconnectdb(cli_admin_conninfo());
    if (PQstatus(l->conn) != CONNECTION_OK)
        return fail(l, "", PQerrorMessage(l->conn));
    if (cli_bulk_init(&l->bulk, l->conn, SOURCE_COPY_BUF) != 0)
        return fail(l, "", "out of memory");
    /* The staging table's COPY text is the session's: make its time stamps and numbers unambiguous. */
    if (cli_bulk_exec(l->conn, "BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL client_min_messages = warning") != 0)
        return fail(l, "", PQerrorMessage(l->conn));
    if (sql == NULL || cli_bulk_begin(&l->bulk, sql) != 0)
        return fail(l, "", sql == NULL ? "unknown source" : l->bulk.error);
    return 0;
}

static void on_copy_error(void *ctx, const PGresult *res)
{
    cli_source_load_t *l = ctx;
    fail(l, "", res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(l->conn));
}

int cli_source_finish(cli_source_load_t *l, const char *sql, int nparams, const char *const *params, char *out, size_t outlen)
{
    PGresult *res;
    int rc = -1;

    if (cli_bulk_end(&l->bulk, on_copy_error, l) != 0)
        return -1;
    res = PQexecParams(l->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        fail(l, detail != NULL ? detail : "", msg != NULL ? msg : PQerrorMessage(l->conn));
        goto out;
    }
    out[0] = '\0';
    for (int i = 0; PQntuples(res) > 0 && i < PQnfields(res); ++i) {
        size_t n = strlen(out);
        str_fmt(out + n, outlen - n, "%s%s", i > 0 ? "\t" : "", PQgetvalue(res, 0, i));
    }
    if (cli_bulk_exec(l->conn, "COMMIT") != 0) {
        fail(l, "", PQerrorMessage(l->conn));
        goto out;
    }
    l->committed = 1;
    rc = 0;
out:
    PQclear(res);
    return rc;
}

void cli_source_end(cli_source_load_t *l)
{
    if (l->conn != NULL) {
        cli_bulk_abort(&l->bulk);
        if (!l->committed)
            cli_bulk_exec(l->conn, "ROLLBACK");
        PQfinish(l->conn);
        l->conn = NULL;
    }
    cli_bulk_free(&l->bulk);
}

/* ---- time stamps and numbers --------------------------------------------------------------------------------------- */

enum { ZONE_NONE, ZONE_Z, ZONE_OPTIONAL };

/* YYYY-MM-DD[T ]HH:MM[:SS[.000…]] followed by 'Z' as zone demands. Sets minutes since the epoch; seconds must be 0.
 * Returns 0 or -1. */
static int parse_minute(const char *s, size_t len, int zone, int64_t *minutes)
{
    int64_t days;
    uint64_t hh, mm, ss = 0;
    size_t p = 16;

    if (len > 0 && (s[len - 1] == 'Z' || s[len - 1] == 'z')) {
        if (zone == ZONE_NONE)
            return -1;
        --len;
    } else if (zone == ZONE_Z) {
        return -1;
    }
    if (len < 16 || time_date_parse(s, 10, 1970, &days) != 0 || (s[10] != 'T' && s[10] != ' ') ||
        str_to_uint(s + 11, 2, 0, 23, &hh) != 0 || s[13] != ':' || str_to_uint(s + 14, 2, 0, 59, &mm) != 0)
        return -1;
    if (p < len) {
        if (s[p] != ':' || p + 3 > len || str_to_uint(s + p + 1, 2, 0, 59, &ss) != 0)
            return -1;
        p += 3;
        if (p < len && s[p] == '.')
            for (++p; p < len && s[p] == '0'; ++p)
                ;
    }
    if (p != len || ss != 0)
        return -1;
    *minutes = (days * 24 + (int64_t)hh) * 60 + (int64_t)mm;
    return 0;
}

/* "YYYY-MM-DD HH:MM:00" of minutes since the epoch. */
static void format_minute(int64_t minutes, char out[20])
{
    int y, m, d;
    int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
    int64_t rest = minutes - days * 1440;
    time_civil_from_days(days, &y, &m, &d);
    str_fmt(out, 20, "%04d-%02d-%02d %02d:%02d:00", y, m, d, (int)(rest / 60), (int)(rest % 60));
}

/* A plain non-negative decimal (digits, at most one separator sep followed by at most maxdec digits) into out with a
 * '.' separator. Returns 0 or -1. */
static int parse_decimal(const char *s, size_t len, char sep, int maxdec, char *out, size_t outlen)
{
    size_t i = 0, dot = len;
    if (len == 0 || len >= outlen)
        return -1;
    for (; i < len; ++i) {
        if (s[i] == sep && dot == len && i > 0 && i + 1 < len)
            dot = i;
        else if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    if (dot != len && (int)(len - dot - 1) > maxdec)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    if (dot != len)
        out[dot] = '.';
    return 0;
}

/* ---- Energi Data Service --------------------------------------------------------------------------------------------- */

const char *cli_eds_dataset_named(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strncmp(name, "CO2EmisProg", 11) == 0)
        return "CO2EmisProg";
    if (strncmp(name, "CO2Emis", 7) == 0)
        return "CO2Emis";
    return NULL;
}

/* One point, checked: utc and dk (dk may be NULL) time stamps, area, value text (decimal separator sep). Stages it.
 * path names the record; field paths are path + "." + the column. */
static int eds_point(cli_source_load_t *l, const char *path, const char *utc, size_t utc_len, const char *dk, size_t dk_len,
                     const char *area, size_t area_len, const char *value, size_t value_len, char sep)
{
    char fp[320], u[20], k[20], v[40], *row;
    int64_t mu, md = 0;

    if (parse_minute(utc, utc_len, ZONE_OPTIONAL, &mu) != 0 || mu % 5 != 0) {
        field_path(fp, sizeof fp, path, "Minutes5UTC");
        return fail(l, fp, "expected the start of a 5-minute interval in UTC like 2025-01-01T00:05:00");
    }
    if (dk != NULL && parse_minute(dk, dk_len, ZONE_NONE, &md) != 0) {
        field_path(fp, sizeof fp, path, "Minutes5DK");
        return fail(l, fp, "expected a Copenhagen local time like 2025-01-01T01:05:00 (no zone)");
    }
    if (!(area_len == 3 && (memcmp(area, "DK1", 3) == 0 || memcmp(area, "DK2", 3) == 0))) {
        field_path(fp, sizeof fp, path, "PriceArea");
        return fail(l, fp, "expected DK1 or DK2");
    }
    if (parse_decimal(value, value_len, sep, 6, v, sizeof v) != 0) {
        field_path(fp, sizeof fp, path, "CO2Emission");
        return fail(l, fp, "expected a number of g CO2/kWh, 0 or more");
    }
    format_minute(mu, u);
    if (dk != NULL)
        format_minute(md, k);
    if ((row = cli_bulk_room(&l->bulk, SOURCE_LINE_MAX)) == NULL)
        return fail(l, path, l->bulk.error);
    int n = snprintf(row, SOURCE_LINE_MAX, "%llu\t%s\t%.3s\t%s+00\t%s\t%s\n", (unsigned long long)++l->ord, path, area, u,
                     dk != NULL ? k : "\\N", v);
    if (n < 0 || n >= SOURCE_LINE_MAX)
        return fail(l, path, "record too long");
    l->bulk.len += (size_t)n;
    return 0;
}

/* The text of a JSON string member, or NULL. */
static const char *member_text(json_t *o, const char *key, size_t *len)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

int cli_eds_stage_json(cli_source_load_t *l, json_t *doc, const char *prefix, size_t *records)
{
    json_t *recs = json_object_get(doc, "records"), *r;
    char path[128], fp[160], num[40];
    size_t i;

    *records = 0;
    str_fmt(path, sizeof path, "%s$.records", prefix);
    if (!json_is_array(recs))
        return fail(l, path, "expected an array of records");
    json_array_foreach(recs, i, r)
    {
        size_t ul = 0, dl = 0, al = 0;
        const char *u, *d, *a;
        json_t *v;
        str_fmt(path, sizeof path, "%s$.records[%zu]", prefix, i);
        if (!json_is_object(r))
            return fail(l, path, "expected an object");
        u = member_text(r, "Minutes5UTC", &ul);
        d = member_text(r, "Minutes5DK", &dl);
        a = member_text(r, "PriceArea", &al);
        v = json_object_get(r, "CO2Emission");
        if (json_is_null(v) || v == NULL)
            continue; /* no value for this point: a gap (see sql/README.md) */
        if (u == NULL || a == NULL) {
            field_path(fp, sizeof fp, path, u == NULL ? "Minutes5UTC" : "PriceArea");
            return fail(l, fp, "missing or not a string");
        }
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            str_fmt(num, sizeof num, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v) && isfinite(json_real_value(v)) && json_real_value(v) >= 0 && json_real_value(v) < 1e7) {
            str_fmt(num, sizeof num, "%.6f", json_real_value(v));
        } else {
            field_path(fp, sizeof fp, path, "CO2Emission");
            return fail(l, fp, "expected a number of g CO2/kWh, 0 or more");
        }
        if (eds_point(l, path, u, ul, d, d != NULL ? dl : 0, a, al, num, strlen(num), '.') != 0)
            return -1;
        ++*records;
    }
    return 0;
}

int cli_eds_stage_csv(cli_source_load_t *l, const char *data, size_t len, size_t *records)
{
    static const char *const cols[] = {"Minutes5UTC", "Minutes5DK", "PriceArea", "CO2Emission"};
    cli_csv_t rd;
    cli_csv_record_t *rec = malloc(sizeof *rec);
    const char *why = NULL;
    char path[64];
    const char *nl = memchr(data, '\n', len);
    char sep = '.';
    int r, rc = -1;
    uint64_t line = 1;

    *records = 0;
    if (rec == NULL)
        return fail(l, "", "out of memory");
    cli_csv_memory(&rd, data, len);
    /* The Danish download separates fields with ';' and decimals with ','. */
    if (memchr(data, ';', nl != NULL ? (size_t)(nl - data) : len) != NULL) {
        rd.delim = ';';
        sep = ',';
    }
    if ((r = cli_csv_next(&rd, rec, &why)) != 1 || rec->nf != 4) {
        fail(l, "line 1", r < 0 ? why : "expected the header Minutes5UTC,Minutes5DK,PriceArea,CO2Emission");
        goto out;
    }
    for (int i = 0; i < 4; ++i) {
        const char *h = rec->data + rec->off[i];
        if (i == 0 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
            h += 3;
        if (strcmp(h, cols[i]) != 0) {
            fail(l, "line 1", "expected the header Minutes5UTC,Minutes5DK,PriceArea,CO2Emission (or with ';')");
            goto out;
        }
    }
    while ((r = cli_csv_next(&rd, rec, &why)) != 0) {
        str_fmt(path, sizeof path, "line %llu", (unsigned long long)++line);
        if (r < 0 || rec->nf != 4) {
            fail(l, path, r < 0 ? why : "expected 4 fields");
            goto out;
        }
        if (rec->len[3] == 0)
            continue; /* no value: a gap */
        if (eds_point(l, path, rec->data + rec->off[0], rec->len[0], rec->len[1] > 0 ? rec->data + rec->off[1] : NULL, rec->len[1],
                      rec->data + rec->off[2], rec->len[2], rec->data + rec->off[3], rec->len[3], sep) != 0)
            goto out;
        ++*records;
    }
    rc = 0;
out:
    free(rec);
    return rc;
}

/* ---- Eloverblik ------------------------------------------------------------------------------------------------------ */

/* A quantity of kWh as a string ("0.734", at most 3 decimals) in Wh. Returns 0 or -1. */
static int parse_kwh(const char *s, size_t len, int64_t *wh)
{
    char v[32];
    const char *dot;
    uint64_t whole, frac = 0;
    size_t fl = 0;

    if (s == NULL || parse_decimal(s, len, '.', 3, v, sizeof v) != 0)
        return -1;
    dot = strchr(v, '.');
    if (str_to_uint(v, dot != NULL ? (size_t)(dot - v) : strlen(v), 0, 1000000, &whole) != 0)
        return -1;
    if (dot != NULL) {
        fl = strlen(dot + 1);
        if (str_to_uint(dot + 1, fl, 0, 999, &frac) != 0)
            return -1;
        for (; fl < 3; ++fl)
            frac *= 10;
    }
    *wh = (int64_t)(whole * 1000 + frac);
    return 0;
}

/* One Period of a TimeSeries: its points staged with their UTC start. */
static int elo_period(cli_source_load_t *l, const char *mrid, json_t *period, const char *ppath)
{
    char path[256], fp[320], start[20];
    json_t *ti = json_object_get(period, "timeInterval"), *points = json_object_get(period, "Point"), *pt;
    size_t rl = 0, sl = 0, el = 0, i;
    const char *res = member_text(period, "resolution", &rl);
    const char *s = json_is_object(ti) ? member_text(ti, "start", &sl) : NULL;
    const char *e = json_is_object(ti) ? member_text(ti, "end", &el) : NULL;
    int64_t t0, t1, step;

    if (res != NULL && strcmp(res, "PT1H") == 0) {
        step = 60;
    } else if (res != NULL && strcmp(res, "PT15M") == 0) {
        step = 15;
    } else {
        str_fmt(fp, sizeof fp, "%s.resolution", ppath);
        return fail(l, fp, "expected PT1H or PT15M");
    }
    if (s == NULL || e == NULL || parse_minute(s, sl, ZONE_Z, &t0) != 0 || parse_minute(e, el, ZONE_Z, &t1) != 0 || t1 <= t0 ||
        (t1 - t0) % step != 0) {
        str_fmt(fp, sizeof fp, "%s.timeInterval", ppath);
        return fail(l, fp, "expected start and end in UTC like 2025-01-01T23:00:00Z, a whole number of periods apart");
    }
    if (!json_is_array(points)) {
        str_fmt(fp, sizeof fp, "%s.Point", ppath);
        return fail(l, fp, "expected an array of points");
    }
    json_array_foreach(points, i, pt)
    {
        size_t pl = 0, ql = 0, kl = 0;
        const char *pos = member_text(pt, "position", &pl), *q = member_text(pt, "out_Quantity.quantity", &ql);
        const char *k = member_text(pt, "out_Quantity.quality", &kl);
        uint64_t p;
        int64_t wh;
        char *row;
        str_fmt(path, sizeof path, "%s.Point[%zu]", ppath, i);
        if (pos == NULL || str_to_uint(pos, pl, 1, (uint64_t)((t1 - t0) / step), &p) != 0) {
            field_path(fp, sizeof fp, path, "position");
            return fail(l, fp, "expected a position from 1 to the number of periods in timeInterval, as a string");
        }
        if (parse_kwh(q, ql, &wh) != 0) {
            str_fmt(fp, sizeof fp, "%s.out_Quantity.quantity", path);
            return fail(l, fp, "expected kWh as a decimal string like \"0.734\" (at most 3 decimals)");
        }
        if (k == NULL || kl != 3 || k[0] != 'A' || k[1] < '0' || k[1] > '9' || k[2] < '0' || k[2] > '9') {
            str_fmt(fp, sizeof fp, "%s.out_Quantity.quality", path);
            return fail(l, fp, "expected a quality code like A04");
        }
        format_minute(t0 + ((int64_t)p - 1) * step, start);
        if ((row = cli_bulk_room(&l->bulk, SOURCE_LINE_MAX)) == NULL)
            return fail(l, path, l->bulk.error);
        int n = snprintf(row, SOURCE_LINE_MAX, "%llu\t%s\t%s\t%s+00\t%s\t%lld\t%.3s\n", (unsigned long long)++l->ord, path, mrid,
                         start, res, (long long)wh, k);
        if (n < 0 || n >= SOURCE_LINE_MAX)
            return fail(l, path, "record too long");
        l->bulk.len += (size_t)n;
    }
    return 0;
}

int cli_eloverblik_stage_json(cli_source_load_t *l, json_t *doc, size_t *points)
{
    json_t *result = json_object_get(doc, "result"), *item, *ts, *period;
    char path[256], fp[320];
    size_t i, j, k;

    if (!json_is_array(result))
        return fail(l, "$.result", "expected an array (Eloverblik's MyEnergyData answer)");
    json_array_foreach(result, i, item)
    {
        json_t *md = json_object_get(item, "MyEnergyData_MarketDocument"), *series;
        str_fmt(path, sizeof path, "$.result[%zu]", i);
        if (json_is_false(json_object_get(item, "success"))) {
            field_path(fp, sizeof fp, path, "success");
            return fail(l, fp, "the answer reports a failure (see its errorCode and errorText)");
        }
        series = json_object_get(md, "TimeSeries");
        if (!json_is_array(series)) {
            str_fmt(fp, sizeof fp, "%s.MyEnergyData_MarketDocument.TimeSeries", path);
            return fail(l, fp, "expected an array of time series");
        }
        json_array_foreach(series, j, ts)
        {
            size_t ml = 0, ul = 0;
            const char *mrid = member_text(ts, "mRID", &ml), *unit = member_text(ts, "measurement_Unit.name", &ul);
            char tpath[256];
            str_fmt(tpath, sizeof tpath, "%s.MyEnergyData_MarketDocument.TimeSeries[%zu]", path, j);
            if (mrid == NULL || ml < 6 || ml > 32 || !str_is_word(mrid, ml, "")) {
                str_fmt(fp, sizeof fp, "%s.mRID", tpath);
                return fail(l, fp, "expected the metering point id (GSRN, 18 digits)");
            }
            if (unit == NULL || strcmp(unit, "KWH") != 0) {
                str_fmt(fp, sizeof fp, "%s.measurement_Unit.name", tpath);
                return fail(l, fp, "expected KWH");
            }
            json_array_foreach(json_object_get(ts, "Period"), k, period)
            {
                char ppath[256];
                str_fmt(ppath, sizeof ppath, "%s.Period[%zu]", tpath, k);
                if (elo_period(l, mrid, period, ppath) != 0)
                    return -1;
            }
        }
    }
    *points = (size_t)l->ord;
    return 0;
}
