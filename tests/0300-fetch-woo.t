#!/usr/bin/env bash
# wsi-fetch against the WooCommerce simulator: paging, ties, a changing store, faults.
. "$(dirname "$0")/lib.sh"
start_store woocommerce "$TESTS/fixtures/woo-orders-list-docs-v3.json" --now 2026-11-27T12:00:00Z
write_conf woocommerce

wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc" 0 "fetch the docs' orders"
is "$(grep -c '"order"' env.txt)" 2 "two envelopes"
like "$(head -1 env.txt)" '^\{"store":"shop","id":"723","modified":"2017-03-21T19:54:51Z","source":"woocommerce","order":\{"id":723,' "envelope shape, id ascending, UTC with Z"
is "$(tail -1 env.txt)" '{"mark":{"store":"shop","modified":"2026-11-27T12:00:00Z","from":null}}' "mark line at the store's clock (Date header) less settle"
# the raw order is kept byte for byte as the store sent it
python3 - "$SIM" <<'PY' >raw.txt
import json, sys, urllib.request, base64
req = urllib.request.Request(sys.argv[1] + '/wp-json/wc/v3/orders?orderby=id&order=asc&per_page=100')
req.add_header('Authorization', 'Basic ' + base64.b64encode(b'ck_test:cs_test').decode())
body = urllib.request.urlopen(req).read().decode()
print(body)
PY
first=$(head -1 env.txt | sed 's/^{"store":"shop","id":"723","modified":"[^"]*","source":"woocommerce","order"://; s/}$//')
grep -qF "$first" raw.txt; ok $? "raw order bytes equal the store's"

# 250 orders in one modification second across page boundaries
sim /_sim/generate '{"n":250,"start":1764000000,"same_second":true}' >/dev/null
wsi-fetch -v >env.txt 2>err.txt; rc=$?
is "$rc" 0 "fetch 250 orders sharing one second"
is "$(grep -c '"order"' env.txt)" 252 "every order printed once"
is "$(grep '"order"' env.txt | sed 's/.*"id":"\([0-9]*\)".*/\1/' | sort | uniq -d | wc -l)" 0 "no order printed twice"
wsi-stage <env.txt >keys.txt; rc=$?
is "$rc" 0 "stage them"
is "$(wc -l <keys.txt)" 252 "all staged once"
is "$(q 'select count(*) from orders')" 252 "252 rows"

# an order edited between pages (an offset shift) is not lost: the stretch is read again
sim /_sim/clock '{"advance":600}' >/dev/null
sim /_sim/generate '{"n":300,"ago":300,"spread":60,"seed":7}' >/dev/null
sim /_sim/on_page '{"page":2,"trash":[1260,1261,1262]}' >/dev/null
wsi-fetch -v >env2.txt 2>err.txt; rc=$?
is "$rc" 0 "fetch while the store changes under the reader"
like "$(cat err.txt)" "changed while it was read" "the changed stretch is read again"
grep '"order"' env2.txt | sed 's/.*"id":"\([0-9]*\)".*/\1/' | sort -u >have.txt
sim /_sim/orders | python3 -c 'import json,sys; [print(o["id"]) for o in json.load(sys.stdin) if o["status"]!="trash" and o["date_modified_gmt"]>="2026-11-27T12:00:00"]' | sort -u >want.txt
is "$(wc -l <want.txt):$(comm -13 have.txt want.txt | wc -l)" "297:0" "every order still in the stretch was seen"

# store down
kill "$STORE_PID"; wait "$STORE_PID" 2>/dev/null
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 4 "store down: exit 4"
like "$out" "GET http://127.0.0.1:$STORE_PORT/wp-json/wc/v3/orders: .*(connect|Connection refused)" "store down: names the URL and why"

start_store woocommerce "$TESTS/fixtures/woo-orders-list-docs-v3.json"
write_conf woocommerce
rm -f wsi.db*
sim /_sim/fault '{"status":500,"count":1}' >/dev/null
wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc" 0 "one 500 is retried"
is "$(grep -c '"order"' env.txt)" 2 "and all orders come"
sim /_sim/fault '{"status":500,"count":10}' >/dev/null
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "500 that persists: exit 4"
like "$out" "HTTP 500: Internal Server Error" "500: status and the store's message"
sim /_sim/fault '{"clear":true}' >/dev/null
curl -s -X POST "$SIM/_sim/reset_stats" >/dev/null
sim /_sim/fault '{"status":429,"count":1,"retry_after":"1"}' >/dev/null
wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc" 0 "429 with Retry-After is waited out"
is "$(grep -c '"order"' env.txt)" 2 "and all orders come after it"

# a page cut in the middle: the stretch has no mark, what was printed stays valid
sim /_sim/fault '{"truncate":true,"count":5,"match":"orderby=id"}' >/dev/null
wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc" 4 "truncated JSON: exit 4"
like "$(cat err.txt)" "(not a complete JSON list|transfer closed|Transferred a partial file|partial)" "truncated: says so"
is "$(grep -c mark env.txt)" 0 "no mark for the unfinished stretch"
sim /_sim/fault '{"clear":true}' >/dev/null
sim /_sim/fault '{"status":502,"html":true,"count":5}' >/dev/null
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "HTML error page: exit 4"
like "$out" "HTTP 502: <html><head><title>502 Bad Gateway" "HTML page: status and an excerpt"
sim /_sim/fault '{"clear":true}' >/dev/null
sim /_sim/fault '{"status":200,"body":"<html>Maintenance</html>","content_type":"text/html","count":1}' >/dev/null
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "a 200 HTML page where JSON was expected: exit 4"
like "$out" "not JSON \(Content-Type text/html\): <html>Maintenance" "names the content type"
sim /_sim/fault '{"drop":true,"count":10}' >/dev/null
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "dropped connections: exit 4"
sim /_sim/fault '{"clear":true}' >/dev/null

# --since and --id read without marks
wsi-fetch --since 2017-03-22T00:00:00Z >env.txt 2>/dev/null
is "$(grep -c '"order"' env.txt):$(grep -c mark env.txt)" "1:0" "--since reads from TIME and prints no mark"
wsi-fetch --id 723 >env.txt 2>/dev/null
is "$(grep -c '"order"' env.txt):$(grep -c mark env.txt)" "1:0" "--id reads ids above N and prints no mark"
out=$(wsi-fetch --since soon 2>&1); rc=$?
is "$rc" 2 "--since with a bad time: exit 2"
done_testing
