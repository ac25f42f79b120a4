/*
 * opendata/query — the records query language: reserved parameters (one table of handlers), canonical hash and
 * cursor. Filters live in query_filter.c, the SQL in query_sql.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "core/b64.h"
#include "core/hash.h"
#include "core/strutil.h"
#include "opendata/query.h"

/* Bytes of a cursor's MAC (HMAC-SHA-256 under the server secret, truncated: 128 bits). */
#define CURSOR_MAC_BYTES 16

static const char *const format_names[] = {
    [FORMAT_JSON] = "json", [FORMAT_CSV] = "csv", [FORMAT_NDJSON] = "ndjson", [FORMAT_GEOJSON] = "geojson", [FORMAT_XLSX] = "xlsx"};

const char *opendata_format_name(opendata_format_t format)
{
    return (size_t)format < sizeof(format_names) / sizeof(format_names[0]) ? format_names[format] : "other";
}

/* Splits a comma list; calls fn for each item. */
typedef opendata_query_status_t (*item_fn)(opendata_query_t *q, const char *item, size_t len, const char *pname,
                                           opendata_query_error_t *err);

static opendata_query_status_t for_each_item(opendata_query_t *q, const char *v, const char *pname, item_fn fn,
                                             opendata_query_error_t *err)
{
    const char *p = v;
    opendata_query_status_t st;
    if (*v == '\0')
        return opendata_query_fail(err, pname, "'%s' is empty.", pname);
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return opendata_query_fail(err, pname, "'%s' has an empty item.", pname);
        if ((st = fn(q, p, len, pname, err)) != QUERY_OK)
            return st;
        if (comma == NULL)
            return QUERY_OK;
        p = comma + 1;
    }
}

static opendata_query_status_t group_item(opendata_query_t *q, const char *item, size_t len, const char *pname,
                                          opendata_query_error_t *err)
{
    const app_column_t *c = app_dataset_column(q->ds, item, len);
    if (c == NULL || !c->groupable)
        return opendata_query_fail(err, pname, "'%.*s' is not a column this dataset can be grouped by.", (int)len, item);
    for (size_t i = 0; i < q->ngroup; ++i) {
        if (q->group[i] == c)
            return opendata_query_fail(err, pname, "'%s' appears twice in group_by.", c->name);
    }
    if (q->ngroup == QUERY_MAX_GROUP)
        return opendata_query_fail(err, pname, "At most %d group_by columns.", QUERY_MAX_GROUP);
    q->group[q->ngroup++] = c;
    return QUERY_OK;
}

static opendata_query_status_t measure_item(opendata_query_t *q, const char *item, size_t len, const char *pname,
                                            opendata_query_error_t *err)
{
    static const struct {
        const char *name;
        unsigned agg;
    } aggs[] = {{"sum", AGG_SUM}, {"avg", AGG_AVG}, {"min", AGG_MIN}, {"max", AGG_MAX}};
    const char *colon = memchr(item, ':', len);
    opendata_measure_t *m;

    if (q->nmeasures == QUERY_MAX_MEASURES)
        return opendata_query_fail(err, pname, "At most %d measures.", QUERY_MAX_MEASURES);
    m = &q->measures[q->nmeasures];
    if (colon == NULL) {
        if (len != 5 || memcmp(item, "count", 5) != 0)
            return opendata_query_fail(err, pname, "'%.*s' is not a measure: use count, or sum:, avg:, min:, max: with a column.",
                                       (int)len, item);
        m->agg = 0;
        m->col = NULL;
        memcpy(m->alias, "count", 6);
    } else {
        size_t an = (size_t)(colon - item);
        m->agg = 0;
        for (size_t i = 0; i < sizeof(aggs) / sizeof(aggs[0]); ++i) {
            if (strlen(aggs[i].name) == an && memcmp(aggs[i].name, item, an) == 0)
                m->agg = aggs[i].agg;
        }
        m->col = app_dataset_column(q->ds, colon + 1, len - an - 1);
        if (m->agg == 0)
            return opendata_query_fail(err, pname, "'%.*s' is not an aggregation: use sum, avg, min or max.", (int)an, item);
        if (m->col == NULL || (m->col->aggs & m->agg) == 0)
            return opendata_query_fail(err, pname,
                                       "'%.*s' cannot be aggregated with %.*s; the dataset's schema lists each column's "
                                       "aggregations.",
                                       (int)(len - an - 1), colon + 1, (int)an, item);
        str_fmt(m->alias, sizeof(m->alias), "%.*s_%s", (int)an, item, m->col->name);
    }
    for (size_t i = 0; i < q->nmeasures; ++i) {
        if (strcmp(q->measures[i].alias, m->alias) == 0)
            return opendata_query_fail(err, pname, "'%s' appears twice in measures.", m->alias);
    }
    ++q->nmeasures;
    return QUERY_OK;
}

static opendata_query_status_t order_item(opendata_query_t *q, const char *item, size_t len, const char *pname,
                                          opendata_query_error_t *err)
{
    int desc = item[0] == '-';
    const app_column_t *c = app_dataset_column(q->ds, item + desc, len - (size_t)desc);
    if (c == NULL || c->role != ROLE_DIMENSION)
        return opendata_query_fail(err, pname,
                                   "'%.*s' is not a column the results can be ordered by (dimension columns; '-' prefix "
                                   "for descending).",
                                   (int)(len - (size_t)desc), item + desc);
    for (size_t i = 0; i < q->norder; ++i) {
        if (q->order[i].col == c)
            return opendata_query_fail(err, pname, "'%s' appears twice in order.", c->name);
    }
    if (q->norder == QUERY_MAX_ORDER)
        return opendata_query_fail(err, pname, "At most %d order columns.", QUERY_MAX_ORDER);
    q->order[q->norder].col = c;
    q->order[q->norder].desc = desc;
    ++q->norder;
    return QUERY_OK;
}

/* --- canonical hash and cursor ------------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t canonical_hash(const opendata_query_t *q)
{
    uint64_t fh[QUERY_MAX_FILTERS], h = HASH_SEED;
    char tmp[96];
    /* filters are ANDed: their order does not matter, so hash each and combine them sorted */
    for (size_t i = 0; i < q->nfilters; ++i) {
        const opendata_filter_t *f = &q->filters[i];
        uint64_t x = hash_str(f->col->name, HASH_SEED);
        str_fmt(tmp, sizeof(tmp), "%u", f->op);
        x = hash_str(tmp, x);
        x = hash_str(f->value, x);
        if (f->value2 != NULL)
            x = hash_str(f->value2, x);
        fh[i] = x;
    }
    qsort(fh, q->nfilters, sizeof(fh[0]), cmp_u64);
    h = hash_str(q->ds->id, h);
    h = hash_bytes(fh, q->nfilters * sizeof(fh[0]), h);
    for (size_t i = 0; i < q->ngroup; ++i)
        h = hash_str(q->group[i]->name, h);
    h = hash_bytes("|", 1, h);
    for (size_t i = 0; i < q->nmeasures; ++i)
        h = hash_str(q->measures[i].alias, h);
    h = hash_bytes("|", 1, h);
    for (size_t i = 0; i < q->norder; ++i) {
        h = hash_bytes(q->order[i].desc ? "-" : "+", 1, h);
        h = hash_str(q->order[i].col->name, h);
    }
    str_fmt(tmp, sizeof(tmp), "%d|%d|", (int)q->bucket, q->aggregated);
    h = hash_bytes(tmp, strlen(tmp), h);
    h = hash_str(q->tz, h);
    return h;
}

void opendata_query_cursor_encode(const opendata_query_t *q, const char *const *keys, size_t nkeys, sbuf_t *out)
{
    json_t *arr = json_array(), *k = json_array();
    char qh[17];
    char *text;
    str_fmt(qh, sizeof(qh), "%016llx", (unsigned long long)q->qhash);
    for (size_t i = 0; i < nkeys; ++i)
        json_array_append_new(k, keys[i] != NULL ? json_string(keys[i]) : json_null());
    json_array_append_new(arr, json_integer((json_int_t)q->ds->version));
    json_array_append_new(arr, json_string(qh));
    json_array_append_new(arr, k);
    text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL) {
        out->failed = 1;
        return;
    }
    {
        /* <base64url of the JSON>.<base64url of its MAC>: a cursor is the server's own, never a client's */
        size_t start = out->len;
        unsigned char mac[32];
        b64url_append(out, text, strlen(text));
        if (!out->failed) {
            app_auth_mac("cursor", out->data + start, out->len - start, mac);
            sbuf_putc(out, '.');
            b64url_append(out, (const char *)mac, CURSOR_MAC_BYTES);
        }
    }
    free(text);
}

/* A key of a cursor as PostgreSQL printed it (the last row's value of an order column): the column's type as a filter
 * value would have it, in PostgreSQL's text forms (t/f, "2025-01-01 00:00:00+00"). */
static int cursor_key_valid(const app_column_t *c, const char *s)
{
    size_t len = strlen(s);
    char tmp[48];
    switch (c->type) {
    case COL_BOOLEAN:
        return strcmp(s, "t") == 0 || strcmp(s, "f") == 0;
    case COL_STRING:
        return len <= 1000;
    case COL_DATETIME:
        if (len > 19 && len + 4 <= sizeof(tmp) && (s[len - 3] == '+' || s[len - 3] == '-')) {
            memcpy(tmp, s, len);
            memcpy(tmp + len, ":00", 4);
            return opendata_query_value_valid(c, tmp);
        }
        return opendata_query_value_valid(c, s);
    default:
        return opendata_query_value_valid(c, s);
    }
}

static opendata_query_status_t decode_cursor(opendata_query_t *q, const char *v, opendata_scratch_t *sc,
                                             opendata_query_error_t *err)
{
    unsigned char raw[4096], mac[32];
    const char *dot = strrchr(v, '.');
    int n = -1, macn = dot != NULL ? b64url_decode(dot + 1, strlen(dot + 1), mac, sizeof(mac)) : -1;
    json_t *arr = NULL, *keys;
    char qh[17];
    opendata_query_status_t st = QUERY_OK;

    /* the MAC first: nothing of a cursor the server did not issue is read */
    if (macn == CURSOR_MAC_BYTES && app_auth_mac_verify("cursor", v, (size_t)(dot - v), mac, CURSOR_MAC_BYTES))
        n = b64url_decode(v, (size_t)(dot - v), raw, sizeof(raw));
    arr = n > 0 ? json_loadb((const char *)raw, (size_t)n, 0, NULL) : NULL;
    if (!json_is_array(arr) || json_array_size(arr) != 3 || !json_is_integer(json_array_get(arr, 0)) ||
        !json_is_string(json_array_get(arr, 1)) || !json_is_array(keys = json_array_get(arr, 2))) {
        st =
            opendata_query_fail(err, "cursor", "The cursor is not one this server issued; use the next_cursor of a previous page.");
        goto exit;
    }
    if ((uint64_t)json_integer_value(json_array_get(arr, 0)) != q->ds->version) {
        err->param = "cursor";
        str_fmt(err->detail, sizeof(err->detail),
                "The dataset has been refreshed (now version %llu) since this cursor was issued; start again without a "
                "cursor.",
                (unsigned long long)q->ds->version);
        st = QUERY_GONE;
        goto exit;
    }
    str_fmt(qh, sizeof(qh), "%016llx", (unsigned long long)q->qhash);
    if (strcmp(json_string_value(json_array_get(arr, 1)), qh) != 0) {
        st = opendata_query_fail(err, "cursor",
                                 "The cursor belongs to a different query: keep filters, group_by, measures, order, bucket and "
                                 "tz the same while paging.");
        goto exit;
    }
    if (json_array_size(keys) != q->norder) {
        st = opendata_query_fail(err, "cursor", "The cursor does not match this query's order.");
        goto exit;
    }
    for (size_t i = 0; i < q->norder; ++i) {
        json_t *k = json_array_get(keys, i);
        const char *s = json_string_value(k);
        if (json_is_null(k) && q->order[i].col->nullable) {
            q->after[i] = NULL; /* the last row's key was NULL (NULLS LAST) */
            continue;
        }
        if (s == NULL || !cursor_key_valid(q->order[i].col, s) || (q->after[i] = opendata_scratch_copy(sc, s, strlen(s))) == NULL) {
            st = opendata_query_fail(err, "cursor", "The cursor is malformed.");
            goto exit;
        }
    }
    q->nafter = q->norder;
exit:
    json_decref(arr);
    return st;
}

/* --- the parameters ------------------------------------------------------------------------------------------------- */

/* What the reserved parameters leave for after the loop (the lists need every parameter first). */
typedef struct parse_state {
    const char *cursor, *group_by, *measures, *order;
    int for_download;
} parse_state_t;

typedef opendata_query_status_t (*param_fn)(opendata_query_t *q, parse_state_t *ps, const char *name, const char *v,
                                            opendata_query_error_t *err);

/* A value of a closed set: names[i] sets *out to values[i]. */
typedef struct choice {
    const char *name;
    int value;
} choice_t;

static int choose(const choice_t *table, size_t n, const char *v, int *out)
{
    for (size_t i = 0; i < n; ++i) {
        if (strcmp(table[i].name, v) == 0) {
            *out = table[i].value;
            return 0;
        }
    }
    return -1;
}

#define CHOOSE(table, v, out) choose(table, sizeof(table) / sizeof(table[0]), v, out)

static opendata_query_status_t p_limit(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                       opendata_query_error_t *err)
{
    uint64_t limit;
    if (ps->for_download)
        return opendata_query_fail(err, n, "Downloads stream every matching row; 'limit' applies to /records only.");
    if (str_to_uint(v, strlen(v), 1, QUERY_MAX_LIMIT, &limit) != 0)
        return opendata_query_fail(err, n, "'limit' must be a whole number from 1 to %d.", QUERY_MAX_LIMIT);
    q->limit = (unsigned)limit;
    return QUERY_OK;
}

static opendata_query_status_t p_cursor(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                        opendata_query_error_t *err)
{
    if (ps->for_download)
        return opendata_query_fail(err, n, "Downloads stream every matching row; 'cursor' applies to /records only.");
    ps->cursor = v;
    return QUERY_OK;
}

static opendata_query_status_t p_aggregate(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                           opendata_query_error_t *err)
{
    if (ps->for_download)
        return opendata_query_fail(err, n, "Downloads hold the dataset's own rows; use /records for '%s'.", n);
    *(n[0] == 'g' ? &ps->group_by : &ps->measures) = v;
    return QUERY_OK;
}

static opendata_query_status_t p_order(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                       opendata_query_error_t *err)
{
    ps->order = v;
    return QUERY_OK;
}

static opendata_query_status_t p_tz(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                    opendata_query_error_t *err)
{
    /* Checked whether or not a bucket uses it (a value is refused or taken, never ignored), against the database's own
     * list, which comes with the first catalog load; until it is there only the defaults pass (503 for the rest): an
     * unknown name must never reach PostgreSQL. */
    int known;
    if (ps->for_download)
        return opendata_query_fail(err, n,
                                   "Downloads hold the dataset's own rows (instants in UTC, _dk columns in Copenhagen time); "
                                   "'tz' applies to bucket in /records.");
    known = opendata_query_tz_valid(v) ? app_catalog_tz_known(v) : 0;
    if (known < 0) {
        opendata_query_fail(err, n, "The list of time zones has not been loaded yet; try again shortly.");
        return QUERY_UNAVAILABLE;
    }
    if (known == 0) /* an offset: PostgreSQL would read "+01" as UTC-1 */
        return opendata_query_fail(err, n,
                                   opendata_query_tz_is_offset(v) ? "'%s' is a UTC offset; 'tz' expects %s."
                                                                  : "'%s' is not valid for tz: expected %s.",
                                   v, app_catalog_tz_hint(v));
    str_fmt(q->tz, sizeof(q->tz), "%s", v);
    return QUERY_OK;
}

/* duplicate: the closed-set parameters (bucket, format, delimiter, bom) are alike by design: a choice table and one
 * line storing the choice each. */
static opendata_query_status_t p_bucket(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                        opendata_query_error_t *err)
{
    static const choice_t buckets[] = {
        {"hour", BUCKET_HOUR}, {"day", BUCKET_DAY}, {"week", BUCKET_WEEK}, {"month", BUCKET_MONTH}, {"year", BUCKET_YEAR}};
    int b;
    if (CHOOSE(buckets, v, &b) != 0)
        return opendata_query_fail(err, n, "'bucket' must be hour, day, week, month or year.");
    q->bucket = (opendata_bucket_t)b;
    return QUERY_OK;
}

static opendata_query_status_t p_format(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                        opendata_query_error_t *err)
{
    static const choice_t formats[] = {
        {"json", FORMAT_JSON}, {"csv", FORMAT_CSV}, {"ndjson", FORMAT_NDJSON}, {"geojson", FORMAT_GEOJSON}, {"xlsx", FORMAT_XLSX}};
    int f;
    if (CHOOSE(formats, v, &f) != 0 || (ps->for_download && f == FORMAT_GEOJSON))
        return opendata_query_fail(err, n,
                                   ps->for_download ? "'format' must be csv, ndjson or xlsx."
                                                    : "'format' must be json, csv, ndjson, geojson or xlsx.");
    q->format = (opendata_format_t)f;
    return QUERY_OK;
}

static opendata_query_status_t p_delimiter(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                           opendata_query_error_t *err)
{
    static const choice_t delimiters[] = {{",", ','}, {";", ';'}, {"\t", '\t'}, {"tab", '\t'}};
    int d;
    if (CHOOSE(delimiters, v, &d) != 0)
        return opendata_query_fail(err, n, "'delimiter' must be ',' (default), ';' (Danish Excel) or 'tab'.");
    q->delimiter = (char)d;
    return QUERY_OK;
}

static opendata_query_status_t p_decimal(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                         opendata_query_error_t *err)
{
    static const choice_t separators[] = {{".", '.'}, {",", ','}};
    int d;
    if (CHOOSE(separators, v, &d) != 0)
        return opendata_query_fail(err, n, "'decimal' must be '.' or ','.");
    q->decimal = (char)d;
    return QUERY_OK;
}

static opendata_query_status_t p_bom(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                     opendata_query_error_t *err)
{
    static const choice_t bools[] = {{"1", 1}, {"true", 1}, {"0", 0}, {"false", 0}};
    if (CHOOSE(bools, v, &q->bom) != 0)
        return opendata_query_fail(err, n, "'bom' must be 0 or 1.");
    return QUERY_OK;
}

/* Accepted for symmetry with the metadata routes; records carry no text to translate. */
static opendata_query_status_t p_lang(opendata_query_t *q, parse_state_t *ps, const char *n, const char *v,
                                      opendata_query_error_t *err)
{
    return QUERY_OK;
}

/* The reserved parameters; every other name must be a column (a filter). */
static const struct {
    const char *name;
    param_fn fn;
} reserved[] = {
    {"limit", p_limit}, {"cursor", p_cursor}, {"group_by", p_aggregate}, {"measures", p_aggregate},  {"order", p_order},
    {"tz", p_tz},       {"bucket", p_bucket}, {"format", p_format},      {"delimiter", p_delimiter}, {"decimal", p_decimal},
    {"bom", p_bom},     {"lang", p_lang},
};

/* One parameter: reserved names once each, columns as filters (repeated filters on a column are ANDed). */
static opendata_query_status_t parse_param(opendata_query_t *q, parse_state_t *ps, const qs_param_t *params, size_t i,
                                           opendata_scratch_t *sc, opendata_query_error_t *err)
{
    const char *n = params[i].name, *v = params[i].value;
    const app_column_t *c = app_dataset_column(q->ds, n, strlen(n));

    for (size_t j = 0; j < i && c == NULL; ++j) {
        if (strcmp(params[j].name, n) == 0)
            return opendata_query_fail(err, n, "'%s' is given more than once.", n);
    }
    for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); ++k) {
        if (strcmp(reserved[k].name, n) == 0)
            return reserved[k].fn(q, ps, n, v, err);
    }
    if (c != NULL)
        return opendata_query_filter(q, c, n, v, sc, err);
    return opendata_query_fail(
        err, n,
        "'%s' is neither a column of dataset '%s' nor a known parameter (group_by, measures, order, limit, cursor, "
        "bucket, tz, format, delimiter, decimal, bom).",
        n, q->ds->id);
}

/* --- after the parameters ------------------------------------------------------------------------------------------- */

/* group_by and measures (count when only group_by is given), then the bucket's column and the GeoJSON conditions. */
static opendata_query_status_t finish_aggregation(opendata_query_t *q, const parse_state_t *ps, opendata_query_error_t *err)
{
    opendata_query_status_t st;

    if (ps->group_by != NULL && (st = for_each_item(q, ps->group_by, "group_by", group_item, err)) != QUERY_OK)
        return st;
    if (ps->measures != NULL && (st = for_each_item(q, ps->measures, "measures", measure_item, err)) != QUERY_OK)
        return st;
    q->aggregated = q->ngroup > 0 || q->nmeasures > 0;
    if (q->aggregated && q->nmeasures == 0) {
        q->measures[0].agg = 0;
        q->measures[0].col = NULL;
        memcpy(q->measures[0].alias, "count", 6);
        q->nmeasures = 1;
    }
    if (q->bucket != BUCKET_NONE) {
        for (size_t i = 0; i < q->ngroup && q->bucket_col == NULL; ++i) {
            if (q->group[i]->type == COL_DATETIME || q->group[i]->type == COL_DATE)
                q->bucket_col = q->group[i];
        }
        if (q->bucket_col == NULL)
            return opendata_query_fail(err, "bucket", "'bucket' truncates a date or time column in group_by; group_by has none.");
        if (q->bucket_col->type == COL_DATE && q->bucket == BUCKET_HOUR)
            return opendata_query_fail(err, "bucket", "'%s' is a date: bucket must be day, week, month or year.",
                                       q->bucket_col->name);
    }
    if (q->format == FORMAT_GEOJSON && app_dataset_column(q->ds, "district_id", 11) == NULL)
        return opendata_query_fail(err, "format", "GeoJSON needs a district_id column; dataset '%s' has none.", q->ds->id);
    if (q->format == FORMAT_GEOJSON && q->aggregated) {
        int has = 0;
        for (size_t i = 0; i < q->ngroup; ++i)
            has |= strcmp(q->group[i]->name, "district_id") == 0;
        if (!has)
            return opendata_query_fail(err, "format", "GeoJSON features are districts: include district_id in group_by.");
    }
    return QUERY_OK;
}

/* The requested order, then tie-breakers that make it total (keyset paging needs that): the dataset's default order and
 * primary key, or the group columns of an aggregate. */
static opendata_query_status_t finish_order(opendata_query_t *q, const parse_state_t *ps, opendata_query_error_t *err)
{
    const app_column_t *const *keys = q->aggregated ? q->group : q->ds->pk;
    size_t nkeys = q->aggregated ? q->ngroup : q->ds->npk;
    opendata_query_status_t st;

    if (ps->order != NULL && (st = for_each_item(q, ps->order, "order", order_item, err)) != QUERY_OK)
        return st;
    for (size_t i = 0; q->aggregated && i < q->norder; ++i) {
        int in_group = 0;
        for (size_t g = 0; g < q->ngroup; ++g)
            in_group |= q->group[g] == q->order[i].col;
        if (!in_group)
            return opendata_query_fail(err, "order", "'%s' is not in group_by; aggregated results are ordered by group columns.",
                                       q->order[i].col->name);
    }
    q->norder_requested = q->norder;
    if (q->norder == 0 && !q->aggregated) {
        for (size_t i = 0; i < q->ds->norder; ++i) {
            q->order[q->norder].col = q->ds->order[i];
            q->order[q->norder++].desc = 0;
        }
    }
    for (size_t i = 0; i < nkeys; ++i) {
        int present = 0;
        for (size_t j = 0; j < q->norder; ++j)
            present |= q->order[j].col == keys[i];
        if (!present) {
            q->order[q->norder].col = keys[i];
            q->order[q->norder++].desc = 0;
        }
    }
    return QUERY_OK;
}

opendata_query_status_t opendata_query_parse(opendata_query_t *q, const app_dataset_t *ds, const qs_param_t *params, size_t nparams,
                                             int for_download, char *scratch, size_t scratch_size, opendata_query_error_t *err)
{
    opendata_scratch_t sc = {scratch, scratch_size};
    parse_state_t ps = {NULL, NULL, NULL, NULL, for_download};
    opendata_query_status_t st;

    memset(q, 0, sizeof(*q));
    q->ds = ds;
    q->limit = QUERY_DEFAULT_LIMIT;
    q->delimiter = ',';
    memcpy(q->tz, "Europe/Copenhagen", sizeof("Europe/Copenhagen"));
    q->format = FORMAT_JSON;
    for (size_t i = 0; i < nparams; ++i) {
        if ((st = parse_param(q, &ps, params, i, &sc, err)) != QUERY_OK)
            return st;
    }
    if ((st = finish_aggregation(q, &ps, err)) != QUERY_OK || (st = finish_order(q, &ps, err)) != QUERY_OK)
        return st;
    if (q->decimal == 0)
        q->decimal = q->delimiter == ';' ? ',' : '.';
    else if (q->decimal == ',' && q->delimiter == ',')
        return opendata_query_fail(err, "decimal",
                                   "'decimal=,' needs delimiter=; or delimiter=tab (a comma cannot separate both).");
    q->qhash = canonical_hash(q);
    if (ps.cursor != NULL) {
        if (q->aggregated && q->ngroup == 0)
            return opendata_query_fail(err, "cursor", "A query without group_by returns one row; it has no next page.");
        if ((st = decode_cursor(q, ps.cursor, &sc, err)) != QUERY_OK)
            return st;
    }
    return QUERY_OK;
}
