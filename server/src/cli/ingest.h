/*
 * cli/ingest — the CSV parser and row validation of `klimaspejl ingest`, callable on text in memory (for the fuzzer).
 */
#ifndef KLIMA_CLI_INGEST_H
#define KLIMA_CLI_INGEST_H

#include <stddef.h>
#include <stdint.h>

/* Parses CSV text of kind (households, energy, waste, mobility) exactly as `klimaspejl ingest` parses a file — the
 * same reader, header check, record checks and per-kind validation and COPY-line building — without a database:
 * districts (NULL-terminated names, ids 1..n, at most 16) stand in for core.districts, and household ids are checked
 * for syntax only. Returns the number of data rows; -1 with *line (1 = the header) and *why (valid until the next
 * call on this thread) at the first bad record; -2 for an unknown kind. */
int64_t cli_ingest_check(const char *kind, const char *data, size_t len, const char *const *districts, uint64_t *line,
                         const char **why);

#endif
