/*
 * baseline — a bare libh2o "hello" server, the ceiling for benchmark B1.
 *
 * It does the least work an h2o server can do: N threads, each with its own evloop, context and SO_REUSEPORT listener,
 * answering every request (HTTP/1.1, or HTTP/2 with prior knowledge, which h2o's HTTP/1 handler switches to on the
 * "PRI * HTTP/2.0" preface) with 200, content-type application/json, cache-control no-store and the body
 * {"status":"ok"} — the same response klimaspejl's /healthz sends, so any gap measured against it is the cost of
 * klimaspejl's own code (routing, configuration, logging).
 *
 * With --body FILE (and any --header "name: value") it answers with that body and those fields instead: given the
 * bytes of a klimaspejl response (benchmarks/run, row B2S), it is the ceiling for serving exactly that response, so the
 * gap to it is klimaspejl's own work and not the size of what it sends.
 *
 * Usage: baseline [--listen HOST:PORT] [--threads N] [--body FILE] [--header "name: value"]...
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2o.h"

#define BASELINE_DEFAULT_LISTEN "127.0.0.1:8081"
#define BASELINE_MAX_THREADS 256

static const char baseline_body[] = "{\"status\":\"ok\"}";

#define BASELINE_MAX_HEADERS 32

/* What every request gets: the /healthz answer, or --body and --header (read once at start, then read-only). */
static struct {
    h2o_iovec_t body;
    h2o_iovec_t names[BASELINE_MAX_HEADERS], values[BASELINE_MAX_HEADERS];
    const h2o_token_t *tokens[BASELINE_MAX_HEADERS]; /* the name's h2o token, or NULL */
    size_t nheaders;
} baseline_response = {.body = {(char *)baseline_body, sizeof(baseline_body) - 1}};

/* One worker thread: its own loop, context and listener, so threads share nothing on the request path. */
typedef struct baseline_worker_t {
    pthread_t thread;
    int listen_fd;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
} baseline_worker_t;

static h2o_globalconf_t baseline_config;

static int baseline_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = baseline_response.body.len;
    if (baseline_response.nheaders == 0) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    }
    for (size_t i = 0; i < baseline_response.nheaders; i++) {
        h2o_iovec_t v = baseline_response.values[i];
        if (baseline_response.tokens[i] != NULL)
            h2o_add_header(&req->pool, &req->res.headers, baseline_response.tokens[i], NULL, v.base, v.len);
        else
            h2o_add_header_by_str(&req->pool, &req->res.headers, baseline_response.names[i].base, baseline_response.names[i].len, 0,
                                  NULL, v.base, v.len);
    }
    if (baseline_response.nheaders == 0) {
        h2o_send_inline(req, baseline_response.body.base, baseline_response.body.len);
    } else {
        /* no copy, as klimaspejl's cache hits send theirs (the body lives as long as the process) */
        static h2o_generator_t generator = {NULL, NULL};
        h2o_iovec_t body = baseline_response.body;
        h2o_start_response(req, &generator);
        if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
            h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        else
            h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
    }
    return 0;
}

/* --body FILE: the whole file, kept for the process's life. Returns 0, or -1 after printing why. */
static int baseline_read_body(const char *path)
{
    FILE *f = fopen(path, "rb");
    long size;
    char *buf = NULL;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (buf = malloc((size_t)size + 1)) == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "baseline: cannot read --body %s\n", path);
        free(buf);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    baseline_response.body = h2o_iovec_init(buf, (size_t)size);
    return 0;
}

/* --header "name: value": the name lower-cased (HTTP/2), as an h2o token when it is one. Returns 0, or -1. */
static int baseline_add_header(char *arg)
{
    char *colon = strchr(arg, ':'), *v;
    size_t n = baseline_response.nheaders;

    if (colon == NULL || colon == arg || n == BASELINE_MAX_HEADERS) {
        fprintf(stderr, "baseline: --header expects \"name: value\" (at most %d), got \"%s\"\n", BASELINE_MAX_HEADERS, arg);
        return -1;
    }
    for (char *p = arg; p < colon; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    for (v = colon + 1; *v == ' '; v++)
        ;
    baseline_response.names[n] = h2o_iovec_init(arg, (size_t)(colon - arg));
    baseline_response.values[n] = h2o_iovec_init(v, strlen(v));
    baseline_response.tokens[n] = h2o_lookup_token(arg, (size_t)(colon - arg));
    baseline_response.nheaders = n + 1;
    return 0;
}

static void baseline_on_accept(h2o_socket_t *listener, const char *err)
{
    baseline_worker_t *worker = listener->data;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    /* Drain the backlog: under load many connections arrive per wakeup. */
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&worker->accept_ctx, sock);
}

/*
 * Opens a non-blocking TCP listener on addr with SO_REUSEPORT, so every worker can bind the same address and the
 * kernel spreads connections between them. Returns the fd, or -1 after printing why.
 */
static int baseline_listen(const struct addrinfo *addr)
{
    int fd, on = 1;

    fd = socket(addr->ai_family, addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, addr->ai_protocol);
    if (fd == -1) {
        perror("baseline: socket");
        goto fail;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
        perror("baseline: setsockopt");
        goto fail;
    }
    if (bind(fd, addr->ai_addr, addr->ai_addrlen) != 0) {
        perror("baseline: bind");
        goto fail;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        perror("baseline: listen");
        goto fail;
    }
    return fd;

fail:
    if (fd != -1)
        close(fd);
    return -1;
}

static void *baseline_worker_main(void *arg)
{
    baseline_worker_t *worker = arg;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_socket_t *listener;

    h2o_context_init(&worker->ctx, loop, &baseline_config);
    worker->accept_ctx.ctx = &worker->ctx;
    worker->accept_ctx.hosts = baseline_config.hosts;
    listener = h2o_evloop_socket_create(loop, worker->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = worker;
    h2o_socket_read_start(listener, baseline_on_accept);

    while (h2o_evloop_run(loop, INT32_MAX) == 0)
        ;
    fprintf(stderr, "baseline: event loop failed\n");
    exit(1);
}

/* Parses a decimal in [min, max]; returns 0 on success, -1 if s is not entirely such a number. */
static int baseline_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/*
 * Resolves "HOST:PORT" (the host may be a bracketed IPv6 literal) into a freshly allocated addrinfo list owned by the
 * caller (freeaddrinfo). Returns NULL after printing why.
 */
static struct addrinfo *baseline_resolve(const char *listen_arg)
{
    struct addrinfo hints = {0}, *res = NULL;
    const char *colon = strrchr(listen_arg, ':');
    char host[256], port_str[8];
    unsigned long port;
    size_t host_len;
    int rc;

    if (colon == NULL || baseline_parse_uint(colon + 1, 1, 65535, &port) != 0) {
        fprintf(stderr, "baseline: --listen expects HOST:PORT with a port in 1..65535, got \"%s\"\n", listen_arg);
        return NULL;
    }
    host_len = (size_t)(colon - listen_arg);
    if (host_len >= 2 && listen_arg[0] == '[' && listen_arg[host_len - 1] == ']') {
        listen_arg++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof(host)) {
        fprintf(stderr, "baseline: --listen expects HOST:PORT, got \"%s\"\n", listen_arg);
        return NULL;
    }
    memcpy(host, listen_arg, host_len);
    host[host_len] = '\0';

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port_str, sizeof(port_str), "%lu", port);
    if ((rc = getaddrinfo(host, port_str, &hints, &res)) != 0) {
        fprintf(stderr, "baseline: cannot resolve \"%s\": %s\n", host, gai_strerror(rc));
        return NULL;
    }
    return res;
}

static void baseline_usage(FILE *out)
{
    fprintf(out,
            "usage: baseline [--listen HOST:PORT] [--threads N] [--body FILE] [--header \"name: value\"]...\n"
            "  --listen HOST:PORT  address to serve on (default " BASELINE_DEFAULT_LISTEN ")\n"
            "  --threads N         worker threads, 1..%d (default: the number of online CPUs)\n"
            "  --body FILE         answer with this body instead of {\"status\":\"ok\"}\n"
            "  --header H          add the response field H (\"name: value\"; repeatable; replaces the default two)\n",
            BASELINE_MAX_THREADS);
}

int main(int argc, char **argv)
{
    const char *listen_arg = BASELINE_DEFAULT_LISTEN;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long nthreads = ncpu > 0 ? (unsigned long)ncpu : 1;
    static baseline_worker_t workers[BASELINE_MAX_THREADS];
    struct addrinfo *addr = NULL;
    h2o_hostconf_t *hostconf;
    h2o_pathconf_t *pathconf;
    h2o_handler_t *handler;
    unsigned long i;
    int status = 1;

    if (nthreads > BASELINE_MAX_THREADS)
        nthreads = BASELINE_MAX_THREADS;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            baseline_usage(stdout);
            return 0;
        } else if (strcmp(argv[a], "--listen") == 0 && a + 1 < argc) {
            listen_arg = argv[++a];
        } else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            if (baseline_parse_uint(argv[++a], 1, BASELINE_MAX_THREADS, &nthreads) != 0) {
                fprintf(stderr, "baseline: --threads expects a number in 1..%d, got \"%s\"\n", BASELINE_MAX_THREADS, argv[a]);
                return 2;
            }
        } else if (strcmp(argv[a], "--body") == 0 && a + 1 < argc) {
            if (baseline_read_body(argv[++a]) != 0)
                return 2;
        } else if (strcmp(argv[a], "--header") == 0 && a + 1 < argc) {
            if (baseline_add_header(argv[++a]) != 0)
                return 2;
        } else {
            fprintf(stderr, "baseline: unknown or incomplete argument \"%s\"\n", argv[a]);
            baseline_usage(stderr);
            return 2;
        }
    }

    signal(SIGPIPE, SIG_IGN);
    if ((addr = baseline_resolve(listen_arg)) == NULL)
        goto exit;

    h2o_config_init(&baseline_config);
    /* The same `server` header as klimaspejl's, so both send byte-for-byte the same response. */
    baseline_config.server_name = h2o_iovec_init(H2O_STRLIT("klimaspejl"));
    hostconf = h2o_config_register_host(&baseline_config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    pathconf = h2o_config_register_path(hostconf, "/", 0);
    handler = h2o_create_handler(pathconf, sizeof(*handler));
    handler->on_req = baseline_on_req;

    /* Bind every listener before starting any thread, so a bad address fails fast and the port is ready once we
     * print. */
    for (i = 0; i < nthreads; i++) {
        if ((workers[i].listen_fd = baseline_listen(addr)) == -1)
            goto exit;
    }
    for (i = 0; i < nthreads; i++) {
        int rc = pthread_create(&workers[i].thread, NULL, baseline_worker_main, &workers[i]);
        if (rc != 0) {
            fprintf(stderr, "baseline: pthread_create: %s\n", strerror(rc));
            goto exit;
        }
    }
    fprintf(stderr, "baseline: listening on %s with %lu thread(s)\n", listen_arg, nthreads);
    for (i = 0; i < nthreads; i++)
        pthread_join(workers[i].thread, NULL);
    status = 0;

exit:
    if (addr != NULL)
        freeaddrinfo(addr);
    return status;
}
