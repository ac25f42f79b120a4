/*
 * http/conn — what the server keeps per client connection, and the defences that act on a connection rather than on
 * a request: the HTTP/2 rapid-reset budget (CVE-2023-44487: Debian's libh2o 2.2.5 runs the handler of every HEADERS
 * frame even when RST_STREAM follows at once, and has no limit of its own), ending one stalled response (a slow
 * reader's download), and the request body limit over HTTP/2 (libh2o 2.2.5 buffers a body whole before any handler
 * runs and refuses a stream over the limit with RST_STREAM REFUSED_STREAM; this module reads each HTTP/2 frame before
 * h2o does and answers 413 instead). Reaches into h2o's HTTP/2 internals (h2o/http2_internal.h of 2.2.5) for the
 * GOAWAY, the stream reset and the frame reader, the way h2o's own frame handlers do them.
 */
#ifndef KLIMA_HTTP_CONN_H
#define KLIMA_HTTP_CONN_H

#include <h2o.h>

#include "core/config.h"
#include "http/metrics.h"

struct http_worker;

/* The detail of every 413 for a body over KLIMA_MAX_BODY_BYTES (%zu: the limit). */
#define HTTP_CONN_BODY_LIMIT_DETAIL "The request body may be at most %zu bytes."

/* Reads the limits from cfg (KLIMA_H2_MAX_RESETS, KLIMA_MAX_BODY_BYTES) and registers the connection families in
 * metrics (may be NULL): klimaspejl_http2_streams_abandoned_total, klimaspejl_http2_goaway_resets_total and
 * klimaspejl_http2_bodies_refused_total. Before the workers start. Returns 0, or -1 when out of memory. */
int http_conn_init(const config_t *cfg, metrics_t *metrics);

/* Attaches the per-connection state to an accepted socket (its on_close callback ends it and calls closed(w) on the
 * worker's thread). Returns 0, or -1 when out of memory (the caller closes the socket). */
int http_conn_accepted(struct http_worker *w, h2o_socket_t *sock, void (*closed)(struct http_worker *w));

/* Called when h2o disposes a request whose response never started (req->res.status == 0). Over HTTP/2 that is a stream
 * the client reset (or a connection it closed) while its handler ran: counted against the connection's budget of
 * KLIMA_H2_MAX_RESETS per second; past it the connection gets GOAWAY (ENHANCE_YOUR_CALM) and is closed. HTTP/1.1
 * requests are not counted (one connection, one request at a time). */
void http_conn_note_abandoned(h2o_req_t *req);

/* The request is answered with an error before its body was read, and h2o will close the connection after the answer
 * (HTTP/1.1: 413, or 400 for broken framing). Closing a socket with unread input makes the kernel send a reset, which
 * can destroy the answer before the client reads it; so when h2o closes this connection, the socket is kept open a
 * little longer: its sending side is shut down (FIN after the answer) and what the client still sends is read and
 * discarded, up to HTTP_CONN_LINGER_BYTES or HTTP_CONN_LINGER_S seconds, then it is closed. HTTP/1.1 only; once per
 * connection. */
#define HTTP_CONN_LINGER_BYTES (64u * 1024 * 1024)
#define HTTP_CONN_LINGER_S 5
void http_conn_linger(h2o_req_t *req);

/* HTTP/2 request bodies over KLIMA_MAX_BODY_BYTES get 413 problem+json, not the stream reset of libh2o 2.2.5.
 *
 * libh2o 2.2.5 reads a request body whole into memory before it calls any handler (it has no request body streaming)
 * and resets a stream whose body grows past globalconf.max_request_entity_size with REFUSED_STREAM. So this module puts
 * its own function in front of h2o's HTTP/2 frame reader (h2o_http2_conn_t._read_expect) on every HTTP/2 connection:
 * after h2o has read a HEADERS block whose content-length is over the limit, or before it would buffer a DATA frame
 * that takes the body over the limit, the stream is taken out of h2o's body reading: what it buffered is freed, its
 * request is dispatched without a body and answered 413 (http_conn_body_refused_or_reply), and the DATA frames that
 * follow on it are dropped unread while the stream's and the connection's flow-control windows are opened again, so
 * the client can finish its upload and the connection's other streams go on. An RST_STREAM NO_ERROR right after the
 * answer (RFC 9113 8.1) would be shorter, but Node's http2 client then never closes a stream whose upload is still
 * being written; only a stream that sends more than HTTP_CONN_LINGER_BYTES after its refusal gets it. Memory per
 * stream stays below the limit.
 *
 * The frames of a connection's first read (everything the client sent before the server's SETTINGS reached it) are
 * read by h2o before the hook is in place; streams over the limit among them are refused right after that read. A
 * client that keeps to the flow-control rules cannot send more than 65,535 bytes of DATA before it has the server's
 * SETTINGS, so with KLIMA_MAX_BODY_BYTES at 64 KiB or more (the default) h2o's own refusal is never reached; with a
 * lower limit a body over it that arrives whole in that first flight is still refused with REFUSED_STREAM. */

/* Hooks the frame reader of every HTTP/2 connection h2o made on w since the last call (called after each loop
 * iteration; cheap when there is none). */
void http_conn_hook_new(struct http_worker *w);

/* For the dispatcher, first thing for every request: hooks req's HTTP/2 connection if it is not yet (an h2c upgrade,
 * whose first request arrives before the loop iteration ends); then, when req is a stream whose body was refused,
 * answers 413 payload-too-large and returns 1. Else 0. */
int http_conn_body_refused_or_reply(h2o_req_t *req);

/* Ends req's response at once as a failure the client sees: HTTP/2 resets the stream (RST_STREAM CANCEL), HTTP/1.1
 * shuts the connection down. h2o may dispose req (and everything on its pool) before this returns: the caller touches
 * nothing of the request afterwards. */
void http_conn_abort(h2o_req_t *req);

#endif
