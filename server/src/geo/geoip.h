/*
 * geo/geoip — the client address (trusted proxies, X-Forwarded-For) and its country, and nothing more. The client address is
 * the TCP peer, or, when the peer is a configured trusted proxy, the first hop of X-Forwarded-For (read from the right)
 * that is not a trusted proxy. The address is looked up in a MaxMind-format country database (libmaxminddb) and only the ISO 3166-1
 * alpha-2 code leaves this module: no address is stored, logged or returned (DESIGN section 4, "Privacy of requests"). Process-wide
 * state, set once by geo_open before any worker thread starts; lookups are then thread-safe.
 */
#ifndef KLIMA_GEO_GEOIP_H
#define KLIMA_GEO_GEOIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The code for "unknown": no database, a private or reserved address, an address the database does not know. */
#define GEO_COUNTRY_UNKNOWN "ZZ"

/* Opens the country database (mmdb_path NULL or "" = none: every lookup answers "ZZ") and parses trusted_proxies, a
 * comma-separated list of IPv4/IPv6 addresses and CIDR ranges (NULL or "" = none; spaces around items are allowed).
 * Call once, before the workers start. Returns 0, or -1 with a message naming the setting (KLIMA_GEOIP_DB or
 * KLIMA_TRUSTED_PROXIES) in err; on failure nothing stays open. */
int geo_open(const char *mmdb_path, const char *trusted_proxies, char *err, size_t errlen);

/* An IP address: IPv4 (the first 4 bytes) or IPv6, network order; an IPv4-mapped IPv6 address is held as the IPv4
 * address it carries. Lives in its user's stack frame: never stored, logged or returned as text. */
typedef struct geo_addr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t bytes[16];
} geo_addr_t;

/* The client's address: peer (the TCP peer, AF_INET or AF_INET6), or — when peer is a trusted proxy — the first hop of
 * xff[0..xff_len) (the X-Forwarded-For value, every field line joined by ','; NULL/0 when absent) that is not a trusted
 * proxy, walking from the right: entries are appended on the right, so everything left of the first untrusted hop may
 * be invented by the client. A malformed entry stops the walk at the last good address. Returns 0, or -1 when peer is
 * not an IP address. Requests reach this through geo_client_of (geo/client.h). */
int geo_resolve(const struct sockaddr *peer, const char *xff, size_t xff_len, geo_addr_t *client);

/* Writes client's country code ("DK", or "ZZ" when unknown: no database, a private address, not in the database) to
 * out, NUL-terminated. Never fails; thread-safe after geo_open. */
void geo_country(const geo_addr_t *client, char out[3]);

/* 1 when a country database is open (lookups can answer more than "ZZ"). */
int geo_has_database(void);

/* A 64-bit keyed hash of client for rate limiting: keyed with a secret (drawn at geo_open, or the one given to
 * geo_client_key_secret) and the UTC day, so it changes daily and means nothing without the secret. Never an address:
 * the shared rate-limit buckets store it in PostgreSQL while the client's bucket refills. */
uint64_t geo_client_key(const geo_addr_t *client);

/* Replaces the secret of geo_client_key by secret (32 bytes), so that every process given the same one computes the same
 * keys (the instances of one service: app/gate derives it from the signing key). After geo_open, before the workers
 * start. */
void geo_client_key_secret(const unsigned char secret[32]);

/* Closes the database and forgets the proxies (after the workers stopped). Safe to call when geo_open failed or never
 * ran. */
void geo_close(void);

#endif
