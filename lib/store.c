/* store.c - the store's REST API read in stretches, each paged to its end and checked
 * whole before its mark is printed (webstore-apis "Decisions for wsi"). */
#include "store.h"
#include "http.h"
#include "json.h"
#include "keys.h"
#include "order.h"
#include "progress.h"
#include "timeutil.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum kind { WOO, SHOPIFY, FILESRC };

struct wsi_store {
	enum kind kind;
	char name[65];
	const char *source;  /* "woocommerce" or "shopify": the shape of the orders */
	char *base;          /* base URL without a trailing slash, or the file path */
	char *api;           /* list URL up to '?' */
	char *count_url;     /* Shopify count URL */
	wsi_http *http;
	long overlap, settle, stretch, max_response;
	/* the run */
	FILE *out;
	const char *mark_from;
	int64_t future;      /* orders modified after this are named in a warning (0: none) */
	wsi_fetch_stats *st;
	wsi_error *e;
	int64_t now;         /* the store's clock, from its Date header */
	/* ids printed in the current stretch */
	uint64_t *seen;
	size_t nseen, capseen;
	char max_id[64];
};

const char *wsi_store_name(const wsi_store *s) { return s->name; }

static int loopback(const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 || strncmp(h, "[::1]", 5) == 0;
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
		wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: [store] name '%s' may hold only letters, digits, '_', '-' and '.'",
			 path, wsi_conf_line(c, "store", "name"), name);
		return NULL;
	}
	if (!type || (strcmp(type, "woocommerce") && strcmp(type, "shopify") && strcmp(type, "file"))) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: [store] type must be woocommerce, shopify or file%s%s%s", path,
			 wsi_conf_line(c, "store", "type"), type ? ", not '" : " (it is missing)", type ? type : "",
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
	    wsi_conf_int(c, "store", "max_response", 64L << 20, 1024, 1L << 30, &s->max_response, e))
		goto fail;
	if (s->kind == FILESRC) {
		const char *fmt = wsi_conf(c, "store", "format", NULL);
		if (!fmt || (strcmp(fmt, "woocommerce") && strcmp(fmt, "shopify"))) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: [store] format must be woocommerce or shopify for a file store",
				 path, wsi_conf_line(c, "store", "format"));
			goto fail;
		}
		s->source = !strcmp(fmt, "shopify") ? "shopify" : "woocommerce";
		return s;
	}
	if (strncmp(s->base, "https://", 8) != 0 && strncmp(s->base, "http://", 7) != 0) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s:%d: [store] url must start with https:// (found '%s')", path,
			 wsi_conf_line(c, "store", "url"), s->base);
		goto fail;
	}
	wsi_http_opts o = {0};
	if (wsi_http_opts_conf(c, "store", &o, e))
		goto fail;
	if (s->kind == WOO) {
		s->source = "woocommerce";
		if (strncmp(s->base, "http://", 7) == 0 && !loopback(s->base)) {
			wsi_fail(e, WSI_EXIT_CONFIG,
				 "%s:%d: [store] url %s is plain http://: WooCommerce accepts key and secret only over "
				 "https:// (over http it wants OAuth 1.0a signatures, which would expose nothing but "
				 "cost a signature per request); use the https:// address of the store",
				 path, wsi_conf_line(c, "store", "url"), s->base);
			goto fail;
		}
		o.user = wsi_conf(c, "store", "key", NULL);
		o.password = wsi_conf(c, "store", "secret", NULL);
		if (!o.user || !*o.user || !o.password || !*o.password) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] key and secret are needed for WooCommerce "
				 "(the secret may come from WSI_STORE_SECRET)", path);
			goto fail;
		}
		if (asprintf(&s->api, "%s/wp-json/wc/v3/orders", s->base) < 0)
			s->api = NULL;
	} else {
		s->source = "shopify";
		const char *token = wsi_conf(c, "store", "token", NULL);
		const char *ver = wsi_conf(c, "store", "api_version", "2025-01");
		if (!token || !*token) {
			wsi_fail(e, WSI_EXIT_CONFIG, "%s: [store] token is needed for Shopify (or WSI_STORE_SECRET)", path);
			goto fail;
		}
		if (asprintf(&s->api, "%s/admin/api/%s/orders.json", s->base, ver) < 0 ||
		    asprintf(&s->count_url, "%s/admin/api/%s/orders/count.json", s->base, ver) < 0) {
			s->api = NULL;
		}
	}
	if (!s->api || !(s->http = wsi_http_new(&o, e))) {
		if (!s->api)
			wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		goto fail;
	}
	wsi_http_header(s->http, "Accept: application/json");
	if (s->kind == SHOPIFY) {
		char *h;
		if (asprintf(&h, "X-Shopify-Access-Token: %s", wsi_conf(c, "store", "token", "")) < 0)
			goto fail;
		wsi_http_header(s->http, h);
		free(h);
	}
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
static int seen_add(wsi_store *s, const char *id)
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

static void seen_clear(wsi_store *s)
{
	if (s->seen)
		memset(s->seen, 0, s->capseen * sizeof *s->seen);
	s->nseen = 0;
}

/* Compare two decimal ids as numbers (longer is larger), else as text. */
static int idcmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb && strspn(a, "0123456789") == la && strspn(b, "0123456789") == lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* ---- printing ---- */

static int print_envelope(wsi_store *s, const char *id, int64_t mod, const char *raw, size_t len)
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
	wsi_progress("orders fetched", s->st->orders, 0);
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

static int print_mark_time(wsi_store *s, int64_t t)
{
	char b[32];
	fprintf(s->out, "{\"mark\":{\"store\":\"%s\",\"modified\":\"%s\"", s->name, wsi_time_fmt(t, b, sizeof b));
	print_mark_from(s);
	s->st->marks++;
	if (fflush(s->out) || ferror(s->out))
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno));
	return 0;
}

static int print_mark_id(wsi_store *s, const char *id)
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

/* ---- one page of orders ---- */

struct page_cx {
	wsi_store *s;
	const char *where;
	const char *since_id;  /* id mode: skip ids not above it */
	long items, fresh;
	int failed;
};

static int on_order(void *ud, const char *raw, size_t len)
{
	struct page_cx *p = ud;
	wsi_store *s = p->s;
	char idb[64];
	long long mod;
	p->items++;
	json_t *o = wsi_json_parse(raw, len, p->where, s->e);
	int unreadable = !o;
	/* one order jansson cannot read is one bad order, not a blocked store: passed on whole by its id,
	 * for wsi-stage to keep as unreadable */
	if (unreadable && !(o = wsi_order_raw_key_fields(raw, len))) {
		p->failed = 1;
		return 1;
	}
	const char *id = wsi_order_raw_id(o, idb, sizeof idb);
	if (unreadable && id)
		wsi_warn("%s: order %s cannot be read (%s): passed on as it is, to be kept as unreadable", p->where, id,
			 strstr(s->e->msg, "not valid JSON: ") ? strstr(s->e->msg, "not valid JSON: ") + 16 : s->e->msg);
	if (!json_is_object(o) || !id) {
		wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: order %ld of the page has no id", p->where, p->items);
		goto bad;
	}
	if (wsi_order_raw_modified(s->source, o, &mod)) {
		wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: order %s has no readable modification time (%s)", p->where, id,
			 s->kind == SHOPIFY || !strcmp(s->source, "shopify") ? "updated_at" : "date_modified_gmt");
		goto bad;
	}
	if (s->future && mod > s->future) {
		char t[32];
		wsi_warn("%s: order %s was modified at %s, later than the store's clock: staged, but no mark goes past the clock",
			 p->where, id, wsi_time_fmt(mod, t, sizeof t));
	}
	if (p->since_id && idcmp(id, p->since_id) <= 0) {
		json_decref(o);
		return 0;
	}
	int fresh = seen_add(s, id);
	if (fresh < 0) {
		wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
		goto bad;
	}
	if (!s->max_id[0] || idcmp(id, s->max_id) > 0)
		snprintf(s->max_id, sizeof s->max_id, "%s", id);
	if (fresh) {
		p->fresh++;
		if (print_envelope(s, id, mod, raw, len))
			goto bad;
	}
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	p->failed = 1;
	return 1;
}

/* GET url and check that a JSON answer came; the store's error in its own words otherwise. */
static int get(wsi_store *s, const char *url, wsi_response *r)
{
	char shown[512], ex[300];
	wsi_url_short(url, shown, sizeof shown);
	s->st->requests++;
	if (wsi_http_get(s->http, url, r, s->e))
		return -1;
	char date[64];
	int64_t t;
	if (wsi_response_header(r, "Date", date, sizeof date) && wsi_time_parse_http(date, &t) == 0)
		s->now = t;
	if (s->kind == SHOPIFY) {
		char lim[32];
		int used, cap;
		/* Slow down before Shopify refuses: its bucket leaks 2 calls a second. */
		if (wsi_response_header(r, "X-Shopify-Shop-Api-Call-Limit", lim, sizeof lim) &&
		    sscanf(lim, "%d/%d", &used, &cap) == 2 && cap > 0 && used >= cap - 4) {
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
		}
	}
	if (r->status >= 200 && r->status < 300) {
		size_t i = wsi_json_ws(r->body, r->len, 0);
		if (i < r->len && (r->body[i] == '[' || r->body[i] == '{'))
			return 0;
		char ct[128];
		if (!wsi_response_header(r, "Content-Type", ct, sizeof ct))
			snprintf(ct, sizeof ct, "none");
		wsi_fail(s->e, WSI_EXIT_REMOTE, "GET %s: HTTP %ld but the answer is not JSON (Content-Type %s): %s",
			 shown, r->status, ct, wsi_body_excerpt(r->body, r->len, ex, 160));
		wsi_response_free(r);
		return -1;
	}
	/* The store's own words: WooCommerce {code,message}, Shopify {errors}. */
	const char *msg = NULL;
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	char *errs = NULL;
	if (j) {
		msg = wsi_jstr(j, "message");
		json_t *er = json_object_get(j, "errors");
		if (!msg && er)
			msg = json_is_string(er) ? json_string_value(er) : (errs = json_dumps(er, JSON_COMPACT));
	}
	if (!msg)
		msg = wsi_body_excerpt(r->body, r->len, ex, 160);
	int st = r->status == 401 || r->status == 403 ? WSI_EXIT_CONFIG : WSI_EXIT_REMOTE;
	const char *hint = r->status == 401 || r->status == 403
		? " (the store refused the credentials: check [store] key/secret or token)"
		: r->status == 404 ? " (is [store] url the store's base address?)" : "";
	if (r->status == 404)
		st = WSI_EXIT_CONFIG;
	wsi_fail(s->e, st, "GET %s: HTTP %ld: %s%s", shown, r->status, msg, hint);
	free(errs);
	json_decref(j);
	wsi_response_free(r);
	return -1;
}

static long header_long(const wsi_response *r, const char *name)
{
	char v[32];
	if (!wsi_response_header(r, name, v, sizeof v))
		return -1;
	char *end;
	long n = strtol(v, &end, 10);
	return end == v ? -1 : n;
}

struct span { const char *v; size_t n; };

static int find_orders(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct span *o = ud;
	if (kl == 6 && !strncmp(k, "orders", 6)) {
		o->v = v;
		o->n = vl;
		return 1;
	}
	return 0;
}

static int page_orders(wsi_store *s, wsi_response *r, const char *url, const char *since_id, long *items, long *fresh)
{
	char where[600];
	wsi_url_short(url, where, sizeof where);
	struct page_cx p = {s, where, since_id, 0, 0, 0};
	const char *body = r->body;
	size_t len = r->len;
	size_t i = wsi_json_ws(body, len, 0);
	int rc;
	if (i < len && body[i] == '{') {
		/* Shopify: {"orders":[…]} */
		struct span orders = {NULL, 0};
		rc = wsi_json_members(body, len, find_orders, &orders);
		if (rc == 0 && orders.v)
			rc = wsi_json_items(orders.v, orders.n, on_order, &p);
		else if (rc == 0)
			rc = wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: the answer has no \"orders\" list", where);
	} else {
		rc = wsi_json_items(body, len, on_order, &p);
	}
	if (p.failed)
		return -1;
	if (rc) {
		char ex[200];
		return wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: the answer is not a complete JSON list (truncated?): %s",
				where, wsi_body_excerpt(body + (len > 120 ? len - 120 : 0), len > 120 ? 120 : len, ex, sizeof ex));
	}
	s->st->pages++;
	*items = p.items;
	*fresh = p.fresh;
	return fflush(s->out) ? wsi_fail(s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno)) : 0;
}


/* ---- WooCommerce ---- */

/* One stretch [lo, hi) by id ascending, every page to the end. Returns 0 read whole,
 * 1 the store changed meanwhile (read again), 2 too big (narrow it), -1 error.
 * lo < 0: no lower bound; hi < 0: no upper bound. */
static int woo_stretch(wsi_store *s, int64_t lo, int64_t hi, const char *since_id, long *count)
{
	long total0 = -1, page = 1;
	int changed = 0;
	char a[32], b[32];
	seen_clear(s);
	for (;;) {
		char *url;
		wsi_response r;
		if (asprintf(&url, "%s?status=any&dates_are_gmt=true&orderby=id&order=asc&per_page=100&page=%ld%s%s%s%s",
			     s->api, page, lo >= 0 ? "&modified_after=" : "", lo >= 0 ? wsi_time_fmt_naive(lo - 1, a, sizeof a) : "",
			     hi >= 0 ? "&modified_before=" : "", hi >= 0 ? wsi_time_fmt_naive(hi, b, sizeof b) : "") < 0)
			return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
		if (get(s, url, &r)) {
			free(url);
			return -1;
		}
		long total = header_long(&r, "X-WP-Total"), pages = header_long(&r, "X-WP-TotalPages");
		if (page == 1) {
			total0 = total;
			*count = total;
			if (total > s->stretch * 2 && lo >= 0 && hi - lo > 1 && !since_id) {
				wsi_response_free(&r);
				free(url);
				return 2;
			}
		} else if (total != total0) {
			changed = 1;
		}
		long items, fresh;
		int rc = page_orders(s, &r, url, since_id, &items, &fresh);
		wsi_response_free(&r);
		free(url);
		if (rc)
			return -1;
		if (items < 100 || (pages >= 0 && page >= pages))
			break;
		page++;
	}
	if (changed || (total0 >= 0 && (long)s->nseen < total0 && !since_id)) {
		wsi_info("stretch %s..%s changed while it was read (%ld orders, %zu seen): reading it again",
			 lo >= 0 ? wsi_time_fmt(lo, a, sizeof a) : "start", hi >= 0 ? wsi_time_fmt(hi, b, sizeof b) : "now",
			 total0, s->nseen);
		return 1;
	}
	return 0;
}

/* ---- Shopify ---- */

static int shopify_count(wsi_store *s, int64_t lo, int64_t hi, long *count)
{
	char *url, a[32], b[32];
	wsi_response r;
	if (asprintf(&url, "%s?status=any%s%s%s%s", s->count_url, lo >= 0 ? "&updated_at_min=" : "",
		     lo >= 0 ? wsi_time_fmt(lo, a, sizeof a) : "", hi >= 0 ? "&updated_at_max=" : "",
		     hi >= 0 ? wsi_time_fmt(hi - 1, b, sizeof b) : "") < 0)
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	int rc = get(s, url, &r);
	free(url);
	if (rc)
		return -1;
	json_t *j = json_loadb(r.body, r.len, 0, NULL);
	json_t *c = json_object_get(j, "count");
	rc = json_is_integer(c) ? 0 : wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: the answer has no count", s->count_url);
	*count = json_is_integer(c) ? (long)json_integer_value(c) : 0;
	json_decref(j);
	wsi_response_free(&r);
	return rc;
}

static int same_origin(const wsi_store *s, const char *url)
{
	size_t n = strlen(s->base);
	const char *p = strstr(s->base + 8, "/");
	if (p)
		n = (size_t)(p - s->base);
	return strncmp(url, s->base, n) == 0 && (url[n] == '/' || url[n] == 0);
}

/* Page a Shopify listing from `first` through its cursors. */
static int shopify_pages(wsi_store *s, const char *first, const char *since_id)
{
	char *url = strdup(first);
	char link[4096], next[4096];
	while (url) {
		wsi_response r;
		if (get(s, url, &r)) {
			free(url);
			return -1;
		}
		long items, fresh;
		int rc = page_orders(s, &r, url, NULL, &items, &fresh);
		const char *nx = NULL;
		if (!rc && wsi_response_header(&r, "Link", link, sizeof link))
			nx = wsi_link_next(link, next, sizeof next);
		wsi_response_free(&r);
		free(url);
		url = NULL;
		if (rc)
			return -1;
		if (since_id && s->max_id[0] && print_mark_id(s, s->max_id))
			return -1;
		if (nx) {
			if (!same_origin(s, nx))
				return wsi_fail(s->e, WSI_EXIT_REMOTE, "the store's next page is on another host (%.80s): not followed", nx);
			if (!(url = strdup(nx)))
				return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
		}
	}
	return 0;
}

static int shopify_stretch(wsi_store *s, int64_t lo, int64_t hi, long *count)
{
	char *url, a[32], b[32];
	long before, after;
	if (shopify_count(s, lo, hi, &before))
		return -1;
	*count = before;
	if (before > s->stretch * 2 && lo >= 0 && hi - lo > 1)
		return 2;
	seen_clear(s);
	if (asprintf(&url, "%s?status=any&limit=250&order=updated_at+asc%s%s%s%s", s->api,
		     lo >= 0 ? "&updated_at_min=" : "", lo >= 0 ? wsi_time_fmt(lo, a, sizeof a) : "",
		     hi >= 0 ? "&updated_at_max=" : "", hi >= 0 ? wsi_time_fmt(hi - 1, b, sizeof b) : "") < 0)
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	int rc = shopify_pages(s, url, NULL);
	free(url);
	if (rc)
		return -1;
	if (shopify_count(s, lo, hi, &after))
		return -1;
	if ((long)s->nseen < after) {
		wsi_info("stretch changed while it was read (%ld orders, %zu seen): reading it again", after, s->nseen);
		return 1;
	}
	return 0;
}

/* ---- the run ---- */

/* Learn the store's clock (and, with no lower bound, its first order's time). */
static int probe(wsi_store *s, const wsi_fetch_plan *p, int64_t *lower, long *count)
{
	wsi_response r;
	char *url, a[32];
	int rc;
	if (s->kind == SHOPIFY) {
		if (shopify_count(s, p->have_lower ? p->lower : -1, -1, count))
			return -1;
		if (!p->have_lower) {
			/* The oldest order by creation bounds every modification from below. */
			if (asprintf(&url, "%s?status=any&limit=1&order=created_at+asc&fields=id,created_at", s->api) < 0)
				return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
			rc = get(s, url, &r);
			free(url);
			if (rc)
				return -1;
			json_t *j = json_loadb(r.body, r.len, 0, NULL);
			json_t *o = json_array_get(json_object_get(j, "orders"), 0);
			int64_t t;
			const char *ca = wsi_jstr(o, "created_at");
			*lower = ca && wsi_time_parse(ca, &t) == 0 ? t : -1;
			json_decref(j);
			wsi_response_free(&r);
		}
		return 0;
	}
	if (p->have_lower)
		rc = asprintf(&url, "%s?status=any&dates_are_gmt=true&per_page=1&modified_after=%s", s->api,
			      wsi_time_fmt_naive(p->lower - 1, a, sizeof a));
	else
		rc = asprintf(&url, "%s?status=any&dates_are_gmt=true&per_page=1&orderby=date&order=asc", s->api);
	if (rc < 0)
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	rc = get(s, url, &r);
	free(url);
	if (rc)
		return -1;
	*count = header_long(&r, "X-WP-Total");
	if (!p->have_lower) {
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		json_t *o = json_array_get(j, 0);
		int64_t t;
		const char *ca = wsi_jstr(o, "date_created_gmt");
		*lower = ca && wsi_time_parse(ca, &t) == 0 ? t : -1;
		json_decref(j);
	}
	wsi_response_free(&r);
	return 0;
}

/* Orders modified after the store's clock (a wrong clock, a bad import) lie beyond every stretch:
 * read them too, named in a warning, with no mark line (the mark never passes the clock). */
static int fetch_future(wsi_store *s)
{
	s->future = s->now + s->settle;
	long n = 0;
	if (s->kind == SHOPIFY && shopify_count(s, s->future + 1, -1, &n))
		return -1;
	int rc = s->kind != SHOPIFY || n > 0
		? (s->kind == SHOPIFY ? shopify_stretch(s, s->future + 1, -1, &n) : woo_stretch(s, s->future + 1, -1, NULL, &n))
		: 0;
	s->future = 0;
	return rc < 0 ? -1 : 0; /* changed while read: the next run reads them again */
}

static int fetch_time(wsi_store *s, const wsi_fetch_plan *p)
{
	int64_t lower = p->have_lower ? p->lower : -1;
	long count = 0;
	s->now = 0;
	if (probe(s, p, &lower, &count))
		return -1;
	if (!s->now)
		s->now = wsi_now(); /* a store that sends no Date: our own clock */
	int64_t end = s->now - s->settle;
	if (!p->have_lower && lower < 0) {
		/* An empty store: everything before `end` has been read. */
		return p->marks ? print_mark_time(s, end) : 0;
	}
	if (lower >= end)
		return fetch_future(s);
	int64_t width = end - lower;
	if (count > s->stretch && count > 0)
		width = width / (count / s->stretch + 1) + 1;
	int64_t lo = lower;
	int rereads = 0;
	while (lo < end) {
		int64_t hi = lo + width < end ? lo + width : end;
		long n = 0;
		int rc = s->kind == SHOPIFY ? shopify_stretch(s, lo, hi, &n) : woo_stretch(s, lo, hi, NULL, &n);
		if (rc < 0)
			return -1;
		if (rc == 2) {
			width = (hi - lo) / 2 > 0 ? (hi - lo) / 2 : 1;
			continue;
		}
		if (rc == 1) {
			s->st->rereads++;
			if (++rereads > 5)
				return wsi_fail(s->e, WSI_EXIT_REMOTE,
						"the store kept changing while it was read: try again later");
			continue;
		}
		rereads = 0;
		s->st->stretches++;
		if (p->marks && print_mark_time(s, hi))
			return -1;
		lo = hi;
		if (n < s->stretch / 2 && width < INT64_MAX / 4)
			width *= 2;
	}
	return fetch_future(s);
}

static int fetch_id(wsi_store *s, const wsi_fetch_plan *p)
{
	s->max_id[0] = 0;
	seen_clear(s);
	if (s->kind == SHOPIFY) {
		char *url, *enc = wsi_url_encode(p->since_id[0] ? p->since_id : "0");
		if (!enc || asprintf(&url, "%s?status=any&limit=250&since_id=%s", s->api, enc) < 0) {
			free(enc);
			return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
		}
		free(enc);
		int rc = shopify_pages(s, url, p->marks ? p->since_id : NULL);
		free(url);
		return rc;
	}
	/* WooCommerce has no since_id: read by id ascending, keep those above. */
	for (int rereads = 0;; rereads++) {
		long n;
		int rc = woo_stretch(s, -1, -1, p->since_id[0] ? p->since_id : "0", &n);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (rereads > 5)
			return wsi_fail(s->e, WSI_EXIT_REMOTE, "the store kept changing while it was read: try again later");
	}
	if (p->marks && s->max_id[0])
		return print_mark_id(s, s->max_id);
	return 0;
}

/* ---- a file of orders ---- */

static int find_order(void *u, const char *k, size_t kl, const char *v, size_t vl)
{
	struct span *o = u;
	if (kl == 5 && !strncmp(k, "order", 5)) {
		o->v = v;
		o->n = vl;
		return 1;
	}
	return 0;
}

struct file_cx {
	wsi_store *s;
	const wsi_fetch_plan *p;
	int64_t maxmod;
	long bad;
	const char *path;
	const char *buf;
	const char *line_pos; /* the line number carried along: one pass over the file, not one per order */
	long line_no;
};

static long file_line(struct file_cx *f, const char *at)
{
	if (!f->line_pos || at < f->line_pos) {
		f->line_pos = f->buf;
		f->line_no = 1;
	}
	for (; f->line_pos < at; f->line_pos++)
		f->line_no += *f->line_pos == '\n';
	return f->line_no;
}

static long line_of(const char *buf, const char *at)
{
	long n = 1;
	for (const char *q = buf; q < at; q++)
		n += *q == '\n';
	return n;
}

static int file_order(void *ud, const char *raw, size_t len)
{
	struct file_cx *f = ud;
	wsi_store *s = f->s;
	char where[600], idb[64];
	long long mod;
	snprintf(where, sizeof where, "%s:%ld", f->path, file_line(f, raw));
	wsi_error e = {0};
	json_t *o = wsi_json_parse(raw, len, where, &e);
	const char *id = o ? wsi_order_raw_id(o, idb, sizeof idb) : NULL;
	if (o && json_is_object(o) && json_is_array(json_object_get(o, "orders"))) {
		/* a Shopify list inside a file of lists */
		json_decref(o);
		struct span sp = {NULL, 0};
		if (wsi_json_members(raw, len, find_orders, &sp) == 0 && sp.v)
			return wsi_json_items(sp.v, sp.n, file_order, f) ? (f->bad++, 0) : 0;
		return 0;
	}
	if (o && json_is_object(o) && json_is_object(json_object_get(o, "order")) && !id) {
		json_decref(o);
		/* {"order":{…}}: find its span */
		struct span sp = {NULL, 0};
		if (wsi_json_members(raw, len, find_order, &sp) == 0 && sp.v)
			return file_order(f, sp.v, sp.n);
		return 0;
	}
	if (!o)
		wsi_err("%s", e.msg);
	else if (!id)
		wsi_err("%s: the order has no id", where);
	else if (wsi_order_raw_modified(s->source, o, &mod))
		wsi_err("%s: order %s has no readable modification time", where, id);
	if (!o || !id || wsi_order_raw_modified(s->source, o, &mod)) {
		f->bad++;
		json_decref(o);
		return 0;
	}
	if (!f->p->have_lower || mod >= f->p->lower) {
		if (print_envelope(s, id, mod, raw, len)) {
			json_decref(o);
			return 1;
		}
		if (mod > wsi_now() + s->settle) {
			char t[32];
			wsi_warn("%s: order %s was modified at %s, later than the clock: staged, but the mark stays at the clock",
				 where, id, wsi_time_fmt(mod, t, sizeof t));
			mod = wsi_now(); /* the mark never moves past the clock */
		}
		if (mod > f->maxmod)
			f->maxmod = mod;
	}
	json_decref(o);
	return 0;
}

static int fetch_file(wsi_store *s, const wsi_fetch_plan *p)
{
	FILE *in = strcmp(s->base, "-") == 0 ? stdin : fopen(s->base, "r");
	const char *path = in == stdin ? "<stdin>" : s->base;
	if (!in)
		return wsi_fail(s->e, WSI_EXIT_CONFIG, "cannot read store file %s: %s", s->base, strerror(errno));
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, in)) > 0) {
		len += n;
		if (len + 1 == cap) {
			if (cap >= (size_t)s->max_response * 16) {
				free(buf);
				if (in != stdin)
					fclose(in);
				return wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: larger than %ld bytes", path, s->max_response * 16);
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int rerr = ferror(in);
	if (in != stdin)
		fclose(in);
	if (!buf)
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	if (rerr) {
		free(buf);
		return wsi_fail(s->e, WSI_EXIT_REMOTE, "cannot read %s", path);
	}
	buf[len] = 0;
	struct file_cx f = {s, p, -1, 0, path, buf, NULL, 0};
	size_t i = wsi_json_ws(buf, len, 0);
	int rc = 0;
	if (i < len && buf[i] == '[') {
		rc = wsi_json_items(buf, len, file_order, &f);
		if (rc)
			wsi_err("%s: the file is not a complete JSON list", path);
	} else {
		/* JSON lines, or objects one after another */
		while (i < len) {
			size_t end = i;
			if (wsi_json_skip(buf, len, &end)) {
				/* skip to the next line and go on */
				wsi_err("%s:%ld: not valid JSON", path, line_of(buf, buf + i));
				f.bad++;
				const char *nl = memchr(buf + i, '\n', len - i);
				if (!nl)
					break;
				i = wsi_json_ws(buf, len, (size_t)(nl - buf) + 1);
				continue;
			}
			size_t ve = end;
			while (ve > i && (buf[ve - 1] == ' ' || buf[ve - 1] == '\n' || buf[ve - 1] == '\r' || buf[ve - 1] == '\t'))
				ve--;
			if (file_order(&f, buf + i, ve - i)) {
				rc = -1;
				break;
			}
			i = end;
		}
	}
	free(buf);
	if (rc || f.bad) {
		return wsi_fail(s->e, WSI_EXIT_REMOTE, "%s: %ld order%s could not be read; the mark stays where it was",
				path, f.bad ? f.bad : 1, f.bad == 1 ? "" : "s");
	}
	if (p->marks && f.maxmod >= 0)
		return print_mark_time(s, f.maxmod);
	return 0;
}

int wsi_store_fetch(wsi_store *s, const wsi_fetch_plan *p, FILE *out, wsi_fetch_stats *st, wsi_error *e)
{
	s->out = out;
	s->mark_from = p->mark_from;
	s->st = st;
	s->e = e;
	int rc;
	if (s->kind == FILESRC)
		rc = fetch_file(s, p);
	else
		rc = p->id_mode ? fetch_id(s, p) : fetch_time(s, p);
	if (s->http)
		st->requests = wsi_http_requests(s->http);
	wsi_progress_done();
	return rc;
}
