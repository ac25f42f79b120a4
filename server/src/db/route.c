/*
 * db/route — primary and read-replica pools of one worker thread.
 *
 * A read sent to a replica carries a copy of its statement and parameters (read_call_t) so that, if the replica drops it,
 * the primary can be asked instead; the copy is freed when the caller's callback has run.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/strutil.h"
#include "db/route.h"

#define LSN_MAX 32

typedef struct replica {
    db_pool_t *pool;
    uint64_t behind_gen; /* behind the fence of this generation until a probe says otherwise; 0 = not behind */
    int probing;
} replica_t;

struct db_route {
    h2o_evloop_t *loop;
    db_pool_t *primary;
    replica_t replicas[DB_ROUTE_MAX_REPLICAS];
    unsigned nreplicas;
    unsigned rr;
    /* fences: each db_route_fence starts a generation; its WAL position is asked from the primary */
    uint64_t fence_gen; /* the latest fence, 0 = never */
    uint64_t lsn_gen;   /* the generation fence_lsn belongs to */
    char fence_lsn[LSN_MAX];
    int lsn_loading;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick_entry;
    uint64_t reads_replica, reads_primary, reads_retried;
    int destroying;
};

typedef struct read_call {
    db_route_t *route;
    db_result_cb cb;
    void *data;
    db_wanted_cb wanted;
    char *sql;
    int nparams;
    char **params;
} read_call_t;

typedef struct probe {
    db_route_t *route;
    unsigned replica;
    uint64_t gen;
} probe_t;

/* The insert position, not pg_current_wal_lsn() (the write position): under synchronous_commit=off a committed refresh
 * may not be written yet when its NOTIFY arrives, and a fence at the write position would let a replica that has not
 * replayed the refresh pass. */
static const char lsn_sql[] = "SELECT pg_current_wal_insert_lsn()::text";
/* NULL when the server is not in recovery (a promoted replica, or a primary listed by mistake): it is current */
static const char caught_up_sql[] = "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true)";

int db_route_split_urls(const char *urls, char **out, size_t max)
{
    size_t n = 0;
    const char *p = urls;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ','), *b = p, *e;
        if (end == NULL)
            end = p + strlen(p);
        e = end;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\n'))
            ++b;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
            --e;
        if (e > b) {
            if (n == max || (out[n] = malloc((size_t)(e - b) + 1)) == NULL)
                goto fail;
            memcpy(out[n], b, (size_t)(e - b));
            out[n][e - b] = '\0';
            ++n;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return (int)n;
fail:
    while (n > 0)
        free(out[--n]);
    return -1;
}

static int replica_usable(const replica_t *rep)
{
    return rep->behind_gen == 0 && db_pool_ready(rep->pool);
}

/* The next usable replica (round-robin), or -1. */
static int pick_replica(db_route_t *r)
{
    for (unsigned k = 0; k < r->nreplicas; ++k) {
        unsigned i = (r->rr + k) % r->nreplicas;
        if (replica_usable(&r->replicas[i])) {
            r->rr = (i + 1) % r->nreplicas;
            return (int)i;
        }
    }
    return -1;
}

/* With the primary down as well, a replica behind a fence still beats a 503 (it is at most one refresh behind). */
static int pick_any_replica(db_route_t *r)
{
    for (unsigned k = 0; k < r->nreplicas; ++k) {
        unsigned i = (r->rr + k) % r->nreplicas;
        if (db_pool_ready(r->replicas[i].pool)) {
            r->rr = (i + 1) % r->nreplicas;
            return (int)i;
        }
    }
    return -1;
}

static void read_call_free(read_call_t *c)
{
    for (int i = 0; c->params != NULL && i < c->nparams; ++i)
        free(c->params[i]);
    free(c->params);
    free(c->sql);
    free(c);
}

/* A replica's answer to a read: passed on, or — when the replica dropped it — asked again on the primary. */
static void on_replica_result(void *data, db_status_t status, const PGresult *res)
{
    read_call_t *c = data;
    db_route_t *r = c->route;
    const char *state = status == DB_QUERY_ERROR && res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* 40001 on a replica: cancelled by a recovery conflict (vacuum replayed under the query), not the query's fault */
    int retry = !r->destroying && (status == DB_UNAVAILABLE || (state != NULL && strcmp(state, "40001") == 0));

    if (retry) {
        ++r->reads_retried;
        if (db_pool_query_sql(r->primary, c->sql, c->nparams, (const char *const *)c->params, c->cb, c->data, c->wanted) != 0)
            c->cb(c->data, DB_UNAVAILABLE, NULL);
    } else {
        c->cb(c->data, status, res);
    }
    read_call_free(c);
}

/* A replica pool asks the read's own caller. */
static int read_call_wanted(void *data)
{
    read_call_t *c = data;
    return c->wanted == NULL || c->wanted(c->data);
}

static int read_on_replica(db_route_t *r, int rep, const char *sql, int nparams, const char *const *params, db_result_cb cb,
                           void *data, db_wanted_cb wanted)
{
    read_call_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->route = r;
    c->cb = cb;
    c->data = data;
    c->wanted = wanted;
    c->nparams = nparams;
    if ((c->sql = str_dup(sql)) == NULL)
        goto fail;
    if (nparams > 0) {
        if ((c->params = calloc((size_t)nparams, sizeof(char *))) == NULL)
            goto fail;
        for (int i = 0; i < nparams; ++i) {
            if (params[i] != NULL && (c->params[i] = str_dup(params[i])) == NULL)
                goto fail;
        }
    }
    if (db_pool_query_sql(r->replicas[rep].pool, sql, nparams, params, on_replica_result, c, read_call_wanted) != 0)
        goto fail;
    ++r->reads_replica;
    return 0;
fail:
    read_call_free(c);
    return -1;
}

static int route_read(db_route_t *r, const char *sql, int nparams, const char *const *params, db_result_cb cb, void *data,
                      db_wanted_cb wanted)
{
    int rep;

    if ((rep = pick_replica(r)) >= 0 && read_on_replica(r, rep, sql, nparams, params, cb, data, wanted) == 0)
        return 0;
    if (db_pool_query_sql(r->primary, sql, nparams, params, cb, data, wanted) == 0) {
        ++r->reads_primary;
        return 0;
    }
    if ((rep = pick_any_replica(r)) >= 0 && read_on_replica(r, rep, sql, nparams, params, cb, data, wanted) == 0)
        return 0;
    return -1;
}

int db_route_query_sql(db_route_t *r, db_target_t target, const char *sql, int nparams, const char *const *params, db_result_cb cb,
                       void *data, db_wanted_cb wanted)
{
    if (target == DB_TARGET_PRIMARY)
        return db_pool_query_sql(r->primary, sql, nparams, params, cb, data, wanted);
    return route_read(r, sql, nparams, params, cb, data, wanted);
}

const char *db_route_read_conninfo(db_route_t *r)
{
    int rep = pick_replica(r);
    if (rep < 0 && !db_pool_ready(r->primary))
        rep = pick_any_replica(r);
    return rep >= 0 ? db_pool_conninfo(r->replicas[rep].pool) : db_pool_conninfo(r->primary);
}

const char *db_route_primary_conninfo(db_route_t *r)
{
    return db_pool_conninfo(r->primary);
}

/* --- fences ------------------------------------------------------------------------------------------------------ */

static void on_probe(void *data, db_status_t status, const PGresult *res)
{
    probe_t *p = data;
    db_route_t *r = p->route;
    replica_t *rep = &r->replicas[p->replica];

    rep->probing = 0;
    if (status == DB_QUERY_ERROR)
        log_warn("replica %u: cannot tell its replay position (%s); its reads go to the primary", p->replica,
                 res != NULL ? PQresultErrorMessage(res) : "no message");
    if (status == DB_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 && rep->behind_gen == p->gen) {
        rep->behind_gen = 0;
        log_debug("replica %u has replayed past the fence at %s", p->replica, r->fence_lsn);
    }
    free(p);
}

static void on_fence_lsn(void *data, db_status_t status, const PGresult *res)
{
    db_route_t *r = data;

    r->lsn_loading = 0;
    /* the position answers the fence lsn_gen it was asked for (and every earlier one); a later fence asks again */
    if (status == DB_OK && PQntuples(res) == 1 && (size_t)PQgetlength(res, 0, 0) < LSN_MAX)
        str_fmt(r->fence_lsn, sizeof(r->fence_lsn), "%s", PQgetvalue(res, 0, 0));
    else
        r->lsn_gen = 0; /* asked again on the next tick */
}

/* Every 100 ms while a fence is open: ask the primary for the fence's position, then each replica behind it whether
 * it has replayed that far. */
static void on_tick(h2o_timeout_entry_t *te)
{
    db_route_t *r = H2O_STRUCT_FROM_MEMBER(db_route_t, tick_entry, te);
    int open = 0;

    for (unsigned i = 0; i < r->nreplicas; ++i)
        open |= r->replicas[i].behind_gen != 0;
    if (!open)
        return; /* relinked by the next fence */
    if (r->lsn_gen != r->fence_gen) {
        if (!r->lsn_loading && db_pool_query_sql(r->primary, lsn_sql, 0, NULL, on_fence_lsn, r, NULL) == 0) {
            r->lsn_loading = 1;
            r->lsn_gen = r->fence_gen;
            r->fence_lsn[0] = '\0';
        }
    } else if (!r->lsn_loading && r->fence_lsn[0] != '\0') {
        for (unsigned i = 0; i < r->nreplicas; ++i) {
            replica_t *rep = &r->replicas[i];
            probe_t *p;
            const char *params[1] = {r->fence_lsn};
            if (rep->behind_gen == 0 || rep->probing || (p = malloc(sizeof(*p))) == NULL)
                continue;
            /* a replica behind an older fence is behind this one too: the newer position is the one to reach */
            rep->behind_gen = r->lsn_gen;
            p->route = r;
            p->replica = i;
            p->gen = r->lsn_gen;
            if (db_pool_query_sql(rep->pool, caught_up_sql, 1, params, on_probe, p, NULL) == 0)
                rep->probing = 1;
            else
                free(p);
        }
    }
    h2o_timeout_link(r->loop, &r->tick_timeout, &r->tick_entry);
}

void db_route_fence(db_route_t *r)
{
    if (r->nreplicas == 0)
        return;
    ++r->fence_gen;
    for (unsigned i = 0; i < r->nreplicas; ++i)
        r->replicas[i].behind_gen = r->fence_gen;
    if (!h2o_timeout_is_linked(&r->tick_entry))
        h2o_timeout_link(r->loop, &r->tick_timeout, &r->tick_entry);
}

/* --- lifecycle ------------------------------------------------------------------------------------------------------ */

db_route_t *db_route_create(h2o_evloop_t *loop, const char *primary, const char *read_urls, unsigned nconns, unsigned timeout_ms,
                            unsigned statement_timeout_ms)
{
    char *urls[DB_ROUTE_MAX_REPLICAS];
    int n = db_route_split_urls(read_urls, urls, DB_ROUTE_MAX_REPLICAS);
    db_route_t *r = NULL, *ret = NULL;

    if (n < 0)
        return NULL;
    if ((r = calloc(1, sizeof(*r))) == NULL)
        goto fail;
    r->loop = loop;
    h2o_timeout_init(loop, &r->tick_timeout, 100);
    r->tick_entry.cb = on_tick;
    if ((r->primary = db_pool_create(loop, primary, nconns, timeout_ms, statement_timeout_ms)) == NULL)
        goto fail;
    for (int i = 0; i < n; ++i) {
        if ((r->replicas[i].pool = db_pool_create(loop, urls[i], nconns, timeout_ms, statement_timeout_ms)) == NULL)
            goto fail;
        ++r->nreplicas;
    }
    ret = r;
    r = NULL;
fail:
    for (int i = 0; i < n; ++i)
        free(urls[i]);
    db_route_destroy(r);
    return ret;
}

/* duplicate: the create/destroy idiom every owner of memory here follows (destroy accepts NULL). */
void db_route_destroy(db_route_t *r)
{
    if (r == NULL)
        return;
    r->destroying = 1;
    if (h2o_timeout_is_linked(&r->tick_entry))
        h2o_timeout_unlink(&r->tick_entry);
    for (unsigned i = 0; i < r->nreplicas; ++i)
        db_pool_destroy(r->replicas[i].pool);
    db_pool_destroy(r->primary);
    h2o_timeout_dispose(r->loop, &r->tick_timeout);
    free(r);
}

db_pool_t *db_route_primary(db_route_t *r)
{
    return r->primary;
}

void db_route_get_stats(db_route_t *r, db_route_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->replicas = r->nreplicas;
    for (unsigned i = 0; i < r->nreplicas; ++i) {
        db_pool_stats_t s;
        db_pool_get_stats(r->replicas[i].pool, &s);
        out->replica.connections_ready += s.connections_ready;
        out->replica.connections_total += s.connections_total;
        out->replica.in_flight += s.in_flight;
        out->replica.queries_ok += s.queries_ok;
        out->replica.queries_failed += s.queries_failed;
        out->replica.queries_sent += s.queries_sent;
        out->replica.queries_dropped += s.queries_dropped;
        if (s.last_ok_ms > out->replica.last_ok_ms)
            out->replica.last_ok_ms = s.last_ok_ms;
        out->replicas_usable += replica_usable(&r->replicas[i]);
    }
    out->reads_replica = r->reads_replica;
    out->reads_primary = r->reads_primary;
    out->reads_retried = r->reads_retried;
}
