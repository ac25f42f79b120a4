/*
 * citizen/me — personal routes.
 */
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/catalog.h"
#include "app/db.h"
#include "app/route.h"
#include "app/stream.h"
#include "citizen/me.h"
#include "citizen/tips.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

/* Personal data: the route's Cache-Control (never a shared cache), and the answer depends on the token and language. */
static void personal_headers(h2o_req_t *req, const app_route_t *route)
{
    app_cache_control(req, route, NULL);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Authorization, Accept-Language"));
}

/* The last whole month, Copenhagen time (approximated in UTC: summaries are per local month either way), as YYYY-MM in
 * the request's pool. */
static const char *last_whole_month(h2o_req_t *req)
{
    time_t now = time(NULL) - 86400 * 3;
    struct tm tm;
    char *buf = h2o_mem_alloc_pool(&req->pool, 8);
    gmtime_r(&now, &tm);
    int months = (tm.tm_year + 1900) * 12 + tm.tm_mon - 1; /* the month before this one, counted from year 0 */
    str_fmt(buf, 8, "%04d-%02d", months / 12, months % 12 + 1);
    return buf;
}

/* Tells whether s is a month YYYY-MM. */
static int valid_month(const char *s)
{
    char day[11];
    str_fmt(day, sizeof(day), "%.7s-01", s);
    return strlen(s) == 7 && time_date_parse(day, 10, 1, NULL) == 0;
}

/* --- /v1/me/summary ---------------------------------------------------------------------------------------------------- */

typedef struct summary_state {
    const app_route_t *route;
    const char *month; /* YYYY-MM */
    const char *lang;
} summary_state_t;

static void on_summary(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    summary_state_t *st = data;
    json_t *s;
    if (!app_db_ok_or_reply(req, status, res, APP_DB_INPUT))
        return;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        http_problem_sendf(req, HTTP_PROBLEM_NOT_FOUND, "month",
                           st->lang[0] == 'd' ? "Der er ingen data for jeres husstand i %s (endnu). Vælg en anden måned."
                                              : "There is no data for your household in %s (yet). Choose another month.",
                           st->month);
        return;
    }
    if ((s = json_loadb(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 0, NULL)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The summary could not be read.", NULL);
        return;
    }
    citizen_tips_add(s, st->lang);
    personal_headers(req, st->route);
    http_send_json(req, 200, s);
}

static void summary_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    summary_state_t *st = data;
    char *first_day = h2o_mem_alloc_pool(&req->pool, 11);
    str_fmt(first_day, 11, "%.7s-01", st->month);
    const char *params[2] = {who->consent, first_day}; /* the function resolves and checks the household itself */
    app_db_read(req, "SELECT api.me_summary($1::uuid, $2::date)::text", 2, params, on_summary, st);
}

int citizen_me_summary(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"month", "lang"};
    const char *v[2], *month, *lang;
    summary_state_t *st;

    if (http_query_take_or_reply(req, names, v, 2) != 0)
        return 0;
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    month = v[0];
    lang = v[1];
    if (lang != NULL && strcmp(lang, "da") != 0 && strcmp(lang, "en") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'lang' must be da or en.", "lang");
        return 0;
    }
    st->lang = lang != NULL ? lang : http_request_lang(req);
    if (month == NULL) {
        month = last_whole_month(req);
    } else if (!valid_month(month)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'month' must be YYYY-MM, e.g. 2025-03.", "month");
        return 0;
    }
    st->month = month;
    app_auth_require(req, m, summary_authorized, st);
    return 0;
}

/* --- /v1/me/history --------------------------------------------------------------------------------------------------- */

typedef struct history_state {
    const app_route_t *route;
    const char *from, *to; /* YYYY-MM-01 */
} history_state_t;

/* duplicate: the one-row JSON answer of a database function, as opendata/grid.c's forecast (audiences never include each
 * other; the headers around it differ: personal here, cacheable there). */
static void on_history(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    history_state_t *st = data;
    if (!app_db_ok_or_reply(req, status, res, APP_DB_INPUT))
        return;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The history could not be read.", NULL);
        return;
    }
    personal_headers(req, st->route);
    req->compress_hint = H2O_COMPRESS_HINT_ENABLE;
    http_send_bytes(req, 200, "application/json", PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void history_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    history_state_t *st = data;
    const char *params[3] = {who->consent, st->from, st->to}; /* the function resolves and checks the household itself */
    app_db_read(req, "SELECT api.me_history($1::uuid, $2::date, $3::date)::text", 3, params, on_history, st);
}

int citizen_me_history(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"from", "to"};
    const char *v[2], *to;
    char *from_day, *to_day;
    history_state_t *st;

    if (http_query_take_or_reply(req, names, v, 2) != 0)
        return 0;
    for (int i = 0; i < 2; ++i) {
        if (v[i] != NULL && !valid_month(v[i])) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, names[i], "'%s' must be a month YYYY-MM, e.g. 2025-03.",
                               names[i]);
            return 0;
        }
    }
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    to = v[1] != NULL ? v[1] : last_whole_month(req);
    from_day = h2o_mem_alloc_pool(&req->pool, 11);
    to_day = h2o_mem_alloc_pool(&req->pool, 11);
    if (v[0] == NULL) {
        /* the 12 months ending with `to` */
        int months = (int)strtol(to, NULL, 10) * 12 + (int)strtol(to + 5, NULL, 10) - 1 - 11;
        str_fmt(from_day, 11, "%04d-%02d-01", months / 12, months % 12 + 1);
    } else {
        str_fmt(from_day, 11, "%.7s-01", v[0]);
    }
    str_fmt(to_day, 11, "%.7s-01", to);
    st->from = from_day;
    st->to = to_day;
    app_auth_require(req, m, history_authorized, st);
    return 0;
}

/* --- /v1/me/energy|waste|mobility -------------------------------------------------------------------------------------- */

typedef struct series_state {
    const app_route_t *route;
    const char *kind;
    const char *from, *to, *resolution, *tz;
    int csv;
} series_state_t;

/* Appends a result value as JSON by its PostgreSQL type. */
static void pg_json_value(sbuf_t *b, const PGresult *res, int r, int c)
{
    const char *v;
    if (PQgetisnull(res, r, c)) {
        sbuf_puts(b, "null");
        return;
    }
    v = PQgetvalue(res, r, c);
    switch (PQftype(res, c)) {
    case 20:   /* int8 */
    case 21:   /* int2 */
    case 23:   /* int4 */
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        if (v[0] == 'N' || v[0] == 'I' || (v[0] == '-' && v[1] == 'I'))
            sbuf_puts(b, "null");
        else
            sbuf_puts(b, v);
        return;
    case 16: /* bool */
        sbuf_puts(b, v[0] == 't' ? "true" : "false");
        return;
    case 1184:   /* timestamptz "YYYY-MM-DD HH:MM:SS+00" */
    case 1114: { /* timestamp */
        char tmp[48];
        str_fmt(tmp, sizeof(tmp), "%s", v);
        size_t n = strlen(tmp);
        if (n > 10 && tmp[10] == ' ')
            tmp[10] = 'T';
        if (n > 3 && strcmp(tmp + n - 3, "+00") == 0)
            memcpy(tmp + n - 3, "Z", 2);
        sbuf_putc(b, '"');
        sbuf_puts(b, tmp);
        sbuf_putc(b, '"');
        return;
    }
    default:
        sbuf_putc(b, '"');
        sbuf_json_escape(b, v, strlen(v));
        sbuf_putc(b, '"');
    }
}

static void on_series(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    series_state_t *st = data;
    sbuf_t b = SBUF_INIT(SBUF_CAP_BODY);
    int rows, cols;

    if (!app_db_ok_or_reply(req, status, res, APP_DB_INPUT))
        return;
    rows = PQntuples(res);
    cols = PQnfields(res);
    if (st->csv) {
        for (int c = 0; c < cols; ++c)
            sbuf_printf(&b, "%s%s", c ? "," : "", PQfname(res, c));
        sbuf_puts(&b, "\r\n");
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                if (c)
                    sbuf_putc(&b, ',');
                if (!PQgetisnull(res, r, c)) {
                    sbuf_t one = SBUF_INIT(SBUF_CAP_VALUE);
                    pg_json_value(&one, res, r, c);
                    /* strip JSON quotes from the scalar, then quote for CSV as needed */
                    const char *v = one.data;
                    size_t len = one.len;
                    if (len >= 2 && v[0] == '"') {
                        ++v;
                        len -= 2;
                    }
                    sbuf_csv_field(&b, v, len, ',');
                    sbuf_free(&one);
                }
            }
            sbuf_puts(&b, "\r\n");
        }
    } else {
        sbuf_printf(&b, "{\"kind\":\"%s\",\"resolution\":\"%s\",\"tz\":\"", st->kind, st->resolution);
        sbuf_json_escape(&b, st->tz, strlen(st->tz));
        sbuf_puts(&b, "\",\"from\":\"");
        sbuf_json_escape(&b, st->from, strlen(st->from));
        sbuf_puts(&b, "\",\"to\":\"");
        sbuf_json_escape(&b, st->to, strlen(st->to));
        sbuf_printf(&b, "\",\"count\":%d,\"rows\":[", rows);
        for (int r = 0; r < rows; ++r) {
            sbuf_puts(&b, r ? ",{" : "{");
            for (int c = 0; c < cols; ++c) {
                sbuf_printf(&b, "%s\"%s\":", c ? "," : "", PQfname(res, c));
                pg_json_value(&b, res, r, c);
            }
            sbuf_putc(&b, '}');
        }
        sbuf_puts(&b, "]}");
    }
    if (sbuf_failed(&b)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be assembled (out of memory).", NULL);
    } else {
        personal_headers(req, st->route);
        req->compress_hint = H2O_COMPRESS_HINT_ENABLE;
        http_send_bytes(req, 200, st->csv ? "text/csv; charset=utf-8; header=present" : "application/json", b.data, b.len);
    }
    sbuf_free(&b);
}

static void series_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    series_state_t *st = data;
    char sql[640];
    /* a bare date means the start of that day in tz (a local day), a time with an offset means that instant */
    str_fmt(sql, sizeof(sql),
            "SELECT * FROM api.me_%s($1::uuid, CASE WHEN length($2::text) = 10 THEN $2::text::date::timestamp AT TIME ZONE "
            "$5::text ELSE $2::text::timestamptz END, CASE WHEN length($3::text) = 10 THEN $3::text::date::timestamp AT TIME "
            "ZONE $5::text ELSE $3::text::timestamptz END, $4::text, $5::text)",
            st->kind);
    const char *params[5] = {who->consent, st->from, st->to, st->resolution, st->tz};
    app_db_read(req, sql, 5, params, on_series, st);
}

/* A bare date is midnight in tz, which C does not resolve: it lies between 14 h before and 12 h after UTC midnight. */
#define TZ_EAST_S (14 * 3600)
#define TZ_WEST_S (12 * 3600)

/* from/to/resolution/tz checked here as api.me_<kind> (rollup.check_span) would check them, so that PostgreSQL never
 * sees a value it refuses: to after from, at most 2 years apart. Two bare dates compare as dates (the same tz); where
 * a bare date meets a time, the check allows for any offset a time zone can have, so it may refuse a range within a
 * day of the limits that the database would have taken. Sends 400 naming the parameter and returns -1, or 0. */
static int span_or_reply(h2o_req_t *req, const series_state_t *st, const char *const *allowed)
{
    int64_t f, t, f_lo, f_hi, t_lo, t_hi;
    int fk, tk, ok = 0;

    for (const char *const *a = allowed; *a != NULL; ++a)
        ok |= strcmp(*a, st->resolution) == 0;
    if (!ok) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, "resolution", "'resolution' must be one of: %s%s%s%s%s.",
                           allowed[0], allowed[1] != NULL ? ", " : "", allowed[1] != NULL ? allowed[1] : "",
                           allowed[1] != NULL && allowed[2] != NULL ? ", " : "",
                           allowed[1] != NULL && allowed[2] != NULL ? allowed[2] : "");
        return -1;
    }
    if (app_catalog_tz_or_reply(req, "tz", st->tz) != 0)
        return -1;
    if (time_datetime_seconds(st->from, &f, &fk) != 0 || time_datetime_seconds(st->to, &t, &tk) != 0)
        return -1; /* checked before */
    f_lo = fk == TIME_BARE_DATE ? f - TZ_EAST_S : f;
    f_hi = fk == TIME_BARE_DATE ? f + TZ_WEST_S : f;
    t_lo = tk == TIME_BARE_DATE ? t - TZ_EAST_S : t;
    t_hi = tk == TIME_BARE_DATE ? t + TZ_WEST_S : t;
    if (fk == TIME_BARE_DATE && tk == TIME_BARE_DATE) {
        f_lo = f_hi = f;
        t_lo = t_hi = t;
    }
    if (t_lo <= f_hi) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'to' must be after 'from'.", "to");
        return -1;
    }
    if (t_hi > time_add_years(f_lo, 2)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'from' and 'to' may be at most 2 years apart.", "to");
        return -1;
    }
    return 0;
}

static int series(h2o_req_t *req, const http_match_t *m, const char *kind, const char *default_resolution)
{
    static const char *const names[] = {"from", "to", "resolution", "tz", "format"};
    const char *v[5], *format;
    series_state_t *st;

    if (http_query_take_or_reply(req, names, v, 5) != 0)
        return 0;
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    st->kind = kind;
    st->from = v[0];
    st->to = v[1];
    st->resolution = v[2];
    st->tz = v[3];
    format = v[4];
    if (st->resolution == NULL)
        st->resolution = default_resolution;
    if (st->tz == NULL)
        st->tz = "Europe/Copenhagen";
    for (int i = 0; i < 2; ++i) {
        if (v[i] == NULL || !time_valid_datetime(v[i], 0)) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, names[i],
                               "'%s' is required: a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] with Z or an offset.",
                               names[i]);
            return 0;
        }
    }
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'format' must be json or csv.", "format");
        return 0;
    }
    st->csv = format != NULL && strcmp(format, "csv") == 0;
    {
        static const char *const hourly[] = {"hour", "day", "month", NULL}, *const daily[] = {"day", "month", NULL};
        if (span_or_reply(req, st, strcmp(kind, "energy") == 0 ? hourly : daily) != 0)
            return 0;
    }
    app_auth_require(req, m, series_authorized, st);
    return 0;
}

int citizen_me_energy(h2o_req_t *req, const http_match_t *m)
{
    return series(req, m, "energy", "hour");
}

int citizen_me_waste(h2o_req_t *req, const http_match_t *m)
{
    return series(req, m, "waste", "day");
}

int citizen_me_mobility(h2o_req_t *req, const http_match_t *m)
{
    return series(req, m, "mobility", "day");
}

/* --- /v1/me/export ----------------------------------------------------------------------------------------------------- */

/* The CSV export's kinds: one file per kind, the columns of its api.me_export_<kind> function with times in ISO 8601
 * (UTC with Z, local Copenhagen time without an offset), as the open-data downloads write them. */
static const struct {
    const char *kind, *sql;
} export_kinds[] = {
    {"household", "COPY (SELECT * FROM api.me_export_household($1::uuid)) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"energy", "COPY (SELECT to_char(hour_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS hour_utc, "
               "to_char(hour_dk, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS hour_dk, electricity_wh, heat_wh, water_l "
               "FROM api.me_export_energy($1::uuid)) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"waste", "COPY (SELECT * FROM api.me_export_waste($1::uuid)) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"mobility", "COPY (SELECT * FROM api.me_export_mobility($1::uuid)) TO STDOUT WITH (FORMAT csv, HEADER)"},
};

typedef struct export_state {
    const app_route_t *route;
    int kind; /* index into export_kinds, or -1 for the whole NDJSON export */
} export_state_t;

static void export_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    export_state_t *st = data;
    app_stream_opts_t o = {0};
    const char *params[1] = {who->consent};
    o.cache_control = st->route->cache_control;
    o.log_label = "a household export";
    o.primary = 1; /* the consent may have been given a moment ago: a replica may not have it yet */
    if (st->kind >= 0) {
        char *name = h2o_mem_alloc_pool(&req->pool, 48);
        str_fmt(name, 48, "klimaspejl-export-%s.csv", export_kinds[st->kind].kind);
        o.content_type = "text/csv; charset=utf-8; header=present";
        o.filename = name;
        app_stream_copy(req, export_kinds[st->kind].sql, params, 1, &o);
        return;
    }
    o.content_type = "application/x-ndjson";
    o.filename = "klimaspejl-export.ndjson";
    /* one JSON object per line: {"kind": "household|energy|waste|mobility", "record": {...}}, read from the database in
     * batches with backpressure, so memory stays flat for years of hourly data */
    app_stream_copy(req,
                    "COPY (SELECT json_build_object('kind', kind, 'record', record) FROM api.me_export($1::uuid)) "
                    "TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
                    params, 1, &o);
}

int citizen_me_export(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"format", "kind"};
    const char *v[2];
    export_state_t *st;

    if (http_query_take_or_reply(req, names, v, 2) != 0)
        return 0;
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    st->kind = -1;
    if (v[0] != NULL && strcmp(v[0], "ndjson") != 0 && strcmp(v[0], "csv") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'format' must be ndjson or csv.", "format");
        return 0;
    }
    if (v[0] != NULL && strcmp(v[0], "csv") == 0) {
        for (size_t i = 0; i < sizeof(export_kinds) / sizeof(export_kinds[0]) && v[1] != NULL; ++i) {
            if (strcmp(export_kinds[i].kind, v[1]) == 0)
                st->kind = (int)i;
        }
        if (st->kind < 0) {
            http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                              "'kind' is required with format=csv: household, energy, waste or mobility (one file each).", "kind");
            return 0;
        }
    } else if (v[1] != NULL) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'kind' applies to format=csv only (NDJSON holds every kind).",
                          "kind");
        return 0;
    }
    app_auth_require(req, m, export_authorized, st);
    return 0;
}
