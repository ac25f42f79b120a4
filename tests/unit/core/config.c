/* core/config: defaults, environment, flags, validation. Includes the .c to read a fake environment (config_load_with). */
#include <stdlib.h>

#include "core/config.c"
#include "../test.h"

static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    for (const char *const *p = fake_env; p != NULL && *p != NULL; p += 2) {
        if (strcmp(p[0], name) == 0)
            return p[1];
    }
    return NULL;
}

static config_result_t load(const char *const *env, int argc, char **argv, config_t *cfg, char *err, size_t errlen)
{
    fake_env = env;
    return config_load_with(cfg, argc, argv, fake_getenv, err, errlen);
}

static void test_defaults(void)
{
    config_t cfg;
    char err[256] = "";
    char *argv[] = {"serve"};
    CHECK_INT(load(NULL, 1, argv, &cfg, err, sizeof(err)), CONFIG_OK);
    CHECK_INT(cfg.nlisten, 1);
    CHECK_STR(cfg.listen[0], "127.0.0.1:8080");
    CHECK(cfg.threads >= 1);
    CHECK_INT(cfg.db_conns, 2);
    CHECK_INT(cfg.log_level, LOG_LEVEL_INFO);
    CHECK_INT(cfg.dev_login, 0);
    CHECK(cfg.tls_cert == NULL);
    config_free(&cfg);
}

static void test_env_and_flags(void)
{
    config_t cfg;
    char err[256] = "";
    const char *env[] = {"KLIMA_THREADS", "3", "KLIMA_LISTEN", "127.0.0.1:1,[::1]:2", "KLIMA_DB_URL", "dbname=x", "KLIMA_DEV_LOGIN",
                         "yes",           NULL};
    char *argv[] = {"serve", "--threads", "5", "--log-level=debug"};
    CHECK_INT(load(env, 4, argv, &cfg, err, sizeof(err)), CONFIG_OK);
    CHECK_INT(cfg.threads, 5); /* a flag wins over the environment */
    CHECK_INT(cfg.nlisten, 2);
    CHECK_STR(cfg.listen[1], "[::1]:2");
    CHECK_STR(cfg.db_url, "dbname=x");
    CHECK_STR(cfg.db_admin_url, "dbname=x"); /* defaults to db_url */
    CHECK_INT(cfg.dev_login, 1);
    CHECK_INT(cfg.log_level, LOG_LEVEL_DEBUG);
    config_free(&cfg);
}

static void test_errors(void)
{
    config_t cfg;
    char err[256] = "";
    char *argv1[] = {"serve"};
    const char *bad_threads[] = {"KLIMA_THREADS", "abc", NULL};
    CHECK_INT(load(bad_threads, 1, argv1, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_THREADS") != NULL);
    config_free(&cfg);

    const char *bad_listen[] = {"KLIMA_LISTEN", "localhost", NULL};
    CHECK_INT(load(bad_listen, 1, argv1, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_LISTEN") != NULL);
    config_free(&cfg);

    const char *bad_level[] = {"KLIMA_LOG_LEVEL", "loud", NULL};
    CHECK_INT(load(bad_level, 1, argv1, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_LOG_LEVEL") != NULL);
    config_free(&cfg);

    const char *half_tls[] = {"KLIMA_TLS_CERT", "/x.pem", NULL};
    CHECK_INT(load(half_tls, 1, argv1, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_TLS_KEY") != NULL);
    config_free(&cfg);

    char *argv_unknown[] = {"serve", "--nope"};
    CHECK_INT(load(NULL, 2, argv_unknown, &cfg, err, sizeof(err)), CONFIG_ERR_USAGE);
    CHECK(strstr(err, "--nope") != NULL);
    config_free(&cfg);

    char *argv_missing[] = {"serve", "--threads"};
    CHECK_INT(load(NULL, 2, argv_missing, &cfg, err, sizeof(err)), CONFIG_ERR_USAGE);
    config_free(&cfg);

    char *argv_range[] = {"serve", "--db-conns=0"};
    CHECK_INT(load(NULL, 2, argv_range, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "--db-conns") != NULL);
    config_free(&cfg);

    char *argv_help[] = {"serve", "--help"};
    CHECK_INT(load(NULL, 2, argv_help, &cfg, err, sizeof(err)), CONFIG_HELP);
    config_free(&cfg);
}

/* KLIMA_RATE_* (QUOTA/SECONDS or 0) and KLIMA_PERSONAL_COUNTRIES (two-letter codes) */
static void test_rates_and_countries(void)
{
    config_t cfg;
    char err[256] = "";
    char *argv[] = {"serve", "--rate-open", "100/10", "--personal-countries", "dk, se"};
    const char *env[] = {"KLIMA_RATE_SERVICE", "0", "KLIMA_RATE_LIMIT", "0", NULL};
    const char *bad_rate[] = {"KLIMA_RATE_OPEN", "100", NULL};
    const char *bad_window[] = {"KLIMA_RATE_DOWNLOAD", "5/0", NULL};
    const char *bad_country[] = {"KLIMA_PERSONAL_COUNTRIES", "DNK", NULL};

    CHECK_INT(load(NULL, 1, argv, &cfg, err, sizeof(err)), CONFIG_OK);
    CHECK_INT(cfg.rate_limit, 1);
    CHECK_INT(cfg.rate_open.quota, 3000);
    CHECK_INT(cfg.rate_open.window_s, 60);
    CHECK_INT(cfg.rate_feedback.quota, 5);
    CHECK_INT(cfg.rate_service.quota, 0);
    CHECK_INT(cfg.rate_client_factor, 10);
    config_free(&cfg);
    CHECK_INT(load(env, 5, argv, &cfg, err, sizeof(err)), CONFIG_OK);
    CHECK_INT(cfg.rate_limit, 0);
    CHECK_INT(cfg.rate_open.quota, 100);
    CHECK_INT(cfg.rate_open.window_s, 10);
    CHECK_STR(cfg.personal_countries, "dk, se");
    config_free(&cfg);
    CHECK_INT(load(bad_rate, 1, argv, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_RATE_OPEN") != NULL);
    config_free(&cfg);
    CHECK_INT(load(bad_window, 1, argv, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_RATE_DOWNLOAD") != NULL);
    config_free(&cfg);
    CHECK_INT(load(bad_country, 1, argv, &cfg, err, sizeof(err)), CONFIG_ERR_VALUE);
    CHECK(strstr(err, "KLIMA_PERSONAL_COUNTRIES") != NULL);
    config_free(&cfg);
}

/* Without KLIMA_ISSUER the issuer is the first listen address as a URL; a wildcard host is advertised as localhost. */
static void test_default_issuer(void)
{
    static const struct {
        const char *listen, *tls, *issuer, *want;
    } cases[] = {
        {NULL, NULL, NULL, "http://127.0.0.1:8080"},
        {"127.0.0.1:18080,[::1]:9", NULL, NULL, "http://127.0.0.1:18080"},
        {"0.0.0.0:8443", "/c.pem", NULL, "https://localhost:8443"},
        {":8080", NULL, NULL, "http://localhost:8080"},
        {"[::]:80", NULL, NULL, "http://localhost:80"},
        {"[::1]:8080", NULL, NULL, "http://[::1]:8080"},
        {"127.0.0.1:1", NULL, "https://klima.example", "https://klima.example"},
        {"127.0.0.1:1", NULL, "", "http://127.0.0.1:1"}, /* empty = unset */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        config_t cfg;
        char err[256] = "";
        const char *env[9] = {NULL};
        size_t n = 0;
        char *argv[] = {"serve"};
        if (cases[i].listen != NULL)
            env[n++] = "KLIMA_LISTEN", env[n++] = cases[i].listen;
        if (cases[i].tls != NULL)
            env[n++] = "KLIMA_TLS_CERT", env[n++] = cases[i].tls, env[n++] = "KLIMA_TLS_KEY", env[n++] = cases[i].tls;
        if (cases[i].issuer != NULL)
            env[n++] = "KLIMA_ISSUER", env[n++] = cases[i].issuer;
        CHECK_INT(load(env, 1, argv, &cfg, err, sizeof(err)), CONFIG_OK);
        CHECK_STR(cfg.issuer, cases[i].want);
        config_free(&cfg);
    }
}

int main(void)
{
    test_default_issuer();
    test_rates_and_countries();
    test_defaults();
    test_env_and_flags();
    test_errors();
    return TEST_DONE();
}
