/* fuzz_scalars.c - the decimal and time parsers, and the JSON span scanner wsi-stage reads
 * envelopes with. Round trips must hold. */
#include "decimal.h"
#include "json.h"
#include "keys.h"
#include "timeutil.h"
#include <stdlib.h>
#include <string.h>

static int member(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	(void)ud, (void)k, (void)kl, (void)v, (void)vl;
	return 0;
}
static int item(void *ud, const char *v, size_t vl)
{
	(void)ud, (void)v, (void)vl;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data;
	wsi_dec d, d2;
	char buf[64], z[256];
	if (wsi_dec_parse(s, size, &d) == 0) {
		wsi_dec_str(d, 0, buf, sizeof buf);
		if (wsi_dec_parse(buf, strlen(buf), &d2) || d2.v != d.v)
			abort(); /* printing then parsing gives the same decimal */
		wsi_dec q;
		wsi_dec_mul(d, d, &q);
		wsi_dec_div(d, (wsi_dec){3000000}, &q);
	}
	size_t n = size < sizeof z - 1 ? size : sizeof z - 1;
	memcpy(z, s, n);
	z[n] = 0;
	int64_t t, t2;
	if (wsi_time_parse(z, &t) == 0) {
		wsi_time_fmt(t, buf, sizeof buf);
		if (wsi_time_parse(buf, &t2) || t2 != t)
			abort(); /* formatting then parsing gives the same instant */
	}
	wsi_time_parse_http(z, &t);
	char st[72], id[72];
	wsi_key_split(z, st, sizeof st, id, sizeof id);
	size_t pos = 0;
	wsi_json_skip(s, size, &pos);
	if (pos > size)
		abort();
	wsi_json_members(s, size, member, NULL);
	wsi_json_items(s, size, item, NULL);
	return 0;
}
