/* geo/client: every X-Forwarded-For line counts, in order, the right end kept; a forged first line cannot stand in for
 * the one a trusted proxy appended. Requests are built by hand (no sockets); includes the .c for joined_xff. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "geo/client.c"
#include "../test.h"

#define MMDB KLIMA_SOURCE_DIR "/tests/fixtures/geoip/test-country.mmdb"

static const char *peer_text = "10.0.0.1";

static socklen_t fake_peername(h2o_conn_t *conn, struct sockaddr *sa)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, peer_text, &sin->sin_addr);
    return sizeof(*sin);
}

static const h2o_conn_callbacks_t callbacks = {.get_peername = fake_peername};
static h2o_conn_t conn = {.callbacks = &callbacks};

/* A request from peer with the X-Forwarded-For lines given (NULL-terminated). */
static void make(h2o_req_t *req, const char *peer, const char *const *lines)
{
    memset(req, 0, sizeof(*req));
    h2o_mem_init_pool(&req->pool);
    req->conn = &conn;
    peer_text = peer;
    for (; *lines != NULL; ++lines)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_X_FORWARDED_FOR, NULL, *lines, strlen(*lines));
}

static const char *country(const char *peer, const char *const *lines)
{
    static char out[3];
    h2o_req_t req;
    make(&req, peer, lines);
    geo_client_country(&req, out);
    h2o_mem_clear_pool(&req.pool);
    return out;
}

static const char *joined(const char *const *lines)
{
    static char text[GEO_CLIENT_XFF_MAX + 1];
    char buf[GEO_CLIENT_XFF_MAX];
    h2o_req_t req;
    size_t len;
    const char *p;

    make(&req, "10.0.0.1", lines);
    p = joined_xff(&req, buf, &len);
    memcpy(text, p != NULL ? p : "", p != NULL ? len : 0);
    text[p != NULL ? len : 0] = '\0';
    h2o_mem_clear_pool(&req.pool);
    return text;
}

int main(void)
{
    char err[256];
    static const char *const none[] = {NULL}, *const one[] = {"81.0.77.1, 8.8.8.8", NULL},
                             *const two[] = {"81.0.77.1", "8.8.8.8", NULL}, *const forged_us[] = {"8.8.8.8", "81.0.77.1", NULL},
                             *const three[] = {"a", "b, c", "d", NULL};
    char long_line[GEO_CLIENT_XFF_MAX + 100];

    CHECK_INT(geo_open(MMDB, "10.0.0.0/8", err, sizeof(err)), 0);
    CHECK_STR(joined(none), "");
    CHECK_STR(joined(one), "81.0.77.1, 8.8.8.8");
    CHECK_STR(joined(three), "a,b, c,d");
    /* the trusted proxy 10.0.0.1 appended the client's address (8.8.8.8, US) to what the client sent (DK) */
    CHECK_STR(country("10.0.0.1", one), "US");
    CHECK_STR(country("10.0.0.1", two), "US");
    CHECK_STR(country("10.0.0.1", forged_us), "DK");
    /* an untrusted peer's X-Forwarded-For is not believed */
    CHECK_STR(country("8.8.8.8", two), "US");
    CHECK_STR(country("81.0.77.1", forged_us), "DK");
    /* more than GEO_CLIENT_XFF_MAX bytes: the right end (the nearest hops) is kept */
    memset(long_line, 'x', sizeof(long_line));
    memcpy(long_line + sizeof(long_line) - 12, ", 8.8.8.8", 10);
    {
        const char *const lines[] = {long_line, "81.0.77.1", NULL};
        const char *j = joined(lines);
        CHECK_INT(strlen(j), GEO_CLIENT_XFF_MAX);
        CHECK(strcmp(j + strlen(j) - 20, "x, 8.8.8.8,81.0.77.1") == 0);
        CHECK_STR(country("10.0.0.1", lines), "DK");
    }
    geo_close();
    return TEST_DONE();
}
