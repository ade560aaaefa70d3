/* views.h - what an operator reads each morning: status, waiting orders, one order's story. */
#ifndef WSI_SYNC_VIEWS_H
#define WSI_SYNC_VIEWS_H
#include <sqlite3.h>
#include "msg.h"

int view_status(sqlite3 *db, wsi_error *e);
/* tsv: one row per reason (key, state, code, subject, sentence) for a spreadsheet */
int view_waiting(sqlite3 *db, int tsv, wsi_error *e);
int view_show(sqlite3 *db, const char *key, wsi_error *e);
/* A person parks an unposted order (hold) or lets it go on (release: back to staged). */
/* hold, release or settle one order, as a person asks: a compare-and-set with its event. */
int person_move(sqlite3 *db, const char *key, const char *cmd, wsi_error *e);

/* report.c: every web order created in [from, to), store, wsi and Sage side by side; *status 1
 * unless every order that belongs in Sage is there once with equal totals. */
#include <stdint.h>
#include "config.h"
int view_report(const wsi_config *cfg, sqlite3 *db, int tsv, int64_t from, int64_t to, int *status, wsi_error *e);
/* doctor.c: every check a first run needs, one line each; returns the worst exit status. */
int doctor(const char *config_path, const char *db_override);

#endif
