/*
 * opendata/module — the open-data audience as an app module: its part of the route table (the catalog, dataset
 * metadata, records, downloads, Data Package and DCAT, emission factors, usage) and each worker's response cache of
 * records (KLIMA_CACHE_MB per process, split over the workers), with its metrics.
 */
#ifndef KLIMA_OPENDATA_MODULE_H
#define KLIMA_OPENDATA_MODULE_H

#include "app/app.h"
#include "http/cache.h"

extern const app_module_t opendata_module;

/* The response cache of req's worker, or NULL (caching off on this thread: out of memory). */
http_cache_t *opendata_cache_of(h2o_req_t *req);

#endif
