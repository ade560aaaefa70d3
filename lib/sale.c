/* sale.c - what a web order looks like in Sage 300 (reference/money.md, "Decisions for wsi"):
 * lines at their net price as an override, discounts inside the line, shipping and fees as
 * miscellaneous charges, the store's own tax as manual amounts, ship all and invoice in the
 * same save, and the prepayment last. */
#include "sale.h"
#include "decimal.h"
#include "json.h"
#include "timeutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wsi_sale_reference_field(const wsi_config *c)
{
	return wsi_conf(c, "sage", "reference_field", "OrderReference");
}

void wsi_sale_reference(const char *store, const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%s", store, id);
}

size_t wsi_sale_reference_max(const wsi_config *c)
{
	const char *field = wsi_sale_reference_field(c);
	return !strcmp(field, "PurchaseOrderNumber") ? WSI_SAGE_PO_NUMBER_MAX : WSI_SAGE_REFERENCE_MAX;
}

int wsi_sale_reference_check(const wsi_config *c, const char *store, const char *id, wsi_error *e)
{
	size_t len = strlen(store) + 1 + strlen(id), max = wsi_sale_reference_max(c);
	if (len <= max)
		return 0;
	size_t room = max > strlen(id) + 1 ? max - strlen(id) - 1 : 0;
	return wsi_fail(e, WSI_EXIT_ORDERS, "The reference %s:%s is %zu characters, more than the %zu Sage keeps in %s, "
			"so Sage could not be asked about it again: give the store a [store] name of at most %zu characters.",
			store, id, len, max, wsi_sale_reference_field(c), room);
}

int wsi_sale_tax_conf(const wsi_config *c, int *sage_calculates, wsi_dec *tolerance, const char **rounding_charge,
		      wsi_error *e)
{
	const char *mode = wsi_conf(c, "sage", "tax", "store"), *tol = wsi_conf(c, "sage", "rounding_tolerance", "0.02");
	if (strcmp(mode, "store") && strcmp(mode, "sage"))
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] tax must be store or sage", wsi_conf_where(c, "sage", "tax"));
	if (wsi_dec_parse(tol, strlen(tol), tolerance) || tolerance->v < 0 || tolerance->v > WSI_DEC_ONE)
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] rounding_tolerance must be an amount from 0 to 1",
				wsi_conf_where(c, "sage", "rounding_tolerance"));
	*sage_calculates = !strcmp(mode, "sage");
	*rounding_charge = wsi_conf(c, "sage", "rounding_charge", NULL);
	if (*rounding_charge && !**rounding_charge)
		*rounding_charge = NULL;
	return 0;
}

int wsi_sale_post_conf(const wsi_config *c, long *reconcile_after, wsi_error *e)
{
	int sage_tax;
	wsi_dec tol;
	const char *rc;
	if (wsi_sale_tax_conf(c, &sage_tax, &tol, &rc, e))
		return -1;
	const char *pp = wsi_sale_prepayment(c);
	if (strcmp(pp, "order") && strcmp(pp, "receipt") && strcmp(pp, "none"))
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] prepayment must be order, receipt or none",
				wsi_conf_where(c, "sage", "prepayment"));
	return wsi_conf_int(c, "sage", "reconcile_after", 600, 0, 86400 * 7, reconcile_after, e);
}

const char *wsi_sale_prepayment(const wsi_config *c)
{
	return wsi_conf(c, "sage", "prepayment", "order");
}

void wsi_sale_numbers_of(const json_t *o, wsi_sale_numbers *n)
{
	char b[64];
	memset(n, 0, sizeof *n);
	const char *v;
	if ((v = wsi_jtext(o, "OrderNumber", b, sizeof b)))
		snprintf(n->order, sizeof n->order, "%s", v);
	if ((v = wsi_jstr(o, "LastShipmentNumber")))
		snprintf(n->shipment, sizeof n->shipment, "%s", v);
	if ((v = wsi_jstr(o, "LastInvoiceNumber")))
		snprintf(n->invoice, sizeof n->invoice, "%s", v);
	json_t *rb = json_object_get(o, "ReceiptBatchNumber");
	if (json_is_integer(rb) && json_integer_value(rb) > 0)
		snprintf(n->receipt, sizeof n->receipt, "%lld", (long long)json_integer_value(rb));
	wsi_dec t;
	if (wsi_jdec(o, "OrderTotal", (wsi_dec){0}, &t) == 0)
		wsi_dec_fmt(t, 2, n->total, sizeof n->total);
}

struct find_cx {
	const char *field;
	wsi_sale_found_fn fn;
	void *ud;
	int receipts;
};

static int on_found(void *ud, json_t *row)
{
	struct find_cx *f = ud;
	wsi_sale_numbers n;
	const char *ref = wsi_jstr(row, f->field);
	if (!ref)
		return 0;
	if (f->receipts) {
		memset(&n, 0, sizeof n);
		json_t *bn = json_object_get(row, "BatchNumber");
		if (json_is_integer(bn))
			snprintf(n.receipt, sizeof n.receipt, "%lld", (long long)json_integer_value(bn));
	} else {
		wsi_sale_numbers_of(row, &n);
	}
	return f->fn(f->ud, ref, &n);
}

int wsi_sale_find(wsi_sage *s, const wsi_config *c, const char *const *refs, size_t n, wsi_sale_found_fn fn,
		  void *ud, wsi_error *e)
{
	const char *field = wsi_sale_reference_field(c);
	char select[256];
	snprintf(select, sizeof select, "OrderUniquifier,OrderNumber,%s,LastShipmentNumber,LastInvoiceNumber,"
		 "ReceiptBatchNumber,OrderTotal", field);
	struct find_cx f = {field, fn, ud, 0};
	return wsi_sage_lookup(s, "OE/OEOrders", field, select, refs, n, on_found, &f, e);
}

int wsi_sale_find_receipts(wsi_sage *s, const char *const *refs, size_t n, wsi_sale_found_fn fn, void *ud,
			   wsi_error *e)
{
	struct find_cx f = {"Description", fn, ud, 1};
	return wsi_sage_lookup(s, "AR/ARReceiptAndAdjustmentBatches", "Description", "BatchNumber,Description",
			       refs, n, on_found, &f, e);
}

static wsi_dec dec_of(const json_t *o, const char *key)
{
	wsi_dec d = {0};
	wsi_jdec(o, key, (wsi_dec){0}, &d);
	return d;
}

/* The longest prefix of s[0..n) that ends on a whole UTF-8 character. */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return 0;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t len = lead < 0xC0 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return i - 1 + len <= n ? n : i - 1;
}

/* A text field cut to Sage's length on a character boundary, control characters made spaces. */
static void set_str(json_t *o, const char *k, const char *v, size_t max)
{
	char buf[256];
	size_t n = v ? strlen(v) : 0;
	if (n > max)
		n = max;
	if (n > sizeof buf - 1)
		n = sizeof buf - 1;
	n = utf8_cut(v ? v : "", n);
	memcpy(buf, v ? v : "", n);
	buf[n] = 0;
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	json_t *js = json_string(buf);
	json_object_set_new(o, k, js ? js : json_string(""));
}

/* A line's tax per Sage authority index (1..5), from the order's taxes and validate's plan, and
 * each authority's exempt item class (0: none known), which a line with no tax on it is given. */
struct taxv { wsi_dec a[6]; int exempt[6]; int calculated; /* tax = sage: no manual amounts */ };

int wsi_sale_tax_calculated(const json_t *mapped)
{
	const char *mode = wsi_jstr(json_object_get(mapped, "tax"), "mode");
	return mode && !strcmp(mode, "sage");
}

/* A taxv with no tax yet: how validate's plan says the tax goes, and its exempt classes. */
static struct taxv plan_taxv(const json_t *mapped)
{
	struct taxv t = {.calculated = wsi_sale_tax_calculated(mapped)};
	const json_t *exempt = json_object_get(json_object_get(mapped, "tax"), "exempt");
	for (int a = 1; a <= 5; a++) {
		char k[4];
		snprintf(k, sizeof k, "%d", a);
		t.exempt[a] = (int)json_integer_value(json_object_get(exempt, k));
	}
	return t;
}

/* The tax of a detail line: the exempt class where it has no tax, and TaxIncludedN, TaxBaseN,
 * TaxAmountN (manual) for each authority it has tax on. */
static void put_taxes(json_t *d, wsi_dec base, const struct taxv *t)
{
	for (int a = 1; a <= 5; a++) {
		char k[32];
		snprintf(k, sizeof k, "TaxClass%d", a);
		if (!t->a[a].v && t->exempt[a] > 0) /* the store charged none: an exempt sale in Sage's reports */
			json_object_set_new(d, k, json_integer(t->exempt[a]));
	}
	for (int a = 1; a <= 5 && !t->calculated; a++) {
		if (!t->a[a].v)
			continue;
		char k[32];
		snprintf(k, sizeof k, "TaxIncluded%d", a);
		json_object_set_new(d, k, json_false());
		snprintf(k, sizeof k, "TaxBase%d", a);
		json_object_set_new(d, k, wsi_json_number(base, 2));
		snprintf(k, sizeof k, "TaxAmount%d", a);
		json_object_set_new(d, k, wsi_json_number(t->a[a], 2));
		if (wsi_dec_round(t->a[a], 2).v != t->a[a].v) { /* (a store keeping 4 decimals: round_taxes) */
			char b[40];
			snprintf(k, sizeof k, "_exact%d", a);
			json_object_set_new(d, k, json_string(wsi_dec_str(t->a[a], 6, b, sizeof b)));
		}
	}
}

/* A store that keeps tax to 4 decimals (WooCommerce's dp = 4: 0.603 on each of three lines)
 * charged each authority's sum rounded once (1.81); lines rounded alone would make 1.80, and the
 * Sage total a cent short of what was paid. So each authority's line amounts are rounded down to
 * the cent and the cents left go to the lines with the largest remainders (money.md decision 11:
 * the store's own rounded totals are the truth). */
static void round_taxes(json_t *details)
{
	size_t i;
	json_t *d;
	int exact = 0;
	json_array_foreach(details, i, d)
		exact |= json_is_object(d); /* (put_detail kept it a tree: it has an _exactN) */
	for (int a = 1; a <= 5 && exact; a++) {
		char ek[32], tk[32];
		snprintf(ek, sizeof ek, "_exact%d", a);
		snprintf(tk, sizeof tk, "TaxAmount%d", a);
		wsi_dec sum = {0}, floors = {0};
		int any = 0, negative = 0;
		wsi_json_each(details, i, d) { /* (those kept as text read: their tax counts) */
			wsi_dec x = {0};
			if (!json_object_get(d, ek) && !json_object_get(d, tk))
				continue;
			if (json_object_get(d, ek))
				wsi_jdec(d, ek, (wsi_dec){0}, &x), any = 1;
			else
				wsi_jdec(d, tk, (wsi_dec){0}, &x);
			negative |= x.v < 0;
			sum = wsi_dec_add(sum, x);
			floors.v += x.v / WSI_DEC_CENT * WSI_DEC_CENT;
		}
		int64_t cents = (wsi_dec_round(sum, 2).v - floors.v) / WSI_DEC_CENT;
		while (any && !negative && cents-- > 0) {
			json_t *best = NULL;
			int64_t best_rem = -1;
			json_array_foreach(details, i, d) {
				wsi_dec x = {0};
				if (!json_object_get(d, ek) || json_is_true(json_object_get(d, "_up")))
					continue;
				wsi_jdec(d, ek, (wsi_dec){0}, &x);
				if (x.v % WSI_DEC_CENT > best_rem)
					best_rem = x.v % WSI_DEC_CENT, best = d;
			}
			if (!best)
				break;
			json_object_set_new(best, "_up", json_true());
		}
		json_array_foreach(details, i, d) {
			wsi_dec x = {0};
			if (!json_object_get(d, ek))
				continue;
			wsi_jdec(d, ek, (wsi_dec){0}, &x);
			if (!negative)
				x.v = x.v / WSI_DEC_CENT * WSI_DEC_CENT + (json_is_true(json_object_get(d, "_up")) ? WSI_DEC_CENT : 0);
			json_object_set_new(d, tk, wsi_json_number(wsi_dec_round(x, 2), 2));
			json_object_del(d, ek);
			json_object_del(d, "_up");
		}
	}
}

json_t *wsi_sale_cents(const json_t *canon, const json_t *index)
{
	static const char *const parts[] = {"lines", "shipping_lines", "fees"};
	wsi_dec sum = {0}, floors = {0}, taxes = {0}, by[6] = {{0}};
	size_t n = 0, i;
	int fine = 1, negative = 0;
	json_t *l;
	for (size_t p = 0; p < 3; p++) {
		const json_t *part = json_object_get(canon, parts[p]);
		wsi_json_each(part, i, l) {
			wsi_dec x = dec_of(l, "total");
			negative |= x.v < 0;
			fine &= x.v % WSI_DEC_CENT == 0;
			sum = wsi_dec_add(sum, x);
			floors.v += x.v / WSI_DEC_CENT * WSI_DEC_CENT;
			n++;
		}
	}
	if (fine || negative)
		return NULL; /* (a negative one is refused for its own reason) */
	/* the tax Sage is sent: each authority's sum rounded once (round_taxes) */
	const json_t *web_taxes = json_object_get(canon, "taxes");
	wsi_json_each(web_taxes, i, l) {
		json_int_t a = json_integer_value(json_object_get(index, wsi_jstr(l, "code") ? wsi_jstr(l, "code") : ""));
		by[a >= 1 && a <= 5 ? a : 0] = wsi_dec_add(by[a >= 1 && a <= 5 ? a : 0], dec_of(l, "amount"));
	}
	for (int a = 0; a <= 5; a++)
		taxes = wsi_dec_add(taxes, wsi_dec_round(by[a], 2));
	wsi_dec target = wsi_dec_sub(wsi_dec_round(dec_of(json_object_get(canon, "totals"), "total"), 2), taxes);
	int64_t cents = (target.v - floors.v) / WSI_DEC_CENT;
	if (cents < 0 || cents > (int64_t)n || wsi_dec_sub(target, wsi_dec_round(sum, 2)).v > WSI_DEC_CENT ||
	    wsi_dec_sub(wsi_dec_round(sum, 2), target).v > WSI_DEC_CENT)
		cents = (wsi_dec_round(sum, 2).v - floors.v) / WSI_DEC_CENT; /* totals apart: validate says so */
	json_t *own = json_deep_copy(canon);
	if (!own)
		return NULL;
	for (size_t p = 0; p < 3; p++) { /* lines kept as text (wsi_order_stored), read: they change */
		json_t *part = json_object_get(own, parts[p]);
		for (i = 0; i < json_array_size(part); i++) {
			json_t *x = wsi_json_elem(part, i);
			json_array_set_new(part, i, x ? x : json_object());
		}
	}
	/* the cents left, one at a time, to the largest remainder not yet given one (the first on a tie) */
	while (cents-- > 0) {
		json_t *best = NULL;
		int64_t best_rem = -1;
		for (size_t p = 0; p < 3; p++)
			json_array_foreach(json_object_get(own, parts[p]), i, l) {
				int64_t rem = dec_of(l, "total").v % WSI_DEC_CENT;
				if (rem > best_rem && !json_is_true(json_object_get(l, "_up")))
					best_rem = rem, best = l;
			}
		if (!best)
			break;
		json_object_set_new(best, "_up", json_true());
	}
	for (size_t p = 0; p < 3; p++)
		json_array_foreach(json_object_get(own, parts[p]), i, l) {
			char b[40];
			wsi_dec x = dec_of(l, "total");
			x.v = x.v / WSI_DEC_CENT * WSI_DEC_CENT + (json_is_true(json_object_get(l, "_up")) ? WSI_DEC_CENT : 0);
			json_object_set_new(l, "total", json_string(wsi_dec_fmt(x, 2, b, sizeof b)));
			json_object_del(l, "_up");
		}
	return own;
}

/* A detail into details: as its text (an order of 100,000 lines is not 100,000 trees), unless
 * round_taxes has still to round its tax (a store keeping 4 decimals). */
static void put_detail(json_t *details, json_t *d)
{
	const char *k;
	json_t *v;
	json_object_foreach(d, k, v)
		if (!strncmp(k, "_exact", 6)) {
			json_array_append_new(details, d);
			return;
		}
	char *text = wsi_json_dump_exact(d);
	json_t *raw = text ? wsi_json_raw(text, strlen(text)) : NULL;
	free(text);
	if (raw)
		json_decref(d);
	json_array_append_new(details, raw ? raw : d);
}

/* One item line; `qty` whole units at `unit` with its tax per authority. */
static json_t *item_line(const char *item, const char *location, wsi_dec qty, wsi_dec unit, wsi_dec net, const struct taxv *t)
{
	json_t *d = json_object();
	json_object_set_new(d, "LineType", json_string("Item"));
	json_object_set_new(d, "Item", json_string(item));
	json_object_set_new(d, "Location", json_string(location));
	json_object_set_new(d, "QuantityOrdered", wsi_json_number(qty, 4));
	json_object_set_new(d, "QuantityShipped", wsi_json_number(qty, 4));
	/* PriceOverride before the price: Sage puts fields to the view in payload order */
	json_object_set_new(d, "PriceOverride", json_true());
	json_object_set_new(d, "OrderUnitPrice", wsi_json_number(unit, 2));
	put_taxes(d, net, t);
	return d;
}

static json_t *misc_line(const char *code, wsi_dec amount, const struct taxv *t)
{
	json_t *d = json_object();
	json_object_set_new(d, "LineType", json_string("Miscellaneous"));
	json_object_set_new(d, "MiscellaneousChargesCode", json_string(code));
	json_object_set_new(d, "ExtendedAmount", wsi_json_number(amount, 2));
	put_taxes(d, amount, t);
	return d;
}

/* What the header sums: per authority, the base of the lines taxed by it and their tax. */
struct taxsum { wsi_dec base[6], tax[6]; };

static void add_sum(struct taxsum *s, wsi_dec base, const struct taxv *t)
{
	for (int a = 1; a <= 5 && !t->calculated; a++)
		if (t->a[a].v) {
			s->base[a] = wsi_dec_add(s->base[a], base);
			s->tax[a] = wsi_dec_add(s->tax[a], t->a[a]);
		}
}

struct wsi_tax_index {
	const json_t *taxes;
	size_t *head[3], heads[3]; /* per part, per line: 1 + its first entry (0: none) */
	size_t *next;              /* per entry: 1 + the next entry of the same line (0: none) */
};

static int tax_part(const char *on)
{
	return !on ? -1 : !strcmp(on, "line") ? 0 : !strcmp(on, "shipping") ? 1 : !strcmp(on, "fee") ? 2 : -1;
}

wsi_tax_index *wsi_tax_index_new(const json_t *canon)
{
	wsi_tax_index *x = calloc(1, sizeof *x);
	const json_t *taxes = json_object_get(canon, "taxes");
	size_t n = json_array_size(taxes), i, *tail[3] = {NULL};
	json_t *t;
	if (!x)
		return NULL;
	x->taxes = taxes;
	x->next = calloc(n + 1, sizeof *x->next);
	static const char *const parts[] = {"lines", "shipping_lines", "fees"};
	for (int p = 0; p < 3; p++) {
		x->heads[p] = json_array_size(json_object_get(canon, parts[p]));
		x->head[p] = calloc(x->heads[p] + 1, sizeof *x->head[p]);
		tail[p] = calloc(x->heads[p] + 1, sizeof *tail[p]);
	}
	int ok = x->next && x->head[0] && x->head[1] && x->head[2] && tail[0] && tail[1] && tail[2];
	wsi_json_each(taxes, i, t) { /* (each read once: wsi_order_stored keeps them as text) */
		int p = tax_part(wsi_jstr(t, "on"));
		json_int_t k = json_integer_value(json_object_get(t, "n"));
		if (!ok || p < 0 || k < 0 || (size_t)k >= x->heads[p])
			continue; /* on no line: no line's tax */
		if (tail[p][k])
			x->next[tail[p][k] - 1] = i + 1;
		else
			x->head[p][k] = i + 1;
		tail[p][k] = i + 1;
	}
	for (int p = 0; p < 3; p++)
		free(tail[p]);
	if (!ok) {
		wsi_tax_index_free(x);
		return NULL;
	}
	return x;
}

json_t *wsi_tax_index_next(const wsi_tax_index *x, const char *on, size_t n, size_t *cursor)
{
	int p = tax_part(on);
	if (!x || p < 0 || n >= x->heads[p])
		return NULL;
	size_t at = *cursor ? x->next[*cursor - 1] : x->head[p][n];
	*cursor = at;
	return at ? wsi_json_elem(x->taxes, at - 1) : NULL;
}

void wsi_tax_index_free(wsi_tax_index *x)
{
	if (!x)
		return;
	for (int p = 0; p < 3; p++)
		free(x->head[p]);
	free(x->next);
	free(x);
}

/* The reason code of the last order the body builder refused (thread-local: -j posts on threads). */
static _Thread_local const char *refusal;

/* The tax of line n of part `on` per Sage authority: each web tax code goes to the index validate
 * found in the customer's tax group (mapped.tax). Never all on authority 1: a tax with no index
 * refuses the order. */
static int tax_vector(const json_t *canon, const wsi_tax_index *ti, const json_t *mapped, const char *on, size_t n,
		      wsi_dec line_tax, struct taxv *t, const char *store, const char *id, wsi_error *e)
{
	*t = plan_taxv(mapped);
	const json_t *index = json_object_get(json_object_get(mapped, "tax"), "index");
	wsi_dec sum = {0};
	size_t cursor = 0;
	json_t *x;
	while ((x = wsi_tax_index_next(ti, on, n, &cursor))) {
		const char *code = wsi_jstr(x, "code");
		json_int_t a = json_integer_value(json_object_get(index, code ? code : ""));
		wsi_dec amt = {0};
		wsi_jdec(x, "amount", (wsi_dec){0}, &amt);
		if (a < 1 || a > 5) {
			refusal = "tax-unmapped";
			wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: tax %s has no Sage tax authority in the customer's tax group", store,
				 id, code ? code : "(no code)");
			json_decref(x);
			return -1;
		}
		t->a[a] = wsi_dec_add(t->a[a], amt);
		sum = wsi_dec_add(sum, amt);
		json_decref(x);
	}
	if (sum.v != line_tax.v) {
		char b[40];
		refusal = "tax-unmapped";
		return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: the %s %zu has tax %s that no web tax code names%s", store, id,
				!strcmp(on, "line") ? "line" : on, n + 1, wsi_dec_fmt(line_tax, 2, b, sizeof b),
				json_object_get(canon, "taxes") ? "" : " (staged by an older wsi: wsi-hwm set downloads it again)");
	}
	return 0;
}


const char *wsi_sale_refusal(void) { return refusal ? refusal : "cannot-post"; }

/* A price p in cents with round(q * p, 2) == net, near net / q; 1 found (*p), 0 none. */
static int exact_price(wsi_dec q, wsi_dec net, wsi_dec unit, wsi_dec *p)
{
	int64_t base = unit.v / WSI_DEC_CENT * WSI_DEC_CENT;
	for (int64_t k = -2; k <= 3; k++) {
		wsi_dec cand = {base + k * WSI_DEC_CENT}, ext;
		if (cand.v < 0 || wsi_dec_mul(cand, q, &ext))
			continue;
		if (wsi_dec_round(ext, 2).v == net.v) {
			*p = cand;
			return 1;
		}
	}
	return 0;
}

/* Item line i: at its net price in cents (split in two when the cents do not divide). */
static int item_detail(json_t *details, const json_t *canon, const wsi_tax_index *ti, const json_t *mapped, const char *location,
		       const char *store, const char *id, struct taxsum *sum, wsi_error *e, size_t i, const json_t *l, const char *item)
{
	char b[48];
	wsi_dec q = dec_of(l, "quantity"), net = dec_of(l, "total"), tax = dec_of(l, "tax"), unit;
	struct taxv t;
	if (!item || !*item || q.v <= 0 || net.v < 0 || wsi_dec_div(net, q, &unit)) {
		return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: line %zu cannot be sent (no item or no quantity)", store, id, i + 1);
	}
	if (tax_vector(canon, ti, mapped, "line", i, tax, &t, store, id, e))
		return -1;
	wsi_dec cents = wsi_dec_round(unit, 2), ext;
	wsi_dec_mul(cents, q, &ext);
	if (ext.v == net.v) {
		put_detail(details, item_line(item, location, q, cents, net, &t));
	} else if (q.v % WSI_DEC_ONE == 0) {
		/* Split the line so the extended amounts add up to the net exactly:
		 * 35.98 for 3 is 2 x 11.99 and 1 x 12.00 (money.md, decision 3); each authority's
		 * tax split in proportion, the second part taking what rounding left. */
		wsi_dec lo = {unit.v / WSI_DEC_CENT * WSI_DEC_CENT}, lo_ext, part_q, part_net;
		wsi_dec_mul(lo, q, &lo_ext);
		int64_t up = (net.v - lo_ext.v) / WSI_DEC_CENT; /* units that take one cent more */
		if (up <= 0 || up * WSI_DEC_ONE >= q.v) { /* (never a part of no units) */
			return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: line %zu cannot be split into cents", store, id, i + 1);
		}
		part_q = (wsi_dec){up * WSI_DEC_ONE};
		wsi_dec_mul((wsi_dec){lo.v + WSI_DEC_CENT}, part_q, &part_net);
		struct taxv pt = {0}, rest = {0};
		for (int a = 1; a <= 5; a++) {
			wsi_dec_mul(t.a[a], part_q, &pt.a[a]);
			wsi_dec_div(pt.a[a], q, &pt.a[a]);
			pt.a[a] = wsi_dec_round(pt.a[a], 2);
			rest.a[a] = wsi_dec_sub(t.a[a], pt.a[a]);
			/* exempt only where the whole line had no tax (a part's share may round to 0.00) */
			pt.exempt[a] = rest.exempt[a] = t.a[a].v ? 0 : t.exempt[a];
		}
		pt.calculated = rest.calculated = t.calculated;
		put_detail(details, item_line(item, location, part_q, (wsi_dec){lo.v + WSI_DEC_CENT}, part_net, &pt));
		put_detail(details, item_line(item, location, wsi_dec_sub(q, part_q), lo, wsi_dec_sub(net, part_net), &rest));
		add_sum(sum, part_net, &pt);
		add_sum(sum, wsi_dec_sub(net, part_net), &rest);
		return 0;
	} else if (exact_price(q, net, unit, &cents)) {
		/* a fractional quantity: a price in cents whose extension rounds to the net (decision 11) */
		put_detail(details, item_line(item, location, q, cents, net, &t));
	} else {
		refusal = "no-exact-price";
		return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: line %zu: %s for a quantity of %s has no price in cents "
				"whose extension is %s, and a fractional quantity cannot be split", store, id, i + 1,
				wsi_dec_fmt(net, 2, b, sizeof b), wsi_jstr(l, "quantity"), wsi_dec_fmt(net, 2, b, sizeof b));
	}
	add_sum(sum, net, &t);
	return 0;
}

/* The item lines, each at its net price in cents (split in two when the cents do not divide); a
 * line and its mapping read one at a time (wsi_order_stored keeps them as text). */
static int item_details(json_t *details, const json_t *canon, const wsi_tax_index *ti, const json_t *mapped,
			const char *location, const char *store, const char *id, struct taxsum *sum, wsi_error *e)
{
	const json_t *items = json_object_get(mapped, "items"), *lines = json_object_get(canon, "lines");
	for (size_t i = 0; i < json_array_size(lines); i++) {
		json_t *l = wsi_json_elem(lines, i), *mi = wsi_json_elem(items, i);
		int rc = item_detail(details, canon, ti, mapped, location, store, id, sum, e, i, l, wsi_jstr(mi, "to"));
		json_decref(l);
		json_decref(mi);
		if (rc)
			return -1;
	}
	return 0;
}



/* Shipping and fees as miscellaneous charges. */
static int charge_details(json_t *details, const wsi_config *c, const json_t *canon, const wsi_tax_index *ti,
			  const json_t *mapped, const char *store,
			  const char *id, struct taxsum *sum, wsi_error *e)
{
	char b[48];
	size_t i;
	json_t *l;
	const char *ship_code = wsi_conf(c, "sage", "shipping_charge", "SHIP");
	const char *fee_code = wsi_conf(c, "sage", "fee_charge", "FEE");
	json_array_foreach(json_object_get(canon, "shipping_lines"), i, l) {
		wsi_dec amt = dec_of(l, "total"), tax = dec_of(l, "tax");
		struct taxv t;
		if (!amt.v && !tax.v)
			continue;
		if (amt.v < 0 || tax.v < 0) {
			refusal = "negative-shipping";
			return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: shipping line %zu is %s: more was given back than charged",
					store, id, i + 1, wsi_dec_fmt(amt, 2, b, sizeof b));
		}
		if (tax_vector(canon, ti, mapped, "shipping", i, tax, &t, store, id, e))
			return -1;
		put_detail(details, misc_line(ship_code, amt, &t));
		add_sum(sum, amt, &t);
	}
	json_array_foreach(json_object_get(canon, "fees"), i, l) {
		wsi_dec amt = dec_of(l, "total"), tax = dec_of(l, "tax");
		struct taxv t;
		if (amt.v < 0) {
			refusal = "negative-fee";
			return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: a negative fee (%s) has no Sage form", store, id,
					wsi_dec_fmt(amt, 2, b, sizeof b));
		}
		if (!amt.v && !tax.v)
			continue;
		if (tax_vector(canon, ti, mapped, "fee", i, tax, &t, store, id, e))
			return -1;
		put_detail(details, misc_line(fee_code, amt, &t));
		add_sum(sum, amt, &t);
	}
	return 0;
}

/* Where the details go in the header's text: after a comma or brace it is no string's inside. */
#define DETAILS_HERE "@details"

/* The order's text: its header as written, the details put in as they were written (an order of
 * 100,000 lines is not written again, escaped and unescaped, nor grown by doubling). */
static char *dump_body(const json_t *o, const json_t *details)
{
	char *head = wsi_json_dump_exact(o), *at = head;
	static const char mark[] = "\"OrderDetails\":" DETAILS_HERE;
	while (at && (at = strstr(at + 1, mark)) && at[-1] != ',' && at[-1] != '{')
		;
	size_t len = head ? strlen(head) + 2 : 0, n = json_array_size(details), i;
	char **texts = at ? calloc(n + 1, sizeof *texts) : NULL;
	size_t *lens = texts ? calloc(n + 1, sizeof *lens) : NULL;
	int ok = lens != NULL;
	for (i = 0; ok && i < n; i++) {
		const char *raw = wsi_json_raw_text(json_array_get(details, i), &lens[i]);
		texts[i] = raw ? NULL : wsi_json_dump_exact(json_array_get(details, i)); /* (one round_taxes kept) */
		ok = raw || texts[i];
		if (texts[i])
			lens[i] = strlen(texts[i]);
		len += lens[i] + 1;
	}
	char *body = ok ? malloc(len + 1) : NULL, *p = body;
	if (body) {
		size_t pre = (size_t)(at - head) + sizeof mark - 1 - (sizeof DETAILS_HERE - 1);
		memcpy(p, head, pre);
		p += pre;
		*p++ = '[';
		for (i = 0; i < n; i++) {
			size_t rl;
			const char *raw = texts[i] ? texts[i] : wsi_json_raw_text(json_array_get(details, i), &rl);
			if (i)
				*p++ = ',';
			memcpy(p, raw, lens[i]);
			p += lens[i];
		}
		*p++ = ']';
		strcpy(p, at + sizeof mark - 1);
	}
	for (i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	free(head);
	return body;
}

char *wsi_sale_order_body(const wsi_config *c, const char *store, const char *id, const json_t *canon,
			  const json_t *mapped, wsi_error *e)
{
	refusal = NULL;
	char ref[160], desc[200], date[16];
	const char *location = wsi_conf(c, "sage", "location", "1");
	const char *customer = wsi_jstr(json_object_get(mapped, "customer"), "to");
	if (!customer)
		return wsi_fail(e, WSI_EXIT_ORDERS, "%s:%s: no Sage customer", store, id), NULL;
	wsi_sale_reference(store, id, ref, sizeof ref);
	/* never cut: a cut reference would never be found again, and a retry would post it twice */
	if (wsi_sale_reference_check(c, store, id, e))
		return NULL;
	const char *number = wsi_jstr(canon, "number");
	snprintf(desc, sizeof desc, "Web order %s (%s)", number ? number : id, ref);
	const char *created = wsi_jstr(canon, "created");
	snprintf(date, sizeof date, "%.10s", created ? created : "");
	if (strlen(date) != 10) {
		char now[32];
		snprintf(date, sizeof date, "%.10s", wsi_time_fmt(wsi_now(), now, sizeof now));
	}
	json_t *o = json_object();
	/* the header (customer first: its tax group and classes come before the details) */
	json_object_set_new(o, "CustomerNumber", json_string(customer));
	const char *group = wsi_jstr(json_object_get(mapped, "tax"), "group");
	if (group && *group)
		json_object_set_new(o, "TaxGroup", json_string(group));
	json_object_set_new(o, "OrderType", json_string("Active"));
	json_object_set_new(o, "OrderDate", json_string(date));
	set_str(o, "PurchaseOrderNumber", number ? number : id, 22);
	set_str(o, wsi_sale_reference_field(c), ref, wsi_sale_reference_max(c));
	set_str(o, "OrderDescription", desc, 60);
	const char *shipvia = wsi_jstr(json_object_get(mapped, "shipvia"), "to");
	if (shipvia)
		json_object_set_new(o, "ShipViaCode", json_string(shipvia));
	const json_t *sh = json_object_get(canon, "shipping");
	if (!wsi_jstr(sh, "address1") || !*wsi_jstr(sh, "address1"))
		sh = json_object_get(canon, "billing");
	set_str(o, "ShipToName", wsi_jstr(sh, "name"), 60);
	set_str(o, "ShipToAddressLine1", wsi_jstr(sh, "address1"), 60);
	set_str(o, "ShipToAddressLine2", wsi_jstr(sh, "address2"), 60);
	set_str(o, "ShipToCity", wsi_jstr(sh, "city"), 30);
	set_str(o, "ShipToStateProvince", wsi_jstr(sh, "state"), 30);
	set_str(o, "ShipToZipPostalCode", wsi_jstr(sh, "postcode"), 20);
	set_str(o, "ShipToCountry", wsi_jstr(sh, "country"), 30);
	set_str(o, "ShipToEmail", wsi_jstr(json_object_get(canon, "billing"), "email"), 50);
	const json_t *plan = json_object_get(mapped, "tax");
	int calculated = wsi_sale_tax_calculated(mapped);
	json_object_set_new(o, "AutoTaxCalculationStatus", json_boolean(calculated));
	json_object_set_new(o, "InvoiceWillBeProduced", json_true());

	json_t *details = json_array();
	struct taxsum sum = {0};
	json_t *cents = wsi_sale_cents(canon, json_object_get(plan, "index"));
	if (cents)
		canon = cents;
	wsi_tax_index *ti = wsi_tax_index_new(canon);
	int bad = !ti ? wsi_fail(e, WSI_EXIT_LOCAL, "out of memory")
		      : item_details(details, canon, ti, mapped, location, store, id, &sum, e) ||
				charge_details(details, c, canon, ti, mapped, store, id, &sum, e);
	wsi_tax_index_free(ti);
	if (bad) {
		json_decref(o);
		json_decref(details);
		json_decref(cents);
		return NULL;
	}
	round_taxes(details);
	/* tax = sage: the cents Sage's calculation leaves short of the store's tax, on the rounding charge */
	wsi_dec rounding = {0};
	if (calculated && wsi_jdec(plan, "rounding", (wsi_dec){0}, &rounding) == 0 && rounding.v > 0) {
		struct taxv none = plan_taxv(mapped); /* no tax: every authority's exempt class */
		const char *code = wsi_jstr(plan, "rounding_charge");
		put_detail(details, misc_line(code ? code : "ROUND", rounding, &none));
	}
	json_object_set_new(o, "OrderDetails", wsi_json_raw(DETAILS_HERE, sizeof DETAILS_HERE - 1));
	/* after the details, per authority: the document's tax is the sum of the details' (money.md 6) */
	for (int a = 1; a <= 5; a++) {
		if (!sum.tax[a].v)
			continue;
		char k[32];
		snprintf(k, sizeof k, "TaxBase%d", a);
		json_object_set_new(o, k, wsi_json_number(sum.base[a], 2));
		snprintf(k, sizeof k, "ExcludedTaxAmount%d", a);
		json_object_set_new(o, k, wsi_json_number(sum.tax[a], 2));
	}
	/* the prepayment last: it needs the order total */
	if (!strcmp(wsi_sale_prepayment(c), "order") && json_is_true(json_object_get(canon, "paid"))) {
		const json_t *pay = json_object_get(mapped, "payment");
		const char *paid_at = wsi_jstr(canon, "paid_at");
		const char *tx = wsi_jstr(canon, "transaction");
		json_object_set_new(o, "BankCode", json_string(wsi_jstr(pay, "bank") ? wsi_jstr(pay, "bank") : ""));
		json_object_set_new(o, "ReceiptType", json_string(wsi_jstr(pay, "code") ? wsi_jstr(pay, "code") : ""));
		set_str(o, "CheckNumber", tx && *tx ? tx : ref, 24);
		snprintf(date, sizeof date, "%.10s", paid_at ? paid_at : created ? created : "");
		json_object_set_new(o, "CheckDate", json_string(date));
		json_object_set_new(o, "PaymentAppliedTo", json_string("OrderNumber"));
		json_object_set_new(o, "PaymentInCustomerCurrency", wsi_json_number(dec_of(canon, "paid_amount"), 2));
	}
	char *body = dump_body(o, details);
	json_decref(o);
	json_decref(details);
	json_decref(cents);
	if (!body)
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	return body;
}

char *wsi_sale_receipt_body(const wsi_config *c, const char *store, const char *id, const json_t *canon,
			    const json_t *mapped, const char *sage_order, wsi_error *e)
{
	(void)c;
	char ref[160], date[16], desc[200];
	wsi_sale_reference(store, id, ref, sizeof ref);
	const json_t *pay = json_object_get(mapped, "payment");
	const char *paid_at = wsi_jstr(canon, "paid_at");
	const char *tx = wsi_jstr(canon, "transaction");
	const char *customer = wsi_jstr(json_object_get(mapped, "customer"), "to");
	snprintf(date, sizeof date, "%.10s", paid_at ? paid_at : "");
	if (strlen(date) != 10) {
		char now[32];
		snprintf(date, sizeof date, "%.10s", wsi_time_fmt(wsi_now(), now, sizeof now));
	}
	snprintf(desc, sizeof desc, "Prepayment of Sage order %s", sage_order ? sage_order : "");
	wsi_dec amount = dec_of(canon, "paid_amount");
	json_t *entry = json_object();
	json_object_set_new(entry, "BatchType", json_string("CA"));
	json_object_set_new(entry, "CustomerNumber", json_string(customer ? customer : ""));
	json_object_set_new(entry, "ReceiptDateAdjustmentDate", json_string(date));
	set_str(entry, "EntryDescription", desc, 60);
	json_object_set_new(entry, "PaymentCode", json_string(wsi_jstr(pay, "code") ? wsi_jstr(pay, "code") : ""));
	set_str(entry, "CheckReceiptNumber", tx && *tx ? tx : ref, 24);
	set_str(entry, "EntryReference", ref, 60);
	json_object_set_new(entry, "ReceiptTransactionType", json_string("Prepayment"));
	json_object_set_new(entry, "DocumentType", json_string("Order"));
	set_str(entry, "MatchingDocumentNumber", sage_order, 22);
	json_object_set_new(entry, "BankReceiptAmount", wsi_json_number(amount, 2));
	json_object_set_new(entry, "CustomerReceiptAmount", wsi_json_number(amount, 2));
	json_t *o = json_object();
	json_object_set_new(o, "BatchRecordType", json_string("CA"));
	json_object_set_new(o, "BatchDate", json_string(date));
	/* the batch is found again by this description before it is ever made twice */
	set_str(o, "Description", ref, 60);
	json_object_set_new(o, "BankCode", json_string(wsi_jstr(pay, "bank") ? wsi_jstr(pay, "bank") : ""));
	json_t *entries = json_array();
	json_array_append_new(entries, entry);
	json_object_set_new(o, "ReceiptsAdjustments", entries);
	char *body = wsi_json_dump_exact(o);
	json_decref(o);
	if (!body)
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	return body;
}
