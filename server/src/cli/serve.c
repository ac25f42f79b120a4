/*
 * cli/serve — `klimaspejl serve`: configuration, then the HTTP server until SIGINT/SIGTERM.
 */
#include <stdlib.h>

#include "app/app.h"
#include "citizen/module.h"
#include "cli/cli.h"
#include "cli/serve.h"
#include "consent/module.h"
#include "core/config.h"
#include "core/log.h"
#include "core/strutil.h"
#include "geo/geoip.h"
#include "http/static.h"
#include "opendata/module.h"

const app_module_t *const cli_serve_modules[] = {&opendata_module, &citizen_module, &consent_module};
const size_t cli_serve_nmodules = sizeof(cli_serve_modules) / sizeof(cli_serve_modules[0]);

int cli_serve_main(int argc, char **argv)
{
    config_t cfg;
    char err[512];
    int ret = CLI_EXIT_FAIL;

    switch (config_load(&cfg, argc, argv, err, sizeof(err))) {
    case CONFIG_OK:
        break;
    case CONFIG_HELP:
        config_print_help(stdout);
        config_free(&cfg);
        return CLI_EXIT_OK;
    case CONFIG_ERR_USAGE:
        fprintf(stderr, "klimaspejl serve: %s\n", err);
        config_print_help(stderr);
        config_free(&cfg);
        return CLI_EXIT_USAGE;
    case CONFIG_ERR_VALUE:
        fprintf(stderr, "klimaspejl serve: %s\n", err);
        config_free(&cfg);
        return CLI_EXIT_USAGE;
    }
    log_set_level(cfg.log_level);
    if (cfg.db_url == NULL)
        log_warn("KLIMA_DB_URL is not set: using libpq's defaults (PGHOST, PGDATABASE, ...)");
    if (geo_open(cfg.geoip_db, cfg.trusted_proxies, err, sizeof(err)) != 0) {
        fprintf(stderr, "klimaspejl serve: %s\n", err);
        ret = CLI_EXIT_USAGE;
        goto exit;
    }
    if (cfg.geoip_db == NULL || cfg.geoip_db[0] == '\0')
        log_info("KLIMA_GEOIP_DB is not set: usage statistics count every client as country ZZ (unknown)");
    {
        char dir[4096];
        const char *web = getenv("KLIMA_WEB_DIR");
        if (web == NULL || *web == '\0') {
            str_fmt(dir, sizeof(dir), "%s/clients/web", KLIMA_SOURCE_DIR);
            web = dir;
        }
        if (http_static_load(web, err, sizeof(err)) != 0) {
            fprintf(stderr, "klimaspejl serve: %s\n", err);
            goto exit;
        }
        log_info("web pages: %zu files from %s", http_static_count(), web);
    }
    if (app_run(&cfg, cli_serve_modules, cli_serve_nmodules) == 0)
        ret = CLI_EXIT_OK;
exit:
    geo_close();
    config_free(&cfg);
    return ret;
}
