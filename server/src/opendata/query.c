/*
 * opendata/query — parse the records query language and build parameterized SQL from the catalog.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/hash.h"
#include "core/strutil.h"
#include "core/time.h"
#include "opendata/query.h"

typedef struct scratch {
    char *p;
    size_t left;
} scratch_t;

static char *scratch_copy(scratch_t *s, const char *src, size_t len)
{
    char *r;
    if (len + 1 > s->left)
        return NULL;
    r = s->p;
    memcpy(r, src, len);
    r[len] = '\0';
    s->p += len + 1;
    s->left -= len + 1;
    return r;
}

static opendata_query_status_t fail(opendata_query_error_t *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static opendata_query_status_t fail(opendata_query_error_t *err, const char *param, const char *fmt, ...)
{
    va_list ap;
    err->param = param;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return QUERY_INVALID;
}

static const char *const format_names[] = {
    [FORMAT_JSON] = "json", [FORMAT_CSV] = "csv", [FORMAT_NDJSON] = "ndjson", [FORMAT_GEOJSON] = "geojson"};

const char *opendata_format_name(opendata_format_t format)
{
    return (size_t)format < sizeof(format_names) / sizeof(format_names[0]) ? format_names[format] : "other";
}

/* --- value validation ---------------------------------------------------------------------------------------------- */

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return n > 0;
}

static const char *type_hint(const app_column_t *c)
{
    switch (c->type) {
    case COL_INTEGER:
        return "a whole number";
    case COL_NUMBER:
        return "a number";
    case COL_BOOLEAN:
        return "true or false";
    case COL_DATE:
        return "a date YYYY-MM-DD";
    case COL_DATETIME:
        return c->local ? "a local time YYYY-MM-DDTHH:MM[:SS] without offset" : "a time YYYY-MM-DDTHH:MM[:SS] with Z or ±HH:MM";
    default:
        return "text";
    }
}

/* Checks one value against the column. Returns 1 if valid. */
static int valid_value(const app_column_t *c, const char *s)
{
    size_t len = strlen(s);
    switch (c->type) {
    case COL_INTEGER:
        return len <= 19 && (s[0] == '-' ? is_digits(s + 1, len - 1) : is_digits(s, len)) && len < 19;
    case COL_NUMBER: {
        char *end;
        double d;
        if (len == 0 || len > 40 || strpbrk(s, "xXnNiI") != NULL)
            return 0;
        d = strtod(s, &end);
        return *end == '\0' && isfinite(d);
    }
    case COL_BOOLEAN:
        return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
    case COL_DATE:
        return time_date_parse(s, len, 1, NULL) == 0;
    case COL_DATETIME:
        return time_valid_datetime(s, c->local);
    case COL_STRING:
        if (len > 200)
            return 0;
        if (c->enum_values != NULL) {
            size_t i;
            json_t *v;
            json_array_foreach(c->enum_values, i, v)
            {
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                    return 1;
            }
            return 0;
        }
        return 1;
    }
    return 0;
}

static void list_enum(const app_column_t *c, char *out, size_t size)
{
    size_t i, used = 0;
    json_t *v;
    out[0] = '\0';
    if (c->enum_values == NULL)
        return;
    json_array_foreach(c->enum_values, i, v)
    {
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : " (one of: ", json_string_value(v));
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (used > 0 && used + 2 < size)
        memcpy(out + used, ")", 2);
}

/* --- the parameters ------------------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    unsigned flag;
} filter_ops[] = {{"eq", OP_EQ}, {"ne", OP_NE}, {"lt", OP_LT},   {"lte", OP_LTE},
                  {"gt", OP_GT}, {"gte", OP_GTE}, {"in", OP_IN}, {"between", OP_BETWEEN}};

static const char *op_sql(unsigned op)
{
    switch (op) {
    case OP_EQ:
        return "=";
    case OP_NE:
        return "<>";
    case OP_LT:
        return "<";
    case OP_LTE:
        return "<=";
    case OP_GT:
        return ">";
    case OP_GTE:
        return ">=";
    default:
        return "=";
    }
}

static void ops_list(unsigned ops, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(filter_ops) / sizeof(filter_ops[0]); ++i) {
        if ((ops & filter_ops[i].flag) == 0)
            continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", filter_ops[i].name);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* Appends s to a PostgreSQL array literal as a quoted element. */
static int array_append(scratch_t *sc, char **w, const char *s, size_t len, int first)
{
    size_t need = len * 2 + 4;
    if (need > sc->left)
        return -1;
    char *p = *w;
    if (!first)
        *p++ = ',';
    *p++ = '"';
    for (size_t i = 0; i < len; ++i) {
        if (s[i] == '"' || s[i] == '\\')
            *p++ = '\\';
        *p++ = s[i];
    }
    *p++ = '"';
    sc->left -= (size_t)(p - *w);
    *w = p;
    return 0;
}

static opendata_query_status_t parse_filter(opendata_query_t *q, const app_column_t *c, const char *pname, const char *v,
                                       scratch_t *sc, opendata_query_error_t *err)
{
    const char *colon = strchr(v, ':');
    unsigned op = OP_EQ;
    const char *val = v;
    char allowed[96];
    opendata_filter_t *f;

    if (!c->filterable) {
        return fail(err, pname, "Column '%s' cannot be filtered. The dataset's schema (GET /v1/datasets/%s) marks the "
                                "filterable columns.", c->name, q->ds->id);
    }
    if (colon != NULL) {
        for (size_t i = 0; i < sizeof(filter_ops) / sizeof(filter_ops[0]); ++i) {
            if (strlen(filter_ops[i].name) == (size_t)(colon - v) && memcmp(filter_ops[i].name, v, (size_t)(colon - v)) == 0) {
                op = filter_ops[i].flag;
                val = colon + 1;
            }
        }
    }
    ops_list(c->ops, allowed, sizeof(allowed));
    if ((c->ops & op) == 0)
        return fail(err, pname, "Operator not allowed on '%s'; allowed: %s (as %s=op:value).", c->name, allowed, c->name);
    if (q->nfilters == QUERY_MAX_FILTERS)
        return fail(err, pname, "At most %d filters per request.", QUERY_MAX_FILTERS);
    f = &q->filters[q->nfilters];
    f->col = c;
    f->op = op;
    f->value2 = NULL;
    if (op == OP_IN || op == OP_BETWEEN) {
        char *lit = sc->p, *w = sc->p;
        size_t count = 0;
        const char *p = val;
        const char *parts[2] = {NULL, NULL};
        if (sc->left < 3)
            return fail(err, pname, "The query is too long.");
        *w++ = '{';
        --sc->left;
        while (1) {
            const char *comma = strchr(p, ',');
            size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
            char one[256];
            if (len >= sizeof(one))
                return fail(err, pname, "A value in '%s' is too long.", pname);
            memcpy(one, p, len);
            one[len] = '\0';
            if (!valid_value(c, one)) {
                char en[512];
                list_enum(c, en, sizeof(en));
                return fail(err, pname, "'%s' is not valid for column '%s': expected %s%s.", one, c->name, type_hint(c), en);
            }
            if (op == OP_IN) {
                if (count == QUERY_MAX_IN)
                    return fail(err, pname, "At most %d values in an 'in' filter.", QUERY_MAX_IN);
                if (array_append(sc, &w, one, len, count == 0) != 0)
                    return fail(err, pname, "The query is too long.");
            } else if (count < 2) {
                parts[count] = p;
            }
            ++count;
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        if (op == OP_BETWEEN) {
            if (count != 2)
                return fail(err, pname, "'between' takes two values: %s=between:low,high.", c->name);
            const char *comma = strchr(val, ',');
            if ((f->value = scratch_copy(sc, val, (size_t)(comma - val))) == NULL ||
                (f->value2 = scratch_copy(sc, comma + 1, strlen(comma + 1))) == NULL)
                return fail(err, pname, "The query is too long.");
            (void)parts;
        } else {
            if (sc->left < 2)
                return fail(err, pname, "The query is too long.");
            *w++ = '}';
            *w++ = '\0';
            sc->left -= 2;
            sc->p = w;
            f->value = lit;
        }
    } else {
        if (!valid_value(c, val)) {
            char en[512];
            list_enum(c, en, sizeof(en));
            return fail(err, pname, "'%s' is not valid for column '%s': expected %s%s.", val, c->name, type_hint(c), en);
        }
        f->value = val;
    }
    ++q->nfilters;
    return QUERY_OK;
}

/* Splits a comma list; calls fn for each item. */
typedef opendata_query_status_t (*item_fn)(opendata_query_t *q, const char *item, size_t len, const char *pname, opendata_query_error_t *err);

static opendata_query_status_t for_each_item(opendata_query_t *q, const char *v, const char *pname, item_fn fn, opendata_query_error_t *err)
{
    const char *p = v;
    opendata_query_status_t st;
    if (*v == '\0')
        return fail(err, pname, "'%s' is empty.", pname);
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return fail(err, pname, "'%s' has an empty item.", pname);
        if ((st = fn(q, p, len, pname, err)) != QUERY_OK)
            return st;
        if (comma == NULL)
            return QUERY_OK;
        p = comma + 1;
    }
}

static opendata_query_status_t group_item(opendata_query_t *q, const char *item, size_t len, const char *pname, opendata_query_error_t *err)
{
    const app_column_t *c = app_dataset_column(q->ds, item, len);
    if (c == NULL || !c->groupable)
        return fail(err, pname, "'%.*s' is not a column this dataset can be grouped by.", (int)len, item);
    for (size_t i = 0; i < q->ngroup; ++i) {
        if (q->group[i] == c)
            return fail(err, pname, "'%s' appears twice in group_by.", c->name);
    }
    if (q->ngroup == QUERY_MAX_GROUP)
        return fail(err, pname, "At most %d group_by columns.", QUERY_MAX_GROUP);
    q->group[q->ngroup++] = c;
    return QUERY_OK;
}

static opendata_query_status_t measure_item(opendata_query_t *q, const char *item, size_t len, const char *pname, opendata_query_error_t *err)
{
    static const struct {
        const char *name;
        unsigned agg;
    } aggs[] = {{"sum", AGG_SUM}, {"avg", AGG_AVG}, {"min", AGG_MIN}, {"max", AGG_MAX}};
    const char *colon = memchr(item, ':', len);
    opendata_measure_t *m;

    if (q->nmeasures == QUERY_MAX_MEASURES)
        return fail(err, pname, "At most %d measures.", QUERY_MAX_MEASURES);
    m = &q->measures[q->nmeasures];
    if (colon == NULL) {
        if (len != 5 || memcmp(item, "count", 5) != 0)
            return fail(err, pname, "'%.*s' is not a measure: use count, or sum:, avg:, min:, max: with a column.", (int)len, item);
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
            return fail(err, pname, "'%.*s' is not an aggregation: use sum, avg, min or max.", (int)an, item);
        if (m->col == NULL || (m->col->aggs & m->agg) == 0)
            return fail(err, pname, "'%.*s' cannot be aggregated with %.*s; the dataset's schema lists each column's "
                                    "aggregations.", (int)(len - an - 1), colon + 1, (int)an, item);
        str_fmt(m->alias, sizeof(m->alias), "%.*s_%s", (int)an, item, m->col->name);
    }
    for (size_t i = 0; i < q->nmeasures; ++i) {
        if (strcmp(q->measures[i].alias, m->alias) == 0)
            return fail(err, pname, "'%s' appears twice in measures.", m->alias);
    }
    ++q->nmeasures;
    return QUERY_OK;
}

static opendata_query_status_t order_item(opendata_query_t *q, const char *item, size_t len, const char *pname, opendata_query_error_t *err)
{
    int desc = item[0] == '-';
    const app_column_t *c = app_dataset_column(q->ds, item + desc, len - (size_t)desc);
    if (c == NULL || c->role != ROLE_DIMENSION)
        return fail(err, pname, "'%.*s' is not a column the results can be ordered by (dimension columns; '-' prefix "
                                "for descending).", (int)(len - (size_t)desc), item + desc);
    for (size_t i = 0; i < q->norder; ++i) {
        if (q->order[i].col == c)
            return fail(err, pname, "'%s' appears twice in order.", c->name);
    }
    if (q->norder == QUERY_MAX_ORDER)
        return fail(err, pname, "At most %d order columns.", QUERY_MAX_ORDER);
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
    b64url_append(out, text, strlen(text));
    free(text);
}

static opendata_query_status_t decode_cursor(opendata_query_t *q, const char *v, scratch_t *sc, opendata_query_error_t *err)
{
    unsigned char raw[4096];
    int n = b64url_decode(v, strlen(v), raw, sizeof(raw));
    json_t *arr = n > 0 ? json_loadb((const char *)raw, (size_t)n, 0, NULL) : NULL, *keys;
    char qh[17];
    opendata_query_status_t st = QUERY_OK;

    if (!json_is_array(arr) || json_array_size(arr) != 3 || !json_is_integer(json_array_get(arr, 0)) ||
        !json_is_string(json_array_get(arr, 1)) || !json_is_array(keys = json_array_get(arr, 2))) {
        st = fail(err, "cursor", "The cursor is not one this server issued; use the next_cursor of a previous page.");
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
        st = fail(err, "cursor", "The cursor belongs to a different query: keep filters, group_by, measures, order, bucket and "
                                 "tz the same while paging.");
        goto exit;
    }
    if (json_array_size(keys) != q->norder) {
        st = fail(err, "cursor", "The cursor does not match this query's order.");
        goto exit;
    }
    for (size_t i = 0; i < q->norder; ++i) {
        json_t *k = json_array_get(keys, i);
        const char *s = json_string_value(k);
        if (s == NULL || (q->after[i] = scratch_copy(sc, s, strlen(s))) == NULL) {
            st = fail(err, "cursor", "The cursor is malformed.");
            goto exit;
        }
    }
    q->nafter = q->norder;
exit:
    json_decref(arr);
    return st;
}

/* --- the parser ---------------------------------------------------------------------------------------------------- */

static int valid_tz(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '/' || c == '+' ||
              c == '-'))
            return 0;
    }
    return s[0] != '/' && strstr(s, "..") == NULL;
}

opendata_query_status_t opendata_query_parse(opendata_query_t *q, const app_dataset_t *ds, const qs_param_t *params, size_t nparams,
                                   int for_download, char *scratch, size_t scratch_size, opendata_query_error_t *err)
{
    scratch_t sc = {scratch, scratch_size};
    const char *cursor = NULL, *group_by = NULL, *measures = NULL, *order = NULL;
    opendata_query_status_t st;
    uint64_t v;

    memset(q, 0, sizeof(*q));
    q->ds = ds;
    q->limit = QUERY_DEFAULT_LIMIT;
    q->delimiter = ',';
    memcpy(q->tz, "Europe/Copenhagen", sizeof("Europe/Copenhagen"));
    q->format = FORMAT_JSON;

    for (size_t i = 0; i < nparams; ++i) {
        const char *n = params[i].name, *val = params[i].value;
        const app_column_t *c;
        /* each reserved name once; repeated filters on a column are fine (ANDed) */
        for (size_t j = 0; j < i; ++j) {
            if (strcmp(params[j].name, n) == 0 && app_dataset_column(ds, n, strlen(n)) == NULL)
                return fail(err, n, "'%s' is given more than once.", n);
        }
        if (strcmp(n, "limit") == 0) {
            if (for_download)
                return fail(err, n, "Downloads stream every matching row; 'limit' applies to /records only.");
            if (str_to_uint(val, strlen(val), 1, QUERY_MAX_LIMIT, &v) != 0)
                return fail(err, n, "'limit' must be a whole number from 1 to %d.", QUERY_MAX_LIMIT);
            q->limit = (unsigned)v;
        } else if (strcmp(n, "cursor") == 0) {
            if (for_download)
                return fail(err, n, "Downloads stream every matching row; 'cursor' applies to /records only.");
            cursor = val;
        } else if (strcmp(n, "group_by") == 0 || strcmp(n, "measures") == 0) {
            if (for_download)
                return fail(err, n, "Downloads hold the dataset's own rows; use /records for '%s'.", n);
            if (n[0] == 'g')
                group_by = val;
            else
                measures = val;
        } else if (strcmp(n, "order") == 0) {
            order = val;
        } else if (strcmp(n, "tz") == 0) {
            if (!valid_tz(val))
                return fail(err, n, "'%s' is not an IANA time zone name such as Europe/Copenhagen or UTC.", val);
            str_fmt(q->tz, sizeof(q->tz), "%s", val);
        } else if (strcmp(n, "bucket") == 0) {
            static const char *const names[] = {"", "hour", "day", "week", "month", "year"};
            q->bucket = BUCKET_NONE;
            for (int b = 1; b <= 5; ++b) {
                if (strcmp(val, names[b]) == 0)
                    q->bucket = (opendata_bucket_t)b;
            }
            if (q->bucket == BUCKET_NONE)
                return fail(err, n, "'bucket' must be hour, day, week, month or year.");
        } else if (strcmp(n, "format") == 0) {
            if (strcmp(val, "json") == 0)
                q->format = FORMAT_JSON;
            else if (strcmp(val, "csv") == 0)
                q->format = FORMAT_CSV;
            else if (strcmp(val, "ndjson") == 0)
                q->format = FORMAT_NDJSON;
            else if (strcmp(val, "geojson") == 0 && !for_download)
                q->format = FORMAT_GEOJSON;
            else
                return fail(err, n, for_download ? "'format' must be csv or ndjson." : "'format' must be json, csv, ndjson or geojson.");
        } else if (strcmp(n, "delimiter") == 0) {
            if (strcmp(val, ",") == 0 || strcmp(val, ";") == 0)
                q->delimiter = val[0];
            else if (strcmp(val, "\t") == 0 || strcmp(val, "tab") == 0)
                q->delimiter = '\t';
            else
                return fail(err, n, "'delimiter' must be ',' (default), ';' (Danish Excel) or 'tab'.");
        } else if (strcmp(n, "bom") == 0) {
            if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
                q->bom = 1;
            else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
                q->bom = 0;
            else
                return fail(err, n, "'bom' must be 0 or 1.");
        } else if (strcmp(n, "lang") == 0) {
            /* accepted for symmetry with the metadata routes; records carry no text to translate */
        } else if ((c = app_dataset_column(ds, n, strlen(n))) != NULL) {
            if ((st = parse_filter(q, c, n, val, &sc, err)) != QUERY_OK)
                return st;
        } else {
            return fail(err, n, "'%s' is neither a column of dataset '%s' nor a known parameter (group_by, measures, order, "
                                "limit, cursor, bucket, tz, format, delimiter, bom).", n, ds->id);
        }
    }
    if (group_by != NULL && (st = for_each_item(q, group_by, "group_by", group_item, err)) != QUERY_OK)
        return st;
    if (measures != NULL && (st = for_each_item(q, measures, "measures", measure_item, err)) != QUERY_OK)
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
            return fail(err, "bucket", "'bucket' truncates a date or time column in group_by; group_by has none.");
        if (q->bucket_col->type == COL_DATE && (q->bucket == BUCKET_HOUR))
            return fail(err, "bucket", "'%s' is a date: bucket must be day, week, month or year.", q->bucket_col->name);
    }
    if (q->format == FORMAT_GEOJSON && app_dataset_column(ds, "district_id", 11) == NULL)
        return fail(err, "format", "GeoJSON needs a district_id column; dataset '%s' has none.", ds->id);
    if (q->format == FORMAT_GEOJSON && q->aggregated) {
        int has = 0;
        for (size_t i = 0; i < q->ngroup; ++i)
            has |= strcmp(q->group[i]->name, "district_id") == 0;
        if (!has)
            return fail(err, "format", "GeoJSON features are districts: include district_id in group_by.");
    }
    if (order != NULL && (st = for_each_item(q, order, "order", order_item, err)) != QUERY_OK)
        return st;
    if (q->aggregated) {
        for (size_t i = 0; i < q->norder; ++i) {
            int in_group = 0;
            for (size_t g = 0; g < q->ngroup; ++g)
                in_group |= q->group[g] == q->order[i].col;
            if (!in_group)
                return fail(err, "order", "'%s' is not in group_by; aggregated results are ordered by group columns.",
                            q->order[i].col->name);
        }
    }
    q->norder_requested = q->norder;
    /* tie-breakers make the order total, which keyset paging needs */
    if (q->norder == 0 && !q->aggregated) {
        for (size_t i = 0; i < ds->norder; ++i) {
            q->order[q->norder].col = ds->order[i];
            q->order[q->norder++].desc = 0;
        }
    }
    const app_column_t *const *keys = q->aggregated ? q->group : ds->pk;
    size_t nkeys = q->aggregated ? q->ngroup : ds->npk;
    for (size_t i = 0; i < nkeys; ++i) {
        int present = 0;
        for (size_t j = 0; j < q->norder; ++j)
            present |= q->order[j].col == keys[i];
        if (!present) {
            q->order[q->norder].col = keys[i];
            q->order[q->norder++].desc = 0;
        }
    }
    q->qhash = canonical_hash(q);
    if (cursor != NULL) {
        if (q->aggregated && q->ngroup == 0)
            return fail(err, "cursor", "A query without group_by returns one row; it has no next page.");
        if ((st = decode_cursor(q, cursor, &sc, err)) != QUERY_OK)
            return st;
    }
    return QUERY_OK;
}

/* --- SQL ------------------------------------------------------------------------------------------------------------ */

static size_t add_value(const char **values, size_t *n, const char *v)
{
    values[*n] = v;
    return ++*n;
}

/* The SQL expression of a column: the bucket truncation for the bucket column, the quoted name otherwise. */
static void col_expr(const opendata_query_t *q, const app_column_t *c, sbuf_t *sql, const char **values, size_t *nv)
{
    static const char *const names[] = {"", "hour", "day", "week", "month", "year"};
    if (c != q->bucket_col) {
        sbuf_printf(sql, "\"%s\"", c->name);
        return;
    }
    if (c->type == COL_DATE) {
        sbuf_printf(sql, "date_trunc('%s', \"%s\")::date", names[q->bucket], c->name);
    } else if (c->local) {
        sbuf_printf(sql, "date_trunc('%s', \"%s\")", names[q->bucket], c->name);
    } else {
        /* the same parameter number every time this expression appears, so GROUP BY can match it */
        sbuf_printf(sql, "date_trunc('%s', \"%s\", $1)", names[q->bucket], c->name);
    }
    (void)values;
    (void)nv;
}

void opendata_query_sql(const opendata_query_t *q, int copy, sbuf_t *sql, const char **values, size_t *nvalues)
{
    static const char *const agg_sql[] = {[AGG_SUM] = "sum", [AGG_AVG] = "avg", [AGG_MIN] = "min", [AGG_MAX] = "max"};
    int has_suppressed = app_dataset_column(q->ds, "suppressed", 10) != NULL;
    int aggregated = q->aggregated && !copy;

    *nvalues = 0;
    /* $1 is always the time zone (used by bucket expressions; harmless otherwise) */
    add_value(values, nvalues, q->tz);
    sbuf_puts(sql, "SELECT ");
    if (aggregated) {
        for (size_t i = 0; i < q->ngroup; ++i) {
            col_expr(q, q->group[i], sql, values, nvalues);
            sbuf_printf(sql, " AS \"%s\", ", q->group[i]->name);
        }
        for (size_t i = 0; i < q->nmeasures; ++i) {
            const opendata_measure_t *m = &q->measures[i];
            if (m->agg == 0)
                sbuf_puts(sql, "count(*)");
            else
                sbuf_printf(sql, "%s(\"%s\")", agg_sql[m->agg], m->col->name);
            sbuf_printf(sql, " AS \"%s\", ", m->alias);
        }
        if (has_suppressed)
            sbuf_puts(sql, "count(*) FILTER (WHERE \"suppressed\") AS \"suppressed_cells\", ");
        sbuf_puts(sql, "count(*) AS \"cells\"");
    } else {
        for (size_t i = 0; i < q->ds->ncols; ++i) {
            const app_column_t *c = &q->ds->cols[i];
            if (i)
                sbuf_puts(sql, ", ");
            /* COPY prints PostgreSQL's own text forms; give downloads the same ISO 8601 and true/false as /records */
            if (copy && c->type == COL_DATETIME && !c->local)
                sbuf_printf(sql, "to_char(\"%s\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS \"%s\"", c->name, c->name);
            else if (copy && c->type == COL_DATETIME)
                sbuf_printf(sql, "to_char(\"%s\", 'YYYY-MM-DD\"T\"HH24:MI:SS') AS \"%s\"", c->name, c->name);
            else if (copy == 1 && c->type == COL_BOOLEAN)
                sbuf_printf(sql, "\"%s\"::text AS \"%s\"", c->name, c->name);
            else
                sbuf_printf(sql, "\"%s\"", c->name);
        }
    }
    sbuf_printf(sql, " FROM %s WHERE $1::text IS NOT NULL", q->ds->view);
    for (size_t i = 0; i < q->nfilters; ++i) {
        const opendata_filter_t *f = &q->filters[i];
        if (f->op == OP_IN) {
            size_t n = add_value(values, nvalues, f->value);
            sbuf_printf(sql, " AND \"%s\" = ANY ($%zu)", f->col->name, n);
        } else if (f->op == OP_BETWEEN) {
            size_t a = add_value(values, nvalues, f->value), b = add_value(values, nvalues, f->value2);
            sbuf_printf(sql, " AND \"%s\" BETWEEN $%zu AND $%zu", f->col->name, a, b);
        } else {
            size_t n = add_value(values, nvalues, f->value);
            sbuf_printf(sql, " AND \"%s\" %s $%zu", f->col->name, op_sql(f->op), n);
        }
    }
    if (aggregated && q->ngroup > 0) {
        sbuf_puts(sql, " GROUP BY ");
        for (size_t i = 0; i < q->ngroup; ++i)
            sbuf_printf(sql, "%s%zu", i ? ", " : "", i + 1);
    }
    if (q->nafter > 0 && !copy) {
        /* keyset: (o1 > a1) OR (o1 = a1 AND o2 > a2) OR ..., with < for descending columns */
        size_t first = *nvalues + 1;
        for (size_t i = 0; i < q->nafter; ++i)
            add_value(values, nvalues, q->after[i]);
        sbuf_puts(sql, aggregated ? " HAVING (" : " AND (");
        for (size_t i = 0; i < q->nafter; ++i) {
            sbuf_puts(sql, i ? " OR (" : "(");
            for (size_t j = 0; j <= i; ++j) {
                if (j)
                    sbuf_puts(sql, " AND ");
                col_expr(q, q->order[j].col, sql, values, nvalues);
                sbuf_printf(sql, " %s $%zu", j < i ? "=" : (q->order[j].desc ? "<" : ">"), first + j);
            }
            sbuf_puts(sql, ")");
        }
        sbuf_puts(sql, ")");
    }
    if (q->norder > 0 && !(aggregated && q->ngroup == 0)) {
        sbuf_puts(sql, " ORDER BY ");
        for (size_t i = 0; i < q->norder; ++i) {
            if (i)
                sbuf_puts(sql, ", ");
            col_expr(q, q->order[i].col, sql, values, nvalues);
            if (q->order[i].desc)
                sbuf_puts(sql, " DESC");
        }
    }
    if (!copy)
        sbuf_printf(sql, " LIMIT %u", q->limit + 1);
}

size_t opendata_query_columns(const opendata_query_t *q, const char **names, app_col_type_t *types, size_t max)
{
    size_t n = 0;
    if (!q->aggregated) {
        for (size_t i = 0; i < q->ds->ncols && n < max; ++i, ++n) {
            names[n] = q->ds->cols[i].name;
            types[n] = q->ds->cols[i].type;
        }
        return n;
    }
    for (size_t i = 0; i < q->ngroup && n < max; ++i, ++n) {
        names[n] = q->group[i]->name;
        types[n] = q->group[i]->type;
    }
    for (size_t i = 0; i < q->nmeasures && n < max; ++i, ++n) {
        names[n] = q->measures[i].alias;
        types[n] = q->measures[i].agg == 0 ? COL_INTEGER : COL_NUMBER;
    }
    if (app_dataset_column(q->ds, "suppressed", 10) != NULL && n < max) {
        names[n] = "suppressed_cells";
        types[n++] = COL_INTEGER;
    }
    if (n < max) {
        names[n] = "cells";
        types[n++] = COL_INTEGER;
    }
    return n;
}
