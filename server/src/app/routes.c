/*
 * api/routes — the route table: the one place a route is registered. Every pattern here is a path in
 * api-spec/openapi.yaml and every path there is here (tests/integration checks both directions).
 */
#include "app/app.h"
#include "citizen/consents.h"
#include "app/service.h"
#include "opendata/datasets.h"
#include "opendata/download.h"
#include "citizen/feedback.h"
#include "citizen/me.h"
#include "opendata/factors.h"
#include "opendata/metadata.h"
#include "consent/oauth.h"
#include "app/openapi.h"
#include "opendata/records.h"
#include "app/usage.h"

const http_route_t api_routes[] = {
    {"GET", "/healthz", api_meta_healthz},
    {"GET", "/readyz", api_meta_readyz},
    {"GET", "/metrics", api_meta_metrics},
    {"GET", "/openapi.json", api_openapi_get},
    {"GET", "/v1/datasets", api_datasets_list},
    {"GET", "/v1/datasets/{id}", api_datasets_get},
    {"GET", "/v1/datasets/{id}/records", api_records_get},
    {"GET", "/v1/datasets/{id}/download", api_download_get},
    {"GET", "/v1/usage", api_usage_get},
    {"GET", "/v1/datasets/{id}/datapackage.json", api_metadata_datapackage},
    {"GET", "/v1/catalog.jsonld", api_metadata_catalog},
    {"GET", "/v1/emission-factors", api_factors_get},
    {"GET", "/.well-known/jwks.json", api_oauth_jwks},
    {"GET", "/.well-known/oauth-authorization-server", api_oauth_metadata},
    {"GET", "/oauth/authorize", api_oauth_authorize},
    {"POST", "/oauth/login", api_oauth_login},
    {"POST", "/oauth/oidc/callback", api_oauth_oidc_callback},
    {"POST", "/oauth/consent", api_oauth_consent},
    {"POST", "/oauth/token", api_oauth_token},
    {"POST", "/oauth/revoke", api_oauth_revoke},
    {"GET", "/v1/me/consents", api_consents_list},
    {"DELETE", "/v1/me/consents/{id}", api_consents_delete},
    {"POST", "/v1/feedback", api_feedback_post},
    {"GET", "/v1/feedback/stats", api_feedback_stats},
    {"GET", "/v1/me/summary", api_me_summary},
    {"GET", "/v1/me/energy", api_me_energy},
    {"GET", "/v1/me/waste", api_me_waste},
    {"GET", "/v1/me/mobility", api_me_mobility},
    {"GET", "/v1/me/export", api_me_export},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
