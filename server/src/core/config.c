/*
 * core/config — one table of settings; environment first, then flags; every value validated here.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/strutil.h"

typedef enum setting_kind {
    KIND_STRING,
    KIND_UINT,
    KIND_BOOL,
    KIND_LIST,
    KIND_LOG_LEVEL,
    KIND_RATE,
    KIND_DEV_LOGIN
} setting_kind_t;

typedef struct setting {
    const char *env;  /* KLIMA_... */
    const char *flag; /* --... */
    setting_kind_t kind;
    size_t offset; /* into config_t */
    const char *def;
    uint64_t min, max; /* KIND_UINT */
    const char *help;
} setting_t;

#define OFF(field) offsetof(config_t, field)

/* duplicate: the rows of this table are alike by design: one row a setting, the only place settings are defined. */
static const setting_t settings[] = {
    {"KLIMA_LISTEN", "--listen", KIND_LIST, OFF(listen), "127.0.0.1:8080", 0, 0,
     "address:port to serve on; comma-separated for several ([::1]:8080 for IPv6, :8080 for all)"},
    {"KLIMA_THREADS", "--threads", KIND_UINT, OFF(threads), "0", 0, 256, "worker threads (0 = number of cores)"},
    {"KLIMA_DB_URL", "--db-url", KIND_STRING, OFF(db_url), "", 0, 0, "libpq connection string of the server's role (klima_api)"},
    {"KLIMA_DB_ADMIN_URL", "--db-admin-url", KIND_STRING, OFF(db_admin_url), NULL, 0, 0,
     "connection string for migrate/seed/ingest/refresh (defaults to KLIMA_DB_URL)"},
    {"KLIMA_DB_READ_URLS", "--db-read-urls", KIND_STRING, OFF(db_read_urls), NULL, 0, 0,
     "comma-separated connection strings of read replicas"},
    {"KLIMA_DB_CONNS", "--db-conns", KIND_UINT, OFF(db_conns), "2", 1, 64, "pipelined database connections per worker thread"},
    {"KLIMA_DB_TIMEOUT_MS", "--db-timeout-ms", KIND_UINT, OFF(db_timeout_ms), "10000", 100, 600000,
     "a query not answered within this many milliseconds gets 503 and its connection is reset"},
    {"KLIMA_STATEMENT_TIMEOUT_MS", "--statement-timeout-ms", KIND_UINT, OFF(statement_timeout_ms), "5000", 0, 3600000,
     "PostgreSQL statement_timeout of API queries; one that runs longer gets 503 database-timeout (0 = none). The "
     "dataset catalog and time zone loads get 30 s whatever this says"},
    {"KLIMA_DOWNLOAD_TIMEOUT_MS", "--download-timeout-ms", KIND_UINT, OFF(download_timeout_ms), "600000", 0, 86400000,
     "statement_timeout of a whole download (0 = none)"},
    {"KLIMA_DOWNLOADS", "--downloads", KIND_UINT, OFF(downloads), "4", 1, 256,
     "concurrent downloads per worker thread (each its own database connection); more wait in the queue; one client holds "
     "at most half of them"},
    {"KLIMA_DOWNLOAD_QUEUE", "--download-queue", KIND_UINT, OFF(download_queue), "16", 0, 4096,
     "downloads per worker thread that may wait for a slot (one client at most half); beyond it 503 + Retry-After"},
    {"KLIMA_DOWNLOAD_QUEUE_MS", "--download-queue-ms", KIND_UINT, OFF(download_queue_ms), "10000", 0, 600000,
     "how long a download waits for a slot before it gets 503 + Retry-After (0 = no queue)"},
    {"KLIMA_DOWNLOAD_STALL_MS", "--download-stall-ms", KIND_UINT, OFF(download_stall_ms), "15000", 0, 3600000,
     "a download whose client takes no data for this many milliseconds loses its slot and is cut off (0 = never)"},
    {"KLIMA_KEYS_DIR", "--keys-dir", KIND_STRING, OFF(keys_dir), NULL, 0, 0, "directory of the token signing keys"},
    {"KLIMA_ISSUER", "--issuer", KIND_STRING, OFF(issuer), NULL, 0, 0,
     "issuer (iss) of consent tokens and base of the OAuth metadata URLs (default: http(s)://HOST:PORT of the first listen "
     "address, 0.0.0.0, :: or an empty host as localhost)"},
    {"KLIMA_GEOIP_DB", "--geoip-db", KIND_STRING, OFF(geoip_db), NULL, 0, 0, "MaxMind country database (.mmdb)"},
    {"KLIMA_TRUSTED_PROXIES", "--trusted-proxies", KIND_STRING, OFF(trusted_proxies), NULL, 0, 0,
     "comma-separated proxy addresses whose X-Forwarded-For is believed"},
    {"KLIMA_DEV_LOGIN", "--dev-login", KIND_DEV_LOGIN, OFF(dev_login), "0", 0, 0,
     "1 = built-in demo login (development only: loopback listen addresses without TLS; force = anywhere)"},
    {"KLIMA_OIDC_ISSUER", "--oidc-issuer", KIND_STRING, OFF(oidc_issuer), NULL, 0, 0, "OpenID Connect identity provider issuer"},
    {"KLIMA_OIDC_KEY", "--oidc-key", KIND_STRING, OFF(oidc_key), NULL, 0, 0, "the identity provider's public key (PEM file)"},
    {"KLIMA_OIDC_CLIENT_ID", "--oidc-client-id", KIND_STRING, OFF(oidc_client_id), NULL, 0, 0,
     "klimaspejl's client id at the identity provider"},
    {"KLIMA_OIDC_AUTHORIZATION_ENDPOINT", "--oidc-authorization-endpoint", KIND_STRING, OFF(oidc_authorization_endpoint), NULL, 0,
     0, "the identity provider's authorization endpoint (default <KLIMA_OIDC_ISSUER>/authorize)"},
    {"KLIMA_TLS_CERT", "--tls-cert", KIND_STRING, OFF(tls_cert), NULL, 0, 0, "TLS certificate chain (PEM); enables HTTPS"},
    {"KLIMA_TLS_KEY", "--tls-key", KIND_STRING, OFF(tls_key), NULL, 0, 0, "TLS private key (PEM, unencrypted)"},
    {"KLIMA_TLS_HANDSHAKE_TIMEOUT_MS", "--tls-handshake-timeout-ms", KIND_UINT, OFF(tls_handshake_timeout_ms), "10000", 100, 600000,
     "a TLS handshake must finish within this many milliseconds"},
    {"KLIMA_MAX_CONNECTIONS", "--max-connections", KIND_UINT, OFF(max_connections), "16384", 1, 1048576,
     "open client connections per process; beyond it a new connection is closed at once (lowered to fit the open-file "
     "limit)"},
    {"KLIMA_H2_MAX_STREAMS", "--h2-max-streams", KIND_UINT, OFF(h2_max_streams), "100", 1, 100,
     "HTTP/2 requests of one connection processed at once, the rest wait (the server advertises "
     "SETTINGS_MAX_CONCURRENT_STREAMS 100 and refuses streams beyond it)"},
    {"KLIMA_H2_MAX_RESETS", "--h2-max-resets", KIND_UINT, OFF(h2_max_resets), "100", 0, 1000000,
     "HTTP/2: streams one connection may reset before their response started, per second; beyond it GOAWAY "
     "(ENHANCE_YOUR_CALM) and the connection is closed (rapid reset; 0 = no limit)"},
    {"KLIMA_MAX_BODY_BYTES", "--max-body-bytes", KIND_UINT, OFF(max_body_bytes), "65536", 1024, 67108864,
     "request body limit in bytes: 413 beyond it, over HTTP/1.1 and HTTP/2"},
    {"KLIMA_REQUEST_TIMEOUT_MS", "--request-timeout-ms", KIND_UINT, OFF(request_timeout_ms), "10000", 100, 600000,
     "HTTP/1.1: a whole request (header and body) must arrive within this many milliseconds of the connection or the "
     "previous response, else the connection is closed (slow clients, idle keep-alive)"},
    {"KLIMA_IDLE_TIMEOUT_MS", "--idle-timeout-ms", KIND_UINT, OFF(idle_timeout_ms), "30000", 100, 3600000,
     "HTTP/2: a connection with no request in progress and nothing received for this many milliseconds is closed (GOAWAY)"},
    {"KLIMA_LOG_LEVEL", "--log-level", KIND_LOG_LEVEL, OFF(log_level), "info", 0, 0, "error, warn, info or debug"},
    {"KLIMA_ACCESS_LOG", "--access-log", KIND_BOOL, OFF(access_log), "1", 0, 0,
     "1 = one JSON line per request on stdout (route, status, duration, bytes, country; never an address)"},
    {"KLIMA_CACHE_MB", "--cache-mb", KIND_UINT, OFF(cache_mb), "64", 0, 65536, "response cache size per process, MiB"},
    {"KLIMA_PERSONAL_COUNTRIES", "--personal-countries", KIND_STRING, OFF(personal_countries), NULL, 0, 0,
     "comma-separated ISO country codes allowed on /v1/me/* and /oauth/* (unset = all; when set, unknown ZZ is refused)"},
    {"KLIMA_SHUTDOWN_TIMEOUT_MS", "--shutdown-timeout-ms", KIND_UINT, OFF(shutdown_timeout_ms), "10000", 0, 600000,
     "how long in-flight requests may run after SIGTERM"},
    {"KLIMA_RATE_LIMIT", "--rate-limit", KIND_BOOL, OFF(rate_limit), "1", 0, 0,
     "1 = rate limits per route class (KLIMA_RATE_*); 0 = none at all (no 429, no RateLimit headers)"},
    {"KLIMA_RATE_OPEN", "--rate-open", KIND_RATE, OFF(rate_open), "3000/60", 0, 0,
     "open reads (datasets, records, catalog, usage, factors, spec, keys): QUOTA/SECONDS per address, "
     "0 = unlimited"},
    {"KLIMA_RATE_DOWNLOAD", "--rate-download", KIND_RATE, OFF(rate_download), "30/60", 0, 0,
     "whole-dataset downloads: QUOTA/SECONDS per address"},
    {"KLIMA_RATE_PERSONAL", "--rate-personal", KIND_RATE, OFF(rate_personal), "600/60", 0, 0,
     "personal routes (/v1/me/*): QUOTA/SECONDS per address"},
    {"KLIMA_RATE_OAUTH", "--rate-oauth", KIND_RATE, OFF(rate_oauth), "300/60", 0, 0,
     "consent routes (/oauth/*): QUOTA/SECONDS per address"},
    {"KLIMA_RATE_FEEDBACK", "--rate-feedback", KIND_RATE, OFF(rate_feedback), "5/50", 0, 0,
     "POST /v1/feedback: QUOTA/SECONDS per address"},
    {"KLIMA_RATE_REGISTER", "--rate-register", KIND_RATE, OFF(rate_register), "10/3600", 0, 0,
     "POST /oauth/register (self-service app registration): QUOTA/SECONDS per address"},
    {"KLIMA_RATE_SERVICE", "--rate-service", KIND_RATE, OFF(rate_service), "0", 0, 0,
     "/healthz, /readyz, /metrics (load-balancer probes, scrapes): QUOTA/SECONDS, 0 = unlimited"},
    {"KLIMA_RATE_CLIENT_FACTOR", "--rate-client-factor", KIND_UINT, OFF(rate_client_factor), "10", 1, 1000,
     "a request with a verified consent token is counted per client id, with this many times the address quota"},
    {"KLIMA_RATE_SYNC_MS", "--rate-sync-ms", KIND_UINT, OFF(rate_sync_ms), "250", 0, 60000,
     "every worker thread reconciles its rate-limit buckets through PostgreSQL this often, so a quota holds across the "
     "threads and instances of the service (up to what they grant between two syncs); 0 = each thread counts alone"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const log_levels[] = {"error", "warn", "info", "debug"};

/* One setter per kind of setting: stores value (from origin, for the message) into field, or fails with err. */
typedef config_result_t (*setter_fn)(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin,
                                     char *err, size_t errlen);

static config_result_t set_string(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin, char *err,
                                  size_t errlen)
{
    char **p = field;
    (void)cfg, (void)s, (void)origin, (void)err, (void)errlen;
    free(*p);
    *p = (value != NULL && *value != '\0') ? str_dup(value) : NULL;
    return CONFIG_OK;
}

static config_result_t set_uint(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin, char *err,
                                size_t errlen)
{
    uint64_t v;
    (void)cfg;
    if (str_to_uint(value, strlen(value), s->min, s->max, &v) != 0) {
        str_fmt(err, errlen, "%s: '%s' is not a whole number from %llu to %llu", origin, value, (unsigned long long)s->min,
                (unsigned long long)s->max);
        return CONFIG_ERR_VALUE;
    }
    *(unsigned *)field = (unsigned)v;
    return CONFIG_OK;
}

static config_result_t set_bool(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin, char *err,
                                size_t errlen)
{
    (void)cfg, (void)s;
    if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
        *(int *)field = 1;
    } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || *value == '\0') {
        *(int *)field = 0;
    } else {
        str_fmt(err, errlen, "%s: '%s' is not a boolean (1/0, true/false, yes/no)", origin, value);
        return CONFIG_ERR_VALUE;
    }
    return CONFIG_OK;
}

/* 0/1 like a boolean, or "force" (CONFIG_DEV_LOGIN_FORCE): the dev login also on TLS and non-loopback addresses. */
static config_result_t set_dev_login(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin,
                                     char *err, size_t errlen)
{
    if (strcmp(value, "force") == 0) {
        *(int *)field = CONFIG_DEV_LOGIN_FORCE;
        return CONFIG_OK;
    }
    if (set_bool(cfg, s, field, value, origin, err, errlen) != CONFIG_OK) {
        str_fmt(err, errlen, "%s: '%s' is not 0, 1 or force", origin, value);
        return CONFIG_ERR_VALUE;
    }
    return CONFIG_OK;
}

static config_result_t set_log_level(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin,
                                     char *err, size_t errlen)
{
    (void)cfg, (void)s;
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); ++i) {
        if (strcmp(value, log_levels[i]) == 0) {
            *(config_log_level_t *)field = (config_log_level_t)i;
            return CONFIG_OK;
        }
    }
    str_fmt(err, errlen, "%s: '%s' is not one of error, warn, info, debug", origin, value);
    return CONFIG_ERR_VALUE;
}

/* QUOTA/SECONDS, or 0 for unlimited */
static config_result_t set_rate(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin, char *err,
                                size_t errlen)
{
    const char *slash = strchr(value, '/');
    config_rate_t *r = field;
    uint64_t q = 0, w = 0;
    (void)cfg, (void)s;
    if (strcmp(value, "0") == 0) {
        r->quota = 0;
        r->window_s = 1;
        return CONFIG_OK;
    }
    if (slash == NULL || str_to_uint(value, (size_t)(slash - value), 1, 1000000000, &q) != 0 ||
        str_to_uint(slash + 1, strlen(slash + 1), 1, 86400, &w) != 0) {
        str_fmt(err, errlen, "%s: '%s' is not QUOTA/SECONDS (quota 1 to 1000000000, window 1 to 86400 s) or 0", origin, value);
        return CONFIG_ERR_VALUE;
    }
    r->quota = (unsigned)q;
    r->window_s = (unsigned)w;
    return CONFIG_OK;
}

/* Only the listen list exists; it is replaced as a whole by each source. */
static config_result_t set_list(config_t *cfg, const setting_t *s, void *field, const char *value, const char *origin, char *err,
                                size_t errlen)
{
    const char *p = value;
    (void)s, (void)field;
    for (size_t i = 0; i < cfg->nlisten; ++i)
        free(cfg->listen[i]);
    cfg->nlisten = 0;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char one[300], host[256];
        uint16_t port;
        if (len == 0 || len >= sizeof(one)) {
            str_fmt(err, errlen, "%s: empty or overlong address in '%s'", origin, value);
            return CONFIG_ERR_VALUE;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (str_parse_hostport(one, host, sizeof(host), &port) != 0) {
            str_fmt(err, errlen, "%s: '%s' is not HOST:PORT (port 1-65535; IPv6 as [addr]:port)", origin, one);
            return CONFIG_ERR_VALUE;
        }
        if (cfg->nlisten == CONFIG_MAX_LISTEN) {
            str_fmt(err, errlen, "%s: at most %d addresses", origin, CONFIG_MAX_LISTEN);
            return CONFIG_ERR_VALUE;
        }
        cfg->listen[cfg->nlisten++] = str_dup(one);
        p += len;
        if (*p == ',')
            ++p;
    }
    if (cfg->nlisten == 0) {
        str_fmt(err, errlen, "%s: at least one HOST:PORT is needed", origin);
        return CONFIG_ERR_VALUE;
    }
    return CONFIG_OK;
}

static const setter_fn setters[] = {
    [KIND_STRING] = set_string,       [KIND_UINT] = set_uint, [KIND_BOOL] = set_bool,           [KIND_LIST] = set_list,
    [KIND_LOG_LEVEL] = set_log_level, [KIND_RATE] = set_rate, [KIND_DEV_LOGIN] = set_dev_login,
};

static config_result_t set_value(config_t *cfg, const setting_t *s, const char *value, const char *origin, char *err, size_t errlen)
{
    return setters[s->kind](cfg, s, (char *)cfg + s->offset, value, origin, err, errlen);
}

/* KLIMA_PERSONAL_COUNTRIES: comma-separated ISO 3166-1 alpha-2 codes (upper or lower case; spaces around items). */
static int config_countries_check(const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *a = p, *b = p + len;
        while (a < b && *a == ' ')
            ++a;
        while (b > a && b[-1] == ' ')
            --b;
        if (b - a != 2 || !((a[0] | 0x20) >= 'a' && (a[0] | 0x20) <= 'z' && (a[1] | 0x20) >= 'a' && (a[1] | 0x20) <= 'z')) {
            str_fmt(err, errlen, "KLIMA_PERSONAL_COUNTRIES: '%.*s' is not a two-letter ISO 3166-1 country code (e.g. DK,SE)",
                    (int)(len > 32 ? 32 : len), p);
            return -1;
        }
        p += len;
        if (*p == ',')
            ++p;
    }
    return 0;
}

static const char *getenv_default(const char *name)
{
    return getenv(name);
}

static config_result_t config_load_with(config_t *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *), char *err,
                                        size_t errlen);

/* The issuer used when KLIMA_ISSUER is not set: "http(s)://HOST:PORT" of cfg's first listen address (https when a TLS
 * certificate is configured; a wildcard or empty host becomes localhost; IPv6 in brackets). Returns a heap string the
 * caller frees, NULL when out of memory. */
static char *config_default_issuer(const config_t *cfg)
{
    char host[256], out[300];
    uint16_t port = 8080;
    const char *scheme = cfg->tls_cert != NULL ? "https" : "http";

    if (cfg->nlisten == 0 || str_parse_hostport(cfg->listen[0], host, sizeof(host), &port) != 0)
        str_fmt(host, sizeof(host), "localhost");
    /* a wildcard address is not a place a browser can go to: name the machine's loopback instead */
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0)
        str_fmt(host, sizeof(host), "localhost");
    if (strchr(host, ':') != NULL)
        str_fmt(out, sizeof(out), "%s://[%s]:%u", scheme, host, (unsigned)port);
    else
        str_fmt(out, sizeof(out), "%s://%s:%u", scheme, host, (unsigned)port);
    return str_dup(out);
}

config_result_t config_load(config_t *cfg, int argc, char **argv, char *err, size_t errlen)
{
    return config_load_with(cfg, argc, argv, getenv_default, err, errlen);
}

static config_result_t config_load_with(config_t *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *), char *err,
                                        size_t errlen)
{
    config_result_t ret;
    char origin[128];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NSETTINGS; ++i) {
        if (settings[i].def != NULL && (ret = set_value(cfg, &settings[i], settings[i].def, settings[i].env, err, errlen)) != 0)
            return ret;
    }
    for (size_t i = 0; i < NSETTINGS; ++i) {
        const char *v = getenv_fn(settings[i].env);
        if (v == NULL)
            continue;
        if ((ret = set_value(cfg, &settings[i], v, settings[i].env, err, errlen)) != CONFIG_OK)
            return ret;
    }
    for (int a = 1; a < argc; ++a) {
        const char *arg = argv[a], *eq, *value;
        const setting_t *s = NULL;
        size_t namelen;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CONFIG_HELP;
        eq = strchr(arg, '=');
        namelen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        for (size_t i = 0; i < NSETTINGS; ++i) {
            if (strlen(settings[i].flag) == namelen && memcmp(settings[i].flag, arg, namelen) == 0) {
                s = &settings[i];
                break;
            }
        }
        if (s == NULL) {
            str_fmt(err, errlen, "unknown option '%.*s'", (int)namelen, arg);
            return CONFIG_ERR_USAGE;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            str_fmt(err, errlen, "option %s needs a value", s->flag);
            return CONFIG_ERR_USAGE;
        }
        str_fmt(origin, sizeof(origin), "%s (%s)", s->flag, s->env);
        if ((ret = set_value(cfg, s, value, origin, err, errlen)) != CONFIG_OK)
            return ret;
    }
    if (cfg->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (unsigned)n : 1;
    }
    if (cfg->db_admin_url == NULL && cfg->db_url != NULL)
        cfg->db_admin_url = str_dup(cfg->db_url);
    if (cfg->personal_countries != NULL && config_countries_check(cfg->personal_countries, err, errlen) != 0)
        return CONFIG_ERR_VALUE;
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT and KLIMA_TLS_KEY: set both or neither");
        return CONFIG_ERR_VALUE;
    }
    if (cfg->issuer == NULL && (cfg->issuer = config_default_issuer(cfg)) == NULL) {
        str_fmt(err, errlen, "out of memory");
        return CONFIG_ERR_VALUE;
    }
    return CONFIG_OK;
}

void config_free(config_t *cfg)
{
    for (size_t i = 0; i < NSETTINGS; ++i) {
        if (settings[i].kind == KIND_STRING) {
            char **p = (char **)((char *)cfg + settings[i].offset);
            free(*p);
            *p = NULL;
        }
    }
    for (size_t i = 0; i < cfg->nlisten; ++i)
        free(cfg->listen[i]);
    cfg->nlisten = 0;
}

void config_print_help(FILE *out)
{
    fprintf(out, "usage: klimaspejl serve [options]\n\n"
                 "Each option can also be given as the environment variable beside it; an option wins over the variable.\n\n");
    for (size_t i = 0; i < NSETTINGS; ++i) {
        const setting_t *s = &settings[i];
        fprintf(out, "  %-22s %-26s %s", s->flag, s->env, s->help);
        if (s->def != NULL && *s->def != '\0')
            fprintf(out, " (default %s)", s->def);
        fputc('\n', out);
    }
}
