/*
 * http/server — listeners, worker threads, dispatch to the route table, graceful shutdown.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strutil.h"
#include "core/time.h"
#include "http/accesslog.h"
#include "http/conn.h"
#include "http/dispatch.h"
#include "http/filter.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/tls.h"

typedef struct server_handler {
    h2o_handler_t super;
} server_handler_t;

/* Process-wide, written before the workers start and read-only afterwards. */
static struct {
    h2o_globalconf_t globalconf;
    const http_server_hooks_t *hooks;
    const config_t *cfg;
    http_worker_t *workers;
    unsigned nworkers;
    pthread_barrier_t started;
    int start_failed;
    metrics_t *metrics;
    int access_log;
    /* listener and limits: the TLS context (NULL = plain HTTP), the connection cap and the connections open now */
    SSL_CTX *ssl_ctx;
    unsigned max_connections;
    unsigned connections; /* atomic: every worker accepts and closes */
    int m_connections, m_refused;
} server;

typedef struct shutdown_message {
    h2o_multithread_message_t super;
} shutdown_message_t;

http_worker_t *http_worker_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(http_worker_t, ctx, req->conn->ctx);
}

/* Mirrors this worker's connection counts into the metrics registry (when there is one). */
static void connections_publish(http_worker_t *w)
{
    if (server.metrics == NULL)
        return;
    metrics_set(server.metrics, w->id, server.m_connections, 0, (int64_t)w->connections);
    metrics_set(server.metrics, w->id, server.m_refused, 0, (int64_t)w->connections_refused);
}

/* Through http/conn's sock->on_close of every accepted connection: h2o calls it on the worker's thread when it disposes
 * the socket, whatever ended the connection (either side closed it, a timeout, an upgrade to HTTP/2 keeps the same
 * socket). */
static void on_connection_closed(http_worker_t *w)
{

    __atomic_sub_fetch(&server.connections, 1, __ATOMIC_RELAXED);
    --w->connections;
    connections_publish(w);
}

/* Over the cap a new connection is closed at once: the client sees the connection reset (a load balancer moves on to
 * another instance) instead of waiting unanswered in the listen backlog. */
static void refuse_connection(http_worker_t *w, h2o_socket_t *sock)
{
    uint64_t now = h2o_now(w->loop);

    h2o_socket_close(sock);
    ++w->connections_refused;
    connections_publish(w);
    if (w->_refused_warned_at == 0 || now - w->_refused_warned_at >= 10000) {
        w->_refused_warned_at = now;
        log_warn("worker %u: %u connections open, the limit of KLIMA_MAX_CONNECTIONS: closing new connections (%llu so far "
                 "on this thread)",
                 w->id, server.max_connections, (unsigned long long)w->connections_refused);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    http_worker_t *w = listener->data;

    if (err != NULL)
        return;
    /* accept a bounded batch per wake-up so one busy listener cannot starve the loop */
    for (int i = 0; i < 32; ++i) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        /* one process-wide count (an atomic add per connection, not per request): the cap holds however the kernel
         * spreads connections over the workers' SO_REUSEPORT sockets */
        if (__atomic_add_fetch(&server.connections, 1, __ATOMIC_RELAXED) > server.max_connections) {
            __atomic_sub_fetch(&server.connections, 1, __ATOMIC_RELAXED);
            refuse_connection(w, sock);
            continue;
        }
        if (http_conn_accepted(w, sock, on_connection_closed) != 0) {
            __atomic_sub_fetch(&server.connections, 1, __ATOMIC_RELAXED);
            h2o_socket_close(sock);
            continue;
        }
        ++w->connections;
        connections_publish(w);
        h2o_accept(&w->_accept_ctx, sock);
    }
}

static void close_listeners(http_worker_t *w)
{
    for (size_t i = 0; i < w->_nlisteners; ++i) {
        if (w->_listeners[i] != NULL) {
            h2o_socket_read_stop(w->_listeners[i]);
            h2o_socket_close(w->_listeners[i]);
            w->_listeners[i] = NULL;
        }
    }
}

static void on_shutdown_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_worker_t *w = H2O_STRUCT_FROM_MEMBER(http_worker_t, _shutdown_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        free(m);
    }
    if (w->stopping)
        return;
    w->stopping = 1;
    close_listeners(w);
    h2o_context_request_shutdown(&w->ctx);
}

static void *worker_main(void *arg)
{
    http_worker_t *w = arg;
    uint64_t deadline = 0;

    if (server.access_log && (w->_accesslog = http_accesslog_create(STDOUT_FILENO)) == NULL)
        log_warn("worker %u: out of memory for the access log; this thread logs no requests", w->id);
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, &server.globalconf);
    w->_accept_ctx.ctx = &w->ctx;
    w->_accept_ctx.hosts = server.globalconf.hosts;
    w->_accept_ctx.ssl_ctx = server.ssl_ctx;
    h2o_multithread_register_receiver(w->ctx.queue, &w->_shutdown_receiver, on_shutdown_message);
    if (server.hooks->worker_start != NULL && (w->app = server.hooks->worker_start(w)) == NULL)
        __atomic_store_n(&server.start_failed, 1, __ATOMIC_SEQ_CST);
    pthread_barrier_wait(&server.started);
    if (__atomic_load_n(&server.start_failed, __ATOMIC_SEQ_CST))
        return NULL;
    for (size_t i = 0; i < w->_nlisteners; ++i) {
        w->_listeners[i] = h2o_evloop_socket_create(w->loop, w->_fds[i], H2O_SOCKET_FLAG_DONT_READ);
        w->_listeners[i]->data = w;
        h2o_socket_read_start(w->_listeners[i], on_accept);
    }

    while (1) {
        h2o_evloop_run(w->loop, 100);
        http_conn_hook_new(w); /* the HTTP/2 connections of this iteration get the body limit's frame hook */
        if (w->_accesslog != NULL)
            http_accesslog_tick(w->_accesslog, h2o_now(w->loop));
        if (!w->stopping)
            continue;
        if (deadline == 0)
            deadline = time_mono_ms() + server.cfg->shutdown_timeout_ms;
        if (w->inflight == 0 || time_mono_ms() >= deadline)
            break;
    }
    if (w->inflight != 0)
        log_warn("worker %u: %llu requests still running at the shutdown deadline", w->id, (unsigned long long)w->inflight);
    if (server.hooks->worker_stop != NULL)
        server.hooks->worker_stop(w);
    if (w->_accesslog != NULL && http_accesslog_dropped(w->_accesslog) != 0)
        log_warn("worker %u: %llu bytes of access log could not be written", w->id,
                 (unsigned long long)http_accesslog_dropped(w->_accesslog));
    http_accesslog_destroy(w->_accesslog);
    w->_accesslog = NULL;
    return NULL;
}

/* Opens one SO_REUSEPORT listening socket on addr ("host:port"). Returns the fd or -1 with err filled. */
static int open_listener(const char *addr, char *err, size_t errlen)
{
    char host[256], port_s[8];
    uint16_t port;
    struct addrinfo hints = {0}, *res = NULL;
    int fd = -1, on = 1, r;

    if (str_parse_hostport(addr, host, sizeof(host), &port) != 0) {
        str_fmt(err, errlen, "KLIMA_LISTEN: '%s' is not HOST:PORT", addr);
        return -1;
    }
    str_fmt(port_s, sizeof(port_s), "%u", (unsigned)port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((r = getaddrinfo(host[0] != '\0' ? host : NULL, port_s, &hints, &res)) != 0) {
        str_fmt(err, errlen, "KLIMA_LISTEN: cannot resolve '%s': %s", addr, gai_strerror(r));
        return -1;
    }
    if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, 4096) != 0) {
        str_fmt(err, errlen, "KLIMA_LISTEN: cannot listen on %s: %s", addr, strerror(errno));
        if (fd != -1)
            close(fd);
        fd = -1;
    } else {
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &on, sizeof(on));
    }
    freeaddrinfo(res);
    return fd;
}

static void setup_globalconf(void)
{
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    server_handler_t *handler;

    h2o_config_init(&server.globalconf);
    server.globalconf.server_name = h2o_iovec_init(H2O_STRLIT("klimaspejl"));
    /* Limits, each set here even where it equals h2o's default so that what is documented is what runs. Compiled into
     * libh2o and not settable: a request head of at most H2O_MAX_REQLEN bytes (8 KiB + 4 KiB x 100) and
     * H2O_MAX_HEADERS (100) fields over HTTP/1.1 (400 beyond), the same head size over HTTP/2 (REFUSED_STREAM beyond),
     * and SETTINGS_MAX_CONCURRENT_STREAMS 100, with streams beyond it refused (RST_STREAM REFUSED_STREAM). */
    /* HTTP/1.1 answers 413 itself; over HTTP/2, http/conn answers 413 before h2o's own refusal (REFUSED_STREAM) would
     * apply (see http_conn_hook_new) */
    server.globalconf.max_request_entity_size = server.cfg->max_body_bytes;
    server.globalconf.handshake_timeout = server.cfg->tls_handshake_timeout_ms;
    /* HTTP/1.1: one deadline for a whole request, from the connection (or the previous response) to its last byte;
     * bytes trickling in do not extend it */
    server.globalconf.http1.req_timeout = server.cfg->request_timeout_ms;
    server.globalconf.http1.upgrade_to_http2 = 1;
    /* HTTP/2: any frame received restarts the idle timer while no request is in progress */
    server.globalconf.http2.idle_timeout = server.cfg->idle_timeout_ms;
    server.globalconf.http2.max_concurrent_requests_per_connection = server.cfg->h2_max_streams;
    server.globalconf.http2.max_streams_for_priority = 16;
    host = h2o_config_register_host(&server.globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    /* HSTS on every response when TLS is on; h2o's own early 400/413 (answered on the host's fallback path, before any
     * routing) become problem+json */
    http_filter_config_t filter = {.hsts = server.ssl_ctx != NULL, .rewrite_errors = 0, .max_body = server.cfg->max_body_bytes};
    /* h2o runs a path's filters in the reverse order of registration: this one after compress, which has set
     * Content-Encoding by then (a compressed body's ETag names its coding) */
    http_filter_register(path, &filter);
    filter.rewrite_errors = 1;
    http_filter_register(&host->fallback_path, &filter);
    handler = (server_handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = http_dispatch;
    /* gzip for handlers that opt in (req->compress_hint = H2O_COMPRESS_HINT_ENABLE) or whose type h2o deems compressible,
     * when the client accepts it; level 1: cheap on CPU, most of the gain on CSV and JSON */
    h2o_compress_args_t compress = {0};
    compress.min_size = 512;
    compress.gzip.quality = 1;
    compress.brotli.quality = -1;
    h2o_compress_register(path, &compress);
}

/* The TLS context (when a certificate is configured), the connection cap fitted to the open-file limit, and the
 * connection metrics. Returns 0, or -1 after logging why (a TLS message names KLIMA_TLS_CERT or KLIMA_TLS_KEY). */
static int setup_tls_and_limits(const config_t *cfg)
{
    char err[512];
    struct rlimit rl;
    /* descriptors needed besides client connections: per worker its listeners, database and download connections, event
     * loop and queue; then the LISTEN connection, standard streams, GeoIP and key files */
    uint64_t reserve = 64 + (uint64_t)cfg->threads * (cfg->nlisten + cfg->db_conns + cfg->downloads + 4);
    uint64_t want = (uint64_t)cfg->max_connections + reserve;

    if (cfg->tls_cert != NULL && (server.ssl_ctx = http_tls_create(cfg->tls_cert, cfg->tls_key, err, sizeof(err))) == NULL) {
        log_error("%s", err);
        return -1;
    }
    server.max_connections = cfg->max_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        /* raise the soft limit as far as the hard one allows, then fit the cap under it */
        struct rlimit raised = {rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = raised.rlim_cur;
        if (rl.rlim_cur < want) {
            server.max_connections = rl.rlim_cur > 2 * reserve ? (unsigned)(rl.rlim_cur - reserve) : (unsigned)(rl.rlim_cur / 2);
            log_warn("KLIMA_MAX_CONNECTIONS: %u connections do not fit the open-file limit (RLIMIT_NOFILE %llu, LimitNOFILE= "
                     "under systemd); accepting at most %u",
                     cfg->max_connections, (unsigned long long)rl.rlim_cur, server.max_connections);
        }
    }
    if (http_conn_init(cfg, server.metrics) != 0) {
        log_error("out of memory for the connection metrics");
        return -1;
    }
    if (server.metrics != NULL) {
        metrics_family_t open = {
            .name = "klimaspejl_http_connections",
            .help = "Client connections open (TCP; TLS handshakes included).",
            .type = METRICS_GAUGE,
            .merge = METRICS_MERGE_SUM,
        };
        metrics_family_t refused = {
            .name = "klimaspejl_http_connections_refused_total",
            .help = "Connections closed as soon as they were accepted because KLIMA_MAX_CONNECTIONS connections were open.",
            .type = METRICS_COUNTER,
            .show_zero = 1,
        };
        if ((server.m_connections = metrics_register(server.metrics, &open)) < 0 ||
            (server.m_refused = metrics_register(server.metrics, &refused)) < 0) {
            log_error("out of memory for the connection metrics");
            return -1;
        }
    }
    return 0;
}

/* Every worker's own listening sockets (SO_REUSEPORT: the kernel spreads connections over the workers). */
static int open_listeners(const config_t *cfg)
{
    char err[512];
    for (unsigned t = 0; t < server.nworkers; ++t) {
        http_worker_t *w = &server.workers[t];
        w->id = t;
        for (size_t i = 0; i < cfg->nlisten; ++i) {
            if ((w->_fds[i] = open_listener(cfg->listen[i], err, sizeof(err))) == -1) {
                log_error("%s", err);
                return -1;
            }
            w->_nlisteners = i + 1;
        }
    }
    return 0;
}

/* Tells every worker to finish its in-flight requests and stop; returns when all have. */
static void stop_workers(void)
{
    for (unsigned t = 0; t < server.nworkers; ++t) {
        shutdown_message_t *m = calloc(1, sizeof(*m));
        if (m == NULL)
            abort();
        h2o_multithread_send_message(&server.workers[t]._shutdown_receiver, &m->super);
    }
    for (unsigned t = 0; t < server.nworkers; ++t)
        pthread_join(server.workers[t]._thread, NULL);
}

int http_server_run(const config_t *cfg, const http_route_t *routes, size_t nroutes, const http_server_hooks_t *hooks)
{
    sigset_t sigs;
    int sig, ret = -1;
    unsigned started = 0;

    server.cfg = cfg;
    server.hooks = hooks;
    server.metrics = hooks->metrics;
    server.access_log = cfg->access_log;
    server.nworkers = cfg->threads;
    server.workers = calloc(server.nworkers, sizeof(*server.workers));
    if (server.workers == NULL || http_dispatch_init(routes, nroutes, hooks) != 0 || setup_tls_and_limits(cfg) != 0)
        goto exit;
    setup_globalconf();
    signal(SIGPIPE, SIG_IGN);

    if (open_listeners(cfg) != 0)
        goto exit;

    /* the workers inherit this mask; only this thread takes the signals, through sigwait */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    pthread_barrier_init(&server.started, NULL, server.nworkers + 1);
    for (; started < server.nworkers; ++started) {
        if (pthread_create(&server.workers[started]._thread, NULL, worker_main, &server.workers[started]) != 0) {
            log_error("cannot start worker thread %u: %s", started, strerror(errno));
            abort(); /* the barrier cannot be released with fewer threads */
        }
    }
    pthread_barrier_wait(&server.started);
    if (server.start_failed) {
        log_error("a worker failed to start");
        for (unsigned t = 0; t < started; ++t)
            pthread_join(server.workers[t]._thread, NULL);
        goto exit;
    }
    for (size_t i = 0; i < cfg->nlisten; ++i) {
        if (server.ssl_ctx != NULL)
            log_info("listening on https://%s (TLS 1.2/1.3; HTTP/2 and HTTP/1.1 by ALPN), %u threads", cfg->listen[i],
                     server.nworkers);
        else
            log_info("listening on http://%s (HTTP/1.1 and h2c), %u threads", cfg->listen[i], server.nworkers);
    }

    sigwait(&sigs, &sig);
    log_info("%s received: finishing in-flight requests (up to %u ms); a second signal stops at once",
             sig == SIGINT ? "SIGINT" : "SIGTERM", cfg->shutdown_timeout_ms);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    stop_workers();
    log_info("stopped");
    ret = 0;

exit:
    http_dispatch_free();
    SSL_CTX_free(server.ssl_ctx);
    server.ssl_ctx = NULL;
    return ret;
}
