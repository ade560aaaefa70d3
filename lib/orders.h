/* orders.h - the order's life (wsi(7), THE ORDER'S LIFE): its states, the moves allowed between
 * them, and the one way any tool changes an order's state: a compare-and-set with its event.
 *
 * Any tools may run at once. A tool loads an order (its state and revision), works, then moves
 * it; the move happens only if the order is still as loaded (same state, same revision), in the
 * caller's transaction, with its event. An order another run moved meanwhile is left as it is. */
#ifndef WSI_ORDERS_H
#define WSI_ORDERS_H
#include <sqlite3.h>
#include <stdint.h>
#include "keys.h"
#include "msg.h"

typedef enum wsi_state {
	WSI_STAGED, WSI_MAPPED, WSI_VALID, WSI_INVALID, WSI_POSTING, WSI_POSTED, WSI_FAILED,
	WSI_HELD, WSI_SKIPPED, WSI_CONFLICT, WSI_NSTATES
} wsi_state;
#define WSI_NO_STATE (-1) /* the order is not in the database */
/* The names as stored and shown: spelled here alone (orders.c's table and lib/reasons.c use them). */
#define WSI_NAME_STAGED "staged"
#define WSI_NAME_MAPPED "mapped"
#define WSI_NAME_VALID "valid"
#define WSI_NAME_INVALID "invalid"
#define WSI_NAME_POSTING "posting"
#define WSI_NAME_POSTED "posted"
#define WSI_NAME_FAILED "failed"
#define WSI_NAME_HELD "held"
#define WSI_NAME_SKIPPED "skipped"
#define WSI_NAME_CONFLICT "conflict"

/* The state's name as stored and shown ("posting"); "none" for WSI_NO_STATE. */
const char *wsi_state_name(int s);
/* The state named, or WSI_NO_STATE. */
int wsi_state_parse(const char *name);
/* A set of states, as a bit mask: WSI_S(WSI_VALID) | WSI_S(WSI_FAILED). */
#define WSI_S(state) (1u << (state))
/* The states of mask as an SQL list, "'valid','failed'" (the names are constants, never input),
 * so that no tool spells a state name in its SQL. Returns buf. */
char *wsi_states_sql(unsigned mask, char *buf, size_t n);
/* "CASE state WHEN 'staged' THEN 0 … END": the states in the order of their life, for ORDER BY. */
char *wsi_states_order_sql(char *buf, size_t n);
/* Is from -> to a move of the order's life (wsi(7)'s state diagram)? A state to itself is
 * allowed where a tool re-judges an order (invalid checked again stays invalid). */
int wsi_move_allowed(int from, int to);

/* An order as a tool loaded it: the compare of every compare-and-set. */
typedef struct wsi_loaded {
	char store[WSI_STORE_SIZE], id[WSI_ID_SIZE];
	int state;      /* wsi_state, or WSI_NO_STATE */
	int64_t rev;    /* bumped by every move and every change of content */
	int64_t recheck; /* non-zero: flagged by wsi-hwm set (the rechecks row that flagged it) */
} wsi_loaded;

/* A run's orders, each once, as loaded. */
typedef struct wsi_order_list {
	wsi_loaded *o;
	size_t n, cap;
	void *seen;     /* the keys listed (a hash set), so that none is listed twice */
	long missing;   /* keys that named no order (wsi_keys_load) */
} wsi_order_list;
/* Add o, or if its key is listed already, put this newer load in its place: 0, or -1 out of memory.
 * (Dropping entries from o[] leaves seen stale: compact only a list that no longer grows.) */
int wsi_order_list_add(wsi_order_list *l, const wsi_loaded *o);
void wsi_order_list_free(wsi_order_list *l);

/* Load an order's state, revision and recheck flag. 1 found, 0 no such order, -1 error. */
int wsi_order_load(sqlite3 *db, const char *store, const char *id, wsi_loaded *o, wsi_error *e);
/* Fill o from a row a tool selected itself (columns: state TEXT, rev INTEGER, recheck INTEGER). */
void wsi_order_from_row(wsi_loaded *o, const char *store, const char *id, sqlite3_stmt *st, int col);

/* Move o to `to`, logging `why`, if it is still as loaded; inside the caller's transaction.
 * 1 moved (o holds the new state and revision), 0 another run moved it first (o->state is what
 * it is now, nothing was written), -1 error. */
int wsi_order_move(sqlite3 *db, wsi_loaded *o, int to, const char *why, wsi_error *e);
/* The same, and when it moves, the order's reasons replaced by these (codes[i], subjects[i] (may
 * be NULL), messages[i]; n may be 0). */
int wsi_order_judge(sqlite3 *db, wsi_loaded *o, int to, const char *why, const char *const *codes,
		    const char *const *subjects, const char *const *messages, int n, wsi_error *e);
/* The same move in a transaction of its own. */
int wsi_order_move1(sqlite3 *db, wsi_loaded *o, int to, const char *why, const char *code, const char *message,
		    wsi_error *e);
/* wsi-remap: record how the order was mapped and move it to mapped. */
int wsi_order_map(sqlite3 *db, wsi_loaded *o, const char *mapped, wsi_error *e);

/* Sage's numbers for an order (empty strings: not known; the recorded ones are kept). */
typedef struct wsi_sage_ids {
	const char *order, *shipment, *invoice, *receipt;
	int replace; /* these are all Sage has: an empty one clears what is recorded (reconcile) */
} wsi_sage_ids;
/* Record o as posted with Sage's numbers, what was posted as its content (posted_hash, NULL:
 * the content it has) and the recheck done, then move it to posted; in the caller's transaction.
 * If another run made it a conflict meanwhile (a cancellation staged during the POST), Sage's
 * numbers are recorded and it stays a conflict for a person: 2. Else as wsi_order_move. */
int wsi_order_posted(sqlite3 *db, wsi_loaded *o, const wsi_sage_ids *ids, const char *posted_hash,
		     const char *why, wsi_error *e);
/* The same in a transaction of its own. */
int wsi_order_posted1(sqlite3 *db, wsi_loaded *o, const wsi_sage_ids *ids, const char *posted_hash,
		      const char *why, wsi_error *e);
/* Sage no longer has it (or never saved it): forget its numbers and move it to `to`. */
int wsi_order_forget_sage(sqlite3 *db, wsi_loaded *o, int to, const char *why, wsi_error *e);
/* A person handled a conflict in Sage by hand: posted, the store's content now what was posted
 * (a later change in the store is a conflict again). In the caller's transaction. */
int wsi_order_settle(sqlite3 *db, wsi_loaded *o, const char *why, wsi_error *e);
/* What an order's check after wsi-hwm set came to, counted on the rechecks row that flagged it. */
enum wsi_recheck_outcome { WSI_RECHECK_FOUND, WSI_RECHECK_AGAIN, WSI_RECHECK_UNPOSTED };
int wsi_recheck_tally(sqlite3 *db, const wsi_loaded *o, enum wsi_recheck_outcome what, wsi_error *e);
/* The recheck wsi-hwm set asked for is done: clear the flag, unless a newer set flagged it again. */
int wsi_order_recheck_done(sqlite3 *db, const wsi_loaded *o, wsi_error *e);
/* Flag the orders of store to be checked against Sage again (wsi-hwm set): all when since is
 * NULL, else those downloaded, modified or posted since the time, or with ids above the id.
 * Records the recheck; *count is how many were flagged. Inside the caller's transaction. */
int wsi_orders_flag_recheck(sqlite3 *db, const char *store, const char *kind, const char *since, const char *by,
			    long *count, wsi_error *e);

/* Receipt mode: claim the making of a posted order's prepayment receipt, as a POST claims an
 * order. 1 claimed, 0 another run has it (or it is made), -1 error. Own transaction. */
int wsi_order_claim_receipt(sqlite3 *db, wsi_loaded *o, wsi_error *e);
/* The receipt was made (number), or surely not made (number NULL: the claim is let go). */
int wsi_order_receipt_done(sqlite3 *db, wsi_loaded *o, const char *number, const char *why, wsi_error *e);

#endif
