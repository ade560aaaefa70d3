/* orders.c - the order's life: states, moves, and every write of an order's state. */
#include "orders.h"
#include "db.h"
#include "timeutil.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[WSI_NSTATES] = {
	[WSI_STAGED] = WSI_NAME_STAGED, [WSI_MAPPED] = WSI_NAME_MAPPED, [WSI_VALID] = WSI_NAME_VALID,
	[WSI_INVALID] = WSI_NAME_INVALID, [WSI_POSTING] = WSI_NAME_POSTING, [WSI_POSTED] = WSI_NAME_POSTED,
	[WSI_FAILED] = WSI_NAME_FAILED, [WSI_HELD] = WSI_NAME_HELD, [WSI_SKIPPED] = WSI_NAME_SKIPPED,
	[WSI_CONFLICT] = WSI_NAME_CONFLICT};

#define B(s) (1u << (s))
/* The moves of wsi(7)'s state diagram: from a state (row) to the states in its set. */
static const unsigned moves[WSI_NSTATES] = {
	/* stage: changed, cancelled, unreadable; remap; a person holds it */
	[WSI_STAGED] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_MAPPED) | B(WSI_HELD),
	/* validate judges; Sage has it already; a new mapping or a store change sends it back */
	[WSI_MAPPED] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_MAPPED) | B(WSI_VALID) |
		       B(WSI_POSTED) | B(WSI_HELD),
	/* and post claims it (posting), or finds Sage cannot express it (failed) */
	[WSI_VALID] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_MAPPED) | B(WSI_VALID) |
		      B(WSI_POSTED) | B(WSI_HELD) | B(WSI_POSTING) | B(WSI_FAILED),
	[WSI_INVALID] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_MAPPED) | B(WSI_VALID) |
			B(WSI_POSTED) | B(WSI_HELD),
	[WSI_FAILED] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_MAPPED) | B(WSI_VALID) |
		       B(WSI_POSTED) | B(WSI_HELD),
	/* Sage answered (posted, failed), surely never saved it (valid), or the store changed it */
	[WSI_POSTING] = B(WSI_POSTED) | B(WSI_FAILED) | B(WSI_VALID) | B(WSI_CONFLICT),
	/* changed in the store after posting; lost in a restore of Sage (staged); its receipt made */
	[WSI_POSTED] = B(WSI_POSTED) | B(WSI_CONFLICT) | B(WSI_STAGED),
	[WSI_HELD] = B(WSI_STAGED) | B(WSI_POSTED),
	[WSI_SKIPPED] = B(WSI_STAGED) | B(WSI_SKIPPED) | B(WSI_INVALID) | B(WSI_POSTED),
	/* reconcile finds a conflict's sale in Sage: its numbers recorded, then a conflict again */
	[WSI_CONFLICT] = B(WSI_POSTED) | B(WSI_CONFLICT),
};

const char *wsi_state_name(int s)
{
	return s >= 0 && s < WSI_NSTATES ? names[s] : "none";
}

int wsi_state_parse(const char *name)
{
	for (int s = 0; name && s < WSI_NSTATES; s++)
		if (!strcmp(names[s], name))
			return s;
	return WSI_NO_STATE;
}

char *wsi_states_sql(unsigned mask, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = 0;
	for (int s = 0; s < WSI_NSTATES; s++)
		if (mask & WSI_S(s))
			o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s'%s'", o ? "," : "", names[s]);
	return buf;
}

char *wsi_states_order_sql(char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "CASE state");
	for (int s = 0; s < WSI_NSTATES; s++)
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0, " WHEN '%s' THEN %d", names[s], s);
	snprintf(buf + (o < n ? o : n - 1), o < n ? n - o : 1, " ELSE %d END", WSI_NSTATES);
	return buf;
}

int wsi_move_allowed(int from, int to)
{
	if (to < 0 || to >= WSI_NSTATES)
		return 0;
	if (from == WSI_NO_STATE) /* a new order: downloaded, cancelled, or unreadable */
		return to == WSI_STAGED || to == WSI_SKIPPED || to == WSI_INVALID;
	return from >= 0 && from < WSI_NSTATES && (moves[from] & B(to));
}

int wsi_order_list_add(wsi_order_list *l, const wsi_loaded *o)
{
	char key[WSI_STORE_SIZE + WSI_ID_SIZE];
	snprintf(key, sizeof key, "%s:%s", o->store, o->id);
	if (!l->seen && !(l->seen = json_object()))
		return -1;
	json_t *at = json_object_get(l->seen, key);
	if (at) { /* listed already: the newer load wins (reconcile moved it since) */
		l->o[json_integer_value(at)] = *o;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		wsi_loaded *more = realloc(l->o, cap * sizeof *more);
		if (!more)
			return -1;
		l->o = more;
		l->cap = cap;
	}
	l->o[l->n] = *o;
	return json_object_set_new(l->seen, key, json_integer((json_int_t)l->n++));
}

void wsi_order_list_free(wsi_order_list *l)
{
	free(l->o);
	json_decref(l->seen);
	memset(l, 0, sizeof *l);
}

void wsi_order_from_row(wsi_loaded *o, const char *store, const char *id, sqlite3_stmt *st, int col)
{
	snprintf(o->store, sizeof o->store, "%s", store);
	snprintf(o->id, sizeof o->id, "%s", id);
	o->state = wsi_state_parse((const char *)sqlite3_column_text(st, col));
	o->rev = sqlite3_column_int64(st, col + 1);
	o->recheck = sqlite3_column_int64(st, col + 2);
}

int wsi_order_load(sqlite3 *db, const char *store, const char *id, wsi_loaded *o, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, rev, recheck FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		wsi_order_from_row(o, store, id, st, 0);
	else {
		snprintf(o->store, sizeof o->store, "%s", store);
		snprintf(o->id, sizeof o->id, "%s", id);
		o->state = WSI_NO_STATE;
		o->rev = o->recheck = 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot read an order");
	return rc == SQLITE_ROW;
}

/* The compare-and-set every move goes through: `set` assigns more columns from ?7.. (vals). */
static int cas(sqlite3 *db, wsi_loaded *o, int to, const char *set, const char *const *vals, int nvals,
	       const char *why, wsi_error *e)
{
	if (!wsi_move_allowed(o->state, to))
		return wsi_fail(e, WSI_EXIT_LOCAL, "%s:%s: %s -> %s is not a move of the order's life (a bug in wsi)",
				o->store, o->id, wsi_state_name(o->state), wsi_state_name(to));
	char sql[800], now[32];
	snprintf(sql, sizeof sql,
		 "UPDATE orders SET state=?1, rev=rev+1, changed_at=?2%s%s WHERE store=?3 AND id=?4 AND state=?5 AND rev=?6",
		 set ? ", " : "", set ? set : "");
	sqlite3_stmt *st = wsi_db_prepare(db, sql, e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, wsi_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, wsi_time_fmt(wsi_now(), now, sizeof now), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, wsi_state_name(o->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, o->rev);
	for (int i = 0; i < nvals; i++)
		if (vals[i])
			sqlite3_bind_text(st, 7 + i, vals[i], -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot change an order's state");
	if (sqlite3_changes(db) != 1) {
		wsi_loaded now_is;
		if (wsi_order_load(db, o->store, o->id, &now_is, e) < 0)
			return -1;
		o->state = now_is.state;
		o->rev = now_is.rev;
		return 0;
	}
	int from = o->state;
	o->state = to;
	o->rev++;
	if (from == to)
		return 1;
	return wsi_event(db, o->store, o->id, wsi_state_name(from), wsi_state_name(to), why, e) ? -1 : 1;
}

int wsi_order_move(sqlite3 *db, wsi_loaded *o, int to, const char *why, wsi_error *e)
{
	return cas(db, o, to, NULL, NULL, 0, why, e);
}

int wsi_order_judge(sqlite3 *db, wsi_loaded *o, int to, const char *why, const char *const *codes,
		    const char *const *subjects, const char *const *messages, int n, wsi_error *e)
{
	int rc = cas(db, o, to, NULL, NULL, 0, why, e);
	if (rc == 1 && wsi_set_reasons(db, o->store, o->id, codes, subjects, messages, n, e))
		return -1;
	return rc;
}

int wsi_order_move1(sqlite3 *db, wsi_loaded *o, int to, const char *why, const char *code, const char *message,
		    wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	const char *codes[1] = {code}, *msgs[1] = {message};
	int rc = code ? wsi_order_judge(db, o, to, why, codes, NULL, msgs, 1, e) : wsi_order_move(db, o, to, why, e);
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return rc;
}

int wsi_order_map(sqlite3 *db, wsi_loaded *o, const char *mapped, wsi_error *e)
{
	const char *vals[1] = {mapped};
	return cas(db, o, WSI_MAPPED, "mapped=?7", vals, 1, "mapped", e);
}

/* Sage's numbers (?7..?10): an empty one keeps what is recorded, unless ?12 says they are all Sage has. */
#define SAGE_ID(col, n) col "=CASE WHEN ?12 THEN nullif(?" #n ",'') ELSE coalesce(nullif(?" #n ",'')," col ") END"
#define SAGE_IDS_SET \
	SAGE_ID("sage_order", 7) ", " SAGE_ID("sage_shipment", 8) ", " SAGE_ID("sage_invoice", 9) ", " \
	SAGE_ID("sage_receipt", 10) ", receipt_claimed=NULL"

int wsi_order_posted(sqlite3 *db, wsi_loaded *o, const wsi_sage_ids *ids, const char *posted_hash,
		     const char *why, wsi_error *e)
{
	const char *vals[6] = {ids->order ? ids->order : "", ids->shipment ? ids->shipment : "",
			       ids->invoice ? ids->invoice : "", ids->receipt ? ids->receipt : "", posted_hash,
			       ids->replace ? "1" : "0"};
	int rc = cas(db, o, WSI_POSTED,
		     SAGE_IDS_SET ", posted_hash=coalesce(posted_hash,?11,content_hash), posted_at=coalesce(posted_at,?2),"
		     " recheck=0", vals, 6, why, e);
	if (rc == 1)
		return wsi_set_reasons(db, o->store, o->id, NULL, NULL, NULL, 0, e) ? -1 : 1;
	if (rc != 0 || o->state != WSI_CONFLICT || !ids->order || !*ids->order)
		return rc;
	/* Sage made it while the store changed it: what Sage did is a fact to keep, for a person */
	char text[300];
	snprintf(text, sizeof text, "Sage created it as order %s while it changed in the store: a person must look "
		 "(a credit note?)", ids->order);
	rc = cas(db, o, WSI_CONFLICT, SAGE_IDS_SET ", posted_hash=coalesce(posted_hash,?11), posted_at=coalesce(posted_at,?2)",
		 vals, 6, text, e);
	if (rc == 1 && wsi_event(db, o->store, o->id, WSI_NAME_CONFLICT, WSI_NAME_CONFLICT, text, e))
		return -1;
	return rc == 1 ? 2 : rc;
}

int wsi_order_posted1(sqlite3 *db, wsi_loaded *o, const wsi_sage_ids *ids, const char *posted_hash,
		      const char *why, wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	int rc = wsi_order_posted(db, o, ids, posted_hash, why, e);
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return rc;
}

int wsi_order_settle(sqlite3 *db, wsi_loaded *o, const char *why, wsi_error *e)
{
	int rc = cas(db, o, WSI_POSTED, "posted_hash=content_hash, posted_at=coalesce(posted_at,?2)", NULL, 0, why, e);
	if (rc == 1 && wsi_set_reasons(db, o->store, o->id, NULL, NULL, NULL, 0, e))
		return -1;
	return rc;
}

int wsi_order_forget_sage(sqlite3 *db, wsi_loaded *o, int to, const char *why, wsi_error *e)
{
	return cas(db, o, to, "recheck=0, posted_hash=NULL, posted_at=NULL, sage_order=NULL, sage_shipment=NULL,"
			      " sage_invoice=NULL, sage_receipt=NULL, receipt_claimed=NULL", NULL, 0, why, e);
}

int wsi_recheck_tally(sqlite3 *db, const wsi_loaded *o, enum wsi_recheck_outcome what, wsi_error *e)
{
	static const char *const sql[] = {"UPDATE rechecks SET found=found+1 WHERE seq=?",
					  "UPDATE rechecks SET again=again+1 WHERE seq=?",
					  "UPDATE rechecks SET unposted=unposted+1 WHERE seq=?"};
	if (!o->recheck)
		return 0;
	sqlite3_stmt *st = wsi_db_prepare(db, sql[what], e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, o->recheck);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot count a recheck");
}

int wsi_order_recheck_done(sqlite3 *db, const wsi_loaded *o, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "UPDATE orders SET recheck=0 WHERE store=? AND id=? AND recheck=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, o->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, o->recheck);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot clear an order's recheck");
}

int wsi_orders_flag_recheck(sqlite3 *db, const char *store, const char *kind, const char *since, const char *by,
			    long *count, wsi_error *e)
{
	char now[32];
	sqlite3_stmt *st = wsi_db_prepare(db, "INSERT INTO rechecks(store,kind,since,at,by,orders) VALUES(?,?,?,?,?,0)", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, since ? since : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, wsi_time_fmt(wsi_now(), now, sizeof now), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot record the recheck");
	sqlite3_int64 seq = sqlite3_last_insert_rowid(db);
	/* the flag is the rechecks row: a reconcile clears only the flag it checked */
	if (!since)
		st = wsi_db_prepare(db, "UPDATE orders SET recheck=?3 WHERE store=?1", e);
	else if (!strcmp(kind, "time"))
		st = wsi_db_prepare(db, "UPDATE orders SET recheck=?3 WHERE store=?1 AND"
					" (modified >= ?2 OR staged_at >= ?2 OR posted_at >= ?2)", e);
	else
		st = wsi_db_prepare(db, "UPDATE orders SET recheck=?3 WHERE store=?1 AND"
					" (length(id) > length(?2) OR (length(id) = length(?2) AND id > ?2))", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	if (since)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot flag orders to check again");
	*count = sqlite3_changes(db);
	st = wsi_db_prepare(db, "UPDATE rechecks SET orders=? WHERE seq=?", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, *count);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot record the recheck");
}

int wsi_order_claim_receipt(sqlite3 *db, wsi_loaded *o, wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	sqlite3_stmt *st = wsi_db_prepare(db, "UPDATE orders SET receipt_claimed=?3, rev=rev+1 WHERE store=?1 AND id=?2"
					      " AND state='" WSI_NAME_POSTED "' AND rev=?4 AND sage_receipt IS NULL", e);
	char now[32];
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, o->store, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, wsi_time_fmt(wsi_now(), now, sizeof now), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, o->rev);
		rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) == 1 : wsi_db_fail(db, e, "cannot claim a receipt");
		sqlite3_finalize(st);
	}
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	if (rc == 1)
		o->rev++;
	return rc;
}

int wsi_order_receipt_done(sqlite3 *db, wsi_loaded *o, const char *number, const char *why, wsi_error *e)
{
	if (wsi_db_begin(db, e))
		return -1;
	sqlite3_stmt *st = wsi_db_prepare(db, number ? "UPDATE orders SET sage_receipt=?3, receipt_claimed=NULL, rev=rev+1"
							" WHERE store=?1 AND id=?2 AND sage_receipt IS NULL"
						      : "UPDATE orders SET receipt_claimed=NULL, rev=rev+1 WHERE store=?1 AND id=?2"
							" AND sage_receipt IS NULL", e);
	int rc = st ? 0 : -1;
	if (st) {
		sqlite3_bind_text(st, 1, o->store, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
		if (number)
			sqlite3_bind_text(st, 3, number, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = wsi_db_fail(db, e, "cannot record a receipt");
		else if (sqlite3_changes(db) == 1) {
			o->rev++;
			rc = number ? wsi_event(db, o->store, o->id, WSI_NAME_POSTED, WSI_NAME_POSTED, why, e) : 0;
		}
		sqlite3_finalize(st);
	}
	if (rc < 0 || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return 0;
}
