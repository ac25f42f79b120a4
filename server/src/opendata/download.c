/*
 * opendata/download — the whole dataset or a filtered slice, as CSV, NDJSON or a spreadsheet (XLSX), through app/stream.
 */
#include <string.h>

#include "app/stream.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "http/etag.h"
#include "http/problem.h"
#include "opendata/download.h"
#include "opendata/records.h"
#include "opendata/xlsx.h"

/* The COPY around the dataset query: CSV with a header row (the delimiter asked for); plain CSV rows for a spreadsheet
 * (app/xlsx reads them); or NDJSON framed as CSV with quote and delimiter bytes that JSON text never holds unescaped,
 * so each line is the JSON as is. */
static void copy_sql(const opendata_query_t *q, const char *sql, sbuf_t *copy)
{
    if (q->format == FORMAT_XLSX)
        sbuf_printf(copy, "COPY (%s) TO STDOUT WITH (FORMAT csv)", sql);
    else if (q->format == FORMAT_CSV)
        sbuf_printf(copy, "COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER E'%s')", sql,
                    q->delimiter == '\t' ? "\\t" : (q->delimiter == ';' ? ";" : ","));
    else
        sbuf_printf(
            copy, "COPY (SELECT row_to_json(t) FROM (%s) t) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')", sql);
}

int opendata_download_get(h2o_req_t *req, const http_match_t *m)
{
    const app_route_t *route = app_route_of(m);
    opendata_query_t *q;
    sbuf_t sql = SBUF_INIT(SBUF_CAP_TEXT), copy = SBUF_INIT(SBUF_CAP_TEXT);
    const char *values[QUERY_MAX_PARAMS + 4];
    size_t nvalues = 0;
    char *etag = h2o_mem_alloc_pool(&req->pool, HTTP_ETAG_MAX), filename[128];
    app_stream_opts_t o = {0};

    /* downloads default to CSV; /records defaults to JSON */
    if ((q = opendata_records_prepare(req, m, NULL, 1)) == NULL)
        return 0;
    if (q->format == FORMAT_JSON && (req->query_at == SIZE_MAX || memmem(req->path.base + req->query_at,
                                                                         req->path.len - req->query_at, "format=json", 11) == NULL))
        q->format = FORMAT_CSV;
    if (q->format != FORMAT_CSV && q->format != FORMAT_NDJSON && q->format != FORMAT_XLSX) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'format' must be csv, ndjson or xlsx for downloads.", "format");
        return 0;
    }
    http_etag_make(etag, q->ds->version, opendata_xlsx_request_hash(req, q));
    if (http_not_modified(req, h2o_iovec_init(etag, strlen(etag)), app_cache_control_value(route, q->ds->cache_control)))
        return 0;
    opendata_query_sql(q, q->format == FORMAT_CSV ? 1 : 2, &sql, values, &nvalues);
    copy_sql(q, sql.data, &copy);
    if (sbuf_failed(&sql) || sbuf_failed(&copy)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The query could not be assembled (out of memory).", NULL);
        goto exit;
    }
    str_fmt(filename, sizeof(filename), "%s-v%llu.%s", q->ds->id, (unsigned long long)q->ds->version,
            q->format == FORMAT_CSV ? (q->delimiter == '\t' ? "tsv" : "csv") : opendata_format_name(q->format));
    o.content_type = opendata_records_content_type(q);
    o.filename = filename;
    o.cache_control = app_cache_control_value(route, q->ds->cache_control);
    o.etag = etag;
    o.version = q->ds->version_str;
    o.log_label = q->ds->id;
    o.usage_dataset = q->ds->id;
    o.usage_format = opendata_format_name(q->format);
    o.bom = q->format == FORMAT_CSV && q->bom;
    if (q->format == FORMAT_XLSX)
        o.xlsx = opendata_xlsx_book(req, q);
    app_stream_copy(req, copy.data, values, nvalues, &o);
exit:
    sbuf_free(&sql);
    sbuf_free(&copy);
    return 0;
}
