#!/usr/bin/env bash
# wsi-validate -a over more orders than it holds at once (500): each chunk asked of Sage and
# judged in its own transaction, what Sage was asked kept for the whole run, and Sage down in
# a later chunk keeps what earlier chunks judged.
. "$(dirname "$0")/lib.sh"
start_sage
sage /_sim/items "$(python3 -c 'import json; print(json.dumps([{"UnformattedItemNumber": "SKU%04d" % i, "ItemNumber": "SKU-%04d" % i, "Description": "Item %d" % i, "Status": True, "Sellable": True, "BasePrice": 10} for i in range(1, 501)]))')" >/dev/null
FILE_URL=orders.json write_conf file
python3 "$TESTS/envelopes.py" 1100 woocommerce 500 >env.txt
load() {
	rm -f wsi.db*
	wsi-stage -q <env.txt >/dev/null
	{ wsi-remap add customer '*' WEB; wsi-remap add payment stripe SEATAC CC
	  wsi-remap add tax 'US-CA-STATE TAX' CA; wsi-remap -a; } >/dev/null 2>&1
}
load
skus=$(q "select count(distinct sku) from order_lines")
sage /_sim/reset_stats '{}' >/dev/null
wsi-validate -v -a >keys.txt 2>err.txt; rc=$?
is "$rc:$(wc -l <keys.txt):$(q "select count(*) from orders where state='valid'")" "0:1100:1100" "1100 orders in 3 chunks: all valid, each key printed"
stats=$(sage /_sim/stats)
items=$(printf '%s' "$stats" | json_get "j['by_resource'].get('GET ICItems', 0)")
refs=$(printf '%s' "$stats" | json_get "j['by_resource'].get('GET OEOrders', 0)")
# (a later chunk asks only the SKUs no earlier chunk had: a partial request of 20 at most each)
ok $([ "$items" -le $(( (skus + 19) / 20 + 2 )) ] && echo 0 || echo 1) "the $skus SKUs asked once in the run, not once per chunk ($items requests)"
is "$refs" "$(( (500 + 19) / 20 * 2 + (100 + 19) / 20 ))" "the orders looked up by reference, 20 a request, chunk by chunk"
like "$(cat err.txt)" "1100 checked: 1100 valid" "the summary counts the whole run"

# Sage stops answering after the first chunk's questions: its 500 are judged and kept
load
sage /_sim/reset_stats '{}' >/dev/null
# (the first chunk looks its 500 orders up by reference in 25 requests; the second's fail)
sage /_sim/fault '{"status":503,"count":1000,"method":"GET","match":"OEOrders","skip":25}' >/dev/null
wsi-validate -a >keys.txt 2>err.txt; rc=$?
is "$rc:$(wc -l <keys.txt)" "4:500" "Sage down in the second chunk: exit 4, the first chunk's 500 keys printed"
is "$(q "select state, count(*) from orders group by state order by state")" "$(printf 'mapped|600\nvalid|500')" \
	"the first chunk judged and kept, the rest left mapped"
like "$(q "select summary from runs where tool='wsi-validate'")" "checked 500: 500 valid" "the run recorded as what it did"
sage /_sim/fault '{"clear":true}' >/dev/null
wsi-validate -a >keys.txt 2>/dev/null
is "$(wc -l <keys.txt):$(q "select count(*) from orders where state='valid'")" "600:1100" "the next run checks the rest"
done_testing
