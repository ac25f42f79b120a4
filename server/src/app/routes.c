/*
 * app/routes — the route table: the one place a route is registered. Every pattern here is a path in
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

const http_route_t app_routes[] = {
    {"GET", "/healthz", app_service_healthz},
    {"GET", "/readyz", app_service_readyz},
    {"GET", "/metrics", app_service_metrics},
    {"GET", "/openapi.json", app_openapi_get},
    {"GET", "/v1/datasets", opendata_datasets_list},
    {"GET", "/v1/datasets/{id}", opendata_datasets_get},
    {"GET", "/v1/datasets/{id}/records", opendata_records_get},
    {"GET", "/v1/datasets/{id}/download", opendata_download_get},
    {"GET", "/v1/usage", app_usage_get},
    {"GET", "/v1/datasets/{id}/datapackage.json", opendata_metadata_datapackage},
    {"GET", "/v1/catalog.jsonld", opendata_metadata_catalog},
    {"GET", "/v1/emission-factors", opendata_factors_get},
    {"GET", "/.well-known/jwks.json", consent_oauth_jwks},
    {"GET", "/.well-known/oauth-authorization-server", consent_oauth_metadata},
    {"GET", "/oauth/authorize", consent_oauth_authorize},
    {"POST", "/oauth/login", consent_oauth_login},
    {"POST", "/oauth/oidc/callback", consent_oauth_oidc_callback},
    {"POST", "/oauth/consent", consent_oauth_consent},
    {"POST", "/oauth/token", consent_oauth_token},
    {"POST", "/oauth/revoke", consent_oauth_revoke},
    {"GET", "/v1/me/consents", citizen_consents_list},
    {"DELETE", "/v1/me/consents/{id}", citizen_consents_delete},
    {"POST", "/v1/feedback", citizen_feedback_post},
    {"GET", "/v1/feedback/stats", citizen_feedback_stats},
    {"GET", "/v1/me/summary", citizen_me_summary},
    {"GET", "/v1/me/energy", citizen_me_energy},
    {"GET", "/v1/me/waste", citizen_me_waste},
    {"GET", "/v1/me/mobility", citizen_me_mobility},
    {"GET", "/v1/me/export", citizen_me_export},
};

const size_t app_nroutes = sizeof(app_routes) / sizeof(app_routes[0]);
