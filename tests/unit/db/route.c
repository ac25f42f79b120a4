/* db/route: how KLIMA_DB_READ_URLS is split, and that a route whose databases are unreachable refuses queries at once
 * (the caller answers 503) without calling back. No database is needed. */
#include <stdlib.h>

#include "db/route.h"
#include "../test.h"

static void free_all(char **v, int n)
{
    for (int i = 0; i < n; ++i)
        free(v[i]);
}

static void test_split(void)
{
    char *v[DB_ROUTE_MAX_REPLICAS + 1];
    int n;

    CHECK_INT(db_route_split_urls(NULL, v, DB_ROUTE_MAX_REPLICAS), 0);
    CHECK_INT(db_route_split_urls("", v, DB_ROUTE_MAX_REPLICAS), 0);
    CHECK_INT(db_route_split_urls(" , ,\t", v, DB_ROUTE_MAX_REPLICAS), 0);

    n = db_route_split_urls("host=/run/pg port=5433 dbname=k user=klima_api", v, DB_ROUTE_MAX_REPLICAS);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK_STR(v[0], "host=/run/pg port=5433 dbname=k user=klima_api");
    free_all(v, n);

    /* blanks around items are trimmed; empty items are skipped; URIs work */
    n = db_route_split_urls("  host=a port=1 , ,postgresql://u@b:5432/k?sslmode=require,\nhost=c  ", v, DB_ROUTE_MAX_REPLICAS);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(v[0], "host=a port=1");
        CHECK_STR(v[1], "postgresql://u@b:5432/k?sslmode=require");
        CHECK_STR(v[2], "host=c");
    }
    free_all(v, n > 0 ? n : 0);

    /* more than max: refused, nothing left allocated (LeakSanitizer checks) */
    CHECK_INT(db_route_split_urls("a,b,c", v, 2), -1);
    CHECK_INT(db_route_split_urls("a,b", v, 2), 2);
    free_all(v, 2);
}

static int called;

static void on_result(void *data, db_status_t status, const PGresult *res)
{
    ++called;
}

static void test_unreachable(void)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    db_route_t *r = db_route_create(loop, "host=/nonexistent/klima port=1 connect_timeout=1",
                                    "host=/nonexistent/replica1 port=1, host=/nonexistent/replica2 port=1", 1, 1000, 0);
    db_route_stats_t st;

    CHECK(r != NULL);
    if (r == NULL)
        return;
    db_route_get_stats(r, &st);
    CHECK_INT(st.replicas, 2);
    CHECK_INT(st.replicas_usable, 0);
    /* nothing is ready: both kinds of query are refused at once, and no callback runs */
    CHECK_INT(db_route_query_sql(r, DB_TARGET_PRIMARY, "SELECT 1", 0, NULL, on_result, NULL, NULL), -1);
    CHECK_INT(db_route_query_sql(r, DB_TARGET_READ, "SELECT 3", 0, NULL, on_result, NULL, NULL), -1);
    CHECK_INT(called, 0);
    /* with nothing usable a download falls back to the primary's conninfo */
    CHECK_STR(db_route_read_conninfo(r), "host=/nonexistent/klima port=1 connect_timeout=1");
    /* a fence without a reachable primary is harmless */
    db_route_fence(r);
    db_route_get_stats(r, &st);
    CHECK_INT(st.replicas_usable, 0);
    CHECK_INT(st.reads_replica + st.reads_primary + st.reads_retried, 0);
    db_route_destroy(r);
    CHECK_INT(called, 0);
    CHECK(db_route_create(loop, "", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", 1, 1000, 0) == NULL); /* 17 > 16 */
    h2o_evloop_destroy(loop);
}

int main(void)
{
    test_split();
    test_unreachable();
    return TEST_DONE();
}
