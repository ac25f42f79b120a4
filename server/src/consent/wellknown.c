/*
 * consent/wellknown — the keys and the authorization server metadata.
 */
#include <jansson.h>

#include "app/auth.h"
#include "app/route.h"
#include "auth/scope.h"
#include "consent/wellknown.h"
#include "core/strutil.h"
#include "http/respond.h"

int consent_wellknown_jwks(h2o_req_t *req, const http_match_t *m)
{
    const auth_keyring_t *kr = app_auth_keyring();
    static const char empty[] = "{\"keys\":[]}";
    app_cache_control(req, app_route_of(m), NULL);
    if (kr == NULL)
        http_send_bytes(req, 200, "application/jwk-set+json", empty, sizeof(empty) - 1);
    else
        http_send_bytes(req, 200, "application/jwk-set+json", kr->jwks, kr->jwks_len);
    return 0;
}

int consent_wellknown_metadata(h2o_req_t *req, const http_match_t *m)
{
    const char *iss = app_auth_issuer();
    char url[512];
    json_t *j = json_object(), *scopes = json_array();

    /* the metadata's URLs: the issuer followed by each path */
    static const char *const urls[][2] = {
        {"authorization_endpoint", "/oauth/authorize"}, {"token_endpoint", "/oauth/token"},
        {"revocation_endpoint", "/oauth/revoke"},       {"registration_endpoint", "/oauth/register"},
        {"jwks_uri", "/.well-known/jwks.json"},         {"service_documentation", "/openapi.json"},
    };

    json_object_set_new(j, "issuer", json_string(iss));
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); ++i) {
        str_fmt(url, sizeof(url), "%s%s", iss, urls[i][1]);
        json_object_set_new(j, urls[i][0], json_string(url));
    }
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
    app_cache_control(req, app_route_of(m), NULL);
    http_send_json(req, 200, j);
    return 0;
}
