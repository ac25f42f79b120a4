/*
 * opendata/factors — the emission factors as one JSON document, built by PostgreSQL from the published view.
 */
#include <jansson.h>
#include <string.h>

#include "app/catalog.h"
#include "app/db.h"
#include "opendata/factors.h"
#include "opendata/metadata.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/strutil.h"
#include "http/etag.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

#define FACTORS_DATASET "emission-factors"

/* One query, no parameters: the view's rows as a JSON array, in the dataset's default order. */
static const char factors_sql[] =
    "SELECT coalesce(json_agg(json_build_object('factor_id', factor_id, 'category', category, 'unit', unit, 'value', value, "
    "'valid_from', valid_from, 'valid_to', valid_to, 'method', method, 'source', source, 'is_assumption', is_assumption) "
    "ORDER BY category, factor_id), '[]'::json)::text FROM api.emission_factors";

/* Labels of the categories (meta.dataset_columns enum of emission-factors.category). */
static const struct {
    const char *category, *da, *en;
} category_labels[] = {{"electricity", "El", "Electricity"},
                       {"heat", "Fjernvarme", "District heating"},
                       {"water", "Vand", "Water"},
                       {"waste", "Affald", "Waste"},
                       {"mobility", "Transport", "Mobility"}};

typedef struct factors_state {
    const char *lang;
    const app_route_t *route;
    char etag[HTTP_ETAG_MAX];
    unsigned long long version;
    unsigned max_age;
    json_t *title, *description; /* borrowed from the catalog, which is kept alive until the request ends */
} factors_state_t;

static const char *label_of(const char *category, const char *lang)
{
    for (size_t i = 0; category != NULL && i < sizeof(category_labels) / sizeof(category_labels[0]); ++i) {
        if (strcmp(category_labels[i].category, category) == 0)
            return strcmp(lang, "da") == 0 ? category_labels[i].da : category_labels[i].en;
    }
    return category;
}

static void on_factors(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    factors_state_t *st = data;
    json_t *factors, *out, *f;
    json_error_t jerr;
    size_t i;
    char ver[24];

    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    if (PQntuples(res) != 1 || (factors = json_loadb(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 0, &jerr)) == NULL ||
        !json_is_array(factors)) {
        log_error("emission factors: unexpected result from the database");
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The emission factors could not be read; the error has been logged.", NULL);
        return;
    }
    json_array_foreach(factors, i, f)
    {
        const char *label = label_of(json_string_value(json_object_get(f, "category")), st->lang);
        json_object_set_new(f, "category_label", label != NULL ? json_string(label) : json_null());
    }
    out = json_pack("{s:s, s:I, s:s, s:O?, s:O?, s:I, s:o, s:{s:s, s:s}}", "dataset", FACTORS_DATASET, "version",
                    (json_int_t)st->version, "lang", st->lang, "title", st->title, "description", st->description, "count",
                    (json_int_t)json_array_size(factors), "factors", factors, "links", "dataset", "/v1/datasets/" FACTORS_DATASET,
                    "records", "/v1/datasets/" FACTORS_DATASET "/records");
    opendata_metadata_cache_headers(req, st->route, st->etag, st->max_age, 1);
    str_fmt(ver, sizeof(ver), "%llu", st->version);
    http_add_header(req, "x-dataset-version", ver);
    opendata_metadata_send(req, out, "application/json");
}

int opendata_factors_get(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat = app_catalog_acquire(req);
    const app_dataset_t *ds;
    factors_state_t *st;
    uint64_t h;
    int da;

    if (cat == NULL)
        return 0;
    if ((ds = app_catalog_find(cat, FACTORS_DATASET, strlen(FACTORS_DATASET))) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "The emission-factors dataset is not published on this server.", NULL);
        return 0;
    }
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->route = app_route_of(m);
    st->lang = http_request_lang(req);
    da = strcmp(st->lang, "da") == 0;
    st->version = (unsigned long long)ds->version;
    st->max_age = ds->max_age;
    st->title = json_object_get(ds->json, da ? "title_da" : "title_en");
    st->description = json_object_get(ds->json, da ? "description_da" : "description_en");
    h = hash_bytes(st->lang, 2, HASH_SEED);
    http_etag_make(st->etag, st->version, h);
    if (opendata_metadata_not_modified(req, st->route, st->etag, st->max_age))
        return 0;
    app_db_read(req, factors_sql, 0, NULL, on_factors, st);
    return 0;
}
