/* timeutil.h - ISO 8601 / RFC 3339 times to UTC seconds and back. */
#ifndef WSI_TIMEUTIL_H
#define WSI_TIMEUTIL_H
#include <stddef.h>
#include <stdint.h>

/* Parse "2024-05-14T09:23:45-04:00", "…Z", "…+0530", "2017-03-22T19:28:08" (no zone:
 * taken as UTC, as WooCommerce's *_gmt fields are), fractions of a second dropped,
 * "2024-05-14 09:23:45" and a bare "2024-05-14" too. Returns 0 or -1. */
int wsi_time_parse(const char *s, int64_t *epoch);
/* Format as RFC 3339 UTC: "2024-05-14T13:23:45Z" (buf of at least 21 bytes). */
char *wsi_time_fmt(int64_t epoch, char *buf, size_t n);
/* The same without the Z, as WooCommerce wants naive UTC with dates_are_gmt. */
char *wsi_time_fmt_naive(int64_t epoch, char *buf, size_t n);
/* Parse an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"). Returns 0 or -1. */
int wsi_time_parse_http(const char *s, int64_t *epoch);
/* Now, in UTC seconds ($WSI_NOW overrides it, for tests). */
int64_t wsi_now(void);
/* Days since 1970-01-01 of a civil date, and back. */
int64_t wsi_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
