/* order.h - the canonical order: one shape for WooCommerce and Shopify orders. */
#ifndef WSI_ORDER_H
#define WSI_ORDER_H
#include <jansson.h>
#include "msg.h"

/* The canonical order, the shape every step after wsi-stage works from (amounts are decimal
 * text, never numbers; times RFC 3339 UTC; absent values are ""):
 * {"number", "created", "currency", "prices_include_tax": bool,
 *  "customer": {"id", "email", "first_name", "last_name", "company", "phone"},
 *  "billing" and "shipping": {"name", "company", "address1", "address2", "city", "state",
 *                             "postcode", "country", "email", "phone"},
 *  "lines": [{"sku", "name", "line_id", "product_id", "quantity", "unit_price", "subtotal",
 *             "discount", "total" (net of discounts, of tax when prices include it), "tax"}],
 *  "shipping_lines": [{"method", "title", "total", "tax"}],
 *  "fees": [{"name", "total", "tax"}],
 *  "coupons": [{"code", "discount", "discount_tax"}],
 *  "payment": {"method", "title"},
 *  "totals": {"items", "discount", "shipping", "fees", "tax", "total", "refunded"},
 *  "taxes": [{"on": "line"|"shipping"|"fee", "n" (its index), "code" (WooCommerce rate_code,
 *             Shopify tax title), "amount"}] (each line's tax per web tax code, summing to its "tax"),
 *  "note", "status", "paid": bool, "paid_amount", "paid_at", "transaction",
 *  "presentment": the same order in the money the customer paid in, when a Shopify order's
 *  presentment currency is not the shop's}
 * What was posted is hashed without status, modification time and payment state
 * (wsi_order_content_hash).
 *
 * It is not stored: a staged row keeps the raw bytes, and every reader derives the canonical
 * order from them again (wsi_order_stored; in SQL, WSI_CANONICAL_SQL). Rows staged before
 * schema 6 keep the text they were staged with, and that text is used. */

/* Derive the canonical order from a store's raw order (source "woocommerce" or "shopify").
 * Money stays decimal text. NULL with *e naming the field when a value cannot be read. */
json_t *wsi_order_canonical(const char *source, const json_t *raw, wsi_error *e);
/* The same canonical order from the raw text, read lazily: each of its line_items read in turn,
 * its lines and their taxes kept as their text (wsi_json_elem reads one). NULL when it cannot be
 * read so (wsi_order_canonical then says why). For an order of thousands of lines. */
json_t *wsi_order_canonical_small(const char *source, const char *raw, size_t len);
/* The store statuses posted by default for a source (comma list). */
const char *wsi_order_default_post_statuses(const char *source);
/* The order's id as the store gives it ("727", "5554292719956"), or NULL. */
const char *wsi_order_raw_id(const json_t *raw, char *buf, size_t n);
/* An order jansson cannot read whole (a \u0000, a lone surrogate, a duplicate key, a huge
 * number) still names itself: its id and modification times, read from the raw span alone, as a
 * small object for wsi_order_raw_id and wsi_order_raw_modified. NULL if even they cannot be read. */
json_t *wsi_order_raw_key_fields(const char *raw, size_t len);
/* The order's modification time in UTC seconds, from the raw order; -1 if absent/bad. */
int wsi_order_raw_modified(const char *source, const json_t *raw, long long *epoch);
/* The canonical order as text (*text, caller frees) and the hash of what would be posted
 * (all but status, modification time and payment state), for telling an edit of posted
 * content from normal life. 0, or -1 out of memory. */
int wsi_order_texts(json_t *canon, char **text, char content_hash[33]);
/* The hash alone (the same as wsi_order_texts gives). 0, or -1 out of memory. */
int wsi_order_content_hash(json_t *canon, char content_hash[33]);
/* The canonical order of a staged row: its stored text when it has one (staged before schema 6,
 * or "{}" for an order that could not be read), else derived from its raw bytes. Never NULL but
 * out of memory: an order that cannot be derived is an empty object, as it was staged. */
json_t *wsi_order_stored(const char *source, const void *raw, size_t raw_len, const char *canonical);
/* The canonical order in the money set validation chose for the customer (mapped.money =
 * "presentment": a Shopify order paid in the customer's currency, not the shop's): takes canon,
 * gives back the one to use. */
json_t *wsi_order_money_set(json_t *canon, const json_t *mapped);
/* The same as an SQL function on every connection wsi opens: wsi_canonical(source, raw, canonical)
 * gives the canonical text. Queries spell it WSI_CANONICAL_SQL (columns of the table orders). */
#define WSI_CANONICAL_SQL "wsi_canonical(source, raw, canonical)"
struct sqlite3;
int wsi_order_sql_functions(struct sqlite3 *db);
/* wsi_order_stored of a row whose columns col, col+1, col+2 are source, raw, canonical. */
struct sqlite3_stmt;
json_t *wsi_order_stored_row(struct sqlite3_stmt *st, int col);
#define WSI_STORED_COLS "source, raw, canonical"
/* Decode HTML entities in place (&amp; &ndash; &#8211; &#x2013; …), as stores send names. */
void wsi_html_decode(char *s);

#endif
