/*
 * opendata/grid — GET /v1/grid/forecast (see opendata/grid.h); the JSON is built by api.grid_forecast in PostgreSQL
 * (sql/migrations/0020_grid_forecast.sql).
 */
#include <string.h>
#include <time.h>

#include "app/catalog.h"
#include "app/db.h"
#include "core/hash.h"
#include "core/strutil.h"
#include "core/time.h"
#include "http/etag.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"
#include "opendata/grid.h"
#include "opendata/metadata.h"

#define GRID_DATASET "grid-intensity-forecast"

static const char grid_sql[] = "SELECT api.grid_forecast($1::timestamptz, $2::integer, $3::integer)::text";

typedef struct grid_state {
    const app_route_t *route;
    char etag[HTTP_ETAG_MAX];
    char version[24];
    unsigned max_age;
} grid_state_t;

/* duplicate: the one-row JSON answer of a database function, as citizen/me.c's history (audiences never include each
 * other; the headers around it differ). */
static void on_forecast(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    grid_state_t *st = data;

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The forecast could not be read; the error has been logged.", NULL);
        return;
    }
    opendata_metadata_cache_headers(req, st->route, st->etag, st->max_age, 0);
    http_add_header(req, "x-dataset-version", st->version);
    http_send_bytes(req, 200, "application/json", PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* name=value as a whole number in [min, max] (def when absent). Returns 0, or -1 after answering 400. */
static int int_or_reply(h2o_req_t *req, const char *value, const char *name, uint64_t min, uint64_t max, uint64_t def,
                        uint64_t *out)
{
    *out = def;
    if (value == NULL || str_to_uint(value, strlen(value), min, max, out) == 0)
        return 0;
    http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, name, "'%s' must be a whole number from %llu to %llu.", name,
                       (unsigned long long)min, (unsigned long long)max);
    return -1;
}

/* from: YYYY-MM-DDTHH:00Z or YYYY-MM-DDTHH:00:00Z (a whole UTC hour), as hours since the epoch. */
static int hour_or_reply(h2o_req_t *req, const char *s, int64_t *hour)
{
    size_t len = s != NULL ? strlen(s) : 0;
    int64_t days;
    uint64_t hh;

    if (s != NULL && (len == 17 || len == 20) && time_date_parse(s, 10, 2000, &days) == 0 && s[10] == 'T' &&
        str_to_uint(s + 11, 2, 0, 23, &hh) == 0 && memcmp(s + 13, len == 17 ? ":00Z" : ":00:00Z", len - 13) == 0) {
        *hour = days * 24 + (int64_t)hh;
        return 0;
    }
    http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                      "'from' must be a whole UTC hour like 2025-03-31T13:00Z (default: the current hour).", "from");
    return -1;
}

int opendata_grid_forecast_get(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"hours", "window", "from"};
    const char *v[3], *params[3];
    app_catalog_t *cat;
    const app_dataset_t *ds;
    grid_state_t *st;
    uint64_t hours, window;
    int64_t now = (int64_t)time(NULL), from = now / 3600;
    char *p;

    if (http_query_take_or_reply(req, names, v, 3) != 0 || int_or_reply(req, v[0], "hours", 1, 48, 24, &hours) != 0 ||
        int_or_reply(req, v[1], "window", 1, 6, 3, &window) != 0 || (v[2] != NULL && hour_or_reply(req, v[2], &from) != 0))
        return 0;
    if (window > hours) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'window' must not be longer than 'hours'.", "window");
        return 0;
    }
    if ((cat = app_catalog_acquire(req)) == NULL)
        return 0;
    if ((ds = app_catalog_find(cat, GRID_DATASET, strlen(GRID_DATASET))) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "The grid-intensity-forecast dataset is not published on this server.",
                          NULL);
        return 0;
    }
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    /* cached until the next forecast hour (the default window moves on) or the next release (the version) */
    st->max_age = ds->max_age;
    if (v[2] == NULL && (unsigned)(3600 - now % 3600) < st->max_age)
        st->max_age = (unsigned)(3600 - now % 3600);
    str_fmt(st->version, sizeof st->version, "%llu", (unsigned long long)ds->version);
    char key[64];
    int klen = str_fmt(key, sizeof key, "%llu/%llu/%lld", (unsigned long long)hours, (unsigned long long)window, (long long)from);
    http_etag_make(st->etag, (unsigned long long)ds->version, hash_bytes(key, klen > 0 ? (size_t)klen : 0, HASH_SEED));
    if (opendata_metadata_not_modified(req, st->route, st->etag, st->max_age))
        return 0;
    p = h2o_mem_alloc_pool(&req->pool, 64);
    int64_t days = from >= 0 ? from / 24 : 0;
    char day[11];
    time_date_format(days, day);
    str_fmt(p, 32, "%sT%02d:00:00Z", day, (int)(from - days * 24));
    params[0] = p;
    params[1] = p + 32;
    params[2] = p + 48;
    str_fmt(p + 32, 16, "%llu", (unsigned long long)hours);
    str_fmt(p + 48, 16, "%llu", (unsigned long long)window);
    app_db_read(req, grid_sql, 3, params, on_forecast, st);
    return 0;
}
