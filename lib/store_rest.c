/* store_rest.c - WooCommerce and Shopify over HTTP: pages of raw order spans, stretches read
 * whole (counted before and after), the store's clock from its Date header. */
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


#define WOO_PAGE_SIZE 100 /* WooCommerce's largest per_page */

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
		store_say(s, WSI_SAY_WARNING, "%s: order %s cannot be read (%s): passed on as it is, to be kept as unreadable", p->where, id,
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
		store_say(s, WSI_SAY_WARNING, "%s: order %s was modified at %s, later than the store's clock: staged, but no mark goes past the clock",
			 p->where, id, wsi_time_fmt(mod, t, sizeof t));
	}
	if (p->since_id && store_idcmp(id, p->since_id) <= 0) {
		json_decref(o);
		return 0;
	}
	int fresh = store_seen_add(s, id);
	if (fresh < 0) {
		wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
		goto bad;
	}
	if (!s->max_id[0] || store_idcmp(id, s->max_id) > 0)
		snprintf(s->max_id, sizeof s->max_id, "%s", id);
	if (fresh) {
		p->fresh++;
		if (store_print_envelope(s, id, mod, raw, len))
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
		rc = wsi_json_members(body, len, store_find_orders, &orders);
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
	store_seen_clear(s);
	for (;;) {
		char *url;
		wsi_response r;
		if (asprintf(&url, "%s?status=any&dates_are_gmt=true&orderby=id&order=asc&per_page=%d&page=%ld%s%s%s%s",
			     s->api, WOO_PAGE_SIZE, page, lo >= 0 ? "&modified_after=" : "", lo >= 0 ? wsi_time_fmt_naive(lo - 1, a, sizeof a) : "",
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
		if (items < WOO_PAGE_SIZE || (pages >= 0 && page >= pages))
			break;
		page++;
	}
	if (changed || (total0 >= 0 && (long)s->nseen < total0 && !since_id)) {
		if (!s->tail)
			store_say(s, WSI_SAY_INFO, "stretch %s..%s changed while it was read (%ld orders, %zu seen): reading it again",
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
		if (since_id && s->max_id[0] && store_print_mark_id(s, s->max_id))
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
	if (before == 0 && s->tail)
		return 0; /* an empty tail: no list request */
	if (before > s->stretch * 2 && lo >= 0 && hi - lo > 1)
		return 2;
	store_seen_clear(s);
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
		if (!s->tail)
			store_say(s, WSI_SAY_INFO, "stretch changed while it was read (%ld orders, %zu seen): reading it again", after, s->nseen);
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

/* The tail, from where the stretches end (the clock less settle) to the store's end: read once
 * with no mark line, so a recent order is never held back and the next run reads it again from the
 * mark. Orders modified after the clock (a wrong clock, a bad import) are named in a warning. */
static int fetch_tail(wsi_store *s, int64_t lo)
{
	s->future = s->now + s->settle;
	s->tail = 1;
	long n = 0;
	int rc = s->kind == SHOPIFY ? shopify_stretch(s, lo, -1, &n) : woo_stretch(s, lo, -1, NULL, &n);
	s->future = 0;
	s->tail = 0;
	return rc < 0 ? -1 : 0; /* changed while read: the next run reads it again */
}

int store_fetch_time(wsi_store *s, const wsi_fetch_plan *p)
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
		return p->marks ? store_print_mark_time(s, end) : 0;
	}
	if (lower >= end)
		return fetch_tail(s, lower);
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
		if (p->marks && store_print_mark_time(s, hi))
			return -1;
		lo = hi;
		if (n < s->stretch / 2 && width < INT64_MAX / 4)
			width *= 2;
	}
	return fetch_tail(s, lo);
}

int store_fetch_id(wsi_store *s, const wsi_fetch_plan *p)
{
	s->max_id[0] = 0;
	store_seen_clear(s);
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
		return store_print_mark_id(s, s->max_id);
	return 0;
}


int store_ping(wsi_store *s, int64_t *clock)
{
	char *url;
	wsi_response r;
	s->now = 0;
	if ((s->kind == SHOPIFY ? asprintf(&url, "%s?status=any", s->count_url)
				: asprintf(&url, "%s?status=any&per_page=1", s->api)) < 0)
		return wsi_fail(s->e, WSI_EXIT_LOCAL, "out of memory");
	int rc = get(s, url, &r);
	free(url);
	if (rc)
		return -1;
	wsi_response_free(&r);
	*clock = s->now;
	return 0;
}
