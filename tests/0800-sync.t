#!/usr/bin/env bash
# wsi-sync: the chain under a lock, every step's status counted, a summary per step; the views.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-sync >out.txt 2>err.txt; rc=$?
is "$rc" 1 "a run with invalid orders: exit 1 (the worst step)"
is "$(grep -c '^wsi-sync: ' err.txt)" 5 "one summary line per step"
like "$(cat err.txt)" "wsi-sync: fetch: fetched 12 orders" "fetch summary"
like "$(cat err.txt)" "wsi-sync: stage: staged 12 new, 0 changed" "stage summary"
like "$(cat err.txt)" "wsi-sync: validate: checked 10: 7 valid, 3 invalid, 0 already in Sage \(exit 1\)" "validate summary with its status"
like "$(cat err.txt)" "wsi-sync: post: posted 7, 0 failed" "post summary"
is "$(cat out.txt)" "" "nothing on stdout"

# the views
st=$(wsi-sync status)
like "$st" "posted +7" "status: counts per state"
like "$st" "shop time 2026-11-26T20:00:00Z" "status: the marks"
like "$st" "wsi-validate .* exit 1 +checked 10" "status: the last run of each tool and how it ended"
w=$(wsi-sync waiting)
like "$w" "2 orders wait for item BEDLAMP, not in Sage: add the item in Sage, or wsi-remap add item BEDLAMP <Sage item>:" "waiting: grouped by cause, with the fix"
like "$w" "shop:10234 shop:10238" "waiting: the orders"
like "$w" "1 order waits for customer 1400, over its credit limit" "waiting: credit limit"
tsv=$(wsi-sync waiting -t)
is "$(printf '%s\n' "$tsv" | head -1)" "key	state	code	subject	reason" "waiting -t: a TSV header"
is "$(printf '%s\n' "$tsv" | awk -F'\t' 'NR>1{print $1":"$3":"$4}' | sort | tr '\n' ' ')" "shop:10234:item-missing:BEDLAMP shop:10238:item-missing:BEDLAMP shop:10240:credit-limit:1400 " "waiting -t: a row per reason"
show=$(wsi-sync show shop:10234)
like "$show" "Order shop:10234: invalid" "show: the state"
like "$show" "wsi-validate mapped -> invalid: checked against Sage: item-missing" "show: every event"
like "$show" '"sku": "BEDLAMP"' "show: the mapping and canonical order"
like "$show" 'Raw order, as the store sent it' "show: the raw order"
out=$(wsi-sync show shop:nope 2>&1); rc=$?
is "$rc" 2 "show an unknown order: exit 2"

# a person parks an order, and lets it go on
wsi-sync hold shop:10240 2>/dev/null; rc=$?
is "$rc:$(q "select state from orders where id='10240'")" "0:held" "hold: parked"
like "$(q "select why from events where id='10240' order by seq desc limit 1")" "held by .* \(wsi-sync\)" "the event says who"
like "$(wsi-sync waiting)" "1 order waits held by a person" "waiting shows it"
out=$(wsi-sync hold shop:10231 2>&1); rc=$?
is "$rc" 2 "a posted order cannot be held"
like "$out" "shop:10231 is posted: only an order not yet sent to Sage can be held" "and says why"
wsi-sync release shop:10240 2>/dev/null
is "$(q "select state from orders where id='10240'")" staged "release: back to staged, to be checked again"

# the fix, then a quiet run
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
wsi-sync 2>err.txt; rc=$?
like "$(cat err.txt)" "post: posted 2" "the next run posts the fixed orders"
is "$(wsi-sync waiting | grep -c BEDLAMP)" 0 "BEDLAMP no longer waits"

# a failing step's status is not lost: Sage down
kill "$SAGE_PID"; wait "$SAGE_PID" 2>/dev/null
new_order 60001
advance
wsi-sync 2>err.txt; rc=$?
is "$rc" 4 "Sage down: exit 4 although fetch and stage worked"
like "$(cat err.txt)" "wsi-sync: stage: staged 1 new" "stage still staged the new order"
like "$(cat err.txt)" "wsi-sync: validate: .*\(exit 4\)" "validate's status is counted"
is "$(q "select state from orders where id='60001'")" mapped "the order waits, mapped, for Sage to come back"

# the store down: fetch fails, the rest still runs
kill "$STORE_PID"; wait "$STORE_PID" 2>/dev/null
start_sage
write_conf woocommerce
wsi-sync 2>err.txt; rc=$?
is "$rc" 4 "store down: exit 4"
like "$(cat err.txt)" "wsi-sync: fetch: .*\(exit 4\)" "fetch's failure is counted"
like "$(cat err.txt)" "wsi-sync: post: posted 1" "and the Sage half still posts what is ready"

# the lock: a second run while one is going exits at once
start_store woocommerce "$TESTS/fixtures/lamp-orders.json" --now 2026-11-26T20:00:00Z
write_conf woocommerce
sim /_sim/fault '{"delay":3,"count":1}' >/dev/null
wsi-sync 2>first.txt &
first=$!
sleep 1
out=$(wsi-sync 2>&1); rc=$?
is "$rc" 6 "a second run while one is going: exit 6"
like "$out" "another run \(pid [0-9]+\) is still going \(lock .*wsi.db.lock\): exiting" "and says so, with the pid"
wait "$first"
is "$?" 1 "the first run finishes (exit 1: the order over the credit limit still waits)"
done_testing
