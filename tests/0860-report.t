#!/usr/bin/env bash
# wsi-sync report FROM [TO]: every web order created in the range, the store, wsi's database and
# Sage side by side, read live, every verdict; it changes nothing.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-sync 2>/dev/null
sage_order() { # sage_order REFERENCE: an order typed by hand in Sage, invoiced
	curl -s -u WEBAPI:sage-test-pw -H 'Content-Type: application/json' -X POST "$SAGE_URL/OE/OEOrders" -d \
		"{\"CustomerNumber\":\"WEB\",\"OrderReference\":\"$1\",\"OrderDate\":\"2026-11-26\",\"InvoiceWillBeProduced\":true,
		  \"OrderDetails\":[{\"LineType\":\"Item\",\"Item\":\"A1-103/0\",\"QuantityOrdered\":1,\"QuantityShipped\":1,
		  \"PriceOverride\":true,\"OrderUnitPrice\":10}]}" >/dev/null
}

out=$(wsi-sync report 2026-11-01 2026-12-01); rc=$?
is "$rc" 1 "orders wait: exit 1"
like "$out" "^shop:10231 +processing +1137.47 posted +ORD[0-9]+ +1137.47  ok$" "a posted order: ok, web and Sage totals side by side"
like "$out" "^shop:10234 .* invalid .*waiting: item-missing$" "an invalid order: waiting, with its reason"
like "$out" "^shop:10236 +cancelled .*skipped: cancelled$" "a cancelled order: skipped, with the store status"
like "$out" "^12 rows: 3 waiting, 2 skipped, 7 ok; web total 12557.86, Sage invoices 8897.89$" "the summary: counts per verdict and both sums"
is "$(printf '%s\n' "$out" | sed -n 2p | awk '{print $NF}')" "item-missing" "problems first"

# every verdict: a restore of Sage loses one, a person types one twice and one the store never had,
# Sage totals one differently, the store has one wsi never saw
sage /_sim/restore '{"keep":6}' >/dev/null                          # shop:10242 gone from Sage
sage_order shop:10231                                               # shop:10231 twice
sage_order shop:88888                                               # unknown to wsi
new_order 50001 "o['date_created_gmt'] = '2026-11-26T21:00:00'"    # not staged (no run since)
advance
before=$(sqlite3 "$T/wsi.db" "select count(*) from events")
marks=$(wsi-hwm)
out=$(wsi-sync report 2026-11-01 2026-12-01); rc=$?
is "$rc" 1 "problems: exit 1"
like "$out" "^shop:10242 .* posted +missing in Sage$" "wsi says posted, Sage has nothing: missing in Sage"
like "$out" "^shop:10231 .* posted +ORD[0-9]+,ORD[0-9]+ .* twice in Sage$" "two Sage orders for one web order: twice"
like "$out" "^shop:88888 +ORD[0-9]+ .* unknown to wsi$" "a Sage order with a web reference wsi never had: unknown to wsi"
like "$out" "^shop:50001 +processing +34.38 +not staged$" "the store has it, wsi never saw it: not staged"
is "$(printf '%s\n' "$out" | sed -n 2p | awk '{print $NF}')" "Sage" "problems first (twice in Sage)"
is "$(sqlite3 "$T/wsi.db" "select count(*) from events")" "$before" "it changes nothing in wsi"
is "$(wsi-hwm)" "$marks" "nor the marks"

# differs: Sage's invoice total is not the web order's
sage /_sim/options '{"tax_rounding": "0.01"}' >/dev/null
new_order 50002 "o['date_created_gmt'] = '2026-11-26T21:00:00'"
advance
wsi-sync 2>/dev/null
sage /_sim/options '{"tax_rounding": "0"}' >/dev/null
out=$(wsi-sync report -t 2026-11-26 2026-11-27); rc=$?
like "$out" "^key	store status	web total	wsi state	Sage orders	Sage invoice total	verdict$" "-t: a TSV header"
like "$out" "^shop:50002	processing	34.38	posted	ORD[0-9]+	34.39	differs: Sage invoice 34.39, web 34.38$" "differs: both totals"
like "$out" "^# [0-9]+ rows: " "the summary as a comment line"

# the range: TO is exclusive; another month's orders are left out
out=$(wsi-sync report 2026-12-01 2027-01-01); rc=$?
is "$rc:$(printf '%s\n' "$out" | tail -1)" "0:0 rows: none; web total 0.00, Sage invoices 0.00" "an empty month: exit 0"
out=$(wsi-sync report 2026-12-01 2026-11-01 2>&1); rc=$?
is "$rc" 2 "FROM after TO: usage"
out=$(wsi-sync report 2>&1); rc=$?
is "$rc" 2 "no FROM: usage"

# Sage down: exit 4, said
kill "$SAGE_PID"; wait "$SAGE_PID" 2>/dev/null
out=$(wsi-sync report 2026-11-01 2026-12-01 2>&1); rc=$?
is "$rc" 4 "Sage down: exit 4"
done_testing
