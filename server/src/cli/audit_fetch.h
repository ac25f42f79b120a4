/*
 * audit_fetch — where `klimaspejl audit` gets a release: the public HTTP API (libcurl), optionally stored in a
 * directory (--save), or such a directory (--previous). It reads the catalog, each dataset's disclosure control and
 * derived_from links, the CSV download of every modelled household dataset, the grid intensity and the emission
 * factors into an audit_release_t (cli/audit_model.h).
 */
#ifndef KLIMA_AUDIT_FETCH_H
#define KLIMA_AUDIT_FETCH_H

#include <stddef.h>

#include <curl/curl.h>

#include "cli/audit_model.h"

/* Where a release comes from: the server (and optionally a directory to store it in) or a stored directory. */
typedef struct audit_source {
    CURL *curl;
    const char *base;     /* the server's base URL, without a trailing slash */
    const char *save_dir; /* or NULL */
    const char *load_dir; /* a directory stored with --save: read instead of the server */
    char version[32];     /* the last response's X-Dataset-Version ("" when absent, or read from a directory) */
} audit_source_t;

/* A catalog link (derived_from) the audit does not model. */
typedef struct audit_link_issue {
    char dataset[64], source[64];
} audit_link_issue_t;

/* A release as read. */
typedef struct audit_loaded {
    audit_release_t *rel; /* owned: audit_release_free */
    double p_pct;         /* largest p_pct published (0: none) */
    int noise_on[2];      /* modelled datasets published without [0] and with [1] cell-key noise */
    int existence_on[2];  /* ... without [0] and with [1] the existence rule */
    audit_link_issue_t issues[64];
    size_t nissues;
    char unmodelled[16][64]; /* personal datasets the audit does not model */
    size_t nunmodelled;
} audit_loaded_t;

/* Reads a whole release from s into L (L->rel is created; the caller frees it also on failure). Returns 0, or -1 with
 * the reason on stderr (unreachable server, HTTP error, malformed catalog or CSV, out of memory). */
int audit_load_release(audit_source_t *s, audit_loaded_t *L);

#endif
