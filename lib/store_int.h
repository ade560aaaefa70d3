/* store_int.h - what the parts of the store reader share (store.c: the store and its run;
 * store_rest.c: WooCommerce and Shopify over HTTP; store_file.c: a file of orders). */
#ifndef WSI_STORE_INT_H
#define WSI_STORE_INT_H
#include "store.h"
#include "http.h"
#include <stdint.h>

enum kind { WOO, SHOPIFY, FILESRC };

struct wsi_store {
	enum kind kind;
	char name[65];
	const char *source;  /* "woocommerce" or "shopify": the shape of the orders */
	char *base;          /* base URL without a trailing slash, or the file path */
	char *api;           /* list URL up to '?' */
	char *count_url;     /* Shopify count URL */
	wsi_http *http;
	long overlap, settle, stretch, max_response;
	/* the run */
	FILE *out;
	const char *mark_from;
	int64_t future;      /* orders modified after this are named in a warning (0: none) */
	int tail;            /* reading the tail: a change while read is read again next run */
	wsi_fetch_stats *st;
	wsi_error *e;
	const wsi_fetch_plan *plan; /* its say() and progress() */
	int64_t now;         /* the store's clock, from its Date header */
	/* ids printed in the current stretch */
	uint64_t *seen;
	size_t nseen, capseen;
	char max_id[64];
};

struct span { const char *v; size_t n; };

/* A notice for the tool to give (lib prints nothing itself). */
void store_say(wsi_store *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The ids printed in the current stretch: 1 new, 0 seen, -1 out of memory. */
int store_seen_add(wsi_store *s, const char *id);
void store_seen_clear(wsi_store *s);
/* Compare order ids as numbers when they are, else as text. */
int store_idcmp(const char *a, const char *b);
int store_print_envelope(wsi_store *s, const char *id, int64_t mod, const char *raw, size_t len);
int store_print_mark_time(wsi_store *s, int64_t t);
int store_print_mark_id(wsi_store *s, const char *id);
/* wsi_json_members callback: the span of "orders" into a struct span. */
int store_find_orders(void *ud, const char *k, size_t kl, const char *v, size_t vl);
int store_fetch_time(wsi_store *s, const wsi_fetch_plan *p);
int store_fetch_id(wsi_store *s, const wsi_fetch_plan *p);
int store_fetch_file(wsi_store *s, const wsi_fetch_plan *p);
/* One small request: the store answers, takes the credentials, knows the API; *clock its Date (0: none). */
int store_ping(wsi_store *s, int64_t *clock);

#endif
