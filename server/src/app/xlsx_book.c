/*
 * app/xlsx_book — the workbook of app/xlsx: the book's copy, the sheets, the cells of each CSV row, the output file.
 * Runs on the writer thread (app_xlsx_writer_new excepted); see app/xlsx.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "app/xlsx.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"

#define XLSX_MAX_SCALE 12
#define XLSX_EXCEL_EPOCH_DAYS 25569.0             /* 1970-01-01 as an Excel date serial (days since 1899-12-30) */
#define XLSX_MAX_EXACT_INTEGER 9007199254740992.0 /* 2^53: larger whole numbers are kept as text, digit for digit */
#define XLSX_MAX_COLS 64
#define XLSX_PROPERTY_MAX 255 /* bytes; Excel counts characters, so a shorter limit never passes one that is too long */

struct app_xlsx_writer {
    app_xlsx_book_t book; /* deep copy: strings in `strings` */
    sbuf_t strings;
    app_xlsx_column_t *cols;
    lxw_workbook *wb;
    lxw_worksheet *data; /* the sheet rows go to now */
    unsigned sheet_no;
    lxw_row_t row; /* the next row of `data` */
    lxw_format *header, *date, *datetime, *scale[XLSX_MAX_SCALE + 1];
    uint64_t rows; /* rows seen (written or beyond the limit) */
    int more;
    sbuf_t last;    /* the last written row's fields, each NUL-terminated (row_limit only) */
    long *last_at;  /* offset of each field in `last`, -1 for NULL */
    int fd;         /* the output file */
    char path[512]; /* the name libxlsxwriter opens: /proc/self/fd/N, or a real name while /proc is missing */
    int named;      /* path is a real name, unlinked once the workbook is closed */
    off_t read_at;
    char error[256];
};

/* --- the book ------------------------------------------------------------------------------------------------------ */

/* Offsets into x->strings of a copied string (+1; 0 stands for NULL), turned into pointers once the buffer is final. */
static uintptr_t keep(app_xlsx_writer_t *x, const char *s)
{
    size_t at = x->strings.len;
    if (s == NULL)
        return 0;
    sbuf_append(&x->strings, s, strlen(s) + 1);
    return at + 1;
}

static const char *kept(const app_xlsx_writer_t *x, uintptr_t at)
{
    return at == 0 || x->strings.data == NULL ? NULL : x->strings.data + at - 1;
}

/* Copies book and its columns into x (one buffer of strings). Returns 0, or -1 out of memory. */
static int copy_book(app_xlsx_writer_t *x, const app_xlsx_book_t *b)
{
    const char *const *src[] = {&b->dataset,  &b->title_en,    &b->title_da, &b->description, &b->publisher,
                                &b->licence,  &b->licence_url, &b->version,  &b->released,    &b->source_url,
                                &b->citation, &b->keywords,    &b->note};
    const char **dst[] = {&x->book.dataset,  &x->book.title_en,    &x->book.title_da, &x->book.description, &x->book.publisher,
                          &x->book.licence,  &x->book.licence_url, &x->book.version,  &x->book.released,    &x->book.source_url,
                          &x->book.citation, &x->book.keywords,    &x->book.note};
    enum { NSTR = sizeof(src) / sizeof(src[0]) };
    uintptr_t at[NSTR], col_at[4 * XLSX_MAX_COLS];

    if (b->ncols == 0 || b->ncols > XLSX_MAX_COLS || (x->cols = calloc(b->ncols, sizeof(*x->cols))) == NULL ||
        (x->last_at = calloc(b->ncols, sizeof(*x->last_at))) == NULL)
        return -1;
    x->strings = SBUF_INIT(SBUF_CAP_TEXT);
    for (size_t i = 0; i < NSTR; ++i)
        at[i] = keep(x, *src[i]);
    for (size_t c = 0; c < b->ncols; ++c) {
        col_at[4 * c] = keep(x, b->cols[c].name);
        col_at[4 * c + 1] = keep(x, b->cols[c].unit);
        col_at[4 * c + 2] = keep(x, b->cols[c].description_en);
        col_at[4 * c + 3] = keep(x, b->cols[c].description_da);
    }
    if (sbuf_failed(&x->strings))
        return -1;
    x->book = *b;
    for (size_t i = 0; i < NSTR; ++i)
        *dst[i] = kept(x, at[i]);
    for (size_t c = 0; c < b->ncols; ++c) {
        x->cols[c] = b->cols[c];
        x->cols[c].name = kept(x, col_at[4 * c]);
        x->cols[c].unit = kept(x, col_at[4 * c + 1]);
        x->cols[c].description_en = kept(x, col_at[4 * c + 2]);
        x->cols[c].description_da = kept(x, col_at[4 * c + 3]);
        if (x->cols[c].name == NULL)
            return -1;
    }
    x->book.cols = x->cols;
    return 0;
}

/* --- the workbook -------------------------------------------------------------------------------------------------- */

static const char *type_name(app_col_type_t t)
{
    static const char *const names[] = {[COL_STRING] = "string",   [COL_INTEGER] = "integer", [COL_NUMBER] = "number",
                                        [COL_BOOLEAN] = "boolean", [COL_DATE] = "date",       [COL_DATETIME] = "datetime"};
    return (size_t)t < sizeof(names) / sizeof(names[0]) && names[t] != NULL ? names[t] : "string";
}

static int fail(app_xlsx_writer_t *x, const char *what, lxw_error err)
{
    if (x->error[0] == '\0')
        str_fmt(x->error, sizeof(x->error), "%s: %s", what, err != LXW_NO_ERROR ? lxw_strerror(err) : strerror(errno));
    return -1;
}

/* Keeps the first error of a sequence of calls (the rest are reported the same way or not at all). */
static void first_error(lxw_error *first, lxw_error e)
{
    if (*first == LXW_NO_ERROR)
        *first = e;
}

/* The number format of a column: its declared decimals ("0.000"), a whole number ("0"), or General. */
static lxw_format *number_format(app_xlsx_writer_t *x, const app_xlsx_column_t *c)
{
    int s = c->type == COL_INTEGER ? 0 : c->scale;
    char code[XLSX_MAX_SCALE + 3] = "0";

    if (s < 0)
        return NULL;
    if (s > XLSX_MAX_SCALE)
        s = XLSX_MAX_SCALE;
    if (x->scale[s] == NULL) {
        if (s > 0) {
            code[1] = '.';
            memset(code + 2, '0', (size_t)s);
            code[2 + s] = '\0';
        }
        x->scale[s] = workbook_add_format(x->wb);
        format_set_num_format(x->scale[s], code);
    }
    return x->scale[s];
}

/* A new data sheet ("data", then "data 2", ...) with the column names in its first row. */
static int data_sheet(app_xlsx_writer_t *x)
{
    char name[32];
    lxw_error err = LXW_NO_ERROR;

    if (++x->sheet_no == 1)
        str_fmt(name, sizeof(name), "data");
    else
        str_fmt(name, sizeof(name), "data %u", x->sheet_no);
    if ((x->data = workbook_add_worksheet(x->wb, name)) == NULL)
        return fail(x, "adding a sheet", LXW_ERROR_MEMORY_MALLOC_FAILED);
    for (size_t c = 0; c < x->book.ncols && err == LXW_NO_ERROR; ++c) {
        const app_xlsx_column_t *col = &x->cols[c];
        double width = col->type == COL_DATETIME ? 20 : col->type == COL_DATE ? 12 : 14;
        if (strlen(col->name) + 2 > width)
            width = (double)strlen(col->name) + 2;
        worksheet_set_column(x->data, (lxw_col_t)c, (lxw_col_t)c, width, NULL);
        err = worksheet_write_string(x->data, 0, (lxw_col_t)c, col->name, x->header);
    }
    worksheet_freeze_panes(x->data, 1, 0);
    x->row = 1;
    return err == LXW_NO_ERROR ? 0 : fail(x, "writing the header", err);
}

/* The "fields" sheet: what each column is. */
static int fields_sheet(app_xlsx_writer_t *x)
{
    static const char *const head[] = {"name", "type", "unit", "decimals", "description", "beskrivelse"};
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, "fields");
    lxw_error err = LXW_NO_ERROR;

    if (ws == NULL)
        return fail(x, "adding a sheet", LXW_ERROR_MEMORY_MALLOC_FAILED);
    worksheet_set_column(ws, 0, 0, 26, NULL);
    worksheet_set_column(ws, 4, 5, 60, NULL);
    for (lxw_col_t c = 0; c < 6; ++c)
        first_error(&err, worksheet_write_string(ws, 0, c, head[c], x->header));
    for (size_t i = 0; i < x->book.ncols; ++i) {
        const app_xlsx_column_t *col = &x->cols[i];
        lxw_row_t r = (lxw_row_t)i + 1;
        first_error(&err, worksheet_write_string(ws, r, 0, col->name, NULL));
        first_error(&err, worksheet_write_string(ws, r, 1, type_name(col->type), NULL));
        if (col->unit != NULL)
            first_error(&err, worksheet_write_string(ws, r, 2, col->unit, NULL));
        if ((col->type == COL_NUMBER && col->scale >= 0) || col->type == COL_INTEGER)
            first_error(&err, worksheet_write_number(ws, r, 3, col->type == COL_INTEGER ? 0 : col->scale, NULL));
        if (col->description_en != NULL)
            first_error(&err, worksheet_write_string(ws, r, 4, col->description_en, NULL));
        if (col->description_da != NULL)
            first_error(&err, worksheet_write_string(ws, r, 5, col->description_da, NULL));
    }
    worksheet_freeze_panes(ws, 1, 0);
    return err == LXW_NO_ERROR ? 0 : fail(x, "writing the fields sheet", err);
}

/* The "about" sheet and the document properties: what the workbook is, its licence and where it came from. */
static int about_sheet(app_xlsx_writer_t *x)
{
    const app_xlsx_book_t *b = &x->book;
    const struct {
        const char *key, *value;
    } rows[] = {{"dataset", b->dataset},         {"title", b->title_en},      {"titel", b->title_da},
                {"description", b->description}, {"publisher", b->publisher}, {"licence", b->licence},
                {"licence URL", b->licence_url}, {"version", b->version},     {"released", b->released},
                {"source URL", b->source_url},   {"cite as", b->citation},    {"note", b->note}};
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, "about");
    lxw_doc_properties props = {0};
    char comments[2048];
    lxw_error err = LXW_NO_ERROR;
    lxw_row_t r = 0;

    if (ws == NULL)
        return fail(x, "adding a sheet", LXW_ERROR_MEMORY_MALLOC_FAILED);
    worksheet_set_column(ws, 0, 0, 14, NULL);
    worksheet_set_column(ws, 1, 1, 100, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        if (rows[i].value == NULL)
            continue;
        first_error(&err, worksheet_write_string(ws, r, 0, rows[i].key, x->header));
        first_error(&err, worksheet_write_string(ws, r++, 1, rows[i].value, NULL));
    }
    str_fmt(comments, sizeof(comments), "Licence: %s (%s). Dataset %s, version %s, released %s. Source: %s. Cite as: %s",
            b->licence ? b->licence : "-", b->licence_url ? b->licence_url : "-", b->dataset ? b->dataset : "-",
            b->version ? b->version : "-", b->released ? b->released : "-", b->source_url ? b->source_url : "-",
            b->citation ? b->citation : "-");
    props.title = (char *)b->title_en;
    props.subject = (char *)b->description;
    props.author = (char *)b->publisher;
    props.company = (char *)b->publisher;
    props.category = (char *)"Open data";
    props.keywords = (char *)b->keywords;
    props.comments = comments;
    props.status = (char *)b->note;
    props.hyperlink_base = (char *)b->source_url;
    props.created = b->created;
    first_error(&err, workbook_set_properties(x->wb, &props));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        /* a document property holds at most 255 characters (a records page's URL with its cursor can be longer): such
         * a value is in the about sheet only */
        if (rows[i].value != NULL && strlen(rows[i].value) <= XLSX_PROPERTY_MAX && strcmp(rows[i].key, "titel") != 0 &&
            strcmp(rows[i].key, "description") != 0)
            first_error(&err, workbook_set_custom_property_string(x->wb, rows[i].key, rows[i].value));
    }
    return err == LXW_NO_ERROR ? 0 : fail(x, "writing the about sheet", err);
}

int app_xlsx_writer_open(app_xlsx_writer_t *x)
{
    const char *dir = getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp";
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = (char *)dir};
    int proc = access("/proc/self/fd", X_OK) == 0;

    x->fd = proc ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
    if (x->fd < 0) {
        str_fmt(x->path, sizeof(x->path), "%s/klimaspejl-xlsx-XXXXXX", dir);
        if ((x->fd = mkostemp(x->path, O_CLOEXEC)) < 0)
            return fail(x, "creating a temporary file", LXW_NO_ERROR);
        x->named = !proc;
        if (proc)
            unlink(x->path);
    }
    if (!x->named)
        str_fmt(x->path, sizeof(x->path), "/proc/self/fd/%d", x->fd);
    if ((x->wb = workbook_new_opt(x->path, &opts)) == NULL)
        return fail(x, "creating the workbook", LXW_ERROR_MEMORY_MALLOC_FAILED);
    x->header = workbook_add_format(x->wb);
    format_set_bold(x->header);
    x->date = workbook_add_format(x->wb);
    format_set_num_format(x->date, "yyyy-mm-dd");
    x->datetime = workbook_add_format(x->wb);
    format_set_num_format(x->datetime, "yyyy-mm-dd hh:mm:ss");
    if (data_sheet(x) != 0 || fields_sheet(x) != 0 || about_sheet(x) != 0)
        return -1;
    return 0;
}

/* --- rows ---------------------------------------------------------------------------------------------------------- */

typedef struct field {
    char *s; /* NUL-terminated in the batch */
    size_t len;
    int null;
} field_t;

/* One CSV field of PostgreSQL's COPY at *p (before end): unquoted (empty = NULL) or quoted ("" inside is a quote; an
 * empty quoted field is an empty string). Unescapes and terminates it in place and moves *p past its delimiter; *eol
 * is set when the row ended. Returns 0, or -1 for a malformed field. */
static int csv_field(char **p, char *end, field_t *f, int *eol)
{
    char *r = *p, c;

    if (r < end && *r == '"') {
        char *w = ++r;
        f->s = w;
        for (;;) {
            if (r >= end)
                return -1;
            if (*r == '"' && r + 1 < end && r[1] == '"') {
                *w++ = '"';
                r += 2;
            } else if (*r == '"') {
                ++r;
                break;
            } else {
                *w++ = *r++;
            }
        }
        f->len = (size_t)(w - f->s);
        f->null = 0;
        c = r < end ? *r : '\n';
        *w = '\0';
    } else {
        f->s = r;
        while (r < end && *r != ',' && *r != '\n')
            ++r;
        f->len = (size_t)(r - f->s);
        f->null = f->len == 0;
        c = r < end ? *r : '\n';
        *r = '\0'; /* the batch has a byte beyond end */
    }
    if (c != ',' && c != '\n')
        return -1;
    *eol = c == '\n';
    *p = r < end ? r + 1 : end;
    return 0;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]]..." as an Excel date serial (an offset after it is UTC's: sessions run in UTC, and
 * local columns have none). Returns 0, or -1 when s is no such value. */
static int excel_serial(const char *s, size_t len, double *out)
{
    int64_t days;
    int h = 0, mi = 0, sec = 0;

    if (len < 10 || time_date_parse(s, 10, 1, &days) != 0)
        return -1;
    if (len >= 16 && (s[10] == 'T' || s[10] == ' ')) {
        h = (s[11] - '0') * 10 + (s[12] - '0');
        mi = (s[14] - '0') * 10 + (s[15] - '0');
        if (len >= 19 && s[16] == ':')
            sec = (s[17] - '0') * 10 + (s[18] - '0');
    }
    *out = (double)days + XLSX_EXCEL_EPOCH_DAYS + (h * 3600 + mi * 60 + sec) / 86400.0;
    return 0;
}

/* Writes one cell as what its column is; an empty cell for NULL, NaN and infinities (JSON's null). */
static lxw_error write_cell(app_xlsx_writer_t *x, lxw_col_t c, const field_t *f)
{
    const app_xlsx_column_t *col = &x->cols[c];
    double v;
    char *end;

    if (f->null)
        return LXW_NO_ERROR;
    switch (col->type) {
    case COL_INTEGER:
    case COL_NUMBER:
        v = strtod(f->s, &end);
        if (end == f->s || *end != '\0' || !isfinite(v))
            return f->s[0] == 'N' || f->s[0] == 'I' || f->s[0] == '-' ? LXW_NO_ERROR
                                                                      : worksheet_write_string(x->data, x->row, c, f->s, NULL);
        if (col->type == COL_INTEGER && fabs(v) > XLSX_MAX_EXACT_INTEGER)
            return worksheet_write_string(x->data, x->row, c, f->s, NULL);
        return worksheet_write_number(x->data, x->row, c, v, number_format(x, col));
    case COL_BOOLEAN:
        return worksheet_write_boolean(x->data, x->row, c, f->s[0] == 't', NULL);
    case COL_DATE:
    case COL_DATETIME:
        if (excel_serial(f->s, f->len, &v) != 0)
            return worksheet_write_string(x->data, x->row, c, f->s, NULL);
        return worksheet_write_number(x->data, x->row, c, v, col->type == COL_DATE ? x->date : x->datetime);
    default:
        return worksheet_write_string(x->data, x->row, c, f->s, NULL);
    }
}

/* Keeps the fields of the row just written (for a records page's cursor). */
static void keep_last(app_xlsx_writer_t *x, const field_t *fields)
{
    x->last.len = 0;
    for (size_t c = 0; c < x->book.ncols; ++c) {
        x->last_at[c] = fields[c].null ? -1 : (long)x->last.len;
        if (!fields[c].null)
            sbuf_append(&x->last, fields[c].s, fields[c].len + 1);
    }
}

int app_xlsx_writer_rows(app_xlsx_writer_t *x, char *rows, size_t len)
{
    field_t fields[XLSX_MAX_COLS];
    char *p = rows, *end = rows + len;

    while (p < end) {
        size_t n = 0;
        int eol = 0;
        while (!eol) {
            if (n >= x->book.ncols || csv_field(&p, end, &fields[n], &eol) != 0) {
                str_fmt(x->error, sizeof(x->error), "row %llu of the COPY output is not %zu CSV fields",
                        (unsigned long long)x->rows + 1, x->book.ncols);
                return -1;
            }
            ++n;
        }
        if (n != x->book.ncols) {
            str_fmt(x->error, sizeof(x->error), "row %llu has %zu fields, not %zu", (unsigned long long)x->rows + 1, n,
                    x->book.ncols);
            return -1;
        }
        if (x->book.row_limit != 0 && x->rows >= x->book.row_limit) {
            x->more = 1;
            ++x->rows;
            continue;
        }
        if (x->row >= LXW_ROW_MAX && data_sheet(x) != 0)
            return -1;
        for (size_t c = 0; c < n; ++c) {
            lxw_error err = write_cell(x, (lxw_col_t)c, &fields[c]);
            if (err != LXW_NO_ERROR)
                return fail(x, "writing a cell", err);
        }
        if (x->book.row_limit != 0)
            keep_last(x, fields);
        ++x->row;
        ++x->rows;
    }
    return sbuf_failed(&x->last) ? fail(x, "keeping the last row", LXW_ERROR_MEMORY_MALLOC_FAILED) : 0;
}

int app_xlsx_writer_close(app_xlsx_writer_t *x)
{
    lxw_error err = workbook_close(x->wb);
    x->wb = NULL;
    if (x->named)
        unlink(x->path);
    x->named = 0;
    return err == LXW_NO_ERROR ? 0 : fail(x, "closing the workbook", err);
}

ssize_t app_xlsx_writer_read(app_xlsx_writer_t *x, char *buf, size_t size)
{
    ssize_t n;
    do
        n = pread(x->fd, buf, size, x->read_at);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail(x, "reading the workbook", LXW_NO_ERROR);
    x->read_at += n;
    return n;
}

app_xlsx_writer_t *app_xlsx_writer_new(const app_xlsx_book_t *book)
{
    app_xlsx_writer_t *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    x->fd = -1;
    x->last = SBUF_INIT(SBUF_CAP_VALUE);
    if (copy_book(x, book) != 0) {
        app_xlsx_writer_free(x);
        return NULL;
    }
    return x;
}

int app_xlsx_writer_more(const app_xlsx_writer_t *x)
{
    return x->more;
}

const char *app_xlsx_writer_last_field(const app_xlsx_writer_t *x, size_t col)
{
    if (col >= x->book.ncols || x->last.data == NULL || x->last_at[col] < 0)
        return NULL;
    return x->last.data + x->last_at[col];
}

const char *app_xlsx_writer_error(const app_xlsx_writer_t *x)
{
    return x->error[0] != '\0' ? x->error : "unknown error";
}

void app_xlsx_writer_free(app_xlsx_writer_t *x)
{
    if (x == NULL)
        return;
    if (x->wb != NULL)
        lxw_workbook_free(x->wb);
    if (x->named)
        unlink(x->path);
    if (x->fd >= 0)
        close(x->fd);
    sbuf_free(&x->strings);
    sbuf_free(&x->last);
    free(x->cols);
    free(x->last_at);
    free(x);
}
