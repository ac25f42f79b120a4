/*
 * consent/request — parameters, cookies, CSRF, redirects, client authentication and OAuth errors.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "app/auth.h"
#include "auth/keyring.h"
#include "auth/token.h"
#include "consent/module.h"
#include "consent/request.h"
#include "core/b64.h"
#include "core/qs.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/request.h"
#include "http/respond.h"

#define CONSENT_MAX_PARAMS 64

/* --- parameters ------------------------------------------------------------------------------------------------------ */

const char *const consent_param_names[P__COUNT] = {
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "lang",
    "csrf",
    "decision",
    "days",
    "household",
    "q",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "token",
    "token_type_hint",
    "id_token",
    "error",
};

int consent_params_parse(h2o_req_t *req, const char *s, size_t len, consent_params_t *p)
{
    qs_param_t *qp = h2o_mem_alloc_pool(&req->pool, sizeof(*qp) * CONSENT_MAX_PARAMS);
    char *buf = h2o_mem_alloc_pool(&req->pool, len + 2 * CONSENT_MAX_PARAMS + 2);
    size_t n = 0;

    memset(p, 0, sizeof(*p));
    if (qs_parse(s, len, qp, CONSENT_MAX_PARAMS, &n, buf) != QS_OK)
        return -1;
    for (size_t i = 0; i < n; ++i) {
        for (int k = 0; k < P__COUNT; ++k) {
            if (strcmp(qp[i].name, consent_param_names[k]) != 0)
                continue;
            if (p->v[k] != NULL && p->duplicate == NULL)
                p->duplicate = consent_param_names[k];
            p->v[k] = qp[i].value;
        }
    }
    return 0;
}

int consent_params_of_query_or_reply(h2o_req_t *req, consent_params_t *p)
{
    size_t len;
    const char *qs = http_query_string(req, &len);

    if (consent_params_parse(req, qs, len, p) != 0) {
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "The query string is not valid UTF-8 form encoding.", NULL);
        return -1;
    }
    return 0;
}

int consent_params_of_form_or_reply(h2o_req_t *req, consent_params_t *p)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    static const char form[] = "application/x-www-form-urlencoded";
    if (i == -1 || req->headers.entries[i].value.len < sizeof(form) - 1 ||
        !h2o_lcstris(req->headers.entries[i].value.base, sizeof(form) - 1, form, sizeof(form) - 1)) {
        http_problem_send(req, HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Send the parameters as application/x-www-form-urlencoded.",
                          NULL);
        return -1;
    }
    if (req->entity.len > CONSENT_MAX_BODY) {
        http_problem_send(req, HTTP_PROBLEM_PAYLOAD_TOO_LARGE, "The form is larger than 16 KiB.", NULL);
        return -1;
    }
    if (consent_params_parse(req, req->entity.base != NULL ? req->entity.base : "", req->entity.len, p) != 0) {
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "The form body is not valid UTF-8 application/x-www-form-urlencoded.",
                          NULL);
        return -1;
    }
    return 0;
}

const char *consent_lang(h2o_req_t *req, const consent_params_t *p)
{
    if (p->v[P_LANG] != NULL && (strcmp(p->v[P_LANG], "da") == 0 || strcmp(p->v[P_LANG], "en") == 0))
        return p->v[P_LANG];
    return http_request_lang(req);
}

/* --- encodings ------------------------------------------------------------------------------------------------------- */

/* The bytea literal of SHA-256(s), allocated from the pool. */
char *consent_hash_param(h2o_req_t *req, const char *s)
{
    char *out = h2o_mem_alloc_pool(&req->pool, 67);
    auth_sha256_bytea(s, strlen(s), out);
    return out;
}

void consent_pct_encode(sbuf_t *b, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        if (str_is_word_char(c, "-._~")) { /* RFC 3986 unreserved */
            sbuf_putc(b, (char)c);
        } else {
            sbuf_putc(b, '%');
            sbuf_putc(b, digits[c >> 4]);
            sbuf_putc(b, digits[c & 15]);
        }
    }
}

int consent_query_safe(const char *q)
{
    for (; *q != '\0'; ++q) {
        if (*q <= 0x20 || *q >= 0x7f || *q == '"' || *q == '<' || *q == '>' || *q == '\\')
            return 0;
    }
    return 1;
}

/* --- cookies and CSRF ------------------------------------------------------------------------------------------------- */

/* The value of cookie name, copied into the pool; NULL when it is missing or given more than once (which cookie a
 * browser sends first is not a rule anyone can rely on). */
const char *consent_cookie_get(h2o_req_t *req, const char *name)
{
    size_t nlen = strlen(name);
    const char *found = NULL;
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        size_t pos = 0;
        while (pos < v.len) {
            size_t end = pos, start;
            while (end < v.len && v.base[end] != ';')
                ++end;
            start = pos;
            while (start < end && v.base[start] == ' ')
                ++start;
            if (end - start > nlen && memcmp(v.base + start, name, nlen) == 0 && v.base[start + nlen] == '=') {
                size_t vlen = end - start - nlen - 1;
                char *out = h2o_mem_alloc_pool(&req->pool, vlen + 1);
                if (found != NULL)
                    return NULL;
                memcpy(out, v.base + start + nlen + 1, vlen);
                out[vlen] = '\0';
                found = out;
            }
            pos = end + 1;
        }
    }
    return found;
}

void consent_cookie_set(h2o_req_t *req, const char *name, const char *value, int max_age)
{
    char buf[2048];
    /* Secure and Path=/ always: the __Host- prefix requires both, and browsers keep Secure cookies of http://localhost
     * and http://127.0.0.1 (loopback counts as a secure context); plain HTTP elsewhere is no place for a login */
    str_fmt(buf, sizeof(buf), "%s=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax", name, value, max_age);
    http_add_header(req, "set-cookie", buf);
}

/* Whether origin ("scheme://host[:port]", len bytes) is this service: the issuer's origin, or http(s):// and the
 * request's own authority (the Host it was sent to). */
static int same_origin(h2o_req_t *req, const char *origin, size_t len)
{
    const char *iss = app_auth_issuer(), *rest;
    size_t ilen = 0;
    if (iss != NULL) {
        const char *p = strstr(iss, "://");
        ilen = p != NULL && strchr(p + 3, '/') != NULL ? (size_t)(strchr(p + 3, '/') - iss) : strlen(iss);
        if (len == ilen && memcmp(origin, iss, len) == 0)
            return 1;
    }
    if (len > 8 && memcmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    else if (len > 7 && memcmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else
        return 0;
    return req->authority.len == len - (size_t)(rest - origin) && req->authority.len > 0 &&
           h2o_lcstris(rest, req->authority.len, req->authority.base, req->authority.len);
}

int consent_origin_check_or_reply(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    h2o_iovec_t v;
    if (i != -1) {
        v = req->headers.entries[i].value;
        if (h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), i) == -1 && same_origin(req, v.base, v.len))
            return 0;
    } else if ((i = h2o_find_header(&req->headers, H2O_TOKEN_REFERER, -1)) != -1) {
        /* the Referer's origin: up to the first '/' after "scheme://" */
        const char *p, *slash;
        v = req->headers.entries[i].value;
        p = v.len > 8 ? memchr(v.base, ':', v.len) : NULL;
        if (p != NULL && (size_t)(p - v.base) + 3 <= v.len && p[1] == '/' && p[2] == '/') {
            slash = memchr(p + 3, '/', v.len - (size_t)(p + 3 - v.base));
            if (same_origin(req, v.base, slash != NULL ? (size_t)(slash - v.base) : v.len))
                return 0;
        }
    } else {
        /* neither: not a browser's cross-site form or fetch (browsers send Origin with every POST of another origin);
         * the CSRF token and the session still apply */
        return 0;
    }
    http_problem_send(req, HTTP_PROBLEM_FORBIDDEN,
                      "This form is only accepted from the consent service's own pages (the Origin or Referer header names "
                      "another site).",
                      NULL);
    return -1;
}

/* --- answers -------------------------------------------------------------------------------------------------------- */

void consent_redirect(h2o_req_t *req, int status, sbuf_t *url)
{
    h2o_iovec_t loc = http_sbuf_to_pool_or_reply(req, url);
    if (loc.base == NULL)
        return;
    /* not h2o_send_redirect: it drops the headers set so far (the cookies) */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, loc.base, loc.len);
    http_send_bytes(req, status, "text/plain; charset=utf-8", "", 0);
}

void consent_error_url(sbuf_t *u, const char *redirect_uri, const char *state, const char *error, const char *description)
{
    sbuf_puts(u, redirect_uri);
    sbuf_putc(u, strchr(redirect_uri, '?') != NULL ? '&' : '?');
    sbuf_puts(u, "error=");
    sbuf_puts(u, error);
    sbuf_puts(u, "&error_description=");
    consent_pct_encode(u, description);
    if (state != NULL) {
        sbuf_puts(u, "&state=");
        consent_pct_encode(u, state);
    }
}

void consent_redirect_error(h2o_req_t *req, const char *redirect_uri, const char *state, const char *error, const char *description)
{
    sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);
    consent_error_url(&u, redirect_uri, state, error, description);
    consent_redirect(req, 303, &u);
}

void consent_oauth_error(h2o_req_t *req, int status, const char *error, const char *description)
{
    json_t *j = json_pack("{s:s, s:s}", "error", error, "error_description", description);
    if (status == 401)
        http_add_header(req, "www-authenticate", "Basic realm=\"klimaspejl\"");
    http_send_json(req, status, j);
}

int consent_client_or_reply(h2o_req_t *req, const consent_params_t *p, consent_client_t *out)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    memset(out, 0, sizeof(*out));
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        char b64[512];
        unsigned char dec[384];
        size_t n = 0;
        int len;
        char *colon, *id, *secret;
        if (v.len < 7 || !h2o_lcstris(v.base, 6, H2O_STRLIT("basic ")) || v.len - 6 >= sizeof(b64)) {
            consent_oauth_error(req, 401, "invalid_client", "use HTTP Basic client authentication or client_id in the form");
            return -1;
        }
        for (size_t k = 6; k < v.len; ++k) {
            char c = v.base[k];
            if (c == '=' || c == ' ')
                continue;
            b64[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
        }
        if ((len = b64url_decode(b64, n, dec, sizeof(dec) - 1)) < 0 || (colon = memchr(dec, ':', (size_t)len)) == NULL) {
            consent_oauth_error(req, 401, "invalid_client", "the Basic credentials are malformed");
            return -1;
        }
        dec[len] = '\0';
        *colon = '\0';
        id = h2o_mem_alloc_pool(&req->pool, strlen((char *)dec) + 1);
        memcpy(id, dec, strlen((char *)dec) + 1);
        secret = colon + 1;
        out->client_id = id;
        out->secret_hash = consent_hash_param(req, secret);
        OPENSSL_cleanse(dec, sizeof(dec));
        if (p->v[P_CLIENT_ID] != NULL && strcmp(p->v[P_CLIENT_ID], id) != 0) {
            consent_oauth_error(req, 400, "invalid_request", "client_id differs from the authenticated client");
            return -1;
        }
    } else {
        out->client_id = p->v[P_CLIENT_ID];
        if (p->v[P_CLIENT_SECRET] != NULL)
            out->secret_hash = consent_hash_param(req, p->v[P_CLIENT_SECRET]);
    }
    if (out->client_id == NULL || !auth_client_id_valid(out->client_id)) {
        consent_oauth_error(req, 401, "invalid_client", "client_id is missing or malformed");
        return -1;
    }
    return 0;
}
