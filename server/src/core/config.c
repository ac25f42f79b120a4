/*
 * core/config — one table of settings; environment first, then flags; every value validated here.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/strutil.h"

typedef enum setting_kind { KIND_STRING, KIND_UINT, KIND_BOOL, KIND_LIST, KIND_LOG_LEVEL } setting_kind_t;

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
     "PostgreSQL statement_timeout of API queries; a records query that runs longer gets 413 (0 = none)"},
    {"KLIMA_DOWNLOAD_TIMEOUT_MS", "--download-timeout-ms", KIND_UINT, OFF(download_timeout_ms), "600000", 0, 86400000,
     "statement_timeout of a whole download (0 = none)"},
    {"KLIMA_DOWNLOADS", "--downloads", KIND_UINT, OFF(downloads), "4", 1, 256,
     "concurrent downloads per worker thread (each its own database connection); more get 503 + Retry-After"},
    {"KLIMA_KEYS_DIR", "--keys-dir", KIND_STRING, OFF(keys_dir), NULL, 0, 0, "directory of the token signing keys"},
    {"KLIMA_ISSUER", "--issuer", KIND_STRING, OFF(issuer), "http://localhost:8080", 0, 0, "issuer (iss) of consent tokens"},
    {"KLIMA_GEOIP_DB", "--geoip-db", KIND_STRING, OFF(geoip_db), NULL, 0, 0, "MaxMind country database (.mmdb)"},
    {"KLIMA_TRUSTED_PROXIES", "--trusted-proxies", KIND_STRING, OFF(trusted_proxies), NULL, 0, 0,
     "comma-separated proxy addresses whose X-Forwarded-For is believed"},
    {"KLIMA_DEV_LOGIN", "--dev-login", KIND_BOOL, OFF(dev_login), "0", 0, 0, "1 = built-in demo login (development only)"},
    {"KLIMA_OIDC_ISSUER", "--oidc-issuer", KIND_STRING, OFF(oidc_issuer), NULL, 0, 0, "OpenID Connect identity provider issuer"},
    {"KLIMA_OIDC_KEY", "--oidc-key", KIND_STRING, OFF(oidc_key), NULL, 0, 0, "the identity provider's public key (PEM file)"},
    {"KLIMA_OIDC_CLIENT_ID", "--oidc-client-id", KIND_STRING, OFF(oidc_client_id), NULL, 0, 0,
     "klimaspejl's client id at the identity provider"},
    {"KLIMA_TLS_CERT", "--tls-cert", KIND_STRING, OFF(tls_cert), NULL, 0, 0, "TLS certificate chain (PEM); enables HTTPS"},
    {"KLIMA_TLS_KEY", "--tls-key", KIND_STRING, OFF(tls_key), NULL, 0, 0, "TLS private key (PEM)"},
    {"KLIMA_LOG_LEVEL", "--log-level", KIND_LOG_LEVEL, OFF(log_level), "info", 0, 0, "error, warn, info or debug"},
    {"KLIMA_ACCESS_LOG", "--access-log", KIND_BOOL, OFF(access_log), "1", 0, 0,
     "1 = one JSON line per request on stdout (route, status, duration, bytes, country; never an address)"},
    {"KLIMA_CACHE_MB", "--cache-mb", KIND_UINT, OFF(cache_mb), "64", 0, 65536, "response cache size per process, MiB"},
    {"KLIMA_PERSONAL_COUNTRIES", "--personal-countries", KIND_STRING, OFF(personal_countries), NULL, 0, 0,
     "comma-separated ISO country codes allowed on personal routes (empty = all)"},
    {"KLIMA_SHUTDOWN_TIMEOUT_MS", "--shutdown-timeout-ms", KIND_UINT, OFF(shutdown_timeout_ms), "10000", 0, 600000,
     "how long in-flight requests may run after SIGTERM"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const log_levels[] = {"error", "warn", "info", "debug"};

static config_result_t set_value(config_t *cfg, const setting_t *s, const char *value, const char *origin, char *err,
                                 size_t errlen)
{
    char *field = (char *)cfg + s->offset;
    uint64_t v;

    switch (s->kind) {
    case KIND_STRING: {
        char **p = (char **)field;
        free(*p);
        *p = (value != NULL && *value != '\0') ? str_dup(value) : NULL;
        return CONFIG_OK;
    }
    case KIND_UINT:
        if (str_to_uint(value, strlen(value), s->min, s->max, &v) != 0) {
            str_fmt(err, errlen, "%s: '%s' is not a whole number from %llu to %llu", origin, value, (unsigned long long)s->min,
                    (unsigned long long)s->max);
            return CONFIG_ERR_VALUE;
        }
        *(unsigned *)field = (unsigned)v;
        return CONFIG_OK;
    case KIND_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
            *(int *)field = 1;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || *value == '\0') {
            *(int *)field = 0;
        } else {
            str_fmt(err, errlen, "%s: '%s' is not a boolean (1/0, true/false, yes/no)", origin, value);
            return CONFIG_ERR_VALUE;
        }
        return CONFIG_OK;
    case KIND_LOG_LEVEL:
        for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); ++i) {
            if (strcmp(value, log_levels[i]) == 0) {
                *(config_log_level_t *)field = (config_log_level_t)i;
                return CONFIG_OK;
            }
        }
        str_fmt(err, errlen, "%s: '%s' is not one of error, warn, info, debug", origin, value);
        return CONFIG_ERR_VALUE;
    case KIND_LIST: {
        /* only the listen list exists; it is replaced as a whole by each source */
        const char *p = value;
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
    }
    return CONFIG_ERR_VALUE;
}

static const char *getenv_default(const char *name)
{
    return getenv(name);
}

config_result_t config_load(config_t *cfg, int argc, char **argv, char *err, size_t errlen)
{
    return config_load_with(cfg, argc, argv, getenv_default, err, errlen);
}

config_result_t config_load_with(config_t *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *), char *err,
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
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT and KLIMA_TLS_KEY: set both or neither");
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
