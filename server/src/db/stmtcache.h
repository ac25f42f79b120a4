/*
 * db/stmtcache — which statements one connection has prepared: a fixed table of DB_STMTCACHE_SIZE slots, a statement's
 * slot chosen by a hash of its SQL text, each prepared as "d<hash>". A statement whose slot holds another runs unnamed
 * (parsed each time) rather than evicting a warm plan. Not thread-safe: one per connection.
 */
#ifndef KLIMA_DB_STMTCACHE_H
#define KLIMA_DB_STMTCACHE_H

#include <stdint.h>

#define DB_STMTCACHE_SIZE 256

typedef struct db_stmtcache {
    struct {
        uint64_t hash; /* 0 = empty */
        char *sql;     /* owned */
    } slots[DB_STMTCACHE_SIZE];
} db_stmtcache_t;

/* How to run sql on the connection. Returns its slot and writes its name to name[24]; *need_prepare says whether the
 * statement must be prepared first (it is recorded as prepared at once, so a query queued right behind does not Parse
 * it again). Returns -1 when sql is to run unnamed (its slot holds another statement, or memory ran out). */
int db_stmtcache_use(db_stmtcache_t *c, const char *sql, char name[24], int *need_prepare);

/* The Parse of slot's statement failed (or never ran): prepare it again next time. slot -1 is ignored. */
void db_stmtcache_forget(db_stmtcache_t *c, int slot);

/* The connection is gone: forgets every statement. */
void db_stmtcache_clear(db_stmtcache_t *c);

#endif
