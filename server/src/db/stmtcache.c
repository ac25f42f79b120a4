/*
 * db/stmtcache — a connection's prepared statements.
 */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/strutil.h"
#include "db/stmtcache.h"

int db_stmtcache_use(db_stmtcache_t *c, const char *sql, char name[24], int *need_prepare)
{
    uint64_t h = hash_bytes(sql, strlen(sql), HASH_SEED);
    size_t slot;

    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    slot = (size_t)(h % DB_STMTCACHE_SIZE);
    *need_prepare = 0;
    if (c->slots[slot].hash == h && strcmp(c->slots[slot].sql, sql) == 0) {
        /* prepared already */
    } else if (c->slots[slot].hash == 0 && (c->slots[slot].sql = str_dup(sql)) != NULL) {
        c->slots[slot].hash = h;
        *need_prepare = 1;
    } else {
        return -1;
    }
    str_fmt(name, 24, "d%016llx", (unsigned long long)h);
    return (int)slot;
}

void db_stmtcache_forget(db_stmtcache_t *c, int slot)
{
    if (slot < 0 || slot >= DB_STMTCACHE_SIZE)
        return;
    free(c->slots[slot].sql);
    c->slots[slot].sql = NULL;
    c->slots[slot].hash = 0;
}

void db_stmtcache_clear(db_stmtcache_t *c)
{
    for (int i = 0; i < DB_STMTCACHE_SIZE; ++i)
        db_stmtcache_forget(c, i);
}
