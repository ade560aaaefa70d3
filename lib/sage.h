/* sage.h - the Sage 300 Web API: reading collections in batches, creating documents. */
#ifndef WSI_SAGE_H
#define WSI_SAGE_H
#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include <stdint.h>

typedef struct wsi_sage wsi_sage;

/* How many values one `or` filter asks about (DESIGN: never once per line). */
#define WSI_SAGE_BATCH 20

/* Check [sage] url, user and password and get ready. NULL with *e (status 3). */
wsi_sage *wsi_sage_open(const wsi_config *c, wsi_error *e);
/* Another connection to the same Sage (for posting on several at once). */
wsi_sage *wsi_sage_clone(const wsi_sage *s, wsi_error *e);
void wsi_sage_close(wsi_sage *s);
long wsi_sage_requests(const wsi_sage *s);
const char *wsi_sage_url(const wsi_sage *s);
/* Sage's clock: the Date of its last answer to a GET (0 when none came). */
int64_t wsi_sage_clock(const wsi_sage *s);

typedef int (*wsi_sage_row_fn)(void *ud, json_t *row);
/* GET path (below the company, e.g. "IC/ICItems?$select=…"), following @odata.nextLink,
 * calling fn for every row. -1 with *e: status 3 credentials refused, 4 unreachable or
 * failing, 5 local. */
int wsi_sage_each(wsi_sage *s, const char *path, wsi_sage_row_fn fn, void *ud, wsi_error *e);
/* Ask about many values of one field at once: "$filter=F eq 'a' or F eq 'b' …", at most
 * WSI_SAGE_BATCH values a request, literals quoted and encoded. `select` may be NULL. */
int wsi_sage_lookup(wsi_sage *s, const char *resource, const char *field, const char *select,
		    const char *const *values, size_t n, wsi_sage_row_fn fn, void *ud, wsi_error *e);

enum wsi_sage_outcome {
	WSI_SAGE_CREATED = 0,  /* *out holds the created entity */
	WSI_SAGE_REFUSED = 1,  /* Sage said no (400/409…): e->msg holds Sage's own words */
	WSI_SAGE_UNKNOWN = 2,  /* a timeout or dropped connection after sending: find out later */
	WSI_SAGE_FAILED = -1   /* not sent, or credentials refused: e->status 3, 4 or 5 */
};
/* Sage's own words (error.message.value) in the last error it answered. */
const char *wsi_sage_words(const wsi_sage *s);
/* POST body to path; returns an outcome as above. A 2xx whose entity lacks number_field (the
 * number Sage gives what it made: "OrderNumber") is not a clear success: WSI_SAGE_UNKNOWN. */
int wsi_sage_post(wsi_sage *s, const char *path, const char *body, const char *number_field, json_t **out,
		  wsi_error *e);

/* An OData string literal, quotes doubled and the whole percent-encoded: O'Brien -> %27O%27%27Brien%27.
 * Caller frees. */
char *wsi_odata_literal(const char *value);

#endif
