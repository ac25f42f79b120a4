/*
 * opendata/metadata — Frictionless Data Package and DCAT-AP / schema.org JSON-LD, rendered from the worker's catalog.
 */
#include <jansson.h>
#include <string.h>

#include "app/route.h"
#include "opendata/datasets.h"
#include "opendata/metadata.h"
#include "core/hash.h"
#include "core/strutil.h"
#include "http/etag.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

#define METADATA_URL_MAX 512
/* 15 significant digits print 165.7 as 165.7 (17 would print float noise such as 165.69999999999999) */
#define METADATA_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* --- shared helpers ------------------------------------------------------------------------------------------------ */

static int host_char_ok(char c)
{
    return str_is_word_char((unsigned char)c, ".-:[]_");
}

size_t opendata_metadata_base_url(h2o_req_t *req, char *out, size_t size)
{
    h2o_iovec_t host = req->authority;
    int ok = host.len > 0 && host.len <= 255;
    const char *scheme = req->scheme != NULL && req->scheme->name.len == 5 ? "https" : "http";
    int n;

    for (size_t i = 0; ok && i < host.len; ++i)
        ok = host_char_ok(host.base[i]);
    if (ok)
        n = snprintf(out, size, "%s://%.*s", scheme, (int)host.len, host.base);
    else
        n = snprintf(out, size, "%s://localhost", scheme);
    if (n < 0)
        n = 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* "public, max-age=N" in req's pool. */
static const char *public_max_age(h2o_req_t *req, unsigned max_age)
{
    char *cc = h2o_mem_alloc_pool(&req->pool, 48);
    str_fmt(cc, 48, "public, max-age=%u", max_age);
    return cc;
}

int opendata_metadata_not_modified(h2o_req_t *req, const app_route_t *route, const char *etag, unsigned max_age)
{
    return http_not_modified(req, h2o_iovec_init(etag, strlen(etag)), app_cache_control_value(route, public_max_age(req, max_age)));
}

void opendata_metadata_cache_headers(h2o_req_t *req, const app_route_t *route, const char *etag, unsigned max_age, int vary_lang)
{
    app_cache_control(req, route, public_max_age(req, max_age));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag, strlen(etag));
    if (vary_lang)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Language"));
}

void opendata_metadata_send(h2o_req_t *req, json_t *json, const char *content_type)
{
    http_send_json_as(req, 200, json, METADATA_JSON_FLAGS, content_type);
}

/* "<base><path>" as a new JSON string. */
static json_t *url_of(const char *base, const char *fmt, const char *id)
{
    char path[METADATA_URL_MAX], full[METADATA_URL_MAX * 2];
    str_fmt(path, sizeof(path), fmt, id);
    str_fmt(full, sizeof(full), "%s%s", base, path);
    return json_string(full);
}

/* {"@id": "<base><path>"} */
static json_t *ref_of(const char *base, const char *fmt, const char *id)
{
    return json_pack("{s:o}", "@id", url_of(base, fmt, id));
}

static json_t *iri(const char *uri)
{
    return json_pack("{s:s}", "@id", uri);
}

/* A string of the catalog row, or NULL. */
static const char *field(const app_dataset_t *ds, const char *name)
{
    return json_string_value(json_object_get(ds->json, name));
}

/* --- GET /v1/datasets/{id}/datapackage.json ------------------------------------------------------------------------- */

int opendata_metadata_datapackage(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat = app_catalog_acquire(req);
    const char *lang;
    app_dataset_t *ds;
    char base[METADATA_URL_MAX], *etag = h2o_mem_alloc_pool(&req->pool, HTTP_ETAG_MAX), ver[24];
    uint64_t h;
    json_t *pkg, *res, *ext;

    if (cat == NULL || (ds = opendata_dataset_or_reply(req, m, cat)) == NULL)
        return 0;
    lang = http_request_lang(req);
    opendata_metadata_base_url(req, base, sizeof(base));
    h = hash_bytes(base, strlen(base), HASH_SEED);
    h = hash_bytes(lang, 2, h);
    h = hash_bytes(ds->id, strlen(ds->id), h);
    http_etag_make(etag, ds->version, h);
    if (opendata_metadata_not_modified(req, app_route_of(m), etag, ds->max_age))
        return 0;
    str_fmt(ver, sizeof(ver), "%llu", (unsigned long long)ds->version);

    res = json_object();
    json_object_set_new(res, "name", json_string(ds->id));
    json_object_set_new(res, "profile", json_string("tabular-data-resource"));
    json_object_set_new(res, "path", url_of(base, "/v1/datasets/%s/download?format=csv", ds->id));
    json_object_set_new(res, "format", json_string("csv"));
    json_object_set_new(res, "mediatype", json_string("text/csv"));
    json_object_set_new(res, "encoding", json_string("utf-8"));
    /* the CSV Dialect of the download (PostgreSQL COPY): every member the Data Package profile requires, and its LF lines */
    json_object_set_new(res, "dialect",
                        json_pack("{s:s, s:b, s:s, s:b, s:s}", "delimiter", ",", "header", 1, "quoteChar", "\"", "doubleQuote", 1,
                                  "lineTerminator", "\n"));
    json_object_set_new(res, "schema", opendata_datasets_table_schema(ds, lang));

    pkg = json_object();
    json_object_set_new(pkg, "profile", json_string("tabular-data-package"));
    json_object_set_new(pkg, "id", url_of(base, "/v1/datasets/%s/datapackage.json", ds->id));
    json_object_set_new(pkg, "name", json_string(ds->id));
    json_object_set(pkg, "title", json_object_get(ds->json, strcmp(lang, "da") == 0 ? "title_da" : "title_en"));
    json_object_set(pkg, "description", json_object_get(ds->json, strcmp(lang, "da") == 0 ? "description_da" : "description_en"));
    json_object_set_new(pkg, "version", json_string(ver));
    if (field(ds, "refreshed_at") != NULL)
        json_object_set(pkg, "created", json_object_get(ds->json, "refreshed_at"));
    json_object_set_new(pkg, "homepage", url_of(base, "/v1/datasets/%s", ds->id));
    json_object_set(pkg, "keywords", json_object_get(ds->json, "keywords"));
    json_object_set_new(pkg, "licenses",
                        json_pack("[{s:s?, s:s?, s:s?}]", "name", field(ds, "license"), "path", field(ds, "license_url"), "title",
                                  field(ds, "license")));
    json_object_set_new(pkg, "sources", json_pack("[{s:s?}]", "title", field(ds, "sources")));
    json_object_set_new(pkg, "contributors", json_pack("[{s:s?, s:s}]", "title", field(ds, "publisher"), "role", "publisher"));
    json_object_set_new(pkg, "resources", json_pack("[o]", res));
    ext = json_object();
    json_object_set(ext, "synthetic", json_object_get(ds->json, "synthetic"));
    json_object_set(ext, "personal", json_object_get(ds->json, "personal"));
    json_object_set(ext, "k", json_object_get(ds->json, "k"));
    json_object_set(ext, "dominance_n", json_object_get(ds->json, "dominance_n"));
    json_object_set(ext, "dominance_pct", json_object_get(ds->json, "dominance_pct"));
    json_object_set(ext, "noise_epsilon", json_object_get(ds->json, "noise_epsilon"));
    json_object_set(ext, "temporal_start", json_object_get(ds->json, "temporal_start"));
    json_object_set(ext, "temporal_end", json_object_get(ds->json, "temporal_end"));
    json_object_set(ext, "citation", json_object_get(ds->json, "citation"));
    json_object_set_new(ext, "records", url_of(base, "/v1/datasets/%s/records", ds->id));
    json_object_set_new(pkg, "x-klimaspejl", ext);

    opendata_metadata_cache_headers(req, app_route_of(m), etag, ds->max_age, 1);
    opendata_metadata_send(req, pkg, "application/json");
    return 0;
}

/* --- GET /v1/catalog.jsonld ------------------------------------------------------------------------------------------ */

#define EU_AUTH "http://publications.europa.eu/resource/authority/"

/* meta.datasets.theme -> EU data theme (DCAT-AP mandates this vocabulary for dcat:theme). */
static const struct {
    const char *theme, *eu;
} themes[] = {{"energy", EU_AUTH "data-theme/ENER"},
              {"waste", EU_AUTH "data-theme/ENVI"},
              {"mobility", EU_AUTH "data-theme/TRAN"},
              {"climate", EU_AUTH "data-theme/ENVI"}};

/* meta.datasets.update_frequency (ISO 8601 duration) -> EU frequency vocabulary. */
static const struct {
    const char *duration, *eu;
} frequencies[] = {{"PT1H", EU_AUTH "frequency/HOURLY"},   {"P1D", EU_AUTH "frequency/DAILY"},
                   {"P1W", EU_AUTH "frequency/WEEKLY"},    {"P1M", EU_AUTH "frequency/MONTHLY"},
                   {"P3M", EU_AUTH "frequency/QUARTERLY"}, {"P1Y", EU_AUTH "frequency/ANNUAL"}};

/* Copenhagen (GeoNames) and Denmark (EU country authority): the coverage of every dataset. */
#define SPATIAL_COPENHAGEN "https://sws.geonames.org/2618425/"
#define SPATIAL_DENMARK EU_AUTH "country/DNK"

static json_t *lang_pair(json_t *da, json_t *en)
{
    json_t *arr = json_array();
    if (json_is_string(da))
        json_array_append_new(arr, json_pack("{s:O, s:s}", "@value", da, "@language", "da"));
    if (json_is_string(en))
        json_array_append_new(arr, json_pack("{s:O, s:s}", "@value", en, "@language", "en"));
    return arr;
}

/* lang_pair of two new strings: takes their references. */
static json_t *lang_pair_new(json_t *da, json_t *en)
{
    json_t *arr = lang_pair(da, en);
    json_decref(da);
    json_decref(en);
    return arr;
}

static json_t *typed(const char *value, const char *type)
{
    return json_pack("{s:s, s:s}", "@value", value, "@type", type);
}

static json_t *jsonld_context(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "rdfs", "http://www.w3.org/2000/01/rdf-schema#", "dcat",
                     "http://www.w3.org/ns/dcat#", "dct", "http://purl.org/dc/terms/", "foaf", "http://xmlns.com/foaf/0.1/",
                     "vcard", "http://www.w3.org/2006/vcard/ns#", "xsd", "http://www.w3.org/2001/XMLSchema#", "schema",
                     "https://schema.org/", "owl", "http://www.w3.org/2002/07/owl#", "adms", "http://www.w3.org/ns/adms#", "prov",
                     "http://www.w3.org/ns/prov#");
}

/* The release's provenance (meta.datasets.provenance: each real source that fed the dataset) as dct:provenance statements
 * and a prov:Activity per source dataset that fetched it. */
static void provenance(json_t *d, const app_dataset_t *ds)
{
    json_t *list = json_object_get(ds->json, "provenance"), *p, *stmts, *acts;
    size_t i;
    char label[768];

    if (!json_is_array(list) || json_array_size(list) == 0)
        return;
    stmts = json_array();
    acts = json_array();
    json_array_foreach(list, i, p)
    {
        const char *src = json_string_value(json_object_get(p, "source")), *set = json_string_value(json_object_get(p, "dataset"));
        const char *lic = json_string_value(json_object_get(p, "licence")),
                   *from = json_string_value(json_object_get(p, "covers_from"));
        const char *to = json_string_value(json_object_get(p, "covers_to"));
        const char *last = json_string_value(json_object_get(p, "last_fetched_at"));
        str_fmt(label, sizeof label, "%s, dataset %s (licence %s), covering %s to %s, last fetched %s", src ? src : "?",
                set ? set : "?", lic ? lic : "?", from ? from : "?", to ? to : "?", last ? last : "?");
        json_array_append_new(stmts, json_pack("{s:s, s:s}", "@type", "dct:ProvenanceStatement", "rdfs:label", label));
        json_t *act = json_pack("{s:s, s:s?, s:s?}", "@type", "prov:Activity", "rdfs:label", set, "prov:endedAtTime", last);
        if (json_is_string(json_object_get(p, "url")))
            json_object_set(act, "prov:used", json_object_get(p, "url"));
        json_array_append_new(acts, act);
    }
    json_object_set_new(d, "dct:provenance", stmts);
    json_object_set_new(d, "prov:wasGeneratedBy", acts);
}

static json_t *distribution(const char *base, const app_dataset_t *ds, const char *suffix, const char *url_fmt, const char *media,
                            const char *filetype, const char *title_da, const char *title_en)
{
    char idfmt[96];
    json_t *d = json_object(), *url = url_of(base, url_fmt, ds->id);
    str_fmt(idfmt, sizeof(idfmt), "/v1/datasets/%%s#%s", suffix);
    json_object_set_new(d, "@id", url_of(base, idfmt, ds->id));
    json_object_set_new(d, "@type", json_string("dcat:Distribution"));
    json_object_set_new(d, "dct:title", lang_pair_new(json_string(title_da), json_string(title_en)));
    json_object_set_new(d, "dcat:accessURL", json_pack("{s:O}", "@id", url));
    if (strcmp(suffix, "api") != 0)
        json_object_set_new(d, "dcat:downloadURL", json_pack("{s:O}", "@id", url));
    else
        json_object_set_new(d, "dcat:accessService", ref_of(base, "/v1/%s", "#api"));
    json_object_set_new(d, "dcat:mediaType", json_pack("{s:s+}", "@id", "https://www.iana.org/assignments/media-types/", media));
    json_object_set_new(d, "dct:format", json_pack("{s:s+}", "@id", EU_AUTH "file-type/", filetype));
    if (field(ds, "license_url") != NULL)
        json_object_set_new(d, "dct:license", iri(field(ds, "license_url")));
    json_decref(url);
    return d;
}

static json_t *dcat_dataset(const char *base, const app_dataset_t *ds)
{
    json_t *d = json_object(), *themes_arr = json_array(), *temporal, *dists;
    const char *theme = field(ds, "theme"), *freq = field(ds, "update_frequency");
    char ver[24];

    str_fmt(ver, sizeof(ver), "%llu", (unsigned long long)ds->version);
    json_object_set_new(d, "@id", url_of(base, "/v1/datasets/%s", ds->id));
    json_object_set_new(d, "@type", json_string("dcat:Dataset"));
    json_object_set_new(d, "dct:identifier", json_string(ds->id));
    json_object_set_new(d, "dct:title", lang_pair(json_object_get(ds->json, "title_da"), json_object_get(ds->json, "title_en")));
    json_object_set_new(d, "dct:description",
                        lang_pair(json_object_get(ds->json, "description_da"), json_object_get(ds->json, "description_en")));
    if (field(ds, "license_url") != NULL)
        json_object_set_new(d, "dct:license", iri(field(ds, "license_url")));
    json_object_set_new(d, "dct:publisher", ref_of(base, "/v1/catalog.jsonld%s", "#publisher"));
    json_object_set_new(d, "dcat:contactPoint",
                        json_pack("{s:s, s:s, s:o}", "@type", "vcard:Organization", "vcard:fn", "klimaspejl", "vcard:hasURL",
                                  ref_of(base, "/%s", "")));
    for (size_t i = 0; theme != NULL && i < sizeof(themes) / sizeof(themes[0]); ++i) {
        if (strcmp(themes[i].theme, theme) == 0)
            json_array_append_new(themes_arr, iri(themes[i].eu));
    }
    json_object_set_new(d, "dcat:theme", themes_arr);
    json_object_set(d, "dcat:keyword", json_object_get(ds->json, "keywords"));
    temporal = json_pack("{s:s}", "@type", "dct:PeriodOfTime");
    if (field(ds, "temporal_start") != NULL)
        json_object_set_new(temporal, "dcat:startDate", typed(field(ds, "temporal_start"), "xsd:dateTime"));
    if (field(ds, "temporal_end") != NULL)
        json_object_set_new(temporal, "dcat:endDate", typed(field(ds, "temporal_end"), "xsd:dateTime"));
    json_object_set_new(d, "dct:temporal", temporal);
    json_object_set_new(d, "dct:spatial", json_pack("[o, o]", iri(SPATIAL_COPENHAGEN), iri(SPATIAL_DENMARK)));
    for (size_t i = 0; freq != NULL && i < sizeof(frequencies) / sizeof(frequencies[0]); ++i) {
        if (strcmp(frequencies[i].duration, freq) == 0)
            json_object_set_new(d, "dct:accrualPeriodicity", iri(frequencies[i].eu));
    }
    if (json_object_get(d, "dct:accrualPeriodicity") == NULL)
        json_object_set_new(d, "dct:accrualPeriodicity", iri(EU_AUTH "frequency/IRREG"));
    if (field(ds, "temporal_resolution") != NULL)
        json_object_set_new(d, "dcat:temporalResolution", typed(field(ds, "temporal_resolution"), "xsd:duration"));
    json_object_set_new(d, "dcat:version", json_string(ver));
    /* meta.dataset_links: the datasets whose published cells this one is a formula of */
    json_t *from = json_array(), *f;
    size_t fi;
    json_array_foreach(json_object_get(ds->json, "derived_from"), fi, f)
    {
        if (json_is_string(f))
            json_array_append_new(from, ref_of(base, "/v1/datasets/%s", json_string_value(f)));
    }
    json_object_set_new(d, "prov:wasDerivedFrom", from);
    if (field(ds, "refreshed_at") != NULL)
        json_object_set_new(d, "dct:modified", typed(field(ds, "refreshed_at"), "xsd:dateTime"));
    json_object_set_new(d, "dct:language", json_pack("[o, o]", iri(EU_AUTH "language/DAN"), iri(EU_AUTH "language/ENG")));
    json_object_set_new(d, "dct:accessRights", iri(EU_AUTH "access-right/PUBLIC"));
    if (field(ds, "sources") != NULL)
        json_object_set_new(d, "dct:source", json_string(field(ds, "sources")));
    if (field(ds, "citation") != NULL)
        json_object_set_new(d, "dct:bibliographicCitation", json_string(field(ds, "citation")));
    provenance(d, ds);
    if (json_is_true(json_object_get(ds->json, "synthetic")))
        json_object_set_new(d, "adms:versionNotes",
                            lang_pair_new(json_string("Syntetiske data (klimaspejl seed), indtil rigtige data indlæses."),
                                          json_string("Synthetic data (klimaspejl seed) until real data is loaded.")));
    dists = json_array();
    json_array_append_new(dists, distribution(base, ds, "csv", "/v1/datasets/%s/download?format=csv", "text/csv", "CSV",
                                              "Hele datasættet som CSV", "The whole dataset as CSV"));
    json_array_append_new(dists, distribution(base, ds, "ndjson", "/v1/datasets/%s/download?format=ndjson", "application/x-ndjson",
                                              "JSON", "Hele datasættet som NDJSON", "The whole dataset as NDJSON"));
    json_array_append_new(dists, distribution(base, ds, "xlsx", "/v1/datasets/%s/download?format=xlsx",
                                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX",
                                              "Hele datasættet som Excel-regneark", "The whole dataset as an Excel workbook"));
    json_array_append_new(dists, distribution(base, ds, "api", "/v1/datasets/%s/records", "application/json", "JSON",
                                              "Filtrer og aggreger via API'et", "Filter and aggregate through the API"));
    json_object_set_new(d, "dcat:distribution", dists);
    return d;
}

/* The schema.org description of a dataset, for search engines (Google Dataset Search reads schema:Dataset). */
static json_t *schema_org_dataset(const char *base, const app_dataset_t *ds)
{
    json_t *d = json_object(), *vars = json_array(), *cols = json_object_get(ds->json, "columns"), *c;
    const char *start = field(ds, "temporal_start"), *end = field(ds, "temporal_end");
    char ver[24];
    size_t i;

    str_fmt(ver, sizeof(ver), "%llu", (unsigned long long)ds->version);
    json_object_set_new(d, "@id", url_of(base, "/v1/datasets/%s#schema-org", ds->id));
    json_object_set_new(d, "@type", json_string("schema:Dataset"));
    json_object_set(d, "schema:name", json_object_get(ds->json, "title_en"));
    json_object_set_new(d, "schema:alternateName",
                        json_pack("{s:O?, s:s}", "@value", json_object_get(ds->json, "title_da"), "@language", "da"));
    json_object_set(d, "schema:description", json_object_get(ds->json, "description_en"));
    json_object_set_new(d, "schema:url", url_of(base, "/v1/datasets/%s", ds->id));
    json_object_set_new(d, "schema:sameAs", ref_of(base, "/v1/datasets/%s", ds->id));
    json_object_set_new(d, "schema:identifier", json_string(ds->id));
    if (field(ds, "license_url") != NULL)
        json_object_set_new(d, "schema:license", iri(field(ds, "license_url")));
    json_object_set_new(d, "schema:isAccessibleForFree", json_true());
    json_object_set(d, "schema:keywords", json_object_get(ds->json, "keywords"));
    json_object_set_new(d, "schema:version", json_string(ver));
    json_object_set_new(d, "schema:inLanguage", json_pack("[s, s]", "da", "en"));
    json_object_set_new(d, "schema:creator",
                        json_pack("{s:s, s:s?}", "@type", "schema:Organization", "schema:name", field(ds, "publisher")));
    if (field(ds, "citation") != NULL)
        json_object_set_new(d, "schema:citation", json_string(field(ds, "citation")));
    if (start != NULL && end != NULL) {
        char range[160];
        str_fmt(range, sizeof(range), "%s/%s", start, end);
        json_object_set_new(d, "schema:temporalCoverage", json_string(range));
    }
    json_object_set_new(d, "schema:spatialCoverage",
                        json_pack("{s:s, s:s?, s:s}", "@type", "schema:Place", "schema:name", field(ds, "spatial_coverage"),
                                  "schema:sameAs", SPATIAL_COPENHAGEN));
    json_array_foreach(cols, i, c)
    {
        json_t *v = json_pack("{s:s, s:O?, s:O?}", "@type", "schema:PropertyValue", "schema:name", json_object_get(c, "name"),
                              "schema:description", json_object_get(c, "description_en"));
        if (json_is_string(json_object_get(c, "unit")))
            json_object_set(v, "schema:unitText", json_object_get(c, "unit"));
        json_array_append_new(vars, v);
    }
    json_object_set_new(d, "schema:variableMeasured", vars);
    json_object_set_new(d, "schema:distribution",
                        json_pack("[{s:s, s:s, s:o}, {s:s, s:s, s:o}]", "@type", "schema:DataDownload", "schema:encodingFormat",
                                  "text/csv", "schema:contentUrl", url_of(base, "/v1/datasets/%s/download?format=csv", ds->id),
                                  "@type", "schema:DataDownload", "schema:encodingFormat", "application/x-ndjson",
                                  "schema:contentUrl", url_of(base, "/v1/datasets/%s/download?format=ndjson", ds->id)));
    json_object_set_new(d, "schema:includedInDataCatalog", ref_of(base, "/v1/catalog.jsonld%s", "#catalog"));
    return d;
}

/* [{"@id": <base>/v1/datasets/<id>}, ...] of every dataset. */
static json_t *dataset_refs(const char *base, const app_catalog_t *cat)
{
    json_t *refs = json_array();
    for (size_t i = 0; i < cat->n; ++i)
        json_array_append_new(refs, ref_of(base, "/v1/datasets/%s", cat->datasets[i].id));
    return refs;
}

/* The dcat:Catalog node of the graph. */
static json_t *catalog_node(const char *base, const app_catalog_t *cat)
{
    json_t *catalog = json_object();
    json_object_set_new(catalog, "@id", url_of(base, "/v1/catalog.jsonld%s", "#catalog"));
    json_object_set_new(catalog, "@type", json_string("dcat:Catalog"));
    json_object_set_new(
        catalog, "dct:title",
        lang_pair_new(json_string("klimaspejl — Københavns klimadata"), json_string("klimaspejl — Copenhagen climate data")));
    json_object_set_new(catalog, "dct:description",
                        lang_pair_new(json_string("Anonymiserede data om energi, affald og transport i København, med de "
                                                  "emissionsfaktorer, der gør dem til CO2e."),
                                      json_string("Anonymized energy, waste and mobility data for Copenhagen, with the emission "
                                                  "factors that turn them into CO2e.")));
    json_object_set_new(catalog, "dct:publisher", ref_of(base, "/v1/catalog.jsonld%s", "#publisher"));
    json_object_set_new(catalog, "foaf:homepage", ref_of(base, "/%s", ""));
    json_object_set_new(catalog, "dct:language", json_pack("[o, o]", iri(EU_AUTH "language/DAN"), iri(EU_AUTH "language/ENG")));
    json_object_set_new(catalog, "dct:spatial", json_pack("[o]", iri(SPATIAL_COPENHAGEN)));
    json_object_set_new(catalog, "dct:license", iri("https://creativecommons.org/licenses/by/4.0/"));
    json_object_set_new(catalog, "dcat:dataset", dataset_refs(base, cat));
    json_object_set_new(catalog, "dcat:service", json_pack("[o]", ref_of(base, "/v1/%s", "#api")));
    return catalog;
}

/* The dcat:DataService node (the API) of the graph. */
static json_t *service_node(const char *base, const app_catalog_t *cat)
{
    json_t *service = json_object();
    json_object_set_new(service, "@id", url_of(base, "/v1/%s", "#api"));
    json_object_set_new(service, "@type", json_string("dcat:DataService"));
    json_object_set_new(service, "dct:title",
                        lang_pair_new(json_string("klimaspejl åbne data-API"), json_string("klimaspejl open-data API")));
    json_object_set_new(
        service, "dct:description",
        lang_pair_new(json_string("Filtrer, grupper, aggreger og hent datasættene (JSON, CSV, NDJSON, GeoJSON)."),
                      json_string("Filter, group, aggregate and download the datasets (JSON, CSV, NDJSON, GeoJSON).")));
    json_object_set_new(service, "dcat:endpointURL", ref_of(base, "/v1/%s", ""));
    json_object_set_new(service, "dcat:endpointDescription", ref_of(base, "/openapi.json%s", ""));
    json_object_set_new(service, "dct:conformsTo", iri("https://spec.openapis.org/oas/v3.1.0"));
    json_object_set_new(service, "dcat:servesDataset", dataset_refs(base, cat));
    json_object_set_new(service, "dct:publisher", ref_of(base, "/v1/catalog.jsonld%s", "#publisher"));
    json_object_set_new(service, "dct:license", iri("https://creativecommons.org/licenses/by/4.0/"));
    json_object_set_new(service, "dct:accessRights", iri(EU_AUTH "access-right/PUBLIC"));
    return service;
}

int opendata_metadata_catalog(h2o_req_t *req, const http_match_t *m)
{
    app_catalog_t *cat = app_catalog_acquire(req);
    char base[METADATA_URL_MAX], *etag = h2o_mem_alloc_pool(&req->pool, HTTP_ETAG_MAX), tmp[96];
    uint64_t h, versions = 0;
    unsigned max_age = 3600;
    json_t *graph;

    if (cat == NULL)
        return 0;
    opendata_metadata_base_url(req, base, sizeof(base));
    h = hash_bytes(base, strlen(base) + 1, HASH_SEED);
    for (size_t i = 0; i < cat->n; ++i) {
        const app_dataset_t *ds = &cat->datasets[i];
        str_fmt(tmp, sizeof(tmp), "%s=%llu;", ds->id, (unsigned long long)ds->version);
        h = hash_bytes(tmp, strlen(tmp), h);
        versions += ds->version;
        if (ds->max_age < max_age)
            max_age = ds->max_age;
    }
    http_etag_make(etag, versions, h);
    if (opendata_metadata_not_modified(req, app_route_of(m), etag, max_age))
        return 0;

    graph = json_array();
    json_array_append_new(graph, catalog_node(base, cat));
    json_array_append_new(graph, json_pack("{s:o, s:s, s:s, s:o}", "@id", url_of(base, "/v1/catalog.jsonld%s", "#publisher"),
                                           "@type", "foaf:Organization", "foaf:name", "Københavns Kommune (klimaspejl)",
                                           "foaf:homepage", iri("https://www.kk.dk/")));
    json_array_append_new(graph, service_node(base, cat));
    for (size_t i = 0; i < cat->n; ++i)
        json_array_append_new(graph, dcat_dataset(base, &cat->datasets[i]));
    for (size_t i = 0; i < cat->n; ++i)
        json_array_append_new(graph, schema_org_dataset(base, &cat->datasets[i]));

    opendata_metadata_cache_headers(req, app_route_of(m), etag, max_age, 0);
    opendata_metadata_send(req, json_pack("{s:o, s:o}", "@context", jsonld_context(), "@graph", graph), "application/ld+json");
    return 0;
}
