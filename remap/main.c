/* wsi-remap - apply the mapping tables to staged orders, and manage them. A change of
 * mappings sends the unposted orders it touches back to staged, to be mapped again. */
#include "order.h"
#include "cli.h"
#include "db.h"
#include "keys.h"
#include "orders.h"
#include "mapping.h"
#include "json.h"
#include "timeutil.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: wsi-remap [-c FILE] [-d DB] [-v] [-q] [-a | KEY...]\n"
		   "       wsi-remap add KIND FROM TO [TO2]   (payment: TO is the bank, TO2 the payment code)\n"
		   "       wsi-remap rm KIND FROM\n"
		   "       wsi-remap list [KIND]\n"
		   "       wsi-remap import [FILE]            (TSV: kind, from, to[, to2])\n"
		   "KIND is item, customer, payment, shipvia or tax; FROM may be '*', the default\n"
		   "(not for tax: a web tax code is mapped to its Sage tax authority one by one).\n"
		   "Without a command, map the given orders (or, with -a, every staged order)\n"
		   "and print their keys. See wsi-remap(1).\n");
}

static int check_entry(const char *where, const char *kind, const char *from, const char *to, const char *to2,
		       wsi_error *e)
{
	if (!wsi_map_kind_ok(kind))
		return wsi_fail(e, WSI_EXIT_USAGE, "%s'%s' is not a kind: item, customer, payment, shipvia or tax", where, kind);
	if (!from || !*from || !to || !*to)
		return wsi_fail(e, WSI_EXIT_USAGE, "%s%s needs FROM and TO", where, kind);
	if (!strcmp(kind, "tax") && !strcmp(from, "*"))
		return wsi_fail(e, WSI_EXIT_USAGE, "%sa tax has no default: map each web tax code to its Sage authority", where);
	if (wsi_map_arity(kind) == 2 && (!to2 || !*to2))
		return wsi_fail(e, WSI_EXIT_USAGE, "%sa payment maps to a bank and a payment code: payment %s BANK CODE",
				where, from);
	if (wsi_map_arity(kind) == 1 && to2 && *to2)
		return wsi_fail(e, WSI_EXIT_USAGE, "%s%s maps to one Sage code, not two", where, kind);
	if (strlen(from) > 200 || strlen(to) > 60 || (to2 && strlen(to2) > 60))
		return wsi_fail(e, WSI_EXIT_USAGE, "%sa code is too long", where);
	return 0;
}

static int list(sqlite3 *db, const char *kind, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT kind, from_code, to_code, to_extra FROM mappings"
					      " WHERE ?1 IS NULL OR kind=?1 ORDER BY kind, from_code", e);
	if (!st)
		return -1;
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *extra = (const char *)sqlite3_column_text(st, 3);
		printf("%s\t%s\t%s%s%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), *extra ? "\t" : "", extra);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : wsi_db_fail(db, e, "cannot list the mappings");
}

static int import(sqlite3 *db, const char *path, long *count, long *touched, wsi_error *e)
{
	FILE *f = !path || !strcmp(path, "-") ? stdin : fopen(path, "r");
	const char *name = f == stdin ? "<stdin>" : path;
	if (!f)
		return wsi_fail(e, WSI_EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!*line || *line == '#')
			continue;
		char *field[5] = {0};
		int nf = 0;
		for (char *p = line; p && nf < 5; nf++) {
			field[nf] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		char where[300];
		snprintf(where, sizeof where, "%s:%ld: ", name, lineno);
		if (nf > 4 || nf < 3) {
			rc = wsi_fail(e, WSI_EXIT_USAGE, "%sexpected kind, from, to[, to2] separated by tabs (%d fields)",
				      where, nf);
			break;
		}
		if ((rc = check_entry(where, field[0], field[1], field[2], field[3], e)) ||
		    (rc = wsi_map_set(db, field[0], field[1], field[2], field[3], touched, e)))
			break;
		(*count)++;
	}
	free(line);
	if (!rc && ferror(f))
		rc = wsi_fail(e, WSI_EXIT_LOCAL, "cannot read %s", name);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Map one order: record how, move it to mapped. 1 mapped, 0 not in a state to map, -1 error. */
static int map_order(sqlite3 *db, const wsi_maps *maps, const char *store, const char *id, int explicit_key,
		     wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "SELECT state, rev, recheck, " WSI_STORED_COLS " FROM orders WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return wsi_db_fail(db, e, "cannot read an order");
		wsi_err("%s:%s: no such order", store, id);
		return 0;
	}
	wsi_loaded o;
	wsi_order_from_row(&o, store, id, st, 0);
	json_t *canon = wsi_order_stored_row(st, 3);
	sqlite3_finalize(st);
	int mappable = o.state == WSI_STAGED ||
		       (explicit_key && (o.state == WSI_MAPPED || o.state == WSI_VALID || o.state == WSI_INVALID ||
					 o.state == WSI_FAILED));
	if (!mappable || !canon || !json_object_size(canon)) {
		if (explicit_key)
			wsi_warn("%s:%s is %s: not mapped", store, id, wsi_state_name(o.state));
		json_decref(canon);
		return 0;
	}
	json_t *how = wsi_maps_apply(maps, canon);
	char *text = wsi_json_dump_exact(how); /* (its items kept as text) */
	json_decref(how);
	json_decref(canon);
	if (!text)
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	/* read and moved in one transaction: nothing moves it in between */
	rc = wsi_order_map(db, &o, text, e);
	free(text);
	return rc;
}

static long n_mapped;

static void no_such_order(void *ud, const char *key)
{
	(void)ud;
	wsi_err("%s: no such order", key);
}

static int remap(sqlite3 *db, int all, int argc, char **argv, wsi_error *e)
{
	if (!all && argc == 0 && isatty(STDIN_FILENO))
		return wsi_fail(e, WSI_EXIT_USAGE, "which orders? give keys (STORE:ID), pipe them in, or use -a");
	/* Keys read whole first (never a write lock while a pipe is waited on); then the mappings are
	 * read in the transaction that applies them, so a change made meanwhile waits or is seen. */
	wsi_order_list l = {0};
	wsi_maps *maps = NULL;
	int rc = wsi_keys_load(db, all, WSI_S(WSI_STAGED), argc, argv, &l, no_such_order, NULL, e);
	if (!rc && wsi_db_begin(db, e))
		rc = -1;
	else if (!rc && !(maps = wsi_maps_load(db, e))) {
		wsi_db_rollback(db);
		rc = -1;
	}
	char *done = !rc ? calloc(l.n ? l.n : 1, 1) : NULL;
	if (!rc && !done) {
		wsi_db_rollback(db);
		rc = wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	}
	if (!rc) {
		for (size_t i = 0; i < l.n && !rc; i++) {
			int m = map_order(db, maps, l.o[i].store, l.o[i].id, !all, e);
			if (m < 0)
				rc = -1;
			done[i] = m > 0;
		}
		if (!rc && !wsi_db_commit(db, e)) {
			for (size_t i = 0; i < l.n; i++)
				if (done[i]) {
					printf("%s:%s\n", l.o[i].store, l.o[i].id);
					n_mapped++;
				}
			wsi_info("%ld order%s mapped", n_mapped, n_mapped == 1 ? "" : "s");
		} else {
			wsi_db_rollback(db);
			rc = -1;
		}
	}
	free(done);
	wsi_order_list_free(&l);
	wsi_maps_free(maps);
	return rc;
}

/* The commands that manage the mapping tables (wsi-remap(1)): their arguments, and what each does. */
static int check_add(int argc, char **argv, wsi_error *e)
{
	return check_entry("", argv[1], argv[2], argv[3], argc > 4 ? argv[4] : NULL, e);
}
static int check_kind(int argc, char **argv, wsi_error *e)
{
	(void)e;
	return argc > 1 && !wsi_map_kind_ok(argv[1]) ? -1 : 0;
}
static int run_add(sqlite3 *db, int argc, char **argv, long *count, long *touched, wsi_error *e)
{
	(void)count;
	return wsi_map_set(db, argv[1], argv[2], argv[3], argc > 4 ? argv[4] : NULL, touched, e);
}
static int run_rm(sqlite3 *db, int argc, char **argv, long *count, long *touched, wsi_error *e)
{
	(void)argc;
	(void)count;
	int found = 1;
	if (wsi_map_del(db, argv[1], argv[2], &found, touched, e))
		return -1;
	return found ? 0 : wsi_fail(e, WSI_EXIT_USAGE, "no %s mapping for '%s'", argv[1], argv[2]);
}
static int run_import(sqlite3 *db, int argc, char **argv, long *count, long *touched, wsi_error *e)
{
	return import(db, argc == 2 ? argv[1] : NULL, count, touched, e);
}
static int run_list(sqlite3 *db, int argc, char **argv, long *count, long *touched, wsi_error *e)
{
	(void)count;
	(void)touched;
	return list(db, argc == 2 ? argv[1] : NULL, e);
}

static const struct command {
	const char *name;
	int min_args, max_args; /* counting the command itself */
	int (*check)(int argc, char **argv, wsi_error *e);
	int (*run)(sqlite3 *db, int argc, char **argv, long *count, long *touched, wsi_error *e);
	int writes;             /* a change of the tables: one transaction, and the orders it sends back */
} commands[] = {
	{"add", 4, 5, check_add, run_add, 1},
	{"rm", 3, 3, check_kind, run_rm, 1},
	{"list", 1, 2, check_kind, run_list, 0},
	{"import", 1, 2, NULL, run_import, 1},
};

/* A change of the mapping tables, in one transaction, and what it sent back. */
static int change(const struct command *c, sqlite3 *db, int argc, char **argv, wsi_error *e)
{
	long touched = 0, count = 0;
	if (wsi_db_begin(db, e))
		return -1;
	if (c->run(db, argc, argv, &count, &touched, e) || wsi_db_commit(db, e)) {
		wsi_db_rollback(db);
		return -1;
	}
	char imported[64] = "";
	if (c->run == run_import)
		snprintf(imported, sizeof imported, "%ld mapping%s imported; ", count, count == 1 ? "" : "s");
	wsi_note("%s%ld unposted order%s sent back to be mapped again", imported, touched, touched == 1 ? "" : "s");
	return 0;
}

int main(int argc, char **argv)
{
	wsi_cli cli = {0};
	int opt, all = 0;
	wsi_msg_init("wsi-remap");
	wsi_cli_long_names(argc, argv);
	while ((opt = getopt(argc, argv, WSI_COMMON_OPTS "a")) != -1) {
		if (wsi_cli_opt(&cli, opt, optarg, usage))
			continue;
		if (opt != 'a') {
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
		all = 1;
	}
	argc -= optind;
	argv += optind;
	/* a first argument with no ':' is a command; else these are order keys */
	const struct command *cmd = NULL;
	wsi_error e = {0};
	if (argc > 0 && !strchr(argv[0], ':')) {
		for (size_t i = 0; i < sizeof commands / sizeof *commands && !cmd; i++)
			if (!strcmp(commands[i].name, argv[0]))
				cmd = &commands[i];
		if (!cmd) {
			wsi_err("'%s' is neither a command (add, rm, list, import) nor an order key (STORE:ID)", argv[0]);
			usage(stderr);
			return WSI_EXIT_USAGE;
		}
		if (all) {
			wsi_err("-a maps orders; it does not go with %s", cmd->name);
			return WSI_EXIT_USAGE;
		}
		if (argc < cmd->min_args || argc > cmd->max_args || (cmd->check && cmd->check(argc, argv, &e))) {
			if (e.status)
				wsi_err("%s", e.msg);
			else
				usage(stderr);
			return WSI_EXIT_USAGE;
		}
	} else if (all && argc) {
		wsi_err("-a or keys, not both");
		return WSI_EXIT_USAGE;
	}
	wsi_config *cfg;
	sqlite3 *db;
	wsi_cli_open(&cli, &cfg, &db);
	int rc;
	if (!cmd) {
		int64_t started = wsi_now();
		rc = remap(db, all, argc, argv, &e);
		wsi_run_log(db, started, rc ? e.status : 0, "mapped %ld", n_mapped);
	} else {
		rc = cmd->writes ? change(cmd, db, argc, argv, &e) : cmd->run(db, argc, argv, NULL, NULL, &e);
	}
	wsi_db_close(db);
	wsi_config_free(cfg);
	int status = rc ? wsi_report(&e) : 0;
	return wsi_cli_finish(status);
}
