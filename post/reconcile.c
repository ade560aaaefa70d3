/* reconcile.c - recovery, the way a database recovers when it opens: what an earlier run left
 * unknown (in posting, a receipt claimed) or wsi-hwm set flagged is decided by what Sage has. */
#include "post.h"
#include "db.h"
#include "json.h"
#include "sale.h"
#include "timeutil.h"
#include <stdlib.h>
#include <string.h>

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
		if (rc == 1 && !posted_before && wsi_order_list_add(&c->list, k))
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
int reconcile(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	wsi_order_list r = {0};
	char cutoff[32];
	wsi_time_fmt(wsi_now() - c->reconcile_after, cutoff, sizeof cutoff);
	json_t *young = json_object();
	/* Loaded before Sage is asked: a move made after the answer by another run wins over it.
	 * young: sent lately, or flagged by a wsi-hwm set done lately (after a restore of our database, a
	 * run killed just before may have left a POST still saving in Sage that nothing here remembers) */
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, (state=?2 AND changed_at > ?1) OR"
					      " (recheck<>0 AND EXISTS (SELECT 1 FROM rechecks x WHERE x.store=o.store AND"
					      " x.at > ?1)) FROM orders o WHERE state=?2 OR recheck<>0", e);
	if (!st) {
		json_decref(young);
		return -1;
	}
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, wsi_state_name(WSI_POSTING), -1, SQLITE_STATIC);
	int rc = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		const char *store = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
		wsi_order_from_row(&k, store, id, st, 2);
		if (wsi_order_list_add(&r, &k))
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
		found = find_in_sage(s, c->cfg, r.o, r.n, 0, e);
		receipts = found && receipt_mode ? find_in_sage(s, c->cfg, r.o, r.n, 1, e) : NULL;
		if (!found || (receipt_mode && !receipts))
			rc = -1;
	}
	long back = 0, known = 0;
	for (size_t i = 0; i < r.n && !rc; i++) {
		char ref[160];
		wsi_sale_reference(r.o[i].store, r.o[i].id, ref, sizeof ref);
		rc = reconcile_one(c, db, &r.o[i], json_object_get(found, ref), receipts, json_object_get(young, ref) != NULL,
				   &known, &back, e);
	}
	if (r.n)
		wsi_info("reconciled %zu: %ld found in Sage, %ld to post", r.n, known, back);
	json_decref(found);
	json_decref(receipts);
	json_decref(young);
	wsi_order_list_free(&r);
	return rc;
}

/* Posted orders whose prepayment receipt is still to be made (receipt mode). A receipt claimed by a
 * run that got no answer is decided, like a POST, only after [sage] reconcile_after. */
int pending_receipts(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	if (strcmp(wsi_sale_prepayment(c->cfg), "receipt"))
		return 0;
	wsi_order_list r = {0};
	char cutoff[32];
	wsi_time_fmt(wsi_now() - c->reconcile_after, cutoff, sizeof cutoff);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, coalesce(receipt_claimed > ?1, 0)"
					      " FROM orders WHERE state=?2 AND sage_receipt IS NULL"
					      " AND json_extract(canonical,'$.paid')", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, wsi_state_name(WSI_POSTED), -1, SQLITE_STATIC);
	json_t *young = json_object();
	while (sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		wsi_order_from_row(&k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), st, 2);
		if (wsi_order_list_add(&r, &k)) {
			sqlite3_finalize(st);
			json_decref(young);
			wsi_order_list_free(&r);
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		}
		if (sqlite3_column_int(st, 5)) {
			char ref[160];
			wsi_sale_reference(k.store, k.id, ref, sizeof ref);
			json_object_set_new(young, ref, json_true());
		}
	}
	sqlite3_finalize(st);
	json_t *found = r.n ? find_in_sage(s, c->cfg, r.o, r.n, 1, e) : NULL;
	int rc = r.n && !found ? -1 : 0;
	for (size_t i = 0; i < r.n && !rc && !c->stop; i++) {
		char ref[160];
		struct order o;
		wsi_sale_reference(r.o[i].store, r.o[i].id, ref, sizeof ref);
		json_t *f = json_object_get(found, ref);
		if (f) {
			rc = wsi_order_receipt_done(db, &r.o[i], wsi_jstr(f, "receipt"), "reconciled: its prepayment receipt is in Sage", e);
			continue;
		}
		if (json_object_get(young, ref)) {
			wsi_err("%s: its prepayment receipt was sent less than %ld s ago with no answer, and is not in Sage "
				"yet: decided on a run after that", ref, c->reconcile_after);
			c->undecided++;
			continue;
		}
		if (read_order(db, &r.o[i], &o, e) <= 0) {
			rc = -1;
			break;
		}
		rc = post_receipt(c, db, s, &r.o[i], &o, 1) && c->stop ? -1 : 0;
		free_order(&o);
	}
	json_decref(found);
	json_decref(young);
	wsi_order_list_free(&r);
	return rc;
}
