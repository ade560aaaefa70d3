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
#include "timeutil.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-stage [-c FILE] [-d DB] [-v] [-q] [-b N]\n"
		   "Read envelopes and mark lines (from wsi-fetch) on stdin, stage new and changed\n"
		   "orders, and print the key of each order that is now ready to go on.\n"
		   "  -b N  commit every N orders between marks (default 500)\n"
		   "See wsi-stage(1) and wsi(7).\n");
}

struct span { const char *p; size_t n; };
struct envelope { struct span store, id, modified, source, order, mark; };

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

static int stage_order(struct stage *s, struct envelope *env, const char *where)
{
	char store[72], id[72], modified[40], source[16], rawhash[33];
	int64_t mod;
	if (scalar(env->store, store, sizeof store) || !wsi_store_name_ok(store))
		return wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the envelope has no valid \"store\"", where);
	if (scalar(env->id, id, sizeof id) || strpbrk(id, " \t\r\n:"))
		return wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: the envelope has no valid \"id\"", where);
	if (scalar(env->source, source, sizeof source) || (strcmp(source, "woocommerce") && strcmp(source, "shopify")))
		return wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"source\" must be woocommerce or shopify", where, store, id);
	if (scalar(env->modified, modified, sizeof modified) || wsi_time_parse(modified, &mod))
		return wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"modified\" is not a time", where, store, id);
	if (!env->order.p || env->order.p[0] != '{')
		return wsi_fail(&s->e, WSI_EXIT_ORDERS, "%s: %s:%s: \"order\" is not a JSON object", where, store, id);
	wsi_hash_hex(env->order.p, env->order.n, rawhash);

	/* read and written in one transaction: no other run moves the order in between */
	wsi_staged_was was;
	if (begin(s) || wsi_staging_find(s->staging, store, id, &was, &s->e))
		return -1;
	if (was.found && !strcmp(was.raw_hash, rawhash)) {
		s->n_same++;
		return 0; /* unchanged: a lookup, no parse, no write */
	}

	/* Changed or new: parse and derive. An order that cannot be read is kept raw as unreadable:
	 * one bad order, and the mark goes on. */
	wsi_error ce = {0};
	json_t *raw = wsi_json_parse(env->order.p, env->order.n, "the order", &ce);
	json_t *canon = raw ? wsi_order_canonical(source, raw, &ce) : NULL;
	json_decref(raw);
	if (!canon) {
		canon = json_object();
		wsi_err("%s: %s:%s: %s (staged as invalid)", where, store, id, ce.msg);
		s->n_unreadable++;
	}
	const char *status = wsi_jstr(canon, "status");
	wsi_download d = {store, id, source, mod, env->order.p, env->order.n, rawhash, canon, NULL,
			  ce.msg[0] ? ce.msg : NULL,
			  wsi_list_has(s->post_statuses ? s->post_statuses : wsi_order_default_post_statuses(source),
				       status ? status : "")};
	int state;
	int err = wsi_staging_put(s->staging, &d, &was, &state, &s->e);
	json_decref(canon);
	if (!err && state == WSI_STAGED)
		err = add_key(s, store, id);
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

/* One input line: an envelope or a mark. 0 done, 1 a bad line (reported), -1 fatal. */
static int stage_line(struct stage *s, const char *line, size_t len, long lineno)
{
	char where[64];
	struct envelope env = {0};
	snprintf(where, sizeof where, "<stdin>:%ld", lineno);
	if (wsi_json_members(line, len, on_member, &env)) {
		wsi_err("%s: not a JSON object (an envelope or a mark line)", where);
		return 1;
	}
	s->e.status = 0;
	int rc = env.mark.p ? stage_mark(s, &env, where) : stage_order(s, &env, where);
	if (rc == 0)
		return 0;
	if (s->e.status == WSI_EXIT_ORDERS || s->e.status == WSI_EXIT_REMOTE) {
		wsi_err("%s", s->e.msg);
		return 1;
	}
	return -1;
}

/* Every line of stdin, committed whenever more input is not there yet. 0, or an exit status. */
static int stage_input(struct stage *s)
{
	int status = 0;
	wsi_lines in;
	char *line;
	size_t n;
	int got = 0;
	wsi_lines_init(&in, STDIN_FILENO);
	for (;;) {
		/* input is slow to come: commit what is staged, hold no lock while waiting */
		if (s->in_tx && wsi_lines_would_wait(&in) && commit(s)) {
			status = wsi_report(&s->e);
			break;
		}
		if ((got = wsi_lines_next(&in, &line, &n)) <= 0)
			break;
		long lineno = in.lineno;
		if (n == 0)
			continue;
		int rc = stage_line(s, line, n, lineno);
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
	wsi_lines_free(&in);
	wsi_progress_done();
	if (!status && got < 0) {
		wsi_err("cannot read standard input: %s", strerror(errno));
		status = WSI_EXIT_LOCAL;
	}
	return status;
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	struct stage s = {0};
	wsi_config *cfg;
	int opt;
	long batch = 500;
	wsi_msg_init("wsi-stage");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "b:")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'b' && (batch = strtol(optarg, NULL, 10)) > 0)
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
	int status = 0;
	int64_t started = wsi_now();
	if (!(s.staging = wsi_staging_open(s.db, &s.e))) {
		status = wsi_report(&s.e);
		goto out;
	}
	status = stage_input(&s);
	/* Orders after the last mark are committed too; the mark stays before them. */
	if (!status && commit(&s))
		status = wsi_report(&s.e);
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
out:
	wsi_staging_close(s.staging);
	json_decref(s.marks_set);
	wsi_db_close(s.db);
	wsi_config_free(cfg);
	return wsi_cli_finish(status);
}
