/* libFuzzer: the router against arbitrary methods and paths, using the server's real route table. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "app/app.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sp = memchr(data, ' ', size);
    size_t mlen = sp != NULL ? (size_t)(sp - (const char *)data) : 0;
    const char *path = sp != NULL ? sp + 1 : (const char *)data;
    size_t plen = size - (sp != NULL ? mlen + 1 : 0);
    http_match_t m;
    size_t len;

    if (http_router_match(app_routes, app_nroutes, (const char *)data, mlen, path, plen, &m) == HTTP_ROUTE_FOUND) {
        for (size_t i = 0; i < m.nparams; ++i) {
            if (m.params[i].value < path || m.params[i].value + m.params[i].value_len > path + plen)
                __builtin_trap();
        }
        http_match_param(&m, "id", &len);
    }
    return 0;
}
