/*
 * opendata/datasets — catalog and dataset metadata.
 */
#include <string.h>

#include "app/route.h"
#include "opendata/datasets.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

/* Fields of a catalog row that are internal to the server and not shown to users. */
static const char *const internal_fields[] = {"source_view", "columns", "max_age_seconds", NULL};

app_dataset_t *opendata_dataset_or_reply(h2o_req_t *req, const http_match_t *m, app_catalog_t *cat)
{
    size_t idlen;
    const char *id = http_match_param(m, "id", &idlen);
    app_dataset_t *ds = app_catalog_find(cat, id, idlen);

    if (ds == NULL)
        http_problem_sendf(req, HTTP_PROBLEM_NOT_FOUND, NULL, "There is no dataset '%.*s'; GET /v1/datasets lists them.",
                           (int)(idlen > 64 ? 64 : idlen), id);
    return ds;
}

/* A summary of one dataset for the listing (and the head of its metadata). */
static json_t *dataset_summary(const app_dataset_t *ds, const char *lang)
{
    json_t *out = json_object(), *v;
    const char *key;
    char path[160];

    json_object_foreach(ds->json, key, v)
    {
        int skip = 0;
        for (const char *const *f = internal_fields; *f != NULL; ++f)
            skip |= strcmp(*f, key) == 0;
        if (!skip)
            json_object_set(out, key, v);
    }
    json_object_set(out, "title", json_object_get(ds->json, strcmp(lang, "da") == 0 ? "title_da" : "title_en"));
    json_object_set(out, "description", json_object_get(ds->json, strcmp(lang, "da") == 0 ? "description_da" : "description_en"));
    json_object_set_new(out, "version", json_integer((json_int_t)ds->version));
    str_fmt(path, sizeof(path), "/v1/datasets/%s", ds->id);
    json_t *links = json_object();
    json_object_set_new(links, "self", json_string(path));
    str_fmt(path, sizeof(path), "/v1/datasets/%s/records", ds->id);
    json_object_set_new(links, "records", json_string(path));
    str_fmt(path, sizeof(path), "/v1/datasets/%s/download?format=csv", ds->id);
    json_object_set_new(links, "download_csv", json_string(path));
    str_fmt(path, sizeof(path), "/v1/datasets/%s/datapackage.json", ds->id);
    json_object_set_new(links, "datapackage", json_string(path));
    json_object_set_new(out, "links", links);
    return out;
}

json_t *opendata_datasets_table_schema(const app_dataset_t *ds, const char *lang)
{
    json_t *fields = json_array(), *schema = json_object(), *cols = json_object_get(ds->json, "columns"), *c;
    size_t i;

    json_array_foreach(cols, i, c)
    {
        json_t *f = json_object();
        const app_column_t *col = &ds->cols[i];
        json_object_set(f, "name", json_object_get(c, "name"));
        json_object_set(f, "type", json_object_get(c, "type"));
        if (col->local) /* Copenhagen wall clock without offset: a Frictionless pattern, not "local" (no such format) */
            json_object_set_new(f, "format", json_string(OPENDATA_LOCAL_DATETIME_PATTERN));
        else if (col->type == COL_DATETIME)
            json_object_set(f, "format", json_object_get(c, "format"));
        json_object_set(f, "description", json_object_get(c, strcmp(lang, "da") == 0 ? "description_da" : "description_en"));
        json_object_set(f, "description_da", json_object_get(c, "description_da"));
        json_object_set(f, "description_en", json_object_get(c, "description_en"));
        if (json_is_string(json_object_get(c, "unit")))
            json_object_set(f, "unit", json_object_get(c, "unit"));
        json_object_set(f, "role", json_object_get(c, "role"));
        json_t *constraints = json_object();
        json_object_set_new(constraints, "required", json_boolean(!col->nullable));
        if (col->enum_values != NULL)
            json_object_set(constraints, "enum", col->enum_values);
        json_object_set_new(f, "constraints", constraints);
        json_t *api = json_object();
        json_object_set_new(api, "filterable", json_boolean(col->filterable));
        json_object_set(api, "operators", json_object_get(c, "operators"));
        json_object_set_new(api, "groupable", json_boolean(col->groupable));
        json_object_set(api, "aggregations", json_object_get(c, "aggregations"));
        if (json_is_integer(json_object_get(c, "scale")))
            json_object_set(api, "scale", json_object_get(c, "scale"));
        json_object_set_new(f, "x-klimaspejl", api);
        json_array_append_new(fields, f);
    }
    json_object_set_new(schema, "fields", fields);
    json_object_set(schema, "primaryKey", json_object_get(ds->json, "primary_key"));
    json_object_set_new(schema, "missingValues", json_pack("[s]", ""));
    return schema;
}

/* The entry's Cache-Control; the texts depend on the language asked for. */
static void add_cache_headers(h2o_req_t *req, const http_match_t *m)
{
    app_cache_control(req, app_route_of(m), NULL);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Language"));
}

int opendata_datasets_list(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat = app_catalog_acquire(req);
    const char *lang;
    json_t *arr;

    if (cat == NULL)
        return 0;
    lang = http_request_lang(req);
    arr = json_array();
    for (size_t i = 0; i < cat->n; ++i)
        json_array_append_new(arr, dataset_summary(&cat->datasets[i], lang));
    add_cache_headers(req, m);
    http_send_json(req, 200, json_pack("{s:o, s:i, s:s}", "datasets", arr, "count", (json_int_t)cat->n, "lang", lang));
    return 0;
}

int opendata_datasets_get(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat = app_catalog_acquire(req);
    const char *lang;
    app_dataset_t *ds;
    json_t *out;

    if (cat == NULL || (ds = opendata_dataset_or_reply(req, m, cat)) == NULL)
        return 0;
    lang = http_request_lang(req);
    out = dataset_summary(ds, lang);
    json_object_set_new(out, "schema", opendata_datasets_table_schema(ds, lang));
    add_cache_headers(req, m);
    http_send_json(req, 200, out);
    return 0;
}
