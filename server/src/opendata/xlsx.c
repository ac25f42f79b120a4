/*
 * opendata/xlsx — the spreadsheet's description of a records query or download.
 */
#include <string.h>

#include "core/hash.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "opendata/metadata.h"
#include "opendata/xlsx.h"

#define XLSX_URL_MAX 2048

static const char *json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The catalog's description (units, texts, decimals) of dataset column c. */
static void describe(app_xlsx_column_t *out, const app_dataset_t *ds, const app_column_t *c)
{
    const json_t *j = json_array_get(json_object_get(ds->json, "columns"), (size_t)(c - ds->cols));
    out->type = c->type;
    out->scale = c->type == COL_NUMBER ? c->scale : c->type == COL_INTEGER ? 0 : -1;
    out->unit = json_str(j, "unit");
    out->description_en = json_str(j, "description_en");
    out->description_da = json_str(j, "description_da");
}

/* A measure's column: its source column's unit and decimals (avg: two more), its aggregate named in the texts. */
static void describe_measure(h2o_req_t *req, app_xlsx_column_t *out, const opendata_query_t *q, const opendata_measure_t *m)
{
    static const char *const en[] = {[AGG_SUM] = "sum", [AGG_AVG] = "mean", [AGG_MIN] = "least", [AGG_MAX] = "greatest"};
    static const char *const da[] = {[AGG_SUM] = "sum", [AGG_AVG] = "gennemsnit", [AGG_MIN] = "mindste", [AGG_MAX] = "største"};
    char text[600];

    if (m->col == NULL) {
        out->type = COL_INTEGER;
        out->scale = 0;
        out->description_en = "number of published cells in the group";
        out->description_da = "antal offentliggjorte celler i gruppen";
        return;
    }
    describe(out, q->ds, m->col);
    out->type = COL_NUMBER;
    if (m->agg == AGG_AVG)
        out->scale = m->col->scale + QUERY_AVG_EXTRA_SCALE;
    str_fmt(text, sizeof(text), "%s of %s: %s", en[m->agg], m->col->name, out->description_en ? out->description_en : "");
    out->description_en = h2o_strdup(&req->pool, text, SIZE_MAX).base;
    str_fmt(text, sizeof(text), "%s af %s: %s", da[m->agg], m->col->name, out->description_da ? out->description_da : "");
    out->description_da = h2o_strdup(&req->pool, text, SIZE_MAX).base;
}

/* The columns of q's result, as opendata_query_columns lists them. */
static size_t columns(h2o_req_t *req, const opendata_query_t *q, app_xlsx_column_t *cols, size_t max)
{
    const char *names[64];
    app_col_type_t types[64];
    size_t n = opendata_query_columns(q, names, types, max < 64 ? max : 64), at = 0;

    for (size_t i = 0; i < n; ++i) {
        cols[i] = (app_xlsx_column_t){.name = names[i], .type = types[i], .scale = types[i] == COL_INTEGER ? 0 : -1};
        if (!q->aggregated) {
            describe(&cols[i], q->ds, &q->ds->cols[i]);
        } else if (i < q->ngroup) {
            describe(&cols[i], q->ds, q->group[i]);
        } else if ((at = i - q->ngroup) < q->nmeasures) {
            describe_measure(req, &cols[i], q, &q->measures[at]);
        } else {
            cols[i].description_en = strcmp(names[i], "cells") == 0 ? "number of published cells in the group"
                                                                    : "number of those cells whose values are suppressed";
            cols[i].description_da = strcmp(names[i], "cells") == 0 ? "antal offentliggjorte celler i gruppen"
                                                                    : "antal af de celler, hvis værdier er undertrykt";
        }
    }
    return n;
}

/* "a, b, c" of a JSON array of strings, in req's pool; NULL when there is none. */
static const char *joined(h2o_req_t *req, const json_t *arr)
{
    sbuf_t b = SBUF_INIT(SBUF_CAP_VALUE);
    const char *out = NULL;
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            sbuf_printf(&b, "%s%s", b.len ? ", " : "", json_string_value(v));
    }
    if (!sbuf_failed(&b) && b.data != NULL)
        out = h2o_strdup(&req->pool, b.data, b.len).base;
    sbuf_free(&b);
    return out;
}

app_xlsx_book_t *opendata_xlsx_book(h2o_req_t *req, const opendata_query_t *q)
{
    const app_dataset_t *ds = q->ds;
    app_xlsx_book_t *b = h2o_mem_alloc_pool(&req->pool, sizeof(*b));
    app_xlsx_column_t *cols = h2o_mem_alloc_pool(&req->pool, 64 * sizeof(*cols));
    char *url = h2o_mem_alloc_pool(&req->pool, XLSX_URL_MAX);
    size_t n = opendata_metadata_base_url(req, url, XLSX_URL_MAX);
    int64_t released = 0;
    int kind;

    str_fmt(url + n, XLSX_URL_MAX - n, "%.*s", (int)req->path.len, req->path.base);
    memset(b, 0, sizeof(*b));
    b->dataset = ds->id;
    b->title_en = json_str(ds->json, "title_en");
    b->title_da = json_str(ds->json, "title_da");
    b->description = json_str(ds->json, "description_en");
    b->publisher = json_str(ds->json, "publisher");
    b->licence = json_str(ds->json, "license");
    b->licence_url = json_str(ds->json, "license_url");
    b->version = ds->version_str;
    b->released = json_str(ds->json, "refreshed_at");
    b->source_url = url;
    b->citation = json_str(ds->json, "citation");
    b->keywords = joined(req, json_object_get(ds->json, "keywords"));
    if (json_is_true(json_object_get(ds->json, "synthetic")))
        b->note = "Synthetic data (klimaspejl seed) until real data is loaded. / Syntetiske data (klimaspejl seed), indtil "
                  "rigtige data indlæses.";
    /* the release's time (never 0, which libxlsxwriter reads as "now"): one release, one file, byte for byte */
    if (b->released == NULL || time_datetime_seconds(b->released, &released, &kind) != 0 || released <= 0)
        released = 1;
    b->created = (time_t)released;
    b->cols = cols;
    b->ncols = columns(req, q, cols, 64);
    return b;
}

uint64_t opendata_xlsx_request_hash(h2o_req_t *req, const opendata_query_t *q)
{
    uint64_t h = hash_bytes(req->path.base, req->path.len, HASH_SEED);
    char base[XLSX_URL_MAX];

    if (q->format == FORMAT_XLSX) {
        size_t n = opendata_metadata_base_url(req, base, sizeof(base));
        h = hash_bytes(base, n, h);
    }
    return h;
}
