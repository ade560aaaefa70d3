/* views.c - the operator's views, read-only over the database. */
#include "order.h"
#include "views.h"
#include "db.h"
#include "orders.h"
#include "reasons.h"
#include "sent.h"
#include "timeutil.h"
#include "keys.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

int view_status(sqlite3 *db, wsi_error *e)
{
	char sql[600], order[500];
	snprintf(sql, sizeof sql, "SELECT state, count(*) FROM orders GROUP BY state ORDER BY %s",
		 wsi_states_order_sql(order, sizeof order));
	sqlite3_stmt *st = wsi_db_prepare(db, sql, e);
	if (!st)
		return -1;
	printf("Orders\n");
	long total = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("  %-9s %6d\n", col(st, 0), sqlite3_column_int(st, 1));
		total += sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	printf("  %-9s %6ld\n", "total", total);
	st = wsi_db_prepare(db, "SELECT count(*) FROM orders o JOIN reasons r ON r.store=o.store AND r.id=o.id"
				" WHERE o.state='" WSI_NAME_POSTED "' AND r.code='sage-total-differs'", e);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0))
		printf("  of the posted, %d with a Sage total that differs from the web order's: wsi-sync waiting\n",
		       sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	st = wsi_db_prepare(db, "SELECT store, kind, value, set_at, set_by FROM marks ORDER BY store, kind DESC", e);
	if (!st)
		return -1;
	printf("Highwater marks\n");
	int any = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("  %s %s %s (set %s by %s)\n", col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4));
		any = 1;
	}
	if (!any)
		printf("  none yet: the next run reads the whole store\n");
	sqlite3_finalize(st);
	/* what the last wsi-hwm set of each store sent to be checked against Sage came to */
	st = wsi_db_prepare(db, "SELECT r.store, r.at, r.by, r.since, r.orders, r.found, r.again, r.unposted,"
				" (SELECT count(*) FROM orders o WHERE o.store=r.store AND o.recheck=r.seq) FROM rechecks r"
				" WHERE r.seq=(SELECT max(seq) FROM rechecks x WHERE x.store=r.store) ORDER BY r.store", e);
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("Checked against Sage after wsi-hwm set %s by %s (from %s)\n  %d found in Sage, %d lacked in Sage and "
		       "went again, %d not posted before; %d still to check\n", col(st, 1), col(st, 2),
		       *col(st, 3) ? col(st, 3) : "the start", sqlite3_column_int(st, 5), sqlite3_column_int(st, 6),
		       sqlite3_column_int(st, 7), sqlite3_column_int(st, 8));
	sqlite3_finalize(st);
	st = wsi_db_prepare(db, "SELECT tool, started, ended, status, summary FROM runs ORDER BY"
				" CASE tool WHEN 'wsi-fetch' THEN 1 WHEN 'wsi-stage' THEN 2 WHEN 'wsi-remap' THEN 3"
				" WHEN 'wsi-validate' THEN 4 WHEN 'wsi-post' THEN 5 ELSE 6 END", e);
	if (!st)
		return -1;
	printf("Last runs\n");
	while (sqlite3_step(st) == SQLITE_ROW) {
		int status = sqlite3_column_int(st, 3);
		char how[16];
		snprintf(how, sizeof how, status ? "exit %d" : "ok", status);
		printf("  %-12s %s  %-7s %s\n", col(st, 0), col(st, 2), how, col(st, 4));
	}
	sqlite3_finalize(st);
	return 0;
}

/* The fix for a cause, in one sentence with its command (lib/reasons.c). */
static void fix(const char *code, const char *subject, long n, FILE *f)
{
	const char *s = subject && *subject ? subject : "?";
	const char *orders = n == 1 ? "order waits" : "orders wait";
	const wsi_reason_code *rc = wsi_reason_code_find(code, subject);
	char waits[400], what[400];
	if (!rc) /* a code this wsi does not know (a newer wsi wrote it) */
		fprintf(f, "%ld %s (%s %s)", n, orders, code, s);
	else
		fprintf(f, "%ld %s %s: %s", n, orders, wsi_reason_say(rc->waits, s, waits, sizeof waits),
			wsi_reason_say(rc->fix, s, what, sizeof what));
}

static int add_sent(void *ud, int kind, const char *ref, int64_t at)
{
	char t[32];
	sqlite3_stmt *st = ud;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, kind == WSI_SENT_RECEIPT ? "prepayment receipt" : "order", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, wsi_time_fmt(at, t, sizeof t), -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE;
}

/* The journal's requests sent and not answered, as a temporary table the view can join. */
static int load_sent(sqlite3 *db, wsi_error *e)
{
	const char *path = sqlite3_db_filename(db, "main");
	wsi_sent_set *s = path && *path ? wsi_sent_load(path, e) : NULL;
	if (!s)
		return path && *path ? -1 : 0;
	sqlite3_stmt *st = NULL;
	int rc = wsi_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS sent(ref TEXT, kind TEXT, at TEXT)", e) ||
		 !(st = wsi_db_prepare(db, "INSERT INTO temp.sent VALUES(?,?,?)", e)) || wsi_sent_each(s, add_sent, st);
	if (rc && st)
		wsi_db_fail(db, e, "cannot list the requests sent");
	sqlite3_finalize(st);
	wsi_sent_free(s);
	return rc ? -1 : 0;
}

int view_waiting(sqlite3 *db, int tsv, wsi_error *e)
{
	if (load_sent(db, e))
		return -1;
	/* every reason of every order that waits, plus the states that wait without a reason */
	char sql[2000], judged[40], conflict[20], unknown[40], posted[20], done[40], ahead[60];
	snprintf(sql, sizeof sql,
		 "SELECT o.store||':'||o.id, o.state, r.code, r.subject, r.message FROM orders o JOIN reasons r"
		 " ON r.store=o.store AND r.id=o.id WHERE o.state IN (%s)"
		 " UNION ALL SELECT store||':'||id, state, state, '', 'changed in the store after posting' FROM orders"
		 " WHERE state IN (%s)"
		 " UNION ALL SELECT store||':'||id, state, state, '', state FROM orders WHERE state IN (%s)"
		 " UNION ALL SELECT o.store||':'||o.id, o.state, r.code, r.subject, r.message FROM orders o JOIN reasons r"
		 " ON r.store=o.store AND r.id=o.id WHERE o.state IN (%s) AND r.code='sage-total-differs'"
		 " UNION ALL SELECT s.ref, coalesce(o.state,'not staged'), 'sent-unanswered', s.at, s.kind||' sent to Sage at '||s.at"
		 " ||' with no answer' FROM temp.sent s LEFT JOIN orders o ON o.store||':'||o.id=s.ref"
		 " WHERE coalesce(o.state,'') NOT IN (%s)"
		 " UNION ALL SELECT store||':'||id, state, 'next-run', '', 'not through the chain yet' FROM orders o"
		 " WHERE state IN (%s) AND store||':'||id NOT IN (SELECT ref FROM temp.sent)"
		 " ORDER BY 3, 4, 1",
		 wsi_states_sql(WSI_S(WSI_INVALID) | WSI_S(WSI_FAILED), judged, sizeof judged),
		 wsi_states_sql(WSI_S(WSI_CONFLICT), conflict, sizeof conflict),
		 wsi_states_sql(WSI_S(WSI_HELD) | WSI_S(WSI_POSTING), unknown, sizeof unknown),
		 wsi_states_sql(WSI_S(WSI_POSTED), posted, sizeof posted),
		 wsi_states_sql(WSI_S(WSI_POSTED) | WSI_S(WSI_POSTING), done, sizeof done),
		 wsi_states_sql(WSI_S(WSI_STAGED) | WSI_S(WSI_MAPPED) | WSI_S(WSI_VALID), ahead, sizeof ahead));
	sqlite3_stmt *st = wsi_db_prepare(db, sql, e);
	if (!st)
		return -1;
	if (tsv) {
		printf("key\tstate\tcode\tsubject\treason\n");
		while (sqlite3_step(st) == SQLITE_ROW)
			printf("%s\t%s\t%s\t%s\t%s\n", col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4));
		sqlite3_finalize(st);
		return 0;
	}
	char code[64] = "", subject[256] = "";
	json_t *keys = json_array();
	int rc, any = 0;
	for (;;) {
		rc = sqlite3_step(st);
		int row = rc == SQLITE_ROW;
		if (json_array_size(keys) &&
		    (!row || strcmp(code, col(st, 2)) || strcmp(subject, col(st, 3)))) {
			fix(code, subject, (long)json_array_size(keys), stdout);
			printf(":\n   ");
			size_t i;
			json_t *k;
			json_array_foreach(keys, i, k) printf(" %s", json_string_value(k));
			printf("\n");
			json_array_clear(keys);
			any = 1;
		}
		if (!row)
			break;
		snprintf(code, sizeof code, "%s", col(st, 2));
		snprintf(subject, sizeof subject, "%s", col(st, 3));
		json_array_append_new(keys, json_string(col(st, 0)));
	}
	json_decref(keys);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot read the waiting orders");
	if (!any)
		printf("No order is waiting.\n");
	return 0;
}

static void pretty(const char *title, const char *text)
{
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	char *p = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
	printf("%s\n%s\n", title, p ? p : text ? text : "(none)");
	free(p);
	json_decref(j);
}

int view_show(sqlite3 *db, const char *key, wsi_error *e)
{
	char store[72], id[72];
	if (wsi_key_split(key, store, sizeof store, id, sizeof id))
		return wsi_fail(e, WSI_EXIT_USAGE, "'%s' is not an order key (STORE:ID)", key);
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, store_status, modified, staged_at, changed_at, raw, " WSI_CANONICAL_SQL ","
					      " mapped, sage_order, sage_shipment, sage_invoice, sage_receipt, posted_at, recheck"
					      " FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return wsi_fail(e, WSI_EXIT_USAGE, "%s: no such order", key);
	}
	printf("Order %s: %s (store status %s), modified in the store %s\n", key, col(st, 0), col(st, 1), col(st, 2));
	printf("Staged %s, last changed %s%s\n", col(st, 3), col(st, 4), sqlite3_column_int(st, 13) ? "; to be checked against Sage again" : "");
	if (*col(st, 8))
		printf("Sage: order %s, shipment %s, invoice %s, receipt %s, posted %s\n", col(st, 8), col(st, 9), col(st, 10),
		       *col(st, 11) ? col(st, 11) : "-", col(st, 12));
	else
		printf("Sage: not posted\n");
	sqlite3_stmt *r = wsi_db_prepare(db, "SELECT code, message FROM reasons WHERE store=? AND id=? ORDER BY rowid", e);
	if (r) {
		sqlite3_bind_text(r, 1, store, -1, SQLITE_STATIC);
		sqlite3_bind_text(r, 2, id, -1, SQLITE_STATIC);
		int first = 1;
		while (sqlite3_step(r) == SQLITE_ROW) {
			if (first)
				printf("\nWhy it waits\n");
			first = 0;
			printf("  %s: %s\n", col(r, 0), col(r, 1));
		}
		sqlite3_finalize(r);
	}
	printf("\nEvents\n");
	sqlite3_stmt *ev = wsi_db_prepare(db, "SELECT at, who, coalesce(from_state,'-'), to_state, why FROM events"
					      " WHERE store=? AND id=? ORDER BY seq", e);
	if (ev) {
		sqlite3_bind_text(ev, 1, store, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 2, id, -1, SQLITE_STATIC);
		while (sqlite3_step(ev) == SQLITE_ROW)
			printf("  %s  %-12s %s -> %s: %s\n", col(ev, 0), col(ev, 1), col(ev, 2), col(ev, 3), col(ev, 4));
		sqlite3_finalize(ev);
	}
	printf("\n");
	pretty("Mappings", sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : col(st, 7));
	pretty("\nCanonical order", col(st, 6));
	printf("\nRaw order, as the store sent it\n%.*s\n", sqlite3_column_bytes(st, 5), (const char *)sqlite3_column_blob(st, 5));
	sqlite3_finalize(st);
	return 0;
}

/* Posted with a Sage total that differs from the web order's (a reason sage-total-differs)? */
static int differs(sqlite3 *db, const char *store, const char *id)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT 1 FROM reasons WHERE store=? AND id=? AND code='sage-total-differs'", NULL);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc;
}

int person_move(sqlite3 *db, const char *key, const char *cmd, wsi_error *e)
{
	char store[WSI_STORE_SIZE], id[WSI_ID_SIZE];
	if (wsi_key_split(key, store, sizeof store, id, sizeof id))
		return wsi_fail(e, WSI_EXIT_USAGE, "'%s' is not an order key (STORE:ID)", key);
	int hold = !strcmp(cmd, "hold"), settle = !strcmp(cmd, "settle");
	if (wsi_db_begin(db, e))
		return -1;
	wsi_loaded o;
	int rc = wsi_order_load(db, store, id, &o, e);
	int can = hold ? (o.state == WSI_STAGED || o.state == WSI_MAPPED || o.state == WSI_VALID ||
			  o.state == WSI_INVALID || o.state == WSI_FAILED)
		  : settle ? o.state == WSI_CONFLICT || (o.state == WSI_POSTED && differs(db, store, id))
			   : o.state == WSI_HELD;
	char why[200];
	snprintf(why, sizeof why, "%s by %s", hold ? wsi_state_name(WSI_HELD) : settle ? "settled by hand in Sage" : "released",
		 wsi_db_actor(1));
	if (rc == 0)
		rc = wsi_fail(e, WSI_EXIT_USAGE, "%s: no such order", key);
	else if (rc > 0 && !can)
		rc = wsi_fail(e, WSI_EXIT_USAGE, "%s is %s: %s", key, wsi_state_name(o.state),
			      hold ? "only an order not yet sent to Sage can be held"
			      : settle ? "only a conflict, or a posted order whose Sage total differs, is settled"
				       : "only a held order can be released");
	else if (rc > 0 && settle)
		rc = wsi_order_settle(db, &o, why, e) < 0 ? -1 : 0;
	else if (rc > 0)
		rc = wsi_order_move(db, &o, hold ? WSI_HELD : WSI_STAGED, why, e) < 0 ? -1 : 0;
	if (rc || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	return 0;
}
