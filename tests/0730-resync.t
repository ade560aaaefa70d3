#!/usr/bin/env bash
# Re-sync after a restore of either database with wsi-hwm set, and both prepayment routes
# with a crash between the order and its receipt.
. "$(dirname "$0")/lib.sh"
export RECONCILE_AFTER=0  # nothing is in flight here: no need to wait after wsi-hwm set
lamp_shop
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
chain
is "$(sage_count orders)" 9 "9 orders posted"
refs_before=$(sage_refs)

# wsi-hwm set after posting: a full rerun creates nothing
wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
is "$(q 'select count(*) from orders where recheck<>0')" 12 "every order flagged for a check"
chain
wsi-post -a >>posted.txt 2>/dev/null
is "$(sage_count orders):$(sage_dups)" "9:0" "the rerun creates nothing"
is "$(q 'select count(*) from orders where recheck<>0')" 0 "and every flag is cleared"
is "$(q "select count(*) from orders where state='posted'")" 9 "still 9 posted"

# Sage restored to an earlier state (its last 4 orders gone), then wsi-hwm set
sage /_sim/restore '{"keep":5}' >/dev/null
is "$(sage_count orders)" 5 "Sage lost 4 orders"
wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
chain
is "$(sage_count orders)" 5 "the run that finds them missing sends them back to be mapped and checked again"
wsi-sync 2>/dev/null
is "$(sage_count orders)" 9 "the next wsi-sync posts exactly the 4 lost ones again"
is "$(sage_refs)" "$refs_before" "Sage has every order again"
is "$(sage_dups)" 0 "none twice"
like "$(q "select why from events where to_state='staged' and why like 'reconciled%' limit 1")" "Sage no longer has it" "the events say why"

# an order posted before a mapping was added, then lost in a Sage restore: posted again with
# today's mapping, not the one it was first posted with
new_order 50030 "o['line_items'][0]['sku'] = 'A1-105/0'"
advance
wsi-sync 2>/dev/null
keep=$(( $(sage_count orders) - 1 ))
wsi-remap add item A1-105/0 A1-104/0 2>/dev/null
sage /_sim/restore "{\"keep\":$keep}" >/dev/null
wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
wsi-sync 2>/dev/null; wsi-sync 2>/dev/null
is "$(sage /_sim/state | python3 -c 'import json,sys; print([d["Item"] for o in json.load(sys.stdin)["orders"] if o["OrderReference"]=="shop:50030" for d in o["OrderDetails"] if d["LineType"]=="Item"][:1])')" "['A1-104/0']" "lost in a Sage restore: posted again, mapped as today"

# our database restored from an old copy: the mark and orders go back; nothing is posted twice
cp wsi.db old.db
sim /_sim/clock '{"advance":3600}' >/dev/null
new_order 50001
advance
chain
is "$(cut -f1 posted.txt)" "shop:50001" "a new order posted"
cp old.db wsi.db; rm -f wsi.db-wal wsi.db-shm
wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
chain
wsi-post -a >/dev/null 2>&1
is "$(sage_dups):$(sage_count orders)" "0:11" "after restoring our database: found in Sage, nothing twice"
is "$(q "select state||' '||sage_order from orders where id='50001'")" "posted $(sage /_sim/state | python3 -c 'import json,sys; print([o["OrderNumber"] for o in json.load(sys.stdin)["orders"] if o["OrderReference"]=="shop:50001"][0])')" "and the order knows its Sage number again"

# our database restored from before an order was posted, which the store has cancelled since:
# the re-downloaded row is checked against Sage, which has it: a conflict for a person, not a skip
cp wsi.db older.db
new_order 50010
advance
chain
is "$(q "select state from orders where id='50010'")" posted "50010 posted"
sim /_sim/edit '{"id":50010,"set":{"status":"cancelled"}}' >/dev/null
advance
cp older.db wsi.db; rm -f wsi.db-wal wsi.db-shm
wsi-hwm set "$(q "select value from marks where kind='time'")" 2>/dev/null
chain
is "$(q "select state from orders where id='50010'")" conflict "cancelled in the store, but Sage has it: conflict"
is "$(sage_refs | grep -c '^shop:50010$')" 1 "and still one Sage order"

# prepayment as an A/R receipt: a crash between the order and its receipt
write_conf woocommerce "[sage]" "prepayment = receipt"
new_order 50002
new_order 50003
advance
sage /_sim/fault '{"drop":true,"method":"POST","match":"ARReceipt"}' >/dev/null
chain
is "$CHAIN" "0 0 0 0 4" "the receipt's connection drops: exit 4"
is "$(q "select state||':'||coalesce(sage_receipt,'none') from orders where id='50002'")" "posted:none" "the order is posted, its receipt missing"
rc_before=$(sage_count receipts)
wsi-post -a >/dev/null 2>&1; rc=$?
is "$rc" 0 "the next run completes the sale"
is "$(q "select count(*) from orders where id in ('50002','50003') and sage_receipt is not null")" 2 "both receipts recorded"
is "$(sage /_sim/state | python3 -c 'import json,sys; d=json.load(sys.stdin)["receipts"]; print(sum(1 for r in d if r.get("Description") in ("shop:50002","shop:50003")))')" 2 "one receipt each in Sage"
# a receipt saved but the answer lost: found by its description, not made twice
new_order 50004
advance
sage /_sim/fault '{"commit_then_drop":true,"method":"POST","match":"ARReceipt"}' >/dev/null
chain
wsi-post -a >/dev/null 2>&1
is "$(sage /_sim/state | python3 -c 'import json,sys; d=json.load(sys.stdin)["receipts"]; print(sum(1 for r in d if r.get("Description")=="shop:50004"))')" 1 "receipt saved then dropped: still one"
is "$(q "select sage_receipt is not null from orders where id='50004'")" 1 "and it is recorded"
is "$(sage /_sim/state | python3 -c 'import json,sys; print([o["OrderTotalPayment"] for o in json.load(sys.stdin)["orders"] if o["OrderReference"]=="shop:50004"])')" "[0.0]" "receipt mode: no prepayment on the order itself"

# a restore of Sage that loses a receipt but keeps its order: the receipt is made again, once
nrec=$(sage_count receipts)
sage /_sim/restore "{\"keep\":$(sage_count orders),\"keep_receipts\":$((nrec - 1))}" >/dev/null
wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
chain
wsi-post -a >/dev/null 2>&1
is "$(sage_count receipts)" "$nrec" "the lost receipt is made again"
is "$(sage /_sim/state | python3 -c 'import json,collections,sys; c=collections.Counter(r.get("Description") for r in json.load(sys.stdin)["receipts"]); print(max(c.values()))')" 1 "no receipt twice"

# a receipt that outlived its order in a Sage restore: the order is posted again, the receipt is
# not made twice (found by a fault round)
new_order 50040
advance
curl -s -u WEBAPI:sage-test-pw -H 'Content-Type: application/json' -X POST "$SAGE_URL/AR/ARReceiptAndAdjustmentBatches" \
	-d '{"BatchRecordType":"CA","Description":"shop:50040","BankCode":"SEATAC","ReceiptsAdjustments":[{"CustomerNumber":"WEB","PaymentCode":"CC","CustomerReceiptAmount":34.38,"EntryReference":"shop:50040"}]}' >/dev/null
chain
is "$(sage /_sim/state | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["receipts"] if r.get("Description")=="shop:50040"))'):$(q "select state||' '||(sage_receipt is not null) from orders where id='50040'")" "1:posted 1" "the receipt already in Sage is recorded, not made again"

# a failed order is checked again on the next run: fixed in Sage, it goes on
write_conf woocommerce "[sage]" "prepayment = receipt"
new_order 50020 "o['line_items'][0]['sku'] = 'A1-888/0'"
advance
sage /_sim/items '[{"UnformattedItemNumber":"A18880","ItemNumber":"A1-888/0","Description":"x","Status":true,"Sellable":true,"BasePrice":1}]' >/dev/null
wsi-fetch 2>/dev/null | wsi-stage | wsi-remap | wsi-validate >/dev/null 2>&1
sage /_sim/items '[{"UnformattedItemNumber":"A18880","ItemNumber":"A1-888/0","Status":false}]' >/dev/null
wsi-post -a >/dev/null 2>&1
is "$(q "select state from orders where id='50020'")" failed "Sage refused it (the item went inactive): failed"
sage /_sim/items '[{"UnformattedItemNumber":"A18880","ItemNumber":"A1-888/0","Status":true}]' >/dev/null
wsi-sync 2>/dev/null
is "$(q "select state from orders where id='50020'")" posted "active again in Sage: the next wsi-sync checks it again and posts it"

# none: orders on account
write_conf woocommerce "[sage]" "prepayment = none"
new_order 50005
advance
chain
is "$(sage /_sim/state | python3 -c 'import json,sys; d=json.load(sys.stdin); print([o["OrderTotalPayment"] for o in d["orders"] if o["OrderReference"]=="shop:50005"], sum(1 for r in d["receipts"] if r.get("Description")=="shop:50005"))')" "[0.0] 0" "none: no prepayment at all"
write_conf woocommerce "[sage]" "prepayment = sometimes"
out=$(wsi-post -a 2>&1); rc=$?
is "$rc" 3 "a bad prepayment mode: exit 3"
is "$(sage_dups)" 0 "no web order is two Sage orders, after all of it"
done_testing
