/*
 * cli/source — the real data sources' native formats (issue 18), shared by `klimaspejl ingest eds-co2|eloverblik` and
 * `klimaspejl fetch eds`: Energi Data Service's CO2Emis/CO2EmisProg (JSON as the API and the portal give it, or the
 * portal's CSV download) and Eloverblik's MyEnergyData_MarketDocument (JSON). Each record is checked in C and sent with
 * COPY into a temporary table of the load's transaction; a SQL function (core.eds_load, core.eloverblik_load) then
 * applies the file as a whole. Every error names the record by its JSON path ("$.records[12].CO2Emission") or CSV line.
 */
#ifndef KLIMA_CLI_SOURCE_H
#define KLIMA_CLI_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "cli/bulk.h"

/* A load of one source in one transaction: the connection, the COPY into the staging table and why it failed. */
typedef struct cli_source_load {
    PGconn *conn;
    cli_bulk_t bulk;
    uint64_t ord; /* records staged so far */
    int committed;
    char path[256]; /* the record (or field) at fault */
    char why[512];  /* the reason */
} cli_source_load_t;

/* Connects (KLIMA_DB_ADMIN_URL), begins the transaction, creates the staging table of kind ("eds" or "eloverblik") and
 * starts its COPY. Returns 0, or -1 with why set. */
int cli_source_begin(cli_source_load_t *l, const char *kind);

/* Ends the COPY, runs sql with params (the load function) and commits. On success the result's first row is copied to
 * out (tab-separated, for the summary). Returns 0, or -1 with path and why set (a database error's DETAIL is its path). */
int cli_source_finish(cli_source_load_t *l, const char *sql, int nparams, const char *const *params, char *out, size_t outlen);

/* Rolls back (if begun) and closes the connection. */
void cli_source_end(cli_source_load_t *l);

/* Energi Data Service: which dataset a document or file holds. Returns "CO2Emis", "CO2EmisProg" or NULL. */
const char *cli_eds_dataset_named(const char *name);

/* Stages the records of an Energi Data Service JSON document ({"records":[{Minutes5UTC, Minutes5DK, PriceArea,
 * CO2Emission}, …]}); paths start with prefix (e.g. "" or "page 2: "). *records gets the number staged. Returns 0, or -1
 * with l->path and l->why set. */
int cli_eds_stage_json(cli_source_load_t *l, json_t *doc, const char *prefix, size_t *records);

/* Stages the records of the portal's CSV download (data[0..len)): header Minutes5UTC,Minutes5DK,PriceArea,CO2Emission
 * separated by ';' with decimal commas (the Danish download) or by ',' with decimal points. Returns 0 or -1. */
int cli_eds_stage_csv(cli_source_load_t *l, const char *data, size_t len, size_t *records);

/* Stages Eloverblik's MyEnergyData_MarketDocument answer ({"result":[{"MyEnergyData_MarketDocument":{…}}]}): one staged
 * row per point (metering point, UTC start, Wh, quality, resolution). Returns 0 or -1. */
int cli_eloverblik_stage_json(cli_source_load_t *l, json_t *doc, size_t *points);

/* `klimaspejl ingest eds-co2 FILE [--dataset D]` and `klimaspejl ingest eloverblik FILE --household ID`: argv[0] is the
 * kind. Returns a CLI_EXIT_* code after printing the summary or `FILE: PATH: reason`. */
int cli_ingest_source_main(int argc, char **argv);

/* `klimaspejl fetch eds --from DATE --to DATE [--base URL]`. */
int cli_fetch_main(int argc, char **argv);

#endif
