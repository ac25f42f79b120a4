/*
 * geo/client — the one function that finds a request's client address. Country restriction, rate limits, usage counting
 * and the access log all use it, so a client is the same client everywhere. Every X-Forwarded-For field line counts:
 * the lines are joined in order (as RFC 9110 5.3 combines repeated fields) and walked from the right past the trusted
 * proxies (geo_resolve), so a forged first line cannot stand in for the one a trusted proxy appended.
 */
#ifndef KLIMA_GEO_CLIENT_H
#define KLIMA_GEO_CLIENT_H

#include <h2o.h>

#include "geo/geoip.h"

/* X-Forwarded-For bytes considered (the right end, the hops nearest to us, when the joined lines are longer). */
#define GEO_CLIENT_XFF_MAX 4096

/* Resolves req's client address into *out (see geo_resolve). Returns 0, or -1 when the connection has no IP peer (then
 * *out is zeroed: its country is "ZZ"). Call on req's thread while the request runs. */
int geo_client_of(h2o_req_t *req, geo_addr_t *out);

/* Writes the country of req's client (geo_client_of, then geo_country) to out: "ZZ" when unknown. Without a country
 * database this answers "ZZ" at once, without looking at the request. */
void geo_client_country(h2o_req_t *req, char out[3]);

#endif
