/*
 * app/service — the service routes: GET /healthz (the process answers; no database), GET /readyz (200 when this
 * worker has its dataset catalog and a real query through its pool succeeds now, else 503 with Retry-After), GET
 * /metrics (every family of the registry in the Prometheus text format, text/plain; version=0.0.4) and GET
 * /openapi.json; and the database pools' gauges and counters, copied into the registry once a second.
 */
#ifndef KLIMA_APP_SERVICE_H
#define KLIMA_APP_SERVICE_H

#include "app/app.h"

extern const app_module_t app_service_module;

#endif
