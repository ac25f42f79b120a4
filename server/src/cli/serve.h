/*
 * cli/serve — `klimaspejl serve`: the modules it serves, in order (app's own come first; see app/app.h).
 */
#ifndef KLIMA_CLI_SERVE_H
#define KLIMA_CLI_SERVE_H

#include <stddef.h>

#include "app/app.h"

/* The audiences: open data, the citizen's own data, the consent service. Tests take the route table from here. */
extern const app_module_t *const cli_serve_modules[];
extern const size_t cli_serve_nmodules;

#endif
