/* cli/csv: records, quotes, line ends, and every malformed input refused with its reason. */
#include "cli/csv.h"
#include "../test.h"

/* Reads text; returns the fields of each record as "a|b;c|d;" or "error: why". */
static const char *read_all(const char *text)
{
    static char out[1024];
    static cli_csv_record_t rec;
    cli_csv_t r;
    const char *why = NULL;
    size_t used = 0;
    int n;

    cli_csv_memory(&r, text, strlen(text));
    out[0] = '\0';
    while ((n = cli_csv_next(&r, &rec, &why)) == 1) {
        for (int i = 0; i < rec.nf; ++i)
            used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? "|" : "", rec.data + rec.off[i]);
        used += (size_t)snprintf(out + used, sizeof(out) - used, ";");
    }
    if (n < 0)
        snprintf(out, sizeof(out), "error: %s", why);
    return out;
}

int main(void)
{
    char big[CLI_CSV_MAX_RECORD + 10];

    CHECK_STR(read_all("a,b\n1,2\n"), "a|b;1|2;");
    CHECK_STR(read_all("a,b\r\n1,2"), "a|b;1|2;"); /* CRLF, and no line break at the end */
    CHECK_STR(read_all("\"a,1\",\"say \"\"hi\"\"\",\n"), "a,1|say \"hi\"|;");
    CHECK_STR(read_all(""), "");
    CHECK_STR(read_all("a\r1\n"), "error: carriage return not followed by a line feed");
    CHECK_STR(read_all("\"a\nb\"\n"), "error: line break inside a quoted field (not allowed in these formats)");
    CHECK_STR(read_all("\"ab\n"), "error: line break inside a quoted field (not allowed in these formats)");
    CHECK_STR(read_all("\"ab"), "error: unterminated quoted field");
    CHECK_STR(read_all("a\"b\n"), "error: quote character inside an unquoted field");
    CHECK_STR(read_all("\"a\"b\n"), "error: text after a closing quote");
    CHECK_STR(read_all("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n"),
              "error: too many fields");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_STR(read_all(big), "error: line longer than 4096 bytes");
    return TEST_DONE();
}
