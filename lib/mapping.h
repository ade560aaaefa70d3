/* mapping.h - the mapping tables: web codes to Sage codes, and which entry mapped an order. */
#ifndef WSI_MAPPING_H
#define WSI_MAPPING_H
#include <jansson.h>
#include <sqlite3.h>
#include "msg.h"

/* item, customer, payment (bank and payment code), shipvia. */
int wsi_map_kind_ok(const char *kind);
/* How many Sage codes a kind maps to (payment: 2, others 1). */
int wsi_map_arity(const char *kind);
/* Add or replace an entry, then send the unposted orders it touches back to staged
 * (*touched counts them). Inside the caller's transaction. */
int wsi_map_set(sqlite3 *db, const char *kind, const char *from, const char *to, const char *extra,
		long *touched, wsi_error *e);
/* Remove an entry (*found 0 if there was none), then send back what it touched. */
int wsi_map_del(sqlite3 *db, const char *kind, const char *from, int *found, long *touched, wsi_error *e);

/* All entries, loaded once for a run. */
typedef struct wsi_maps wsi_maps;
wsi_maps *wsi_maps_load(sqlite3 *db, wsi_error *e);
void wsi_maps_free(wsi_maps *m);
/* How a canonical order maps:
 * {"customer":{"from","to","entry"},"items":[{"line","sku","to","entry"}],
 *  "payment":{"from","bank","code","entry"},"shipvia":{"from","to","entry"}}
 * with "to"/"bank" null where nothing maps. Caller decrefs. */
json_t *wsi_maps_apply(const wsi_maps *m, const json_t *canon); /* (write it with wsi_json_dump_exact) */
/* An order's mapping as stored (orders.mapped): its items kept as text, each read when asked
 * (wsi_json_elem; written back by wsi_json_dump_exact); {} when there is none. */
json_t *wsi_mapped_read(const char *text);

#endif
