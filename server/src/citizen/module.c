/*
 * citizen/module — the citizen routes.
 */
#include "app/route.h"
#include "citizen/consents.h"
#include "citizen/feedback.h"
#include "citizen/me.h"
#include "citizen/module.h"

/* a personal route: the scope its token must carry; CORS for registered apps only */
#define PERSONAL_ROUTE(scope) APP_CLASS_PERSONAL, scope, APP_CORS_CLIENTS

static const app_route_t citizen_routes[] = {
    {"GET", "/v1/me/consents", citizen_consents_list, PERSONAL_ROUTE("consents:manage"), "no-store"},
    {"DELETE", "/v1/me/consents/{id}", citizen_consents_delete, PERSONAL_ROUTE("consents:manage"), "no-store"},
    /* anonymous; a token (summary:read) links a data-error report to the household */
    {"POST", "/v1/feedback", citizen_feedback_post, APP_CLASS_FEEDBACK, "summary:read", APP_CORS_ANY, "no-store"},
    {"GET", "/v1/feedback/stats", citizen_feedback_stats, APP_CLASS_OPEN, NULL, APP_CORS_ANY, "public, max-age=300"},
    {"GET", "/v1/me/summary", citizen_me_summary, PERSONAL_ROUTE("summary:read"), "private, no-store"},
    {"GET", "/v1/me/history", citizen_me_history, PERSONAL_ROUTE("summary:read"), "private, no-store"},
    {"GET", "/v1/me/energy", citizen_me_energy, PERSONAL_ROUTE("energy:read"), "private, no-store"},
    {"GET", "/v1/me/waste", citizen_me_waste, PERSONAL_ROUTE("waste:read"), "private, no-store"},
    {"GET", "/v1/me/mobility", citizen_me_mobility, PERSONAL_ROUTE("mobility:read"), "private, no-store"},
    {"GET", "/v1/me/export", citizen_me_export, PERSONAL_ROUTE("export:read"), "private, no-store"},
};

const app_module_t citizen_module = {.name = "citizen", APP_ROUTES(citizen_routes)};
