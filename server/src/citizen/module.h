/*
 * citizen/module — the citizen's audience as an app module: its part of the route table (/v1/me: the climate summary,
 * time series, export and consents; and citizen feedback). Every personal route names the consent scope a token must
 * carry.
 */
#ifndef KLIMA_CITIZEN_MODULE_H
#define KLIMA_CITIZEN_MODULE_H

#include "app/app.h"

extern const app_module_t citizen_module;

#endif
