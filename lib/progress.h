/* progress.h - a progress line on stderr for long runs, only when stderr is a terminal. */
#ifndef WSI_PROGRESS_H
#define WSI_PROGRESS_H

/* Show "wsi-TOOL: DONE/TOTAL WHAT, RATE/s, N s left" (TOTAL <= 0: unknown), at most a few
 * times a second, after the run has taken a second; nothing unless stderr is a terminal. */
void wsi_progress(const char *what, long done, long total);
/* End the progress line, if one was shown. */
void wsi_progress_done(void);

#endif
