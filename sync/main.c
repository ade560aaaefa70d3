/* wsi-sync - run the chain for cron, under a lock, so that with nobody touching anything
 * every order reaches the furthest state it can; and the operator's views. */
#include "cli.h"
#include "db.h"
#include "orders.h"
#include "sage.h"
#include "sale.h"
#include "store.h"
#include "timeutil.h"
#include "views.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-sync [-c FILE] [-d DB] [-v] [-q] [-j N]\n"
		   "       wsi-sync status\n"
		   "       wsi-sync doctor\n"
		   "       wsi-sync report [-t] FROM [TO]\n"
		   "       wsi-sync waiting [-t]\n"
		   "       wsi-sync show KEY\n"
		   "       wsi-sync hold KEY... | release KEY... | settle KEY...\n"
		   "Run wsi-fetch | wsi-stage, then wsi-remap -a, wsi-validate -a and wsi-post -a, under\n"
		   "a lock, with a summary line per step on stderr; exit with the worst status.\n"
		   "  status   orders per state, the marks, the last run of each tool\n"
		   "  doctor   everything a first run needs, checked against the store and Sage\n"
		   "  report   every web order created in [FROM, TO): store, wsi and Sage side by side\n"
		   "  waiting  the waiting orders grouped by cause, with what fixes each (-t: TSV)\n"
		   "  show     one order's whole story\n"
		   "  hold     park orders not yet sent to Sage; release lets them go on\n"
		   "  settle   a conflict handled in Sage by hand: recorded as posted\n"
		   "See wsi-sync(1).\n");
}

static char tooldir[PATH_MAX];

/* The tools next to this one, else on PATH. */
static void find_tools(void)
{
	ssize_t n = readlink("/proc/self/exe", tooldir, sizeof tooldir - 1);
	if (n > 0) {
		tooldir[n] = 0;
		char *slash = strrchr(tooldir, '/');
		if (slash)
			*slash = 0;
		char probe[PATH_MAX + 16];
		snprintf(probe, sizeof probe, "%s/wsi-fetch", tooldir);
		if (access(probe, X_OK) == 0)
			return;
	}
	tooldir[0] = 0;
}

static void exec_tool(const char *tool, char **argv)
{
	char path[PATH_MAX + 32];
	if (tooldir[0]) {
		snprintf(path, sizeof path, "%s/%s", tooldir, tool);
		execv(path, argv);
	}
	execvp(tool, argv);
	wsi_err("cannot run %s: %s", tool, strerror(errno));
	_exit(127);
}

/* Start a tool with stdin from `in` and stdout to `out` (-1: /dev/null). */
static pid_t spawn(const char *tool, char **args, int in, int out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int null = open("/dev/null", O_RDWR);
	dup2(in >= 0 ? in : null, STDIN_FILENO);
	dup2(out >= 0 ? out : null, STDOUT_FILENO);
	for (int fd = 3; fd < 64; fd++)
		if (fd != STDERR_FILENO)
			close(fd);
	exec_tool(tool, args);
	return -1;
}

static int status_of(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws) == 127 ? WSI_EXIT_LOCAL : WEXITSTATUS(ws);
	return WSI_EXIT_LOCAL; /* killed */
}

/* argv for a tool: name, the common options, extra. */
static char **args(const wsi_cli *cli, const char *tool, const char *a1, const char *a2, const char *a3)
{
	static char *v[16];
	int n = 0;
	v[n++] = (char *)tool;
	if (cli->config_path) {
		v[n++] = "-c";
		v[n++] = (char *)cli->config_path;
	}
	if (cli->db_path) {
		v[n++] = "-d";
		v[n++] = (char *)cli->db_path;
	}
	if (cli->verbosity < 0)
		v[n++] = "-q";
	else if (cli->verbosity > 0)
		v[n++] = cli->verbosity > 1 ? "-vv" : "-v";
	if (a1)
		v[n++] = (char *)a1;
	if (a2)
		v[n++] = (char *)a2;
	if (a3)
		v[n++] = (char *)a3;
	v[n] = NULL;
	return v;
}

static void summary(const char *db_path, const char *tool, const char *step, int status, int64_t since)
{
	wsi_error e = {0};
	sqlite3 *db = wsi_db_open(db_path, &e);
	const char *text = "";
	char buf[600] = "";
	sqlite3_stmt *st = db ? wsi_db_prepare(db, "SELECT summary, ended FROM runs WHERE tool=?", &e) : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, tool, -1, SQLITE_STATIC);
		char t[32];
		if (sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 1), wsi_time_fmt(since, t, sizeof t)) >= 0) {
			snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
			text = buf;
		}
		sqlite3_finalize(st);
	}
	if (!*text && status) {
		/* the step stopped before it could record its run: recorded here, so status never says ok */
		snprintf(buf, sizeof buf, "stopped before it began its work (exit %d): see its message", status);
		text = buf;
		wsi_run_record(db, tool, since, status, text);
	}
	wsi_db_close(db);
	char how[24] = "";
	if (status)
		snprintf(how, sizeof how, " (exit %d)", status);
	if (status)
		wsi_err("%s: %s%s", step, *text ? text : "no summary", how);
	else
		wsi_note("%s: %s", step, *text ? text : "no summary");
}

/* Every key a step reads, read as that step would, before any runs. */
static int check_config(const wsi_config *cfg, wsi_error *e)
{
	const char *kind;
	long n;
	wsi_store *st = wsi_store_open(cfg, e);
	if (!st)
		return -1;
	wsi_store_close(st);
	wsi_sage *sg = wsi_store_mark_conf(cfg, &kind, &n, e) || wsi_sale_post_conf(cfg, &n, e) ? NULL : wsi_sage_open(cfg, e);
	if (!sg)
		return -1;
	wsi_sage_close(sg);
	return 0;
}

/* Invalid, failed or conflict orders, and posted ones whose Sage total differs. */
static long waiting_for_a_person(const char *db_path)
{
	wsi_error e = {0};
	sqlite3 *db = wsi_db_open(db_path, &e);
	sqlite3_stmt *st = db ? wsi_db_prepare(db, "SELECT count(*) FROM orders o WHERE state IN ('" WSI_NAME_INVALID "','"
						 WSI_NAME_FAILED "','" WSI_NAME_CONFLICT "') OR (state='" WSI_NAME_POSTED "'"
						 " AND EXISTS (SELECT 1 FROM reasons r WHERE r.store=o.store AND r.id=o.id AND"
						 " r.code='sage-total-differs'))", &e)
			      : NULL;
	long n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	wsi_db_close(db);
	return n;
}

/* Orders left in posting, or flagged by wsi-hwm set: a reconcile step first. */
static int needs_reconcile(const char *db_path)
{
	wsi_error e = {0};
	sqlite3 *db = wsi_db_open(db_path, &e);
	sqlite3_stmt *st = db ? wsi_db_prepare(db, "SELECT 1 FROM orders WHERE recheck<>0 OR state='" WSI_NAME_POSTING "' LIMIT 1", &e)
			      : NULL;
	int any = !st || sqlite3_step(st) == SQLITE_ROW; /* unsure: reconcile, it costs a look-up */
	sqlite3_finalize(st);
	wsi_db_close(db);
	return any;
}

static int run(wsi_cli *cli, const char *jobs)
{
	wsi_config *cfg;
	wsi_error e = {0};
	wsi_cli_open(cli, &cfg, NULL);
	/* the config checked once, as every step would read it: one message, not five */
	if (check_config(cfg, &e)) {
		wsi_config_free(cfg);
		return wsi_report(&e);
	}
	char db_path[PATH_MAX], lock_path[PATH_MAX + 8];
	snprintf(db_path, sizeof db_path, "%s", wsi_conf_db(cfg, cli->db_path));
	wsi_config_free(cfg);
	/* the lock lives beside the database: one run per database at a time */
	snprintf(lock_path, sizeof lock_path, "%s.lock", db_path);
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); /* a symlink is never followed */
	if (lock < 0) {
		wsi_err("cannot open the lock %s: %s", lock_path, strerror(errno));
		return WSI_EXIT_LOCAL;
	}
	if (flock(lock, LOCK_EX | LOCK_NB)) {
		char pid[32] = "";
		ssize_t n = read(lock, pid, sizeof pid - 1);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		wsi_err("another run%s%s%s is still going (lock %s): exiting", *pid ? " (pid " : "", pid, *pid ? ")" : "",
			lock_path);
		close(lock);
		return WSI_EXIT_BUSY;
	}
	if (ftruncate(lock, 0) == 0) {
		char pid[32];
		int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (pwrite(lock, pid, (size_t)n, 0) < 0)
			wsi_warn("cannot write the pid to %s", lock_path);
	}
	/* a fresh database must be made before the steps race to make it */
	sqlite3 *db = wsi_db_open(db_path, &e);
	if (!db) {
		close(lock);
		return wsi_report(&e);
	}
	wsi_db_close(db);
	signal(SIGPIPE, SIG_IGN);
	int worst = 0;
	int64_t since = wsi_now();
	/* 1. the store: fetch | stage, both statuses count */
	int p[2];
	if (pipe(p)) {
		wsi_err("cannot make a pipe: %s", strerror(errno));
		close(lock);
		return WSI_EXIT_LOCAL;
	}
	pid_t f = spawn("wsi-fetch", args(cli, "wsi-fetch", NULL, NULL, NULL), -1, p[1]);
	pid_t s = spawn("wsi-stage", args(cli, "wsi-stage", NULL, NULL, NULL), p[0], -1);
	close(p[0]);
	close(p[1]);
	int ws, fs = WSI_EXIT_LOCAL, ss = WSI_EXIT_LOCAL;
	if (f > 0 && waitpid(f, &ws, 0) == f)
		fs = status_of(ws);
	if (s > 0 && waitpid(s, &ws, 0) == s)
		ss = status_of(ws);
	summary(db_path, "wsi-fetch", "fetch", fs, since);
	summary(db_path, "wsi-stage", "stage", ss, since);
	worst = fs > worst ? fs : worst;
	worst = ss > worst ? ss : worst;
	/* 2. the Sage half: every order whose state calls for each tool; first, when a POST was left
	 * without an answer or wsi-hwm set flagged orders, what Sage lacks goes back to be mapped and
	 * checked again, so that this run posts it */
	struct { const char *tool, *step, *a1, *a2, *a3; } steps[] = {
		{"wsi-post", "reconcile", "-r", NULL, NULL},
		{"wsi-remap", "remap", "-a", NULL, NULL},
		{"wsi-validate", "validate", "-a", NULL, NULL},
		{"wsi-post", "post", "-a", jobs ? "-j" : NULL, jobs}};
	for (size_t i = needs_reconcile(db_path) ? 0 : 1; i < sizeof steps / sizeof *steps; i++) {
		pid_t pid = spawn(steps[i].tool, args(cli, steps[i].tool, steps[i].a1, steps[i].a2, steps[i].a3), -1, -1);
		int st = WSI_EXIT_LOCAL;
		if (pid > 0 && waitpid(pid, &ws, 0) == pid)
			st = status_of(ws);
		summary(db_path, steps[i].tool, steps[i].step, st, since);
		worst = st > worst ? st : worst;
	}
	/* orders that wait for a person make the run's status 1, every run until they are dealt with */
	long waiting = waiting_for_a_person(db_path);
	if (waiting > 0 && worst < WSI_EXIT_ORDERS) {
		wsi_note("%ld order%s wait%s for a person: wsi-sync waiting", waiting, waiting == 1 ? "" : "s",
			 waiting == 1 ? "s" : "");
		worst = WSI_EXIT_ORDERS;
	}
	close(lock);
	return worst;
}

/* wsi-sync report [-t] FROM [TO]: TO defaults to now. */
static int report(wsi_cli *cli, int argc, char **argv, int tsv)
{
	int64_t from, to = wsi_now();
	if (optind >= argc || optind + 2 < argc || wsi_time_parse(argv[optind], &from) ||
	    (optind + 1 < argc && wsi_time_parse(argv[optind + 1], &to)) || from >= to) {
		if (optind < argc)
			wsi_err("report takes FROM [TO], times or dates (2026-11-01), FROM before TO");
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	int status = 0;
	wsi_cli_open(cli, &cfg, &db);
	int rc = view_report(cfg, db, tsv, from, to, &status, &e);
	wsi_db_close(db);
	wsi_config_free(cfg);
	return wsi_cli_finish(rc ? wsi_report(&e) : status);
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	int opt, tsv = 0;
	const char *jobs = NULL;
	wsi_msg_init("wsi-sync");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "j:t")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt == 'j' && atoi(optarg) >= 1 && atoi(optarg) <= 64)
			jobs = optarg;
		else if (opt == 't')
			tsv = 1;
		else {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : NULL;
	if (cmd && (!strcmp(cmd, "waiting") || !strcmp(cmd, "report")) && optind < argc && !strcmp(argv[optind], "-t")) {
		tsv = 1;
		optind++;
	}
	if (cmd && !strcmp(cmd, "doctor")) {
		if (optind != argc) {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
		int st = doctor(cli.config_path, cli.db_path);
		int cs = wsi_close_stdout();
		return st ? st : cs;
	}
	if (cmd && !strcmp(cmd, "report"))
		return report(&cli, argc, argv, tsv);
	int keys_cmd = cmd && (!strcmp(cmd, "hold") || !strcmp(cmd, "release") || !strcmp(cmd, "settle"));
	if (cmd && strcmp(cmd, "status") && strcmp(cmd, "waiting") && strcmp(cmd, "show") && !keys_cmd) {
		wsi_err("unknown command '%s'", cmd);
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	if (keys_cmd ? optind >= argc : (cmd && !strcmp(cmd, "show") ? optind + 1 : optind) != argc) {
		usage(stderr);
		return WSI_EXIT_USAGE;
	}
	if (!cmd) {
		find_tools();
		return run(&cli, jobs);
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_error e = {0};
	wsi_cli_open(&cli, &cfg, &db);
	int rc = 0;
	if (keys_cmd)
		for (int i = optind; i < argc && !rc; i++)
			rc = person_move(db, argv[i], cmd, &e);
	else
		rc = !strcmp(cmd, "status") ? view_status(db, &e)
		     : !strcmp(cmd, "waiting") ? view_waiting(db, tsv, &e)
		     : view_show(db, argv[optind], &e);
	wsi_db_close(db);
	wsi_config_free(cfg);
	int status = rc ? wsi_report(&e) : 0;
	return wsi_cli_finish(status);
}
