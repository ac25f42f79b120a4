/*
 * consent/oauth — authorization endpoint, login and consent pages, token and revocation endpoints, JWKS and metadata.
 *
 * Browser state lives in two cookies scoped to /oauth: klima_csrf (a random double-submit token echoed in every form)
 * and klima_session (a short-lived JWS signed with the service key: the logged-in household), set by the dev login or by
 * the OpenID Connect callback. Codes, refresh tokens, client secrets and the OIDC state and nonce are hashed (SHA-256)
 * before they reach the database. Nothing here logs a token or a household id.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "app/app.h"
#include "app/auth.h"
#include "opendata/datasets.h"
#include "consent/oauth.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/b64.h"
#include "core/qs.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/respond.h"

#define MAX_PARAMS 24
#define MAX_BODY 16384
#define SESSION_TTL 1800
#define SESSION_AUD "klimaspejl:session"
#define DEV_HOUSEHOLDS "5"
#define CONSENT_MAX_DAYS 1096

static const char client_sql[] = "SELECT name, $2::text = ANY (redirect_uris), first_party FROM api.oauth_client($1::text)";
static const char dev_households_sql[] =
    "SELECT household_id, district, dwelling_type, occupant_band FROM api.dev_households(" DEV_HOUSEHOLDS ")";
static const char dev_household_ok_sql[] = "SELECT 1 FROM api.dev_households(" DEV_HOUSEHOLDS ") WHERE household_id = $1::uuid";
static const char code_create_sql[] =
    "SELECT api.oauth_code_create($1::bytea, $2::uuid, $3::text, $4::text, $5::text[], $6::integer, $7::text)";
static const char code_redeem_sql[] = "SELECT status, detail, consent_id, household_id, array_to_string(scopes, ' '), "
                                      "extract(epoch FROM expires_at)::bigint FROM api.oauth_code_redeem($1::bytea, $2::text, "
                                      "$3::bytea, $4::text, $5::text, $6::bytea)";
static const char refresh_sql[] = "SELECT status, detail, consent_id, household_id, array_to_string(scopes, ' '), "
                                  "extract(epoch FROM expires_at)::bigint FROM api.oauth_refresh($1::bytea, $2::text, $3::bytea, "
                                  "$4::bytea)";
static const char revoke_sql[] = "SELECT api.oauth_revoke($1::bytea, $2::uuid, $3::text, $4::bytea)";

/* --- parameters ------------------------------------------------------------------------------------------------------ */

/* Every parameter the endpoints read; a repeated one is an error (RFC 6749 3.1). */
typedef enum param_id {
    P_RESPONSE_TYPE,
    P_CLIENT_ID,
    P_REDIRECT_URI,
    P_STATE,
    P_SCOPE,
    P_CODE_CHALLENGE,
    P_CODE_CHALLENGE_METHOD,
    P_LANG,
    P_CSRF,
    P_DECISION,
    P_DAYS,
    P_HOUSEHOLD,
    P_Q,
    P_GRANT_TYPE,
    P_CODE,
    P_CODE_VERIFIER,
    P_REFRESH_TOKEN,
    P_CLIENT_SECRET,
    P_TOKEN,
    P_TOKEN_TYPE_HINT,
    P_ID_TOKEN,
    P_ERROR,
    P__COUNT
} param_id_t;

static const char *const param_names[P__COUNT] = {
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

typedef struct params {
    const char *v[P__COUNT];
    const char *duplicate; /* the first repeated parameter's name, or NULL */
} params_t;

/* Decodes s[0..len) (form-urlencoded) into p; returns 0, or -1 when it is malformed. Unknown names are ignored. */
static int params_parse(h2o_req_t *req, const char *s, size_t len, params_t *p)
{
    qs_param_t *qp = h2o_mem_alloc_pool(&req->pool, sizeof(*qp) * 64);
    char *buf = h2o_mem_alloc_pool(&req->pool, len + 2 * 64 + 2);
    size_t n = 0;

    memset(p, 0, sizeof(*p));
    if (qs_parse(s, len, qp, 64, &n, buf) != QS_OK)
        return -1;
    for (size_t i = 0; i < n; ++i) {
        for (int k = 0; k < P__COUNT; ++k) {
            if (strcmp(qp[i].name, param_names[k]) != 0)
                continue;
            if (p->v[k] != NULL && p->duplicate == NULL)
                p->duplicate = param_names[k];
            p->v[k] = qp[i].value;
        }
    }
    return 0;
}

static int params_of_query(h2o_req_t *req, params_t *p)
{
    if (req->query_at == SIZE_MAX) {
        memset(p, 0, sizeof(*p));
        return 0;
    }
    return params_parse(req, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, p);
}

/* The form body of a POST; sends 415/413/400 itself and returns -1 when there is none usable. */
static int params_of_form_or_reply(h2o_req_t *req, params_t *p)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    static const char form[] = "application/x-www-form-urlencoded";
    if (i == -1 || req->headers.entries[i].value.len < sizeof(form) - 1 ||
        !h2o_lcstris(req->headers.entries[i].value.base, sizeof(form) - 1, form, sizeof(form) - 1)) {
        http_problem_send(req, HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Send the parameters as application/x-www-form-urlencoded.",
                          NULL);
        return -1;
    }
    if (req->entity.len > MAX_BODY) {
        http_problem_send(req, HTTP_PROBLEM_PAYLOAD_TOO_LARGE, "The form is larger than 16 KiB.", NULL);
        return -1;
    }
    if (params_parse(req, req->entity.base != NULL ? req->entity.base : "", req->entity.len, p) != 0) {
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "The form body is not valid UTF-8 application/x-www-form-urlencoded.",
                          NULL);
        return -1;
    }
    return 0;
}

/* --- small helpers --------------------------------------------------------------------------------------------------- */

static void hex32(const unsigned char h[32], char out[67])
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    for (int i = 0; i < 32; ++i) {
        out[2 + 2 * i] = digits[h[i] >> 4];
        out[3 + 2 * i] = digits[h[i] & 15];
    }
    out[66] = '\0';
}

/* The bytea literal of SHA-256(s), allocated from the pool. */
static char *hash_param(h2o_req_t *req, const char *s)
{
    unsigned char h[32];
    char *out = h2o_mem_alloc_pool(&req->pool, 67);
    auth_sha256(s, strlen(s), h);
    hex32(h, out);
    return out;
}

static int is_b64url(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* RFC 7636 code_verifier: 43-128 unreserved characters. */
static int verifier_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 43 || n > 128)
        return 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              c == '~'))
            return 0;
    }
    return 1;
}

static void pct_encode(sbuf_t *b, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            sbuf_putc(b, (char)c);
        } else {
            sbuf_putc(b, '%');
            sbuf_putc(b, digits[c >> 4]);
            sbuf_putc(b, digits[c & 15]);
        }
    }
}

static void html_escape(sbuf_t *b, const char *s)
{
    for (; *s != '\0'; ++s) {
        switch (*s) {
        case '&':
            sbuf_puts(b, "&amp;");
            break;
        case '<':
            sbuf_puts(b, "&lt;");
            break;
        case '>':
            sbuf_puts(b, "&gt;");
            break;
        case '"':
            sbuf_puts(b, "&quot;");
            break;
        case '\'':
            sbuf_puts(b, "&#39;");
            break;
        default:
            sbuf_putc(b, *s);
            break;
        }
    }
}

/* Sends an sbuf's contents (copied into the pool) with status and type; 500 if it failed. Frees b. */
static void send_sbuf(h2o_req_t *req, int status, const char *type, sbuf_t *b)
{
    char *body;
    if (sbuf_failed(b)) {
        sbuf_free(b);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory.", NULL);
        return;
    }
    body = h2o_mem_alloc_pool(&req->pool, b->len + 1);
    memcpy(body, b->data != NULL ? b->data : "", b->len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, status, type, body, b->len);
    sbuf_free(b);
}

/* Redirects to url with status (302/303) and frees url. */
static void redirect_status(h2o_req_t *req, int status, sbuf_t *url)
{
    char *loc;
    if (sbuf_failed(url)) {
        sbuf_free(url);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory.", NULL);
        return;
    }
    loc = h2o_mem_alloc_pool(&req->pool, url->len + 1);
    memcpy(loc, url->data, url->len + 1);
    /* not h2o_send_redirect: it drops the headers set so far (the cookies) */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, loc, url->len);
    http_send_bytes(req, status, "text/plain; charset=utf-8", "", 0);
    sbuf_free(url);
}

static void redirect_to(h2o_req_t *req, sbuf_t *url)
{
    redirect_status(req, 303, url);
}

/* Redirects to the client's redirect_uri with error= (RFC 6749 4.1.2.1) and the state echoed. */
static void redirect_error(h2o_req_t *req, const char *redirect_uri, const char *state, const char *error, const char *description)
{
    sbuf_t u = SBUF_INIT;
    sbuf_puts(&u, redirect_uri);
    sbuf_putc(&u, strchr(redirect_uri, '?') != NULL ? '&' : '?');
    sbuf_puts(&u, "error=");
    sbuf_puts(&u, error);
    sbuf_puts(&u, "&error_description=");
    pct_encode(&u, description);
    if (state != NULL) {
        sbuf_puts(&u, "&state=");
        pct_encode(&u, state);
    }
    redirect_to(req, &u);
}

/* The value of cookie name, copied into the pool, or NULL. */
static const char *cookie_get(h2o_req_t *req, const char *name)
{
    size_t nlen = strlen(name);
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
                memcpy(out, v.base + start + nlen + 1, vlen);
                out[vlen] = '\0';
                return out;
            }
            pos = end + 1;
        }
    }
    return NULL;
}

static void cookie_set(h2o_req_t *req, const char *name, const char *value, int max_age)
{
    char buf[2048];
    if (max_age >= 0)
        str_fmt(buf, sizeof(buf), "%s=%s; Path=/oauth; Max-Age=%d; HttpOnly; SameSite=Lax%s", name, value, max_age,
                app_auth_secure_cookies() ? "; Secure" : "");
    else
        str_fmt(buf, sizeof(buf), "%s=%s; Path=/oauth; HttpOnly; SameSite=Lax%s", name, value,
                app_auth_secure_cookies() ? "; Secure" : "");
    http_add_header(req, "set-cookie", buf);
}

/* The CSRF token of this browser, created (and set as a cookie) when it has none. */
static const char *csrf_token(h2o_req_t *req)
{
    const char *c = cookie_get(req, "klima_csrf");
    char *fresh;
    if (c != NULL && is_b64url(c, 43, 43))
        return c;
    fresh = h2o_mem_alloc_pool(&req->pool, 48);
    if (auth_random_token(32, fresh, 48) != 0)
        return NULL;
    cookie_set(req, "klima_csrf", fresh, -1);
    return fresh;
}

/* Checks the form's csrf against the cookie; sends 403 and returns -1 on mismatch. */
static int csrf_check_or_reply(h2o_req_t *req, const params_t *p)
{
    const char *c = cookie_get(req, "klima_csrf");
    const char *f = p->v[P_CSRF];
    if (c == NULL || f == NULL || strlen(c) != 43 || strlen(f) != 43 || CRYPTO_memcmp(c, f, 43) != 0) {
        http_problem_send(req, HTTP_PROBLEM_FORBIDDEN,
                          "The form's CSRF token does not match this browser's (reload the page and try again).", "csrf");
        return -1;
    }
    return 0;
}

/* The household of a valid session cookie, copied into the pool, or NULL. */
static const char *session_household(h2o_req_t *req, const auth_keyring_t *kr)
{
    const char *tok = cookie_get(req, "klima_session");
    json_t *claims = NULL;
    const char *sub, *out = NULL;
    json_int_t now = (json_int_t)time(NULL);

    if (tok == NULL || auth_jws_verify(kr, tok, strlen(tok), &claims) != AUTH_JWS_OK)
        return NULL;
    if (json_is_string(json_object_get(claims, "aud")) &&
        strcmp(json_string_value(json_object_get(claims, "aud")), SESSION_AUD) == 0 &&
        json_is_string(json_object_get(claims, "iss")) &&
        strcmp(json_string_value(json_object_get(claims, "iss")), app_auth_issuer()) == 0 &&
        json_integer_value(json_object_get(claims, "exp")) > now &&
        (sub = json_string_value(json_object_get(claims, "sub"))) != NULL && auth_uuid_valid(sub)) {
        char *copy = h2o_mem_alloc_pool(&req->pool, 37);
        memcpy(copy, sub, 37);
        out = copy;
    }
    json_decref(claims);
    return out;
}

static const char *lang_of(h2o_req_t *req, const params_t *p)
{
    if (p->v[P_LANG] != NULL && (strcmp(p->v[P_LANG], "da") == 0 || strcmp(p->v[P_LANG], "en") == 0))
        return p->v[P_LANG];
    return opendata_datasets_lang(req);
}

/* --- the authorization request ------------------------------------------------------------------------------------- */

typedef enum step { STEP_AUTHORIZE, STEP_CONSENT } step_t;

typedef struct authz {
    params_t p;
    step_t step;
    const char *query; /* the authorization request's query string (for the login page's return) */
    const char *client_name;
    int first_party;
    uint32_t scopes;
    const char *household;
    const auth_keyring_t *kr;
} authz_t;

static const struct {
    const char *key, *da, *en;
} texts[] = {
    {"title", "Giv adgang til dine klimadata", "Share your climate data"},
    {"asks", "vil gerne læse følgende om din husstand:", "would like to read the following about your household:"},
    {"duration", "Hvor længe må appen læse dem?", "For how long may the app read them?"},
    {"d30", "30 dage", "30 days"},
    {"d90", "90 dage", "90 days"},
    {"d365", "1 år", "1 year"},
    {"d730", "2 år", "2 years"},
    {"d1096", "3 år", "3 years"},
    {"approve", "Giv adgang", "Allow"},
    {"deny", "Afvis", "Deny"},
    {"revoke", "Du kan til enhver tid trække samtykket tilbage under Mine samtykker.",
     "You can withdraw your consent at any time under My consents."},
    {"login_title", "Log ind (udviklingstilstand)", "Log in (development mode)"},
    {"login_intro", "Vælg en demo-husstand. Data er syntetiske.", "Choose a demo household. The data is synthetic."},
    {"login", "Log ind", "Log in"},
    {"switch", "English", "Dansk"},
    {"unlinked_title", "Dit login er ikke knyttet til en husstand", "Your login is not linked to a household"},
    {"unlinked_body",
     "Du er logget ind hos kommunens login-tjeneste, men dit login er endnu ikke knyttet til en husstand i klimaspejl, så "
     "der er ingen data at dele. Kontakt Københavns Kommune for at få det knyttet, og prøv så igen.",
     "You are logged in with the city's login service, but your login is not yet linked to a household in klimaspejl, so "
     "there is no data to share. Contact the City of Copenhagen to have it linked, then try again."},
    {"back", "Tilbage til appen", "Back to the app"},
};

static const char *text(const char *lang, const char *key)
{
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); ++i) {
        if (strcmp(texts[i].key, key) == 0)
            return strcmp(lang, "da") == 0 ? texts[i].da : texts[i].en;
    }
    return key;
}

static void page_head(sbuf_t *b, const char *lang, const char *title)
{
    sbuf_printf(b,
                "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                "content=\"width=device-width, initial-scale=1\"><title>",
                lang);
    html_escape(b, title);
    sbuf_puts(b, " — klimaspejl</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;"
                 "padding:0 1rem;color:#1a1a1a}button{font-size:1rem;padding:.5rem 1rem;margin:.25rem}</style></head><body><main>");
}

static void hidden(sbuf_t *b, const char *name, const char *value)
{
    if (value == NULL)
        return;
    sbuf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    html_escape(b, value);
    sbuf_puts(b, "\">");
}

/* The consent page's CSP. Browsers apply form-action to the redirect that answers the form too, so the app's own origin
 * (scheme://host[:port] of its already checked http(s) redirect URI) is allowed next to 'self'; other redirect URIs
 * (custom schemes of native apps) add nothing. */
static const char *consent_csp(h2o_req_t *req, const char *redirect_uri)
{
    static const char head[] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";
    static const char tail[] = "; frame-ancestors 'none'";
    static const char plain[] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
    size_t skip = 0, n;

    if (redirect_uri != NULL && strncmp(redirect_uri, "https://", 8) == 0)
        skip = 8;
    else if (redirect_uri != NULL && strncmp(redirect_uri, "http://", 7) == 0)
        skip = 7;
    if (skip == 0)
        return plain;
    n = skip;
    while (redirect_uri[n] != '\0' && redirect_uri[n] != '/' && redirect_uri[n] != '?' && redirect_uri[n] != '#') {
        char c = redirect_uri[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']'))
            return plain;
        if (++n > skip + 255)
            return plain;
    }
    if (n == skip)
        return plain;
    size_t len = sizeof(head) - 1 + 1 + n + sizeof(tail);
    char *v = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(v, head, sizeof(head) - 1);
    v[sizeof(head) - 1] = ' ';
    memcpy(v + sizeof(head), redirect_uri, n);
    memcpy(v + sizeof(head) + n, tail, sizeof(tail));
    return v;
}

static void render_consent(h2o_req_t *req, authz_t *a)
{
    const char *lang = lang_of(req, &a->p), *csrf = csrf_token(req);
    static const char *const days[] = {"30", "90", "365", "730", "1096"};
    sbuf_t b = SBUF_INIT;

    if (csrf == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the CSRF token.", NULL);
        return;
    }
    page_head(&b, lang, text(lang, "title"));
    sbuf_puts(&b, "<h1>");
    html_escape(&b, text(lang, "title"));
    sbuf_puts(&b, "</h1><p><strong>");
    html_escape(&b, a->client_name);
    sbuf_puts(&b, "</strong> ");
    html_escape(&b, text(lang, "asks"));
    sbuf_puts(&b, "</p><ul>");
    for (size_t i = 0; i < auth_nscopes; ++i) {
        if ((a->scopes & (UINT32_C(1) << i)) == 0)
            continue;
        sbuf_printf(&b, "<li data-scope=\"%s\">", auth_scopes[i].name);
        html_escape(&b, strcmp(lang, "da") == 0 ? auth_scopes[i].text_da : auth_scopes[i].text_en);
        sbuf_puts(&b, "</li>");
    }
    sbuf_puts(&b, "</ul><form method=\"post\" action=\"/oauth/consent\">");
    for (int k = P_RESPONSE_TYPE; k <= P_LANG; ++k)
        hidden(&b, param_names[k], a->p.v[k]);
    hidden(&b, "csrf", csrf);
    sbuf_puts(&b, "<p><label for=\"days\">");
    html_escape(&b, text(lang, "duration"));
    sbuf_puts(&b, "</label> <select id=\"days\" name=\"days\">");
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); ++i) {
        char key[8];
        str_fmt(key, sizeof(key), "d%s", days[i]);
        sbuf_printf(&b, "<option value=\"%s\"%s>", days[i], i == 2 ? " selected" : "");
        html_escape(&b, text(lang, key));
        sbuf_puts(&b, "</option>");
    }
    sbuf_puts(&b, "</select></p><p><button type=\"submit\" name=\"decision\" value=\"approve\">");
    html_escape(&b, text(lang, "approve"));
    sbuf_puts(&b, "</button><button type=\"submit\" name=\"decision\" value=\"deny\">");
    html_escape(&b, text(lang, "deny"));
    sbuf_puts(&b, "</button></p></form><p>");
    html_escape(&b, text(lang, "revoke"));
    sbuf_puts(&b, "</p></main></body></html>\n");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LANGUAGE, NULL, lang, 2);
    http_add_header(req, "x-frame-options", "DENY");
    http_add_header(req, "content-security-policy", consent_csp(req, a->p.v[P_REDIRECT_URI]));
    send_sbuf(req, 200, "text/html; charset=utf-8", &b);
}

static void on_dev_households(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    authz_t *a = state;
    const char *lang = lang_of(req, &a->p), *csrf = csrf_token(req);
    sbuf_t b = SBUF_INIT;

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    if (csrf == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the CSRF token.", NULL);
        return;
    }
    page_head(&b, lang, text(lang, "login_title"));
    sbuf_puts(&b, "<h1>");
    html_escape(&b, text(lang, "login_title"));
    sbuf_puts(&b, "</h1><p>");
    html_escape(&b, text(lang, "login_intro"));
    sbuf_puts(&b, "</p><form method=\"post\" action=\"/oauth/login\"><fieldset>");
    for (int i = 0; i < PQntuples(res); ++i) {
        sbuf_printf(&b, "<p><input type=\"radio\" id=\"h%d\" name=\"household\" value=\"%s\"%s> <label for=\"h%d\">", i,
                    PQgetvalue(res, i, 0), i == 0 ? " checked" : "", i);
        html_escape(&b, PQgetvalue(res, i, 1));
        sbuf_printf(&b, ", %s, %s</label></p>", PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    }
    sbuf_puts(&b, "</fieldset>");
    hidden(&b, "q", a->query);
    hidden(&b, "csrf", csrf);
    sbuf_puts(&b, "<p><button type=\"submit\">");
    html_escape(&b, text(lang, "login"));
    sbuf_puts(&b, "</button></p></form></main></body></html>\n");
    http_add_header(req, "x-frame-options", "DENY");
    send_sbuf(req, 200, "text/html; charset=utf-8", &b);
}

static void consent_decide(h2o_req_t *req, authz_t *a);
static void oidc_start(h2o_req_t *req, authz_t *a);

/* The client and redirect_uri are valid: from here on errors go back to the client. */
static void on_client(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    authz_t *a = state;
    const params_t *p = &a->p;
    const char *ru = p->v[P_REDIRECT_URI], *st = p->v[P_STATE];

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    if (PQntuples(res) != 1) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "client_id names no registered client.", "client_id");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "redirect_uri is not one of the client's registered redirect URIs (exact match required).",
                          "redirect_uri");
        return;
    }
    a->client_name = h2o_mem_alloc_pool(&req->pool, (size_t)PQgetlength(res, 0, 0) + 1);
    memcpy((char *)a->client_name, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0) + 1);
    a->first_party = strcmp(PQgetvalue(res, 0, 2), "t") == 0;

    if (p->duplicate != NULL) {
        redirect_error(req, ru, st, "invalid_request", "a parameter was given more than once");
        return;
    }
    if (p->v[P_RESPONSE_TYPE] == NULL || strcmp(p->v[P_RESPONSE_TYPE], "code") != 0) {
        redirect_error(req, ru, st, "unsupported_response_type", "only response_type=code is supported");
        return;
    }
    if (p->v[P_CODE_CHALLENGE] == NULL || p->v[P_CODE_CHALLENGE_METHOD] == NULL ||
        strcmp(p->v[P_CODE_CHALLENGE_METHOD], "S256") != 0 || !is_b64url(p->v[P_CODE_CHALLENGE], 43, 43)) {
        redirect_error(req, ru, st, "invalid_request",
                       "PKCE is required: code_challenge (43 characters) and code_challenge_method=S256");
        return;
    }
    if (p->v[P_SCOPE] == NULL || auth_scope_parse(p->v[P_SCOPE], 1, &a->scopes) != 0 || a->scopes == 0) {
        redirect_error(req, ru, st, "invalid_scope", "scope must be a space-separated list of known scopes");
        return;
    }
    for (size_t i = 0; i < auth_nscopes; ++i) {
        if ((a->scopes & (UINT32_C(1) << i)) != 0 && auth_scopes[i].first_party_only && !a->first_party) {
            redirect_error(req, ru, st, "invalid_scope", "consents:manage is only granted to the city's own apps");
            return;
        }
    }
    if (a->step == STEP_CONSENT) {
        consent_decide(req, a);
        return;
    }
    if ((a->household = session_household(req, a->kr)) != NULL) {
        render_consent(req, a);
        return;
    }
    if (app_auth_oidc() != NULL) {
        /* the identity provider, when configured, is the login even where the dev login is on too */
        oidc_start(req, a);
        return;
    }
    if (!app_auth_dev_login()) {
        redirect_error(req, ru, st, "temporarily_unavailable", "no citizen login (identity provider) is configured on this server");
        return;
    }
    app_db_query_sql(req, dev_households_sql, 0, NULL, on_dev_households, a);
}

/* Common start of GET /oauth/authorize and POST /oauth/consent: the problem-page checks, then the client lookup. */
static void authorize_start(h2o_req_t *req, authz_t *a)
{
    const params_t *p = &a->p;
    if (p->duplicate != NULL && (strcmp(p->duplicate, "client_id") == 0 || strcmp(p->duplicate, "redirect_uri") == 0)) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, p->duplicate, "%s was given more than once.", p->duplicate);
        return;
    }
    if (p->v[P_CLIENT_ID] == NULL || !auth_client_id_valid(p->v[P_CLIENT_ID])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "client_id is required: the id of a registered client.",
                          "client_id");
        return;
    }
    if (p->v[P_REDIRECT_URI] == NULL || p->v[P_REDIRECT_URI][0] == '\0') {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "redirect_uri is required (exact match with a registered one).",
                          "redirect_uri");
        return;
    }
    {
        const char *params[2] = {p->v[P_CLIENT_ID], p->v[P_REDIRECT_URI]};
        app_db_query_sql(req, client_sql, 2, params, on_client, a);
    }
}

int consent_oauth_authorize(h2o_req_t *req, const http_match_t *m)
{
    authz_t *a = h2o_mem_alloc_pool(&req->pool, sizeof(*a));
    memset(a, 0, sizeof(*a));
    if ((a->kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (params_of_query(req, &a->p) != 0) {
        http_problem_send(req, HTTP_PROBLEM_BAD_REQUEST, "The query string is not valid UTF-8 form encoding.", NULL);
        return 0;
    }
    a->step = STEP_AUTHORIZE;
    if (req->query_at != SIZE_MAX) {
        size_t n = req->path.len - req->query_at - 1;
        char *q = h2o_mem_alloc_pool(&req->pool, n + 1);
        memcpy(q, req->path.base + req->query_at + 1, n);
        q[n] = '\0';
        a->query = q;
    }
    authorize_start(req, a);
    return 0;
}

/* --- dev login ------------------------------------------------------------------------------------------------------- */

/* Sets the session cookie (a JWS of the service key naming the household, SESSION_TTL long). Sends 500 and returns -1
 * when it cannot be signed. */
static int session_start_or_reply(h2o_req_t *req, const auth_keyring_t *kr, const char *household)
{
    char claims[512], *tok;
    long now = (long)time(NULL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", app_auth_issuer(), "aud", SESSION_AUD, "sub", household, "iat",
                          (json_int_t)now, "exp", (json_int_t)(now + SESSION_TTL));
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (s == NULL || str_fmt(claims, sizeof(claims), "%s", s) < 0) {
        free(s);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory.", NULL);
        return -1;
    }
    free(s);
    if ((tok = auth_jws_sign(kr, "session+jwt", claims)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot sign the session.", NULL);
        return -1;
    }
    cookie_set(req, "klima_session", tok, SESSION_TTL);
    free(tok);
    return 0;
}

typedef struct login {
    const char *household, *query;
    const auth_keyring_t *kr;
} login_t;

static void on_dev_household_ok(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    login_t *l = state;
    sbuf_t u = SBUF_INIT;

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    if (PQntuples(res) != 1) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "household is not one of the demo households.", "household");
        return;
    }
    if (session_start_or_reply(req, l->kr, l->household) != 0)
        return;
    sbuf_puts(&u, "/oauth/authorize?");
    sbuf_puts(&u, l->query);
    redirect_to(req, &u);
}

/* The return query must be plain printable ASCII (it goes into a Location header). */
static int query_safe(const char *q)
{
    for (; *q != '\0'; ++q) {
        if (*q <= 0x20 || *q >= 0x7f || *q == '"' || *q == '<' || *q == '>' || *q == '\\')
            return 0;
    }
    return 1;
}

int consent_oauth_login(h2o_req_t *req, const http_match_t *m)
{
    login_t *l = h2o_mem_alloc_pool(&req->pool, sizeof(*l));
    params_t p;

    if ((l->kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (!app_auth_dev_login()) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "The dev login is off (KLIMA_DEV_LOGIN is not 1).", NULL);
        return 0;
    }
    if (params_of_form_or_reply(req, &p) != 0 || csrf_check_or_reply(req, &p) != 0)
        return 0;
    if (p.v[P_HOUSEHOLD] == NULL || !auth_uuid_valid(p.v[P_HOUSEHOLD])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "household must be a demo household's id.", "household");
        return 0;
    }
    if (p.v[P_Q] == NULL || !query_safe(p.v[P_Q])) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "q must be the authorization request's query string.", "q");
        return 0;
    }
    l->household = p.v[P_HOUSEHOLD];
    l->query = p.v[P_Q];
    {
        const char *params[1] = {l->household};
        app_db_query_sql(req, dev_household_ok_sql, 1, params, on_dev_household_ok, l);
    }
    return 0;
}

/* --- OpenID Connect login ---------------------------------------------------------------------------------------------- */

/*
 * Without a back channel to the identity provider, the login is the id_token flow with response_mode=form_post: the
 * pending authorization request is stored under SHA-256(state) with SHA-256(nonce) (api.oidc_request_create), the
 * browser goes to the provider, and the provider's page posts id_token and state to POST /oauth/oidc/callback. There the
 * token is verified here (auth/oidc.h), and api.oidc_login takes the pending request (once), compares the nonce and
 * finds the household of the token's subject. The state is the callback's CSRF protection: it is 256 random bits,
 * bound to one pending request and used once. The form_post is a cross-site POST, which carries no SameSite=Lax
 * cookie, so the callback's own response sets the session cookie; the 303 back to /oauth/authorize is a top-level GET
 * that carries it, and the consent screen follows exactly as after the dev login.
 */

static const char oidc_create_sql[] = "SELECT api.oidc_request_create($1::bytea, $2::bytea, $3::text)";
static const char oidc_cancel_sql[] = "SELECT api.oidc_request_cancel($1::bytea)";
static const char oidc_login_sql[] = "SELECT status, query, household_id FROM api.oidc_login($1::bytea, $2::bytea, $3::text, "
                                     "$4::text)";

typedef struct oidc_start {
    authz_t *a;
    const char *state, *nonce;
} oidc_start_t;

static void on_oidc_request_stored(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    oidc_start_t *o = data;
    const auth_oidc_t *idp = app_auth_oidc();
    sbuf_t u = SBUF_INIT;

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    sbuf_puts(&u, idp->authorization_endpoint);
    sbuf_puts(&u, "?response_type=id_token&response_mode=form_post&scope=openid&client_id=");
    pct_encode(&u, idp->client_id);
    sbuf_puts(&u, "&redirect_uri=");
    pct_encode(&u, app_auth_issuer());
    pct_encode(&u, "/oauth/oidc/callback");
    sbuf_puts(&u, "&state=");
    sbuf_puts(&u, o->state);
    sbuf_puts(&u, "&nonce=");
    sbuf_puts(&u, o->nonce);
    sbuf_puts(&u, "&ui_locales=");
    sbuf_puts(&u, lang_of(req, &o->a->p));
    redirect_status(req, 302, &u);
}

/* No session yet and an identity provider is configured: store the request and send the browser to the provider. */
static void oidc_start(h2o_req_t *req, authz_t *a)
{
    oidc_start_t *o = h2o_mem_alloc_pool(&req->pool, sizeof(*o));
    char *state = h2o_mem_alloc_pool(&req->pool, 48), *nonce = h2o_mem_alloc_pool(&req->pool, 48);

    if (a->query == NULL || strlen(a->query) > MAX_BODY || !query_safe(a->query)) {
        redirect_error(req, a->p.v[P_REDIRECT_URI], a->p.v[P_STATE], "invalid_request",
                       "the authorization request must be plain ASCII and at most 16 KiB");
        return;
    }
    if (auth_random_token(32, state, 48) != 0 || auth_random_token(32, nonce, 48) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the login state.", NULL);
        return;
    }
    o->a = a;
    o->state = state;
    o->nonce = nonce;
    {
        const char *params[3] = {hash_param(req, state), hash_param(req, nonce), a->query};
        app_db_query_sql(req, oidc_create_sql, 3, params, on_oidc_request_stored, o);
    }
}

/* The authorization request's parameters, parsed from its stored query string (valid when it was stored). */
static params_t *stored_params(h2o_req_t *req, const char *query)
{
    params_t *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    if (params_parse(req, query, strlen(query), p) != 0)
        memset(p, 0, sizeof(*p));
    return p;
}

static void reply_unknown_state(h2o_req_t *req)
{
    http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                      "state names no pending login: it is unknown, was used already, or is older than 10 minutes "
                      "(start again from the app).",
                      "state");
}

/* The identity provider answered error=...: the authorization request ends with an error at the app (RFC 6749
 * 4.1.2.1). A provider outage becomes temporarily_unavailable; every other refusal is access_denied. */
static void on_oidc_cancelled(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    const char *idp_error = data;
    const params_t *p;
    int outage;

    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        reply_unknown_state(req);
        return;
    }
    p = stored_params(req, PQgetvalue(res, 0, 0));
    if (p->v[P_REDIRECT_URI] == NULL) {
        reply_unknown_state(req);
        return;
    }
    outage = strcmp(idp_error, "temporarily_unavailable") == 0 || strcmp(idp_error, "server_error") == 0;
    redirect_error(req, p->v[P_REDIRECT_URI], p->v[P_STATE], outage ? "temporarily_unavailable" : "access_denied",
                   outage ? "the city's login service is unavailable" : "the citizen did not log in at the city's login service");
}

/* 403 page in Danish and English: the login worked, but no household is linked to it. */
static void render_unlinked(h2o_req_t *req, const params_t *p)
{
    const char *lang = lang_of(req, p), *other = strcmp(lang, "da") == 0 ? "en" : "da";
    sbuf_t b = SBUF_INIT;

    page_head(&b, lang, text(lang, "unlinked_title"));
    sbuf_puts(&b, "<h1>");
    html_escape(&b, text(lang, "unlinked_title"));
    sbuf_puts(&b, "</h1><p>");
    html_escape(&b, text(lang, "unlinked_body"));
    sbuf_puts(&b, "</p>");
    sbuf_printf(&b, "<section lang=\"%s\"><h2>", other);
    html_escape(&b, text(other, "unlinked_title"));
    sbuf_puts(&b, "</h2><p>");
    html_escape(&b, text(other, "unlinked_body"));
    sbuf_puts(&b, "</p></section>");
    if (p->v[P_REDIRECT_URI] != NULL) {
        sbuf_t u = SBUF_INIT;
        sbuf_puts(&u, p->v[P_REDIRECT_URI]);
        sbuf_putc(&u, strchr(p->v[P_REDIRECT_URI], '?') != NULL ? '&' : '?');
        sbuf_puts(&u, "error=access_denied&error_description=");
        pct_encode(&u, "the citizen's login is not linked to a household");
        if (p->v[P_STATE] != NULL) {
            sbuf_puts(&u, "&state=");
            pct_encode(&u, p->v[P_STATE]);
        }
        sbuf_puts(&b, "<p><a id=\"back\" href=\"");
        if (!sbuf_failed(&u))
            html_escape(&b, u.data);
        sbuf_puts(&b, "\">");
        html_escape(&b, text(lang, "back"));
        sbuf_puts(&b, "</a></p>");
        sbuf_free(&u);
    }
    sbuf_puts(&b, "</main></body></html>\n");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LANGUAGE, NULL, lang, 2);
    http_add_header(req, "x-frame-options", "DENY");
    http_add_header(req, "content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    send_sbuf(req, 403, "text/html; charset=utf-8", &b);
}

static void on_oidc_login(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    const auth_keyring_t *kr = data;
    const char *st;
    sbuf_t u = SBUF_INIT;

    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "unknown_state") == 0) {
        reply_unknown_state(req);
    } else if (strcmp(st, "nonce_mismatch") == 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "id_token check failed: nonce mismatch. The id_token's nonce is not the one sent with this login's "
                          "state.",
                          "id_token");
    } else if (strcmp(st, "unknown_subject") == 0) {
        render_unlinked(req, stored_params(req, PQgetvalue(res, 0, 1)));
    } else if (strcmp(st, "ok") == 0 && !PQgetisnull(res, 0, 2)) {
        if (session_start_or_reply(req, kr, PQgetvalue(res, 0, 2)) != 0)
            return;
        sbuf_puts(&u, "/oauth/authorize?");
        sbuf_puts(&u, PQgetvalue(res, 0, 1));
        redirect_to(req, &u);
    } else {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Unexpected answer from api.oidc_login.", NULL);
    }
}

int consent_oauth_oidc_callback(h2o_req_t *req, const http_match_t *m)
{
    const auth_oidc_t *idp = app_auth_oidc();
    const auth_keyring_t *kr;
    auth_oidc_identity_t id;
    auth_oidc_result_t r;
    const char *state_hash;
    char *sub;
    params_t p;

    if ((kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (idp == NULL) {
        http_problem_send(req, HTTP_PROBLEM_NOT_FOUND, "No identity provider is configured on this server (KLIMA_OIDC_ISSUER).",
                          NULL);
        return 0;
    }
    if (params_of_form_or_reply(req, &p) != 0)
        return 0;
    if (p.duplicate != NULL) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, p.duplicate, "%s was given more than once.", p.duplicate);
        return 0;
    }
    if (p.v[P_STATE] == NULL || !is_b64url(p.v[P_STATE], 43, 43)) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER,
                          "state is required: the value klimaspejl sent to the identity provider (43 characters).", "state");
        return 0;
    }
    state_hash = hash_param(req, p.v[P_STATE]);
    if (p.v[P_ERROR] != NULL) {
        const char *params[1] = {state_hash};
        app_db_query_sql(req, oidc_cancel_sql, 1, params, on_oidc_cancelled, (void *)p.v[P_ERROR]);
        return 0;
    }
    if (p.v[P_ID_TOKEN] == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "id_token (or error) is required: the identity provider's answer.",
                          "id_token");
        return 0;
    }
    if ((r = auth_oidc_verify(idp, p.v[P_ID_TOKEN], strlen(p.v[P_ID_TOKEN]), (int64_t)time(NULL), &id)) != AUTH_OIDC_OK) {
        http_problem_sendf(req, HTTP_PROBLEM_INVALID_PARAMETER, "id_token", "id_token check failed: %s. %s",
                           auth_oidc_result_name(r), auth_oidc_result_detail(r));
        return 0;
    }
    sub = h2o_mem_alloc_pool(&req->pool, strlen(id.sub) + 1);
    memcpy(sub, id.sub, strlen(id.sub) + 1);
    {
        const char *params[4] = {state_hash, hash_param(req, id.nonce), idp->issuer, sub};
        app_db_query_sql(req, oidc_login_sql, 4, params, on_oidc_login, (void *)kr);
    }
    return 0;
}

/* --- consent decision ------------------------------------------------------------------------------------------------ */

typedef struct code_state {
    authz_t *a;
    const char *code;
} code_state_t;

static void on_code_created(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    code_state_t *cs = state;
    const params_t *p = &cs->a->p;
    sbuf_t u = SBUF_INIT;

    if (status != DB_OK) {
        app_db_error_reply(req, res);
        return;
    }
    sbuf_puts(&u, p->v[P_REDIRECT_URI]);
    sbuf_putc(&u, strchr(p->v[P_REDIRECT_URI], '?') != NULL ? '&' : '?');
    sbuf_puts(&u, "code=");
    sbuf_puts(&u, cs->code);
    if (p->v[P_STATE] != NULL) {
        sbuf_puts(&u, "&state=");
        pct_encode(&u, p->v[P_STATE]);
    }
    redirect_to(req, &u);
}

static void consent_decide(h2o_req_t *req, authz_t *a)
{
    const params_t *p = &a->p;
    uint64_t days;
    char *code, scopes[512], *arr, dbuf[16];
    code_state_t *cs;

    if ((a->household = session_household(req, a->kr)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_FORBIDDEN, "The login session has expired; start again from the app.", NULL);
        return;
    }
    if (p->v[P_DECISION] == NULL || strcmp(p->v[P_DECISION], "approve") != 0) {
        redirect_error(req, p->v[P_REDIRECT_URI], p->v[P_STATE], "access_denied", "the citizen declined");
        return;
    }
    if (p->v[P_DAYS] == NULL || str_to_uint(p->v[P_DAYS], strlen(p->v[P_DAYS]), 1, CONSENT_MAX_DAYS, &days) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "days must be a whole number from 1 to 1096 (3 years).", "days");
        return;
    }
    code = h2o_mem_alloc_pool(&req->pool, 48);
    if (auth_random_token(32, code, 48) != 0 || auth_scope_format(a->scopes, scopes, sizeof(scopes)) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot make a code.", NULL);
        return;
    }
    /* a text[] literal: scope names hold no characters that need quoting */
    arr = h2o_mem_alloc_pool(&req->pool, strlen(scopes) + 3);
    arr[0] = '{';
    for (size_t i = 0; scopes[i] != '\0'; ++i)
        arr[i + 1] = scopes[i] == ' ' ? ',' : scopes[i];
    memcpy(arr + strlen(scopes) + 1, "}", 2);
    str_fmt(dbuf, sizeof(dbuf), "%u", (unsigned)days);
    cs = h2o_mem_alloc_pool(&req->pool, sizeof(*cs));
    cs->a = a;
    cs->code = code;
    {
        char *daysp = h2o_mem_alloc_pool(&req->pool, strlen(dbuf) + 1);
        memcpy(daysp, dbuf, strlen(dbuf) + 1);
        const char *params[7] = {hash_param(req, code), a->household, p->v[P_CLIENT_ID], p->v[P_REDIRECT_URI], arr, daysp,
                                 p->v[P_CODE_CHALLENGE]};
        app_db_query_sql(req, code_create_sql, 7, params, on_code_created, cs);
    }
}

int consent_oauth_consent(h2o_req_t *req, const http_match_t *m)
{
    authz_t *a = h2o_mem_alloc_pool(&req->pool, sizeof(*a));
    memset(a, 0, sizeof(*a));
    if ((a->kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (params_of_form_or_reply(req, &a->p) != 0 || csrf_check_or_reply(req, &a->p) != 0)
        return 0;
    a->step = STEP_CONSENT;
    authorize_start(req, a);
    return 0;
}

/* --- token endpoint -------------------------------------------------------------------------------------------------- */

/* RFC 6749 5.2 error body. */
static void oauth_error(h2o_req_t *req, int status, const char *error, const char *description)
{
    json_t *j = json_pack("{s:s, s:s}", "error", error, "error_description", description);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (status == 401)
        http_add_header(req, "www-authenticate", "Basic realm=\"klimaspejl\"");
    http_send_json(req, status, j);
}

typedef struct client_auth {
    const char *client_id;
    const char *secret_hash; /* bytea literal, or NULL for a public client */
    int used_basic;
} client_auth_t;

/* Client authentication (RFC 6749 2.3.1): HTTP Basic or client_id (+ client_secret) in the form. Sends the error and
 * returns -1 when it is malformed. */
static int client_auth_or_reply(h2o_req_t *req, const params_t *p, client_auth_t *out)
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
            oauth_error(req, 401, "invalid_client", "use HTTP Basic client authentication or client_id in the form");
            return -1;
        }
        for (size_t k = 6; k < v.len; ++k) {
            char c = v.base[k];
            if (c == '=' || c == ' ')
                continue;
            b64[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
        }
        if ((len = b64url_decode(b64, n, dec, sizeof(dec) - 1)) < 0 || (colon = memchr(dec, ':', (size_t)len)) == NULL) {
            oauth_error(req, 401, "invalid_client", "the Basic credentials are malformed");
            return -1;
        }
        dec[len] = '\0';
        *colon = '\0';
        id = h2o_mem_alloc_pool(&req->pool, strlen((char *)dec) + 1);
        memcpy(id, dec, strlen((char *)dec) + 1);
        secret = colon + 1;
        out->client_id = id;
        out->secret_hash = hash_param(req, secret);
        out->used_basic = 1;
        OPENSSL_cleanse(dec, sizeof(dec));
        if (p->v[P_CLIENT_ID] != NULL && strcmp(p->v[P_CLIENT_ID], id) != 0) {
            oauth_error(req, 400, "invalid_request", "client_id differs from the authenticated client");
            return -1;
        }
    } else {
        out->client_id = p->v[P_CLIENT_ID];
        if (p->v[P_CLIENT_SECRET] != NULL)
            out->secret_hash = hash_param(req, p->v[P_CLIENT_SECRET]);
    }
    if (out->client_id == NULL || !auth_client_id_valid(out->client_id)) {
        oauth_error(req, 401, "invalid_client", "client_id is missing or malformed");
        return -1;
    }
    return 0;
}

typedef struct grant {
    client_auth_t client;
    const char *refresh; /* the new refresh token (plain, returned once) */
    const auth_keyring_t *kr;
} grant_t;

static void on_grant(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    grant_t *g = state;
    const char *st;
    uint64_t until = 0;
    uint32_t scopes = 0;
    int64_t now = (int64_t)time(NULL), ttl;
    char *tok;
    json_t *j;

    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    st = PQgetvalue(res, 0, 0);
    if (strcmp(st, "ok") != 0) {
        oauth_error(req, strcmp(st, "invalid_client") == 0 ? 401 : 400, st, PQgetvalue(res, 0, 1));
        return;
    }
    str_to_uint(PQgetvalue(res, 0, 5), (size_t)PQgetlength(res, 0, 5), 0, UINT64_MAX, &until);
    auth_scope_parse(PQgetvalue(res, 0, 4), 0, &scopes);
    ttl = (int64_t)until - now;
    if (ttl > AUTH_TOKEN_MAX_TTL)
        ttl = AUTH_TOKEN_MAX_TTL;
    if (ttl < 1) {
        oauth_error(req, 400, "invalid_grant", "the consent has expired");
        return;
    }
    if ((tok = auth_token_sign(g->kr, app_auth_issuer(), PQgetvalue(res, 0, 3), g->client.client_id, PQgetvalue(res, 0, 2), scopes,
                               now, (unsigned)ttl)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot sign the access token.", NULL);
        return;
    }
    j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", tok, "token_type", "Bearer", "expires_in", (json_int_t)ttl,
                  "refresh_token", g->refresh, "scope", PQgetvalue(res, 0, 4));
    free(tok);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_add_header(req, "pragma", "no-cache");
    http_send_json(req, 200, j);
}

int consent_oauth_token(h2o_req_t *req, const http_match_t *m)
{
    grant_t *g = h2o_mem_alloc_pool(&req->pool, sizeof(*g));
    params_t p;
    char *refresh;
    const char *gt;

    if ((g->kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (params_of_form_or_reply(req, &p) != 0)
        return 0;
    if (p.duplicate != NULL) {
        oauth_error(req, 400, "invalid_request", "a parameter was given more than once");
        return 0;
    }
    if (client_auth_or_reply(req, &p, &g->client) != 0)
        return 0;
    refresh = h2o_mem_alloc_pool(&req->pool, 48);
    if (auth_random_token(32, refresh, 48) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness.", NULL);
        return 0;
    }
    g->refresh = refresh;
    gt = p.v[P_GRANT_TYPE];
    if (gt == NULL) {
        oauth_error(req, 400, "invalid_request", "grant_type is required");
    } else if (strcmp(gt, "authorization_code") == 0) {
        unsigned char h[32];
        char *challenge = h2o_mem_alloc_pool(&req->pool, 48);
        if (p.v[P_CODE] == NULL || p.v[P_REDIRECT_URI] == NULL || p.v[P_CODE_VERIFIER] == NULL) {
            oauth_error(req, 400, "invalid_request", "code, redirect_uri and code_verifier are required");
            return 0;
        }
        if (!verifier_valid(p.v[P_CODE_VERIFIER])) {
            oauth_error(req, 400, "invalid_grant", "code_verifier must be 43-128 unreserved characters (RFC 7636)");
            return 0;
        }
        auth_sha256(p.v[P_CODE_VERIFIER], strlen(p.v[P_CODE_VERIFIER]), h);
        b64url_encode(h, 32, challenge, 48);
        const char *params[6] = {hash_param(req, p.v[P_CODE]), g->client.client_id, g->client.secret_hash,
                                 p.v[P_REDIRECT_URI],          challenge,           hash_param(req, refresh)};
        app_db_query_sql(req, code_redeem_sql, 6, params, on_grant, g);
    } else if (strcmp(gt, "refresh_token") == 0) {
        if (p.v[P_REFRESH_TOKEN] == NULL) {
            oauth_error(req, 400, "invalid_request", "refresh_token is required");
            return 0;
        }
        const char *params[4] = {hash_param(req, p.v[P_REFRESH_TOKEN]), g->client.client_id, g->client.secret_hash,
                                 hash_param(req, refresh)};
        app_db_query_sql(req, refresh_sql, 4, params, on_grant, g);
    } else {
        oauth_error(req, 400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
    }
    return 0;
}

/* --- revocation ------------------------------------------------------------------------------------------------------ */

static void on_revoked(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (status != DB_OK || PQntuples(res) != 1) {
        app_db_error_reply(req, res);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
        oauth_error(req, 401, "invalid_client", "client authentication failed");
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_bytes(req, 200, "application/json", "{}", 2);
}

int consent_oauth_revoke(h2o_req_t *req, const http_match_t *m)
{
    const auth_keyring_t *kr;
    params_t p;
    client_auth_t client;
    const char *token_hash = NULL, *consent = NULL;

    if ((kr = app_auth_keyring_or_reply(req)) == NULL)
        return 0;
    if (params_of_form_or_reply(req, &p) != 0 || client_auth_or_reply(req, &p, &client) != 0)
        return 0;
    if (p.v[P_TOKEN] == NULL) {
        oauth_error(req, 400, "invalid_request", "token is required");
        return 0;
    }
    if (strchr(p.v[P_TOKEN], '.') != NULL) {
        auth_claims_t c;
        /* an access token: revoke its consent if it verifies (RFC 7009: an invalid token is no error) */
        if (auth_token_verify(kr, app_auth_issuer(), NULL, p.v[P_TOKEN], strlen(p.v[P_TOKEN]), (int64_t)time(NULL), &c) ==
            AUTH_TOKEN_OK) {
            char *cid = h2o_mem_alloc_pool(&req->pool, sizeof(c.cid));
            memcpy(cid, c.cid, sizeof(c.cid));
            consent = cid;
        }
    } else {
        token_hash = hash_param(req, p.v[P_TOKEN]);
    }
    {
        const char *params[4] = {token_hash, consent, client.client_id, client.secret_hash};
        app_db_query_sql(req, revoke_sql, 4, params, on_revoked, NULL);
    }
    return 0;
}

/* --- discovery ------------------------------------------------------------------------------------------------------- */

int consent_oauth_jwks(h2o_req_t *req, const http_match_t *m)
{
    const auth_keyring_t *kr = app_auth_keyring();
    static const char empty[] = "{\"keys\":[]}";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=300"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
    if (kr == NULL)
        http_send_bytes(req, 200, "application/jwk-set+json", empty, sizeof(empty) - 1);
    else
        http_send_bytes(req, 200, "application/jwk-set+json", kr->jwks, kr->jwks_len);
    return 0;
}

int consent_oauth_metadata(h2o_req_t *req, const http_match_t *m)
{
    const char *iss = app_auth_issuer();
    char url[512];
    json_t *j = json_object(), *scopes = json_array();

    json_object_set_new(j, "issuer", json_string(iss));
    str_fmt(url, sizeof(url), "%s/oauth/authorize", iss);
    json_object_set_new(j, "authorization_endpoint", json_string(url));
    str_fmt(url, sizeof(url), "%s/oauth/token", iss);
    json_object_set_new(j, "token_endpoint", json_string(url));
    str_fmt(url, sizeof(url), "%s/oauth/revoke", iss);
    json_object_set_new(j, "revocation_endpoint", json_string(url));
    str_fmt(url, sizeof(url), "%s/.well-known/jwks.json", iss);
    json_object_set_new(j, "jwks_uri", json_string(url));
    str_fmt(url, sizeof(url), "%s/openapi.json", iss);
    json_object_set_new(j, "service_documentation", json_string(url));
    for (size_t i = 0; i < auth_nscopes; ++i)
        json_array_append_new(scopes, json_string(auth_scopes[i].name));
    json_object_set_new(j, "scopes_supported", scopes);
    json_object_set_new(j, "response_types_supported", json_pack("[s]", "code"));
    json_object_set_new(j, "response_modes_supported", json_pack("[s]", "query"));
    json_object_set_new(j, "grant_types_supported", json_pack("[s, s]", "authorization_code", "refresh_token"));
    json_object_set_new(j, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    json_object_set_new(j, "token_endpoint_auth_methods_supported",
                        json_pack("[s, s, s]", "none", "client_secret_basic", "client_secret_post"));
    json_object_set_new(j, "revocation_endpoint_auth_methods_supported",
                        json_pack("[s, s, s]", "none", "client_secret_basic", "client_secret_post"));
    json_object_set_new(j, "ui_locales_supported", json_pack("[s, s]", "da", "en"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=300"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
    http_send_json(req, 200, j);
    return 0;
}
