/* staging.h - wsi-stage's side of the order record: an order as downloaded, new or changed,
 * written whole (raw bytes, content hash, lines, state by wsi(7)'s rules, event, reason) in
 * the caller's transaction; its statements prepared once for a run of many orders. */
#ifndef WSI_STAGING_H
#define WSI_STAGING_H
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include "msg.h"

typedef struct wsi_staging wsi_staging;

/* What the database holds of an order before this download. */
typedef struct wsi_staged_was {
	int found;
	int state;              /* wsi_state */
	char raw_hash[65];      /* of the raw order last staged */
	char posted_hash[65];   /* of what was posted ("" if never) */
} wsi_staged_was;

/* An order as downloaded. */
typedef struct wsi_download {
	const char *store, *id, *source;
	int64_t modified;
	const char *raw;
	size_t raw_len;
	const char *raw_hash;
	json_t *canon;          /* the canonical order; an empty object when it could not be read */
	const char *content_hash; /* wsi_order_content_hash of canon, or NULL: computed here */
	const char *unreadable; /* why it could not be read, or NULL */
	int postable;           /* its store status is one to post */
} wsi_download;

wsi_staging *wsi_staging_open(sqlite3 *db, wsi_error *e);
void wsi_staging_close(wsi_staging *s);
/* Look the order up: 0 (was filled; was->found says whether it is there) or -1. */
int wsi_staging_find(wsi_staging *s, const char *store, const char *id, wsi_staged_was *was, wsi_error *e);
/* Write the download over what was, in the caller's transaction; *now is its state after. */
int wsi_staging_put(wsi_staging *s, const wsi_download *d, const wsi_staged_was *was, int *now, wsi_error *e);

#endif
