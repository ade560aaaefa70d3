/* staging.c - the downloaded order written whole, and what becomes of a re-downloaded order. */
#include "staging.h"
#include "db.h"
#include "json.h"
#include "order.h"
#include "orders.h"
#include "timeutil.h"
#include <stdlib.h>
#include <string.h>

struct wsi_staging {
	sqlite3 *db;
	sqlite3_stmt *sel, *ins, *upd, *del_lines, *ins_line, *del_reasons, *ins_reason;
};

wsi_staging *wsi_staging_open(sqlite3 *db, wsi_error *e)
{
	wsi_staging *s = calloc(1, sizeof *s);
	if (!s) {
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	s->db = db;
	struct { sqlite3_stmt **st; const char *sql; } q[] = {
		{&s->sel, "SELECT raw_hash, state, coalesce(posted_hash,'') FROM orders WHERE store=? AND id=?"},
		/* A new row inside the window of a recent wsi-hwm set is checked against Sage too:
		 * after a restore of our database Sage may already have it (DESIGN guarantee 4). */
		{&s->ins, "INSERT INTO orders(store,id,source,modified,raw,canonical,raw_hash,content_hash,"
			  "store_status,state,staged_at,changed_at,recheck) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?11,"
			  " coalesce((SELECT max(seq) FROM rechecks WHERE store=?1 AND at >= ?12 AND"
			  " (kind='id' OR since='' OR since <= ?4)), 0))"},
		{&s->upd, "UPDATE orders SET source=?3, modified=?4, raw=?5, canonical=?6, raw_hash=?7,"
			  " content_hash=?8, store_status=?9, state=?10, changed_at=?11, rev=rev+1 WHERE store=?1 AND id=?2"},
		{&s->del_lines, "DELETE FROM order_lines WHERE store=? AND id=?"},
		{&s->ins_line, "INSERT INTO order_lines(store,id,line,sku,name,quantity,unit_price,total,tax)"
			       " VALUES(?,?,?,?,?,?,?,?,?)"},
		{&s->del_reasons, "DELETE FROM reasons WHERE store=? AND id=?"},
		{&s->ins_reason, "INSERT INTO reasons(store,id,code,message) VALUES(?,?,?,?)"}};
	for (size_t i = 0; i < sizeof q / sizeof *q; i++)
		if (!(*q[i].st = wsi_db_prepare(db, q[i].sql, e))) {
			wsi_staging_close(s);
			return NULL;
		}
	return s;
}

void wsi_staging_close(wsi_staging *s)
{
	if (!s)
		return;
	sqlite3_stmt *all[] = {s->sel, s->ins, s->upd, s->del_lines, s->ins_line, s->del_reasons, s->ins_reason};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(all[i]);
	free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int step_done(wsi_staging *s, sqlite3_stmt *st, const char *what, wsi_error *e)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(s->db, e, what);
}

int wsi_staging_find(wsi_staging *s, const char *store, const char *id, wsi_staged_was *was, wsi_error *e)
{
	memset(was, 0, sizeof *was);
	was->state = WSI_NO_STATE;
	bind_text(s->sel, 1, store);
	bind_text(s->sel, 2, id);
	int rc = sqlite3_step(s->sel);
	if (rc == SQLITE_ROW) {
		was->found = 1;
		snprintf(was->raw_hash, sizeof was->raw_hash, "%s", (const char *)sqlite3_column_text(s->sel, 0));
		was->state = wsi_state_parse((const char *)sqlite3_column_text(s->sel, 1));
		snprintf(was->posted_hash, sizeof was->posted_hash, "%s", (const char *)sqlite3_column_text(s->sel, 2));
	}
	sqlite3_reset(s->sel);
	sqlite3_clear_bindings(s->sel);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : wsi_db_fail(s->db, e, "cannot look an order up");
}

/* What becomes of a downloaded order, by the state it was in (wsi(7), THE ORDER'S LIFE). */
static int next_state(const wsi_staged_was *was, const wsi_download *d, const char *content_hash, const char **why)
{
	int old = was->found ? was->state : WSI_NO_STATE;
	if (was->found && (was->posted_hash[0] || old == WSI_POSTED || old == WSI_POSTING)) {
		if (!d->postable) {
			*why = "cancelled or refunded in the store after posting: Sage needs a credit note";
			return WSI_CONFLICT;
		}
		if (d->unreadable || !was->posted_hash[0] || strcmp(was->posted_hash, content_hash)) {
			*why = "what was posted changed in the store: never posted twice, a person must look";
			return WSI_CONFLICT;
		}
		*why = NULL; /* a status change only: normal life */
		return old;
	}
	if (old == WSI_CONFLICT || old == WSI_HELD) {
		*why = NULL;
		return old;
	}
	if (d->unreadable) {
		*why = "downloaded, but a value could not be read";
		return WSI_INVALID;
	}
	*why = was->found ? "changed in the store" : "downloaded";
	return d->postable ? WSI_STAGED : WSI_SKIPPED;
}

static int write_lines(wsi_staging *s, const wsi_download *d, int replace, wsi_error *e)
{
	bind_text(s->del_lines, 1, d->store);
	bind_text(s->del_lines, 2, d->id);
	if (replace && step_done(s, s->del_lines, "cannot replace order lines", e))
		return -1;
	const json_t *lines = json_object_get(d->canon, "lines");
	for (size_t i = 0; i < json_array_size(lines); i++) {
		json_t *l = wsi_json_elem(lines, i); /* (an order of thousands of lines keeps them as text) */
		sqlite3_stmt *st = s->ins_line;
		bind_text(st, 1, d->store);
		bind_text(st, 2, d->id);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i + 1);
		bind_text(st, 4, wsi_jstr(l, "sku"));
		bind_text(st, 5, wsi_jstr(l, "name"));
		bind_text(st, 6, wsi_jstr(l, "quantity"));
		bind_text(st, 7, wsi_jstr(l, "unit_price"));
		bind_text(st, 8, wsi_jstr(l, "total"));
		bind_text(st, 9, wsi_jstr(l, "tax"));
		int rc = step_done(s, st, "cannot write an order line", e);
		json_decref(l);
		if (rc)
			return -1;
	}
	return 0;
}

/* The order's own reasons: cleared when it goes back to be mapped, "unreadable" when it cannot be read. */
static int write_reason(wsi_staging *s, const wsi_download *d, wsi_error *e)
{
	bind_text(s->del_reasons, 1, d->store);
	bind_text(s->del_reasons, 2, d->id);
	if (step_done(s, s->del_reasons, "cannot clear reasons", e))
		return -1;
	if (!d->unreadable)
		return 0;
	bind_text(s->ins_reason, 1, d->store);
	bind_text(s->ins_reason, 2, d->id);
	bind_text(s->ins_reason, 3, "unreadable");
	bind_text(s->ins_reason, 4, d->unreadable);
	return step_done(s, s->ins_reason, "cannot record a reason", e);
}

int wsi_staging_put(wsi_staging *s, const wsi_download *d, const wsi_staged_was *was, int *now, wsi_error *e)
{
	char chash[33] = "", status[64], when[32], mt[32], week[32];
	snprintf(status, sizeof status, "%s", wsi_jstr(d->canon, "status") ? wsi_jstr(d->canon, "status") : "");
	if (d->content_hash)
		snprintf(chash, sizeof chash, "%s", d->content_hash);
	else if (wsi_order_content_hash(d->canon, chash))
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	const char *why = NULL;
	int state = next_state(was, d, chash, &why);
	sqlite3_stmt *st = was->found ? s->upd : s->ins;
	bind_text(st, 1, d->store);
	bind_text(st, 2, d->id);
	bind_text(st, 3, d->source);
	bind_text(st, 4, wsi_time_fmt(d->modified, mt, sizeof mt));
	sqlite3_bind_blob(st, 5, d->raw, (int)d->raw_len, SQLITE_STATIC);
	bind_text(st, 6, d->unreadable ? "{}" : ""); /* the canonical order is derived from raw when read */
	bind_text(st, 7, d->raw_hash);
	bind_text(st, 8, chash);
	bind_text(st, 9, status);
	bind_text(st, 10, wsi_state_name(state));
	bind_text(st, 11, wsi_time_fmt(wsi_now(), when, sizeof when));
	if (!was->found)
		bind_text(st, 12, wsi_time_fmt(wsi_now() - 7 * 86400, week, sizeof week));
	int err = step_done(s, st, was->found ? "cannot update an order" : "cannot stage an order", e) ||
		  write_lines(s, d, was->found, e);
	int changed = !was->found || was->state != state;
	if (!err && changed)
		err = wsi_event(s->db, d->store, d->id, was->found ? wsi_state_name(was->state) : NULL, wsi_state_name(state),
				why ? why : "changed in the store", e);
	if (!err && ((was->found && changed && (state == WSI_STAGED || state == WSI_SKIPPED || d->unreadable)) ||
		     (!was->found && d->unreadable)))
		err = write_reason(s, d, e);
	*now = state;
	return err ? -1 : 0;
}
