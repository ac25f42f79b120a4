/*
 * app/auth — bearer-token authentication of personal routes, and the signing keys.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "app/auth.h"
#include "app/db.h"
#include "auth/cache.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/log.h"
#include "core/strutil.h"
#include "http/dispatch.h"
#include "http/problem.h"
#include "http/respond.h"

#define AUTH_CACHE_ENTRIES 16384 /* per worker; ~3 MiB */

static const char consent_check_sql[] = "SELECT status, extract(epoch FROM expires_at)::bigint FROM api.consent_check($1::uuid, "
                                        "$2::uuid, $3::text)";

/* Why a bearer token was refused: the `reason` label of klimaspejl_token_rejections_total. The first values are the
 * checks of auth_token_verify (auth_token_result_t, same values). */
enum {
    REJECT_MISSING = AUTH_TOKEN__COUNT, /* no Authorization header */
    REJECT_NOT_BEARER,                  /* another scheme */
    REJECT_DUPLICATE,                   /* more than one Authorization header */
    REJECT_CONSENT_REVOKED,
    REJECT_CONSENT_EXPIRED,
    REJECT_UNKNOWN_CONSENT,
    REJECT_INSUFFICIENT_SCOPE,
    REJECT__COUNT
};

static const char *const reject_reasons[REJECT__COUNT] = {
    [AUTH_TOKEN_OK] = "ok", /* never counted */
    [AUTH_TOKEN_MALFORMED] = "malformed",
    [AUTH_TOKEN_BAD_ALG] = "unsupported_alg",
    [AUTH_TOKEN_UNKNOWN_KID] = "unknown_kid",
    [AUTH_TOKEN_ALG_MISMATCH] = "alg_mismatch",
    [AUTH_TOKEN_BAD_SIGNATURE] = "bad_signature",
    [AUTH_TOKEN_BAD_TYP] = "not_access_token",
    [AUTH_TOKEN_BAD_ISSUER] = "wrong_issuer",
    [AUTH_TOKEN_BAD_AUDIENCE] = "wrong_audience",
    [AUTH_TOKEN_EXPIRED] = "expired",
    [AUTH_TOKEN_NOT_YET_VALID] = "not_yet_valid",
    [AUTH_TOKEN_BAD_CLAIMS] = "bad_claims",
    [REJECT_MISSING] = "missing",
    [REJECT_NOT_BEARER] = "not_bearer",
    [REJECT_DUPLICATE] = "duplicate_header",
    [REJECT_CONSENT_REVOKED] = "consent_revoked",
    [REJECT_CONSENT_EXPIRED] = "consent_expired",
    [REJECT_UNKNOWN_CONSENT] = "unknown_consent",
    [REJECT_INSUFFICIENT_SCOPE] = "insufficient_scope",
};

static struct {
    auth_keyring_t *keyring;
    unsigned char random_secret[32]; /* without a keyring: made at start */
    const char *issuer;
    metrics_t *metrics;
    int m_rejections;
} auth;

static size_t auth_slot;

typedef struct auth_worker {
    auth_cache_t *cache;
    uint64_t revocations; /* bumped per revocation; a check that raced one is not cached */
    /* the last token hashed on this thread and its hash: the rate limiter and the route's own check hash it once */
    size_t memo_len;
    unsigned char memo_hash[32];
    char memo_token[AUTH_TOKEN_MAX_LEN];
} auth_worker_t;

/* --- the module ---------------------------------------------------------------------------------------------------- */

static int auth_start(const config_t *cfg, char *err, size_t errlen)
{
    metrics_family_t rejections = {.name = "klimaspejl_token_rejections_total",
                                   .help = "Bearer tokens refused on personal routes, by the check that failed.",
                                   .type = METRICS_COUNTER,
                                   .nlabels = 1,
                                   .labels = {{"reason", reject_reasons + 1, REJECT__COUNT - 1}},
                                   .show_zero = 1};

    auth.issuer = cfg->issuer; /* config_load fills in the listen-derived default */
    if ((auth.metrics = app_metrics()) != NULL && (auth.m_rejections = metrics_register(auth.metrics, &rejections)) < 0)
        auth.metrics = NULL;
    if (cfg->keys_dir == NULL || cfg->keys_dir[0] == '\0') {
        if (RAND_bytes(auth.random_secret, sizeof(auth.random_secret)) != 1) {
            str_fmt(err, errlen, "no randomness for the server secret");
            return -1;
        }
        log_warn("KLIMA_KEYS_DIR is not set: the consent service (OAuth, personal routes) is off; create a key with "
                 "`klimaspejl keygen`");
        return 0;
    }
    if ((auth.keyring = auth_keyring_load(cfg->keys_dir, err, errlen)) == NULL)
        return -1;
    log_info("consent service: %zu key(s), signing with %s (%s)", auth.keyring->nkeys, auth.keyring->signing->kid,
             auth_alg_name(auth.keyring->signing->alg));
    return 0;
}

static void auth_stop(void)
{
    OPENSSL_cleanse(auth.random_secret, sizeof(auth.random_secret));
    auth_keyring_free(auth.keyring);
    auth.keyring = NULL;
}

static void *auth_worker_start(app_worker_t *w)
{
    auth_worker_t *a = calloc(1, sizeof(*a));
    if (a != NULL && (a->cache = auth_cache_create(AUTH_CACHE_ENTRIES)) == NULL) {
        free(a);
        a = NULL;
    }
    return app_worker_state_or_warn(w, a, "the token cache; personal routes answer 503 on this thread");
}

static void auth_worker_dispose(app_worker_t *w, void *state)
{
    auth_worker_t *a = state;
    if (a == NULL)
        return;
    auth_cache_destroy(a->cache);
    free(a);
}

/* NOTIFY klima_consent_revoked (payload: the consent id) drops its cached tokens; payload NULL (the listener
 * reconnected, a revocation may have gone by unheard) drops every cached verdict, so tokens are checked against the
 * database again. */
static void auth_notify(app_worker_t *w, void *state, const char *consent_id)
{
    auth_worker_t *a = state;
    if (a == NULL)
        return;
    ++a->revocations;
    if (consent_id == NULL) {
        auth_cache_t *fresh = auth_cache_create(AUTH_CACHE_ENTRIES);
        if (fresh != NULL) {
            auth_cache_destroy(a->cache);
            a->cache = fresh;
        }
        return;
    }
    auth_cache_drop_consent(a->cache, consent_id);
}

const app_module_t app_auth_module = {.name = "auth",
                                      .process = {.start = auth_start, .stop = auth_stop},
                                      .worker = {.start = auth_worker_start, .dispose = auth_worker_dispose},
                                      .notify = {"klima_consent_revoked", auth_notify},
                                      .slot = &auth_slot};

const auth_keyring_t *app_auth_keyring(void)
{
    return auth.keyring;
}

static void mac_with(const unsigned char secret[32], const char *purpose, const void *msg, size_t len, unsigned char out[32])
{
    unsigned char k[32];
    auth_hmac_sha256(secret, 32, purpose, strlen(purpose), k); /* one key per purpose: a CSRF token is never a cursor MAC */
    auth_hmac_sha256(k, sizeof(k), msg, len, out);
    OPENSSL_cleanse(k, sizeof(k));
}

void app_auth_mac(const char *purpose, const void *msg, size_t len, unsigned char out[32])
{
    mac_with(auth.keyring != NULL ? auth.keyring->signing->secret : auth.random_secret, purpose, msg, len, out);
}

int app_auth_mac_verify(const char *purpose, const void *msg, size_t len, const unsigned char *mac, size_t maclen)
{
    unsigned char want[32];
    int ok = 0;
    if (maclen < 8 || maclen > 32)
        return 0;
    if (auth.keyring == NULL) {
        mac_with(auth.random_secret, purpose, msg, len, want);
        ok = CRYPTO_memcmp(want, mac, maclen) == 0;
    }
    for (size_t i = 0; auth.keyring != NULL && i < auth.keyring->nkeys; ++i) {
        mac_with(auth.keyring->keys[i].secret, purpose, msg, len, want);
        ok |= CRYPTO_memcmp(want, mac, maclen) == 0;
    }
    return ok;
}

const char *app_auth_issuer(void)
{
    return auth.issuer;
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

/* --- replies ------------------------------------------------------------------------------------------------------- */

static void count_rejection(h2o_req_t *req, int why)
{
    if (auth.metrics != NULL)
        metrics_add(auth.metrics, app_worker_of(req)->http->id, auth.m_rejections, (size_t)why - 1, 1);
}

/* 401 without a token of the Bearer scheme. */
static void reply_no_bearer(h2o_req_t *req, int why, const char *detail)
{
    count_rejection(req, why);
    http_add_header(req, "www-authenticate", "Bearer realm=\"klimaspejl\"");
    http_problem_send(req, HTTP_PROBLEM_INVALID_TOKEN, detail, NULL);
}

/* 401 invalid_token (RFC 6750 3.1) naming the failed check; description is a short ASCII phrase without quotes. */
static void reply_invalid(h2o_req_t *req, int why, const char *description, const char *detail)
{
    char h[192];
    count_rejection(req, why);
    str_fmt(h, sizeof(h), "Bearer realm=\"klimaspejl\", error=\"invalid_token\", error_description=\"%s\"", description);
    http_add_header(req, "www-authenticate", h);
    http_problem_sendf(req, HTTP_PROBLEM_INVALID_TOKEN, NULL, "Token check failed: %s. %s", description, detail);
}

void app_auth_reply_consent_inactive(h2o_req_t *req)
{
    reply_invalid(req, REJECT_CONSENT_REVOKED, "consent not active", "The consent behind this token was revoked or has expired.");
}

static void reply_scope(h2o_req_t *req, const char *scope)
{
    char h[192];
    count_rejection(req, REJECT_INSUFFICIENT_SCOPE);
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
    auth_worker_t *a = app_worker_state(app_worker_of(req), auth_slot);
    const char *st;
    uint64_t until = 0;

    if (!app_db_row_or_reply(req, status, res))
        return;
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "active") != 0) {
        if (strcmp(st, "revoked") == 0)
            reply_invalid(req, REJECT_CONSENT_REVOKED, "consent revoked",
                          "The citizen or the app has revoked the consent behind this token.");
        else if (strcmp(st, "expired") == 0)
            reply_invalid(req, REJECT_CONSENT_EXPIRED, "consent expired", "The consent behind this token has expired.");
        else
            reply_invalid(req, REJECT_UNKNOWN_CONSENT, "unknown consent",
                          "No consent of this household for this client exists (the client may have been removed).");
        return;
    }
    if (!PQgetisnull(res, 0, 1))
        str_to_uint(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), 0, UINT64_MAX, &until);
    /* cache until the token or the consent ends, whichever is first — unless a revocation arrived meanwhile */
    if (a != NULL && a->revocations == p->revocations) {
        int64_t exp = p->claims.exp + AUTH_TOKEN_LEEWAY;
        if (until != 0 && (int64_t)until < exp)
            exp = (int64_t)until;
        auth_cache_put(a->cache, p->hash, &p->claims, exp);
    }
    finish(req, &p->claims, p->need, p->scope, p->cb, p->state);
}

/* SHA-256 of the token, through the one-entry memo (compared byte for byte, so a stale entry can never match). */
static void token_hash(auth_worker_t *a, const char *token, size_t len, unsigned char hash[32])
{
    if (a->memo_len == len && len != 0 && memcmp(a->memo_token, token, len) == 0) {
        memcpy(hash, a->memo_hash, 32);
        return;
    }
    auth_sha256(token, len, hash);
    if (len <= sizeof(a->memo_token)) {
        memcpy(a->memo_token, token, len);
        memcpy(a->memo_hash, hash, 32);
        a->memo_len = len;
    }
}

/* The token of req's `Authorization: Bearer <token>` (spaces after the scheme skipped) into *out. Returns 0, or the
 * reason it has none: REJECT_MISSING, REJECT_DUPLICATE (two or more Authorization fields: which one counts would be a
 * guess), REJECT_NOT_BEARER, AUTH_TOKEN_MALFORMED (longer than a token may be). */
static int bearer_of(h2o_req_t *req, h2o_iovec_t *out)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    h2o_iovec_t v;

    if (i == -1)
        return REJECT_MISSING;
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, i) != -1)
        return REJECT_DUPLICATE;
    v = req->headers.entries[i].value;
    if (v.len < 7 || !h2o_lcstris(v.base, 6, H2O_STRLIT("bearer")) || v.base[6] != ' ')
        return REJECT_NOT_BEARER;
    v.base += 7;
    v.len -= 7;
    while (v.len > 0 && v.base[0] == ' ') {
        ++v.base;
        --v.len;
    }
    if (v.len > AUTH_TOKEN_MAX_LEN)
        return AUTH_TOKEN_MALFORMED;
    *out = v;
    return 0;
}

int app_auth_cached_client(h2o_req_t *req, char client[65])
{
    auth_worker_t *a = app_worker_state(app_worker_of(req), auth_slot);
    h2o_iovec_t v;
    unsigned char hash[32];
    const auth_claims_t *hit;

    if (a == NULL || auth.keyring == NULL || bearer_of(req, &v) != 0 || v.len == 0)
        return 0;
    token_hash(a, v.base, v.len, hash);
    if ((hit = auth_cache_get(a->cache, hash, (int64_t)time(NULL))) == NULL)
        return 0;
    memcpy(client, hit->aud, 65);
    client[64] = '\0';
    return 1;
}

void app_auth_require(h2o_req_t *req, const http_match_t *m, app_auth_cb cb, void *state)
{
    const char *scope = app_route_of(m)->scope;
    auth_worker_t *a = app_worker_state(app_worker_of(req), auth_slot);
    const auth_keyring_t *kr;
    h2o_iovec_t v;
    unsigned char hash[32];
    const auth_claims_t *hit;
    auth_claims_t claims;
    auth_token_result_t r;
    uint32_t need = scope != NULL ? auth_scope_bit(scope, strlen(scope)) : 0;
    int64_t now = (int64_t)time(NULL);
    pending_t *p;
    int why;

    if ((kr = app_auth_keyring_or_reply(req)) == NULL)
        return;
    if (a == NULL) {
        http_problem_send(req, HTTP_PROBLEM_CONSENT_UNAVAILABLE, "This server thread has no token cache (out of memory).", NULL);
        return;
    }
    if ((why = bearer_of(req, &v)) == REJECT_MISSING) {
        reply_no_bearer(req, why, "This route needs a consent token: send `Authorization: Bearer <access token>`.");
        return;
    } else if (why == REJECT_NOT_BEARER) {
        reply_no_bearer(req, why, "Only the Bearer scheme is accepted here.");
        return;
    } else if (why == REJECT_DUPLICATE) {
        /* RFC 6750 3.1 invalid_request: 400 */
        count_rejection(req, why);
        http_add_header(req, "www-authenticate", "Bearer realm=\"klimaspejl\", error=\"invalid_request\"");
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "Send one Authorization header, not several.", "Authorization");
        return;
    } else if (why != 0) {
        reply_invalid(req, AUTH_TOKEN_MALFORMED, "malformed", auth_token_result_detail(AUTH_TOKEN_MALFORMED));
        return;
    }
    token_hash(a, v.base, v.len, hash);
    if ((hit = auth_cache_get(a->cache, hash, now)) != NULL) {
        finish(req, hit, need, scope, cb, state);
        return;
    }
    if ((r = auth_token_verify(kr, auth.issuer, NULL, v.base, v.len, now, &claims)) != AUTH_TOKEN_OK) {
        reply_invalid(req, (int)r, auth_token_result_name(r), auth_token_result_detail(r));
        return;
    }
    p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    memcpy(p->hash, hash, sizeof(hash));
    p->claims = claims;
    p->revocations = a->revocations;
    p->need = need;
    p->scope = scope;
    p->cb = cb;
    p->state = state;
    {
        const char *params[3] = {p->claims.cid, p->claims.sub, p->claims.aud};
        app_db_query(req, consent_check_sql, 3, params, on_consent_check, p);
    }
}
