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

/* A fast reader of the common case. It builds what quote_reals + json_loadb (JSON_DECODE_ANY |
 * JSON_REJECT_DUPLICATES) would, value for value and member order for member order, or gives up
 * (NULL) on anything it is not sure of (an error, \u0000, a duplicate key, a deep nesting, a long
 * integer): jansson then reads the input and has the last word, error message included. */
struct fast {
	const char *s;
	size_t n, i;
	int depth;
	const char *lazy; /* the top-level member whose array's elements are kept as raw text (or dropped) */
	int keep;
};

static json_t *fast_lazy_array(struct fast *f);

static json_t *fast_value(struct fast *f);

static void fast_ws(struct fast *f)
{
	while (f->i < f->n && (f->s[f->i] == ' ' || f->s[f->i] == '\n' || f->s[f->i] == '\r' || f->s[f->i] == '\t'))
		f->i++;
}

/* Length of the valid UTF-8 sequence at p (as jansson checks it), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0], v;
	size_t k;
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		k = 2;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		k = 3;
		v = c & 0x0F;
	} else if (c < 0xF5) {
		k = 4;
		v = c & 0x07;
	} else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if ((k == 3 && v < 0x800) || (k == 4 && v < 0x10000) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	return k;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* The string at f->i (its opening quote), decoded into *out (malloc'd when escapes need it). */
static int fast_string(struct fast *f, const char **out, size_t *len, char **owned)
{
	size_t i = f->i + 1, st = i;
	*owned = NULL;
	for (;;) { /* the plain part: no escape */
		if (i >= f->n)
			return -1;
		unsigned char c = (unsigned char)f->s[i];
		if (c == '"') {
			*out = f->s + st;
			*len = i - st;
			f->i = i + 1;
			return 0;
		}
		if (c == '\\')
			break;
		if (c < 0x20)
			return -1;
		size_t k = c < 0x80 ? 1 : utf8_len((const unsigned char *)f->s + i, f->n - i);
		if (!k)
			return -1;
		i += k;
	}
	/* escapes: decode into a buffer no longer than the source */
	char *b = malloc(f->n - st + 1);
	if (!b)
		return -1;
	size_t o = i - st;
	memcpy(b, f->s + st, o);
	while (i < f->n) {
		unsigned char c = (unsigned char)f->s[i];
		if (c == '"') {
			*out = *owned = b;
			*len = o;
			f->i = i + 1;
			return 0;
		}
		if (c < 0x20)
			break;
		if (c != '\\') {
			size_t k = c < 0x80 ? 1 : utf8_len((const unsigned char *)f->s + i, f->n - i);
			if (!k)
				break;
			memcpy(b + o, f->s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (i + 1 >= f->n)
			break;
		char e = f->s[i + 1];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			b[o++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			i += 2;
			continue;
		}
		unsigned u, lo;
		if (e != 'u' || i + 6 > f->n || hex4(f->s + i + 2, &u) || u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
			break;
		i += 6;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 6 > f->n || f->s[i] != '\\' || f->s[i + 1] != 'u' || hex4(f->s + i + 2, &lo) || lo < 0xDC00 ||
			    lo > 0xDFFF)
				break;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
		/* UTF-8 of u: never longer than the escape it came from */
		if (u < 0x80)
			b[o++] = (char)u;
		else if (u < 0x800) {
			b[o++] = (char)(0xC0 | (u >> 6));
			b[o++] = (char)(0x80 | (u & 0x3F));
		} else if (u < 0x10000) {
			b[o++] = (char)(0xE0 | (u >> 12));
			b[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			b[o++] = (char)(0x80 | (u & 0x3F));
		} else {
			b[o++] = (char)(0xF0 | (u >> 18));
			b[o++] = (char)(0x80 | ((u >> 12) & 0x3F));
			b[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			b[o++] = (char)(0x80 | (u & 0x3F));
		}
	}
	free(b);
	return -1;
}

static json_t *fast_number(struct fast *f)
{
	size_t st = f->i, i = st;
	int real = 0;
	/* the run quote_reals takes as one token */
	while (i < f->n && (f->s[i] == '-' || f->s[i] == '+' || f->s[i] == '.' || f->s[i] == 'e' || f->s[i] == 'E' ||
			    (f->s[i] >= '0' && f->s[i] <= '9'))) {
		real |= f->s[i] == '.' || f->s[i] == 'e' || f->s[i] == 'E';
		i++;
	}
	f->i = i;
	if (real) /* its exact text, as a string (quote_reals) */
		return json_stringn_nocheck(f->s + st, i - st);
	size_t d = st + (f->s[st] == '-');
	if (d >= i || i - d > 18 || (f->s[d] == '0' && i - d > 1))
		return NULL;
	json_int_t v = 0;
	for (size_t k = d; k < i; k++) {
		if (f->s[k] < '0' || f->s[k] > '9')
			return NULL;
		v = v * 10 + (f->s[k] - '0');
	}
	return json_integer(f->s[st] == '-' ? -v : v);
}

static json_t *fast_container(struct fast *f, int object)
{
	json_t *c = object ? json_object() : json_array();
	if (!c || ++f->depth > 512)
		goto fail;
	f->i++;
	fast_ws(f);
	if (f->i < f->n && f->s[f->i] == (object ? '}' : ']')) {
		f->i++;
		f->depth--;
		return c;
	}
	for (;;) {
		fast_ws(f);
		if (object) {
			const char *k;
			size_t kl;
			char *owned, key[256], *kp;
			if (f->i >= f->n || f->s[f->i] != '"' || fast_string(f, &k, &kl, &owned))
				goto fail;
			kp = kl < sizeof key ? key : malloc(kl + 1);
			if (kp) {
				memcpy(kp, k, kl);
				kp[kl] = 0;
			}
			free(owned);
			/* a NUL in a key, or a key seen before: jansson decides */
			int bad = !kp || strlen(kp) != kl || json_object_get(c, kp);
			fast_ws(f);
			json_t *v = NULL;
			if (!bad && f->i < f->n && f->s[f->i] == ':') {
				f->i++;
				fast_ws(f);
				if (f->lazy && f->depth == 1 && !strcmp(kp, f->lazy) && f->i < f->n && f->s[f->i] == '[')
					v = fast_lazy_array(f);
				else
					v = fast_value(f);
			}
			int rc = v ? json_object_set_new_nocheck(c, kp, v) : -1;
			if (kp != key)
				free(kp);
			if (rc)
				goto fail;
		} else {
			json_t *v = fast_value(f);
			if (!v || json_array_append_new(c, v))
				goto fail;
		}
		fast_ws(f);
		if (f->i >= f->n)
			goto fail;
		if (f->s[f->i] == ',') {
			f->i++;
			continue;
		}
		if (f->s[f->i] == (object ? '}' : ']')) {
			f->i++;
			f->depth--;
			return c;
		}
		goto fail;
	}
fail:
	json_decref(c);
	return NULL;
}

static json_t *fast_value(struct fast *f)
{
	if (f->i >= f->n)
		return NULL;
	char c = f->s[f->i];
	if (c == '{' || c == '[')
		return fast_container(f, c == '{');
	if (c == '"') {
		const char *p;
		size_t l;
		char *owned;
		if (fast_string(f, &p, &l, &owned))
			return NULL;
		json_t *v = memchr(p, 0, l) ? NULL : json_stringn_nocheck(p, l);
		free(owned);
		return v;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return fast_number(f);
	static const struct { const char *word; size_t n; } lit[] = {{"true", 4}, {"false", 5}, {"null", 4}};
	for (size_t k = 0; k < 3; k++)
		if (f->n - f->i >= lit[k].n && !memcmp(f->s + f->i, lit[k].word, lit[k].n)) {
			f->i += lit[k].n;
			return k == 0 ? json_true() : k == 1 ? json_false() : json_null();
		}
	return NULL;
}

/* The elements of the lazy member's array, each as raw text (wsi_json_raw) or none: skipped over. */
static json_t *fast_lazy_array(struct fast *f)
{
	json_t *a = json_array();
	f->i++;
	fast_ws(f);
	if (a && f->i < f->n && f->s[f->i] == ']') {
		f->i++;
		return a;
	}
	while (a) {
		fast_ws(f);
		size_t at = f->i;
		json_t *kept = NULL;
		if (wsi_json_skip(f->s, f->n, &f->i))
			break;
		if (f->keep == WSI_LAZY_SPAN && f->i - at < WSI_SPAN_MAX_LEN)
			kept = json_integer((json_int_t)at * WSI_SPAN_MAX_LEN + (json_int_t)(f->i - at));
		else if (f->keep == WSI_LAZY_SPAN)
			break; /* a span too long to note: read whole */
		else if (f->keep)
			kept = wsi_json_raw(f->s + at, f->i - at);
		if (f->keep && json_array_append_new(a, kept))
			break;
		fast_ws(f);
		if (f->i < f->n && f->s[f->i] == ',') {
			f->i++;
			continue;
		}
		if (f->i < f->n && f->s[f->i] == ']') {
			f->i++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

json_t *wsi_json_parse_lazy(const char *buf, size_t len, const char *key, int keep)
{
	struct fast f = {buf, len, 0, 0, key, keep};
	fast_ws(&f);
	json_t *v = f.i < len && buf[f.i] == '{' ? fast_value(&f) : NULL;
	fast_ws(&f);
	if (v && f.i != len) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* A raw JSON text travels as a string that starts with a NUL and 'J' (as wsi_json_number's): no
 * string read from outside can hold one. */
json_t *wsi_json_raw(const char *text, size_t len)
{
	char *t = malloc(len + 2);
	if (!t)
		return NULL;
	t[0] = 0;
	t[1] = 'J';
	memcpy(t + 2, text, len);
	json_t *v = json_stringn_nocheck(t, len + 2);
	free(t);
	return v;
}

const char *wsi_json_raw_text(const json_t *v, size_t *len)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (!s || n < 2 || s[0] || s[1] != 'J')
		return NULL;
	*len = n - 2;
	return s + 2;
}

json_t *wsi_json_span_read(const json_t *v, const char *text, size_t len)
{
	json_int_t x = json_integer_value(v);
	size_t at = (size_t)(x / WSI_SPAN_MAX_LEN), n = (size_t)(x % WSI_SPAN_MAX_LEN);
	wsi_error e = {0};
	if (!json_is_integer(v) || x < 0 || at > len || n > len - at)
		return NULL;
	return wsi_json_parse(text + at, n, "an element", &e);
}

json_t *wsi_json_elem(const json_t *arr, size_t i)
{
	const json_t *v = json_array_get(arr, i);
	size_t len;
	const char *text = wsi_json_raw_text(v, &len);
	if (!text)
		return json_incref((json_t *)v);
	wsi_error e = {0};
	return wsi_json_parse(text, len, "an element", &e);
}

json_t *wsi_json_parse_fast(const char *buf, size_t len)
{
	struct fast f = {buf, len, 0, 0, NULL, 0};
	fast_ws(&f);
	json_t *v = fast_value(&f);
	fast_ws(&f);
	if (v && f.i != len) { /* more after the value: jansson says what */
		json_decref(v);
		v = NULL;
	}
	return v;
}

json_t *wsi_json_parse(const char *buf, size_t len, const char *where, wsi_error *e)
{
	json_t *fast = wsi_json_parse_fast(buf, len);
	return fast ? fast : wsi_json_parse_jansson(buf, len, where, e);
}

json_t *wsi_json_parse_jansson(const char *buf, size_t len, const char *where, wsi_error *e)
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
	/* "\u0000#12.34" -> 12.34; "\u0000J{\"a\":1}" -> {"a":1} (the raw text, unescaped: it only
	 * ever shrinks, so in place) */
	static const char num[] = "\"\\u0000#", raw[] = "\"\\u0000J";
	char *o = s, *p = s;
	while (*p) {
		if (strncmp(p, num, sizeof num - 1) == 0) {
			p += sizeof num - 1;
			while (*p && *p != '"')
				*o++ = *p++;
			if (*p == '"')
				p++;
		} else if (strncmp(p, raw, sizeof raw - 1) == 0) {
			p += sizeof raw - 1;
			while (*p && *p != '"') {
				if (*p != '\\') {
					*o++ = *p++;
					continue;
				}
				char c = p[1];
				unsigned u;
				if (c == 'u' && hex4(p + 2, &u) == 0 && u < 0x80) {
					*o++ = (char)u;
					p += 6;
				} else {
					static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
					const char *k = c ? strchr(from, c) : NULL;
					*o++ = k ? to[k - from] : c;
					p += c ? 2 : 1;
				}
			}
			if (*p == '"')
				p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return s;
}
