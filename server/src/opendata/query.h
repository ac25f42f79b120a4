/*
 * opendata/query — the records query language: parses the query string of GET /v1/datasets/{id}/records (and the filters of
 * /download) against the dataset's catalog entry, and builds the SQL with every value as a parameter. Pure: no I/O, no
 * h2o; unit-tested and fuzzed.
 *
 *   col=op:value      filter (op: eq ne lt lte gt gte in between; a bare value means eq; in takes a,b,c; between a,b)
 *   group_by=a,b      group on groupable columns (with bucket, the first date/datetime column is truncated)
 *   measures=sum:x,avg:y,min:z,max:w,count
 *   bucket=hour|day|week|month|year   and  tz=IANA zone (default Europe/Copenhagen) for the truncation
 *   order=a,-b        dimension columns (aggregated: group columns); "-" for descending
 *   limit=N           1..10000, default 100
 *   cursor=...        opaque keyset cursor from a previous page
 *   format=json|csv|ndjson|geojson|xlsx, delimiter=,|;|tab, decimal=.|, (default , with ;), bom=0|1
 */
#ifndef KLIMA_OPENDATA_QUERY_H
#define KLIMA_OPENDATA_QUERY_H

#include <stdint.h>

#include "app/catalog.h"
#include "core/qs.h"
#include "core/sbuf.h"

#define QUERY_MAX_FILTERS 16
#define QUERY_MAX_GROUP 6
#define QUERY_MAX_MEASURES 12
#define QUERY_MAX_ORDER 8
#define QUERY_MAX_IN 100
#define QUERY_MAX_LIMIT 10000
#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_PARAMS (QUERY_MAX_FILTERS * 2 + QUERY_MAX_ORDER + 4)
/* avg:col is rounded to the column's scale plus this many places (sum, min and max keep the column's own scale) */
#define QUERY_AVG_EXTRA_SCALE 2

typedef enum opendata_format { FORMAT_JSON, FORMAT_CSV, FORMAT_NDJSON, FORMAT_GEOJSON, FORMAT_XLSX } opendata_format_t;
/* The name of an output format, as the format parameter and usage counting spell it ("json", "csv", "ndjson",
 * "geojson", "xlsx"). A static string. */
const char *opendata_format_name(opendata_format_t format);

typedef enum opendata_bucket { BUCKET_NONE, BUCKET_HOUR, BUCKET_DAY, BUCKET_WEEK, BUCKET_MONTH, BUCKET_YEAR } opendata_bucket_t;

typedef struct opendata_filter {
    const app_column_t *col;
    unsigned op;        /* one OP_* */
    const char *value;  /* eq..gte: the value; in: a PostgreSQL array literal; between: first bound */
    const char *value2; /* between: second bound */
} opendata_filter_t;

typedef struct opendata_measure {
    unsigned agg;            /* AGG_*, or 0 for count */
    const app_column_t *col; /* NULL for count */
    char alias[72];
} opendata_measure_t;

typedef struct opendata_order {
    const app_column_t *col;
    int desc;
} opendata_order_t;

typedef struct opendata_query {
    const app_dataset_t *ds;
    opendata_filter_t filters[QUERY_MAX_FILTERS];
    size_t nfilters;
    const app_column_t *group[QUERY_MAX_GROUP];
    size_t ngroup;
    opendata_measure_t measures[QUERY_MAX_MEASURES];
    size_t nmeasures;
    int aggregated;                                                /* group_by or measures given */
    opendata_order_t order[QUERY_MAX_ORDER + QUERY_MAX_GROUP + 8]; /* requested order + tie-breakers */
    size_t norder, norder_requested;
    unsigned limit;
    opendata_bucket_t bucket;
    const app_column_t *bucket_col;
    char tz[65];
    opendata_format_t format;
    char delimiter;
    char decimal; /* '.' or ',' (CSV numbers); ',' by default with delimiter ';' */
    int bom;
    uint64_t qhash; /* of the canonical query (filters, grouping, measures, order, bucket, tz) */
    /* keyset: values of the order columns of the last row of the previous page */
    char *after[QUERY_MAX_ORDER + QUERY_MAX_GROUP + 8];
    size_t nafter;
} opendata_query_t;

/* QUERY_UNAVAILABLE: a value only the database's own list can judge (tz) while that list is not loaded yet (503). */
typedef enum opendata_query_status {
    QUERY_OK = 0,
    QUERY_INVALID = 400,
    QUERY_GONE = 410,
    QUERY_UNAVAILABLE = 503
} opendata_query_status_t;

typedef struct opendata_query_error {
    const char *param; /* the parameter at fault (points into the params or a literal) */
    char detail[400];
} opendata_query_error_t;

/* Parses params for dataset ds into q. Strings in q point into params or into `scratch`, a buffer of at least
 * `scratch_size` bytes that must outlive q (the caller passes request-pool memory; 64 KiB is plenty).
 * `for_download`: limit/cursor/group_by/measures/bucket/tz are refused (downloads stream everything that matches).
 * Returns QUERY_OK, or QUERY_INVALID / QUERY_GONE / QUERY_UNAVAILABLE with err filled. */
opendata_query_status_t opendata_query_parse(opendata_query_t *q, const app_dataset_t *ds, const qs_param_t *params, size_t nparams,
                                             int for_download, char *scratch, size_t scratch_size, opendata_query_error_t *err);

/* Appends the SQL for q to sql and sets values[0..*nvalues) to the text parameters ($1..). Fetches limit + 1 rows so the
 * caller can tell whether another page follows. `copy` (1 = CSV, 2 = NDJSON; 0 = neither): no LIMIT, no keyset, all
 * columns with times as ISO 8601 text (and, for CSV, booleans as true/false), for COPY (...) TO STDOUT. */
void opendata_query_sql(const opendata_query_t *q, int copy, sbuf_t *sql, const char **values, size_t *nvalues);

/* The output columns of q in order: fills names (and, via out_types, each column's app_col_type_t; aggregates are
 * COL_NUMBER, count COL_INTEGER). Returns the count. */
size_t opendata_query_columns(const opendata_query_t *q, const char **names, app_col_type_t *types, size_t max);

/* Encodes the cursor that continues after a row whose order-column values are keys[0..nkeys). Appends to out. */
void opendata_query_cursor_encode(const opendata_query_t *q, const char *const *keys, size_t nkeys, sbuf_t *out);

/* --- shared by the files of the query language (query.c parses, query_filter.c checks filters, query_sql.c builds) --- */

/* The parser's string space: strings of a query point into it (see opendata_query_parse's scratch). */
typedef struct opendata_scratch {
    char *p;
    size_t left;
} opendata_scratch_t;

/* A copy of src[0..len), NUL-terminated, in s; NULL when s is full. */
char *opendata_scratch_copy(opendata_scratch_t *s, const char *src, size_t len);

/* Fills err (param and a printf-style detail) and returns QUERY_INVALID. */
opendata_query_status_t opendata_query_fail(opendata_query_error_t *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether value s fits column c: its catalog type and enum, and the range of the PostgreSQL type its view declares
 * (int4/int8 ranges, finite numbers that neither overflow nor underflow, real calendar dates and times). Filters and
 * cursor keys are checked with it before any SQL exists. */
int opendata_query_value_valid(const app_column_t *c, const char *s);

/* Whether s is a UTC offset in POSIX form ("+01", "-5", "UTC+1", "3"), which PostgreSQL reads with the sign inverted. */
int opendata_query_tz_is_offset(const char *s);

/* Whether s has the shape of an IANA time zone name (1..64 of [A-Za-z0-9_/+-], no "..", no leading '/', no POSIX
 * offset); whether the database knows it is app_catalog_tz_known's to say. */
int opendata_query_tz_valid(const char *s);

/* Parameter pname=v as a filter on column c (col=op:value: a bare value means eq; in takes a,b,c; between a,b), added
 * to q; its values are checked against the column's type and enum. Returns QUERY_OK or QUERY_INVALID with err filled. */
opendata_query_status_t opendata_query_filter(opendata_query_t *q, const app_column_t *c, const char *pname, const char *v,
                                              opendata_scratch_t *sc, opendata_query_error_t *err);

#endif
