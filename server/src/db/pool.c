/*
 * db/pool — pipelined, non-blocking libpq connections on an h2o evloop.
 *
 * Each accepted query is one "entry" in its connection's FIFO. On the wire an entry is
 *     [set_config statement_timeout] [Parse (first use of the statement on this connection)] Bind/Execute  Sync
 * and libpq reports it back as
 *     [set_config result, NULL] [prepare result, NULL]  query result(s), NULL  PGRES_PIPELINE_SYNC
 * so the FIFO head always says which result comes next. A Sync per entry gives each query its own implicit transaction:
 * an error aborts only that entry, never its neighbours.
 *
 * libpq owns its socket; h2o watches a dup() of it, so closing either side never closes a descriptor the other still
 * uses (or one the kernel has already handed to somebody else).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strutil.h"
#include "db/connect.h"
#include "db/defer.h"
#include "db/pool.h"
#include "db/stmtcache.h"

/* PREPARE: a statement in front of the query (its Parse, or the set_config of db_pool_query_sql_timeout) */
typedef enum entry_phase { PHASE_PREPARE_RESULT, PHASE_PREPARE_END, PHASE_QUERY_RESULT, PHASE_QUERY_END, PHASE_SYNC } entry_phase_t;

/* For db_defer: the query runs under the connection's statement_timeout. */
#define POOL_TIMEOUT_DEFAULT UINT_MAX

static const char pool_setup_sql[] = "SELECT pg_catalog.set_config('statement_timeout', $1, true)";

typedef struct entry {
    db_result_cb cb; /* NULL once called */
    void *data;
    entry_phase_t phase;
    unsigned pre; /* statements in front of the query whose results are still to come */
    int dyn_slot; /* statement-cache slot prepared with this entry, or -1 */
    uint64_t sent_at;
} entry_t;

typedef enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_READY } conn_state_t;

typedef struct conn {
    db_pool_t *pool;
    PGconn *pg;
    h2o_socket_t *sock;
    int pg_fd; /* libpq's descriptor that sock watches a dup of */
    conn_state_t state;
    entry_t *q; /* ring buffer */
    size_t q_head, q_len, q_cap;
    db_stmtcache_t stmts; /* what this connection has prepared */
    unsigned backoff_step;
    uint64_t retry_at; /* h2o_now when the scheduled reconnect runs */
    h2o_timeout_entry_t retry_entry;
    h2o_timeout_entry_t flush_entry;
    int write_pending; /* waiting for the socket to become writable */
} conn_t;

#define BACKOFF_STEPS 5
static const uint64_t backoff_ms[BACKOFF_STEPS] = {50, 100, 250, 500, 1000};

struct db_pool {
    h2o_evloop_t *loop;
    char *conninfo;
    conn_t *conns;
    unsigned nconns;
    unsigned timeout_ms, statement_timeout_ms;
    h2o_timeout_t backoff[BACKOFF_STEPS];
    h2o_timeout_t flush_timeout; /* zero: runs at the end of this loop iteration, batching writes */
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick_entry;
    uint64_t queries_ok, queries_failed, last_ok_ms;
    uint64_t queries_sent;
    db_defer_t pending; /* accepted in this loop iteration, sent at its end (db/defer) */
    unsigned rr;        /* round-robin start for picking a connection */
    int destroying;
};

static void conn_connect(conn_t *c);
static void conn_on_io(h2o_socket_t *sock, const char *err);
static int pool_send(void *ctx, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                     db_result_cb cb, void *data);

static void conn_close_socket(conn_t *c)
{
    if (c->sock != NULL) {
        h2o_socket_read_stop(c->sock);
        h2o_socket_close(c->sock); /* closes our dup, not libpq's descriptor */
        c->sock = NULL;
    }
    c->pg_fd = -1;
    c->write_pending = 0;
}

static int conn_watch_socket(conn_t *c)
{
    int fd = PQsocket(c->pg), dupfd;

    if (fd == c->pg_fd && c->sock != NULL)
        return 0;
    conn_close_socket(c);
    if (fd < 0 || (dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
        return -1;
    c->pg_fd = fd;
    c->sock = h2o_evloop_socket_create(c->pool->loop, dupfd, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->data = c;
    h2o_socket_read_start(c->sock, conn_on_io);
    return 0;
}

static entry_t *conn_head(conn_t *c)
{
    return c->q_len != 0 ? &c->q[c->q_head] : NULL;
}

static void conn_pop(conn_t *c)
{
    c->q_head = (c->q_head + 1) % c->q_cap;
    --c->q_len;
}

/* Calls the entry's callback once. e is not touched after the callback starts (the ring may move under it). */
static void entry_finish(db_pool_t *pool, entry_t *e, db_status_t status, const PGresult *res)
{
    db_result_cb cb = e->cb;
    void *data = e->data;
    if (cb == NULL)
        return;
    e->cb = NULL;
    if (status == DB_OK) {
        ++pool->queries_ok;
        pool->last_ok_ms = h2o_now(pool->loop);
    } else {
        ++pool->queries_failed;
    }
    cb(data, status, res);
}

/* Drops the connection: every queued entry fails with `status`, then a reconnect is scheduled with backoff. */
static void conn_reset(conn_t *c, db_status_t status, const char *why)
{
    db_pool_t *pool = c->pool;

    if (why != NULL && c->state == CONN_READY)
        log_warn("database connection lost: %s", why);
    else if (why != NULL)
        log_debug("database connection attempt failed: %s", why);
    conn_close_socket(c);
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = CONN_DOWN;
    db_stmtcache_clear(&c->stmts);
    if (h2o_timeout_is_linked(&c->flush_entry))
        h2o_timeout_unlink(&c->flush_entry);
    /* callbacks may queue new queries on other connections; this one is already DOWN so it is skipped */
    while (c->q_len != 0) {
        entry_t e = *conn_head(c);
        conn_pop(c);
        entry_finish(pool, &e, status, NULL);
    }
    if (!pool->destroying && !h2o_timeout_is_linked(&c->retry_entry)) {
        h2o_timeout_link(pool->loop, &pool->backoff[c->backoff_step], &c->retry_entry);
        c->retry_at = h2o_now(pool->loop) + backoff_ms[c->backoff_step];
        if (c->backoff_step + 1 < BACKOFF_STEPS)
            ++c->backoff_step;
    }
}

static void conn_on_retry(h2o_timeout_entry_t *te)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, retry_entry, te);
    conn_connect(c);
}

static void conn_on_writable(h2o_socket_t *sock, const char *err);

/* Sends what libpq has buffered; asks h2o to tell us when the socket drains if it could not all be written. */
static void conn_flush(conn_t *c)
{
    int r;
    if (c->state != CONN_READY || c->write_pending)
        return;
    if ((r = PQflush(c->pg)) == 1) {
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, conn_on_writable);
    } else if (r == -1) {
        conn_reset(c, DB_UNAVAILABLE, PQerrorMessage(c->pg));
    }
}

static void conn_poll_connect(conn_t *c);

/* Serves both states: while connecting it advances PQconnectPoll, afterwards it sends the rest of the output. */
static void conn_on_writable(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;
    c->write_pending = 0;
    if (err != NULL) {
        conn_reset(c, DB_UNAVAILABLE, err);
        return;
    }
    if (c->state == CONN_CONNECTING)
        conn_poll_connect(c);
    else
        conn_flush(c);
}

static void conn_on_flush_timer(h2o_timeout_entry_t *te)
{
    conn_flush(H2O_STRUCT_FROM_MEMBER(conn_t, flush_entry, te));
}

/* An error that says the connection is ending rather than that the query was wrong: connection exceptions (class 08),
 * admin_shutdown, crash_shutdown, cannot_connect_now (57P01..57P03), or an error libpq made up itself (no SQLSTATE). */
static int is_connection_error(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL)
        return 1;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
           strcmp(state, "57P03") == 0;
}

/* Reads what arrived and hands every complete result to its entry. */
static void conn_process_input(conn_t *c)
{
    db_pool_t *pool = c->pool;

    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_reset(c, DB_UNAVAILABLE, PQerrorMessage(c->pg));
        return;
    }
    while (c->state == CONN_READY && c->q_len != 0 && !PQisBusy(c->pg)) {
        entry_t *e = conn_head(c);
        PGresult *res = PQgetResult(c->pg);
        ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_EMPTY_QUERY;

        switch (e->phase) {
        case PHASE_PREPARE_RESULT:
        case PHASE_QUERY_RESULT:
            if (res == NULL) {
                /* libpq has nothing more for now */
                goto done;
            }
            {
                int is_query = e->phase == PHASE_QUERY_RESULT;
                /* advance before the callback: it may queue a query on this connection and move the ring */
                e->phase = is_query ? PHASE_QUERY_END : PHASE_PREPARE_END;
                /* the statement (if this entry prepared one) does not exist on this connection after all */
                if (!is_query && (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED))
                    db_stmtcache_forget(&c->stmts, e->dyn_slot);
                if (st == PGRES_FATAL_ERROR && is_connection_error(res)) {
                    /* the server is going away (shutdown, crash, lost link): not the query's fault, a retry may work */
                    entry_finish(pool, e, DB_UNAVAILABLE, NULL);
                } else if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) {
                    /* PIPELINE_ABORTED: the Parse before this query failed; the first error is what the caller sees */
                    entry_finish(pool, e, DB_QUERY_ERROR, res);
                } else if (is_query) {
                    entry_finish(pool, e, DB_OK, res);
                }
            }
            break;
        case PHASE_PREPARE_END:
        case PHASE_QUERY_END:
            if (res != NULL) {
                /* a second result for one statement (not expected for single statements): keep the first */
                break;
            }
            if (e->phase == PHASE_QUERY_END)
                e->phase = PHASE_SYNC;
            else
                e->phase = --e->pre != 0 ? PHASE_PREPARE_RESULT : PHASE_QUERY_RESULT;
            break;
        case PHASE_SYNC:
            if (res == NULL)
                goto done;
            if (st == PGRES_PIPELINE_SYNC) {
                entry_t done_entry = *e;
                conn_pop(c);
                /* normally already answered; this covers a result that never came */
                entry_finish(pool, &done_entry, DB_QUERY_ERROR, NULL);
            }
            break;
        }
        if (res != NULL)
            PQclear(res);
    }
done:;
}

static void conn_on_connected(conn_t *c)
{
    if (PQenterPipelineMode(c->pg) != 1) {
        conn_reset(c, DB_UNAVAILABLE, PQerrorMessage(c->pg));
        return;
    }
    c->state = CONN_READY;
    c->backoff_step = 0;
    log_info("database connection ready");
}

static void conn_poll_connect(conn_t *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_OK:
        if (conn_watch_socket(c) != 0) {
            conn_reset(c, DB_UNAVAILABLE, "cannot watch the database socket");
            return;
        }
        conn_on_connected(c);
        break;
    case PGRES_POLLING_READING:
        if (conn_watch_socket(c) != 0)
            conn_reset(c, DB_UNAVAILABLE, "cannot watch the database socket");
        break;
    case PGRES_POLLING_WRITING:
        if (conn_watch_socket(c) != 0) {
            conn_reset(c, DB_UNAVAILABLE, "cannot watch the database socket");
            return;
        }
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, conn_on_writable);
        break;
    default:
        conn_reset(c, DB_UNAVAILABLE, PQerrorMessage(c->pg));
        break;
    }
}

static void conn_on_io(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    if (err != NULL) {
        conn_reset(c, DB_UNAVAILABLE, err);
        return;
    }
    if (c->state == CONN_CONNECTING)
        conn_poll_connect(c);
    else if (c->state == CONN_READY)
        conn_process_input(c);
}

static void conn_connect(conn_t *c)
{
    c->pg = db_connect_start(c->pool->conninfo, c->pool->statement_timeout_ms);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        c->state = CONN_CONNECTING; /* so conn_reset logs once */
        conn_reset(c, DB_UNAVAILABLE, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetnonblocking(c->pg, 1);
    c->state = CONN_CONNECTING;
    if (conn_watch_socket(c) != 0) {
        conn_reset(c, DB_UNAVAILABLE, "cannot watch the database socket");
        return;
    }
    /* a fresh connection starts by writing (PGRES_POLLING_WRITING) */
    c->write_pending = 1;
    h2o_socket_notify_write(c->sock, conn_on_writable);
}

/* Checks each connection's oldest entry against the timeout; a stuck connection is reset. */
static void pool_on_tick(h2o_timeout_entry_t *te)
{
    db_pool_t *pool = H2O_STRUCT_FROM_MEMBER(db_pool_t, tick_entry, te);
    uint64_t now = h2o_now(pool->loop);

    for (unsigned i = 0; i < pool->nconns; ++i) {
        conn_t *c = &pool->conns[i];
        entry_t *e = conn_head(c);
        if (c->state == CONN_READY && e != NULL && now - e->sent_at > pool->timeout_ms)
            conn_reset(c, DB_TIMEOUT, "no answer within the timeout");
    }
    h2o_timeout_link(pool->loop, &pool->tick_timeout, &pool->tick_entry);
}

db_pool_t *db_pool_create(h2o_evloop_t *loop, const char *conninfo, unsigned nconns, unsigned timeout_ms,
                          unsigned statement_timeout_ms)
{
    db_pool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    pool->loop = loop;
    pool->conninfo = str_dup(conninfo != NULL ? conninfo : "");
    pool->nconns = nconns;
    pool->timeout_ms = timeout_ms;
    pool->statement_timeout_ms = statement_timeout_ms;
    for (size_t i = 0; i < BACKOFF_STEPS; ++i)
        h2o_timeout_init(loop, &pool->backoff[i], backoff_ms[i]);
    h2o_timeout_init(loop, &pool->flush_timeout, 0);
    h2o_timeout_init(loop, &pool->tick_timeout, 100);
    pool->tick_entry.cb = pool_on_tick;
    db_defer_init(&pool->pending, loop, &pool->flush_timeout, pool_send, pool);
    h2o_timeout_link(loop, &pool->tick_timeout, &pool->tick_entry);
    pool->conns = calloc(nconns, sizeof(*pool->conns));
    if (pool->conns == NULL)
        abort();
    for (unsigned i = 0; i < nconns; ++i) {
        conn_t *c = &pool->conns[i];
        c->pool = pool;
        c->pg_fd = -1;
        c->q_cap = 64;
        c->q = calloc(c->q_cap, sizeof(*c->q));
        if (c->q == NULL)
            abort();
        c->retry_entry.cb = conn_on_retry;
        c->flush_entry.cb = conn_on_flush_timer;
        conn_connect(c);
    }
    return pool;
}

/* duplicate: the create/destroy idiom every owner of memory here follows (destroy accepts NULL). */
void db_pool_destroy(db_pool_t *pool)
{
    if (pool == NULL)
        return;
    pool->destroying = 1;
    db_defer_dispose(&pool->pending);
    for (unsigned i = 0; i < pool->nconns; ++i) {
        conn_t *c = &pool->conns[i];
        conn_reset(c, DB_UNAVAILABLE, NULL);
        if (h2o_timeout_is_linked(&c->retry_entry))
            h2o_timeout_unlink(&c->retry_entry);
        free(c->q);
    }
    if (h2o_timeout_is_linked(&pool->tick_entry))
        h2o_timeout_unlink(&pool->tick_entry);
    for (size_t i = 0; i < BACKOFF_STEPS; ++i)
        h2o_timeout_dispose(pool->loop, &pool->backoff[i]);
    h2o_timeout_dispose(pool->loop, &pool->flush_timeout);
    h2o_timeout_dispose(pool->loop, &pool->tick_timeout);
    free(pool->conns);
    free(pool->conninfo);
    free(pool);
}

static int conn_push(conn_t *c, db_result_cb cb, void *data, unsigned pre, int dyn_slot)
{
    if (c->q_len == c->q_cap) {
        size_t ncap = c->q_cap * 2;
        entry_t *nq = malloc(ncap * sizeof(*nq));
        if (nq == NULL)
            return -1;
        for (size_t i = 0; i < c->q_len; ++i)
            nq[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = nq;
        c->q_head = 0;
        c->q_cap = ncap;
    }
    entry_t *e = &c->q[(c->q_head + c->q_len) % c->q_cap];
    e->cb = cb;
    e->data = data;
    e->phase = pre != 0 ? PHASE_PREPARE_RESULT : PHASE_QUERY_RESULT;
    e->pre = pre;
    e->dyn_slot = dyn_slot;
    e->sent_at = h2o_now(c->pool->loop);
    ++c->q_len;
    return 0;
}

static conn_t *pick_conn(db_pool_t *pool)
{
    conn_t *best = NULL;
    for (unsigned k = 0; k < pool->nconns; ++k) {
        conn_t *c = &pool->conns[(pool->rr + k) % pool->nconns];
        if (c->state == CONN_READY && (best == NULL || c->q_len < best->q_len))
            best = c;
    }
    if (best != NULL)
        pool->rr = (pool->rr + 1) % pool->nconns;
    return best;
}

/* Queues [set_config statement_timeout] [Parse] Bind/Execute Sync on c. name NULL: the unnamed statement (parsed each
 * time). statement_timeout_ms POOL_TIMEOUT_DEFAULT: the connection's own. */
static int conn_submit(conn_t *c, const char *name, int need_prepare, const char *sql, int nparams, const char *const *params,
                       unsigned statement_timeout_ms, db_result_cb cb, void *data, int dyn_slot)
{
    unsigned pre = (need_prepare ? 1u : 0u) + (statement_timeout_ms != POOL_TIMEOUT_DEFAULT ? 1u : 0u);

    if (statement_timeout_ms != POOL_TIMEOUT_DEFAULT) {
        /* is_local: until this entry's Sync ends its implicit transaction. PostgreSQL (14 and later) starts a fresh
         * statement timer for each Execute of a pipeline, with the setting current then */
        char value[16];
        const char *setup_params[1] = {value};
        str_fmt(value, sizeof(value), "%u", statement_timeout_ms);
        if (PQsendQueryParams(c->pg, pool_setup_sql, 1, NULL, setup_params, NULL, NULL, 0) != 1)
            goto fail;
    }
    if (name == NULL) {
        if (PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0) != 1)
            goto fail;
    } else {
        if (need_prepare && PQsendPrepare(c->pg, name, sql, nparams, NULL) != 1)
            goto fail;
        if (PQsendQueryPrepared(c->pg, name, nparams, params, NULL, NULL, 0) != 1)
            goto fail;
    }
    if (PQpipelineSync(c->pg) != 1)
        goto fail;
    ++c->pool->queries_sent;
    if (conn_push(c, cb, data, pre, need_prepare ? dyn_slot : -1) != 0)
        goto fail;
    if (!h2o_timeout_is_linked(&c->flush_entry))
        h2o_timeout_link(c->pool->loop, &c->pool->flush_timeout, &c->flush_entry);
    return 0;

fail:
    /* the connection's output is now in an unknown state: drop it (its queued entries fail) and refuse this query */
    conn_reset(c, DB_UNAVAILABLE, PQerrorMessage(c->pg));
    return -1;
}

/* Puts one query on a ready connection's pipeline. Returns 0, or -1 when no connection is ready or libpq refused it. */
static int pool_send(void *ctx, const char *sql, int nparams, const char *const *params, unsigned statement_timeout_ms,
                     db_result_cb cb, void *data)
{
    conn_t *c = pick_conn(ctx);
    char name[24];
    int need_prepare, slot;

    if (c == NULL)
        return -1;
    slot = db_stmtcache_use(&c->stmts, sql, name, &need_prepare);
    return conn_submit(c, slot >= 0 ? name : NULL, need_prepare && slot >= 0, sql, nparams, params, statement_timeout_ms, cb, data,
                       slot);
}

int db_pool_query_sql(db_pool_t *pool, const char *sql, int nparams, const char *const *params, db_result_cb cb, void *data,
                      db_wanted_cb wanted)
{
    return db_pool_ready(pool) ? db_defer_push(&pool->pending, sql, nparams, params, POOL_TIMEOUT_DEFAULT, cb, data, wanted) : -1;
}

int db_pool_query_sql_timeout(db_pool_t *pool, const char *sql, int nparams, const char *const *params,
                              unsigned statement_timeout_ms, db_result_cb cb, void *data)
{
    if (statement_timeout_ms > INT_MAX)
        statement_timeout_ms = 0; /* PostgreSQL's largest is INT_MAX ms; 0 = none */
    return db_pool_ready(pool) ? db_defer_push(&pool->pending, sql, nparams, params, statement_timeout_ms, cb, data, NULL) : -1;
}

void db_pool_get_stats(db_pool_t *pool, db_pool_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->connections_total = pool->nconns;
    for (unsigned i = 0; i < pool->nconns; ++i) {
        if (pool->conns[i].state == CONN_READY)
            ++out->connections_ready;
        out->in_flight += pool->conns[i].q_len;
    }
    out->queries_ok = pool->queries_ok;
    out->queries_failed = pool->queries_failed + pool->pending.failed;
    out->queries_sent = pool->queries_sent;
    out->queries_dropped = pool->pending.dropped;
    out->last_ok_ms = pool->last_ok_ms;
}

int db_pool_ready(db_pool_t *pool)
{
    for (unsigned i = 0; i < pool->nconns; ++i) {
        if (pool->conns[i].state == CONN_READY)
            return 1;
    }
    return 0;
}

const char *db_pool_conninfo(db_pool_t *pool)
{
    return pool->conninfo;
}

unsigned db_pool_retry_after_s(db_pool_t *pool)
{
    uint64_t now = h2o_now(pool->loop), wait = UINT64_MAX;

    for (unsigned i = 0; i < pool->nconns; ++i) {
        conn_t *c = &pool->conns[i];
        if (c->state != CONN_DOWN || !h2o_timeout_is_linked(&c->retry_entry))
            return 1; /* connected or connecting: worth a try in a second */
        uint64_t left = c->retry_at > now ? c->retry_at - now : 0;
        if (left < wait)
            wait = left;
    }
    return wait == UINT64_MAX || wait < 1000 ? 1 : (unsigned)((wait + 999) / 1000);
}
