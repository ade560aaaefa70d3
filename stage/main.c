/* wsi-stage - keep each downloaded order byte for byte, derive its canonical form, and
 * move the highwater mark only with the orders before it, in one transaction. */
#include "cli.h"
#include "db.h"
#include "hash.h"
#include "json.h"
#include "keys.h"
#include "lines.h"
#include "order.h"
#include "orders.h"
#include "staging.h"
#include "progress.h"
#include "stage.h"
#include "timeutil.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-stage [-c FILE] [-d DB] [-v] [-q] [-b N] [-j N]\n"
		   "Read envelopes and mark lines (from wsi-fetch) on stdin, stage new and changed\n"
		   "orders, and print the key of each order that is now ready to go on.\n"
		   "  -b N  commit every N orders between marks (default 500)\n"
		   "  -j N  read and derive orders on N threads (default: one per CPU, at most 4)\n"
		   "See wsi-stage(1) and wsi(7).\n");
}

struct stage {
	sqlite3 *db;
	wsi_error e;
	const char *post_statuses; /* NULL: the source's default */
	long batch, in_batch;
	int in_tx;
	char **keys;               /* printed after the commit that holds them */
	long nkeys, capkeys;
	int marks_frozen;          /* a bad line was seen: no mark may pass it */
	long bad_line;
	wsi_staging *staging;
	json_t *marks_set;         /* "store\tkind": the value this run set last */
	long n_new, n_changed, n_same, n_conflict, n_skipped, n_bad, n_unreadable, n_marks;
};

static int begin(struct stage *s)
{
	if (s->in_tx)
		return 0;
	if (wsi_db_begin(s->db, &s->e))
		return -1;
	s->in_tx = 1;
	return 0;
}

static int commit(struct stage *s)
{
	if (!s->in_tx)
		return 0;
	s->in_tx = 0;
	s->in_batch = 0;
	if (wsi_db_commit(s->db, &s->e))
		return -1;
	for (long i = 0; i < s->nkeys; i++) {
		puts(s->keys[i]);
		free(s->keys[i]);
	}
	s->nkeys = 0;
	if (fflush(stdout))
		return wsi_fail(&s->e, WSI_EXIT_LOCAL, "cannot write standard output: %s", strerror(errno));
	return 0;
}

static int add_key(struct stage *s, const char *store, const char *id)
{
	if (s->nkeys == s->capkeys) {
		long cap = s->capkeys ? s->capkeys * 2 : 256;
		char **k = realloc(s->keys, (size_t)cap * sizeof *k);
		if (!k)
			return wsi_fail(&s->e, WSI_EXIT_LOCAL, "out of memory");
		s->keys = k;
		s->capkeys = cap;
	}
	if (asprintf(&s->keys[s->nkeys], "%s:%s", store, id) < 0)
		return wsi_fail(&s->e, WSI_EXIT_LOCAL, "out of memory");
	s->nkeys++;
	return 0;
}

/* An order prepared by a worker: written if new or changed (the lookup here, in the writer's
 * transaction, is the one that counts; the worker's was a hint). */
static int write_order(struct stage *s, struct job *j)
{
	wsi_staged_was was;
	if (begin(s) || wsi_staging_find(s->staging, j->store, j->id, &was, &s->e))
		return -1;
	if (was.found && !strcmp(was.raw_hash, j->raw_hash)) {
		s->n_same++;
		return 0; /* unchanged: a lookup, no write */
	}
	if (!j->parsed)
		job_derive(j); /* the worker's look was older than an order before it in this run */
	if (j->unreadable[0]) {
		wsi_err("%s: %s:%s: %s (staged as invalid)", j->where, j->store, j->id, j->unreadable);
		s->n_unreadable++;
	}
	const char *status = wsi_jstr(j->canon, "status");
	wsi_download d = {j->store, j->id, j->source, j->modified, j->env.order.p, j->env.order.n, j->raw_hash,
			  j->canon, j->content_hash[0] ? j->content_hash : NULL, j->unreadable[0] ? j->unreadable : NULL,
			  wsi_list_has(s->post_statuses ? s->post_statuses : wsi_order_default_post_statuses(j->source),
				       status ? status : "")};
	int state;
	int err = wsi_staging_put(s->staging, &d, &was, &state, &s->e);
	if (!err && state == WSI_STAGED)
		err = add_key(s, j->store, j->id);
	if (err)
		return -1;
	if (!was.found)
		s->n_new++;
	else
		s->n_changed++;
	if (state == WSI_CONFLICT && was.state != WSI_CONFLICT)
		s->n_conflict++;
	if (state == WSI_SKIPPED)
		s->n_skipped++;
	if (++s->in_batch >= s->batch)
		return commit(s);
	return 0;
}

/* Is the mark `value` of kind ahead of `old`? Times compare as instants, ids as numbers. */
static int ahead(const char *kind, const char *value, const char *old)
{
	if (!strcmp(kind, "time")) {
		int64_t a, b;
		return wsi_time_parse(value, &a) == 0 && (wsi_time_parse(old, &b) || a > b);
	}
	size_t la = strlen(value), lb = strlen(old);
	return la != lb ? la > lb : strcmp(value, old) > 0;
}

/* How far a store's clock may run ahead of ours before its mark is refused. */
#define WSI_CLOCK_SKEW 300

static int stage_mark(struct stage *s, struct envelope *env, const char *where)
{
	json_t *m = json_loadb(env->mark.p, env->mark.n, 0, NULL);
	char store[72], value[64], buf[32];
	const char *kind = NULL, *idv;
	int64_t t;
	int rc = -1;
	const char *st = wsi_jstr(m, "store");
	const char *mod = wsi_jstr(m, "modified");
	if (!st || !wsi_store_name_ok(st)) {
		wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the mark line has no valid \"store\"", where);
		goto out;
	}
	snprintf(store, sizeof store, "%s", st);
	if (mod) {
		if (wsi_time_parse(mod, &t)) {
			wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the mark's \"modified\" is not a time", where);
			goto out;
		}
		if (t > wsi_now() + WSI_CLOCK_SKEW) {
			wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the mark's \"modified\" %s is later than now: refused (a mark past "
				 "the clock would skip every order until then)", where, mod);
			goto out;
		}
		kind = "time";
		wsi_time_fmt(t, value, sizeof value);
	} else if ((idv = wsi_jtext(m, "id", buf, sizeof buf)) && *idv && strlen(idv) < 40 &&
		   strspn(idv, "0123456789") == strlen(idv)) {
		kind = "id";
		snprintf(value, sizeof value, "%s", idv);
	} else {
		wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the mark line has neither \"modified\" nor \"id\"", where);
		goto out;
	}
	if (s->marks_frozen) {
		rc = 0; /* an order above could not be staged: the mark stays before it */
		goto out;
	}
	if (begin(s))
		goto out;
	wsi_mark old;
	int had = wsi_mark_get(s->db, store, kind, &old, &s->e);
	if (had < 0)
		goto out;
	/* A compare-and-set: the mark moves only from where the fetch started (or from where this
	 * run put it). A mark a person set or reset during the run wins. */
	json_t *from = json_object_get(m, "from");
	char sk[96];
	snprintf(sk, sizeof sk, "%s\t%s", store, kind);
	const char *mine = wsi_jstr(s->marks_set, sk);
	int as_fetched = json_is_null(from) ? !had : had && json_is_string(from) && !strcmp(json_string_value(from), old.value);
	if (from && !as_fetched && !(had && mine && !strcmp(mine, old.value))) {
		if (had)
			wsi_warn("the %s mark of %s was set during this run (to %s by %s): left as set, not moved to %s", kind,
				 store, old.value, old.set_by, value);
		else
			wsi_warn("the %s mark of %s was reset during this run: left unset, not moved to %s", kind, store, value);
		rc = 0;
		goto out;
	}
	int forward = !had || ahead(kind, value, old.value);
	if (forward && wsi_mark_set(s->db, store, kind, value, wsi_prog(), "read whole up to here", &s->e))
		goto out;
	json_object_set_new(s->marks_set, sk, json_string(forward ? value : old.value));
	s->n_marks++;
	rc = commit(s);
out:
	json_decref(m);
	return rc;
}

/* One input line, prepared: an envelope or a mark. 0 done, 1 a bad line (reported), -1 fatal. */
static int write_job(struct stage *s, struct job *j)
{
	int rc;
	s->e.status = 0;
	switch (j->kind) {
	case JOB_NOT_OBJECT:
		wsi_err("%s: not a JSON object (an envelope or a mark line)", j->where);
		return 1;
	case JOB_MARK:
		rc = stage_mark(s, &j->env, j->where);
		break;
	case JOB_BAD_ENVELOPE:
		s->e = j->e;
		rc = -1;
		break;
	default:
		rc = write_order(s, j);
	}
	if (rc == 0)
		return 0;
	if (s->e.status == WSI_EXIT_ORDERS || s->e.status == WSI_EXIT_REMOTE) {
		wsi_err("%s", s->e.msg);
		return 1;
	}
	return -1;
}

/* Every line of stdin, prepared on the workers and written here in input order; committed
 * whenever more input is not there yet. 0, or an exit status. */
static int stage_input(struct stage *s, struct pipeline *p)
{
	int status = 0, got = 1;
	wsi_lines in;
	char *line;
	size_t n;
	wsi_lines_init(&in, STDIN_FILENO);
	for (;;) {
		while (got > 0 && !pipeline_full(p)) {
			if (wsi_lines_would_wait(&in)) {
				if (pipeline_pending(p))
					break; /* write what is here first */
				/* input is slow to come: commit what is staged, hold no lock while waiting */
				if (s->in_tx && commit(s)) {
					status = wsi_report(&s->e);
					goto out;
				}
			}
			if ((got = wsi_lines_next(&in, &line, &n)) <= 0)
				break;
			if (n && pipeline_put(p, line, n, in.lineno)) {
				wsi_err("out of memory");
				status = WSI_EXIT_LOCAL;
				goto out;
			}
		}
		struct job *j = pipeline_take(p);
		if (!j) {
			if (got <= 0)
				break;
			continue;
		}
		long lineno = j->lineno;
		int rc = write_job(s, j);
		pipeline_release(p);
		wsi_progress("lines read", lineno, 0);
		if (rc < 0) {
			wsi_db_rollback(s->db);
			s->in_tx = 0;
			status = wsi_report(&s->e);
			break;
		}
		if (rc == 1) {
			s->n_bad++;
			if (!s->marks_frozen)
				s->bad_line = lineno;
			s->marks_frozen = 1;
		}
	}
out:
	wsi_lines_free(&in);
	wsi_progress_done();
	if (!status && got < 0) {
		wsi_err("cannot read standard input: %s", strerror(errno));
		status = WSI_EXIT_LOCAL;
	}
	return status;
}

/* Worker threads: one per CPU, at most 4 (the writer is the fifth). */
static int default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* The run: workers started, every line staged, the rest committed. 0, or an exit status. */
static int stage_all(struct stage *s, int workers)
{
	/* a page cache of 8 MiB (2 MiB by default): the indexes a load inserts into stay in memory */
	wsi_db_exec(s->db, "PRAGMA cache_size=-8192", &s->e);
	if (!(s->staging = wsi_staging_open(s->db, &s->e)))
		return wsi_report(&s->e);
	arena_install();
	struct pipeline *p = pipeline_start(sqlite3_db_filename(s->db, "main"), workers);
	if (!p) {
		wsi_err("out of memory");
		return WSI_EXIT_LOCAL;
	}
	int status = stage_input(s, p);
	pipeline_stop(p);
	/* Orders after the last mark are committed too; the mark stays before them. */
	if (!status && commit(s))
		status = wsi_report(&s->e);
	return status;
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	struct stage s = {0};
	wsi_config *cfg;
	int opt;
	long batch = 500;
	int workers = default_workers();
	wsi_msg_init("wsi-stage");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "b:j:")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'b' && (batch = strtol(optarg, NULL, 10)) > 0)
			continue;
		char *end;
		if (opt == 'j' && (workers = (int)strtol(optarg, &end, 10)) >= 0 && workers <= 8 && *optarg && !*end)
			continue;
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	if (optind < argc) {
		wsi_err("unexpected argument '%s': envelopes come on stdin", argv[optind]);
		return WSI_EXIT_USAGE;
	}
	wsi_cli_open(&cli, &cfg, &s.db);
	s.batch = batch;
	s.marks_set = json_object();
	s.post_statuses = wsi_conf(cfg, "store", "post_statuses", NULL);
	int64_t started = wsi_now();
	int status = stage_all(&s, workers);
	for (long i = 0; i < s.nkeys; i++)
		free(s.keys[i]);
	free(s.keys);
	if (s.marks_frozen)
		wsi_err("%ld line%s could not be staged (first at <stdin>:%ld): the mark was not moved past it",
			s.n_bad, s.n_bad == 1 ? "" : "s", s.bad_line);
	wsi_info("staged %ld new, %ld changed, %ld unchanged, %ld skipped, %ld conflicts, %ld unreadable, %ld bad lines, %ld marks",
		 s.n_new, s.n_changed, s.n_same, s.n_skipped, s.n_conflict, s.n_unreadable, s.n_bad, s.n_marks);
	if (!status && (s.n_bad || s.n_unreadable || s.n_conflict))
		status = WSI_EXIT_ORDERS;
	wsi_run_log(s.db, started, status, "staged %ld new, %ld changed (%ld unchanged, %ld skipped, %ld conflicts, %ld bad lines)",
		    s.n_new, s.n_changed, s.n_same, s.n_skipped, s.n_conflict, s.n_bad);
	wsi_staging_close(s.staging);
	json_decref(s.marks_set);
	wsi_db_close(s.db);
	wsi_config_free(cfg);
	return wsi_cli_finish(status);
}
