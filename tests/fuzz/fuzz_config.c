/* libFuzzer: configuration parsing from arbitrary flag lists (NUL-separated words) and environment values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.c" /* config_load_with: the environment from the input */

static const char *env_value;

static const char *fuzz_getenv(const char *name)
{
    /* every setting sees the same fuzzed value: exercises each parser */
    return (name[6] % 2) == 0 ? env_value : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[16];
    int argc = 0;
    config_t cfg;
    char err[256];

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "serve";
    for (char *p = buf; p < buf + size && argc < 16; p += strlen(p) + 1)
        argv[argc++] = p;
    env_value = argc > 1 ? argv[argc - 1] : "";
    config_load_with(&cfg, argc, argv, fuzz_getenv, err, sizeof(err));
    config_free(&cfg);
    free(buf);
    return 0;
}
