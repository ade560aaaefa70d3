/* cli.h - what every tool shares on its command line: -c -d -v -q -h -V, and opening. */
#ifndef WSI_CLI_H
#define WSI_CLI_H
#include <sqlite3.h>
#include <stdio.h>
#include "config.h"

#define WSI_VERSION "0.1.0"
/* getopt letters every tool takes; tools append their own. */
#define WSI_COMMON_OPTS "c:d:vqhV"

typedef struct wsi_cli {
	const char *config_path;
	const char *db_path;
	int verbosity;
} wsi_cli;

/* --help and --version, for the tools that parse with getopt(3): read as -h and -V. */
void wsi_cli_long_names(int argc, char **argv);
/* Handle one common option. Returns 1 if handled, 0 if not common; exits for -h/-V
 * after calling usage(stdout). */
int wsi_cli_opt(wsi_cli *cli, int opt, const char *arg, void (*usage)(FILE *));
/* Load the config and open the database as the tool needs (db may be NULL to skip).
 * On failure prints the message and exits with its status. */
void wsi_cli_open(wsi_cli *cli, wsi_config **cfg, sqlite3 **db);
/* The status a tool exits with: its own; at least 2 if a key named no order; else a failed
 * write to stdout (wsi_close_stdout). */
int wsi_cli_finish(int status);

#endif
