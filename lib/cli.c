/* cli.c - one way to start for every tool. */
#include "cli.h"
#include "keys.h"
#include "db.h"
#include "http.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wsi_cli_opt(wsi_cli *cli, int opt, const char *arg, void (*usage)(FILE *))
{
	switch (opt) {
	case 'c':
		cli->config_path = arg;
		return 1;
	case 'd':
		cli->db_path = arg;
		return 1;
	case 'v':
		cli->verbosity = cli->verbosity < 0 ? 1 : cli->verbosity + 1;
		wsi_set_verbosity(cli->verbosity);
		return 1;
	case 'q':
		cli->verbosity = -1;
		wsi_set_verbosity(-1);
		return 1;
	case 'h':
		usage(stdout);
		exit(WSI_EXIT_OK);
	case 'V':
		printf("%s %s\n", wsi_prog(), WSI_VERSION);
		exit(WSI_EXIT_OK);
	}
	return 0;
}

void wsi_cli_open(wsi_cli *cli, wsi_config **cfg, sqlite3 **db)
{
	wsi_error e = {0};
	wsi_http_on_say(wsi_say, NULL);
	*cfg = wsi_config_load(cli->config_path, &e);
	if (!*cfg)
		exit(wsi_report(&e));
	if (!db)
		return;
	*db = wsi_db_open(wsi_conf_db(*cfg, cli->db_path), &e);
	if (!*db) {
		wsi_config_free(*cfg);
		exit(wsi_report(&e));
	}
}

void wsi_cli_long_names(int argc, char **argv)
{
	static char h[] = "-h", v[] = "-V";
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help"))
			argv[i] = h;
		else if (!strcmp(argv[i], "--version"))
			argv[i] = v;
}

int wsi_cli_finish(int status)
{
	int cs = wsi_close_stdout();
	if (wsi_keys_missing() && status < WSI_EXIT_USAGE)
		status = WSI_EXIT_USAGE;
	return status ? status : cs;
}
