/*
 * citizen/me — personal routes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/db.h"
#include "app/route.h"
#include "app/stream.h"
#include "citizen/me.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

/* --- feedback: words, the KP2035 path, tips -------------------------------------------------------------------------- */

double citizen_me_kp2035_target(int year)
{
    if (year <= 2019)
        return 10.0;
    if (year <= 2030)
        return 10.0 - 2.5 * (year - 2019) / 11.0;
    if (year <= 2035)
        return 7.5 - 2.5 * (year - 2030) / 5.0;
    return 5.0;
}

static double num(json_t *obj, const char *path)
{
    /* dotted path lookup: "categories.electricity.co2e_kg" */
    char key[64];
    const char *p = path;
    json_t *cur = obj;
    while (cur != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof(key))
            return 0;
        memcpy(key, p, len);
        key[len] = '\0';
        cur = json_object_get(cur, key);
        p += len + (dot != NULL);
    }
    return json_is_number(cur) ? json_number_value(cur) : 0;
}

/* Danish writes decimals with a comma: "5.3 kg" -> "5,3 kg" (a point between two digits). */
static void decimal_comma(char *s)
{
    for (char *p = s + 1; *p != '\0' && p[1] != '\0'; ++p) {
        if (*p == '.' && p[-1] >= '0' && p[-1] <= '9' && p[1] >= '0' && p[1] <= '9')
            *p = ',';
    }
}

typedef struct tip {
    const char *id;
    double kg;
    char da[400], en[400];
} tip_t;

static int tip_cmp(const void *a, const void *b)
{
    double x = ((const tip_t *)a)->kg, y = ((const tip_t *)b)->kg;
    return x < y ? 1 : x > y ? -1 : 0;
}

void citizen_me_feedback(json_t *s, const char *lang)
{
    int da = strcmp(lang, "da") == 0;
    const char *rating = json_string_value(json_object_get(json_object_get(s, "peers"), "rating"));
    const char *month = json_string_value(json_object_get(s, "month"));
    int year = month != NULL ? (int)strtol(month, NULL, 10) : 2025;
    double total = num(s, "total_co2e_kg"), per_person = num(s, "co2e_kg_per_person"), median = num(s, "peers.total_co2e_kg.median"),
           p20 = num(s, "peers.total_co2e_kg.efficient_p20");
    char text[400];
    tip_t tips[6];
    size_t ntips = 0;

    /* rating: praise low users so they do not drift up (Schultz et al. 2007); the numbers carry the comparison */
    if (rating != NULL && strcmp(rating, "great") == 0)
        str_fmt(text, sizeof(text),
                da ? "Flot! I udleder mindre end de mest effektive 20 %% af lignende hjem (%.0f kg mod %.0f kg). Bliv ved med det."
                   : "Great! You emit less than the most efficient 20%% of similar homes (%.0f kg against %.0f kg). Keep it up.",
                total, p20);
    else if (rating != NULL && strcmp(rating, "good") == 0)
        str_fmt(text, sizeof(text),
                da ? "Godt! I ligger under middel for lignende hjem (%.0f kg mod %.0f kg). De mest effektive når ned på %.0f kg."
                   : "Good! You are below the middle of similar homes (%.0f kg against %.0f kg). The most efficient reach %.0f kg.",
                total, median, p20);
    else
        str_fmt(text, sizeof(text),
                da ? "I udleder mere end lignende hjem (%.0f kg mod %.0f kg i midten). Tipsene herunder viser, hvor I sparer mest."
                   : "You emit more than similar homes (%.0f kg against %.0f kg in the middle). The tips below show where you save most.",
                total, median);
    if (da)
        decimal_comma(text);
    json_object_set_new(json_object_get(s, "peers"), "rating_text", json_string(text));

    /* KP2035: annualise the month's per-person figure and set it against the year's path value */
    double annual_t = per_person * 12.0 / 1000.0, target = citizen_me_kp2035_target(year);
    json_t *kp = json_pack("{s:i, s:f, s:f, s:f, s:f}", "year", year, "target_t_per_person_year", round(target * 100) / 100,
                           "target_2035_t_per_person_year", 5.0, "baseline_2019_t_per_person_year", 10.0,
                           "covered_t_per_person_year_estimate", round(annual_t * 100) / 100);
    json_object_set_new(kp, "covered_categories", json_pack("[s,s,s,s,s]", "electricity", "district_heating", "water", "waste", "mobility"));
    json_object_set_new(kp, "covered_share_note",
                        json_string(da ? "Kategorierne her dækker kun en del af det forbrugsbaserede aftryk: mad, ting, rejser og "
                                         "offentligt forbrug er ikke med. Tallet er månedens udledning pr. person gange 12."
                                       : "These categories cover only part of the consumption-based footprint: food, goods, travel "
                                         "and public consumption are not included. The figure is the month's emissions per person "
                                         "times 12."));
    json_object_set_new(s, "kp2035", kp);

    /* tips, each from this household's own figures */
    double dirty_kwh = num(s, "categories.electricity.dirty_hours_kwh"), dirty_kg = num(s, "categories.electricity.dirty_hours_co2e_kg"),
           avg_g = num(s, "categories.electricity.avg_g_per_kwh"), elec_kg = num(s, "categories.electricity.co2e_kg"),
           elec_median = num(s, "peers.categories.electricity.co2e_kg_median"), heat_kg = num(s, "categories.district_heating.co2e_kg"),
           heat_median = num(s, "peers.categories.district_heating.co2e_kg_median"),
           car_kg = num(s, "categories.mobility.modes.car-petrol.co2e_kg"), car_km = num(s, "categories.mobility.modes.car-petrol.km"),
           residual_kg = num(s, "categories.waste.fractions.residual.co2e_kg");
    if (dirty_kwh > 0 && dirty_kg > dirty_kwh * avg_g / 1000.0) {
        /* moving the dirtiest-hours use to hours of average intensity */
        tip_t *t = &tips[ntips++];
        t->id = "shift-dirty-hours";
        t->kg = dirty_kg - dirty_kwh * avg_g / 1000.0;
        str_fmt(t->da, sizeof(t->da),
                "%.0f kWh af jeres strøm blev brugt i månedens mest CO2-tunge timer. Flyt vask, opvask og opladning til timer "
                "med grønnere strøm, og spar omkring %.1f kg CO2e om måneden.",
                dirty_kwh, t->kg);
        str_fmt(t->en, sizeof(t->en),
                "%.0f kWh of your electricity was used in the month's most carbon-intensive hours. Move laundry, dishwashing "
                "and charging to greener hours and save about %.1f kg CO2e a month.",
                dirty_kwh, t->kg);
    }
    if (heat_kg > 0) {
        /* 1 degree lower indoors saves about 5 % of space heating (a common rule of thumb: an assumption) */
        tip_t *t = &tips[ntips++];
        t->id = "heating-one-degree";
        t->kg = 0.05 * heat_kg + (heat_kg > heat_median && heat_median > 0 ? 0.5 * (heat_kg - heat_median) : 0);
        str_fmt(t->da, sizeof(t->da),
                "Fjernvarmen gav %.1f kg CO2e%s. Skru en grad ned og luk for radiatorer i rum, I ikke bruger: omkring %.1f kg "
                "CO2e om måneden.",
                heat_kg, heat_kg > heat_median && heat_median > 0 ? ", mere end i lignende hjem" : "", t->kg);
        str_fmt(t->en, sizeof(t->en),
                "District heating came to %.1f kg CO2e%s. Turn down one degree and close radiators in rooms you do not use: "
                "about %.1f kg CO2e a month.",
                heat_kg, heat_kg > heat_median && heat_median > 0 ? ", more than similar homes" : "", t->kg);
    }
    if (car_kg > 0) {
        /* a fifth of the petrol-car kilometres by bike or public transport */
        tip_t *t = &tips[ntips++];
        t->id = "car-to-bike";
        t->kg = 0.2 * car_kg;
        str_fmt(t->da, sizeof(t->da),
                "I kørte %.0f km i benzin- eller dieselbil (%.1f kg CO2e). Tag hver femte af de ture på cykel, med metro eller "
                "S-tog, og spar omkring %.1f kg CO2e om måneden.",
                car_km, car_kg, t->kg);
        str_fmt(t->en, sizeof(t->en),
                "You drove %.0f km by petrol or diesel car (%.1f kg CO2e). Make one in five of those trips by bike, metro or "
                "S-train and save about %.1f kg CO2e a month.",
                car_km, car_kg, t->kg);
    }
    if (elec_kg > elec_median && elec_median > 0) {
        tip_t *t = &tips[ntips++];
        t->id = "electricity-standby";
        t->kg = 0.5 * (elec_kg - elec_median);
        str_fmt(t->da, sizeof(t->da),
                "Elforbruget gav %.1f kg CO2e mod %.1f kg i lignende hjem. Sluk standby og udskift de ældste apparater, og "
                "spar omkring %.1f kg CO2e om måneden.",
                elec_kg, elec_median, t->kg);
        str_fmt(t->en, sizeof(t->en),
                "Electricity came to %.1f kg CO2e against %.1f kg in similar homes. Switch off standby and replace the "
                "oldest appliances to save about %.1f kg CO2e a month.",
                elec_kg, elec_median, t->kg);
    }
    if (residual_kg > 0) {
        /* a third of the residual waste sorted out (food and plastic mostly): an assumption */
        tip_t *t = &tips[ntips++];
        t->id = "sort-residual-waste";
        t->kg = residual_kg / 3.0;
        str_fmt(t->da, sizeof(t->da),
                "Restaffaldet gav %.1f kg CO2e. Sorter madaffald og plast fra, og spar omkring %.1f kg CO2e om måneden.",
                residual_kg, t->kg);
        str_fmt(t->en, sizeof(t->en),
                "Residual waste came to %.1f kg CO2e. Sort out food waste and plastic and save about %.1f kg CO2e a month.",
                residual_kg, t->kg);
    }
    qsort(tips, ntips, sizeof(tips[0]), tip_cmp);
    for (size_t i = 0; i < ntips; ++i)
        decimal_comma(tips[i].da);
    json_t *arr = json_array();
    for (size_t i = 0; i < ntips && i < 3; ++i) {
        json_array_append_new(arr, json_pack("{s:s, s:f, s:s}", "id", tips[i].id, "saving_co2e_kg_per_month",
                                             round(tips[i].kg * 100) / 100, "text", da ? tips[i].da : tips[i].en));
    }
    json_object_set_new(s, "tips", arr);
    json_object_set_new(s, "lang", json_string(da ? "da" : "en"));
}

/* --- shared ------------------------------------------------------------------------------------------------------------ */

/* Personal data: the route's Cache-Control (never a shared cache), and the answer depends on the token and language. */
static void personal_headers(h2o_req_t *req, const app_route_t *route)
{
    app_cache_control(req, route, NULL);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Authorization, Accept-Language"));
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
    if (status != DB_OK) {
        app_db_fail_reply(req, APP_DB_INPUT, res);
        return;
    }
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
    citizen_me_feedback(s, st->lang);
    personal_headers(req, st->route);
    http_send_json(req, 200, s);
}

static void summary_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    summary_state_t *st = data;
    char *first_day = h2o_mem_alloc_pool(&req->pool, 11);
    str_fmt(first_day, 11, "%.7s-01", st->month);
    const char *params[2] = {who->household, first_day};
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
        /* the last whole month, Copenhagen time (approximated in UTC: the summary is per local month either way) */
        time_t now = time(NULL) - 86400 * 3;
        struct tm tm;
        char *buf = h2o_mem_alloc_pool(&req->pool, 8);
        gmtime_r(&now, &tm);
        if (tm.tm_mon == 0) {
            tm.tm_mon = 12;
            tm.tm_year -= 1;
        }
        str_fmt(buf, 8, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon);
        month = buf;
    } else {
        char day[11];
        str_fmt(day, sizeof(day), "%.7s-01", month);
        if (strlen(month) != 7 || time_date_parse(day, 10, 1, NULL) != 0) {
            http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'month' must be YYYY-MM, e.g. 2025-03.", "month");
            return 0;
        }
    }
    st->month = month;
    app_auth_require(req, m, summary_authorized, st);
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
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
    case 700: /* float4 */
    case 701: /* float8 */
    case 1700: /* numeric */
        if (v[0] == 'N' || v[0] == 'I' || (v[0] == '-' && v[1] == 'I'))
            sbuf_puts(b, "null");
        else
            sbuf_puts(b, v);
        return;
    case 16: /* bool */
        sbuf_puts(b, v[0] == 't' ? "true" : "false");
        return;
    case 1184: /* timestamptz "YYYY-MM-DD HH:MM:SS+00" */
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
    sbuf_t b = SBUF_INIT;
    int rows, cols;

    if (status != DB_OK) {
        app_db_fail_reply(req, APP_DB_INPUT, res);
        return;
    }
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
                    sbuf_t one = SBUF_INIT;
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
    const char *params[5] = {who->household, st->from, st->to, st->resolution, st->tz};
    app_db_read(req, sql, 5, params, on_series, st);
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
                               "'%s' is required: a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] with Z or an offset.", names[i]);
            return 0;
        }
    }
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'format' must be json or csv.", "format");
        return 0;
    }
    st->csv = format != NULL && strcmp(format, "csv") == 0;
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

static void export_authorized(h2o_req_t *req, void *data, const app_principal_t *who)
{
    const app_route_t *route = data;
    app_stream_opts_t o = {0};
    const char *params[1] = {who->household};
    o.content_type = "application/x-ndjson";
    o.filename = "klimaspejl-export.ndjson";
    o.cache_control = route->cache_control;
    o.log_label = "a household export";
    /* one JSON object per line: {"kind": "household|energy|waste|mobility", "record": {...}}, read from the database in
     * batches with backpressure, so memory stays flat for years of hourly data */
    app_stream_copy(req,
                    "COPY (SELECT json_build_object('kind', kind, 'record', record) FROM api.me_export($1::uuid)) "
                    "TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
                    params, 1, &o);
}

int citizen_me_export(h2o_req_t *req, const http_match_t *m)
{
    if (http_query_take_or_reply(req, NULL, NULL, 0) != 0)
        return 0;
    app_auth_require(req, m, export_authorized, (void *)app_route_of(m));
    return 0;
}
