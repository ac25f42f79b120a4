/*
 * app/gate — CORS, country restriction and rate limits in front of every routed request.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "app/auth.h"
#include "app/gate.h"
#include "app/ratesync.h"
#include "app/route.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/strutil.h"
#include "geo/client.h"
#include "http/problem.h"
#include "http/respond.h"

#define GATE_ADDR_SLOTS 8192   /* address buckets per class and worker (24 bytes each) */
#define GATE_CLIENT_SLOTS 1024 /* client-id buckets per class and worker: registered apps are few */
#define GATE_ORIGINS_RELOAD_MS 10000
#define GATE_ORIGINS_FIRST_MS 200 /* retry interval until the first load succeeded (the pool may not be connected yet) */
#define GATE_MAX_COUNTRIES 64
#define GATE_PREFLIGHT_MAX_AGE "7200" /* what Chromium caps it at */

/* One rate-limit policy as sent: `"open";q=3000;w=60`. */
typedef struct gate_policy {
    unsigned quota, window_s;
    char name[24];   /* "open" or "open-client", as a quoted sf-string */
    char header[96]; /* the RateLimit-Policy value */
    size_t header_len;
} gate_policy_t;

static const char *const sql_origins = "SELECT origin FROM api.cors_origins()";

static const char expose_headers[] = "ETag, Link, Content-Disposition, RateLimit, RateLimit-Policy, Retry-After, WWW-Authenticate";
static const char allow_headers[] = "Authorization, If-None-Match, Content-Type, Accept, Accept-Language";

static struct {
    int enabled;
    gate_policy_t addr[APP_CLASS__COUNT], client[APP_CLASS__COUNT];
    char countries[GATE_MAX_COUNTRIES][3];
    size_t ncountries;
    unsigned sync_ms; /* KLIMA_RATE_SYNC_MS; 0 = each worker counts alone */
    metrics_t *metrics;
    int m_hits; /* klimaspejl_ratelimit_hits_total */
} gate;

static size_t gate_slot;

/* The registered clients' origins, one block: n iovecs followed by the text. Replaced whole on reload; only read
 * synchronously while a request is being gated, so the old block can be freed at once. */
typedef struct gate_origins {
    size_t n;
    h2o_iovec_t list[];
} gate_origins_t;

typedef struct gate_worker {
    app_worker_t *aw;
    ratelimit_t *addr[APP_CLASS__COUNT], *client[APP_CLASS__COUNT];
    gate_origins_t *origins; /* NULL until loaded */
    int loading;
    h2o_timeout_t reload_timeout, first_timeout;
    h2o_timeout_entry_t reload_entry;
    /* the address key of the last connection seen without X-Forwarded-For (HTTP/2 brings many requests per
     * connection): h2o's connection id, the UTC day the key was made for, the key */
    uint64_t memo_conn, memo_day, memo_key;
    app_ratesync_t *sync; /* the buckets shared with every other worker; NULL: this worker counts alone */
} gate_worker_t;

/* A gated request's CORS and RateLimit fields, added when its response starts: its status is known then (a 304 gives
 * its token back) and so are the handler's own fields (an Access-Control-Allow-Origin it set is not repeated). */
typedef struct gate_pending {
    h2o_req_prefilter_t super;
    const app_route_t *route;
    h2o_iovec_t allow_origin; /* APP_CORS_CLIENTS: the request's Origin when it is a registered client's, else NULL */
    int has_origin;           /* APP_CORS_ANY: the request has an Origin field */
    ratelimit_t *table;       /* NULL: no rate limit on this request */
    uint64_t key;
    const gate_policy_t *policy;
    ratelimit_info_t info;
} gate_pending_t;

/* --- set-up ------------------------------------------------------------------------------------------------------- */

static void policy_init(gate_policy_t *p, const char *cls, const char *suffix, unsigned quota, unsigned window_s)
{
    p->quota = quota;
    p->window_s = window_s;
    str_fmt(p->name, sizeof(p->name), "\"%s%s\"", cls, suffix);
    p->header_len = (size_t)str_fmt(p->header, sizeof(p->header), "%s;q=%u;w=%u", p->name, quota, window_s);
}

static int countries_parse(const char *list, char *err, size_t errlen)
{
    const char *p = list;
    gate.ncountries = 0;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',')
            ++p;
        if (*p == '\0')
            break;
        if (gate.ncountries == GATE_MAX_COUNTRIES) {
            str_fmt(err, errlen, "KLIMA_PERSONAL_COUNTRIES: at most %d countries", GATE_MAX_COUNTRIES);
            return -1;
        }
        /* config_load validated the form: two letters per item */
        gate.countries[gate.ncountries][0] = (char)(p[0] & ~0x20);
        gate.countries[gate.ncountries][1] = (char)(p[1] & ~0x20);
        gate.countries[gate.ncountries][2] = '\0';
        ++gate.ncountries;
        p += 2;
    }
    return 0;
}

static int gate_start(const config_t *cfg, char *err, size_t errlen)
{
    const config_rate_t *rates[APP_CLASS__COUNT] = {
        [APP_CLASS_SERVICE] = &cfg->rate_service,   [APP_CLASS_OPEN] = &cfg->rate_open,
        [APP_CLASS_DOWNLOAD] = &cfg->rate_download, [APP_CLASS_PERSONAL] = &cfg->rate_personal,
        [APP_CLASS_OAUTH] = &cfg->rate_oauth,       [APP_CLASS_FEEDBACK] = &cfg->rate_feedback,
        [APP_CLASS_REGISTER] = &cfg->rate_register,
    };
    metrics_family_t hits = {.name = "klimaspejl_ratelimit_hits_total",
                             .help = "Requests refused with 429 by a rate limit, by route class (KLIMA_RATE_*).",
                             .type = METRICS_COUNTER,
                             .nlabels = 1,
                             .labels = {{"class", app_class_names, APP_CLASS__COUNT}},
                             .show_zero = 1};

    unsigned char secret[32];

    gate.enabled = cfg->rate_limit;
    gate.sync_ms = cfg->rate_sync_ms;
    if ((gate.metrics = app_metrics()) != NULL && (gate.m_hits = metrics_register(gate.metrics, &hits)) < 0)
        gate.metrics = NULL;
    if (app_ratesync_init(gate.metrics) != 0) {
        str_fmt(err, errlen, "out of memory for the rate-limit metrics");
        return -1;
    }
    /* every instance with the same keys (KLIMA_KEYS_DIR) makes the same address keys, so their shared buckets meet */
    app_auth_mac("rate-limit client key v1", "", 0, secret);
    geo_client_key_secret(secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    for (int c = 0; c < APP_CLASS__COUNT; ++c) {
        uint64_t client_quota = (uint64_t)rates[c]->quota * (cfg->rate_client_factor > 0 ? cfg->rate_client_factor : 1);
        unsigned w = rates[c]->window_s > 0 ? rates[c]->window_s : 1;
        policy_init(&gate.addr[c], app_class_names[c], "", rates[c]->quota, w);
        policy_init(&gate.client[c], app_class_names[c], "-client",
                    client_quota > 4000000000u ? 4000000000u : (unsigned)client_quota, w);
    }
    return countries_parse(cfg->personal_countries, err, errlen);
}

/* --- origins of registered clients ------------------------------------------------------------------------------------ */

static void origins_schedule(gate_worker_t *g)
{
    if (!h2o_timeout_is_linked(&g->reload_entry))
        h2o_timeout_link(g->aw->http->loop, g->origins != NULL ? &g->reload_timeout : &g->first_timeout, &g->reload_entry);
}

static void on_origins(void *data, db_status_t status, const PGresult *res)
{
    gate_worker_t *g = data;
    gate_origins_t *o;
    size_t n, bytes = 0;
    char *text;

    g->loading = 0;
    if (status != DB_OK) {
        if (status == DB_QUERY_ERROR) {
            /* e.g. the database lacks migration 0016: allow no origin and retry at the slow pace, not every 200 ms */
            log_warn("cannot load the registered clients' origins (CORS): %s", PQresultErrorMessage(res));
            if (g->origins == NULL && (g->origins = calloc(1, sizeof(*g->origins))) != NULL &&
                h2o_timeout_is_linked(&g->reload_entry)) {
                h2o_timeout_unlink(&g->reload_entry);
                origins_schedule(g);
            }
        }
        return;
    }
    n = (size_t)PQntuples(res);
    for (size_t i = 0; i < n; ++i)
        bytes += (size_t)PQgetlength(res, (int)i, 0);
    if ((o = malloc(sizeof(*o) + n * sizeof(o->list[0]) + bytes + 1)) == NULL)
        return;
    o->n = n;
    text = (char *)&o->list[n];
    for (size_t i = 0; i < n; ++i) {
        size_t len = (size_t)PQgetlength(res, (int)i, 0);
        memcpy(text, PQgetvalue(res, (int)i, 0), len);
        o->list[i] = h2o_iovec_init(text, len);
        text += len;
    }
    free(g->origins);
    g->origins = o;
}

static void on_reload(h2o_timeout_entry_t *te)
{
    gate_worker_t *g = H2O_STRUCT_FROM_MEMBER(gate_worker_t, reload_entry, te);
    if (!g->loading && g->aw->db != NULL && db_pool_query_sql(g->aw->db, sql_origins, 0, NULL, on_origins, g, NULL) == 0)
        g->loading = 1;
    origins_schedule(g);
}

static int origin_allowed(const gate_worker_t *g, h2o_iovec_t origin)
{
    if (g == NULL || g->origins == NULL)
        return 0;
    for (size_t i = 0; i < g->origins->n; ++i) {
        if (h2o_lcstris(origin.base, origin.len, g->origins->list[i].base, g->origins->list[i].len))
            return 1;
    }
    return 0;
}

static void gate_worker_stop(app_worker_t *w, void *state);

static void gate_worker_dispose(app_worker_t *w, void *state)
{
    gate_worker_t *g = state;
    if (g == NULL)
        return;
    gate_worker_stop(w, g);
    app_ratesync_dispose(g->sync);
    for (int c = 0; c < APP_CLASS__COUNT; ++c) {
        ratelimit_destroy(g->addr[c]);
        ratelimit_destroy(g->client[c]);
    }
    free(g->origins);
    free(g);
}

static void *gate_worker_start(app_worker_t *w)
{
    gate_worker_t *g = calloc(1, sizeof(*g));

    if (g == NULL)
        goto fail;
    g->aw = w;
    for (int c = 0; c < APP_CLASS__COUNT; ++c) {
        if (gate.addr[c].quota == 0)
            continue;
        g->addr[c] = ratelimit_create_window(GATE_ADDR_SLOTS, gate.addr[c].quota, gate.addr[c].window_s);
        g->client[c] = ratelimit_create_window(GATE_CLIENT_SLOTS, gate.client[c].quota, gate.client[c].window_s);
        if (g->addr[c] == NULL || g->client[c] == NULL) {
            gate_worker_dispose(w, g);
            goto fail;
        }
    }
    h2o_timeout_init(w->http->loop, &g->reload_timeout, GATE_ORIGINS_RELOAD_MS);
    h2o_timeout_init(w->http->loop, &g->first_timeout, GATE_ORIGINS_FIRST_MS);
    g->reload_entry.cb = on_reload;
    origins_schedule(g);
    if (gate.enabled && gate.sync_ms != 0) {
        /* a table's policy number in the shared store: its route class, and whether it counts per app */
        ratelimit_t *tables[2 * APP_CLASS__COUNT];
        for (int c = 0; c < APP_CLASS__COUNT; ++c) {
            tables[2 * c] = g->addr[c];
            tables[2 * c + 1] = g->client[c];
        }
        if ((g->sync = app_ratesync_start(w, tables, 2 * APP_CLASS__COUNT, gate.sync_ms)) == NULL)
            log_warn("worker %u: out of memory for the shared rate limits; this thread counts alone", w->http->id);
    }
    return g;
fail:
    return app_worker_state_or_warn(w, NULL, "the rate limits; this thread serves without them");
}

/* Before the pool goes: no new origin loads (the last one's callback still finds the state, freed after the pool). */
static void gate_worker_stop(app_worker_t *w, void *state)
{
    gate_worker_t *g = state;
    if (g == NULL)
        return;
    if (h2o_timeout_is_linked(&g->reload_entry))
        h2o_timeout_unlink(&g->reload_entry);
    app_ratesync_stop(g->sync);
}

const app_module_t app_gate_module = {
    .name = "gate",
    .process = {.start = gate_start},
    .worker = {.start = gate_worker_start, .stop = gate_worker_stop, .dispose = gate_worker_dispose},
    .slot = &gate_slot};

/* --- per request ---------------------------------------------------------------------------------------------------- */

static h2o_iovec_t origin_of(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    return i != -1 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
}

/* The CORS fields of an actual (not preflight) request. */
static void add_cors(h2o_req_t *req, const gate_pending_t *p)
{
    if (p->route->cors == APP_CORS_ANY) {
        if (h2o_find_header(&req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, -1) == -1)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
        /* the exposed fields matter only to a script (whose request has an Origin); h2o's HPACK encoder scans its table
         * once per field of an uncommon name, so a field sent to no purpose costs every response */
        if (!p->has_origin)
            return;
    } else if (p->route->cors == APP_CORS_CLIENTS) {
        /* the answer depends on Origin whether or not this request has one (a shared cache must not mix them) */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
        if (p->allow_origin.base == NULL)
            return;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, p->allow_origin.base,
                       p->allow_origin.len);
    } else {
        return;
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-expose-headers"), 0, NULL, expose_headers,
                          sizeof(expose_headers) - 1);
}

static int country_allowed(h2o_req_t *req)
{
    char cc[3];
    geo_client_country(req, cc);
    for (size_t i = 0; i < gate.ncountries; ++i) {
        if (gate.countries[i][0] == cc[0] && gate.countries[i][1] == cc[1])
            return 1;
    }
    return 0;
}

/* RateLimit-Policy and RateLimit (`"open";r=41;t=12`: r whole requests left, t seconds until the bucket is full). */
static void add_ratelimit_headers(h2o_req_t *req, const gate_policy_t *pol, const ratelimit_info_t *info)
{
    size_t nlen = strlen(pol->name);
    char *v = h2o_mem_alloc_pool(&req->pool, nlen + 32), *p = v;

    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ratelimit-policy"), 0, NULL, pol->header, pol->header_len);
    memcpy(p, pol->name, nlen);
    p += nlen;
    memcpy(p, ";r=", 3);
    p = str_put_u64(p + 3, info->remaining);
    memcpy(p, ";t=", 3);
    p = str_put_u64(p + 3, info->full_s);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ratelimit"), 0, NULL, v, (size_t)(p - v));
}

static void on_response_start(h2o_req_prefilter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    gate_pending_t *p = (gate_pending_t *)self;

    add_cors(req, p);
    if (p->table != NULL) {
        /* a revalidation costs the server next to nothing and must not push a polite cache into 429 */
        if (req->res.status == 304)
            ratelimit_refund(p->table, p->key, &p->info);
        add_ratelimit_headers(req, p->policy, &p->info);
    }
    h2o_setup_next_prefilter(self, req, slot);
}

static void send_no_content(h2o_req_t *req)
{
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_send_inline(req, "", 0);
}

static uint64_t address_key(gate_worker_t *g, h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, -1);
    uint64_t day = (uint64_t)time(NULL) / 86400, key;
    geo_addr_t client;

    /* without X-Forwarded-For the key is the peer's, the same for every request of the connection that day */
    if (i == -1 && g->memo_conn == req->conn->id && g->memo_day == day && g->memo_conn != 0)
        return g->memo_key;
    key = geo_client_of(req, &client) == 0 ? geo_client_key(&client) : 0;
    if (i == -1) {
        g->memo_conn = req->conn->id;
        g->memo_day = day;
        g->memo_key = key;
    }
    return key;
}

int app_gate_check(h2o_req_t *req, const app_route_t *r)
{
    gate_worker_t *g = app_worker_state(app_worker_of(req), gate_slot);
    ratelimit_t *table;
    const gate_policy_t *pol;
    ratelimit_info_t info;
    uint64_t key;
    char client[65], retry[16];
    gate_pending_t *pending;

    pending = (gate_pending_t *)h2o_add_prefilter(req, sizeof(*pending));
    pending->super.on_setup_ostream = on_response_start;
    pending->route = r;
    pending->allow_origin = h2o_iovec_init(NULL, 0);
    pending->has_origin = 0;
    pending->table = NULL;
    if (r->cors != APP_CORS_NONE) {
        h2o_iovec_t origin = origin_of(req);
        pending->has_origin = origin.base != NULL;
        if (r->cors == APP_CORS_CLIENTS && origin.base != NULL && origin_allowed(g, origin))
            pending->allow_origin = origin;
    }
    /* personal data and consents may be limited to some countries (KLIMA_PERSONAL_COUNTRIES) */
    if ((r->cls == APP_CLASS_PERSONAL || r->cls == APP_CLASS_OAUTH) && gate.ncountries != 0 && !country_allowed(req)) {
        http_problem_send(req, HTTP_PROBLEM_COUNTRY_NOT_ALLOWED,
                          "Personal data and consents are served only to clients in the countries this service allows "
                          "(KLIMA_PERSONAL_COUNTRIES); this request's country is not one of them, or it is unknown.",
                          NULL);
        return 1;
    }
    if (!gate.enabled || g == NULL || g->addr[r->cls] == NULL)
        return 0;
    if (app_auth_cached_client(req, client)) {
        table = g->client[r->cls];
        pol = &gate.client[r->cls];
        key = hash_str(client, HASH_SEED); /* client ids are public names, not secrets */
    } else {
        table = g->addr[r->cls];
        pol = &gate.addr[r->cls];
        key = address_key(g, req);
    }
    if (!ratelimit_take_info(table, key, h2o_now(app_worker_of(req)->http->loop), &info)) {
        if (gate.metrics != NULL)
            metrics_add(gate.metrics, app_worker_of(req)->http->id, gate.m_hits, (size_t)r->cls, 1);
        add_ratelimit_headers(req, pol, &info);
        str_fmt(retry, sizeof(retry), "%u", info.retry_after_s);
        http_add_header(req, "retry-after", retry);
        http_problem_sendf(req, HTTP_PROBLEM_TOO_MANY_REQUESTS, NULL,
                           "More than %u %s requests in %u s from this %s; try again in %u s (see the RateLimit header).",
                           pol->quota, app_class_names[r->cls], pol->window_s, pol == &gate.client[r->cls] ? "app" : "address",
                           info.retry_after_s);
        return 1;
    }
    pending->table = table;
    pending->key = key;
    pending->policy = pol;
    pending->info = info;
    return 0;
}

int app_gate_options(h2o_req_t *req, const http_route_t *route, const char *allow)
{
    const app_route_t *r = route->data;
    gate_worker_t *g = app_worker_state(app_worker_of(req), gate_slot);
    h2o_iovec_t origin = origin_of(req);
    size_t alen = strlen(allow);
    char *methods = h2o_mem_alloc_pool(&req->pool, alen + sizeof(", OPTIONS"));
    int preflight =
        origin.base != NULL && h2o_find_header_by_str(&req->headers, H2O_STRLIT("access-control-request-method"), -1) != -1;

    memcpy(methods, allow, alen);
    memcpy(methods + alen, ", OPTIONS", sizeof(", OPTIONS"));
    if (!preflight || r == NULL) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, methods, strlen(methods));
        send_no_content(req);
        return 0;
    }
    if (r->cors == APP_CORS_CLIENTS)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    if (r->cors == APP_CORS_NONE || (r->cors == APP_CORS_CLIENTS && !origin_allowed(g, origin))) {
        http_problem_sendf(req, HTTP_PROBLEM_ORIGIN_NOT_ALLOWED, NULL,
                           "%s is not open to scripts of this origin: personal routes and /oauth/token, /oauth/revoke "
                           "answer only the origins of registered apps (their redirect URIs and --origin).",
                           r->pattern);
        return 0;
    }
    if (r->cors == APP_CORS_ANY)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
    else
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, origin.base, origin.len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-methods"), 0, NULL, methods,
                          strlen(methods));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-headers"), 0, NULL, allow_headers,
                          sizeof(allow_headers) - 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"), 0, NULL,
                          H2O_STRLIT(GATE_PREFLIGHT_MAX_AGE));
    send_no_content(req);
    return 0;
}
