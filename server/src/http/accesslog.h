/*
 * http/accesslog — one JSON line per request, buffered per worker thread and written with a single write(2).
 * A line holds the time, route pattern, method, status, duration, bytes sent, client country, the authenticated app's
 * client id (only when a consent token was verified) and protocol — never an
 * address, a query string, a token or a household id (DESIGN section 4, "Privacy of requests"). The buffer is no larger
 * than PIPE_BUF, so each write is atomic on a pipe and lines of different workers never interleave.
 * Not thread-safe: one log per worker thread.
 */
#ifndef KLIMA_HTTP_ACCESSLOG_H
#define KLIMA_HTTP_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define HTTP_ACCESSLOG_FLUSH_MS 100

typedef struct http_accesslog http_accesslog_t;

typedef struct http_accesslog_entry {
    struct timeval at;  /* when the request began (wall clock) */
    const char *route;  /* the route pattern, "static", "not_found", ... */
    const char *method; /* a method name from a fixed table ("GET", ..., "other") */
    int status;         /* 0 when no response was started */
    uint64_t duration_us;
    uint64_t bytes;      /* body bytes sent */
    const char *country; /* ISO 3166-1 alpha-2; anything else is written as "ZZ" */
    int version;         /* h2o's req->version: 0x100, 0x101, 0x200 */
    const char *client;  /* the authenticated app's client id (NULL or "" when none: the field is left out) */
} http_accesslog_entry_t;

/* A log writing to fd (not closed by the log). NULL when out of memory. */
http_accesslog_t *http_accesslog_create(int fd);

/* Writes what is buffered and releases the log. NULL is ignored. */
void http_accesslog_destroy(http_accesslog_t *l);

/* Buffers e's line; writes the buffer first when the line would not fit. */
void http_accesslog_append(http_accesslog_t *l, const http_accesslog_entry_t *e);

/* Writes the buffer when it holds lines older than HTTP_ACCESSLOG_FLUSH_MS (now_ms: a monotonic millisecond clock, e.g.
 * h2o_now). Call once per event-loop iteration. */
void http_accesslog_tick(http_accesslog_t *l, uint64_t now_ms);

/* Bytes dropped because a write failed. */
uint64_t http_accesslog_dropped(const http_accesslog_t *l);

#endif
