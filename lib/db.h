/* db.h - the SQLite file: open private, WAL, busy timeout, schema migrations, marks, events. */
#ifndef WSI_DB_H
#define WSI_DB_H
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include "msg.h"

/* Open (creating mode 0600 if new) and migrate the database at path. NULL with *e filled. */
sqlite3 *wsi_db_open(const char *path, wsi_error *e);
/* The schema version this wsi writes (PRAGMA user_version after its migrations). */
int wsi_db_schema(void);
void wsi_db_close(sqlite3 *db);
/* Run SQL with no parameters; -1 with *e filled (status 5, or 6-like busy as 5). */
int wsi_db_exec(sqlite3 *db, const char *sql, wsi_error *e);
/* Prepare or fail with a message naming the statement. */
sqlite3_stmt *wsi_db_prepare(sqlite3 *db, const char *sql, wsi_error *e);
/* Fill *e from the connection's last error, with a leading `what`. Returns -1. */
int wsi_db_fail(sqlite3 *db, wsi_error *e, const char *what);
int wsi_db_begin(sqlite3 *db, wsi_error *e);   /* BEGIN IMMEDIATE */
int wsi_db_commit(sqlite3 *db, wsi_error *e);
void wsi_db_rollback(sqlite3 *db);

/* Who made a change: "wsi-stage", or "USER (wsi-hwm)" when a person ran a tool. */
const char *wsi_db_actor(int person);

/* Replace an order's reasons (code, subject such as the SKU or customer it is about (may be
 * NULL), sentence; n may be 0), inside the caller's transaction. */
int wsi_set_reasons(sqlite3 *db, const char *store, const char *id, const char *const *codes,
		    const char *const *subjects, const char *const *messages, int n, wsi_error *e);
/* Record how a tool's run ended (the operator's status view shows the last of each). */
void wsi_run_record(sqlite3 *db, const char *tool, int64_t started, int status, const char *summary);
/* The same for this tool, the summary formatted. */
void wsi_run_log(sqlite3 *db, int64_t started, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Write one line of the order event log (inside the caller's transaction). */
int wsi_event(sqlite3 *db, const char *store, const char *id, const char *from, const char *to,
	      const char *why, wsi_error *e);

/* The highwater marks of a store. kind is "time" or "id"; value NULL when unset. */
typedef struct wsi_mark {
	char store[128];
	char kind[8];
	char value[64];
	char set_at[32];
	char set_by[128];
} wsi_mark;
/* Read one mark; returns 1 found, 0 unset, -1 error. */
int wsi_mark_get(sqlite3 *db, const char *store, const char *kind, wsi_mark *m, wsi_error *e);
/* Set (value non-NULL) or clear (NULL) a mark and log the change, inside the caller's
 * transaction. `why` is a short reason for the log. */
int wsi_mark_set(sqlite3 *db, const char *store, const char *kind, const char *value,
		 const char *by, const char *why, wsi_error *e);

#endif
