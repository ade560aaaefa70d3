/* wsi-hwm - show, set and reset the highwater marks, and their log. Setting a mark is the
 * one lever for a restore: it also records which orders Sage must be asked about again. */
#include "cli.h"
#include "db.h"
#include "orders.h"
#include "keys.h"
#include "timeutil.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-hwm [-c FILE] [-d DB] [-s STORE] [show]\n"
		   "       wsi-hwm [-s STORE] set TIME | set --id N\n"
		   "       wsi-hwm [-s STORE] reset\n"
		   "       wsi-hwm [-s STORE] log\n"
		   "Show the highwater marks (store, kind, value, when set, by whom), move them, or\n"
		   "list every change. set and reset make the next wsi-sync ask Sage again about the\n"
		   "orders downloaded or posted since then. See wsi-hwm(1).\n");
}

static int show(sqlite3 *db, const char *store, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, kind, value, set_at, set_by FROM marks"
					      " WHERE ?1 IS NULL OR store=?1 ORDER BY store, kind DESC", e);
	if (!st)
		return -1;
	if (store)
		sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%s\t%s\t%s\t%s\t%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot read the marks");
}

static int show_log(sqlite3 *db, const char *store, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT at, store, kind, coalesce(old_value,'-'), coalesce(new_value,'-'),"
					      " by, why FROM mark_log WHERE ?1 IS NULL OR store=?1 ORDER BY seq", e);
	if (!st)
		return -1;
	if (store)
		sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
		       sqlite3_column_text(st, 5), sqlite3_column_text(st, 6));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot read the mark log");
}

static int change(sqlite3 *db, const char *store, const char *kind, const char *value, wsi_error *e)
{
	const char *by = wsi_db_actor(1);
	long flagged = 0;
	if (wsi_db_begin(db, e))
		return -1;
	if (value) {
		if (wsi_mark_set(db, store, kind, value, by, "set by hand", e))
			goto fail;
	} else if (wsi_mark_set(db, store, "time", NULL, by, "reset", e) ||
		   wsi_mark_set(db, store, "id", NULL, by, "reset", e)) {
		goto fail;
	}
	if (wsi_orders_flag_recheck(db, store, kind, value, by, &flagged, e) || wsi_db_commit(db, e))
		goto fail;
	wsi_note("%s %s mark %s%s; %ld staged order%s will be checked against Sage again by the next wsi-sync (or wsi-post -r)",
		 store, value ? kind : "time and id", value ? "set to " : "reset", value ? value : "",
		 flagged, flagged == 1 ? "" : "s");
	return 0;
fail:
	wsi_db_rollback(db);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"id", no_argument, NULL, 'I'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {0, 0, 0, 0}};
	wsi_cli cli = {0};
	const char *store = NULL;
	int opt, by_id = 0;
	wsi_msg_init("wsi-hwm");
	while ((opt = getopt_long(argc, argv, WSI_COMMON_OPTS "s:", longopts, NULL)) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 's')
			store = optarg;
		else if (opt == 'I')
			by_id = 1;
		else {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : "show";
	const char *arg = optind < argc ? argv[optind++] : NULL;
	int nargs_ok = !strcmp(cmd, "set") ? arg && optind == argc : !arg;
	if ((strcmp(cmd, "show") && strcmp(cmd, "set") && strcmp(cmd, "reset") && strcmp(cmd, "log")) || !nargs_ok ||
	    (by_id && strcmp(cmd, "set"))) {
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	char value[64];
	if (arg) {
		int64_t t;
		if (by_id) {
			if (!*arg || strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 30) {
				wsi_err("'%s' is not an order id (digits)", arg);
				return WSI_EXIT_USAGE;
			}
			snprintf(value, sizeof value, "%s", arg);
		} else if (wsi_time_parse(arg, &t)) {
			wsi_err("'%s' is not a time: write 2024-05-14T13:20:00Z (or with an offset, or a date)", arg);
			return WSI_EXIT_USAGE;
		} else if (t > wsi_now()) {
			/* a mark in the future would hide every order modified until then */
			wsi_err("'%s' is later than now: a mark past the clock would skip every order until then", arg);
			return WSI_EXIT_USAGE;
		} else {
			wsi_time_fmt(t, value, sizeof value);
		}
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	wsi_cli_open(&cli, &cfg, &db);
	if (!store)
		store = wsi_conf(cfg, "store", "name", NULL);
	int rc;
	if (store && !wsi_store_name_ok(store))
		rc = wsi_fail(&e, WSI_EXIT_USAGE, "'%s' is not a store name", store);
	else if (!store && (!strcmp(cmd, "set") || !strcmp(cmd, "reset")))
		rc = wsi_fail(&e, WSI_EXIT_CONFIG, "which store? give -s STORE or set [store] name in %s", wsi_config_path(cfg));
	else if (!strcmp(cmd, "show"))
		rc = show(db, store, &e);
	else if (!strcmp(cmd, "log"))
		rc = show_log(db, store, &e);
	else
		rc = change(db, store, by_id ? "id" : "time", arg ? value : NULL, &e);
	wsi_db_close(db);
	wsi_config_free(cfg);
	int status = rc ? wsi_report(&e) : 0;
	return wsi_cli_finish(status);
}
