/*
 * api/routes — the route table: the one place a route is registered. Every pattern here is a path in
 * api-spec/openapi.yaml and every path there is here (tests/integration checks both directions).
 */
#include "api/app.h"
#include "api/meta.h"
#include "api/datasets.h"
#include "api/download.h"
#include "api/factors.h"
#include "api/metadata.h"
#include "api/openapi.h"
#include "api/records.h"
#include "api/usage.h"

const http_route_t api_routes[] = {
    {"GET", "/healthz", api_meta_healthz},
    {"GET", "/readyz", api_meta_readyz},
    {"GET", "/openapi.json", api_openapi_get},
    {"GET", "/v1/datasets", api_datasets_list},
    {"GET", "/v1/datasets/{id}", api_datasets_get},
    {"GET", "/v1/datasets/{id}/records", api_records_get},
    {"GET", "/v1/datasets/{id}/download", api_download_get},
    {"GET", "/v1/usage", api_usage_get},
    {"GET", "/v1/datasets/{id}/datapackage.json", api_metadata_datapackage},
    {"GET", "/v1/catalog.jsonld", api_metadata_catalog},
    {"GET", "/v1/emission-factors", api_factors_get},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
