/*
 * klimaspejl — subcommand dispatch only. The table lives in cli/cli.c.
 */
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (const cli_command_t *c = cli_commands; c->name != NULL; ++c) {
        if (strcmp(c->name, argv[1]) == 0)
            return c->main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cli_help_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0)
        return cli_version_main(argc - 1, argv + 1);
    fprintf(stderr, "klimaspejl: unknown subcommand '%s'\n", argv[1]);
    cli_print_usage(stderr);
    return CLI_EXIT_USAGE;
}
