/* sage.c - every request to Sage: Basic auth, JSON both ways, Sage's errors in its words. */
#include "sage.h"
#include "timeutil.h"
#include "http.h"
#include "json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wsi_sage {
	char *url;      /* up to and including the company, no trailing slash */
	wsi_http_opts o;
	char *user, *password, *ca_file;
	wsi_http *http;
	char words[1024]; /* Sage's own words in its last error */
	int64_t clock;    /* Sage's Date in its last answer to a GET (0: none) */
};

const char *wsi_sage_words(const wsi_sage *s) { return s->words; }

int64_t wsi_sage_clock(const wsi_sage *s) { return s->clock; }

const char *wsi_sage_url(const wsi_sage *s) { return s->url; }
long wsi_sage_requests(const wsi_sage *s) { return wsi_http_requests(s->http); }

static wsi_sage *connect_sage(const char *url, const wsi_http_opts *o, wsi_error *e)
{
	wsi_sage *s = calloc(1, sizeof *s);
	if (!s || !(s->url = strdup(url))) {
		free(s);
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	s->o = *o;
	s->user = o->user ? strdup(o->user) : NULL;
	s->password = o->password ? strdup(o->password) : NULL;
	s->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
	s->o.user = s->user;
	s->o.password = s->password;
	s->o.ca_file = s->ca_file;
	if (!(s->http = wsi_http_new(&s->o, e))) {
		wsi_sage_close(s);
		return NULL;
	}
	/* Sage answers 500 to a request without this Content-Type, even a GET. */
	wsi_http_header(s->http, "Content-Type: application/json");
	wsi_http_header(s->http, "Accept: application/json");
	return s;
}

wsi_sage *wsi_sage_open(const wsi_config *c, wsi_error *e)
{
	const char *path = wsi_config_path(c);
	const char *url = wsi_conf(c, "sage", "url", NULL);
	const char *user = wsi_conf(c, "sage", "user", NULL);
	const char *pw = wsi_conf(c, "sage", "password", NULL);
	if (!url || !*url) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] url is missing (e.g. https://erp.example.com/Sage300WebApi/v1.0/-/SAMLTD)", path);
		return NULL;
	}
	if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] url must start with https:// or http://", wsi_conf_where(c, "sage", "url"));
		return NULL;
	}
	if (!user || !*user) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] user is missing (a Sage 300 user with Web API rights)", path);
		return NULL;
	}
	if (!pw) {
		wsi_fail(e, WSI_EXIT_CONFIG, "%s: [sage] password is missing (or set WSI_SAGE_PASSWORD)", path);
		return NULL;
	}
	wsi_http_opts o = {0};
	if (wsi_http_opts_conf(c, "sage", &o, e))
		return NULL;
	o.user = user;
	o.password = pw;
	char *u = strdup(url);
	if (!u) {
		wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		return NULL;
	}
	size_t ul = strlen(u);
	while (ul > 8 && u[ul - 1] == '/')
		u[--ul] = 0;
	wsi_sage *s = connect_sage(u, &o, e);
	free(u);
	return s;
}

wsi_sage *wsi_sage_clone(const wsi_sage *s, wsi_error *e)
{
	return connect_sage(s->url, &s->o, e);
}

void wsi_sage_close(wsi_sage *s)
{
	if (!s)
		return;
	wsi_http_free(s->http);
	free(s->url);
	free(s->user);
	free(s->password);
	free(s->ca_file);
	free(s);
}

char *wsi_odata_literal(const char *v)
{
	size_t n = strlen(v), q = 0;
	for (const char *p = v; *p; p++)
		q += *p == '\'';
	char *lit = malloc(n + q + 3), *o = lit;
	if (!lit)
		return NULL;
	*o++ = '\'';
	for (const char *p = v; *p; p++) {
		*o++ = *p;
		if (*p == '\'')
			*o++ = '\'';
	}
	*o++ = '\'';
	*o = 0;
	char *enc = wsi_url_encode(lit);
	free(lit);
	return enc;
}

/* Sage's own words from an error body, else an excerpt. */
static int sage_error(wsi_sage *s, const char *method, const char *shown, const wsi_response *r, int status, wsi_error *e)
{
	char ex[300];
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	json_t *err = json_object_get(j, "error");
	const char *code = wsi_jstr(err, "code");
	const char *msg = wsi_jstr(json_object_get(err, "message"), "value");
	if (!msg)
		msg = wsi_jstr(err, "message");
	char moved[400];
	if (!msg && r->status >= 300 && r->status <= 399) {
		/* a redirect is not Sage's answer: say where it points, never an empty reason */
		char loc[300] = "";
		if (!wsi_response_header(r, "Location", loc, sizeof loc))
			snprintf(loc, sizeof loc, "(none given)");
		snprintf(moved, sizeof moved, "redirected to %.300s: check [sage] url (https?, the right host and path)", loc);
		msg = moved;
	}
	if (!msg)
		msg = wsi_body_excerpt(r->body, r->len, ex, 200);
	if (!*msg)
		msg = "(an empty answer)";
	snprintf(s->words, sizeof s->words, "%s", msg);
	/* a company Sage cannot open is not a wrong password, though both come as 401 */
	char company[200];
	const char *slash = strrchr(s->url, '/');
	snprintf(company, sizeof company, " (Sage cannot open company %.60s: check the company, the last part of [sage] url)",
		 slash ? slash + 1 : s->url);
	int no_company = code && (!strcmp(code, "DBLinkError") || !strcmp(code, "SessionError"));
	const char *hint = no_company ? company
			   : r->status == 401 ? " (Sage refused the user or password: check [sage] user and password, "
					      "and that the user has Web API rights)"
			   : r->status == 403 ? " (the Sage user lacks Web API rights for this module)"
			   : r->status == 404 && !strcmp(method, "GET") ? " (check [sage] url: it ends with the company)"
			   : "";
	wsi_fail(e, status, "%s %s: HTTP %ld%s%s: %s%s", method, shown, r->status, code ? " " : "", code ? code : "",
		 msg, hint);
	json_decref(j);
	return -1;
}

int wsi_sage_each(wsi_sage *s, const char *path, wsi_sage_row_fn fn, void *ud, wsi_error *e)
{
	char *url = NULL, shown[600];
	if (asprintf(&url, "%s/%s", s->url, path) < 0)
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	int pages = 0;
	while (url) {
		wsi_response r;
		wsi_url_short(url, shown, sizeof shown);
		if (wsi_http_get(s->http, url, &r, e)) {
			free(url);
			return -1;
		}
		free(url);
		url = NULL;
		char date[64];
		int64_t t;
		if (wsi_response_header(&r, "Date", date, sizeof date) && wsi_time_parse_http(date, &t) == 0)
			s->clock = t;
		if (r.status < 200 || r.status > 299) {
			int st = r.status == 401 || r.status == 403 ? WSI_EXIT_CONFIG
				 : r.status == 404 ? WSI_EXIT_CONFIG : WSI_EXIT_REMOTE;
			sage_error(s, "GET", shown, &r, st, e);
			wsi_response_free(&r);
			return -1;
		}
		json_error_t je;
		json_t *j = wsi_json_parse(r.body, r.len, shown, e);
		wsi_response_free(&r);
		(void)je;
		json_t *value = json_object_get(j, "value");
		if (!json_is_array(value)) {
			json_decref(j);
			return wsi_fail(e, WSI_EXIT_REMOTE, "GET %s: the answer has no \"value\" list", shown);
		}
		size_t i;
		json_t *row;
		json_array_foreach(value, i, row) {
			if (fn(ud, row)) {
				json_decref(j);
				return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
			}
		}
		const char *next = wsi_jstr(j, "@odata.nextLink");
		if (next && ++pages < 100000) {
			/* follow only links below our own base URL */
			if (strncmp(next, s->url, strlen(s->url)) != 0) {
				char nb[200];
				json_decref(j);
				wsi_url_short(next, nb, sizeof nb);
				return wsi_fail(e, WSI_EXIT_REMOTE, "GET %s: the next page is elsewhere (%s): not followed", shown, nb);
			}
			url = strdup(next);
		}
		json_decref(j);
	}
	return 0;
}

int wsi_sage_lookup(wsi_sage *s, const char *resource, const char *field, const char *select,
		    const char *const *values, size_t n, wsi_sage_row_fn fn, void *ud, wsi_error *e)
{
	for (size_t i = 0; i < n; i += WSI_SAGE_BATCH) {
		size_t cap = 256, len = 0;
		char *q = malloc(cap);
		if (!q)
			return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
		len = (size_t)snprintf(q, cap, "%s?$filter=", resource);
		for (size_t k = i; k < n && k < i + WSI_SAGE_BATCH; k++) {
			char *lit = wsi_odata_literal(values[k]);
			if (!lit) {
				free(q);
				return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
			}
			size_t need = len + strlen(field) + strlen(lit) + 16;
			if (need >= cap) {
				while (cap <= need)
					cap *= 2;
				char *nq = realloc(q, cap);
				if (!nq) {
					free(q);
					free(lit);
					return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
				}
				q = nq;
			}
			len += (size_t)snprintf(q + len, cap - len, "%s%s%%20eq%%20%s", k > i ? "%20or%20" : "", field, lit);
			free(lit);
		}
		if (select) {
			char *nq = NULL;
			if (asprintf(&nq, "%s&$select=%s", q, select) < 0) {
				free(q);
				return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
			}
			free(q);
			q = nq;
		}
		int rc = wsi_sage_each(s, q, fn, ud, e);
		free(q);
		if (rc)
			return -1;
	}
	return 0;
}

int wsi_sage_post(wsi_sage *s, const char *path, const char *body, const char *number_field, json_t **out,
		  wsi_error *e)
{
	char *url = NULL, shown[600];
	wsi_response r;
	*out = NULL;
	if (asprintf(&url, "%s/%s", s->url, path) < 0)
		return wsi_fail(e, WSI_EXIT_LOCAL, "out of memory");
	wsi_url_short(url, shown, sizeof shown);
	int rc = wsi_http_request(s->http, "POST", url, body, 0, &r, e);
	free(url);
	if (rc)
		return wsi_http_outcome_unknown(s->http) ? WSI_SAGE_UNKNOWN : WSI_SAGE_FAILED;
	if (r.status >= 200 && r.status <= 299) {
		/* what was made, but its details: an order of 100,000 lines comes back whole */
		*out = wsi_json_parse_lazy(r.body, r.len, "OrderDetails", WSI_LAZY_DROP);
		if (!*out)
			*out = wsi_json_parse(r.body, r.len, shown, e);
		long status = r.status;
		wsi_response_free(&r);
		/* Sage saved it, but we cannot read what: as good as unknown, found by reference later. */
		if (!*out)
			return WSI_SAGE_UNKNOWN;
		json_t *num = json_object_get(*out, number_field);
		if ((json_is_string(num) && *json_string_value(num)) || (json_is_integer(num) && json_integer_value(num) > 0))
			return WSI_SAGE_CREATED;
		json_decref(*out);
		*out = NULL;
		wsi_fail(e, WSI_EXIT_REMOTE, "POST %s: HTTP %ld without %s: whether Sage saved it is found out by reference "
			 "on the next run", shown, status, number_field);
		return WSI_SAGE_UNKNOWN;
	}
	if (r.status >= 300 && r.status <= 399) {
		sage_error(s, "POST", shown, &r, WSI_EXIT_CONFIG, e);
		wsi_response_free(&r);
		return WSI_SAGE_FAILED; /* a redirect: nothing reached Sage */
	}
	int outcome = WSI_SAGE_REFUSED, st = WSI_EXIT_ORDERS;
	if (r.status == 401 || r.status == 403)
		outcome = WSI_SAGE_FAILED, st = WSI_EXIT_CONFIG;
	else if (r.status == 429 || r.status == 503)
		outcome = WSI_SAGE_FAILED, st = WSI_EXIT_REMOTE; /* refused before doing anything: retry later */
	else if (r.status >= 500)
		outcome = WSI_SAGE_UNKNOWN, st = WSI_EXIT_REMOTE;
	sage_error(s, "POST", shown, &r, st, e);
	wsi_response_free(&r);
	return outcome;
}
