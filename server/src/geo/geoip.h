/*
 * geo/geoip — the country of a request's client, and nothing more. The client address is the TCP peer, or, when the
 * peer is a configured trusted proxy, the first hop of X-Forwarded-For (read from the right) that is not a trusted
 * proxy. The address is looked up in a MaxMind-format country database (libmaxminddb) and only the ISO 3166-1 alpha-2
 * code leaves this module: no address is stored, logged or returned (DESIGN section 4, "Privacy of requests").
 * Process-wide state, set once by geo_open before any worker thread starts; lookups are then thread-safe.
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

/* Writes the client's country code ("DK", or "ZZ" when unknown) to out, NUL-terminated. peer is the TCP peer (AF_INET or
 * AF_INET6; anything else gives "ZZ"); xff[0..xff_len) is the X-Forwarded-For value (several headers joined by ',';
 * NULL/0 when absent), believed only when the peer is a trusted proxy. Walking from the right, each entry that is a
 * trusted proxy leads further left; a malformed entry stops the walk at the last good address. Never fails; safe to
 * call from any thread after geo_open. */
void geo_country_of(const struct sockaddr *peer, const char *xff, size_t xff_len, char out[3]);

/* 1 when a country database is open (lookups can answer more than "ZZ"). */
int geo_has_database(void);

/* A 64-bit keyed hash of the client address (resolved as for geo_country_of) for rate limiting: keyed with a secret
 * drawn at geo_open and the UTC day, so it changes daily and means nothing outside this process. Never stored. 0 when
 * the peer address is unusable. */
uint64_t geo_client_hash(const struct sockaddr *peer, const char *xff, size_t xff_len);

/* Closes the database and forgets the proxies (after the workers stopped). Safe to call when geo_open failed or never
 * ran. */
void geo_close(void);

#endif
