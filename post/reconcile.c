/* reconcile.c - recovery, the way a database recovers when it opens: what an earlier run left
 * unknown (in posting, a receipt claimed) or wsi-hwm set flagged is decided by what Sage has. */
#include "order.h"
#include "post.h"
#include "db.h"
#include "json.h"
#include "sale.h"
#include "sent.h"
#include "timeutil.h"
#include <stdlib.h>
#include <string.h>

/* ---- reconciling what earlier runs left ---- */

/* When a request of (kind, ref) was sent with no answer yet: the journal beside the database, or the
 * database's own posting state (changed_at, when given); 0 when nothing is in flight. */
static int64_t sent_at(const struct ctx *c, int kind, const char *ref, const char *changed_at)
{
	int64_t t = wsi_sent_since(c->sent, kind, ref), db = 0;
	if (changed_at && wsi_time_parse(changed_at, &db) == 0 && db > t)
		t = db;
	return t;
}

/* Sent less than reconcile_after ago with no answer: Sage may still be saving it. Said, held back. */
int still_in_flight(struct ctx *c, const char *ref, int64_t at, const char *what)
{
	if (!at || at <= wsi_now() - c->reconcile_after)
		return 0;
	char sent[32], after[32];
	wsi_warn("%s: %ssent to Sage at %s with no answer, and not in Sage yet: Sage may still be saving it; "
		 "decided on a run after %s", ref, what, wsi_time_fmt(at, sent, sizeof sent),
		 wsi_time_fmt(at + c->reconcile_after, after, sizeof after));
	pthread_mutex_lock(&c->lock);
	json_object_set_new(c->held_back, ref, json_true());
	c->undecided++;
	pthread_mutex_unlock(&c->lock);
	return 1;
}

/* A request decided by what Sage has: its journal entry is closed (left open, it only makes a
 * later restore wait reconcile_after for it). */
void sent_done(struct ctx *c, int kind, const char *ref)
{
	wsi_error e = {0};
	if (wsi_sent_since(c->sent, kind, ref) && wsi_sent_end(c->db_path, kind, ref, &e))
		wsi_warn("%s", e.msg);
}

/* One order reconciled, in a transaction of its own: f is what Sage has of it (NULL: nothing). */
static int reconcile_one(struct ctx *c, sqlite3 *db, wsi_loaded *k, json_t *f, json_t *receipts, const char *changed_at,
			 long *known, long *back, wsi_error *e)
{
	char ref[160];
	wsi_sale_reference(k->store, k->id, ref, sizeof ref);
	int receipt_mode = !strcmp(wsi_sale_prepayment(c->cfg), "receipt");
	int posted_before = k->state == WSI_POSTED, rc = 1, in_flight = 0;
	if (!f && (k->state == WSI_POSTING || k->state == WSI_POSTED || k->state == WSI_VALID) &&
	    still_in_flight(c, ref, sent_at(c, WSI_SENT_ORDER, ref, changed_at), ""))
		return 0; /* not posted this run; its flag stays */
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
		rc = wsi_recheck_tally(db, k, WSI_RECHECK_FOUND, e) ? -1 : wsi_order_posted(db, k, &ids, NULL, why, e);
		/* not to be posted here, but Sage has it: a person must look (a credit note?) */
		if (rc == 1 && keep)
			rc = wsi_order_move(db, k, WSI_CONFLICT,
					    "Sage has it, but the store no longer wants it posted: a person must look", e);
		(*known)++;
		in_flight = 1;
	} else if (k->state == WSI_POSTING || posted_before) {
		/* Never saved, or lost in a restore of Sage: it goes (again). Posted long ago, it is mapped and
		 * checked again with today's mappings and Sage; sent just now and never saved, it was checked
		 * moments ago and goes at once. */
		rc = posted_before && wsi_recheck_tally(db, k, WSI_RECHECK_AGAIN, e) ? -1
		     : wsi_order_forget_sage(db, k, posted_before ? WSI_STAGED : WSI_VALID,
					     posted_before ? "reconciled: Sage no longer has it (restored?): to be posted again"
							   : "reconciled: Sage never saved it", e);
		if (rc == 1 && !posted_before && wsi_order_list_add(&c->list, k))
			rc = wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		(*back)++;
		in_flight = 1;
	} else {
		rc = wsi_recheck_tally(db, k, WSI_RECHECK_UNPOSTED, e) || wsi_order_recheck_done(db, k, e) ? -1 : 1;
	}
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	if (rc == 0)
		moved_meanwhile(c, k);
	else if (in_flight)
		sent_done(c, WSI_SENT_ORDER, ref);
	if (rc == 1 && f && !posted_before && k->state == WSI_POSTED)
		print_posted(c, k, wsi_jstr(f, "order"));
	return 0;
}

/* What earlier runs left in posting (a POST with no answer) and what wsi-hwm set flagged, decided by
 * what Sage has. A POST that timed out may still be running inside Sage: "not found" only means
 * "never saved" once it was sent longer ago than [sage] reconcile_after. */
int reconcile(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	wsi_order_list r = {0};
	json_t *changed = json_object();
	/* Loaded before Sage is asked: a move made after the answer by another run wins over it. */
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, CASE WHEN state=?1 THEN changed_at END"
					      " FROM orders WHERE state=?1 OR recheck<>0", e);
	if (!st) {
		json_decref(changed);
		return -1;
	}
	sqlite3_bind_text(st, 1, wsi_state_name(WSI_POSTING), -1, SQLITE_STATIC);
	int rc = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		const char *store = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
		wsi_order_from_row(&k, store, id, st, 2);
		if (wsi_order_list_add(&r, &k))
			rc = wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			char ref[160];
			wsi_sale_reference(store, id, ref, sizeof ref);
			json_object_set_new(changed, ref, json_string((const char *)sqlite3_column_text(st, 5)));
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
		rc = reconcile_one(c, db, &r.o[i], json_object_get(found, ref), receipts,
				   json_string_value(json_object_get(changed, ref)), &known, &back, e);
	}
	if (r.n)
		wsi_info("reconciled %zu: %ld found in Sage, %ld to post", r.n, known, back);
	c->reconciled += (long)r.n;
	c->reconciled_found += known;
	c->reconciled_back += back;
	json_decref(found);
	json_decref(receipts);
	json_decref(changed);
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
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT store, id, state, rev, recheck, receipt_claimed"
					      " FROM orders WHERE state=?1 AND sage_receipt IS NULL"
					      " AND json_extract(" WSI_CANONICAL_SQL ",'$.paid')", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, wsi_state_name(WSI_POSTED), -1, SQLITE_STATIC);
	json_t *claimed = json_object();
	while (sqlite3_step(st) == SQLITE_ROW) {
		wsi_loaded k;
		wsi_order_from_row(&k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), st, 2);
		if (wsi_order_list_add(&r, &k)) {
			sqlite3_finalize(st);
			json_decref(claimed);
			wsi_order_list_free(&r);
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		}
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			char ref[160];
			wsi_sale_reference(k.store, k.id, ref, sizeof ref);
			json_object_set_new(claimed, ref, json_string((const char *)sqlite3_column_text(st, 5)));
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
			if (!rc)
				sent_done(c, WSI_SENT_RECEIPT, ref);
			continue;
		}
		if (still_in_flight(c, ref, sent_at(c, WSI_SENT_RECEIPT, ref, json_string_value(json_object_get(claimed, ref))),
				    "its prepayment receipt "))
			continue;
		if (read_order(db, &r.o[i], &o, e) <= 0) {
			rc = -1;
			break;
		}
		rc = post_receipt(c, db, s, &r.o[i], &o, 1) && c->stop ? -1 : 0;
		free_order(&o);
	}
	json_decref(found);
	json_decref(claimed);
	wsi_order_list_free(&r);
	return rc;
}
