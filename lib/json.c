/* json.c - jansson with exact numbers, plus a scanner that finds raw spans without parsing. */
#include "json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t wsi_json_ws(const char *s, size_t n, size_t pos)
{
	while (pos < n && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
		pos++;
	return pos;
}

static int skip_string(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos + 1;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"') {
			*pos = i + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		i += c == '\\' ? 2 : 1;
	}
	return -1;
}

int wsi_json_skip(const char *s, size_t n, size_t *pos)
{
	size_t i = wsi_json_ws(s, n, *pos);
	int depth = 0;
	/* Iterative: a hostile nesting depth costs nothing but time. */
	for (;;) {
		i = wsi_json_ws(s, n, i);
		if (i >= n)
			return -1;
		char c = s[i];
		if (c == '"') {
			if (skip_string(s, n, &i))
				return -1;
		} else if (c == '{' || c == '[') {
			depth++;
			i++;
			i = wsi_json_ws(s, n, i);
			if (i < n && (s[i] == '}' || s[i] == ']')) {
				depth--;
				i++;
			} else {
				continue;
			}
		} else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
			size_t st = i;
			while (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
					 (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
				i++;
			if (i == st)
				return -1;
		} else {
			return -1;
		}
		/* after a value */
		for (;;) {
			i = wsi_json_ws(s, n, i);
			if (depth == 0) {
				*pos = i;
				return 0;
			}
			if (i >= n)
				return -1;
			if (s[i] == ',') { /* next: a value, or an object's key (then ':') */
				i++;
				break;
			}
			if (s[i] == '}' || s[i] == ']') {
				depth--;
				i++;
				continue;
			}
			if (s[i] == ':') { /* first member of an object: we skipped the key as a value */
				i++;
				break;
			}
			return -1;
		}
	}
}

int wsi_json_members(const char *s, size_t n, wsi_json_member_fn fn, void *ud)
{
	size_t i = wsi_json_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return -1;
	i = wsi_json_ws(s, n, i + 1);
	if (i < n && s[i] == '}')
		return 0;
	for (;;) {
		if (i >= n || s[i] != '"')
			return -1;
		size_t ks = i;
		if (skip_string(s, n, &i))
			return -1;
		size_t ke = i;
		i = wsi_json_ws(s, n, i);
		if (i >= n || s[i] != ':')
			return -1;
		size_t vs = wsi_json_ws(s, n, i + 1), ve = vs;
		if (wsi_json_skip(s, n, &ve))
			return -1;
		size_t vend = ve;
		while (vend > vs && (s[vend - 1] == ' ' || s[vend - 1] == '\n' || s[vend - 1] == '\r' || s[vend - 1] == '\t'))
			vend--;
		if (fn(ud, s + ks + 1, ke - ks - 2, s + vs, vend - vs))
			return 0;
		i = ve;
		if (i < n && s[i] == ',') {
			i = wsi_json_ws(s, n, i + 1);
			continue;
		}
		if (i < n && s[i] == '}')
			return 0;
		return -1;
	}
}

int wsi_json_items(const char *s, size_t n, wsi_json_item_fn fn, void *ud)
{
	size_t i = wsi_json_ws(s, n, 0);
	if (i >= n || s[i] != '[')
		return -1;
	i = wsi_json_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		return 0;
	for (;;) {
		size_t vs = i, ve = i;
		if (wsi_json_skip(s, n, &ve))
			return -1;
		size_t vend = ve;
		while (vend > vs && (s[vend - 1] == ' ' || s[vend - 1] == '\n' || s[vend - 1] == '\r' || s[vend - 1] == '\t'))
			vend--;
		if (fn(ud, s + vs, vend - vs))
			return 0;
		i = ve;
		if (i < n && s[i] == ',') {
			i = wsi_json_ws(s, n, i + 1);
			continue;
		}
		if (i < n && s[i] == ']')
			return 0;
		return -1;
	}
}

/* Copy buf with every non-integer number token wrapped in quotes. */
static char *quote_reals(const char *s, size_t n, size_t *outlen)
{
	size_t reals = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			reals++;
	char *o = malloc(n + 2 * reals + 1);
	if (!o)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n;) {
		char c = s[i];
		if (c == '"') {
			size_t k = i + 1;
			while (k < n && s[k] != '"')
				k += s[k] == '\\' ? 2 : 1;
			if (k >= n)
				k = n - 1;
			memcpy(o + j, s + i, k - i + 1);
			j += k - i + 1;
			i = k + 1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t k = i;
			int real = 0;
			while (k < n && (s[k] == '-' || s[k] == '+' || s[k] == '.' || s[k] == 'e' || s[k] == 'E' ||
					 (s[k] >= '0' && s[k] <= '9'))) {
				if (s[k] == '.' || s[k] == 'e' || s[k] == 'E')
					real = 1;
				k++;
			}
			if (real)
				o[j++] = '"';
			memcpy(o + j, s + i, k - i);
			j += k - i;
			if (real)
				o[j++] = '"';
			i = k;
		} else {
			o[j++] = c;
			i++;
		}
	}
	o[j] = 0;
	*outlen = j;
	return o;
}

json_t *wsi_json_parse(const char *buf, size_t len, const char *where, wsi_error *e)
{
	size_t qlen;
	json_error_t je;
	char *q = quote_reals(buf, len, &qlen);
	if (!q) {
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	json_t *v = json_loadb(q, qlen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	free(q);
	if (!v)
		wsi_fail(e, WSI_EXIT_REMOTE, "%s: not valid JSON: %s (near byte %d)", where, je.text,
			 je.position);
	return v;
}

const char *wsi_jstr(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *wsi_jtext(const json_t *o, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

int wsi_jdec(const json_t *o, const char *key, wsi_dec dflt, wsi_dec *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		*out = dflt;
		return 1;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i > 9000000000000LL || i < -9000000000000LL)
			return -1;
		*out = wsi_dec_int(i);
		return 0;
	}
	if (json_is_string(v))
		return wsi_dec_parse(json_string_value(v), json_string_length(v), out) ? -1 : 0;
	return -1;
}

int wsi_jset_dec(json_t *o, const char *key, wsi_dec d)
{
	char b[40];
	return json_object_set_new(o, key, json_string(wsi_dec_str(d, 2, b, sizeof b)));
}

char *wsi_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* A number travels as a string that starts with a NUL: no string parsed from outside can
 * hold one (jansson refuses \u0000 without JSON_ALLOW_NUL), so none can pass for a number. */
json_t *wsi_json_number(wsi_dec d, int places)
{
	char b[48], t[52];
	wsi_dec_fmt(d, places, b, sizeof b);
	t[0] = 0;
	t[1] = '#';
	size_t n = strlen(b);
	memcpy(t + 2, b, n);
	return json_stringn(t, n + 2);
}

char *wsi_json_dump_exact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	/* "\u0000#12.34" -> 12.34 */
	static const char pat[] = "\"\\u0000#";
	char *o = s, *p = s;
	while (*p) {
		if (strncmp(p, pat, sizeof pat - 1) == 0) {
			p += sizeof pat - 1;
			while (*p && *p != '"')
				*o++ = *p++;
			if (*p == '"')
				p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return s;
}
