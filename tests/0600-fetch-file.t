#!/usr/bin/env bash
# The file store: a JSON array, JSON lines, a Shopify list, stdin; bad lines named.
. "$(dirname "$0")/lib.sh"
cp "$TESTS/fixtures/woo-orders-list-docs-v3.json" orders.json
FILE_URL=orders.json FILE_FORMAT=woocommerce write_conf file
wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc:$(grep -c '"order"' env.txt)" "0:2" "a JSON array of WooCommerce orders (pretty-printed)"
is "$(grep -c $'\r' env.txt)" 0 "one envelope a line"
is "$(tail -1 env.txt)" '{"mark":{"store":"shop","modified":"2017-03-22T19:28:08Z","from":null}}' "the mark is the newest order read"
wsi-stage <env.txt >keys.txt
is "$(wc -l <keys.txt)" 2 "staged"
wsi-fetch >env.txt 2>err.txt
is "$(grep -c '"order"' env.txt)" 1 "the next run reads from the mark less the overlap"

python3 -c 'import json; [print(json.dumps(o)) for o in json.load(open("orders.json"))]' >lines.json
echo '{"id": 999, "date_modified_gmt": ' >>lines.json
FILE_URL=lines.json write_conf file
rm -f wsi.db*
wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc:$(grep -c '"order"' env.txt):$(grep -c mark env.txt)" "4:2:0" "JSON lines with a bad line: the good ones, no mark, exit 4"
like "$(cat err.txt)" "lines.json:3: not valid JSON" "the bad line is named"

cp "$TESTS/fixtures/shopify-orders-list-2025-01-js-fixture.json" shop.json
FILE_URL=- FILE_FORMAT=shopify write_conf file
rm -f wsi.db*
wsi-fetch <shop.json >env.txt 2>err.txt; rc=$?
is "$rc" 0 "a Shopify list on stdin"
like "$(head -1 env.txt)" '"source":"shopify"' "Shopify envelopes"
done_testing
