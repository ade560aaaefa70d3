/* wsi-post - create each valid order in Sage as one order, shipment and invoice (and its
 * prepayment), exactly once. Every run first reconciles what an earlier run left unknown,
 * the way a database recovers when it opens, and looks its orders up by reference before
 * it creates anything. */
#include "cli.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include "keys.h"
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

struct key { char store[72], id[72]; };

struct ctx {
	const wsi_config *cfg;
	const char *db_path;
	int dry_run;
	struct key *k;
	size_t n, cap, next;
	pthread_mutex_t lock;
	int stop;                 /* a failure that means: try again later */
	wsi_error first;          /* the first such failure */
	long posted, failed, differs, receipts;
	json_t *found;            /* references Sage has: {ref: numbers} */
	json_t *receipts_in_sage; /* receipt mode: references whose receipt Sage has */
	json_t *held_back;        /* references not to post this run: too soon to know */
};

static int add_key(struct ctx *c, const char *store, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->k[i].store, store) && !strcmp(c->k[i].id, id))
			return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		struct key *nk = realloc(c->k, c->cap * sizeof *nk);
		if (!nk)
			return -1;
		c->k = nk;
	}
	snprintf(c->k[c->n].store, sizeof c->k[c->n].store, "%s", store);
	snprintf(c->k[c->n].id, sizeof c->k[c->n].id, "%s", id);
	c->n++;
	return 0;
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
static json_t *find_in_sage(wsi_sage *s, const wsi_config *cfg, const struct key *keys, size_t n, int receipts,
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
	char state[16], sage_order[32];
	json_t *canon, *mapped;
	int has_receipt;
};

static int read_order(sqlite3 *db, const struct key *k, struct order *o, wsi_error *e)
{
	memset(o, 0, sizeof *o);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, canonical, mapped, coalesce(sage_order,''),"
					      " sage_receipt IS NOT NULL FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(o->state, sizeof o->state, "%s", sqlite3_column_text(st, 0));
		o->canon = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		const char *m = (const char *)sqlite3_column_text(st, 2);
		o->mapped = m ? json_loads(m, 0, NULL) : json_object();
		snprintf(o->sage_order, sizeof o->sage_order, "%s", sqlite3_column_text(st, 3));
		o->has_receipt = sqlite3_column_int(st, 4);
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

/* Change state (and reasons) in a transaction of its own. */
static int move(sqlite3 *db, const struct key *k, const char *from, const char *to, const char *why,
		const char *code, const char *msg, wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	const char *codes[1] = {code}, *msgs[1] = {msg};
	if ((code && wsi_set_reasons(db, k->store, k->id, codes, NULL, msgs, 1, e)) ||
	    wsi_set_state(db, k->store, k->id, from, to, why, e) || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return 0;
}

static int posted(sqlite3 *db, const struct key *k, const char *from, const wsi_sale_numbers *n, const char *why,
		  wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	if (wsi_order_posted(db, k->store, k->id, from, n->order, n->shipment, n->invoice, n->receipt, why, e) ||
	    wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return 0;
}

static int needs_receipt(const struct ctx *c, const struct order *o)
{
	return !strcmp(wsi_sale_prepayment(c->cfg), "receipt") && json_is_true(json_object_get(o->canon, "paid")) &&
	       !o->has_receipt;
}

/* The prepayment receipt of a posted order (receipt mode): looked up first, made once. */
static int post_receipt(struct ctx *c, sqlite3 *db, wsi_sage *s, const struct key *k, const struct order *o,
			int looked_up)
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
			wsi_sale_numbers n = {0};
			snprintf(n.receipt, sizeof n.receipt, "%s", wsi_jstr(v, "receipt"));
			int rc = posted(db, k, "posted", &n, "its prepayment receipt is in Sage", &e);
			json_decref(f);
			if (rc)
				halt(c, &e);
			return rc;
		}
		json_decref(f);
	}
	char *body = wsi_sale_receipt_body(c->cfg, k->store, k->id, o->canon, o->mapped, o->sage_order, &e);
	if (!body) {
		halt(c, &e);
		return -1;
	}
	json_t *made = NULL;
	int out = wsi_sage_post(s, "AR/ARReceiptAndAdjustmentBatches", body, &made, &e);
	free(body);
	if (out == WSI_SAGE_CREATED) {
		wsi_sale_numbers n = {0};
		json_t *bn = json_object_get(made, "BatchNumber");
		if (json_is_integer(bn))
			snprintf(n.receipt, sizeof n.receipt, "%lld", (long long)json_integer_value(bn));
		json_decref(made);
		pthread_mutex_lock(&c->lock);
		c->receipts++;
		pthread_mutex_unlock(&c->lock);
		if (posted(db, k, "posted", &n, "prepayment receipt made", &e)) {
			halt(c, &e);
			return -1;
		}
		return 0;
	}
	if (out == WSI_SAGE_REFUSED) {
		/* the sale stands; its receipt waits for a person, and is tried again next run */
		wsi_err("%s:%s: Sage refused the prepayment receipt: %s", k->store, k->id, e.msg);
		pthread_mutex_lock(&c->lock);
		c->failed++;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	halt(c, &e);
	return -1;
}

static int post_one(struct ctx *c, sqlite3 *db, wsi_sage *s, const struct key *k)
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
	if (strcmp(o.state, "valid")) {
		if (!strcmp(o.state, "posted") && needs_receipt(c, &o))
			rc = post_receipt(c, db, s, k, &o, 0);
		free_order(&o);
		return rc;
	}
	char *body = wsi_sale_order_body(c->cfg, k->store, k->id, o.canon, o.mapped, &e);
	if (!body) {
		if (e.status == WSI_EXIT_ORDERS) {
			wsi_err("%s", e.msg);
			rc = move(db, k, "valid", "failed", "cannot be expressed in Sage", "cannot-post", e.msg, &e);
			pthread_mutex_lock(&c->lock);
			c->failed++;
			pthread_mutex_unlock(&c->lock);
		}
		if (e.status != WSI_EXIT_ORDERS || rc)
			halt(c, &e);
		free_order(&o);
		return rc;
	}
	if (c->dry_run) {
		pthread_mutex_lock(&c->lock);
		printf("%s:%s\t%s\n", k->store, k->id, body);
		pthread_mutex_unlock(&c->lock);
		free(body);
		free_order(&o);
		return 0;
	}
	/* posting first, committed: a crash from here on is found by reference next run */
	if (move(db, k, "valid", "posting", "sent to Sage", NULL, NULL, &e)) {
		halt(c, &e);
		free(body);
		free_order(&o);
		return -1;
	}
	json_t *made = NULL;
	int out = wsi_sage_post(s, "OE/OEOrders", body, &made, &e);
	free(body);
	if (out == WSI_SAGE_CREATED) {
		wsi_sale_numbers n;
		wsi_sale_numbers_of(made, &n);
		json_decref(made);
		char why[200];
		snprintf(why, sizeof why, "created in Sage as order %s", n.order);
		if (posted(db, k, "posting", &n, why, &e)) {
			halt(c, &e);
			free_order(&o);
			return -1;
		}
		snprintf(o.sage_order, sizeof o.sage_order, "%s", n.order);
		/* read back: the Sage total must be what the customer was charged */
		wsi_dec web = {0}, sage = {0};
		wsi_jdec(json_object_get(o.canon, "totals"), "total", (wsi_dec){0}, &web);
		int differs = n.total[0] && wsi_dec_parse(n.total, strlen(n.total), &sage) == 0 &&
			      wsi_dec_round(web, 2).v != sage.v;
		pthread_mutex_lock(&c->lock);
		printf("%s:%s\t%s\n", k->store, k->id, n.order);
		fflush(stdout);
		c->posted++;
		wsi_progress("posted", c->posted + c->failed, (long)c->n);
		c->differs += differs;
		pthread_mutex_unlock(&c->lock);
		if (differs) {
			char b[40], msg[300];
			snprintf(msg, sizeof msg, "Sage order %s totals %s but the web order totals %s: check the invoice.",
				 n.order, n.total, wsi_dec_fmt(web, 2, b, sizeof b));
			wsi_err("%s:%s: %s", k->store, k->id, msg);
			const char *codes[1] = {"sage-total-differs"}, *msgs[1] = {msg};
			if (wsi_db_begin(db, &e) == 0) {
				if (wsi_set_reasons(db, k->store, k->id, codes, NULL, msgs, 1, &e) || wsi_db_commit(db, &e))
					wsi_db_rollback(db);
			}
		}
		if (needs_receipt(c, &o)) {
			char ref[160];
			wsi_sale_reference(k->store, k->id, ref, sizeof ref);
			pthread_mutex_lock(&c->lock);
			json_t *had = json_incref(json_object_get(c->receipts_in_sage, ref));
			pthread_mutex_unlock(&c->lock);
			if (had) {
				wsi_sale_numbers rn = {0};
				snprintf(rn.receipt, sizeof rn.receipt, "%s", wsi_jstr(had, "receipt"));
				if (posted(db, k, "posted", &rn, "its prepayment receipt was already in Sage", &e))
					halt(c, &e);
				json_decref(had);
			} else {
				rc = post_receipt(c, db, s, k, &o, 1);
			}
		}
	} else if (out == WSI_SAGE_REFUSED) {
		wsi_err("%s:%s: Sage refused it: %s", k->store, k->id, e.msg);
		rc = move(db, k, "posting", "failed", "Sage refused it", "sage-refused", wsi_sage_words(s), &e);
		if (rc)
			halt(c, &e);
		pthread_mutex_lock(&c->lock);
		c->failed++;
		pthread_mutex_unlock(&c->lock);
	} else if (out == WSI_SAGE_UNKNOWN) {
		/* Sage may have saved it: it stays posting, and the next run finds out by reference */
		halt(c, &e);
		rc = -1;
	} else {
		/* surely not sent (or refused before anything was done): back to valid */
		wsi_error e2 = {0};
		move(db, k, "posting", "valid", "not sent: Sage could not be reached", NULL, NULL, &e2);
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
		struct order o;
		int r = read_order(db, &c->k[i], &o, &e);
		if (r > 0 && strcmp(o.state, "posted")) {
			wsi_sale_numbers nb = {0};
			snprintf(nb.order, sizeof nb.order, "%s", wsi_jstr(f, "order"));
			snprintf(nb.shipment, sizeof nb.shipment, "%s", wsi_jstr(f, "shipment"));
			snprintf(nb.invoice, sizeof nb.invoice, "%s", wsi_jstr(f, "invoice"));
			snprintf(nb.receipt, sizeof nb.receipt, "%s", wsi_jstr(f, "receipt"));
			char why[200];
			snprintf(why, sizeof why, "Sage already has it as order %s", nb.order);
			if (posted(db, &c->k[i], o.state, &nb, why, &e))
				halt(c, &e);
		}
		if (r > 0)
			free_order(&o);
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

/* Run one UPDATE … WHERE store=? AND id=? for an order. */
static int update_order(sqlite3 *db, const char *sql, const struct key *k, wsi_error *e)
{
	sqlite3_stmt *u = wsi_db_prepare(db, sql, e);
	if (!u)
		return -1;
	sqlite3_bind_text(u, 1, k->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(u, 2, k->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(u) == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot reconcile an order");
	sqlite3_finalize(u);
	return rc;
}

/* A POST that timed out may still be running inside Sage: "not found" only means "never
 * saved" once it was sent longer ago than [sage] reconcile_after. */
static int reconcile(struct ctx *c, sqlite3 *db, wsi_sage *s, long *undecided, wsi_error *e)
{
	struct ctx r = {0};
	long after;
	if (wsi_conf_int(c->cfg, "sage", "reconcile_after", 600, 0, 86400 * 7, &after, e))
		return -1;
	char cutoff[32];
	wsi_time_fmt(wsi_now() - after, cutoff, sizeof cutoff);
	json_t *young = json_object();
	/* young: sent lately, or flagged by a wsi-hwm set done lately (after a restore of our database, a
	 * run killed just before may have left a POST still saving in Sage that nothing here remembers) */
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, (state='posting' AND changed_at > ?1) OR (recheck=1 AND"
					      " EXISTS (SELECT 1 FROM rechecks x WHERE x.store=o.store AND x.at > ?1)) FROM orders o"
					      " WHERE state='posting' OR recheck=1", e);
	if (!st) {
		json_decref(young);
		return -1;
	}
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (add_key(&r, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1))) {
			sqlite3_finalize(st);
			free(r.k);
			json_decref(young);
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		}
		if (sqlite3_column_int(st, 2)) {
			char ref[160];
			wsi_sale_reference((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
					   ref, sizeof ref);
			json_object_set_new(young, ref, json_true());
		}
	}
	sqlite3_finalize(st);
	if (!r.n) {
		json_decref(young);
		return 0;
	}
	json_t *found = find_in_sage(s, c->cfg, r.k, r.n, 0, e);
	int receipt_mode = !strcmp(wsi_sale_prepayment(c->cfg), "receipt");
	json_t *receipts = found && receipt_mode ? find_in_sage(s, c->cfg, r.k, r.n, 1, e) : NULL;
	if (!found || (receipt_mode && !receipts)) {
		json_decref(found);
		free(r.k);
		json_decref(young);
		return -1;
	}
	int rc = 0;
	long back = 0, known = 0;
	for (size_t i = 0; i < r.n && !rc; i++) {
		struct order o;
		char ref[160];
		if ((rc = read_order(db, &r.k[i], &o, e) < 0 ? -1 : 0))
			break;
		wsi_sale_reference(r.k[i].store, r.k[i].id, ref, sizeof ref);
		json_t *f = json_object_get(found, ref);
		if (wsi_db_begin(db, e)) {
			free_order(&o);
			rc = -1;
			break;
		}
		int posted_before = !strcmp(o.state, "posted");
		if (f) {
			char why[200];
			json_t *rf = receipt_mode ? json_object_get(receipts, ref) : NULL;
			const char *receipt = receipt_mode ? (rf ? wsi_jstr(rf, "receipt") : NULL) : wsi_jstr(f, "receipt");
			snprintf(why, sizeof why, "reconciled: Sage has it as order %s", wsi_jstr(f, "order"));
			/* what Sage has is what counts: its numbers, and (receipt mode) whether the receipt is there */
			rc = update_order(db, "UPDATE orders SET sage_order=NULL, sage_shipment=NULL, sage_invoice=NULL,"
					      " sage_receipt=NULL WHERE store=? AND id=?", &r.k[i], e);
			int keep = !strcmp(o.state, "skipped") || !strcmp(o.state, "held") || !strcmp(o.state, "conflict");
			if (!rc)
				rc = wsi_order_posted(db, r.k[i].store, r.k[i].id, o.state, wsi_jstr(f, "order"), wsi_jstr(f, "shipment"),
						      wsi_jstr(f, "invoice"), receipt, why, e);
			/* not to be posted here, but Sage has it: a person must look (a credit note?) */
			if (!rc && keep)
				rc = wsi_set_state(db, r.k[i].store, r.k[i].id, "posted", "conflict",
						   "Sage has it, but the store no longer wants it posted: a person must look", e);
			known++;
		} else if (json_object_get(young, ref) &&
			   (!strcmp(o.state, "posting") || !strcmp(o.state, "posted") || !strcmp(o.state, "valid"))) {
			/* too recent to know: Sage may still be saving it; it is not posted this run */
			if (!strcmp(o.state, "posting"))
				wsi_err("%s: sent to Sage less than %ld s ago and not there yet: whether Sage saved it is decided "
					"on a run after that", ref, after);
			else
				wsi_err("%s: checked again after wsi-hwm set less than %ld s ago and not in Sage yet: posted on a "
					"run after that", ref, after);
			json_object_set_new(c->held_back, ref, json_true());
			(*undecided)++;
		} else if (!strcmp(o.state, "posting") || posted_before) {
			/* never saved, or lost in a restore of Sage: it goes (again) */
			rc = update_order(db, "UPDATE orders SET recheck=0, posted_hash=NULL, posted_at=NULL, sage_order=NULL,"
					      " sage_shipment=NULL, sage_invoice=NULL, sage_receipt=NULL WHERE store=? AND id=?", &r.k[i], e);
			/* Posted long ago, it is mapped and checked again with today's mappings and Sage;
			 * sent just now and never saved, it was checked moments ago and goes at once. */
			if (!rc)
				rc = wsi_set_state(db, r.k[i].store, r.k[i].id, o.state, posted_before ? "staged" : "valid",
						   posted_before ? "reconciled: Sage no longer has it (restored?): to be posted again"
								 : "reconciled: Sage never saved it", e);
			if (!rc && !posted_before)
				rc = add_key(c, r.k[i].store, r.k[i].id);
			back++;
		} else {
			rc = update_order(db, "UPDATE orders SET recheck=0 WHERE store=? AND id=?", &r.k[i], e);
		}
		free_order(&o);
		if (rc || wsi_db_commit(db, e)) {
			wsi_db_rollback(db);
			rc = -1;
		}
	}
	wsi_info("reconciled %zu: %ld found in Sage, %ld to post", r.n, known, back);
	json_decref(found);
	json_decref(receipts);
	json_decref(young);
	free(r.k);
	return rc;
}

/* Posted orders whose prepayment receipt is still to be made (receipt mode). */
static int pending_receipts(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	if (strcmp(wsi_sale_prepayment(c->cfg), "receipt"))
		return 0;
	struct ctx r = {0};
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id FROM orders WHERE state='posted' AND sage_receipt IS NULL"
					      " AND json_extract(canonical,'$.paid')", e);
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		add_key(&r, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (!r.n)
		return 0;
	json_t *found = find_in_sage(s, c->cfg, r.k, r.n, 1, e);
	int rc = found ? 0 : -1;
	for (size_t i = 0; i < r.n && !rc && !c->stop; i++) {
		char ref[160];
		struct order o;
		wsi_sale_reference(r.k[i].store, r.k[i].id, ref, sizeof ref);
		json_t *f = json_object_get(found, ref);
		if (read_order(db, &r.k[i], &o, e) <= 0) {
			rc = -1;
			break;
		}
		if (f) {
			wsi_sale_numbers n = {0};
			snprintf(n.receipt, sizeof n.receipt, "%s", wsi_jstr(f, "receipt"));
			rc = posted(db, &r.k[i], "posted", &n, "reconciled: its prepayment receipt is in Sage", e);
		} else {
			rc = post_receipt(c, db, s, &r.k[i], &o, 1) && c->stop ? -1 : 0;
		}
		free_order(&o);
	}
	json_decref(found);
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
	/* the orders asked for */
	if (all) {
		sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id FROM orders WHERE state='valid' ORDER BY store, id", &e);
		if (!st) {
			rc = -1;
			goto out;
		}
		while (sqlite3_step(st) == SQLITE_ROW)
			add_key(&c, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
	} else {
		wsi_keys k;
		char store[72], id[72];
		int got;
		wsi_keys_init(&k, argc - optind, argv + optind);
		while ((got = wsi_keys_next(&k, store, sizeof store, id, sizeof id, &e)) == 1)
			add_key(&c, store, id);
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
	long undecided = 0;
	c.held_back = json_object();
	if (!c.dry_run && (rc = reconcile(&c, db, sage, &undecided, &e)))
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
	if (!rc && !c.stop && undecided)
		rc = wsi_fail(&e, WSI_EXIT_REMOTE, "%ld order%s sent to Sage without an answer: the next run finds out", undecided,
			      undecided == 1 ? "" : "s");
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
