/* post.h - what the parts of wsi-post share: the run (its orders, its counts, its first
 * error), and the steps main takes in order: reconcile, look up, send, receipts. */
#ifndef WSI_POST_H
#define WSI_POST_H
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include "config.h"
#include "orders.h"
#include "sage.h"
#include "sent.h"

#define MAX_JOBS 64 /* connections to Sage at once (-j) */

struct ctx {
	const wsi_config *cfg;
	const char *db_path;
	int dry_run;
	long reconcile_after;     /* seconds: [sage] reconcile_after */
	wsi_order_list list;      /* the run's orders, as loaded when listed (before any look-up) */
	size_t next;              /* the next of them a connection takes */
	pthread_mutex_t lock;
	int stop;                 /* a failure that means: try again later */
	wsi_error first;          /* the first such failure */
	long posted, failed, differs, receipts, moved, undecided;
	long reconciled, reconciled_found, reconciled_back;
	int reconcile_only;       /* -r: decide what earlier runs left, post nothing */
	wsi_sent_set *sent;       /* the journal of requests sent and not answered, as the run began */
	json_t *found;            /* references Sage has: {ref: numbers} */
	json_t *receipts_in_sage; /* receipt mode: references whose receipt Sage has */
	json_t *held_back;        /* references not to post this run: too soon to know */
	json_t *readback;         /* what this run created, to read back: [{store, id, order, total, tax, prepay}] */
};

/* main.c: the run's list and what every part reports through */
void moved_meanwhile(struct ctx *c, const wsi_loaded *o);
void count(struct ctx *c, long *what);
void print_posted(struct ctx *c, const wsi_loaded *k, const char *number);
void halt(struct ctx *c, const wsi_error *e);

/* find.c: references Sage has, {ref: numbers}; receipts instead of orders when receipts is set */
json_t *find_in_sage(wsi_sage *s, const wsi_config *cfg, const wsi_loaded *keys, size_t n, int receipts,
		     wsi_error *e);
/* Look the run's orders up, WSI_SAGE_BATCH a request, on one connection or several. */
void look_up(struct ctx *c, wsi_sage *sage, wsi_sage **extra, long jobs);

/* send.c: post the run's orders (claimed one by one), on one connection or several */
void send_all(struct ctx *c, sqlite3 *db, wsi_sage *sage, wsi_sage **extra, long jobs);
/* Run fn on `jobs` connections (the first is `sage`) until it returns on each. */
void pool(struct ctx *c, wsi_sage *sage, wsi_sage **extra, long jobs, void *(*fn)(void *));
struct worker {
	struct ctx *c;
	wsi_sage *sage;
};
/* The prepayment receipt of a posted order (receipt mode): looked up first unless looked_up,
 * claimed, made once. */
struct order {
	wsi_loaded now;           /* the order as it is when read */
	char sage_order[32], content_hash[40];
	json_t *canon, *mapped;
	int has_receipt;
};
int post_receipt(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_loaded *k, const struct order *o, int looked_up);
int read_order(sqlite3 *db, const wsi_loaded *k, struct order *o, wsi_error *e);
void free_order(struct order *o);

/* readback.c: the invoices of what this run created, read back in batches and compared to the
 * cent (total, tax per authority, prepayment); a difference is recorded on the order. */
int read_back(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e);

/* reconcile.c: what earlier runs left in posting or wsi-hwm set flagged; then receipts still owed */
int reconcile(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e);
int pending_receipts(struct ctx *c, sqlite3 *db, wsi_sage *s, wsi_error *e);
/* Sent at `at` (0: never) less than reconcile_after ago: said ("REF: WHATsent to Sage at…"), held back, 1. */
int still_in_flight(struct ctx *c, const char *ref, int64_t at, const char *what);
/* A request answered, or decided by what Sage has: its journal entry closed. */
void sent_done(struct ctx *c, int kind, const char *ref);

#endif
