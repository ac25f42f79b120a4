/* The route table and api-spec/openapi.yaml agree: every routed method+path is in the spec and every spec operation is
 * routed; every personal route names a consent scope of auth/scope.c, and every scope a route names is one. Every
 * problem kind the server can send is listed in the spec's Problem.type enum. */
#include <ctype.h>
#include <jansson.h>

#include "app/app.c" /* for app_routes, the table app builds from the modules */
#include "app/openapi.h"
#include "app/route.h"
#include "auth/scope.h"
#include "cli/serve.h"
#include "http/problem.h"
#include "../test.h"

static void lower(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < size; ++i)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

int main(void)
{
    json_error_t jerr;
    json_t *spec = json_loadb((const char *)app_openapi_spec_json, app_openapi_spec_json_len, 0, &jerr), *paths, *ops,
           *problem_types;
    const char *path, *method;
    char lm[16];
    const app_route_t *routes[256];
    size_t nroutes = app_routes(cli_serve_modules, cli_serve_nmodules, routes, 256);

    CHECK(spec != NULL);
    if (spec == NULL)
        return TEST_DONE();
    CHECK_STR(json_string_value(json_object_get(spec, "openapi")), "3.1.0");
    paths = json_object_get(spec, "paths");
    CHECK(json_is_object(paths));

    for (size_t i = 0; i < nroutes; ++i) {
        lower(routes[i]->method, lm, sizeof(lm));
        json_t *op = json_object_get(json_object_get(paths, routes[i]->pattern), lm);
        if (op == NULL)
            fprintf(stderr, "routed but not in the spec: %s %s\n", routes[i]->method, routes[i]->pattern);
        CHECK(op != NULL);
    }
    json_object_foreach(paths, path, ops)
    {
        json_t *op;
        json_object_foreach(ops, method, op)
        {
            if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0 || strcmp(method, "description") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < nroutes; ++i) {
                lower(routes[i]->method, lm, sizeof(lm));
                if (strcmp(routes[i]->pattern, path) == 0 && strcmp(lm, method) == 0)
                    found = 1;
            }
            if (!found)
                fprintf(stderr, "in the spec but not routed: %s %s\n", method, path);
            CHECK(found);
        }
    }

    CHECK(nroutes > 0 && nroutes <= 256);
    for (size_t i = 0; i < nroutes; ++i) {
        const char *scope = routes[i]->scope;
        if (routes[i]->cls == APP_CLASS_PERSONAL && scope == NULL)
            fprintf(stderr, "personal route without a scope: %s %s\n", routes[i]->method, routes[i]->pattern);
        CHECK(routes[i]->cls != APP_CLASS_PERSONAL || scope != NULL);
        if (scope != NULL && auth_scope_bit(scope, strlen(scope)) == 0)
            fprintf(stderr, "route %s %s names an unknown scope: %s\n", routes[i]->method, routes[i]->pattern, scope);
        CHECK(scope == NULL || auth_scope_bit(scope, strlen(scope)) != 0);
    }

    problem_types = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(spec, "components"), "schemas"), "Problem"),
                                        "properties"),
                        "type"),
        "enum");
    CHECK(json_is_array(problem_types));
    for (int k = 0; k < HTTP_PROBLEM__COUNT; ++k) {
        char want[128];
        int found = 0;
        size_t idx;
        json_t *v;
        snprintf(want, sizeof(want), "/docs/problems#%s", http_problem_table[k].slug);
        json_array_foreach(problem_types, idx, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
                found = 1;
        }
        if (!found)
            fprintf(stderr, "problem type not in the spec: %s\n", want);
        CHECK(found);
    }
    json_decref(spec);
    return TEST_DONE();
}
