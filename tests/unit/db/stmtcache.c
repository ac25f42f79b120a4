/* db/stmtcache: a statement is prepared once per connection, a slot held by another statement makes the newcomer run
 * unnamed, a failed Parse is forgotten, a lost connection forgets everything. */
#include <string.h>

#include "db/stmtcache.h"
#include "../test.h"

int main(void)
{
    db_stmtcache_t c;
    char name[24], name2[24];
    int prep, slot, other = -1;

    memset(&c, 0, sizeof(c));
    /* first use: prepare; then: prepared */
    slot = db_stmtcache_use(&c, "SELECT 1", name, &prep);
    CHECK(slot >= 0 && slot < DB_STMTCACHE_SIZE);
    CHECK_INT(prep, 1);
    CHECK(name[0] == 'd' && strlen(name) == 17);
    CHECK_INT(db_stmtcache_use(&c, "SELECT 1", name2, &prep), slot);
    CHECK_INT(prep, 0);
    CHECK_STR(name2, name);
    /* a statement whose slot another holds runs unnamed (found by trying texts until one lands on that slot) */
    for (int i = 0; i < 100000 && other < 0; ++i) {
        char sql[32], n[24];
        int p;
        snprintf(sql, sizeof(sql), "SELECT %d", i + 2);
        db_stmtcache_t probe;
        memset(&probe, 0, sizeof(probe));
        if (db_stmtcache_use(&probe, sql, n, &p) == slot) {
            other = i + 2;
            CHECK_INT(db_stmtcache_use(&c, sql, n, &p), -1);
        }
        db_stmtcache_clear(&probe);
    }
    CHECK(other >= 0);
    /* a failed Parse is prepared again next time */
    db_stmtcache_forget(&c, slot);
    CHECK_INT(db_stmtcache_use(&c, "SELECT 1", name, &prep), slot);
    CHECK_INT(prep, 1);
    db_stmtcache_forget(&c, -1); /* ignored */
    /* a lost connection forgets everything */
    db_stmtcache_clear(&c);
    CHECK_INT(db_stmtcache_use(&c, "SELECT 1", name, &prep), slot);
    CHECK_INT(prep, 1);
    db_stmtcache_clear(&c);
    return TEST_DONE();
}
