/* config.c - a strict INI reader: a typo is an error naming the line, never a silent default. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct known { const char *section, *key; int secret; };

/* Every key wsi knows; wsi(7) documents each. */
static const struct known known[] = {
	{"store", "name", 0}, {"store", "type", 0}, {"store", "url", 0}, {"store", "format", 0},
	{"store", "key", 1}, {"store", "secret", 1}, {"store", "token", 1},
	{"store", "api_version", 0}, {"store", "overlap", 0}, {"store", "settle", 0},
	{"store", "stretch", 0}, {"store", "post_statuses", 0}, {"store", "timeout", 0},
	{"store", "retries", 0}, {"store", "ca_file", 0}, {"store", "tls_verify", 0},
	{"store", "max_response", 0}, {"store", "mark", 0},
	{"sage", "url", 0}, {"sage", "user", 0}, {"sage", "password", 1}, {"sage", "prepayment", 0},
	{"sage", "timeout", 0}, {"sage", "retries", 0}, {"sage", "ca_file", 0}, {"sage", "tls_verify", 0},
	{"sage", "location", 0}, {"sage", "reference_field", 0}, {"sage", "shipping_charge", 0},
	{"sage", "fee_charge", 0}, {"sage", "max_response", 0}, {"sage", "reconcile_after", 0},
	{"sage", "tax", 0}, {"sage", "rounding_tolerance", 0}, {"sage", "rounding_charge", 0},
	{"db", "path", 0},
	{NULL, NULL, 0}};

struct entry { char *section, *key, *value, *where; int line; };

struct wsi_config {
	char *path;
	struct entry *e;
	int n, cap;
};

static const struct known *lookup(const char *section, const char *key)
{
	for (const struct known *k = known; k->section; k++)
		if (strcmp(k->section, section) == 0 && (!key || strcmp(k->key, key) == 0))
			return k;
	return NULL;
}

/* Levenshtein distance, to suggest the key a typo meant. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 30 || lb > 30)
		return 99;
	int d[31][31];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

static const char *suggest(const char *section, const char *key)
{
	const char *best = NULL;
	int bd = 3;
	for (const struct known *k = known; k->section; k++) {
		if (section && strcmp(k->section, section) != 0)
			continue;
		int dd = distance(section ? k->key : k->section, key);
		if (dd < bd) {
			bd = dd;
			best = section ? k->key : k->section;
		}
	}
	return best;
}

static struct entry *find(const wsi_config *c, const char *section, const char *key)
{
	for (int i = c->n - 1; i >= 0; i--)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

/* Set a key; `where` names its origin for messages: "wsi.conf:12", or an environment variable. */
static int set(wsi_config *c, const char *section, const char *key, const char *value, int line, const char *env)
{
	char *where = NULL;
	if (env ? !(where = strdup(env)) : asprintf(&where, "%s:%d", c->path, line) < 0)
		return -1;
	struct entry *old = find(c, section, key);
	if (old) {
		char *v = strdup(value);
		if (!v) {
			free(where);
			return -1;
		}
		free(old->value);
		free(old->where);
		old->value = v;
		old->where = where;
		old->line = line;
		return 0;
	}
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct entry *ne = realloc(c->e, (size_t)cap * sizeof *ne);
		if (!ne) {
			free(where);
			return -1;
		}
		c->e = ne;
		c->cap = cap;
	}
	struct entry *en = &c->e[c->n];
	en->section = strdup(section);
	en->key = strdup(key);
	en->value = strdup(value);
	en->where = where;
	en->line = line;
	if (!en->section || !en->key || !en->value) {
		free(en->section);
		free(en->key);
		free(en->value);
		free(en->where);
		return -1;
	}
	c->n++;
	return 0;
}

/* A value as git config reads one: '#' or ';' after whitespace starts a comment; a double-quoted
 * value holds them (and \" and \\). Returns the value in place, or NULL with *why set. */
static char *value_of(char *v, const char **why)
{
	if (*v == '"') {
		char *out = v, *p = v + 1;
		for (; *p && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*out++ = *p;
		}
		if (*p != '"') {
			*why = "a double quote that is never closed";
			return NULL;
		}
		char *rest = p + 1;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest && *rest != '#' && *rest != ';') {
			*why = "text after the closing double quote (quote the whole value)";
			return NULL;
		}
		*out = 0;
		return v;
	}
	for (char *p = v; *p; p++)
		if ((*p == '#' || *p == ';') && p > v && isspace((unsigned char)p[-1])) {
			*p = 0;
			break;
		}
	size_t n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		v[--n] = 0;
	return v;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int parse(wsi_config *c, FILE *f, int *has_secret, wsi_error *e)
{
	char buf[4096], section[64] = "";
	int line = 0;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		size_t len = strlen(buf);
		if (len == sizeof buf - 1 && buf[len - 1] != '\n')
			return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: line too long", c->path, line);
		char *s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1])
				return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: a section header is written [name]",
						c->path, line);
			*end = 0;
			char *name = trim(s + 1);
			if (!lookup(name, NULL)) {
				const char *sug = suggest(NULL, name);
				return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: unknown section [%s]%s%s%s", c->path,
						line, name, sug ? " (did you mean [" : "", sug ? sug : "",
						sug ? "]?)" : "");
			}
			snprintf(section, sizeof section, "%s", name);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			/* only the word that would be the key: the rest may be a secret ("password: …") */
			int kl = (int)strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
			return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: expected key = value, found a line starting '%.*s' "
					"with no '=' (its value is not shown)", c->path, line, kl > 40 ? 40 : kl, s);
		}
		*eq = 0;
		char *key = trim(s), *value = trim(eq + 1);
		if (!*section)
			return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: key '%s' before any [section]", c->path,
					line, key);
		const struct known *k = lookup(section, key);
		if (!k) {
			const char *sug = suggest(section, key);
			return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: unknown key '%s' in [%s]%s%s%s", c->path,
					line, key, section, sug ? " (did you mean '" : "", sug ? sug : "",
					sug ? "'?)" : "");
		}
		const char *why = NULL;
		/* a value that is a comment: "key = # note" (the '=' counts as the whitespace before it) */
		if (*value == '#' || *value == ';')
			*value = 0;
		if (!(value = value_of(value, &why)))
			return wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: [%s] %s: %s", c->path, line, section, key, why);
		if (k->secret && *value)
			*has_secret = 1;
		if (set(c, section, key, value, line, NULL))
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	}
	if (ferror(f))
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: %s", c->path, strerror(errno));
	return 0;
}

wsi_config *wsi_config_load(const char *path, wsi_error *e)
{
	const char *how = "-c";
	if (!path || !*path) {
		path = getenv("WSI_CONFIG");
		how = "WSI_CONFIG";
		if (!path || !*path) {
			path = "wsi.conf";
			how = NULL;
		}
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!how && errno == ENOENT)
			wsi_fail(e, WSI_EXIT_CONFIG,
				 "no config: give -c FILE, set WSI_CONFIG, or create ./wsi.conf (see wsi(7))");
		else
			wsi_fail(e, WSI_EXIT_CONFIG, "cannot read config %s%s%s%s: %s", path,
				 how ? " (from " : "", how ? how : "", how ? ")" : "", strerror(errno));
		return NULL;
	}
	wsi_config *c = calloc(1, sizeof *c);
	if (!c || !(c->path = strdup(path))) {
		free(c);
		fclose(f);
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	struct stat st;
	int has_secret = 0;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		wsi_fail(e, WSI_EXIT_CONFIG, "config %s is a directory", path);
		goto fail;
	}
	if (parse(c, f, &has_secret, e))
		goto fail;
	/* user:password@ in a URL would travel in logs and the runs table: it belongs in its own keys */
	for (const char *const *sec = (const char *const[]){"store", "sage", NULL}; *sec; sec++) {
		const char *url = wsi_conf(c, *sec, "url", ""), *auth = strstr(url, "://");
		if (auth && memchr(auth + 3, '@', strcspn(auth + 3, "/?#"))) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [%s] url holds a user name or password: remove it from the URL "
				 "and put it in %s (see wsi(7))", wsi_conf_where(c, *sec, "url"), *sec,
				 !strcmp(*sec, "sage") ? "[sage] user and [sage] password (or WSI_SAGE_PASSWORD)"
						       : "[store] key and secret, or token");
			goto fail;
		}
	}
	if (has_secret && (st.st_mode & 077)) {
		wsi_fail(e, WSI_EXIT_CONFIG,
			 "%s holds a secret but is %s (mode %03o): run chmod 600 %s, "
			 "or keep the secrets in WSI_STORE_KEY, WSI_STORE_SECRET, WSI_STORE_TOKEN and WSI_SAGE_PASSWORD",
			 path, st.st_mode & 007 ? "world-readable" : "group-readable", (unsigned)(st.st_mode & 0777), path);
		goto fail;
	}
	fclose(f);
	/* every secret from the environment too; WSI_STORE_SECRET was once Shopify's token as well */
	static const struct { const char *var, *section, *key; } envs[] = {
		{"WSI_STORE_KEY", "store", "key"}, {"WSI_STORE_SECRET", "store", "secret"},
		{"WSI_STORE_TOKEN", "store", "token"}, {"WSI_SAGE_PASSWORD", "sage", "password"}, {"WSI_DB", "db", "path"}};
	const char *type = wsi_conf(c, "store", "type", "");
	for (size_t i = 0; i < sizeof envs / sizeof *envs; i++) {
		const char *env = getenv(envs[i].var), *key = envs[i].key;
		if (!strcmp(key, "secret") && !strcmp(type, "shopify") && !getenv("WSI_STORE_TOKEN"))
			key = "token";
		if (env && *env && set(c, envs[i].section, key, env, 0, envs[i].var))
			goto oom;
	}
	wsi_secret(wsi_conf(c, "store", "key", NULL));
	wsi_secret(wsi_conf(c, "store", "secret", NULL));
	wsi_secret(wsi_conf(c, "store", "token", NULL));
	wsi_secret(wsi_conf(c, "sage", "password", NULL));
	return c;
oom:
	wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	wsi_config_free(c);
	return NULL;
fail:
	fclose(f);
	wsi_config_free(c);
	return NULL;
}

void wsi_config_free(wsi_config *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
		free(c->e[i].where);
	}
	free(c->e);
	free(c->path);
	free(c);
}

const char *wsi_config_path(const wsi_config *c) { return c->path; }

const char *wsi_conf(const wsi_config *c, const char *section, const char *key, const char *dflt)
{
	struct entry *en = c ? find(c, section, key) : NULL;
	return en ? en->value : dflt;
}

const char *wsi_conf_where(const wsi_config *c, const char *section, const char *key)
{
	struct entry *en = c ? find(c, section, key) : NULL;
	return en ? en->where : c ? c->path : "the config";
}

int wsi_conf_int(const wsi_config *c, const char *section, const char *key, long dflt, long min,
		 long max, long *out, wsi_error *e)
{
	const char *v = wsi_conf(c, section, key, NULL);
	if (!v || !*v) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [%s] %s must be a whole number from %ld to %ld, not '%s'",
				wsi_conf_where(c, section, key), section, key, min, max, v);
	*out = n;
	return 0;
}

int wsi_conf_bool(const wsi_config *c, const char *section, const char *key, int dflt, int *out,
		  wsi_error *e)
{
	const char *v = wsi_conf(c, section, key, NULL);
	if (!v || !*v) {
		*out = dflt;
		return 0;
	}
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = 0;
	else
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [%s] %s must be yes or no, not '%s'",
				wsi_conf_where(c, section, key), section, key, v);
	return 0;
}

const char *wsi_conf_db(const wsi_config *c, const char *override)
{
	if (override && *override)
		return override;
	return wsi_conf(c, "db", "path", "wsi.db");
}

int wsi_list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *te = end;
		while (te > p && te[-1] == ' ')
			te--;
		if ((size_t)(te - p) == wl && strncmp(p, word, wl) == 0)
			return 1;
		p = end;
	}
	return 0;
}
