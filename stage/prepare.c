/* prepare.c - what a worker makes of an input line: its envelope, key, raw hash, and the canonical
 * order with its content hash. No database, no output: any thread. */
#include "hash.h"
#include "json.h"
#include "keys.h"
#include "order.h"
#include "stage.h"
#include "timeutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_member(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct envelope *env = ud;
	struct { const char *name; struct span *s; } f[] = {
		{"store", &env->store}, {"id", &env->id}, {"modified", &env->modified},
		{"source", &env->source}, {"order", &env->order}, {"mark", &env->mark}};
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (kl == strlen(f[i].name) && !strncmp(k, f[i].name, kl)) {
			f[i].s->p = v;
			f[i].s->n = vl;
		}
	return 0;
}

/* A small JSON scalar (string or integer) as text, or -1. */
static int scalar(struct span s, char *buf, size_t n)
{
	if (!s.p)
		return -1;
	if (s.n > 2 && s.n - 2 < n && s.p[0] == '"' && s.p[s.n - 1] == '"') {
		/* the common case, a short printable ASCII string: no parse */
		size_t i = 1;
		while (i < s.n - 1 && s.p[i] >= 0x20 && s.p[i] < 0x7f && s.p[i] != '"' && s.p[i] != '\\')
			i++;
		if (i == s.n - 1) {
			memcpy(buf, s.p + 1, s.n - 2);
			buf[s.n - 2] = 0;
			return 0;
		}
	}
	json_t *j = json_loadb(s.p, s.n, JSON_DECODE_ANY, NULL);
	const char *t = NULL;
	if (json_is_string(j))
		t = json_string_value(j);
	else if (json_is_integer(j)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(j));
		json_decref(j);
		return 0;
	}
	int rc = t && strlen(t) < n && *t ? (snprintf(buf, n, "%s", t), 0) : -1;
	json_decref(j);
	return rc;
}

void job_read(struct job *j)
{
	struct envelope *env = &j->env;
	memset(env, 0, sizeof *env);
	j->e.status = 0;
	j->e.msg[0] = 0;
	j->parsed = 0;
	j->canon = NULL;
	j->unreadable[0] = 0;
	snprintf(j->where, sizeof j->where, "<stdin>:%ld", j->lineno);
	if (wsi_json_members(j->line, j->len, on_member, env)) {
		j->kind = JOB_NOT_OBJECT;
		return;
	}
	if (env->mark.p) {
		j->kind = JOB_MARK;
		return;
	}
	char modified[40];
	const char *where = j->where, *store = j->store, *id = j->id;
	j->kind = JOB_BAD_ENVELOPE;
	if (scalar(env->store, j->store, sizeof j->store) || !wsi_store_name_ok(store))
		wsi_fail(&j->e, WSI_EXIT_ORDERS, "%s: the envelope has no valid \"store\"", where);
	else if (scalar(env->id, j->id, sizeof j->id) || strpbrk(id, " \t\r\n:"))
		wsi_fail(&j->e, WSI_EXIT_ORDERS, "%s: the envelope has no valid \"id\"", where);
	else if (scalar(env->source, j->source, sizeof j->source) ||
		 (strcmp(j->source, "woocommerce") && strcmp(j->source, "shopify")))
		wsi_fail(&j->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"source\" must be woocommerce or shopify", where, store, id);
	else if (scalar(env->modified, modified, sizeof modified) || wsi_time_parse(modified, &j->modified))
		wsi_fail(&j->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"modified\" is not a time", where, store, id);
	else if (!env->order.p || env->order.p[0] != '{')
		wsi_fail(&j->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"order\" is not a JSON object", where, store, id);
	else {
		j->kind = JOB_ORDER;
		wsi_hash_hex(env->order.p, env->order.n, j->raw_hash);
	}
}

/* The arena the running thread's jansson calls allocate from (NULL: malloc). */
static _Thread_local struct arena *current;

#define CHUNK (256 * 1024)

static void *arena_alloc(size_t n)
{
	struct arena *a = current;
	if (!a)
		return malloc(n);
	n = (n + 15) & ~(size_t)15;
	if (!a->nchunk || a->used + n > a->chunk[a->nchunk - 1].size) {
		size_t size = n > CHUNK ? n : CHUNK;
		struct chunk *more = realloc(a->chunk, (a->nchunk + 1) * sizeof *more);
		if (!more)
			return NULL;
		a->chunk = more;
		if (!(a->chunk[a->nchunk].p = malloc(size)))
			return NULL;
		a->chunk[a->nchunk++].size = size;
		a->used = 0;
	}
	void *p = a->chunk[a->nchunk - 1].p + a->used;
	a->used += n;
	return p;
}

/* What a job allocated goes with its arena; anything else (made before) is freed. */
static void arena_release(void *p)
{
	struct arena *a = current;
	if (a) /* newest chunk first: what is let go was mostly made last */
		for (size_t i = a->nchunk; i-- > 0;)
			if ((char *)p >= a->chunk[i].p && (char *)p < a->chunk[i].p + a->chunk[i].size)
				return;
	free(p);
}

void arena_install(void) { json_set_alloc_funcs(arena_alloc, arena_release); }

void arena_reset(struct arena *a)
{
	/* keep the first chunk for the next job; a huge order's others go */
	for (size_t i = 1; i < a->nchunk; i++)
		free(a->chunk[i].p);
	if (a->nchunk && a->chunk[0].size > CHUNK) {
		free(a->chunk[0].p);
		a->nchunk = 0;
	}
	a->nchunk = a->nchunk ? 1 : 0;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->nchunk; i++)
		free(a->chunk[i].p);
	free(a->chunk);
	memset(a, 0, sizeof *a);
}

#define BIG_ORDER (1 << 20)

void job_derive(struct job *j)
{
	wsi_error ce = {0};
	/* an order over a MiB (thousands of lines) is read a line at a time, outside the arena, which
	 * would keep every line's tree to the end: as a stored order is read (wsi_order_stored) */
	j->own_canon = j->env.order.n > BIG_ORDER;
	current = j->own_canon ? NULL : &j->mem;
	j->canon = j->own_canon ? wsi_order_canonical_small(j->source, j->env.order.p, j->env.order.n) : NULL;
	json_t *raw = j->canon ? NULL : wsi_json_parse(j->env.order.p, j->env.order.n, "the order", &ce);
	if (!j->canon)
		j->canon = raw ? wsi_order_canonical(j->source, raw, &ce) : NULL;
	json_decref(raw);
	if (!j->canon) {
		/* one order that cannot be read is kept raw as unreadable; the mark goes on */
		j->canon = json_object();
		snprintf(j->unreadable, sizeof j->unreadable, "%s", ce.msg[0] ? ce.msg : "cannot be read");
	}
	if (wsi_order_content_hash(j->canon, j->content_hash))
		j->content_hash[0] = 0; /* out of memory: the writer computes it */
	current = NULL;
	j->parsed = 1;
}

void job_clear(struct job *j)
{
	if (j->own_canon)
		json_decref(j->canon);
	j->canon = NULL; /* else in j->mem: let go with it, never through json_decref outside it */
	j->own_canon = 0;
	arena_reset(&j->mem);
	j->done = 0;
	if (j->cap > (1 << 20)) { /* a huge order once: do not hold its buffer for the rest of the run */
		free(j->line);
		j->line = NULL;
		j->cap = 0;
	}
}
