/* doctor.c - wsi-sync doctor: everything a first run needs, checked against the live store and
 * Sage, one line per check: "ok" or the problem with what fixes it. */
#include "order.h"
#include "views.h"
#include "db.h"
#include "json.h"
#include "sage.h"
#include "sale.h"
#include "store.h"
#include "timeutil.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct doctor {
	int worst;
	const wsi_config *cfg;
	sqlite3 *db;
	wsi_sage *sage;
};

/* One check's line; a problem raises the exit status to `status` (wsi(7)'s table). */
static void say(struct doctor *d, int status, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(struct doctor *d, int status, const char *what, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char clean[1400];
	wsi_redact(clean, sizeof clean, msg);
	printf("%-4s  %s%s%s\n", status ? "FAIL" : "ok", what, *clean ? ": " : "", clean);
	if (status > d->worst)
		d->worst = status;
}

static void clock_check(struct doctor *d, const char *what, int64_t theirs)
{
	long off = theirs ? (long)(theirs - wsi_now()) : 0;
	if (!theirs)
		say(d, 0, what, "sends no Date header: its clock is not known");
	else if (off > 60 || off < -60)
		say(d, WSI_EXIT_ORDERS, what, "its clock is %ld s %s ours: set both clocks by NTP (the marks are its times)",
		    off > 0 ? off : -off, off > 0 ? "ahead of" : "behind");
	else
		say(d, 0, what, "clock within %ld s of ours", off > 0 ? off : -off);
}

/* Opened (made, migrated: what a first run does), at this wsi's schema, writable. */
static void check_db(struct doctor *d, const char *path)
{
	wsi_error e = {0};
	if (!(d->db = wsi_db_open(path, &e)) || wsi_db_begin(d->db, &e)) {
		say(d, e.status, "database", "%s", e.msg);
		wsi_db_close(d->db);
		d->db = NULL;
		return;
	}
	wsi_db_rollback(d->db);
	say(d, 0, "database", "%s, writable, schema %d", path, wsi_db_schema());
}

static void check_store(struct doctor *d)
{
	wsi_error e = {0};
	wsi_store *s = wsi_store_open(d->cfg, &e);
	int64_t clock;
	if (!s) {
		say(d, e.status, "store", "%s", e.msg);
		return;
	}
	if (wsi_store_ping(s, &clock, &e))
		say(d, e.status, "store", "%s", e.msg);
	else {
		const char *type = wsi_conf(d->cfg, "store", "type", "");
		if (!strcmp(type, "file"))
			say(d, 0, "store", "file %s can be read", wsi_conf(d->cfg, "store", "url", ""));
		else {
			say(d, 0, "store", "%s %s answers, takes the credentials and the API version", type,
			    wsi_conf(d->cfg, "store", "url", ""));
			clock_check(d, "store clock", clock);
		}
	}
	wsi_store_close(s);
}

static int ignore_row(void *ud, json_t *row)
{
	(void)ud;
	(void)row;
	return 0;
}

static void check_sage(struct doctor *d)
{
	wsi_error e = {0};
	if (!(d->sage = wsi_sage_open(d->cfg, &e))) {
		say(d, e.status, "Sage", "%s", e.msg);
		return;
	}
	if (wsi_sage_each(d->sage, "AR/ARCustomers?$top=1&$select=CustomerNumber", ignore_row, NULL, &e)) {
		say(d, e.status, "Sage", "%s", e.msg);
		wsi_sage_close(d->sage);
		d->sage = NULL;
		return;
	}
	say(d, 0, "Sage", "%s answers, takes the user and opens the company", wsi_sage_url(d->sage));
	clock_check(d, "Sage clock", wsi_sage_clock(d->sage));
}

/* ---- mapping targets ---- */

static int keep_row(void *ud, json_t *row)
{
	return json_array_append((json_t *)ud, row);
}

/* Sage's rows of resource whose field is one of the values: {value: row}. */
static json_t *rows_of(struct doctor *d, const char *resource, const char *field, const char *select, json_t *values,
		       wsi_error *e)
{
	size_t n = json_object_size(values), i = 0;
	const char **v = calloc(n ? n : 1, sizeof *v);
	const char *k;
	json_t *x, *rows = json_array(), *by = json_object();
	json_object_foreach(values, k, x) v[i++] = k;
	int rc = !v ? wsi_fail(e, WSI_EXIT_LOCAL, "out of memory")
		    : wsi_sage_lookup(d->sage, resource, field, select, v, n, keep_row, rows, e);
	free(v);
	size_t j;
	json_array_foreach(rows, j, x) if (wsi_jstr(x, field)) json_object_set(by, wsi_jstr(x, field), x);
	json_decref(rows);
	if (rc) {
		json_decref(by);
		return NULL;
	}
	return by;
}

static int on_group(void *ud, json_t *row)
{
	for (int a = 1; a <= 5; a++) {
		char f[32];
		snprintf(f, sizeof f, "TaxAuthority%d", a);
		const char *v = wsi_jstr(row, f);
		if (v && *v)
			json_object_set_new(ud, v, json_true());
	}
	return 0;
}

/* Every tax authority some Sage tax group names. */
static json_t *tax_authorities(struct doctor *d, wsi_error *e)
{
	json_t *set = json_object();
	if (wsi_sage_each(d->sage, "TX/TXTaxGroups?$select=TaxGroup,TaxAuthority1,TaxAuthority2,TaxAuthority3,TaxAuthority4,"
				   "TaxAuthority5", on_group, set, e)) {
		json_decref(set);
		return NULL;
	}
	return set;
}

/* The store's currency, as its last 1000 orders give it (NULL when none is staged yet). */
static char *store_currency(struct doctor *d)
{
	sqlite3_stmt *st = wsi_db_prepare(d->db, "SELECT json_extract(" WSI_CANONICAL_SQL ",'$.currency'), count(*)"
						  " FROM (SELECT * FROM orders ORDER BY rowid DESC LIMIT 1000) GROUP BY 1 ORDER BY 2 DESC LIMIT 1", NULL);
	char *cur = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)
			    ? strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
	sqlite3_finalize(st);
	return cur;
}

static void check_mappings(struct doctor *d)
{
	wsi_error e = {0};
	sqlite3_stmt *st = wsi_db_prepare(d->db, "SELECT kind, from_code, to_code, to_extra FROM mappings ORDER BY kind, from_code", &e);
	if (!st) {
		say(d, WSI_EXIT_LOCAL, "mappings", "%s", e.msg);
		return;
	}
	json_t *maps = json_array(), *want[4] = {json_object(), json_object(), json_object(), json_object()};
	static const char *const kinds[] = {"item", "customer", "payment", "shipvia"};
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0), *to = (const char *)sqlite3_column_text(st, 2),
			   *extra = (const char *)sqlite3_column_text(st, 3);
		json_array_append_new(maps, json_pack("{ss ss ss ss}", "kind", kind, "from", sqlite3_column_text(st, 1),
						       "to", to, "extra", extra ? extra : ""));
		for (int k = 0; k < 4; k++)
			if (!strcmp(kind, kinds[k]))
				json_object_set_new(want[k], to, json_true());
	}
	sqlite3_finalize(st);
	/* the misc charges the config names */
	json_t *misc = json_object(), *codes = json_object();
	json_object_set_new(misc, wsi_conf(d->cfg, "sage", "shipping_charge", "SHIP"), json_true());
	json_object_set_new(misc, wsi_conf(d->cfg, "sage", "fee_charge", "FEE"), json_true());
	const char *rounding = wsi_conf(d->cfg, "sage", "rounding_charge", NULL);
	if (rounding && *rounding)
		json_object_set_new(misc, rounding, json_true());
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m) if (!strcmp(wsi_jstr(m, "kind"), "payment") && *wsi_jstr(m, "extra"))
		json_object_set_new(codes, wsi_jstr(m, "extra"), json_true());
	json_t *items = rows_of(d, "IC/ICItems", "ItemNumber", "ItemNumber,Status,Sellable", want[0], &e);
	json_t *custs = items ? rows_of(d, "AR/ARCustomers", "CustomerNumber", "CustomerNumber,Status,OnHold,CurrencyCode", want[1], &e) : NULL;
	json_t *banks = custs ? rows_of(d, "BK/BKBanks", "BankCode", "BankCode", want[2], &e) : NULL;
	json_t *pcs = banks ? rows_of(d, "AR/ARPaymentCodes", "PaymentCodeKey", "PaymentCodeKey", codes, &e) : NULL;
	json_t *vias = pcs ? rows_of(d, "OE/OEShipViaCodes", "ShipViaCode", "ShipViaCode", want[3], &e) : NULL;
	json_t *mcs = vias ? rows_of(d, "OE/OEMiscellaneousCharges", "MiscellaneousChargeCode", "MiscellaneousChargeCode", misc, &e)
			   : NULL;
	if (!mcs) {
		say(d, e.status, "mappings", "%s", e.msg);
		goto out;
	}
	char *cur = store_currency(d);
	int customers = 0, payments = 0;
	json_t *auths = NULL;
	json_array_foreach(maps, i, m) {
		const char *kind = wsi_jstr(m, "kind"), *to = wsi_jstr(m, "to"), *extra = wsi_jstr(m, "extra");
		char what[400];
		snprintf(what, sizeof what, "mapping %s %s -> %s%s%s", kind, wsi_jstr(m, "from"), to, *extra ? " " : "", extra);
		json_t *row;
		if (!strcmp(kind, "item")) {
			row = json_object_get(items, to);
			if (!row)
				say(d, WSI_EXIT_ORDERS, what, "item %s is not in Sage: add it, or wsi-remap the SKU to another", to);
			else if (!json_is_true(json_object_get(row, "Status")))
				say(d, WSI_EXIT_ORDERS, what, "item %s is inactive in Sage: make it active, or map to another", to);
			else if (json_is_false(json_object_get(row, "Sellable")))
				say(d, WSI_EXIT_ORDERS, what, "item %s is not sellable in Sage: change it, or map to another", to);
			else
				say(d, 0, what, "%s", "");
		} else if (!strcmp(kind, "customer")) {
			customers++;
			row = json_object_get(custs, to);
			const char *cc = wsi_jstr(row, "CurrencyCode");
			if (!row)
				say(d, WSI_EXIT_ORDERS, what, "customer %s is not in Sage: add it, or map to another", to);
			else if (strcmp(wsi_jstr(row, "Status") ? wsi_jstr(row, "Status") : "", "Active"))
				say(d, WSI_EXIT_ORDERS, what, "customer %s is inactive in Sage: make it active", to);
			else if (!strcmp(wsi_jstr(row, "OnHold") ? wsi_jstr(row, "OnHold") : "", "Yes"))
				say(d, WSI_EXIT_ORDERS, what, "customer %s is on hold in Sage: take it off hold", to);
			else if (cur && cc && strcmp(cur, cc))
				say(d, WSI_EXIT_ORDERS, what, "customer %s is in %s, the store's orders in %s: map to a customer in %s",
				    to, cc, cur, cur);
			else
				say(d, 0, what, "%s", "");
		} else if (!strcmp(kind, "payment")) {
			payments++;
			if (!json_object_get(banks, to))
				say(d, WSI_EXIT_ORDERS, what, "bank %s is not in Sage: add it, or map the payment to another", to);
			else if (!json_object_get(pcs, extra))
				say(d, WSI_EXIT_ORDERS, what, "payment code %s is not in Sage: add it, or map the payment to another", extra);
			else
				say(d, 0, what, "%s", "");
		} else if (!strcmp(kind, "tax")) {
			if (!auths)
				auths = tax_authorities(d, &e);
			if (!auths)
				say(d, e.status, what, "%s", e.msg);
			else if (json_object_get(auths, to))
				say(d, 0, what, "%s", "");
			else
				say(d, WSI_EXIT_ORDERS, what, "tax authority %s is in no Sage tax group: check the code in Sage (TX)", to);
		} else if (!strcmp(kind, "shipvia")) {
			if (json_object_get(vias, to))
				say(d, 0, what, "%s", "");
			else
				say(d, WSI_EXIT_ORDERS, what, "ship-via code %s is not in Sage: add it, or map to another", to);
		}
	}
	free(cur);
	json_decref(auths);
	if (!customers)
		say(d, WSI_EXIT_ORDERS, "mappings", "no customer mapping: every web customer waits for one; "
		    "wsi-remap add customer '*' <Sage customer>");
	const char *k;
	json_t *x;
	json_object_foreach(misc, k, x) {
		char what[200];
		snprintf(what, sizeof what, "miscellaneous charge %s", k);
		if (json_object_get(mcs, k))
			say(d, 0, what, "%s", "");
		else
			say(d, WSI_EXIT_ORDERS, what, "not in Sage: add it, or name another in [sage] shipping_charge / fee_charge / rounding_charge");
	}
	/* what the prepayment mode needs */
	const char *pp = wsi_sale_prepayment(d->cfg);
	if (strcmp(pp, "none") && !payments)
		say(d, WSI_EXIT_ORDERS, "prepayment", "[sage] prepayment = %s, but no payment mapping: every paid order waits; "
		    "wsi-remap add payment <method> <bank> <payment code>", pp);
	else if (!strcmp(pp, "receipt") &&
		 wsi_sage_each(d->sage, "AR/ARReceiptAndAdjustmentBatches?$top=1&$select=BatchNumber", ignore_row, NULL, &e))
		say(d, e.status, "prepayment", "receipt mode needs A/R receipt batches: %s", e.msg);
	else
		say(d, 0, "prepayment", "%s", pp);
out:
	for (int k2 = 0; k2 < 4; k2++)
		json_decref(want[k2]);
	json_decref(maps);
	json_decref(misc);
	json_decref(codes);
	json_decref(items);
	json_decref(custs);
	json_decref(banks);
	json_decref(pcs);
	json_decref(vias);
	json_decref(mcs);
}

int doctor(const char *config_path, const char *db_override)
{
	struct doctor d = {0};
	wsi_error e = {0};
	wsi_config *cfg = wsi_config_load(config_path, &e);
	if (!cfg) {
		say(&d, e.status, "config", "%s", e.msg);
		return d.worst;
	}
	d.cfg = cfg;
	struct stat st;
	const char *path = wsi_config_path(cfg);
	long n;
	const char *kind;
	if (wsi_store_mark_conf(cfg, &kind, &n, &e) || wsi_sale_post_conf(cfg, &n, &e))
		say(&d, e.status, "config", "%s", e.msg);
	else
		say(&d, 0, "config", "%s (mode %03o)", path, stat(path, &st) == 0 ? (unsigned)(st.st_mode & 0777) : 0);
	check_db(&d, wsi_conf_db(cfg, db_override));
	check_store(&d);
	check_sage(&d);
	if (d.db && d.sage)
		check_mappings(&d);
	else
		say(&d, d.worst ? d.worst : WSI_EXIT_REMOTE, "mappings", "not checked: %s", d.db ? "Sage could not be asked" : "no database");
	wsi_sage_close(d.sage);
	wsi_db_close(d.db);
	wsi_config_free(cfg);
	return d.worst;
}
