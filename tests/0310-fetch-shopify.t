#!/usr/bin/env bash
# wsi-fetch against the Shopify simulator: cursors, inclusive bounds, count, rate limits.
. "$(dirname "$0")/lib.sh"
start_store shopify "$TESTS/fixtures/shopify-orders-list-2025-01-js-fixture.json" --now 2026-11-27T12:00:00Z
write_conf shopify

wsi-fetch >env.txt 2>err.txt; rc=$?
is "$rc" 0 "fetch the Shopify docs' orders"
nfix=$(python3 -c 'import json; print(len(json.load(open("'"$TESTS"'/fixtures/shopify-orders-list-2025-01-js-fixture.json"))["orders"]))')
is "$(grep -c '"order"' env.txt)" "$nfix" "every fixture order"
like "$(head -1 env.txt)" '"source":"shopify"' "source is shopify"
is "$(tail -1 env.txt)" '{"mark":{"store":"shop","modified":"2026-11-27T12:00:00Z","from":null}}' "mark line"
wsi-stage <env.txt >keys.txt; rc=$?
ok $([ "$rc" -le 1 ] && echo 0 || echo 1) "stage the fixtures (rc $rc)"

# more than 600 orders: cursors through pages of 250, nothing twice, nothing missed
sim /_sim/clock '{"advance":3600}' >/dev/null
sim /_sim/generate '{"n":650,"ago":1800,"spread":900}' >/dev/null
curl -s -X POST "$SIM/_sim/reset_stats" >/dev/null
wsi-fetch -v >env.txt 2>err.txt; rc=$?
is "$rc" 0 "fetch 650 new orders"
is "$(grep '"order"' env.txt | sed 's/.*"id":"\([0-9]*\)".*/\1/' | sort -u | wc -l)" 650 "650 distinct orders"
is "$(grep -c '"order"' env.txt)" 650 "none printed twice"
lists=$(sim /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["list"])')
is "$lists" 3 "three list requests of 250 (cursor pages)"
wsi-stage <env.txt >keys.txt
is "$(wc -l <keys.txt)" 650 "650 staged"
like "$(head -c 2000 env.txt)" '"customer":\{"id":[0-9]+' "int64 ids and customers kept"

# a rerun with nothing new stages nothing (overlap re-reads are deduplicated)
wsi-fetch 2>/dev/null | wsi-stage >keys.txt; rc=$?
is "$rc:$(wc -l <keys.txt)" "0:0" "unchanged rerun stages nothing"

# an order edited in the store comes again and is restaged
sim /_sim/clock '{"advance":120}' >/dev/null
id=$(q "select id from orders where source='shopify' order by id limit 1 offset 10")
sim /_sim/edit "{\"id\":$id,\"set\":{\"note\":\"leave at the door\"}}" >/dev/null
sim /_sim/clock '{"advance":120}' >/dev/null
wsi-fetch 2>/dev/null | wsi-stage >keys.txt
is "$(cat keys.txt)" "shop:$id" "the edited order is restaged"

# the rate limit: the client slows down and honours 429 with Retry-After
sim /_sim/fault '{"status":429,"count":1,"retry_after":"0.5"}' >/dev/null
sim /_sim/clock '{"advance":60}' >/dev/null
wsi-fetch -v >env.txt 2>err.txt; rc=$?
is "$rc" 0 "a full bucket: 429 waited out"
like "$(cat err.txt)" "HTTP 429, trying again" "429 seen and retried"
curl -s -D - -o /dev/null -H 'X-Shopify-Access-Token: shpat_test' "$SIM/admin/api/2025-01/orders.json?status=any&limit=1" >headers.txt
like "$(cat headers.txt)" "X-Shopify-Shop-Api-Call-Limit: [0-9]+/40" "the simulator counts calls in its bucket"

# the wrong token
write_conf shopify "token = shpat_wrong"
sed -i '0,/^token = shpat_test$/{/^token = shpat_test$/d}' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "token refused: exit 3"
like "$out" "HTTP 401: \[API\] Invalid API key or access token" "Shopify's own words"
unlike "$out" "shpat_wrong" "the token is never printed"
write_conf shopify

# id mode: since_id, strictly after
first=$(q "select min(id) from orders")
wsi-fetch --id "$first" >env.txt 2>/dev/null
is "$(grep -c '"order"' env.txt)" "$(( $(q 'select count(*) from orders') - 1 ))" "--id N: every order above N"
write_conf shopify "mark = id"
wsi-hwm set --id "$first" 2>/dev/null
wsi-fetch >env.txt 2>/dev/null
like "$(tail -1 env.txt)" '^\{"mark":\{"store":"shop","id":"[0-9]+","from":(null|"[0-9]+")\}\}$' "an id mark line ends the id read"
wsi-stage <env.txt >/dev/null
is "$(wsi-hwm | awk -F'\t' '$2=="id"{print $3}')" "$(q 'select max(cast(id as integer)) from orders')" "the id mark moves to the highest id read"
done_testing
