/*
 * consent/pages — the consent service's HTML pages.
 */
#include <string.h>

#include "auth/scope.h"
#include "consent/pages.h"
#include "consent/session.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/respond.h"

/* s as HTML text or attribute value: the five characters that mean markup as entities. */
static void html_escape(sbuf_t *b, const char *s)
{
    static const char *const entities[256] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;"};
    for (; *s != '\0'; ++s) {
        const char *e = entities[(unsigned char)*s];
        if (e != NULL)
            sbuf_puts(b, e);
        else
            sbuf_putc(b, *s);
    }
}

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
    {"revoke", "Du kan til enhver tid tilbagekalde adgangen under Mine apps på klimaspejl.",
     "You can revoke the access at any time under My apps on klimaspejl."},
    {"login_title", "Log ind (udviklingstilstand)", "Log in (development mode)"},
    {"login_intro", "Vælg en demo-husstand. Data er syntetiske.", "Choose a demo household. The data is synthetic."},
    {"login_legend", "Demo-husstand", "Demo household"},
    {"login", "Log ind", "Log in"},
    {"switch", "English", "Dansk"},
    {"switch_label", "Switch to English", "Skift til dansk"},
    {"skip", "Spring til indhold", "Skip to content"},
    {"nav_label", "Hovedmenu", "Main menu"},
    {"nav_dashboard", "Min husstand", "My household"},
    {"nav_explore", "Dataudforsker", "Data explorer"},
    {"nav_docs", "API-dokumentation", "API docs"},
    {"nav_start", "Kom i gang", "Getting started"},
    {"footer", "klimaspejl — Københavns Kommunes klimadata.", "klimaspejl — the City of Copenhagen's climate data."},
    {"apartment", "lejlighed", "apartment"},
    {"terraced", "rækkehus", "terraced house"},
    {"detached", "parcelhus", "detached house"},
    {"band_1", "1 person", "1 person"},
    {"band_2", "2 personer", "2 people"},
    {"band_3-4", "3-4 personer", "3-4 people"},
    {"band_5+", "5 eller flere personer", "5 or more people"},
    {"unlinked_title", "Dit login er ikke knyttet til en husstand", "Your login is not linked to a household"},
    {"unlinked_body",
     "Du er logget ind hos kommunens login-tjeneste, men dit login er endnu ikke knyttet til en husstand i klimaspejl, så "
     "der er ingen data at dele. Kontakt Københavns Kommune for at få det knyttet, og prøv så igen.",
     "You are logged in with the city's login service, but your login is not yet linked to a household in klimaspejl, so "
     "there is no data to share. Contact the City of Copenhagen to have it linked, then try again."},
    {"back", "Tilbage til appen", "Back to the app"},
    {"signed_in", "Du er logget ind som husstanden", "You are signed in as the household"},
    {"not_you", "Ikke dig? Log ud", "Not you? Sign out"},
};

static const char *text(const char *lang, const char *key)
{
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); ++i) {
        if (strcmp(texts[i].key, key) == 0)
            return strcmp(lang, "da") == 0 ? texts[i].da : texts[i].en;
    }
    return key;
}

/* The page up to and including its <h1> (the title) and the opening of the paragraph after it: the site's stylesheet,
 * favicon, skip link, header and menu (as clients/web's pages have them), and the language switch, a link to this
 * authorization request in the other language (p's parameters with lang changed). */
static void page_head(sbuf_t *b, const consent_params_t *p, const char *lang, const char *title)
{
    static const char *const nav[][2] = {
        {"/", "nav_dashboard"}, {"/explore", "nav_explore"}, {"/docs", "nav_docs"}, {"/start", "nav_start"}};
    const char *other = strcmp(lang, "da") == 0 ? "en" : "da";
    char sep = '?';

    sbuf_printf(b,
                "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                "content=\"width=device-width, initial-scale=1\"><title>",
                lang);
    html_escape(b, title);
    sbuf_puts(b, " — klimaspejl</title><link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">"
                 "<link rel=\"stylesheet\" href=\"/assets/site.css\"></head><body><a class=\"skip\" href=\"#main\">");
    html_escape(b, text(lang, "skip"));
    sbuf_puts(b, "</a><header class=\"site\"><div class=\"bar\"><a class=\"brand\" href=\"/\">klimaspejl</a><nav aria-label=\"");
    html_escape(b, text(lang, "nav_label"));
    sbuf_puts(b, "\"><ul>");
    for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); ++i) {
        sbuf_printf(b, "<li><a href=\"%s\">", nav[i][0]);
        html_escape(b, text(lang, nav[i][1]));
        sbuf_puts(b, "</a></li>");
    }
    sbuf_printf(b, "</ul></nav><a class=\"button lang-switch\" id=\"lang-switch\" lang=\"%s\" hreflang=\"%s\" aria-label=\"", other,
                other);
    html_escape(b, text(lang, "switch_label"));
    sbuf_puts(b, "\" href=\"");
    if (p != NULL && p->v[P_CLIENT_ID] != NULL) {
        sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);
        sbuf_puts(&u, "/oauth/authorize");
        for (int k = P_RESPONSE_TYPE; k < P_LANG; ++k) {
            if (p->v[k] == NULL)
                continue;
            sbuf_printf(&u, "%c%s=", sep, consent_param_names[k]);
            consent_pct_encode(&u, p->v[k]);
            sep = '&';
        }
        sbuf_printf(&u, "%clang=%s", sep, other);
        if (!sbuf_failed(&u))
            html_escape(b, u.data);
        sbuf_free(&u);
    } else {
        sbuf_printf(b, "?lang=%s", other);
    }
    sbuf_puts(b, "\">");
    html_escape(b, text(lang, "switch"));
    sbuf_puts(b, "</a></div></header><main id=\"main\" tabindex=\"-1\" class=\"narrow\"><h1>");
    html_escape(b, title);
    sbuf_puts(b, "</h1><p>");
}

/* The end of every page: the site's footer. */
static void page_foot(sbuf_t *b, const char *lang)
{
    sbuf_puts(b, "</main><footer class=\"site\"><p>");
    html_escape(b, text(lang, "footer"));
    sbuf_puts(b, "</p></footer></body></html>\n");
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
    static const char head[] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'";
    static const char tail[] = "; frame-ancestors 'none'";
    static const char plain[] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
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
        if (!str_is_word_char((unsigned char)c, ".-:[]"))
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

/* "Signed in as household 1a2b3c4d… (Nørrebro). Not you? [Sign out]": the sign-out form carries the request along. */
static void signed_in_as(sbuf_t *b, const consent_authz_t *a, const char *lang, const char *csrf)
{
    char shortid[9];
    str_fmt(shortid, sizeof(shortid), "%.8s", a->household);
    sbuf_puts(b, "<form id=\"signed-in-as\" method=\"post\" action=\"/oauth/logout\"><p>");
    html_escape(b, text(lang, "signed_in"));
    sbuf_puts(b, " <strong>");
    html_escape(b, shortid);
    sbuf_puts(b, "…</strong>");
    if (a->district != NULL && a->district[0] != '\0') {
        sbuf_puts(b, " (");
        html_escape(b, a->district);
        sbuf_puts(b, ")");
    }
    sbuf_puts(b, ". ");
    hidden(b, "q", a->query);
    hidden(b, "csrf", csrf);
    sbuf_puts(b, "<button type=\"submit\" id=\"not-you\">");
    html_escape(b, text(lang, "not_you"));
    sbuf_puts(b, "</button></p></form>");
}

void consent_page_consent(h2o_req_t *req, const consent_authz_t *a)
{
    const consent_params_t *p = &a->p;
    const char *client_name = a->client_name;
    uint32_t scopes = a->scopes;
    const char *lang = consent_lang(req, p), *csrf = consent_csrf_token_or_reply(req);
    static const char *const days[] = {"30", "90", "365", "730", "1096"};
    sbuf_t b = SBUF_INIT(SBUF_CAP_TEXT);

    if (csrf == NULL)
        return;
    page_head(&b, p, lang, text(lang, "title"));
    sbuf_puts(&b, "</p>");
    signed_in_as(&b, a, lang, csrf);
    sbuf_puts(&b, "<p><strong>");
    html_escape(&b, client_name);
    sbuf_puts(&b, "</strong> ");
    html_escape(&b, text(lang, "asks"));
    sbuf_puts(&b, "</p><ul>");
    for (size_t i = 0; i < auth_nscopes; ++i) {
        if ((scopes & (UINT32_C(1) << i)) == 0)
            continue;
        sbuf_printf(&b, "<li data-scope=\"%s\">", auth_scopes[i].name);
        html_escape(&b, strcmp(lang, "da") == 0 ? auth_scopes[i].text_da : auth_scopes[i].text_en);
        sbuf_puts(&b, "</li>");
    }
    sbuf_puts(&b, "</ul><form method=\"post\" action=\"/oauth/consent\">");
    for (int k = P_RESPONSE_TYPE; k <= P_LANG; ++k)
        hidden(&b, consent_param_names[k], p->v[k]);
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
    sbuf_puts(&b, "</button> <button type=\"submit\" class=\"secondary\" name=\"decision\" value=\"deny\">");
    html_escape(&b, text(lang, "deny"));
    sbuf_puts(&b, "</button></p></form><p class=\"hint\">");
    html_escape(&b, text(lang, "revoke"));
    sbuf_puts(&b, "</p>");
    page_foot(&b, lang);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LANGUAGE, NULL, lang, 2);
    http_add_header(req, "x-frame-options", "DENY");
    http_add_header(req, "content-security-policy", consent_csp(req, p->v[P_REDIRECT_URI]));
    http_send_sbuf(req, 200, "text/html; charset=utf-8", &b);
}

void consent_page_login(h2o_req_t *req, const consent_params_t *p, const char *query, const PGresult *res)
{
    const char *lang = consent_lang(req, p), *csrf = consent_csrf_token_or_reply(req);
    sbuf_t b = SBUF_INIT(SBUF_CAP_TEXT);

    if (csrf == NULL)
        return;
    page_head(&b, p, lang, text(lang, "login_title"));
    html_escape(&b, text(lang, "login_intro"));
    sbuf_puts(&b, "</p><form method=\"post\" action=\"/oauth/login\"><fieldset><legend>");
    html_escape(&b, text(lang, "login_legend"));
    sbuf_puts(&b, "</legend>");
    for (int i = 0; i < PQntuples(res); ++i) {
        char band[24];
        str_fmt(band, sizeof(band), "band_%s", PQgetvalue(res, i, 3));
        sbuf_printf(&b, "<p><input type=\"radio\" id=\"h%d\" name=\"household\" value=\"%s\"%s> <label for=\"h%d\">", i,
                    PQgetvalue(res, i, 0), i == 0 ? " checked" : "", i);
        html_escape(&b, PQgetvalue(res, i, 1));
        sbuf_puts(&b, ", ");
        html_escape(&b, text(lang, PQgetvalue(res, i, 2))); /* the dwelling type in words */
        sbuf_puts(&b, ", ");
        html_escape(&b, text(lang, band));
        sbuf_puts(&b, "</label></p>");
    }
    sbuf_puts(&b, "</fieldset>");
    hidden(&b, "q", query);
    hidden(&b, "csrf", csrf);
    sbuf_puts(&b, "<p><button type=\"submit\">");
    html_escape(&b, text(lang, "login"));
    sbuf_puts(&b, "</button></p></form>");
    page_foot(&b, lang);
    http_add_header(req, "x-frame-options", "DENY");
    http_send_sbuf(req, 200, "text/html; charset=utf-8", &b);
}

/* 403 page in Danish and English: the login worked, but no household is linked to it. */
void consent_page_unlinked(h2o_req_t *req, const consent_params_t *p)
{
    const char *lang = consent_lang(req, p), *other = strcmp(lang, "da") == 0 ? "en" : "da";
    sbuf_t b = SBUF_INIT(SBUF_CAP_TEXT);

    page_head(&b, p, lang, text(lang, "unlinked_title"));
    html_escape(&b, text(lang, "unlinked_body"));
    sbuf_puts(&b, "</p>");
    sbuf_printf(&b, "<section lang=\"%s\"><h2>", other);
    html_escape(&b, text(other, "unlinked_title"));
    sbuf_puts(&b, "</h2><p>");
    html_escape(&b, text(other, "unlinked_body"));
    sbuf_puts(&b, "</p></section>");
    if (p->v[P_REDIRECT_URI] != NULL) {
        sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);
        consent_error_url(&u, p->v[P_REDIRECT_URI], p->v[P_STATE], "access_denied",
                          "the citizen's login is not linked to a household");
        sbuf_puts(&b, "<p><a id=\"back\" href=\"");
        if (!sbuf_failed(&u))
            html_escape(&b, u.data);
        sbuf_puts(&b, "\">");
        html_escape(&b, text(lang, "back"));
        sbuf_puts(&b, "</a></p>");
        sbuf_free(&u);
    }
    page_foot(&b, lang);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LANGUAGE, NULL, lang, 2);
    http_add_header(req, "x-frame-options", "DENY");
    http_add_header(req, "content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'");
    http_send_sbuf(req, 403, "text/html; charset=utf-8", &b);
}
