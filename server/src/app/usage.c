/*
 * app/usage — per-worker usage counters, their periodic send to PostgreSQL, and GET /v1/usage.
 *
 * Each worker owns two fixed tables of counters: `counting` takes the requests, `sending` holds the batch whose
 * api.usage_add call is in flight. A send swaps them; a failed send merges the batch back (so nothing is lost while
 * PostgreSQL is away, within the tables' bound). A request's client address goes to geo_client_country and no further.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/usage.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/qs.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "geo/client.h"
#include "http/problem.h"
#include "http/respond.h"

/* Open addressing with at most half the slots used keeps probes short; a merge after a failed send may use more. */
#define USAGE_SLOTS (APP_USAGE_MAX_KEYS * 2)
/* At shutdown, how long the last send may take. */
#define USAGE_STOP_WAIT_MS 1000
/* GET /v1/usage */
#define USAGE_DEFAULT_DAYS 30
#define USAGE_MAX_DAYS 366 /* to - from */
#define USAGE_MAX_PARAMS 8

typedef struct usage_key {
    int32_t day; /* days since 1970-01-01, UTC */
    char dataset[64];
    char kind[12];
    char format[12];
    char country[4];
} usage_key_t;

typedef struct usage_entry {
    usage_key_t key;
    uint64_t count; /* 0 = free slot */
} usage_entry_t;

typedef struct usage_table {
    usage_entry_t slots[USAGE_SLOTS];
    size_t nkeys;
} usage_table_t;

typedef struct app_usage {
    app_worker_t *aw;
    usage_table_t *counting, *sending;
    int in_flight; /* an api.usage_add of `sending` is waiting for its answer */
    int stopped;   /* the worker stopped with a send in flight: its callback frees this */
    uint64_t dropped;
    uint64_t saved_at_ms; /* h2o_now when every count was last saved (app_usage_saved_at_ms) */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    usage_table_t tables[2];
} app_usage_t;

static const char *const format_names[] = {
    [FORMAT_JSON] = "json", [FORMAT_CSV] = "csv", [FORMAT_NDJSON] = "ndjson", [FORMAT_GEOJSON] = "geojson"};

const char *app_usage_format_name(opendata_format_t format)
{
    if ((size_t)format >= sizeof(format_names) / sizeof(format_names[0]) || format_names[format] == NULL)
        return "other";
    return format_names[format];
}

/* Content types of the records formats, by prefix (a cached response keeps only its content type). */
static const struct {
    const char *prefix;
    const char *format;
} type_formats[] = {
    {"application/json", "json"}, {"application/geo+json", "geojson"},  {"application/x-ndjson", "ndjson"},
    {"text/csv", "csv"},          {"text/tab-separated-values", "csv"},
};

const char *app_usage_format_of_type(const char *content_type)
{
    for (size_t i = 0; content_type != NULL && i < sizeof(type_formats) / sizeof(type_formats[0]); ++i) {
        if (strncmp(content_type, type_formats[i].prefix, strlen(type_formats[i].prefix)) == 0)
            return type_formats[i].format;
    }
    return "other";
}

/* --- calendar ------------------------------------------------------------------------------------------------------- */

/* Writes "YYYY-MM-DD" (11 bytes with the NUL). */
static void day_format(int32_t day, char out[11])
{
    time_date_format(day, out);
}

/* Parses exactly "YYYY-MM-DD" of a real calendar day in 2000..9999. */
static int day_parse(const char *s, int32_t *out)
{
    int64_t day;
    if (time_date_parse(s, strlen(s), 2000, &day) != 0)
        return -1;
    *out = (int32_t)day;
    return 0;
}

static int32_t day_today(void)
{
    return (int32_t)(time(NULL) / 86400);
}

/* --- the counter tables --------------------------------------------------------------------------------------------- */

/* XXH3 over the whole 96-byte key: every counted request hashes it (a byte-wise FNV of it was 3 % of a cache hit's CPU
 * time, benchmarks/README.md, B2). */
static size_t key_hash(const usage_key_t *k)
{
    return (size_t)hash_bytes(k, sizeof(*k), HASH_SEED);
}

/* Adds count to key's counter. A new key is taken only while the table holds fewer than `limit` keys. Keys are
 * compared bytewise, so callers build them from a zeroed struct. Returns 0, or -1 when the key did not fit. */
static int table_add(usage_table_t *t, const usage_key_t *key, uint64_t count, size_t limit)
{
    size_t i = key_hash(key) & (USAGE_SLOTS - 1);

    for (size_t probes = 0; probes < USAGE_SLOTS; ++probes, i = (i + 1) & (USAGE_SLOTS - 1)) {
        usage_entry_t *e = &t->slots[i];
        if (e->count == 0) {
            if (t->nkeys >= limit)
                return -1;
            e->key = *key;
            e->count = count;
            ++t->nkeys;
            return 0;
        }
        if (memcmp(&e->key, key, sizeof(*key)) == 0) {
            e->count += count;
            return 0;
        }
    }
    return -1;
}

static void table_clear(usage_table_t *t)
{
    memset(t, 0, sizeof(*t));
}

/* The batch as api.usage_add wants it. */
static void table_to_json(const usage_table_t *t, sbuf_t *out)
{
    int first = 1;
    char day[11];

    sbuf_putc(out, '[');
    for (size_t i = 0; i < USAGE_SLOTS; ++i) {
        const usage_entry_t *e = &t->slots[i];
        if (e->count == 0)
            continue;
        day_format(e->key.day, day);
        sbuf_printf(out, "%s{\"day\":\"%s\",\"dataset\":\"", first ? "" : ",", day);
        sbuf_json_escape(out, e->key.dataset, strlen(e->key.dataset));
        sbuf_printf(out, "\",\"kind\":\"%s\",\"format\":\"%s\",\"country\":\"%s\",\"count\":%llu}", e->key.kind, e->key.format,
                    e->key.country, (unsigned long long)e->count);
        first = 0;
    }
    sbuf_putc(out, ']');
}

/* --- sending -------------------------------------------------------------------------------------------------------- */

static void usage_flush(app_usage_t *u);

static void on_flushed(void *data, db_status_t status, const PGresult *res)
{
    app_usage_t *u = data;
    const char *state = status == DB_QUERY_ERROR ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    uint64_t lost = 0;

    u->in_flight = 0;
    if (status == DB_QUERY_ERROR && state != NULL && (strcmp(state, "22023") == 0 || strcmp(state, "42704") == 0)) {
        /* api.usage_add refused the batch itself (e.g. a dataset that was removed meanwhile): retrying cannot help */
        log_error("usage: PostgreSQL refused %zu counters, dropping them: %s", u->sending->nkeys,
                  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    } else if (status != DB_OK) {
        /* keep them for the next send; a key that no longer fits is lost (the counting table is bounded) */
        for (size_t i = 0; i < USAGE_SLOTS; ++i) {
            const usage_entry_t *e = &u->sending->slots[i];
            if (e->count != 0 && table_add(u->counting, &e->key, e->count, USAGE_SLOTS - 1) != 0)
                lost += e->count;
        }
        u->dropped += lost;
        log_warn("usage: could not save %zu counters (%s); keeping them for the next try", u->sending->nkeys,
                 status == DB_QUERY_ERROR ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                 : status == DB_TIMEOUT   ? "timeout"
                                          : "database unavailable");
    }
    if (status == DB_OK && u->aw->http != NULL)
        u->saved_at_ms = h2o_now(u->aw->http->loop);
    table_clear(u->sending);
    if (u->stopped) {
        free(u);
        return;
    }
    /* the table filled up while this send was in flight: send the rest now rather than at the next tick */
    if (u->counting->nkeys >= APP_USAGE_MAX_KEYS)
        usage_flush(u);
}

/* Sends the counting table unless a send is in flight or there is nothing to send. */
static void usage_flush(app_usage_t *u)
{
    sbuf_t json = SBUF_INIT;
    const char *params[1];
    usage_table_t *t;

    if (!u->in_flight && u->counting->nkeys == 0)
        u->saved_at_ms = h2o_now(u->aw->http->loop); /* nothing waits to be saved */
    if (u->in_flight || u->counting->nkeys == 0 || u->aw->db == NULL)
        return;
    if (u->dropped != 0) {
        log_warn("usage: %llu counts were dropped because the counter table was full", (unsigned long long)u->dropped);
        u->dropped = 0;
    }
    table_to_json(u->counting, &json);
    if (sbuf_failed(&json))
        goto exit; /* out of memory: the counts stay for the next tick */
    t = u->sending;
    u->sending = u->counting;
    u->counting = t;
    params[0] = json.data;
    if (db_pool_query(u->aw->db, APP_STMT_USAGE_ADD, params, on_flushed, u) != 0) {
        /* no connection right now: undo the swap (counting is still empty) and try at the next tick */
        t = u->sending;
        u->sending = u->counting;
        u->counting = t;
        goto exit;
    }
    u->in_flight = 1;
exit:
    sbuf_free(&json);
}

static void on_flush_timer(h2o_timeout_entry_t *te)
{
    app_usage_t *u = H2O_STRUCT_FROM_MEMBER(app_usage_t, flush_entry, te);
    usage_flush(u);
    h2o_timeout_link(u->aw->http->loop, &u->flush_timeout, &u->flush_entry);
}

/* --- counting ------------------------------------------------------------------------------------------------------- */

/* Copies s into dst (size bytes); -1 if it does not fit. */
static int copy_field(char *dst, size_t size, const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;
    if (len == 0 || len >= size)
        return -1;
    memcpy(dst, s, len);
    return 0;
}

void app_usage_count(h2o_req_t *req, const char *dataset_id, const char *kind, const char *format)
{
    app_worker_t *aw = app_worker_of(req);
    app_usage_t *u = aw != NULL ? aw->usage : NULL;
    usage_key_t key;

    if (u == NULL)
        return;
    memset(&key, 0, sizeof(key));
    if (copy_field(key.dataset, sizeof(key.dataset), dataset_id) != 0 || copy_field(key.kind, sizeof(key.kind), kind) != 0 ||
        copy_field(key.format, sizeof(key.format), format) != 0)
        return;
    key.day = day_today();
    /* only the country goes into the counter; the address stays in this stack frame */
    geo_client_country(req, key.country);
    if (table_add(u->counting, &key, 1, APP_USAGE_MAX_KEYS) != 0)
        ++u->dropped;
    if (u->counting->nkeys >= APP_USAGE_MAX_KEYS)
        usage_flush(u);
}

/* --- worker lifecycle ----------------------------------------------------------------------------------------------- */

int app_usage_worker_start(app_worker_t *aw)
{
    app_usage_t *u = calloc(1, sizeof(*u));

    aw->usage = NULL;
    if (u == NULL)
        return -1;
    u->aw = aw;
    u->counting = &u->tables[0];
    u->sending = &u->tables[1];
    u->saved_at_ms = h2o_now(aw->http->loop);
    h2o_timeout_init(aw->http->loop, &u->flush_timeout, APP_USAGE_FLUSH_MS);
    u->flush_entry.cb = on_flush_timer;
    h2o_timeout_link(aw->http->loop, &u->flush_timeout, &u->flush_entry);
    aw->usage = u;
    return 0;
}

/* Runs the loop until u's send is answered or the deadline passes. */
static void wait_for_send(app_usage_t *u, uint64_t deadline)
{
    while (u->in_flight && time_mono_ms() < deadline)
        h2o_evloop_run(u->aw->http->loop, 50);
}

void app_usage_worker_stop(app_worker_t *aw)
{
    app_usage_t *u = aw->usage;
    uint64_t deadline = time_mono_ms() + USAGE_STOP_WAIT_MS;

    if (u == NULL)
        return;
    aw->usage = NULL; /* no more counting */
    if (h2o_timeout_is_linked(&u->flush_entry))
        h2o_timeout_unlink(&u->flush_entry);
    h2o_timeout_dispose(aw->http->loop, &u->flush_timeout);
    wait_for_send(u, deadline);
    usage_flush(u);
    wait_for_send(u, deadline);
    if (u->counting->nkeys != 0 || u->in_flight)
        log_warn("worker %u: usage counters of the last seconds could not be saved at shutdown", aw->http->id);
    if (u->in_flight) {
        u->stopped = 1; /* the pool answers DB_UNAVAILABLE when it is destroyed; on_flushed frees u then */
        return;
    }
    free(u);
}

uint64_t app_usage_saved_at_ms(const app_worker_t *aw)
{
    const app_usage_t *u = aw->usage;
    return u != NULL ? u->saved_at_ms : 0;
}

/* --- GET /v1/usage -------------------------------------------------------------------------------------------------- */

typedef struct usage_get {
    char from[11], to[11];
} usage_get_t;

/* The JSON names of the statement's columns, in order; the last two are integers. */
static const char *const usage_columns[] = {"day", "dataset", "format", "country", "downloads", "queries"};

static void on_usage_rows(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    sbuf_t body = SBUF_INIT;
    int rows;

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    rows = PQntuples(res);
    sbuf_putc(&body, '[');
    for (int r = 0; r < rows; ++r) {
        sbuf_puts(&body, r ? ",{" : "{");
        for (int c = 0; c < 6; ++c) {
            sbuf_printf(&body, "%s\"%s\":", c ? "," : "", usage_columns[c]);
            if (c >= 4) {
                sbuf_append(&body, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
            } else {
                sbuf_putc(&body, '"');
                sbuf_json_escape(&body, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
                sbuf_putc(&body, '"');
            }
        }
        sbuf_putc(&body, '}');
    }
    sbuf_putc(&body, ']');
    if (sbuf_failed(&body)) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "The response could not be assembled (out of memory).", NULL);
        goto exit;
    }
    {
        char *copy = h2o_mem_alloc_pool(&req->pool, body.len + 1);
        memcpy(copy, body.data, body.len + 1);
        http_add_header(req, "cache-control", "public, max-age=60");
        http_send_bytes(req, 200, "application/json", copy, body.len);
    }
exit:
    sbuf_free(&body);
}

/* Where each recognised parameter's value goes. */
typedef struct usage_params {
    const char *from, *to, *dataset;
} usage_params_t;

static const struct {
    const char *name;
    size_t offset;
} usage_param_table[] = {
    {"from", offsetof(usage_params_t, from)},
    {"to", offsetof(usage_params_t, to)},
    {"dataset", offsetof(usage_params_t, dataset)},
};

/* Decodes the query string into p; on a problem sends the 400 and returns -1. */
static int usage_params_or_reply(h2o_req_t *req, usage_params_t *p)
{
    const char *qs = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t qslen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0, n = 0;
    qs_param_t params[USAGE_MAX_PARAMS];
    char *decoded = h2o_mem_alloc_pool(&req->pool, qslen + 2 * USAGE_MAX_PARAMS + 2);

    memset(p, 0, sizeof(*p));
    switch (qs_parse(qs, qslen, params, USAGE_MAX_PARAMS, &n, decoded)) {
    case QS_OK:
        break;
    case QS_TOO_MANY:
        http_problem_sendf(req, HTTP_PROBLEM_BAD_REQUEST, NULL, "At most %d query parameters.", USAGE_MAX_PARAMS);
        return -1;
    case QS_BAD_ESCAPE:
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST,
                          "The query string has a malformed percent-escape (or an encoded NUL byte).", NULL);
        return -1;
    case QS_BAD_UTF8:
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "A query parameter is not valid UTF-8 once decoded.", NULL);
        return -1;
    }
    for (size_t i = 0; i < n; ++i) {
        const char **slot = NULL;
        for (size_t k = 0; k < sizeof(usage_param_table) / sizeof(usage_param_table[0]); ++k) {
            if (strcmp(params[i].name, usage_param_table[k].name) == 0)
                slot = (const char **)((char *)p + usage_param_table[k].offset);
        }
        if (slot == NULL) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, params[i].name,
                               "Unknown parameter '%.64s'; /v1/usage takes from, to and dataset.", params[i].name);
            return -1;
        }
        if (*slot != NULL) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, params[i].name, "'%s' is given more than once.",
                               params[i].name);
            return -1;
        }
        *slot = params[i].value;
    }
    return 0;
}

int app_usage_get(h2o_req_t *req, const http_match_t *m)
{
    usage_params_t p;
    usage_get_t *g;
    int32_t from, to, today = day_today();
    const char *params[3];

    if (usage_params_or_reply(req, &p) != 0)
        return 0;
    g = h2o_mem_alloc_pool(&req->pool, sizeof(*g));
    to = today;
    if (p.to != NULL && day_parse(p.to, &to) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'to' must be a date YYYY-MM-DD (UTC).", "to");
        return 0;
    }
    from = to - (USAGE_DEFAULT_DAYS - 1);
    if (p.from != NULL && day_parse(p.from, &from) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'from' must be a date YYYY-MM-DD (UTC).", "from");
        return 0;
    }
    if (from > to) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "'from' must not be after 'to'.", "from");
        return 0;
    }
    if (to - from > USAGE_MAX_DAYS) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, p.to != NULL ? "to" : "from",
                           "'to' may be at most %d days after 'from'.", USAGE_MAX_DAYS);
        return 0;
    }
    if (p.dataset != NULL) {
        app_catalog_t *cat = app_catalog_acquire(req);
        if (cat == NULL)
            return 0;
        if (app_catalog_find(cat, p.dataset, strlen(p.dataset)) == NULL) {
            http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, "dataset",
                               "There is no dataset '%.64s'; GET /v1/datasets lists them.", p.dataset);
            return 0;
        }
    }
    day_format(from, g->from);
    day_format(to, g->to);
    params[0] = g->from;
    params[1] = g->to;
    params[2] = p.dataset;
    app_db_query(req, APP_STMT_USAGE_GET, params, on_usage_rows, g);
    return 0;
}
