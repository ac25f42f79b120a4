/*
 * http/server — listeners and worker threads. Each worker has its own h2o evloop, h2o context and SO_REUSEPORT listening
 * sockets; nothing is shared between workers on the request path. HTTP/1.1 and HTTP/2 with prior knowledge (h2c) are
 * served on the same port; with KLIMA_TLS_CERT/KLIMA_TLS_KEY every listener speaks TLS instead (HTTP/2 and HTTP/1.1 by
 * ALPN) and every response carries Strict-Transport-Security. The connection and request limits of config_t (open
 * connections per process, HTTP/2 streams, body size, request/idle/handshake timeouts) are applied here.
 */
#ifndef KLIMA_HTTP_SERVER_H
#define KLIMA_HTTP_SERVER_H

#include <h2o.h>
#include <stdint.h>

#include "core/config.h"
#include "http/router.h"

typedef struct http_worker http_worker_t;

typedef struct http_server_hooks {
    /* Called on each worker's thread before it accepts connections; the result is stored in worker->app. Returning NULL
     * aborts the start. */
    void *(*worker_start)(http_worker_t *worker);
    /* Called on the worker's thread after its last request finished (or the shutdown deadline passed). */
    void (*worker_stop)(http_worker_t *worker);
    /* Optional: a registry created for cfg->threads workers. The server registers its request families in it
     * (klimaspejl_http_requests_total{route,method,status}, klimaspejl_http_request_duration_seconds{route}) and
     * counts every request when it is disposed, on the worker's thread. */
    struct metrics *metrics;
    /* Optional, for the access log (cfg->access_log): writes the client's ISO country code ("ZZ" when unknown) to out.
     * Called on the request's thread while the request is being routed. NULL logs "ZZ". */
    void (*country_of)(h2o_req_t *req, char out[3]);
    /* Optional: answers OPTIONS on a known path (route: the first route of the path; allow: its methods, "GET, HEAD"
     * style) and returns 0. NULL: OPTIONS gets 405 like any method the path does not route. */
    int (*options)(h2o_req_t *req, const http_route_t *route, const char *allow);
} http_server_hooks_t;

struct http_worker {
    unsigned id;
    h2o_context_t ctx;
    h2o_evloop_t *loop;
    void *app;                    /* what hooks.worker_start returned */
    uint64_t inflight;            /* requests accepted and not yet disposed */
    int stopping;                 /* shutdown requested: listeners closed */
    uint64_t connections;         /* client connections open on this worker */
    uint64_t connections_refused; /* closed at accept because the process had KLIMA_MAX_CONNECTIONS open */
    /* private */
    struct http_accesslog *_accesslog; /* NULL when the access log is off */
    uint64_t _refused_warned_at;       /* loop time (ms) of the last "connection limit reached" warning */
    h2o_accept_ctx_t _accept_ctx;
    h2o_socket_t *_listeners[CONFIG_MAX_LISTEN];
    int _fds[CONFIG_MAX_LISTEN];
    size_t _nlisteners;
    h2o_multithread_receiver_t _shutdown_receiver;
    pthread_t _thread;
};

/* Creates the listening sockets for every worker and address, starts the workers, then blocks until SIGINT or SIGTERM,
 * stops accepting, lets in-flight requests finish within cfg->shutdown_timeout_ms and returns 0. A second signal exits
 * the process at once. Returns -1 (with a message on stderr) if the TLS certificate or key cannot be used (the message
 * names KLIMA_TLS_CERT or KLIMA_TLS_KEY), an address cannot be bound or a worker fails to start. routes must stay valid
 * while the server runs: a matched route's handler is called for its requests (http/dispatch.h). */
int http_server_run(const config_t *cfg, const http_route_t *routes, size_t nroutes, const http_server_hooks_t *hooks);

/* The worker that is serving req. */
http_worker_t *http_worker_of(h2o_req_t *req);

#endif
