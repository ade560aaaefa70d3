/* readback.c - after the run's POSTs, their invoices read back from Sage (OE/OEInvoices, one
 * request per WSI_SAGE_BATCH orders) and compared to the cent with the web order and with what
 * was sent: the total with tax, the tax per authority, the prepayment. money.md decision 9: a
 * difference is recorded on the order (sage-total-differs, both amounts named), never repaired. */
#include "post.h"
#include "db.h"
#include "decimal.h"
#include "json.h"
#include <stdlib.h>
#include <string.h>

static int on_invoice(void *ud, json_t *row)
{
	const char *num = wsi_jstr(row, "OrderNumber");
	return num ? json_object_set(ud, num, row) : 0;
}

/* Append "what: Sage X, expected Y" to msg when the two differ at the cent. */
static void compare(char *msg, size_t n, const char *what, const json_t *inv, const char *field, const char *expected)
{
	wsi_dec got = {0}, want = {0};
	char g[40], w[40];
	int have = !wsi_jdec(inv, field, (wsi_dec){0}, &got) && json_object_get(inv, field);
	wsi_dec_parse(expected, strlen(expected), &want);
	if (have && wsi_dec_round(got, 2).v == wsi_dec_round(want, 2).v)
		return;
	snprintf(msg + strlen(msg), n - strlen(msg), "%s%s %s, expected %s", *msg ? "; " : "", what,
		 have ? wsi_dec_fmt(got, 2, g, sizeof g) : "missing", wsi_dec_fmt(want, 2, w, sizeof w));
}

int read_back(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e)
{
	size_t n = json_array_size(c->readback), i;
	if (!n)
		return 0;
	const char **nums = calloc(n, sizeof *nums);
	json_t *r, *invoices = json_object();
	if (!nums) {
		json_decref(invoices);
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	}
	json_array_foreach(c->readback, i, r) nums[i] = wsi_jstr(r, "order");
	int rc = wsi_sage_lookup(s, "OE/OEInvoices", "OrderNumber",
				 "InvoiceNumber,OrderNumber,InvoiceTotalWithTax,TotalTaxAmount1,TotalTaxAmount2,TotalTaxAmount3,"
				 "TotalTaxAmount4,TotalTaxAmount5,InvoicePaymntInCustomerCurrency,AutoTaxCalculationStatus",
				 nums, n, on_invoice, invoices, e);
	free(nums);
	json_array_foreach(c->readback, i, r) {
		if (rc)
			break;
		json_t *inv = json_object_get(invoices, wsi_jstr(r, "order"));
		char msg[700] = "", what[40];
		if (!inv)
			snprintf(msg, sizeof msg, "Sage order %s has no invoice", wsi_jstr(r, "order"));
		else {
			compare(msg, sizeof msg, "total", inv, "InvoiceTotalWithTax", wsi_jstr(r, "total"));
			for (int a = 1; a <= 5; a++) {
				char field[32];
				snprintf(field, sizeof field, "TotalTaxAmount%d", a);
				snprintf(what, sizeof what, "tax on authority %d", a);
				compare(msg, sizeof msg, what, inv, field, json_string_value(json_array_get(json_object_get(r, "tax"), (size_t)a - 1)));
			}
			compare(msg, sizeof msg, "prepayment", inv, "InvoicePaymntInCustomerCurrency", wsi_jstr(r, "prepay"));
			if (json_is_true(json_object_get(inv, "AutoTaxCalculationStatus")) && !json_is_true(json_object_get(r, "calculated")))
				snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%sSage calculated the tax itself", *msg ? "; " : "");
		}
		if (!*msg)
			continue;
		char text[900];
		snprintf(text, sizeof text, "Sage invoice %s of order %s differs from the web order: %s. Check the invoice.",
			 inv && wsi_jstr(inv, "InvoiceNumber") ? wsi_jstr(inv, "InvoiceNumber") : "(none)", wsi_jstr(r, "order"), msg);
		wsi_err("%s:%s: %s", wsi_jstr(r, "store"), wsi_jstr(r, "id"), text);
		const char *codes[1] = {"sage-total-differs"}, *msgs[1] = {text};
		/* the order stays posted; a difference that cannot be recorded stops the run, said */
		if (wsi_db_begin(db, e) || wsi_set_reasons(db, wsi_jstr(r, "store"), wsi_jstr(r, "id"), codes, NULL, msgs, 1, e) ||
		    wsi_db_commit(db, e)) {
			wsi_db_rollback(db);
			rc = -1;
		}
		c->differs++;
	}
	json_decref(invoices);
	return rc;
}
