/* placeholder until the refresh subcommand lands (owned by a teammate; overwrite freely) */
#include "cli/cli.h"
int cli_refresh_main(int argc, char **argv)
{
    fprintf(stderr, "klimaspejl refresh: not built yet\n");
    return CLI_EXIT_FAIL;
}
