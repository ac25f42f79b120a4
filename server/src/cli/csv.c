/*
 * cli/csv — the streaming CSV reader.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/csv.h"

void cli_csv_open(cli_csv_t *r, int fd, char *buf, size_t cap)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->buf = buf;
    r->cap = cap;
}

/* Next byte, or -1 at the end of input, -2 on a read error. */
static inline int reader_getc(cli_csv_t *r)
{
    if (r->pos == r->len) {
        if (r->eof)
            return -1;
        ssize_t n;
        do {
            n = read(r->fd, r->buf, r->cap);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return -2;
        if (n == 0) {
            r->eof = 1;
            return -1;
        }
        r->pos = 0;
        r->len = (size_t)n;
        r->bytes += (uint64_t)n;
    }
    return (unsigned char)r->buf[r->pos++];
}

static inline int reader_peek(cli_csv_t *r)
{
    int c = reader_getc(r);
    if (c >= 0)
        r->pos--;
    return c;
}

int cli_csv_next(cli_csv_t *r, cli_csv_record_t *rec, const char **why)
{
    enum { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE } st = FIELD_START;
    const int delim = r->delim != 0 ? (unsigned char)r->delim : ',';
    size_t n = 0;
    int c, any = 0;

    rec->nf = 0;
    rec->off[0] = 0;
    for (;;) {
        c = reader_getc(r);
        if (c == -2) {
            *why = "read error";
            return -1;
        }
        if (c == -1) {
            if (!any)
                return 0;
            if (st == QUOTED) {
                *why = "unterminated quoted field";
                return -1;
            }
            c = '\n'; /* last line without a line break */
        }
        any = 1;
        if (c == '\r' && st != QUOTED) {
            if (reader_peek(r) != '\n') {
                *why = "carriage return not followed by a line feed";
                return -1;
            }
            continue;
        }
        if (st == QUOTED) {
            if (c == '"') {
                st = AFTER_QUOTE;
                continue;
            }
            if (c == '\n' || c == '\r') {
                *why = "line break inside a quoted field (not allowed in these formats)";
                return -1;
            }
        } else if (c == delim || c == '\n') {
            if (rec->nf == CLI_CSV_MAX_FIELDS) {
                *why = "too many fields";
                return -1;
            }
            rec->len[rec->nf] = n - rec->off[rec->nf];
            rec->data[n++] = '\0';
            rec->nf++;
            rec->off[rec->nf] = n;
            if (c == '\n')
                return 1;
            st = FIELD_START;
            continue;
        } else if (c == '"') {
            if (st == FIELD_START) {
                st = QUOTED;
                continue;
            }
            if (st == AFTER_QUOTE) {
                st = QUOTED; /* "" inside quotes is one quote */
            } else {
                *why = "quote character inside an unquoted field";
                return -1;
            }
        } else if (st == AFTER_QUOTE) {
            *why = "text after a closing quote";
            return -1;
        } else {
            st = UNQUOTED;
        }
        if (n >= CLI_CSV_MAX_RECORD) {
            *why = "line longer than 4096 bytes";
            return -1;
        }
        rec->data[n++] = (char)c;
    }
}
