/*
 * app/xlsx — a spreadsheet (Office Open XML, .xlsx) written from COPY output by libxlsxwriter in constant-memory mode,
 * on a thread of its own, so the event loop never waits for the library, the disk or zlib.
 *
 * Why a thread and a file: libxlsxwriter writes to a file and only at the end assembles the zip container, so an .xlsx
 * cannot leave before its last row is in. Its constant-memory mode writes each finished row to a temporary file, so
 * memory stays flat whatever the size. The design, one spreadsheet at a time:
 *   1. The stream (app/stream.c) hands each COPY batch (whole CSV rows, at most DB_COPY_BATCH bytes; copied, so a
 *      vanished client can free its COPY at once) to the writer thread and reads the next batch only when the thread
 *      took this one (APP_XLSX_FED): backpressure from the disk to PostgreSQL, one batch in memory.
 *   2. The thread parses the rows and writes every cell as what it is: numbers as numbers with the column's declared
 *      decimals as their number format, dates and times as Excel date serials with a date format, booleans as booleans,
 *      NULL as an empty cell (never 0), text as inline strings (never a formula).
 *   3. At the end of the COPY the thread closes the workbook into an unnamed temporary file (opened with O_TMPFILE, or
 *      unlinked at once; libxlsxwriter writes it through /proc/self/fd), so nothing is left behind if the process dies.
 *   4. The response starts only then (APP_XLSX_READY: headers such as a records page's Link are known) and the file is
 *      read back by the thread a chunk at a time (APP_XLSX_CHUNK), each chunk sent when the client took the last one.
 * A workbook holds a "data" sheet (row 1: the column names, exactly the Table Schema's field names), a "fields" sheet
 * (each column's type, unit, decimals and descriptions in English and Danish) and an "about" sheet (title, licence,
 * version, release, source URL, citation); the licence, dataset, version and source URL are also document properties.
 * More rows than a sheet holds (1,048,575 under the header) continue on "data 2", "data 3", ...
 *
 * The loop side (every function here but the thread) runs on the worker that started the writer.
 */
#ifndef KLIMA_APP_XLSX_H
#define KLIMA_APP_XLSX_H

#include <h2o.h>
#include <sys/types.h>
#include <time.h>

#include "app/catalog.h"

#define APP_XLSX_CONTENT_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

typedef struct app_xlsx_column {
    const char *name;
    app_col_type_t type;
    int scale;                                          /* decimals a number shows (its number format); -1: as stored */
    const char *unit, *description_en, *description_da; /* or NULL */
} app_xlsx_column_t;

/* What a workbook says about itself; every string may be NULL. app_xlsx_start copies all of it. */
typedef struct app_xlsx_book {
    const char *dataset, *title_en, *title_da, *description, *publisher, *licence, *licence_url, *version, *released, *source_url,
        *citation, *keywords, *note;
    time_t created; /* the document's creation time: the release's, so one release gives the same bytes */
    const app_xlsx_column_t *cols;
    size_t ncols;
    unsigned row_limit; /* write at most this many rows (0: all); a row beyond them only sets app_xlsx_more */
} app_xlsx_book_t;

typedef struct app_xlsx app_xlsx_t;

typedef enum app_xlsx_event {
    APP_XLSX_FED,    /* the batch of app_xlsx_feed is written: feed the next */
    APP_XLSX_READY,  /* the workbook is complete: app_xlsx_next_chunk reads it */
    APP_XLSX_CHUNK,  /* app_xlsx_chunk holds the next bytes of the file (none: the file ended) */
    APP_XLSX_FAILED, /* app_xlsx_error says why; only app_xlsx_cancel remains */
} app_xlsx_event_t;

/* Starts a writer for book in the directory $TMPDIR (else /tmp). cb runs on loop's thread after each step the caller
 * asked for. Returns NULL (logged) when no thread or temporary file could be had. */
app_xlsx_t *app_xlsx_start(h2o_evloop_t *loop, const app_xlsx_book_t *book, void (*cb)(void *ctx, app_xlsx_event_t ev), void *ctx);

/* Hands over data[0..len) (whole CSV rows of PostgreSQL's COPY, no header; copied). APP_XLSX_FED or _FAILED follows. */
void app_xlsx_feed(app_xlsx_t *x, const char *data, size_t len);

/* No more rows: writes the workbook. APP_XLSX_READY or _FAILED follows. */
void app_xlsx_finish(app_xlsx_t *x);

/* Reads the next chunk of the finished file. APP_XLSX_CHUNK or _FAILED follows. */
void app_xlsx_next_chunk(app_xlsx_t *x);

/* After APP_XLSX_CHUNK: the chunk (len 0 at the end of the file), valid until the next call on x. */
h2o_iovec_t app_xlsx_chunk(app_xlsx_t *x);

/* After APP_XLSX_READY, with a row_limit: whether a row beyond the limit came, and the last written row's field
 * `col` (PostgreSQL's text of it; NULL for SQL NULL, or when no row was written). */
int app_xlsx_more(const app_xlsx_t *x);
const char *app_xlsx_last_field(const app_xlsx_t *x, size_t col);

/* After APP_XLSX_FAILED: what went wrong. */
const char *app_xlsx_error(const app_xlsx_t *x);

/* Ends the loop's part: no callback comes after this; the thread stops at its next step and frees x. Also the normal
 * end after the last chunk. */
void app_xlsx_cancel(app_xlsx_t *x);

/* --- shared by app/xlsx.c (the thread and the loop) and app/xlsx_book.c (the workbook) ---------------------------- */

typedef struct app_xlsx_writer app_xlsx_writer_t;

/* A writer for a copy of book (any thread); NULL out of memory. */
app_xlsx_writer_t *app_xlsx_writer_new(const app_xlsx_book_t *book);
/* On the writer thread: opens the output file and the workbook and writes its fields and about sheets. */
int app_xlsx_writer_open(app_xlsx_writer_t *w);
/* Writes rows[0..len) (whole COPY CSV rows; rows[len] is writable and is overwritten: fields are ended in place). */
int app_xlsx_writer_rows(app_xlsx_writer_t *w, char *rows, size_t len);
/* Completes the workbook in the output file. */
int app_xlsx_writer_close(app_xlsx_writer_t *w);
/* The next bytes of the completed file: how many (0 at its end), or -1. */
ssize_t app_xlsx_writer_read(app_xlsx_writer_t *w, char *buf, size_t size);
/* Each returns 0 or a count, or -1 with app_xlsx_writer_error saying why. */
int app_xlsx_writer_more(const app_xlsx_writer_t *w);
const char *app_xlsx_writer_last_field(const app_xlsx_writer_t *w, size_t col);
const char *app_xlsx_writer_error(const app_xlsx_writer_t *w);
/* Frees w, its workbook and its file (a file with a name is removed). */
void app_xlsx_writer_free(app_xlsx_writer_t *w);

#endif
