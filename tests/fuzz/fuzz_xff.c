/* libFuzzer: the X-Forwarded-For walk of geo/geoip. The first input byte picks the peer (trusted IPv4, trusted IPv6,
 * IPv4-mapped trusted, untrusted); the rest is the header value. The answer must always be two capital letters. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geoip.h"

/* The country geo_client_country would give a request from peer with this X-Forwarded-For value. */
static void country_of(const struct sockaddr *peer, const char *xff, size_t xff_len, char out[3])
{
    geo_addr_t client;
    if (geo_resolve(peer, xff, xff_len, &client) != 0)
        memset(&client, 0, sizeof(client));
    geo_country(&client, out);
}

static const char *const peers[] = {"10.0.0.1", "fd00::7", "::ffff:10.1.2.3", "8.8.8.8", "2a02:c7f::1", "127.0.0.1"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct sockaddr_storage ss;
    const char *peer;
    char out[3];

    if (!opened) {
        char err[256];
        if (geo_open(KLIMA_SOURCE_DIR "/tests/fixtures/geoip/test-country.mmdb", "10.0.0.0/8,fd00::/8,127.0.0.1,81.0.0.0/24", err,
                     sizeof(err)) != 0)
            abort();
        opened = 1;
    }
    if (size == 0)
        return 0;
    peer = peers[data[0] % (sizeof(peers) / sizeof(peers[0]))];
    memset(&ss, 0, sizeof(ss));
    if (strchr(peer, ':') != NULL) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        inet_pton(AF_INET6, peer, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    } else {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        inet_pton(AF_INET, peer, &((struct sockaddr_in *)&ss)->sin_addr);
    }
    /* a copy of exactly size - 1 bytes, so reading past the end is caught */
    {
        size_t len = size - 1;
        char *xff = malloc(len > 0 ? len : 1);
        if (xff == NULL)
            return 0;
        memcpy(xff, data + 1, len);
        country_of((const struct sockaddr *)&ss, xff, len, out);
        free(xff);
    }
    if (out[0] < 'A' || out[0] > 'Z' || out[1] < 'A' || out[1] > 'Z' || out[2] != '\0')
        __builtin_trap();
    return 0;
}
