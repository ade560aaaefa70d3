/* sent.h - the journal of requests sent to Sage and not yet answered, a file beside the database
 * (DB.sent) so that it survives a restore of the database: an order Sage lacks is posted at once,
 * after wsi-hwm set too, unless this journal says a request for it may still be saving in Sage. */
#ifndef WSI_SENT_H
#define WSI_SENT_H
#include "msg.h"
#include <stdint.h>

enum { WSI_SENT_ORDER = 'O', WSI_SENT_RECEIPT = 'R' };

/* Before a request is sent: "sent now", on disk (fdatasync) before this returns. */
int wsi_sent_begin(const char *db_path, int kind, const char *ref, wsi_error *e);
/* Its answer came, or it was decided by what Sage has: the entry is closed. */
int wsi_sent_end(const char *db_path, int kind, const char *ref, wsi_error *e);

/* The open entries, as read once. */
typedef struct wsi_sent_set wsi_sent_set;
wsi_sent_set *wsi_sent_load(const char *db_path, wsi_error *e);
/* When the open entry of (kind, ref) was sent; 0 when none is open. */
int64_t wsi_sent_since(const wsi_sent_set *s, int kind, const char *ref);
size_t wsi_sent_count(const wsi_sent_set *s);
/* Call fn for each open entry, until it returns non-zero (returned). */
int wsi_sent_each(const wsi_sent_set *s, int (*fn)(void *ud, int kind, const char *ref, int64_t at), void *ud);
void wsi_sent_free(wsi_sent_set *s);

/* Drop what no longer counts (closed, or sent before `before`): the file is emptied, or rewritten
 * with what still counts. */
int wsi_sent_compact(const char *db_path, int64_t before, wsi_error *e);

#endif
