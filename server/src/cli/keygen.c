/*
 * cli/keygen — `klimaspejl keygen [--alg ES256|RS256] [--dir DIR]`: writes a new signing key <kid>.pem (mode 0600)
 * into KLIMA_KEYS_DIR. Servers pick it up as the signing key at their next start; older keys keep verifying.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/keyring.h"
#include "cli/cli.h"

static void keygen_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl keygen [--alg ES256|RS256] [--dir DIR]\n"
                 "  Writes a new private key <kid>.pem (mode 0600) into DIR (default KLIMA_KEYS_DIR) and prints its kid.\n"
                 "  ES256 (P-256) is the default; each key is bound to its one algorithm.\n");
}

int cli_keygen_main(int argc, char **argv)
{
    const char *dir = getenv("KLIMA_KEYS_DIR");
    auth_alg_t alg = AUTH_ALG_ES256;
    char kid[AUTH_KID_MAX + 1], err[512];

    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            keygen_usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            if (auth_alg_parse(argv[++i], &alg) != 0) {
                fprintf(stderr, "klimaspejl keygen: --alg must be ES256 or RS256\n");
                keygen_usage(stderr);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "klimaspejl keygen: unknown argument %s\n", argv[i]);
            keygen_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || *dir == '\0') {
        fprintf(stderr, "klimaspejl keygen: set KLIMA_KEYS_DIR or pass --dir\n");
        return CLI_EXIT_USAGE;
    }
    if (auth_keygen(dir, alg, kid, sizeof(kid), err, sizeof(err)) != 0) {
        fprintf(stderr, "klimaspejl keygen: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", kid);
    return CLI_EXIT_OK;
}
