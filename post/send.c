/* send.c - one order claimed, sent, and recorded; its receipt; the connection pool. */
#include "order.h"
#include "post.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include "mapping.h"
#include "progress.h"
#include "sale.h"
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static wsi_sage_ids ids_of(const wsi_sale_numbers *n)
{
	return (wsi_sage_ids){n->order, n->shipment, n->invoice, n->receipt, 0};
}

/* Before a request goes: journaled beside the database (it survives a restore of the database). */
static int journal_sent(struct ctx *c, int kind, const wsi_loaded *k, wsi_error *e)
{
	char ref[160];
	wsi_sale_reference(k->store, k->id, ref, sizeof ref);
	return wsi_sent_begin(c->db_path, kind, ref, e);
}

/* Its answer came: the journal entry is closed (left open, it only makes a later restore wait). */
static void journal_answered(struct ctx *c, int kind, const wsi_loaded *k)
{
	char ref[160];
	wsi_error e = {0};
	wsi_sale_reference(k->store, k->id, ref, sizeof ref);
	if (wsi_sent_end(c->db_path, kind, ref, &e))
		wsi_warn("%s", e.msg);
}

int read_order(sqlite3 *db, const wsi_loaded *k, struct order *o, wsi_error *e)
{
	memset(o, 0, sizeof *o);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, rev, recheck, mapped, coalesce(sage_order,''),"
					      " sage_receipt IS NOT NULL, content_hash, " WSI_STORED_COLS
					      " FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		wsi_order_from_row(&o->now, k->store, k->id, st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 3);
		o->mapped = wsi_mapped_read(m);
		snprintf(o->sage_order, sizeof o->sage_order, "%s", sqlite3_column_text(st, 4));
		o->has_receipt = sqlite3_column_int(st, 5);
		snprintf(o->content_hash, sizeof o->content_hash, "%s", sqlite3_column_text(st, 6));
		o->canon = wsi_order_stored_row(st, 7);
		/* what is posted is what this wsi derives from the raw order: its hash is the posted one */
		const char *stored = (const char *)sqlite3_column_text(st, 9);
		if ((!stored || !*stored) && json_object_size(o->canon))
			wsi_order_content_hash(o->canon, o->content_hash);
		o->canon = wsi_order_money_set(o->canon, o->mapped); /* (after the hash: staging hashes the shop's) */
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot read an order");
	return 1;
}

void free_order(struct order *o)
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
int post_receipt(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_loaded *k, const struct order *o, int looked_up)
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
	if (!body || journal_sent(c, WSI_SENT_RECEIPT, k, &e)) {
		free(body);
		wsi_order_receipt_done(db, k, NULL, NULL, &(wsi_error){0});
		halt(c, &e);
		return -1;
	}
	json_t *made = NULL;
	int out = wsi_sage_post(s, "AR/ARReceiptAndAdjustmentBatches", body, "BatchNumber", &made, &e);
	free(body);
	if (out != WSI_SAGE_UNKNOWN)
		journal_answered(c, WSI_SENT_RECEIPT, k);
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

/* What a body sent that its invoice must show: the tax per authority (header ExcludedTaxAmountN)
 * and the prepayment (PaymentInCustomerCurrency), as decimal text: {"tax": [5], "prepay"}. */
static json_t *what_was_sent(const char *body, const json_t *mapped)
{
	wsi_error e = {0};
	json_t *b = wsi_json_parse_lazy(body, strlen(body), "OrderDetails", WSI_LAZY_DROP), *tax = json_array();
	if (!b)
		b = wsi_json_parse(body, strlen(body), "the order body", &e);
	for (int a = 1; a <= 5; a++) {
		char key[32], buf[40];
		wsi_dec d = {0};
		snprintf(key, sizeof key, "ExcludedTaxAmount%d", a);
		wsi_jdec(b, key, (wsi_dec){0}, &d);
		json_array_append_new(tax, json_string(wsi_dec_fmt(d, 2, buf, sizeof buf)));
	}
	char buf[40];
	wsi_dec pre = {0};
	wsi_jdec(b, "PaymentInCustomerCurrency", (wsi_dec){0}, &pre);
	/* tax = sage: Sage calculates; its invoice must show what validation predicted */
	const json_t *plan = json_object_get(mapped, "tax");
	int calculated = wsi_sale_tax_calculated(mapped);
	if (calculated && json_array_size(json_object_get(plan, "predicted")) == 5) {
		json_decref(tax);
		tax = json_deep_copy(json_object_get(plan, "predicted"));
	}
	json_t *out = json_pack("{so ss sb}", "tax", tax, "prepay", wsi_dec_fmt(pre, 2, buf, sizeof buf), "calculated",
				calculated);
	json_decref(b);
	return out;
}

/* Sage answered 201: record it, queue its read-back, make the receipt (receipt mode). */
static int created(struct ctx *c, sqlite3 *db, wsi_sage *s, struct order *o, json_t *made, json_t *sent)
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
	print_posted(c, k, n.order);
	/* read back after the run: its invoice must be what the customer was charged, and what was sent */
	json_t *rb = json_pack("{ss ss ss ss}", "store", k->store, "id", k->id, "order", n.order, "total",
			       wsi_jstr(json_object_get(o->canon, "totals"), "total") ? wsi_jstr(json_object_get(o->canon, "totals"), "total") : "0");
	json_object_update(rb, sent);
	pthread_mutex_lock(&c->lock);
	json_array_append_new(c->readback, rb);
	c->posted++;
	wsi_progress(wsi_state_name(WSI_POSTED), c->posted + c->failed, (long)c->list.n);
	pthread_mutex_unlock(&c->lock);
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
			rc = wsi_order_move1(db, &o.now, WSI_FAILED, "cannot be expressed in Sage", wsi_sale_refusal(), e.msg, &e);
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
	/* the body made, what follows needs the order's header only: its lines go (an order of
	 * 100,000 lines is not held three times while Sage saves it) */
	size_t lines = json_array_size(json_object_get(o.canon, "lines"));
	json_array_clear(json_object_get(o.canon, "lines"));
	json_array_clear(json_object_get(o.canon, "taxes"));
	json_array_clear(json_object_get(o.mapped, "items"));
#ifdef __GLIBC__
	if (lines > 1000)
		malloc_trim(0); /* and given back: Sage's answer and the state's write need room */
#endif
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
	if (journal_sent(c, WSI_SENT_ORDER, k, &e)) {
		wsi_error e2 = {0};
		wsi_order_move1(db, &o.now, WSI_VALID, "not sent: the journal of requests sent could not be written", NULL, NULL, &e2);
		halt(c, &e);
		free(body);
		free_order(&o);
		return -1;
	}
	json_t *made = NULL, *sent = what_was_sent(body, o.mapped);
	int out = wsi_sage_post(s, "OE/OEOrders", body, "OrderNumber", &made, &e);
	free(body);
	rc = 0;
	if (out == WSI_SAGE_CREATED) {
		rc = created(c, db, s, &o, made, sent);
		json_decref(made);
		journal_answered(c, WSI_SENT_ORDER, k);
	} else if (out == WSI_SAGE_REFUSED) {
		wsi_err("%s:%s: Sage refused it: %s", k->store, k->id, e.msg);
		journal_answered(c, WSI_SENT_ORDER, k);
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
		journal_answered(c, WSI_SENT_ORDER, k);
		halt(c, &e);
		rc = -1;
	}
	json_decref(sent);
	free_order(&o);
	return rc;
}

static void post_loop(struct ctx *c, sqlite3 *db, wsi_sage *s)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		size_t i = c->next++;
		int stop = c->stop;
		char ref[160];
		json_t *f = NULL;
		if (i < c->list.n) {
			wsi_sale_reference(c->list.o[i].store, c->list.o[i].id, ref, sizeof ref);
			f = json_incref(json_object_get(c->found, ref));
		}
		pthread_mutex_unlock(&c->lock);
		if (stop || i >= c->list.n) {
			json_decref(f);
			break;
		}
		if (!f) {
			post_one(c, db, s, &c->list.o[i]);
			continue;
		}
		/* Sage has it already: recorded as posted, never posted again */
		wsi_error e = {0};
		wsi_loaded k = c->list.o[i];
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
			else if (r == 1)
				print_posted(c, &k, nb.order);
		}
		json_decref(f);
	}
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
void pool(struct ctx *c, wsi_sage *sage, wsi_sage **extra, long jobs, void *(*fn)(void *))
{
	pthread_t th[MAX_JOBS];
	struct worker w[MAX_JOBS];
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

void send_all(struct ctx *c, sqlite3 *db, wsi_sage *sage, wsi_sage **extra, long jobs)
{
	c->next = 0;
	if (jobs > 1 && c->list.n > 1)
		pool(c, sage, extra, jobs, post_work);
	else
		post_loop(c, db, sage);
}
