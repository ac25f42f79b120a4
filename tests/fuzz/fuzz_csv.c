/* libFuzzer: the CSV reader and row validation of `klimaspejl ingest` (cli_ingest_check: the same reader, header and
 * record checks and per-kind validation the command runs, without the database) on arbitrary bytes, for each of the
 * four kinds. The first input byte picks the kind; the rest is the file. Whatever the input: no crash, no read or write
 * out of bounds, no leak; a refused file names its line (within the file) and a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ingest.c" /* the command's statics: kind_named, check_header, check_record */

/* Parses CSV text of kind (households, energy, waste, mobility) exactly as `klimaspejl ingest` parses a file — the same
 * reader, header check, record checks and per-kind validation and COPY-line building — without a database: districts
 * (NULL-terminated names, ids 1..n, at most 16) stand in for core.districts, and household ids are checked for syntax
 * only. Returns the number of data rows; -1 with *line (1 = the header) and *why (valid until the next call on this
 * thread) at the first bad record; -2 for an unknown kind. */
static int64_t cli_ingest_check(const char *kind_name, const char *data, size_t len, const char *const *districts, uint64_t *line,
                                const char **why)
{
    static __thread char why_copy[160];
    cli_csv_t rd;
    const ingest_kind_t *kind = kind_named(kind_name);
    ingest_ctx_t *ctx;
    cli_csv_record_t *rec;
    char *row;
    int64_t rows = -1;
    int r;

    cli_csv_memory(&rd, data, len);
    *line = 0;
    *why = NULL;
    if (kind == NULL) {
        *why = "unknown kind";
        return -2;
    }
    ctx = calloc(1, sizeof *ctx);
    rec = malloc(sizeof *rec);
    row = malloc(CLI_CSV_MAX_RECORD + 128);
    if (ctx == NULL || rec == NULL || row == NULL) {
        *why = "out of memory";
        goto out;
    }
    ctx->kind = kind;
    for (int i = 0; districts != NULL && districts[i] != NULL && i < 16; ++i) {
        str_fmt(ctx->district_names[i], sizeof ctx->district_names[i], "%s", districts[i]);
        ctx->district_ids[i] = i + 1;
        ctx->n_districts = i + 1;
    }
    r = cli_csv_next(&rd, rec, why);
    *line = 1;
    if (r == 0)
        *why = "empty file: expected the header line";
    if (r != 1 || check_header(ctx, rec, why) != 0)
        goto out;
    for (rows = 0;;) {
        uint8_t id[16];
        r = cli_csv_next(&rd, rec, why);
        if (r == 0)
            break;
        ++*line;
        if (r < 0 || check_record(ctx, rec, id, why) != 0 || kind->emit(ctx, rec, row, why) == NULL) {
            rows = -1;
            break;
        }
        ++rows;
    }
out:
    if (rows < 0 && *why != NULL && ctx != NULL && *why == ctx->why_buf) {
        /* the reason outlives ctx */
        str_fmt(why_copy, sizeof why_copy, "%s", ctx->why_buf);
        *why = why_copy;
    }
    free(row);
    free(rec);
    free(ctx);
    return rows;
}

static const char *const districts[] = {"Indre By", "Østerbro", "Nørrebro", "Vesterbro/Kongens Enghave", "Amager Øst", NULL};
static const char *const kinds[] = {"households", "energy", "waste", "mobility"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t line;
    const char *why;
    char *copy;
    int64_t rows;

    if (size < 1 || size > 65536)
        return 0;
    /* an exact-size heap copy, so ASan catches a read past the end of the text */
    copy = malloc(size - 1 > 0 ? size - 1 : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, size - 1);
    rows = cli_ingest_check(kinds[data[0] % 4], copy, size - 1, districts, &line, &why);
    if (rows == -2)
        __builtin_trap();
    if (rows < 0) {
        size_t newlines = 0;
        for (size_t i = 0; i + 1 < size; ++i)
            newlines += copy[i] == '\n';
        if (why == NULL || why[0] == '\0' || line < 1 || line > newlines + 1)
            __builtin_trap();
    } else if ((uint64_t)rows + 1 != line) {
        __builtin_trap(); /* every line after the header is one row */
    }
    free(copy);
    return 0;
}
