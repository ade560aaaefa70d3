/* reasons.h - every reason code an order can wait for, in one table: what it means for the
 * order, and what fixes it. wsi-sync waiting, the man pages and the tests read it. */
#ifndef WSI_REASONS_H
#define WSI_REASONS_H
#include <stddef.h>

typedef struct wsi_reason_code {
	const char *code;
	int subject;       /* 1: about a subject (an item, a customer…), 0: about the order itself */
	const char *waits; /* after "N orders wait": what for; every %s is the subject */
	const char *fix;   /* what a person does; every %s is the subject */
} wsi_reason_code;

extern const wsi_reason_code wsi_reason_codes[];
extern const size_t wsi_reason_codes_n;

/* The entry for code (the one for a subject when subject is non-empty, if it has one); NULL if
 * the code is unknown. */
const wsi_reason_code *wsi_reason_code_find(const char *code, const char *subject);
/* tmpl with every %s replaced by subject, into buf (cut to n). Returns buf. */
char *wsi_reason_say(const char *tmpl, const char *subject, char *buf, size_t n);

#endif
