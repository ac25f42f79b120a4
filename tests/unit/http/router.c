/* http/router */
#include "http/router.h"
#include "../test.h"

static int h_a(h2o_req_t *req, const http_match_t *m)
{
    return 0;
}

static const http_route_t routes[] = {
    {"GET", "/healthz", h_a, NULL},
    {"GET", "/v1/datasets", h_a, NULL},
    {"GET", "/v1/datasets/{id}", h_a, NULL},
    {"GET", "/v1/datasets/{id}/records", h_a, NULL},
    {"DELETE", "/v1/me/consents/{id}", h_a, NULL},
    {"GET", "/v1/me/consents", h_a, NULL},
};
#define N (sizeof(routes) / sizeof(routes[0]))

static http_route_result_t match(const char *method, const char *path, http_match_t *m)
{
    return http_router_match(routes, N, method, strlen(method), path, strlen(path), m);
}

int main(void)
{
    http_match_t m;
    size_t len;
    const char *v;

    CHECK_INT(match("GET", "/healthz", &m), HTTP_ROUTE_FOUND);
    CHECK(m.route == &routes[0]);
    CHECK_INT(match("HEAD", "/healthz", &m), HTTP_ROUTE_FOUND);
    CHECK_INT(match("GET", "/healthz/", &m), HTTP_ROUTE_NOT_FOUND);
    CHECK_INT(match("GET", "/health", &m), HTTP_ROUTE_NOT_FOUND);
    CHECK_INT(match("GET", "/", &m), HTTP_ROUTE_NOT_FOUND);
    CHECK(m.route == NULL);

    CHECK_INT(match("GET", "/v1/datasets/energy-district-hourly/records", &m), HTTP_ROUTE_FOUND);
    CHECK(m.route == &routes[3]);
    v = http_match_param(&m, "id", &len);
    CHECK(v != NULL && len == strlen("energy-district-hourly") && memcmp(v, "energy-district-hourly", len) == 0);
    CHECK(http_match_param(&m, "nope", &len) == NULL && len == 0);

    CHECK_INT(match("GET", "/v1/datasets/x", &m), HTTP_ROUTE_FOUND);
    CHECK(m.route == &routes[2]);
    CHECK_INT(match("GET", "/v1/datasets/", &m), HTTP_ROUTE_NOT_FOUND); /* an empty parameter never matches */
    CHECK_INT(match("GET", "/v1/datasets/x/y", &m), HTTP_ROUTE_NOT_FOUND);

    CHECK_INT(match("POST", "/healthz", &m), HTTP_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "GET, HEAD");
    CHECK(m.route == &routes[0]); /* a route of the path, for its pattern (metrics label) */
    CHECK_INT(match("PUT", "/v1/me/consents/abc", &m), HTTP_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "DELETE");
    CHECK_INT(match("DELETE", "/v1/me/consents/abc", &m), HTTP_ROUTE_FOUND);
    CHECK_INT(match("DELETE", "/v1/me/consents", &m), HTTP_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "GET, HEAD");
    return TEST_DONE();
}
