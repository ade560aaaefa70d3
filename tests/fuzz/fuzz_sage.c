/* fuzz_sage.c - reading Sage's answers: a collection page, a created entity, an error. */
#include "json.h"
#include "sale.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	wsi_error e = {0};
	json_t *j = wsi_json_parse((const char *)data, size, "fuzz", &e);
	if (!j)
		return 0;
	wsi_sale_numbers n;
	wsi_sale_numbers_of(j, &n);
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(j, "value"), i, row)
		wsi_sale_numbers_of(row, &n);
	json_t *err = json_object_get(j, "error");
	wsi_jstr(err, "code");
	wsi_jstr(json_object_get(err, "message"), "value");
	wsi_jstr(j, "@odata.nextLink");
	json_decref(j);
	return 0;
}
