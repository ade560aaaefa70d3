/* find.c - asking Sage what it already has, by reference, many a request. */
#include "post.h"
#include "sale.h"
#include <stdlib.h>
#include <string.h>

struct found_cx { json_t *found; };

static int on_found(void *ud, const char *ref, const wsi_sale_numbers *n)
{
	struct found_cx *f = ud;
	json_object_set_new(f->found, ref, json_pack("{ss ss ss ss ss}", "order", n->order, "shipment", n->shipment,
						     "invoice", n->invoice, "receipt", n->receipt, "total", n->total));
	return 0;
}

/* Look up the references of keys[0..n) in Sage: {ref: numbers} for those it has. */
json_t *find_in_sage(wsi_sage *s, const wsi_config *cfg, const wsi_loaded *keys, size_t n, int receipts,
			    wsi_error *e)
{
	struct found_cx f = {json_object()};
	const char **refs = calloc(n ? n : 1, sizeof *refs);
	char **bufs = calloc(n ? n : 1, sizeof *bufs);
	int rc = !refs || !bufs;
	for (size_t i = 0; i < n && !rc; i++) {
		if (asprintf(&bufs[i], "%s:%s", keys[i].store, keys[i].id) < 0) {
			bufs[i] = NULL;
			rc = 1;
		}
		refs[i] = bufs[i];
	}
	if (rc)
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	else
		rc = receipts ? wsi_sale_find_receipts(s, refs, n, on_found, &f, e)
			      : wsi_sale_find(s, cfg, refs, n, on_found, &f, e);
	for (size_t i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(refs);
	if (rc) {
		json_decref(f.found);
		return NULL;
	}
	return f.found;
}

/* The run's orders are looked up in Sage, WSI_SAGE_BATCH a request, before any is created;
 * both the look-ups and the posts are shared among the connections. */
static void lookup_loop(struct ctx *c, wsi_sage *s)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		size_t from = c->next;
		c->next += WSI_SAGE_BATCH;
		int stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop || from >= c->list.n)
			break;
		wsi_error e = {0};
		size_t n = from + WSI_SAGE_BATCH <= c->list.n ? WSI_SAGE_BATCH : c->list.n - from;
		json_t *f = find_in_sage(s, c->cfg, c->list.o + from, n, 0, &e);
		/* receipt mode: the receipts too, so none is ever made twice (one may survive its order
		 * in a restore of Sage) */
		json_t *r = f && !strcmp(wsi_sale_prepayment(c->cfg), "receipt") ? find_in_sage(s, c->cfg, c->list.o + from, n, 1, &e)
										    : json_object();
		if (!f || !r) {
			json_decref(f);
			halt(c, &e);
			break;
		}
		pthread_mutex_lock(&c->lock);
		json_object_update(c->found, f);
		json_object_update(c->receipts_in_sage, r);
		pthread_mutex_unlock(&c->lock);
		json_decref(f);
		json_decref(r);
	}
}

static void *look_work(void *arg)
{
	struct worker *w = arg;
	lookup_loop(w->c, w->sage);
	return NULL;
}

void look_up(struct ctx *c, wsi_sage *sage, wsi_sage **extra, long jobs)
{
	c->next = 0;
	if (jobs > 1 && c->list.n > WSI_SAGE_BATCH)
		pool(c, sage, extra, jobs, look_work);
	else
		lookup_loop(c, sage);
}
