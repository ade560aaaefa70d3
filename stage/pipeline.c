/* pipeline.c - a ring of jobs prepared on worker threads and taken by the writer in input order,
 * so that the database sees the orders (and the mark lines) exactly as a serial run would. */
#include "stage.h"
#include <stdlib.h>
#include <string.h>

#define RING 128 /* jobs in flight: the workers go on while the writer commits, and it stays small */

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t work, ready;
	struct job ring[RING];
	long head;  /* next slot the reader fills */
	long next;  /* next job a worker prepares */
	long tail;  /* next job the writer takes */
	int stop;
	int nworkers;
	pthread_t th[8];
	const char *db_path;
};

/* The worker's read-only look at the database: is this raw order what is staged already? */
struct hint { sqlite3 *db; sqlite3_stmt *sel; };

static void hint_open(struct hint *h, const char *path)
{
	memset(h, 0, sizeof *h);
	if (!path || sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db, "SELECT raw_hash FROM orders WHERE store=? AND id=?", -1, &h->sel, NULL) != SQLITE_OK) {
		sqlite3_close(h->db);
		h->db = NULL;
		return;
	}
	sqlite3_busy_timeout(h->db, 1000);
}

static int hint_same(struct hint *h, const struct job *j)
{
	if (!h->sel)
		return 0;
	sqlite3_bind_text(h->sel, 1, j->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(h->sel, 2, j->id, -1, SQLITE_STATIC);
	int same = sqlite3_step(h->sel) == SQLITE_ROW &&
		   !strcmp((const char *)sqlite3_column_text(h->sel, 0), j->raw_hash);
	sqlite3_reset(h->sel);
	return same;
}

static void prepare(struct job *j, struct hint *h)
{
	job_read(j);
	if (j->kind == JOB_ORDER && !hint_same(h, j))
		job_derive(j);
}

static void *worker(void *arg)
{
	struct pipeline *p = arg;
	struct hint h;
	hint_open(&h, p->db_path);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next == p->head)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct job *j = &p->ring[p->next++ % RING];
		pthread_mutex_unlock(&p->mu);
		prepare(j, &h);
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		pthread_cond_broadcast(&p->ready);
	}
	pthread_mutex_unlock(&p->mu);
	sqlite3_finalize(h.sel);
	sqlite3_close(h.db);
	return NULL;
}

struct pipeline *pipeline_start(const char *db_path, int workers)
{
	struct pipeline *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->db_path = db_path;
	if (workers > (int)(sizeof p->th / sizeof *p->th))
		workers = (int)(sizeof p->th / sizeof *p->th);
	for (int i = 0; i < workers; i++)
		if (pthread_create(&p->th[p->nworkers], NULL, worker, p) == 0)
			p->nworkers++;
	return p;
}

long pipeline_pending(const struct pipeline *p) { return p->head - p->tail; }

int pipeline_full(const struct pipeline *p) { return p->head - p->tail >= RING; }

int pipeline_put(struct pipeline *p, const char *line, size_t len, long lineno)
{
	struct job *j = &p->ring[p->head % RING];
	if (j->cap < len + 1) {
		size_t cap = len + 1 < 4096 ? 4096 : len + 1;
		char *b = realloc(j->line, cap);
		if (!b)
			return -1;
		j->line = b;
		j->cap = cap;
	}
	memcpy(j->line, line, len);
	j->line[len] = 0;
	j->len = len;
	j->lineno = lineno;
	j->done = 0;
	pthread_mutex_lock(&p->mu);
	p->head++;
	if (!p->nworkers)
		p->next = p->head; /* no workers: prepared when taken */
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

struct job *pipeline_take(struct pipeline *p)
{
	if (p->tail == p->head)
		return NULL;
	struct job *j = &p->ring[p->tail % RING];
	if (!p->nworkers) {
		prepare(j, &(struct hint){0});
		return j;
	}
	pthread_mutex_lock(&p->mu);
	while (!j->done)
		pthread_cond_wait(&p->ready, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return j;
}

void pipeline_release(struct pipeline *p)
{
	job_clear(&p->ring[p->tail % RING]);
	p->tail++;
}

void pipeline_stop(struct pipeline *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nworkers; i++)
		pthread_join(p->th[i], NULL);
	for (int i = 0; i < RING; i++) {
		arena_free(&p->ring[i].mem);
		free(p->ring[i].line);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->ready);
	free(p);
}

