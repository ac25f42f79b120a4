/*
 * opendata/query_filter — the filters of the records query language: col=op:value, every value checked against its
 * column's type (and enum) before any SQL exists.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strutil.h"
#include "core/time.h"
#include "opendata/query.h"

char *opendata_scratch_copy(opendata_scratch_t *s, const char *src, size_t len)
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

opendata_query_status_t opendata_query_fail(opendata_query_error_t *err, const char *param, const char *fmt, ...)
{
    va_list ap;
    err->param = param;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return QUERY_INVALID;
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

/* A whole number that fits the column's integer type (int8 when the view's type is not an integer type). */
static int valid_integer(const app_column_t *c, const char *s, size_t len)
{
    long long v;
    char *end;
    if (len > 20 || !(s[0] == '-' ? is_digits(s + 1, len - 1) : is_digits(s, len)))
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    switch (c->sql_type) {
    case SQLT_INT2:
        return v >= INT16_MIN && v <= INT16_MAX;
    case SQLT_INT4:
        return v >= INT32_MIN && v <= INT32_MAX;
    default:
        return 1;
    }
}

/* A finite decimal number (digits, optional fraction and exponent; no hex, inf or nan) that neither overflows nor
 * underflows the column's type: strtod/strtof report both as ERANGE (1e-400 would round to 0, which PostgreSQL's float
 * types refuse), and numeric(p,s) holds fewer than 10^(p-s). */
static int valid_number(const app_column_t *c, const char *s, size_t len)
{
    char *end;
    double d;
    if (len == 0 || len > 40 || strpbrk(s, "xXnNiI \t\r\n\v\f") != NULL)
        return 0;
    switch (c->sql_type) {
    case SQLT_INT2:
    case SQLT_INT4:
    case SQLT_INT8:
        return valid_integer(c, s, len);
    case SQLT_FLOAT4:
        errno = 0;
        (void)strtof(s, &end);
        return *end == '\0' && errno == 0;
    default:
        break;
    }
    errno = 0;
    d = strtod(s, &end);
    if (*end != '\0' || errno != 0 || !isfinite(d))
        return 0;
    if (c->sql_type == SQLT_NUMERIC && c->sql_precision > 0)
        return fabs(d) < pow(10.0, c->sql_precision - c->sql_scale) - 0.5 * pow(10.0, -c->sql_scale);
    return 1;
}

/* Checks one value against the column: its catalog type, and the range of the type the view declares, so that nothing
 * PostgreSQL would refuse (and log as an error) is ever sent. Returns 1 if valid. */
int opendata_query_value_valid(const app_column_t *c, const char *s)
{
    size_t len = strlen(s);
    switch (c->type) {
    case COL_INTEGER:
        return valid_integer(c, s, len);
    case COL_NUMBER:
        return valid_number(c, s, len);
    case COL_BOOLEAN:
        return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
    case COL_DATE:
        return time_date_parse(s, len, 1, NULL) == 0;
    case COL_DATETIME:
        return time_valid_datetime(s, c->local || c->sql_type == SQLT_TIMESTAMP);
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
} filter_ops[] = {{"eq", OP_EQ}, {"ne", OP_NE},   {"lt", OP_LT}, {"lte", OP_LTE},
                  {"gt", OP_GT}, {"gte", OP_GTE}, {"in", OP_IN}, {"between", OP_BETWEEN}};

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
static int array_append(opendata_scratch_t *sc, char **w, const char *s, size_t len, int first)
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

/* "'x' is not valid for column c: expected <type>" with the enum values when the column has them. */
static opendata_query_status_t fail_value(opendata_query_error_t *err, const char *pname, const app_column_t *c, const char *value)
{
    char en[512];
    list_enum(c, en, sizeof(en));
    return opendata_query_fail(err, pname, "'%s' is not valid for column '%s': expected %s%s.", value, c->name, type_hint(c), en);
}

/* The values of an in or between filter: in becomes a PostgreSQL array literal in scratch, between its two bounds. */
static opendata_query_status_t parse_list(opendata_query_t *q, opendata_filter_t *f, const char *pname, const char *val,
                                          opendata_scratch_t *sc, opendata_query_error_t *err)
{
    char *lit = sc->p, *w = sc->p;
    size_t count = 0;
    const char *p = val, *comma;

    if (sc->left < 3)
        return opendata_query_fail(err, pname, "The query is too long.");
    *w++ = '{';
    --sc->left;
    for (;; p = comma + 1) {
        size_t len;
        char one[256];
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len >= sizeof(one))
            return opendata_query_fail(err, pname, "A value in '%s' is too long.", pname);
        memcpy(one, p, len);
        one[len] = '\0';
        if (!opendata_query_value_valid(f->col, one))
            return fail_value(err, pname, f->col, one);
        if (f->op == OP_IN && count == QUERY_MAX_IN)
            return opendata_query_fail(err, pname, "At most %d values in an 'in' filter.", QUERY_MAX_IN);
        if (f->op == OP_IN && array_append(sc, &w, one, len, count == 0) != 0)
            return opendata_query_fail(err, pname, "The query is too long.");
        ++count;
        if (comma == NULL)
            break;
    }
    if (f->op == OP_BETWEEN) {
        if (count != 2)
            return opendata_query_fail(err, pname, "'between' takes two values: %s=between:low,high.", f->col->name);
        comma = strchr(val, ',');
        if ((f->value = opendata_scratch_copy(sc, val, (size_t)(comma - val))) == NULL ||
            (f->value2 = opendata_scratch_copy(sc, comma + 1, strlen(comma + 1))) == NULL)
            return opendata_query_fail(err, pname, "The query is too long.");
        return QUERY_OK;
    }
    if (sc->left < 2)
        return opendata_query_fail(err, pname, "The query is too long.");
    *w++ = '}';
    *w++ = '\0';
    sc->left -= 2;
    sc->p = w;
    f->value = lit;
    return QUERY_OK;
}

/* col=op:value (a bare value means eq): the operator must be one the column allows, every value valid for its type. */
opendata_query_status_t opendata_query_filter(opendata_query_t *q, const app_column_t *c, const char *pname, const char *v,
                                              opendata_scratch_t *sc, opendata_query_error_t *err)
{
    const char *colon = strchr(v, ':'), *val = v;
    unsigned op = OP_EQ;
    char allowed[96];
    opendata_filter_t *f;
    opendata_query_status_t st;

    if (!c->filterable)
        return opendata_query_fail(err, pname,
                                   "Column '%s' cannot be filtered. The dataset's schema (GET /v1/datasets/%s) marks the "
                                   "filterable columns.",
                                   c->name, q->ds->id);
    for (size_t i = 0; colon != NULL && i < sizeof(filter_ops) / sizeof(filter_ops[0]); ++i) {
        if (strlen(filter_ops[i].name) == (size_t)(colon - v) && memcmp(filter_ops[i].name, v, (size_t)(colon - v)) == 0) {
            op = filter_ops[i].flag;
            val = colon + 1;
        }
    }
    ops_list(c->ops, allowed, sizeof(allowed));
    if ((c->ops & op) == 0)
        return opendata_query_fail(err, pname, "Operator not allowed on '%s'; allowed: %s (as %s=op:value).", c->name, allowed,
                                   c->name);
    if (q->nfilters == QUERY_MAX_FILTERS)
        return opendata_query_fail(err, pname, "At most %d filters per request.", QUERY_MAX_FILTERS);
    f = &q->filters[q->nfilters];
    f->col = c;
    f->op = op;
    f->value2 = NULL;
    if (op == OP_IN || op == OP_BETWEEN) {
        if ((st = parse_list(q, f, pname, val, sc, err)) != QUERY_OK)
            return st;
    } else if (!opendata_query_value_valid(c, val)) {
        return fail_value(err, pname, c, val);
    } else {
        f->value = val;
    }
    ++q->nfilters;
    return QUERY_OK;
}

/* --- time zone names ----------------------------------------------------------------------------------------------- */

/* A UTC offset in POSIX form ("+01", "-5", "UTC+1", "3"): PostgreSQL takes it, with the sign inverted (POSIX counts west
 * of Greenwich), so "+01" would mean UTC-1. Only IANA names are accepted; their one family with a signed number is
 * Etc/GMT+N / Etc/GMT-N, whose (equally inverted) sign the IANA database itself documents. */
int opendata_query_tz_is_offset(const char *s)
{
    if (s[0] >= '0' && s[0] <= '9')
        return 1;
    if (strncmp(s, "Etc/GMT", 7) == 0)
        return 0;
    for (const char *p = s; *p != '\0'; ++p) {
        if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9')
            return 1;
    }
    return 0;
}

int opendata_query_tz_valid(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len <= 64 && str_is_word(s, len, "_/+-") && s[0] != '/' && strstr(s, "..") == NULL &&
           !opendata_query_tz_is_offset(s);
}
