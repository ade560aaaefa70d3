/* wsi-post - create each valid order in Sage as one order, shipment and invoice (and its
 * prepayment), exactly once. Every run first reconciles what an earlier run left unknown,
 * the way a database recovers when it opens, and looks its orders up by reference before
 * it creates anything. */
#include "post.h"
#include "cli.h"
#include "db.h"
#include "keys.h"
#include "progress.h"
#include "sale.h"
#include "timeutil.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-post [-c FILE] [-d DB] [-v] [-q] [-n] [-j N] [-a | KEY...]\n"
		   "       wsi-post -r [-c FILE] [-d DB] [-v] [-q]\n"
		   "Create valid orders in Sage (order, shipment, invoice and prepayment in one save)\n"
		   "and print KEY TAB Sage order number for each. Orders left in posting, and those\n"
		   "wsi-hwm set sent to be checked, are reconciled first.\n"
		   "  -a    every valid order\n"
		   "  -n    print the bodies (KEY TAB JSON) without sending anything\n"
		   "  -j N  post on N connections at once (default 1)\n"
		   "  -r    reconcile only: decide what is left and flagged, post nothing\n"
		   "See wsi-post(1).\n");
}

/* Another run moved an order after this one loaded it: it is left as it is, and said so. */
void moved_meanwhile(struct ctx *c, const wsi_loaded *o)
{
	wsi_warn("%s:%s: moved by another run meanwhile (it is now %s): left as it is", o->store, o->id,
		 wsi_state_name(o->state));
	pthread_mutex_lock(&c->lock);
	c->moved++;
	pthread_mutex_unlock(&c->lock);
}

/* An order that became posted in this run: KEY TAB Sage order number on stdout. */
void print_posted(struct ctx *c, const wsi_loaded *k, const char *number)
{
	pthread_mutex_lock(&c->lock);
	printf("%s:%s\t%s\n", k->store, k->id, number);
	fflush(stdout);
	pthread_mutex_unlock(&c->lock);
}

void count(struct ctx *c, long *what)
{
	pthread_mutex_lock(&c->lock);
	(*what)++;
	pthread_mutex_unlock(&c->lock);
}

/* Stop the run (every worker) with the first of these errors. */
void halt(struct ctx *c, const wsi_error *e)
{
	pthread_mutex_lock(&c->lock);
	if (!c->stop)
		c->first = *e;
	c->stop = 1;
	pthread_mutex_unlock(&c->lock);
}

static void no_such_order(void *ud, const char *key)
{
	(void)ud;
	wsi_err("%s: no such order", key);
}

/* Reconcile, look up, send, receipts: the run, after its orders are listed. */
static int run(struct ctx *c, sqlite3 *db, wsi_sage *sage, long jobs, wsi_error *e)
{
	/* recover first: whatever keys were given */
	c->held_back = json_object();
	if (!c->dry_run && (!(c->sent = wsi_sent_load(c->db_path, e)) || reconcile(c, db, sage, e)))
		return -1;
	if (c->reconcile_only) {
		c->list.n = 0;
		return 0;
	}
	size_t kept = 0;
	for (size_t i = 0; i < c->list.n; i++) {
		char ref[160];
		wsi_sale_reference(c->list.o[i].store, c->list.o[i].id, ref, sizeof ref);
		/* sent by a run whose database was restored since, say, and not answered yet */
		if (!json_object_get(c->held_back, ref) &&
		    !still_in_flight(c, ref, wsi_sent_since(c->sent, WSI_SENT_ORDER, ref), ""))
			c->list.o[kept++] = c->list.o[i];
	}
	c->list.n = kept;
	/* look up, then post: on one connection, or on several */
	c->found = json_object();
	c->receipts_in_sage = json_object();
	wsi_sage *extra[MAX_JOBS] = {0};
	if (jobs > 1 && c->list.n > 1)
		for (long j = 1; j < jobs; j++)
			if (!(extra[j] = wsi_sage_clone(sage, e)))
				jobs = j;
	if (!c->dry_run)
		look_up(c, sage, extra, jobs);
	c->readback = json_array();
	send_all(c, db, sage, extra, jobs);
	for (long j = 1; j < MAX_JOBS; j++)
		wsi_sage_close(extra[j]);
	wsi_progress_done();
	int rc = 0;
	/* what was created is read back, even when the run stops after (Sage may answer reads) */
	wsi_error re = {0};
	if (!c->dry_run && read_back(c, db, sage, &re)) {
		if (c->stop)
			wsi_warn("%zu orders posted in this run could not be read back: %s", json_array_size(c->readback), re.msg);
		else
			halt(c, &re);
	}
	if (!c->stop && !c->dry_run && pending_receipts(c, db, sage, e) && !c->stop)
		rc = -1;
	wsi_info("%ld posted, %ld failed, %ld receipts, %ld totals differ; %ld Sage requests", c->posted, c->failed,
		 c->receipts, c->differs, wsi_sage_requests(sage));
	if (c->undecided)
		wsi_warn("%ld order%s wait%s for Sage to answer a request sent earlier: decided on a later run",
			 c->undecided, c->undecided == 1 ? "" : "s", c->undecided == 1 ? "s" : "");
	wsi_error ce = {0};
	if (!c->dry_run && !c->stop && wsi_sent_compact(c->db_path, wsi_now() - c->reconcile_after, &ce))
		wsi_warn("%s", ce.msg);
	return rc;
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	int opt, all = 0;
	long jobs = 1;
	struct ctx c = {0};
	wsi_msg_init("wsi-post");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "anj:r")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'a')
			all = 1;
		else if (opt == 'n')
			c.dry_run = 1;
		else if (opt == 'r')
			c.reconcile_only = 1;
		else if (opt == 'j' && (jobs = strtol(optarg, NULL, 10)) >= 1 && jobs <= MAX_JOBS)
			continue;
		else {
			if (opt == 'j')
				wsi_err("-j takes a number of connections from 1 to %d", MAX_JOBS);
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	if (all && optind < argc) {
		wsi_err("-a or keys, not both");
		return WSI_EXIT_USAGE;
	}
	if (c.reconcile_only && (all || optind < argc || c.dry_run)) {
		wsi_err("-r takes no keys, -a or -n: it reconciles what earlier runs left and wsi-hwm set flagged");
		return WSI_EXIT_USAGE;
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	wsi_cli_open(&cli, &cfg, &db);
	c.cfg = cfg;
	c.db_path = wsi_conf_db(cfg, cli.db_path);
	pthread_mutex_init(&c.lock, NULL);
	int64_t started = wsi_now();
	wsi_sage *sage = NULL;
	int rc = 0;
	if (wsi_sale_post_conf(cfg, &c.reconcile_after, &e) ||
	    wsi_keys_load(db, all, WSI_S(WSI_VALID), argc - optind, argv + optind, &c.list, no_such_order, NULL, &e) || !(sage = wsi_sage_open(cfg, &e)))
		rc = -1;
	else
		rc = run(&c, db, sage, jobs, &e);
	if (c.stop) {
		e = c.first;
		rc = -1;
	}
	if (c.reconcile_only)
		wsi_run_log(db, started, rc ? e.status : 0, "reconciled %ld: %ld found in Sage, %ld to post again%s%s",
			    c.reconciled, c.reconciled_found, c.reconciled_back, rc ? ": " : "", rc ? e.msg : "");
	else if (!c.dry_run)
		wsi_run_log(db, started, rc ? e.status : (c.failed || c.differs) ? WSI_EXIT_ORDERS : 0,
			    "posted %ld, %ld failed, %ld receipts%s%s", c.posted, c.failed, c.receipts, rc ? ": " : "",
			    rc ? e.msg : "");
	wsi_order_list_free(&c.list);
	json_decref(c.found);
	json_decref(c.receipts_in_sage);
	json_decref(c.held_back);
	json_decref(c.readback);
	wsi_sent_free(c.sent);
	wsi_sage_close(sage);
	wsi_db_close(db);
	wsi_config_free(cfg);
	pthread_mutex_destroy(&c.lock);
	int status = rc ? wsi_report(&e) : (c.failed || c.differs) ? WSI_EXIT_ORDERS : 0;
	return wsi_cli_finish(status);
}
