/* libFuzzer: the CSV reader and row validation of `klimaspejl ingest` (cli_ingest_check: the same reader, header and
 * record checks and per-kind validation the command runs, without the database) on arbitrary bytes, for each of the
 * four kinds. The first input byte picks the kind; the rest is the file. Whatever the input: no crash, no read or write
 * out of bounds, no leak; a refused file names its line (within the file) and a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ingest.h"

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
