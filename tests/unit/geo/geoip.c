/* geo/geoip: direct peers, the X-Forwarded-For walk behind trusted proxies (IPv4, IPv6, CIDR), malformed entries,
 * unknown addresses, no database, and bad KLIMA_TRUSTED_PROXIES / KLIMA_GEOIP_DB values. Uses the committed fixture
 * tests/fixtures/geoip/test-country.mmdb (see make-mmdb.pl there): 81.0.0.0/16 DK, 8.8.8.0/24 US, 2a02:c7f::/32 GB,
 * 2a01:4f8::/32 DE, 5.5.0.0/16 registered country SE only, 9.9.9.0/24 a record without a country,
 * 31.3.0.0/16 NO in ip-location-db's flat layout (a top-level country_code). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "geo/geoip.h"

/* The country geo_client_country would give a request from peer with this X-Forwarded-For value. */
static void country_of(const struct sockaddr *peer, const char *xff, size_t xff_len, char out[3])
{
    geo_addr_t client;
    if (geo_resolve(peer, xff, xff_len, &client) != 0)
        memset(&client, 0, sizeof(client));
    geo_country(&client, out);
}
#include "../test.h"

#define MMDB KLIMA_SOURCE_DIR "/tests/fixtures/geoip/test-country.mmdb"

/* The country of a client at peer (an IPv4 or IPv6 literal) with the given X-Forwarded-For (NULL = none). */
static const char *country(const char *peer, const char *xff)
{
    static char out[3];
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (strchr(peer, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, peer, &sin6->sin6_addr) != 1)
            return "bad test peer";
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        if (inet_pton(AF_INET, peer, &sin->sin_addr) != 1)
            return "bad test peer";
    }
    memset(out, 'x', sizeof(out));
    country_of((const struct sockaddr *)&ss, xff, xff != NULL ? strlen(xff) : 0, out);
    return out;
}

static void open_ok(const char *db, const char *proxies)
{
    char err[256] = "";
    int r = geo_open(db, proxies, err, sizeof(err));
    if (r != 0)
        fprintf(stderr, "geo_open(%s, %s): %s\n", db ? db : "NULL", proxies ? proxies : "NULL", err);
    CHECK_INT(r, 0);
}

/* geo_open must fail with a message that starts with `setting`. */
static void open_fails(const char *db, const char *proxies, const char *setting)
{
    char err[256] = "";
    CHECK_INT(geo_open(db, proxies, err, sizeof(err)), -1);
    if (strncmp(err, setting, strlen(setting)) != 0)
        fprintf(stderr, "proxies '%s': message does not name %s: %s\n", proxies ? proxies : "NULL", setting, err);
    CHECK(strncmp(err, setting, strlen(setting)) == 0);
    CHECK_INT(geo_has_database(), 0);
    CHECK_STR(country("81.0.1.2", NULL), "ZZ");
}

static void test_no_database(void)
{
    open_ok(NULL, NULL);
    CHECK_INT(geo_has_database(), 0);
    CHECK_STR(country("81.0.1.2", NULL), "ZZ");
    CHECK_STR(country("2a02:c7f::1", NULL), "ZZ");
    open_ok("", "10.0.0.0/8");
    CHECK_STR(country("10.0.0.1", "8.8.8.8"), "ZZ");
}

static void test_direct_peers(void)
{
    open_ok(MMDB, NULL);
    CHECK_INT(geo_has_database(), 1);
    CHECK_STR(country("81.0.1.2", NULL), "DK");
    CHECK_STR(country("81.0.255.255", NULL), "DK");
    CHECK_STR(country("81.1.0.1", NULL), "ZZ");
    CHECK_STR(country("8.8.8.8", NULL), "US");
    CHECK_STR(country("2a02:c7f::1", NULL), "GB");
    CHECK_STR(country("2a01:4f8:1:2::3", NULL), "DE");
    CHECK_STR(country("::ffff:81.0.0.1", NULL), "DK"); /* what a dual-stack listener reports for IPv4 */
    CHECK_STR(country("5.5.1.1", NULL), "SE");         /* registered_country fallback */
    CHECK_STR(country("9.9.9.9", NULL), "ZZ");         /* a record without a country */
    CHECK_STR(country("31.3.7.7", NULL), "NO");        /* ip-location-db's flat country_code */
    CHECK_STR(country("1.1.1.1", NULL), "ZZ");         /* not in the database */
    CHECK_STR(country("2001:4860::8888", NULL), "ZZ");
    /* private, loopback, link-local: no country */
    CHECK_STR(country("10.0.0.1", NULL), "ZZ");
    CHECK_STR(country("192.168.1.1", NULL), "ZZ");
    CHECK_STR(country("127.0.0.1", NULL), "ZZ");
    CHECK_STR(country("::1", NULL), "ZZ");
    CHECK_STR(country("fe80::1", NULL), "ZZ");
    CHECK_STR(country("fd00::1", NULL), "ZZ");
    /* documentation ranges: no country, whatever a database says */
    CHECK_STR(country("192.0.2.1", NULL), "ZZ");
    CHECK_STR(country("203.0.113.9", NULL), "ZZ");
    CHECK_STR(country("2001:db8::1", NULL), "ZZ");
    /* no trusted proxies: X-Forwarded-For is the client's own word and ignored */
    CHECK_STR(country("8.8.8.8", "81.0.0.1"), "US");
    CHECK_STR(country("10.0.0.1", "81.0.0.1"), "ZZ");
    {
        char out[3] = "xx";
        struct sockaddr_un un;
        memset(&un, 0, sizeof(un));
        un.sun_family = AF_UNIX;
        country_of((const struct sockaddr *)&un, "81.0.0.1", 8, out);
        CHECK_STR(out, "ZZ");
        memcpy(out, "xx", 3);
        country_of(NULL, NULL, 0, out);
        CHECK_STR(out, "ZZ");
    }
}

static void test_trusted_proxies(void)
{
    open_ok(MMDB, " 10.0.0.0/8, 127.0.0.1 ,fd00::/8,2001:db8::1,172.16.0.0/12");
    /* the first untrusted hop from the right */
    CHECK_STR(country("10.1.2.3", "81.0.0.1"), "DK");
    CHECK_STR(country("10.1.2.3", "8.8.8.8, 81.0.0.1"), "DK");
    CHECK_STR(country("10.1.2.3", "8.8.8.8, 10.9.9.9"), "US");
    CHECK_STR(country("10.1.2.3", "81.0.0.1, 8.8.8.8, 10.0.0.2, 127.0.0.1"), "US");
    CHECK_STR(country("127.0.0.1", "2a02:c7f::5"), "GB");
    /* an untrusted peer's header is ignored */
    CHECK_STR(country("8.8.8.8", "81.0.0.1"), "US");
    CHECK_STR(country("10.0.0.1", NULL), "ZZ");
    /* IPv6 proxies, bracketed entries and ports */
    CHECK_STR(country("fd00::1", "[2a02:c7f::5]:443, fd12::3"), "GB");
    CHECK_STR(country("fd00::1", "[2a02:c7f::5]"), "GB");
    CHECK_STR(country("fd00::1", "81.0.0.1:5555"), "DK");
    CHECK_STR(country("2001:db8::1", "81.0.0.1"), "DK");
    CHECK_STR(country("2001:db8::2", "81.0.0.1"), "ZZ"); /* a single address, not a range */
    /* an IPv4-mapped peer matches the IPv4 range; a mapped entry counts as its IPv4 address */
    CHECK_STR(country("::ffff:10.0.0.1", "8.8.8.8"), "US");
    CHECK_STR(country("10.0.0.1", "::ffff:8.8.8.8"), "US");
    /* a CIDR range that does not end on a byte */
    CHECK_STR(country("172.31.255.255", "8.8.8.8"), "US");
    CHECK_STR(country("172.15.255.255", "8.8.8.8"), "ZZ");
    CHECK_STR(country("172.32.0.1", "8.8.8.8"), "ZZ");
    /* empty items and blanks are skipped */
    CHECK_STR(country("10.0.0.1", "8.8.8.8,,  ,81.0.0.1 "), "DK");
    CHECK_STR(country("10.0.0.1", "  81.0.0.1\t"), "DK");
    /* everyone in the chain is trusted: the leftmost (private) address has no country */
    CHECK_STR(country("10.0.0.1", "10.0.0.9"), "ZZ");
    CHECK_STR(country("10.0.0.1", ""), "ZZ");
    CHECK_STR(country("10.0.0.1", " , "), "ZZ");
}

static void test_malformed_xff(void)
{
    open_ok(MMDB, "10.0.0.0/8,fd00::/8");
    /* a malformed entry stops the walk at the last good address */
    CHECK_STR(country("10.1.1.1", "8.8.8.8, garbage"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, junk, 10.0.0.5"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, unknown"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 8.8.8.8:99999"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 8.8.8.8:"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, [8.8.8.8]"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, [2a02:c7f::5"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, [2a02:c7f::5]x"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 2a02:c7f::5%eth0"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 8.8.8.8/24"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 8.8.8.8 8.8.4.4"), "ZZ");
    CHECK_STR(country("10.1.1.1", "81.0.0.1, 08.8.8.8"), "ZZ");
    CHECK_STR(country("10.1.1.1", "garbage, 81.0.0.1"), "DK"); /* the walk never reaches it */
    /* a NUL byte inside an entry */
    {
        char out[3];
        static const char xff[] = "8.8.8.8\0junk";
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, "10.1.1.1", &sin.sin_addr);
        country_of((const struct sockaddr *)&sin, xff, sizeof(xff) - 1, out);
        CHECK_STR(out, "ZZ");
    }
    /* a very long chain of trusted hops: the walk is bounded, the answer is the last address it reached */
    {
        char xff[2048];
        size_t n = 0;
        memcpy(xff, "81.0.0.1", 8);
        n = 8;
        while (n + 10 < sizeof(xff)) {
            memcpy(xff + n, ",10.0.0.1", 9);
            n += 9;
        }
        xff[n] = '\0';
        CHECK_STR(country("10.1.1.1", xff), "ZZ");
        /* within the bound the walk reaches the client */
        CHECK_STR(country("10.1.1.1", "81.0.0.1,10.0.0.1,10.0.0.1,10.0.0.1,10.0.0.1,10.0.0.1,10.0.0.1,10.0.0.1"), "DK");
    }
}

static void test_bad_settings(void)
{
    static const char *const bad_proxies[] = {
        "abc",         "10.0.0.0/33",        "10.0.0.1/8",     "10.0.0.0/",      "10.0.0.0/8x", "1.2.3.4,,5.6.7.8", ",",
        " ",           "1.2.3.4,",           "2001:db8::/129", "2001:db8::1/32", "[::1]",       "1.2.3.4:80",       "10.0.0.0/-1",
        "10.0.0.0/+8", "::ffff:10.0.0.0/80", "fe80::1%eth0",   "1.2.3",          "256.1.1.1",   "10.0.0.0/8/8",
    };
    for (size_t i = 0; i < sizeof(bad_proxies) / sizeof(bad_proxies[0]); ++i)
        open_fails(MMDB, bad_proxies[i], "KLIMA_TRUSTED_PROXIES");
    {
        char err[256];
        CHECK_INT(geo_open(NULL, "10.1.2.3/8", err, sizeof(err)), -1);
        CHECK(strstr(err, "10.0.0.0/8") != NULL); /* the message suggests the range meant */
    }
    open_fails("/nonexistent/country.mmdb", NULL, "KLIMA_GEOIP_DB");
    open_fails(KLIMA_SOURCE_DIR "/tests/fixtures/geoip/make-mmdb.pl", NULL, "KLIMA_GEOIP_DB");
    /* accepted forms */
    open_ok(MMDB, "::ffff:10.0.0.0/104");
    CHECK_STR(country("10.2.3.4", "8.8.8.8"), "US");
    open_ok(MMDB, "0.0.0.0/0");
    CHECK_STR(country("8.8.8.8", "81.0.0.1"), "DK");
    open_ok(MMDB, "::/0,2001:db8::/32,81.0.0.0/16");
    CHECK_STR(country("2a02:c7f::1", "81.0.0.7"), "DK"); /* every hop trusted: the leftmost one */
    open_ok(MMDB, "");
    CHECK_STR(country("10.0.0.1", "8.8.8.8"), "ZZ");
}

int main(void)
{
    test_no_database();
    test_direct_peers();
    test_trusted_proxies();
    test_malformed_xff();
    test_bad_settings();
    geo_close();
    geo_close(); /* twice is harmless */
    return TEST_DONE();
}
