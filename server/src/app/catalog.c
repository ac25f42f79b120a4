/*
 * app/catalog — parse and look up the dataset catalog, and keep each worker's copy current.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/catalog.h"
#include "core/log.h"
#include "core/strutil.h"
#include "http/problem.h"

/* meta.catalog (sql/migrations/0008_releases.sql) builds each dataset's entry: its meta.datasets row, columns,
 * derived_from and disclosure control. */
/* Each entry gains "sql_types": the view's column types as PostgreSQL declares them (read by parse_dataset, then removed:
 * the metadata routes never show it). */
#define CATALOG_SELECT                                                                                                             \
    "SELECT coalesce(json_agg(c.entry || jsonb_build_object('sql_types', coalesce((SELECT jsonb_object_agg(a.attname, "            \
    "format_type(a.atttypid, a.atttypmod)) FROM pg_catalog.pg_attribute a WHERE a.attrelid = "                                     \
    "to_regclass(c.entry->>'source_view') AND a.attnum > 0 AND NOT a.attisdropped), '{}'::jsonb)) ORDER BY c.id), "                \
    "'[]'::json)::text FROM meta.catalog c"
const char app_catalog_sql[] = CATALOG_SELECT;
/* A query of its own (pg_timezone_names reads the time zone files: ~150 ms), so that the catalog never waits for it. */
static const char catalog_tz_sql[] = "SELECT string_agg(name, ',') FROM pg_catalog.pg_timezone_names WHERE name !~ ','";

typedef struct name_flag {
    const char *name;
    unsigned flag;
} name_flag_t;

static const name_flag_t op_names[] = {{"eq", OP_EQ},   {"ne", OP_NE}, {"lt", OP_LT},           {"lte", OP_LTE}, {"gt", OP_GT},
                                       {"gte", OP_GTE}, {"in", OP_IN}, {"between", OP_BETWEEN}, {NULL, 0}};
static const name_flag_t agg_names[] = {{"sum", AGG_SUM}, {"avg", AGG_AVG}, {"min", AGG_MIN}, {"max", AGG_MAX}, {NULL, 0}};
static const char *const type_names[] = {"string", "integer", "number", "boolean", "date", "datetime"};
static const char *const role_names[] = {"dimension", "measure", "flag"};

static int lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; ++i) {
        if (strcmp(names[i], s) == 0)
            return (int)i;
    }
    return -1;
}

static unsigned flags_of(json_t *arr, const name_flag_t *table)
{
    unsigned flags = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        for (const name_flag_t *t = table; t->name != NULL; ++t) {
            if (json_is_string(v) && strcmp(json_string_value(v), t->name) == 0)
                flags |= t->flag;
        }
    }
    return flags;
}

/* A view name we are willing to paste into SQL: schema.name, lower-case letters, digits and underscores. */
static int is_safe_view(const char *v)
{
    const char *dot = v != NULL ? strchr(v, '.') : NULL;
    if (dot == NULL || dot == v || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
        return 0;
    for (const char *p = v; *p != '\0'; ++p) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
            return 0;
    }
    return 1;
}

/* Column names come from the catalog, which the CHECK constraint keeps to [a-z][a-z0-9_]*; checked again here because
 * they are pasted into SQL as identifiers. */
static int is_safe_ident(const char *s)
{
    if (s == NULL || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (const char *p = s; *p != '\0'; ++p) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

static const struct {
    const char *name;
    app_sql_type_t type;
} sql_type_names[] = {{"smallint", SQLT_INT2},
                      {"integer", SQLT_INT4},
                      {"bigint", SQLT_INT8},
                      {"numeric", SQLT_NUMERIC},
                      {"real", SQLT_FLOAT4},
                      {"double precision", SQLT_FLOAT8},
                      {"date", SQLT_DATE},
                      {"timestamp without time zone", SQLT_TIMESTAMP},
                      {"timestamp with time zone", SQLT_TIMESTAMPTZ},
                      {"text", SQLT_TEXT},
                      {"character varying", SQLT_TEXT},
                      {"boolean", SQLT_BOOL}};

/* The column's PostgreSQL type from format_type's spelling ("numeric(12,3)", "integer", ...). */
static void parse_sql_type(app_column_t *col, const char *t)
{
    col->sql_type = SQLT_UNKNOWN;
    col->sql_precision = col->sql_scale = 0;
    if (t == NULL)
        return;
    for (size_t i = 0; i < sizeof(sql_type_names) / sizeof(sql_type_names[0]); ++i) {
        size_t n = strlen(sql_type_names[i].name);
        if (strncmp(t, sql_type_names[i].name, n) == 0 && (t[n] == '\0' || t[n] == '(')) {
            col->sql_type = sql_type_names[i].type;
            if (col->sql_type == SQLT_NUMERIC && t[n] == '(') {
                char *end;
                long p = strtol(t + n + 1, &end, 10), sc = 0;
                if (*end == ',')
                    sc = strtol(end + 1, &end, 10);
                if (*end == ')' && p > 0 && p <= 1000 && sc >= 0 && sc <= p) {
                    col->sql_precision = (int)p;
                    col->sql_scale = (int)sc;
                }
            }
            return;
        }
    }
}

static int resolve_list(app_dataset_t *ds, json_t *arr, const app_column_t **out, size_t max, size_t *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    json_array_foreach(arr, i, v)
    {
        const char *name = json_string_value(v);
        const app_column_t *c = name != NULL ? app_dataset_column(ds, name, strlen(name)) : NULL;
        if (c == NULL || *n == max)
            return -1;
        out[(*n)++] = c;
    }
    return 0;
}

static int parse_dataset(app_dataset_t *ds, json_t *row)
{
    json_t *cols = json_object_get(row, "columns"), *c, *sql_types = json_object_get(row, "sql_types");
    size_t i;

    ds->json = row;
    ds->id = json_string_value(json_object_get(row, "id"));
    ds->view = json_string_value(json_object_get(row, "source_view"));
    ds->version = (uint64_t)json_integer_value(json_object_get(row, "version"));
    ds->max_age = (unsigned)json_integer_value(json_object_get(row, "max_age_seconds"));
    ds->personal = json_is_true(json_object_get(row, "personal"));
    if (ds->id == NULL || !is_safe_view(ds->view) || !json_is_array(cols) || json_array_size(cols) == 0)
        return -1;
    ds->ncols = json_array_size(cols);
    if ((ds->cols = calloc(ds->ncols, sizeof(*ds->cols))) == NULL)
        return -1;
    json_array_foreach(cols, i, c)
    {
        app_column_t *col = &ds->cols[i];
        int t = lookup(type_names, 6, json_string_value(json_object_get(c, "type")));
        int r = lookup(role_names, 3, json_string_value(json_object_get(c, "role")));
        col->name = json_string_value(json_object_get(c, "name"));
        if (!is_safe_ident(col->name) || t < 0 || r < 0)
            return -1;
        col->type = (app_col_type_t)t;
        col->role = (app_col_role_t)r;
        parse_sql_type(col, json_string_value(json_object_get(sql_types, col->name)));
        col->filterable = json_is_true(json_object_get(c, "filterable"));
        col->groupable = json_is_true(json_object_get(c, "groupable"));
        col->nullable = json_is_true(json_object_get(c, "nullable"));
        col->local =
            json_is_string(json_object_get(c, "format")) && strcmp(json_string_value(json_object_get(c, "format")), "local") == 0;
        col->ops = flags_of(json_object_get(c, "operators"), op_names);
        col->aggs = flags_of(json_object_get(c, "aggregations"), agg_names);
        col->scale = json_is_integer(json_object_get(c, "scale")) ? (int)json_integer_value(json_object_get(c, "scale")) : 0;
        if (col->scale < 0 || col->scale > 9)
            return -1;
        col->enum_values = json_is_array(json_object_get(c, "enum_values")) ? json_object_get(c, "enum_values") : NULL;
    }
    json_object_del(row, "sql_types");
    str_fmt(ds->cache_control, sizeof(ds->cache_control), "public, max-age=%u", ds->max_age);
    str_fmt(ds->version_str, sizeof(ds->version_str), "%llu", (unsigned long long)ds->version);
    if (resolve_list(ds, json_object_get(row, "primary_key"), ds->pk, 8, &ds->npk) != 0 ||
        resolve_list(ds, json_object_get(row, "default_order"), ds->order, 8, &ds->norder) != 0)
        return -1;
    return 0;
}

static void app_catalog_free(app_catalog_t *cat);

/* Builds a catalog from the JSON text returned by app_catalog_sql. Returns NULL (with a log line saying why) if the text
 * is not a valid catalog. The caller frees it with app_catalog_free. */
static app_catalog_t *app_catalog_parse(const char *text, size_t len)
{
    json_error_t err;
    app_catalog_t *cat = calloc(1, sizeof(*cat));
    size_t i;
    json_t *row;

    if (cat == NULL)
        return NULL;
    if ((cat->root = json_loadb(text, len, 0, &err)) == NULL || !json_is_array(cat->root)) {
        log_error("catalog: not a JSON array: %s", err.text);
        goto fail;
    }
    cat->n = json_array_size(cat->root);
    if (cat->n > 0 && (cat->datasets = calloc(cat->n, sizeof(*cat->datasets))) == NULL)
        goto fail;
    json_array_foreach(cat->root, i, row)
    {
        if (parse_dataset(&cat->datasets[i], row) != 0) {
            log_error("catalog: dataset #%zu (%s) is malformed", i, cat->datasets[i].id != NULL ? cat->datasets[i].id : "?");
            goto fail;
        }
    }
    return cat;
fail:
    app_catalog_free(cat);
    return NULL;
}

static void app_catalog_free(app_catalog_t *cat)
{
    if (cat == NULL)
        return;
    for (size_t i = 0; i < cat->n; ++i)
        free(cat->datasets[i].cols);
    free(cat->datasets);
    json_decref(cat->root);
    free(cat);
}

app_dataset_t *app_catalog_find(app_catalog_t *cat, const char *id, size_t len)
{
    for (size_t i = 0; cat != NULL && i < cat->n; ++i) {
        if (strlen(cat->datasets[i].id) == len && memcmp(cat->datasets[i].id, id, len) == 0)
            return &cat->datasets[i];
    }
    return NULL;
}

const app_column_t *app_dataset_column(const app_dataset_t *ds, const char *name, size_t len)
{
    for (size_t i = 0; i < ds->ncols; ++i) {
        if (strlen(ds->cols[i].name) == len && memcmp(ds->cols[i].name, name, len) == 0)
            return &ds->cols[i];
    }
    return NULL;
}

static int app_catalog_apply_notify(app_catalog_t *cat, const char *payload)
{
    const char *sp = strchr(payload, ' ');
    uint64_t v;
    app_dataset_t *ds;

    if (sp == NULL || (ds = app_catalog_find(cat, payload, (size_t)(sp - payload))) == NULL ||
        str_to_uint(sp + 1, strlen(sp + 1), 0, UINT64_MAX, &v) != 0 || v == ds->version)
        return 0;
    ds->version = v;
    str_fmt(ds->version_str, sizeof(ds->version_str), "%llu", (unsigned long long)v);
    json_object_set_new(ds->json, "version", json_integer((json_int_t)v));
    return 1;
}

/* --- the time zones the database knows ------------------------------------------------------------------------------ */

/* Loaded once per process (the first catalog load of any worker), then read by every thread without a lock. */
typedef struct tz_list {
    char *text;   /* the names, NUL-separated */
    char **names; /* sorted (strcmp) */
    size_t n;
} tz_list_t;

static _Atomic(tz_list_t *) tz_list;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tz_list_free(tz_list_t *t)
{
    if (t == NULL)
        return;
    free(t->names);
    free(t->text);
    free(t);
}

/* Parses "A,B,C" (string_agg of pg_timezone_names) and publishes it unless another worker was first. */
static void tz_list_store(const char *csv)
{
    tz_list_t *t = calloc(1, sizeof(*t)), *expected = NULL;
    size_t n = 1;
    if (t == NULL || (t->text = str_dup(csv)) == NULL)
        goto fail;
    for (const char *p = csv; *p != '\0'; ++p)
        n += *p == ',';
    if ((t->names = calloc(n, sizeof(*t->names))) == NULL)
        goto fail;
    for (char *p = t->text, *comma;; p = comma + 1) {
        if ((comma = strchr(p, ',')) != NULL)
            *comma = '\0';
        if (*p != '\0')
            t->names[t->n++] = p;
        if (comma == NULL)
            break;
    }
    qsort(t->names, t->n, sizeof(*t->names), cmp_name);
    if (atomic_compare_exchange_strong(&tz_list, &expected, t)) {
        log_debug("time zones: %zu names from pg_timezone_names", t->n);
        return;
    }
fail:
    tz_list_free(t);
}

int app_catalog_tz_known(const char *name)
{
    tz_list_t *t = atomic_load(&tz_list);
    /* the defaults of this service are in every PostgreSQL's list: they work before it is loaded */
    if (strcmp(name, "Europe/Copenhagen") == 0 || strcmp(name, "UTC") == 0)
        return 1;
    if (t == NULL)
        return -1;
    return bsearch(&name, t->names, t->n, sizeof(*t->names), cmp_name) != NULL;
}

const char *app_catalog_tz_hint(const char *tz)
{
    if (tz[0] == '+' || tz[0] == '-' || (tz[0] >= '0' && tz[0] <= '9'))
        return "an IANA time zone name such as Europe/Copenhagen or UTC; offsets such as +01 are not accepted (a fixed "
               "offset is spelled Etc/GMT-1 for UTC+1)";
    return "an IANA time zone name the database knows, such as Europe/Copenhagen or UTC (exact spelling)";
}

int app_catalog_tz_loaded(void)
{
    return atomic_load(&tz_list) != NULL;
}

void app_catalog_tz_unloaded_reply(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    http_problem_send(req, HTTP_PROBLEM_DB_UNAVAILABLE,
                      "The list of time zones has not been loaded yet (the database has not answered since the server "
                      "started); try again shortly.",
                      NULL);
}

int app_catalog_tz_or_reply(h2o_req_t *req, const char *param, const char *tz)
{
    int known = strlen(tz) <= 64 ? app_catalog_tz_known(tz) : 0;
    if (known == 1)
        return 0;
    if (known < 0) {
        app_catalog_tz_unloaded_reply(req);
        return -1;
    }
    http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, param, "'%s' must be %s.", param, app_catalog_tz_hint(tz));
    return -1;
}

/* --- each worker's catalog --------------------------------------------------------------------------------------------- */

#define CATALOG_FIRST_MS 50 /* the first load: as soon as a connection is up (the pool's own backoff makes it cheap) */
/* The statement timeout of the catalog and time zone loads, whatever KLIMA_STATEMENT_TIMEOUT_MS says: they are cheap and
 * bounded (a few hundred rows; ~150 ms for the time zones), and a short API timeout must not leave open data without its
 * catalog (503) or the tz parameter without its list. */
#define CATALOG_STATEMENT_TIMEOUT_MS 30000
#define CATALOG_RELOAD_TICKS 60 /* then a reload every minute: a safety net for a missed NOTIFY */

typedef struct catalog_worker {
    app_worker_t *w;
    app_catalog_t **holder; /* shared (refcounted); NULL until first loaded */
    int loading, tz_loading;
    unsigned ticks;
    h2o_timeout_t first_timeout;
    h2o_timeout_entry_t first_entry;
} catalog_worker_t;

static size_t catalog_slot;

static void catalog_holder_dispose(void *p)
{
    app_catalog_free(*(app_catalog_t **)p);
}

app_catalog_t *app_catalog_hold(h2o_req_t *req)
{
    catalog_worker_t *c = app_worker_state(app_worker_of(req), catalog_slot);
    if (c == NULL || c->holder == NULL)
        return NULL;
    h2o_mem_link_shared(&req->pool, c->holder);
    return *c->holder;
}

app_catalog_t *app_catalog_acquire(h2o_req_t *req)
{
    app_catalog_t *cat = app_catalog_hold(req);
    if (cat == NULL) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
        http_problem_send(req, HTTP_PROBLEM_DB_UNAVAILABLE,
                          "The dataset catalog has not been loaded yet (the database has not answered since the server "
                          "started); try again shortly.",
                          NULL);
    }
    return cat;
}

static void tz_load(catalog_worker_t *c);

static void on_catalog(void *data, db_status_t status, const PGresult *res)
{
    catalog_worker_t *c = data;
    app_catalog_t *cat;
    app_catalog_t **holder;

    c->loading = 0;
    if (status != DB_OK || PQntuples(res) != 1) {
        if (status == DB_QUERY_ERROR)
            log_error("cannot load the dataset catalog: %s", PQresultErrorMessage(res));
        return;
    }
    if (c->w->db == NULL || (cat = app_catalog_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0))) == NULL)
        return; /* the worker is stopping (the pool is being destroyed), or the text is not a catalog (logged) */
    holder = h2o_mem_alloc_shared(NULL, sizeof(*holder), catalog_holder_dispose);
    *holder = cat;
    if (c->holder != NULL)
        h2o_mem_release_shared(c->holder);
    else
        log_debug("worker %u: catalog loaded, %zu datasets", c->w->http->id, cat->n);
    c->holder = holder;
    tz_load(c); /* at once rather than at the next tick: until then only the default zones pass */
}

static int catalog_load(catalog_worker_t *c)
{
    if (c->loading ||
        db_pool_query_sql_timeout(c->w->db, app_catalog_sql, 0, NULL, CATALOG_STATEMENT_TIMEOUT_MS, on_catalog, c) != 0)
        return -1;
    c->loading = 1;
    return 0;
}

static void on_first(h2o_timeout_entry_t *te)
{
    catalog_worker_t *c = H2O_STRUCT_FROM_MEMBER(catalog_worker_t, first_entry, te);
    if (c->holder == NULL && !c->loading && catalog_load(c) != 0)
        h2o_timeout_link(c->w->http->loop, &c->first_timeout, &c->first_entry);
}

static void *catalog_worker_start(app_worker_t *w)
{
    catalog_worker_t *c =
        app_worker_state_or_warn(w, calloc(1, sizeof(*c)), "the dataset catalog; open data answers 503 on this thread");
    if (c == NULL)
        return NULL;
    c->w = w;
    h2o_timeout_init(w->http->loop, &c->first_timeout, CATALOG_FIRST_MS);
    c->first_entry.cb = on_first;
    h2o_timeout_link(w->http->loop, &c->first_timeout, &c->first_entry);
    return c;
}

static void catalog_worker_stop(app_worker_t *w, void *state)
{
    catalog_worker_t *c = state;
    if (c != NULL && h2o_timeout_is_linked(&c->first_entry))
        h2o_timeout_unlink(&c->first_entry);
}

static void catalog_worker_dispose(app_worker_t *w, void *state)
{
    catalog_worker_t *c = state;
    if (c == NULL)
        return;
    if (c->holder != NULL)
        h2o_mem_release_shared(c->holder);
    h2o_timeout_dispose(w->http->loop, &c->first_timeout);
    free(c);
}

static void on_tz(void *data, db_status_t status, const PGresult *res)
{
    catalog_worker_t *c = data;
    c->tz_loading = 0;
    if (status == DB_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        tz_list_store(PQgetvalue(res, 0, 0));
    else if (status == DB_QUERY_ERROR)
        log_warn("cannot load the time zone names (pg_timezone_names), retrying: %s", PQresultErrorMessage(res));
}

/* After the catalog: the time zones, unless this worker is loading them or some worker of the process has them. */
static void tz_load(catalog_worker_t *c)
{
    if (c->holder != NULL && !c->tz_loading && atomic_load(&tz_list) == NULL && c->w->db != NULL &&
        db_pool_query_sql_timeout(c->w->db, catalog_tz_sql, 0, NULL, CATALOG_STATEMENT_TIMEOUT_MS, on_tz, c) == 0)
        c->tz_loading = 1;
}

/* Once a second: load the catalog until it is there, then reload it every minute; the time zones until loaded. */
static void catalog_tick(app_worker_t *w, void *state)
{
    catalog_worker_t *c = state;
    if (c != NULL && !c->loading && (c->holder == NULL || ++c->ticks % CATALOG_RELOAD_TICKS == 0))
        catalog_load(c);
    if (c != NULL)
        tz_load(c);
}

/* NOTIFY klima_dataset_refreshed (payload "<dataset id> <version>"), or the listener reconnected (NULL). */
static void catalog_notify(app_worker_t *w, void *state, const char *payload)
{
    catalog_worker_t *c = state;
    db_route_fence(w->route); /* no replica serves the refreshed data until it has replayed the refresh */
    if (c == NULL || c->holder == NULL)
        return;
    if (payload != NULL)
        app_catalog_apply_notify(*c->holder, payload);
    /* Reload the whole catalog at the next tick: after a NOTIFY, the version is current at once but the rest of the
     * release's metadata (disclosure control and its utility, coverage, row counts) comes with the whole catalog; after
     * a reconnect of the listener, notifications may have been missed. */
    c->ticks = CATALOG_RELOAD_TICKS - 1;
}

static void catalog_process_stop(void)
{
    tz_list_free(atomic_exchange(&tz_list, NULL));
}

const app_module_t app_catalog_module = {
    .name = "catalog",
    .process = {.stop = catalog_process_stop},
    .worker = {.start = catalog_worker_start, .stop = catalog_worker_stop, .dispose = catalog_worker_dispose, .tick = catalog_tick},
    .notify = {"klima_dataset_refreshed", catalog_notify},
    .slot = &catalog_slot};
