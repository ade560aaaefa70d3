/* json.h - JSON in: exact numbers, raw spans, and small getters over jansson. */
#ifndef WSI_JSON_H
#define WSI_JSON_H
#include <jansson.h>
#include <stddef.h>
#include "decimal.h"
#include "msg.h"

/* Parse one JSON value from buf. Numbers with a fraction or exponent come back as
 * strings holding their exact text (jansson would make them doubles); integers stay
 * integers. `where` names the input in the error ("<stdin>:12"). */
json_t *wsi_json_parse(const char *buf, size_t len, const char *where, wsi_error *e);
/* Its two halves: a fast reader of the common case (NULL when unsure: never a different answer),
 * and jansson's, which decides the rest (fuzz_json holds them to the same values). */
json_t *wsi_json_parse_fast(const char *buf, size_t len);
json_t *wsi_json_parse_jansson(const char *buf, size_t len, const char *where, wsi_error *e);
/* The fast reader, with the array of top-level member `key` not built: each element dropped
 * (WSI_LAZY_DROP), kept as its raw text (WSI_LAZY_TEXT; read with wsi_json_elem), or noted as
 * where it is in buf (WSI_LAZY_SPAN, an integer; read with wsi_json_span_read while buf lives).
 * NULL when unsure or not an object: read it whole. For texts read before (an order as staged),
 * where an element's errors are not news. */
enum { WSI_LAZY_DROP, WSI_LAZY_TEXT, WSI_LAZY_SPAN };
#define WSI_SPAN_MAX_LEN ((json_int_t)1 << 24)
json_t *wsi_json_parse_lazy(const char *buf, size_t len, const char *key, int keep);
/* The element a WSI_LAZY_SPAN integer notes, read from text (NULL if it notes none). */
json_t *wsi_json_span_read(const json_t *v, const char *text, size_t len);
/* A JSON text held as it is, a marked string: wsi_json_dump_exact writes it verbatim. */
json_t *wsi_json_raw(const char *text, size_t len);
/* The text of a raw value, or NULL for any other value. */
const char *wsi_json_raw_text(const json_t *v, size_t *len);
/* Element i of an array, read if raw: a new reference (NULL if none, or unreadable). */
json_t *wsi_json_elem(const json_t *arr, size_t i);
/* Each element of the array `arr` (a variable) as wsi_json_elem reads it, released after each turn:
 * continue is safe, break leaks the element in hand. */
#define wsi_json_each(arr, i, v) \
	for ((i) = 0; (i) < json_array_size(arr) && ((v) = wsi_json_elem((arr), (i)), 1); json_decref(v), (v) = NULL, (i)++)
/* Skip one JSON value starting at s[*pos] (leading whitespace allowed); *pos is left
 * just after it. Checks the structure, not the contents. 0, or -1 if malformed. */
int wsi_json_skip(const char *s, size_t n, size_t *pos);
/* Skip whitespace. */
size_t wsi_json_ws(const char *s, size_t n, size_t pos);
/* Iterate over the members of the object in s[0..n): calls fn(key, keylen, value span)
 * for each; fn returns nonzero to stop. Keys are raw (escapes not decoded). */
typedef int (*wsi_json_member_fn)(void *ud, const char *key, size_t klen, const char *val, size_t vlen);
int wsi_json_members(const char *s, size_t n, wsi_json_member_fn fn, void *ud);
/* Iterate over the elements of the array in s[0..n). */
typedef int (*wsi_json_item_fn)(void *ud, const char *val, size_t vlen);
int wsi_json_items(const char *s, size_t n, wsi_json_item_fn fn, void *ud);

/* Getters that tolerate absence and null: */
const char *wsi_jstr(const json_t *o, const char *key);  /* string, or NULL */
/* A value as text: strings as they are, integers printed, true/false; NULL otherwise. */
const char *wsi_jtext(const json_t *o, const char *key, char *buf, size_t n);
/* Money or quantity from a string ("19.99"), an integer or an exact real. Absent, null or ""
 * gives `dflt`'s value and returns 1; 0 when read; -1 when present but not a decimal. */
int wsi_jdec(const json_t *o, const char *key, wsi_dec dflt, wsi_dec *out);
/* Set key to a decimal string with at least 2 decimals. */
int wsi_jset_dec(json_t *o, const char *key, wsi_dec d);
/* A JSON number holding exactly this decimal (no double on the way): a marked string
 * that wsi_json_dump_exact writes as a bare number. */
json_t *wsi_json_number(wsi_dec d, int places);
/* Dump compactly in insertion order, writing wsi_json_number values as numbers and wsi_json_raw
 * texts verbatim. Caller frees. */
char *wsi_json_dump_exact(const json_t *v);
/* Dump compactly with sorted keys (stable for hashing). Caller frees. */
char *wsi_json_dump(const json_t *v);

#endif
