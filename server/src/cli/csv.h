/*
 * cli/csv — a streaming reader of the CSV files the admin commands load (RFC 4180: comma-separated, optional double
 * quotes, "" for a quote inside them, CRLF or LF). A line break inside quotes is refused, so record N is always line N;
 * a record is at most CLI_CSV_MAX_RECORD bytes in CLI_CSV_MAX_FIELDS fields. Reads a file descriptor through a caller's
 * buffer (constant memory whatever the file's length) or a text in memory (the fuzzer).
 */
#ifndef KLIMA_CLI_CSV_H
#define KLIMA_CLI_CSV_H

#include <stddef.h>
#include <stdint.h>

#define CLI_CSV_MAX_RECORD 4096
#define CLI_CSV_MAX_FIELDS 32

typedef struct cli_csv {
    int fd; /* -1: the text in buf is all there is */
    char *buf;
    size_t pos, len, cap;
    int eof;
    uint64_t bytes; /* read so far, for progress */
    char delim;     /* the field separator; 0 = ',' (set after opening, e.g. ';' for Danish spreadsheet exports) */
} cli_csv_t;

/* One record: field i is data + off[i], len[i] bytes, NUL-terminated. */
typedef struct cli_csv_record {
    char data[CLI_CSV_MAX_RECORD + CLI_CSV_MAX_FIELDS];
    size_t off[CLI_CSV_MAX_FIELDS + 1];
    size_t len[CLI_CSV_MAX_FIELDS];
    int nf;
} cli_csv_record_t;

/* A reader of fd through buf (cap bytes; the caller owns both). */
void cli_csv_open(cli_csv_t *r, int fd, char *buf, size_t cap);

/* A reader of data[0..len) (not copied; it must outlive the reader; read only: pos moves, the bytes stay). */
static inline void cli_csv_memory(cli_csv_t *r, const char *data, size_t len)
{
    *r = (cli_csv_t){.fd = -1, .buf = (char *)data, .len = len, .cap = len, .eof = 1, .bytes = len};
}

/* Reads the next record. Returns 1, 0 at the end of the input (no record), or -1 with *why set (a static string). */
int cli_csv_next(cli_csv_t *r, cli_csv_record_t *rec, const char **why);

#endif
