/*
 * geo/client — the request's peer and X-Forwarded-For lines, handed to geo_resolve.
 */
#include <string.h>
#include <sys/socket.h>

#include "geo/client.h"

/* Every X-Forwarded-For line of req joined by ',' (the right end when longer than GEO_CLIENT_XFF_MAX). One line is
 * returned in place; several are joined into buf. */
static const char *joined_xff(h2o_req_t *req, char buf[GEO_CLIENT_XFF_MAX], size_t *len)
{
    ssize_t first = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, -1), i;
    size_t end = GEO_CLIENT_XFF_MAX;

    *len = 0;
    if (first == -1)
        return NULL;
    if (h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, first) == -1) {
        h2o_iovec_t v = req->headers.entries[first].value;
        if (v.len > GEO_CLIENT_XFF_MAX) {
            *len = GEO_CLIENT_XFF_MAX;
            return v.base + v.len - GEO_CLIENT_XFF_MAX;
        }
        *len = v.len;
        return v.base;
    }
    /* several lines: fill buf from its end with the last line first, so the hops nearest to us are always kept */
    for (i = (ssize_t)req->headers.size - 1; i >= 0 && end > 0; --i) {
        h2o_iovec_t v;
        size_t n;
        if (req->headers.entries[i].name != &H2O_TOKEN_X_FORWARDED_FOR->buf)
            continue;
        v = req->headers.entries[i].value;
        if (end < GEO_CLIENT_XFF_MAX)
            buf[--end] = ',';
        n = v.len < end ? v.len : end;
        memcpy(buf + end - n, v.base + v.len - n, n);
        end -= n;
    }
    *len = GEO_CLIENT_XFF_MAX - end;
    return buf + end;
}

void geo_client_country(h2o_req_t *req, char out[3])
{
    geo_addr_t client;

    if (!geo_has_database()) {
        memcpy(out, GEO_COUNTRY_UNKNOWN, 3); /* what any lookup would answer */
        return;
    }
    geo_client_of(req, &client);
    geo_country(&client, out);
}

int geo_client_of(h2o_req_t *req, geo_addr_t *out)
{
    struct sockaddr_storage ss;
    char buf[GEO_CLIENT_XFF_MAX];
    const char *xff;
    size_t xff_len;

    memset(&ss, 0, sizeof(ss));
    if (req->conn->callbacks->get_peername == NULL || req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    xff = joined_xff(req, buf, &xff_len);
    if (geo_resolve((const struct sockaddr *)&ss, xff, xff_len, out) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}
