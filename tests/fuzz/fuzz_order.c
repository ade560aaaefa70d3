/* fuzz_order.c - the store order normalizers (WooCommerce, Shopify) and the Sage body built
 * from what they make: the first byte picks the source, the rest is the raw order. */
#include "json.h"
#include "order.h"
#include "sale.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *source = data[0] & 1 ? "shopify" : "woocommerce";
	wsi_error e = {0};
	json_t *raw = wsi_json_parse((const char *)data + 1, size - 1, "fuzz", &e);
	if (!raw)
		return 0;
	json_t *canon = wsi_order_canonical(source, raw, &e);
	long long mod;
	char idb[64];
	wsi_order_raw_modified(source, raw, &mod);
	wsi_order_raw_id(raw, idb, sizeof idb);
	if (canon) {
		char *text = NULL, hash[33];
		int hashed = wsi_order_texts(canon, &text, hash) == 0;
		if (hashed) {
			json_t *back = json_loads(text, 0, NULL);
			if (!back)
				abort(); /* the canonical text must be JSON */
			json_decref(back);
			/* wsi-stage's own writer of the hashed text gives jansson's bytes, or the hash would change */
			char fast[33];
			if (wsi_order_content_hash(canon, fast) || strcmp(fast, hash))
				abort();
		}
		free(text);
		/* a mapping as wsi-remap would make it: every SKU as it is */
		json_t *mapped = json_pack("{s:{s:s},s:[],s:{s:s,s:s},s:{}}", "customer", "to", "WEB", "items", "payment",
					   "bank", "SEATAC", "code", "CC", "shipvia");
		size_t i;
		json_t *l;
		json_array_foreach(json_object_get(canon, "lines"), i, l)
			json_array_append_new(json_object_get(mapped, "items"),
					      json_pack("{s:s}", "to", wsi_jstr(l, "sku") ? wsi_jstr(l, "sku") : ""));
		char *body = wsi_sale_order_body(NULL, "shop", "1", canon, mapped, &e);
		if (body) {
			json_t *b = json_loads(body, 0, NULL);
			if (!b)
				abort(); /* the body sent to Sage must be JSON */
			json_decref(b);
		}
		/* the order as the tools after wsi-stage read it (lines one at a time, kept as text) is
		 * the same order: the same hash, the same body */
		json_t *small = wsi_order_stored(source, data + 1, size - 1, NULL);
		char small_hash[33];
		if (hashed && (wsi_order_content_hash(small, small_hash) || strcmp(small_hash, hash)))
			abort();
		char *small_body = wsi_sale_order_body(NULL, "shop", "1", small, mapped, &e);
		if (!body != !small_body || (body && strcmp(body, small_body)))
			abort();
		free(small_body);
		json_decref(small);
		free(body);
		json_decref(mapped);
		json_decref(canon);
	}
	json_decref(raw);
	return 0;
}
