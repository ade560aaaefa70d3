/* lines.h - reading input a line at a time, and knowing when the next line would make us wait
 * (a tool then commits what it holds, so no lock is kept while a pipe is slow). */
#ifndef WSI_LINES_H
#define WSI_LINES_H
#include <stddef.h>

typedef struct wsi_lines {
	int fd;
	char *buf;
	size_t cap, start, end;
	int eof;
	long lineno;  /* of the line last returned */
} wsi_lines;

void wsi_lines_init(wsi_lines *r, int fd);
/* 1 with the next line (its newline and CR removed; NUL-terminated, valid until the next call),
 * 0 at the end of input, -1 on a read error (errno set) or out of memory (ENOMEM). */
int wsi_lines_next(wsi_lines *r, char **line, size_t *len);
/* Would the next wsi_lines_next wait for input to arrive? */
int wsi_lines_would_wait(const wsi_lines *r);
void wsi_lines_free(wsi_lines *r);

#endif
