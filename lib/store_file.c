/* store_file.c - a file of orders (a JSON array, JSON lines, or Shopify lists), read in one pass. */
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
		if (wsi_json_members(raw, len, store_find_orders, &sp) == 0 && sp.v)
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
		store_say(s, WSI_SAY_ERROR, "%s", e.msg);
	else if (!id)
		store_say(s, WSI_SAY_ERROR, "%s: the order has no id", where);
	else if (wsi_order_raw_modified(s->source, o, &mod))
		store_say(s, WSI_SAY_ERROR, "%s: order %s has no readable modification time", where, id);
	if (!o || !id || wsi_order_raw_modified(s->source, o, &mod)) {
		f->bad++;
		json_decref(o);
		return 0;
	}
	if (!f->p->have_lower || mod >= f->p->lower) {
		if (store_print_envelope(s, id, mod, raw, len)) {
			json_decref(o);
			return 1;
		}
		if (mod > wsi_now() + s->settle) {
			char t[32];
			store_say(s, WSI_SAY_WARNING, "%s: order %s was modified at %s, later than the clock: staged, but the mark stays at the clock",
				 where, id, wsi_time_fmt(mod, t, sizeof t));
			mod = wsi_now(); /* the mark never moves past the clock */
		}
		if (mod > f->maxmod)
			f->maxmod = mod;
	}
	json_decref(o);
	return 0;
}

int store_fetch_file(wsi_store *s, const wsi_fetch_plan *p)
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
			store_say(s, WSI_SAY_ERROR, "%s: the file is not a complete JSON list", path);
	} else {
		/* JSON lines, or objects one after another */
		while (i < len) {
			size_t end = i;
			if (wsi_json_skip(buf, len, &end)) {
				/* skip to the next line and go on */
				store_say(s, WSI_SAY_ERROR, "%s:%ld: not valid JSON", path, line_of(buf, buf + i));
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
		return store_print_mark_time(s, f.maxmod);
	return 0;
}

