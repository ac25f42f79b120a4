/*
 * opendata/query_sql — the SQL of a parsed records query, built from the catalog with every value a parameter.
 */
#include <string.h>

#include "opendata/query.h"

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

static size_t add_value(const char **values, size_t *n, const char *v)
{
    values[*n] = v;
    return ++*n;
}

/* The SQL expression of a column: the bucket truncation for the bucket column, the quoted name otherwise. */
static void col_expr(const opendata_query_t *q, const app_column_t *c, sbuf_t *sql)
{
    static const char *const names[] = {"", "hour", "day", "week", "month", "year"};
    if (c != q->bucket_col)
        sbuf_printf(sql, "\"%s\"", c->name);
    else if (c->type == COL_DATE)
        sbuf_printf(sql, "date_trunc('%s', \"%s\")::date", names[q->bucket], c->name);
    else if (c->local)
        sbuf_printf(sql, "date_trunc('%s', \"%s\")", names[q->bucket], c->name);
    else /* the same parameter number every time this expression appears, so GROUP BY can match it */
        sbuf_printf(sql, "date_trunc('%s', \"%s\", $1)", names[q->bucket], c->name);
}

/* The select list of an aggregate: group columns, measures, then how many cells (and suppressed cells) went in. */
static void select_aggregate(const opendata_query_t *q, sbuf_t *sql)
{
    static const char *const agg_sql[] = {[AGG_SUM] = "sum", [AGG_AVG] = "avg", [AGG_MIN] = "min", [AGG_MAX] = "max"};

    for (size_t i = 0; i < q->ngroup; ++i) {
        col_expr(q, q->group[i], sql);
        sbuf_printf(sql, " AS \"%s\", ", q->group[i]->name);
    }
    for (size_t i = 0; i < q->nmeasures; ++i) {
        const opendata_measure_t *m = &q->measures[i];
        if (m->agg == 0)
            sbuf_puts(sql, "count(*)");
        else if (m->agg == AGG_AVG) /* a mean: two places more than its column's values, never numeric's 16 */
            sbuf_printf(sql, "round(avg(\"%s\"), %d)", m->col->name, m->col->scale + QUERY_AVG_EXTRA_SCALE);
        else
            sbuf_printf(sql, "%s(\"%s\")", agg_sql[m->agg], m->col->name);
        sbuf_printf(sql, " AS \"%s\", ", m->alias);
    }
    if (app_dataset_column(q->ds, "suppressed", 10) != NULL)
        sbuf_puts(sql, "count(*) FILTER (WHERE \"suppressed\") AS \"suppressed_cells\", ");
    sbuf_puts(sql, "count(*) AS \"cells\"");
}

/* The select list of the dataset's own rows. COPY prints PostgreSQL's own text forms; give downloads the same ISO 8601
 * and true/false as /records. */
static void select_rows(const opendata_query_t *q, int copy, sbuf_t *sql)
{
    for (size_t i = 0; i < q->ds->ncols; ++i) {
        const app_column_t *c = &q->ds->cols[i];
        if (i)
            sbuf_puts(sql, ", ");
        if (copy && c->type == COL_DATETIME && !c->local)
            sbuf_printf(sql, "to_char(\"%s\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS \"%s\"", c->name, c->name);
        else if (copy && c->type == COL_DATETIME)
            sbuf_printf(sql, "to_char(\"%s\", 'YYYY-MM-DD\"T\"HH24:MI:SS') AS \"%s\"", c->name, c->name);
        else if (copy == 1 && c->type == COL_BOOLEAN)
            sbuf_printf(sql, "\"%s\"::text AS \"%s\"", c->name, c->name);
        else if (copy == 1 && c->type == COL_NUMBER && q->decimal == ',')
            sbuf_printf(sql, "translate(\"%s\"::text, '.', ',') AS \"%s\"", c->name, c->name);
        else
            sbuf_printf(sql, "\"%s\"", c->name);
    }
}

/* The filters, every value a parameter. */
static void where_filters(const opendata_query_t *q, sbuf_t *sql, const char **values, size_t *nvalues)
{
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
}

/* Keyset paging: (o1 > a1) OR (o1 = a1 AND o2 > a2) OR ..., with < for descending columns. NULLs sort last in either
 * direction (ORDER BY ... NULLS LAST), so after a NULL key nothing follows in that column ("o = NULL" is "o IS NULL", a
 * disjunct "o > NULL" is dropped), and after a value the NULLs of a nullable column still follow it. */
static void keyset(const opendata_query_t *q, int aggregated, sbuf_t *sql, const char **values, size_t *nvalues)
{
    size_t param[QUERY_MAX_ORDER + QUERY_MAX_GROUP + 8];
    int any = 0;

    for (size_t i = 0; i < q->nafter; ++i)
        param[i] = q->after[i] != NULL ? add_value(values, nvalues, q->after[i]) : 0;
    sbuf_puts(sql, aggregated ? " HAVING (" : " AND (");
    for (size_t i = 0; i < q->nafter; ++i) {
        if (q->after[i] == NULL)
            continue;
        sbuf_puts(sql, any ? " OR (" : "(");
        any = 1;
        for (size_t j = 0; j < i; ++j) {
            col_expr(q, q->order[j].col, sql);
            if (param[j] != 0)
                sbuf_printf(sql, " = $%zu AND ", param[j]);
            else
                sbuf_puts(sql, " IS NULL AND ");
        }
        sbuf_puts(sql, "(");
        col_expr(q, q->order[i].col, sql);
        sbuf_printf(sql, " %s $%zu", q->order[i].desc ? "<" : ">", param[i]);
        if (q->order[i].col->nullable) {
            sbuf_puts(sql, " OR ");
            col_expr(q, q->order[i].col, sql);
            sbuf_puts(sql, " IS NULL");
        }
        sbuf_puts(sql, "))");
    }
    sbuf_puts(sql, any ? ")" : "FALSE)");
}

void opendata_query_sql(const opendata_query_t *q, int copy, sbuf_t *sql, const char **values, size_t *nvalues)
{
    int aggregated = q->aggregated && !copy;

    *nvalues = 0;
    /* $1 is always the time zone (used by bucket expressions; harmless otherwise) */
    add_value(values, nvalues, q->tz);
    sbuf_puts(sql, "SELECT ");
    if (aggregated)
        select_aggregate(q, sql);
    else
        select_rows(q, copy, sql);
    sbuf_printf(sql, " FROM %s WHERE $1::text IS NOT NULL", q->ds->view);
    where_filters(q, sql, values, nvalues);
    if (aggregated && q->ngroup > 0) {
        sbuf_puts(sql, " GROUP BY ");
        for (size_t i = 0; i < q->ngroup; ++i)
            sbuf_printf(sql, "%s%zu", i ? ", " : "", i + 1);
    }
    if (q->nafter > 0 && !copy)
        keyset(q, aggregated, sql, values, nvalues);
    if (q->norder > 0 && !(aggregated && q->ngroup == 0)) {
        sbuf_puts(sql, " ORDER BY ");
        for (size_t i = 0; i < q->norder; ++i) {
            if (i)
                sbuf_puts(sql, ", ");
            col_expr(q, q->order[i].col, sql);
            if (q->order[i].desc)
                sbuf_puts(sql, " DESC");
            if (q->order[i].col->nullable)
                sbuf_puts(sql, q->order[i].desc ? " NULLS LAST" : ""); /* ascending: NULLS LAST is PostgreSQL's default */
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
