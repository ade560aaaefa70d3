/* stage.h - wsi-stage's parts: a job per input line, prepared (read, hashed, parsed, derived) on
 * worker threads, written by the one thread that holds the database, in input order. */
#ifndef WSI_STAGE_H
#define WSI_STAGE_H
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include "msg.h"

struct span { const char *p; size_t n; };
struct envelope { struct span store, id, modified, source, order, mark; };

enum job_kind { JOB_ORDER, JOB_MARK, JOB_NOT_OBJECT, JOB_BAD_ENVELOPE };

/* The memory of one job's JSON trees: bump-allocated, let go of all at once (no malloc and free
 * per value, and none across threads). */
struct arena { struct chunk { char *p; size_t size; } *chunk; size_t nchunk, used; };
/* From now on jansson allocates from the running thread's job arena while it derives (job_derive). */
void arena_install(void);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

/* One input line and what a worker made of it. */
struct job {
	char *line;
	size_t len, cap;
	long lineno;
	int done;               /* prepared: the writer may take it */
	/* prepared */
	enum job_kind kind;
	struct envelope env;    /* spans into line */
	char where[64];         /* "<stdin>:LINE" */
	wsi_error e;            /* JOB_BAD_ENVELOPE: what is wrong with it */
	char store[72], id[72], source[16], raw_hash[33];
	int64_t modified;
	int parsed;             /* canon and content_hash are set (else the hint said unchanged) */
	json_t *canon;          /* the canonical order; an empty object when it could not be read */
	char content_hash[33];
	char unreadable[1024];  /* why the order could not be read, or "" */
	struct arena mem;       /* canon lives here */
	int own_canon;          /* ... or not: an order over a MiB, read a line at a time (json_decref it) */
};

/* Read the envelope of job->line (kind, where, e, key fields, raw hash). */
void job_read(struct job *j);
/* Parse and derive the order (parsed, canon, content_hash, unreadable). */
void job_derive(struct job *j);
/* Let go of what a written job holds (keeps its line buffer for the next). */
void job_clear(struct job *j);

/* A ring of jobs: the reader fills slots, workers prepare them, the writer takes them in order. */
struct pipeline;
/* Start `workers` threads (0: none, jobs are prepared by pipeline_take). A worker asks the database
 * at db_path (read-only, may be NULL) whether an order's raw bytes are unchanged, and then does not
 * parse it: a hint only, the writer looks again. NULL when out of memory. */
struct pipeline *pipeline_start(const char *db_path, int workers);
/* Jobs in the ring not yet taken; is there room for one more? */
long pipeline_pending(const struct pipeline *p);
int pipeline_full(const struct pipeline *p);
/* Copy a line into the next slot and hand it to the workers. -1 out of memory. */
int pipeline_put(struct pipeline *p, const char *line, size_t len, long lineno);
/* The oldest job, prepared (waits for it); NULL if the ring is empty. */
struct job *pipeline_take(struct pipeline *p);
/* The job pipeline_take gave is written: its slot may be filled again. */
void pipeline_release(struct pipeline *p);
void pipeline_stop(struct pipeline *p);

#endif
