/* libFuzzer: the router against arbitrary methods and paths, using the server's real route table. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include "app/app.c" /* app_routes, the table app builds from the modules */
#include "app/route.h"
#include "cli/serve.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sp = memchr(data, ' ', size);
    size_t mlen = sp != NULL ? (size_t)(sp - (const char *)data) : 0;
    const char *path = sp != NULL ? sp + 1 : (const char *)data;
    size_t plen = size - (sp != NULL ? mlen + 1 : 0);
    static http_route_t *table;
    static size_t nroutes;
    http_match_t m;
    size_t len;

    if (table == NULL) {
        const app_route_t *entries[256];
        nroutes = app_routes(cli_serve_modules, cli_serve_nmodules, entries, 256);
        if (nroutes > 256 || (table = app_route_table(entries, nroutes)) == NULL)
            abort();
    }
    if (http_router_match(table, nroutes, (const char *)data, mlen, path, plen, &m) == HTTP_ROUTE_FOUND) {
        for (size_t i = 0; i < m.nparams; ++i) {
            if (m.params[i].value < path || m.params[i].value + m.params[i].value_len > path + plen)
                __builtin_trap();
        }
        http_match_param(&m, "id", &len);
    }
    return 0;
}
