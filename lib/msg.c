/* msg.c - messages with the program's name, secrets redacted. */
#include "msg.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_SECRETS 8
static const char *prog = "wsi";
static int verbosity;
static char *secrets[MAX_SECRETS];
static int nsecrets;

void wsi_msg_init(const char *p)
{
	const char *slash = strrchr(p, '/');
	prog = slash ? slash + 1 : p;
	/* every tool starts here: no core dump may hold the secrets it reads */
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
}

const char *wsi_prog(void) { return prog; }

void wsi_say(void *ud, int level, const char *msg)
{
	(void)ud;
	if (level == WSI_SAY_ERROR)
		wsi_err("%s", msg);
	else if (level == WSI_SAY_WARNING)
		wsi_warn("%s", msg);
	else if (level == WSI_SAY_INFO)
		wsi_info("%s", msg);
	else
		wsi_debug("%s", msg);
}
void wsi_set_verbosity(int level) { verbosity = level; }
int wsi_verbosity(void) { return verbosity; }

void wsi_secret(const char *s)
{
	if (!s || strlen(s) < 3 || nsecrets == MAX_SECRETS)
		return;
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			return;
	secrets[nsecrets] = strdup(s);
	if (secrets[nsecrets])
		nsecrets++;
}

void wsi_redact(char *dst, size_t n, const char *src)
{
	size_t o = 0;
	if (n == 0)
		return;
	while (*src && o + 1 < n) {
		int hit = 0;
		for (int i = 0; i < nsecrets; i++) {
			size_t l = strlen(secrets[i]);
			if (strncmp(src, secrets[i], l) == 0) {
				for (const char *r = "***"; *r && o + 1 < n; r++)
					dst[o++] = *r;
				src += l;
				hit = 1;
				break;
			}
		}
		if (!hit)
			dst[o++] = *src++;
	}
	dst[o] = 0;
}

int wsi_fail(wsi_error *e, int status, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->status = status;
	}
	return -1;
}

static void say(const char *kind, const char *fmt, va_list ap)
{
	char raw[2048], clean[2048];
	vsnprintf(raw, sizeof raw, fmt, ap);
	wsi_redact(clean, sizeof clean, raw);
	fprintf(stderr, "%s: %s%s\n", prog, kind, clean);
}

void wsi_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

void wsi_note(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

void wsi_warn(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	say("warning: ", fmt, ap);
	va_end(ap);
}

void wsi_info(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

void wsi_debug(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

int wsi_report(const wsi_error *e)
{
	wsi_err("%s", e->msg);
	return e->status ? e->status : WSI_EXIT_LOCAL;
}

void wsi_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
	exit(status);
}

int wsi_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		wsi_err("cannot write standard output: %s", strerror(errno ? errno : EIO));
		return WSI_EXIT_LOCAL;
	}
	return 0;
}
