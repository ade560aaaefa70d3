/* store.h - reading orders from WooCommerce, Shopify or a file, in stretches read whole. */
#ifndef WSI_STORE_H
#define WSI_STORE_H
#include <stdint.h>
#include <stdio.h>
#include "config.h"

typedef struct wsi_store wsi_store;

typedef struct wsi_fetch_plan {
	int have_lower;     /* time mode: orders modified at or after `lower` (UTC seconds) */
	int64_t lower;
	int id_mode;        /* id mode: orders whose id is greater than since_id */
	char since_id[64];
	int marks;          /* print mark lines (not when the mark is overridden for one run) */
	const char *mark_from; /* the mark this run read from (NULL: none), told in each mark line so that
			        * wsi-stage never moves a mark a person set during the run */
	/* What the reader has to say (lib prints nothing): level WSI_SAY_*, a sentence. */
	wsi_say_fn say;
	/* Orders printed so far, for a progress line. */
	void (*progress)(void *ud, long orders);
	void *ud;
} wsi_fetch_plan;

typedef struct wsi_fetch_stats {
	long requests, pages, orders, stretches, rereads, marks;
} wsi_fetch_stats;

/* Check the [store] section and get ready to read. NULL with *e (status 3 for config). */
wsi_store *wsi_store_open(const wsi_config *c, wsi_error *e);
void wsi_store_close(wsi_store *s);
/* [store] mark (time or id) and overlap, as wsi-fetch reads them. 0, or -1 with *e. */
int wsi_store_mark_conf(const wsi_config *c, const char **kind, long *overlap, wsi_error *e);
const char *wsi_store_name(const wsi_store *s);
/* One small request (a file store: the file opened): the store answers, takes the credentials and
 * knows the API version. *clock is the store's Date (0 when it sends none). 0, or -1 with *e. */
int wsi_store_ping(wsi_store *s, int64_t *clock, wsi_error *e);
/* Print one envelope per order and mark lines on out, as wsi(7) describes.
 * What was printed before a failure stays valid. 0, or -1 with *e. */
int wsi_store_fetch(wsi_store *s, const wsi_fetch_plan *p, FILE *out, wsi_fetch_stats *st, wsi_error *e);

#endif
