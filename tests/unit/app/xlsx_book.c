/* app/xlsx_book: the CSV fields of PostgreSQL's COPY as the writer reads them (quotes, NULL against the empty string,
 * newlines inside quotes, malformed rows), Excel date serials, and a workbook written twice from the same rows: a zip,
 * the same bytes both times (one release, one strong ETag), the row limit and the last row kept for a cursor. */
#include <stdlib.h>

#include "app/xlsx_book.c"
#include "../test.h"

static void fields(void)
{
    char row[] = "1,\"a \"\"b\"\"\",,\"\",\"x\ny\"\n";
    char *p = row, *end = row + strlen(row);
    field_t f[5];
    int eol = 0;

    for (int i = 0; i < 5; ++i) {
        CHECK_INT(csv_field(&p, end, &f[i], &eol), 0);
        CHECK_INT(eol, i == 4);
    }
    CHECK_STR(f[0].s, "1");
    CHECK_INT(f[0].null, 0);
    CHECK_STR(f[1].s, "a \"b\"");
    CHECK_INT(f[2].null, 1); /* unquoted empty: NULL */
    CHECK_INT(f[3].null, 0); /* quoted empty: the empty string */
    CHECK_INT((int)f[3].len, 0);
    CHECK_STR(f[4].s, "x\ny");
    CHECK(p == end);

    char bad[] = "\"open\n";
    p = bad;
    CHECK_INT(csv_field(&p, bad + strlen(bad), &f[0], &eol), -1);
    char junk[] = "\"a\"b,\n";
    p = junk;
    CHECK_INT(csv_field(&p, junk + strlen(junk), &f[0], &eol), -1);
}

static void serials(void)
{
    double v = 0;
    double day = (double)time_days_from_civil(2025, 10, 28) + 25569.0;

    CHECK_INT(excel_serial("2025-10-28", 10, &v), 0);
    CHECK(v == day);
    CHECK_INT((long long)day, 45958); /* Excel's own serial of 2025-10-28 */
    CHECK_INT(excel_serial("2025-10-28T01:30:00Z", 20, &v), 0);
    CHECK(v == day + 5400 / 86400.0);
    CHECK_INT(excel_serial("2025-10-28 01:30:00+00", 22, &v), 0);
    CHECK(v == day + 5400 / 86400.0);
    CHECK_INT(excel_serial("2025-02-30", 10, &v), -1);
    CHECK_INT(excel_serial("soon", 4, &v), -1);
}

/* Writes rows into a workbook of book and returns its bytes (malloc'd, *len). */
static char *workbook(const app_xlsx_book_t *book, const char *rows, size_t *len, int *more, char *last, size_t lastlen)
{
    app_xlsx_writer_t *w = app_xlsx_writer_new(book);
    char *copy = malloc(strlen(rows) + 1), *out = NULL;
    size_t cap = 0;
    ssize_t n;

    *len = 0;
    memcpy(copy, rows, strlen(rows) + 1);
    CHECK(w != NULL);
    CHECK_INT(app_xlsx_writer_open(w), 0);
    CHECK_INT(app_xlsx_writer_rows(w, copy, strlen(rows)), 0);
    *more = app_xlsx_writer_more(w);
    str_fmt(last, lastlen, "%s|%s", app_xlsx_writer_last_field(w, 0) ? app_xlsx_writer_last_field(w, 0) : "NULL",
            app_xlsx_writer_last_field(w, 1) ? app_xlsx_writer_last_field(w, 1) : "NULL");
    CHECK_INT(app_xlsx_writer_close(w), 0);
    do {
        if (*len + 65536 > cap)
            out = realloc(out, cap = *len + 65536);
        n = app_xlsx_writer_read(w, out + *len, 65536);
        *len += n > 0 ? (size_t)n : 0;
    } while (n > 0);
    CHECK_INT(n, 0);
    app_xlsx_writer_free(w);
    free(copy);
    return out;
}

static void books(void)
{
    const app_xlsx_column_t cols[] = {{.name = "district", .type = COL_STRING, .scale = -1},
                                      {.name = "kg", .type = COL_NUMBER, .scale = 3, .unit = "kg"},
                                      {.name = "day", .type = COL_DATE, .scale = -1}};
    app_xlsx_book_t book = {
        .dataset = "test", .licence = "CC-BY-4.0", .version = "7", .created = 1764547200, .cols = cols, .ncols = 3, .row_limit = 2};
    const char *rows = "Nørrebro,1.441,2025-10-28\n\"Indre By\",,2025-10-29\nValby,0.761,2025-10-30\n";
    size_t a_len, b_len;
    int more;
    char last[64];
    char *a = workbook(&book, rows, &a_len, &more, last, sizeof(last));
    char *b = workbook(&book, rows, &b_len, &more, last, sizeof(last));

    CHECK(a_len > 1000);
    CHECK(a != NULL && memcmp(a, "PK\x03\x04", 4) == 0);
    CHECK_INT(a_len, b_len);
    CHECK(a != NULL && b != NULL && a_len == b_len && memcmp(a, b, a_len) == 0); /* the same bytes */
    CHECK_INT(more, 1);                                                          /* Valby is beyond the limit */
    CHECK_STR(last, "Indre By|NULL");
    free(a);
    free(b);

    char wrong[] = "only,two\n";
    app_xlsx_writer_t *w = app_xlsx_writer_new(&book);
    CHECK_INT(app_xlsx_writer_open(w), 0);
    CHECK_INT(app_xlsx_writer_rows(w, wrong, strlen(wrong)), -1);
    CHECK(strstr(app_xlsx_writer_error(w), "fields") != NULL);
    app_xlsx_writer_free(w);
}

int main(void)
{
    fields();
    serials();
    books();
    return TEST_DONE();
}
