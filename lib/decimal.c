/* decimal.c - parsing and printing fixed-point decimals without floating point. */
#include "decimal.h"
#include <stdio.h>
#include <string.h>

#define DEC_MAX 9000000000000LL /* 9e12 whole units: far beyond any order, far below INT64_MAX/1e6 */

int wsi_dec_parse(const char *s, size_t n, wsi_dec *out)
{
	size_t i = 0;
	int neg = 0, digits = 0, frac = 0, exp = 0;
	__int128 v = 0;
	int dropped_nonzero = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		v = v * 10 + (s[i] - '0');
		if (v > (__int128)DEC_MAX * WSI_DEC_ONE)
			return -1;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			if (frac < 18) {
				v = v * 10 + (s[i] - '0');
				frac++;
			} else if (s[i] != '0') {
				dropped_nonzero = 1;
			}
		}
	}
	if (digits == 0)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0, edigits = 0;
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edigits++)
			if (exp < 100)
				exp = exp * 10 + (s[i] - '0');
		if (edigits == 0)
			return -1;
		if (eneg)
			exp = -exp;
	}
	if (i != n || dropped_nonzero)
		return -1;
	/* value = v * 10^(exp - frac); we want v * 10^(exp - frac + 6) */
	int shift = exp - frac + WSI_DEC_SCALE;
	for (; shift > 0; shift--) {
		v *= 10;
		if (v > (__int128)DEC_MAX * WSI_DEC_ONE)
			return -1;
	}
	for (; shift < 0; shift++) {
		if (v % 10 != 0)
			return -1; /* more precision than 6 decimals */
		v /= 10;
	}
	if (v > (__int128)DEC_MAX * WSI_DEC_ONE)
		return -1;
	out->v = (int64_t)(neg ? -v : v);
	return 0;
}

wsi_dec wsi_dec_round(wsi_dec d, int places)
{
	int64_t unit = 1;
	if (places < 0)
		places = 0;
	for (int i = places; i < WSI_DEC_SCALE; i++)
		unit *= 10;
	if (unit == 1)
		return d;
	int64_t a = d.v < 0 ? -d.v : d.v;
	a = (a + unit / 2) / unit * unit;
	return (wsi_dec){d.v < 0 ? -a : a};
}

char *wsi_dec_fmt(wsi_dec d, int places, char *buf, size_t n)
{
	if (places < 0)
		places = 0;
	if (places > WSI_DEC_SCALE)
		places = WSI_DEC_SCALE;
	d = wsi_dec_round(d, places);
	/* digits right to left: the staging of many orders formats many amounts */
	char tmp[40];
	int i = (int)sizeof tmp;
	uint64_t a = d.v < 0 ? (uint64_t)(-(d.v + 1)) + 1 : (uint64_t)d.v;
	for (int k = 0; k < WSI_DEC_SCALE; k++, a /= 10)
		if (k >= WSI_DEC_SCALE - places)
			tmp[--i] = (char)('0' + a % 10);
	if (places)
		tmp[--i] = '.';
	do {
		tmp[--i] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	if (d.v < 0)
		tmp[--i] = '-';
	size_t len = sizeof tmp - (size_t)i;
	if (len >= n)
		len = n ? n - 1 : 0;
	memcpy(buf, tmp + i, len);
	if (n)
		buf[len] = 0;
	return buf;
}

char *wsi_dec_str(wsi_dec d, int min_places, char *buf, size_t n)
{
	int places = WSI_DEC_SCALE;
	int64_t a = d.v < 0 ? -d.v : d.v;
	while (places > min_places && a % 10 == 0) {
		a /= 10;
		places--;
	}
	return wsi_dec_fmt(d, places, buf, n);
}

int wsi_dec_mul(wsi_dec a, wsi_dec b, wsi_dec *out)
{
	__int128 p = (__int128)a.v * b.v;
	int neg = p < 0;
	if (neg)
		p = -p;
	p = (p + WSI_DEC_ONE / 2) / WSI_DEC_ONE;
	if (p > (__int128)DEC_MAX * WSI_DEC_ONE)
		return -1;
	out->v = (int64_t)(neg ? -p : p);
	return 0;
}

int wsi_dec_div(wsi_dec a, wsi_dec b, wsi_dec *out)
{
	if (b.v == 0)
		return -1;
	__int128 num = (__int128)a.v * WSI_DEC_ONE;
	__int128 den = b.v;
	int neg = (num < 0) != (den < 0);
	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	__int128 q = (num + den / 2) / den;
	if (q > (__int128)DEC_MAX * WSI_DEC_ONE)
		return -1;
	out->v = (int64_t)(neg ? -q : q);
	return 0;
}
