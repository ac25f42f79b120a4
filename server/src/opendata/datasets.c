/*
 * opendata/datasets — catalog and dataset metadata.
 */
#include <string.h>

#include "app/route.h"
#include "opendata/datasets.h"
#include "core/sbuf.h"
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

/* --- catalog search (?q=) ------------------------------------------------------------------------------------------ */

#define SEARCH_MAX_BYTES 200
#define SEARCH_MAX_WORDS 16

/* Appends s folded for matching: ASCII and Latin-1 capitals (À-Þ: Æ, Ø, Å too) as small letters, other UTF-8 as is. */
static void fold(sbuf_t *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') {
            sbuf_putc(out, (char)(c + 32));
        } else if (c == 0xc3 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9e &&
                   (unsigned char)s[i + 1] != 0x97) {
            sbuf_putc(out, (char)c);
            sbuf_putc(out, (char)((unsigned char)s[++i] + 0x20));
        } else {
            sbuf_putc(out, (char)c);
        }
    }
}

static void fold_json(sbuf_t *out, const json_t *v)
{
    if (json_is_string(v)) {
        fold(out, json_string_value(v), json_string_length(v));
        sbuf_putc(out, '\n');
    }
}

/* Whether every word of the search occurs in what the dataset says about itself, in either language: its id, titles,
 * descriptions, theme, keywords and column names. */
static int dataset_matches(const app_dataset_t *ds, char *const *words, size_t nwords)
{
    static const char *const keys[] = {"id", "title_da", "title_en", "description_da", "description_en", "theme"};
    sbuf_t text = SBUF_INIT(SBUF_CAP_TEXT);
    json_t *v;
    size_t i;
    int ok = 1;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); ++i)
        fold_json(&text, json_object_get(ds->json, keys[i]));
    json_array_foreach(json_object_get(ds->json, "keywords"), i, v) fold_json(&text, v);
    for (i = 0; i < ds->ncols; ++i) {
        fold(&text, ds->cols[i].name, strlen(ds->cols[i].name));
        sbuf_putc(&text, '\n');
    }
    for (i = 0; i < nwords && ok; ++i)
        ok = text.data != NULL && strstr(text.data, words[i]) != NULL;
    sbuf_free(&text);
    return ok && !sbuf_failed(&text);
}

/* Splits the folded search q into words (in req's pool). Returns their count, or -1 after answering 400. */
static int search_words_or_reply(h2o_req_t *req, const char *q, char **words)
{
    sbuf_t folded = SBUF_INIT(SBUF_CAP_VALUE);
    char *p;
    int n = 0;

    if (strlen(q) > SEARCH_MAX_BYTES) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'q' may be at most 200 bytes.", "q");
        return -1;
    }
    fold(&folded, q, strlen(q));
    p = folded.data != NULL ? h2o_strdup(&req->pool, folded.data, folded.len).base : "";
    sbuf_free(&folded);
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (n == SEARCH_MAX_WORDS) {
            http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'q' may have at most 16 words.", "q");
            return -1;
        }
        words[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            ++p;
    }
    return n;
}

int opendata_datasets_list(h2o_req_t *req, const http_match_t *m)
{
    static const char *const names[] = {"lang", "q"};
    const char *v[2], *lang;
    char *words[SEARCH_MAX_WORDS];
    int nwords = 0;
    app_catalog_t *cat;
    json_t *arr, *out;

    if (http_query_take_or_reply(req, names, v, 2) != 0)
        return 0;
    if (v[1] != NULL && (nwords = search_words_or_reply(req, v[1], words)) < 0)
        return 0;
    if ((cat = app_catalog_acquire(req)) == NULL)
        return 0;
    lang = http_request_lang(req);
    arr = json_array();
    for (size_t i = 0; i < cat->n; ++i) {
        if (nwords == 0 || dataset_matches(&cat->datasets[i], words, (size_t)nwords))
            json_array_append_new(arr, dataset_summary(&cat->datasets[i], lang));
    }
    add_cache_headers(req, m);
    out = json_pack("{s:o, s:i, s:s}", "datasets", arr, "count", (json_int_t)json_array_size(arr), "lang", lang);
    if (v[1] != NULL) {
        json_object_set_new(out, "q", json_string(v[1]));
        json_object_set_new(out, "total", json_integer((json_int_t)cat->n));
    }
    http_send_json(req, 200, out);
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
