/* msg.h - one voice for every tool: "wsi-TOOL: message" on stderr, one exit table. */
#ifndef WSI_MSG_H
#define WSI_MSG_H
#include <stdarg.h>
#include <stddef.h>

/* The exit status table, the same for every tool (wsi(7), EXIT STATUS). */
enum wsi_exit {
	WSI_EXIT_OK = 0,      /* all done */
	WSI_EXIT_ORDERS = 1,  /* the run worked, some orders could not go on */
	WSI_EXIT_USAGE = 2,   /* bad command line */
	WSI_EXIT_CONFIG = 3,  /* config, or credentials refused: a person must act */
	WSI_EXIT_REMOTE = 4,  /* the store or Sage unreachable or failing: try later */
	WSI_EXIT_LOCAL = 5,   /* database, disk, memory */
	WSI_EXIT_BUSY = 6     /* wsi-sync: another run holds the lock */
};

/* An error a library function returns: the exit status it calls for and a sentence. */
typedef struct wsi_error {
	int status;
	char msg[1024];
} wsi_error;

/* Fill *e (when not NULL) and return -1, so library code can `return wsi_fail(...)`. */
int wsi_fail(wsi_error *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the program name used as the message prefix ("wsi-fetch"). */
void wsi_msg_init(const char *prog);
const char *wsi_prog(void);
/* 0 normal, -1 quiet (-q: errors only), 1 verbose (-v), 2 very verbose. */
void wsi_set_verbosity(int level);
int wsi_verbosity(void);
/* Remember a secret: every message replaces it with "***". */
void wsi_secret(const char *secret);
/* Copy src into dst (size n) with every registered secret replaced. */
void wsi_redact(char *dst, size_t n, const char *src);

void wsi_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wsi_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a person asked for, said unless -q: "3 orders sent back", a step's summary. */
void wsi_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wsi_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wsi_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a library module has to say goes through a callback the tool gives; this is the tool's
 * voice for it: level WSI_SAY_*, one sentence. */
enum { WSI_SAY_ERROR, WSI_SAY_WARNING, WSI_SAY_INFO, WSI_SAY_DEBUG };
typedef void (*wsi_say_fn)(void *ud, int level, const char *msg);
void wsi_say(void *ud, int level, const char *msg);
/* Print e->msg and return e->status. */
int wsi_report(const wsi_error *e);
/* Print a message and exit with status. */
void wsi_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Flush stdout and report a write error (full disk, closed pipe): returns 0 or WSI_EXIT_LOCAL. */
int wsi_close_stdout(void);

#endif
