/*
 * http/conn — per-connection state, the HTTP/2 rapid-reset budget and aborting a stalled response.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>
#include <h2o/http2.h>
#include <h2o/http2_internal.h>

#include "core/log.h"
#include "http/conn.h"
#include "http/server.h"

/* Process-wide, written by http_conn_init before the workers start and read-only afterwards. */
static struct {
    unsigned max_resets; /* per connection and second; 0 = no limit */
    metrics_t *metrics;
    int m_abandoned, m_goaway;
} conns;

typedef struct http_conn {
    http_worker_t *worker;
    void (*closed)(http_worker_t *w);
    int linger_fd;         /* a dup of the socket kept for the lingering close, or -1 */
    uint64_t window_start; /* h2o_now of the current one-second window */
    unsigned abandoned;    /* streams abandoned in it */
} http_conn_t;

/* The families of this module, in conns.m order. */
static const metrics_family_t conn_families[] = {
    {.name = "klimaspejl_http2_streams_abandoned_total",
     .help = "HTTP/2 requests whose stream the client reset (or whose connection it closed) before a response started.",
     .type = METRICS_COUNTER,
     .show_zero = 1},
    {.name = "klimaspejl_http2_goaway_resets_total",
     .help = "HTTP/2 connections sent GOAWAY (ENHANCE_YOUR_CALM) and closed for abandoning more than KLIMA_H2_MAX_RESETS "
             "streams in a second (rapid reset, CVE-2023-44487).",
     .type = METRICS_COUNTER,
     .show_zero = 1},
};

int http_conn_init(const config_t *cfg, metrics_t *metrics)
{
    int *ids[] = {&conns.m_abandoned, &conns.m_goaway};

    conns.max_resets = cfg->h2_max_resets;
    conns.metrics = metrics;
    for (size_t i = 0; metrics != NULL && i < sizeof(ids) / sizeof(ids[0]); ++i) {
        if ((*ids[i] = metrics_register(metrics, &conn_families[i])) < 0)
            return -1;
    }
    return 0;
}

/* A socket h2o has closed, kept open to read and discard the rest of a refused request body. */
typedef struct conn_linger {
    http_worker_t *worker;
    h2o_socket_t *sock;
    h2o_timeout_entry_t tick; /* on the worker's one-second timeout */
    unsigned seconds;
    size_t discarded;
} linger_t;

static void linger_end(linger_t *l)
{
    if (h2o_timeout_is_linked(&l->tick))
        h2o_timeout_unlink(&l->tick);
    h2o_socket_close(l->sock);
    free(l);
}

static void linger_on_read(h2o_socket_t *sock, const char *err)
{
    linger_t *l = sock->data;
    if (err == NULL) {
        l->discarded += sock->input->size;
        h2o_buffer_consume(&sock->input, sock->input->size);
    }
    if (err != NULL || l->discarded > HTTP_CONN_LINGER_BYTES)
        linger_end(l); /* the client closed (or sent more than we read for it) */
}

static void linger_on_tick(h2o_timeout_entry_t *te)
{
    linger_t *l = H2O_STRUCT_FROM_MEMBER(linger_t, tick, te);
    if (++l->seconds >= HTTP_CONN_LINGER_S) {
        linger_end(l);
        return;
    }
    h2o_timeout_link(l->worker->loop, &l->worker->ctx.one_sec_timeout, &l->tick);
}

/* h2o has closed its descriptor; fd (a dup) still holds the socket: FIN after the answer, then read until the client is
 * done. */
static void linger_start(http_worker_t *w, int fd)
{
    linger_t *l = calloc(1, sizeof(*l));
    if (l == NULL || w->stopping) {
        free(l);
        close(fd);
        return;
    }
    shutdown(fd, SHUT_WR);
    l->worker = w;
    l->sock = h2o_evloop_socket_create(w->loop, fd, 0);
    l->sock->data = l;
    l->tick.cb = linger_on_tick;
    h2o_timeout_link(w->loop, &w->ctx.one_sec_timeout, &l->tick);
    h2o_socket_read_start(l->sock, linger_on_read);
}

static void on_close(void *data)
{
    http_conn_t *c = data;
    c->closed(c->worker);
    if (c->linger_fd >= 0)
        linger_start(c->worker, c->linger_fd);
    free(c);
}

int http_conn_accepted(http_worker_t *w, h2o_socket_t *sock, void (*closed)(http_worker_t *w))
{
    http_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->worker = w;
    c->closed = closed;
    c->linger_fd = -1;
    sock->on_close.cb = on_close;
    sock->on_close.data = c;
    return 0;
}

/* The state of req's connection, or NULL (a connection this module did not accept). */
static http_conn_t *conn_of(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    return sock != NULL && sock->on_close.cb == on_close ? sock->on_close.data : NULL;
}

/* What h2o's own frame parser does on a connection error (enqueue_goaway, then close_connection): the GOAWAY goes into
 * the connection's write buffer and a write is requested; with the state IS_CLOSING, h2o stops parsing this
 * connection's input and closes it as soon as that write has been handed to the socket. */
static void goaway_and_close(h2o_http2_conn_t *h2)
{
    h2o_http2_encode_goaway_frame(&h2->_write.buf, h2->pull_stream_ids.max_open, H2O_HTTP2_ERROR_ENHANCE_YOUR_CALM,
                                  h2o_iovec_init(H2O_STRLIT("too many streams reset")));
    h2o_http2_conn_request_write(h2);
    h2->state = H2O_HTTP2_CONN_STATE_IS_CLOSING;
}

void http_conn_note_abandoned(h2o_req_t *req)
{
    h2o_http2_conn_t *h2 = (h2o_http2_conn_t *)req->conn;
    http_conn_t *c;
    uint64_t now;

    if (req->version < 0x200 || (c = conn_of(req)) == NULL || h2->state >= H2O_HTTP2_CONN_STATE_IS_CLOSING)
        return; /* HTTP/1.1, or the connection is closing anyway (its streams end with it) */
    if (conns.metrics != NULL)
        metrics_add(conns.metrics, c->worker->id, conns.m_abandoned, 0, 1);
    if (conns.max_resets == 0)
        return;
    now = h2o_now(c->worker->loop);
    if (now - c->window_start >= 1000) {
        c->window_start = now;
        c->abandoned = 0;
    }
    if (++c->abandoned <= conns.max_resets)
        return;
    if (conns.metrics != NULL)
        metrics_add(conns.metrics, c->worker->id, conns.m_goaway, 0, 1);
    log_warn("worker %u: an HTTP/2 connection abandoned more than %u streams within a second (KLIMA_H2_MAX_RESETS): GOAWAY, "
             "closing it",
             c->worker->id, conns.max_resets);
    goaway_and_close(h2);
}

void http_conn_linger(h2o_req_t *req)
{
    http_conn_t *c;
    h2o_socket_t *sock;

    if (req->version >= 0x200 || (c = conn_of(req)) == NULL || c->linger_fd >= 0)
        return;
    sock = req->conn->callbacks->get_socket(req->conn);
    c->linger_fd = fcntl(h2o_socket_get_fd(sock), F_DUPFD_CLOEXEC, 0);
}

void http_conn_abort(h2o_req_t *req)
{
    if (req->version >= 0x200) {
        h2o_http2_conn_t *h2 = (h2o_http2_conn_t *)req->conn;
        h2o_http2_stream_t *stream = H2O_STRUCT_FROM_MEMBER(h2o_http2_stream_t, req, req);
        if (h2->state >= H2O_HTTP2_CONN_STATE_IS_CLOSING)
            return;
        /* as h2o answers a stream error: RST_STREAM to the peer, then the stream is reset (and disposed) here */
        h2o_http2_encode_rst_stream_frame(&h2->_write.buf, stream->stream_id, -H2O_HTTP2_ERROR_CANCEL);
        h2o_http2_conn_request_write(h2);
        h2o_http2_stream_reset(h2, stream);
        return;
    }
    /* HTTP/1.1: the response cannot be cut short inside the protocol. Shutting the socket down makes h2o's pending write
     * fail on the next loop iteration; h2o then closes the connection and disposes the request the usual way. */
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock != NULL)
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}
