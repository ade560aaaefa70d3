/* unit.c - the library's parsers, checked on their own: decimals, times, config, JSON spans. */
#include "config.h"
#include "decimal.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "keys.h"
#include "order.h"
#include "orders.h"
#include "reasons.h"
#include "sale.h"
#include "sent.h"
#include "timeutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
	if (!cond)
		failed++;
}

static const char *dec(const char *s)
{
	static char buf[64];
	wsi_dec d;
	if (wsi_dec_parse(s, strlen(s), &d))
		return "ERR";
	return wsi_dec_str(d, 2, buf, sizeof buf);
}

static const char *tm(const char *s)
{
	static char buf[40];
	int64_t t;
	if (wsi_time_parse(s, &t))
		return "ERR";
	return wsi_time_fmt(t, buf, sizeof buf);
}

/* The tables the man pages are checked against (tests/0105-tables.t). */
static int print_table(const char *which)
{
	if (!strcmp(which, "reasons")) {
		for (size_t i = 0; i < wsi_reason_codes_n; i++)
			printf("%s\t%d\n", wsi_reason_codes[i].code, wsi_reason_codes[i].subject);
		return 0;
	}
	if (!strcmp(which, "moves")) {
		for (int from = 0; from < WSI_NSTATES; from++) {
			printf("%s\t", wsi_state_name(from));
			for (int to = 0, first = 1; to < WSI_NSTATES; to++)
				if (wsi_move_allowed(from, to)) {
					printf("%s%s", first ? "" : " ", wsi_state_name(to));
					first = 0;
				}
			printf("\n");
		}
		return 0;
	}
	fprintf(stderr, "unit: reasons or moves\n");
	return 2;
}

/* decimals and times: every format the stores send */
static void scalars(void)
{
	char b[64];
	/* decimals: every money format the stores send */
	ok(!strcmp(dec("19.99"), "19.99"), "decimal 19.99");
	ok(!strcmp(dec("361.9500"), "361.95"), "decimal 361.9500");
	ok(!strcmp(dec("0.62125"), "0.62125"), "decimal 0.62125 keeps 5 places");
	ok(!strcmp(dec("-10.00"), "-10.00"), "decimal negative");
	ok(!strcmp(dec("3"), "3.00"), "decimal integer");
	ok(!strcmp(dec("1.5e2"), "150.00"), "decimal exponent");
	ok(!strcmp(dec("0.1"), "0.10"), "decimal 0.1 exact");
	ok(!strcmp(dec("12.3400000000"), "12.34"), "trailing zeros beyond 6 places");
	ok(!strcmp(dec("0.0000001"), "ERR"), "more than 6 significant places refused");
	ok(!strcmp(dec("abc"), "ERR") && !strcmp(dec(""), "ERR") && !strcmp(dec("1.2.3"), "ERR") &&
	   !strcmp(dec("-"), "ERR") && !strcmp(dec("1e"), "ERR"), "garbage refused");
	ok(!strcmp(dec("99999999999999999999"), "ERR"), "huge refused");
	wsi_dec a, c, r;
	wsi_dec_parse("0.1", 3, &a);
	wsi_dec_parse("0.2", 3, &c);
	ok(wsi_dec_add(a, c).v == 300000, "0.1 + 0.2 == 0.3 exactly");
	wsi_dec_parse("35.98", 5, &a);
	wsi_dec_parse("3", 1, &c);
	wsi_dec_div(a, c, &r);
	ok(!strcmp(wsi_dec_fmt(r, 2, b, sizeof b), "11.99"), "35.98 / 3 rounds to 11.99");
	wsi_dec_parse("2.675", 5, &a);
	ok(!strcmp(wsi_dec_fmt(a, 2, b, sizeof b), "2.68"), "2.675 rounds half up to 2.68 (a double gives 2.67)");
	wsi_dec_parse("-2.675", 6, &a);
	ok(!strcmp(wsi_dec_fmt(a, 2, b, sizeof b), "-2.68"), "rounding is symmetric");

	/* times */
	ok(!strcmp(tm("2024-05-14T09:23:45-04:00"), "2024-05-14T13:23:45Z"), "offset -04:00");
	ok(!strcmp(tm("2017-03-22T19:28:08"), "2017-03-22T19:28:08Z"), "naive is UTC");
	ok(!strcmp(tm("2024-05-14T13:23:45Z"), "2024-05-14T13:23:45Z"), "Z");
	ok(!strcmp(tm("2024-05-14T19:23:45+0600"), "2024-05-14T13:23:45Z"), "offset +0600");
	ok(!strcmp(tm("2024-05-14T13:23:45.123Z"), "2024-05-14T13:23:45Z"), "fraction dropped");
	ok(!strcmp(tm("2024-02-29"), "2024-02-29T00:00:00Z"), "a date");
	ok(!strcmp(tm("2023-02-29T00:00:00Z"), "ERR"), "no 29 February 2023");
	ok(!strcmp(tm("2024-13-01T00:00:00Z"), "ERR") && !strcmp(tm("yesterday"), "ERR") &&
	   !strcmp(tm("2024-05-14T25:00:00Z"), "ERR") && !strcmp(tm("2024-05-14T10:00:00Zjunk"), "ERR"),
	   "bad times refused");
	ok(!strcmp(tm("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59Z"), "before the epoch");
	int64_t t;
	ok(wsi_time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == 784111777, "HTTP date");
	/* found by fuzz_scalars: a huge or negative year or hour overflowed */
	ok(wsi_time_parse_http("u,5Nov-4 2439444400000008:9:7 T", &t) == -1 &&
	   wsi_time_parse_http("Sun, 06 Nov 2147483647 08:49:37 GMT", &t) == -1 &&
	   wsi_time_parse_http("Sun, 06 Nov 1994 -8:49:37 GMT", &t) == -1, "HTTP dates out of range refused");

}

/* JSON spans, keys, hashes, HTML, and what fuzzing found in the Sage body */
static void the_rest(void)
{
	/* JSON: exact numbers, spans */
	wsi_error e = {0};
	const char *doc = "{\"price\": 17.99, \"q\": 2, \"s\": \"a.b\"}";
	json_t *j = wsi_json_parse(doc, strlen(doc), "t", &e);
	wsi_dec d;
	ok(j && wsi_jdec(j, "price", (wsi_dec){0}, &d) == 0 && d.v == 17990000, "JSON real read exactly");
	ok(j && json_is_integer(json_object_get(j, "q")) && !strcmp(wsi_jstr(j, "s"), "a.b"), "ints and strings kept");
	json_decref(j);
	j = wsi_json_parse("[1, 2", 5, "page 3", &e);
	ok(!j && strstr(e.msg, "page 3") != NULL, "truncated JSON names where");
	size_t pos = 0;
	const char *nested = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] x";
	ok(wsi_json_skip(nested, strlen(nested), &pos) == 0 && nested[pos] == 'x', "skip nested value");
	pos = 0;
	ok(wsi_json_skip("{\"a\":\"x\\\"}", 10, &pos) == -1, "unterminated string refused");

	/* keys */
	char st[64], id[64];
	ok(wsi_key_split("shop:10231", st, sizeof st, id, sizeof id) == 0 && !strcmp(st, "shop") && !strcmp(id, "10231"),
	   "key split");
	ok(wsi_key_split("shop", st, sizeof st, id, sizeof id) == -1 && wsi_key_split(":1", st, sizeof st, id, sizeof id) == -1 &&
	   wsi_key_split("a b:1", st, sizeof st, id, sizeof id) == -1, "bad keys refused");

	/* content hashes */
	char h[33], h2[33];
	wsi_hash_hex("abc", 3, h);
	wsi_hash_hex("abd", 3, h2);
	ok(strlen(h) == 32 && strcmp(h, h2) != 0, "hash: 128 bits, a changed byte changes it");
	char big[1000];
	memset(big, 'a', sizeof big);
	wsi_hash_hex(big, 1000, h);
	big[999] = 'b';
	wsi_hash_hex(big, 1000, h2);
	ok(strcmp(h, h2) != 0, "hash: the last byte counts");
	wsi_hash_hex(big, 999, h2);
	ok(strcmp(h, h2) != 0, "hash: the length counts");

	/* HTML entities and links */
	char name[] = "Ship Your Idea &ndash; Color &amp; Size &#8211; &#x2014; &bogus; &";
	wsi_html_decode(name);
	ok(!strcmp(name, "Ship Your Idea \xe2\x80\x93 Color & Size \xe2\x80\x93 \xe2\x80\x94 &bogus; &"), "entities decoded");
	char nx[256];
	ok(wsi_link_next("<https://a/x?page=1>; rel=\"prev\", <https://a/x?page=3>; rel=\"next\"", nx, sizeof nx) &&
	   !strcmp(nx, "https://a/x?page=3"), "Link next");
	ok(!wsi_link_next("<https://a/x?page=1>; rel=\"previous\"", nx, sizeof nx), "Link without next");
	char *enc = wsi_url_encode("A1-104/0 O'Brien&x");
	ok(enc && !strcmp(enc, "A1-104%2F0%20O%27Brien%26x"), "url encode");
	free(enc);
	ok(wsi_list_has("processing, completed", "completed") && !wsi_list_has("processing,completed", "complete"),
	   "status lists");

	/* found by fuzz_order: a store string that looked like a number marker became raw JSON */
	json_t *body = json_pack("{s:s,s:s}", "ShipToEmail", "\x01#man@example.com", "Note", "\x01#1,\"Bogus\":2");
	json_object_set_new(body, "Amount", wsi_json_number((wsi_dec){12340000}, 2));
	char *text = wsi_json_dump_exact(body);
	json_t *back = text ? json_loads(text, 0, NULL) : NULL;
	ok(back && json_is_string(json_object_get(back, "ShipToEmail")) && !json_object_get(back, "Bogus") &&
	   strstr(text, "\"Amount\":12.34") != NULL, "only our own numbers are written bare");
	json_decref(back);
	json_decref(body);
	free(text);

	/* a name cut to Sage's 60 characters must not cut a character in two */
	char longname[200] = "";
	for (int i = 0; i < 70; i++)
		strcat(longname, "\xc3\xa9");
	json_t *canon = json_pack("{s:s,s:s,s:{s:s,s:s},s:[{s:s,s:s,s:s,s:s}],s:b}", "number", "1", "created",
				  "2026-01-01T00:00:00Z", "shipping", "name", longname, "address1", "1 Main St", "lines",
				  "sku", "A", "quantity", "1", "total", "1.00", "tax", "0.00", "paid", 0);
	json_t *mapped = json_pack("{s:{s:s},s:[{s:s}]}", "customer", "to", "WEB", "items", "to", "A");
	char *ob = wsi_sale_order_body(NULL, "shop", "1", canon, mapped, &e);
	json_t *obj = ob ? json_loads(ob, 0, NULL) : NULL;
	const char *nm = wsi_jstr(obj, "ShipToName");
	ok(nm && strlen(nm) == 60 && !strncmp(nm, longname, 60), "a long name is cut on a character boundary");
	json_decref(obj);
	json_decref(canon);
	json_decref(mapped);
	free(ob);

	/* each line's tax entries, found by line: in any order, out-of-range lines no one's */
	json_t *tc = json_pack("{s:[{},{},{}],s:[{}],s:[{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s}]}",
			       "lines", "shipping_lines", "taxes", "on", "line", "n", 2, "code", "A", "on", "shipping", "n", 0, "code", "S",
			       "on", "line", "n", 0, "code", "B", "on", "line", "n", 2, "code", "C", "on", "line", "n", 7, "code", "X",
			       "on", "fee", "n", 0, "code", "Y");
	wsi_tax_index *ti = wsi_tax_index_new(tc);
	char got[64] = "";
	const char *ons[] = {"line", "line", "line", "shipping", "fee"};
	size_t ns[] = {0, 1, 2, 0, 0};
	for (size_t k = 0; k < 5; k++) {
		size_t cur = 0;
		json_t *x;
		while ((x = wsi_tax_index_next(ti, ons[k], ns[k], &cur))) {
			strcat(got, wsi_jstr(x, "code"));
			json_decref(x);
		}
		strcat(got, "|");
	}
	ok(ti && !strcmp(got, "B||AC|S||"), "tax entries by line: B; none; A then C; S; none (no line 8, no fee)");
	wsi_tax_index_free(ti);
	json_decref(tc);

	/* the hash of pieces is the hash of the whole, wherever they are cut */
	char whole[33], cut[33], buf[100];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)(i * 7 + 3);
	int same = 1;
	for (size_t len = 0; len <= sizeof buf; len += 9)
		for (size_t at = 0; at <= len; at += 5) {
			wsi_hash_state hs;
			wsi_hash_begin(&hs, len);
			wsi_hash_add(&hs, buf, at);
			wsi_hash_add(&hs, buf + at, len - at);
			same &= !strcmp(wsi_hash_end(&hs, cut), wsi_hash_hex(buf, len, whole));
		}
	ok(same, "the hash of pieces is the hash of the whole");

	/* an order of 20,000 lines (over a MiB of text) is hashed in pieces: the same hash as its text */
	json_t *many = json_pack("{s:s,s:[]}", "number", "1", "lines");
	for (int i = 0; i < 20000; i++)
		json_array_append_new(json_object_get(many, "lines"),
				      json_pack("{s:s,s:s,s:s}", "sku", "SKU-0001", "name", "Product \u00e9", "total", "1.00"));
	char *bt = NULL, by_text[33], by_pieces[33];
	ok(!wsi_order_texts(many, &bt, by_text) && !wsi_order_content_hash(many, by_pieces) && !strcmp(by_text, by_pieces) &&
		   strlen(bt) > (1 << 20),
	   "a canonical order over a MiB: hashed in pieces as its text");
	free(bt);
	json_decref(many);
}

/* The journal of requests sent: open entries, answers, a line cut by a crash, compaction. */
static void journal(void)
{
	char dir[] = "/tmp/wsi-unit.XXXXXX", db[64], path[80];
	if (!mkdtemp(dir))
		return;
	snprintf(db, sizeof db, "%s/wsi.db", dir);
	snprintf(path, sizeof path, "%s.sent", db);
	wsi_error e = {0};
	wsi_sent_set *s = wsi_sent_load(db, &e);
	ok(s && wsi_sent_count(s) == 0, "no journal yet: nothing open");
	wsi_sent_free(s);
	ok(!wsi_sent_begin(db, WSI_SENT_ORDER, "shop:1", &e) && !wsi_sent_begin(db, WSI_SENT_ORDER, "shop:2", &e) &&
		   !wsi_sent_begin(db, WSI_SENT_RECEIPT, "shop:1", &e) && !wsi_sent_end(db, WSI_SENT_ORDER, "shop:1", &e),
	   "three sent, one answered");
	FILE *f = fopen(path, "a");
	if (f) {
		fputs("S 99 1 O shop:3", f); /* cut by a crash before its newline: never sent */
		fclose(f);
	}
	s = wsi_sent_load(db, &e);
	ok(s && wsi_sent_count(s) == 2 && !wsi_sent_since(s, WSI_SENT_ORDER, "shop:1") &&
		   wsi_sent_since(s, WSI_SENT_ORDER, "shop:2") > 0 && wsi_sent_since(s, WSI_SENT_RECEIPT, "shop:1") > 0 &&
		   !wsi_sent_since(s, WSI_SENT_ORDER, "shop:3"),
	   "open: the unanswered order and receipt; not the answered one, not a cut line");
	wsi_sent_free(s);
	ok(wsi_sent_begin(db, WSI_SENT_ORDER, "shop:4\nS 1 1 O x", &e) == -1, "a reference with a line break is refused");
	ok(!wsi_sent_begin(db, WSI_SENT_ORDER, "shop:5", &e) && !wsi_sent_end(db, WSI_SENT_RECEIPT, "shop:1", &e),
	   "appended after the cut line");
	s = wsi_sent_load(db, &e);
	/* the cut line, once ended, counts as sent: the safe side (its order waits, never goes twice) */
	ok(s && wsi_sent_count(s) == 3 && wsi_sent_since(s, WSI_SENT_ORDER, "shop:5") > 0 && wsi_sent_since(s, WSI_SENT_ORDER, "shop:3") == 99,
	   "the line after a cut one is read whole");
	wsi_sent_free(s);
	ok(!wsi_sent_compact(db, 0, &e), "compacted, keeping what counts");
	s = wsi_sent_load(db, &e);
	ok(s && wsi_sent_count(s) == 3, "the open entries kept");
	wsi_sent_free(s);
	ok(!wsi_sent_compact(db, INT64_MAX, &e), "compacted, nothing counting any more");
	struct stat st;
	ok(stat(path, &st) == 0 && st.st_size == 0 && (st.st_mode & 0777) == 0600, "the journal emptied, mode 0600");
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return print_table(argv[1]);
	scalars();
	the_rest();
	journal();
	printf("1..%d\n", n);
	return failed != 0;
}
