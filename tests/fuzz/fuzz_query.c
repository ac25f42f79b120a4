/* libFuzzer: the records query language — query-string decoding, parsing against a real catalog entry, cursor decoding,
 * SQL building — on arbitrary query strings. The catalog is a fixed copy of one dataset's catalog row. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.c" /* app_catalog_parse */
#include "opendata/query.h"
#include "core/qs.h"

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
    "\"operators\":[\"eq\"],\"aggregations\":[]}]}]";

static app_catalog_t *catalog;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_param_t params[48];
    size_t n = 0, nvalues = 0;
    char *decoded, *scratch;
    opendata_query_t q;
    opendata_query_error_t err;
    const char *values[QUERY_MAX_PARAMS + 4];
    sbuf_t sql = SBUF_INIT(SBUF_CAP_TEXT);

    if (catalog == NULL && (catalog = app_catalog_parse(catalog_json, sizeof(catalog_json) - 1)) == NULL)
        __builtin_trap();
    if (!app_catalog_tz_loaded()) /* a few names, as pg_timezone_names gives them, so other zones reach the SQL */
        tz_list_store("UTC,Europe/Copenhagen,Etc/GMT-1,America/New_York");
    if (size > 16384)
        return 0;
    decoded = malloc(size + 2 * 48 + 2);
    scratch = malloc(size * 3 + 8192);
    if (qs_parse((const char *)data, size, params, 48, &n, decoded) == QS_OK &&
        opendata_query_parse(&q, &catalog->datasets[0], params, n, size % 2, scratch, size * 3 + 8192, &err) == QUERY_OK) {
        opendata_query_sql(&q, (int)(size % 3), &sql, values, &nvalues);
        if (sbuf_failed(&sql) || nvalues > QUERY_MAX_PARAMS + 4)
            __builtin_trap();
        /* every placeholder used in the SQL must have a value */
        for (const char *p = sql.data; (p = strchr(p, '$')) != NULL; ++p) {
            long k = strtol(p + 1, NULL, 10);
            if (k < 1 || (size_t)k > nvalues)
                __builtin_trap();
        }
        sbuf_free(&sql);
    }
    free(decoded);
    free(scratch);
    return 0;
}
