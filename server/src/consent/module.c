/*
 * consent/module — the consent routes and settings.
 */
#include "app/route.h"
#include "consent/authorize.h"
#include "consent/login.h"
#include "consent/module.h"
#include "consent/register.h"
#include "consent/revoke.h"
#include "consent/token.h"
#include "consent/wellknown.h"
#include "core/log.h"

static struct {
    auth_oidc_t *oidc;
    int dev_login;
    int secure_cookies;
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
    {"POST", "/oauth/token", consent_token, APP_CLASS_OAUTH, NULL, APP_CORS_CLIENTS, "no-store"},
    {"POST", "/oauth/revoke", consent_revoke, APP_CLASS_OAUTH, NULL, APP_CORS_CLIENTS, "no-store"},
    /* self-service registration (RFC 7591): open to any origin (a developer portal), its own rate limit */
    {"POST", "/oauth/register", consent_register, APP_CLASS_REGISTER, NULL, APP_CORS_ANY, "no-store"},
};

static int consent_start(const config_t *cfg, char *err, size_t errlen)
{
    consent.dev_login = cfg->dev_login;
    consent.secure_cookies = cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0';
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

int consent_secure_cookies(void)
{
    return consent.secure_cookies;
}
