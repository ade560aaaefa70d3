/* wsi-validate - check mapped orders against the live Sage before anything is created there.
 * One run asks Sage about each distinct item, customer, bank and payment code once, many per
 * request; every reason an order cannot go on is kept, in words a bookkeeper understands. */
#include "order.h"
#include "cli.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include "keys.h"
#include "mapping.h"
#include "orders.h"
#include "sage.h"
#include "sale.h"
#include "timeutil.h"
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-validate [-c FILE] [-d DB] [-v] [-q] [-a | KEY...]\n"
		   "       wsi-validate -l\n"
		   "Check mapped orders against Sage (items, customer, credit limit, payment, totals,\n"
		   "currency) and print the keys of the valid ones; -a checks every mapped order and\n"
		   "the invalid ones again. -l lists every invalid order's reasons: key, code, sentence.\n"
		   "See wsi-validate(1).\n");
}

struct order {
	wsi_loaded k;             /* its key, and the compare of the move this run makes */
	int valid;                /* this run's answer */
	json_t *canon, *mapped;
};

struct run {
	sqlite3 *db;
	const wsi_config *cfg;
	struct order *o;
	size_t n, cap;
	json_t *items, *customers, *banks, *codes, *found; /* Sage's answers, by code */
	json_t *groups; /* TX/TXTaxGroups rows, by tax group */
	json_t *exempt; /* TX/TXTaxClasses: each authority's exempt item class for sales, by authority */
	json_t *rates;  /* tax = sage: TX/TXTaxRates rows for sales, by authority */
	int sage_tax;   /* [sage] tax = sage: Sage calculates, validate predicts */
	wsi_dec tolerance;
	const char *rounding_charge;
	json_t *asked;  /* "kind\tcode": asked of Sage already in this run (found or not) */
	json_t *owed;   /* unpaid totals per customer, this run's earlier orders included */
	wsi_order_list keys; /* the run's orders given by key; checked CHUNK at a time (o[0..n)) */
	size_t next, checked, total;
	int all;             /* -a: the chunks read from the database in key order, after `after` */
	char after_store[WSI_STORE_SIZE], after_id[WSI_ID_SIZE];
	wsi_error e;
};

/* Orders checked at a time: Sage is asked about a chunk, then it is judged in one transaction and
 * let go, so that memory stays flat however many orders a run checks. */
#define CHUNK 500

static char *upper(const char *s, char *buf, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	buf[i] = 0;
	return buf;
}

static int keep_row(json_t *into, const char *field, json_t *row)
{
	char b[128];
	const char *k = wsi_jstr(row, field);
	if (k)
		json_object_set(into, upper(k, b, sizeof b), row);
	return 0;
}
static int on_item(void *ud, json_t *row) { return keep_row(((struct run *)ud)->items, "ItemNumber", row); }
static int on_customer(void *ud, json_t *row) { return keep_row(((struct run *)ud)->customers, "CustomerNumber", row); }
static int on_bank(void *ud, json_t *row) { return keep_row(((struct run *)ud)->banks, "BankCode", row); }
static int on_code(void *ud, json_t *row) { return keep_row(((struct run *)ud)->codes, "PaymentCodeKey", row); }
static int on_group(void *ud, json_t *row)
{
	const char *tt = wsi_jstr(row, "TransactionType");
	return tt && strcmp(tt, "Sales") && strcmp(tt, "1") ? 0 : keep_row(((struct run *)ud)->groups, "TaxGroup", row);
}
static int on_rate(void *ud, json_t *row)
{
	struct run *r = ud;
	char up[128];
	const char *tt = wsi_jstr(row, "TransactionType"), *auth = wsi_jstr(row, "TaxAuthority");
	if (!auth || (tt && strcmp(tt, "Sales") && strcmp(tt, "1")))
		return 0;
	json_t *list = json_object_get(r->rates, upper(auth, up, sizeof up));
	if (!list)
		json_object_set_new(r->rates, up, list = json_array());
	json_array_append(list, row);
	return 0;
}

/* A sales item class marked exempt: the lowest such class of its authority. */
static int on_class(void *ud, json_t *row)
{
	struct run *r = ud;
	char b[128], up[128];
	const char *tt = wsi_jstr(row, "TransactionType"), *ct = wsi_jtext(row, "ClassType", b, sizeof b);
	const char *auth = wsi_jstr(row, "TaxAuthority");
	json_int_t cls = json_integer_value(json_object_get(row, "Class"));
	if (!auth || !json_is_true(json_object_get(row, "Exempt")) || cls < 1 || (tt && strcmp(tt, "Sales") && strcmp(tt, "1")) ||
	    !ct || (strcmp(ct, "Items") && strcmp(ct, "Item") && strcmp(ct, "2")))
		return 0;
	json_int_t had = json_integer_value(json_object_get(r->exempt, upper(auth, up, sizeof up)));
	if (!had || cls < had)
		json_object_set_new(r->exempt, up, json_integer(cls));
	return 0;
}

static int on_found(void *ud, const char *ref, const wsi_sale_numbers *n)
{
	struct run *r = ud;
	json_object_set_new(r->found, ref, json_pack("{ss ss ss ss}", "order", n->order, "shipment", n->shipment,
						     "invoice", n->invoice, "receipt", n->receipt));
	return 0;
}

/* The states wsi-validate checks: with -a, and given by key (a valid order checked again). */
#define CHECKED_BY_ALL (WSI_S(WSI_MAPPED) | WSI_S(WSI_INVALID) | WSI_S(WSI_FAILED))
#define CHECKED_BY_KEY (CHECKED_BY_ALL | WSI_S(WSI_VALID))

static void no_such_order(void *ud, const char *key)
{
	(void)ud;
	wsi_err("%s: no such order", key);
}

/* The run's orders (the key loop), as loaded: the compare of each move. */
static int load_keys(struct run *r, int all, int argc, char **argv)
{
	r->all = all;
	if (all) { /* read chunk by chunk: no list of every order, a count */
		char sql[300], states[160];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM orders WHERE state IN (%s)",
			 wsi_states_sql(CHECKED_BY_ALL, states, sizeof states));
		sqlite3_stmt *st = wsi_db_prepare(r->db, sql, &r->e);
		if (!st)
			return -1;
		r->total = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		return 0;
	}
	if (argc == 0 && isatty(STDIN_FILENO))
		return wsi_fail(&r->e, WSI_EXIT_USAGE, "which orders? give keys (STORE:ID), pipe them in, or use -a");
	int rc = wsi_keys_load(r->db, 0, CHECKED_BY_ALL, argc, argv, &r->keys, no_such_order, NULL, &r->e);
	r->total = r->keys.n;
	return rc;
}

static struct order *next_slot(struct run *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct order *more = realloc(r->o, cap * sizeof *more);
		if (!more)
			return NULL;
		r->o = more;
		r->cap = cap;
	}
	struct order *o = &r->o[r->n++];
	memset(o, 0, sizeof *o);
	return o;
}

/* -a: the next CHUNK orders to check, in key order after the last chunk's, as they are now. */
static int load_chunk_all(struct run *r)
{
	char sql[400], states[160];
	snprintf(sql, sizeof sql, "SELECT store, id, state, rev, recheck, mapped, " WSI_STORED_COLS " FROM orders"
		 " WHERE state IN (%s) AND (store, id) > (?1, ?2) ORDER BY store, id LIMIT %d",
		 wsi_states_sql(CHECKED_BY_ALL, states, sizeof states), CHUNK);
	sqlite3_stmt *st = wsi_db_prepare(r->db, sql, &r->e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->after_store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->after_id, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct order *o = next_slot(r);
		if (!o)
			break;
		const char *mapped = (const char *)sqlite3_column_text(st, 5);
		wsi_order_from_row(&o->k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
				   st, 2);
		o->canon = wsi_order_stored_row(st, 6);
		o->mapped = wsi_mapped_read(mapped);
		snprintf(r->after_store, sizeof r->after_store, "%s", o->k.store);
		snprintf(r->after_id, sizeof r->after_id, "%s", o->k.id);
	}
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return wsi_fail(&r->e, WSI_EXIT_LOCAL, "out of memory");
	return step == SQLITE_DONE ? 0 : wsi_db_fail(r->db, &r->e, "cannot read orders");
}

static void free_chunk(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		json_decref(r->o[i].canon);
		json_decref(r->o[i].mapped);
	}
	r->n = 0;
}

/* The next chunk of the run's orders, each with its canonical order and mapping: 0 (r->n of them) or -1. */
static int load_chunk(struct run *r)
{
	int rc = 0;
	free_chunk(r);
	if (r->all)
		return load_chunk_all(r);
	sqlite3_stmt *st = wsi_db_prepare(r->db, "SELECT mapped, " WSI_STORED_COLS " FROM orders WHERE store=? AND id=?", &r->e);
	if (!st)
		return -1;
	for (; r->next < r->keys.n && r->n < CHUNK && !rc; r->next++) {
		const wsi_loaded *k = &r->keys.o[r->next];
		if (k->state < 0 || !(WSI_S(k->state) & CHECKED_BY_KEY)) {
			wsi_warn("%s:%s is %s: %s", k->store, k->id, wsi_state_name(k->state),
				 k->state == WSI_STAGED ? "map it first (wsi-remap)" : "not checked");
			continue;
		}
		sqlite3_bind_text(st, 1, k->store, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		struct order *o = step == SQLITE_ROW ? next_slot(r) : NULL;
		if (step == SQLITE_ROW && !o) {
			rc = wsi_fail(&r->e, WSI_EXIT_LOCAL, "out of memory");
		} else if (o) {
			const char *mapped = (const char *)sqlite3_column_text(st, 0);
			o->k = *k;
			o->canon = wsi_order_stored_row(st, 1);
			o->mapped = wsi_mapped_read(mapped);
		} else if (step != SQLITE_DONE) {
			rc = wsi_db_fail(r->db, &r->e, "cannot read orders");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Add code to set unless this run asked Sage about it already (kind: what it is). */
static void to_ask(struct run *r, json_t *set, const char *kind, const char *code)
{
	char k[300];
	snprintf(k, sizeof k, "%s\t%s", kind, code);
	if (json_object_get(r->asked, k))
		return;
	json_object_set_new(r->asked, k, json_true());
	json_object_set_new(set, code, json_true());
}

/* Ask Sage about the codes of set (its keys), twenty to a request. */
static int ask_keys(struct run *r, wsi_sage *s, json_t *set, const char *res, const char *field, const char *select,
		    wsi_sage_row_fn fn)
{
	size_t n = json_object_size(set), i = 0;
	const char **v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return wsi_fail(&r->e, WSI_EXIT_LOCAL, "out of memory");
	const char *key;
	json_t *val;
	json_object_foreach(set, key, val)
		v[i++] = key;
	int rc = wsi_sage_lookup(s, res, field, select, v, n, fn, r, &r->e);
	free(v);
	return rc;
}

/* Ask Sage about everything the chunk's orders need that the run has not asked yet: one batch per kind. */
static int ask_sage(struct run *r, wsi_sage *s)
{
	json_t *items = json_object(), *customers = json_object(), *banks = json_object(), *codes = json_object(),
	       *refs = json_array();
	for (size_t i = 0; i < r->n; i++) {
		struct order *o = &r->o[i];
		size_t k;
		json_t *it;
		const json_t *its = json_object_get(o->mapped, "items");
		wsi_json_each(its, k, it) {
			const char *to = wsi_jstr(it, "to");
			if (to && *to)
				to_ask(r, items, "item", to);
		}
		const char *cu = wsi_jstr(json_object_get(o->mapped, "customer"), "to");
		if (cu)
			to_ask(r, customers, "customer", cu);
		const json_t *pay = json_object_get(o->mapped, "payment");
		if (wsi_jstr(pay, "bank"))
			to_ask(r, banks, "bank", wsi_jstr(pay, "bank"));
		if (wsi_jstr(pay, "code"))
			to_ask(r, codes, "code", wsi_jstr(pay, "code"));
		char ref[160];
		wsi_sale_reference(o->k.store, o->k.id, ref, sizeof ref);
		json_array_append_new(refs, json_string(ref));
	}
	struct { json_t *set; const char *res, *field, *select; wsi_sage_row_fn fn; } ask[] = {
		{items, "IC/ICItems", "ItemNumber", "ItemNumber,UnformattedItemNumber,Description,Status,Sellable", on_item},
		{customers, "AR/ARCustomers", "CustomerNumber",
		 "CustomerNumber,CustomerName,Status,OnHold,CurrencyCode,CheckCreditLimit,CreditLimitCustomerCurrency,"
		 "BalanceDueInCustomerCurrency,TaxGroup,TaxClassCode1,TaxClassCode2,TaxClassCode3,TaxClassCode4,TaxClassCode5",
		 on_customer},
		{banks, "BK/BKBanks", "BankCode", "BankCode,Description", on_bank},
		{codes, "AR/ARPaymentCodes", "PaymentCodeKey", "PaymentCodeKey,Description,Status", on_code}};
	int rc = 0;
	for (size_t a = 0; a < sizeof ask / sizeof *ask && !rc; a++)
		rc = ask_keys(r, s, ask[a].set, ask[a].res, ask[a].field, ask[a].select, ask[a].fn);
	json_object_clear(r->found); /* the chunk's own */
	if (!rc) {
		size_t n = json_array_size(refs);
		const char **v = calloc(n ? n : 1, sizeof *v);
		for (size_t i = 0; i < n; i++)
			v[i] = json_string_value(json_array_get(refs, i));
		rc = wsi_sale_find(s, r->cfg, v, n, on_found, r, &r->e);
		free(v);
	}
	/* the tax groups of the orders' customers: where each authority is (1..5), and its exempt class */
	json_t *groups = json_object();
	for (size_t i = 0; i < r->n && !rc; i++) {
		char up[128];
		const char *cu = wsi_jstr(json_object_get(r->o[i].mapped, "customer"), "to");
		const char *g = cu ? wsi_jstr(json_object_get(r->customers, upper(cu, up, sizeof up)), "TaxGroup") : NULL;
		if (g && *g)
			to_ask(r, groups, "group", g);
	}
	if (!rc)
		rc = ask_keys(r, s, groups, "TX/TXTaxGroups", "TaxGroup",
			      "TaxGroup,TransactionType,CalculationMethod,TaxAuthority1,TaxAuthority2,TaxAuthority3,TaxAuthority4,"
			      "TaxAuthority5", on_group);
	/* the exempt classes of the authorities of those groups */
	json_t *auths = json_object();
	const char *gk;
	json_t *gv;
	json_object_foreach(r->groups, gk, gv)
		for (int k = 1; k <= 5; k++) {
			char f[32];
			snprintf(f, sizeof f, "TaxAuthority%d", k);
			const char *a = wsi_jstr(gv, f);
			if (a && *a)
				to_ask(r, auths, "authority", a);
		}
	if (!rc)
		rc = ask_keys(r, s, auths, "TX/TXTaxClasses", "TaxAuthority", "TaxAuthority,TransactionType,ClassType,Class,Exempt",
			      on_class);
	if (!rc && r->sage_tax) /* and what Sage will charge, to predict it */
		rc = ask_keys(r, s, auths, "TX/TXTaxRates", "TaxAuthority",
			      "TaxAuthority,TransactionType,BuyerClass,ItemRate1,ItemRate2,ItemRate3,ItemRate4,ItemRate5,"
			      "ItemRate6,ItemRate7,ItemRate8,ItemRate9,ItemRate10", on_rate);
	json_decref(auths);
	json_decref(groups);
	json_decref(items);
	json_decref(customers);
	json_decref(banks);
	json_decref(codes);
	json_decref(refs);
	return rc;
}

struct reasons {
	const char *code[64], *subject[64]; /* (subjects copied: a line or tax read is let go after it) */
	char *msg[64];
	int n;
};

/* A reason: its code, what it is about (a SKU, a customer…), and the sentence. */
static void add(struct reasons *rs, const char *code, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct reasons *rs, const char *code, const char *subject, const char *fmt, ...)
{
	if (rs->n == 64)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&rs->msg[rs->n], fmt, ap) >= 0) {
		rs->subject[rs->n] = subject ? strdup(subject) : NULL;
		rs->code[rs->n++] = code;
	}
	va_end(ap);
}

static wsi_dec dec(const json_t *o, const char *k)
{
	wsi_dec d = {0};
	wsi_jdec(o, k, (wsi_dec){0}, &d);
	return d;
}

static const char *money(wsi_dec d, char *b, size_t n) { return wsi_dec_fmt(d, 2, b, n); }

/* Every reason the order cannot go on; none means valid. `owed` sums unpaid orders per customer. */
/* Each line's item: in Sage, active, sellable; a positive quantity. */
static void check_lines(struct run *r, const json_t *c, const json_t *m, struct reasons *rs)
{
	char up[128];
	size_t i;
	json_t *l, *mi = NULL;
	const json_t *lines = json_object_get(c, "lines");
	wsi_json_each(lines, i, l) {
		json_decref(mi); /* the line before's mapping (its item, read) */
		mi = wsi_json_elem(json_object_get(m, "items"), i);
		const char *sku = wsi_jstr(l, "sku"), *to = wsi_jstr(mi, "to"), *name = wsi_jstr(l, "name");
		wsi_dec q = dec(l, "quantity");
		if (q.v <= 0)
			add(rs, "quantity-not-positive", NULL, "Line %zu (%s): the quantity is %s; it must be more than zero.", i + 1,
			    name, wsi_jstr(l, "quantity"));
		if (!to || !*to) {
			add(rs, "item-missing", "", "Line %zu (%s) has no SKU: give the product a SKU in the store.", i + 1, name);
			continue;
		}
		json_t *it = json_object_get(r->items, upper(to, up, sizeof up));
		if (!it)
			add(rs, "item-missing", to,
			    "Line %zu: item %s is not in Sage. Add the item in Sage, or map the web SKU to a Sage item: "
			    "wsi-remap add item %s <Sage item>.", i + 1, to, sku && *sku ? sku : to);
		else if (!json_is_true(json_object_get(it, "Status")))
			add(rs, "item-inactive", to, "Line %zu: item %s (%s) is inactive in Sage.", i + 1, to, wsi_jstr(it, "Description"));
		else if (json_is_false(json_object_get(it, "Sellable")))
			add(rs, "item-not-sellable", to, "Line %zu: item %s (%s) is not sellable in Sage.", i + 1, to,
			    wsi_jstr(it, "Description"));
	}
	json_decref(mi);
	if (!json_array_size(json_object_get(c, "lines")))
		add(rs, "no-lines", NULL, "The order has no lines.");
}

/* The customer: mapped, in Sage, active, not on hold, in the order's currency, within its credit limit
 * (this run's earlier orders counted, in owed). */
static void check_customer(struct run *r, const json_t *c, const json_t *m, json_t *owed, struct reasons *rs)
{
	char b1[40], b2[40], b3[40], up[128];
	const json_t *mc = json_object_get(m, "customer");
	const char *cust = wsi_jstr(mc, "to"), *from = wsi_jstr(mc, "from");
	json_t *cu = cust ? json_object_get(r->customers, upper(cust, up, sizeof up)) : NULL;
	int paid = json_is_true(json_object_get(c, "paid"));
	wsi_dec total = dec(json_object_get(c, "totals"), "total");
	if (!cust)
		add(rs, "customer-unmapped", from,
		    "The web customer %s has no Sage customer: wsi-remap add customer %s <Sage customer>, or a default "
		    "for all: wsi-remap add customer '*' <Sage customer>.", from && *from ? from : "(none)",
		    from && *from ? from : "'*'");
	else if (!cu)
		add(rs, "customer-missing", cust, "Customer %s is not in Sage.", cust);
	else {
		const char *name = wsi_jstr(cu, "CustomerName");
		if (wsi_jstr(cu, "Status") && strcmp(wsi_jstr(cu, "Status"), "Active"))
			add(rs, "customer-inactive", cust, "Customer %s (%s) is inactive in Sage.", cust, name);
		if (wsi_jstr(cu, "OnHold") && !strcmp(wsi_jstr(cu, "OnHold"), "Yes"))
			add(rs, "customer-on-hold", cust, "Customer %s (%s) is on hold in Sage: take it off hold, then check again.", cust,
			    name);
		const char *cur = wsi_jstr(c, "currency"), *ccur = wsi_jstr(cu, "CurrencyCode");
		const char *pcur = wsi_jstr(json_object_get(c, "presentment"), "currency");
		if (cur && *cur && ccur && *ccur && strcmp(cur, ccur))
			add(rs, "currency-mismatch", cust, "The order is in %s%s%s%s but customer %s is billed in %s.", cur,
			    pcur ? " (paid in " : "", pcur ? pcur : "", pcur ? ")" : "", cust, ccur);
		if (!paid && wsi_jstr(cu, "CheckCreditLimit") && !strcmp(wsi_jstr(cu, "CheckCreditLimit"), "Yes")) {
			wsi_dec limit = dec(cu, "CreditLimitCustomerCurrency"), bal = dec(cu, "BalanceDueInCustomerCurrency");
			wsi_dec before = dec(owed, upper(cust, up, sizeof up));
			wsi_dec after = wsi_dec_add(wsi_dec_add(bal, before), total);
			if (limit.v > 0 && after.v > limit.v)
				add(rs, "credit-limit", cust,
				    "Customer %s (%s) would be over its credit limit: balance %s%s plus this order %s is more than the "
				    "limit %s.", cust, name, money(wsi_dec_add(bal, before), b1, sizeof b1),
				    before.v ? " (with this run's earlier orders)" : "", money(total, b2, sizeof b2),
				    money(limit, b3, sizeof b3));
			else
				wsi_jset_dec(owed, up, wsi_dec_add(before, total));
		}
	}
}

/* A class number from a Sage field (an integer or its text); dflt when absent. */
static json_int_t class_of(const json_t *row, const char *field, json_int_t dflt)
{
	const json_t *v = json_object_get(row, field);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : json_is_string(v) ? atoll(json_string_value(v)) : 0;
	return n > 0 ? n : dflt;
}

/* tax = sage: what Sage will calculate (money.md section 1: per authority, the rate of the
 * customer's class and the line's item class; by detail each line rounded, by summary the sum once)
 * against what the store charged. Within rounding_tolerance (and with a rounding charge for what
 * Sage leaves short) it goes in the plan; else the order waits, naming both. */
static void predict_tax(struct run *r, const json_t *c, const json_t *cu, const json_t *group, json_t *plan,
			struct reasons *rs)
{
	char up[128], b1[40], b2[40], f[32];
	wsi_dec pred[6] = {{0}}, web[6] = {{0}}, exact[6] = {{0}};
	const json_t *index = json_object_get(plan, "index"), *ex = json_object_get(plan, "exempt");
	json_t *cents = wsi_sale_cents(c, index); /* Sage calculates on the nets it is sent */
	if (cents)
		c = cents;
	wsi_tax_index *ti = wsi_tax_index_new(c);
	const char *method = wsi_jstr(group, "CalculationMethod");
	int summary = method && (!strcmp(method, "Summary") || !strcmp(method, "1"));
	static const struct { const char *on, *part; } parts[] = {{"line", "lines"}, {"shipping", "shipping_lines"}, {"fee", "fees"}};
	for (size_t p = 0; p < 3; p++) {
		size_t n;
		json_t *l;
		const json_t *part = json_object_get(c, parts[p].part);
		wsi_json_each(part, n, l) {
			wsi_dec net = dec(l, "total"), taxed[6] = {{0}};
			size_t cursor = 0;
			json_t *t;
			while ((t = wsi_tax_index_next(ti, parts[p].on, n, &cursor))) {
				json_int_t a = json_integer_value(json_object_get(index, wsi_jstr(t, "code") ? wsi_jstr(t, "code") : ""));
				if (a >= 1 && a <= 5)
					taxed[a] = wsi_dec_add(taxed[a], dec(t, "amount"));
				json_decref(t);
			}
			for (int a = 1; a <= 5; a++) {
				snprintf(f, sizeof f, "TaxAuthority%d", a);
				const char *auth = wsi_jstr(group, f);
				if (!auth || !*auth)
					continue;
				web[a] = wsi_dec_add(web[a], taxed[a]);
				snprintf(f, sizeof f, "TaxClassCode%d", a);
				json_int_t buyer = class_of(cu, f, 1), item = 1;
				snprintf(f, sizeof f, "%d", a);
				if (!taxed[a].v && json_integer_value(json_object_get(ex, f)) > 0)
					item = json_integer_value(json_object_get(ex, f));
				const json_t *row = NULL, *x;
				size_t k;
				json_array_foreach(json_object_get(r->rates, upper(auth, up, sizeof up)), k, x)
					if (class_of(x, "BuyerClass", 1) == buyer)
						row = x;
				snprintf(f, sizeof f, "ItemRate%lld", (long long)item);
				wsi_dec rate = dec(row, f), x100 = {0};
				wsi_dec_mul(net, rate, &x100);
				wsi_dec_div(x100, (wsi_dec){100 * WSI_DEC_ONE}, &x100);
				exact[a] = wsi_dec_add(exact[a], x100);
				pred[a] = wsi_dec_add(pred[a], wsi_dec_round(x100, 2));
			}
		}
	}
	wsi_dec all_web = {0}, all_pred = {0};
	json_t *list = json_array();
	char said_web[200] = "", said_pred[200] = "";
	int apart = 0;
	for (int a = 1; a <= 5; a++) {
		if (summary)
			pred[a] = wsi_dec_round(exact[a], 2);
		web[a] = wsi_dec_round(web[a], 2); /* what a store keeping 4 decimals charged */
		all_web = wsi_dec_add(all_web, web[a]);
		all_pred = wsi_dec_add(all_pred, pred[a]);
		json_array_append_new(list, json_string(wsi_dec_fmt(pred[a], 2, b1, sizeof b1)));
		snprintf(f, sizeof f, "TaxAuthority%d", a);
		const char *auth = wsi_jstr(group, f);
		if (!auth || !*auth)
			continue;
		wsi_dec d = wsi_dec_sub(web[a], pred[a]);
		apart |= (d.v < 0 ? -d.v : d.v) > r->tolerance.v;
		snprintf(said_web + strlen(said_web), sizeof said_web - strlen(said_web), "%s%s %s", *said_web ? ", " : "", auth,
			 wsi_dec_fmt(web[a], 2, b1, sizeof b1));
		snprintf(said_pred + strlen(said_pred), sizeof said_pred - strlen(said_pred), "%s%s %s", *said_pred ? ", " : "", auth,
			 wsi_dec_fmt(pred[a], 2, b2, sizeof b2));
	}
	wsi_dec short_by = wsi_dec_sub(all_web, all_pred);
	json_object_set_new(plan, "mode", json_string("sage"));
	json_object_set_new(plan, "predicted", list);
	if (short_by.v > 0 && r->rounding_charge) {
		json_object_set_new(plan, "rounding", json_string(wsi_dec_fmt(short_by, 2, b1, sizeof b1)));
		json_object_set_new(plan, "rounding_charge", json_string(r->rounding_charge));
	}
	if (apart || short_by.v < 0 || (short_by.v > 0 && !r->rounding_charge))
		add(rs, "tax-differs", NULL,
		    "Sage would calculate %s tax (%s), the store charged %s (%s): %s.", wsi_dec_fmt(all_pred, 2, b1, sizeof b1),
		    said_pred, wsi_dec_fmt(all_web, 2, b2, sizeof b2), said_web,
		    apart ? "more apart than [sage] rounding_tolerance"
		    : short_by.v < 0 ? "Sage would charge more, and a rounding charge cannot take it off"
				     : "name a rounding charge ([sage] rounding_charge) to take the difference");
	wsi_tax_index_free(ti);
	json_decref(cents);
}

/* Each web tax code mapped to a Sage authority in the customer's tax group: its index (1..5) is kept
 * in the order's mapping (mapped.tax) for wsi-post; never all on authority 1. */
static void check_taxes(struct run *r, const json_t *c, json_t *m, struct reasons *rs)
{
	char up[128];
	const json_t *taxes = json_object_get(c, "taxes");
	const char *cust = wsi_jstr(json_object_get(m, "customer"), "to");
	const json_t *cu = cust ? json_object_get(r->customers, upper(cust, up, sizeof up)) : NULL;
	if (!cu)
		return; /* the customer's own reason says why */
	const char *gname = wsi_jstr(cu, "TaxGroup") ? wsi_jstr(cu, "TaxGroup") : "";
	const json_t *group = json_object_get(r->groups, upper(gname, up, sizeof up));
	json_t *index = json_object();
	size_t i;
	json_t *t;
	wsi_json_each(taxes, i, t) {
		const char *code = wsi_jstr(t, "code") ? wsi_jstr(t, "code") : "";
		if (json_object_get(index, code))
			continue;
		const char *auth = wsi_jstr(json_object_get(json_object_get(m, "taxes"), code), "to");
		int a = 0;
		for (int k = 1; auth && group && k <= 5 && !a; k++) {
			char f[32];
			snprintf(f, sizeof f, "TaxAuthority%d", k);
			if (wsi_jstr(group, f) && !strcasecmp(wsi_jstr(group, f), auth))
				a = k;
		}
		json_object_set_new(index, code, json_integer(a));
		if (!*code)
			add(rs, "tax-unmapped", "", "A line has tax with no web tax code: fix the tax in the store.");
		else if (!auth)
			add(rs, "tax-unmapped", code, "Web tax %s has no Sage tax authority: wsi-remap add tax '%s' <authority>.",
			    code, code);
		else if (!group)
			add(rs, "tax-not-in-group", auth, "Customer %s's tax group %s is not in Sage's tax groups (TX).", cust, gname);
		else if (!a)
			add(rs, "tax-not-in-group", auth, "Tax authority %s (web tax %s) is not in tax group %s of customer %s.", auth,
			    code, gname, cust);
	}
	/* each of the group's authorities' exempt item class, for the lines the store did not tax */
	json_t *exempt = json_object();
	for (int k = 1; k <= 5 && group; k++) {
		char f[32], n[4];
		snprintf(f, sizeof f, "TaxAuthority%d", k);
		const char *a = wsi_jstr(group, f);
		json_int_t cls = a && *a ? json_integer_value(json_object_get(r->exempt, upper(a, up, sizeof up))) : 0;
		snprintf(n, sizeof n, "%d", k);
		if (cls > 0)
			json_object_set_new(exempt, n, json_integer(cls));
	}
	json_t *plan = json_pack("{ss so so}", "group", gname, "index", index, "exempt", exempt);
	if (r->sage_tax && group)
		predict_tax(r, c, cu, group, plan, rs);
	json_object_set_new(m, "tax", plan);
}

/* The payment mapped to a bank and code Sage has; the parts add up to the total; no refund, no overpayment. */
static void check_money(struct run *r, const json_t *c, const json_t *m, struct reasons *rs)
{
	char b1[40], b2[40], up[128];
	size_t i;
	json_t *l;
	int paid = json_is_true(json_object_get(c, "paid"));
	wsi_dec total = dec(json_object_get(c, "totals"), "total");
	if (paid) {
		const json_t *pay = json_object_get(m, "payment");
		const char *bank = wsi_jstr(pay, "bank"), *code = wsi_jstr(pay, "code"), *method = wsi_jstr(pay, "from");
		if (!bank || !code)
			add(rs, "payment-unmapped", method,
			    "The order was paid by %s, which has no Sage bank and payment code: wsi-remap add payment %s <bank> "
			    "<payment code>.", method && *method ? method : "(no method)", method && *method ? method : "'*'");
		else {
			if (!json_object_get(r->banks, upper(bank, up, sizeof up)))
				add(rs, "bank-missing", bank, "Bank %s (for %s payments) is not in Sage.", bank, method);
			if (!json_object_get(r->codes, upper(code, up, sizeof up)))
				add(rs, "payment-code-missing", code, "Payment code %s (for %s payments) is not in Sage.", code, method);
		}
	}
	/* lines (after discounts), shipping, fees and tax must make the total, to the cent */
	wsi_dec sum = {0};
	const char *parts[] = {"lines", "shipping_lines", "fees"};
	for (size_t p = 0; p < 3; p++) {
		const json_t *part = json_object_get(c, parts[p]);
		wsi_json_each(part, i, l)
			sum = wsi_dec_add(sum, wsi_dec_add(dec(l, "total"), dec(l, "tax")));
	}
	if (wsi_dec_round(sum, 2).v != wsi_dec_round(total, 2).v)
		add(rs, "total-mismatch", NULL,
		    "The lines, shipping, fees and tax add up to %s, but the order total is %s: fix the order in the store.",
		    money(sum, b1, sizeof b1), money(total, b2, sizeof b2));
	/* a Shopify order is posted as it is now, refunds taken off (decision 2); a WooCommerce one waits */
	wsi_dec refunded = dec(json_object_get(c, "totals"), "refunded");
	const char *source = wsi_jstr(c, "source");
	if (refunded.v && !(source && !strcmp(source, "shopify")))
		add(rs, "refunded", NULL, "The order has refunds of %s in the store: post it by hand, with a credit note.",
		    money(refunded, b1, sizeof b1));
	if (paid) {
		wsi_dec amt = dec(c, "paid_amount");
		if (amt.v > total.v)
			add(rs, "overpaid", NULL, "The customer paid %s, more than the order total %s.", money(amt, b1, sizeof b1),
			    money(total, b2, sizeof b2));
	}
}

/* The money the customer is billed in: a Shopify order paid in it rather than in the shop's is
 * checked, and posted, in it (money.md decision 2); the choice is kept in the mapping. */
static void choose_money(struct run *r, struct order *o)
{
	char up[128];
	const char *cust = wsi_jstr(json_object_get(o->mapped, "customer"), "to");
	const json_t *cu = cust ? json_object_get(r->customers, upper(cust, up, sizeof up)) : NULL;
	const char *ccur = wsi_jstr(cu, "CurrencyCode"), *cur = wsi_jstr(o->canon, "currency");
	const char *pcur = wsi_jstr(json_object_get(o->canon, "presentment"), "currency");
	json_object_del(o->mapped, "money");
	if (ccur && cur && pcur && strcmp(cur, ccur) && !strcmp(pcur, ccur)) {
		json_object_set_new(o->mapped, "money", json_string("presentment"));
		o->canon = wsi_order_money_set(o->canon, o->mapped);
	}
}

static void check(struct run *r, struct order *o, json_t *owed, struct reasons *rs)
{
	choose_money(r, o);
	const json_t *c = o->canon;
	json_t *m = o->mapped;
	if (!json_object_size((json_t *)c)) {
		add(rs, "unreadable", NULL, "The order as downloaded could not be read: fix it in the store, and it comes again.");
		return;
	}
	wsi_error too_long = {0};
	if (wsi_sale_reference_check(r->cfg, o->k.store, o->k.id, &too_long))
		add(rs, "reference-too-long", o->k.store, "%s", too_long.msg);
	check_lines(r, c, m, rs);
	check_customer(r, c, m, owed, rs);
	check_taxes(r, c, m, rs);
	check_money(r, c, m, rs);
	/* what wsi-post would decline for money is found here, never only at post time */
	wsi_error why = {0};
	char *body = rs->n ? NULL : wsi_sale_order_body(r->cfg, o->k.store, o->k.id, c, m, &why);
	if (!rs->n && !body && why.status == WSI_EXIT_ORDERS) {
		const char *msg = strncmp(why.msg, o->k.store, strlen(o->k.store)) ? why.msg : why.msg + strcspn(why.msg, " ") + 1;
		add(rs, wsi_sale_refusal(), NULL, "%s", msg);
	}
	free(body);
}

/* Another run moved it after this one loaded it: its move wins. */
static void moved_meanwhile(const struct order *o)
{
	wsi_warn("%s:%s: moved by another run meanwhile (it is now %s): left as it is", o->k.store, o->k.id,
		 wsi_state_name(o->k.state));
}

/* What validation found for wsi-post (the tax plan), kept with the order's mapping, in the judge's transaction. */
static int save_mapped(struct run *r, const struct order *o)
{
	char *text = wsi_json_dump_exact(o->mapped); /* (its items as they were read) */
	sqlite3_stmt *st = text ? wsi_db_prepare(r->db, "UPDATE orders SET mapped=? WHERE store=? AND id=?", &r->e) : NULL;
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->k.store, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o->k.id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : wsi_db_fail(r->db, &r->e, "cannot record an order's tax plan");
		sqlite3_finalize(st);
	} else if (!text)
		wsi_fail(&r->e, WSI_EXIT_LOCAL, "out of memory");
	free(text);
	return rc;
}

static int record(struct run *r, FILE *out, long *nvalid, long *ninvalid, long *nposted)
{
	json_t *owed = r->owed;
	int rc = wsi_db_begin(r->db, &r->e);
	for (size_t i = 0; i < r->n && !rc; i++) {
		struct order *o = &r->o[i];
		char ref[160];
		wsi_sale_reference(o->k.store, o->k.id, ref, sizeof ref);
		json_t *f = json_object_get(r->found, ref);
		if (f) {
			/* Sage has it already: recorded as posted, never posted again */
			char why[200];
			snprintf(why, sizeof why, "Sage already has it as order %s", wsi_jstr(f, "order"));
			wsi_sage_ids ids = {wsi_jstr(f, "order"), wsi_jstr(f, "shipment"), wsi_jstr(f, "invoice"),
					    wsi_jstr(f, "receipt"), 0};
			int m = wsi_order_posted(r->db, &o->k, &ids, NULL, why, &r->e);
			if (m < 0) {
				rc = -1;
				break;
			}
			if (m == 0)
				moved_meanwhile(o);
			else
				(*nposted)++;
			continue;
		}
		struct reasons rs = {0};
		check(r, o, owed, &rs);
		char why[300];
		snprintf(why, sizeof why, "%s%s", rs.n ? "checked against Sage: " : "checked against Sage",
			 rs.n ? rs.code[0] : "");
		/* judged only if nobody moved it since it was loaded (a hold, a new mapping, a post) */
		int m = wsi_order_judge(r->db, &o->k, rs.n ? WSI_INVALID : WSI_VALID, why, rs.code, rs.subject,
					(const char *const *)rs.msg, rs.n, &r->e);
		rc = m < 0 ? -1 : 0;
		for (int k = 0; k < rs.n; k++) {
			if (m == 1)
				wsi_note("%s:%s: %s", o->k.store, o->k.id, rs.msg[k]);
			free(rs.msg[k]);
			free((char *)rs.subject[k]);
		}
		if (m == 0)
			moved_meanwhile(o);
		else if (m == 1 && rs.n)
			(*ninvalid)++;
		else if (m == 1) {
			o->valid = 1;
			(*nvalid)++;
			rc = save_mapped(r, o);
		}
	}
	if (rc || wsi_db_commit(r->db, &r->e)) {
		wsi_db_rollback(r->db);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->o[i].valid)
			fprintf(out, "%s:%s\n", r->o[i].k.store, r->o[i].k.id);
	r->checked += r->n;
	return fflush(out) ? wsi_fail(&r->e, WSI_EXIT_LOCAL, "cannot write standard output") : 0;
}

static int list_reasons(sqlite3 *db, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT r.store, r.id, r.code, r.message FROM reasons r JOIN orders o"
					      " ON o.store=r.store AND o.id=r.id WHERE o.state=? ORDER BY r.store, r.id, r.rowid", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, wsi_state_name(WSI_INVALID), -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%s:%s\t%s\t%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		       sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot list reasons");
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	int opt, all = 0, listing = 0;
	wsi_msg_init("wsi-validate");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "al")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'a')
			all = 1;
		else if (opt == 'l')
			listing = 1;
		else {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	if ((all || listing) && optind < argc) {
		wsi_err("-%c or keys, not both", all ? 'a' : 'l');
		return WSI_EXIT_USAGE;
	}
	wsi_config *cfg;
	struct run r = {0};
	wsi_cli_open(&cli, &cfg, &r.db);
	r.cfg = cfg;
	if (wsi_sale_tax_conf(cfg, &r.sage_tax, &r.tolerance, &r.rounding_charge, &r.e)) {
		wsi_db_close(r.db);
		wsi_config_free(cfg);
		return wsi_cli_finish(wsi_report(&r.e));
	}
	int rc = 0;
	long nvalid = 0, ninvalid = 0, nposted = 0;
	wsi_sage *sage = NULL;
	int64_t started = wsi_now();
	if (listing) {
		rc = list_reasons(r.db, &r.e);
		goto out;
	}
	r.items = json_object();
	r.customers = json_object();
	r.banks = json_object();
	r.codes = json_object();
	r.found = json_object();
	r.groups = json_object();
	r.exempt = json_object();
	r.rates = json_object();
	r.asked = json_object();
	r.owed = json_object();
	if ((rc = load_keys(&r, all, argc - optind, argv + optind)) || (rc = load_chunk(&r)))
		goto out;
	if (r.n == 0)
		goto out;
	if (!(sage = wsi_sage_open(cfg, &r.e))) {
		rc = -1;
		goto out;
	}
	/* Sage unreachable: the chunk changes nothing (all it needs is asked before anything is written) */
	while (r.n && !(rc = ask_sage(&r, sage)) && !(rc = record(&r, stdout, &nvalid, &ninvalid, &nposted)))
		rc = load_chunk(&r);
	wsi_info("%zu checked: %ld valid, %ld invalid, %ld already in Sage; %ld Sage requests", r.checked, nvalid, ninvalid,
		 nposted, wsi_sage_requests(sage));
out:
	if (!listing && rc && !nvalid && !ninvalid && !nposted) /* a count claims only work done */
		wsi_run_log(r.db, started, r.e.status, "checked none of %zu: %s", r.total, r.e.msg);
	else if (!listing)
		wsi_run_log(r.db, started, rc ? r.e.status : ninvalid ? WSI_EXIT_ORDERS : 0,
			    "checked %zu: %ld valid, %ld invalid, %ld already in Sage%s%s", r.checked, nvalid, ninvalid, nposted,
			    rc ? ": " : "", rc ? r.e.msg : "");
	free_chunk(&r);
	free(r.o);
	wsi_order_list_free(&r.keys);
	json_decref(r.asked);
	json_decref(r.owed);
	json_decref(r.items);
	json_decref(r.customers);
	json_decref(r.banks);
	json_decref(r.codes);
	json_decref(r.found);
	json_decref(r.groups);
	json_decref(r.exempt);
	json_decref(r.rates);
	wsi_sage_close(sage);
	wsi_db_close(r.db);
	wsi_config_free(cfg);
	int status = rc ? wsi_report(&r.e) : ninvalid ? WSI_EXIT_ORDERS : 0;
	return wsi_cli_finish(status);
}
