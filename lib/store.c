/* store.c - the store's REST API read in stretches, each paged to its end and checked
 * whole before its mark is printed (webstore-apis "Decisions for wsi"). */
#include "store_int.h"
#include "json.h"
#include "keys.h"
#include "order.h"
#include "timeutil.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *wsi_store_name(const wsi_store *s) { return s->name; }

static int loopback(const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 || strncmp(h, "[::1]", 5) == 0;
}

/* The HTTP side of a WooCommerce or Shopify store: its URLs, its credentials, its connection. */
static int open_rest(wsi_store *s, const wsi_config *c, wsi_error *e)
{
	const char *path = wsi_config_path(c);
	if (strncmp(s->base, "https://", 8) != 0 && strncmp(s->base, "http://", 7) != 0) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] url must start with https:// (found '%s')", wsi_conf_where(c, "store", "url"), s->base);
		return -1;
	}
	wsi_http_opts o = {0};
	if (wsi_http_opts_conf(c, "store", &o, e))
		return -1;
	if (s->kind == WOO) {
		s->source = "woocommerce";
		if (strncmp(s->base, "http://", 7) == 0 && !loopback(s->base)) {
			wsi_fail(e, WSI_EXIT_CONFIG,
				 "%s: [store] url %s is plain http://: WooCommerce accepts key and secret only over "
				 "https:// (over http it wants OAuth 1.0a signatures, which would expose nothing but "
				 "cost a signature per request); use the https:// address of the store",
				 wsi_conf_where(c, "store", "url"), s->base);
			return -1;
		}
		o.user = wsi_conf(c, "store", "key", NULL);
		o.password = wsi_conf(c, "store", "secret", NULL);
		if (!o.user || !*o.user || !o.password || !*o.password) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] key and secret are needed for WooCommerce "
				 "(the secret may come from WSI_STORE_SECRET)", path);
			return -1;
		}
		if (asprintf(&s->api, "%s/wp-json/wc/v3/orders", s->base) < 0)
			s->api = NULL;
	} else {
		s->source = "shopify";
		const char *token = wsi_conf(c, "store", "token", NULL);
		const char *ver = wsi_conf(c, "store", "api_version", "2025-01");
		if (!token || !*token) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] token is needed for Shopify (or WSI_STORE_SECRET)", path);
			return -1;
		}
		if (asprintf(&s->api, "%s/admin/api/%s/orders.json", s->base, ver) < 0 ||
		    asprintf(&s->count_url, "%s/admin/api/%s/orders/count.json", s->base, ver) < 0) {
			s->api = NULL;
		}
	}
	if (!s->api || !(s->http = wsi_http_new(&o, e))) {
		if (!s->api)
			wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return -1;
	}
	wsi_http_header(s->http, "Accept: application/json");
	if (s->kind == SHOPIFY) {
		char *h;
		if (asprintf(&h, "X-Shopify-Access-Token: %s", wsi_conf(c, "store", "token", "")) < 0)
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		wsi_http_header(s->http, h);
		free(h);
	}
	return 0;
}

wsi_store *wsi_store_open(const wsi_config *c, wsi_error *e)
{
	const char *path = wsi_config_path(c);
	const char *name = wsi_conf(c, "store", "name", NULL);
	const char *type = wsi_conf(c, "store", "type", NULL);
	const char *url = wsi_conf(c, "store", "url", NULL);
	if (!name || !*name) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] name is missing (the STORE of order keys)", path);
		return NULL;
	}
	if (!wsi_store_name_ok(name)) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] name '%s' may hold only letters, digits, '_', '-' and '.'",
			 wsi_conf_where(c, "store", "name"), name);
		return NULL;
	}
	if (!type || (strcmp(type, "woocommerce") && strcmp(type, "shopify") && strcmp(type, "file"))) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] type must be woocommerce, shopify or file%s%s%s", wsi_conf_where(c, "store", "type"), type ? ", not '" : " (it is missing)", type ? type : "",
			 type ? "'" : "");
		return NULL;
	}
	if (!url || !*url) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] url is missing%s", path,
			 strcmp(type, "file") == 0 ? " (a file path, or - for stdin)" : "");
		return NULL;
	}
	wsi_store *s = calloc(1, sizeof *s);
	if (!s) {
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	snprintf(s->name, sizeof s->name, "%s", name);
	s->kind = !strcmp(type, "woocommerce") ? WOO : !strcmp(type, "shopify") ? SHOPIFY : FILESRC;
	s->base = strdup(url);
	size_t bl = strlen(s->base);
	while (s->kind != FILESRC && bl > 1 && s->base[bl - 1] == '/')
		s->base[--bl] = 0;
	if (wsi_conf_int(c, "store", "overlap", 300, 1, 86400 * 30, &s->overlap, e) ||
	    wsi_conf_int(c, "store", "settle", 60, 0, 86400, &s->settle, e) ||
	    wsi_conf_int(c, "store", "stretch", 2000, 1, 10000000, &s->stretch, e) ||
	    wsi_conf_int(c, "store", "max_response", WSI_HTTP_MAX_RESPONSE, 1024, 1L << 30, &s->max_response, e))
		goto fail;
	if (s->kind == FILESRC) {
		const char *fmt = wsi_conf(c, "store", "format", NULL);
		if (!fmt || (strcmp(fmt, "woocommerce") && strcmp(fmt, "shopify"))) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] format must be woocommerce or shopify for a file store",
				 wsi_conf_where(c, "store", "format"));
			goto fail;
		}
		s->source = !strcmp(fmt, "shopify") ? "shopify" : "woocommerce";
		return s;
	}
	if (open_rest(s, c, e))
		goto fail;
	return s;
fail:
	wsi_store_close(s);
	return NULL;
}

void wsi_store_close(wsi_store *s)
{
	if (!s)
		return;
	wsi_http_free(s->http);
	free(s->base);
	free(s->api);
	free(s->count_url);
	free(s->seen);
	free(s);
}

/* ---- the ids seen in a stretch ---- */

static uint64_t hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return h ? h : 1;
}

/* Add id; returns 1 if it was new, 0 if seen, -1 out of memory. */
int store_seen_add(wsi_store *s, const char *id)
{
	if (s->nseen * 2 >= s->capseen) {
		size_t cap = s->capseen ? s->capseen * 2 : 1024;
		uint64_t *n = calloc(cap, sizeof *n);
		if (!n)
			return -1;
		for (size_t i = 0; i < s->capseen; i++)
			if (s->seen[i])
				for (size_t j = s->seen[i] % cap;; j = (j + 1) % cap)
					if (!n[j]) {
						n[j] = s->seen[i];
						break;
					}
		free(s->seen);
		s->seen = n;
		s->capseen = cap;
	}
	uint64_t h = hash_id(id);
	for (size_t j = h % s->capseen;; j = (j + 1) % s->capseen) {
		if (s->seen[j] == h)
			return 0;
		if (!s->seen[j]) {
			s->seen[j] = h;
			s->nseen++;
			return 1;
		}
	}
}

void store_seen_clear(wsi_store *s)
{
	if (s->seen)
		memset(s->seen, 0, s->capseen * sizeof *s->seen);
	s->nseen = 0;
}

/* Compare two decimal ids as numbers (longer is larger), else as text. */
int store_idcmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb && strspn(a, "0123456789") == la && strspn(b, "0123456789") == lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* ---- printing ---- */

int store_print_envelope(wsi_store *s, const char *id, int64_t mod, const char *raw, size_t len)
{
	char t[32];
	json_t *jn = json_string(s->name), *ji = json_string(id);
	char *sn = json_dumps(jn, JSON_ENCODE_ANY), *si = json_dumps(ji, JSON_ENCODE_ANY);
	json_decref(jn);
	json_decref(ji);
	if (!sn || !si) {
		free(sn);
		free(si);
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	}
	fprintf(s->out, "{\"store\":%s,\"id\":%s,\"modified\":\"%s\",\"source\":\"%s\",\"order\":", sn, si,
		wsi_time_fmt(mod, t, sizeof t), s->source);
	free(sn);
	free(si);
	/* Line breaks can only be whitespace between tokens: a space keeps one envelope a line. */
	for (size_t i = 0; i < len; i++)
		putc(raw[i] == '\n' || raw[i] == '\r' ? ' ' : raw[i], s->out);
	fputs("}\n", s->out);
	s->st->orders++;
	if (s->plan && s->plan->progress)
		s->plan->progress(s->plan->ud, s->st->orders);
	if (ferror(s->out))
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno));
	return 0;
}

/* ,"from":VALUE or null: the mark the run started from */
static void print_mark_from(wsi_store *s)
{
	json_t *j = s->mark_from ? json_string(s->mark_from) : json_null();
	char *t = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	fprintf(s->out, ",\"from\":%s}}\n", t ? t : "null");
	free(t);
}

int store_print_mark_time(wsi_store *s, int64_t t)
{
	char b[32];
	fprintf(s->out, "{\"mark\":{\"store\":\"%s\",\"modified\":\"%s\"", s->name, wsi_time_fmt(t, b, sizeof b));
	print_mark_from(s);
	s->st->marks++;
	if (fflush(s->out) || ferror(s->out))
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno));
	return 0;
}

int store_print_mark_id(wsi_store *s, const char *id)
{
	json_t *ji = json_string(id);
	char *si = json_dumps(ji, JSON_ENCODE_ANY);
	json_decref(ji);
	fprintf(s->out, "{\"mark\":{\"store\":\"%s\",\"id\":%s", s->name, si ? si : "\"\"");
	free(si);
	print_mark_from(s);
	s->st->marks++;
	if (fflush(s->out) || ferror(s->out))
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno));
	return 0;
}


/* The "orders" member of a Shopify answer ({"orders":[…]}). */
int store_find_orders(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct span *o = ud;
	if (kl == 6 && !strncmp(k, "orders", 6)) {
		o->v = v;
		o->n = vl;
		return 1;
	}
	return 0;
}

void store_say(wsi_store *s, int level, const char *fmt, ...)
{
	if (!s->plan || !s->plan->say)
		return;
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->plan->say(s->plan->ud, level, msg);
}

int wsi_store_fetch(wsi_store *s, const wsi_fetch_plan *p, FILE *out, wsi_fetch_stats *st, wsi_error *e)
{
	s->out = out;
	s->mark_from = p->mark_from;
	s->st = st;
	s->e = e;
	s->plan = p;
	int rc;
	if (s->kind == FILESRC)
		rc = store_fetch_file(s, p);
	else
		rc = p->id_mode ? store_fetch_id(s, p) : store_fetch_time(s, p);
	if (s->http)
		st->requests = wsi_http_requests(s->http);
	return rc;
}

int wsi_store_ping(wsi_store *s, int64_t *clock, wsi_error *e)
{
	static const wsi_fetch_plan quiet = {0};
	wsi_fetch_stats st = {0};
	s->st = &st;
	s->e = e;
	s->plan = &quiet;
	*clock = 0;
	if (s->kind == FILESRC) {
		FILE *f = strcmp(s->base, "-") ? fopen(s->base, "r") : NULL;
		if (!f)
			return wsi_fail(e, WSI_EXIT_CONFIG, "cannot read store file %s: %s", s->base,
					strcmp(s->base, "-") ? strerror(errno) : "stdin is read only by wsi-fetch");
		fclose(f);
		return 0;
	}
	return store_ping(s, clock);
}

int wsi_store_mark_conf(const wsi_config *c, const char **kind, long *overlap, wsi_error *e)
{
	*kind = wsi_conf(c, "store", "mark", "time");
	if (strcmp(*kind, "time") && strcmp(*kind, "id"))
		return wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] mark must be time or id", wsi_conf_where(c, "store", "mark"));
	return wsi_conf_int(c, "store", "overlap", 300, 1, 86400 * 30, overlap, e);
}
