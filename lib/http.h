/* http.h - HTTP over libcurl: one reused connection, timeouts, verified TLS, careful retries. */
#ifndef WSI_HTTP_H
#define WSI_HTTP_H
#include <stddef.h>
#include "config.h"
#include "msg.h"

/* Who hears the HTTP layer (a retry; each request at -v -v): wsi_cli_open gives the tool's voice. */
void wsi_http_on_say(wsi_say_fn fn, void *ud);

#define WSI_HTTP_MAX_RESPONSE (64L << 20) /* the default [store]/[sage] max_response: 64 MiB */

typedef struct wsi_http_opts {
	long timeout;          /* whole request, seconds (default 60) */
	long connect_timeout;  /* seconds (default 10) */
	int retries;           /* further attempts where a retry is safe (default 3) */
	int verify;            /* verify TLS peer and host (default 1) */
	const char *ca_file;   /* extra CA bundle, or NULL */
	size_t max_response;   /* refuse bodies larger than this (default 64 MiB) */
	const char *user;      /* HTTP Basic, or NULL */
	const char *password;
} wsi_http_opts;

typedef struct wsi_http wsi_http;

/* Read timeout, retries, tls_verify, ca_file and max_response of a config section. */
int wsi_http_opts_conf(const wsi_config *c, const char *section, wsi_http_opts *o, wsi_error *e);

typedef struct wsi_response {
	long status;       /* HTTP status, 0 when no answer came */
	char *body;        /* NUL-terminated */
	size_t len;
	char *headers;     /* raw header block of the final response */
	double seconds;    /* time taken */
} wsi_response;

wsi_http *wsi_http_new(const wsi_http_opts *o, wsi_error *e);
void wsi_http_free(wsi_http *h);
/* Add a header sent with every request ("X-Shopify-Access-Token: …"). */
int wsi_http_header(wsi_http *h, const char *header);
/* Requests made so far (attempts, retries included), for the benchmarks. */
long wsi_http_requests(const wsi_http *h);
/* GET or POST (body non-NULL). Retries only where the request surely did not take effect
 * (connection refused, 429 after its Retry-After, 503), and for an idempotent request also
 * after 5xx, timeouts and dropped connections. Returns 0 with r->status set for any HTTP
 * answer, or -1 with *e (status 4) when no answer came, naming the URL (never a secret). */
int wsi_http_request(wsi_http *h, const char *method, const char *url, const char *body,
		     int idempotent, wsi_response *r, wsi_error *e);
static inline int wsi_http_get(wsi_http *h, const char *url, wsi_response *r, wsi_error *e)
{
	return wsi_http_request(h, "GET", url, NULL, 1, r, e);
}
void wsi_response_free(wsi_response *r);
/* After a failed request: 1 if it may have reached the server and taken effect
 * (a timeout or a dropped connection after sending), 0 if it surely did not. */
int wsi_http_outcome_unknown(const wsi_http *h);
/* A response header's value (case-insensitive name) copied into buf, or NULL. */
const char *wsi_response_header(const wsi_response *r, const char *name, char *buf, size_t n);
/* The URL of the rel="next" link in a Link header value, or NULL. */
const char *wsi_link_next(const char *link, char *buf, size_t n);
/* Percent-encode (RFC 3986 unreserved kept). Caller frees. */
char *wsi_url_encode(const char *s);
/* A short printable excerpt of a body for an error message. */
const char *wsi_body_excerpt(const char *body, size_t len, char *buf, size_t n);
/* The URL with its query string cut, for messages. */
const char *wsi_url_short(const char *url, char *buf, size_t n);

#endif
