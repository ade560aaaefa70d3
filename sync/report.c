/* report.c - wsi-sync report: every web order created in [from, to), from the store, wsi's
 * database and Sage side by side, read live; it changes nothing. */
#include "views.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include "msg.h"
#include "order.h"
#include "orders.h"
#include "sage.h"
#include "sale.h"
#include "store.h"
#include "timeutil.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The report's rows: {id: {"status", "in_store", "web_total", "state", "reason", "wsi_sage",
 * "sage": [order numbers], "sage_total", "verdict"}}. */
struct report {
	const wsi_config *cfg;
	const char *store;
	int64_t from, to;
	json_t *rows;
	json_t *unknown;  /* Sage orders naming the store that match no web order: {ref: [numbers]} */
	json_t *totals;   /* invoice totals by Sage order number */
	sqlite3 *db;
	wsi_sage *sage;
	long requests;
};

static json_t *row_of(struct report *r, const char *id)
{
	json_t *row = json_object_get(r->rows, id);
	if (!row) {
		row = json_pack("{ss sb ss ss ss ss s[]}", "status", "", "in_store", 0, "web_total", "", "state", "", "reason", "",
				"wsi_sage", "", "sage");
		json_object_set_new(r->rows, id, row);
	}
	return row;
}

static int in_range(const struct report *r, const char *created)
{
	int64_t t;
	return created && wsi_time_parse(created, &t) == 0 && t >= r->from && t < r->to;
}

/* 1. the store: every order modified since `from` (so every one created since), kept by creation */
static int read_store(struct report *r, wsi_error *e)
{
	wsi_store *s = wsi_store_open(r->cfg, e);
	if (!s)
		return -1;
	FILE *tmp = tmpfile();
	wsi_fetch_plan plan = {.have_lower = 1, .lower = r->from, .say = wsi_say};
	wsi_fetch_stats st = {0};
	int rc = !tmp ? wsi_fail(e, WSI_EXIT_LOCAL, "cannot make a temporary file") : wsi_store_fetch(s, &plan, tmp, &st, e);
	r->requests += st.requests;
	wsi_store_close(s);
	char *line = NULL;
	size_t cap = 0;
	if (!rc)
		rewind(tmp);
	while (!rc && getline(&line, &cap, tmp) > 0) {
		json_t *env = json_loads(line, 0, NULL);
		const char *id = wsi_jstr(env, "id"), *source = wsi_jstr(env, "source");
		wsi_error ce = {0};
		json_t *canon = id && source ? wsi_order_canonical(source, json_object_get(env, "order"), &ce) : NULL;
		if (canon && in_range(r, wsi_jstr(canon, "created"))) {
			json_t *row = row_of(r, id);
			json_object_set_new(row, "in_store", json_true());
			json_object_set_new(row, "status", json_string(wsi_jstr(canon, "status") ? wsi_jstr(canon, "status") : ""));
			const char *total = wsi_jstr(json_object_get(canon, "totals"), "total");
			json_object_set_new(row, "web_total", json_string(total ? total : ""));
			/* a Shopify order paid in another currency: its total in that money, if wsi posts it so */
			const char *pt = wsi_jstr(json_object_get(json_object_get(canon, "presentment"), "totals"), "total");
			if (pt)
				json_object_set_new(row, "web_total_presentment", json_string(pt));
		}
		json_decref(canon);
		json_decref(env);
	}
	free(line);
	if (tmp)
		fclose(tmp);
	return rc;
}

/* 2. wsi's database */
static int read_db(struct report *r, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(r->db, "SELECT id, state, store_status, json_extract(c,'$.created'),"
						  " json_extract(c, CASE json_extract(mapped,'$.money') WHEN 'presentment' THEN '$.presentment.totals.total'"
						  " ELSE '$.totals.total' END), coalesce(sage_order,''),"
						  " (SELECT code FROM reasons x WHERE x.store=o.store AND x.id=o.id ORDER BY rowid LIMIT 1),"
						  " json_extract(mapped,'$.money') IS 'presentment'"
						  " FROM (SELECT *, " WSI_CANONICAL_SQL " AS c FROM orders WHERE store=?) o", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->store, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!in_range(r, (const char *)sqlite3_column_text(st, 3)))
			continue;
		json_t *row = row_of(r, (const char *)sqlite3_column_text(st, 0));
		const char *c;
		json_object_set_new(row, "state", json_string((const char *)sqlite3_column_text(st, 1)));
		if (!json_is_true(json_object_get(row, "in_store"))) {
			json_object_set_new(row, "status", json_string((c = (const char *)sqlite3_column_text(st, 2)) ? c : ""));
			json_object_set_new(row, "web_total", json_string((c = (const char *)sqlite3_column_text(st, 4)) ? c : ""));
		} else if (sqlite3_column_int(st, 7) && json_object_get(row, "web_total_presentment"))
			json_object_set(row, "web_total", json_object_get(row, "web_total_presentment"));
		json_object_set_new(row, "wsi_sage", json_string((const char *)sqlite3_column_text(st, 5)));
		json_object_set_new(row, "reason", json_string((c = (const char *)sqlite3_column_text(st, 6)) ? c : ""));
	}
	sqlite3_finalize(st);
	return 0;
}

/* Is id an order of this store wsi knows (created whenever)? */
static int known_to_wsi(struct report *r, const char *id)
{
	sqlite3_stmt *st = wsi_db_prepare(r->db, "SELECT 1 FROM orders WHERE store=? AND id=?", NULL);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, r->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int k = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return k;
}

static void add_sage(struct report *r, const char *ref, const char *number)
{
	size_t pl = strlen(r->store);
	if (strncmp(ref, r->store, pl) || ref[pl] != ':' || !number || !*number)
		return;
	const char *id = ref + pl + 1;
	json_t *row = json_object_get(r->rows, id);
	json_t *list = row ? json_object_get(row, "sage") : json_object_get(r->unknown, ref);
	if (!row && !list) {
		if (known_to_wsi(r, id))
			return; /* created outside the range: another month's */
		json_object_set_new(r->unknown, ref, list = json_array());
	}
	size_t i;
	json_t *n;
	json_array_foreach(list, i, n) if (!strcmp(json_string_value(n), number)) return;
	json_array_append_new(list, json_string(number));
}

static int on_scan(void *ud, json_t *row)
{
	struct report *r = ud;
	add_sage(r, wsi_jstr(row, wsi_sale_reference_field(r->cfg)) ? wsi_jstr(row, wsi_sale_reference_field(r->cfg)) : "",
		 wsi_jstr(row, "OrderNumber"));
	return 0;
}

static int on_found(void *ud, const char *ref, const wsi_sale_numbers *n)
{
	add_sage(ud, ref, n->order);
	return 0;
}

static int on_invoice(void *ud, json_t *row)
{
	struct report *r = ud;
	const char *num = wsi_jstr(row, "OrderNumber");
	wsi_dec t = {0}, had = {0};
	if (!num || wsi_jdec(row, "InvoiceTotalWithTax", (wsi_dec){0}, &t))
		return 0;
	wsi_jdec(r->totals, num, (wsi_dec){0}, &had);
	char b[40];
	json_object_set_new(r->totals, num, json_string(wsi_dec_str(wsi_dec_add(had, t), 2, b, sizeof b)));
	return 0;
}

/* 3. Sage: one scan of the orders whose reference names this store, dated in the range; those wsi
 * recorded as posted but the scan did not meet, looked up by reference; then their invoices. */
static int read_sage(struct report *r, wsi_error *e)
{
	char from[16], to[16], *lit = NULL, prefix[80], *path = NULL;
	snprintf(prefix, sizeof prefix, "%s:", r->store);
	wsi_time_fmt(r->from, from, sizeof from); /* the date part only: OrderDate is a date */
	wsi_time_fmt(r->to - 1 + 86400, to, sizeof to);
	from[10] = to[10] = 0;
	const char *field = wsi_sale_reference_field(r->cfg);
	if (!(lit = wsi_odata_literal(prefix)) ||
	    asprintf(&path, "OE/OEOrders?$filter=startswith(%s,%s)%%20and%%20OrderDate%%20ge%%20%sT00:00:00Z%%20and%%20"
			    "OrderDate%%20lt%%20%sT00:00:00Z&$select=OrderNumber,%s", field, lit, from, to, field) < 0) {
		free(lit);
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	}
	free(lit);
	int rc = wsi_sage_each(r->sage, path, on_scan, r, e);
	free(path);
	/* posted (by wsi's word) but not met by the scan: asked by reference, in batches */
	json_t *refs = json_array();
	const char *id;
	json_t *row;
	json_object_foreach(r->rows, id, row) {
		if (!json_array_size(json_object_get(row, "sage")) &&
		    (!strcmp(wsi_jstr(row, "state"), WSI_NAME_POSTED) || *wsi_jstr(row, "wsi_sage"))) {
			char ref[160];
			wsi_sale_reference(r->store, id, ref, sizeof ref);
			json_array_append_new(refs, json_string(ref));
		}
	}
	size_t n = json_array_size(refs), i;
	const char **v = calloc(n ? n : 1, sizeof *v);
	json_t *x;
	json_array_foreach(refs, i, x) v[i] = json_string_value(x);
	if (!rc && n)
		rc = wsi_sale_find(r->sage, r->cfg, v, n, on_found, r, e);
	free(v);
	json_decref(refs);
	/* the invoices of every Sage order met */
	json_t *nums = json_array();
	json_object_foreach(r->rows, id, row) json_array_extend(nums, json_object_get(row, "sage"));
	n = json_array_size(nums);
	v = calloc(n ? n : 1, sizeof *v);
	json_array_foreach(nums, i, x) v[i] = json_string_value(x);
	if (!rc && n)
		rc = wsi_sage_lookup(r->sage, "OE/OEInvoices", "OrderNumber", "OrderNumber,InvoiceNumber,InvoiceTotalWithTax", v, n,
				     on_invoice, r, e);
	free(v);
	json_decref(nums);
	return rc;
}

/* The verdict of one row, and its rank (problems first). */
static const char *verdict(struct report *r, json_t *row, char *buf, size_t n, int *rank)
{
	const char *state = wsi_jstr(row, "state"), *status = wsi_jstr(row, "status");
	size_t in_sage = json_array_size(json_object_get(row, "sage"));
	if (in_sage > 1)
		return *rank = 0, "twice in Sage";
	if (!*state)
		return *rank = 4, "not staged";
	if (!in_sage && (!strcmp(state, WSI_NAME_POSTED) || *wsi_jstr(row, "wsi_sage")))
		return *rank = 1, "missing in Sage";
	if (!in_sage && !strcmp(state, WSI_NAME_SKIPPED)) {
		snprintf(buf, n, "skipped: %s", *status ? status : "?");
		return *rank = 6, buf;
	}
	if (!in_sage) {
		snprintf(buf, n, "waiting: %s", *wsi_jstr(row, "reason") ? wsi_jstr(row, "reason") : state);
		return *rank = 5, buf;
	}
	const char *num = json_string_value(json_array_get(json_object_get(row, "sage"), 0));
	const char *sage_total = wsi_jstr(r->totals, num);
	wsi_dec web = {0}, sage = {0};
	if (!sage_total) {
		snprintf(buf, n, "differs: Sage order %s has no invoice", num);
		return *rank = 2, buf;
	}
	if (wsi_dec_parse(wsi_jstr(row, "web_total"), strlen(wsi_jstr(row, "web_total")), &web) ||
	    wsi_dec_parse(sage_total, strlen(sage_total), &sage) || wsi_dec_round(web, 2).v != wsi_dec_round(sage, 2).v) {
		snprintf(buf, n, "differs: Sage invoice %s, web %s", sage_total, *wsi_jstr(row, "web_total") ? wsi_jstr(row, "web_total") : "?");
		return *rank = 2, buf;
	}
	return *rank = 7, "ok";
}

static int by_rank(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = (int)json_integer_value(json_object_get(x, "rank")) - (int)json_integer_value(json_object_get(y, "rank"));
	return d ? d : strcmp(wsi_jstr(x, "key"), wsi_jstr(y, "key"));
}

static void print(struct report *r, int tsv, long *bad)
{
	json_t *out = json_array(), *counts = json_object();
	const char *id, *ref;
	json_t *row, *list;
	char buf[300];
	wsi_dec web_sum = {0}, sage_sum = {0};
	json_object_foreach(r->rows, id, row) {
		int rank;
		const char *v = verdict(r, row, buf, sizeof buf, &rank);
		const char *num = json_string_value(json_array_get(json_object_get(row, "sage"), 0));
		char nums[200] = "", key[160];
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(row, "sage"), i, x)
			snprintf(nums + strlen(nums), sizeof nums - strlen(nums), "%s%s", i ? "," : "", json_string_value(x));
		snprintf(key, sizeof key, "%s:%s", r->store, id);
		wsi_dec d;
		if (!wsi_dec_parse(wsi_jstr(row, "web_total"), strlen(wsi_jstr(row, "web_total")), &d))
			web_sum = wsi_dec_add(web_sum, d);
		const char *st = num ? wsi_jstr(r->totals, num) : NULL;
		if (st && !wsi_dec_parse(st, strlen(st), &d))
			sage_sum = wsi_dec_add(sage_sum, d);
		json_array_append_new(out, json_pack("{ss ss ss ss ss ss ss si}", "key", key, "status", wsi_jstr(row, "status"),
						     "web", wsi_jstr(row, "web_total"), "state", wsi_jstr(row, "state"), "sage", nums,
						     "sage_total", st ? st : "", "verdict", v, "rank", rank));
	}
	json_object_foreach(r->unknown, ref, list) {
		char nums[200] = "";
		size_t i;
		json_t *x;
		json_array_foreach(list, i, x)
			snprintf(nums + strlen(nums), sizeof nums - strlen(nums), "%s%s", i ? "," : "", json_string_value(x));
		json_array_append_new(out, json_pack("{ss ss ss ss ss ss ss si}", "key", ref, "status", "", "web", "", "state", "",
						     "sage", nums, "sage_total", "", "verdict", "unknown to wsi", "rank", 3));
	}
	size_t n = json_array_size(out), i;
	json_t **v = calloc(n ? n : 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(out, i);
	qsort(v, n, sizeof *v, by_rank);
	if (tsv)
		printf("key\tstore status\tweb total\twsi state\tSage orders\tSage invoice total\tverdict\n");
	else
		printf("%-22s %-11s %10s %-9s %-18s %10s  %s\n", "key", "store", "web total", "wsi", "Sage order", "Sage total",
		       "verdict");
	for (i = 0; i < n; i++) {
		json_t *x = v[i];
		printf(tsv ? "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" : "%-22s %-11s %10s %-9s %-18s %10s  %s\n", wsi_jstr(x, "key"),
		       wsi_jstr(x, "status"), wsi_jstr(x, "web"), wsi_jstr(x, "state"), wsi_jstr(x, "sage"),
		       wsi_jstr(x, "sage_total"), wsi_jstr(x, "verdict"));
		/* counted by the verdict's first word(s): "waiting", "skipped", "differs", ... */
		char word[40];
		snprintf(word, sizeof word, "%.*s", (int)strcspn(wsi_jstr(x, "verdict"), ":"), wsi_jstr(x, "verdict"));
		json_object_set_new(counts, word, json_integer(json_integer_value(json_object_get(counts, word)) + 1));
		const char *vd = wsi_jstr(x, "verdict");
		if (strcmp(vd, "ok") && strncmp(vd, "skipped", 7))
			(*bad)++;
	}
	char line[600] = "", w[40], s[40];
	const char *k;
	json_t *c;
	json_object_foreach(counts, k, c)
		snprintf(line + strlen(line), sizeof line - strlen(line), "%s%lld %s", *line ? ", " : "",
			 (long long)json_integer_value(c), k);
	if (tsv)
		printf("# %zu rows: %s; web %s, Sage %s\n", n, *line ? line : "none", wsi_dec_fmt(web_sum, 2, w, sizeof w),
		       wsi_dec_fmt(sage_sum, 2, s, sizeof s));
	else
		printf("%zu rows: %s; web total %s, Sage invoices %s\n", n, *line ? line : "none",
		       wsi_dec_fmt(web_sum, 2, w, sizeof w), wsi_dec_fmt(sage_sum, 2, s, sizeof s));
	free(v);
	json_decref(out);
	json_decref(counts);
}

int view_report(const wsi_config *cfg, sqlite3 *db, int tsv, int64_t from, int64_t to, int *status, wsi_error *e)
{
	struct report r = {cfg, wsi_conf(cfg, "store", "name", ""), from, to, json_object(), json_object(), json_object(), db,
			   NULL, 0};
	int rc = read_store(&r, e) || read_db(&r, e) || !(r.sage = wsi_sage_open(cfg, e)) || read_sage(&r, e);
	long bad = 0;
	if (!rc) {
		print(&r, tsv, &bad);
		r.requests += wsi_sage_requests(r.sage);
		wsi_info("%ld requests to the store and Sage", r.requests);
	}
	*status = bad ? WSI_EXIT_ORDERS : 0;
	wsi_sage_close(r.sage);
	json_decref(r.rows);
	json_decref(r.unknown);
	json_decref(r.totals);
	return rc ? -1 : 0;
}
