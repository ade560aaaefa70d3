/* wsi-post - create each valid order in Sage as one order, shipment and invoice (and its
 * prepayment), exactly once. Every run first reconciles what an earlier run left unknown,
 * the way a database recovers when it opens, and looks its orders up by reference before
 * it creates anything. */
#include "cli.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include "keys.h"
#include "orders.h"
#include "sage.h"
#include "progress.h"
#include "sale.h"
#include "timeutil.h"
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-post [-c FILE] [-d DB] [-v] [-q] [-n] [-j N] [-a | KEY...]\n"
		   "Create valid orders in Sage (order, shipment, invoice and prepayment in one save)\n"
		   "and print KEY TAB Sage order number for each. Orders left in posting, and those\n"
		   "wsi-hwm set sent to be checked, are reconciled first.\n"
		   "  -a    every valid order\n"
		   "  -n    print the bodies (KEY TAB JSON) without sending anything\n"
		   "  -j N  post on N connections at once (default 1)\n"
		   "See wsi-post(1).\n");
}

struct ctx {
	const wsi_config *cfg;
	const char *db_path;
	int dry_run;
	long reconcile_after;     /* seconds: [sage] reconcile_after */
	wsi_loaded *k;            /* the run's orders, as loaded when listed (before any look-up) */
	json_t *listed;           /* their keys: a set, so none is listed twice */
	size_t n, cap, next;
	pthread_mutex_t lock;
	int stop;                 /* a failure that means: try again later */
	wsi_error first;          /* the first such failure */
	long posted, failed, differs, receipts, moved, undecided;
	json_t *found;            /* references Sage has: {ref: numbers} */
	json_t *receipts_in_sage; /* receipt mode: references whose receipt Sage has */
	json_t *held_back;        /* references not to post this run: too soon to know */
};

static int add_key(struct ctx *c, const wsi_loaded *o)
{
	char key[WSI_STORE_SIZE + WSI_ID_SIZE];
	snprintf(key, sizeof key, "%s:%s", o->store, o->id);
	if (!c->listed)
		c->listed = json_object();
	if (json_object_get(c->listed, key))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		wsi_loaded *nk = realloc(c->k, c->cap * sizeof *nk);
		if (!nk)
			return -1;
		c->k = nk;
	}
	c->k[c->n++] = *o;
	return json_object_set_new(c->listed, key, json_true());
}

/* Another run moved an order after this one loaded it: it is left as it is, and said so. */
static void moved_meanwhile(struct ctx *c, const wsi_loaded *o)
{
	wsi_warn("%s:%s: moved by another run meanwhile (it is now %s): left as it is", o->store, o->id,
		 wsi_state_name(o->state));
	pthread_mutex_lock(&c->lock);
	c->moved++;
	pthread_mutex_unlock(&c->lock);
}

static void count(struct ctx *c, long *what)
{
	pthread_mutex_lock(&c->lock);
	(*what)++;
	pthread_mutex_unlock(&c->lock);
}

static wsi_sage_ids ids_of(const wsi_sale_numbers *n)
{
	return (wsi_sage_ids){n->order, n->shipment, n->invoice, n->receipt, 0};
}

/* Stop the run (every worker) with the first of these errors. */
static void halt(struct ctx *c, const wsi_error *e)
{
	pthread_mutex_lock(&c->lock);
	if (!c->stop)
		c->first = *e;
	c->stop = 1;
	pthread_mutex_unlock(&c->lock);
}

/* ---- finding in Sage ---- */

struct found_cx { json_t *found; };

static int on_found(void *ud, const char *ref, const wsi_sale_numbers *n)
{
	struct found_cx *f = ud;
	json_object_set_new(f->found, ref, json_pack("{ss ss ss ss ss}", "order", n->order, "shipment", n->shipment,
						     "invoice", n->invoice, "receipt", n->receipt, "total", n->total));
	return 0;
}

/* Look up the references of keys[0..n) in Sage: {ref: numbers} for those it has. */
static json_t *find_in_sage(wsi_sage *s, const wsi_config *cfg, const wsi_loaded *keys, size_t n, int receipts,
			    wsi_error *e)
{
	struct found_cx f = {json_object()};
	const char **refs = calloc(n ? n : 1, sizeof *refs);
	char **bufs = calloc(n ? n : 1, sizeof *bufs);
	int rc = !refs || !bufs;
	for (size_t i = 0; i < n && !rc; i++) {
		if (asprintf(&bufs[i], "%s:%s", keys[i].store, keys[i].id) < 0) {
			bufs[i] = NULL;
			rc = 1;
		}
		refs[i] = bufs[i];
	}
	if (rc)
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	else
		rc = receipts ? wsi_sale_find_receipts(s, refs, n, on_found, &f, e)
			      : wsi_sale_find(s, cfg, refs, n, on_found, &f, e);
	for (size_t i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(refs);
	if (rc) {
		json_decref(f.found);
		return NULL;
	}
	return f.found;
}

/* ---- one order ---- */

struct order {
	wsi_loaded now;           /* the order as it is when read */
	char sage_order[32], content_hash[40];
	json_t *canon, *mapped;
	int has_receipt;
};

static int read_order(sqlite3 *db, const wsi_loaded *k, struct order *o, wsi_error *e)
{
	memset(o, 0, sizeof *o);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, rev, recheck, canonical, mapped, coalesce(sage_order,''),"
					      " sage_receipt IS NOT NULL, content_hash FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		wsi_order_from_row(&o->now, k->store, k->id, st, 0);
		o->canon = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		const char *m = (const char *)sqlite3_column_text(st, 4);
		o->mapped = m ? json_loads(m, 0, NULL) : json_object();
		snprintf(o->sage_order, sizeof o->sage_order, "%s", sqlite3_column_text(st, 5));
		o->has_receipt = sqlite3_column_int(st, 6);
		snprintf(o->content_hash, sizeof o->content_hash, "%s", sqlite3_column_text(st, 7));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot read an order");
	return 1;
}

static void free_order(struct order *o)
{
	json_decref(o->canon);
	json_decref(o->mapped);
}

static int needs_receipt(const struct ctx *c, const struct order *o)
{
	return !strcmp(wsi_sale_prepayment(c->cfg), "receipt") && json_is_true(json_object_get(o->canon, "paid")) &&
	       !o->has_receipt;
}

/* The prepayment receipt of a posted order (receipt mode): looked up first, claimed, made once. */
static int post_receipt(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_loaded *k, const struct order *o, int looked_up)
{
	wsi_error e = {0};
	if (!looked_up) {
		json_t *f = find_in_sage(s, c->cfg, k, 1, 1, &e);
		if (!f) {
			halt(c, &e);
			return -1;
		}
		const char *ref = NULL;
		json_t *v;
		json_object_foreach(f, ref, v) {
			int rc = wsi_order_receipt_done(db, k, wsi_jstr(v, "receipt"), "its prepayment receipt is in Sage", &e);
			json_decref(f);
			if (rc)
				halt(c, &e);
			return rc;
		}
		json_decref(f);
	}
	int claimed = wsi_order_claim_receipt(db, k, &e);
	if (claimed <= 0) {
		if (claimed < 0)
			halt(c, &e);
		else
			wsi_info("%s:%s: its prepayment receipt is being made by another run", k->store, k->id);
		return claimed;
	}
	char *body = wsi_sale_receipt_body(c->cfg, k->store, k->id, o->canon, o->mapped, o->sage_order, &e);
	if (!body) {
		wsi_order_receipt_done(db, k, NULL, NULL, &(wsi_error){0});
		halt(c, &e);
		return -1;
	}
	json_t *made = NULL;
	int out = wsi_sage_post(s, "AR/ARReceiptAndAdjustmentBatches", body, "BatchNumber", &made, &e);
	free(body);
	if (out == WSI_SAGE_CREATED) {
		char number[32] = "";
		json_t *bn = json_object_get(made, "BatchNumber");
		if (json_is_integer(bn))
			snprintf(number, sizeof number, "%lld", (long long)json_integer_value(bn));
		json_decref(made);
		count(c, &c->receipts);
		if (wsi_order_receipt_done(db, k, number, "prepayment receipt made", &e)) {
			halt(c, &e);
			return -1;
		}
		return 0;
	}
	if (out == WSI_SAGE_UNKNOWN) {
		/* Sage may have made it: the claim stays, and a later run looks it up */
		halt(c, &e);
		return -1;
	}
	/* surely not made: the claim is let go */
	wsi_error e2 = {0};
	if (wsi_order_receipt_done(db, k, NULL, NULL, &e2))
		halt(c, &e2);
	if (out == WSI_SAGE_REFUSED) {
		/* the sale stands; its receipt waits for a person, and is tried again next run */
		wsi_err("%s:%s: Sage refused the prepayment receipt: %s", k->store, k->id, e.msg);
		count(c, &c->failed);
		return 0;
	}
	halt(c, &e);
	return -1;
}

/* Sage answered 201: record it, read the total back, make the receipt (receipt mode). */
static int created(struct ctx *c, sqlite3 *db, wsi_sage *s, struct order *o, json_t *made)
{
	wsi_loaded *k = &o->now;
	wsi_error e = {0};
	wsi_sale_numbers n;
	wsi_sale_numbers_of(made, &n);
	char why[200];
	snprintf(why, sizeof why, "created in Sage as order %s", n.order);
	wsi_sage_ids ids = ids_of(&n);
	int rc = wsi_order_posted1(db, k, &ids, o->content_hash, why, &e);
	if (rc < 0) {
		halt(c, &e);
		return -1;
	}
	if (rc == 2) {
		wsi_err("%s:%s: Sage created it as order %s, but it changed in the store meanwhile: a conflict for a person",
			k->store, k->id, n.order);
		count(c, &c->failed);
		return 0;
	}
	if (rc == 0) {
		moved_meanwhile(c, k);
		return 0;
	}
	snprintf(o->sage_order, sizeof o->sage_order, "%s", n.order);
	/* read back: the Sage total must be what the customer was charged */
	wsi_dec web = {0}, sage = {0};
	wsi_jdec(json_object_get(o->canon, "totals"), "total", (wsi_dec){0}, &web);
	int differs = n.total[0] && wsi_dec_parse(n.total, strlen(n.total), &sage) == 0 && wsi_dec_round(web, 2).v != sage.v;
	pthread_mutex_lock(&c->lock);
	printf("%s:%s\t%s\n", k->store, k->id, n.order);
	fflush(stdout);
	c->posted++;
	wsi_progress("posted", c->posted + c->failed, (long)c->n);
	c->differs += differs;
	pthread_mutex_unlock(&c->lock);
	if (differs) {
		char b[40], msg[300];
		snprintf(msg, sizeof msg, "Sage order %s totals %s but the web order totals %s: check the invoice.", n.order,
			 n.total, wsi_dec_fmt(web, 2, b, sizeof b));
		wsi_err("%s:%s: %s", k->store, k->id, msg);
		const char *codes[1] = {"sage-total-differs"}, *msgs[1] = {msg};
		if (wsi_db_begin(db, &e) == 0) {
			if (wsi_set_reasons(db, k->store, k->id, codes, NULL, msgs, 1, &e) || wsi_db_commit(db, &e))
				wsi_db_rollback(db);
		}
	}
	if (!needs_receipt(c, o))
		return 0;
	char ref[160];
	wsi_sale_reference(k->store, k->id, ref, sizeof ref);
	pthread_mutex_lock(&c->lock);
	json_t *had = json_incref(json_object_get(c->receipts_in_sage, ref));
	pthread_mutex_unlock(&c->lock);
	if (!had)
		return post_receipt(c, db, s, k, o, 1);
	if (wsi_order_receipt_done(db, k, wsi_jstr(had, "receipt"), "its prepayment receipt was already in Sage", &e))
		halt(c, &e);
	json_decref(had);
	return 0;
}

static int post_one(struct ctx *c, sqlite3 *db, wsi_sage *s, const wsi_loaded *k)
{
	struct order o;
	wsi_error e = {0};
	int r = read_order(db, k, &o, &e);
	if (r <= 0) {
		if (r < 0)
			halt(c, &e);
		return r;
	}
	int rc = 0;
	if (o.now.rev != k->rev) {
		/* moved since this run listed it (and looked it up in Sage): not this run's to send */
		if (k->state == WSI_VALID)
			moved_meanwhile(c, &o.now);
		free_order(&o);
		return 0;
	}
	if (o.now.state != WSI_VALID) {
		if (o.now.state == WSI_POSTED && needs_receipt(c, &o))
			rc = post_receipt(c, db, s, &o.now, &o, 0);
		free_order(&o);
		return rc;
	}
	char *body = wsi_sale_order_body(c->cfg, k->store, k->id, o.canon, o.mapped, &e);
	if (!body) {
		if (e.status == WSI_EXIT_ORDERS) {
			wsi_err("%s", e.msg);
			rc = wsi_order_move1(db, &o.now, WSI_FAILED, "cannot be expressed in Sage", "cannot-post", e.msg, &e);
			count(c, &c->failed);
		}
		if (e.status != WSI_EXIT_ORDERS || rc < 0)
			halt(c, &e);
		free_order(&o);
		return rc < 0 ? -1 : 0;
	}
	if (c->dry_run) {
		pthread_mutex_lock(&c->lock);
		printf("%s:%s\t%s\n", k->store, k->id, body);
		pthread_mutex_unlock(&c->lock);
		free(body);
		free_order(&o);
		return 0;
	}
	/* claimed (posting), committed, before anything is sent: two posts never both send it, and a
	 * crash from here on is found by reference next run */
	rc = wsi_order_move1(db, &o.now, WSI_POSTING, "sent to Sage", NULL, NULL, &e);
	if (rc <= 0) {
		if (rc < 0)
			halt(c, &e);
		else
			moved_meanwhile(c, &o.now);
		free(body);
		free_order(&o);
		return rc;
	}
	json_t *made = NULL;
	int out = wsi_sage_post(s, "OE/OEOrders", body, "OrderNumber", &made, &e);
	free(body);
	rc = 0;
	if (out == WSI_SAGE_CREATED) {
		rc = created(c, db, s, &o, made);
		json_decref(made);
	} else if (out == WSI_SAGE_REFUSED) {
		wsi_err("%s:%s: Sage refused it: %s", k->store, k->id, e.msg);
		int m = wsi_order_move1(db, &o.now, WSI_FAILED, "Sage refused it", "sage-refused", wsi_sage_words(s), &e);
		if (m < 0)
			halt(c, &e);
		else if (m == 0)
			moved_meanwhile(c, &o.now);
		count(c, &c->failed);
		rc = m < 0 ? -1 : 0;
	} else if (out == WSI_SAGE_UNKNOWN) {
		/* Sage may have saved it: it stays posting, and the next run finds out by reference */
		halt(c, &e);
		rc = -1;
	} else {
		/* surely not sent (or refused before anything was done): back to valid */
		wsi_error e2 = {0};
		wsi_order_move1(db, &o.now, WSI_VALID, "not sent: Sage could not be reached", NULL, NULL, &e2);
		halt(c, &e);
		rc = -1;
	}
	free_order(&o);
	return rc;
}

struct worker {
	struct ctx *c;
	wsi_sage *sage;
};

/* The run's orders are looked up in Sage, WSI_SAGE_BATCH a request, before any is created;
 * both the look-ups and the posts are shared among the connections. */
static void lookup_loop(struct ctx *c, wsi_sage *s)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		size_t from = c->next;
		c->next += WSI_SAGE_BATCH;
		int stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop || from >= c->n)
			break;
		wsi_error e = {0};
		size_t n = from + WSI_SAGE_BATCH <= c->n ? WSI_SAGE_BATCH : c->n - from;
		json_t *f = find_in_sage(s, c->cfg, c->k + from, n, 0, &e);
		/* receipt mode: the receipts too, so none is ever made twice (one may survive its order
		 * in a restore of Sage) */
		json_t *r = f && !strcmp(wsi_sale_prepayment(c->cfg), "receipt") ? find_in_sage(s, c->cfg, c->k + from, n, 1, &e)
										    : json_object();
		if (!f || !r) {
			json_decref(f);
			halt(c, &e);
			break;
		}
		pthread_mutex_lock(&c->lock);
		json_object_update(c->found, f);
		json_object_update(c->receipts_in_sage, r);
		pthread_mutex_unlock(&c->lock);
		json_decref(f);
		json_decref(r);
	}
}

static void post_loop(struct ctx *c, sqlite3 *db, wsi_sage *s)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		size_t i = c->next++;
		int stop = c->stop;
		char ref[160];
		json_t *f = NULL;
		if (i < c->n) {
			wsi_sale_reference(c->k[i].store, c->k[i].id, ref, sizeof ref);
			f = json_incref(json_object_get(c->found, ref));
		}
		pthread_mutex_unlock(&c->lock);
		if (stop || i >= c->n) {
			json_decref(f);
			break;
		}
		if (!f) {
			post_one(c, db, s, &c->k[i]);
			continue;
		}
		/* Sage has it already: recorded as posted, never posted again */
		wsi_error e = {0};
		wsi_loaded k = c->k[i];
		if (k.state != WSI_POSTED) {
			wsi_sale_numbers nb = {0};
			snprintf(nb.order, sizeof nb.order, "%s", wsi_jstr(f, "order"));
			snprintf(nb.shipment, sizeof nb.shipment, "%s", wsi_jstr(f, "shipment"));
			snprintf(nb.invoice, sizeof nb.invoice, "%s", wsi_jstr(f, "invoice"));
			snprintf(nb.receipt, sizeof nb.receipt, "%s", wsi_jstr(f, "receipt"));
			char why[200];
			snprintf(why, sizeof why, "Sage already has it as order %s", nb.order);
			wsi_sage_ids ids = ids_of(&nb);
			int r = wsi_order_posted1(db, &k, &ids, NULL, why, &e);
			if (r < 0)
				halt(c, &e);
			else if (r == 0)
				moved_meanwhile(c, &k);
		}
		json_decref(f);
	}
}

static void *look_work(void *arg)
{
	struct worker *w = arg;
	lookup_loop(w->c, w->sage);
	return NULL;
}

static void *post_work(void *arg)
{
	struct worker *w = arg;
	struct ctx *c = w->c;
	wsi_error e = {0};
	sqlite3 *db = wsi_db_open(c->db_path, &e);
	if (!db) {
		halt(c, &e);
		return NULL;
	}
	post_loop(c, db, w->sage);
	wsi_db_close(db);
	return NULL;
}

/* Run fn on `jobs` connections (the first is `sage`) until it returns on each. */
static void pool(struct ctx *c, wsi_sage *sage, wsi_sage **extra, long jobs, void *(*fn)(void *))
{
	pthread_t th[64];
	struct worker w[64];
	long started = 0;
	for (long j = 0; j < jobs; j++) {
		w[j].c = c;
		w[j].sage = j == 0 ? sage : extra[j];
		if (!w[j].sage || pthread_create(&th[j], NULL, fn, &w[j]))
			break;
		started++;
	}
	for (long j = 0; j < started; j++)
		pthread_join(th[j], NULL);
}

/* ---- reconciling what earlier runs left ---- */

/* One order reconciled, in a transaction of its own: f is what Sage has of it (NULL: nothing). */
static int reconcile_one(struct ctx *c, sqlite3 *db, wsi_loaded *k, json_t *f, json_t *receipts, int young,
			 long *known, long *back, wsi_error *e)
{
	char ref[160];
	wsi_sale_reference(k->store, k->id, ref, sizeof ref);
	int receipt_mode = !strcmp(wsi_sale_prepayment(c->cfg), "receipt");
	int posted_before = k->state == WSI_POSTED, rc = 1;
	if (wsi_db_begin(db, e))
		return -1;
	if (f) {
		char why[200];
		json_t *rf = receipt_mode ? json_object_get(receipts, ref) : NULL;
		const char *receipt = receipt_mode ? (rf ? wsi_jstr(rf, "receipt") : NULL) : wsi_jstr(f, "receipt");
		snprintf(why, sizeof why, "reconciled: Sage has it as order %s", wsi_jstr(f, "order"));
		/* what Sage has is what counts: its numbers, and (receipt mode) whether the receipt is there */
		wsi_sage_ids ids = {wsi_jstr(f, "order"), wsi_jstr(f, "shipment"), wsi_jstr(f, "invoice"), receipt, 1};
		int keep = k->state == WSI_SKIPPED || k->state == WSI_HELD || k->state == WSI_CONFLICT;
		rc = wsi_order_posted(db, k, &ids, NULL, why, e);
		/* not to be posted here, but Sage has it: a person must look (a credit note?) */
		if (rc == 1 && keep)
			rc = wsi_order_move(db, k, WSI_CONFLICT,
					    "Sage has it, but the store no longer wants it posted: a person must look", e);
		(*known)++;
	} else if (young && (k->state == WSI_POSTING || k->state == WSI_POSTED || k->state == WSI_VALID)) {
		/* too recent to know: Sage may still be saving it; it is not posted this run */
		if (k->state == WSI_POSTING)
			wsi_err("%s: sent to Sage less than %ld s ago and not there yet: whether Sage saved it is decided "
				"on a run after that", ref, c->reconcile_after);
		else
			wsi_err("%s: checked again after wsi-hwm set less than %ld s ago and not in Sage yet: posted on a "
				"run after that", ref, c->reconcile_after);
		json_object_set_new(c->held_back, ref, json_true());
		c->undecided++;
	} else if (k->state == WSI_POSTING || posted_before) {
		/* Never saved, or lost in a restore of Sage: it goes (again). Posted long ago, it is mapped and
		 * checked again with today's mappings and Sage; sent just now and never saved, it was checked
		 * moments ago and goes at once. */
		rc = wsi_order_forget_sage(db, k, posted_before ? WSI_STAGED : WSI_VALID,
					   posted_before ? "reconciled: Sage no longer has it (restored?): to be posted again"
							 : "reconciled: Sage never saved it", e);
		if (rc == 1 && !posted_before && add_key(c, k))
			rc = wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		(*back)++;
	} else {
		rc = wsi_order_recheck_done(db, k, e) ? -1 : 1;
	}
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	if (rc == 0)
		moved_meanwhile(c, k);
	return 0;
}

/* A POST that timed out may still be running inside Sage: "not found" only means "never
 * saved" once it was sent longer ago than [sage] reconcile_after. */
static int reconcile(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	struct ctx r = {0};
	char cutoff[32];
	wsi_time_fmt(wsi_now() - c->reconcile_after, cutoff, sizeof cutoff);
	json_t *young = json_object();
	/* Loaded before Sage is asked: a move made after the answer by another run wins over it.
	 * young: sent lately, or flagged by a wsi-hwm set done lately (after a restore of our database, a
	 * run killed just before may have left a POST still saving in Sage that nothing here remembers) */
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, (state='posting' AND changed_at > ?1) OR"
					      " (recheck<>0 AND EXISTS (SELECT 1 FROM rechecks x WHERE x.store=o.store AND"
					      " x.at > ?1)) FROM orders o WHERE state='posting' OR recheck<>0", e);
	if (!st) {
		json_decref(young);
		return -1;
	}
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	int rc = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		const char *store = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
		wsi_order_from_row(&k, store, id, st, 2);
		if (add_key(&r, &k))
			rc = wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		if (sqlite3_column_int(st, 5)) {
			char ref[160];
			wsi_sale_reference(store, id, ref, sizeof ref);
			json_object_set_new(young, ref, json_true());
		}
	}
	sqlite3_finalize(st);
	json_t *found = NULL, *receipts = NULL;
	int receipt_mode = !strcmp(wsi_sale_prepayment(c->cfg), "receipt");
	if (!rc && r.n) {
		found = find_in_sage(s, c->cfg, r.k, r.n, 0, e);
		receipts = found && receipt_mode ? find_in_sage(s, c->cfg, r.k, r.n, 1, e) : NULL;
		if (!found || (receipt_mode && !receipts))
			rc = -1;
	}
	long back = 0, known = 0;
	for (size_t i = 0; i < r.n && !rc; i++) {
		char ref[160];
		wsi_sale_reference(r.k[i].store, r.k[i].id, ref, sizeof ref);
		rc = reconcile_one(c, db, &r.k[i], json_object_get(found, ref), receipts, json_object_get(young, ref) != NULL,
				   &known, &back, e);
	}
	if (r.n)
		wsi_info("reconciled %zu: %ld found in Sage, %ld to post", r.n, known, back);
	json_decref(found);
	json_decref(receipts);
	json_decref(young);
	json_decref(r.listed);
	free(r.k);
	return rc;
}

/* Posted orders whose prepayment receipt is still to be made (receipt mode). A receipt claimed by a
 * run that got no answer is decided, like a POST, only after [sage] reconcile_after. */
static int pending_receipts(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	if (strcmp(wsi_sale_prepayment(c->cfg), "receipt"))
		return 0;
	struct ctx r = {0};
	char cutoff[32];
	wsi_time_fmt(wsi_now() - c->reconcile_after, cutoff, sizeof cutoff);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, coalesce(receipt_claimed > ?1, 0)"
					      " FROM orders WHERE state='posted' AND sage_receipt IS NULL"
					      " AND json_extract(canonical,'$.paid')", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	json_t *young = json_object();
	while (sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		wsi_order_from_row(&k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), st, 2);
		if (add_key(&r, &k)) {
			sqlite3_finalize(st);
			json_decref(young);
			json_decref(r.listed);
			free(r.k);
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		}
		if (sqlite3_column_int(st, 5)) {
			char ref[160];
			wsi_sale_reference(k.store, k.id, ref, sizeof ref);
			json_object_set_new(young, ref, json_true());
		}
	}
	sqlite3_finalize(st);
	json_t *found = r.n ? find_in_sage(s, c->cfg, r.k, r.n, 1, e) : NULL;
	int rc = r.n && !found ? -1 : 0;
	for (size_t i = 0; i < r.n && !rc && !c->stop; i++) {
		char ref[160];
		struct order o;
		wsi_sale_reference(r.k[i].store, r.k[i].id, ref, sizeof ref);
		json_t *f = json_object_get(found, ref);
		if (f) {
			rc = wsi_order_receipt_done(db, &r.k[i], wsi_jstr(f, "receipt"), "reconciled: its prepayment receipt is in Sage", e);
			continue;
		}
		if (json_object_get(young, ref)) {
			wsi_err("%s: its prepayment receipt was sent less than %ld s ago with no answer, and is not in Sage "
				"yet: decided on a run after that", ref, c->reconcile_after);
			c->undecided++;
			continue;
		}
		if (read_order(db, &r.k[i], &o, e) <= 0) {
			rc = -1;
			break;
		}
		rc = post_receipt(c, db, s, &r.k[i], &o, 1) && c->stop ? -1 : 0;
		free_order(&o);
	}
	json_decref(found);
	json_decref(young);
	json_decref(r.listed);
	free(r.k);
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
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "anj:")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'a')
			all = 1;
		else if (opt == 'n')
			c.dry_run = 1;
		else if (opt == 'j' && (jobs = strtol(optarg, NULL, 10)) >= 1 && jobs <= 64)
			continue;
		else {
			if (opt == 'j')
				wsi_err("-j takes a number of connections from 1 to 64");
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	if (all && optind < argc) {
		wsi_err("-a or keys, not both");
		return WSI_EXIT_USAGE;
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	wsi_cli_open(&cli, &cfg, &db);
	c.cfg = cfg;
	c.db_path = wsi_conf_db(cfg, cli.db_path);
	pthread_mutex_init(&c.lock, NULL);
	const char *pp = wsi_sale_prepayment(cfg);
	int64_t started = wsi_now();
	wsi_sage *sage = NULL;
	int rc = 0;
	if (strcmp(pp, "order") && strcmp(pp, "receipt") && strcmp(pp, "none")) {
		rc = wsi_fail(&e, WSI_EXIT_CONFIG, "%s:%d: [sage] prepayment must be order, receipt or none",
			      wsi_config_path(cfg), wsi_conf_line(cfg, "sage", "prepayment"));
		goto out;
	}
	if (wsi_conf_int(cfg, "sage", "reconcile_after", 600, 0, 86400 * 7, &c.reconcile_after, &e)) {
		rc = -1;
		goto out;
	}
	/* the orders asked for, loaded (state and revision) before Sage is asked about them */
	if (all) {
		sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck FROM orders WHERE state='valid'"
						      " ORDER BY store, id", &e);
		if (!st) {
			rc = -1;
			goto out;
		}
		while (!rc && sqlite3_step(st) == SQLITE_ROW) {
			wsi_loaded k;
			wsi_order_from_row(&k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
					   st, 2);
			if (add_key(&c, &k))
				rc = wsi_fail(&e, WSI_EXIT_LOCAL, "out of memory");
		}
		sqlite3_finalize(st);
		if (rc)
			goto out;
	} else {
		wsi_keys k;
		char store[WSI_STORE_SIZE], id[WSI_ID_SIZE];
		int got;
		wsi_keys_init(&k, argc - optind, argv + optind);
		while ((got = wsi_keys_next(&k, store, sizeof store, id, sizeof id, &e)) == 1) {
			wsi_loaded o;
			int r = wsi_order_load(db, store, id, &o, &e);
			if (r == 0)
				wsi_err("%s:%s: no such order", store, id);
			if (r < 0 || (r > 0 && add_key(&c, &o))) {
				got = -1;
				break;
			}
		}
		wsi_keys_free(&k);
		if (got < 0) {
			rc = -1;
			goto out;
		}
	}
	if (!(sage = wsi_sage_open(cfg, &e))) {
		rc = -1;
		goto out;
	}
	/* recover first: whatever keys were given */
	c.held_back = json_object();
	if (!c.dry_run && (rc = reconcile(&c, db, sage, &e)))
		goto out;
	for (size_t i = 0, j = 0; i < c.n; i++) {
		char ref[160];
		wsi_sale_reference(c.k[i].store, c.k[i].id, ref, sizeof ref);
		if (!json_object_get(c.held_back, ref))
			c.k[j++] = c.k[i];
		if (i + 1 == c.n)
			c.n = j;
	}
	/* look up, then post: on one connection, or on several */
	c.found = json_object();
	c.receipts_in_sage = json_object();
	wsi_sage *extra[64] = {0};
	if (jobs > 1 && c.n > 1)
		for (long j = 1; j < jobs; j++)
			if (!(extra[j] = wsi_sage_clone(sage, &e)))
				jobs = j;
	if (!c.dry_run) {
		c.next = 0;
		if (jobs > 1 && c.n > WSI_SAGE_BATCH)
			pool(&c, sage, extra, jobs, look_work);
		else
			lookup_loop(&c, sage);
	}
	c.next = 0;
	if (jobs > 1 && c.n > 1)
		pool(&c, sage, extra, jobs, post_work);
	else
		post_loop(&c, db, sage);
	for (long j = 1; j < 64; j++)
		wsi_sage_close(extra[j]);
	wsi_progress_done();
	if (!c.stop && !c.dry_run && pending_receipts(&c, db, sage, &e) && !c.stop)
		rc = -1;
	wsi_info("%ld posted, %ld failed, %ld receipts, %ld totals differ; %ld Sage requests", c.posted, c.failed,
		 c.receipts, c.differs, wsi_sage_requests(sage));
	if (!rc && !c.stop && c.undecided)
		rc = wsi_fail(&e, WSI_EXIT_REMOTE, "%ld order%s sent to Sage without an answer: the next run finds out",
			      c.undecided, c.undecided == 1 ? "" : "s");
out:
	if (c.stop) {
		e = c.first;
		rc = -1;
	}
	if (!c.dry_run)
		wsi_run_log(db, started, rc ? e.status : (c.failed || c.differs) ? WSI_EXIT_ORDERS : 0,
			    "posted %ld, %ld failed, %ld receipts%s%s", c.posted, c.failed, c.receipts, rc ? ": " : "",
			    rc ? e.msg : "");
	free(c.k);
	json_decref(c.listed);
	json_decref(c.found);
	json_decref(c.receipts_in_sage);
	json_decref(c.held_back);
	wsi_sage_close(sage);
	wsi_db_close(db);
	wsi_config_free(cfg);
	pthread_mutex_destroy(&c.lock);
	int status = rc ? wsi_report(&e) : (c.failed || c.differs) ? WSI_EXIT_ORDERS : 0;
	int cs = wsi_close_stdout();
	return status ? status : cs;
}
