/*
 * app/ratesync — rate-limit tables reconciled through PostgreSQL.
 */
#include <stdlib.h>
#include <string.h>

#include "app/ratesync.h"
#include "core/log.h"
#include "core/sbuf.h"
#include "core/strutil.h"

#define RATESYNC_MAX 2048    /* buckets one sync reports (more wait for the next) */
#define RATESYNC_POLICIES 32 /* tables per worker */

/* `since` is the previous sync's time (NULL the first time), less a second for syncs that committed late */
static const char sql_rate_sync[] =
    "SELECT policy, key, level, synced_at FROM api.rate_sync($1::smallint[], $2::bigint[], $3::float8[], $4::float8[], "
    "$5::timestamptz - interval '1 second')";

/* Process-wide, written by app_ratesync_init before the workers start. */
static struct {
    metrics_t *metrics;
    int m_failures;
} ratesync;

struct app_ratesync {
    app_worker_t *w;
    ratelimit_t *tables[RATESYNC_POLICIES];
    size_t ntables;
    h2o_timeout_t timeout;
    h2o_timeout_entry_t entry;
    int syncing, stopping;
    char since[48];     /* the last sync's time as PostgreSQL wrote it; "" before the first */
    uint64_t warned_at; /* loop time of the last warning about a failed sync */
};

int app_ratesync_init(metrics_t *metrics)
{
    metrics_family_t failures = {.name = "klimaspejl_ratelimit_sync_failures_total",
                                 .help = "Syncs of the shared rate-limit buckets (KLIMA_RATE_SYNC_MS) that failed; meanwhile "
                                         "each worker thread counts alone.",
                                 .type = METRICS_COUNTER,
                                 .show_zero = 1};
    ratesync.metrics = metrics;
    if (metrics != NULL && (ratesync.m_failures = metrics_register(metrics, &failures)) < 0)
        return -1;
    return 0;
}

static void schedule(app_ratesync_t *s)
{
    if (!s->stopping && !h2o_timeout_is_linked(&s->entry))
        h2o_timeout_link(s->w->http->loop, &s->timeout, &s->entry);
}

/* What was collected goes into the next report. */
static void failed(app_ratesync_t *s)
{
    for (size_t p = 0; p < s->ntables; ++p) {
        if (s->tables[p] != NULL)
            ratelimit_collect_failed(s->tables[p]);
    }
    if (ratesync.metrics != NULL)
        metrics_add(ratesync.metrics, s->w->http->id, ratesync.m_failures, 0, 1);
}

static void on_sync(void *data, db_status_t status, const PGresult *res)
{
    app_ratesync_t *s = data;
    uint64_t now = h2o_now(s->w->http->loop);

    s->syncing = 0;
    if (status != DB_OK) {
        if (status == DB_QUERY_ERROR && (s->warned_at == 0 || now - s->warned_at >= 60000)) {
            s->warned_at = now;
            log_warn("cannot sync the rate-limit buckets (each worker thread counts alone meanwhile): %s",
                     PQresultErrorMessage(res));
        }
        failed(s);
        schedule(s);
        return;
    }
    for (int i = 0, n = PQntuples(res); i < n; ++i) {
        long p = PQgetisnull(res, i, 0) ? -1 : strtol(PQgetvalue(res, i, 0), NULL, 10);
        if (p >= 0 && (size_t)p < s->ntables && s->tables[p] != NULL)
            ratelimit_apply(s->tables[p], (uint64_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), strtod(PQgetvalue(res, i, 2), NULL),
                            now);
        else if (p < 0) /* the row with the time of the sync alone */
            str_fmt(s->since, sizeof(s->since), "%s", PQgetvalue(res, i, 3));
    }
    schedule(s);
}

/* The four array literals of a report: policies, keys, tokens taken, refill rates. */
typedef struct report {
    sbuf_t policies, keys, taken, rates;
    size_t n;
} report_t;

static void report_table(report_t *r, unsigned policy, ratelimit_t *rl)
{
    uint64_t k[256];
    double t[256];
    size_t n;

    while (r->n < RATESYNC_MAX && (n = ratelimit_collect(rl, k, t, RATESYNC_MAX - r->n < 256 ? RATESYNC_MAX - r->n : 256)) != 0) {
        for (size_t i = 0; i < n; ++i, ++r->n) {
            const char *sep = r->n != 0 ? "," : "";
            sbuf_printf(&r->policies, "%s%u", sep, policy);
            sbuf_printf(&r->keys, "%s%lld", sep, (long long)k[i]);
            sbuf_printf(&r->taken, "%s%.17g", sep, t[i]);
            sbuf_printf(&r->rates, "%s%.17g", sep, ratelimit_per_s(rl));
        }
    }
}

/* Every interval: reports what this worker took since its last sync and takes the shared levels back. */
static void on_timer(h2o_timeout_entry_t *te)
{
    app_ratesync_t *s = H2O_STRUCT_FROM_MEMBER(app_ratesync_t, entry, te);
    report_t r = {SBUF_INIT(SBUF_CAP_TEXT), SBUF_INIT(SBUF_CAP_TEXT), SBUF_INIT(SBUF_CAP_TEXT), SBUF_INIT(SBUF_CAP_TEXT), 0};
    sbuf_t *all[] = {&r.policies, &r.keys, &r.taken, &r.rates};
    const char *params[5];
    int sent = 0, bad = 0;

    if (s->syncing || s->stopping || s->w->db == NULL) {
        schedule(s);
        return;
    }
    for (size_t i = 0; i < 4; ++i)
        sbuf_putc(all[i], '{');
    for (size_t p = 0; p < s->ntables; ++p) {
        if (s->tables[p] != NULL)
            report_table(&r, (unsigned)p, s->tables[p]);
    }
    for (size_t i = 0; i < 4; ++i) {
        sbuf_putc(all[i], '}');
        bad |= sbuf_failed(all[i]);
        params[i] = all[i]->data;
    }
    params[4] = s->since[0] != '\0' ? s->since : NULL;
    if (!bad && db_pool_query_sql(s->w->db, sql_rate_sync, 5, params, on_sync, s, NULL) == 0)
        sent = s->syncing = 1;
    else if (r.n != 0)
        failed(s); /* not connected (or out of memory): reported next time */
    for (size_t i = 0; i < 4; ++i)
        sbuf_free(all[i]);
    if (!sent)
        schedule(s); /* else on_sync schedules the next one */
}

app_ratesync_t *app_ratesync_start(app_worker_t *w, ratelimit_t *const *tables, size_t ntables, unsigned interval_ms)
{
    app_ratesync_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->w = w;
    s->ntables = ntables < RATESYNC_POLICIES ? ntables : RATESYNC_POLICIES;
    memcpy(s->tables, tables, s->ntables * sizeof(*tables));
    h2o_timeout_init(w->http->loop, &s->timeout, interval_ms);
    s->entry.cb = on_timer;
    schedule(s);
    return s;
}

void app_ratesync_stop(app_ratesync_t *s)
{
    /* the timer entry is linked while no sync is in flight */
    if (s != NULL && !s->stopping && h2o_timeout_is_linked(&s->entry))
        h2o_timeout_unlink(&s->entry);
    if (s != NULL)
        s->stopping = 1;
}

void app_ratesync_dispose(app_ratesync_t *s)
{
    app_ratesync_stop(s);
    if (s != NULL)
        h2o_timeout_dispose(s->w->http->loop, &s->timeout);
    free(s);
}
