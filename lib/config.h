/* config.h - wsi.conf: lookup order, INI parsing with line numbers, secrets, env overrides. */
#ifndef WSI_CONFIG_H
#define WSI_CONFIG_H
#include "msg.h"

typedef struct wsi_config wsi_config;

/* Find and read the config: `path` (from -c) if given, else $WSI_CONFIG, else ./wsi.conf.
 * Unknown sections and keys are errors with the file's line number; a file that holds
 * a secret and is readable by group or others is refused. Then WSI_STORE_SECRET,
 * WSI_SAGE_PASSWORD and WSI_DB override. Returns NULL with *e filled (status 3). */
wsi_config *wsi_config_load(const char *path, wsi_error *e);
void wsi_config_free(wsi_config *c);
/* The file it was read from. */
const char *wsi_config_path(const wsi_config *c);
/* A value, or `dflt` when the key is absent. Secrets come back after env overrides. */
const char *wsi_conf(const wsi_config *c, const char *section, const char *key, const char *dflt);
/* An integer value in [min,max], or `dflt`; -1 with *e filled if not a number in range. */
int wsi_conf_int(const wsi_config *c, const char *section, const char *key, long dflt, long min,
		 long max, long *out, wsi_error *e);
/* A boolean (yes/no/true/false/1/0/on/off), or `dflt`; -1 with *e filled if not one of those. */
int wsi_conf_bool(const wsi_config *c, const char *section, const char *key, int dflt, int *out,
		  wsi_error *e);
/* Where a key was set, for messages: "wsi.conf:12", the environment variable, or (unset) the file. */
const char *wsi_conf_where(const wsi_config *c, const char *section, const char *key);
/* The database path: -d, else WSI_DB, else [db] path, else ./wsi.db. */
const char *wsi_conf_db(const wsi_config *c, const char *override);
/* Is `word` in the comma separated list `list`? */
int wsi_list_has(const char *list, const char *word);

#endif
