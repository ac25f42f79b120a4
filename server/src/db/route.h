/*
 * db/route — a worker thread's primary pool and its read-replica pools, and which of them a query goes to.
 *
 * Writes, and reads that must see the latest committed state (consent and token checks, OAuth codes, the dataset
 * catalog), go to the primary. Reads that tolerate a replica's replay lag (open data, a household's own series) go to a
 * streaming replica (KLIMA_DB_READ_URLS), round-robin over the replicas that have a ready connection; with none ready
 * they go to the primary. A read a replica drops (connection lost or the replica shut down while it was in flight, or
 * cancelled by a recovery conflict) is sent again to the primary once, so stopping a replica fails no request.
 * Each replica pool reconnects by itself with backoff (db/pool), so a replica that comes back is used again as soon as
 * one of its connections is ready.
 *
 * After db_route_fence (a dataset was refreshed on the primary) reads stay on the primary until each replica has
 * replayed the primary's WAL position of that moment: a replica never serves pre-refresh rows under the new version.
 * Not thread-safe: one per worker thread, used only from that thread.
 */
#ifndef KLIMA_DB_ROUTE_H
#define KLIMA_DB_ROUTE_H

#include <stdint.h>

#include "db/pool.h"

#define DB_ROUTE_MAX_REPLICAS 16

typedef struct db_route db_route_t;

typedef struct db_route_stats {
    unsigned replicas;        /* configured replicas */
    unsigned replicas_usable; /* replicas with a ready connection and not behind a fence */
    db_pool_stats_t replica;  /* the replica pools' counters summed */
    uint64_t reads_replica;   /* reads sent to a replica */
    uint64_t reads_primary;   /* reads sent to the primary (no usable replica, or no replica configured) */
    uint64_t reads_retried;   /* reads a replica dropped and the primary answered instead */
} db_route_stats_t;

/* Splits a KLIMA_DB_READ_URLS value into conninfos: separated by commas (a conninfo holds spaces, so a space cannot
 * separate them; a comma inside one is therefore not supported), surrounding blanks trimmed, empty items skipped.
 * Writes up to max malloc'd strings to out (the caller frees them) and returns how many, or -1 when there are more
 * than max or memory runs out (nothing is left allocated then). NULL or blank input gives 0. */
int db_route_split_urls(const char *urls, char **out, size_t max);

/* Creates the primary pool (primary conninfo) and one pool per conninfo of read_urls (see db_route_split_urls; NULL:
 * none), each with nconns connections and the pool settings of db_pool_create. Returns NULL when read_urls is invalid
 * or memory is exhausted. */
db_route_t *db_route_create(h2o_evloop_t *loop, const char *primary, const char *read_urls, unsigned nconns, unsigned timeout_ms,
                            unsigned statement_timeout_ms);

/* Destroys every pool (callbacks of queries in flight are called with DB_UNAVAILABLE first). */
void db_route_destroy(db_route_t *r);

/* The primary pool (owned by r): writes, LISTEN's peer data, reads that must be fresh. */
db_pool_t *db_route_primary(db_route_t *r);

/* Like db_pool_query_sql, on the primary (DB_TARGET_PRIMARY) or as a read (DB_TARGET_READ). A read retried on the
 * primary after a replica dropped it is asked wanted again. */
int db_route_query_sql(db_route_t *r, db_target_t target, const char *sql, int nparams, const char *const *params, db_result_cb cb,
                       void *data, db_wanted_cb wanted);

/* The conninfo a read on a connection of its own (a COPY download) should use: a usable replica's, round-robin, or the
 * primary's. Owned by r. */
const char *db_route_read_conninfo(db_route_t *r);

/* The primary's conninfo, for a read on a connection of its own that must see the latest writes. */
const char *db_route_primary_conninfo(db_route_t *r);

/* A dataset was refreshed on the primary: reads go to the primary until each replica has replayed past the primary's
 * current WAL position. Cheap to call repeatedly; without replicas it does nothing. */
void db_route_fence(db_route_t *r);

/* Fills out with the counters. */
void db_route_get_stats(db_route_t *r, db_route_stats_t *out);

#endif
