/* order_raw.c - what is read of a store's raw order before (or without) its canonical form: its
 * id, its modification time, whether its status is one to post. */
#include "order.h"
#include "json.h"
#include "timeutil.h"
#include <string.h>

const char *wsi_order_default_post_statuses(const char *source)
{
	if (strcmp(source, "shopify") == 0)
		return "pending,authorized,partially_paid,paid,partially_refunded";
	return "processing,completed";
}

struct key_fields { json_t *o; };

static int key_field(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	static const char *const wanted[] = {"id", "updated_at", "date_modified_gmt", "date_created_gmt"};
	struct key_fields *f = ud;
	for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++) {
		if (kl != strlen(wanted[i]) || strncmp(k, wanted[i], kl) || json_object_get(f->o, wanted[i]))
			continue;
		json_t *val = json_loadb(v, vl, JSON_DECODE_ANY, NULL);
		/* an id of digits too long for an integer is still an id */
		if (!val && vl > 0 && vl <= 64 && strspn(v, "0123456789") == vl)
			val = json_stringn(v, vl);
		if (val)
			json_object_set_new(f->o, wanted[i], val);
	}
	return 0;
}

json_t *wsi_order_raw_key_fields(const char *raw, size_t len)
{
	struct key_fields f = {json_object()};
	if (wsi_json_members(raw, len, key_field, &f) || !json_object_get(f.o, "id")) {
		json_decref(f.o);
		return NULL;
	}
	return f.o;
}

const char *wsi_order_raw_id(const json_t *raw, char *buf, size_t n)
{
	const char *id = wsi_jtext(raw, "id", buf, n);
	return id && *id && strcmp(id, "true") && strcmp(id, "false") ? id : NULL;
}

int wsi_order_raw_modified(const char *source, const json_t *raw, long long *epoch)
{
	const char *m = strcmp(source, "shopify") == 0 ? wsi_jstr(raw, "updated_at")
						       : wsi_jstr(raw, "date_modified_gmt");
	int64_t t;
	if (!m && strcmp(source, "shopify") != 0)
		m = wsi_jstr(raw, "date_created_gmt");
	if (!m || wsi_time_parse(m, &t))
		return -1;
	*epoch = t;
	return 0;
}
