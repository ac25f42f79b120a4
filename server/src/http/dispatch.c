/*
 * http/dispatch — a request's way from h2o to its handler, and its accounting when it ends.
 */
#include <string.h>
#include <sys/time.h>

#include "core/strutil.h"
#include "http/accesslog.h"
#include "http/conn.h"
#include "http/dispatch.h"
#include "http/metrics.h"
#include "http/problem.h"
#include "http/static.h"

/* Process-wide, written by http_dispatch_init before the workers start and read-only afterwards. The route label of
 * the request metrics takes the distinct patterns of the table, then the names of REQ_ROUTE_* below; route_label maps a
 * table index to its label index. */
static struct {
    const http_route_t *routes;
    size_t nroutes;
    const http_server_hooks_t *hooks;
    metrics_t *metrics;
    int m_requests, m_duration;
    const char **route_values;
    size_t nroute_values;
    uint16_t *route_label;
} dispatch;

/* The route label of requests that match no route of the table, after the table's patterns. */
enum { REQ_ROUTE_STATIC, REQ_ROUTE_NOT_FOUND, REQ_ROUTE_REJECTED, REQ_ROUTE__COUNT };
static const char *const req_route_names[REQ_ROUTE__COUNT] = {"static", "not_found", "rejected"};

static const char *const method_values[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
#define NMETHODS (sizeof(method_values) / sizeof(method_values[0]))

/* The status label: the statuses this server (and h2o) send, then a catch-all per class; "0" = no response started. */
static const char *const status_values[] = {"0",   "101", "200", "201", "202", "204", "206", "301", "302",  "303", "304", "307",
                                            "308", "400", "401", "403", "404", "405", "406", "408", "409",  "410", "411", "412",
                                            "413", "414", "415", "416", "417", "421", "422", "429", "431",  "451", "500", "501",
                                            "502", "503", "504", "1xx", "2xx", "3xx", "4xx", "5xx", "other"};
#define NSTATUSES (sizeof(status_values) / sizeof(status_values[0]))
#define STATUS_CLASS_FIRST (NSTATUSES - 6) /* "1xx" */
static uint8_t status_index[600];          /* status -> index into status_values; filled before the workers start */

/* Request duration buckets, in microseconds (exposed in seconds): 0.5 ms to 10 s. */
static const uint64_t duration_buckets_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                               100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* The per-request slot, on the request's pool: disposed (and the request counted) when h2o disposes the request. */
typedef struct request_slot {
    h2o_req_prefilter_t prefilter; /* linked into req->prefilters, so http_request_set_client finds the slot from req */
    http_worker_t *worker;
    h2o_req_t *req;
    uint16_t route; /* route label index */
    uint8_t method; /* index into method_values */
    char country[3];
    char client[65]; /* the authenticated app's id for the access log; "" when none */
} request_slot_t;

static unsigned method_of(h2o_iovec_t m)
{
    for (unsigned i = 0; i < NMETHODS - 1; ++i) {
        if (h2o_memis(m.base, m.len, method_values[i], strlen(method_values[i])))
            return i;
    }
    return NMETHODS - 1;
}

static unsigned status_label(int status)
{
    if (status >= 0 && status < 600)
        return status_index[status];
    return NSTATUSES - 1;
}

static void init_status_index(void)
{
    for (int st = 0; st < 600; ++st)
        status_index[st] = st >= 100 ? (uint8_t)(STATUS_CLASS_FIRST + st / 100 - 1) : (uint8_t)(NSTATUSES - 1);
    for (size_t i = 0; i < STATUS_CLASS_FIRST; ++i) {
        uint64_t st = 0;
        str_to_uint(status_values[i], strlen(status_values[i]), 0, 599, &st);
        status_index[st] = (uint8_t)i;
    }
}

/* Bound to the request's pool: runs when h2o disposes the request, however it ended (response sent, client gone). The
 * status and the bytes sent are final then; the request's pool is still intact (shared entries are released first). */
static void on_request_disposed(void *p)
{
    request_slot_t *slot = p;
    http_worker_t *w = slot->worker;
    h2o_req_t *req = slot->req;
    const struct timeval *begin;
    struct timeval now;
    uint64_t us = 0;

    --w->inflight;
    if (req->res.status == 0)
        http_conn_note_abandoned(req);
    if (dispatch.metrics == NULL && w->_accesslog == NULL)
        return;
    begin = !h2o_timeval_is_null(&req->timestamps.request_begin_at) ? &req->timestamps.request_begin_at : &req->processed_at.at;
    gettimeofday(&now, NULL);
    if (timercmp(&now, begin, >))
        us = (uint64_t)(now.tv_sec - begin->tv_sec) * 1000000 + (uint64_t)(now.tv_usec - begin->tv_usec);
    if (dispatch.metrics != NULL) {
        size_t series = ((size_t)slot->route * NMETHODS + slot->method) * NSTATUSES + status_label(req->res.status);
        metrics_add(dispatch.metrics, w->id, dispatch.m_requests, series, 1);
        metrics_observe(dispatch.metrics, w->id, dispatch.m_duration, slot->route, us);
    }
    if (w->_accesslog != NULL) {
        http_accesslog_entry_t e = {*begin,
                                    dispatch.route_values[slot->route],
                                    method_values[slot->method],
                                    req->res.status,
                                    us,
                                    req->bytes_sent,
                                    slot->country,
                                    req->version,
                                    slot->client};
        http_accesslog_append(w->_accesslog, &e);
    }
}

/* h2o itself accepts very large header blocks; a public API has no use for them */
#define HTTP_MAX_TARGET 8192
#define HTTP_MAX_HEADER_BYTES 16384

static size_t header_bytes(const h2o_req_t *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->headers.size; ++i)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

/* The slot's prefilter does nothing but pass the response on: it is there to be found. */
static void slot_on_setup_ostream(h2o_req_prefilter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    h2o_setup_next_prefilter(self, req, slot);
}

void http_request_set_client(h2o_req_t *req, const char *client)
{
    for (h2o_req_prefilter_t *p = req->prefilters; p != NULL; p = p->next) {
        if (p->on_setup_ostream == slot_on_setup_ostream) {
            request_slot_t *slot = H2O_STRUCT_FROM_MEMBER(request_slot_t, prefilter, p);
            str_fmt(slot->client, sizeof(slot->client), "%s", client);
            return;
        }
    }
}

/* Whether the Accept-Encoding list v names coding (len bytes) with a q above 0; -1 when it does not name it at all. */
static int accepts_coding(h2o_iovec_t v, const char *coding, size_t len)
{
    size_t i = 0;
    while (i < v.len) {
        size_t start, end, next;
        const char *comma = memchr(v.base + i, ',', v.len - i);
        next = comma != NULL ? (size_t)(comma - v.base) + 1 : v.len;
        while (i < next && (v.base[i] == ' ' || v.base[i] == '\t'))
            ++i;
        start = end = i;
        while (end < next && v.base[end] != ';' && v.base[end] != ',' && v.base[end] != ' ' && v.base[end] != '\t')
            ++end;
        if (end - start == len && h2o_lcstris(v.base + start, len, coding, len)) {
            /* q=0, q=0.0, q=0.00...: refused; any other weight accepts */
            const char *q = memchr(v.base + end, '=', next - end);
            int zero = q != NULL;
            for (const char *p = q != NULL ? q + 1 : NULL; zero && p < v.base + next && *p != ',' && *p != ' '; ++p)
                zero = *p == '0' || *p == '.';
            return !zero;
        }
        i = next;
    }
    return -1;
}

/* RFC 9110 12.5.3: "*" matches any coding not listed, so "Accept-Encoding: *" (and "br, *") accepts gzip. h2o's compress
 * filter looks for the token gzip only: name it for it. */
static void accept_any_coding(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_ENCODING, -1);
    h2o_iovec_t v, nv;
    if (i == -1)
        return;
    v = req->headers.entries[i].value;
    if (accepts_coding(v, H2O_STRLIT("gzip")) != -1 || accepts_coding(v, H2O_STRLIT("*")) != 1)
        return;
    nv.len = v.len + sizeof(", gzip") - 1;
    nv.base = h2o_mem_alloc_pool(&req->pool, nv.len);
    memcpy(nv.base, v.base, v.len);
    memcpy(nv.base + v.len, ", gzip", sizeof(", gzip") - 1);
    req->headers.entries[i].value = nv;
}

int http_dispatch(h2o_handler_t *self, h2o_req_t *req)
{
    http_worker_t *w = http_worker_of(req);
    request_slot_t *slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), on_request_disposed);
    http_match_t match;

    slot->prefilter.on_setup_ostream = slot_on_setup_ostream;
    slot->prefilter.next = req->prefilters;
    req->prefilters = &slot->prefilter;
    slot->client[0] = '\0';
    slot->worker = w;
    slot->req = req;
    slot->route = (uint16_t)(dispatch.nroute_values - REQ_ROUTE__COUNT + REQ_ROUTE_REJECTED);
    slot->method = (uint8_t)method_of(req->method);
    memcpy(slot->country, "ZZ", 3);
    if (w->_accesslog != NULL && dispatch.hooks->country_of != NULL)
        dispatch.hooks->country_of(req, slot->country);
    ++w->inflight;
    if (http_conn_body_refused_or_reply(req))
        return 0;
    if (req->path.len > HTTP_MAX_TARGET) {
        req->http1_is_persistent = 0;
        http_problem_sendf(req, HTTP_PROBLEM_URI_TOO_LONG, NULL,
                           "The path and query may be at most %d bytes; for long filters use fewer values per 'in' list.",
                           HTTP_MAX_TARGET);
        return 0;
    }
    if (header_bytes(req) > HTTP_MAX_HEADER_BYTES) {
        req->http1_is_persistent = 0;
        http_problem_sendf(req, HTTP_PROBLEM_HEADERS_TOO_LARGE, NULL, "The header fields may be at most %d bytes in all.",
                           HTTP_MAX_HEADER_BYTES);
        return 0;
    }
    accept_any_coding(req);
    switch (http_router_match(dispatch.routes, dispatch.nroutes, req->method.base, req->method.len, req->path_normalized.base,
                              req->path_normalized.len, &match)) {
    case HTTP_ROUTE_FOUND:
        slot->route = dispatch.route_label[match.route - dispatch.routes];
        return match.route->handler(req, &match);
    case HTTP_ROUTE_METHOD_NOT_ALLOWED:
        slot->route = dispatch.route_label[match.route - dispatch.routes];
        if (dispatch.hooks->options != NULL && h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS")))
            return dispatch.hooks->options(req, match.route, match.allow);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, h2o_strdup(&req->pool, match.allow, SIZE_MAX).base,
                       strlen(match.allow));
        http_problem_sendf(req, HTTP_PROBLEM_METHOD_NOT_ALLOWED, NULL, "%.*s is not allowed here; this path accepts %s.",
                           (int)(req->method.len > 16 ? 16 : req->method.len), req->method.base, match.allow);
        return 0;
    case HTTP_ROUTE_NOT_FOUND:
        slot->route = (uint16_t)(dispatch.nroute_values - REQ_ROUTE__COUNT + REQ_ROUTE_STATIC);
        if (http_static_serve(req))
            return 0;
        slot->route = (uint16_t)(dispatch.nroute_values - REQ_ROUTE__COUNT + REQ_ROUTE_NOT_FOUND);
        break;
    }
    http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "There is no resource at this path. The API is described at /openapi.json.",
                      NULL);
    return 0;
}

/* The route label values (each distinct pattern once, then req_route_names) and the families of request accounting.
 * Returns 0, or -1 when out of memory. */
int http_dispatch_init(const http_route_t *routes, size_t nroutes, const http_server_hooks_t *hooks)
{
    metrics_family_t requests = {
        .name = "klimaspejl_http_requests_total",
        .help = "HTTP requests served, by route pattern (\"static\" for web pages, \"not_found\", \"rejected\" for "
                "requests refused before routing), method and status (\"0\": the client left before a response).",
        .type = METRICS_COUNTER,
        .nlabels = 3,
    };
    metrics_family_t duration = {
        .name = "klimaspejl_http_request_duration_seconds",
        .help = "Time from the first byte of a request to the end of its response, by route pattern.",
        .type = METRICS_HISTOGRAM,
        .scale = 1e-6,
        .nlabels = 1,
        .nbuckets = sizeof(duration_buckets_us) / sizeof(duration_buckets_us[0]),
    };

    dispatch.routes = routes;
    dispatch.nroutes = nroutes;
    dispatch.hooks = hooks;
    dispatch.metrics = hooks->metrics;
    init_status_index();
    dispatch.route_values = calloc(dispatch.nroutes + REQ_ROUTE__COUNT, sizeof(*dispatch.route_values));
    dispatch.route_label = calloc(dispatch.nroutes + 1, sizeof(*dispatch.route_label));
    if (dispatch.route_values == NULL || dispatch.route_label == NULL)
        return -1;
    for (size_t i = 0; i < dispatch.nroutes; ++i) {
        size_t k = 0;
        while (k < dispatch.nroute_values && strcmp(dispatch.route_values[k], dispatch.routes[i].pattern) != 0)
            ++k;
        if (k == dispatch.nroute_values)
            dispatch.route_values[dispatch.nroute_values++] = dispatch.routes[i].pattern;
        dispatch.route_label[i] = (uint16_t)k;
    }
    for (size_t i = 0; i < REQ_ROUTE__COUNT; ++i)
        dispatch.route_values[dispatch.nroute_values++] = req_route_names[i];
    if (dispatch.metrics == NULL)
        return 0;
    requests.labels[0] = (metrics_label_t){"route", dispatch.route_values, dispatch.nroute_values};
    requests.labels[1] = (metrics_label_t){"method", method_values, NMETHODS};
    requests.labels[2] = (metrics_label_t){"status", status_values, NSTATUSES};
    duration.labels[0] = requests.labels[0];
    memcpy(duration.buckets, duration_buckets_us, sizeof(duration_buckets_us));
    if ((dispatch.m_requests = metrics_register(dispatch.metrics, &requests)) < 0 ||
        (dispatch.m_duration = metrics_register(dispatch.metrics, &duration)) < 0)
        return -1;
    return 0;
}

void http_dispatch_free(void)
{
    free(dispatch.route_values);
    free(dispatch.route_label);
    dispatch.route_values = NULL;
    dispatch.route_label = NULL;
    dispatch.nroute_values = 0;
}
