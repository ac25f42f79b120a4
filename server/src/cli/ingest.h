/*
 * cli/ingest — `klimaspejl ingest households|energy|waste|mobility FILE.csv`: the kinds of file and what a load keeps
 * while it runs. The field checks and COPY lines of each kind are in cli/ingest_rows.c, the command in cli/ingest.c.
 */
#ifndef KLIMA_CLI_INGEST_H
#define KLIMA_CLI_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "cli/bulk.h"
#include "cli/csv.h"

typedef struct ingest_ctx ingest_ctx_t;

/* One kind of file: its header, its COPY, and how a record becomes a COPY line. */
typedef struct ingest_kind {
    const char *name;
    const char *header;
    const char *copy_sql;
    int nfields;
    int needs_household; /* the first field must be a known household */
    /* Validates rec and writes its COPY line at out (room for CLI_CSV_MAX_RECORD + 64 bytes); returns the end, or NULL
     * with *why set. */
    char *(*emit)(ingest_ctx_t *ctx, const cli_csv_record_t *rec, char *out, const char **why);
} ingest_kind_t;

/* The kinds, ended by an entry whose name is NULL. */
extern const ingest_kind_t ingest_kinds[];

struct ingest_ctx {
    const ingest_kind_t *kind;
    PGconn *conn;
    cli_bulk_t bulk;
    uint64_t segment_first_line; /* file line of COPY line 1 */
    char district_names[16][64];
    int n_districts;
    int district_ids[16];
    uint8_t (*households)[16]; /* sorted */
    size_t n_households;
    uint8_t last_ok[16];
    int have_last_ok;
    uint64_t months_known[2048 / 64]; /* bit per month since 1970-01 (years 1970-2140) */
    char new_month[32];               /* set by the energy kind when a row opens a month not seen before */
    char why_buf[160];
};

/* 8-4-4-4-12 hex digits s[0..len) as 16 bytes; 0, or -1 when it is no uuid. */
int ingest_parse_uuid(const char *s, size_t len, uint8_t out[16]);

#endif
