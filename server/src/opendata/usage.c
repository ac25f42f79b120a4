/*
 * opendata/usage — GET /v1/usage: the published totals of app/usage's counters.
 */
#include <string.h>
#include <time.h>

#include "app/catalog.h"
#include "app/db.h"
#include "app/route.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"
#include "opendata/usage.h"

#define USAGE_DEFAULT_DAYS 30
#define USAGE_MAX_DAYS 366 /* to - from */

static const char usage_sql[] = "SELECT to_char(day, 'YYYY-MM-DD'), dataset, format, country, "
                                "coalesce(sum(count) FILTER (WHERE kind = 'download'), 0), "
                                "coalesce(sum(count) FILTER (WHERE kind = 'query'), 0) FROM api.usage "
                                "WHERE day BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR dataset = $3::text) "
                                "GROUP BY day, dataset, format, country ORDER BY day, dataset, format, country";

typedef struct usage_get {
    const app_route_t *route;
    char from[11], to[11];
} usage_get_t;

/* The JSON names of the statement's columns, in order; the last two are integers. */
static const char *const usage_columns[] = {"day", "dataset", "format", "country", "downloads", "queries"};

static void on_usage_rows(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    usage_get_t *g = data;
    sbuf_t body = SBUF_INIT(SBUF_CAP_BODY);
    int rows;

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    rows = PQntuples(res);
    sbuf_putc(&body, '[');
    for (int r = 0; r < rows; ++r) {
        sbuf_puts(&body, r ? ",{" : "{");
        for (int c = 0; c < 6; ++c) {
            sbuf_printf(&body, "%s\"%s\":", c ? "," : "", usage_columns[c]);
            if (c >= 4) {
                sbuf_append(&body, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
            } else {
                sbuf_putc(&body, '"');
                sbuf_json_escape(&body, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
                sbuf_putc(&body, '"');
            }
        }
        sbuf_putc(&body, '}');
    }
    sbuf_putc(&body, ']');
    if (sbuf_failed(&body)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be assembled (out of memory).", NULL);
    } else {
        char *copy = h2o_mem_alloc_pool(&req->pool, body.len + 1);
        memcpy(copy, body.data, body.len + 1);
        app_cache_control(req, g->route, NULL);
        http_send_bytes(req, 200, "application/json", copy, body.len);
    }
    sbuf_free(&body);
}

/* A UTC day "YYYY-MM-DD" in 2000..9999, as a day number; name is the parameter, for the 400. Returns 0, or -1 after
 * answering. */
static int day_or_reply(h2o_req_t *req, const char *s, const char *name, int64_t *day)
{
    if (time_date_parse(s, strlen(s), 2000, day) == 0)
        return 0;
    http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, name, "'%s' must be a date YYYY-MM-DD (UTC).", name);
    return -1;
}

int opendata_usage_get(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"from", "to", "dataset"};
    const char *v[3];
    usage_get_t *g;
    int64_t from, to = (int64_t)(time(NULL) / 86400);
    const char *params[3];

    if (http_query_take_or_reply(req, names, v, 3) != 0)
        return 0;
    if ((v[1] != NULL && day_or_reply(req, v[1], "to", &to) != 0))
        return 0;
    from = to - (USAGE_DEFAULT_DAYS - 1);
    if (v[0] != NULL && day_or_reply(req, v[0], "from", &from) != 0)
        return 0;
    if (from > to) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'from' must not be after 'to'.", "from");
        return 0;
    }
    if (to - from > USAGE_MAX_DAYS) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, v[1] != NULL ? "to" : "from",
                           "'to' may be at most %d days after 'from'.", USAGE_MAX_DAYS);
        return 0;
    }
    if (v[2] != NULL) {
        app_catalog_t *cat = app_catalog_acquire(req);
        if (cat == NULL)
            return 0;
        if (app_catalog_find(cat, v[2], strlen(v[2])) == NULL) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, "dataset",
                               "There is no dataset '%.64s'; GET /v1/datasets lists them.", v[2]);
            return 0;
        }
    }
    g = h2o_mem_alloc_pool(&req->pool, sizeof(*g));
    g->route = app_route_of(m);
    time_date_format(from, g->from);
    time_date_format(to, g->to);
    params[0] = g->from;
    params[1] = g->to;
    params[2] = v[2];
    app_db_read(req, usage_sql, 3, params, on_usage_rows, g);
    return 0;
}
