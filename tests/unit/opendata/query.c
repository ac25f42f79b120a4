/* opendata/query: the records query language, one file per case (tests/unit/opendata/query/NAME.case, the curl habit):
 *
 *   # what the case shows
 *   query: the query string (decoded as the server decodes it)
 *   download: 1 for /download (optional)
 *   status: 0, 400 or 410
 *   param: the parameter a 4xx names (optional)
 *   detail: a piece of the 4xx detail (optional)
 *   sql: the SQL of an accepted query
 *   values: its parameters, joined by |
 *
 * Includes app/catalog.c to build the catalog from the fuzzer's copy of one dataset's row. */
#include <dirent.h>
#include <stdlib.h>

#include "app/catalog.c"
#include "core/qs.h"
#include "opendata/query.h"
#include "../test.h"

#define CASES KLIMA_SOURCE_DIR "/tests/unit/opendata/query"

static const char catalog_json[] =
    "[{\"id\":\"energy-district-hourly\",\"source_view\":\"api.energy_district_hourly\",\"version\":3,\"max_age_seconds\":60,"
    "\"personal\":true,\"primary_key\":[\"district_id\",\"hour_utc\"],\"default_order\":[\"hour_utc\",\"district_id\"],"
    "\"columns\":["
    "{\"name\":\"district_id\",\"type\":\"integer\",\"role\":\"dimension\",\"filterable\":true,\"groupable\":true,"
    "\"operators\":[\"eq\",\"ne\",\"in\",\"lt\",\"lte\",\"gt\",\"gte\"],\"aggregations\":[]},"
    "{\"name\":\"district\",\"type\":\"string\",\"role\":\"dimension\",\"filterable\":true,\"groupable\":true,"
    "\"operators\":[\"eq\",\"ne\",\"in\"],\"aggregations\":[],\"enum_values\":[\"Indre By\",\"Nørrebro\"]},"
    "{\"name\":\"hour_utc\",\"type\":\"datetime\",\"role\":\"dimension\",\"filterable\":true,\"groupable\":true,"
    "\"operators\":[\"eq\",\"lt\",\"lte\",\"gt\",\"gte\",\"between\"],\"aggregations\":[]},"
    "{\"name\":\"hour_dk\",\"type\":\"datetime\",\"format\":\"local\",\"role\":\"dimension\",\"filterable\":true,"
    "\"groupable\":true,\"operators\":[\"eq\",\"lt\",\"lte\",\"gt\",\"gte\"],\"aggregations\":[]},"
    "{\"name\":\"electricity_wh\",\"type\":\"number\",\"role\":\"measure\",\"filterable\":true,\"groupable\":false,"
    "\"operators\":[\"lt\",\"gt\"],\"aggregations\":[\"sum\",\"avg\",\"min\",\"max\"],\"nullable\":true},"
    "{\"name\":\"suppressed\",\"type\":\"boolean\",\"role\":\"flag\",\"filterable\":true,\"groupable\":true,"
    "\"operators\":[\"eq\"],\"aggregations\":[]}],"
    "\"sql_types\":{\"district_id\":\"integer\",\"district\":\"text\",\"hour_utc\":\"timestamp with time zone\","
    "\"hour_dk\":\"timestamp without time zone\",\"electricity_wh\":\"numeric(8,2)\",\"suppressed\":\"boolean\"}}]";

typedef struct test_case {
    char query[1024], status[8], param[64], detail[256], sql[4096], values[1024];
    int download;
} test_case_t;

/* The value of "key: value" lines into c; returns -1 when the file cannot be read. */
static int read_case(const char *path, test_case_t *c)
{
    FILE *f = fopen(path, "r");
    char line[4200];
    memset(c, 0, sizeof(*c));
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':'), *v;
        size_t n = strlen(line);
        if (line[0] == '#' || colon == NULL)
            continue;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        *colon = '\0';
        v = colon + 1 + (colon[1] == ' ');
        if (strcmp(line, "query") == 0)
            snprintf(c->query, sizeof(c->query), "%s", v);
        else if (strcmp(line, "download") == 0)
            c->download = strcmp(v, "1") == 0;
        else if (strcmp(line, "status") == 0)
            snprintf(c->status, sizeof(c->status), "%s", v);
        else if (strcmp(line, "param") == 0)
            snprintf(c->param, sizeof(c->param), "%s", v);
        else if (strcmp(line, "detail") == 0)
            snprintf(c->detail, sizeof(c->detail), "%s", v);
        else if (strcmp(line, "sql") == 0)
            snprintf(c->sql, sizeof(c->sql), "%s", v);
        else if (strcmp(line, "values") == 0)
            snprintf(c->values, sizeof(c->values), "%s", v);
    }
    fclose(f);
    return 0;
}

static void run_case(const char *name, const test_case_t *c, const app_dataset_t *ds)
{
    qs_param_t params[48];
    size_t n = 0, nvalues = 0;
    char decoded[2048], scratch[16384], values[1024] = "";
    opendata_query_t q;
    opendata_query_error_t err = {0};
    opendata_query_status_t st = QUERY_INVALID;
    const char *vals[QUERY_MAX_PARAMS + 4];
    sbuf_t sql = SBUF_INIT(SBUF_CAP_TEXT);
    char status[8];

    if (qs_parse(c->query, strlen(c->query), params, 48, &n, decoded) == QS_OK)
        st = opendata_query_parse(&q, ds, params, n, c->download, scratch, sizeof(scratch), &err);
    snprintf(status, sizeof(status), "%d", (int)st);
    if (strcmp(status, c->status) != 0)
        fprintf(stderr, "%s: %s (%s)\n", name, err.detail, err.param != NULL ? err.param : "-");
    CHECK_STR(status, c->status);
    if (st != QUERY_OK) {
        if (c->param[0] != '\0')
            CHECK_STR(err.param, c->param);
        if (c->detail[0] != '\0' && strstr(err.detail, c->detail) == NULL) {
            fprintf(stderr, "%s: detail \"%s\" lacks \"%s\"\n", name, err.detail, c->detail);
            CHECK(0);
        }
        return;
    }
    opendata_query_sql(&q, c->download, &sql, vals, &nvalues);
    for (size_t i = 0; i < nvalues; ++i) {
        size_t used = strlen(values);
        snprintf(values + used, sizeof(values) - used, "%s%s", i ? "|" : "", vals[i]);
    }
    if (strcmp(sql.data, c->sql) != 0)
        fprintf(stderr, "%s: sql\n  got  %s\n  want %s\n", name, sql.data, c->sql);
    CHECK_STR(sql.data, c->sql);
    CHECK_STR(values, c->values);
    sbuf_free(&sql);
}

/* A cursor the server encoded continues its query; one character changed anywhere, or its MAC left off, is refused. */
static void test_cursor_mac(const app_dataset_t *ds)
{
    qs_param_t params[4];
    size_t n = 0;
    char qs[1200], decoded[1200], scratch[8192];
    const char *keys[2] = {"2025-01-01 00:00:00+00", "3"};
    opendata_query_t q;
    opendata_query_error_t err = {0};
    sbuf_t cur = SBUF_INIT(SBUF_CAP_VALUE);

    CHECK(qs_parse("order=hour_utc", 14, params, 4, &n, decoded) == QS_OK);
    CHECK_INT(opendata_query_parse(&q, ds, params, n, 0, scratch, sizeof(scratch), &err), QUERY_OK);
    opendata_query_cursor_encode(&q, keys, 2, &cur);
    CHECK(strchr(cur.data, '.') != NULL);
    for (int variant = 0; variant < 3; ++variant) {
        snprintf(qs, sizeof(qs), "order=hour_utc&cursor=%s", cur.data);
        if (variant == 1)
            qs[22 + 3] = qs[22 + 3] == 'A' ? 'B' : 'A'; /* a character of the JSON part */
        if (variant == 2)
            *strrchr(qs, '.') = '\0'; /* no MAC */
        CHECK(qs_parse(qs, strlen(qs), params, 4, &n, decoded) == QS_OK);
        CHECK_INT(opendata_query_parse(&q, ds, params, n, 0, scratch, sizeof(scratch), &err),
                  variant == 0 ? QUERY_OK : QUERY_INVALID);
        if (variant == 0)
            CHECK_STR(q.after[0], keys[0]);
        else
            CHECK_STR(err.param, "cursor");
    }
    sbuf_free(&cur);
}

int main(void)
{
    app_catalog_t *cat = app_catalog_parse(catalog_json, sizeof(catalog_json) - 1);
    DIR *dir = opendir(CASES);
    struct dirent *e;
    int ncases = 0;

    CHECK(cat != NULL && dir != NULL);
    if (cat == NULL || dir == NULL)
        return TEST_DONE();
    /* before the database's time zone names are loaded, a zone other than the defaults is neither taken nor refused */
    {
        qs_param_t p[1] = {{"tz", "Foo/Bar"}};
        opendata_query_t q;
        opendata_query_error_t err;
        char scratch[8192];
        CHECK_INT((int)opendata_query_parse(&q, &cat->datasets[0], p, 1, 0, scratch, sizeof(scratch), &err), QUERY_UNAVAILABLE);
        p[0].value = "UTC";
        CHECK_INT((int)opendata_query_parse(&q, &cat->datasets[0], p, 1, 0, scratch, sizeof(scratch), &err), QUERY_OK);
    }
    /* then the cases run against a list as pg_timezone_names gives it (app/catalog.c: tz_list_store) */
    tz_list_store("UTC,Europe/Copenhagen,Etc/GMT-1,America/New_York,Etc/UTC");
    CHECK_INT(app_catalog_tz_loaded(), 1);
    test_cursor_mac(&cat->datasets[0]);
    while ((e = readdir(dir)) != NULL) {
        char path[1024];
        test_case_t c;
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".case") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", CASES, e->d_name);
        CHECK_INT(read_case(path, &c), 0);
        run_case(e->d_name, &c, &cat->datasets[0]);
        ++ncases;
    }
    closedir(dir);
    CHECK(ncases >= 10);
    printf("%d query cases\n", ncases);
    app_catalog_free(cat);
    catalog_process_stop(); /* frees the time zone list */
    return TEST_DONE();
}
