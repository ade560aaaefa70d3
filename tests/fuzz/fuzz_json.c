/* fuzz_json.c - wsi's fast JSON reader against jansson's (via quote_reals): whatever the fast one
 * reads must be what jansson reads, value for value and member for member, in the same order. */
#include "json.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	wsi_error e = {0};
	json_t *fast = wsi_json_parse_fast((const char *)data, size);
	if (!fast)
		return 0; /* unsure: jansson decides, so nothing to compare */
	json_t *slow = wsi_json_parse_jansson((const char *)data, size, "fuzz", &e);
	if (!slow)
		abort(); /* the fast reader took what jansson refuses */
	char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY), *b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!a || !b || strcmp(a, b))
		abort(); /* a different value, or members in another order (content hashes would change) */
	free(a);
	free(b);
	json_decref(fast);
	json_decref(slow);
	return 0;
}
