/* keys.c - one rule for every tool: arguments, else stdin lines, else nothing. */
#include "keys.h"
#include "db.h"
#include "orders.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void wsi_keys_init(wsi_keys *k, int argc, char **argv)
{
	memset(k, 0, sizeof *k);
	k->argv = argv;
	k->argc = argc;
	if (argc == 0 && !isatty(STDIN_FILENO))
		k->in = stdin;
}

int wsi_store_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int wsi_key_split(const char *key, char *store, size_t sn, char *id, size_t idn)
{
	const char *colon = strrchr(key, ':');
	if (!colon || colon == key || !colon[1])
		return -1;
	size_t sl = (size_t)(colon - key), il = strlen(colon + 1);
	if (sl >= sn || il >= idn || il > 64)
		return -1;
	memcpy(store, key, sl);
	store[sl] = 0;
	memcpy(id, colon + 1, il + 1);
	if (!wsi_store_name_ok(store))
		return -1;
	for (const char *p = id; *p; p++)
		if (!isgraph((unsigned char)*p))
			return -1;
	return 0;
}

int wsi_keys_next(wsi_keys *k, char *store, size_t sn, char *id, size_t idn, wsi_error *e)
{
	for (;;) {
		const char *key;
		char where[64];
		if (k->in) {
			ssize_t n = getline(&k->line, &k->cap, k->in);
			if (n < 0)
				return 0;
			k->lineno++;
			while (n && (k->line[n - 1] == '\n' || k->line[n - 1] == '\r' || k->line[n - 1] == ' '))
				k->line[--n] = 0;
			/* a key may be followed by TAB and more (wsi-post's output) */
			char *tab = strchr(k->line, '\t');
			if (tab)
				*tab = 0;
			if (!k->line[0])
				continue;
			key = k->line;
			snprintf(where, sizeof where, "<stdin>:%ld", k->lineno);
		} else {
			if (k->i >= k->argc)
				return 0;
			key = k->argv[k->i++];
			snprintf(where, sizeof where, "argument %d", k->i);
		}
		if (wsi_key_split(key, store, sn, id, idn))
			return wsi_fail(e, WSI_EXIT_USAGE, "%s: '%.80s' is not an order key (STORE:ID)", where, key);
		return 1;
	}
}

void wsi_keys_free(wsi_keys *k)
{
	free(k->line);
	k->line = NULL;
}

static long missing_total; /* keys that named no order, in this process */

long wsi_keys_missing(void) { return missing_total; }

int wsi_keys_load(sqlite3 *db, int all, unsigned mask, int argc, char **argv, wsi_order_list *list,
		  void (*missing)(void *ud, const char *key), void *ud, wsi_error *e)
{
	if (all) {
		char sql[200], states[160];
		snprintf(sql, sizeof sql, "SELECT store, id, state, rev, recheck FROM orders WHERE state IN (%s) ORDER BY store, id",
			 wsi_states_sql(mask, states, sizeof states));
		sqlite3_stmt *st = wsi_db_prepare(db, sql, e);
		if (!st)
			return -1;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			wsi_loaded o;
			wsi_order_from_row(&o, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
					   st, 2);
			if (wsi_order_list_add(list, &o))
				break;
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot list orders");
	}
	wsi_keys k;
	char store[WSI_STORE_SIZE], id[WSI_ID_SIZE];
	int got;
	wsi_keys_init(&k, argc, argv);
	while ((got = wsi_keys_next(&k, store, sizeof store, id, sizeof id, e)) == 1) {
		wsi_loaded o;
		int found = wsi_order_load(db, store, id, &o, e);
		if (found < 0 || (found && wsi_order_list_add(list, &o))) {
			got = found < 0 ? -1 : wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
			break;
		}
		if (!found) {
			char key[WSI_STORE_SIZE + WSI_ID_SIZE];
			snprintf(key, sizeof key, "%s:%s", store, id);
			list->missing++;
			missing_total++;
			if (missing)
				missing(ud, key);
		}
	}
	wsi_keys_free(&k);
	return got < 0 ? -1 : 0;
}
