/* fuzz_json.c - wsi's fast JSON reader against jansson's (via quote_reals): whatever the fast one
 * reads must be what jansson reads, value for value and member for member, in the same order; and
 * read lazily (the first array member's elements kept as text, or noted where they are), each
 * element read later is the same. */
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
	const char *k;
	json_t *v;
	json_object_foreach(fast, k, v) {
		if (!json_is_array(v))
			continue;
		for (int mode = WSI_LAZY_DROP; mode <= WSI_LAZY_SPAN; mode++) {
			json_t *lazy = wsi_json_parse_lazy((const char *)data, size, k, mode);
			if (!lazy)
				abort(); /* the fast reader read it whole */
			const json_t *arr = json_object_get(lazy, k);
			if (json_object_size(lazy) != json_object_size(fast) ||
			    json_array_size(arr) != (mode == WSI_LAZY_DROP ? 0 : json_array_size(v)))
				abort();
			for (size_t i = 0; i < json_array_size(arr); i++) {
				json_t *x = mode == WSI_LAZY_TEXT ? wsi_json_elem(arr, i)
								  : wsi_json_span_read(json_array_get(arr, i), (const char *)data, size);
				if (!x || !json_equal(x, json_array_get(v, i)))
					abort(); /* an element read later is another */
				json_decref(x);
			}
			char *raw = wsi_json_dump_exact(lazy);
			json_t *back = raw ? wsi_json_parse(raw, strlen(raw), "fuzz", &e) : NULL;
			if (mode == WSI_LAZY_TEXT && (!back || !json_equal(back, fast)))
				abort(); /* the elements written back as they were */
			json_decref(back);
			free(raw);
			json_decref(lazy);
		}
		break;
	}
	json_decref(fast);
	json_decref(slow);
	return 0;
}
