/* wsi-fetch - print the store's orders from the highwater mark on, one envelope a line.
 * It changes nothing: the mark moves only when wsi-stage commits what it printed. */
#include "cli.h"
#include "db.h"
#include "progress.h"
#include "store.h"
#include "timeutil.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-fetch [-c FILE] [-d DB] [-v] [-q] [--since TIME | --id N]\n"
		   "Print the store's orders modified since the highwater mark (less the overlap),\n"
		   "one JSON envelope per line, with mark lines between stretches read whole.\n"
		   "  --since TIME  read from TIME for this run (the mark is not moved)\n"
		   "  --id N        read orders with ids above N for this run (the mark is not moved)\n"
		   "See wsi-fetch(1) and wsi(7).\n");
}

static void progress(void *ud, long orders)
{
	(void)ud;
	wsi_progress("orders fetched", orders, 0);
}

/* From the highwater mark on: time unless the config keeps an id mark; m holds what plan points into. */
static int plan_from_mark(const wsi_config *cfg, sqlite3 *db, const char *name, wsi_fetch_plan *plan, wsi_mark *m,
			  wsi_error *e)
{
	const char *kind;
	long overlap;
	if (wsi_store_mark_conf(cfg, &kind, &overlap, e))
		return -1;
	int found = wsi_mark_get(db, name, kind, m, e);
	if (found < 0)
		return -1;
	plan->mark_from = found ? m->value : NULL;
	if (!strcmp(kind, "id")) {
		plan->id_mode = 1;
		snprintf(plan->since_id, sizeof plan->since_id, "%s", found ? m->value : "0");
	} else if (found) {
		if (wsi_time_parse(m->value, &plan->lower))
			return wsi_fail(e, WSI_EXIT_LOCAL, "the mark of %s is not a time ('%s'): set it with wsi-hwm set", name,
					m->value);
		plan->lower -= overlap;
		plan->have_lower = 1;
	}
	return 0;
}

/* Read the store as planned, and record how the run ended. */
static void fetch(wsi_store *store, wsi_fetch_plan *plan, const wsi_config *cfg, const char *db_path, wsi_error *e)
{
	wsi_fetch_stats st = {0};
	int64_t started = wsi_now();
	int rc = wsi_store_fetch(store, plan, stdout, &st, e);
	wsi_progress_done();
	wsi_info("%ld orders in %ld pages, %ld requests, %ld stretches (%ld read again), %ld marks",
		 st.orders, st.pages, st.requests, st.stretches, st.rereads, st.marks);
	if (!rc)
		e->status = 0;
	wsi_error le = {0};
	sqlite3 *db = wsi_db_open(wsi_conf_db(cfg, db_path), &le);
	if (db)
		wsi_run_log(db, started, rc ? e->status : 0, "fetched %ld orders in %ld pages (%ld requests)%s%s", st.orders,
			    st.pages, st.requests, rc ? ": " : "", rc ? e->msg : "");
	wsi_db_close(db);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"since", required_argument, NULL, 'S'}, {"id", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0, 0, 0, 0}};
	wsi_cli cli = {0};
	wsi_fetch_plan plan = {.marks = 1, .say = wsi_say, .progress = progress};
	wsi_mark m; /* the mark read: plan.mark_from points into it */
	const char *since = NULL, *id = NULL;
	int opt;
	wsi_msg_init("wsi-fetch");
	while ((opt = getopt_long(argc, argv, WSI_COMMON_OPTS, longopts, NULL)) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'S')
			since = optarg;
		else if (opt == 'I')
			id = optarg;
		else {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	if (optind < argc || (since && id)) {
		wsi_err(since && id ? "--since and --id cannot be used together" : "unexpected argument '%s'",
			argv[optind < argc ? optind : 0]);
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	if (since && wsi_time_parse(since, &plan.lower)) {
		wsi_err("--since '%s' is not a time (2024-05-14T13:20:00Z)", since);
		return WSI_EXIT_USAGE;
	}
	if (id && (!*id || strspn(id, "0123456789") != strlen(id) || strlen(id) >= sizeof plan.since_id)) {
		wsi_err("--id '%s' is not an order id (digits)", id);
		return WSI_EXIT_USAGE;
	}
	/* --since and --id read for this run only: no mark lines, so the mark does not move */
	plan.have_lower = since != NULL;
	plan.id_mode = id != NULL;
	plan.marks = !since && !id;
	if (id)
		snprintf(plan.since_id, sizeof plan.since_id, "%s", id);
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	wsi_cli_open(&cli, &cfg, &db);
	wsi_store *store = wsi_store_open(cfg, &e);
	int failed = !store || (plan.marks && plan_from_mark(cfg, db, wsi_store_name(store), &plan, &m, &e));
	wsi_db_close(db); /* the database is not needed while the store is read */
	if (!failed)
		fetch(store, &plan, cfg, cli.db_path, &e);
	wsi_store_close(store);
	wsi_config_free(cfg);
	int status = e.status ? wsi_report(&e) : 0;
	return wsi_cli_finish(status);
}
