/*
 * http/accesslog — hand-rolled formatting (no printf per request: this runs once per request on the hot path).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/strutil.h"
#include "http/accesslog.h"

#define ACCESSLOG_BUF PIPE_BUF

struct http_accesslog {
    int fd;
    size_t len;
    uint64_t first_ms; /* now_ms of the tick after which the oldest buffered line arrived; 0 = empty */
    uint64_t last_tick_ms;
    uint64_t dropped;
    time_t cached_sec;  /* the second `cached_ts` shows */
    char cached_ts[19]; /* "YYYY-MM-DDTHH:MM:SS", not NUL-terminated */
    char buf[ACCESSLOG_BUF];
};

/* The writers below do not check for room: format_with checks once, up front, against the longest line the entry can
 * make. Copies of string literals have constant sizes, so the compiler turns them into plain stores. */
#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

/* v as exactly `digits` digits (zero-padded; v < 10^digits). */
static char *put_fixed(char *p, unsigned v, int digits)
{
    for (int i = digits - 1; i >= 0; --i) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + digits;
}

/* s as the inside of a JSON string (at most 6 bytes per input byte); route patterns and method names are plain ASCII,
 * anything else is escaped. */
static char *put_json(char *p, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
        } else if (c >= 0x20) {
            *p++ = '\\';
            *p++ = (char)c;
        } else {
            PUT_LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    return p;
}

static void format_second(time_t sec, char out[19])
{
    struct tm tm;
    char *p = out;
    gmtime_r(&sec, &tm);
    p = put_fixed(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    *p++ = '-';
    p = put_fixed(p, (unsigned)tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_fixed(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_fixed(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_fixed(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    put_fixed(p, (unsigned)tm.tm_sec, 2);
}

/* Everything of a line but the route and method, with the longest numbers: the room check's constant part. */
#define LINE_FIXED_MAX 200

static size_t format_with(char *buf, size_t size, const http_accesslog_entry_t *e, const char ts_second[19])
{
    const char *route = e->route != NULL ? e->route : "", *method = e->method != NULL ? e->method : "";
    const char *client = e->client != NULL ? e->client : "";
    size_t route_len = strlen(route), method_len = strlen(method), client_len = strlen(client);
    const char *c = e->country;
    int country_ok = c != NULL && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0';
    char *p = buf;

    if (route_len > size || method_len > size || client_len > size ||
        size < LINE_FIXED_MAX + 6 * (route_len + method_len + client_len))
        return 0;
    PUT_LIT(p, "{\"ts\":\"");
    memcpy(p, ts_second, 19);
    p += 19;
    *p++ = '.';
    p = put_fixed(p, (unsigned)(e->at.tv_usec / 1000) % 1000, 3);
    PUT_LIT(p, "Z\",\"route\":\"");
    p = put_json(p, route, route_len);
    PUT_LIT(p, "\",\"method\":\"");
    p = put_json(p, method, method_len);
    PUT_LIT(p, "\",\"status\":");
    p = str_put_u64(p, e->status > 0 ? (uint64_t)e->status : 0);
    PUT_LIT(p, ",\"duration_ms\":");
    p = str_put_u64(p, e->duration_us / 1000);
    *p++ = '.';
    p = put_fixed(p, (unsigned)(e->duration_us % 1000), 3);
    PUT_LIT(p, ",\"bytes\":");
    p = str_put_u64(p, e->bytes);
    PUT_LIT(p, ",\"country\":\"");
    memcpy(p, country_ok ? c : "ZZ", 2);
    p += 2;
    if (client_len != 0) {
        PUT_LIT(p, "\",\"client\":\"");
        p = put_json(p, client, client_len);
    }
    PUT_LIT(p, "\",\"proto\":\"");
    if (e->version >= 0x200)
        PUT_LIT(p, "2");
    else if (e->version == 0x100)
        PUT_LIT(p, "1.0");
    else
        PUT_LIT(p, "1.1");
    PUT_LIT(p, "\"}\n");
    return (size_t)(p - buf);
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

static void http_accesslog_flush(http_accesslog_t *l);

void http_accesslog_destroy(http_accesslog_t *l)
{
    if (l == NULL)
        return;
    http_accesslog_flush(l);
    free(l);
}

/* Writes the buffer now. A failed or short write drops the rest of the buffer (a log must never block the server on a
 * reader that went away); the loss is counted in http_accesslog_dropped. */
static void http_accesslog_flush(http_accesslog_t *l)
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
