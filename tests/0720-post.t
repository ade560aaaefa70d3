#!/usr/bin/env bash
# wsi-post: the three fixes of an unknown SKU, each posted once; Sage refusing, failing,
# timing out, and saving then dropping the connection: never twice, never lost.
. "$(dirname "$0")/lib.sh"
lamp_shop
chain
is "$(wc -l <posted.txt):$(sage_count orders)" "7:7" "7 orders posted, 7 Sage orders"
like "$(head -1 posted.txt)" "^shop:10231	ORD[0-9]+$" "key TAB Sage order number"
is "$(q "select sage_order||' '||sage_shipment||' '||sage_invoice||' '||sage_receipt from orders where id='10231'")" "ORD000000000001 SH0000000000001 IN0000000000001 101" "order, shipment, invoice and prepayment recorded"

# fix 1: a mapping
wsi-remap add item BEDLAMP A1-104/0 2>err.txt
like "$(cat err.txt)" "2 unposted orders sent back" "the mapping sends the two BEDLAMP orders back"
wsi-remap -a | wsi-validate | wsi-post >posted.txt 2>/dev/null
is "$(cut -f1 posted.txt | tr '\n' ' ')" "shop:10234 shop:10238 " "both posted"
is "$(sage /_sim/state | python3 -c 'import json,sys; print(sorted({d["Item"] for o in json.load(sys.stdin)["orders"] if o["OrderReference"] in ("shop:10234","shop:10238") for d in o["OrderDetails"] if d["LineType"]=="Item"}))')" "['A1-104/0', 'A1-900/0']" "as item A1-104/0"
is "$(q "select json_extract(mapped,'$.items[0].entry') from orders where id='10234'")" "item:BEDLAMP" "the order records which entry mapped it"

# fix 2: the order edited in the store
new_order 30001 "o['line_items'][0]['sku'] = 'DESKLAMP'"
advance
chain
is "$(q "select state from orders where id='30001'")" invalid "an unknown SKU waits"
sim /_sim/edit '{"id":30001,"set":{"line0":{"sku":"A1-103/0"}}}' >/dev/null
advance
chain
is "$(cat posted.txt)" "shop:30001	ORD000000000010" "edited in the store: picked up again and posted"

# fix 3: the item added in Sage
new_order 30002 "o['line_items'][0]['sku'] = 'A1-777/0'"
advance
chain
sage /_sim/items '[{"UnformattedItemNumber":"A17770","ItemNumber":"A1-777/0","Description":"Arc lamp","Status":true,"Sellable":true,"BasePrice":99}]' >/dev/null
wsi-validate -a 2>/dev/null | wsi-post >posted.txt 2>/dev/null
is "$(cat posted.txt)" "shop:30002	ORD000000000011" "item added in Sage: checked again and posted"
is "$(sage_dups)" 0 "no web order is two Sage orders"
is "$(sage_count orders)" 11 "11 Sage orders"

# Sage refuses: failed, with Sage's own words
new_order 30003 "o['line_items'][0]['sku'] = 'A1-105/0'"
advance
write_conf woocommerce "[sage]" "location = 9"
chain
is "$(q "select state from orders where id='30003'")" failed "Sage refused it: failed"
is "$(q "select code||': '||message from reasons where id='30003'")" "sage-refused: Location 9 does not exist." "Sage's own words are kept"
write_conf woocommerce
wsi-validate shop:30003 2>/dev/null | wsi-post >posted.txt 2>/dev/null
is "$(cut -f1 posted.txt)" "shop:30003" "after the fix, checked and posted"

# Sage saves it, then the connection drops: the next run finds it, no duplicate
new_order 30004
advance
sage /_sim/fault '{"commit_then_drop":true,"method":"POST","match":"OEOrders"}' >/dev/null
chain
is "$CHAIN" "0 0 0 0 4" "commit then drop: wsi-post exits 4"
is "$(q "select state from orders where id='30004'")" posting "the order stays in posting"
like "$(cat chain.err)" "outcome is unknown|Empty reply|Server returned nothing" "and says the outcome is unknown"
wsi-post -a >posted.txt 2>err.txt; rc=$?
is "$rc:$(q "select state from orders where id='30004'")" "0:posted" "the next run reconciles it as posted"
is "$(sage_refs | grep -c '^shop:30004$')" 1 "exactly one Sage order"
like "$(q "select why from events where id='30004' order by seq desc limit 1")" "reconciled: Sage has it as order ORD" "the event says how"
is "$(cat posted.txt)" "shop:30004	$(q "select sage_order from orders where id='30004'")" "and prints it, found by reconciling: KEY TAB Sage order number"

# 503 and a dropped connection before Sage saved anything: posted once, later
new_order 30005
advance
sage /_sim/fault '{"status":503,"count":3,"method":"POST"}' >/dev/null
chain
is "$CHAIN:$(q "select state from orders where id='30005'")" "0 0 0 0 4:valid" "503 after retries: exit 4, back to valid"
wsi-post -a >posted.txt 2>/dev/null
is "$(cut -f1 posted.txt):$(sage_refs | grep -c '^shop:30005$')" "shop:30005:1" "posted once on the next run"
new_order 30006
advance
sage /_sim/fault '{"delay":7,"method":"POST","match":"OEOrders"}' >/dev/null
chain
is "$CHAIN:$(q "select state from orders where id='30006'")" "0 0 0 0 4:posting" "a timeout (Sage slower than [sage] timeout): posting, exit 4"
sleep 3
wsi-post -a >posted.txt 2>/dev/null
is "$(q "select state from orders where id='30006'"):$(sage_refs | grep -c '^shop:30006$')" "posted:1" "reconciled: one Sage order"

# a POST that timed out may still be saving in Sage: not decided "never saved" too soon
new_order 30008
advance
sage /_sim/fault '{"delay":7,"method":"POST","match":"OEOrders"}' >/dev/null
chain
is "$CHAIN:$(q "select state from orders where id='30008'")" "0 0 0 0 4:posting" "a POST still running in Sage when the client gives up: posting"
out=$(wsi-post -a 2>&1); rc=$?
is "$rc:$(q "select state from orders where id='30008'")" "0:posting" "at once after: not found yet, but not sent again (Sage was reached: not exit 4)"
like "$out" "shop:30008: sent to Sage at .* with no answer, and not in Sage yet: Sage may still be saving it; decided on a run after" "and says why"
sleep 3
wsi-post -a >/dev/null 2>&1
is "$(q "select state from orders where id='30008'"):$(sage_refs | grep -c '^shop:30008$')" "posted:1" "once Sage has saved it: found, one Sage order"
# a POST dropped before Sage saved anything: sent again once [sage] reconcile_after has passed
new_order 30009
advance
sage /_sim/fault '{"drop":true,"method":"POST","match":"OEOrders"}' >/dev/null
chain
is "$(q "select state from orders where id='30009'")" posting "dropped before Sage saved it: posting"
write_conf woocommerce "[sage]" "reconcile_after = 1"
sleep 2
wsi-post -a >/dev/null 2>&1; rc=$?
is "$rc:$(q "select state from orders where id='30009'"):$(sage_refs | grep -c '^shop:30009$')" "0:posted:1" "after reconcile_after: never saved, so posted, once"
like "$(q "select why from events where id='30009' and to_state='valid' order by seq desc limit 1")" "reconciled: Sage never saved it" "the event says so"
write_conf woocommerce

# -n prints the body and sends nothing
new_order 30007 "o['line_items'][0]['quantity'] = 3" "o['line_items'][0]['subtotal'] = '35.98'" "o['line_items'][0]['total'] = '35.98'" "o['line_items'][0]['total_tax'] = '2.16'" "o['total'] = '48.14'"
advance
wsi-fetch 2>/dev/null | wsi-stage | wsi-remap | wsi-validate >/dev/null 2>&1
n0=$(sage_count orders)
body=$(wsi-post -n shop:30007 | cut -f2)
is "$(sage_count orders)" "$n0" "-n sends nothing"
like "$body" '"PriceOverride":true,"OrderUnitPrice":12.00' "the override before the price, an exact number"
like "$body" '"QuantityOrdered":1.0000,.*"OrderUnitPrice":12.00.*"QuantityOrdered":2.0000,.*"OrderUnitPrice":11.99' "35.98 for 3 is split: 1 x 12.00 and 2 x 11.99"
like "$body" '"LineType":"Miscellaneous","MiscellaneousChargesCode":"SHIP","ExtendedAmount":10.00' "shipping as a miscellaneous charge"
like "$body" '"InvoiceWillBeProduced":true' "invoice in the same save"
like "$body" '"BankCode":"SEATAC","ReceiptType":"CC",.*"PaymentInCustomerCurrency":48.14\}$' "the prepayment last, what the customer paid"
wsi-post shop:30007 >posted.txt 2>/dev/null
is "$(sage /_sim/state | python3 -c 'import json,sys; print([o["OrderTotal"] for o in json.load(sys.stdin)["orders"] if o["OrderReference"]=="shop:30007"])')" "[48.14]" "Sage's total is what the customer paid, to the cent"

# -j: many orders on several connections, each once
for i in $(seq 40001 40030); do new_order "$i"; done
advance
chain -j 4
is "$CHAIN:$(wc -l <posted.txt)" "0 0 0 0 0:30" "-j 4 posts 30 orders"
is "$(sage_dups)" 0 "none twice"
is "$(q "select count(*) from orders where state='posted'")" "$(sage_count orders)" "every posted order is one Sage order"
# a run killed while its POST is still saving in Sage, then our database restored from a copy
# that never knew: after wsi-hwm set nothing is posted before Sage can have finished
new_order 30010
advance
wsi-fetch 2>/dev/null | wsi-stage | wsi-remap | wsi-validate >/dev/null 2>&1
cp wsi.db before-post.db
sage /_sim/fault '{"delay":3,"method":"POST","match":"OEOrders"}' >/dev/null
wsi-post -a >/dev/null 2>&1 &
sleep 1
kill -9 $!
wait $! 2>/dev/null
cp before-post.db wsi.db; rm -f wsi.db-wal wsi.db-shm
wsi-hwm set "$(q "select value from marks where kind='time'")" 2>/dev/null
out=$(wsi-post -a 2>&1); rc=$?
is "$rc:$(q "select state from orders where id='30010'")" "0:valid" "right after the restore and wsi-hwm set: not posted yet, by the journal beside the database"
like "$out" "shop:30010: sent to Sage at .* with no answer, and not in Sage yet" "and says why"
sleep 3
write_conf woocommerce "[sage]" "reconcile_after = 2"
wsi-post -a >posted.txt 2>/dev/null
is "$(q "select state from orders where id='30010'"):$(sage_refs | grep -c '^shop:30010$')" "posted:1" "once Sage finished the killed run's POST: found, one Sage order"
is "$(cut -f1 posted.txt)" "shop:30010" "printed as posted in that run, found by its look-up"
write_conf woocommerce

done_testing
