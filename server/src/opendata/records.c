/*
 * opendata/records — the records route and its output formats.
 */
#include <string.h>

#include "app/db.h"
#include "app/stream.h"
#include "app/usage.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "http/etag.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"
#include "opendata/datasets.h"
#include "opendata/module.h"
#include "opendata/records.h"
#include "opendata/xlsx.h"

#define RECORDS_MAX_PARAMS 48
#define RECORDS_MAX_COLS 64

typedef struct records_state {
    opendata_query_t *q;
    const app_route_t *route;
    char etag[HTTP_ETAG_MAX];
} records_state_t;

opendata_query_t *opendata_records_prepare(h2o_req_t *req, const http_match_t *m, app_catalog_t *cat, int for_download)
{
    size_t qslen, nparams = 0, scratch_size;
    app_dataset_t *ds;
    qs_param_t *params;
    opendata_query_t *q;
    opendata_query_error_t err;
    opendata_query_status_t st;

    if (cat == NULL && (cat = app_catalog_acquire(req)) == NULL)
        return NULL;
    if ((ds = opendata_dataset_or_reply(req, m, cat)) == NULL)
        return NULL;
    params = h2o_mem_alloc_pool(&req->pool, sizeof(*params) * RECORDS_MAX_PARAMS);
    if (http_query_params_or_reply(req, params, RECORDS_MAX_PARAMS, &nparams) != 0)
        return NULL;
    http_query_string(req, &qslen);
    q = h2o_mem_alloc_pool(&req->pool, sizeof(*q));
    scratch_size = qslen * 3 + 8192;
    st = opendata_query_parse(q, ds, params, nparams, for_download, h2o_mem_alloc_pool(&req->pool, scratch_size), scratch_size,
                              &err);
    if (st == QUERY_GONE) {
        http_problem_send(req, HTTP_PROBLEM_GONE, err.detail, err.param);
        return NULL;
    }
    if (st == QUERY_UNAVAILABLE) {
        app_catalog_tz_unloaded_reply(req);
        return NULL;
    }
    if (st != QUERY_OK) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, err.detail, err.param);
        return NULL;
    }
    return q;
}

/* --- output -------------------------------------------------------------------------------------------------------- */

/* PostgreSQL's "2025-01-01 00:00:00+00" (the server's sessions run in UTC) as ISO 8601 "2025-01-01T00:00:00Z"; local
 * times ("2025-01-01 01:00:00") keep no offset. */
static void iso_datetime(const char *v, int len, char *out, size_t size)
{
    int n = len < (int)size - 1 ? len : (int)size - 1;
    memcpy(out, v, (size_t)n);
    out[n] = '\0';
    if (n > 10 && out[10] == ' ')
        out[10] = 'T';
    if (n > 3 && strcmp(out + n - 3, "+00") == 0)
        memcpy(out + n - 3, "Z", 2);
}

/* Appends a PostgreSQL text value as JSON of the column's type. */
static void json_value(sbuf_t *b, const PGresult *res, int row, int col, app_col_type_t type)
{
    const char *v;
    int len;
    if (PQgetisnull(res, row, col)) {
        sbuf_append(b, "null", 4);
        return;
    }
    v = PQgetvalue(res, row, col);
    len = PQgetlength(res, row, col);
    switch (type) {
    case COL_INTEGER:
    case COL_NUMBER:
        /* float8 may print NaN or Infinity, which JSON cannot hold */
        if (len == 0 || v[0] == 'N' || v[0] == 'I' || (v[0] == '-' && len > 1 && v[1] == 'I'))
            sbuf_append(b, "null", 4);
        else
            sbuf_append(b, v, (size_t)len);
        return;
    case COL_BOOLEAN:
        sbuf_puts(b, v[0] == 't' ? "true" : "false");
        return;
    case COL_DATETIME: {
        char tmp[64];
        iso_datetime(v, len, tmp, sizeof(tmp));
        sbuf_putc(b, '"');
        sbuf_json_escape(b, tmp, strlen(tmp));
        sbuf_putc(b, '"');
        return;
    }
    default:
        sbuf_putc(b, '"');
        sbuf_json_escape(b, v, (size_t)len);
        sbuf_putc(b, '"');
        return;
    }
}

static void text_value(sbuf_t *b, const PGresult *res, int row, int col, app_col_type_t type, char delim, char decimal)
{
    const char *v;
    int len;
    if (PQgetisnull(res, row, col))
        return; /* an empty CSV field is NULL */
    v = PQgetvalue(res, row, col);
    len = PQgetlength(res, row, col);
    if (type == COL_BOOLEAN) {
        sbuf_puts(b, v[0] == 't' ? "true" : "false");
    } else if (type == COL_DATETIME) {
        char tmp[64];
        iso_datetime(v, len, tmp, sizeof(tmp));
        sbuf_puts(b, tmp);
    } else if (type == COL_NUMBER && decimal != '.') {
        /* PostgreSQL's numeric text: digits, one '.', a sign; never a delimiter, so no quoting */
        for (int i = 0; i < len; ++i)
            sbuf_putc(b, v[i] == '.' ? decimal : v[i]);
    } else {
        sbuf_csv_field(b, v, (size_t)len, delim);
    }
}

static void json_object_row(sbuf_t *b, const PGresult *res, int row, const char *const *names, const app_col_type_t *types,
                            size_t ncols)
{
    sbuf_putc(b, '{');
    for (size_t c = 0; c < ncols; ++c) {
        /* names are the catalog's column names and aliases: identifiers, nothing to escape */
        sbuf_puts(b, c ? ",\"" : "\"");
        sbuf_puts(b, names[c]);
        sbuf_append(b, "\":", 2);
        json_value(b, res, row, (int)c, types[c]);
    }
    sbuf_putc(b, '}');
}

/* The URL of the next page: this request's path and query with cursor replaced. */
static void next_link(h2o_req_t *req, const char *cursor, sbuf_t *out)
{
    const char *qs = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t qslen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0, i = 0;
    int first = 1;
    sbuf_append(out, req->path_normalized.base, req->path_normalized.len);
    sbuf_putc(out, '?');
    while (i < qslen) {
        const char *amp = memchr(qs + i, '&', qslen - i);
        size_t end = amp != NULL ? (size_t)(amp - qs) : qslen;
        if (end > i && !(end - i >= 7 && memcmp(qs + i, "cursor=", 7) == 0) &&
            !(end - i == 6 && memcmp(qs + i, "cursor", 6) == 0)) {
            if (!first)
                sbuf_putc(out, '&');
            sbuf_append(out, qs + i, end - i);
            first = 0;
        }
        i = end + 1;
    }
    sbuf_printf(out, "%scursor=%s", first ? "" : "&", cursor);
}

static void add_records_headers(h2o_req_t *req, const app_route_t *route, const app_dataset_t *ds, h2o_iovec_t etag,
                                h2o_iovec_t link_header, h2o_iovec_t next_cursor);

/* One page of rows as a format writes it. */
typedef struct records_page {
    const opendata_query_t *q;
    const PGresult *res;
    const char *names[RECORDS_MAX_COLS];
    app_col_type_t types[RECORDS_MAX_COLS];
    size_t ncols;
    int rows, more;
    const sbuf_t *cursor, *link; /* when more: the next cursor and the next page's URL */
} records_page_t;

static void write_json(sbuf_t *body, const records_page_t *p)
{
    sbuf_printf(body, "{\"dataset\":\"%s\",\"version\":%llu,\"count\":%d,\"data\":[", p->q->ds->id,
                (unsigned long long)p->q->ds->version, p->rows);
    for (int r = 0; r < p->rows; ++r) {
        if (r)
            sbuf_putc(body, ',');
        json_object_row(body, p->res, r, p->names, p->types, p->ncols);
    }
    sbuf_puts(body, "],\"next_cursor\":");
    if (p->more) {
        sbuf_printf(body, "\"%s\",\"links\":{\"next\":\"", p->cursor->data);
        sbuf_json_escape(body, p->link->data, p->link->len);
        sbuf_puts(body, "\"}}");
    } else {
        sbuf_puts(body, "null,\"links\":{}}");
    }
}

static void write_geojson(sbuf_t *body, const records_page_t *p)
{
    int lon = PQfnumber(p->res, "_lon"), lat = PQfnumber(p->res, "_lat");
    sbuf_puts(body, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int r = 0; r < p->rows; ++r) {
        if (r)
            sbuf_putc(body, ',');
        sbuf_puts(body, "{\"type\":\"Feature\",\"geometry\":");
        if (lon >= 0 && lat >= 0 && !PQgetisnull(p->res, r, lon) && !PQgetisnull(p->res, r, lat))
            sbuf_printf(body, "{\"type\":\"Point\",\"coordinates\":[%s,%s]}", PQgetvalue(p->res, r, lon),
                        PQgetvalue(p->res, r, lat));
        else
            sbuf_puts(body, "null");
        sbuf_puts(body, ",\"properties\":");
        json_object_row(body, p->res, r, p->names, p->types, p->ncols);
        sbuf_putc(body, '}');
    }
    sbuf_printf(body, "],\"dataset\":\"%s\",\"version\":%llu,\"next_cursor\":", p->q->ds->id,
                (unsigned long long)p->q->ds->version);
    if (p->more)
        sbuf_printf(body, "\"%s\"}", p->cursor->data);
    else
        sbuf_puts(body, "null}");
}

static void write_ndjson(sbuf_t *body, const records_page_t *p)
{
    for (int r = 0; r < p->rows; ++r) {
        json_object_row(body, p->res, r, p->names, p->types, p->ncols);
        sbuf_putc(body, '\n');
    }
}

static void write_csv(sbuf_t *body, const records_page_t *p)
{
    char delim = p->q->delimiter;
    if (p->q->bom)
        sbuf_puts(body, "\xef\xbb\xbf");
    for (size_t c = 0; c < p->ncols; ++c) {
        if (c)
            sbuf_putc(body, delim);
        sbuf_puts(body, p->names[c]);
    }
    sbuf_puts(body, "\r\n");
    for (int r = 0; r < p->rows; ++r) {
        for (size_t c = 0; c < p->ncols; ++c) {
            if (c)
                sbuf_putc(body, delim);
            text_value(body, p->res, r, (int)c, p->types[c], delim, p->q->decimal);
        }
        sbuf_puts(body, "\r\n");
    }
}

/* One writer and content type per format (csv's depends on the delimiter). */
static const struct {
    void (*write)(sbuf_t *body, const records_page_t *p);
    const char *content_type;
} formats[] = {
    [FORMAT_JSON] = {write_json, "application/json"},
    [FORMAT_GEOJSON] = {write_geojson, "application/geo+json"},
    [FORMAT_NDJSON] = {write_ndjson, "application/x-ndjson"},
    [FORMAT_CSV] = {write_csv, "text/csv; charset=utf-8; header=present"},
    [FORMAT_XLSX] = {NULL, APP_XLSX_CONTENT_TYPE}, /* records_xlsx: streamed, never assembled here */
};

const char *opendata_records_content_type(const opendata_query_t *q)
{
    return q->format == FORMAT_CSV && q->delimiter == '\t' ? "text/tab-separated-values; charset=utf-8"
                                                           : formats[q->format].content_type;
}

/* When there is a next page: its cursor into cursor and its URL into link. */
static void next_page(h2o_req_t *req, const opendata_query_t *q, const PGresult *res, sbuf_t *cursor, sbuf_t *link)
{
    const char *keys[QUERY_MAX_ORDER + QUERY_MAX_GROUP + 8];
    int last = (int)q->limit - 1;
    for (size_t i = 0; i < q->norder; ++i) {
        int col = PQfnumber(res, q->order[i].col->name);
        keys[i] = col >= 0 && !PQgetisnull(res, last, col) ? PQgetvalue(res, last, col) : NULL;
    }
    opendata_query_cursor_encode(q, keys, q->norder, cursor);
    next_link(req, cursor->data, link);
}

static void on_records(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    records_state_t *st = data;
    opendata_query_t *q = st->q;
    records_page_t page = {.q = q, .res = res};
    sbuf_t body = SBUF_INIT(SBUF_CAP_BODY), cursor = SBUF_INIT(SBUF_CAP_VALUE), link = SBUF_INIT(SBUF_CAP_VALUE);
    const char *ctype = opendata_records_content_type(q);

    if (!app_db_ok_or_reply(req, status, res, APP_DB_SHAPED | APP_DB_INPUT))
        return;
    page.ncols = opendata_query_columns(q, page.names, page.types, RECORDS_MAX_COLS);
    page.rows = PQntuples(res);
    page.more = page.rows > (int)q->limit;
    page.cursor = &cursor;
    page.link = &link;
    if (page.more) {
        next_page(req, q, res, &cursor, &link);
        page.rows = (int)q->limit;
    }
    formats[q->format].write(&body, &page);
    if (sbuf_failed(&body) || sbuf_failed(&cursor) || sbuf_failed(&link)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be assembled (out of memory).", NULL);
        goto exit;
    }
    if (page.more) {
        /* from here on `link` holds the Link header value, as the cache keeps it */
        sbuf_t lh = SBUF_INIT(SBUF_CAP_VALUE);
        sbuf_printf(&lh, "<%s>; rel=\"next\"", link.data);
        sbuf_free(&link);
        link = lh;
    }
    http_cache_response_t cached = {.content_type = ctype,
                                    .body = body.data,
                                    .len = body.len,
                                    .etag = st->etag,
                                    .link = page.more ? link.data : NULL,
                                    .next_cursor = page.more ? cursor.data : NULL,
                                    .tag = opendata_format_name(q->format)};
    add_records_headers(req, st->route, q->ds, h2o_iovec_init(st->etag, strlen(st->etag)),
                        page.more ? h2o_strdup(&req->pool, link.data, link.len) : h2o_iovec_init(NULL, 0),
                        page.more ? h2o_strdup(&req->pool, cursor.data, cursor.len) : h2o_iovec_init(NULL, 0));
    http_cache_put(opendata_cache_of(req), req->path.base, req->path.len, q->ds->version, &cached);
    app_usage_count(req, q->ds->id, "query", cached.tag);
    /* h2o_send_inline copies the body into the request's pool */
    http_send_bytes(req, 200, ctype, body.data, body.len);
exit:
    sbuf_free(&body);
    sbuf_free(&cursor);
    sbuf_free(&link);
}

/* The headers every successful records response carries. The values are not copied: ds's strings live as long as the
 * catalog, which the request holds (app_catalog_hold links it to the request's pool), and etag,
 * link_header (a complete Link value) and next_cursor must outlive the request too (pool or a linked cache entry); an
 * absent one has base NULL. */
static void add_records_headers(h2o_req_t *req, const app_route_t *route, const app_dataset_t *ds, h2o_iovec_t etag,
                                h2o_iovec_t link_header, h2o_iovec_t next_cursor)
{
    h2o_mem_pool_t *pool = &req->pool;
    h2o_headers_t *headers = &req->res.headers;

    /* room for these, Content-Type and the ones h2o adds, at once rather than by doubling */
    h2o_vector_reserve(pool, headers, headers->size + 10);
    app_cache_control(req, route, ds->cache_control);
    h2o_add_header(pool, headers, H2O_TOKEN_ETAG, NULL, etag.base, etag.len);
    h2o_add_header_by_str(pool, headers, H2O_STRLIT("x-dataset-version"), 0, NULL, ds->version_str, strlen(ds->version_str));
    if (link_header.base != NULL)
        h2o_add_header(pool, headers, H2O_TOKEN_LINK, NULL, link_header.base, link_header.len);
    if (next_cursor.base != NULL)
        h2o_add_header_by_str(pool, headers, H2O_STRLIT("x-next-cursor"), 0, NULL, next_cursor.base, next_cursor.len);
    req->compress_hint = H2O_COMPRESS_HINT_ENABLE;
}

/* Serves a cached response for this exact path and query (the raw request target: no parsing before the lookup) at the
 * dataset's current version, if there is one. The body and the header values are sent from the cache entry, which
 * http_cache_get linked to the request's pool. */
static int serve_cached(h2o_req_t *req, const http_match_t *m, app_catalog_t *cat)
{
    http_cache_t *cache = opendata_cache_of(req);
    const http_cache_entry_t *e;
    app_dataset_t *ds;
    const char *id;
    size_t idlen;

    if (cat == NULL || cache == NULL)
        return 0;
    id = http_match_param(m, "id", &idlen);
    if ((ds = app_catalog_find(cat, id, idlen)) == NULL)
        return 0;
    if ((e = http_cache_get(cache, &req->pool, req->path.base, req->path.len, ds->version)) == NULL)
        return 0;
    if (http_not_modified(req, e->etag, app_cache_control_value(app_route_of(m), ds->cache_control)))
        return 1;
    add_records_headers(req, app_route_of(m), ds, e->etag, e->link, e->next_cursor);
    app_usage_count(req, ds->id, "query", e->tag);
    http_send_shared(req, 200, e->content_type, e->body);
    return 1;
}

/* A spreadsheet page is complete: when more rows follow, the cursor after its last row goes into Link and
 * X-Next-Cursor (the order columns' values of that row, as PostgreSQL printed them). */
static void records_xlsx_ready(h2o_req_t *req, void *ctx, const app_xlsx_t *x)
{
    records_state_t *st = ctx;
    const opendata_query_t *q = st->q;
    const char *names[RECORDS_MAX_COLS], *keys[QUERY_MAX_ORDER + QUERY_MAX_GROUP + 8];
    app_col_type_t types[RECORDS_MAX_COLS];
    size_t ncols = opendata_query_columns(q, names, types, RECORDS_MAX_COLS);
    sbuf_t cursor = SBUF_INIT(SBUF_CAP_VALUE), link = SBUF_INIT(SBUF_CAP_VALUE), lh = SBUF_INIT(SBUF_CAP_VALUE);

    if (!app_xlsx_more(x))
        return;
    for (size_t i = 0; i < q->norder; ++i) {
        keys[i] = NULL;
        for (size_t c = 0; c < ncols; ++c) {
            if (strcmp(names[c], q->order[i].col->name) == 0)
                keys[i] = app_xlsx_last_field(x, c);
        }
    }
    opendata_query_cursor_encode(q, keys, q->norder, &cursor);
    next_link(req, cursor.data != NULL ? cursor.data : "", &link);
    sbuf_printf(&lh, "<%s>; rel=\"next\"", link.data != NULL ? link.data : "");
    if (!sbuf_failed(&cursor) && !sbuf_failed(&lh)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LINK, NULL, h2o_strdup(&req->pool, lh.data, lh.len).base, lh.len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-next-cursor"), 0, NULL,
                              h2o_strdup(&req->pool, cursor.data, cursor.len).base, cursor.len);
    }
    sbuf_free(&cursor);
    sbuf_free(&link);
    sbuf_free(&lh);
}

/* format=xlsx: the page (limit + 1 rows, to know whether more follow) through a COPY into a spreadsheet, within the
 * download slots (a workbook costs a thread and a temporary file; app/xlsx.h). */
static void records_xlsx(h2o_req_t *req, records_state_t *st, const char *sql, const char *const *values, size_t nvalues)
{
    const opendata_query_t *q = st->q;
    sbuf_t copy = SBUF_INIT(SBUF_CAP_TEXT);
    char filename[128];
    app_stream_opts_t o = {0};
    app_xlsx_book_t *book = opendata_xlsx_book(req, q);

    book->row_limit = q->limit;
    sbuf_printf(&copy, "COPY (%s) TO STDOUT WITH (FORMAT csv)", sql);
    if (sbuf_failed(&copy)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The query could not be assembled (out of memory).", NULL);
        sbuf_free(&copy);
        return;
    }
    str_fmt(filename, sizeof(filename), "%s-v%llu.xlsx", q->ds->id, (unsigned long long)q->ds->version);
    o.content_type = APP_XLSX_CONTENT_TYPE;
    o.filename = filename;
    o.cache_control = app_cache_control_value(st->route, q->ds->cache_control);
    o.etag = st->etag;
    o.version = q->ds->version_str;
    o.log_label = q->ds->id;
    o.usage_dataset = q->ds->id;
    o.usage_format = "xlsx";
    o.usage_kind = "query";
    o.timeout_ms = app_worker_of(req)->cfg->statement_timeout_ms; /* a page's query, not a whole download */
    o.xlsx = book;
    o.xlsx_ready = records_xlsx_ready;
    o.xlsx_ctx = st;
    app_stream_copy(req, copy.data, values, nvalues, &o);
    sbuf_free(&copy);
}

int opendata_records_get(h2o_req_t *req, const http_match_t *m)
{
    /* the catalog is held for the whole request: the dataset's strings are sent without copying */
    app_catalog_t *cat = app_catalog_hold(req);
    opendata_query_t *q;
    records_state_t *st;
    const char *values[QUERY_MAX_PARAMS + 4];
    size_t nvalues = 0;
    sbuf_t sql = SBUF_INIT(SBUF_CAP_TEXT);

    if (serve_cached(req, m, cat) || (q = opendata_records_prepare(req, m, cat, 0)) == NULL)
        return 0;
    st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->q = q;
    st->route = app_route_of(m);
    /* a strong tag: the dataset release plus everything in the request that shapes the bytes */
    http_etag_make(st->etag, q->ds->version, opendata_xlsx_request_hash(req, q));
    if (http_not_modified(req, h2o_iovec_init(st->etag, strlen(st->etag)),
                          app_cache_control_value(st->route, q->ds->cache_control)))
        return 0;
    opendata_query_sql(q, 0, &sql, values, &nvalues);
    if (q->format == FORMAT_GEOJSON && !sbuf_failed(&sql)) {
        sbuf_t wrapped = SBUF_INIT(SBUF_CAP_TEXT);
        sbuf_printf(&wrapped,
                    "SELECT t.*, g.lon AS _lon, g.lat AS _lat FROM (SELECT s.*, row_number() OVER () AS _rn FROM (%s) s) t "
                    "LEFT JOIN api.districts g ON g.district_id = t.district_id ORDER BY t._rn",
                    sql.data);
        sbuf_free(&sql);
        sql = wrapped;
    }
    if (sbuf_failed(&sql)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The query could not be assembled (out of memory).", NULL);
    } else if (q->format == FORMAT_XLSX) {
        records_xlsx(req, st, sql.data, values, nvalues);
    } else {
        app_db_read(req, sql.data, (int)nvalues, values, on_records, st);
    }
    sbuf_free(&sql);
    return 0;
}
