/*
 * http/conn — what the server keeps per client connection, and the two defences that act on a connection rather than
 * on a request: the HTTP/2 rapid-reset budget (CVE-2023-44487: Debian's libh2o 2.2.5 runs the handler of every
 * HEADERS frame even when RST_STREAM follows at once, and has no limit of its own) and ending one stalled response
 * (a slow reader's download). Reaches into h2o's HTTP/2 internals (h2o/http2_internal.h of 2.2.5) for the GOAWAY and
 * the stream reset, the way h2o's own frame handlers do them.
 */
#ifndef KLIMA_HTTP_CONN_H
#define KLIMA_HTTP_CONN_H

#include <h2o.h>

#include "core/config.h"
#include "http/metrics.h"

struct http_worker;

/* Reads the limits from cfg (KLIMA_H2_MAX_RESETS) and registers the connection families in metrics (may be NULL):
 * klimaspejl_http2_streams_abandoned_total and klimaspejl_http2_goaway_resets_total. Before the workers start. Returns
 * 0, or -1 when out of memory. */
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

/* Ends req's response at once as a failure the client sees: HTTP/2 resets the stream (RST_STREAM CANCEL), HTTP/1.1
 * shuts the connection down. h2o may dispose req (and everything on its pool) before this returns: the caller touches
 * nothing of the request afterwards. */
void http_conn_abort(h2o_req_t *req);

#endif
