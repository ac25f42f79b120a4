/* placeholder until the ingest subcommand lands (owned by a teammate; overwrite freely) */
#include "cli/cli.h"
int cli_ingest_main(int argc, char **argv)
{
    fprintf(stderr, "klimaspejl ingest: not built yet\n");
    return CLI_EXIT_FAIL;
}
