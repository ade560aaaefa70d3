/* http.c - every request the tools make goes through here. */
#include "http.h"
#include <stdarg.h>
#include "timeutil.h"
#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct wsi_http {
	CURL *curl;
	struct curl_slist *headers;
	wsi_http_opts o;
	long requests;
	int unknown;
};

struct buf {
	char *p;
	size_t len, cap, max;
	int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->len + n > b->max) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = 0;
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	/* A new status line starts a new response (after a redirect or 100-continue). */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		b->len = 0;
	if (b->len + n + 1 > 65536)
		return n; /* ignore absurd header blocks beyond 64 KiB */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = 0;
	return n;
}

int wsi_http_opts_conf(const wsi_config *c, const char *section, wsi_http_opts *o, wsi_error *e)
{
	long timeout, retries, maxr;
	int verify;
	if (wsi_conf_int(c, section, "timeout", 60, 1, 3600, &timeout, e) ||
	    wsi_conf_int(c, section, "retries", 3, 0, 20, &retries, e) ||
	    wsi_conf_int(c, section, "max_response", WSI_HTTP_MAX_RESPONSE, 1024, 1L << 30, &maxr, e) ||
	    wsi_conf_bool(c, section, "tls_verify", 1, &verify, e))
		return -1;
	o->timeout = timeout;
	o->retries = (int)retries;
	o->verify = verify;
	o->max_response = (size_t)maxr;
	o->ca_file = wsi_conf(c, section, "ca_file", NULL);
	return 0;
}

wsi_http *wsi_http_new(const wsi_http_opts *o, wsi_error *e)
{
	static int inited;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			wsi_fail(e, WSI_EXIT_LOCAL, "cannot initialise libcurl");
			return NULL;
		}
		inited = 1;
	}
	wsi_http *h = calloc(1, sizeof *h);
	if (!h || !(h->curl = curl_easy_init())) {
		free(h);
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	h->o = *o;
	if (h->o.timeout <= 0)
		h->o.timeout = 60;
	if (h->o.connect_timeout <= 0)
		h->o.connect_timeout = 10;
	if (h->o.retries < 0)
		h->o.retries = 0;
	if (!h->o.max_response)
		h->o.max_response = 64u << 20;
	return h;
}

void wsi_http_free(wsi_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h);
}

int wsi_http_header(wsi_http *h, const char *header)
{
	struct curl_slist *n = curl_slist_append(h->headers, header);
	if (!n)
		return -1;
	h->headers = n;
	return 0;
}

long wsi_http_requests(const wsi_http *h) { return h->requests; }
int wsi_http_outcome_unknown(const wsi_http *h) { return h->unknown; }

void wsi_response_free(wsi_response *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

const char *wsi_response_header(const wsi_response *r, const char *name, char *buf, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = r->headers; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = ll - (size_t)(v - p);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= n)
				vl = n - 1;
			memcpy(buf, v, vl);
			buf[vl] = 0;
			return buf;
		}
		p = eol ? eol + 1 : p + ll;
	}
	return NULL;
}

const char *wsi_link_next(const char *link, char *buf, size_t n)
{
	/* <url>; rel="prev", <url>; rel="next" */
	const char *p = link;
	while (p && (p = strchr(p, '<'))) {
		const char *end = strchr(p, '>');
		if (!end)
			return NULL;
		const char *params = end + 1, *stop = strchr(params, '<');
		size_t plen = stop ? (size_t)(stop - params) : strlen(params);
		const char *rel = NULL;
		for (const char *q = params; q && q < params + plen; q++)
			if (strncmp(q, "rel=\"next\"", 10) == 0 || strncmp(q, "rel=next", 8) == 0) {
				rel = q;
				break;
			}
		if (rel) {
			size_t ul = (size_t)(end - p - 1);
			if (ul >= n)
				return NULL;
			memcpy(buf, p + 1, ul);
			buf[ul] = 0;
			return buf;
		}
		p = end;
	}
	return NULL;
}

char *wsi_url_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = 0;
	return out;
}

const char *wsi_body_excerpt(const char *body, size_t len, char *buf, size_t n)
{
	size_t o = 0;
	int space = 0;
	for (size_t i = 0; i < len && o + 4 < n; i++) {
		unsigned char c = (unsigned char)body[i];
		if (isspace(c)) {
			space = 1;
			continue;
		}
		if (space && o)
			buf[o++] = ' ';
		space = 0;
		buf[o++] = (c < 32 || c == 127) ? '?' : (char)c;
	}
	if (o + 4 >= n && o >= 3) {
		buf[o - 3] = buf[o - 2] = buf[o - 1] = '.';
	}
	buf[o] = 0;
	return buf;
}

const char *wsi_url_short(const char *url, char *buf, size_t n)
{
	snprintf(buf, n, "%s", url);
	char *q = strchr(buf, '?');
	if (q)
		*q = 0;
	return buf;
}

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/* Seconds to wait from a Retry-After header: a number ("2.0") or an HTTP date. */
static double retry_after(const wsi_response *r)
{
	char v[64];
	if (!wsi_response_header(r, "Retry-After", v, sizeof v))
		return 1;
	char *end;
	double s = strtod(v, &end); /* a delay, not money */
	if (end != v && s >= 0)
		return s > 120 ? 120 : s;
	int64_t t;
	if (wsi_time_parse_http(v, &t) == 0) {
		int64_t d = t - wsi_now();
		return d < 0 ? 0 : d > 120 ? 120 : (double)d;
	}
	return 1;
}

static wsi_say_fn say_fn;
static void *say_ud;

void wsi_http_on_say(wsi_say_fn fn, void *ud)
{
	say_fn = fn;
	say_ud = ud;
}

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	if (!say_fn)
		return;
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	say_fn(say_ud, level, msg);
}

/* One attempt's options: the connection's TLS and limits, the method, body and headers. */
static void setup(wsi_http *h, const char *method, const char *url, const char *body, int idempotent, struct buf *b,
		  struct buf *hb, char *errbuf)
{
	CURL *c = h->curl;
	curl_easy_reset(c);
	errbuf[0] = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, h->o.timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->o.verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->o.verify ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (h->o.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, h->o.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, h->o.password ? h->o.password : "");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wsi/1.0");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_response);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hb);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	/* libcurl silently resends a request whose reused connection died before an answer:
	 * for a request that is not idempotent that could make a second Sage order. */
	if (!idempotent)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
}

int wsi_http_request(wsi_http *h, const char *method, const char *url, const char *body,
		     int idempotent, wsi_response *r, wsi_error *e)
{
	char shown[512], errbuf[CURL_ERROR_SIZE];
	double backoff = 0.5;
	memset(r, 0, sizeof *r);
	h->unknown = 0;
	wsi_url_short(url, shown, sizeof shown);
	for (int attempt = 0;; attempt++) {
		struct buf b = {.max = h->o.max_response}, hb = {0};
		CURL *c = h->curl;
		setup(h, method, url, body, idempotent, &b, &hb, errbuf);
		say(WSI_SAY_DEBUG, "%s %s", method, url);
		h->requests++;
		CURLcode rc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		double secs = 0;
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
		if (rc == CURLE_OK) {
			if (!b.p && !(b.p = calloc(1, 1))) {
				free(hb.p);
				return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
			}
			r->status = status;
			r->body = b.p;
			r->len = b.len;
			r->headers = hb.p;
			r->seconds = secs;
			int again = attempt < h->o.retries &&
				    (status == 429 || status == 503 || (idempotent && status >= 500));
			if (!again)
				return 0;
			double wait = status == 429 ? retry_after(r) : backoff;
			say(WSI_SAY_INFO, "%s %s: HTTP %ld, trying again in %.1f s", method, shown, status, wait);
			wsi_response_free(r);
			sleep_seconds(wait);
			backoff *= 2;
			continue;
		}
		free(b.p);
		free(hb.p);
		if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			return wsi_fail(e, WSI_EXIT_REMOTE, "%s %s: the answer is larger than the %zu-byte limit",
					method, shown, h->o.max_response);
		/* Did the request surely not take effect? Only if we never got connected. */
		int not_sent = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
			       rc == CURLE_COULDNT_RESOLVE_PROXY ||
			       (rc == CURLE_OPERATION_TIMEDOUT && status == 0 &&
				strstr(errbuf, "onnect") != NULL);
		int tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
			  rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
		if (!tls && attempt < h->o.retries && (not_sent || idempotent)) {
			say(WSI_SAY_INFO, "%s %s: %s, trying again in %.1f s", method, shown,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc), backoff);
			sleep_seconds(backoff);
			backoff *= 2;
			continue;
		}
		h->unknown = !not_sent && !tls;
		return wsi_fail(e, tls ? WSI_EXIT_CONFIG : WSI_EXIT_REMOTE, "%s %s: %s%s", method, shown,
				errbuf[0] ? errbuf : curl_easy_strerror(rc),
				tls ? " (TLS could not be verified: check the URL, or set ca_file)" :
				not_sent ? "" : (idempotent ? "" : " (the outcome is unknown)"));
	}
}
