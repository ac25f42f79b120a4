/*
 * opendata/grid — GET /v1/grid/forecast: the next hours' grid CO2 intensity of price area DK2 (Copenhagen) from the
 * published grid-intensity-forecast dataset (Energinet's CO2EmisProg, realised CO2Emis where known) and the greenest
 * window of 1-6 consecutive hours in them.
 */
#ifndef KLIMA_OPENDATA_GRID_H
#define KLIMA_OPENDATA_GRID_H

#include "http/router.h"

/* ?hours (1-48, default 24), ?window (1-6, default 3), ?from (a whole UTC hour, default the current one); each checked
 * before any SQL, a bad one answered 400 naming it. Cached until the next hour (the forecast's step) or the next
 * release, whichever is first: ETag = dataset version + parameters. */
int opendata_grid_forecast_get(h2o_req_t *req, const http_match_t *m);

#endif
