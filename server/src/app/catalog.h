/*
 * app/catalog — the dataset catalog (meta.datasets + meta.dataset_columns) as the server sees it. Each worker holds its
 * own copy, loaded through its pool when the database first answers and reloaded periodically; versions are bumped in
 * place by NOTIFY klima_dataset_refreshed. The records API accepts only what is catalogued here: columns, operators,
 * measures. No SQL text ever comes from a request.
 */
#ifndef KLIMA_APP_CATALOG_H
#define KLIMA_APP_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

typedef enum app_col_type { COL_STRING, COL_INTEGER, COL_NUMBER, COL_BOOLEAN, COL_DATE, COL_DATETIME } app_col_type_t;
typedef enum app_col_role { ROLE_DIMENSION, ROLE_MEASURE, ROLE_FLAG } app_col_role_t;

/* filter operators (bit flags) */
enum { OP_EQ = 1, OP_NE = 2, OP_LT = 4, OP_LTE = 8, OP_GT = 16, OP_GTE = 32, OP_IN = 64, OP_BETWEEN = 128 };
/* aggregations (bit flags) */
enum { AGG_SUM = 1, AGG_AVG = 2, AGG_MIN = 4, AGG_MAX = 8 };

/* The PostgreSQL type of a column as the view declares it (format_type of pg_attribute): what a filter value or cursor
 * key must fit before it goes to SQL as a parameter of that type. SQLT_UNKNOWN: the view was not found (checked by the
 * catalog type only). */
typedef enum app_sql_type {
    SQLT_UNKNOWN,
    SQLT_INT2,
    SQLT_INT4,
    SQLT_INT8,
    SQLT_NUMERIC,
    SQLT_FLOAT4,
    SQLT_FLOAT8,
    SQLT_DATE,
    SQLT_TIMESTAMP,
    SQLT_TIMESTAMPTZ,
    SQLT_TEXT,
    SQLT_BOOL
} app_sql_type_t;

typedef struct app_column {
    const char *name; /* owned by the dataset's json */
    app_col_type_t type;
    app_sql_type_t sql_type;
    int sql_precision, sql_scale; /* numeric(p,s); 0 when unconstrained */
    app_col_role_t role;
    int filterable, groupable, nullable;
    int local;           /* a datetime without offset (Copenhagen wall clock): SQL type timestamp, not timestamptz */
    unsigned ops;        /* OP_* */
    unsigned aggs;       /* AGG_* */
    int scale;           /* decimal places of a number column's published values (meta.dataset_columns.scale); 0 if none */
    json_t *enum_values; /* array of strings, or NULL */
} app_column_t;

typedef struct app_dataset {
    const char *id;
    const char *view; /* schema-qualified, validated as [a-z_]+.[a-z_]+ */
    uint64_t version;
    unsigned max_age;
    int personal;
    app_column_t *cols;
    size_t ncols;
    const app_column_t *pk[8]; /* primary key columns (keyset tie-breakers) */
    size_t npk;
    const app_column_t *order[8]; /* default order */
    size_t norder;
    json_t *json; /* the catalog row as loaded (metadata routes render from it); owns the strings above */
    /* ready-made header values (kept current with version), so a cached response formats nothing */
    char cache_control[40];
    char version_str[24];
} app_dataset_t;

typedef struct app_catalog {
    app_dataset_t *datasets;
    size_t n;
    json_t *root; /* the array the datasets point into */
} app_catalog_t;

/* The SQL that returns the whole catalog as one JSON array (one row, one column). */
extern const char app_catalog_sql[];

/* Finds a dataset by id (len bytes, not NUL-terminated); NULL if unknown or cat is NULL. */
app_dataset_t *app_catalog_find(app_catalog_t *cat, const char *id, size_t len);

/* Finds a column by name (len bytes); NULL if unknown. */
const app_column_t *app_dataset_column(const app_dataset_t *ds, const char *name, size_t len);

/* Whether name is a time zone the database knows (pg_timezone_names, exact spelling; loaded once per process, within a
 * second or two after the first catalog): 1 yes, 0 no, -1 not loaded yet. Europe/Copenhagen and UTC, the service's
 * defaults, are 1 from the start. Any thread. */
int app_catalog_tz_known(const char *name);

/* Checks the time zone parameter `param` (value tz) before it reaches SQL: an IANA name the database knows. Sends 400
 * naming param (an offset such as +01 gets its own hint) or 503 when the list is not loaded yet, and returns -1; else 0. */
int app_catalog_tz_or_reply(h2o_req_t *req, const char *param, const char *tz);

/* The explanation for an unknown tz value, for callers that report errors themselves (opendata's query parser). */
const char *app_catalog_tz_hint(const char *tz);

/* Whether this process has loaded the database's time zone names (the defaults work before; /readyz waits for it). */
int app_catalog_tz_loaded(void);

/* Sends the 503 (Retry-After: 1) of a time zone other than the defaults while the names are not loaded yet. */
void app_catalog_tz_unloaded_reply(h2o_req_t *req);

/* The module that loads each worker's copy (at start, every minute, and on NOTIFY klima_dataset_refreshed). */
extern const app_module_t app_catalog_module;

/* The worker's current catalog, kept alive until req is done (a reload meanwhile does not pull it away); NULL when it has
 * not been loaded yet (the database not reached since start). app_catalog_acquire answers that case itself with 503 +
 * Retry-After; app_catalog_hold leaves the answer to the caller. */
app_catalog_t *app_catalog_acquire(h2o_req_t *req);
app_catalog_t *app_catalog_hold(h2o_req_t *req);

#endif
