/* progress.c - rate and time left, redrawn in place. */
#include "progress.h"
#include "msg.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double start, last;
static int shown, tty = -1;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wsi_progress(const char *what, long done, long total)
{
	if (tty < 0)
		tty = isatty(STDERR_FILENO) && wsi_verbosity() >= 0;
	if (!tty)
		return;
	double t = now();
	if (start == 0)
		start = t;
	if (t - start < 1.0 || t - last < 0.25)
		return;
	last = t;
	double rate = done / (t - start);
	if (total > 0 && rate > 0)
		fprintf(stderr, "\r%s: %ld/%ld %s, %.0f/s, %.0f s left   ", wsi_prog(), done, total, what, rate,
			(double)(total - done) / rate);
	else
		fprintf(stderr, "\r%s: %ld %s, %.0f/s   ", wsi_prog(), done, what, rate);
	shown = 1;
}

void wsi_progress_done(void)
{
	if (shown)
		fputc('\n', stderr);
	shown = 0;
	start = last = 0;
}
