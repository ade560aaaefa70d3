/* sale.h - a web order as a Sage sale: its reference, finding it in Sage, the bodies to send. */
#ifndef WSI_SALE_H
#define WSI_SALE_H
#include <jansson.h>
#include "config.h"
#include "decimal.h"
#include "sage.h"

/* The Sage numbers of a sale found or made. */
typedef struct wsi_sale_numbers {
	char order[32], shipment[32], invoice[32], receipt[32];
	char total[40];     /* the Sage order total, as text */
} wsi_sale_numbers;

/* The field of OEOrders that carries the web order's reference ([sage] reference_field). */
const char *wsi_sale_reference_field(const wsi_config *c);
/* The reference of an order: its key, "STORE:ID". */
void wsi_sale_reference(const char *store, const char *id, char *buf, size_t n);
/* What Sage keeps of the field (reference/sage300-webapi.md): OrderReference 60, PurchaseOrderNumber 22. */
#define WSI_SAGE_REFERENCE_MAX 60
#define WSI_SAGE_PO_NUMBER_MAX 22
size_t wsi_sale_reference_max(const wsi_config *c);
/* 0 if the order's reference fits the field whole, else -1 with a sentence (status 1) naming a
 * [store] name short enough. */
int wsi_sale_reference_check(const wsi_config *c, const char *store, const char *id, wsi_error *e);

/* Look up many references in Sage at once; fn(ud, reference, numbers) for each found. */
typedef int (*wsi_sale_found_fn)(void *ud, const char *reference, const wsi_sale_numbers *n);
int wsi_sale_find(wsi_sage *s, const wsi_config *c, const char *const *refs, size_t n, wsi_sale_found_fn fn,
		  void *ud, wsi_error *e);
/* Look up the prepayment receipts of many references (batches described by the reference). */
int wsi_sale_find_receipts(wsi_sage *s, const char *const *refs, size_t n, wsi_sale_found_fn fn, void *ud,
			   wsi_error *e);
/* Read the numbers from a created OEOrders entity. */
void wsi_sale_numbers_of(const json_t *order, wsi_sale_numbers *n);

/* How the prepayment travels: "order", "receipt" or "none". */
const char *wsi_sale_prepayment(const wsi_config *c);
/* [sage] tax: "store" (the store's tax as manual amounts per authority, the default) or "sage"
 * (Sage calculates; wsi predicts it, and puts a difference within rounding_tolerance (default
 * 0.02) on the rounding_charge miscellaneous charge). 0, or -1 with *e. */
int wsi_sale_tax_conf(const wsi_config *c, int *sage_calculates, wsi_dec *tolerance, const char **rounding_charge,
		      wsi_error *e);
/* Does validation's plan for this order (mapped.tax) let Sage calculate the tax (tax = sage)? */
int wsi_sale_tax_calculated(const json_t *mapped);
/* [sage] prepayment, reconcile_after and tax, as wsi-post reads them. 0, or -1 with *e. */
int wsi_sale_post_conf(const wsi_config *c, long *reconcile_after, wsi_error *e);
/* The OEOrders body for a canonical order and its mapping. NULL with *e naming what is
 * wrong (status 1) when the order cannot be expressed in Sage. Caller frees. */
/* A store that keeps nets to 4 decimals (a coupon's share of 10.0533 on a line): a copy of the
 * canonical order whose line, shipping and fee nets are in cents, each rounded down and the cents
 * the order's total holds beyond them (less each authority's tax, `index` from validate's plan,
 * rounded once) given to the largest remainders, so Sage's total is what was paid. NULL: every
 * net is in cents already (or one is negative), use the order as it is. */
json_t *wsi_sale_cents(const json_t *canon, const json_t *index);

/* The entries of an order's taxes ({on, n, code, amount}) by line, found in one pass: a line's
 * entries are walked with wsi_tax_index_next (*cursor 0 to start; NULL at the end), so an order of
 * 100,000 taxed lines is not searched 100,000 times. */
typedef struct wsi_tax_index wsi_tax_index;
wsi_tax_index *wsi_tax_index_new(const json_t *canon);
json_t *wsi_tax_index_next(const wsi_tax_index *x, const char *on, size_t n, size_t *cursor); /* (release it) */
void wsi_tax_index_free(wsi_tax_index *x);

char *wsi_sale_order_body(const wsi_config *c, const char *store, const char *id, const json_t *canon,
			  const json_t *mapped, wsi_error *e);
/* The reason code of the last body refused with status WSI_EXIT_ORDERS on this thread
 * ("no-exact-price", "negative-fee", ...; "cannot-post" when none more precise). */
const char *wsi_sale_refusal(void);
/* The A/R receipt batch body of the prepayment of a posted order (receipt mode). */
char *wsi_sale_receipt_body(const wsi_config *c, const char *store, const char *id, const json_t *canon,
			    const json_t *mapped, const char *sage_order, wsi_error *e);

#endif
