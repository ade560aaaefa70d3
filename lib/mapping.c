/* mapping.c - mapping entries and what they touch. */
#include "order.h"
#include "mapping.h"
#include "db.h"
#include "json.h"
#include "orders.h"
#include "timeutil.h"
#include <stdlib.h>
#include <string.h>

int wsi_map_kind_ok(const char *k)
{
	return !strcmp(k, "item") || !strcmp(k, "customer") || !strcmp(k, "payment") || !strcmp(k, "shipvia") ||
	       !strcmp(k, "tax");
}

int wsi_map_arity(const char *k) { return !strcmp(k, "payment") ? 2 : 1; }

/* Send back to staged the unposted orders an entry of kind/from touches. */
static int touch(sqlite3 *db, const char *kind, const char *from, long *touched, wsi_error *e)
{
	const char *match =
		!strcmp(kind, "item") ? "EXISTS (SELECT 1 FROM order_lines l WHERE l.store=o.store AND l.id=o.id AND l.sku=?1)"
		: !strcmp(kind, "customer") ? "(json_extract(c,'$.customer.id')=?1 OR json_extract(c,'$.customer.email')=?1)"
		: !strcmp(kind, "payment") ? "json_extract(c,'$.payment.method')=?1"
		: !strcmp(kind, "tax") ? "EXISTS (SELECT 1 FROM json_each(c,'$.taxes') t WHERE json_extract(t.value,'$.code')=?1)"
		: "json_extract(c,'$.shipping_lines[0].method')=?1";
	char *sql = NULL, states[80];
	wsi_states_sql(WSI_S(WSI_MAPPED) | WSI_S(WSI_VALID) | WSI_S(WSI_INVALID) | WSI_S(WSI_FAILED), states, sizeof states);
	/* '*' is the default for what has no entry: it may touch any order */
	if (asprintf(&sql, "SELECT store, id, state, rev, recheck FROM (SELECT store, id, state, rev, recheck, "
			   WSI_CANONICAL_SQL " AS c FROM orders WHERE state IN (%s)) o WHERE ?1 = '*' OR %s",
		     states, match) < 0)
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	sqlite3_stmt *st = wsi_db_prepare(db, sql, e);
	free(sql);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	char why[300];
	snprintf(why, sizeof why, "the %s mapping of '%.200s' changed", kind, from);
	int rc;
	long n = 0;
	/* collect first: the update must not run under the open SELECT's cursor */
	wsi_order_list keys = {0};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		wsi_loaded o;
		wsi_order_from_row(&o, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), st, 2);
		if (wsi_order_list_add(&keys, &o))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wsi_order_list_free(&keys);
		return rc == SQLITE_ROW ? wsi_fail(e, WSI_EXIT_LOCAL, "out of memory")
					: wsi_db_fail(db, e, "cannot find the orders a mapping touches");
	}
	/* in the caller's transaction: no other run can move them between the SELECT and here */
	for (size_t i = 0; i < keys.n && rc != -1; i++) {
		int moved = wsi_order_move(db, &keys.o[i], WSI_STAGED, why, e);
		rc = moved < 0 ? -1 : rc;
		n += moved > 0;
	}
	wsi_order_list_free(&keys);
	if (rc == -1)
		return -1;
	*touched += n;
	return 0;
}

int wsi_map_set(sqlite3 *db, const char *kind, const char *from, const char *to, const char *extra,
		long *touched, wsi_error *e)
{
	char now[32];
	sqlite3_stmt *st = wsi_db_prepare(db, "INSERT OR REPLACE INTO mappings(kind,from_code,to_code,to_extra,set_at,set_by)"
					      " VALUES(?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, extra ? extra : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, wsi_time_fmt(wsi_now(), now, sizeof now), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, wsi_db_actor(1), -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot write the mapping");
	return touch(db, kind, from, touched, e);
}

int wsi_map_del(sqlite3 *db, const char *kind, const char *from, int *found, long *touched, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "DELETE FROM mappings WHERE kind=? AND from_code=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot remove the mapping");
	*found = sqlite3_changes(db) > 0;
	return *found ? touch(db, kind, from, touched, e) : 0;
}

struct wsi_maps {
	json_t *byk; /* kind -> {from -> [to, extra, "kind:from"]} */
};

wsi_maps *wsi_maps_load(sqlite3 *db, wsi_error *e)
{
	wsi_maps *m = calloc(1, sizeof *m);
	sqlite3_stmt *st = m ? wsi_db_prepare(db, "SELECT kind, from_code, to_code, to_extra FROM mappings", e) : NULL;
	if (!st) {
		if (!m)
			wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		free(m);
		return NULL;
	}
	m->byk = json_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *from = (const char *)sqlite3_column_text(st, 1);
		json_t *t = json_object_get(m->byk, kind);
		if (!t) {
			t = json_object();
			json_object_set_new(m->byk, kind, t);
		}
		char entry[600];
		snprintf(entry, sizeof entry, "%s:%s", kind, from);
		json_object_set_new(t, from, json_pack("[sss]", sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), entry));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wsi_maps_free(m);
		wsi_db_fail(db, e, "cannot read the mappings");
		return NULL;
	}
	return m;
}

void wsi_maps_free(wsi_maps *m)
{
	if (!m)
		return;
	json_decref(m->byk);
	free(m);
}

/* The entry for `from` of kind, else the '*' entry, else NULL. */
static json_t *find(const wsi_maps *m, const char *kind, const char *from)
{
	json_t *t = json_object_get(m->byk, kind);
	json_t *v = from && *from ? json_object_get(t, from) : NULL;
	return v ? v : json_object_get(t, "*");
}

static json_t *str_or_null(json_t *entry, int i)
{
	const char *s = json_string_value(json_array_get(entry, (size_t)i));
	return s && *s ? json_string(s) : json_null();
}

json_t *wsi_maps_apply(const wsi_maps *m, const json_t *canon)
{
	json_t *out = json_object();
	/* customer: by web id, then e-mail, then the default */
	const json_t *cu = json_object_get(canon, "customer");
	const char *cid = wsi_jstr(cu, "id"), *mail = wsi_jstr(cu, "email");
	json_t *t = json_object_get(m->byk, "customer");
	json_t *ce = cid && *cid ? json_object_get(t, cid) : NULL;
	const char *cfrom = cid;
	if (!ce && mail && *mail) {
		ce = json_object_get(t, mail);
		cfrom = mail;
	}
	if (!ce) {
		ce = json_object_get(t, "*");
		cfrom = mail && *mail ? mail : cid;
	}
	json_object_set_new(out, "customer", json_pack("{s:s,s:o,s:s}", "from", cfrom ? cfrom : "", "to",
						       ce ? str_or_null(ce, 0) : json_null(), "entry",
						       ce ? json_string_value(json_array_get(ce, 2)) : ""));
	/* items: the SKU as it is unless an entry maps it */
	json_t *items = json_array();
	size_t i;
	json_t *l;
	const json_t *lines = json_object_get(canon, "lines");
	wsi_json_each(lines, i, l) {
		const char *sku = wsi_jstr(l, "sku");
		json_t *ie = find(m, "item", sku);
		json_t *item = json_pack("{s:I,s:s,s:s,s:s}", "line", (json_int_t)i + 1, "sku", sku ? sku : "", "to",
					 ie ? json_string_value(json_array_get(ie, 0)) : (sku ? sku : ""), "entry",
					 ie ? json_string_value(json_array_get(ie, 2)) : "");
		/* kept as its text (written by wsi_json_dump_exact): an order of 100,000 lines has 100,000 */
		char *text = item ? json_dumps(item, JSON_COMPACT) : NULL;
		json_t *raw = text ? wsi_json_raw(text, strlen(text)) : NULL;
		free(text);
		json_array_append_new(items, raw ? raw : json_incref(item));
		json_decref(item);
	}
	json_object_set_new(out, "items", items);
	const char *method = wsi_jstr(json_object_get(canon, "payment"), "method");
	json_t *pe = find(m, "payment", method);
	json_object_set_new(out, "payment", json_pack("{s:s,s:o,s:o,s:s}", "from", method ? method : "", "bank",
						      pe ? str_or_null(pe, 0) : json_null(), "code",
						      pe ? str_or_null(pe, 1) : json_null(), "entry",
						      pe ? json_string_value(json_array_get(pe, 2)) : ""));
	const char *ship = wsi_jstr(json_array_get(json_object_get(canon, "shipping_lines"), 0), "method");
	json_t *se = find(m, "shipvia", ship);
	json_object_set_new(out, "shipvia", json_pack("{s:s,s:o,s:s}", "from", ship ? ship : "", "to",
						      se ? str_or_null(se, 0) : json_null(), "entry",
						      se ? json_string_value(json_array_get(se, 2)) : ""));
	/* taxes: each web tax code to its Sage authority (no '*': a tax is never guessed) */
	json_t *taxes = json_object(), *tt = json_object_get(m->byk, "tax");
	const json_t *web_taxes = json_object_get(canon, "taxes");
	wsi_json_each(web_taxes, i, l) {
		const char *code = wsi_jstr(l, "code");
		json_t *te = code && *code ? json_object_get(tt, code) : NULL;
		if (code && !json_object_get(taxes, code))
			json_object_set_new(taxes, code, json_pack("{s:o,s:s}", "to", te ? str_or_null(te, 0) : json_null(), "entry",
								   te ? json_string_value(json_array_get(te, 2)) : ""));
	}
	json_object_set_new(out, "taxes", taxes);
	return out;
}

json_t *wsi_mapped_read(const char *text)
{
	json_t *m = text ? wsi_json_parse_lazy(text, strlen(text), "items", WSI_LAZY_TEXT) : NULL;
	if (!m && text)
		m = json_loads(text, 0, NULL);
	return m ? m : json_object();
}
