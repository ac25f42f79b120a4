/*
 * http/conn — per-connection state, the HTTP/2 rapid-reset budget, aborting a stalled response and the HTTP/2 body
 * limit.
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
#include "http/problem.h"
#include "http/server.h"

/* Process-wide, written by http_conn_init before the workers start and read-only afterwards. */
static struct {
    unsigned max_resets; /* per connection and second; 0 = no limit */
    size_t max_body;     /* KLIMA_MAX_BODY_BYTES */
    metrics_t *metrics;
    int m_abandoned, m_goaway, m_refused;
    int hook_broken; /* atomic: h2o's stream table did not look as expected; HTTP/2 bodies are left to h2o */
} conns;

/* An HTTP/2 stream whose body was refused and whose upload is still coming: its DATA frames are read and dropped, its
 * receive window is opened again as h2o would (so the client can finish: clients such as Node's keep a stream open
 * until their upload is written, and may lose the answer to an RST_STREAM that interrupts it), until the client ends
 * it or HTTP_CONN_LINGER_BYTES have come; then RST_STREAM NO_ERROR. A connection gets room for CONN_REFUSED_MAX of
 * them at its first refusal (more than a connection may open at once); beyond it the oldest is forgotten, and its
 * late frames get h2o's own answer for a closed stream. */
#define CONN_REFUSED_MAX 128
typedef struct conn_refused {
    uint32_t stream_id; /* 0 = free */
    int32_t window;     /* what the client may still send on it, as this module has opened it */
    uint64_t dropped;   /* bytes of its DATA dropped */
} conn_refused_t;

typedef struct http_conn {
    http_worker_t *worker;
    void (*closed)(http_worker_t *w);
    int linger_fd;         /* a dup of the socket kept for the lingering close, or -1 */
    uint64_t window_start; /* h2o_now of the current one-second window */
    unsigned abandoned;    /* streams abandoned in it */
    /* HTTP/2: h2o's own frame reader, called by conn_expect (NULL until hooked) */
    ssize_t (*h2_expect)(h2o_http2_conn_t *h2, const uint8_t *src, size_t len, const char **err_desc);
    conn_refused_t *refused; /* CONN_REFUSED_MAX entries, allocated at the first refusal; NULL before */
    unsigned refused_next;
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
    {.name = "klimaspejl_http2_bodies_refused_total",
     .help = "HTTP/2 requests answered 413 because their body (or its content-length) went over KLIMA_MAX_BODY_BYTES; the "
             "rest of such a body is dropped unread.",
     .type = METRICS_COUNTER,
     .show_zero = 1},
};

int http_conn_init(const config_t *cfg, metrics_t *metrics)
{
    int *ids[] = {&conns.m_abandoned, &conns.m_goaway, &conns.m_refused};

    conns.max_resets = cfg->h2_max_resets;
    conns.max_body = cfg->max_body_bytes;
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
    free(c->refused);
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

/* --- the HTTP/2 body limit ------------------------------------------------------------------------------------------ */

static ssize_t conn_expect(h2o_http2_conn_t *h2, const uint8_t *src, size_t len, const char **err_desc);

static conn_refused_t *refused_find(http_conn_t *c, uint32_t stream_id)
{
    for (unsigned i = 0; c->refused != NULL && i < CONN_REFUSED_MAX; ++i) {
        if (c->refused[i].stream_id == stream_id)
            return &c->refused[i];
    }
    return NULL;
}

/* Whether stream's body is over the limit already: by its content-length, or by what h2o has buffered. */
static int stream_over_limit(const h2o_http2_stream_t *stream)
{
    return (stream->_expected_content_length != SIZE_MAX && stream->_expected_content_length > conns.max_body) ||
           stream->_req_body->size > conns.max_body;
}

/* Counts a DATA frame of len bytes that is dropped unread against the connection's receive window, and opens the
 * window again the way h2o does for the frames it reads (update_input_window of its lib/http2/connection.c), so the
 * connection's other streams go on. The refused stream's own window is left to run out. */
static void conn_window_consume(h2o_http2_conn_t *h2, size_t len)
{
    h2o_http2_window_consume_window(&h2->_input_window, len);
    if (h2o_http2_window_get_window(&h2->_input_window) * 2 < H2O_HTTP2_SETTINGS_HOST.initial_window_size) {
        int32_t delta = (int32_t)(H2O_HTTP2_SETTINGS_HOST.initial_window_size - h2o_http2_window_get_window(&h2->_input_window));
        h2o_http2_encode_window_update_frame(&h2->_write.buf, 0, delta);
        h2o_http2_conn_request_write(h2);
        h2o_http2_window_update(&h2->_input_window, delta);
    }
}

/* Takes stream (receiving its body) out of h2o's body reading and runs its request without a body: the dispatcher
 * answers it 413 (http_conn_body_refused_or_reply). The stream may be gone when this returns. */
static void conn_refuse(http_conn_t *c, h2o_http2_conn_t *h2, h2o_http2_stream_t *stream)
{
    conn_refused_t *e = NULL;

    if (c->refused == NULL && (c->refused = calloc(CONN_REFUSED_MAX, sizeof(*c->refused))) == NULL)
        return; /* out of memory: h2o goes on reading it, and refuses it at its own limit */
    for (unsigned i = 0; i < CONN_REFUSED_MAX && e == NULL; ++i) {
        if (c->refused[i].stream_id == 0)
            e = &c->refused[i];
    }
    if (e == NULL)
        e = &c->refused[c->refused_next++ % CONN_REFUSED_MAX]; /* all taken: the oldest is forgotten */
    e->stream_id = stream->stream_id;
    e->window = (int32_t)h2o_http2_window_get_window(&stream->input_window);
    e->dropped = 0;
    /* what h2o has buffered goes now; the frames still to come are dropped by conn_expect */
    h2o_buffer_consume(&stream->_req_body, stream->_req_body->size);
    if (conns.metrics != NULL)
        metrics_add(conns.metrics, c->worker->id, conns.m_refused, 0, 1);
    /* what h2o does with a request whose body is complete (execute_or_enqueue_request, then run_pending_requests):
     * a refusal is answered at once, even when the connection's KLIMA_H2_MAX_STREAMS requests are running */
    h2o_http2_stream_set_state(h2, stream, H2O_HTTP2_STREAM_STATE_REQ_PENDING);
    h2o_http2_stream_set_state(h2, stream, H2O_HTTP2_STREAM_STATE_SEND_HEADERS);
    if (h2->pull_stream_ids.max_processed < stream->stream_id)
        h2->pull_stream_ids.max_processed = stream->stream_id;
    h2o_process_request(&stream->req);
}

/* A dropped DATA frame of a refused stream (flags, flen bytes): its windows are opened again, so the client finishes
 * its upload; the stream is forgotten when the client ends it, or reset when it has sent too much. */
static void conn_drop_data(h2o_http2_conn_t *h2, conn_refused_t *e, uint8_t flags, size_t flen)
{
    conn_window_consume(h2, flen);
    if ((flags & H2O_HTTP2_FRAME_FLAG_END_STREAM) != 0) {
        e->stream_id = 0;
        return;
    }
    if ((e->dropped += flen) > HTTP_CONN_LINGER_BYTES) {
        if (h2->state < H2O_HTTP2_CONN_STATE_IS_CLOSING) {
            h2o_http2__encode_rst_stream_frame(&h2->_write.buf, e->stream_id, -H2O_HTTP2_ERROR_NONE);
            h2o_http2_conn_request_write(h2);
        }
        e->stream_id = 0; /* its late frames get h2o's answer for a closed stream */
        return;
    }
    /* the stream's window, as h2o's update_input_window keeps it for the streams it reads */
    e->window -= (int32_t)flen;
    if ((int64_t)e->window * 2 < (int64_t)H2O_HTTP2_SETTINGS_HOST.initial_window_size) {
        int32_t delta = (int32_t)(H2O_HTTP2_SETTINGS_HOST.initial_window_size - e->window);
        h2o_http2_encode_window_update_frame(&h2->_write.buf, e->stream_id, delta);
        h2o_http2_conn_request_write(h2);
        e->window += delta;
    }
}

/* Refuses stream stream_id when it is receiving its body and that body is over the limit already. */
static void conn_check_stream(http_conn_t *c, h2o_http2_conn_t *h2, uint32_t stream_id)
{
    h2o_http2_stream_t *stream = h2o_http2_conn_get_stream(h2, stream_id);
    if (stream != NULL && stream->state == H2O_HTTP2_STREAM_STATE_RECV_BODY && stream_over_limit(stream))
        conn_refuse(c, h2, stream);
}

/* A DATA frame h2o is about to read (flags, payload of flen bytes): 1 when it has been dealt with here (dropped; its
 * stream refused first when the frame takes the body over the limit), 0 when h2o reads it. */
static int conn_data_frame(http_conn_t *c, h2o_http2_conn_t *h2, uint32_t stream_id, uint8_t flags, const uint8_t *payload,
                           size_t flen)
{
    h2o_http2_stream_t *stream = h2o_http2_conn_get_stream(h2, stream_id);
    conn_refused_t *e;

    if (stream != NULL && stream->state == H2O_HTTP2_STREAM_STATE_RECV_BODY) {
        size_t n = flen;
        if ((flags & H2O_HTTP2_FRAME_FLAG_PADDED) != 0) {
            if (flen < 1 || (size_t)payload[0] + 1 > flen)
                return 0; /* malformed: h2o answers it */
            n = flen - 1 - payload[0];
        }
        if (stream->_req_body->size + n <= conns.max_body)
            return 0;
        conn_refuse(c, h2, stream);
    }
    if ((e = refused_find(c, stream_id)) == NULL)
        return 0; /* h2o's rules for every other stream */
    conn_drop_data(h2, e, flags, flen);
    return 1;
}

/* In front of h2o's frame reader (h2o_http2_conn_t._read_expect): called with the connection's unread input, returns
 * the bytes consumed (or h2o's incomplete / error codes). */
static ssize_t conn_expect(h2o_http2_conn_t *h2, const uint8_t *src, size_t len, const char **err_desc)
{
    http_conn_t *c = h2->sock->on_close.data;
    uint32_t flen = 0, stream_id = 0;
    int type = -1;
    ssize_t ret;

    if (len >= H2O_HTTP2_FRAME_HEADER_SIZE) {
        flen = h2o_http2_decode24u(src);
        type = src[3];
        stream_id = h2o_http2_decode32u(src + 5) & 0x7fffffff;
    }
    /* a whole DATA frame of a valid size while h2o reads any frame and takes new streams (not the preface, whose first
     * bytes decode as a length over the frame size limit; not inside a header block; not after GOAWAY) */
    if (type == H2O_HTTP2_FRAME_TYPE_DATA && stream_id != 0 && flen <= H2O_HTTP2_SETTINGS_HOST.max_frame_size &&
        len >= H2O_HTTP2_FRAME_HEADER_SIZE + flen && h2->_headers_unparsed == NULL && h2->state == H2O_HTTP2_CONN_STATE_OPEN &&
        conn_data_frame(c, h2, stream_id, src[4], src + H2O_HTTP2_FRAME_HEADER_SIZE, flen))
        return H2O_HTTP2_FRAME_HEADER_SIZE + flen;
    ret = c->h2_expect(h2, src, len, err_desc);
    /* h2o moves between its readers (preface, any frame, the CONTINUATION of a header block): stay in front */
    if (h2->_read_expect != conn_expect) {
        c->h2_expect = h2->_read_expect;
        h2->_read_expect = conn_expect;
    }
    /* a header block is complete: a content-length over the limit is refused before the body comes */
    if (ret > 0 && (type == H2O_HTTP2_FRAME_TYPE_HEADERS || type == H2O_HTTP2_FRAME_TYPE_CONTINUATION) &&
        h2->_headers_unparsed == NULL && h2->state == H2O_HTTP2_CONN_STATE_OPEN)
        conn_check_stream(c, h2, stream_id);
    return ret;
}

/* Whether h2o's stream table of h2 looks as h2o-compat/khash.h reads it: a power-of-two bucket count (or none), counts
 * within it, and every entry's key the id of the stream it holds. */
static int streams_table_sane(const h2o_http2_conn_t *h2)
{
    const khash_t(h2o_http2_stream_t) *t = h2->streams;
    khint_t n = t->n_buckets;

    if ((n & (n - 1)) != 0 || t->size > n || t->n_occupied > n || t->upper_bound > n || (n != 0 && t->flags == NULL))
        return 0;
    for (khiter_t i = 0; i < n; ++i) {
        if (klima_kh_exist(t, i) && (t->vals[i] == NULL || t->vals[i]->stream_id != t->keys[i]))
            return 0;
    }
    return 1;
}

/* Puts conn_expect in front of h2's frame reader, then refuses what h2o read before over the limit (the first flight). */
static void conn_hook(h2o_http2_conn_t *h2)
{
    http_conn_t *c;
    uint32_t ids[128];
    size_t n = 0;

    if (h2->sock == NULL || h2->sock->on_close.cb != on_close)
        return; /* an h2c upgrade whose 101 is not sent yet: its first request hooks it */
    if (!streams_table_sane(h2)) {
        if (!__atomic_exchange_n(&conns.hook_broken, 1, __ATOMIC_RELAXED))
            log_error("libh2o's HTTP/2 stream table is not laid out as this build expects (is libh2o 2.2.5?): HTTP/2 request "
                      "bodies over KLIMA_MAX_BODY_BYTES get RST_STREAM REFUSED_STREAM instead of 413 from now on");
        return;
    }
    c = h2->sock->on_close.data;
    c->h2_expect = h2->_read_expect;
    h2->_read_expect = conn_expect;
    for (khiter_t i = 0; i < kh_end(h2->streams) && n < sizeof(ids) / sizeof(ids[0]); ++i) {
        if (klima_kh_exist(h2->streams, i) && kh_val(h2->streams, i)->state == H2O_HTTP2_STREAM_STATE_RECV_BODY &&
            stream_over_limit(kh_val(h2->streams, i)))
            ids[n++] = kh_val(h2->streams, i)->stream_id;
    }
    for (size_t k = 0; k < n; ++k)
        conn_check_stream(c, h2, ids[k]);
}

void http_conn_hook_new(http_worker_t *w)
{
    h2o_linklist_t *anchor = &w->ctx.http2._conns;

    if (__atomic_load_n(&conns.hook_broken, __ATOMIC_RELAXED))
        return;
    /* h2o appends a new connection at the tail: walk back to the newest one already hooked */
    for (h2o_linklist_t *n = anchor->prev; n != anchor; n = n->prev) {
        h2o_http2_conn_t *h2 = H2O_STRUCT_FROM_MEMBER(h2o_http2_conn_t, _conns, n);
        if (h2->_read_expect == conn_expect)
            break;
        conn_hook(h2);
    }
}

int http_conn_body_refused_or_reply(h2o_req_t *req)
{
    h2o_http2_conn_t *h2 = (h2o_http2_conn_t *)req->conn;
    h2o_http2_stream_t *stream;
    http_conn_t *c;

    if (req->version < 0x200)
        return 0;
    if (h2->_read_expect != conn_expect && !__atomic_load_n(&conns.hook_broken, __ATOMIC_RELAXED))
        conn_hook(h2);
    stream = H2O_STRUCT_FROM_MEMBER(h2o_http2_stream_t, req, req);
    /* a refused stream: h2o made a body buffer for it, and its request has no entity */
    if (stream->_req_body == NULL || req->entity.base != NULL || (c = conn_of(req)) == NULL ||
        refused_find(c, stream->stream_id) == NULL)
        return 0;
    http_problem_sendf(req, HTTP_PROBLEM_PAYLOAD_TOO_LARGE, NULL, HTTP_CONN_BODY_LIMIT_DETAIL, conns.max_body);
    return 1;
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
