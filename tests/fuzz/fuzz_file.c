/* fuzz_file.c - the file store: a JSON array, JSON lines or Shopify lists of orders, read as
 * wsi-fetch reads them and printed as envelopes. The first byte picks the format. */
#include "config.h"
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char conf[64], orders[64];
	static int ready;
	if (size < 1)
		return 0;
	if (!ready) {
		snprintf(conf, sizeof conf, "/tmp/wsi-fuzz-file.%ld.conf", (long)getpid());
		snprintf(orders, sizeof orders, "/tmp/wsi-fuzz-file.%ld.json", (long)getpid());
		ready = 1;
	}
	FILE *f = fopen(conf, "w");
	if (!f)
		return 0;
	fprintf(f, "[store]\nname = shop\ntype = file\nurl = %s\nformat = %s\n", orders,
		data[0] & 1 ? "shopify" : "woocommerce");
	fclose(f);
	f = fopen(orders, "wb");
	if (!f)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	wsi_error e = {0};
	wsi_config *c = wsi_config_load(conf, &e);
	wsi_store *s = c ? wsi_store_open(c, &e) : NULL;
	if (s) {
		FILE *out = fopen("/dev/null", "w");
		wsi_fetch_plan plan = {.marks = 1, .have_lower = data[0] & 2, .lower = 1500000000};
		wsi_fetch_stats st = {0};
		if (out) {
			wsi_store_fetch(s, &plan, out, &st, &e);
			fclose(out);
		}
		wsi_store_close(s);
	}
	wsi_config_free(c);
	unlink(conf);
	unlink(orders);
	return 0;
}
