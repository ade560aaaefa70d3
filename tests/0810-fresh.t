#!/usr/bin/env bash
# What the store has, at once: an order edited or added just now is fetched, staged, validated
# and posted by the run that follows (settle only keeps the mark back, it holds no order back).
. "$(dirname "$0")/lib.sh"

# WooCommerce, its clock real and moving, settle at its default
start_store woocommerce "$TESTS/fixtures/lamp-orders.json"
start_sage
write_conf woocommerce "settle = 60"
wsi-remap add customer '*' WEB 2>/dev/null
wsi-remap add customer 1400 1400 2>/dev/null
wsi-remap add payment stripe SEATAC CC 2>/dev/null
wsi-remap add tax 'US-CA-STATE TAX' CA 2>/dev/null
# the lamp orders, dated the day before: posted but for the two with BEDLAMP and the one over the limit
sim /_sim/clock '{"advance":0}' >/dev/null
wsi-sync 2>sync.err; rc=$?
is "$rc" 1 "first run: some orders wait"
is "$(state_of 10234)" invalid "BEDLAMP waits"

# the order fixed in the store (its SKU made the Sage one), then a run at once
sim /_sim/orders | python3 -c '
import json, sys
o = [x for x in json.load(sys.stdin) if x["id"] == 10234][0]
for l in o["line_items"]:
    if l["sku"] == "BEDLAMP": l["sku"] = "A1-104/0"
print(json.dumps({"orders": [o], "touch": True}))' >fix.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @fix.json "$SIM/_sim/orders" >/dev/null
wsi-sync 2>sync.err
is "$(state_of 10234)" posted "the store fix is downloaded, staged, validated and posted by the next run"
like "$(cat sync.err)" "fetch: .*fetched [1-9]" "fetch says it fetched it"

# an order added in the very second of the fetch
new_order 50001
wsi-sync 2>sync.err
is "$(state_of 50001)" posted "an order added just now is posted by the run that follows"
is "$(sage_dups)" 0 "none twice"
# the mark stays settle seconds behind the store's clock, so the next run reads them again
mark=$(q "select value from marks where store='shop' and kind='time'")
now=$(date -u +%s)
markt=$(date -u -d "$mark" +%s)
ok "$([ $((now - markt)) -ge 59 ] && [ $((now - markt)) -le 120 ]; echo $?)" "the mark is the clock less settle ($mark)"
# and reading them again stages nothing new
wsi-sync 2>sync.err
is "$(q "select count(*) from events where id='50001' and to_state='staged'")" 1 "read again: staged once"

# Shopify, the same
kill "$STORE_PID"
rm -f wsi.db*
start_store shopify
write_conf shopify "settle = 60"
wsi-remap add customer '*' WEB 2>/dev/null
wsi-remap add payment shopify_payments SEATAC CC 2>/dev/null
wsi-remap add item SKU-0001 A1-103/0 2>/dev/null
wsi-remap add tax 'State Tax' CA 2>/dev/null
wsi-sync 2>sync.err
sim /_sim/generate '{"n":1,"ago":0,"spread":1,"skus":1}' >/dev/null
id=$(sim /_sim/orders | json_get 'j[0]["id"]')
wsi-sync 2>sync.err
is "$(state_of "$id")" posted "Shopify: an order added just now is posted by the run that follows"

# an order edited in Shopify before posting: a line taken to quantity 0 is no line, the order is
# posted as it is now (current_total_price), not held as total-mismatch
sim /_sim/orders | python3 -c '
import copy, json, sys
o = copy.deepcopy(json.load(sys.stdin)[0])
o["id"] = o["id"] + 1; o["name"] = "#9001"; o["order_number"] = 9001
gone = copy.deepcopy(o["line_items"][0]); gone["id"] += 1000; gone["current_quantity"] = 0
o["line_items"].append(gone)
for l in o["line_items"][:-1]: l["current_quantity"] = l["quantity"]
o["current_total_price"] = o["total_price"]; o["current_total_tax"] = o["total_tax"]
print(json.dumps({"orders": [o], "touch": True}))' >edit.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @edit.json "$SIM/_sim/orders" >/dev/null
id2=$(python3 -c 'import json; print(json.load(open("edit.json"))["orders"][0]["id"])')
wsi-sync 2>sync.err
is "$(state_of "$id2")" posted "a line edited to quantity 0: posted as the order is now"
is "$(sage /_sim/state | json_get "len([d for o in j['orders'] if o['OrderReference'] == 'shop:$id2' for d in o['OrderDetails'] if d['LineType'] == 'Item'])")" \
	"$(python3 -c 'import json; print(len(json.load(open("edit.json"))["orders"][0]["line_items"]) - 1)')" "the edited-away line is not in Sage"
done_testing
