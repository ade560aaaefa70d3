/* order.c - store orders to the canonical order the Sage half works from. */
#include "order.h"
#include "decimal.h"
#include "hash.h"
#include "json.h"
#include <sqlite3.h>
#include "timeutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void utf8_put(char **o, unsigned long cp)
{
	unsigned char *p = (unsigned char *)*o;
	if (cp < 0x80) {
		*p++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*p++ = (unsigned char)(0xC0 | (cp >> 6));
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*p++ = (unsigned char)(0xE0 | (cp >> 12));
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*p++ = (unsigned char)(0xF0 | (cp >> 18));
		*p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*o = (char *)p;
}

void wsi_html_decode(char *s)
{
	static const struct { const char *name; unsigned long cp; } ent[] = {
		{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
		{"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"times", 0xD7},
		{"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
		{"euro", 0x20AC}, {"pound", 0xA3}, {"reg", 0xAE}, {"trade", 0x2122}, {"copy", 0xA9},
		{NULL, 0}};
	char *o = s;
	while (*s) {
		if (*s == '&') {
			char *semi = strchr(s, ';');
			if (semi && semi - s <= 10) {
				unsigned long cp = 0;
				int ok = 0;
				if (s[1] == '#') {
					char *end;
					cp = (s[2] == 'x' || s[2] == 'X') ? strtoul(s + 3, &end, 16) : strtoul(s + 2, &end, 10);
					ok = end == semi && cp > 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
				} else {
					for (int i = 0; ent[i].name; i++)
						if ((size_t)(semi - s - 1) == strlen(ent[i].name) &&
						    strncmp(s + 1, ent[i].name, strlen(ent[i].name)) == 0) {
							cp = ent[i].cp;
							ok = 1;
							break;
						}
				}
				/* the UTF-8 form is never longer than the entity */
				if (ok) {
					utf8_put(&o, cp);
					s = semi + 1;
					continue;
				}
			}
		}
		*o++ = *s++;
	}
	*o = 0;
}

/* Building state: the first error wins and names its field. */
struct cx {
	wsi_error *e;
	int failed;
	const char *money_set; /* Shopify's money set being derived: shop_money (NULL) or presentment_money */
	int compact;           /* lines kept as their text (wsi_order_stored: an order of 100,000 lines) */
	const char *raw_text;  /* line_items noted where they are in it (WSI_LAZY_SPAN), read one at a time */
	size_t raw_len;
	const json_t *noted;   /* that line_items array (no other array's integers are spans) */
};

static void to_presentment(json_t *v);
static void add_line(struct cx *c, json_t *lines, json_t *l);

/* Raw element i of arr (line_items as wsi_order_stored reads them: each kept as its text, read
 * now, in presentment money when that is being derived): a new reference. */
static json_t *raw_elem(struct cx *c, const json_t *arr, size_t i)
{
	size_t n;
	const json_t *e = json_array_get(arr, i);
	int noted = c->raw_text && arr == c->noted && json_is_integer(e);
	json_t *v = noted ? wsi_json_span_read(e, c->raw_text, c->raw_len) : wsi_json_elem(arr, i);
	if (v && c->money_set && (noted || wsi_json_raw_text(e, &n)))
		to_presentment(v);
	return v;
}

/* The first 60 bytes of a value as JSON, in a buffer of our own (not json_dumps: wsi-stage gives
 * jansson an allocator whose memory free() must not see). */
struct shown { char b[61]; size_t n; };

static int show_put(const char *b, size_t n, void *ud)
{
	struct shown *v = ud;
	size_t k = n < sizeof v->b - 1 - v->n ? n : sizeof v->b - 1 - v->n;
	memcpy(v->b + v->n, b, k);
	v->n += k;
	v->b[v->n] = 0;
	return 0;
}

static void bad(struct cx *c, const char *field, const json_t *o, const char *key)
{
	if (c->failed)
		return;
	c->failed = 1;
	struct shown v = {"", 0};
	json_dump_callback(json_object_get(o, key), show_put, &v, JSON_ENCODE_ANY | JSON_COMPACT);
	wsi_fail(c->e, WSI_EXIT_ORDERS, "%s: %s is not an amount", field, v.n ? v.b : "?");
}

static wsi_dec money(struct cx *c, const json_t *o, const char *key, const char *field)
{
	wsi_dec d = {0};
	if (wsi_jdec(o, key, (wsi_dec){0}, &d) < 0)
		bad(c, field, o, key);
	return d;
}

static void put_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v ? v : ""));
}

static void put_text(json_t *o, const char *key, const json_t *src, const char *skey)
{
	char buf[64];
	const char *v = wsi_jtext(src, skey, buf, sizeof buf);
	if (v && !json_is_boolean(json_object_get(src, skey)))
		json_object_set_new(o, key, json_string(v));
	else
		json_object_set_new(o, key, json_string(""));
}

static void put_time(json_t *o, const char *key, const char *v)
{
	int64_t t;
	char buf[32];
	if (v && wsi_time_parse(v, &t) == 0)
		json_object_set_new(o, key, json_string(wsi_time_fmt(t, buf, sizeof buf)));
	else
		json_object_set_new(o, key, json_null());
}

static json_t *address(const json_t *a, int shopify)
{
	json_t *o = json_object();
	char name[512];
	const char *fn = wsi_jstr(a, "first_name"), *ln = wsi_jstr(a, "last_name");
	const char *full = shopify ? wsi_jstr(a, "name") : NULL;
	if (!full || !*full) {
		snprintf(name, sizeof name, "%s%s%s", fn ? fn : "", fn && *fn && ln && *ln ? " " : "",
			 ln ? ln : "");
		full = name;
	}
	put_str(o, "name", full);
	put_str(o, "company", wsi_jstr(a, "company"));
	put_str(o, "address1", wsi_jstr(a, shopify ? "address1" : "address_1"));
	put_str(o, "address2", wsi_jstr(a, shopify ? "address2" : "address_2"));
	put_str(o, "city", wsi_jstr(a, "city"));
	put_str(o, "state", wsi_jstr(a, shopify ? "province_code" : "state"));
	put_str(o, "postcode", wsi_jstr(a, shopify ? "zip" : "postcode"));
	put_str(o, "country", wsi_jstr(a, shopify ? "country_code" : "country"));
	put_str(o, "phone", wsi_jstr(a, "phone"));
	const char *email = wsi_jstr(a, "email");
	if (email)
		put_str(o, "email", email);
	return o;
}

static void jset_qty(json_t *o, wsi_dec q)
{
	char b[40];
	json_object_set_new(o, "quantity", json_string(wsi_dec_str(q, 0, b, sizeof b)));
}

static json_t *line_obj(const char *sku, const char *name, const char *line_id, const char *product)
{
	json_t *l = json_object();
	char *nm = strdup(name ? name : "");
	if (nm)
		wsi_html_decode(nm);
	put_str(l, "sku", sku);
	put_str(l, "name", nm);
	put_str(l, "line_id", line_id);
	put_str(l, "product_id", product);
	free(nm);
	return l;
}

/* WooCommerce line_items: each at its net price, its discount inside; items and tax summed. */
static json_t *woo_lines(const json_t *r, struct cx *c, wsi_dec *items, wsi_dec *tax)
{
	json_t *lines = json_array(), *v;
	const json_t *items_raw = json_object_get(r, "line_items");
	char field[96];
	for (size_t i = 0; i < json_array_size(items_raw); i++) {
		char b1[32], b2[32];
		if (!(v = raw_elem(c, items_raw, i))) {
			bad(c, "line_items", r, "line_items");
			break;
		}
		json_t *l = line_obj(wsi_jstr(v, "sku"), wsi_jstr(v, "name"), wsi_jtext(v, "id", b1, sizeof b1),
				     wsi_jtext(v, "product_id", b2, sizeof b2));
		snprintf(field, sizeof field, "line_items[%zu].quantity", i);
		wsi_dec q = money(c, v, "quantity", field);
		snprintf(field, sizeof field, "line_items[%zu].subtotal", i);
		wsi_dec sub = money(c, v, "subtotal", field);
		snprintf(field, sizeof field, "line_items[%zu].total", i);
		wsi_dec tot = money(c, v, "total", field);
		snprintf(field, sizeof field, "line_items[%zu].total_tax", i);
		wsi_dec t = money(c, v, "total_tax", field);
		wsi_dec unit = {0};
		if (q.v)
			wsi_dec_div(sub, q, &unit);
		jset_qty(l, q);
		wsi_jset_dec(l, "unit_price", unit);
		wsi_jset_dec(l, "subtotal", sub);
		wsi_jset_dec(l, "discount", wsi_dec_sub(sub, tot));
		wsi_jset_dec(l, "total", tot);
		wsi_jset_dec(l, "tax", t);
		*items = wsi_dec_add(*items, tot);
		*tax = wsi_dec_add(*tax, t);
		add_line(c, lines, l);
		json_decref(v);
	}
	return lines;
}

/* WooCommerce shipping_lines and fee_lines, summed; coupon_lines as they are. */
static void woo_charges(const json_t *r, struct cx *c, json_t *ship, json_t *fees, json_t *coupons, wsi_dec *shipping,
			wsi_dec *feesum, wsi_dec *tax)
{
	char field[96];
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r, "shipping_lines"), i, v) {
		json_t *s = json_object();
		put_str(s, "method", wsi_jstr(v, "method_id"));
		put_str(s, "title", wsi_jstr(v, "method_title"));
		snprintf(field, sizeof field, "shipping_lines[%zu].total", i);
		wsi_dec tot = money(c, v, "total", field);
		snprintf(field, sizeof field, "shipping_lines[%zu].total_tax", i);
		wsi_dec t = money(c, v, "total_tax", field);
		wsi_jset_dec(s, "total", tot);
		wsi_jset_dec(s, "tax", t);
		*shipping = wsi_dec_add(*shipping, tot);
		*tax = wsi_dec_add(*tax, t);
		json_array_append_new(ship, s);
	}
	json_array_foreach(json_object_get(r, "fee_lines"), i, v) {
		json_t *f = json_object();
		char *nm = strdup(wsi_jstr(v, "name") ? wsi_jstr(v, "name") : "");
		if (nm)
			wsi_html_decode(nm);
		put_str(f, "name", nm);
		free(nm);
		snprintf(field, sizeof field, "fee_lines[%zu].total", i);
		wsi_dec tot = money(c, v, "total", field);
		snprintf(field, sizeof field, "fee_lines[%zu].total_tax", i);
		wsi_dec t = money(c, v, "total_tax", field);
		wsi_jset_dec(f, "total", tot);
		wsi_jset_dec(f, "tax", t);
		*feesum = wsi_dec_add(*feesum, tot);
		*tax = wsi_dec_add(*tax, t);
		json_array_append_new(fees, f);
	}
	json_array_foreach(json_object_get(r, "coupon_lines"), i, v) {
		json_t *cp = json_object();
		put_str(cp, "code", wsi_jstr(v, "code"));
		snprintf(field, sizeof field, "coupon_lines[%zu].discount", i);
		wsi_dec d = money(c, v, "discount", field);
		snprintf(field, sizeof field, "coupon_lines[%zu].discount_tax", i);
		wsi_jset_dec(cp, "discount", d);
		wsi_jset_dec(cp, "discount_tax", money(c, v, "discount_tax", field));
		json_array_append_new(coupons, cp);
	}
}

/* A Shopify line an order edit took to current_quantity 0. */
static int edited_away(const json_t *line)
{
	const json_t *cq = json_object_get(line, "current_quantity");
	return json_is_integer(cq) && json_integer_value(cq) == 0;
}

/* a * num / den, rounded to the cent (den non-zero) */
static wsi_dec share(wsi_dec a, wsi_dec num, wsi_dec den)
{
	wsi_dec x = {0};
	wsi_dec_mul(a, num, &x);
	wsi_dec_div(x, den, &x);
	return wsi_dec_round(x, 2);
}

/* The tax of one line per web tax code, into taxes as {on, n, code, amount}: entries are the
 * line's own (WooCommerce taxes[{id,total}] by rate id, Shopify tax_lines[{title,price}]); their
 * amounts sum to the line's tax (a Shopify line's in proportion, after refunds and edits), the
 * last one taking the cents its neighbours' rounding left; in cents, or to 4 decimals where the
 * line's tax has them (wsi-post rounds each authority's sum once). */
static void line_taxes(json_t *taxes, struct cx *c, const char *on, size_t n, const json_t *entries, const json_t *codes,
		       wsi_dec line_tax, const char *where)
{
	size_t i, count = json_array_size(entries);
	json_t *t;
	wsi_dec sum = {0}, whole = {0};
	char field[160], b[40];
	/* Shopify's tax_lines describe the line as ordered: what is left now goes in their proportions */
	json_array_foreach(entries, i, t)
		if (!codes)
			whole = wsi_dec_add(whole, wsi_dec_round(money(c, t, "price", where), 2));
	json_array_foreach(entries, i, t) {
		const char *code = NULL;
		char idb[32];
		wsi_dec amt;
		snprintf(field, sizeof field, "%s[%zu]", where, i);
		if (codes) { /* WooCommerce: the rate id names the code in tax_lines */
			const char *rid = wsi_jtext(t, "id", idb, sizeof idb);
			code = rid ? wsi_jstr(json_object_get(codes, rid), "code") : NULL;
			amt = money(c, t, "total", field);
		} else {
			code = wsi_jstr(t, "title");
			amt = money(c, t, "price", field);
		}
		amt = wsi_dec_round(amt, line_tax.v % WSI_DEC_CENT ? 4 : 2); /* a store keeping 4 decimals: kept */
		if (!codes && whole.v && whole.v != line_tax.v)
			amt = share(amt, line_tax, whole);
		if (i + 1 == count)
			amt = wsi_dec_sub(line_tax, sum); /* the line's own rounded tax is the truth */
		sum = wsi_dec_add(sum, amt);
		if (!amt.v)
			continue;
		add_line(c, taxes, json_pack("{ss sI ss ss}", "on", on, "n", (json_int_t)n, "code", code ? code : "", "amount",
					     wsi_dec_str(amt, 2, b, sizeof b)));
	}
}

/* Every line's tax per web tax code (wsi(7), MONEY): items, shipping and fees of the canonical order. */
static json_t *taxes_of(const json_t *r, struct cx *c, const json_t *o, int woo)
{
	json_t *taxes = json_array(), *codes = NULL, *v;
	size_t i;
	if (woo) {
		codes = json_object();
		json_array_foreach(json_object_get(r, "tax_lines"), i, v) {
			char idb[32];
			const char *rid = wsi_jtext(v, "rate_id", idb, sizeof idb), *code = wsi_jstr(v, "rate_code");
			if (rid && code)
				json_object_set_new(codes, rid, json_pack("{ss}", "code", code));
		}
	}
	static const struct { const char *on, *canon, *raw; } parts[] = {
		{"line", "lines", "line_items"}, {"shipping", "shipping_lines", "shipping_lines"}, {"fee", "fees", "fee_lines"}};
	for (size_t p = 0; p < 3; p++) {
		size_t n = 0; /* the canonical index: Shopify lines edited away have none */
		const json_t *raw = json_object_get(r, parts[p].raw);
		for (i = 0; i < json_array_size(raw); i++) {
			if (!(v = raw_elem(c, raw, i)))
				break; /* (said by the lines) */
			if (!woo && p == 0 && edited_away(v)) {
				json_decref(v);
				continue;
			}
			json_t *line = wsi_json_elem(json_object_get(o, parts[p].canon), n);
			wsi_dec t = {0};
			wsi_jdec(line, "tax", (wsi_dec){0}, &t);
			json_decref(line);
			char where[64];
			snprintf(where, sizeof where, "%s[%zu].%s", parts[p].raw, i, woo ? "taxes" : "tax_lines");
			line_taxes(taxes, c, parts[p].on, n++, json_object_get(v, woo ? "taxes" : "tax_lines"), codes, t, where);
			json_decref(v);
		}
	}
	json_decref(codes);
	return taxes;
}

static json_t *woocommerce(const json_t *r, struct cx *c)
{
	json_t *ship = json_array(), *fees = json_array(), *coupons = json_array();
	char buf[64], field[96];
	wsi_dec items = {0}, tax = {0}, shipping = {0}, feesum = {0}, discount = {0};
	size_t i;
	json_t *v;
	json_t *lines = woo_lines(r, c, &items, &tax);
	woo_charges(r, c, ship, fees, coupons, &shipping, &feesum, &tax);
	json_t *o = json_object();
	discount = money(c, r, "discount_total", "discount_total");
	wsi_dec total = money(c, r, "total", "total");
	wsi_dec total_tax = money(c, r, "total_tax", "total_tax");
	wsi_dec refunded = {0};
	json_array_foreach(json_object_get(r, "refunds"), i, v) {
		snprintf(field, sizeof field, "refunds[%zu].total", i);
		wsi_dec rt = money(c, v, "total", field);
		refunded = wsi_dec_add(refunded, rt.v < 0 ? (wsi_dec){-rt.v} : rt);
	}
	(void)tax;

	put_text(o, "number", r, "number");
	put_time(o, "created", wsi_jstr(r, "date_created_gmt"));
	put_str(o, "currency", wsi_jstr(r, "currency"));
	json_object_set_new(o, "prices_include_tax", json_boolean(json_is_true(json_object_get(r, "prices_include_tax"))));
	const json_t *billing = json_object_get(r, "billing");
	json_t *cust = json_object();
	const char *cid = wsi_jtext(r, "customer_id", buf, sizeof buf);
	put_str(cust, "id", cid && strcmp(cid, "0") ? cid : "");
	put_str(cust, "email", wsi_jstr(billing, "email"));
	put_str(cust, "first_name", wsi_jstr(billing, "first_name"));
	put_str(cust, "last_name", wsi_jstr(billing, "last_name"));
	put_str(cust, "company", wsi_jstr(billing, "company"));
	put_str(cust, "phone", wsi_jstr(billing, "phone"));
	json_object_set_new(o, "customer", cust);
	json_object_set_new(o, "billing", address(billing, 0));
	json_object_set_new(o, "shipping", address(json_object_get(r, "shipping"), 0));
	json_object_set_new(o, "lines", lines);
	json_object_set_new(o, "shipping_lines", ship);
	json_object_set_new(o, "fees", fees);
	json_object_set_new(o, "coupons", coupons);
	json_object_set_new(o, "taxes", taxes_of(r, c, o, 1));
	json_t *pay = json_object();
	const char *paid_at = wsi_jstr(r, "date_paid_gmt");
	put_str(pay, "method", wsi_jstr(r, "payment_method"));
	put_str(pay, "title", wsi_jstr(r, "payment_method_title"));
	json_object_set_new(o, "payment", pay);
	json_t *tot = json_object();
	wsi_jset_dec(tot, "items", items);
	wsi_jset_dec(tot, "discount", discount);
	wsi_jset_dec(tot, "shipping", shipping);
	wsi_jset_dec(tot, "fees", feesum);
	wsi_jset_dec(tot, "tax", total_tax);
	wsi_jset_dec(tot, "total", total);
	wsi_jset_dec(tot, "refunded", refunded);
	json_object_set_new(o, "totals", tot);
	put_str(o, "note", wsi_jstr(r, "customer_note"));
	put_str(o, "status", wsi_jstr(r, "status"));
	json_object_set_new(o, "paid", json_boolean(paid_at && *paid_at));
	wsi_jset_dec(o, "paid_amount", paid_at && *paid_at ? total : (wsi_dec){0});
	put_time(o, "paid_at", paid_at);
	put_str(o, "transaction", wsi_jstr(r, "transaction_id"));
	return o;
}

/* Sum of the "price" (or `key`) members of an array of objects. */
static wsi_dec sum_of(struct cx *c, const json_t *arr, const char *key, const char *what)
{
	wsi_dec s = {0};
	size_t i;
	json_t *v;
	char field[128];
	json_array_foreach(arr, i, v) {
		snprintf(field, sizeof field, "%s[%zu].%s", what, i, key);
		s = wsi_dec_add(s, money(c, v, key, field));
	}
	return s;
}

/* What the refunds before now took of Shopify line `id`: its refund_line_items' net subtotal and
 * tax; 0, or 1 when some carry no subtotal or tax (an older API: the caller prorates). */
static int shopify_refunded(const json_t *r, struct cx *c, const char *id, wsi_dec *net, wsi_dec *tax)
{
	size_t i, j;
	json_t *rf, *rl;
	char field[128], b[32];
	int partial = 0;
	*net = *tax = (wsi_dec){0};
	json_array_foreach(json_object_get(r, "refunds"), i, rf) {
		json_array_foreach(json_object_get(rf, "refund_line_items"), j, rl) {
			const char *lid = wsi_jtext(rl, "line_item_id", b, sizeof b);
			if (!lid || strcmp(lid, id))
				continue;
			if (!json_object_get(rl, "subtotal") || !json_object_get(rl, "total_tax")) {
				partial = 1;
				continue;
			}
			snprintf(field, sizeof field, "refunds[%zu].refund_line_items[%zu].subtotal", i, j);
			*net = wsi_dec_add(*net, money(c, rl, "subtotal", field));
			snprintf(field, sizeof field, "refunds[%zu].refund_line_items[%zu].total_tax", i, j);
			*tax = wsi_dec_add(*tax, money(c, rl, "total_tax", field));
		}
	}
	return partial;
}

/* Shopify line_items, as the order is now (money.md decisions 2 and 11): current_quantity, at
 * their net price (less discounts, and less tax when prices include it), less what refunds took
 * (each refunded line's net and tax), or in proportion to the quantity when an edit or an older
 * refund says no amounts. */
static json_t *shopify_lines(const json_t *r, struct cx *c, int incl, wsi_dec *items)
{
	json_t *lines = json_array(), *v;
	const json_t *items_raw = json_object_get(r, "line_items");
	char field[128];
	for (size_t i = 0; i < json_array_size(items_raw); i++) {
		char b1[32] = "", b2[32];
		if (!(v = raw_elem(c, items_raw, i))) {
			bad(c, "line_items", r, "line_items");
			break;
		}
		if (edited_away(v)) {
			json_decref(v);
			continue; /* edited to quantity 0: no line for Sage (money.md decision 11) */
		}
		json_t *l = line_obj(wsi_jstr(v, "sku"), wsi_jstr(v, "name") ? wsi_jstr(v, "name") : wsi_jstr(v, "title"),
				     wsi_jtext(v, "id", b1, sizeof b1), wsi_jtext(v, "product_id", b2, sizeof b2));
		snprintf(field, sizeof field, "line_items[%zu].quantity", i);
		wsi_dec q0 = money(c, v, "quantity", field);
		wsi_dec q = json_object_get(v, "current_quantity") ? money(c, v, "current_quantity", field) : q0;
		snprintf(field, sizeof field, "line_items[%zu].price", i);
		wsi_dec price = money(c, v, "price", field);
		snprintf(field, sizeof field, "line_items[%zu].discount_allocations", i);
		wsi_dec disc = sum_of(c, json_object_get(v, "discount_allocations"), "amount", field);
		snprintf(field, sizeof field, "line_items[%zu].tax_lines", i);
		wsi_dec t = sum_of(c, json_object_get(v, "tax_lines"), "price", field);
		wsi_dec gross = {0}, net, unit = price;
		if (wsi_dec_mul(price, q0, &gross))
			bad(c, field, v, "price");
		net = wsi_dec_sub(gross, disc);
		if (incl) {
			net = wsi_dec_sub(net, t);
			gross = wsi_dec_sub(gross, t);
		}
		if (q.v != q0.v && q0.v) { /* less than was ordered: what is left of net, discount and tax */
			wsi_dec rnet, rtax;
			if (!incl && !shopify_refunded(r, c, b1, &rnet, &rtax) && (rnet.v || rtax.v)) {
				net = wsi_dec_sub(net, rnet);
				t = wsi_dec_sub(t, rtax);
			} else {
				net = share(net, q, q0);
				t = share(t, q, q0);
			}
			gross = share(gross, q, q0);
			disc = wsi_dec_sub(gross, net);
		}
		if (incl && q.v)
			wsi_dec_div(gross, q, &unit);
		jset_qty(l, q);
		wsi_jset_dec(l, "unit_price", unit);
		wsi_jset_dec(l, "subtotal", gross);
		wsi_jset_dec(l, "discount", disc);
		wsi_jset_dec(l, "total", net);
		wsi_jset_dec(l, "tax", t);
		*items = wsi_dec_add(*items, net);
		add_line(c, lines, l);
		json_decref(v);
	}
	return lines;
}

/* An amount of a Shopify refund: X, or where it has only X_set (refund_shipping_lines' subtotal and
 * tax) the amount of the money set being derived. */
static wsi_dec set_money(struct cx *c, const json_t *o, const char *key, const char *field)
{
	char set[64];
	if (json_object_get(o, key))
		return money(c, o, key, field);
	snprintf(set, sizeof set, "%s_set", key);
	const json_t *m = json_object_get(json_object_get(o, set), c->money_set ? c->money_set : "shop_money");
	return money(c, m, "amount", field);
}

/* Shopify shipping_lines: each net of its discounts (and its tax when prices include it), less
 * what refunds before now gave back of it, as the order is now: a refund's refund_shipping_lines
 * name their shipping line (Shopify 2024-10); a refund with none gives it back by order_adjustments
 * of kind shipping_refund (negative amounts), taken off the lines in order, each down to 0. */
static json_t *shopify_shipping(const json_t *r, struct cx *c, int incl, wsi_dec *shipping)
{
	json_t *ship = json_array(), *v, *rf, *adj;
	const json_t *lines = json_object_get(r, "shipping_lines");
	char field[160];
	size_t i, j, n = json_array_size(lines);
	wsi_dec back = {0}, back_tax = {0}, *net = calloc(n + 1, sizeof *net), *tax = calloc(n + 1, sizeof *tax);
	if (!net || !tax) {
		free(net);
		free(tax);
		bad(c, "shipping_lines", r, "shipping_lines");
		return ship;
	}
	json_array_foreach(lines, i, v) {
		snprintf(field, sizeof field, "shipping_lines[%zu].price", i);
		wsi_dec p = money(c, v, "price", field);
		snprintf(field, sizeof field, "shipping_lines[%zu].discount_allocations", i);
		wsi_dec d = sum_of(c, json_object_get(v, "discount_allocations"), "amount", field);
		snprintf(field, sizeof field, "shipping_lines[%zu].tax_lines", i);
		tax[i] = sum_of(c, json_object_get(v, "tax_lines"), "price", field);
		net[i] = wsi_dec_sub(p, d);
		if (incl)
			net[i] = wsi_dec_sub(net[i], tax[i]);
	}
	json_array_foreach(json_object_get(r, "refunds"), i, rf) {
		const json_t *named = json_object_get(rf, "refund_shipping_lines");
		json_array_foreach(named, j, adj) {
			char a[32], b[32];
			const char *id = wsi_jtext(adj, "shipping_line_id", a, sizeof a);
			size_t k = 0;
			snprintf(field, sizeof field, "refunds[%zu].refund_shipping_lines[%zu]", i, j);
			while (k < n && !(id && wsi_jtext(json_array_get(lines, k), "id", b, sizeof b) && !strcmp(id, b)))
				k++;
			if (k == n) {
				bad(c, field, adj, "shipping_line_id"); /* names no shipping line of the order */
				continue;
			}
			net[k] = wsi_dec_sub(net[k], set_money(c, adj, "subtotal_amount", field));
			tax[k] = wsi_dec_sub(tax[k], set_money(c, adj, "tax_amount", field));
		}
		if (json_array_size(named))
			continue; /* its order adjustments say the same again */
		json_array_foreach(json_object_get(rf, "order_adjustments"), j, adj) {
			const char *kind = wsi_jstr(adj, "kind");
			if (!kind || strcmp(kind, "shipping_refund"))
				continue;
			snprintf(field, sizeof field, "refunds[%zu].order_adjustments[%zu]", i, j);
			back = wsi_dec_sub(back, money(c, adj, "amount", field));
			back_tax = wsi_dec_sub(back_tax, money(c, adj, "tax_amount", field));
		}
	}
	/* given back with no line named: off the first line, what it cannot take off the next, the last
	 * taking what is left (more than was charged: a negative charge, which wsi-validate refuses) */
	for (size_t k = 0; k < n; k++) {
		int last = k + 1 == n;
		wsi_dec take = last || back.v < net[k].v ? back : net[k], take_tax = last || back_tax.v < tax[k].v ? back_tax : tax[k];
		if (!last && take.v < 0)
			take.v = 0;
		if (!last && take_tax.v < 0)
			take_tax.v = 0;
		net[k] = wsi_dec_sub(net[k], take);
		tax[k] = wsi_dec_sub(tax[k], take_tax);
		back = wsi_dec_sub(back, take);
		back_tax = wsi_dec_sub(back_tax, take_tax);
	}
	json_array_foreach(lines, i, v) {
		json_t *s = json_object();
		put_str(s, "method", wsi_jstr(v, "code"));
		put_str(s, "title", wsi_jstr(v, "title"));
		wsi_jset_dec(s, "total", net[i]);
		wsi_jset_dec(s, "tax", tax[i]);
		*shipping = wsi_dec_add(*shipping, net[i]);
		json_array_append_new(ship, s);
	}
	free(net);
	free(tax);
	return ship;
}

/* Shopify's customer, billing and shipping addresses (the order's e-mail when the customer has none). */
static void shopify_people(const json_t *r, json_t *o)
{
	const json_t *cu = json_object_get(r, "customer");
	json_t *cust = json_object();
	char idb[32];
	const char *email = wsi_jstr(cu, "email");
	if (!email || !*email)
		email = wsi_jstr(r, "email");
	put_str(cust, "id", json_is_object(cu) ? wsi_jtext(cu, "id", idb, sizeof idb) : "");
	put_str(cust, "email", email);
	put_str(cust, "first_name", wsi_jstr(cu, "first_name"));
	put_str(cust, "last_name", wsi_jstr(cu, "last_name"));
	put_str(cust, "company", wsi_jstr(json_object_get(r, "billing_address"), "company"));
	put_str(cust, "phone", wsi_jstr(cu, "phone") ? wsi_jstr(cu, "phone") : wsi_jstr(r, "phone"));
	json_object_set_new(o, "customer", cust);
	json_t *bill = address(json_object_get(r, "billing_address"), 1);
	put_str(bill, "email", email);
	json_object_set_new(o, "billing", bill);
	json_object_set_new(o, "shipping", address(json_object_get(r, "shipping_address"), 1));
}

static json_t *shopify(const json_t *r, struct cx *c)
{
	json_t *o = json_object(), *fees = json_array(), *coupons = json_array();
	char field[128];
	size_t i;
	json_t *v;
	int incl = json_is_true(json_object_get(r, "taxes_included"));
	wsi_dec items = {0}, shipping = {0};
	json_t *lines = shopify_lines(r, c, incl, &items), *ship = shopify_shipping(r, c, incl, &shipping);
	json_array_foreach(json_object_get(r, "discount_codes"), i, v) {
		json_t *cp = json_object();
		put_str(cp, "code", wsi_jstr(v, "code"));
		snprintf(field, sizeof field, "discount_codes[%zu].amount", i);
		wsi_jset_dec(cp, "discount", money(c, v, "amount", field));
		wsi_jset_dec(cp, "discount_tax", (wsi_dec){0});
		json_array_append_new(coupons, cp);
	}
	wsi_dec tip = money(c, r, "total_tip_received", "total_tip_received");
	if (tip.v) {
		json_t *f = json_object();
		put_str(f, "name", "Tip");
		wsi_jset_dec(f, "total", tip);
		wsi_jset_dec(f, "tax", (wsi_dec){0});
		json_array_append_new(fees, f);
	}
	const char *tkey = json_object_get(r, "current_total_price") ? "current_total_price" : "total_price";
	wsi_dec total = money(c, r, tkey, tkey);
	const char *xkey = json_object_get(r, "current_total_tax") ? "current_total_tax" : "total_tax";
	wsi_dec total_tax = money(c, r, xkey, xkey);
	wsi_dec discount = money(c, r, "total_discounts", "total_discounts");
	wsi_dec outstanding = money(c, r, "total_outstanding", "total_outstanding");
	wsi_dec refunded = {0};
	json_array_foreach(json_object_get(r, "refunds"), i, v) {
		size_t j;
		json_t *tr;
		json_array_foreach(json_object_get(v, "transactions"), j, tr) {
			snprintf(field, sizeof field, "refunds[%zu].transactions[%zu].amount", i, j);
			refunded = wsi_dec_add(refunded, money(c, tr, "amount", field));
		}
	}

	const char *fs = wsi_jstr(r, "financial_status");
	const char *cancelled = wsi_jstr(r, "cancelled_at");
	put_text(o, "number", r, "name");
	put_time(o, "created", wsi_jstr(r, "created_at"));
	put_str(o, "currency", wsi_jstr(r, "currency"));
	json_object_set_new(o, "prices_include_tax", json_boolean(incl));
	shopify_people(r, o);
	json_object_set_new(o, "lines", lines);
	json_object_set_new(o, "shipping_lines", ship);
	json_object_set_new(o, "fees", fees);
	json_object_set_new(o, "coupons", coupons);
	json_object_set_new(o, "taxes", taxes_of(r, c, o, 0));
	json_t *pay = json_object();
	const char *gw = NULL;
	json_t *names = json_object_get(r, "payment_gateway_names");
	if (json_is_array(names) && json_array_size(names))
		gw = json_string_value(json_array_get(names, 0));
	if (!gw)
		gw = wsi_jstr(r, "gateway");
	int paid = fs && (!strcmp(fs, "paid") || !strcmp(fs, "partially_paid") || !strcmp(fs, "partially_refunded"));
	put_str(pay, "method", gw);
	put_str(pay, "title", gw);
	json_object_set_new(o, "payment", pay);
	wsi_dec amount = {0};
	if (paid)
		amount = fs && !strcmp(fs, "partially_paid") ? wsi_dec_sub(total, outstanding) : total;
	json_t *tot = json_object();
	wsi_jset_dec(tot, "items", items);
	wsi_jset_dec(tot, "discount", discount);
	wsi_jset_dec(tot, "shipping", shipping);
	wsi_jset_dec(tot, "fees", tip);
	wsi_jset_dec(tot, "tax", total_tax);
	wsi_jset_dec(tot, "total", total);
	wsi_jset_dec(tot, "refunded", refunded);
	json_object_set_new(o, "totals", tot);
	put_str(o, "note", wsi_jstr(r, "note"));
	put_str(o, "status", cancelled && *cancelled ? "cancelled" : fs ? fs : "");
	json_object_set_new(o, "paid", json_boolean(paid));
	wsi_jset_dec(o, "paid_amount", amount);
	put_time(o, "paid_at", paid ? wsi_jstr(r, "processed_at") : NULL);
	put_str(o, "transaction", "");
	return o;
}

/* Every amount of a Shopify order in its presentment money: each member X that has an X_set with
 * presentment_money takes that amount, at every depth (lines, tax lines, discounts, shipping,
 * refunds, totals). */
static void to_presentment(json_t *v)
{
	size_t i;
	json_t *x;
	const char *k;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) to_presentment(x);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(v, k, x) {
		size_t n = strlen(k);
		const json_t *amt = json_object_get(json_object_get(x, "presentment_money"), "amount");
		if (n > 4 && !strcmp(k + n - 4, "_set") && amt && n - 4 < 64) {
			char base[64];
			memcpy(base, k, n - 4);
			base[n - 4] = 0;
			if (json_object_get(v, base)) /* (only values already there: the object keeps its shape) */
				json_object_set(v, base, (json_t *)amt);
		} else
			to_presentment(x);
	}
}

static json_t *canonical(const char *source, const json_t *raw, const char *text, size_t len, int compact, wsi_error *e)
{
	struct cx c = {e, 0, NULL, compact, text, len, text ? json_object_get(raw, "line_items") : NULL};
	long long mod;
	char buf[64];
	if (!json_is_object(raw)) {
		wsi_fail(e, WSI_EXIT_ORDERS, "the order is not a JSON object");
		return NULL;
	}
	if (!wsi_order_raw_id(raw, buf, sizeof buf)) {
		wsi_fail(e, WSI_EXIT_ORDERS, "the order has no id");
		return NULL;
	}
	json_t *li = json_object_get(raw, "line_items");
	if (li && !json_is_array(li)) {
		wsi_fail(e, WSI_EXIT_ORDERS, "line_items is not a list");
		return NULL;
	}
	json_t *o;
	if (strcmp(source, "shopify") == 0)
		o = shopify(raw, &c);
	else if (strcmp(source, "woocommerce") == 0)
		o = woocommerce(raw, &c);
	else {
		wsi_fail(e, WSI_EXIT_ORDERS, "unknown source '%s'", source);
		return NULL;
	}
	if (c.failed) {
		json_decref(o);
		return NULL;
	}
	/* Shopify paid in another currency than the shop's: the order in that money too, for a customer
	 * billed in it (money.md decision 2); none when it cannot be read */
	const char *pc = wsi_jstr(raw, "presentment_currency"), *sc = wsi_jstr(raw, "currency");
	if (!strcmp(source, "shopify") && pc && *pc && sc && strcmp(pc, sc)) {
		json_t *pr = json_deep_copy(raw);
		wsi_error pe = {0};
		struct cx pcx = {&pe, 0, "presentment_money", compact, text, len, text ? json_object_get(pr, "line_items") : NULL};
		to_presentment(pr);
		json_t *alt = pr ? shopify(pr, &pcx) : NULL;
		json_decref(pr);
		if (alt && !pcx.failed) {
			json_object_set_new(alt, "currency", json_string(pc));
			json_object_set_new(o, "presentment", alt);
		} else
			json_decref(alt);
	}
	json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "id", json_string(wsi_order_raw_id(raw, buf, sizeof buf)));
	if (wsi_order_raw_modified(source, raw, &mod) == 0)
		json_object_set_new(o, "modified", json_string(wsi_time_fmt(mod, buf, sizeof buf)));
	else
		json_object_set_new(o, "modified", json_null());
	return o;
}

/* Members that may change after posting without changing what was posted. */
/* Not in the content hash: normal life (status, payment), and the tax per web code, which wsi read
 * later than the rest (an order posted before must not look edited; a change of it changes a line's
 * tax, which is hashed). */
static const char *volatile_keys[] = {"status", "modified", "paid", "paid_amount", "paid_at", "transaction", "taxes",
				      "presentment", NULL};

/* Take the volatile members out of canon into a new object (put back with json_object_update). */
static json_t *take_volatile(json_t *canon)
{
	json_t *vol = json_object();
	for (int i = 0; volatile_keys[i]; i++) {
		json_t *v = json_object_get(canon, volatile_keys[i]);
		if (v) {
			json_object_set(vol, volatile_keys[i], v);
			json_object_del(canon, volatile_keys[i]);
		}
	}
	return vol;
}

/* Text written by dump_compact: into p; or, with h, only hashed (and counted); with count only
 * counted. Past limit (when set) it stops, over. */
struct text { char *p; size_t n, cap, limit; wsi_hash_state *h; int count, over; };

static int text_put(const char *b, size_t n, void *ud)
{
	struct text *t = ud;
	if (t->count || t->h) {
		if (t->h)
			wsi_hash_add(t->h, b, n);
		t->n += n;
		return 0;
	}
	if (t->limit && t->n + n > t->limit) {
		t->over = 1;
		return -1;
	}
	if (t->n + n > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->n + n)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (!p)
			return -1;
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->n, b, n);
	t->n += n;
	return 0;
}

/* A string as jansson dumps it: plain printable ASCII here, anything else by jansson. */
static int dump_str(const char *p, size_t n, struct text *t)
{
	size_t i = 0;
	while (i < n && (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
		i++;
	if (i == n)
		return text_put("\"", 1, t) || text_put(p, n, t) || text_put("\"", 1, t);
	json_t *s = json_stringn_nocheck(p, n); /* escapes, or UTF-8 to check */
	int rc = !s || json_dump_callback(s, text_put, t, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(s);
	return rc ? -1 : 0;
}

/* What json_dumps(v, JSON_COMPACT) writes, byte for byte, into t (the content hash must never
 * change: posted orders are compared by it). Plain ASCII strings, integers, literals, arrays and
 * objects are written here; any other string, and reals, by jansson. Top-level members named in
 * skip are left out. 0, or -1 (as json_dumps fails: invalid UTF-8, out of memory). */
static int dump_compact(const json_t *v, struct text *t, const char *const *skip)
{
	char b[32];
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;
		int first = 1;
		if (text_put("{", 1, t))
			return -1;
		json_object_foreach((json_t *)v, k, m) {
			int skipped = 0;
			for (int i = 0; skip && skip[i] && !skipped; i++)
				skipped = !strcmp(k, skip[i]);
			if (skipped)
				continue;
			if ((!first && text_put(",", 1, t)) || dump_str(k, strlen(k), t) || text_put(":", 1, t) ||
			    dump_compact(m, t, NULL))
				return -1;
			first = 0;
		}
		return text_put("}", 1, t);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *m;
		if (text_put("[", 1, t))
			return -1;
		json_array_foreach(v, i, m)
			if ((i && text_put(",", 1, t)) || dump_compact(m, t, NULL))
				return -1;
		return text_put("]", 1, t);
	}
	case JSON_STRING: {
		size_t rn;
		const char *raw = wsi_json_raw_text(v, &rn); /* a line kept as its text (compact_line) */
		return raw ? text_put(raw, rn, t) : dump_str(json_string_value(v), json_string_length(v), t);
	}
	case JSON_INTEGER:
		snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return text_put(b, strlen(b), t);
	case JSON_TRUE:
		return text_put("true", 4, t);
	case JSON_FALSE:
		return text_put("false", 5, t);
	case JSON_NULL:
		return text_put("null", 4, t);
	default:
		return json_dump_callback(v, text_put, t, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

/* A derived line (or a line's tax entry) into its array: as its text when the reader keeps them small. */
static void add_line(struct cx *c, json_t *lines, json_t *l)
{
	struct text t = {0};
	if (c->compact && !dump_compact(l, &t, NULL)) {
		json_t *raw = wsi_json_raw(t.p ? t.p : "{}", t.n);
		if (raw) {
			json_decref(l);
			l = raw;
		}
	}
	free(t.p);
	json_array_append_new(lines, l);
}

int wsi_order_content_hash(json_t *canon, char content_hash[33])
{
	struct text t = {.limit = 1 << 20};
	int rc = dump_compact(canon, &t, volatile_keys);
	if (!rc)
		wsi_hash_hex(t.p ? t.p : "", t.n, content_hash);
	free(t.p);
	if (!t.over)
		return rc ? -1 : 0;
	/* over a MiB (an order of thousands of lines): written twice, counted then hashed, never held */
	struct text count = {.count = 1};
	wsi_hash_state h;
	if (dump_compact(canon, &count, volatile_keys))
		return -1;
	wsi_hash_begin(&h, count.n);
	struct text hashed = {.h = &h};
	if (dump_compact(canon, &hashed, volatile_keys))
		return -1;
	wsi_hash_end(&h, content_hash);
	return 0;
}

int wsi_order_texts(json_t *canon, char **text, char content_hash[33])
{
	json_t *vol = take_volatile(canon);
	*text = NULL;
	char *content = json_dumps(canon, JSON_COMPACT);
	char *tail = json_dumps(vol, JSON_COMPACT);
	json_object_update(canon, vol);
	json_decref(vol);
	if (!content || !tail) {
		free(content);
		free(tail);
		return -1;
	}
	wsi_hash_hex(content, strlen(content), content_hash);
	/* the whole canonical text: content, then the volatile members */
	size_t cl = strlen(content), tl = strlen(tail);
	if (tl > 2 && cl > 2) {
		content = realloc(content, cl + tl + 1);
		if (content) {
			content[cl - 1] = ',';
			memcpy(content + cl, tail + 1, tl);
		}
	} else if (tl > 2) {
		free(content);
		content = strdup(tail);
	}
	free(tail);
	*text = content;
	return content ? 0 : -1;
}

json_t *wsi_order_money_set(json_t *canon, const json_t *mapped)
{
	const char *set = wsi_jstr(mapped, "money");
	json_t *p = json_object_get(canon, "presentment");
	if (set && !strcmp(set, "presentment") && json_is_object(p)) {
		/* the same order: its key fields as the shop's */
		static const char *same[] = {"source", "id", "modified", "status", NULL};
		for (int i = 0; same[i]; i++)
			if (json_object_get(canon, same[i]))
				json_object_set(p, same[i], json_object_get(canon, same[i]));
		json_incref(p);
		json_decref(canon);
		return p;
	}
	return canon;
}

json_t *wsi_order_canonical(const char *source, const json_t *raw, wsi_error *e)
{
	return canonical(source, raw, NULL, 0, 0, e);
}

json_t *wsi_order_canonical_small(const char *source, const char *raw, size_t len)
{
	wsi_error e = {0};
	json_t *r = wsi_json_parse_lazy(raw, len, "line_items", WSI_LAZY_SPAN);
	json_t *c = r ? canonical(source, r, raw, len, 1, &e) : NULL;
	json_decref(r);
	return c;
}

json_t *wsi_order_stored(const char *source, const void *raw, size_t raw_len, const char *stored)
{
	if (stored && *stored) {
		json_t *c = json_loads(stored, 0, NULL);
		return c ? c : json_object();
	}
	if (!raw || !source)
		return json_object();
	/* read once when staged: its lines read one at a time, and kept as text; else read whole */
	json_t *c = wsi_order_canonical_small(source, raw, raw_len);
	if (!c) {
		wsi_error e = {0};
		json_t *r = wsi_json_parse(raw, raw_len, "the order", &e);
		c = r ? canonical(source, r, NULL, 0, 1, &e) : NULL;
		json_decref(r);
	}
	return c ? c : json_object();
}

json_t *wsi_order_stored_row(struct sqlite3_stmt *st, int col)
{
	return wsi_order_stored((const char *)sqlite3_column_text(st, col), sqlite3_column_blob(st, col + 1),
				(size_t)sqlite3_column_bytes(st, col + 1), (const char *)sqlite3_column_text(st, col + 2));
}

static void sql_canonical(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *stored = (const char *)sqlite3_value_text(argv[2]);
	if (stored && *stored) {
		sqlite3_result_value(cx, argv[2]);
		return;
	}
	const void *raw = sqlite3_value_blob(argv[1]);
	json_t *c = wsi_order_stored((const char *)sqlite3_value_text(argv[0]), raw,
				     (size_t)sqlite3_value_bytes(argv[1]), NULL);
	struct text t = {0};
	int rc = c ? dump_compact(c, &t, NULL) : -1; /* (its lines written out) */
	json_decref(c);
	if (rc || text_put("", 1, &t)) {
		free(t.p);
		sqlite3_result_error_nomem(cx);
		return;
	}
	sqlite3_result_text(cx, t.p, -1, free);
}

int wsi_order_sql_functions(struct sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "wsi_canonical", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
					  sql_canonical, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
