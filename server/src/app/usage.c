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
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"
#include "geo/client.h"

/* Open addressing with at most half the slots used keeps probes short; a merge after a failed send may use more. */
#define USAGE_SLOTS (APP_USAGE_MAX_KEYS * 2)
/* At shutdown, how long the last send may take. */
#define USAGE_STOP_WAIT_MS 1000

static const char usage_add_sql[] = "SELECT api.usage_add($1::jsonb)";

static struct {
    metrics_t *metrics;
    int m_lag; /* klimaspejl_usage_flush_lag_seconds */
} usage;

static size_t usage_slot;

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
    int stopped;   /* the worker is stopping: no more counting */
    uint64_t dropped;
    uint64_t saved_at_ms; /* h2o_now when every count was last saved (app_usage_saved_at_ms) */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    usage_table_t tables[2];
} app_usage_t;

/* --- calendar ------------------------------------------------------------------------------------------------------- */

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
        time_date_format(e->key.day, day);
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
    if (u->stopped)
        return; /* the pool is being destroyed: usage_worker_dispose frees u afterwards */
    /* the table filled up while this send was in flight: send the rest now rather than at the next tick */
    if (u->counting->nkeys >= APP_USAGE_MAX_KEYS)
        usage_flush(u);
}

/* Sends the counting table unless a send is in flight or there is nothing to send. */
static void usage_flush(app_usage_t *u)
{
    sbuf_t json = SBUF_INIT(SBUF_CAP_TEXT);
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
    if (db_pool_query_sql(u->aw->db, usage_add_sql, 1, params, on_flushed, u, NULL) != 0) {
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
    app_usage_t *u = app_worker_state(app_worker_of(req), usage_slot);
    usage_key_t key;

    if (u == NULL || u->stopped)
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

/* --- the module ---------------------------------------------------------------------------------------------------- */

static int usage_start(const config_t *cfg, char *err, size_t errlen)
{
    metrics_family_t lag = {.name = "klimaspejl_usage_flush_lag_seconds",
                            .help = "Seconds since the usage counts were last all saved to PostgreSQL (the oldest worker); "
                                    "normally under 5.",
                            .type = METRICS_GAUGE,
                            .merge = METRICS_MERGE_MAX,
                            .scale = 0.001};
    if ((usage.metrics = app_metrics()) != NULL && (usage.m_lag = metrics_register(usage.metrics, &lag)) < 0)
        usage.metrics = NULL;
    return 0;
}

static void *usage_worker_start(app_worker_t *w)
{
    app_usage_t *u = app_worker_state_or_warn(w, calloc(1, sizeof(*u)), "usage counters; this thread does not count usage");

    if (u == NULL)
        return NULL;
    u->aw = w;
    u->counting = &u->tables[0];
    u->sending = &u->tables[1];
    u->saved_at_ms = h2o_now(w->http->loop);
    h2o_timeout_init(w->http->loop, &u->flush_timeout, APP_USAGE_FLUSH_MS);
    u->flush_entry.cb = on_flush_timer;
    h2o_timeout_link(w->http->loop, &u->flush_timeout, &u->flush_entry);
    return u;
}

/* Runs the loop until u's send is answered or the deadline passes. */
static void wait_for_send(app_usage_t *u, uint64_t deadline)
{
    while (u->in_flight && time_mono_ms() < deadline)
        h2o_evloop_run(u->aw->http->loop, 50);
}

/* The last send, while the pool still runs: for at most USAGE_STOP_WAIT_MS. */
static void usage_worker_stop(app_worker_t *w, void *state)
{
    app_usage_t *u = state;
    uint64_t deadline = time_mono_ms() + USAGE_STOP_WAIT_MS;

    if (u == NULL)
        return;
    if (h2o_timeout_is_linked(&u->flush_entry))
        h2o_timeout_unlink(&u->flush_entry);
    h2o_timeout_dispose(w->http->loop, &u->flush_timeout);
    wait_for_send(u, deadline);
    usage_flush(u);
    wait_for_send(u, deadline);
    if (u->counting->nkeys != 0 || u->in_flight)
        log_warn("worker %u: usage counters of the last seconds could not be saved at shutdown", w->http->id);
    u->stopped = 1; /* a send still in flight is answered DB_UNAVAILABLE when the pool is destroyed */
}

static void usage_worker_dispose(app_worker_t *w, void *state)
{
    free(state);
}

/* The flush lag: now minus the last time every count was saved (normally under APP_USAGE_FLUSH_MS). */
static void usage_publish(app_worker_t *w, void *state)
{
    app_usage_t *u = state;
    uint64_t now = h2o_now(w->http->loop);
    if (usage.metrics != NULL && u != NULL)
        metrics_set(usage.metrics, w->http->id, usage.m_lag, 0, now > u->saved_at_ms ? (int64_t)(now - u->saved_at_ms) : 0);
}

const app_module_t app_usage_module = {
    .name = "usage",
    .process = {.start = usage_start},
    .worker = {.start = usage_worker_start, .stop = usage_worker_stop, .dispose = usage_worker_dispose, .publish = usage_publish},
    .slot = &usage_slot};
