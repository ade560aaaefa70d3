/* keys.c - one rule for every tool: arguments, else stdin lines, else nothing. */
#include "keys.h"
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
