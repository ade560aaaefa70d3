/* reasons.c - the table of reason codes (wsi-validate(1), wsi-sync(1) waiting). */
#include "reasons.h"
#include "orders.h"
#include <string.h>

#define ANY_STORE_FIX "fix the order in the store, and it comes again"

const wsi_reason_code wsi_reason_codes[] = {
	{"item-missing", 1, "for item %s, not in Sage", "add the item in Sage, or wsi-remap add item %s <Sage item>"},
	{"item-missing", 0, "with a line that has no SKU", "give the product a SKU in the store"},
	{"item-inactive", 1, "for item %s, inactive in Sage", "change the item in Sage, or map the SKU to another item"},
	{"item-not-sellable", 1, "for item %s, not sellable in Sage", "change the item in Sage, or map the SKU to another item"},
	{"customer-unmapped", 1, "for a Sage customer for web customer %s",
	 "wsi-remap add customer %s <customer> (or '*' for all)"},
	{"customer-missing", 1, "for customer %s, not in Sage", "add the customer, or map to another"},
	{"customer-on-hold", 1, "for customer %s, on hold in Sage", "take it off hold"},
	{"customer-inactive", 1, "for customer %s, inactive in Sage", "make it active"},
	{"credit-limit", 1, "for customer %s, over its credit limit", "raise the limit in Sage, or wait for its payments"},
	{"currency-mismatch", 1, "in another currency than customer %s", "map them to a customer in that currency"},
	{"payment-unmapped", 1, "paid by %s, with no Sage bank and payment code", "wsi-remap add payment %s <bank> <code>"},
	{"bank-missing", 1, "for bank %s, not in Sage", "add it, or map the payment to another"},
	{"payment-code-missing", 1, "for payment code %s, not in Sage", "add it, or map the payment to another"},
	{"no-lines", 0, "with no lines", ANY_STORE_FIX},
	{"quantity-not-positive", 0, "whose quantities are not positive", ANY_STORE_FIX},
	{"total-mismatch", 0, "whose totals do not add up", ANY_STORE_FIX},
	{"refunded", 0, "with refunds in the store", "post it by hand in Sage, with a credit note"},
	{"overpaid", 0, "paid more than their total", "check the payment in the store, then post it by hand"},
	{"unreadable", 0, "that could not be read as downloaded", ANY_STORE_FIX},
	{"reference-too-long", 1, "whose reference (store %s, then the order id) is longer than Sage keeps",
	 "give the store a shorter [store] name"},
	{"cannot-post", 0, "that cannot be written as a Sage order", "see wsi-sync show KEY, then fix the order or its mapping"},
	{"tax-unmapped", 1, "for web tax %s, with no Sage tax authority", "wsi-remap add tax '%s' <Sage authority>"},
	{"tax-unmapped", 0, "with tax no web tax code names", "fix the tax in the store, and it comes again"},
	{"tax-not-in-group", 1, "for tax authority %s, not in the customer's tax group",
	 "map the web tax to an authority of the group, or give the customer the right tax group in Sage"},
	{"tax-differs", 0, "whose tax Sage would calculate otherwise than the store charged ([sage] tax = sage)",
	 "see wsi-validate -l; correct the rates in Sage or the store, or name a [sage] rounding_charge"},
	{"no-exact-price", 0, "with a fractional quantity that no price in cents makes exact",
	 "change the quantity or the price in the store, or post it by hand"},
	{"negative-fee", 0, "with a negative fee, which Sage has no form for",
	 "make the discount a coupon in the store, or post it by hand"},
	{"negative-shipping", 0, "with more shipping given back than was charged, which Sage has no form for",
	 "post it by hand in Sage, with a credit note"},
	{"sage-refused", 0, "that Sage refused", "fix the cause, then wsi-validate KEY | wsi-post"},
	{"sage-total-differs", 0, "posted, with a Sage total that differs from the web order's",
	 "check the invoice in Sage, then wsi-sync settle KEY"},
	/* states that wait without a reason of their own */
	{WSI_NAME_CONFLICT, 0, "changed in the store after posting",
	 "make the credit note or change in Sage by hand, then wsi-sync settle KEY"},
	{WSI_NAME_HELD, 0, "held by a person", "wsi-sync release KEY lets it go on"},
	{WSI_NAME_POSTING, 0, "with an unknown outcome in Sage", "the next wsi-post finds out"},
	{"sent-unanswered", 1, "for Sage to answer a request sent at %s (Sage may still be saving it)",
	 "nothing: the first run [sage] reconcile_after later decides it by what Sage has"},
	{"next-run", 0, "for the next run (the last could not reach Sage or the store, or stopped, or none ran since)",
	 "the next wsi-sync takes them on; wsi-sync status tells how the last run ended"},
};
const size_t wsi_reason_codes_n = sizeof wsi_reason_codes / sizeof *wsi_reason_codes;

const wsi_reason_code *wsi_reason_code_find(const char *code, const char *subject)
{
	const wsi_reason_code *any = NULL;
	int has = subject && *subject;
	for (size_t i = 0; i < wsi_reason_codes_n; i++)
		if (!strcmp(wsi_reason_codes[i].code, code)) {
			if (wsi_reason_codes[i].subject == has)
				return &wsi_reason_codes[i];
			if (!any)
				any = &wsi_reason_codes[i];
		}
	return any;
}

char *wsi_reason_say(const char *tmpl, const char *subject, char *buf, size_t n)
{
	size_t o = 0, sl = strlen(subject ? subject : "");
	for (const char *p = tmpl; *p && o + 1 < n; p++) {
		if (p[0] == '%' && p[1] == 's') {
			size_t k = sl < n - 1 - o ? sl : n - 1 - o;
			memcpy(buf + o, subject, k);
			o += k;
			p++;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o < n ? o : n - 1] = 0;
	return buf;
}
