/*
 * app/auth — bearer-token authentication and the consent service's shared state.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/auth.h"
#include "app/service.h"
#include "auth/cache.h"
#include "auth/oidc.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/log.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/respond.h"

#define AUTH_CACHE_ENTRIES 16384 /* per worker; ~3 MiB */

static const char consent_check_sql[] = "SELECT status, extract(epoch FROM expires_at)::bigint FROM api.consent_check($1::uuid, "
                                        "$2::uuid, $3::text)";

static struct {
    auth_keyring_t *keyring;
    auth_oidc_t *oidc; /* the citizens' identity provider, or NULL */
    const char *issuer;
    int dev_login;
    int secure_cookies;
} auth;

typedef struct auth_worker {
    auth_cache_t *cache;
    uint64_t revocations; /* bumped per revocation; a check that raced one is not cached */
    /* the last token hashed on this thread and its hash: the rate limiter and the route's own check hash it once */
    size_t memo_len;
    unsigned char memo_hash[32];
    char memo_token[AUTH_TOKEN_MAX_LEN];
} auth_worker_t;

int app_auth_start(const config_t *cfg, char *err, size_t errlen)
{
    auth.issuer = cfg->issuer != NULL ? cfg->issuer : "http://localhost:8080";
    auth.dev_login = cfg->dev_login;
    auth.secure_cookies = cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0';
    if (cfg->oidc_issuer != NULL || cfg->oidc_key != NULL || cfg->oidc_client_id != NULL ||
        cfg->oidc_authorization_endpoint != NULL) {
        /* any OIDC setting asks for the production login: all of them must be right, or the server does not start */
        if ((auth.oidc = auth_oidc_load(cfg->oidc_issuer, cfg->oidc_key, cfg->oidc_client_id, cfg->oidc_authorization_endpoint, err,
                                        errlen)) == NULL)
            return -1;
        log_info("citizen login: OpenID Connect identity provider %s (%s)", auth.oidc->issuer, auth_alg_name(auth.oidc->alg));
    }
    if (cfg->keys_dir == NULL || cfg->keys_dir[0] == '\0') {
        log_warn("KLIMA_KEYS_DIR is not set: the consent service (OAuth, personal routes) is off; create a key with "
                 "`klimaspejl keygen`");
        return 0;
    }
    if ((auth.keyring = auth_keyring_load(cfg->keys_dir, err, errlen)) == NULL) {
        auth_oidc_free(auth.oidc);
        auth.oidc = NULL;
        return -1;
    }
    log_info("consent service: %zu key(s), signing with %s (%s)", auth.keyring->nkeys, auth.keyring->signing->kid,
             auth_alg_name(auth.keyring->signing->alg));
    return 0;
}

void app_auth_stop(void)
{
    auth_keyring_free(auth.keyring);
    auth.keyring = NULL;
    auth_oidc_free(auth.oidc);
    auth.oidc = NULL;
}

const auth_keyring_t *app_auth_keyring(void)
{
    return auth.keyring;
}

const char *app_auth_issuer(void)
{
    return auth.issuer;
}

int app_auth_dev_login(void)
{
    return auth.dev_login;
}

const auth_oidc_t *app_auth_oidc(void)
{
    return auth.oidc;
}

int app_auth_secure_cookies(void)
{
    return auth.secure_cookies;
}

const auth_keyring_t *app_auth_keyring_or_reply(h2o_req_t *req)
{
    if (auth.keyring == NULL) {
        http_problem_send(req, HTTP_PROBLEM_CONSENT_UNAVAILABLE,
                          "The consent service is not configured on this server (no signing key: KLIMA_KEYS_DIR).", NULL);
        return NULL;
    }
    return auth.keyring;
}

int app_auth_worker_start(app_worker_t *aw)
{
    auth_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL || (w->cache = auth_cache_create(AUTH_CACHE_ENTRIES)) == NULL) {
        free(w);
        return -1;
    }
    aw->auth = w;
    return 0;
}

void app_auth_worker_stop(app_worker_t *aw)
{
    auth_worker_t *w = aw->auth;
    if (w == NULL)
        return;
    auth_cache_destroy(w->cache);
    free(w);
    aw->auth = NULL;
}

void app_auth_on_revoked(app_worker_t *aw, const char *consent_id)
{
    auth_worker_t *w = aw->auth;
    if (w == NULL)
        return;
    ++w->revocations;
    if (consent_id == NULL) {
        /* the listener (re)connected: a revocation may have gone by unheard, so every cached verdict is dropped and
         * tokens are checked against the database again */
        auth_cache_t *fresh = auth_cache_create(AUTH_CACHE_ENTRIES);
        if (fresh != NULL) {
            auth_cache_destroy(w->cache);
            w->cache = fresh;
        }
        return;
    }
    auth_cache_drop_consent(w->cache, consent_id);
}

/* --- replies ------------------------------------------------------------------------------------------------------- */

/* 401 invalid_token (RFC 6750 3.1) naming the failed check; description is a short ASCII phrase without quotes. */
static void reply_invalid(h2o_req_t *req, app_token_rejection_t why, const char *description, const char *detail)
{
    char h[192];
    app_service_count_token_rejection(req, why);
    str_fmt(h, sizeof(h), "Bearer realm=\"klimaspejl\", error=\"invalid_token\", error_description=\"%s\"", description);
    http_add_header(req, "www-authenticate", h);
    http_problem_sendf(req, HTTP_PROBLEM_INVALID_TOKEN, NULL, "Token check failed: %s. %s", description, detail);
}

static void reply_scope(h2o_req_t *req, const char *scope)
{
    char h[192];
    app_service_count_token_rejection(req, APP_TOKEN_REJECT_INSUFFICIENT_SCOPE);
    str_fmt(h, sizeof(h), "Bearer realm=\"klimaspejl\", error=\"insufficient_scope\", scope=\"%s\"", scope);
    http_add_header(req, "www-authenticate", h);
    http_problem_sendf(req, HTTP_PROBLEM_INSUFFICIENT_SCOPE, NULL,
                       "This route needs the scope %s, which the citizen's consent for this app does not include.", scope);
}

static void finish(h2o_req_t *req, const auth_claims_t *c, uint32_t need, const char *scope, app_auth_cb cb, void *state)
{
    app_principal_t who;
    if ((c->scopes & need) != need) {
        reply_scope(req, scope);
        return;
    }
    http_request_set_client(req, c->aud); /* the access log names the app (never the household) */
    memcpy(who.household, c->sub, sizeof(who.household));
    memcpy(who.client, c->aud, sizeof(who.client));
    memcpy(who.consent, c->cid, sizeof(who.consent));
    who.scopes = c->scopes;
    cb(req, state, &who);
}

/* --- the consent check (cache misses) ---------------------------------------------------------------------------------- */

typedef struct pending {
    unsigned char hash[32];
    auth_claims_t claims;
    uint64_t revocations;
    uint32_t need;
    const char *scope;
    app_auth_cb cb;
    void *state;
} pending_t;

static void on_consent_check(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    pending_t *p = data;
    auth_worker_t *w = app_worker_of(req)->auth;
    const char *st;
    uint64_t until = 0;

    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "active") != 0) {
        if (strcmp(st, "revoked") == 0)
            reply_invalid(req, APP_TOKEN_REJECT_CONSENT_REVOKED, "consent revoked",
                          "The citizen or the app has revoked the consent behind this token.");
        else if (strcmp(st, "expired") == 0)
            reply_invalid(req, APP_TOKEN_REJECT_CONSENT_EXPIRED, "consent expired", "The consent behind this token has expired.");
        else
            reply_invalid(req, APP_TOKEN_REJECT_UNKNOWN_CONSENT, "unknown consent",
                          "No consent of this household for this client exists (the client may have been removed).");
        return;
    }
    if (!PQgetisnull(res, 0, 1))
        str_to_uint(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), 0, UINT64_MAX, &until);
    /* cache until the token or the consent ends, whichever is first — unless a revocation arrived meanwhile */
    if (w != NULL && w->revocations == p->revocations) {
        int64_t exp = p->claims.exp + AUTH_TOKEN_LEEWAY;
        if (until != 0 && (int64_t)until < exp)
            exp = (int64_t)until;
        auth_cache_put(w->cache, p->hash, &p->claims, exp);
    }
    finish(req, &p->claims, p->need, p->scope, p->cb, p->state);
}

/* SHA-256 of the token, through the one-entry memo (compared byte for byte, so a stale entry can never match). */
static void token_hash(auth_worker_t *w, const char *token, size_t len, unsigned char hash[32])
{
    if (w->memo_len == len && len != 0 && memcmp(w->memo_token, token, len) == 0) {
        memcpy(hash, w->memo_hash, 32);
        return;
    }
    auth_sha256(token, len, hash);
    if (len <= sizeof(w->memo_token)) {
        memcpy(w->memo_token, token, len);
        memcpy(w->memo_hash, hash, 32);
        w->memo_len = len;
    }
}

/* The bearer token of req (after "Bearer " and spaces), or base NULL when there is none of an acceptable form. */
static h2o_iovec_t bearer_of(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    h2o_iovec_t v;

    if (i == -1)
        return h2o_iovec_init(NULL, 0);
    v = req->headers.entries[i].value;
    if (v.len < 7 || !h2o_lcstris(v.base, 6, H2O_STRLIT("bearer")) || v.base[6] != ' ')
        return h2o_iovec_init(NULL, 0);
    v.base += 7;
    v.len -= 7;
    while (v.len > 0 && v.base[0] == ' ') {
        ++v.base;
        --v.len;
    }
    if (v.len == 0 || v.len > AUTH_TOKEN_MAX_LEN)
        return h2o_iovec_init(NULL, 0);
    return v;
}

int app_auth_cached_client(h2o_req_t *req, char client[65])
{
    auth_worker_t *w = app_worker_of(req)->auth;
    h2o_iovec_t v;
    unsigned char hash[32];
    const auth_claims_t *hit;

    if (w == NULL || auth.keyring == NULL || (v = bearer_of(req)).base == NULL)
        return 0;
    token_hash(w, v.base, v.len, hash);
    if ((hit = auth_cache_get(w->cache, hash, (int64_t)time(NULL))) == NULL)
        return 0;
    memcpy(client, hit->aud, 65);
    client[64] = '\0';
    return 1;
}

void app_auth_require(h2o_req_t *req, const char *scope, app_auth_cb cb, void *state)
{
    app_worker_t *aw = app_worker_of(req);
    auth_worker_t *w = aw->auth;
    const auth_keyring_t *kr;
    ssize_t i;
    h2o_iovec_t v;
    unsigned char hash[32];
    const auth_claims_t *hit;
    auth_claims_t claims;
    auth_token_result_t r;
    uint32_t need = scope != NULL ? auth_scope_bit(scope, strlen(scope)) : 0;
    int64_t now = (int64_t)time(NULL);
    pending_t *p;

    if ((kr = app_auth_keyring_or_reply(req)) == NULL)
        return;
    if (w == NULL) {
        http_problem_send(req, HTTP_PROBLEM_CONSENT_UNAVAILABLE, "This server thread has no token cache (out of memory).", NULL);
        return;
    }
    if ((i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1)) == -1) {
        app_service_count_token_rejection(req, APP_TOKEN_REJECT_MISSING);
        http_add_header(req, "www-authenticate", "Bearer realm=\"klimaspejl\"");
        http_problem_send(req, HTTP_PROBLEM_INVALID_TOKEN,
                          "This route needs a consent token: send `Authorization: Bearer <access token>`.", NULL);
        return;
    }
    v = req->headers.entries[i].value;
    if (v.len < 7 || !h2o_lcstris(v.base, 6, H2O_STRLIT("bearer")) || v.base[6] != ' ') {
        app_service_count_token_rejection(req, APP_TOKEN_REJECT_NOT_BEARER);
        http_add_header(req, "www-authenticate", "Bearer realm=\"klimaspejl\"");
        http_problem_send(req, HTTP_PROBLEM_INVALID_TOKEN, "Only the Bearer scheme is accepted here.", NULL);
        return;
    }
    v.base += 7;
    v.len -= 7;
    while (v.len > 0 && v.base[0] == ' ') {
        ++v.base;
        --v.len;
    }
    if (v.len > AUTH_TOKEN_MAX_LEN) {
        reply_invalid(req, APP_TOKEN_REJECT_MALFORMED, "malformed", auth_token_result_detail(AUTH_TOKEN_MALFORMED));
        return;
    }
    token_hash(w, v.base, v.len, hash);
    if ((hit = auth_cache_get(w->cache, hash, now)) != NULL) {
        finish(req, hit, need, scope, cb, state);
        return;
    }
    if ((r = auth_token_verify(kr, auth.issuer, NULL, v.base, v.len, now, &claims)) != AUTH_TOKEN_OK) {
        reply_invalid(req, app_service_token_rejection_of(r), auth_token_result_name(r), auth_token_result_detail(r));
        return;
    }
    p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    memcpy(p->hash, hash, sizeof(hash));
    p->claims = claims;
    p->revocations = w->revocations;
    p->need = need;
    p->scope = scope;
    p->cb = cb;
    p->state = state;
    {
        const char *params[3] = {p->claims.cid, p->claims.sub, p->claims.aud};
        app_db_query_sql(req, consent_check_sql, 3, params, on_consent_check, p);
    }
}
