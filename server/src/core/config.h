/*
 * core/config — the server's settings, read from KLIMA_* environment variables and the matching
 * `serve` flags (a flag wins over the environment), validated once at start.
 */
#ifndef KLIMA_CORE_CONFIG_H
#define KLIMA_CORE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_LISTEN 8

typedef enum config_log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } config_log_level_t;

/* A rate-limit policy: quota requests per window_s seconds (a token bucket of `quota` tokens refilled at quota/window_s
 * per second); quota 0 = not limited. */
#define CONFIG_DEV_LOGIN_FORCE 2

typedef struct config_rate {
    unsigned quota, window_s;
} config_rate_t;

typedef struct config {
    char *listen[CONFIG_MAX_LISTEN]; /* "host:port" strings, at least one */
    size_t nlisten;
    unsigned threads;                           /* worker threads; 0 in the table means "number of cores" */
    char *db_url;                               /* libpq conninfo for the server's role (klima_api) */
    char *db_admin_url;                         /* conninfo for migrate/seed/ingest/refresh (owner role); defaults to db_url */
    char *db_read_urls;                         /* comma-separated replica conninfos, or NULL */
    unsigned db_conns;                          /* pipelined connections per worker thread */
    unsigned db_timeout_ms;                     /* a query not answered within this gets 503 */
    unsigned downloads;                         /* concurrent COPY downloads per worker thread */
    unsigned download_queue, download_queue_ms; /* downloads per worker waiting for a slot, and for how long at most */
    unsigned download_stall_ms;                 /* a download whose client takes nothing for this long loses its slot */
    unsigned statement_timeout_ms, download_timeout_ms;
    char *keys_dir, *issuer, *geoip_db, *trusted_proxies;
    int dev_login; /* 0 off, 1 on (loopback without TLS only), CONFIG_DEV_LOGIN_FORCE anywhere */
    char *oidc_issuer, *oidc_key, *oidc_client_id, *oidc_authorization_endpoint;
    char *tls_cert, *tls_key;
    unsigned tls_handshake_timeout_ms; /* a TLS handshake must finish within this */
    /* connection and request limits (http/server) */
    unsigned max_connections;    /* open client connections per process; beyond it new ones are closed at once */
    unsigned h2_max_streams;     /* HTTP/2 requests of one connection processed at once; the rest wait */
    unsigned h2_max_resets;      /* HTTP/2 streams a connection may abandon per second before GOAWAY (0 = no limit) */
    unsigned max_body_bytes;     /* request body limit (413 beyond) */
    unsigned request_timeout_ms; /* HTTP/1.1: a whole request must arrive within this (slowloris, keep-alive idle) */
    unsigned idle_timeout_ms;    /* HTTP/2: a connection without a request in progress is closed after this */
    config_log_level_t log_level;
    int access_log; /* 1 = one JSON line per request on stdout */
    unsigned cache_mb;
    char *personal_countries;
    unsigned shutdown_timeout_ms; /* how long in-flight requests may take after SIGTERM */
    int rate_limit;               /* 0 = no rate limiting at all */
    config_rate_t rate_open, rate_download, rate_personal, rate_oauth, rate_feedback, rate_register, rate_service;
    unsigned rate_client_factor; /* a verified client id's buckets hold this many times the address quota */
    unsigned rate_sync_ms;       /* buckets reconciled through PostgreSQL this often; 0 = per worker thread only */
} config_t;

typedef enum config_result {
    CONFIG_OK = 0,
    CONFIG_HELP,      /* --help was given: caller prints config_print_help and exits 0 */
    CONFIG_ERR_USAGE, /* unknown flag or missing value: err says which */
    CONFIG_ERR_VALUE  /* a setting has a bad value: err names the setting and what was expected */
} config_result_t;

/* Fills cfg from the defaults, then the environment (`getenv`), then argv (flags as `--name value` or `--name=value`).
 * Strings in cfg are heap copies owned by cfg (config_free releases them). Without KLIMA_ISSUER, cfg->issuer is
 * "http(s)://HOST:PORT" of the first listen address (a wildcard or empty host as localhost). On failure writes a one-line
 * message to err. */
config_result_t config_load(config_t *cfg, int argc, char **argv, char *err, size_t errlen);

/* Releases the strings owned by cfg. */
void config_free(config_t *cfg);

/* Writes the list of settings (flag, variable, default, meaning) to out. */
void config_print_help(FILE *out);

#endif
