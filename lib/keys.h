/* keys.h - order keys (STORE:ID) in: arguments, else stdin lines when it is not a terminal. */
#ifndef WSI_KEYS_H
#define WSI_KEYS_H
#include <stdio.h>
#include "msg.h"

/* Room for the two halves of a key, STORE:ID (each at most 64 characters). */
#define WSI_STORE_SIZE 72
#define WSI_ID_SIZE 72

typedef struct wsi_keys {
	char **argv;
	int argc, i;
	FILE *in;
	char *line;
	size_t cap;
	long lineno;
} wsi_keys;

/* Keys come from argv[0..argc) if argc > 0, else from stdin when it is not a terminal,
 * else there are none (the tool then says what it expected). */
void wsi_keys_init(wsi_keys *k, int argc, char **argv);
/* 1 with store and id filled, 0 at the end, -1 with *e naming the bad key and where. */
int wsi_keys_next(wsi_keys *k, char *store, size_t sn, char *id, size_t idn, wsi_error *e);
void wsi_keys_free(wsi_keys *k);
/* Split "shop:10231" at its last colon; checks both parts. 0 or -1. */
int wsi_key_split(const char *key, char *store, size_t sn, char *id, size_t idn);
/* Is s a valid store name (letters, digits, '_', '-', '.'; 1..64 chars)? */
int wsi_store_name_ok(const char *s);

/* The one key loop of every tool: the orders named by argv[0..argc), else by stdin's lines when
 * it is not a terminal; or, with all, every order in one of the states of mask (WSI_S bits),
 * by key. Each is listed once, as loaded (state, revision) into list; a key that names no
 * order is counted in list->missing and given to missing(ud, key) for the tool to report.
 * 0, or -1 with *e (a key that is not STORE:ID: status 2). */
struct wsi_order_list;
struct sqlite3;
int wsi_keys_load(struct sqlite3 *db, int all, unsigned mask, int argc, char **argv, struct wsi_order_list *list,
		  void (*missing)(void *ud, const char *key), void *ud, wsi_error *e);

/* How many keys named no order in this process (a tool then exits 2, wsi(7)). */
long wsi_keys_missing(void);

#endif
