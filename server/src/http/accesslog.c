/*
 * http/accesslog — hand-rolled formatting (no printf per request: this runs once per request on the hot path).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/accesslog.h"

#define ACCESSLOG_BUF PIPE_BUF

struct http_accesslog {
    int fd;
    size_t len;
    uint64_t first_ms; /* now_ms of the tick after which the oldest buffered line arrived; 0 = empty */
    uint64_t last_tick_ms;
    uint64_t dropped;
    time_t cached_sec; /* the second `cached_ts` shows */
    char cached_ts[20]; /* "YYYY-MM-DDTHH:MM:SS" */
    char buf[ACCESSLOG_BUF];
};

/* A bounded appender: writes nothing past end and remembers that it ran out. */
typedef struct out {
    char *p, *end;
    int full;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->full || (size_t)(o->end - o->p) < n) {
        o->full = 1;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

static void put_u64(out_t *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, tmp + sizeof(tmp) - n, n);
}

/* v as exactly `digits` digits (zero-padded; v < 10^digits). */
static void put_fixed(out_t *o, unsigned v, int digits)
{
    char tmp[8];
    for (int i = digits - 1; i >= 0; --i) {
        tmp[i] = (char)('0' + v % 10);
        v /= 10;
    }
    put(o, tmp, (size_t)digits);
}

/* s as the inside of a JSON string; route patterns and method names are plain ASCII, anything else is escaped. */
static void put_json(out_t *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, e, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
}

static void format_second(time_t sec, char out[20])
{
    struct tm tm;
    out_t o = {out, out + 20, 0};
    gmtime_r(&sec, &tm);
    put_fixed(&o, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    PUT_LIT(&o, "-");
    put_fixed(&o, (unsigned)tm.tm_mon + 1, 2);
    PUT_LIT(&o, "-");
    put_fixed(&o, (unsigned)tm.tm_mday, 2);
    PUT_LIT(&o, "T");
    put_fixed(&o, (unsigned)tm.tm_hour, 2);
    PUT_LIT(&o, ":");
    put_fixed(&o, (unsigned)tm.tm_min, 2);
    PUT_LIT(&o, ":");
    put_fixed(&o, (unsigned)tm.tm_sec, 2);
}

static size_t format_with(char *buf, size_t size, const http_accesslog_entry_t *e, const char ts_second[19])
{
    out_t o = {buf, buf + size, 0};
    const char *c = e->country;
    int country_ok = c != NULL && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0';

    PUT_LIT(&o, "{\"ts\":\"");
    put(&o, ts_second, 19);
    PUT_LIT(&o, ".");
    put_fixed(&o, (unsigned)(e->at.tv_usec / 1000) % 1000, 3);
    PUT_LIT(&o, "Z\",\"route\":\"");
    put_json(&o, e->route != NULL ? e->route : "");
    PUT_LIT(&o, "\",\"method\":\"");
    put_json(&o, e->method != NULL ? e->method : "");
    PUT_LIT(&o, "\",\"status\":");
    put_u64(&o, e->status > 0 ? (uint64_t)e->status : 0);
    PUT_LIT(&o, ",\"duration_ms\":");
    put_u64(&o, e->duration_us / 1000);
    PUT_LIT(&o, ".");
    put_fixed(&o, (unsigned)(e->duration_us % 1000), 3);
    PUT_LIT(&o, ",\"bytes\":");
    put_u64(&o, e->bytes);
    PUT_LIT(&o, ",\"country\":\"");
    put(&o, country_ok ? c : "ZZ", 2);
    PUT_LIT(&o, "\",\"proto\":\"");
    if (e->version >= 0x200)
        PUT_LIT(&o, "2");
    else if (e->version == 0x100)
        PUT_LIT(&o, "1.0");
    else
        PUT_LIT(&o, "1.1");
    PUT_LIT(&o, "\"}\n");
    return o.full ? 0 : (size_t)(o.p - buf);
}

size_t http_accesslog_format(char *buf, size_t size, const http_accesslog_entry_t *e)
{
    char ts[20];
    format_second(e->at.tv_sec, ts);
    return format_with(buf, size, e, ts);
}

http_accesslog_t *http_accesslog_create(int fd)
{
    http_accesslog_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->fd = fd;
    l->cached_sec = (time_t)-1;
    return l;
}

void http_accesslog_destroy(http_accesslog_t *l)
{
    if (l == NULL)
        return;
    http_accesslog_flush(l);
    free(l);
}

void http_accesslog_flush(http_accesslog_t *l)
{
    size_t off = 0;

    while (off < l->len) {
        ssize_t n = write(l->fd, l->buf + off, l->len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        l->dropped += l->len - off;
        break;
    }
    l->len = 0;
    l->first_ms = 0;
}

void http_accesslog_append(http_accesslog_t *l, const http_accesslog_entry_t *e)
{
    size_t n;

    if (e->at.tv_sec != l->cached_sec) {
        format_second(e->at.tv_sec, l->cached_ts);
        l->cached_sec = e->at.tv_sec;
    }
    n = format_with(l->buf + l->len, sizeof(l->buf) - l->len, e, l->cached_ts);
    if (n == 0 && l->len != 0) {
        http_accesslog_flush(l);
        n = format_with(l->buf, sizeof(l->buf), e, l->cached_ts);
    }
    if (n == 0)
        return; /* a line longer than the whole buffer: cannot happen with route patterns of sane length */
    if (l->len == 0)
        l->first_ms = l->last_tick_ms != 0 ? l->last_tick_ms : 1;
    l->len += n;
}

void http_accesslog_tick(http_accesslog_t *l, uint64_t now_ms)
{
    l->last_tick_ms = now_ms;
    if (l->len != 0 && now_ms - l->first_ms >= HTTP_ACCESSLOG_FLUSH_MS)
        http_accesslog_flush(l);
}

uint64_t http_accesslog_dropped(const http_accesslog_t *l)
{
    return l->dropped;
}
