/* db.c - one SQLite file holds every order, its events, the mappings and the marks. */
#include "db.h"
#include "order.h"
#include "timeutil.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each entry takes the schema from version i to i+1; never edit one that has shipped. */
static const char *migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE orders ("
	" store TEXT NOT NULL, id TEXT NOT NULL,"
	" source TEXT NOT NULL, modified TEXT NOT NULL,"
	" raw BLOB NOT NULL, canonical TEXT NOT NULL,"
	" raw_hash TEXT NOT NULL, content_hash TEXT NOT NULL, posted_hash TEXT,"
	" store_status TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,"
	" staged_at TEXT NOT NULL, changed_at TEXT NOT NULL,"
	" sage_order TEXT, sage_shipment TEXT, sage_invoice TEXT, sage_receipt TEXT, posted_at TEXT,"
	" recheck INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (store, id)) WITHOUT ROWID;"
	"CREATE INDEX orders_state ON orders(state);"
	"CREATE TABLE order_lines ("
	" store TEXT NOT NULL, id TEXT NOT NULL, line INTEGER NOT NULL,"
	" sku TEXT NOT NULL, name TEXT NOT NULL, quantity TEXT NOT NULL, unit_price TEXT NOT NULL,"
	" total TEXT NOT NULL, tax TEXT NOT NULL,"
	" PRIMARY KEY (store, id, line)) WITHOUT ROWID;"
	"CREATE INDEX order_lines_sku ON order_lines(sku);"
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY, store TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL,"
	" who TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, why TEXT NOT NULL);"
	"CREATE INDEX events_order ON events(store, id);"
	"CREATE TABLE reasons ("
	" store TEXT NOT NULL, id TEXT NOT NULL, code TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',"
	" message TEXT NOT NULL);"
	"CREATE INDEX reasons_order ON reasons(store, id);"
	"CREATE TABLE mappings ("
	" kind TEXT NOT NULL, from_code TEXT NOT NULL, to_code TEXT NOT NULL, to_extra TEXT NOT NULL DEFAULT '',"
	" set_at TEXT NOT NULL, set_by TEXT NOT NULL, PRIMARY KEY (kind, from_code));"
	"CREATE TABLE marks ("
	" store TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
	" set_at TEXT NOT NULL, set_by TEXT NOT NULL, PRIMARY KEY (store, kind));"
	"CREATE TABLE mark_log ("
	" seq INTEGER PRIMARY KEY, store TEXT NOT NULL, kind TEXT NOT NULL, old_value TEXT,"
	" new_value TEXT, at TEXT NOT NULL, by TEXT NOT NULL, why TEXT NOT NULL);"
	"CREATE TABLE rechecks ("
	" seq INTEGER PRIMARY KEY, store TEXT NOT NULL, kind TEXT NOT NULL, since TEXT NOT NULL,"
	" at TEXT NOT NULL, by TEXT NOT NULL, orders INTEGER NOT NULL);"
	"CREATE TABLE runs ("
	" tool TEXT PRIMARY KEY, started TEXT NOT NULL, ended TEXT, status INTEGER, summary TEXT);",
	/* 1 -> 2: which mapping entries mapped each order */
	"ALTER TABLE orders ADD COLUMN mapped TEXT;",
	/* 2 -> 3: every move a compare-and-set (rev); receipts claimed like orders */
	"ALTER TABLE orders ADD COLUMN rev INTEGER NOT NULL DEFAULT 0; ALTER TABLE orders ADD COLUMN receipt_claimed TEXT;",
	/* 3 -> 4: what each wsi-hwm set's check came to */
	("ALTER TABLE rechecks ADD COLUMN found INTEGER NOT NULL DEFAULT 0;"
	 " ALTER TABLE rechecks ADD COLUMN again INTEGER NOT NULL DEFAULT 0;"
	 " ALTER TABLE rechecks ADD COLUMN unposted INTEGER NOT NULL DEFAULT 0;"),
	/* 4 -> 5: orders staged before the canonical order carried tax per web code are derived again
	 * when next downloaded (their raw bytes then count as changed; their content hash does not) */
	("UPDATE orders SET raw_hash='' WHERE canonical <> '' AND json_extract(canonical,'$.taxes') IS NULL"
	 " AND json_extract(canonical,'$.lines') IS NOT NULL;"), /* (canonical <> '': no-op at 4, safe run again at 6) */
	/* 5 -> 6: orders in a rowid table, the raw bytes last (rows of kilobytes append, and reading
	 * a state never walks through them); new rows keep no canonical text (derived from raw) */
	("CREATE TABLE orders6 ("
	 " store TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, modified TEXT NOT NULL,"
	 " raw_hash TEXT NOT NULL, content_hash TEXT NOT NULL, posted_hash TEXT,"
	 " store_status TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 0,"
	 " staged_at TEXT NOT NULL, changed_at TEXT NOT NULL,"
	 " sage_order TEXT, sage_shipment TEXT, sage_invoice TEXT, sage_receipt TEXT, posted_at TEXT,"
	 " recheck INTEGER NOT NULL DEFAULT 0, receipt_claimed TEXT, mapped TEXT,"
	 " canonical TEXT NOT NULL DEFAULT '', raw BLOB NOT NULL,"
	 " PRIMARY KEY (store, id));"
	 " INSERT INTO orders6(store,id,source,modified,raw_hash,content_hash,posted_hash,store_status,state,rev,"
	 " staged_at,changed_at,sage_order,sage_shipment,sage_invoice,sage_receipt,posted_at,recheck,"
	 " receipt_claimed,mapped,canonical,raw)"
	 " SELECT store,id,source,modified,raw_hash,content_hash,posted_hash,store_status,state,rev,"
	 " staged_at,changed_at,sage_order,sage_shipment,sage_invoice,sage_receipt,posted_at,recheck,"
	 " receipt_claimed,mapped,canonical,raw FROM orders;"
	 " DROP TABLE orders; ALTER TABLE orders6 RENAME TO orders;"
	 " CREATE INDEX orders_state ON orders(state);"
	 /* no query looks lines up by SKU; the index only made every load write all over it */
	 " DROP INDEX IF EXISTS order_lines_sku;"),
};

int wsi_db_fail(sqlite3 *db, wsi_error *e, const char *what)
{
	int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
	const char *msg = db ? sqlite3_errmsg(db) : "no database";
	const char *hint = "";
	if ((code & 0xff) == SQLITE_FULL)
		hint = " (the disk is full: free space, then run again; nothing was half-written)";
	else if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		hint = " (another wsi run holds the database: try again when it ends)";
	else if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN ||
		 (code & 0xff) == SQLITE_PERM)
		hint = " (check that the database and its directory are writable)";
	const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
	return wsi_fail(e, WSI_EXIT_LOCAL, "database %s: %s: %s%s", file && *file ? file : "",
			what, msg, hint);
}

int wsi_db_exec(sqlite3 *db, const char *sql, wsi_error *e)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return wsi_db_fail(db, e, "cannot run statement");
	return 0;
}

sqlite3_stmt *wsi_db_prepare(sqlite3 *db, const char *sql, wsi_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		wsi_db_fail(db, e, "cannot prepare statement");
		return NULL;
	}
	return st;
}

int wsi_db_begin(sqlite3 *db, wsi_error *e)
{
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return wsi_db_fail(db, e, "cannot begin a transaction");
	return 0;
}

int wsi_db_commit(sqlite3 *db, wsi_error *e)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		wsi_db_fail(db, e, "cannot commit");
		wsi_db_rollback(db);
		return -1;
	}
	return 0;
}

void wsi_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int wsi_db_schema(void)
{
	return (int)(sizeof migrations / sizeof *migrations);
}

static int migrate(sqlite3 *db, wsi_error *e)
{
	int n = (int)(sizeof migrations / sizeof *migrations), version = 0;
	sqlite3_stmt *st = wsi_db_prepare(db, "PRAGMA user_version", e);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > n)
		return wsi_fail(e, WSI_EXIT_LOCAL,
				"database %s has schema version %d, newer than this wsi knows (%d): upgrade wsi",
				sqlite3_db_filename(db, "main"), version, n);
	if (version == n)
		return 0;
	if (wsi_db_begin(db, e))
		return -1;
	/* Read again under the write lock: another tool may have migrated meanwhile. */
	st = wsi_db_prepare(db, "PRAGMA user_version", e);
	if (!st) {
		wsi_db_rollback(db);
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (; version < n; version++) {
		char pragma[64];
		if (wsi_db_exec(db, migrations[version], e)) {
			wsi_db_rollback(db);
			return -1;
		}
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
		if (wsi_db_exec(db, pragma, e)) {
			wsi_db_rollback(db);
			return -1;
		}
	}
	return wsi_db_commit(db, e);
}

/* The database's directory, made (0700, its parents too) on first use; or a message saying what to make. */
static int make_dir_of(const char *path, wsi_error *e)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path || (size_t)(slash - path) >= sizeof dir)
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	struct stat st;
	if (stat(dir, &st) == 0)
		return 0;
	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST) {
			int err = errno;
			*p = c;
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = 0;
			const char *user = getenv("USER");
			return wsi_fail(e, WSI_EXIT_LOCAL, "the database's directory %s does not exist and cannot be made (%s): "
					"make it, e.g. sudo install -d -m 700 -o %s %s",
					dir, strerror(err), user && *user ? user : "$(id -un)", dir);
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

sqlite3 *wsi_db_open(const char *path, wsi_error *e)
{
	sqlite3 *db = NULL;
	if (make_dir_of(path, e))
		return NULL;
	/* Create the file ourselves so that it is private from its first byte. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		wsi_fail(e, WSI_EXIT_LOCAL, "cannot open database %s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	mode_t old = umask(077); /* the -wal and -shm files too */
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		wsi_db_fail(db, e, "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	long busy = 10000;
	const char *bt = getenv("WSI_BUSY_TIMEOUT_MS");
	if (bt && *bt)
		busy = strtol(bt, NULL, 10);
	sqlite3_busy_timeout(db, (int)busy);
	sqlite3_extended_result_codes(db, 1);
	/* A new database: pages that hold several orders of a few kilobytes each, whole (no effect on
	 * an existing one). Before WAL, which fixes the page size. */
	if (wsi_db_exec(db, "PRAGMA page_size=16384", e) || wsi_order_sql_functions(db)) {
		if (!e->msg[0])
			wsi_db_fail(db, e, "cannot add wsi's SQL functions");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_stmt *st = wsi_db_prepare(db, "PRAGMA journal_mode=WAL", e);
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		if (st)
			wsi_db_fail(db, e, "cannot switch to WAL (is the file a database?)");
		sqlite3_finalize(st);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_finalize(st);
	if (wsi_db_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", e) || migrate(db, e)) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static _Thread_local sqlite3 *event_db;
static _Thread_local sqlite3_stmt *event_st;

void wsi_db_close(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (!db)
		return;
	if (event_db == db) {
		event_db = NULL;
		event_st = NULL;
	}
	while ((st = sqlite3_next_stmt(db, NULL)))
		sqlite3_finalize(st);
	sqlite3_close(db);
}

const char *wsi_db_actor(int person)
{
	static char who[160];
	if (!person)
		return wsi_prog();
	const char *user = getenv("SUDO_USER");
	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw ? pw->pw_name : getenv("USER");
	}
	snprintf(who, sizeof who, "%s (%s)", user && *user ? user : "unknown", wsi_prog());
	return who;
}

int wsi_event(sqlite3 *db, const char *store, const char *id, const char *from, const char *to,
	      const char *why, wsi_error *e)
{
	char now[32];
	if (event_db != db || !event_st) {
		event_st = wsi_db_prepare(db,
				    "INSERT INTO events(store,id,at,who,from_state,to_state,why)"
				    " VALUES(?,?,?,?,?,?,?)",
				    e);
		event_db = db;
		if (!event_st)
			return -1;
	}
	sqlite3_stmt *st = event_st;
	wsi_time_fmt(wsi_now(), now, sizeof now);
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, wsi_prog(), -1, SQLITE_STATIC);
	if (from)
		sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, why, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot log an event");
	return 0;
}

int wsi_mark_get(sqlite3 *db, const char *store, const char *kind, wsi_mark *m, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(
		db, "SELECT value, set_at, set_by FROM marks WHERE store=? AND kind=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	memset(m, 0, sizeof *m);
	snprintf(m->store, sizeof m->store, "%s", store);
	snprintf(m->kind, sizeof m->kind, "%s", kind);
	if (rc == SQLITE_ROW) {
		snprintf(m->value, sizeof m->value, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(m->set_at, sizeof m->set_at, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(m->set_by, sizeof m->set_by, "%s", (const char *)sqlite3_column_text(st, 2));
		found = 1;
	} else if (rc != SQLITE_DONE) {
		wsi_db_fail(db, e, "cannot read the mark");
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

int wsi_mark_set(sqlite3 *db, const char *store, const char *kind, const char *value,
		 const char *by, const char *why, wsi_error *e)
{
	wsi_mark old;
	char now[32];
	int had = wsi_mark_get(db, store, kind, &old, e);
	if (had < 0)
		return -1;
	wsi_time_fmt(wsi_now(), now, sizeof now);
	sqlite3_stmt *st = value
		? wsi_db_prepare(db, "INSERT OR REPLACE INTO marks(store,kind,value,set_at,set_by) VALUES(?,?,?,?,?)", e)
		: wsi_db_prepare(db, "DELETE FROM marks WHERE store=? AND kind=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (value) {
		sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot set the mark");
	st = wsi_db_prepare(db, "INSERT INTO mark_log(store,kind,old_value,new_value,at,by,why) VALUES(?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (had)
		sqlite3_bind_text(st, 3, old.value, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, why, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot log the mark change");
	return 0;
}

int wsi_set_reasons(sqlite3 *db, const char *store, const char *id, const char *const *codes,
		    const char *const *subjects, const char *const *messages, int n, wsi_error *e)
{
	sqlite3_stmt *st = wsi_db_prepare(db, "DELETE FROM reasons WHERE store=? AND id=?", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return wsi_db_fail(db, e, "cannot clear reasons");
	if (n == 0)
		return 0;
	st = wsi_db_prepare(db, "INSERT INTO reasons(store,id,code,message,subject) VALUES(?,?,?,?,?)", e);
	if (!st)
		return -1;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, codes[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, messages[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, subjects && subjects[i] ? subjects[i] : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return wsi_db_fail(db, e, "cannot record a reason");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

void wsi_run_record(sqlite3 *db, const char *tool, int64_t started, int status, const char *summary)
{
	char a[32], b[32];
	sqlite3_stmt *st = db ? wsi_db_prepare(db, "INSERT OR REPLACE INTO runs(tool,started,ended,status,summary) VALUES(?,?,?,?,?)", NULL)
			      : NULL;
	if (!st)
		return;
	sqlite3_bind_text(st, 1, tool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, wsi_time_fmt(started, a, sizeof a), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, wsi_time_fmt(wsi_now(), b, sizeof b), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_text(st, 5, summary ? summary : "", -1, SQLITE_STATIC);
	sqlite3_step(st); /* a status line is not worth failing a run for */
	sqlite3_finalize(st);
}

void wsi_run_log(sqlite3 *db, int64_t started, int status, const char *fmt, ...)
{
	char *summary = NULL;
	va_list ap;
	if (!db)
		return;
	va_start(ap, fmt);
	if (vasprintf(&summary, fmt, ap) < 0)
		summary = NULL;
	va_end(ap);
	wsi_run_record(db, wsi_prog(), started, status, summary);
	free(summary);
}
