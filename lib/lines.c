/* lines.c - one read(2) buffer, split at newlines; the line number carried along. */
#include "lines.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINES_CHUNK 65536 /* bytes read at a time */

void wsi_lines_init(wsi_lines *r, int fd)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
}

int wsi_lines_next(wsi_lines *r, char **line, size_t *len)
{
	size_t scanned = r->start;
	for (;;) {
		char *nl = r->end > scanned ? memchr(r->buf + scanned, '\n', r->end - scanned) : NULL;
		if (nl || (r->eof && r->end > r->start)) {
			size_t n = (nl ? (size_t)(nl - r->buf) : r->end) - r->start;
			*line = r->buf + r->start;
			r->start += n + (nl != NULL);
			while (n && (*line)[n - 1] == '\r')
				n--;
			(*line)[n] = 0;
			*len = n;
			r->lineno++;
			return 1;
		}
		if (r->eof)
			return 0;
		scanned = r->end;
		/* room for one more chunk: move the partial line to the front, or grow */
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			scanned -= r->start;
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < LINES_CHUNK + 1) {
			size_t cap = r->cap ? r->cap * 2 : 2 * LINES_CHUNK;
			char *b = realloc(r->buf, cap);
			if (!b) {
				errno = ENOMEM;
				return -1;
			}
			r->buf = b;
			r->cap = cap;
		}
		ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0) {
			r->eof = 1;
			r->buf[r->end] = 0;
		}
		r->end += (size_t)got;
	}
}

int wsi_lines_would_wait(const wsi_lines *r)
{
	if (r->eof || (r->end > r->start && memchr(r->buf + r->start, '\n', r->end - r->start)))
		return 0;
	struct pollfd p = {.fd = r->fd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

void wsi_lines_free(wsi_lines *r)
{
	free(r->buf);
	r->buf = NULL;
}
