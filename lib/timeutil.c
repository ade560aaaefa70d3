/* timeutil.c - calendar arithmetic without the C library's time zone state. */
#include "timeutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar. */
int64_t wsi_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int num(const char **p, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += width;
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int wsi_time_parse(const char *s, int64_t *epoch)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	if (!s || num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' || num(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (num(&p, 2, &h) || *p++ != ':' || num(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (num(&p, 2, &se))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
			if (num(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (*p && num(&p, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p)
		return -1;
	*epoch = wsi_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	return 0;
}

static char *fmt(int64_t t, char *buf, size_t n, const char *zone)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%04d-%02u-%02uT%02d:%02d:%02d%s", y, m, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60), zone);
	return buf;
}

char *wsi_time_fmt(int64_t t, char *buf, size_t n) { return fmt(t, buf, n, "Z"); }
char *wsi_time_fmt_naive(int64_t t, char *buf, size_t n) { return fmt(t, buf, n, ""); }

int wsi_time_parse_http(const char *s, int64_t *epoch)
{
	static const char *mons = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wd[4], mon[4], zone[4];
	int d, y, h, mi, se;
	if (!s || sscanf(s, "%3[A-Za-z], %d %3s %d %d:%d:%d %3s", wd, &d, mon, &y, &h, &mi, &se, zone) != 8)
		return -1;
	const char *mp = strstr(mons, mon);
	if (!mp || strlen(mon) != 3 || (mp - mons) % 3 || d < 1 || d > 31 || y < 1 || y > 9999 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	*epoch = wsi_days_from_civil(y, (unsigned)((mp - mons) / 3 + 1), (unsigned)d) * 86400 + h * 3600 +
		 mi * 60 + se;
	return 0;
}

int64_t wsi_now(void)
{
	const char *e = getenv("WSI_NOW");
	int64_t t;
	if (e && wsi_time_parse(e, &t) == 0)
		return t;
	return (int64_t)time(NULL);
}
