/*
 * geo/geoip — client country from the peer address and X-Forwarded-For, through libmaxminddb.
 *
 * Addresses live only in local variables of these functions: they are parsed, compared with the trusted proxies,
 * looked up, and forgotten. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack listener reports for IPv4
 * clients) are treated as the IPv4 address they carry, both for proxy matching and for the lookup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <time.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strutil.h"
#include "geo/geoip.h"

/* A walk through X-Forwarded-For stops after this many entries (a longer proxy chain is not a real deployment). */
#define GEO_MAX_HOPS 64
/* Longest text of one address entry we accept ("[v6%zone]:port" does not fit, and need not). */
#define GEO_MAX_ADDR_TEXT 64

typedef struct geo_range {
    geo_addr_t net;
    unsigned prefix; /* bits */
} geo_range_t;

static unsigned char geo_secret[32];

static struct {
    int has_db;
    MMDB_s mmdb;
    geo_range_t *proxies;
    size_t nproxies;
} geo;

/* --- addresses ------------------------------------------------------------------------------------------------------ */

static unsigned addr_bits(const geo_addr_t *a)
{
    return a->family == AF_INET ? 32 : 128;
}

static void addr_set_v4(geo_addr_t *a, const void *four)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET;
    memcpy(a->bytes, four, 4);
}

/* From an in6_addr, unwrapping IPv4-mapped addresses. */
static void addr_set_v6(geo_addr_t *a, const struct in6_addr *in6)
{
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
        addr_set_v4(a, in6->s6_addr + 12);
        return;
    }
    memset(a, 0, sizeof(*a));
    a->family = AF_INET6;
    memcpy(a->bytes, in6->s6_addr, 16);
}

static int addr_from_sockaddr(const struct sockaddr *sa, geo_addr_t *out)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        addr_set_v4(out, &sin->sin_addr.s_addr);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        addr_set_v6(out, &((const struct sockaddr_in6 *)sa)->sin6_addr);
        return 0;
    }
    return -1;
}

/* Parses a bare address (no brackets, no port) from s[0..len). */
static int addr_parse_bare(const char *s, size_t len, geo_addr_t *out)
{
    char buf[GEO_MAX_ADDR_TEXT];
    struct in_addr in4;
    struct in6_addr in6;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL)
        return -1;
    if (inet_pton(AF_INET, buf, &in4) == 1) {
        addr_set_v4(out, &in4.s_addr);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &in6) == 1) {
        addr_set_v6(out, &in6);
        return 0;
    }
    return -1;
}

static int is_port(const char *s, size_t len)
{
    uint64_t port;
    return str_to_uint(s, len, 0, 65535, &port) == 0;
}

/* Parses one X-Forwarded-For entry: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" or "[v6]:port" (proxies differ). */
static int addr_parse_entry(const char *s, size_t len, geo_addr_t *out)
{
    const char *colon;

    if (len == 0)
        return -1;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        size_t inner;
        if (close == NULL)
            return -1;
        inner = (size_t)(close - s) - 1;
        if ((size_t)(close - s) + 1 != len) {
            /* "]:port" must follow */
            size_t rest = len - (size_t)(close - s) - 1;
            if (rest < 2 || close[1] != ':' || !is_port(close + 2, rest - 1))
                return -1;
        }
        if (addr_parse_bare(s + 1, inner, out) != 0 || out->family != AF_INET6)
            return -1;
        return 0;
    }
    colon = memchr(s, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL) {
        /* exactly one colon: IPv4 with a port */
        if (!is_port(colon + 1, len - (size_t)(colon - s) - 1) || addr_parse_bare(s, (size_t)(colon - s), out) != 0 ||
            out->family != AF_INET)
            return -1;
        return 0;
    }
    return addr_parse_bare(s, len, out);
}

/* 1 when a's first `prefix` bits equal net's. */
static int range_contains(const geo_range_t *r, const geo_addr_t *a)
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;

    if (r->net.family != a->family)
        return 0;
    if (memcmp(r->net.bytes, a->bytes, full) != 0)
        return 0;
    if (rest != 0) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((r->net.bytes[full] & mask) != (a->bytes[full] & mask))
            return 0;
    }
    return 1;
}

static int is_trusted(const geo_addr_t *a)
{
    for (size_t i = 0; i < geo.nproxies; ++i) {
        if (range_contains(&geo.proxies[i], a))
            return 1;
    }
    return 0;
}

/* Private, loopback, link-local, shared, documentation and otherwise non-routable space has no country. */
static const struct {
    int family;
    uint8_t bytes[16];
    unsigned prefix;
} non_public[] = {
    {AF_INET, {0}, 8},          /* this network */
    {AF_INET, {10}, 8},         /* RFC 1918 */
    {AF_INET, {100, 64}, 10},   /* RFC 6598 shared address space */
    {AF_INET, {127}, 8},        /* loopback */
    {AF_INET, {169, 254}, 16},  /* link-local */
    {AF_INET, {172, 16}, 12},   /* RFC 1918 */
    {AF_INET, {192, 168}, 16},  /* RFC 1918 */
    {AF_INET, {192, 0, 2}, 24}, /* RFC 5737 documentation (TEST-NET-1..3) */
    {AF_INET, {198, 51, 100}, 24},
    {AF_INET, {203, 0, 113}, 24},
    {AF_INET, {224}, 3},                      /* multicast and reserved */
    {AF_INET6, {0}, 127},                     /* :: and ::1 */
    {AF_INET6, {0x20, 0x01, 0x0d, 0xb8}, 32}, /* RFC 3849 documentation (some public databases map it anyway) */
    {AF_INET6, {0xfc}, 7},                    /* unique local */
    {AF_INET6, {0xfe, 0x80}, 10},             /* link-local */
    {AF_INET6, {0xff}, 8},                    /* multicast */
};

static int is_public(const geo_addr_t *a)
{
    for (size_t i = 0; i < sizeof(non_public) / sizeof(non_public[0]); ++i) {
        geo_range_t r;
        r.net.family = non_public[i].family;
        memcpy(r.net.bytes, non_public[i].bytes, sizeof(r.net.bytes));
        r.prefix = non_public[i].prefix;
        if (range_contains(&r, a))
            return 0;
    }
    return 1;
}

/* --- trusted proxies ------------------------------------------------------------------------------------------------ */

/* Parses "addr" or "addr/prefix" from s[0..len) into r; on failure writes the reason to err. */
static int range_parse(const char *s, size_t len, geo_range_t *r, char *err, size_t errlen)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    uint64_t prefix;
    int shown = len > 64 ? 64 : (int)len;

    if (addr_parse_bare(s, alen, &r->net) != 0) {
        str_fmt(err, errlen,
                "KLIMA_TRUSTED_PROXIES: '%.*s' is not an IPv4 or IPv6 address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)",
                shown, s);
        return -1;
    }
    r->prefix = addr_bits(&r->net);
    if (slash != NULL) {
        /* a range written in IPv4-mapped form counts its prefix over 128 bits; ours is over the 32 it maps */
        unsigned written_bits = memchr(s, ':', alen) != NULL ? 128 : 32, offset = written_bits - addr_bits(&r->net);
        if (str_to_uint(slash + 1, len - alen - 1, offset, written_bits, &prefix) != 0) {
            str_fmt(err, errlen, "KLIMA_TRUSTED_PROXIES: '%.*s' has a bad prefix length (expected /%u to /%u)", shown, s, offset,
                    written_bits);
            return -1;
        }
        r->prefix = (unsigned)prefix - offset;
    }
    {
        geo_range_t masked = *r;
        unsigned full = r->prefix / 8, rest = r->prefix % 8;
        if (rest != 0)
            masked.net.bytes[full++] &= (uint8_t)(0xff << (8 - rest));
        memset(masked.net.bytes + full, 0, sizeof(masked.net.bytes) - full);
        if (memcmp(masked.net.bytes, r->net.bytes, sizeof(r->net.bytes)) != 0) {
            char text[INET6_ADDRSTRLEN];
            inet_ntop(r->net.family, masked.net.bytes, text, sizeof(text));
            str_fmt(err, errlen, "KLIMA_TRUSTED_PROXIES: '%.*s' has bits set after its prefix length (did you mean %s/%u?)", shown,
                    s, text, r->prefix);
            return -1;
        }
    }
    return 0;
}

/* Parses the comma-separated list into geo.proxies. */
static int proxies_parse(const char *list, char *err, size_t errlen)
{
    size_t n = 1, i = 0, len = strlen(list);

    for (size_t k = 0; k < len; ++k)
        n += list[k] == ',';
    if ((geo.proxies = calloc(n, sizeof(*geo.proxies))) == NULL) {
        str_fmt(err, errlen, "KLIMA_TRUSTED_PROXIES: out of memory");
        return -1;
    }
    while (i <= len) {
        const char *comma = memchr(list + i, ',', len - i);
        size_t end = comma != NULL ? (size_t)(comma - list) : len, s = i, e = end;
        while (s < e && (list[s] == ' ' || list[s] == '\t'))
            ++s;
        while (e > s && (list[e - 1] == ' ' || list[e - 1] == '\t'))
            --e;
        if (s == e) {
            str_fmt(err, errlen, "KLIMA_TRUSTED_PROXIES: empty item in '%.*s' (expected comma-separated addresses or CIDR ranges)",
                    len > 120 ? 120 : (int)len, list);
            return -1;
        }
        if (range_parse(list + s, e - s, &geo.proxies[geo.nproxies], err, errlen) != 0)
            return -1;
        ++geo.nproxies;
        i = end + 1;
    }
    return 0;
}

/* --- lookups -------------------------------------------------------------------------------------------------------- */

/* Copies the ISO code at entry/<map>/iso_code (map NULL: the top-level country_code of the ip-location-db country
 * databases that server/run installs) to out when it is two ASCII letters. */
static int entry_country(MMDB_entry_s *entry, const char *map, char out[3])
{
    MMDB_entry_data_s data;
    int rc = map != NULL ? MMDB_get_value(entry, &data, map, "iso_code", NULL) : MMDB_get_value(entry, &data, "country_code", NULL);

    if (rc != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
        return -1;
    for (int i = 0; i < 2; ++i) {
        char c = data.utf8_string[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return -1;
        out[i] = c;
    }
    out[2] = '\0';
    return 0;
}

void geo_country(const geo_addr_t *a, char out[3])
{
    struct sockaddr_storage ss;
    MMDB_lookup_result_s res;
    int mmdb_error = MMDB_SUCCESS;

    memcpy(out, GEO_COUNTRY_UNKNOWN, 3);
    if (!geo.has_db || (a->family != AF_INET && a->family != AF_INET6) || !is_public(a))
        return;
    memset(&ss, 0, sizeof(ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr.s_addr, a->bytes, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(sin6->sin6_addr.s6_addr, a->bytes, 16);
    }
    res = MMDB_lookup_sockaddr(&geo.mmdb, (const struct sockaddr *)&ss, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !res.found_entry)
        return;
    /* MaxMind's layout (country, then registered_country), else ip-location-db's flat country_code. */
    if (entry_country(&res.entry, "country", out) != 0 && entry_country(&res.entry, "registered_country", out) != 0 &&
        entry_country(&res.entry, NULL, out) != 0)
        memcpy(out, GEO_COUNTRY_UNKNOWN, 3);
}

int geo_resolve(const struct sockaddr *peer, const char *xff, size_t xff_len, geo_addr_t *client)
{
    geo_addr_t hop;
    size_t end = xff_len;
    unsigned hops = 0;

    if (addr_from_sockaddr(peer, client) != 0)
        return -1;
    /* Only a trusted proxy's word is taken: entries are appended on the right, so the rightmost ones come from the
     * proxies nearest to us and everything left of the first untrusted hop may be invented by the client. */
    if (xff != NULL && is_trusted(client)) {
        while (end > 0 && hops < GEO_MAX_HOPS) {
            size_t start = end, s, e;
            while (start > 0 && xff[start - 1] != ',')
                --start;
            s = start;
            e = end;
            while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
                ++s;
            while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
                --e;
            if (s < e) {
                ++hops;
                if (addr_parse_entry(xff + s, e - s, &hop) != 0)
                    break; /* malformed: keep the last good address */
                *client = hop;
                if (!is_trusted(&hop))
                    break;
            }
            if (start == 0)
                break;
            end = start - 1;
        }
    }
    return 0;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of 32 bytes: a keyed PRF that costs tens of nanoseconds, where a SHA-256
 * through OpenSSL 3 costs microseconds per call (the algorithm is fetched from the provider store each time); this runs
 * on every rate-limited request. */
#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND                                                                                                                  \
    do {                                                                                                                           \
        v0 += v1;                                                                                                                  \
        v1 = SIP_ROTL(v1, 13);                                                                                                     \
        v1 ^= v0;                                                                                                                  \
        v0 = SIP_ROTL(v0, 32);                                                                                                     \
        v2 += v3;                                                                                                                  \
        v3 = SIP_ROTL(v3, 16);                                                                                                     \
        v3 ^= v2;                                                                                                                  \
        v0 += v3;                                                                                                                  \
        v3 = SIP_ROTL(v3, 21);                                                                                                     \
        v3 ^= v0;                                                                                                                  \
        v2 += v1;                                                                                                                  \
        v1 = SIP_ROTL(v1, 17);                                                                                                     \
        v1 ^= v2;                                                                                                                  \
        v2 = SIP_ROTL(v2, 32);                                                                                                     \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash24_32(const unsigned char key[16], const unsigned char in[32])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull, v2 = k0 ^ 0x6c7967656e657261ull,
             v3 = k1 ^ 0x7465646279746573ull, m;

    for (int i = 0; i < 32; i += 8) {
        m = load_le64(in + i);
        v3 ^= m;
        SIP_ROUND;
        SIP_ROUND;
        v0 ^= m;
    }
    m = (uint64_t)32 << 56; /* the final block: the length, no bytes left over */
    v3 ^= m;
    SIP_ROUND;
    SIP_ROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIP_ROUND;
    SIP_ROUND;
    SIP_ROUND;
    SIP_ROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t geo_client_key(const geo_addr_t *client)
{
    unsigned char buf[32] = {0};
    uint64_t day = (uint64_t)time(NULL) / 86400, h;

    /* salt = the secret + the UTC day: hashes change daily */
    memcpy(buf, &day, 8);
    buf[8] = (unsigned char)client->family;
    memcpy(buf + 16, client->bytes, 16);
    h = siphash24_32(geo_secret, buf);
    OPENSSL_cleanse(buf, sizeof(buf));
    return h;
}

void geo_client_key_secret(const unsigned char secret[32])
{
    memcpy(geo_secret, secret, sizeof(geo_secret));
}

int geo_open(const char *mmdb_path, const char *trusted_proxies, char *err, size_t errlen)
{
    if (RAND_bytes(geo_secret, sizeof(geo_secret)) != 1) {
        snprintf(err, errlen, "cannot draw the random secret for client hashing");
        return -1;
    }
    int status;

    geo_close();
    if (trusted_proxies != NULL && trusted_proxies[0] != '\0' && proxies_parse(trusted_proxies, err, errlen) != 0)
        goto fail;
    if (mmdb_path != NULL && mmdb_path[0] != '\0') {
        errno = 0;
        if ((status = MMDB_open(mmdb_path, MMDB_MODE_MMAP, &geo.mmdb)) != MMDB_SUCCESS) {
            int saved = errno;
            if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && saved != 0)
                str_fmt(err, errlen, "KLIMA_GEOIP_DB: cannot open '%s': %s", mmdb_path, strerror(saved));
            else
                str_fmt(err, errlen, "KLIMA_GEOIP_DB: '%s' is not a MaxMind database: %s", mmdb_path, MMDB_strerror(status));
            goto fail;
        }
        geo.has_db = 1;
    }
    return 0;

fail:
    geo_close();
    return -1;
}

int geo_has_database(void)
{
    return geo.has_db;
}

void geo_close(void)
{
    if (geo.has_db)
        MMDB_close(&geo.mmdb);
    geo.has_db = 0;
    free(geo.proxies);
    geo.proxies = NULL;
    geo.nproxies = 0;
}
