/*
 * consent/module — the consent routes and settings.
 */
#include <string.h>

#include "app/route.h"
#include "consent/authorize.h"
#include "consent/login.h"
#include "consent/logout.h"
#include "consent/module.h"
#include "consent/register.h"
#include "consent/revoke.h"
#include "consent/token.h"
#include "consent/wellknown.h"
#include "core/log.h"
#include "core/strutil.h"

static struct {
    auth_oidc_t *oidc;
    int dev_login;
} consent;

/* Pages and forms of this server answer no other origin; apps call token and revoke, also from browsers. */
static const app_route_t consent_routes[] = {
    {"GET", "/.well-known/jwks.json", consent_wellknown_jwks, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=300"},
    {"GET", "/.well-known/oauth-authorization-server", consent_wellknown_metadata, APP_CLASS_OPEN, NULL, APP_CORS_ANY,
     "public, max-age=300"},
    {"GET", "/oauth/authorize", consent_authorize, APP_CLASS_OAUTH, NULL, APP_CORS_NONE, "no-store"},
    {"POST", "/oauth/login", consent_login_dev, APP_CLASS_OAUTH, NULL, APP_CORS_NONE, "no-store"},
    {"POST", "/oauth/oidc/callback", consent_login_oidc_callback, APP_CLASS_OAUTH, NULL, APP_CORS_NONE, "no-store"},
    {"POST", "/oauth/consent", consent_authorize_decision, APP_CLASS_OAUTH, NULL, APP_CORS_NONE, "no-store"},
    {"POST", "/oauth/logout", consent_logout, APP_CLASS_OAUTH, NULL, APP_CORS_NONE, "no-store"},
    {"POST", "/oauth/token", consent_token, APP_CLASS_OAUTH, NULL, APP_CORS_CLIENTS, "no-store"},
    {"POST", "/oauth/revoke", consent_revoke, APP_CLASS_OAUTH, NULL, APP_CORS_CLIENTS, "no-store"},
    /* self-service registration (RFC 7591): open to any origin (a developer portal), its own rate limit */
    {"POST", "/oauth/register", consent_register, APP_CLASS_REGISTER, NULL, APP_CORS_ANY, "no-store"},
};

/* Whether the listen address host:port (or [v6]:port) names a loopback interface only: localhost, 127.0.0.0/8, ::1. */
static int listen_is_loopback(const char *listen)
{
    char host[256];
    uint16_t port;
    if (str_parse_hostport(listen, host, sizeof(host), &port) != 0)
        return 0;
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0;
}

/* The dev login lets anyone who reaches the server sign in as any demo household: it starts only where nobody else can
 * reach it (loopback, plain HTTP) unless KLIMA_DEV_LOGIN=force, and always with a warning. */
static int dev_login_check(const config_t *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!cfg->dev_login)
        return 0;
    if (cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0')
        why = "TLS is configured (KLIMA_TLS_CERT)";
    for (size_t i = 0; why == NULL && i < cfg->nlisten; ++i) {
        if (!listen_is_loopback(cfg->listen[i]))
            why = "a listen address is not loopback (KLIMA_LISTEN)";
    }
    if (why != NULL && cfg->dev_login != CONFIG_DEV_LOGIN_FORCE) {
        str_fmt(err, errlen,
                "KLIMA_DEV_LOGIN=1 refused: %s. The dev login lets anyone sign in as a demo household; it is for a "
                "development machine only. Turn it off, or set KLIMA_DEV_LOGIN=force to start anyway.",
                why);
        return -1;
    }
    log_warn("the dev login is ON (KLIMA_DEV_LOGIN=%s): anyone who reaches this server can sign in as a demo household "
             "without a password. Development only, never in production%s%s.",
             cfg->dev_login == CONFIG_DEV_LOGIN_FORCE ? "force" : "1", why != NULL ? "; forced although " : "",
             why != NULL ? why : "");
    return 0;
}

static int consent_start(const config_t *cfg, char *err, size_t errlen)
{
    if (dev_login_check(cfg, err, errlen) != 0)
        return -1;
    consent.dev_login = cfg->dev_login != 0;
    if (cfg->oidc_issuer != NULL || cfg->oidc_key != NULL || cfg->oidc_client_id != NULL ||
        cfg->oidc_authorization_endpoint != NULL) {
        /* any OIDC setting asks for the production login: all of them must be right, or the server does not start */
        if ((consent.oidc = auth_oidc_load(cfg->oidc_issuer, cfg->oidc_key, cfg->oidc_client_id, cfg->oidc_authorization_endpoint,
                                           err, errlen)) == NULL)
            return -1;
        log_info("citizen login: OpenID Connect identity provider %s (%s)", consent.oidc->issuer, auth_alg_name(consent.oidc->alg));
    }
    return 0;
}

static void consent_stop(void)
{
    auth_oidc_free(consent.oidc);
    consent.oidc = NULL;
}

const app_module_t consent_module = {
    .name = "consent", APP_ROUTES(consent_routes), .process = {.start = consent_start, .stop = consent_stop}};

const auth_oidc_t *consent_oidc(void)
{
    return consent.oidc;
}

int consent_dev_login(void)
{
    return consent.dev_login;
}
