/* sent.c - the journal of requests sent and not yet answered: lines appended under a shared lock,
 *   S <unix time> <pid> <kind> <ref>    sent
 *   A <kind> <ref>                      answered, or decided
 * and compacted under an exclusive one. */
#include "sent.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

struct wsi_sent_set { json_t *open; /* "K ref": sent at */ };

static int journal_path(const char *db_path, char *out, size_t n, wsi_error *e)
{
	if ((size_t)snprintf(out, n, "%s.sent", db_path) >= n)
		return wsi_fail(e, WSI_EXIT_LOCAL, "database path too long: %s", db_path);
	return 0;
}

static int fail_io(wsi_error *e, const char *path, const char *what)
{
	return wsi_fail(e, WSI_EXIT_LOCAL, "the journal of requests sent to Sage, %s: cannot %s: %s%s", path, what,
			strerror(errno), errno == ENOSPC ? " (the disk is full: free space, then run again)" : "");
}

/* Open the journal and lock it (LOCK_SH or LOCK_EX); a file compacted (replaced) meanwhile is opened again. */
static int open_locked(const char *path, int flags, int how, wsi_error *e)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			if (errno == ENOENT && !(flags & O_CREAT))
				return -2;
			return fail_io(e, path, "open it");
		}
		struct stat a, b;
		if (flock(fd, how) || fstat(fd, &a)) {
			fail_io(e, path, "lock it");
			close(fd);
			return -1;
		}
		if (stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return wsi_fail(e, WSI_EXIT_LOCAL, "the journal of requests sent to Sage, %s, keeps being replaced", path);
}

static int append(const char *db_path, const char *line, int durable, wsi_error *e)
{
	char path[4200];
	if (journal_path(db_path, path, sizeof path, e))
		return -1;
	int fd = open_locked(path, O_RDWR | O_APPEND | O_CREAT, LOCK_SH, e);
	if (fd < 0)
		return -1;
	/* a line a crash cut short is ended first, so this one is read whole (the cut one then counts as
	 * sent, though it never was: the safe side, its order only waits) */
	char buf[600], last = '\n';
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	snprintf(buf, sizeof buf, "%s%s", last == '\n' ? "" : "\n", line);
	size_t len = strlen(buf);
	ssize_t w = write(fd, buf, len);
	int rc = 0;
	if (w != (ssize_t)len) {
		if (w >= 0)
			errno = ENOSPC;
		rc = fail_io(e, path, "write to it");
	} else if (durable && fdatasync(fd)) {
		rc = fail_io(e, path, "sync it");
	}
	close(fd);
	return rc;
}

static int valid_ref(const char *ref, wsi_error *e)
{
	if (!*ref || strpbrk(ref, "\n\r"))
		return wsi_fail(e, WSI_EXIT_LOCAL, "a reference with a line break cannot be journaled");
	return 0;
}

int wsi_sent_begin(const char *db_path, int kind, const char *ref, wsi_error *e)
{
	char line[512];
	if (valid_ref(ref, e))
		return -1;
	if ((size_t)snprintf(line, sizeof line, "S %lld %ld %c %s\n", (long long)time(NULL), (long)getpid(), kind, ref) >=
	    sizeof line)
		return wsi_fail(e, WSI_EXIT_LOCAL, "reference too long to journal: %s", ref);
	return append(db_path, line, 1, e);
}

int wsi_sent_end(const char *db_path, int kind, const char *ref, wsi_error *e)
{
	char line[512];
	if (valid_ref(ref, e))
		return -1;
	if ((size_t)snprintf(line, sizeof line, "A %c %s\n", kind, ref) >= sizeof line)
		return wsi_fail(e, WSI_EXIT_LOCAL, "reference too long to journal: %s", ref);
	return append(db_path, line, 0, e);
}

/* Read an open (locked) journal into {"K ref": sent at}; *lines counts its lines. */
static json_t *read_open(int fd, const char *path, long *lines, wsi_error *e)
{
	FILE *f = fdopen(dup(fd), "r");
	if (!f) {
		fail_io(e, path, "read it");
		return NULL;
	}
	json_t *open = json_object();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	*lines = 0;
	while (open && (n = getline(&line, &cap, f)) > 0) {
		(*lines)++;
		if (line[n - 1] != '\n')
			break; /* a line cut by a crash: its request was never sent */
		line[n - 1] = 0;
		long long at;
		long pid;
		char kind;
		int off = 0;
		char key[520];
		if (sscanf(line, "S %lld %ld %c %n", &at, &pid, &kind, &off) == 3 && off && line[off]) {
			snprintf(key, sizeof key, "%c %s", kind, line + off);
			json_object_set_new(open, key, json_integer(at));
		} else if (sscanf(line, "A %c %n", &kind, &off) == 1 && off && line[off]) {
			snprintf(key, sizeof key, "%c %s", kind, line + off);
			json_object_del(open, key);
		}
	}
	free(line);
	fclose(f);
	if (!open)
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	return open;
}

wsi_sent_set *wsi_sent_load(const char *db_path, wsi_error *e)
{
	char path[4200];
	if (journal_path(db_path, path, sizeof path, e))
		return NULL;
	wsi_sent_set *s = calloc(1, sizeof *s);
	if (!s) {
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	int fd = open_locked(path, O_RDONLY, LOCK_SH, e);
	long lines;
	if (fd == -2)
		s->open = json_object(); /* nothing was ever sent from this database's place */
	else if (fd >= 0) {
		s->open = read_open(fd, path, &lines, e);
		close(fd);
	}
	if (!s->open) {
		free(s);
		return NULL;
	}
	return s;
}

int64_t wsi_sent_since(const wsi_sent_set *s, int kind, const char *ref)
{
	char key[520];
	snprintf(key, sizeof key, "%c %s", kind, ref);
	return s ? (int64_t)json_integer_value(json_object_get(s->open, key)) : 0;
}

size_t wsi_sent_count(const wsi_sent_set *s)
{
	return s ? json_object_size(s->open) : 0;
}

int wsi_sent_each(const wsi_sent_set *s, int (*fn)(void *ud, int kind, const char *ref, int64_t at), void *ud)
{
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach(s->open, key, v) if (!rc) rc = fn(ud, key[0], key + 2, (int64_t)json_integer_value(v));
	return rc;
}

void wsi_sent_free(wsi_sent_set *s)
{
	if (!s)
		return;
	json_decref(s->open);
	free(s);
}

int wsi_sent_compact(const char *db_path, int64_t before, wsi_error *e)
{
	char path[4200], tmp[4220];
	if (journal_path(db_path, path, sizeof path, e))
		return -1;
	int fd = open_locked(path, O_RDWR, LOCK_EX, e);
	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	long lines;
	json_t *open = read_open(fd, path, &lines, e);
	if (!open) {
		close(fd);
		return -1;
	}
	const char *key;
	json_t *v;
	void *it;
	json_object_foreach_safe(open, it, key, v) if (json_integer_value(v) < before) json_object_del(open, key);
	int rc = 0;
	if (!json_object_size(open)) {
		if (lines && ftruncate(fd, 0)) /* nothing that counts is lost if this is cut short */
			rc = fail_io(e, path, "empty it");
	} else if ((size_t)lines > json_object_size(open) * 2 + 64) {
		/* what still counts, written apart and put in place whole */
		snprintf(tmp, sizeof tmp, "%s.new", path);
		FILE *f = fopen(tmp, "w");
		int ok = f != NULL;
		json_object_foreach(open, key, v) if (ok) ok = fprintf(f, "S %lld 0 %c %s\n", (long long)json_integer_value(v),
								     key[0], key + 2) > 0;
		if (f && (fflush(f) || fsync(fileno(f))))
			ok = 0;
		if (f && fclose(f))
			ok = 0;
		if (!ok || rename(tmp, path))
			rc = fail_io(e, tmp, "write it");
		if (!ok)
			unlink(tmp);
	}
	json_decref(open);
	close(fd);
	return rc;
}
